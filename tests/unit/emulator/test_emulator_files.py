"""The emulator's file content endpoints, in memory (StubTreq): the upload URL from
POST /files, PUT to it, /files/uploadlink, /files/downloadlink, overwrite keeping the
content, and faults on upload URLs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from treq.testing import StubTreq
from twisted.internet.task import Clock

from pggw.emulator.app import Emulator, EmulatorResource
from pggw.emulator.auth import all_capabilities

API = "http://emulator/api/v1/projects/demo"


class Client:
    def __init__(self, app: Emulator) -> None:
        self.stub = StubTreq(EmulatorResource(app))
        token = app.issuer.issue("demo-client", "demo", all_capabilities())
        self.auth = {"authorization": [f"Bearer {token}"]}

    def call(self, method: str, url: str, body: Any = None, *, raw: bytes | None = None,
             headers: dict[str, list[str]] | None = None, auth: bool = True
             ) -> tuple[int, Any, dict[str, str]]:
        hdrs = {**(self.auth if auth else {}), **(headers or {})}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["content-type"] = ["application/json"]
        d = self.stub.request(method, url if url.startswith("http") else API + url,
                              data=data, headers=hdrs)
        out: list[Any] = []

        def got(r: Any) -> Any:
            return r.content().addCallback(lambda c: out.append((r.code, c, r.headers)))

        d.addCallback(got)
        self.stub.flush()
        (code, content, rh) = out[0]
        ctype = (rh.getRawHeaders("content-type") or [""])[0]
        value = json.loads(content) if ctype.startswith("application/json") and content else content
        return code, value, {"content-type": ctype}


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[tuple[Emulator, Client]]:
    app = Emulator(tmp_path, Clock())
    try:
        yield app, Client(app)
    finally:
        app.close()


def test_create_put_download_roundtrip(emu: tuple[Emulator, Client]) -> None:
    app, c = emu
    code, f, _ = c.call("POST", "/files", {"externalId": "x", "name": "x.pdf",
                                           "mimeType": "application/pdf"})
    assert code == 201 and f["uploaded"] is False and f["uploadUrl"].startswith("http://")
    code, _, _ = c.call("PUT", f["uploadUrl"], raw=b"%PDF\x00\xff",
                        headers={"content-type": ["application/pdf"]}, auth=False)
    assert code == 200
    code, got, _ = c.call("POST", "/files/byids", {"items": [{"externalId": "x"}]})
    assert got["items"][0]["uploaded"] is True and "uploadUrl" not in got["items"][0]
    code, links, _ = c.call("POST", "/files/downloadlink", {"items": [{"externalId": "x"}]})
    assert code == 200 and links["items"][0]["externalId"] == "x"
    code, data, headers = c.call("GET", links["items"][0]["downloadUrl"], auth=False)
    assert (code, data, headers["content-type"]) == (200, b"%PDF\x00\xff", "application/pdf")


def test_uploadlink_and_downloadlink_errors(emu: tuple[Emulator, Client]) -> None:
    _, c = emu
    code, f, _ = c.call("POST", "/files", {"externalId": "y", "name": "y"})
    code, body, _ = c.call("POST", "/files/downloadlink", {"items": [{"id": f["id"]}]})
    assert code == 400 and "not uploaded" in body["error"]["message"]
    code, body, _ = c.call("POST", "/files/uploadlink", {"items": [{"externalId": "nope"}]})
    assert code == 400 and body["error"]["missing"] == [{"externalId": "nope"}]
    code, body, _ = c.call("POST", "/files/uploadlink",
                           {"items": [{"id": f["id"]}, {"externalId": "y"}]})
    assert code == 400  # one file per request
    code, link, _ = c.call("POST", "/files/uploadlink", {"items": [{"id": f["id"]}]})
    assert code == 200 and link["items"][0]["id"] == f["id"]
    assert c.call("PUT", link["items"][0]["uploadUrl"], raw=b"1", auth=False)[0] == 200
    bad = f["uploadUrl"].rsplit("/", 1)[0] + "/not-the-key"
    assert c.call("PUT", bad, raw=b"1", auth=False)[0] == 404


def test_overwrite_keeps_the_content_until_a_new_upload(emu: tuple[Emulator, Client]) -> None:
    _, c = emu
    _, f, _ = c.call("POST", "/files", {"externalId": "o", "name": "v1"})
    c.call("PUT", f["uploadUrl"], raw=b"one", auth=False)
    code, g, _ = c.call("POST", "/files?overwrite=true", {"externalId": "o", "name": "v2"})
    assert code == 201 and g["id"] == f["id"] and g["name"] == "v2" and g["uploaded"] is True
    _, links, _ = c.call("POST", "/files/downloadlink", {"items": [{"id": f["id"]}]})
    assert c.call("GET", links["items"][0]["downloadUrl"], auth=False)[1] == b"one"
    c.call("PUT", g["uploadUrl"], raw=b"two", auth=False)
    _, links, _ = c.call("POST", "/files/downloadlink", {"items": [{"id": f["id"]}]})
    assert c.call("GET", links["items"][0]["downloadUrl"], auth=False)[1] == b"two"
    code, body, _ = c.call("POST", "/files", {"externalId": "o", "name": "v3"})
    assert code == 409 and body["error"]["duplicated"] == [{"externalId": "o"}]


def test_faults_apply_to_upload_urls(emu: tuple[Emulator, Client]) -> None:
    app, c = emu
    _, f, _ = c.call("POST", "/files", {"externalId": "z", "name": "z"})
    app.faults.set([{"path": "/_emulator/files/*", "method": "PUT", "status": 503,
                     "count": 1}])
    assert c.call("PUT", f["uploadUrl"], raw=b"z", auth=False)[0] == 503
    assert c.call("PUT", f["uploadUrl"], raw=b"z", auth=False)[0] == 200
    app.faults.set([{"path": "/_emulator/faults", "status": 500}])  # control paths exempt
    assert c.call("GET", "http://emulator/_emulator/faults")[0] == 200
