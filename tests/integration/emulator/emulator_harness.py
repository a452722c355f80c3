"""Helpers and fixtures for the emulator's integration tests: a real listening emulator
(in-process on the test reactor, or as a child process), and a treq client that validates every
request and response against the official OpenAPI spec."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from openapi_core import Config, OpenAPI
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from twisted.internet import reactor
from twisted.web.client import Agent, HTTPConnectionPool

from pggw.emulator.service import EmulatorService

REPO = Path(__file__).resolve().parents[3]
SPEC_PATH = Path(
    os.environ.get("PGGW_CDF_SPEC", REPO.parent / "shared" / "cdf-openapi" / "cog-api.json")
)
SPEC_HOST = "https://api.cognitedata.com"


def _any_of(node: Any) -> Any:
    if isinstance(node, dict):
        out = {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
        if "mapping" not in out.get("discriminator", {"mapping": None}):
            # Without a mapping, OpenAPI wants the schema's name ("ViewReference") as the value.
            del out["discriminator"]
        if isinstance(out.get("pattern"), str):
            # DMS externalId patterns are escaped twice ("[^\\\\x00]" excludes "\\", "x" and "0").
            out["pattern"] = out["pattern"].replace("\\\\x00", "\\x00")
        return out
    if isinstance(node, list):
        return [_any_of(v) for v in node]
    return node


def load_spec() -> dict[str, Any]:
    """The spec, with every ``oneOf`` validated as ``anyOf``.

    The spec's ``oneOf`` branches overlap all over: a bad datapoint without a value matches both
    the numeric and the string branch, every capability matches every branch, an update patch
    ``{"set": ...}`` also matches the add/remove branch (which requires nothing), and
    ``{"externalId": "x"}`` matches both the by-id and by-externalId query. JSON Schema's
    ``oneOf`` rejects a value that matches two branches, so valid requests would fail.
    Also undoes a double escape in the data-modeling externalId patterns, and drops
    discriminators without a mapping (CDF sends ``"type": "view"``, not the schema's name).
    """
    spec: dict[str, Any] = _any_of(json.loads(SPEC_PATH.read_text()))
    return spec


_SPEC: OpenAPI | None = None


def spec_api() -> OpenAPI:
    global _SPEC
    if _SPEC is None:
        if not SPEC_PATH.exists():
            pytest.skip(f"OpenAPI spec not found at {SPEC_PATH}")
        _SPEC = OpenAPI.from_dict(load_spec(), config=Config(spec_validator_cls=None))
    return _SPEC


NOT_IN_SPEC = re.compile(r"^/(oauth2/|_emulator/)|/sessions/token$")


def validate(
    method: str,
    path: str,
    query: dict[str, Any] | None,
    body: bytes | None,
    status: int,
    response: bytes,
    content_type: str,
) -> None:
    """Check one exchange against the spec (only statuses the spec declares for the operation)."""
    if NOT_IN_SPEC.search(path):
        return
    request = MockRequest(
        SPEC_HOST,
        method.lower(),
        path,
        args={
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (query or {}).items()
        },
        headers={"Authorization": "Bearer x"},
        data=body,
        content_type="application/json",
    )
    spec_api().validate_request(request)
    if not content_type.startswith("application/json"):
        return
    with contextlib.suppress(ResponseNotFound):  # a status the spec does not declare
        spec_api().validate_response(request, MockResponse(response, status_code=status))


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any
    raw: bytes


class Api:
    """A treq client for one emulator; every exchange is validated against the spec."""

    def __init__(self, url: str, project: str = "demo") -> None:
        self.url = url
        self.project = project
        self.pool = HTTPConnectionPool(reactor, persistent=True)
        self.http = treq.client.HTTPClient(Agent(reactor, pool=self.pool))
        self.token: str | None = None

    async def login(self, client_id: str = "demo-client", secret: str = "demo-secret") -> str:
        response = await self.http.post(
            self.url + "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        body = json.loads(await response.content())
        assert response.code == 200, body
        self.token = body["access_token"]
        return self.token

    def p(self, path: str) -> str:
        """A project-scoped path."""
        return f"/api/v1/projects/{self.project}{path}"

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, Any] | None = None,
        token: str | None = "default",
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        check: bool = True,
        gzip_body: bool = False,
    ) -> Answer:
        all_headers = {"content-type": "application/json", **(headers or {})}
        token = self.token if token == "default" else token
        if token is not None:
            all_headers["authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        sent = data
        if gzip_body and data is not None:
            sent = gzip.compress(data)
            all_headers["content-encoding"] = "gzip"
        response = await self.http.request(
            method,
            self.url + path,
            data=sent,
            params={
                k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in (query or {}).items()
            },
            headers={k: [v] for k, v in all_headers.items()},
        )
        content = await response.content()
        content_type = (response.headers.getRawHeaders(b"content-type") or [b""])[0].decode()
        decoded = (
            json.loads(content) if content_type.startswith("application/json") and content else None
        )
        if check:
            validate(method, path, query, data, response.code, content, content_type)
        return Answer(response.code, decoded, response.headers, content)

    async def get(self, path: str, **kw: Any) -> Answer:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return await self.call("POST", path, body, **kw)

    async def close(self) -> None:
        await self.pool.closeCachedConnections()


@dataclass
class Running:
    service: EmulatorService
    url: str
    data_dir: Path

    @property
    def app(self) -> Any:
        return self.service.app


async def start_emulator(data_dir: Path, **kw: Any) -> Running:
    service = EmulatorService("tcp:0:interface=127.0.0.1", data_dir, **kw)
    service.startService()
    url = await service.when_listening()
    return Running(service, url, data_dir)


async def stop_emulator(running: Running) -> None:
    result = running.service.stopService()
    if result is not None:
        await result


@pytest_twisted.async_yield_fixture
async def emu(tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_emulator(tmp_path / "emulator")
    yield running
    await stop_emulator(running)


@pytest_twisted.async_yield_fixture
async def api(emu: Running) -> AsyncIterator[Api]:
    client = Api(emu.url)
    await client.login()
    yield client
    await client.close()


# -- the emulator as a child process (for the synchronous cognite-sdk) -------------------------


class ChildEmulator:
    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.extra = extra
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pggw.emulator",
                "--endpoint",
                "tcp:0:interface=127.0.0.1",
                "--data-dir",
                str(self.data_dir),
                *self.extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                return self.url
        self.stop()
        raise RuntimeError("the emulator did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


@pytest.fixture
def child_emulator(tmp_path: Path) -> Iterator[ChildEmulator]:
    child = ChildEmulator(tmp_path / "emulator")
    child.start()
    yield child
    child.stop()
