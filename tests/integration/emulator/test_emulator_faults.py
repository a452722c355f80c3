"""Fault injection, request statistics, 429 throttling, sessions and persistence."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import pytest_twisted
from emulator_harness import Api, Running, start_emulator, stop_emulator
from twisted.internet.defer import Deferred, gatherResults


async def _faults(api: Api, rules: object) -> None:
    answer = await api.post("/_emulator/faults", rules, token=None)
    assert answer.status == 200, answer.body


async def _asset_count(api: Api) -> int:
    return len((await api.post(api.p("/assets/list"), {"limit": 1000})).body["items"])


@pytest_twisted.ensureDeferred
async def test_fail_mode_answers_without_applying(api: Api) -> None:
    await _faults(
        api, [{"method": "POST", "path": "*/assets", "status": 503, "retryAfter": 2, "count": 2}]
    )
    for _ in range(2):
        failed = await api.post(api.p("/assets"), {"items": [{"name": "x"}]}, check=False)
        assert failed.status == 503
        assert failed.body["error"]["code"] == 503
        assert failed.headers.getRawHeaders(b"retry-after") == [b"2"]
    assert await _asset_count(api) == 0  # GET/list is not matched, and nothing was applied
    ok = await api.post(api.p("/assets"), {"items": [{"name": "x"}]})
    assert ok.status == 201  # the count is used up
    stats = (await api.get("/_emulator/stats", token=None)).body
    assert stats["paths"][api.p("/assets")] == {"503": 2, "201": 1}
    assert stats["injected"] == 2
    rules = (await api.get("/_emulator/faults", token=None)).body["items"]
    assert rules[0]["fired"] == 2


@pytest_twisted.ensureDeferred
async def test_apply_then_fail_is_the_unknown_outcome(api: Api) -> None:
    await _faults(
        api,
        [
            {
                "path": "*/assets",
                "method": "POST",
                "status": 502,
                "mode": "apply-then-fail",
                "count": 1,
            }
        ],
    )
    failed = await api.post(
        api.p("/assets"), {"items": [{"externalId": "a", "name": "x"}]}, check=False
    )
    assert failed.status == 502
    assert await _asset_count(api) == 1
    retry = await api.post(api.p("/assets"), {"items": [{"externalId": "a", "name": "x"}]})
    assert retry.status == 409 and retry.body["error"]["duplicated"] == [{"externalId": "a"}]


@pytest_twisted.ensureDeferred
async def test_drop_closes_the_connection_and_delete_clears(api: Api) -> None:
    await _faults(api, {"path": "/api/v1/projects/*/timeseries", "mode": "drop"})
    with pytest.raises(Exception):  # noqa: B017 - any connection-level failure
        await api.post(api.p("/timeseries"), {"items": [{"externalId": "t"}]}, check=False)
    cleared = await api.call("DELETE", "/_emulator/faults", token=None)
    assert cleared.status == 200
    assert (await api.post(api.p("/timeseries"), {"items": [{"externalId": "t"}]})).status == 201
    stats = (await api.get("/_emulator/stats", token=None)).body
    assert stats["dropped"] == 1
    assert stats["paths"][api.p("/timeseries")] == {"dropped": 1, "201": 1}


@pytest_twisted.ensureDeferred
async def test_latency_and_probability(api: Api) -> None:
    await _faults(
        api,
        [
            {"path": "*/assets/list", "latencyMs": 200},
            {"path": "*", "status": 500, "probability": 0},
        ],
    )
    began = time.monotonic()
    answer = await api.post(api.p("/assets/list"), {})
    assert answer.status == 200
    assert time.monotonic() - began >= 0.19
    bad = await api.post("/_emulator/faults", [{"mode": "explode"}], token=None)
    assert bad.status == 400


@pytest_twisted.ensureDeferred
async def test_max_concurrent_answers_429(tmp_path: Path) -> None:
    running = await start_emulator(tmp_path / "emu", max_concurrent=2)
    api = Api(running.url)
    try:
        await api.login()
        await _faults(api, [{"path": "*/assets/list", "latencyMs": 300}])
        answers = await gatherResults(
            [Deferred.fromCoroutine(api.post(api.p("/assets/list"), {})) for _ in range(5)]
        )
        codes = sorted(a.status for a in answers)
        assert codes == [200, 200, 429, 429, 429]
        throttled = next(a for a in answers if a.status == 429)
        assert throttled.body == {
            "error": {
                "code": 429,
                "message": "Project exceeded maximum number='2' of concurrent requests. "
                "Please try again later.",
            }
        }
        assert (await api.post(api.p("/assets/list"), {})).status == 200
        stats = (await api.get("/_emulator/stats", token=None)).body
        assert stats["throttled"] == 3 and stats["maxInFlight"] == 2
    finally:
        await api.close()
        await stop_emulator(running)


@pytest_twisted.ensureDeferred
async def test_sessions_nonce_bind_refresh_revoke(api: Api) -> None:
    created = await api.post(
        api.p("/sessions"), {"items": [{"clientId": "demo-client", "clientSecret": "demo-secret"}]}
    )
    assert created.status == 200
    session = created.body["items"][0]
    assert (
        session["status"] == "READY"
        and session["type"] == "CLIENT_CREDENTIALS"
        and session["nonce"]
    )
    wrong = await api.post(
        api.p("/sessions"), {"items": [{"clientId": "demo-client", "clientSecret": "no"}]}
    )
    assert wrong.status == 400

    bound = await api.post(api.p("/sessions/token"), {"nonce": session["nonce"]}, token=None)
    assert bound.status == 200
    assert (
        bound.body["id"] == session["id"]
        and bound.body["expiresIn"] > 0
        and bound.body["sessionKey"]
    )
    reused = await api.post(api.p("/sessions/token"), {"nonce": session["nonce"]}, token=None)
    assert reused.status == 400

    as_session = await api.get(api.p("/assets"), token=bound.body["accessToken"])
    assert as_session.status == 200
    refreshed = await api.post(
        api.p("/sessions/token"),
        {"sessionId": session["id"], "sessionKey": bound.body["sessionKey"]},
        token=None,
    )
    assert refreshed.status == 200 and refreshed.body["accessToken"]

    listed = await api.get(api.p("/sessions"), query={"status": "active"})
    assert [s["id"] for s in listed.body["items"]] == [session["id"]]
    exchange = await api.post(api.p("/sessions"), {"items": [{"tokenExchange": True}]})
    assert exchange.body["items"][0]["type"] == "TOKEN_EXCHANGE"

    revoked = await api.post(api.p("/sessions/revoke"), {"items": [{"id": session["id"]}]})
    assert revoked.body["items"][0]["status"] == "REVOKED"
    assert (await api.get(api.p("/assets"), token=refreshed.body["accessToken"])).status == 401
    again = await api.post(
        api.p("/sessions/token"),
        {"sessionId": session["id"], "sessionKey": bound.body["sessionKey"]},
        token=None,
    )
    assert again.status == 401
    byids = await api.post(api.p("/sessions/byids"), {"items": [{"id": session["id"]}]})
    assert byids.body["items"][0]["status"] == "REVOKED"


@pytest_twisted.ensureDeferred
async def test_restart_keeps_data_and_tokens(emu: Running) -> None:
    api = Api(emu.url)
    try:
        token = await api.login()
        await api.post(api.p("/assets"), {"items": [{"externalId": "kept", "name": "Kept"}]})
        ts = (await api.post(api.p("/timeseries"), {"items": [{"externalId": "t"}]})).body["items"][
            0
        ]
        await api.post(
            api.p("/timeseries/data"),
            {"items": [{"id": ts["id"], "datapoints": [{"timestamp": 7, "value": 7}]}]},
        )
        await api.post(
            api.p("/raw/dbs/d/tables/t/rows"),
            {"items": [{"key": "k", "columns": {"v": 1}}]},
            query={"ensureParent": True},
        )
    finally:
        await api.close()
    await stop_emulator(emu)

    again = await start_emulator(emu.data_dir)
    api = Api(again.url)
    api.token = token  # signed with the key kept in the data dir
    try:
        assets = await api.post(api.p("/assets/list"), {})
        assert [a["externalId"] for a in assets.body["items"]] == ["kept"]
        data = await api.post(
            api.p("/timeseries/data/list"), {"items": [{"externalId": "t"}], "start": 0, "end": 100}
        )
        assert data.body["items"][0]["datapoints"] == [{"timestamp": 7, "value": 7}]
        row = await api.get(api.p("/raw/dbs/d/tables/t/rows/k"))
        assert row.body["columns"] == {"v": 1}
        new = await api.post(api.p("/assets"), {"items": [{"name": "New"}]})
        assert new.body["items"][0]["id"] > assets.body["items"][0]["id"]
    finally:
        await api.close()
        await stop_emulator(again)
