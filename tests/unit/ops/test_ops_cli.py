"""pggw-admin status/drain formatting and their HTTP conversation."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pggw.admin import main
from pggw.ops import cli

STATUS: dict[str, Any] = {
    "version": "0.1.0", "replica": "pggw-0", "state": "running", "ready": True,
    "uptime_s": 3725.0, "connections": 2,
    "wal": {"bytes": 2_500_000, "records": 12, "rows": 1234, "oldest_pending_age_s": 252.0,
            "staged_bytes": 0, "staged_records": 0, "used_bytes": 2_500_000,
            "max_bytes": 10**9, "file_bytes": 3_000_000, "dead_letters": 1,
            "dead_letter_rows": 3},
    "uploads": {"rows_uploaded": 12345, "rows_per_s": 321.0, "in_flight": 1,
                "records_done": 40},
    "detail": True,
    "totals": {"users": 2, "users_with_backlog": 1, "backlog_rows": 1234, "rejected_rows": 3,
               "paused": 1, "backing_off": 0},
    "users": [
        {"username": "alice", "backlog": {"assets": {"rows": 1000, "records": 10, "bytes": 1},
                                          "events": {"rows": 234, "records": 2, "bytes": 1}},
         "backlog_rows": 1234, "oldest_pending_age_s": 252.0, "state": "running",
         "backing_off_until": None, "paused_reason": None, "last_error": None, "rejected": 3},
        {"username": "bob", "backlog": {}, "backlog_rows": 0, "oldest_pending_age_s": None,
         "state": "paused", "backing_off_until": None,
         "paused_reason": "CDF 401 on /assets: unauthorized",
         "last_error": "CDF 401 on /assets: unauthorized", "rejected": 0},
    ],
}


def test_format_status_table() -> None:
    text = cli.format_status(STATUS)
    lines = text.splitlines()
    assert lines[0] == ("pggw 0.1.0 on replica pggw-0 · running · ready · up 1h02m · "
                        "2 connection(s)")
    assert "1,234 rows in 12 records (2.4 MiB) waiting for CDF · oldest 4m12s" in lines[1]
    assert "3 rows rejected" in lines[1]
    header = next(line for line in lines if line.startswith("USER"))
    assert header.split() == ["USER", "STATE", "WAITING", "OLDEST", "REJECTED", "TABLES"]
    alice = next(line for line in lines if line.startswith("alice "))
    assert "running" in alice and "1,234" in alice and "assets (1,000), events (234)" in alice
    bob = next(line for line in lines if line.startswith("bob "))
    assert "paused: CDF 401 on /assets: unauthorized" in bob


def test_format_status_totals_only() -> None:
    st = {**STATUS, "detail": False}
    del st["users"]
    text = cli.format_status(st)
    assert "USERS 1 with rows waiting · 1 paused" in text
    assert "alice" not in text


def test_progress_line() -> None:
    assert cli.progress_line(500, 1000, 100.0, width=10) == (
        "[#####-----]  50%  500 rows left  100 rows/s  ETA 5s")
    assert cli.progress_line(0, 0, None, width=4).startswith("[####] 100%  0 rows left")


def test_default_url() -> None:
    assert cli.default_http_url({}) == "http://127.0.0.1:8080"
    assert cli.default_http_url({"PGGW_HTTP_ENDPOINT": "tcp:9090:interface=0.0.0.0"}) == (
        "http://127.0.0.1:9090")
    assert cli.default_http_url({"PGGW_HTTP_URL": "http://h:1/"}) == "http://h:1"


class _Fake:
    """A /status that drains by 400 rows per poll, and /admin/drain."""

    def __init__(self) -> None:
        self.rows = 1200
        self.uploaded = 0
        self.drained = False


@pytest.fixture()
def fake() -> Iterator[tuple[str, _Fake]]:
    state = _Fake()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            st = json.loads(json.dumps(STATUS))
            st["wal"]["rows"] = state.rows
            st["wal"]["records"] = 1 if state.rows else 0
            st["uploads"]["rows_uploaded"] = state.uploaded
            st["connections"] = 0
            st["state"] = "draining" if state.drained else "running"
            if state.drained and state.rows:
                state.rows = max(0, state.rows - 400)
                state.uploaded += 400
            self._json(200, st)

        def do_POST(self) -> None:  # noqa: N802
            assert self.path == "/admin/drain"
            state.drained = True
            self._json(202, {"draining": True})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()


def test_status_command_prints_the_table(fake: tuple[str, _Fake],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = fake
    assert main(["status", "--http-url", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pggw 0.1.0 on replica pggw-0")
    assert "alice" in out


def test_status_json(fake: tuple[str, _Fake], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = fake
    assert main(["status", "--http-url", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["replica"] == "pggw-0"


def test_drain_waits_until_empty(fake: tuple[str, _Fake]) -> None:
    url, state = fake
    out = io.StringIO()
    assert cli.drain(url, interval=0.01, out=out) == 0
    text = out.getvalue()
    assert state.drained and state.rows == 0
    assert "rows left" in text and "ETA" in text
    assert "drained: the WAL of replica pggw-0 is empty" in text
    assert "3 rejected row(s) stay in this replica's dead letters" in text


def test_drain_timeout(fake: tuple[str, _Fake]) -> None:
    url, state = fake
    state.rows = 10**9
    out = io.StringIO()
    assert cli.drain(url, interval=0.01, timeout=0.05, out=out) == 2
    assert "timed out" in out.getvalue()


def test_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--http-url", "http://127.0.0.1:9"]) == 1
    assert "cannot reach the gateway" in capsys.readouterr().err
