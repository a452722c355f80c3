"""The emulator's HTTP front: routing, authentication, throttling, faults and statistics."""

from __future__ import annotations

import traceback
import uuid
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from twisted.internet.interfaces import IReactorTime, ITCPTransport
from twisted.logger import Logger
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from pggw.emulator import auth, routes, sessions
from pggw.emulator.errors import ApiError, too_many_requests, unauthorized
from pggw.emulator.faults import Decision, Faults, Stats
from pggw.emulator.http import Ctx, Reply, Route, decode_body
from pggw.emulator.store import Store

log = Logger()

PROJECT_PREFIX = "/api/v1/projects/"


class Emulator:
    """All state of one emulator: its store, identities, faults and counters."""

    def __init__(
        self,
        data_dir: Path,
        clock: IReactorTime,
        project: str = "demo",
        clients: list[auth.Client] | None = None,
        max_concurrent: int | None = None,
    ) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.clock = clock
        self.project = project
        self.store = Store(data_dir / "emulator.sqlite3")
        self.clients = {c.client_id: c for c in (clients or auth.default_clients(project))}
        self.issuer = auth.TokenIssuer(auth.load_or_create_key(data_dir), clock=clock.seconds)
        self.max_concurrent = max_concurrent
        self.faults = Faults()
        self.stats = Stats()
        self.in_flight: defaultdict[str, int] = defaultdict(int)
        self._routes: list[tuple[Route, Any]] = []
        self.add_routes(routes.all_routes())

    def add_routes(self, routes: Iterable[Route]) -> None:
        for route in routes:
            self._routes.append((route, route.compile()))

    def close(self) -> None:
        self.store.close()

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str], str]:
        """Find the route for a request; returns (route, path params, project)."""
        project = ""
        local = path
        scoped = path.startswith(PROJECT_PREFIX)
        if scoped:
            project, _, rest = path[len(PROJECT_PREFIX) :].partition("/")
            local = "/" + rest
        allowed: list[str] = []
        for route, regex in self._routes:
            if route.scope.startswith("project") != scoped:
                continue
            found = regex.match(local)
            if found is None:
                continue
            if route.method != method:
                allowed.append(route.method)
                continue
            return route, {k: unquote(v) for k, v in found.groupdict().items()}, project
        if allowed:
            raise ApiError(
                405, f"Method {method} not allowed; use {', '.join(sorted(set(allowed)))}"
            )
        raise ApiError(404, f"Not found: {path}")

    def authenticate(self, header: bytes | None, project: str, scope: str) -> auth.Identity | None:
        if scope in ("public", "project-public"):
            return None
        identity = self.issuer.verify(auth.bearer(header))
        session = identity.session_id
        if session is not None and not sessions.session_is_active(self, identity.project, session):
            raise unauthorized("Unauthorized: the session is no longer active")
        if scope == "project" and identity.project != project:
            raise unauthorized(f"Unauthorized: the token is not valid for project {project}")
        return identity


