"""The HTTP operator endpoints of a real daemon (with the embedded emulator) after a known
workload: /metrics names and values, /healthz, /readyz, /status (totals without a token,
detail with the admin token or an embedded-emulator token), the dashboard, and
`pggw-admin status`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from ops_testlib import admin_token, http, metrics, status, wait_for

from tests.conftest import Daemon, add_user, embedded_emulator_url, start_daemon


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
    # CDF request latency: every request to CDF, by resource, endpoint and outcome
    lat = "pggw_cdf_request_duration_seconds"

    def count(resource: str, endpoint: str, outcome: str = "success") -> float:
        return m.get((f"{lat}_count", (("endpoint", endpoint), ("outcome", outcome),
                                       ("resource", resource))), 0.0)

    assert count("assets", "POST /assets") >= 1  # 13 rows: one request or more
    assert count("events", "POST /events") >= 1
    assert count("token", "POST token") >= 1  # the daemon's client-credentials token
    assert sum(v for (name, labels), v in m.items()
               if name == f"{lat}_count" and dict(labels)["outcome"] == "success") == sum(
        v for (name, labels), v in m.items() if name == f"{lat}_bucket"
        and dict(labels)["le"] == "+Inf" and dict(labels)["outcome"] == "success")
    assert m[(f"{lat}_bucket", (("endpoint", "POST /assets"), ("le", "60.0"),
                                ("outcome", "success"), ("resource", "assets")))] == count(
        "assets", "POST /assets")  # nothing near a minute on loopback
    assert m[(f"{lat}_sum", (("endpoint", "POST /assets"), ("outcome", "success"),
                             ("resource", "assets")))] > 0
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
                     "pggw_upload_dead_letter_rows_total", "pggw_reactor_lag_seconds",
                     "pggw_cdf_request_duration_seconds"):
        assert required in names, required


def test_status_totals_without_token_detail_with_admin_token(workload: Daemon) -> None:
    st = status(workload)  # a load balancer's request: no token, totals only (even on loopback)
    assert st["version"] == __import__("pggw").__version__
    assert st["replica"] and st["uptime_s"] > 0 and st["state"] == "running"
    assert st["wal"]["bytes"] == 0 and st["wal"]["records"] == 0
    assert st["wal"]["oldest_pending_age_s"] == 0
    assert st["uploads"]["rows_uploaded"] == 15
    assert "users" not in st and st["detail"] is False and st["totals"]["users"] == 2
    assert st["access"] == {"viewer": "anonymous"}
    token = admin_token(workload)
    assert oct((workload.data_dir / "admin.token").stat().st_mode & 0o777) == "0o600"
    st = status(workload, token=token)
    assert st["detail"] is True and st["access"] == {"viewer": "admin"}
    users = {u["username"]: u for u in st["users"]}
    assert set(users) == {"alice", "bob"}
    assert users["alice"]["backlog"] == {} and users["alice"]["state"] in ("idle", "running")
    assert users["alice"]["rejected"] == 0 and users["alice"]["backing_off_until"] is None
    totals = status(workload, "?detail=0", token=token)
    assert "users" not in totals and totals["totals"]["users"] == 2
    assert totals["detail"] is False


def test_status_refuses_a_bad_token(gw: Daemon) -> None:
    for token in ("not-a-cdf-token", "pggw-admin-guessed"):
        code, headers, body = http(gw, "/status", token=token)
        assert code == 401, body
        assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        assert json.loads(body)["error"]["code"] == 401
    assert token not in gw.log()


def test_status_with_an_embedded_emulator_token(gw: Daemon) -> None:
    """The default set-up: the embedded emulator inspects the token. Its demo-client may
    read every gateway user of project demo, and local users share the daemon's identity:
    it sees none of them (only the admin token does)."""
    url = embedded_emulator_url(gw)
    token = requests.post(f"{url}/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "demo-client",
        "client_secret": "demo-secret"}, timeout=10).json()["access_token"]
    created = requests.post(
        f"http://127.0.0.1:{gw.http_port}/api/v1/projects/demo/postgresgateway",
        json={"items": [{"credentials": {"clientCredentials": {
            "tokenUrl": f"{url}/oauth2/token", "clientId": "demo-client",
            "clientSecret": "demo-secret", "scopes": [f"{url}/.default"]}}}]},
        headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert created.status_code == 200, created.text
    name = created.json()["items"][0]["username"]
    st = status(gw, token=token)
    assert st["access"] == {"viewer": "cdf", "subject": "demo-client", "projects": ["demo"]}
    assert [u["username"] for u in st["users"]] == [name]
    assert st["totals"]["users"] == 3  # alice, bob and the new one
    assert {u["username"] for u in status(gw, token=admin_token(gw))["users"]} == {
        "alice", "bob", name}


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


def admin_cli(d: Daemon, data_dir: Path, *args: str, env: dict[str, str] | None = None,
              check: bool = True) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PGGW_TOKEN", "PGGW_ADMIN_TOKEN")}
    return subprocess.run(
        [sys.executable, "-m", "pggw.admin", "--data-dir", str(data_dir), "status",
         "--http-url", f"http://127.0.0.1:{d.http_port}", *args],
        capture_output=True, text=True, timeout=30, check=check, env={**environ, **(env or {})})


def test_pggw_admin_status(workload: Daemon, tmp_path: Path) -> None:
    # On the gateway's host: the admin token is read from the data dir, every user shows.
    out = admin_cli(workload, workload.data_dir).stdout
    assert out.startswith("pggw ")
    assert "0 rows in 0 records" in out and "15 rows uploaded since start" in out
    assert re.search(r"^alice\s+(idle|running)\s+0\s+-\s+0\s+-$", out, re.M), out
    js = admin_cli(workload, workload.data_dir, "--json").stdout
    assert json.loads(js)["wal"]["rows"] == 0 and json.loads(js)["users"]
    # Elsewhere: totals, and how to get more.
    out = admin_cli(workload, tmp_path).stdout
    assert "USERS 0 with rows waiting" in out and "--token" in out and "alice" not in out
    # An admin token of another gateway found on this host: totals, no failure.
    (tmp_path / "admin.token").write_text("pggw-admin-of-another-gateway\n")
    out = admin_cli(workload, tmp_path).stdout
    assert "USERS 0 with rows waiting" in out
    # The admin token passed explicitly, as --token and as $PGGW_TOKEN.
    token = admin_token(workload)
    assert "alice" in admin_cli(workload, tmp_path, "--token", token).stdout
    assert "alice" in admin_cli(workload, tmp_path, env={"PGGW_TOKEN": token}).stdout
    # A token the gateway refuses, given explicitly: an error that says so.
    bad = admin_cli(workload, tmp_path, "--token", "expired-token", check=False)
    assert bad.returncode == 1 and "refused the token" in bad.stderr, bad.stderr
