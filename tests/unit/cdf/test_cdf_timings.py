"""Request latency timings of the CDF client (API calls, content uploads, token requests)
and the content upload itself (put_content), with StubTreq and a Clock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_cdf_client import Echo, TokenEndpoint, run
from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.web.server import Request

from pggw.cdf import (
    CdfClient,
    CdfConnectionError,
    CdfError,
    ClientCredentialsProvider,
    StaticTokenProvider,
)
from pggw.cdf.client import (
    LATENCY_BUCKETS,
    RequestTimings,
    TimedTreq,
    endpoint_label,
    outcome_of,
)
from pggw.cdf.sessions import SessionTokenProvider


class Storage(Echo):
    """An upload URL: records method, headers and body of each request."""

    def render(self, request: Request) -> bytes:
        self.requests.append({
            "method": request.method.decode(), "path": request.path.decode(),
            "auth": request.getHeader("authorization"),
            "type": request.getHeader("content-type"),
            "length": request.getHeader("content-length"),
            "body": request.content.read() if request.content is not None else b"",
        })
        status, body, headers = self.answers.pop(0) if self.answers else (200, b"", {})
        request.setResponseCode(status)
        for k, v in headers.items():
            request.setHeader(k, v)
        return body if isinstance(body, bytes) else json.dumps(body).encode()


def client(resource: Any, **kw: Any) -> tuple[CdfClient, StubTreq, RequestTimings]:
    stub = StubTreq(resource)
    timings = RequestTimings()
    tokens = kw.pop("tokens", None) or StaticTokenProvider("tok")
    c = CdfClient("http://cdf.test", "p", tokens, treq=stub, reactor=Clock(),
                  offload_weight=None, timings=timings, **kw)
    return c, stub, timings


def test_labels_and_outcomes() -> None:
    assert endpoint_label("POST", "/assets/byids") == ("assets", "POST /assets/byids")
    assert endpoint_label("POST", "/raw/dbs/my db/tables/t1/rows") == (
        "raw", "POST /raw/dbs/{db}/tables/{table}/rows")
    assert endpoint_label("GET", "/files/123") == ("files", "GET /files/{id}")
    assert endpoint_label("POST", "/timeseries/data?x=1") == ("timeseries",
                                                             "POST /timeseries/data")
    assert [outcome_of(s) for s in (200, 201, 400, 401, 403, 408, 409, 425, 429, 500, 503)] == [
        "success", "success", "client_error", "auth_error", "auth_error", "timeout",
        "client_error", "throttled", "throttled", "server_error", "server_error"]
    assert outcome_of(None, TimeoutError("x")) == "timeout"
    assert outcome_of(None, ConnectionRefusedError()) == "connection_error"


def test_histogram_buckets_and_snapshot() -> None:
    t = RequestTimings()
    for s in (0.001, 0.005, 0.3, 7.0, 5000.0):
        t.observe("assets", "POST /assets", "success", s)
    t.observe("assets", "POST /assets", "server_error", 0.02)
    snap = {k: (p, s, c) for k, p, s, c in t.snapshot()}
    pairs, total, n = snap[("assets", "POST /assets", "success")]
    assert n == 5 and total == pytest.approx(5007.306)
    cum = dict(pairs)
    assert cum[0.005] == 2 and cum[0.5] == 3 and cum[10.0] == 4 and cum[float("inf")] == 5
    assert [le for le, _ in pairs][:-1] == list(LATENCY_BUCKETS)
    assert t.count("assets") == 6 and t.count(outcome="server_error") == 1


def test_api_calls_are_timed_by_endpoint_and_outcome() -> None:
    echo = Echo()
    c, stub, t = client(echo)
    echo.answers = [(201, {"items": []}, {}), (409, {"error": {"code": 409, "message": "d"}},
                                               {}), (503, {}, {})]
    run(c.post("/assets", {"items": []}), stub)
    for _ in range(2):
        with pytest.raises(CdfError):
            run(c.post("/assets", {"items": []}), stub)
    assert t.count("assets", "POST /assets", "success") == 1
    assert t.count("assets", "POST /assets", "client_error") == 1
    assert t.count("assets", "POST /assets", "server_error") == 1


def test_connection_errors_are_timed_too() -> None:
    class Broken:
        def request(self, *a: Any, **kw: Any) -> Any:
            from twisted.internet.defer import fail
            from twisted.internet.error import ConnectionRefusedError as Refused

            return fail(Refused())

    t = RequestTimings()
    c = CdfClient("http://cdf.test", "p", StaticTokenProvider("x"), treq=Broken(),
                  reactor=Clock(), offload_weight=None, timings=t)
    with pytest.raises(CdfConnectionError):
        run(c.post("/events", {}), StubTreq(Echo()))
    assert t.count("events", "POST /events", "connection_error") == 1


def test_put_content_like_the_sdk() -> None:
    storage = Storage()
    c, stub, t = client(storage)
    run(c.put_content("https://storage.test/bucket/obj?sig=1", b"\x00\x01data",
                      "application/pdf"), stub)
    run(c.put_content("/api/v1/files/gcs_proxy/x", b"rel"), stub)
    first, second = storage.requests
    assert first["method"] == "PUT" and first["body"] == b"\x00\x01data"
    assert first["type"] == "application/pdf" and first["length"] == "6"
    assert first["auth"] is None and second["auth"] is None  # the URL authorizes the PUT
    assert second["type"] is None and second["path"] == "/api/v1/files/gcs_proxy/x"
    assert t.count("files", "PUT uploadUrl", "success") == 2
    assert c.bytes_sent == 9


def test_put_content_errors() -> None:
    storage = Storage()
    storage.answers = [(403, b"<Error><Message>Request has expired</Message></Error>", {}),
                       (503, b"", {"Retry-After": "3"})]
    c, stub, t = client(storage)
    with pytest.raises(CdfError) as e:
        run(c.put_content("http://s/u", b"x"), stub)
    assert e.value.status == 403 and "expired" in e.value.message and not e.value.transient
    assert e.value.path == "uploadUrl"
    with pytest.raises(CdfError) as e:
        run(c.put_content("http://s/u", b"x"), stub)
    assert e.value.transient and e.value.retry_after == 3
    assert t.count("files", "PUT uploadUrl", "auth_error") == 1
    assert t.count("files", "PUT uploadUrl", "server_error") == 1


def test_token_requests_of_the_provider_are_timed() -> None:
    idp = TokenEndpoint()
    idp_stub = StubTreq(idp)
    clock = Clock()
    provider = ClientCredentialsProvider("http://idp/oauth2/v2.0/token", "cid", "secret", (),
                                         idp_stub, reactor=clock)

    class Observed:  # like the identity manager's wrapper: the provider is .inner
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def token(self) -> str:
            return str(await self.inner.token())

        def invalidate(self) -> None:
            self.inner.invalidate()

    echo = Echo()
    c, stub, t = client(echo, tokens=Observed(provider))
    assert isinstance(provider._treq, TimedTreq)
    CdfClient("http://cdf.test", "p", provider, treq=stub, reactor=clock, timings=t)
    assert isinstance(provider._treq, TimedTreq) and not isinstance(
        provider._treq.inner, TimedTreq)  # wrapped once

    def both() -> None:
        idp_stub.flush()
        stub.flush()

    d2 = Deferred.fromCoroutine(c.post("/assets", {"items": []}))
    for _ in range(5):
        both()
    assert d2.called
    assert t.count("token", "POST token", "success") == 1
    assert t.count("assets", "POST /assets", "success") == 1
    idp.status = 401
    provider.invalidate()
    d3 = Deferred.fromCoroutine(c.post("/assets", {"items": []}))
    d3.addErrback(lambda f: None)
    for _ in range(5):
        both()
    assert t.count("token", "POST token", "auth_error") == 1


def test_session_token_refreshes_are_labelled_by_their_api_path() -> None:
    t = RequestTimings()
    timed = TimedTreq(object(), t)
    assert timed._labels("POST", "https://api.test/api/v1/projects/p/sessions/token") == (
        "sessions", "POST /sessions/token")
    assert timed._labels("POST", "https://login.test/tenant/oauth2/token") == (
        "token", "POST token")
    session = SessionTokenProvider("http://cdf.test", "p", 1, "key", treq=StubTreq(Echo()),
                                   reactor=Clock())
    CdfClient("http://cdf.test", "p", session, treq=StubTreq(Echo()), reactor=Clock(),
              timings=t)
    assert isinstance(session._treq, TimedTreq)
