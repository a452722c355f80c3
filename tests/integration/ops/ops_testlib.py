"""Helpers for the operations integration tests (imported by name)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Daemon

UNREACHABLE_CDF = (
    "--cdf-url", "http://127.0.0.1:9", "--cdf-project", "p",
    "--cdf-token-url", "http://127.0.0.1:9/token",
    "--cdf-client-id", "x", "--cdf-client-secret", "y",
)


def http(d: Daemon, path: str, method: str = "GET",
         token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(f"http://127.0.0.1:{d.http_port}{path}", method=method,
                                 data=b"" if method == "POST" else None)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def status(d: Daemon, query: str = "", token: str | None = None) -> dict[str, Any]:
    code, _, body = http(d, "/status" + query, token=token)
    assert code == 200, body
    result: dict[str, Any] = json.loads(body)
    return result


def admin_token(d: Daemon) -> str:
    """The token the daemon generated into its data dir (it shows every user in /status)."""
    path = d.data_dir / "admin.token"
    wait_for(path.exists, what="admin.token")
    return path.read_text().strip()


def metrics(d: Daemon) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    code, headers, body = http(d, "/metrics")
    assert code == 200
    assert headers["Content-Type"].startswith("text/plain")
    out = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def wait_for(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
