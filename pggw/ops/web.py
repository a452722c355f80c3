"""HTTP resources for operators: ``/metrics``, ``/healthz``, ``/readyz``, ``/status``,
``/status/history``, the dashboard at ``/`` and ``POST /admin/drain``.

``/status`` shows per-user detail to the callers ``await ops.authorize_status(request)``
allows (the admin token: everyone's; a CDF token: the users of its identity and project;
see :mod:`pggw.ops.access`); others get totals, and a refused token gets 401.
``/admin/*`` answers loopback clients only (``ops.authorize_admin``), whatever the HTTP
listener's interface.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from importlib import resources as pkg_resources
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.web import resource, server

from pggw.ops.metrics import CONTENT_TYPE
from pggw.ops.service import Operations

__all__ = ["mount"]

log = Logger(namespace="pggw.ops")

Handler = Callable[[server.Request], Awaitable[tuple[int, bytes, bytes]]]


def _json(code: int, body: Any) -> tuple[int, bytes, bytes]:
    return code, b"application/json", json.dumps(body, indent=None).encode()


class _Async(resource.Resource):
    """Runs ``handler(request)`` as a coroutine; one handler per HTTP method."""

    isLeaf = True

    def __init__(self, **handlers: Handler) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.handlers = handlers

    def render(self, request: server.Request) -> bytes | int:
        method = request.method.decode("ascii", "replace")
        handler = self.handlers.get(method) or (
            self.handlers.get("GET") if method == "HEAD" else None)
        if handler is None:
            request.setResponseCode(405)
            allow = ", ".join(self.handlers).encode()
            request.setHeader(b"allow", allow)  # type: ignore[no-untyped-call]
            return b""
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))

        def reply(result: tuple[int, bytes, bytes]) -> None:
            if gone:
                return
            code, ctype, body = result
            request.setResponseCode(code)
            request.setHeader(b"content-type", ctype)  # type: ignore[no-untyped-call]
            request.setHeader(b"cache-control", b"no-store")  # type: ignore[no-untyped-call]
            request.write(body)  # type: ignore[no-untyped-call]
            request.finish()  # type: ignore[no-untyped-call]

        def failed(failure: Any) -> None:
            log.failure("HTTP {method} {path} failed", failure, method=method,
                        path=request.path.decode(errors="replace"))
            if not gone:
                reply(_json(500, {"error": "internal error"}))

        d: Deferred[tuple[int, bytes, bytes]] = Deferred.fromCoroutine(
            _call(handler, request))
        d.addCallbacks(reply, failed)
        return server.NOT_DONE_YET


async def _call(handler: Handler, request: server.Request) -> tuple[int, bytes, bytes]:
    return await handler(request)


def _dashboard_html() -> bytes:
    return pkg_resources.files("pggw.ops").joinpath("dashboard.html").read_bytes()


class _Static(resource.Resource):
    isLeaf = True

    def __init__(self, body: bytes, ctype: bytes) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.body, self.ctype = body, ctype

    def render_GET(self, request: server.Request) -> bytes:  # noqa: N802
        if request.postpath not in ([], [b""]):
            request.setResponseCode(404)
            return b"not found\n"
        request.setHeader(b"content-type", self.ctype)  # type: ignore[no-untyped-call]
        request.setHeader(b"content-security-policy",  # type: ignore[no-untyped-call]
                          b"default-src 'none'; script-src 'unsafe-inline'; "
                          b"style-src 'unsafe-inline'; connect-src 'self'; img-src data:")
        request.setHeader(b"x-content-type-options", b"nosniff")  # type: ignore[no-untyped-call]
        return self.body


def mount(root: resource.Resource, gateway: Any, ops: Operations) -> None:
    """Put the operator endpoints on ``root``."""
    from pggw import __version__

    async def healthz(request: server.Request) -> tuple[int, bytes, bytes]:
        return _json(200, {"status": "ok", "version": __version__})

    async def readyz(request: server.Request) -> tuple[int, bytes, bytes]:
        ok, checks = await ops.ready()
        return _json(200 if ok else 503, {"status": "ready" if ok else "not ready", **checks})

    async def status(request: server.Request) -> tuple[int, bytes, bytes]:
        access = await ops.authorize_status(request)
        if access.refused is not None:
            code, message = access.refused
            request.setHeader(  # type: ignore[no-untyped-call]
                b"www-authenticate", b'Bearer error="invalid_token"')
            return _json(code, {"error": {"code": code, "message": message}})
        detail = access.detail and request.args.get(b"detail") not in ([b"0"], [b"false"])
        body = await ops.status(detail, access.users)
        body["access"] = access.to_json()
        return _json(200, body)

    async def history(request: server.Request) -> tuple[int, bytes, bytes]:
        return _json(200, ops.history())

    async def metrics(request: server.Request) -> tuple[int, bytes, bytes]:
        await ops.refresh()
        await ops.ready()
        return 200, CONTENT_TYPE.encode(), ops.metrics.exposition()

    async def drain(request: server.Request) -> tuple[int, bytes, bytes]:
        if not ops.authorize_admin(request):
            return _json(403, {"error": "POST /admin/drain is allowed from loopback only"})
        ops.drain()
        body = await ops.status(detail=False)
        return _json(202, {"draining": True, "wal": body["wal"],
                           "connections": body["connections"]})

    root.putChild(b"healthz", _Async(GET=healthz))
    root.putChild(b"readyz", _Async(GET=readyz))
    root.putChild(b"status", _StatusTree(_Async(GET=status), _Async(GET=history)))
    root.putChild(b"metrics", _Async(GET=metrics))
    admin = resource.Resource()  # type: ignore[no-untyped-call]
    admin.putChild(b"drain", _Async(POST=drain))
    root.putChild(b"admin", admin)
    root.putChild(b"", _Static(_dashboard_html(), b"text/html; charset=utf-8"))


class _StatusTree(resource.Resource):
    """``/status`` itself plus ``/status/history``."""

    def __init__(self, status: _Async, history: _Async) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.status = status
        self.putChild(b"history", history)

    def getChild(self, path: bytes, request: server.Request) -> resource.Resource:  # noqa: N802
        return self.status if path == b"" else resource.NoResource()

    def render(self, request: server.Request) -> bytes | int:
        return self.status.render(request)
