"""The HTTP endpoint: health and readiness now; management API, metrics and status later."""

from __future__ import annotations

import json
from typing import Any

from twisted.web import resource, server


class _Json(resource.Resource):
    isLeaf = True

    def __init__(self, body: Any, code: int = 200) -> None:
        super().__init__()
        self.body, self.code = body, code

    def render_GET(self, request: server.Request) -> bytes:  # noqa: N802
        request.setResponseCode(self.code)
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(self.body).encode()


def make_site(gateway: Any) -> server.Site:
    from pggw import __version__

    root = resource.Resource()
    root.putChild(b"healthz", _Json({"status": "ok", "version": __version__}))
    root.putChild(b"readyz", _Json({"status": "ready"}))
    site = server.Site(root)
    site.displayTracebacks = False
    return site
