"""The uploader draining a real WAL into the emulator (child process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest_twisted
from upload_harness import (
    Emulator,
    client_for,
    commit,
    drained,
    emulator,
    faults,
    open_wal,
    uploader,
    wait_for,
)

from pggw.cdf import StaticTokenProvider

__all__ = ["emulator"]


@pytest_twisted.ensureDeferred
async def test_assets_time_series_datapoints_raw_end_to_end(
    emulator: Emulator, tmp_path: Path
) -> None:
    wal = await open_wal(tmp_path / "wal.sqlite")
    await commit(wal, "alice", "double_datapoints", {
        "external_id": ["ts1"] * 1500 + ["ts2"] * 10,
        "timestamp": list(range(1500)) + list(range(10)),
        "value": [float(i) for i in range(1510)],
    })
    await commit(wal, "alice", "time_series", [
        {"external_id": "ts1", "name": "one", "asset_external_id": "pump"},
        {"external_id": "ts2", "name": "two", "unit": "m"}])
    await commit(wal, "alice", "assets", [
        {"external_id": "pump", "name": "Pump", "parent_external_id": "plant",
         "metadata": {"k": "v"}, "data_set_external_id": "ds"},
        {"external_id": "plant", "name": "Plant", "data_set_external_id": "ds"}])
    await commit(wal, "alice", "data_sets", [{"external_id": "ds", "name": "DS"}])
    await commit(wal, "alice", "raw_rows", {
        "_raw_database": ["db"] * 3, "_raw_table": ["t"] * 3, "_raw_key": ["a", "b", "a"],
        "_raw_columns": [{"v": 1}, {"v": 2}, {"v": 3}]})
    client = client_for(emulator.url)
    up = uploader(wal, lambda user: client)
    try:
        await drained(wal)
    finally:
        await up.stopService()
    stats = await wal.stats()
    assert stats.dead_letters == 0
    ds = (await client.post("/datasets/byids", {"items": [{"externalId": "ds"}]})).items[0]
    assets = {a["externalId"]: a for a in (await client.post(
        "/assets/byids", {"items": [{"externalId": "pump"}, {"externalId": "plant"}]})).items}
    assert assets["pump"]["parentId"] == assets["plant"]["id"]
    assert assets["pump"]["dataSetId"] == ds["id"] and assets["pump"]["metadata"] == {"k": "v"}
    ts = {t["externalId"]: t for t in (await client.post(
        "/timeseries/byids", {"items": [{"externalId": "ts1"}, {"externalId": "ts2"}]})).items}
    assert ts["ts1"]["assetId"] == assets["pump"]["id"] and ts["ts2"]["unit"] == "m"
    data = (await client.post("/timeseries/data/list", {
        "items": [{"externalId": "ts1", "limit": 10000}]})).items[0]["datapoints"]
    assert len(data) == 1500 and data[-1] == {"timestamp": 1499, "value": 1499.0}
    rows = (await client.get("/raw/dbs/db/tables/t/rows")).items
    assert {r["key"]: r["columns"] for r in rows} == {"a": {"v": 3}, "b": {"v": 2}}
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_poison_row_dead_lettered_while_batch_mates_arrive(
    emulator: Emulator, tmp_path: Path
) -> None:
    wal = await open_wal(tmp_path / "wal.sqlite")
    rows = [{"external_id": f"a{i}", "name": "x" * 200 if i == 3 else f"n{i}"}
            for i in range(20)]
    await commit(wal, "alice", "assets", rows)
    client = client_for(emulator.url)
    up = uploader(wal, lambda user: client)
    try:
        await drained(wal)
    finally:
        await up.stopService()
    got = (await client.post("/assets/byids", {
        "items": [{"externalId": f"a{i}"} for i in range(20)], "ignoreUnknownIds": True})).items
    assert sorted(a["externalId"] for a in got) == sorted(f"a{i}" for i in range(20) if i != 3)
    (dead,) = await wal.dead_letters("alice")
    assert dead.rows() == [rows[3]] and dead.error["status"] == 400
    assert dead.error["reason"] == "rejected"
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_429_storm_with_retry_after_and_apply_then_fail(
    emulator: Emulator, tmp_path: Path
) -> None:
    wal = await open_wal(tmp_path / "wal.sqlite")
    client = client_for(emulator.url)
    await faults(client, [
        {"path": "*/events", "status": 502, "mode": "apply-then-fail", "count": 2},
        {"path": "*/raw/*", "status": 429, "retryAfter": 0.2, "count": 6},
    ])
    for i in range(10):
        await commit(wal, "alice", "events", [{"external_id": f"e{i}-{j}", "type": "t"}
                                              for j in range(5)])
        await commit(wal, "alice", "raw_rows", {
            "_raw_database": ["db"], "_raw_table": [f"t{i}"], "_raw_key": ["k"],
            "_raw_columns": [{"i": i}]})
    up = uploader(wal, lambda user: client, concurrency=8)
    try:
        await drained(wal)
    finally:
        await up.stopService()
    events = (await client.post("/events/list", {"limit": 1000})).items
    assert len(events) == 50 and len({e["externalId"] for e in events}) == 50
    assert up.metrics.retries["429"] >= 6 and up.metrics.retries["502"] >= 1
    assert up.metrics.duplicates_verified >= 1
    limiter = next(iter(up._limiters.values()))
    assert limiter.shrinks >= 1 and limiter.lowest < 8
    assert (await wal.stats()).dead_letters == 0
    await faults(client, None)
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_forbidden_user_paused_while_another_flows(
    emulator: Emulator, tmp_path: Path
) -> None:
    wal = await open_wal(tmp_path / "wal.sqlite")
    good = client_for(emulator.url)
    reader = client_for(emulator.url, "reader", "reader-secret")
    bogus = client_for(emulator.url)
    bogus.tokens = StaticTokenProvider("not-a-token")
    clients = {"alice": good, "bob": reader, "carol": bogus}
    await commit(wal, "bob", "assets", [{"external_id": "bob-1", "name": "b"}])
    await commit(wal, "carol", "assets", [{"external_id": "carol-1", "name": "c"}])
    await commit(wal, "alice", "assets", [{"external_id": "alice-1", "name": "a"}])
    up = uploader(wal, clients.get, pause_retry=(0.1, 0.5))
    try:
        async def alice_done() -> bool:
            return not await wal.pending(10, users={"alice"})

        from twisted.internet.defer import Deferred

        await wait_for(lambda: Deferred.fromCoroutine(alice_done()))
        await wait_for(lambda: up.status().get("bob", {}).get("paused")
                       and up.status().get("carol", {}).get("paused"))
        assert "403" in up.status()["bob"]["paused"]
        assert "401" in up.status()["carol"]["paused"]
        # credentials fixed: both resume
        clients["bob"] = good
        clients["carol"] = good
        await drained(wal)
    finally:
        await up.stopService()
    got = (await good.post("/assets/byids", {"items": [
        {"externalId": x} for x in ("alice-1", "bob-1", "carol-1")]})).items
    assert len(got) == 3 and (await wal.stats()).dead_letters == 0
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_restart_mid_drain_loses_and_duplicates_nothing(
    emulator: Emulator, tmp_path: Path
) -> None:
    wal = await open_wal(tmp_path / "wal.sqlite")
    client = client_for(emulator.url)
    await faults(client, [{"path": "*/events", "latencyMs": 150}])
    for i in range(20):
        await commit(wal, "alice", "events", [{"external_id": f"e{i}-{j}", "type": "t"}
                                              for j in range(30)])
    up = uploader(wal, lambda user: client, concurrency=2, page_records=2)
    await wait_for(lambda: up.metrics.records_done >= 3)
    await up.stopService()  # cancels requests in flight: their outcome is unknown
    await wal.close()
    wal = await open_wal(tmp_path / "wal.sqlite")
    assert (await wal.stats()).records > 0
    await faults(client, None)
    up = uploader(wal, lambda user: client)
    try:
        await drained(wal)
    finally:
        await up.stopService()
    events = (await client.post("/events/list", {"limit": 1000})).items
    assert len(events) == 600 and len({e["externalId"] for e in events}) == 600
    assert (await wal.stats()).dead_letters == 0
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_every_builtin_table_reaches_the_emulator(emulator: Emulator, tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "wal.sqlite")
    u = "alice"
    await commit(wal, u, "data_sets", [{"external_id": "ds", "name": "DS"}])
    await commit(wal, u, "labels", [{"external_id": "lab", "name": "Label",
                                     "data_set_external_id": ["ds"]}])
    await commit(wal, u, "assets", [{"external_id": "a1", "name": "A1", "labels": ["lab"],
                                     "data_set_external_id": "ds"}])
    await commit(wal, u, "events", [{"external_id": "ev", "type": "alarm", "start_time": 1000,
                                     "end_time": 2000, "asset_external_ids": ["a1"]}])
    await commit(wal, u, "time_series", [{"external_id": "st", "name": "S", "is_string": True}])
    await commit(wal, u, "string_datapoints", {"external_id": ["st", "st"],
                                               "timestamp": [1, 2], "value": ["x", "y"]})
    await commit(wal, u, "files", [{"external_id": "f1", "name": "f.txt",
                                    "mime_type": "text/plain", "asset_external_ids": ["a1"]}])
    await commit(wal, u, "sequences", [{"external_id": "seq", "name": "Seq", "columns": [
        {"externalId": "c1", "valueType": "DOUBLE"}, {"externalId": "c2", "valueType": "STRING"}]}])
    await commit(wal, u, "sequence_rows", {"external_id": ["seq", "seq"], "row_number": [0, 1],
                                           "values": [{"c1": 1.5, "c2": "a"}, {"c1": 2.5}]})
    await commit(wal, u, "relationships", [{"external_id": "rel", "source_external_id": "a1",
                                            "source_type": "asset", "target_external_id": "ev",
                                            "target_type": "event", "confidence": 0.5}])
    await commit(wal, u, "extraction_pipelines", [{"external_id": "pipe", "name": "Pipe",
                                                   "data_set_external_id": "ds"}])
    await commit(wal, u, "extraction_pipeline_runs", [{"external_id": "pipe",
                                                       "status": "success", "message": "ok"}])
    client = client_for(emulator.url)
    up = uploader(wal, lambda user: client)
    try:
        await drained(wal)
    finally:
        await up.stopService()
    dead = await wal.dead_letters(None)
    assert [(d.table, d.error) for d in dead] == []

    async def one(path: str, ext: str) -> dict[str, Any]:
        items = (await client.post(path, {"items": [{"externalId": ext}]})).items
        assert len(items) == 1, (path, items)
        return items[0]

    ds = await one("/datasets/byids", "ds")
    assert (await one("/labels/byids", "lab"))["dataSetId"] == ds["id"]
    a1 = await one("/assets/byids", "a1")
    assert a1["labels"] == [{"externalId": "lab"}] and a1["dataSetId"] == ds["id"]
    assert (await one("/events/byids", "ev"))["assetIds"] == [a1["id"]]
    assert (await one("/files/byids", "f1"))["assetIds"] == [a1["id"]]
    assert (await one("/relationships/byids", "rel"))["confidence"] == 0.5
    assert (await one("/extpipes/byids", "pipe"))["dataSetId"] == ds["id"]
    points = (await client.post("/timeseries/data/list", {"items": [{"externalId": "st"}]}))
    assert [p["value"] for p in points.items[0]["datapoints"]] == ["x", "y"]
    rows = (await client.post("/sequences/data/list", {"externalId": "seq", "limit": 10})).body
    assert [r["rowNumber"] for r in rows["rows"]] == [0, 1]
    runs = (await client.post("/extpipes/runs/list", {"filter": {"externalId": "pipe"}})).items
    assert [r["status"] for r in runs] == ["success"]
    await wal.close()
