"""WAL benchmark (not a test): python tests/unit/wal/bench_wal.py [DIR]

Prints: codec speed; commits/s with 8 concurrent single-chunk committers (group commit,
synchronous=FULL); MB/s staging 1M datapoint rows in 10k-row chunks; commit latency while
such a stream runs; the reactor's worst scheduling lag throughout (it must never block on
SQLite).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from twisted.internet import task  # noqa: E402
from twisted.internet.defer import Deferred, gatherResults  # noqa: E402

from pggw.wal.codec import decode_chunk, encode_chunk  # noqa: E402
from pggw.wal.log import WriteAheadLog  # noqa: E402

N_ROWS = 1_000_000
CHUNK_ROWS = 10_000


def datapoints(n: int, start: int = 0) -> dict[str, list[Any]]:
    rng = random.Random(start)
    return {
        "external_id": [f"plant-{start // 100_000}-sensor-{i % 50}" for i in range(n)],
        "timestamp": [1_700_000_000_000 + start + i for i in range(n)],
        "value": [rng.random() * 1000 for _ in range(n)],
    }


def bench_codec() -> None:
    cols = datapoints(N_ROWS)
    for compress in (False, True):
        best = min(_timed(lambda c=compress: encode_chunk(cols, compress=c)) for _ in range(3))
        data = encode_chunk(cols, compress=compress)
        dec = min(_timed(lambda d=data: decode_chunk(d)) for _ in range(3))
        print(
            f"codec{' +zlib1' if compress else ''}: encode {N_ROWS / best / 1e6:.2f} M rows/s, "
            f"decode {N_ROWS / dec / 1e6:.2f} M rows/s, {len(data) / N_ROWS:.1f} bytes/row"
        )


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def fsync_cost(directory: Path) -> float:
    path = directory / "fsync.probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    t0 = time.perf_counter()
    for _ in range(200):
        os.write(fd, b"x" * 100)
        os.fsync(fd)
    os.close(fd)
    os.unlink(path)
    return (time.perf_counter() - t0) / 200


class LagMonitor:
    def __init__(self, reactor: Any, interval: float = 0.005) -> None:
        self.reactor = reactor
        self.interval = interval
        self.worst = 0.0
        self.last = time.monotonic()
        self.loop = task.LoopingCall(self.tick)
        self.loop.clock = reactor

    def tick(self) -> None:
        now = time.monotonic()
        self.worst = max(self.worst, now - self.last - self.interval)
        self.last = now

    def start(self) -> None:
        self.last = time.monotonic()
        self.loop.start(self.interval)

    def stop(self) -> float:
        self.loop.stop()
        return self.worst


async def commits_per_second(
    wal: WriteAheadLog, seconds: float, committers: int = 8
) -> tuple[int, list[float]]:
    chunk = encode_chunk(datapoints(1))
    stop_at = time.monotonic() + seconds
    latencies: list[float] = []

    async def loop(user: str) -> None:
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            await wal.commit(wal.new_txid(), user, [("datapoints", "insert", chunk, 1)])
            latencies.append(time.monotonic() - t0)

    await gatherResults([Deferred.fromCoroutine(loop(f"u{i}")) for i in range(committers)])
    return len(latencies), latencies


async def stage_stream(wal: WriteAheadLog, chunks: list[bytes], window: int) -> float:
    txid = wal.new_txid()
    t0 = time.perf_counter()
    inflight: list[Deferred[None]] = []
    for chunk in chunks:
        inflight.append(wal.stage(txid, "copy", "datapoints", "insert", chunk, CHUNK_ROWS))
        if len(inflight) >= window:
            await inflight.pop(0)
    await gatherResults(inflight)
    await wal.commit(txid, "copy")
    return time.perf_counter() - t0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def main(reactor: Any, directory: Path) -> None:
    print(f"fsync of 100 bytes: {fsync_cost(directory) * 1e6:.0f} us")
    bench_codec()
    chunks = [encode_chunk(datapoints(CHUNK_ROWS, start)) for start in range(0, N_ROWS, CHUNK_ROWS)]
    total = sum(map(len, chunks))
    wal = WriteAheadLog(directory / "bench.sqlite", reactor=reactor, max_bytes=50 * 2**30)
    await wal.open()
    lag = LagMonitor(reactor)
    lag.start()

    b0, r0 = wal.group_commit_stats
    n, lat = await commits_per_second(wal, 3.0)
    b1, r1 = wal.group_commit_stats
    print(f"  (worst reactor lag so far {lag.worst * 1000:.1f} ms)")
    print(
        f"8 concurrent committers, 1 small chunk each, synchronous=FULL: {n / 3.0:,.0f} commits/s"
        f" (p50 {pct(lat, 0.5) * 1000:.2f} ms, p99 {pct(lat, 0.99) * 1000:.2f} ms,"
        f" {(r1 - r0) / max(1, b1 - b0):.1f} requests per SQLite transaction)"
    )
    n, lat = await commits_per_second(wal, 2.0, committers=1)
    print(f"1 committer: {n / 2.0:,.0f} commits/s (p50 {pct(lat, 0.5) * 1000:.2f} ms)")

    for window in (1, 4):
        print(f"  (worst reactor lag so far {lag.worst * 1000:.1f} ms)")
        secs = await stage_stream(wal, chunks, window)
        print(
            f"staging 1M datapoint rows in 10k-row chunks, {window} in flight: "
            f"{total / secs / 1e6:.0f} MB/s, {N_ROWS / secs / 1e6:.2f} M rows/s "
            f"({total / N_ROWS:.1f} bytes/row)"
        )

    # A big COPY streaming while 8 other connections commit.
    copy = Deferred.fromCoroutine(stage_stream(wal, chunks * 3, 4))
    n, lat = await commits_per_second(wal, 2.0)
    secs = await copy
    print(
        f"while 3M rows stream in: {n / 2.0:,.0f} commits/s, p50 {pct(lat, 0.5) * 1000:.1f} ms, "
        f"p99 {pct(lat, 0.99) * 1000:.1f} ms; the stream ran at {3 * total / secs / 1e6:.0f} MB/s"
    )

    print(f"  (worst reactor lag so far {lag.worst * 1000:.1f} ms)")
    t0 = time.perf_counter()
    got = 0
    after_seq, after_id = 0, 0
    while page := await wal.pending(100, after_seq, after_id=after_id):
        got += len(page)
        after_seq, after_id = page[-1].seq, page[-1].id
        await wal.mark_done([r.id for r in page])
    secs = time.perf_counter() - t0
    stats = await wal.stats()
    print(f"drain (pending 100 + mark_done): {got / secs:,.0f} records/s, left {stats.records}")
    print(f"worst reactor lag during all WAL work: {lag.stop() * 1000:.1f} ms")
    await wal.close()


if __name__ == "__main__":
    base = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        task.react(lambda reactor: Deferred.fromCoroutine(main(reactor, Path(tmp))))
