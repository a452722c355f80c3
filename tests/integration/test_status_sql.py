"""Schema pggw in SQL: a user's backlog, dead letters and uploads; acting on them; --ack cdf."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import Daemon, add_user, start_daemon


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_daemon(tmp_path_factory.mktemp("status"))
    add_user(d.data_dir, "bob", "bob-password")
    yield d
    d.stop()


def connect(d: Daemon, user: str | None = None, password: str | None = None
            ) -> psycopg.Connection:
    user = user or d.user
    return psycopg.connect(f"host=127.0.0.1 port={d.port} user={user} dbname={user} "
                           f"password={password or d.password} sslmode=disable",
                           autocommit=True)


def test_views_are_listed(gw: Daemon) -> None:
    import os
    import subprocess

    out = subprocess.run(
        ["psql", "-X", "-h", "127.0.0.1", "-p", str(gw.port), "-U", gw.user, "-d", gw.user,
         "-c", r"\dv pggw.*"], env={**os.environ, "PGPASSWORD": gw.password},
        capture_output=True, text=True, check=True).stdout
    for view in ("backlog", "rejected", "uploads"):
        assert f" pggw   | {view} " in out, out
    with connect(gw) as c, pytest.raises(psycopg.errors.FeatureNotSupported):
        c.execute("INSERT INTO pggw.backlog (table_name) VALUES ('x')")


def test_backlog_then_wait_uploaded(gw: Daemon) -> None:
    with connect(gw) as c:
        c.execute("INSERT INTO assets (external_id, name) VALUES ('st-1', 'S 1'), ('st-2', 'S 2')")
        assert c.execute("SELECT pggw.wait_uploaded(60)").fetchone() == (True,)
        backlog = dict(c.execute(
            "SELECT table_name, rows_waiting FROM pggw.backlog").fetchall())
        assert backlog.get("assets") == 0
        ups = c.execute("SELECT table_name, operation, rows, status FROM pggw.uploads "
                        "WHERE table_name = 'assets'").fetchall()
        assert ("assets", "insert", 2, "ok") in ups


def test_rejected_rows_and_users_are_separate(gw: Daemon) -> None:
    with connect(gw) as c:
        # A plain INSERT of a key CDF already has is a create CDF refuses (409).
        c.execute("INSERT INTO assets (external_id, name) VALUES ('st-bad', 'B')")
        assert c.execute("SELECT pggw.wait_uploaded(60)").fetchone() == (True,)
        c.execute("INSERT INTO assets (external_id, name) VALUES ('st-bad', 'B again')")
        with pytest.raises(psycopg.Error) as e:
            c.execute("SELECT pggw.wait_uploaded(60)")
        assert e.value.sqlstate == "PGW02", e.value
    deadline = time.monotonic() + 60
    with connect(gw) as c:
        while True:
            rows = c.execute("SELECT table_name, operation, row, error_code "
                             "FROM pggw.rejected").fetchall()
            if rows or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert rows and rows[0][0] == "assets" and rows[0][2]["name"] == "B again"
    with connect(gw, "bob", "bob-password") as other:
        assert other.execute("SELECT count(*) FROM pggw.rejected").fetchone() == (0,)
        assert other.execute("SELECT pggw.discard_rejected(NULL)").fetchone() == (0,)
    with connect(gw) as c:
        assert c.execute("SELECT pggw.discard_rejected(NULL)").fetchone() == (1,)
        assert c.execute("SELECT count(*) FROM pggw.rejected").fetchone() == (0,)


def test_ack_cdf(gw: Daemon) -> None:
    with connect(gw) as c:
        c.execute("SET pggw.ack = 'cdf'")
        c.execute("INSERT INTO assets (external_id, name) VALUES ('st-acked', 'A')")
        # Acknowledged means in CDF: nothing of this user's is waiting any more.
        backlog = dict(c.execute("SELECT table_name, rows_waiting FROM pggw.backlog").fetchall())
        assert backlog.get("assets") == 0
        c.execute("SET pggw.ack_timeout = '1s'")
        with pytest.raises(psycopg.Error) as e:
            # A time series for an asset CDF does not have waits for it (it may come later).
            c.execute("INSERT INTO time_series (external_id, name, asset_id) "
                      "VALUES ('st-ts', 'T', 123456789)")
        assert e.value.sqlstate in ("PGW01", "PGW02")
        assert "safely queued" in str(e.value) or "rejected" in str(e.value)


def test_metrics_count_the_workload(gw: Daemon) -> None:
    import re
    import urllib.request

    def scrape() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{gw.http_port}/metrics", timeout=30) as r:
            return str(r.read().decode())

    def value(text: str, name: str, labels: str) -> float:
        m = re.search(rf"^{name}\{{{labels}\}} ([0-9.e+]+)$", text, re.M)
        return float(m.group(1)) if m else 0.0

    before = scrape()
    with connect(gw) as c:
        c.execute("INSERT INTO events (external_id, type) VALUES ('m-1', 'x'), ('m-2', 'x')")
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute("INSERT INTO nope (a) VALUES (1)")
    after = scrape()
    assert value(after, "pggw_rows_accepted_total", 'table="events"') - value(
        before, "pggw_rows_accepted_total", 'table="events"') == 2
    assert value(after, "pggw_statement_errors_total", 'sqlstate="42P01"') - value(
        before, "pggw_statement_errors_total", 'sqlstate="42P01"') == 1
    opened = re.search(r"^pggw_connections_opened_total ([0-9.e+]+)$", after, re.M)
    assert opened and float(opened.group(1)) >= 1
