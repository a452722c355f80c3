"""Identities: the token endpoint, token inspection, 401s and capability 403s."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest_twisted
from emulator_harness import Api, Running, start_emulator, stop_emulator


@pytest_twisted.ensureDeferred
async def test_token_endpoint_client_credentials(emu: Running) -> None:
    api = Api(emu.url)
    try:
        token = await api.login()
        assert token.count(".") == 2  # a JWT
        answer = await api.get("/api/v1/token/inspect")
        assert answer.status == 200
        assert answer.body["subject"] == "demo-client"
        assert answer.body["projects"][0]["projectUrlName"] == "demo"
        acls = {
            name for cap in answer.body["capabilities"] for name in cap if name != "projectScope"
        }
        assert {"assetsAcl", "timeSeriesAcl", "rawAcl", "sessionsAcl"} <= acls
        assert all(
            cap["projectScope"] == {"projects": ["demo"]} for cap in answer.body["capabilities"]
        )
    finally:
        await api.close()


@pytest_twisted.ensureDeferred
async def test_token_endpoint_basic_header_and_errors(emu: Running) -> None:
    api = Api(emu.url)
    try:
        basic = base64.b64encode(b"demo-client:demo-secret").decode()
        ok = await api.http.post(
            emu.url + "/oauth2/token",
            data={"grant_type": "client_credentials", "scope": "x"},
            headers={"authorization": f"Basic {basic}"},
        )
        body = json.loads(await ok.content())
        assert ok.code == 200
        assert body["token_type"] == "Bearer" and body["expires_in"] > 0

        wrong = await api.http.post(
            emu.url + "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "demo-client",
                "client_secret": "no",
            },
        )
        assert wrong.code == 401
        assert json.loads(await wrong.content())["error"] == "invalid_client"

        grant = await api.http.post(emu.url + "/oauth2/token", data={"grant_type": "password"})
        assert grant.code == 400
        assert json.loads(await grant.content())["error"] == "unsupported_grant_type"
    finally:
        await api.close()


@pytest_twisted.ensureDeferred
async def test_missing_garbage_expired_and_foreign_tokens_get_401(api: Api, emu: Running) -> None:
    for token in (None, "not-a-jwt", emu.app.issuer.issue("demo-client", "demo", [], lifetime=-10)):
        answer = await api.get(api.p("/assets"), token=token)
        assert answer.status == 401
        assert answer.body["error"]["code"] == 401
        assert isinstance(answer.body["error"]["message"], str)
    foreign = await api.get("/api/v1/projects/other/assets")
    assert foreign.status == 401
    assert foreign.body == {"error": {"code": 401, "message": foreign.body["error"]["message"]}}


@pytest_twisted.ensureDeferred
async def test_clients_file_capabilities_give_403(tmp_path: Path) -> None:
    clients = tmp_path / "clients.json"
    clients.write_text(
        json.dumps(
            [
                {
                    "clientId": "reader",
                    "clientSecret": "s3cret",
                    "project": "plant",
                    "capabilities": [
                        {"assetsAcl": {"actions": ["READ"], "scope": {"all": {}}}},
                        {"projectsAcl": {"actions": ["LIST"], "scope": {"all": {}}}},
                        {"groupsAcl": {"actions": ["LIST"], "scope": {"all": {}}}},
                    ],
                },
                {"clientId": "nobody", "clientSecret": "x", "project": "plant", "capabilities": []},
            ]
        )
    )
    running = await start_emulator(tmp_path / "data", project="plant", clients_file=clients)
    api = Api(running.url, project="plant")
    try:
        await api.login("reader", "s3cret")
        assert (await api.get(api.p("/assets"))).status == 200
        denied = await api.post(api.p("/assets"), {"items": [{"name": "pump"}]})
        assert denied.status == 403
        assert denied.body == {
            "error": {
                "code": 403,
                "message": "Resource not found. "
                "This may also be due to insufficient access rights.",
            }
        }
        assert (await api.post(api.p("/timeseries/list"), {})).status == 403
        inspect = await api.get("/api/v1/token/inspect")
        assert inspect.status == 200
        assert inspect.body["capabilities"][0]["assetsAcl"]["actions"] == ["READ"]
        # The default demo client does not exist when a clients file is given.
        answer = await api.http.post(
            running.url + "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "demo-client",
                "client_secret": "demo-secret",
            },
        )
        assert answer.code == 401
        await answer.content()
        # token/inspect needs projectsAcl:LIST and groupsAcl:LIST, as in CDF.
        await api.login("nobody", "x")
        assert (await api.get("/api/v1/token/inspect")).status == 403
    finally:
        await api.close()
        await stop_emulator(running)


@pytest_twisted.ensureDeferred
async def test_data_set_scoped_write(tmp_path: Path) -> None:
    clients = tmp_path / "clients.json"
    scoped = {"datasetScope": {"ids": []}}
    clients.write_text(
        json.dumps(
            [
                {"clientId": "admin", "clientSecret": "a", "project": "demo"},
                {
                    "clientId": "scoped",
                    "clientSecret": "s",
                    "project": "demo",
                    "capabilities": [
                        {"assetsAcl": {"actions": ["READ", "WRITE"], "scope": scoped}},
                        {"timeSeriesAcl": {"actions": ["READ", "WRITE"], "scope": scoped}},
                    ],
                },
            ]
        )
    )
    running = await start_emulator(tmp_path / "data", clients_file=clients)
    admin, user = Api(running.url), Api(running.url)
    try:
        await admin.login("admin", "a")
        made = await admin.post(admin.p("/datasets"), {"items": [{"name": "in"}, {"name": "out"}]})
        inside, outside = (d["id"] for d in made.body["items"])
        clients.write_text(clients.read_text().replace('"ids": []', f'"ids": [{inside}]'))
        await stop_emulator(running)
        running = await start_emulator(tmp_path / "data", clients_file=clients)
        user.url = running.url
        await user.login("scoped", "s")
        ok = await user.post(user.p("/assets"), {"items": [{"name": "a", "dataSetId": inside}]})
        assert ok.status == 201
        for item in ({"name": "b", "dataSetId": outside}, {"name": "c"}):
            denied = await user.post(user.p("/assets"), {"items": [item]})
            assert denied.status == 403
        ts = await user.post(
            user.p("/timeseries"), {"items": [{"externalId": "t", "dataSetId": inside}]}
        )
        assert ts.status == 201
        moved = await user.post(
            user.p("/timeseries/update"),
            {"items": [{"externalId": "t", "update": {"dataSetId": {"set": outside}}}]},
        )
        assert moved.status == 403
    finally:
        await admin.close()
        await user.close()
        await stop_emulator(running)


@pytest_twisted.ensureDeferred
async def test_gzip_request_bodies(api: Api) -> None:
    answer = await api.post(api.p("/assets"), {"items": [{"name": "zipped"}]}, gzip_body=True)
    assert answer.status == 201
    assert answer.body["items"][0]["name"] == "zipped"


@pytest_twisted.ensureDeferred
async def test_unknown_path_and_method(api: Api) -> None:
    assert (await api.get(api.p("/nothing-here"), check=False)).status == 404
    answer = await api.call("DELETE", api.p("/assets"), check=False)
    assert answer.status == 405
    assert answer.body["error"]["code"] == 405
