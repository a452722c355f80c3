"""kill -9 at random moments loses nothing acknowledged and exposes nothing uncommitted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest_twisted
from wal_testlib import open_wal, raw

from pggw.wal.codec import decode_chunk

CHILD = Path(__file__).with_name("wal_crash_child.py")
ROOT = Path(__file__).resolve().parents[3]
KILLS = 6


def run_and_kill(path: Path, seed: int, out: Path, rng: random.Random) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with out.open("wb") as stdout:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(path), str(seed)], stdout=stdout, env=env
        )
        try:
            deadline = time.monotonic() + 30
            while b"READY" not in out.read_bytes():
                assert proc.poll() is None, f"child died: {out.read_text()}"
                assert time.monotonic() < deadline, "child never got ready"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.05, 1.5))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL


def parse(out: Path, acked: dict[int, tuple[int, int]], done: set[tuple[int, int]]) -> int:
    n = 0
    for line in out.read_text().split("\n")[:-1]:  # the last line may be torn
        word, *rest = line.split()
        if word == "ACK":
            seq, txid, parts = map(int, rest)
            acked[txid] = (seq, parts)
            n += 1
        elif word == "DONE":
            for tag in rest:
                txid, part = map(int, tag.split(":"))
                done.add((txid, part))
    return n


@pytest_twisted.ensureDeferred
async def test_sigkill_loses_nothing_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite"
    rng = random.Random(1234)
    acked: dict[int, tuple[int, int]] = {}
    done: set[tuple[int, int]] = set()
    per_run = []
    for i in range(KILLS):
        out = tmp_path / f"child{i}.out"
        run_and_kill(path, rng.randrange(1 << 30), out, rng)
        per_run.append(parse(out, acked, done))
    print(f"\nacknowledged commits per run before kill -9: {per_run}")
    assert sum(per_run) > 0

    wal = await open_wal(path, max_bytes=10**10)  # deletes orphaned staging chunks
    visible: dict[int, dict[int, int]] = defaultdict(dict)  # txid -> part -> seq
    parts_of: dict[int, int] = {}
    after_seq, after_id = 0, 0
    while page := await wal.pending(500, after_seq, after_id=after_id):
        for r in page:
            cols = decode_chunk(r.chunk)
            txid, part, parts = cols["txid"][0], cols["part"][0], cols["parts"][0]
            assert txid == r.txid
            assert part not in visible[txid]
            visible[txid][part] = r.seq
            parts_of[txid] = parts
        after_seq, after_id = page[-1].seq, page[-1].id
    await wal.close()

    # Every acknowledged transaction is there in full (minus chunks the uploader finished).
    for txid, (seq, parts) in acked.items():
        for part in range(parts):
            if (txid, part) not in done:
                assert visible[txid].get(part) == seq, (txid, part, seq)
    # Everything visible is a whole committed transaction under one seq (also those
    # committed but killed before their ACK line), never a staged or rolled-back leftover.
    for txid, seen in visible.items():
        assert len(set(seen.values())) == 1
        missing = [p for p in range(parts_of[txid]) if p not in seen and (txid, p) not in done]
        assert not missing, (txid, missing)
    conn = raw(path)
    orphans = conn.execute(
        "SELECT count(*) FROM records WHERE txid NOT IN (SELECT txid FROM commits)"
    ).fetchone()[0]
    assert orphans == 0
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
