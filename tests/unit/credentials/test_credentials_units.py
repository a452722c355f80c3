"""Units of the credentials package: secrets, session tokens, capabilities and the identity
manager, login throttling, custom table definitions (StubTreq + Clock, no network)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.web.resource import Resource
from twisted.web.server import Request
from zope.interface.verify import verifyObject

from pggw.cdf import CdfError, ITokenProvider, StaticTokenProvider, TokenError
from pggw.cdf.sessions import (
    SessionBindRefused,
    SessionToken,
    SessionTokenProvider,
    bind_nonce,
)
from pggw.credentials.identities import (
    Capabilities,
    ClientCredentials,
    IdentityManager,
    ObservedTokens,
    SessionCredentials,
    check_token_url,
    open_credentials,
    seal_credentials,
)
from pggw.credentials.ratelimit import LoginThrottle
from pggw.credentials.secrets import SecretBox, SecretKeyError, load_key
from pggw.credentials.tables import TableError, parse_create, table_of, view_columns
from pggw.credentials.users import StoredTable, UserState, UserStore
from pggw.tables.builtin import BUILTIN_TABLES
from pggw.tables.registry import builtin_registry
from pggw.upload.mapping import endpoint_for, map_record
from pggw.wire.errors import PgError

KEY = bytes(range(32))


class Queue(Resource):
    """Answers with queued (status, body) and records requests."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[int, Any]] = []
        self.requests: list[dict[str, Any]] = []

    def render(self, request: Request) -> bytes:
        raw = request.content.read() if request.content is not None else b""
        self.requests.append({"path": request.path.decode(), "body": json.loads(raw or b"null"),
                              "auth": request.getHeader("authorization")})
        status, body = self.answers.pop(0)
        request.setResponseCode(status)
        return json.dumps(body).encode()


def run(coro: Any, stub: StubTreq) -> Any:
    d = Deferred.fromCoroutine(coro) if not isinstance(coro, Deferred) else coro
    for _ in range(10):
        stub.flush()
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "did not finish"
    if hasattr(out[0], "raiseException"):
        out[0].raiseException()
    return out[0]


# -- secrets ----------------------------------------------------------------------------------


def test_secret_box_round_trip_and_binding() -> None:
    box = SecretBox(KEY)
    sealed = box.seal(b"top secret", b"identity:alice")
    assert b"top secret" not in sealed
    assert box.open(sealed, b"identity:alice") == b"top secret"
    with pytest.raises(SecretKeyError, match="belongs elsewhere"):
        box.open(sealed, b"identity:bob")
    with pytest.raises(SecretKeyError, match="another secret key"):
        SecretBox(bytes(32)).open(sealed, b"identity:alice")
    assert box.seal(b"x", b"a") != box.seal(b"x", b"a")  # fresh nonces


def test_load_key_generates_0600_and_reads_configured(tmp_path: Path) -> None:
    key = load_key(tmp_path, environ={})
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 32
    assert load_key(tmp_path, environ={}) == key
    assert load_key(tmp_path, environ={"PGGW_SECRET_KEY": KEY.hex()}) == KEY
    import base64

    assert load_key(tmp_path, environ={"PGGW_SECRET_KEY": base64.b64encode(KEY).decode()}) == KEY
    f = tmp_path / "k"
    f.write_bytes(KEY)
    assert load_key(tmp_path, f, environ={}) == KEY
    f.write_text(KEY.hex() + "\n")
    assert load_key(tmp_path, f, environ={}) == KEY
    with pytest.raises(SecretKeyError, match="32-byte"):
        load_key(tmp_path, environ={"PGGW_SECRET_KEY": "short"})
    with pytest.raises(SecretKeyError, match="cannot read"):
        load_key(tmp_path, tmp_path / "missing", environ={})


def test_credentials_sealed_per_user() -> None:
    box = SecretBox(KEY)
    cc = ClientCredentials("https://idp/token", "id", "s3cret", ("a", "b"))
    assert "s3cret" not in repr(cc)
    sealed = seal_credentials(box, "u1", cc)
    assert open_credentials(box, "u1", sealed) == cc
    with pytest.raises(SecretKeyError):
        open_credentials(box, "u2", sealed)
    sc = SessionCredentials(7, "key")
    assert open_credentials(box, "u1", seal_credentials(box, "u1", sc)) == sc


def test_token_url_rules() -> None:
    assert check_token_url("https://login.example.com/t") is None
    assert check_token_url("http://127.0.0.1:9/t") is None
    assert check_token_url("http://localhost/t") is None
    assert check_token_url("http://idp.example.com/t") is not None
    assert check_token_url("file:///etc/passwd") is not None


