"""Custom tables through the API: RAW tables with and without a primary key, and a view table
whose columns come from a data-modeling view in CDF; validated against the spec."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from credharness import Emulator, GatewayApi, create_cc, start_gateway

from tests.conftest import Daemon

SPACE = "plant-space"
CONTAINER = {"type": "container", "space": SPACE, "externalId": "Pump"}


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    e = Emulator(tmp_path_factory.mktemp("tblemu") / "emulator")
    e.start()
    token = e.token("plant-admin")
    for path, body in (
        ("/models/spaces", {"items": [{"space": SPACE}]}),
        ("/models/containers", {"items": [{"space": SPACE, "externalId": "Pump", "properties": {
            "name": {"type": {"type": "text"}, "nullable": False},
            "flowRate": {"type": {"type": "float64"}},
            "installedAt": {"type": {"type": "timestamp"}},
            "tags": {"type": {"type": "text", "list": True}},
            "site": {"type": {"type": "direct"}}}}]}),
        ("/models/views", {"items": [{"space": SPACE, "externalId": "Pump", "version": "v1",
                                      "properties": {
            p: {"container": CONTAINER, "containerPropertyIdentifier": p}
            for p in ("name", "flowRate", "installedAt", "tags", "site")}}]}),
    ):
        r = e.call("POST", path, token, body)
        assert r.status_code == 200, r.text
    yield e
    e.stop()


@pytest.fixture(scope="module")
def daemon(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_gateway(tmp_path_factory.mktemp("tblgw"), emu)
    yield d
    d.stop()


@pytest.fixture(scope="module")
def api(daemon: Daemon) -> GatewayApi:
    return GatewayApi(daemon)


@pytest.fixture(scope="module")
def user(api: GatewayApi, emu: Emulator) -> dict[str, Any]:
    return create_cc(api, emu)


def test_create_list_byids_delete(api: GatewayApi, emu: Emulator, user: dict[str, Any]) -> None:
    admin = emu.token("plant-admin")
    path = api.gw("plant", f"/tables/{user['username']}")
    created = api.call("POST", path, {"items": [
        {"type": "raw_rows", "tablename": "movies",
         "options": {"database": "films", "table": "movies", "primaryKey": "title"},
         "columns": {"title": {"type": "TEXT"}, "year": {"type": "BIGINT"},
                     "budget": {"type": "DOUBLE PRECISION"}, "tags": {"type": "TEXT[]"}}},
        {"type": "raw_rows", "tablename": "readings",
         "options": {"database": "films", "table": "readings"},
         "columns": {"sensor": {"type": "VARCHAR"}, "value": {"type": "REAL"},
                     "at": {"type": "TIMESTAMPTZ"}, "extra": {"type": "JSON"}}},
        {"type": "view", "tablename": "pumps",
         "options": {"space": SPACE, "externalId": "Pump", "version": "v1"}},
    ]}, token=admin)
    assert created.status == 200, created.body
    by_name = {t["tablename"]: t for t in created.body["items"]}
    assert by_name["movies"]["type"] == "raw_rows" and by_name["movies"]["createdTime"] > 0
    assert by_name["movies"]["options"]["primaryKey"] == "title"
    assert by_name["pumps"]["type"] == "view"
    assert by_name["pumps"]["columns"] == {
        "external_id": {"type": "TEXT"}, "space": {"type": "TEXT"}, "name": {"type": "TEXT"},
        "flow_rate": {"type": "DOUBLE PRECISION"}, "installed_at": {"type": "TEXT"},
        "tags": {"type": "TEXT[]"}, "site": {"type": "JSON"}}

    dup = api.call("POST", path, {"items": [
        {"type": "raw_rows", "tablename": "movies", "options": {"database": "d", "table": "t"},
         "columns": {"a": {"type": "TEXT"}}}]}, token=admin)
    assert dup.status == 409 and dup.body["error"]["duplicated"] == [{"tablename": "movies"}]
    builtin = api.call("POST", path, {"items": [
        {"type": "raw_rows", "tablename": "assets", "options": {"database": "d", "table": "t"},
         "columns": {"a": {"type": "TEXT"}}}]}, token=admin)
    assert builtin.status == 400 and "built-in" in builtin.body["error"]["message"]
    bad_type = api.call("POST", path, {"items": [
        {"type": "raw_rows", "tablename": "x", "options": {"database": "d", "table": "t"},
         "columns": {"a": {"type": "INTEGER"}}}]}, token=admin, check=False)
    assert bad_type.status == 422
    no_view = api.call("POST", path, {"items": [
        {"type": "view", "tablename": "ghosts",
         "options": {"space": SPACE, "externalId": "Ghost", "version": "v1"}}]}, token=admin)
    assert no_view.status == 400 and no_view.body["error"]["missing"]

    reader = emu.token("plant-reader")
    listed = api.call("GET", path, token=reader)
    assert [t["tablename"] for t in listed.body["items"]] == ["movies", "pumps", "readings"]
    assert {t["type"] for t in listed.body["items"]} == {"raw_rows", "nodes"}
    with_builtins = api.call("GET", path, token=reader, query={"includeBuiltIns": "true"})
    names = {t["tablename"]: t["type"] for t in with_builtins.body["items"]}
    assert names["assets"] == "built_in" and names["movies"] == "raw_rows"
    got = api.call("POST", path + "/byids", {"items": [{"tablename": "readings"}]}, token=reader)
    assert got.body["items"][0]["options"] == {"database": "films", "table": "readings"}
    missing = api.call("POST", path + "/byids", {"items": [{"tablename": "nope"}]},
                       token=reader)
    assert missing.status == 400

    denied = api.call("POST", path + "/delete", {"items": [{"tablename": "readings"}]},
                      token=reader)
    assert denied.status == 403
    deleted = api.call("POST", path + "/delete", {"items": [{"tablename": "readings"}]},
                       token=admin)
    assert deleted.status == 200 and deleted.body == {}
    listed = api.call("GET", path, token=reader)
    assert [t["tablename"] for t in listed.body["items"]] == ["movies", "pumps"]


def test_unknown_user(api: GatewayApi, emu: Emulator) -> None:
    a = api.call("GET", api.gw("plant", "/tables/nobody"), token=emu.token("plant-admin"))
    assert a.status == 400 and a.body["error"]["missing"] == [{"username": "nobody"}]
