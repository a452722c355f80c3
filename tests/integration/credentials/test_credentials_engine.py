"""What the engine does with the credentials API's users: capability checks at the door (42501)
and custom tables in the user's catalog (psql ``\\dt``, INSERT, COPY), rows arriving in CDF.

These need the engine hooks (``Gateway.check_write``, ``registry.with_tables(tables_for(u))``,
``Uploader(table_for=...)``), wired in ``pggw.gateway``.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from credharness import Emulator, GatewayApi, connect, create_cc, start_gateway, wait_for

from tests.conftest import Daemon

SPACE = "plant-space"
CONTAINER = {"type": "container", "space": SPACE, "externalId": "Pump"}


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    e = Emulator(tmp_path_factory.mktemp("engemu") / "emulator")
    e.start()
    token = e.token("plant-admin")
    for path, body in (
        ("/models/spaces", {"items": [{"space": SPACE}]}),
        ("/models/containers", {"items": [{"space": SPACE, "externalId": "Pump", "properties": {
            "name": {"type": {"type": "text"}}, "flowRate": {"type": {"type": "float64"}}}}]}),
        ("/models/views", {"items": [{"space": SPACE, "externalId": "Pump", "version": "v1",
                                      "properties": {
            p: {"container": CONTAINER, "containerPropertyIdentifier": p}
            for p in ("name", "flowRate")}}]}),
    ):
        r = e.call("POST", path, token, body)
        assert r.status_code == 200, r.text
    yield e
    e.stop()


@pytest.fixture(scope="module")
def daemon(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_gateway(tmp_path_factory.mktemp("enggw"), emu)
    yield d
    d.stop()


@pytest.fixture(scope="module")
def api(daemon: Daemon) -> GatewayApi:
    return GatewayApi(daemon)


def test_missing_write_capability_is_42501_at_once(api: GatewayApi, emu: Emulator,
                                                   daemon: Daemon) -> None:
    user = create_cc(api, emu, "plant-noassets")
    with connect(daemon, user["username"], user["password"]) as conn:
        cur = conn.execute("INSERT INTO events (external_id, type) VALUES ('ev-ok', 'x')")
        assert cur.statusmessage == "INSERT 0 1"
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as e:
            conn.execute("INSERT INTO assets (external_id, name) VALUES ('nope', 'x')")
        assert "assetsAcl:WRITE" in (e.value.diag.message_detail or "")


def raw_rows(emu: Emulator, db: str, table: str) -> list[dict[str, Any]]:
    r = emu.call("GET", f"/raw/dbs/{db}/tables/{table}/rows", emu.token("plant-admin"))
    return list(r.json().get("items", [])) if r.status_code == 200 else []


def test_custom_tables_in_catalog_insert_and_copy(api: GatewayApi, emu: Emulator,
                                                  daemon: Daemon) -> None:
    user = create_cc(api, emu)
    created = api.call("POST", api.gw("plant", f"/tables/{user['username']}"), {"items": [
        {"type": "raw_rows", "tablename": "movies",
         "options": {"database": "films", "table": "movies", "primaryKey": "title"},
         "columns": {"title": {"type": "TEXT"}, "year": {"type": "BIGINT"}}},
        {"type": "raw_rows", "tablename": "readings",
         "options": {"database": "films", "table": "readings"},
         "columns": {"sensor": {"type": "TEXT"}, "value": {"type": "DOUBLE PRECISION"}}},
        {"type": "view", "tablename": "pumps",
         "options": {"space": SPACE, "externalId": "Pump", "version": "v1"}}]},
        token=emu.token("plant-admin"))
    assert created.status == 200, created.body
    out = subprocess.run(
        ["psql", "-X", "-h", "127.0.0.1", "-p", str(daemon.port), "-U", user["username"],
         "-d", user["username"], "-c", "\\dt"],
        env={**os.environ, "PGPASSWORD": user["password"]}, capture_output=True, text=True,
        timeout=30)
    assert "movies" in out.stdout, out
    assert "readings" in out.stdout and "pumps" in out.stdout
    with connect(daemon, user["username"], user["password"]) as conn:
        conn.execute("INSERT INTO movies (title, year) VALUES ('Up', 2009), ('Heat', 1995)")
        conn.execute("INSERT INTO readings (sensor, value) VALUES ('s1', 1.5)")
        conn.execute("INSERT INTO pumps (external_id, name, flow_rate) VALUES ('p1', 'P1', 2.5)")
        with conn.cursor() as cur, cur.copy("COPY movies (title, year) FROM STDIN") as copy:
            copy.write(io.StringIO("Alien\t1979\n").read())
        with conn.cursor() as cur, cur.copy("COPY readings (sensor, value) FROM STDIN") as cp:
            cp.write("s2\t2.5\n")
    movies = wait_for(lambda: len(raw_rows(emu, "films", "movies")) == 3
                      and raw_rows(emu, "films", "movies"), timeout=30)
    assert {m["key"]: m["columns"] for m in movies} == {
        "Up": {"year": 2009}, "Heat": {"year": 1995}, "Alien": {"year": 1979}}
    readings = wait_for(lambda: len(raw_rows(emu, "films", "readings")) == 2
                        and raw_rows(emu, "films", "readings"), timeout=30)
    assert sorted(r["columns"]["sensor"] for r in readings) == ["s1", "s2"]

    def pump() -> Any:
        r = emu.call("POST", "/models/instances/byids", emu.token("plant-admin"), {
            "items": [{"instanceType": "node", "space": SPACE, "externalId": "p1"}],
            "sources": [{"source": {"type": "view", "space": SPACE, "externalId": "Pump",
                                    "version": "v1"}}]})
        items = r.json().get("items", []) if r.status_code == 200 else []
        return items[0] if items else None

    node = wait_for(pump, timeout=30)
    assert node["properties"][SPACE]["Pump/v1"] == {"name": "P1", "flowRate": 2.5}