# -- sessions -----------------------------------------------------------------------------------


def test_bind_nonce_and_refusals() -> None:
    q = Queue()
    stub = StubTreq(q)
    q.answers.append((200, {"id": 5, "accessToken": "at", "expiresIn": 600,
                            "sessionKey": "sk"}))
    answer = run(bind_nonce(stub, "http://cdf", "my proj", "n1", bearer="caller"), stub)
    assert answer == SessionToken(5, "at", 600.0, None, "sk")
    assert q.requests[0]["path"] == "/api/v1/projects/my%20proj/sessions/token"
    assert q.requests[0]["body"] == {"nonce": "n1"} and q.requests[0]["auth"] == "Bearer caller"
    for status in (401, 403, 404):
        q.answers.append((status, {"error": {"code": status, "message": "internal only"}}))
        with pytest.raises(SessionBindRefused, match="internal only"):
            run(bind_nonce(stub, "http://cdf", "p", "n"), stub)
    q.answers.append((400, {"error": {"code": 400, "message": "Invalid nonce"}}))
    with pytest.raises(CdfError, match="Invalid nonce"):
        run(bind_nonce(stub, "http://cdf", "p", "n"), stub)
    q.answers.append((503, {"error": {"code": 503, "message": "busy"}}))
    with pytest.raises(TokenError) as e:
        run(bind_nonce(stub, "http://cdf", "p", "n"), stub)
    assert e.value.transient


def test_session_provider_refreshes_and_keeps_new_keys() -> None:
    q = Queue()
    stub = StubTreq(q)
    clock = Clock()
    keys: list[str] = []
    p = SessionTokenProvider("http://cdf", "p", 5, "k1", treq=stub, reactor=clock,
                             initial=SessionToken(5, "t1", 100, 70, "k1"), on_new_key=keys.append)
    verifyObject(ITokenProvider, p)
    assert run(p.token(), stub) == "t1"
    clock.advance(71)
    q.answers.append((200, {"id": 5, "accessToken": "t2", "expiresIn": 100, "sessionKey": "k2"}))
    assert run(p.token(), stub) == "t2"
    assert q.requests[-1]["body"] == {"sessionId": 5, "sessionKey": "k1"}
    assert keys == ["k2"]
    # refresh due (no mustRefreshIn: 30 s before expiry), CDF unreachable: the old token
    clock.advance(75)
    q.answers.append((503, {"error": {"code": 503, "message": "down"}}))
    assert run(p.token(), stub) == "t2"
    assert q.requests[-1]["body"]["sessionKey"] == "k2"
    # revoked
    p.invalidate()
    q.answers.append((401, {"error": {"code": 401, "message": "Session is REVOKED"}}))
    with pytest.raises(TokenError) as e:
        run(p.token(), stub)
    assert e.value.status == 401 and not e.value.transient


# -- capabilities and the identity manager --------------------------------------------------------


def caps(*entries: dict[str, Any], project: str = "plant") -> Capabilities:
    return Capabilities({"subject": "s", "projects": [{"projectUrlName": project}],
                         "capabilities": list(entries)})


def grant(acl: str, *actions: str, scope: Any = None, projects: Any = None) -> dict[str, Any]:
    return {acl: {"actions": list(actions), "scope": scope or {"all": {}}},
            "projectScope": {"projects": projects} if projects else {"allProjects": {}}}


def test_capabilities() -> None:
    c = caps(grant("assetsAcl", "READ", "WRITE"),
             grant("eventsAcl", "WRITE", scope={"datasetScope": {"ids": ["1", 2]}}),
             grant("timeSeriesAcl", "WRITE", projects=["other"]),
             grant("postgresGatewayAcl", "READ", scope={"usersScope": {"usernames": ["a"]}}))
    assert c.in_project("plant") and not c.in_project("demo")
    assert c.allows("assetsAcl", "WRITE", "plant")
    assert c.allows("ASSETSACL", "WRITE", "plant")
    assert not c.allows("timeSeriesAcl", "WRITE", "plant")
    assert c.data_sets("eventsAcl", "WRITE", "plant") == {1, 2}
    assert c.data_sets("assetsAcl", "WRITE", "plant") is None
    assert c.users_allowed("READ", "plant") == {"a"}
    assert c.users_allowed("WRITE", "plant") == set()
    assert Capabilities.from_json(c.to_json()).allows("assetsAcl", "WRITE", "plant")  # type: ignore[union-attr]