class EmulatorResource(Resource):
    """A leaf resource that serves the whole API."""

    isLeaf = True

    def __init__(self, app: Emulator) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.app = app

    def render(self, request: IRequest) -> bytes | int:
        assert isinstance(request, Request)
        app = self.app
        method = request.method.decode("ascii", "replace")
        path = request.path.decode("utf-8", "replace")
        # The emulator's own endpoints are exempt from faults, except the file upload URLs
        # (CDF's storage, which can fail or expire like any other request).
        internal = path.startswith("/_emulator") and not path.startswith("/_emulator/files/")
        request.setHeader(b"x-request-id", uuid.uuid4().hex[:16].encode())  # type: ignore[no-untyped-call]

        subject = None if internal else self._subject_of(request)
        limit = app.max_concurrent
        if subject is not None and limit is not None and app.in_flight[subject] >= limit:
            app.stats.throttled += 1
            reply = _error_reply(too_many_requests(limit))
            return self._finish(request, method, path, reply, deferred=False)
        decision = Decision() if internal else app.faults.decide(method, path)
        tracker = _InFlight(app, subject)

        if decision.latency_ms <= 0:
            return self._respond(request, method, path, decision, tracker, deferred=False)

        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))

        def later() -> None:
            if gone:
                tracker.done()
                app.stats.record(method, path, "aborted")
                return
            self._respond(request, method, path, decision, tracker, deferred=True)

        app.clock.callLater(decision.latency_ms / 1000.0, later)
        return NOT_DONE_YET

    def _subject_of(self, request: Request) -> str | None:
        header = request.getHeader(b"authorization")
        if not header:
            return None
        try:
            return self.app.issuer.verify(auth.bearer(header)).subject
        except ApiError:
            return None

    def _respond(
        self,
        request: Request,
        method: str,
        path: str,
        decision: Decision,
        tracker: _InFlight,
        deferred: bool,
    ) -> bytes | int:
        app = self.app
        rule = decision.rule
        try:
            if rule is not None and rule.mode == "drop":
                app.stats.dropped += 1
                app.stats.record(method, path, "dropped")
                transport = request.channel.transport if request.channel else None
                if ITCPTransport.providedBy(transport):
                    transport.abortConnection()
                elif transport is not None:
                    transport.loseConnection()
                return NOT_DONE_YET
            if rule is not None and rule.mode == "fail":
                app.stats.injected += 1
                reply = _fault_reply(rule.status or 500, rule.retry_after)
            else:
                reply = self._handle(request, method, path)
                if rule is not None and rule.mode == "apply-then-fail":
                    app.stats.injected += 1
                    reply = _fault_reply(rule.status or 500, rule.retry_after)
            return self._finish(request, method, path, reply, deferred)
        finally:
            tracker.done()

    def _handle(self, request: Request, method: str, path: str) -> Reply:
        app = self.app
        try:
            route, params, project = app.match(method, path)
            identity = app.authenticate(request.getHeader(b"authorization"), project, route.scope)
            if identity is not None:
                identity.require(*route.needs)
            assert request.content is not None
            request.content.seek(0)
            encoding = request.getHeader(b"content-encoding")
            raw = decode_body(request.content.read(), encoding.decode() if encoding else None)
            headers = {
                name.decode().lower(): values[-1].decode("latin-1")
                for name, values in request.requestHeaders.getAllRawHeaders()
            }
            query = {
                key.decode(): [v.decode() for v in values]
                for key, values in parse_qs(
                    request.uri.partition(b"?")[2], keep_blank_values=True
                ).items()
            }
            ctx = Ctx(app, method, path, params, query, headers, raw, project, identity)
            return route.handler(ctx)
        except ApiError as exc:
            return _error_reply(exc)
        except Exception:
            log.failure("Unhandled error in {method} {path}", method=method, path=path)
            return Reply(500, {"error": {"code": 500, "message": traceback.format_exc(limit=1)}})

    def _finish(
        self, request: Request, method: str, path: str, reply: Reply, deferred: bool
    ) -> bytes:
        self.app.stats.record(method, path, reply.status)
        request.setResponseCode(reply.status)
        request.setHeader(b"content-type", reply.content_type.encode())  # type: ignore[no-untyped-call]
        for name, value in reply.headers.items():
            request.setHeader(name.encode(), value.encode())  # type: ignore[no-untyped-call]
        data = reply.encode()
        if not deferred:
            return data
        request.write(data)  # type: ignore[no-untyped-call]
        request.finish()  # type: ignore[no-untyped-call]
        return b""


class _InFlight:
    def __init__(self, app: Emulator, subject: str | None) -> None:
        self.app = app
        self.subject = subject
        self.active = subject is not None
        if subject is not None:
            app.in_flight[subject] += 1
            total = sum(app.in_flight.values())
            app.stats.max_in_flight = max(app.stats.max_in_flight, total)

    def done(self) -> None:
        if self.active and self.subject is not None:
            self.active = False
            self.app.in_flight[self.subject] -= 1


def _error_reply(exc: ApiError) -> Reply:
    return Reply(exc.code, exc.body(), headers=dict(exc.headers))


def _fault_reply(status: int, retry_after: float | None) -> Reply:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = (
            str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
        )
    message = "Injected fault" if status != 429 else "Too many requests (injected fault)"
    return Reply(status, {"error": {"code": status, "message": message}}, headers=headers)
