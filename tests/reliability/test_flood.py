"""Connection floods: hundreds of idle authenticated connections, slow-loris clients sending one
byte a second, clients that never read their results. The daemon's RSS stays bounded and a probe
client's single-row INSERT keeps its latency (p50/p99 reported in figures/flood.json).
Plus, in the full run, a soak: steady mixed load against a slow CDF, RSS and WAL bounded,
nothing lost."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import statistics
import struct
import threading
import time
from pathlib import Path

import psycopg
import pytest
from harness import (
    Emulator,
    dsn,
    emulator_url,
    rss_kib,
    start,
    stop,
    tree_rss_kib,
    wait_uploaded,
    write_figure,
)
from reliability_mode import FULL
from test_hostile_daemon import raw_client
from workload import Recorder, Round, check

from tests.rawpg import _msg

N_AUTH = int(os.environ.get("PGGW_FLOOD_AUTH", "600" if FULL else "250"))
N_LORIS = int(os.environ.get("PGGW_FLOOD_LORIS", "300" if FULL else "150"))
N_NOREAD = int(os.environ.get("PGGW_FLOOD_NOREAD", "50" if FULL else "20"))
PACE = float(os.environ.get("PGGW_SOAK_PACE", "0.2"))
FLOOD_S = float(os.environ.get("PGGW_FLOOD_SECONDS", "40" if FULL else "15"))


def _probe_latencies(d, seconds: float) -> list[float]:
    out = []
    with psycopg.connect(dsn(d), autocommit=True) as c:
        deadline = time.monotonic() + seconds
        k = 0
        while time.monotonic() < deadline:
            t = time.perf_counter()
            c.execute("INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key, _raw_columns) "
                      "VALUES ('flood', 'probe', %s, '{}')", (f"p{k}",))
            out.append(time.perf_counter() - t)
            k += 1
            time.sleep(0.01)
    return out


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


@pytest.mark.slow
def test_connection_flood(tmp_path: Path) -> None:
    d = start(tmp_path / "gw")

    socks: list[socket.socket] = []
    stop_loris = threading.Event()
    try:
        baseline = _probe_latencies(d, 3)
        rss0 = rss_kib(d.proc.pid)
        # Idle authenticated connections, each from its own loopback address.
        t0 = time.monotonic()
        for i in range(N_AUTH):
            c = raw_client(d.port, f"127.20.{i // 250}.{i % 250 + 1}", timeout=30)
            c.startup("alice", "s3cret-pw")
            socks.append(c.sock)
        auth_s = time.monotonic() - t0
        # Clients that never read: a pipeline of catalog queries whose answers pile up.
        q = _msg(b"Q", b"SELECT * FROM pg_catalog.pg_type\0") * 2000
        for i in range(N_NOREAD):
            c = raw_client(d.port, f"127.21.0.{i + 1}", timeout=30)
            c.startup("alice", "s3cret-pw")
            c.sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                c.sock.send(q)
            socks.append(c.sock)
        # Slow loris: a startup packet, one byte a second.
        pkt = struct.pack("!i", 196608) + b"user\0alice\0database\0alice\0\0"
        pkt = struct.pack("!i", len(pkt) + 4) + pkt
        loris = [socket.create_connection(("127.0.0.1", d.port), timeout=10,
                                          source_address=(f"127.22.{i // 250}.{i % 250 + 1}", 0))
                 for i in range(N_LORIS)]

        def drip() -> None:
            pos = 0
            while not stop_loris.is_set():
                for s in loris:
                    with contextlib.suppress(OSError):
                        s.send(pkt[pos % len(pkt):pos % len(pkt) + 1])
                pos += 1
                stop_loris.wait(1)
        threading.Thread(target=drip, daemon=True).start()
        during = _probe_latencies(d, FLOOD_S)
        rss_peak = max(rss_kib(d.proc.pid), rss0)
        assert d.proc.poll() is None
        open_fds = len(os.listdir(f"/proc/{d.proc.pid}/fd"))
        stop_loris.set()
        loris_closed = 0
        for s in loris:
            s.settimeout(0.01)
            try:
                if s.recv(100) == b"":
                    loris_closed += 1
            except (TimeoutError, OSError):
                pass
    finally:
        stop_loris.set()
        for s in socks:
            s.close()
    try:
        time.sleep(2)
        after = _probe_latencies(d, 2)
        rss_after = rss_kib(d.proc.pid)
    finally:
        stop(d)
    fig = {
        "connections": N_AUTH + N_LORIS + N_NOREAD, "authenticated_idle": N_AUTH,
        "slow_loris": N_LORIS, "never_read": N_NOREAD, "auth_seconds": round(auth_s, 1),
        "daemon_fds_during": open_fds, "loris_closed_by_server": loris_closed,
        "probe_inserts": len(during),
        "baseline_p50_ms": round(_pct(baseline, 0.5), 2),
        "baseline_p99_ms": round(_pct(baseline, 0.99), 2),
        "flood_p50_ms": round(_pct(during, 0.5), 2), "flood_p99_ms": round(_pct(during, 0.99), 2),
        "after_p50_ms": round(_pct(after, 0.5), 2),
        "rss_before_mib": round(rss0 / 1024, 1), "rss_peak_mib": round(rss_peak / 1024, 1),
        "rss_after_mib": round(rss_after / 1024, 1),
    }
    write_figure("flood", fig)
    assert statistics.median(during) < 0.25, fig
    assert rss_peak < rss0 + 400 * 1024, fig  # bounded: < 400 MiB over the idle daemon


@pytest.mark.slow
def test_soak_slow_cdf(tmp_path: Path) -> None:
    """Steady mixed load for PGGW_SOAK_SECONDS (CI 120, full run 1800) with every CDF answer
    300 ms late: RSS and WAL size bounded, nothing lost."""
    seconds = float(os.environ.get("PGGW_SOAK_SECONDS", "1800" if FULL else "120"))
    data = tmp_path / "gw"
    d = start(data)
    rec = Recorder()
    samples = []
    try:
        Emulator(emulator_url(d)).faults([{"path": "*", "latencyMs": 300}])
        t0 = time.monotonic()
        r = 0
        while time.monotonic() - t0 < seconds:
            # A steady load below what the slow CDF can take (an unpaced load only measures
            # how fast the WAL grows).
            rounds = [Round(rec, dsn(d, u), u, r, random.Random(r), never_acked=False,
                            pace=PACE) for u in ("alice", "bob")]
            for w in rounds:
                w.start()
            time.sleep(10)
            for w in rounds:
                w.join()
                assert not w.errors, w.errors
            wal = sum(p.stat().st_size for p in data.glob("wal.sqlite3*"))
            samples.append((round(time.monotonic() - t0), tree_rss_kib(d.proc.pid) // 1024,
                            wal // 2**20))
            r += 1
        Emulator(emulator_url(d)).faults(None)
        wait_uploaded(d, ["alice", "bob"], 600)
        v = check(Emulator(emulator_url(d)), rec)
    finally:
        stop(d)
    write_figure("soak", {"seconds": seconds, "pace_s": PACE, "samples_t_rssMiB_walMiB": samples,
                          "acked_ops": v.acked_ops, "rows_checked": v.rows_checked,
                          "problems": len(v.problems)})
    assert not v.problems, v.problems[:20]
    wal = [s[2] for s in samples]
    half = max(1, len(wal) // 2)
    # SQLite's -wal file grows to its checkpoint size and stays there: flat, not climbing.
    assert max(wal) < 256 and max(wal[half:]) <= 1.5 * max(wal[:half]) + 8, (
        f"the WAL kept growing under a steady load: {samples}")
    rss = [s[1] for s in samples]
    assert max(rss[len(rss) // 2:]) < 2 * max(rss[: max(1, len(rss) // 2)]) + 200, samples