def manager(tmp_path: Path, clock: Clock | None = None) -> tuple[IdentityManager, UserStore]:
    users = UserStore(tmp_path)
    box = SecretBox(KEY)
    users.add("cdfuser", scram="x", kind="cdf", project="plant",
              identity=seal_credentials(box, "cdfuser", SessionCredentials(3, "k")))
    users.add("local", scram="x")
    m = IdentityManager(users, lambda: box, clock or Clock(), lambda: "http://cdf",
                        treq=object(), recheck_interval=60)
    return m, users


def test_check_write_from_cached_capabilities(tmp_path: Path) -> None:
    m, users = manager(tmp_path)
    registry = builtin_registry()
    assets, events = registry["assets"], registry["events"]
    m.check_write("cdfuser", assets)  # nothing known yet: allowed
    m.record_created("cdfuser", 3, caps(grant("eventsAcl", "WRITE",
                                              scope={"datasetScope": {"ids": [9]}})))
    with pytest.raises(PgError) as e:
        m.check_write("cdfuser", assets)
    assert e.value.sqlstate == "42501" and "assetsAcl:WRITE" in (e.value.detail or "")
    m.check_write("cdfuser", events)
    assert m.write_data_sets("cdfuser", events) == {9}
    assert m.write_data_sets("cdfuser", assets) is None
    m.check_write("local", assets)  # the daemon's identity: not checked here
    # survives a restart (cached in users.sqlite3)
    m2 = IdentityManager(users, lambda: SecretBox(KEY), Clock(), lambda: None)
    with pytest.raises(PgError):
        m2.check_write("cdfuser", assets)


def test_revocation_only_on_positive_refusal(tmp_path: Path) -> None:
    m, users = manager(tmp_path)
    m.record_created("cdfuser", 3, None)
    m.login_check("cdfuser")

    class Failing:
        def __init__(self, status: int | None) -> None:
            self.status = status

        async def token(self) -> str:
            raise TokenError("no", self.status)

        def invalidate(self) -> None:
            pass

    stub = StubTreq(Resource())
    for status in (None, 500, 503):
        with pytest.raises(TokenError):
            run(ObservedTokens(Failing(status), "cdfuser", m).token(), stub)
        m.login_check("cdfuser")
    with pytest.raises(TokenError):
        run(ObservedTokens(Failing(401), "cdfuser", m).token(), stub)
    with pytest.raises(PgError) as e:
        m.login_check("cdfuser")
    assert e.value.sqlstate == "28000" and e.value.severity == "FATAL"
    assert users.get_state("cdfuser").revoked  # type: ignore[union-attr]
    run(ObservedTokens(StaticTokenProvider("t"), "cdfuser", m).token(), stub)
    m.login_check("cdfuser")
    assert users.get_state("cdfuser").revoked is None  # type: ignore[union-attr]


def test_client_for_and_kinds(tmp_path: Path) -> None:
    m, users = manager(tmp_path)
    client = m.client_for("cdfuser")
    assert client is not None and client.project == "plant"
    assert client.tokens.inner.session_id == 3  # type: ignore[attr-defined]
    assert m.client_for("cdfuser") is client
    assert m.kind("cdfuser") == "cdf" and m.kind("local") == "local" and m.kind("x") is None
    assert m.client_for("local") is None
    users.add("broken", scram="x", kind="cdf", project="p", identity=b"garbage")
    assert m.client_for("broken") is None


def test_login_triggers_background_recheck_when_old(tmp_path: Path) -> None:
    clock = Clock()
    m, _ = manager(tmp_path, clock)
    m.record_created("cdfuser", 3, None)
    calls: list[str] = []
    m.recheck = lambda u: calls.append(u)  # type: ignore[assignment,method-assign,return-value]
    m.login_check("cdfuser")
    assert calls == []
    clock.advance(61)
    m.login_check("cdfuser")
    assert calls == ["cdfuser"]


# -- login throttling -------------------------------------------------------------------------


def test_throttle_grows_per_address_and_user_without_user_lockout() -> None:
    clock = Clock()
    t = LoginThrottle(clock, free_failures=2, base_delay=1, user_max_delay=4, addr_max_delay=8,
                      addr_refuse_after=6, window=100)
    assert t.delay("1.1.1.1", "u") == 0
    for _ in range(2):
        t.failed("1.1.1.1", "u")
    assert t.delay("1.1.1.1", "u") == 1
    t.failed("1.1.1.1", "u")
    assert t.delay("1.1.1.1", "u") == 2
    assert t.delay("2.2.2.2", "u") == 2  # the user is slowed from everywhere ...
    assert t.delay("2.2.2.2", "v") == 0
    for _ in range(10):
        t.failed(f"10.0.0.{_}", "u")
    assert t.delay("3.3.3.3", "u") == 4  # ... up to a cap, never refused
    assert not t.refused("3.3.3.3")
    for _ in range(3):
        t.failed("1.1.1.1", "w")
    assert t.refused("1.1.1.1")  # an address is refused after many failures
    t.succeeded("1.1.1.1", "u")
    assert t.delay("4.4.4.4", "u") == 0 and t.refused("1.1.1.1")
    clock.advance(101)
    assert not t.refused("1.1.1.1")


