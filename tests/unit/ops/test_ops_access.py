"""Who sees what in /status: the admin token, CDF tokens (by project, usersScope and own
identity), refused tokens; the cached token inspection shared with the credentials API."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from pggw.cdf.errors import CdfConnectionError, CdfError
from pggw.credentials import api
from pggw.credentials.api import ApiError, TokenInspector
from pggw.credentials.identities import Capabilities
from pggw.credentials.users import UserState, UserStore
from pggw.ops import access, cli
from pggw.ops.access import Access, StatusAuthorizer, load_admin_token

ADMIN = "pggw-admin-0123456789abcdef0123456789abcdef"


def caps(subject: str, project: str, *grants: dict[str, Any]) -> Capabilities:
    return Capabilities({"subject": subject, "projects": [{"projectUrlName": project}],
                         "capabilities": [{**g, "projectScope": {"projects": [project]}}
                                          for g in grants]})


def gateway_read(scope: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"postgresGatewayAcl": {"actions": ["READ"], "scope": scope or {"all": {}}}}


class Request:
    def __init__(self, authorization: str | None = None) -> None:
        self.authorization = authorization

    def getHeader(self, name: bytes) -> bytes | None:  # noqa: N802
        assert name == b"authorization"
        return self.authorization.encode() if self.authorization is not None else None


class Inspector:
    def __init__(self, answers: dict[str, Capabilities | ApiError]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def inspect(self, token: str) -> Capabilities:
        self.asked.append(token)
        answer = self.answers[token]
        if isinstance(answer, ApiError):
            raise answer
        return answer


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    users = UserStore(tmp_path)
    users.add("alice", scram="x")  # local: the daemon's identity
    for name, project, subject in (("pggw_a1", "plant", "writer-a"),
                                   ("pggw_a2", "plant", "writer-a"),
                                   ("pggw_b1", "plant", "writer-b"),
                                   ("pggw_o1", "other", "writer-a")):
        users.add(name, scram="x", kind="cdf", project=project, identity=b"sealed")
        users.put_state(UserState(name, capabilities=json.dumps(
            caps(subject, project).body)))
    return users


def authorizer(store: UserStore, inspector: Inspector) -> StatusAuthorizer:
    return StatusAuthorizer(SimpleNamespace(users=store), lambda: ADMIN, inspector)


@pytest_twisted.ensureDeferred
async def test_no_token_admin_token_and_refusals(store: UserStore) -> None:
    insp = Inspector({"expired": ApiError(401, "Unauthorized: CDF does not accept the token"),
                      "cdf-down": ApiError(503, "CDF is unreachable; try again later"),
                      "no-inspect": ApiError(403, "needs projectsAcl")})
    auth = authorizer(store, insp)
    a = await auth(Request())
    assert a.viewer == "anonymous" and not a.detail and a.refused is None
    a = await auth(Request(f"Bearer {ADMIN}"))
    assert a.viewer == "admin" and a.users is None and a.detail
    a = await auth(Request("Basic dXNlcjpwdw=="))
    assert a.refused is not None and a.refused[0] == 401
    a = await auth(Request("Bearer pggw-admin-guessed"))
    assert a.refused == (401, "Unauthorized: not this gateway's admin token")
    a = await auth(Request("Bearer expired"))
    assert a.refused == (401, "Unauthorized: CDF does not accept the token")
    a = await auth(Request("Bearer cdf-down"))
    assert a.refused is None and not a.detail and "CDF is unreachable" in (a.note or "")
    a = await auth(Request("Bearer no-inspect"))
    assert a.refused is None and not a.detail and "projectsAcl:LIST" in (a.note or "")
    assert insp.asked == ["expired", "cdf-down", "no-inspect"]  # never an admin-like token


@pytest_twisted.ensureDeferred
async def test_cdf_tokens_see_their_identity_and_project(store: UserStore) -> None:
    insp = Inspector({
        "a": caps("writer-a", "plant"),                     # own identity only
        "reader": caps("someone", "plant", gateway_read()),  # every user of plant
        "scoped": caps("someone", "plant",
                       gateway_read({"usersScope": {"usernames": ["pggw_b1"]}})),
        "foreign": caps("daemon", "demo", gateway_read()),  # another project
    })
    auth = authorizer(store, insp)
    a = await auth(Request("Bearer a"))
    assert a.viewer == "cdf" and a.users == {"pggw_a1", "pggw_a2"}  # not pggw_o1: other project
    assert a.to_json() == {"viewer": "cdf", "subject": "writer-a", "projects": ["plant"]}
    assert (await auth(Request("Bearer reader"))).users == {"pggw_a1", "pggw_a2", "pggw_b1"}
    assert (await auth(Request("Bearer scoped"))).users == {"pggw_b1"}
    f = await auth(Request("Bearer foreign"))
    assert f.users == frozenset() and not f.detail and "projects: demo" in (f.note or "")


def test_admin_token_from_env_else_generated_file(tmp_path: Path) -> None:
    assert load_admin_token(tmp_path, {"PGGW_ADMIN_TOKEN": "from-the-env-0123456789"}) == (
        "from-the-env-0123456789")
    assert not (tmp_path / "admin.token").exists()
    token = load_admin_token(tmp_path, {})
    assert token.startswith(access.ADMIN_TOKEN_PREFIX) and len(token) > 40
    assert oct(os.stat(tmp_path / "admin.token").st_mode & 0o777) == "0o600"
    assert load_admin_token(tmp_path, {}) == token == cli.read_admin_token(tmp_path)


class _Treq:
    pass


@pytest_twisted.ensureDeferred
async def test_token_inspector_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    failures: dict[str, Exception] = {"bad": CdfError.from_body(401, {}, path="/token/inspect"),
                                      "down": CdfConnectionError("GET /token/inspect", None)}

    async def fake_inspect(treq: Any, base_url: str, token: str,
                           timeout: float = 30.0) -> Capabilities:
        calls.append(token)
        if token in failures:
            raise failures[token]
        return caps("s", "plant")

    monkeypatch.setattr(api, "inspect_token", fake_inspect)
    clock = Clock()
    gw = SimpleNamespace(reactor=clock, cdf=SimpleNamespace(base_url="http://cdf"),
                         identities=SimpleNamespace(treq=_Treq()))
    cached = TokenInspector(gw, ttl=30)
    assert (await cached.inspect("good")).subject == "s"
    await cached.inspect("good")
    for _ in range(2):
        with pytest.raises(ApiError) as e:
            await cached.inspect("bad")
        assert e.value.code == 401
    for _ in range(2):
        with pytest.raises(ApiError) as e:
            await cached.inspect("down")
        assert e.value.code == 503
    assert calls == ["good", "bad", "down", "down"]  # a refusal is cached, an outage not
    clock.advance(31)
    await cached.inspect("good")
    assert calls[-1] == "good" and len(calls) == 5
    assert not any(isinstance(k, str) for k in cached._cache)  # hashes, not tokens
    uncached = TokenInspector(gw)  # the credentials API's: every call asks CDF
    await uncached.inspect("good")
    await uncached.inspect("good")
    assert len(calls) == 7
    gw.cdf = None
    with pytest.raises(ApiError) as e:
        await uncached.inspect("good")
    assert e.value.code == 503


def test_format_status_of_a_cdf_token_and_a_note() -> None:
    st: dict[str, Any] = {
        "version": "0.1.0", "replica": "r", "state": "running", "ready": True,
        "uptime_s": 5, "connections": 0,
        "wal": {"rows": 0, "records": 0, "bytes": 0, "oldest_pending_age_s": 0,
                "dead_letter_rows": 0},
        "uploads": {"rows_uploaded": 0, "rows_per_s": 0.0},
        "totals": {"users": 3, "users_with_backlog": 0, "paused": 0, "backing_off": 0},
        "users": [{"username": "pggw_a1", "backlog": {}, "backlog_rows": 0,
                   "oldest_pending_age_s": None, "state": "idle", "rejected": 0,
                   "last_error": None}],
        "access": Access("cdf", frozenset({"pggw_a1"}), "writer-a", ("plant",)).to_json(),
    }
    text = cli.format_status(st)
    assert "USERS your CDF token may see (1 of 3; projects: plant)" in text
    assert any(line.startswith("pggw_a1 ") for line in text.splitlines())
    del st["users"]
    st["access"] = {"viewer": "anonymous", "note": "totals only: could not check the token"}
    assert "totals only: could not check the token" in cli.format_status(st)
    st["access"] = {"viewer": "anonymous"}
    assert "--token with a CDF access token or the admin token" in cli.format_status(st)
