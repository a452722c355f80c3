"""SIGKILL the daemon mid-COPY, mid-transaction and mid-pipeline: exactly the acknowledged
transactions survive, whole; nothing unacknowledged is visible."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import threading
import time
from collections import defaultdict
from pathlib import Path

import psycopg

from pggw.wal.codec import decode_chunk
from tests.conftest import Daemon, start_daemon

# An unreachable CDF: rows stay in the WAL (retried forever), so the test reads them there.
OFFLINE = ("--cdf-url", "http://127.0.0.1:9", "--cdf-project", "p",
           "--cdf-token-url", "http://127.0.0.1:9/token", "--cdf-client-id", "x",
           "--cdf-client-secret", "y")
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
INSERT = "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES (%s, %s, %s)"


def committed_rows(wal: Path) -> dict[str, list[tuple[int, float]]]:
    """(timestamp ms, value) per external_id, from committed records only."""
    db = sqlite3.connect(f"file:{wal}?mode=ro", uri=True)
    out: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (chunk,) in db.execute(
            "SELECT r.chunk FROM records r JOIN commits c ON c.txid = r.txid "
            "WHERE r.table_name = 'double_datapoints'"):
        cols = decode_chunk(chunk)
        for x, t, v in zip(cols["external_id"], cols["timestamp"], cols["value"], strict=True):
            out[x].append((t, v))
    db.close()
    return out


class Workload:
    """Clients that record what the gateway acknowledged, until the gateway dies."""

    def __init__(self, d: Daemon, round_no: int) -> None:
        self.dsn = d.dsn + " sslmode=disable"
        self.round = round_no
        self.acked: dict[str, set[float]] = defaultdict(set)
        self.attempted: dict[str, set[float]] = defaultdict(set)
        self.errors: list[psycopg.Error] = []
        self.threads = [threading.Thread(target=self._guard, args=(f,), daemon=True)
                        for f in (self.transactions, self.pipelines, self.copy_forever,
                                  self.open_transaction)]

    def key(self, name: str) -> str:
        return f"crash-{name}-{self.round}"

    def _guard(self, fn) -> None:  # type: ignore[no-untyped-def]
        try:
            fn()
        except psycopg.Error as e:
            self.errors.append(e)  # the gateway was killed (anything else fails the test)

    def transactions(self) -> None:
        """Explicit BEGIN ... COMMIT of 10 rows each; value = transaction number."""
        x = self.key("tx")
        with psycopg.connect(self.dsn) as c:
            for k in range(100_000):
                self.attempted[x].add(k)
                with c.transaction():
                    c.cursor().executemany(INSERT, [
                        (x, BASE + dt.timedelta(milliseconds=k * 10 + j), float(k))
                        for j in range(10)])
                self.acked[x].add(k)

    def pipelines(self) -> None:
        """Autocommit executemany of 500 rows: one implicit transaction per Sync."""
        x = self.key("pipe")
        with psycopg.connect(self.dsn, autocommit=True) as c:
            for k in range(100_000):
                self.attempted[x].add(k)
                c.cursor().executemany(INSERT, [
                    (x, BASE + dt.timedelta(milliseconds=k * 500 + j), float(k))
                    for j in range(500)])
                self.acked[x].add(k)

    def copy_forever(self) -> None:
        """A COPY that is still streaming when the gateway dies: nothing of it may survive."""
        x = self.key("copy")
        sql = "COPY double_datapoints (external_id, timestamp, value) FROM STDIN"
        with psycopg.connect(self.dsn) as c, c.cursor() as cur, cur.copy(sql) as cp:
            for k in range(10**9):
                cp.write_row((x, BASE + dt.timedelta(milliseconds=k), 1.0))

    def open_transaction(self) -> None:
        """A transaction that never commits."""
        x = self.key("open")
        with psycopg.connect(self.dsn) as c:
            cur = c.cursor()
            for k in range(10**9):
                cur.execute(INSERT, (x, BASE + dt.timedelta(milliseconds=k), 1.0))
                if k % 1000 == 999:
                    time.sleep(0.01)


def test_sigkill_keeps_exactly_the_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("PGGW_CRASH_SEED", "7")))
    data = tmp_path / "gw"
    acked: dict[str, set[float]] = defaultdict(set)
    attempted: dict[str, set[float]] = defaultdict(set)
    for round_no in range(3):
        d = start_daemon(data, *OFFLINE)
        w = Workload(d, round_no)
        for t in w.threads:
            t.start()
        # Let every client get going (each has something acknowledged), then kill at random.
        deadline = time.monotonic() + 30
        while not (w.acked[w.key("tx")] and w.acked[w.key("pipe")]) and not w.errors:
            assert time.monotonic() < deadline, "the workload made no progress"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.2, 2.0))
        os.kill(d.proc.pid, signal.SIGKILL)
        d.proc.wait()
        for t in w.threads:
            t.join(10)
        for k, v in w.acked.items():
            acked[k] |= v
        for k, v in w.attempted.items():
            attempted[k] |= v
        assert w.acked[w.key("tx")] and w.acked[w.key("pipe")], (
            "the workload made no progress", w.errors)
        assert all(isinstance(e, psycopg.OperationalError) for e in w.errors), w.errors

    # A restart cleans up what the kills left behind; then read the log.
    d = start_daemon(data, *OFFLINE)
    d.stop()
    rows = committed_rows(data / "wal.sqlite3")
    for x, values in acked.items():
        got = rows.get(x, [])
        per_tx: dict[float, int] = defaultdict(int)
        for _, v in got:
            per_tx[v] += 1
        size = 10 if "-tx-" in x else 500
        # Every acknowledged transaction is there, whole.
        assert all(per_tx.get(k) == size for k in values), (x, sorted(values)[:5])
        # Nothing else is, except at most the one in flight when the kill came (acknowledged
        # in the WAL but not yet to the client), and that one whole too.
        extra = set(per_tx) - values
        assert len(extra) <= 1 and extra <= attempted[x], (x, extra)
        assert all(n == size for n in per_tx.values()), x
    for round_no in range(3):
        assert not rows.get(f"crash-copy-{round_no}"), "an unfinished COPY left rows"
        assert not rows.get(f"crash-open-{round_no}"), "an uncommitted transaction left rows"
