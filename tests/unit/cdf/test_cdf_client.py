"""The CDF client, token providers and error classification (StubTreq + Clock)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from treq.testing import StubTreq
from twisted.internet import error as ierror
from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.internet.task import Clock
from twisted.web import _newclient
from twisted.web.resource import Resource
from twisted.web.server import Request
from zope.interface.verify import verifyObject

from pggw.cdf import (
    TRANSIENT_STATUSES,
    CdfClient,
    CdfConnectionError,
    CdfError,
    ClientCredentialsProvider,
    ITokenProvider,
    StaticTokenProvider,
    TokenError,
    is_transient,
    parse_retry_after,
)


class Echo(Resource):
    """Answers with queued (status, body, headers) and records requests."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[int, Any, dict[str, str]]] = []
        self.requests: list[dict[str, Any]] = []

    def render(self, request: Request) -> bytes:
        raw = request.content.read() if request.content is not None else b""
        if request.getHeader("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        self.requests.append({
            "path": request.path.decode(),
            "args": {k.decode(): [x.decode() for x in v] for k, v in request.args.items()},
            "auth": request.getHeader("authorization"),
            "encoding": request.getHeader("content-encoding"),
            "body": raw,
        })
        status, body, headers = self.answers.pop(0) if self.answers else (200, {}, {})
        request.setResponseCode(status)
        for k, v in headers.items():
            request.setHeader(k, v)
        return body if isinstance(body, bytes) else json.dumps(body).encode()


def run(d: Any, stub: StubTreq, clock: Clock | None = None) -> Any:
    d = Deferred.fromCoroutine(d) if not isinstance(d, Deferred) else d
    for _ in range(10):
        stub.flush()
        if clock is not None:
            clock.advance(0)
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "did not finish"
    if hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


def make(**kw: Any) -> tuple[CdfClient, Echo, StubTreq, StaticTokenProvider]:
    echo = Echo()
    stub = StubTreq(echo)
    tokens = StaticTokenProvider("tok")
    client = CdfClient("http://cdf.test/", "my project", tokens, treq=stub, reactor=Clock(),
                       offload_weight=None, **kw)
    return client, echo, stub, tokens


def test_the_one_transient_list() -> None:
    assert frozenset({408, 425, 429, 500, 502, 503, 504}) == TRANSIENT_STATUSES
    for status in range(100, 600):
        assert is_transient(status) == (status in TRANSIENT_STATUSES)
    for exc in (ConnectionRefusedError(), TimeoutError(), CancelledError(),
                ierror.ConnectionLost(), ierror.DNSLookupError(),
                _newclient.ResponseNeverReceived([]), CdfConnectionError("x"),
                TokenError("down", None), CdfError(503, "x")):
        assert is_transient(exc), exc
    for exc in (ValueError(), CdfError(400, "x"), CdfError(401, "x"), TokenError("no", 401)):
        assert not is_transient(exc), exc


def test_retry_after_parsing() -> None:
    assert parse_retry_after("7", 0) == 7.0
    assert parse_retry_after(b" 1.5 ", 0) == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490.0) == 0.0
    assert parse_retry_after("soon", 0) is None
    assert parse_retry_after("-3", 0) is None
    assert parse_retry_after(None, 0) is None


def test_error_body_parsing() -> None:
    e = CdfError.from_body(409, {"error": {"code": 409, "message": "dup",
                                           "duplicated": [{"externalId": "a"}, "junk"]}})
    assert (e.status, e.message, e.duplicated, e.missing) == (409, "dup", [{"externalId": "a"}],
                                                              [])
    e = CdfError.from_body(400, {"code": 400, "message": "flat", "missingFields": ["x"]})
    assert e.message == "flat"
    e = CdfError.from_body(502, "<html>bad gateway</html>")
    assert e.transient and "bad gateway" in e.message
    assert CdfError(403, "no").auth


def test_post_sends_json_with_token_and_returns_items() -> None:
    client, echo, stub, _ = make()
    echo.answers.append((201, {"items": [{"id": 1}]}, {"x-request-id": "r1"}))
    response = run(client.post("/assets", {"items": [{"name": "a"}]}, {"q": "1"}), stub)
    assert response.status == 201 and response.items == [{"id": 1}]
    assert response.request_id == "r1"
    req = echo.requests[0]
    assert req["path"] == "/api/v1/projects/my%20project/assets"
    assert req["auth"] == "Bearer tok" and req["args"] == {"q": ["1"]}
    assert json.loads(req["body"]) == {"items": [{"name": "a"}]}
    assert client.requests[("POST", "/assets", "201")] == 1


def test_callable_and_gzip_bodies() -> None:
    client, echo, stub, _ = make(gzip=True, gzip_min_bytes=10)
    run(client.post("/timeseries/data", lambda: {"items": [{"externalId": "x" * 50}]}), stub)
    assert echo.requests[0]["encoding"] == "gzip"
    assert json.loads(echo.requests[0]["body"])["items"][0]["externalId"] == "x" * 50


