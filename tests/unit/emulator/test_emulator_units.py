"""Fast tests of the emulator's pieces: faults, tokens, limits, protobuf, the tap, and the
HTTP resource driven in memory with treq's StubTreq."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from treq.testing import StubTreq
from twisted.application.service import IService
from twisted.internet.task import Clock

from pggw.emulator import datapoints
from pggw.emulator.app import Emulator, EmulatorResource
from pggw.emulator.auth import Identity, TokenIssuer, all_capabilities
from pggw.emulator.errors import ApiError
from pggw.emulator.faults import FaultRule, Faults
from pggw.emulator.resources import F, check_metadata
from pggw.emulator.tap import Options, makeService

REPO = Path(__file__).resolve().parents[3]


def test_fault_rules_match_count_and_probability() -> None:
    faults = Faults(rng=random.Random(1))
    faults.set(
        [
            {"path": "*/assets", "method": "post", "status": 503, "count": 2},
            {"path": "*", "latencyMs": 5},
            {"path": "*/events", "status": 500, "probability": 0.0},
        ]
    )
    first = faults.decide("POST", "/api/v1/projects/demo/assets")
    assert first.rule is not None and first.rule.status == 503 and first.latency_ms == 5
    assert faults.decide("GET", "/api/v1/projects/demo/assets").rule is None
    faults.decide("POST", "/api/v1/projects/demo/assets")
    used_up = faults.decide("POST", "/api/v1/projects/demo/assets")
    assert used_up.rule is None and used_up.latency_ms == 5
    assert faults.decide("POST", "/api/v1/projects/demo/events").rule is None
    faults.clear()
    assert faults.decide("POST", "/x").latency_ms == 0


@pytest.mark.parametrize(
    "raw",
    [
        {"mode": "explode"},
        {"status": 99},
        {"probability": 2},
        {"count": -1},
        {"mode": "apply-then-fail"},
        {"unknown": 1},
        "not an object",
    ],
)
def test_bad_fault_rules_are_400(raw: object) -> None:
    with pytest.raises(ApiError) as exc:
        FaultRule.parse(raw)
    assert exc.value.code == 400


def test_tokens_sign_verify_and_expire() -> None:
    now = [1000.0]
    issuer = TokenIssuer(b"k" * 32, clock=lambda: now[0])
    token = issuer.issue("me", "demo", all_capabilities(), lifetime=60)
    who = issuer.verify(token)
    assert who.subject == "me" and who.project == "demo" and who.allows("assetsacl", "WRITE")
    now[0] += 61
    with pytest.raises(ApiError) as expired:
        issuer.verify(token)
    assert expired.value.code == 401
    with pytest.raises(ApiError) as forged:
        TokenIssuer(b"x" * 32, clock=lambda: 1000.0).verify(token)
    assert forged.value.code == 401


def test_identity_require_gives_cdf_403() -> None:
    who = Identity("me", "demo", [{"assetsAcl": {"actions": ["READ"], "scope": {"all": {}}}}])
    who.require(("assetsAcl", "READ"))
    with pytest.raises(ApiError) as exc:
        who.require(("assetsAcl", "WRITE"))
    assert exc.value.body()["error"]["code"] == 403


def test_metadata_limits() -> None:
    spec = F("meta", max_value=10, max_total=20)
    check_metadata("metadata", spec, {"a": "1"})
    for bad in ({"a": "x" * 11}, {"k" * 129: "v"}, {"a": 1}, {f"k{i}": "v" * 9 for i in range(3)}):
        with pytest.raises(ApiError):
            check_metadata("metadata", spec, bad)


def test_parse_time_and_status_codes() -> None:
    assert datapoints.parse_time(None, 5) == 5
    assert datapoints.parse_time(123, 5) == 123
    now = datapoints.parse_time("now", 0)
    assert abs(datapoints.parse_time("2d-ago", 0) - (now - 2 * 86_400_000)) < 1000
    with pytest.raises(ApiError):
        datapoints.parse_time("yesterday", 0)
    assert datapoints.status_code({"symbol": "Bad"}) == datapoints.BAD
    assert datapoints.status_code({"code": 1073741824}) == datapoints.UNCERTAIN
    with pytest.raises(ApiError):
        datapoints.status_code({"code": 0, "symbol": "Bad"})


def test_protobuf_list_response_decodes_with_cognite_sdk() -> None:
    proto = pytest.importorskip("cognite.client._proto.data_point_list_response_pb2")
    raw = datapoints.encode_list_response(
        [
            {"id": 7, "externalId": "x", "isString": False, "isStep": True, "unit": "C",
             "dps": [(1, 1.5, 0), (-5, "NaN", datapoints.BAD), (3, None, datapoints.BAD)],
             "nextCursor": "c"},
            {"id": 8, "isString": True, "isStep": False, "dps": [(2, "on", 0)]},
        ]
    )  # fmt: skip
    decoded = proto.DataPointListResponse()
    decoded.MergeFromString(raw)
    num, txt = decoded.items
    assert (num.id, num.externalId, num.isStep, num.unit, num.nextCursor) == (
        7,
        "x",
        True,
        "C",
        "c",
    )
    points = num.numericDatapoints.datapoints
    assert [p.timestamp for p in points] == [1, -5, 3]
    assert points[0].value == 1.5 and points[1].value != points[1].value  # NaN
    assert points[1].status.code == datapoints.BAD and points[2].nullValue
    assert txt.isString and txt.stringDatapoints.datapoints[0].value == "on"


def test_tap_options_make_a_service(tmp_path: Path) -> None:
    options = Options()
    options.parseOptions(
        ["--endpoint", "tcp:0", "--data-dir", str(tmp_path), "--max-concurrent", "3"]
    )
    service = makeService(options)
    assert IService.providedBy(service)
    with pytest.raises(Exception):  # noqa: B017 - usage.UsageError
        Options().parseOptions(["--max-concurrent", "0"])


def test_resource_in_memory_with_stubtreq(tmp_path: Path) -> None:
    clock = Clock()
    app = Emulator(tmp_path, clock)
    try:
        stub = StubTreq(EmulatorResource(app))
        token = app.issuer.issue("demo-client", "demo", all_capabilities())
        headers = {"authorization": [f"Bearer {token}"], "content-type": ["application/json"]}
        response = stub.post(
            "http://emulator/api/v1/projects/demo/assets",
            data=json.dumps({"items": [{"externalId": "a", "name": "A"}]}).encode(),
            headers=headers,
        )
        stub.flush()
        result = []
        response.addCallback(lambda r: r.code).addCallback(result.append)
        stub.flush()
        assert result == [201]
        assert app.store.get_by_external_id("demo", "assets", "a") is not None

        app.faults.set([{"path": "*", "latencyMs": 1000}])
        slow = stub.get("http://emulator/api/v1/projects/demo/assets", headers=headers)
        codes: list[int] = []
        slow.addCallback(lambda r: codes.append(r.code))
        stub.flush()
        assert codes == []  # held for the injected latency
        clock.advance(1.0)
        stub.flush()
        assert codes == [200]
    finally:
        app.close()
