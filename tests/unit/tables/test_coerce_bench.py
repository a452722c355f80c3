"""Coercion throughput, printed with ``pytest -s`` (never a timed assertion)."""

from __future__ import annotations

import gc
import struct
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pggw.tables.coerce import coerce_columns
from pggw.tables.model import Column, Op, Table
from pggw.wire import types as T

pytestmark = pytest.mark.slow  # benchmarks: run with -s to see the numbers

DPS = Table(
    name="double_datapoints",
    resource="timeseries/data",
    columns=(
        Column("id", T.INT8, cdf="id"),
        Column("external_id", T.VARCHAR, cdf="externalId", max_length=255),
        Column("timestamp", T.TIMESTAMPTZ, cdf="timestamp", required=True,
               min_value=-2_208_988_800_000, max_value=4_102_444_799_999,
               check="datapoint_timestamp"),
        Column("value", T.FLOAT8, cdf="value", check="datapoint_value"),
    ),
    key=("external_id", "timestamp"),
    ops=frozenset({Op.INSERT, Op.UPSERT, Op.DELETE}),
)
COLS = ["external_id", "timestamp", "value"]
N = 1_000_000
BASE = datetime(2024, 1, 1, tzinfo=UTC)


def best(fn: Callable[[], Any], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return min(times)


def test_bench_text_datapoints() -> None:
    ext = [f"ts{i % 100}" for i in range(N)]
    val = [str(i * 0.25) for i in range(N)]
    print()
    for label, ts in [
        ("'2024-01-01 00:00:01+00', 1 s apart",
         [(BASE + timedelta(seconds=i // 100)).strftime("%Y-%m-%d %H:%M:%S+00")
          for i in range(N)]),
        ("'... .fff+00:00', 7 ms apart",
         [(BASE + timedelta(milliseconds=i * 7)).isoformat(sep=" ", timespec="milliseconds")
          for i in range(N)]),
        ("µs precision (datetime path)",
         [(BASE + timedelta(microseconds=i * 7001)).isoformat() for i in range(N)]),
        ("random ms over a year",
         [(BASE + timedelta(milliseconds=(i * 7919 * 104729) % 31_536_000_000)).isoformat(
             sep=" ", timespec="milliseconds") for i in range(N)]),
    ]:
        def run(ts: list[str] = ts) -> Any:
            return coerce_columns(DPS, COLS, [ext, ts, val], source="text")

        t = best(run)
        print(f"text COPY datapoints, {label:38s}: {N / t / 1e6:.2f} M rows/s")


def test_bench_binary_datapoints() -> None:
    ext = [f"ts{i % 100}".encode() for i in range(N)]
    ts = [struct.pack(">q", 757_382_400_000_000 + i * 1000) for i in range(N)]
    val = [struct.pack(">d", i * 0.25) for i in range(N)]
    t = best(lambda: coerce_columns(DPS, COLS, [ext, ts, val], source="binary",
                                    oids=[T.TEXT.oid, T.TIMESTAMPTZ.oid, T.FLOAT8.oid]))
    print(f"\nbinary COPY datapoints: {N / t / 1e6:.2f} M rows/s")
