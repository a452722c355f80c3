"""The HTTP endpoint: operator endpoints (metrics, health, status, dashboard, drain) and,
mounted beside them, the credentials management API.

=====================  =====================================================================
``GET /``              dashboard: backlog and upload rate over the last hour
``GET /healthz``       the process is alive
``GET /readyz``        listeners up and WAL writable (503 while draining or stopping)
``GET /status``        JSON status; per-user detail when ``ops.authorize_status`` allows
``GET /status/history`` the dashboard's samples
``GET /metrics``       Prometheus text format (``pggw_*``)
``POST /admin/drain``  loopback only: stop accepting, let the WAL empty
=====================  =====================================================================
"""

from __future__ import annotations

from typing import Any

from twisted.web import resource, server


class _Site(server.Site):
    """Access log for what matters only: probes, scrapes and the dashboard (successful
    GETs) would drown everything else."""

    def log(self, request: Any) -> None:
        if request.method in (b"GET", b"HEAD") and request.code < 400:
            return
        super().log(request)


def make_site(gateway: Any) -> server.Site:
    from pggw.ops.web import mount

    root = resource.Resource()  # type: ignore[no-untyped-call]
    mount(root, gateway, gateway.ops)

    # -- the credentials management API ---------------------------------------------------
    # (Who sees per-user detail in /status is pggw.ops.access: the admin token, or a CDF
    # token for the gateway users bound to its identity and projects.)
    from pggw.credentials.api import mount as mount_credentials

    mount_credentials(root, gateway)  # /create, /api/v1/projects/{p}/postgresgateway...

    site = _Site(root)  # type: ignore[no-untyped-call]
    site.displayTracebacks = False
    site.noisy = False
    return site
