"""The HTTP operator endpoints of a real daemon (with the embedded emulator) after a known
workload: /metrics names and values, /healthz, /readyz, /status, the dashboard, and
`pggw-admin status`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from ops_testlib import http, metrics, status, wait_for

from tests.conftest import Daemon, add_user, start_daemon


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    data = tmp_path_factory.mktemp("opsgw")
    d = start_daemon(data)
    add_user(data, "bob", "bob-password")
    yield d
    d.stop()


@pytest.fixture(scope="module")
def workload(gw: Daemon) -> Daemon:
    """alice: 3 assets and 2 events in one transaction, then 10 assets by COPY."""
    with psycopg.connect(gw.dsn) as c:
        c.execute("INSERT INTO assets (external_id, name) VALUES "
                  "('ops-a1', 'A1'), ('ops-a2', 'A2'), ('ops-a3', 'A3')")
        c.execute("INSERT INTO events (external_id, type) VALUES ('ops-e1', 't'), "
                  "('ops-e2', 't')")
        c.commit()
        with c.cursor().copy("COPY assets (external_id, name) FROM STDIN") as cp:
            for i in range(10):
                cp.write_row((f"ops-c{i}", f"C{i}"))
        c.commit()
    wait_for(lambda: status(gw)["wal"]["rows"] == 0 and
             metrics(gw).get(("pggw_upload_rows_total", (("table", "assets"),))) == 13,
             what="the upload of the workload")
    return gw


def test_healthz_and_readyz(gw: Daemon) -> None:
    code, headers, body = http(gw, "/healthz")
    assert code == 200 and json.loads(body)["status"] == "ok"
    code, headers, body = http(gw, "/readyz")
    ready = json.loads(body)
    assert code == 200 and ready["status"] == "ready"
    assert ready["pg_listener"] is True and ready["wal_writable"] is True
    assert headers["Content-Type"] == "application/json"


def test_metrics_after_known_workload(workload: Daemon) -> None:
    m = metrics(workload)
    assert m[("pggw_upload_rows_total", (("table", "assets"),))] == 13
    assert m[("pggw_upload_rows_total", (("table", "events"),))] == 2
    assert m[("pggw_wal_pending_rows", ())] == 0
    assert m[("pggw_wal_pending_records", ())] == 0
    assert m[("pggw_wal_pending_bytes", ())] == 0
    assert m[("pggw_wal_oldest_pending_age_seconds", ())] == 0
    assert m[("pggw_wal_last_commit_seq", ())] >= 2
    assert m[("pggw_ready", ())] == 1 and m[("pggw_draining", ())] == 0
    assert m[("pggw_connections", ())] == 0
    assert sum(v for (name, labels), v in m.items()
               if name == "pggw_upload_requests_total" and dict(labels)["status"] == "201") >= 2
    assert ("pggw_reactor_lag_seconds", ()) in m
    with psycopg.connect(workload.dsn):
        assert metrics(workload)[("pggw_connections", ())] == 1
    code, _, body = http(workload, "/metrics")
    names = {line.split()[2] for line in body.decode().splitlines()
             if line.startswith("# HELP")}
    assert names and all(n.startswith("pggw_") for n in names), names
    for required in ("pggw_connections", "pggw_connections_opened_total",
                     "pggw_statements_total", "pggw_rows_accepted_total",
                     "pggw_auth_failures_total", "pggw_wal_pending_bytes",
                     "pggw_wal_pending_records", "pggw_wal_oldest_pending_age_seconds",
                     "pggw_upload_requests_total", "pggw_upload_retries_total",
                     "pggw_upload_dead_letter_rows_total", "pggw_reactor_lag_seconds"):
        assert required in names, required


def test_status_detail_on_loopback(workload: Daemon) -> None:
    st = status(workload)
    assert st["version"] == __import__("pggw").__version__
    assert st["replica"] and st["uptime_s"] > 0 and st["state"] == "running"
    assert st["wal"]["bytes"] == 0 and st["wal"]["records"] == 0
    assert st["wal"]["oldest_pending_age_s"] == 0
    assert st["uploads"]["rows_uploaded"] == 15
    users = {u["username"]: u for u in st["users"]}
    assert set(users) == {"alice", "bob"}
    assert users["alice"]["backlog"] == {} and users["alice"]["state"] in ("idle", "running")
    assert users["alice"]["rejected"] == 0 and users["alice"]["backing_off_until"] is None
    totals = status(workload, "?detail=0")
    assert "users" not in totals and totals["totals"]["users"] == 2
    assert totals["detail"] is False


def test_replica_from_environment(tmp_path: Path) -> None:
    d = start_daemon(tmp_path, "--cdf-url", "http://127.0.0.1:9", "--cdf-project", "p",
                     "--cdf-token-url", "http://127.0.0.1:9/t", "--cdf-client-id", "x",
                     "--cdf-client-secret", "y", env={"PGGW_REPLICA": "pggw-7"})
    try:
        assert status(d)["replica"] == "pggw-7"
    finally:
        d.stop()


def test_dashboard_is_self_contained(gw: Daemon) -> None:
    code, headers, body = http(gw, "/")
    html = body.decode()
    assert code == 200 and headers["Content-Type"].startswith("text/html")
    assert "<svg" in html and "status/history" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "external asset"
    code, _, body = http(gw, "/status/history")
    hist = json.loads(body)
    assert code == 200 and hist["interval_s"] > 0 and isinstance(hist["samples"], list)
    assert http(gw, "/nope")[0] == 404


def test_admin_endpoints_want_post(gw: Daemon) -> None:
    assert http(gw, "/admin/drain")[0] == 405


def test_pggw_admin_status(workload: Daemon) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pggw.admin", "status", "--http-url",
         f"http://127.0.0.1:{workload.http_port}"],
        capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.startswith("pggw ")
    assert "0 rows in 0 records" in out and "15 rows uploaded since start" in out
    assert re.search(r"^alice\s+(idle|running)\s+0\s+-\s+0\s+-$", out, re.M), out
    js = subprocess.run(
        [sys.executable, "-m", "pggw.admin", "status", "--json", "--http-url",
         f"http://127.0.0.1:{workload.http_port}"],
        capture_output=True, text=True, timeout=30, check=True).stdout
    assert json.loads(js)["wal"]["rows"] == 0