def test_errors_are_parsed() -> None:
    client, echo, stub, _ = make()
    echo.answers.append((400, {"error": {"code": 400, "message": "gone",
                                         "missing": [{"id": 5}]}},
                         {"x-request-id": "r2", "retry-after": "3"}))
    with pytest.raises(CdfError) as info:
        run(client.post("/assets", {"items": []}), stub)
    e = info.value
    assert (e.status, e.missing, e.request_id, e.retry_after) == (400, [{"id": 5}], "r2", 3.0)
    assert e.as_dict()["requestId"] == "r2"


def test_401_invalidates_the_token_and_retries_once() -> None:
    client, echo, stub, tokens = make()
    echo.answers += [(401, {"error": {"code": 401, "message": "expired"}}, {}), (200, {}, {})]
    assert run(client.post("/x", {}), stub).status == 200
    assert tokens.invalidations == 1 and len(echo.requests) == 2
    echo.answers += [(401, {}, {}), (401, {}, {})]
    with pytest.raises(CdfError) as info:
        run(client.post("/x", {}), stub)
    assert info.value.status == 401


def test_connection_errors_become_cdf_connection_errors() -> None:
    class Broken:
        def request(self, *a: Any, **kw: Any) -> Deferred[Any]:
            return fail(ierror.ConnectionRefusedError())

    client = CdfClient("http://x", "p", StaticTokenProvider("t"), treq=Broken(),
                       reactor=Clock(), offload_weight=None)
    d = Deferred.fromCoroutine(client.post("/a", {}))
    failures: list[Any] = []
    d.addErrback(failures.append)
    assert failures and failures[0].check(CdfConnectionError)
    assert is_transient(failures[0].value)


def test_offload_is_used_for_heavy_bodies() -> None:
    echo = Echo()
    stub = StubTreq(echo)
    calls: list[int] = []

    def offload(fn: Any) -> Deferred[bytes]:
        calls.append(1)
        d: Deferred[bytes] = Deferred()
        d.callback(fn())
        return d

    client = CdfClient("http://x", "p", StaticTokenProvider("t"), treq=stub, reactor=Clock(),
                       offload_weight=100, offload=offload)
    run(client.post("/a", {"items": []}, weight=10), stub)
    run(client.post("/a", {"items": []}, weight=100), stub)
    assert calls == [1]


# -- token providers ---------------------------------------------------------------------


class TokenEndpoint(Resource):
    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.status = 200
        self.lifetime = 100

    def render(self, request: Request) -> bytes:
        self.forms.append({k.decode(): v[0].decode() for k, v in request.args.items()})
        request.setResponseCode(self.status)
        if self.status != 200:
            return json.dumps({"error": "invalid_client", "error_description": "nope"}).encode()
        n = len(self.forms)
        return json.dumps({"access_token": f"t{n}", "expires_in": self.lifetime}).encode()


def provider() -> tuple[ClientCredentialsProvider, TokenEndpoint, StubTreq, Clock]:
    endpoint = TokenEndpoint()
    stub = StubTreq(endpoint)
    clock = Clock()
    p = ClientCredentialsProvider("http://idp/token", "cid", "secret", ["s1", "s2"], stub,
                                  reactor=clock)
    return p, endpoint, stub, clock


def test_client_credentials_fetch_cache_and_refresh_before_expiry() -> None:
    p, endpoint, stub, clock = provider()
    verifyObject(ITokenProvider, p)
    verifyObject(ITokenProvider, StaticTokenProvider("x"))
    assert run(p.token(), stub) == "t1"
    assert endpoint.forms[0] == {"grant_type": "client_credentials", "client_id": "cid",
                                 "client_secret": "secret", "scope": "s1 s2"}
    clock.advance(39)
    assert run(p.token(), stub) == "t1"  # cached
    clock.advance(2)  # past refresh_at = min(80 % of 100 s, 100 - 60 s) = 40 s
    assert run(p.token(), stub) == "t2"
    p.invalidate()
    assert run(p.token(), stub) == "t3"


def test_concurrent_callers_share_one_fetch() -> None:
    p, endpoint, stub, _ = provider()
    d1 = Deferred.fromCoroutine(p.token())
    d2 = Deferred.fromCoroutine(p.token())
    assert run(d1, stub) == run(d2, stub) == "t1"
    assert len(endpoint.forms) == 1


def test_refused_credentials_raise_a_permanent_token_error() -> None:
    p, endpoint, stub, _ = provider()
    endpoint.status = 401
    with pytest.raises(TokenError) as info:
        run(p.token(), stub)
    assert info.value.status == 401 and not is_transient(info.value)
    assert "nope" in str(info.value)


def test_failed_refresh_keeps_a_still_valid_token() -> None:
    p, endpoint, stub, clock = provider()
    assert run(p.token(), stub) == "t1"
    clock.advance(50)
    endpoint.status = 503
    assert run(p.token(), stub) == "t1"
    clock.advance(60)  # expired now
    with pytest.raises(TokenError):
        run(p.token(), stub)
