"""The whole flow of a new gateway user, against the emulator: get a token, (create a session,)
create the gateway user — 2.0 nonce, 2.0 client credentials, v1 nested and flat — connect with
psycopg and psql using the returned credentials, insert, and find the rows in CDF, in the
user's own project (which the daemon's identity cannot even read); then list, rotate, delete.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from credharness import (
    Emulator,
    GatewayApi,
    asset_in_cdf,
    connect,
    create_cc,
    insert_and_find,
    start_gateway,
    wait_for,
)

from tests.conftest import Daemon


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    e = Emulator(tmp_path_factory.mktemp("credemu") / "emulator")
    e.start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def daemon(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_gateway(tmp_path_factory.mktemp("credgw"), emu, "--public-host", "pg.example.com")
    yield d
    d.stop()


@pytest.fixture(scope="module")
def api(daemon: Daemon) -> GatewayApi:
    return GatewayApi(daemon)


# -- create ----------------------------------------------------------------------------------


def test_v1_create_nested(api: GatewayApi, emu: Emulator, daemon: Daemon) -> None:
    a = api.call("POST", "/create", {
        "auth": {"token_url": emu.url + "/oauth2/token", "client_id": "plant-writer",
                 "client_secret": "plant-writer-secret", "scope": emu.url + "/.default"},
        "project": "plant"})
    assert a.status == 200, a.body
    assert set(a.body) == {"username", "password"}
    assert a.body["username"].isidentifier() and a.body["username"] == a.body["username"].lower()
    insert_and_find(daemon, emu, a.body["username"], a.body["password"])


def test_v1_create_flat(api: GatewayApi, emu: Emulator, daemon: Daemon) -> None:
    a = api.call("POST", "/create", {
        "token_url": emu.url + "/oauth2/token", "client_id": "plant-writer",
        "client_secret": "plant-writer-secret", "scope": emu.url + "/.default",
        "project": "plant"})
    assert a.status == 200, a.body
    insert_and_find(daemon, emu, a.body["username"], a.body["password"])


def test_v1_create_refuses_bad_credentials(api: GatewayApi, emu: Emulator) -> None:
    a = api.call("POST", "/create", {
        "token_url": emu.url + "/oauth2/token", "client_id": "plant-writer",
        "client_secret": "Wr0ng-s3cret-xyz", "project": "plant"})
    assert a.status == 401
    assert "refused the client credentials" in a.body["error"]["message"]
    assert "Wr0ng-s3cret-xyz" not in a.body["error"]["message"]
    a = api.call("POST", "/create", {
        "token_url": emu.url + "/oauth2/token", "client_id": "plant-writer",
        "client_secret": "plant-writer-secret", "project": "demo"})
    assert a.status == 403 and "no access to project demo" in a.body["error"]["message"]
    a = api.call("POST", "/create", {"project": "plant"})
    assert a.status == 422


def test_client_credentials_create(api: GatewayApi, emu: Emulator, daemon: Daemon) -> None:
    item = create_cc(api, emu)
    assert item["host"] == "pg.example.com"
    assert "sessionId" not in item
    insert_and_find(daemon, emu, item["username"], item["password"])


def test_nonce_create_and_psql(api: GatewayApi, emu: Emulator, daemon: Daemon) -> None:
    session_id, nonce = emu.nonce("plant-admin", "plant-writer")
    a = api.call("POST", api.gw("plant"), {"items": [{"credentials": {"nonce": nonce}}]},
                 token=emu.token("plant-admin"))
    assert a.status == 200, a.body
    (item,) = a.body["items"]
    assert item["sessionId"] == session_id
    assert item["createdTime"] == item["lastUpdatedTime"]
    insert_and_find(daemon, emu, item["username"], item["password"])
    # psql with the returned credentials, as the README shows
    xid = f"psql-{uuid.uuid4().hex[:8]}"
    out = subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(daemon.port),
         "-U", item["username"], "-d", item["username"], "-c",
         f"INSERT INTO assets (external_id, name) VALUES ('{xid}', 'from psql')"],
        env={**os.environ, "PGPASSWORD": item["password"]}, capture_output=True, text=True,
        timeout=30)
    assert out.returncode == 0, out.stderr
    assert wait_for(lambda: asset_in_cdf(emu, xid), timeout=30)["name"] == "from psql"
    # the nonce is spent
    a = api.call("POST", api.gw("plant"), {"items": [{"credentials": {"nonce": nonce}}]},
                 token=emu.token("plant-admin"))
    assert a.status == 400 and "refused the nonce" in a.body["error"]["message"]


def test_nonce_binding_refused_says_use_client_credentials(api: GatewayApi,
                                                           emu: Emulator) -> None:
    _, nonce = emu.nonce("plant-admin", "plant-writer")
    emu.faults([{"method": "POST", "path": "*/sessions/token", "status": 403}])
    try:
        a = api.call("POST", api.gw("plant"), {"items": [{"credentials": {"nonce": nonce}}]},
                     token=emu.token("plant-admin"))
    finally:
        emu.faults(None)
    assert a.status == 400
    message = a.body["error"]["message"]
    assert "does not let pggw bind session nonces" in message
    assert "clientCredentials" in message


def test_create_needs_a_token_with_gateway_write(api: GatewayApi, emu: Emulator) -> None:
    body = {"items": [{"credentials": {"nonce": "x"}}]}
    a = api.call("POST", api.gw("plant"), body)
    assert a.status == 401
    a = api.call("POST", api.gw("plant"), body, token="not-a-token")
    assert a.status == 401
    a = api.call("POST", api.gw("demo"), body, token=emu.token("plant-admin"))
    assert a.status == 401 and "not valid for project demo" in a.body["error"]["message"]
    a = api.call("POST", api.gw("plant"), body, token=emu.token("plant-reader"))
    assert a.status == 403 and "postgresGatewayAcl:WRITE" in a.body["error"]["message"]
    a = api.call("POST", api.gw("plant"), {"items": [{"credentials": {"nonce": "x"}, "x": 1}]},
                 token=emu.token("plant-admin"), check=False)
    assert a.status == 422 and "Extra inputs" in a.body["error"]["message"]


# -- list, byids, update, delete --------------------------------------------------------------


def test_list_byids_update_delete(api: GatewayApi, emu: Emulator, daemon: Daemon) -> None:
    first = create_cc(api, emu)
    second = create_cc(api, emu)
    reader = emu.token("plant-reader")
    listed = api.call("GET", api.gw("plant"), token=reader, query={"limit": 100})
    assert listed.status == 200
    names = [u["username"] for u in listed.body["items"]]
    assert first["username"] in names and second["username"] in names
    assert names == sorted(names)
    # paging
    page = api.call("GET", api.gw("plant"), token=reader, query={"limit": 1})
    assert len(page.body["items"]) == 1 and "nextCursor" in page.body
    page2 = api.call("GET", api.gw("plant"), token=reader,
                     query={"limit": 1, "cursor": page.body["nextCursor"]})
    assert page2.body["items"][0]["username"] > page.body["items"][0]["username"]
    filtered = api.call("POST", api.gw("plant", "/list"), {"limit": 10}, token=reader)
    assert filtered.status == 200 and filtered.body["items"]
    # the daemon's project has none of them
    other = api.call("GET", api.gw("demo"), token=emu.token("daemon"))
    assert all(u["username"] not in names for u in other.body["items"])

    got = api.call("POST", api.gw("plant", "/byids"),
                   {"items": [{"username": first["username"]}]}, token=reader)
    assert got.status == 200 and got.body["items"][0]["username"] == first["username"]
    assert "password" not in got.body["items"][0]
    missing = api.call("POST", api.gw("plant", "/byids"),
                       {"items": [{"username": "nobody"}]}, token=reader)
    assert missing.status == 400 and missing.body["error"]["missing"] == [{"username": "nobody"}]
    ignored = api.call("POST", api.gw("plant", "/byids"),
                       {"items": [{"username": "nobody"}], "ignoreUnknownIds": True},
                       token=reader)
    assert ignored.status == 200 and ignored.body["items"] == []

    # rotate the first user's credentials to a session: same password, new identity
    session_id, nonce = emu.nonce("plant-admin", "plant-writer")
    refused = api.call("POST", api.gw("plant", "/update"), {"items": [{
        "username": first["username"], "update": {"credentials": {"set": {"nonce": nonce}}}}]},
        token=reader)
    assert refused.status == 403
    updated = api.call("POST", api.gw("plant", "/update"), {"items": [{
        "username": first["username"], "update": {"credentials": {"set": {"nonce": nonce}}}}]},
        token=emu.token("plant-admin"))
    assert updated.status == 200, updated.body
    (u,) = updated.body["items"]
    assert u["sessionId"] == session_id and u["lastUpdatedTime"] >= u["createdTime"]
    insert_and_find(daemon, emu, first["username"], first["password"])

    # delete: the user can no longer log in
    deleted = api.call("POST", api.gw("plant", "/delete"),
                       {"items": [{"username": second["username"]}]},
                       token=emu.token("plant-admin"))
    assert deleted.status == 200 and deleted.body == {}
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(daemon, second["username"], second["password"])
    again = api.call("POST", api.gw("plant", "/delete"),
                     {"items": [{"username": second["username"]}]},
                     token=emu.token("plant-admin"))
    assert again.status == 400
    ignored = api.call("POST", api.gw("plant", "/delete"),
                       {"items": [{"username": second["username"]}], "ignoreUnknownIds": True},
                       token=emu.token("plant-admin"))
    assert ignored.status == 200


def test_secrets_are_encrypted_at_rest(api: GatewayApi, emu: Emulator, daemon: Daemon) -> None:
    item = create_cc(api, emu)
    raw = Path(daemon.data_dir / "users.sqlite3").read_bytes()
    assert b"plant-writer-secret" not in raw
    assert item["password"].encode() not in raw
    key = daemon.data_dir / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert "plant-writer-secret" not in daemon.log()
    assert item["password"] not in daemon.log()
    out = subprocess.run(["python", "-m", "pggw.admin", "--data-dir", str(daemon.data_dir),
                          "users"], capture_output=True, text=True, check=True)
    assert item["username"] in out.stdout and "plant-writer-secret" not in out.stdout