# -- custom tables ------------------------------------------------------------------------------


BUILTIN = {t.name for t in BUILTIN_TABLES}


def test_parse_create_raw_and_view() -> None:
    stored, opts = parse_create({
        "type": "raw_rows", "tablename": "movies",
        "options": {"database": "d", "table": "t", "primaryKey": "title"},
        "columns": {"title": {"type": "TEXT"}, "year": {"type": "BIGINT"}}}, BUILTIN, 5)
    assert opts == {"database": "d", "table": "t", "primaryKey": "title"}
    t = table_of(StoredTable("u", stored.tablename, stored.type, stored.options,
                             stored.columns, 5))
    assert t.kind == "raw" and t.key == ("title",) and t.column("title").required  # type: ignore[union-attr]
    assert t.column("year").type.name == "int8"  # type: ignore[union-attr]
    for bad, status in (
        ({"type": "raw_rows", "tablename": "assets", "options": {"database": "d", "table": "t"},
          "columns": {"a": {"type": "TEXT"}}}, 400),
        ({"type": "raw_rows", "tablename": "x", "options": {"database": "d", "table": "t",
                                                            "primaryKey": "zz"},
          "columns": {"a": {"type": "TEXT"}}}, 400),
        ({"type": "raw_rows", "tablename": "x", "options": {"database": "d", "table": "t"},
          "columns": {"a": {"type": "INT"}}}, 422),
        ({"type": "raw_rows", "tablename": "x", "options": {"database": "d"},
          "columns": {"a": {"type": "TEXT"}}}, 422),
        ({"type": "view", "tablename": "x", "options": {"space": "s"}}, 422),
        ({"type": "nodes", "tablename": "x", "options": {}}, 422),
        ({"type": "raw_rows", "tablename": "x" * 61, "options": {}}, 422),
    ):
        with pytest.raises(TableError) as e:
            parse_create(bad, BUILTIN, 0)
        assert e.value.status == status, bad


def test_custom_tables_map_to_cdf_requests() -> None:
    raw, _ = parse_create({
        "type": "raw_rows", "tablename": "movies",
        "options": {"database": "films", "table": "movies", "primaryKey": "title"},
        "columns": {"title": {"type": "TEXT"}, "year": {"type": "BIGINT"}}}, BUILTIN, 0)
    t = table_of(StoredTable("u", "movies", "raw_rows", raw.options, raw.columns, 0))
    (item,) = map_record(t, "insert", {"title": ["Up"], "year": [2009]}, 1)
    assert item.body == {"key": "Up", "columns": {"year": 2009}}
    assert endpoint_for(t, "write").path(t, item.group) == "/raw/dbs/films/tables/movies/rows"

    view, _ = parse_create({"type": "view", "tablename": "pumps",
                            "options": {"space": "s", "externalId": "Pump", "version": "1"}},
                           BUILTIN, 0)
    columns = view_columns({"properties": {
        "flowRate": {"type": {"type": "float64"}}, "name": {"type": {"type": "text"},
                                                            "nullable": False},
        "parts": {"connectionType": "multiEdgeConnection"}}})
    v = table_of(StoredTable("u", "pumps", "view", view.options, columns, 0))
    assert [c.name for c in v.columns] == ["external_id", "space", "flow_rate", "name"]
    assert v.column("name").required and v.column("flow_rate").cdf == "flowRate"  # type: ignore[union-attr]
    (node,) = map_record(v, "insert", {"external_id": ["p1"], "flow_rate": [2.5],
                                       "name": ["P"]}, 1)
    assert node.body["sources"][0]["properties"] == {"flowRate": 2.5, "name": "P"}
    assert node.body["sources"][0]["source"] == {"type": "view", "space": "s",
                                                  "externalId": "Pump", "version": "1"}


