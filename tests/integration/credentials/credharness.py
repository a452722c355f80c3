"""Helpers for the credentials API tests: an emulator child process with several identities
(in two projects), a gateway daemon pointed at it, and an HTTP client that validates the
gateway's ``/postgresgateway`` exchanges against the CDF OpenAPI spec."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.conftest import Daemon, start_daemon

REPO = Path(__file__).resolve().parents[3]
SPEC_PATH = Path(
    os.environ.get("PGGW_CDF_SPEC", REPO.parent / "shared" / "cdf-openapi" / "cog-api.json")
)
SPEC_HOST = "https://api.cognitedata.com"

ALL = {"scope": {"all": {}}}


def cap(acl: str, *actions: str) -> dict[str, Any]:
    return {acl: {"actions": list(actions), **ALL}}


BASICS = [cap("projectsAcl", "LIST", "READ"), cap("groupsAcl", "LIST", "READ"),
          cap("sessionsAcl", "LIST", "CREATE", "DELETE")]
WRITE_ALL = [cap(a, "READ", "WRITE") for a in (
    "assetsAcl", "eventsAcl", "timeSeriesAcl", "sequencesAcl", "filesAcl", "labelsAcl",
    "relationshipsAcl", "datasetsAcl", "extractionPipelinesAcl", "extractionRunsAcl",
    "dataModelsAcl", "dataModelInstancesAcl")] + [cap("rawAcl", "READ", "WRITE", "LIST")]
GATEWAY_ADMIN = [cap("postgresGatewayAcl", "READ", "WRITE")]

CLIENTS = [
    # the daemon's own identity (project demo)
    {"clientId": "daemon", "clientSecret": "daemon-secret", "project": "demo",
     "capabilities": BASICS + WRITE_ALL + GATEWAY_ADMIN},
    # an administrator of project plant: creates gateway users there
    {"clientId": "plant-admin", "clientSecret": "plant-admin-secret", "project": "plant",
     "capabilities": BASICS + WRITE_ALL + GATEWAY_ADMIN},
    # an ingestion identity of project plant
    {"clientId": "plant-writer", "clientSecret": "plant-writer-secret", "project": "plant",
     "capabilities": BASICS + WRITE_ALL},
    # may write events but not assets
    {"clientId": "plant-noassets", "clientSecret": "plant-noassets-secret", "project": "plant",
     "capabilities": BASICS + [c for c in WRITE_ALL if "assetsAcl" not in c]
     + [cap("assetsAcl", "READ")]},
    # may read gateway users, not create them
    {"clientId": "plant-reader", "clientSecret": "plant-reader-secret", "project": "plant",
     "capabilities": BASICS + [cap("postgresGatewayAcl", "READ")]},
]


# -- the spec -----------------------------------------------------------------------------------

def _any_of(node: Any) -> Any:
    if isinstance(node, dict):
        out = {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
        if "mapping" not in out.get("discriminator", {"mapping": None}):
            del out["discriminator"]
        if isinstance(out.get("pattern"), str):
            out["pattern"] = out["pattern"].replace("\\\\x00", "\\x00")
        return out
    if isinstance(node, list):
        return [_any_of(v) for v in node]
    return node


#: Schemas whose ``additionalProperties: false`` sits beside ``allOf``/``oneOf`` (or is
#: referenced from such a composition): JSON Schema applies it only to the schema's own
#: ``properties``, so as written they reject every table definition. Validated without it.
_CLOSED_COMPOSITIONS = ("CreateTable", "CreateRawTable", "CreateFdmTable", "CreateTable_")


def load_spec() -> dict[str, Any]:
    """The spec with ``oneOf`` validated as ``anyOf`` (as tests/integration/emulator does)
    and the composed table schemas opened (see ``_CLOSED_COMPOSITIONS``)."""
    raw: dict[str, Any] = _any_of(json.loads(SPEC_PATH.read_text()))
    for name in _CLOSED_COMPOSITIONS:
        raw["components"]["schemas"][name].pop("additionalProperties", None)
    return raw


_SPEC: Any = None


def spec() -> Any:
    global _SPEC
    if _SPEC is None:
        from openapi_core import Config, OpenAPI

        if not SPEC_PATH.exists():
            pytest.skip(f"OpenAPI spec not found at {SPEC_PATH}")
        _SPEC = OpenAPI.from_dict(load_spec(), config=Config(spec_validator_cls=None))
    return _SPEC


def validate(method: str, path: str, query: dict[str, Any] | None, body: bytes | None,
             status: int, response: bytes, *, request_in_spec: bool = True) -> None:
    """Validate one exchange of the gateway's 2.0 API against the spec (the request unless
    it uses pggw's extension; the response for every status the operation declares)."""
    from openapi_core.templating.responses.exceptions import ResponseNotFound
    from openapi_core.testing import MockRequest, MockResponse

    request = MockRequest(SPEC_HOST, method.lower(), path,
                          args={k: str(v) for k, v in (query or {}).items()},
                          headers={"Authorization": "Bearer x"}, data=body,
                          content_type="application/json")
    if request_in_spec:
        spec().validate_request(request)
    with contextlib.suppress(ResponseNotFound):
        spec().validate_response(request, MockResponse(response, status_code=status))


