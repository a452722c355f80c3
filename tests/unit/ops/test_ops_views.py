"""The data behind pggw.backlog / rejected / uploads, and retry/discard: scoped per user.

Uses a real WAL (SQLite on its threads) and the real reactor."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest_twisted
from twisted.internet import reactor

from pggw.ops import views
from pggw.ops.metrics import Metrics
from pggw.ops.service import Operations
from pggw.upload.metrics import UploadMetrics
from pggw.wal.codec import encode_chunk
from pggw.wal.log import WriteAheadLog


class FakeUploader:
    def __init__(self) -> None:
        self.metrics = UploadMetrics()
        self.lanes: dict[str, dict[str, Any]] = {}
        self.woken = 0

    def status(self) -> dict[str, dict[str, Any]]:
        return self.lanes

    def wake(self) -> None:
        self.woken += 1


def chunk(n: int, tag: str) -> bytes:
    return encode_chunk({"external_id": [f"{tag}-{i}" for i in range(n)],
                         "name": [f"N{i}" for i in range(n)]})


async def make(tmp_path: Path) -> SimpleNamespace:
    wal = WriteAheadLog(tmp_path / "wal.sqlite3", reactor=reactor)
    await wal.open()
    gw = SimpleNamespace(wal=wal, uploader=FakeUploader(), users=None, context=None,
                         pg_listener=None)
    # alice: 3 assets + 2 events pending, one record of 4 events dead-lettered (2 rows)
    await wal.commit(wal.new_txid(), "alice", [("assets", "insert", chunk(3, "a"), 3),
                                              ("events", "insert", chunk(2, "e"), 2)])
    await wal.commit(wal.new_txid(), "alice", [("events", "insert", chunk(4, "x"), 4)])
    await wal.commit(wal.new_txid(), "bob", [("assets", "insert", chunk(7, "b"), 7)])
    recs = await wal.pending(100, users={"alice"})
    rid = next(r.id for r in recs if r.table == "events" and r.nrows == 4)
    await wal.dead_letter(rid, [{"external_id": "x-1", "name": "N1"},
                                {"external_id": "x-2", "name": "N2"}],
                          {"status": 400, "code": 400, "message": "bad name",
                           "reason": "rejected"}, remove_record=True)
    recs = await wal.pending(100, users={"bob"})
    await wal.dead_letter(recs[0].id, None, {"message": "unmappable", "reason": "unmappable"})
    return gw


@pytest_twisted.ensureDeferred
async def test_backlog_is_per_user(tmp_path: Path) -> None:
    gw = await make(tmp_path)
    try:
        gw.uploader.metrics.record_batch("alice", "assets", "insert", 5, 5, 100.0, 100.5,
                                         http_status=201)
        gw.uploader.metrics.record_batch("bob", "assets", "insert", 5, 5, 100.0, 100.5,
                                         http_status=201)
        gw.uploader.lanes["alice"] = {"state": "active", "paused": None, "last_error": None}
        rows = await views.backlog(gw, "alice")
        assert [r["table_name"] for r in rows] == ["assets", "events"]
        assets, events = rows
        assert assets["rows_waiting"] == 3 and assets["records_waiting"] == 1
        assert isinstance(assets["oldest_waiting_since"], datetime)
        assert assets["last_upload_at"] == datetime.fromtimestamp(100.5, assets[
            "last_upload_at"].tzinfo)
        assert assets["state"] == "running"
        assert events["rows_waiting"] == 2 and events["rejected_rows"] == 2
        assert set(rows[0]) == set(views.BACKLOG_COLUMNS)
        bob = await views.backlog(gw, "bob")
        assert [(r["table_name"], r["rows_waiting"], r["rejected_rows"]) for r in bob] == [
            ("assets", 0, 7)]
        assert await views.backlog(gw, "carol") == []
    finally:
        await gw.wal.close()


@pytest_twisted.ensureDeferred
async def test_rejected_and_uploads_are_per_user(tmp_path: Path) -> None:
    gw = await make(tmp_path)
    try:
        rej = await views.rejected(gw, "alice")
        assert [(r["table_name"], r["row"]["external_id"], r["row_number"]) for r in rej] == [
            ("events", "x-1", 1), ("events", "x-2", 2)]
        assert rej[0]["error_code"] == "400" and rej[0]["error_message"] == "bad name"
        assert set(rej[0]) == set(views.REJECTED_COLUMNS)
        bob = await views.rejected(gw, "bob")
        assert len(bob) == 7 and {r["reason"] for r in bob} == {"unmappable"}
        assert all(r["id"] == bob[0]["id"] for r in bob)
        assert len(await views.rejected(gw, "bob", limit=3)) == 3

        m = gw.uploader.metrics
        m.record_batch("alice", "assets", "insert", 5, 5, 1.0, 2.0, http_status=201)
        m.record_batch("bob", "assets", "insert", 9, 9, 1.0, 2.0, http_status=201)
        m.record_batch("alice", "events", "insert", 2, 2, 3.0, 3.5, http_status=400,
                       error="CDF 400 on /events: bad")
        ups = await views.uploads(gw, "alice")
        assert [(u["table_name"], u["status"], u["rows"]) for u in ups] == [
            ("events", "rejected", 2), ("assets", "ok", 5)]
        assert ups[0]["duration_s"] == 0.5 and set(ups[0]) == set(views.UPLOADS_COLUMNS)
        assert [u["rows"] for u in await views.uploads(gw, "bob")] == [9]
    finally:
        await gw.wal.close()


@pytest_twisted.ensureDeferred
async def test_retry_and_discard_touch_only_the_users_rows(tmp_path: Path) -> None:
    gw = await make(tmp_path)
    try:
        bob_id = (await views.rejected(gw, "bob"))[0]["id"]
        alice_id = (await views.rejected(gw, "alice"))[0]["id"]
        # alice cannot retry or discard bob's dead letter by id
        assert await views.retry_rejected(gw, "alice", bob_id) == 0
        assert await views.discard_rejected(gw, "alice", bob_id) == 0
        assert len(await views.rejected(gw, "bob")) == 7
        # retry one of alice's: its 2 rows go back in the queue, behind what is there
        assert await views.retry_rejected(gw, "alice", alice_id) == 2
        assert gw.uploader.woken == 1
        assert await views.rejected(gw, "alice") == []
        events = {r["table_name"]: r for r in await views.backlog(gw, "alice")}["events"]
        assert events["rows_waiting"] == 4 and events["rejected_rows"] == 0
        # discard all of bob's
        assert await views.discard_rejected(gw, "bob", None) == 7
        assert await views.rejected(gw, "bob") == []
        assert await views.discard_rejected(gw, "bob", None) == 0
    finally:
        await gw.wal.close()


@pytest_twisted.ensureDeferred
async def test_status_totals_and_detail(tmp_path: Path) -> None:
    gw = await make(tmp_path)
    try:
        gw.context = SimpleNamespace(connections={1: object()})
        gw.pg_listener = SimpleNamespace(port=object(), running=True)
        gw.uploader.lanes["bob"] = {"state": "paused", "paused": "CDF 401: nope",
                                    "last_error": "CDF 401: nope"}
        now = __import__("time").time()
        gw.uploader.metrics.backoff_until["alice"] = now + 60
        gw.uploader.lanes["alice"] = {"state": "active", "paused": None,
                                      "last_error": "CDF 503"}
        ops = Operations(gw, Metrics(), reactor)
        gw.ops = ops
        st = await ops.status(detail=False)
        assert "users" not in st
        assert st["wal"]["rows"] == 5 + 7 - 7 and st["wal"]["records"] == 2
        assert st["totals"]["rejected_rows"] == 9 and st["totals"]["paused"] == 1
        assert st["totals"]["backing_off"] == 1 and st["connections"] == 1
        assert st["ready"] is True and st["state"] == "running"
        assert {"version", "replica", "uptime_s"} <= set(st)
        assert set(st["wal"]) >= {"bytes", "records", "oldest_pending_age_s"}
        detail = await ops.status(detail=True)
        users = {u["username"]: u for u in detail["users"]}
        assert users["alice"]["state"] == "backing_off"
        assert users["alice"]["backing_off_until"].endswith("Z")
        assert users["alice"]["backlog"]["assets"]["rows"] == 3
        assert users["alice"]["rejected"] == 2
        assert users["bob"]["state"] == "paused"
        assert users["bob"]["paused_reason"] == "CDF 401: nope"
        sample = await ops.sample()
        assert sample.backlog_rows == 5 and ops.history()["samples"][-1]["backlog_rows"] == 5
    finally:
        await gw.wal.close()