def test_gateway_hooks(tmp_path: Path) -> None:
    from pggw.config import Config
    from pggw.gateway import Gateway

    gw = Gateway(Config(data_dir=tmp_path, pg_endpoint="tcp:6543:interface=10.0.0.5"),
                 reactor=Clock())
    assert gw.public_host() == "10.0.0.5:6543"
    assert stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode) == 0o600
    gw.users.add("loc", scram="x")
    box = gw.secret_box()
    gw.users.add("cu", scram="x", kind="cdf", project="plant",
                 identity=seal_credentials(box, "cu", SessionCredentials(1, "k")))
    assert gw.client_for("loc") is gw.cdf and gw.client_for("nobody") is None
    assert gw.client_for("cu") is None  # CDF's address not known yet
    gw.identities.record_created("cu", 1, caps(grant("rawAcl", "WRITE")))
    with pytest.raises(PgError) as e:
        gw.check_write("cu", "assets")
    assert e.value.sqlstate == "42501"
    gw.check_write("cu", "raw_rows")
    gw.check_write("cu", "no_such_table")  # the engine reports 42P01 itself
    stored, _ = parse_create({"type": "raw_rows", "tablename": "mine",
                              "options": {"database": "d", "table": "t"},
                              "columns": {"a": {"type": "TEXT"}}}, BUILTIN, 0)
    gw.users.add_tables("cu", [StoredTable("cu", "mine", stored.type, stored.options,
                                           stored.columns, 0)])
    assert gw.tables_for("cu") == []  # cached until the API says it changed
    gw.custom_tables_changed("cu")
    assert [t.name for t in gw.tables_for("cu")] == ["mine"]
    assert gw.table_for("cu", "mine").kind == "raw" and gw.table_for("loc", "mine") is None
    gw.check_write("cu", "mine")
    assert gw.users.get_state("cu") == UserState(
        "cu", 1, gw.users.get_state("cu").capabilities,  # type: ignore[union-attr]
        gw.users.get_state("cu").checked_ms)  # type: ignore[union-attr]


def test_custom_tables_through_the_write_planner() -> None:
    """The engine's planner and coercion accept custom tables once they are in the registry
    (``registry.with_tables(gateway.tables_for(user))``), and the uploader maps the rows."""
    from pggw.sql.write import InsertPlan, plan_for
    from pggw.tables.coerce import check_required, coerce_columns

    raw, _ = parse_create({
        "type": "raw_rows", "tablename": "movies",
        "options": {"database": "films", "table": "movies", "primaryKey": "title"},
        "columns": {"title": {"type": "TEXT"}, "year": {"type": "BIGINT"},
                    "tags": {"type": "TEXT[]"}, "extra": {"type": "JSON"},
                    "seen": {"type": "TIMESTAMPTZ"}}}, BUILTIN, 0)
    view, _ = parse_create({"type": "view", "tablename": "pumps",
                            "options": {"space": "s", "externalId": "Pump"}}, BUILTIN, 0)
    columns = view_columns({"properties": {"flowRate": {"type": {"type": "float64"}},
                                           "tags": {"type": {"type": "text", "list": True}}}})
    registry = builtin_registry().with_tables([
        table_of(StoredTable("u", "movies", "raw_rows", raw.options, raw.columns, 0)),
        table_of(StoredTable("u", "pumps", "view", view.options, columns, 0))])
    plan = plan_for("INSERT INTO movies (title, year, tags, extra, seen) VALUES "
                    "('Up', 2009, '{a,b}', '{\"k\": 1}', '2024-01-01T00:00:00Z')", registry)
    assert isinstance(plan, InsertPlan)
    check_required(plan.table, plan.columns)
    srcs, oids = plan.sources()
    rows, _ = coerce_columns(plan.table, plan.columns, plan.bind([]), source=srcs, oids=oids)
    (item,) = map_record(plan.table, plan.op.value, rows, 1)
    assert item.body == {"key": "Up", "columns": {
        "year": 2009, "tags": ["a", "b"], "extra": {"k": 1}, "seen": 1_704_067_200_000}}
    plan = plan_for("INSERT INTO pumps (external_id, flow_rate, tags) VALUES ('p1', 2.5, "
                    "ARRAY['x'])", registry)
    assert isinstance(plan, InsertPlan)
    srcs, oids = plan.sources()
    rows, _ = coerce_columns(plan.table, plan.columns, plan.bind([]), source=srcs, oids=oids)
    (node,) = map_record(plan.table, plan.op.value, rows, 1)
    assert node.body["space"] == "s"
    assert node.body["sources"][0]["properties"] == {"flowRate": 2.5, "tags": ["x"]}
    with pytest.raises(PgError) as e:
        check_required(plan_for("INSERT INTO movies (year) VALUES (1)", registry).table,
                       ("year",))
    assert e.value.sqlstate == "23502"
