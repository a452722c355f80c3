"""Fault tests through the real daemon: the embedded emulator's fault injection
(``POST /_emulator/faults``) while psycopg writes through the gateway."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import AssetWrite
from e2e_util import (
    dead_letters,
    drained,
    emulator_of,
    fault_rules,
    faults,
    sdk,
    until,
    wal_pending,
)

from tests.conftest import Daemon, start_daemon

API = "/api/v1/projects/demo/"
WINDOW = 8.0  # PGGW_MISSING_WINDOW of the module's daemon


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_daemon(tmp_path_factory.mktemp("e2e-faults"),
                     env={"PGGW_MISSING_WINDOW": str(WINDOW)})
    yield d
    d.stop()


@pytest.fixture(scope="module")
def url(daemon: Daemon) -> str:
    return emulator_of(daemon)


@pytest.fixture(scope="module")
def cdf(url: str) -> CogniteClient:
    return sdk(url)


@pytest.fixture(autouse=True)
def no_faults(url: str) -> Iterator[None]:
    faults(url, None)
    yield
    faults(url, None)


def assets(daemon: Daemon, rows: list[tuple[str, str]], parent: str | None = None) -> None:
    with psycopg.connect(daemon.dsn, autocommit=True) as c, c.cursor() as cur:
        cur.executemany("INSERT INTO assets (external_id, name, parent_external_id)"
                        " VALUES (%s, %s, %s)", [(x, n, parent) for x, n in rows])


def test_long_outage_then_full_drain(daemon: Daemon, url: str, cdf: CogniteClient) -> None:
    faults(url, [{"path": API + "*", "status": 503}])
    assets(daemon, [(f"out-{i}", f"n{i}") for i in range(300)])
    with psycopg.connect(daemon.dsn, autocommit=True) as c:
        c.execute("INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key, _raw_columns)"
                  " VALUES ('out-db', 't', 'k1', '{\"v\": 1}'), ('out-db', 't', 'k2', '{}')")
    time.sleep(6)  # CDF down: rows wait in the WAL, nothing dropped
    assert wal_pending(daemon) >= 2
    (rule,) = fault_rules(url)
    assert rule["fired"] >= 4  # retried all along
    faults(url, None)
    drained(daemon, timeout=90)
    got = cdf.assets.retrieve_multiple(external_ids=[f"out-{i}" for i in range(300)])
    assert sorted(a.name for a in got) == sorted(f"n{i}" for i in range(300))
    rows = {r.key: r.columns for r in cdf.raw.rows.list("out-db", "t", limit=100)}
    assert rows == {"k1": {"v": 1}, "k2": {}}
    assert dead_letters(daemon) == []


def test_429_storm_with_retry_after_honoured(daemon: Daemon, url: str,
                                             cdf: CogniteClient) -> None:
    faults(url, [{"path": API + "raw/*", "status": 429, "retryAfter": 2, "count": 3}])
    t0 = time.monotonic()
    with psycopg.connect(daemon.dsn, autocommit=True) as c, c.cursor() as cur:
        cur.executemany("INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key,"
                        " _raw_columns) VALUES ('storm', %s, %s, '{\"x\": 1}')",
                        [(f"t{i % 3}", f"k{i}") for i in range(90)])
    drained(daemon, timeout=90)
    took = time.monotonic() - t0
    (rule,) = fault_rules(url)
    # three 429s with Retry-After: 2 (on requests in flight together): none was retried
    # before its Retry-After
    assert rule["fired"] == 3
    assert took >= 2.0, took
    n = sum(len(cdf.raw.rows.list("storm", f"t{j}", limit=1000)) for j in range(3))
    assert n == 90 and dead_letters(daemon) == []


def test_apply_then_fail_creates_no_duplicates(daemon: Daemon, url: str,
                                               cdf: CogniteClient) -> None:
    faults(url, [{"path": API + "events", "method": "POST", "status": 502,
                  "mode": "apply-then-fail", "count": 2}])
    with psycopg.connect(daemon.dsn, autocommit=True) as c, c.cursor() as cur:
        cur.executemany("INSERT INTO events (external_id, type, start_time) VALUES"
                        " (%s, 'unknown-outcome', '2024-01-01T00:00:00Z')",
                        [(f"uo-{i}",) for i in range(250)])
    drained(daemon, timeout=60)
    evs = cdf.events.list(type="unknown-outcome", limit=None)
    assert len(evs) == 250 and len({e.external_id for e in evs}) == 250
    assert dead_letters(daemon) == []


def test_poison_row_dead_lettered_while_batch_mates_arrive(daemon: Daemon,
                                                           cdf: CogniteClient) -> None:
    with psycopg.connect(daemon.dsn, autocommit=True) as c, c.cursor() as cur:
        cur.executemany("INSERT INTO time_series (external_id, name, is_string)"
                        " VALUES (%s, %s, %s)",
                        [("poi-str", "strings", True)]
                        + [(f"poi-num-{i}", "numbers", False) for i in range(10)])
        drained(daemon, timeout=30)
        # one transaction: 10 good series and one CDF refuses (a number into a string
        # series: only CDF knows the series' type)
        c.execute("BEGIN")
        cur.executemany("INSERT INTO double_datapoints (external_id, timestamp, value)"
                        " VALUES (%s, %s, %s)",
                        [(f"poi-num-{i}", datetime.fromtimestamp(1_704_067_200 + j, UTC),
                          float(j)) for i in range(10) for j in range(3)]
                        + [("poi-str", datetime.fromtimestamp(1_704_067_200, UTC), 1.0)])
        c.execute("COMMIT")
    drained(daemon, timeout=60)
    for i in range(10):
        dps = cdf.time_series.data.retrieve(external_id=f"poi-num-{i}", start=0, end="now")
        assert list(dps.value) == [0.0, 1.0, 2.0]
    dead = [d for d in dead_letters(daemon) if d[0] == "double_datapoints"]
    assert len(dead) == 1
    _, dead_rows, error = dead[0]
    assert dead_rows is not None and [(r["external_id"], r["value"]) for r in dead_rows] == [
        ("poi-str", 1.0)]
    assert error["reason"] == "rejected" and error.get("code") == 400
    assert "string time series" in error["message"]


def test_late_created_parent_picked_up_within_the_window(daemon: Daemon,
                                                         cdf: CogniteClient) -> None:
    assets(daemon, [("late-kid", "kid")], parent="late-parent")
    assets(daemon, [("never-kid", "orphan")], parent="never-parent")
    assets(daemon, [("free-asset", "not blocked")])
    until(lambda: cdf.assets.retrieve(external_id="free-asset"), 20, "unblocked asset")
    assert cdf.assets.retrieve(external_id="late-kid") is None  # parked
    time.sleep(1)
    parent = cdf.assets.create(AssetWrite(external_id="late-parent", name="made by another tool"))
    kid = until(lambda: cdf.assets.retrieve(external_id="late-kid"), WINDOW + 10, "late kid")
    assert kid.parent_id == parent.id
    # the orphan waits out its window, then becomes a "missing" dead letter
    until(lambda: any(d[0] == "assets" and d[2]["reason"] == "missing"
                      for d in dead_letters(daemon)), WINDOW + 20, "missing dead letter")
    (dl,) = [d for d in dead_letters(daemon) if d[0] == "assets"]
    assert dl[1] is not None and dl[1][0]["external_id"] == "never-kid"
    assert {"externalId": "never-parent"} in dl[2].get("missing", [])
    drained(daemon, timeout=30)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True)
    return [int(x) for x in out.stdout.split()]


def test_sigkill_mid_drain_then_restart_loses_and_duplicates_nothing(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    data = tmp_path_factory.mktemp("e2e-kill")
    d = start_daemon(data)
    url = emulator_of(d)
    n_assets, n_points, n_events = 3000, 20_000, 1500
    try:
        faults(url, [{"path": API + "*", "latencyMs": 150}])  # a slow CDF
        with psycopg.connect(d.dsn, autocommit=True) as c, c.cursor() as cur:
            c.execute("INSERT INTO time_series (external_id, name) VALUES ('kill-ts', 'k')")
            for a in range(0, n_assets, 500):
                cur.executemany("INSERT INTO assets (external_id, name) VALUES (%s, %s)",
                                [(f"kill-a{i}", f"n{i}") for i in range(a, a + 500)])
            with cur.copy("COPY double_datapoints (external_id, timestamp, value) FROM STDIN"
                          ) as cp:
                for i in range(n_points):
                    cp.write_row(("kill-ts", datetime.fromtimestamp(1_704_067_200 + i, UTC),
                                  float(i)))
            cur.executemany("INSERT INTO events (external_id, type) VALUES (%s, 'kill')",
                            [(f"kill-e{i}",) for i in range(n_events)])
        total = wal_pending(d)
        until(lambda: 0 < wal_pending(d) < total, 60, "drain under way")
        kids = _children(d.proc.pid)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        for pid in kids:  # the orphaned embedded emulator (pggw does not reap it on SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        time.sleep(1)
        assert wal_pending(d) > 0
        d.log_path.rename(data / "twistd.log.killed")
        d = start_daemon(data)
        url = emulator_of(d)
        drained(d, timeout=120)
        assert dead_letters(d) == []
        cdf = sdk(url)
        got = cdf.assets.list(limit=None)
        names = [a.external_id for a in got if a.external_id.startswith("kill-a")]
        assert len(names) == n_assets and len(set(names)) == n_assets
        evs = [e.external_id for e in cdf.events.list(type="kill", limit=None)]
        assert len(evs) == n_events and len(set(evs)) == n_events
        dps = cdf.time_series.data.retrieve(external_id="kill-ts", start=0, end="now",
                                            limit=None)
        assert len(dps) == n_points and list(dps.value) == [float(i) for i in range(n_points)]
    finally:
        d.stop()