# -- processes ----------------------------------------------------------------------------------

class Emulator:
    def __init__(self, data_dir: Path, clients: list[dict[str, Any]] = CLIENTS) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.clients_file = data_dir.parent / f"{data_dir.name}-clients.json"
        self.clients_file.write_text(json.dumps(clients))
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.port = 0

    def start(self, port: int = 0) -> str:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pggw.emulator", "--endpoint",
             f"tcp:{port or self.port}:interface=127.0.0.1", "--data-dir", str(self.data_dir),
             "--clients", str(self.clients_file)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                self.port = int(self.url.rsplit(":", 1)[1])
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

    # -- talking to it as an administrator would --------------------------------------------

    def token(self, client_id: str) -> str:
        secret = next(c["clientSecret"] for c in CLIENTS if c["clientId"] == client_id)
        r = requests.post(self.url + "/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": client_id,
            "client_secret": secret}, timeout=10)
        r.raise_for_status()
        return str(r.json()["access_token"])

    def call(self, method: str, path: str, token: str, body: Any = None,
             project: str = "plant") -> requests.Response:
        return requests.request(method, f"{self.url}/api/v1/projects/{project}{path}",
                                json=body, headers={"Authorization": f"Bearer {token}"},
                                timeout=10)

    def nonce(self, admin: str, client_id: str, project: str = "plant") -> tuple[int, str]:
        """Create a CLIENT_CREDENTIALS session for ``client_id`` (as ``admin``)."""
        secret = next(c["clientSecret"] for c in CLIENTS if c["clientId"] == client_id)
        r = self.call("POST", "/sessions", self.token(admin),
                      {"items": [{"clientId": client_id, "clientSecret": secret}]}, project)
        assert r.status_code == 200, r.text
        item = r.json()["items"][0]
        return int(item["id"]), str(item["nonce"])

    def faults(self, rules: list[dict[str, Any]] | None) -> None:
        if rules is None:
            requests.delete(self.url + "/_emulator/faults", timeout=10).raise_for_status()
        else:
            requests.post(self.url + "/_emulator/faults", json=rules,
                          timeout=10).raise_for_status()


def start_gateway(data_dir: Path, emu: Emulator, *extra: str,
                  env: dict[str, str] | None = None) -> Daemon:
    return start_daemon(
        data_dir, "--cdf-url", emu.url, "--cdf-project", "demo",
        "--cdf-token-url", emu.url + "/oauth2/token", "--cdf-client-id", "daemon",
        "--cdf-client-secret", "daemon-secret", *extra, env=env)


@dataclass
class Answer:
    status: int
    body: Any


class GatewayApi:
    """The gateway's HTTP API, every 2.0 exchange validated against the spec."""

    def __init__(self, daemon: Daemon) -> None:
        self.url = f"http://127.0.0.1:{daemon.http_port}"
        self.http = requests.Session()

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             query: dict[str, Any] | None = None, check: bool = True,
             request_in_spec: bool = True) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        r = self.http.request(method, self.url + path, data=data, headers=headers,
                              params=query, timeout=30)
        assert r.headers.get("content-type", "").startswith("application/json"), r.text
        if check and path.startswith("/api/"):
            validate(method, path, query, data, r.status_code, r.content,
                     request_in_spec=request_in_spec)
        return Answer(r.status_code, r.json())

    def gw(self, project: str, suffix: str = "") -> str:
        return f"/api/v1/projects/{project}/postgresgateway{suffix}"


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(interval)


def connect(daemon: Daemon, user: str, password: str) -> psycopg.Connection[Any]:
    return psycopg.connect(host="127.0.0.1", port=daemon.port, user=user, password=password,
                           dbname=user, autocommit=True, connect_timeout=10)


def asset_in_cdf(emu: Emulator, xid: str, project: str = "plant") -> dict[str, Any] | None:
    admin = "plant-admin" if project == "plant" else "daemon"
    r = emu.call("POST", "/assets/byids", emu.token(admin),
                 {"items": [{"externalId": xid}], "ignoreUnknownIds": True}, project)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    return items[0] if items else None


def insert_and_find(daemon: Daemon, emu: Emulator, user: str, password: str) -> str:
    xid = f"asset-{uuid.uuid4().hex[:8]}"
    with connect(daemon, user, password) as conn:
        cur = conn.execute("INSERT INTO assets (external_id, name) VALUES (%s, %s)",
                           (xid, "Pump"))
        assert cur.statusmessage == "INSERT 0 1"
    found = wait_for(lambda: asset_in_cdf(emu, xid), timeout=30)
    assert found["name"] == "Pump"
    assert asset_in_cdf(emu, xid, project="demo") is None  # not the daemon's project
    return xid


def create_cc(api: GatewayApi, emu: Emulator, client_id: str = "plant-writer") -> dict[str, Any]:
    secret = f"{client_id}-secret"
    a = api.call("POST", api.gw("plant"), {"items": [{"credentials": {"clientCredentials": {
        "tokenUrl": emu.url + "/oauth2/token", "clientId": client_id, "clientSecret": secret,
        "scopes": [emu.url + "/.default"]}}}]}, token=emu.token("plant-admin"),
        request_in_spec=False)
    assert a.status == 200, a.body
    return dict(a.body["items"][0])
