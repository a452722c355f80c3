"""Crash consistency, checked in CDF: SIGKILL the gateway at random moments under a mixed
two-user workload, restart it on the same data dir, repeat; then drain and check every key
in the (embedded) emulator against what the clients saw acknowledged.

CI: 5 kills. Full (``PGGW_RELIABILITY=full``): ``PGGW_KILLS`` kills (default 200).
Seed: ``PGGW_CRASH_SEED``.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from harness import (
    Emulator,
    dsn,
    emulator_pid,
    emulator_url,
    kill_hard,
    start,
    stop,
    wait_uploaded,
    write_figure,
)
from reliability_mode import FULL
from workload import Recorder, Round, check

USERS = ["alice", "bob"]
DRAIN_TIMEOUT = float(os.environ.get("PGGW_DRAIN_TIMEOUT", "900" if FULL else "240"))


def _kills() -> int:
    return int(os.environ.get("PGGW_KILLS", "200" if FULL else "5"))


def run_rounds(data: Path, rec: Recorder, rng: random.Random, kills: int,
               faults: list[list[dict]] | None = None, kill_emulator_every: int = 0,
               *, kill_gateway: bool = True) -> dict[str, int]:
    """``kills`` gateway lifetimes under load, each ended by SIGKILL at a random moment."""
    figures = {"kills": 0, "emulator_kills": 0, "fault_rounds": 0, "faults_injected": 0}
    for r in range(kills):
        d = start(data)
        emu_url = emulator_url(d)
        if faults:
            Emulator(emu_url).faults(faults[r % len(faults)])
            figures["fault_rounds"] += 1
        rounds = [Round(rec, dsn(d, u), u, r, rng) for u in USERS]
        for w in rounds:
            w.start()
        deadline = time.monotonic() + 60
        while not all(w.ready() for w in rounds):
            assert not rec.unexpected, rec.unexpected
            assert time.monotonic() < deadline, (
                "the workload made no progress", [dict(w.progress) for w in rounds],
                d.log()[-3000:])
            time.sleep(0.02)
        if kill_emulator_every and r % kill_emulator_every == kill_emulator_every - 1:
            pid = emulator_pid(d)
            if pid:
                os.kill(pid, 9)
                figures["emulator_kills"] += 1
        # The kill lands anywhere: mid-COPY, mid group commit, mid upload, mid token fetch.
        time.sleep(rng.uniform(0.05, 1.5) if not faults else rng.uniform(2.0, 5.0))
        if faults:
            try:
                rules = Emulator(emu_url).fault_report()
                figures["faults_injected"] += sum(int(x.get("fired", 0)) for x in rules)
            except Exception:  # noqa: BLE001 - the emulator was killed this round
                pass
        if kill_gateway:
            kill_hard(d)
            figures["kills"] += 1
        else:
            stop(d)
        for w in rounds:
            w.join()
            assert not w.errors, w.errors
    return figures


def drain_and_check(data: Path, rec: Recorder) -> tuple[dict, object]:
    d = start(data)
    try:
        emu = Emulator(emulator_url(d))
        emu.faults(None)
        t0 = time.monotonic()
        import psycopg
        try:
            wait_uploaded(d, USERS, DRAIN_TIMEOUT)
        except psycopg.Error as e:
            with psycopg.connect(dsn(d, "alice"), autocommit=True) as c:
                backlog = c.execute("SELECT * FROM pggw.backlog").fetchall()
            raise AssertionError(f"no drain within {DRAIN_TIMEOUT} s: {e}; backlog {backlog}; "
                                 f"emulator {emu.stats()}; log tail {d.log()[-4000:]}") from None
        drain_s = time.monotonic() - t0
        rejected = {}
        for u in USERS:
            with psycopg.connect(dsn(d, u), autocommit=True) as c:
                rejected[u] = c.execute("SELECT * FROM pggw.rejected").fetchall()
        verdict = check(emu, rec)
        stats = emu.stats()
    finally:
        stop(d)
    return {"drain_s": round(drain_s, 2), "rejected": rejected, "stats": stats}, verdict


@pytest.mark.slow
def test_sigkill_loop_oracle_in_cdf(tmp_path: Path) -> None:
    seed = int(os.environ.get("PGGW_CRASH_SEED", str(int(time.time()))))
    print(f"seed {seed}")
    rng = random.Random(seed)
    rec = Recorder()
    t0 = time.monotonic()
    figs = run_rounds(tmp_path / "gw", rec, rng, _kills())
    info, v = drain_and_check(tmp_path / "gw", rec)
    write_figure("crash", {
        "seed": seed, "kills": figs["kills"], "acked_ops": v.acked_ops,
        "keys_checked": v.keys_checked, "rows_checked": v.rows_checked,
        "inflight_applied": v.inflight_applied, "inflight_not_applied": v.inflight_not_applied,
        "acked_lost": sum("expected" in p for p in v.problems), "problems": len(v.problems),
        "drain_s": info["drain_s"], "runtime_s": round(time.monotonic() - t0, 1)})
    assert not rec.unexpected, rec.unexpected
    assert not any(info["rejected"].values()), info["rejected"]
    assert not v.problems, v.problems[:30]
    assert v.rows_checked > 0


# Fault profiles, one per gateway lifetime (rules: pggw/emulator/README.md).
FAULTS: list[list[dict]] = [
    [{"path": "*", "status": 503, "retryAfter": 1, "probability": 0.7}],
    [{"path": "*", "status": 503, "probability": 0.8}],
    [{"path": "*", "latencyMs": 800}],
    [{"path": "*/assets*", "mode": "drop", "probability": 0.5},
     {"path": "*/timeseries*", "mode": "drop", "probability": 0.5},
     {"path": "*/raw/*", "mode": "drop", "probability": 0.5}],
    [{"path": "*", "mode": "apply-then-fail", "status": 503, "probability": 0.5}],
    [{"path": "*", "status": 429, "retryAfter": 1, "probability": 0.5},
     {"path": "*/oauth2/token", "status": 500, "probability": 0.5}],
    [{"path": "*", "mode": "apply-then-fail", "status": 500, "probability": 0.3},
     {"path": "*", "latencyMs": 200}],
    [{"path": "*", "mode": "drop", "probability": 0.3},
     {"path": "*", "status": 502, "probability": 0.3}],
]


@pytest.mark.slow
def test_faulted_emulator_oracle_in_cdf(tmp_path: Path) -> None:
    """503 storms with/without Retry-After, 429, slow answers, dropped connections,
    apply-then-fail, a killed emulator; gateway killed at the end of every faulted lifetime."""
    seed = int(os.environ.get("PGGW_CRASH_SEED", str(int(time.time()))))
    rng = random.Random(seed + 1)
    rec = Recorder()
    t0 = time.monotonic()
    n = int(os.environ.get("PGGW_FAULT_ROUNDS", str(len(FAULTS) * (5 if FULL else 1))))
    figs = run_rounds(tmp_path / "gw", rec, rng, n, faults=FAULTS, kill_emulator_every=4)
    info, v = drain_and_check(tmp_path / "gw", rec)
    write_figure("faults", {
        "seed": seed, "fault_rounds": figs["fault_rounds"], "kills": figs["kills"],
        "faults_injected": figs["faults_injected"],
        "emulator_kills": figs["emulator_kills"], "acked_ops": v.acked_ops,
        "keys_checked": v.keys_checked, "rows_checked": v.rows_checked,
        "acked_lost": sum("expected" in p for p in v.problems), "problems": len(v.problems),
        "drain_s": info["drain_s"], "runtime_s": round(time.monotonic() - t0, 1)})
    assert not rec.unexpected, rec.unexpected
    assert not any(info["rejected"].values()), info["rejected"]
    assert not v.problems, v.problems[:30]
