"""Micro-benchmarks of the write front end, printed with ``pytest -s`` (never timed assertions).

Run: ``pytest -s tests/unit/sql/test_write_bench.py tests/unit/tables/test_coerce_bench.py``
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import pytest

from pggw.sql.lexer import split_statements
from pggw.sql.write import InsertPlan, clear_cache, parse_write, plan_for
from pggw.tables.coerce import coerce_columns
from pggw.tables.model import Column, Op, Table
from pggw.tables.registry import Registry
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
REG = Registry([DPS])


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


def literal_insert(rows: int) -> str:
    body = ",".join(
        f"('ts{i % 100}','2024-01-01 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:"
        f"{i % 60:02d}.{i % 1000:03d}+00',{i * 0.25})"
        for i in range(rows))
    return f"INSERT INTO double_datapoints (external_id, timestamp, value) VALUES {body}"


def test_bench_literal_insert_parse() -> None:
    sql = literal_insert(100_000)
    t = best(lambda: parse_write(sql, REG), runs=2)
    print(f"\nparse 100k-row literal INSERT ({len(sql) / 1e6:.1f} MB): {t:.3f} s = "
          f"{300_000 / t / 1e3:.0f}k values/s")
    p = parse_write(sql, REG)
    assert isinstance(p, InsertPlan)
    t2 = best(lambda: coerce_columns(DPS, list(p.columns), list(p.values), source="python"),
              runs=2)
    print(f"  + coerce: {t2:.3f} s; parse+coerce {100_000 / (t + t2) / 1e3:.0f}k rows/s")
    ts = best(lambda: split_statements(sql + ";"), runs=2)
    print(f"  split_statements: {ts * 1000:.1f} ms")


def test_bench_thousand_row_inserts() -> None:
    sqls = [literal_insert(1000) for _ in range(5)]
    t = best(lambda: [coerce_columns(DPS, list(p.columns), list(p.values), source="python")
                      for p in [parse_write(s, REG) for s in sqls]
                      if isinstance(p, InsertPlan)], runs=2)
    print(f"\n1000-row literal INSERT, parse+coerce: {5000 / t / 1e3:.0f}k rows/s")


def test_bench_prepared_executemany() -> None:
    clear_cache()
    sql = "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES ($1, $2, $3)"
    params = [[f"ts{i % 100}", f"2024-01-01 00:{i // 60 % 60:02d}:{i % 60:02d}+00", str(i * 0.5)]
              for i in range(100_000)]

    def per_execute() -> None:
        for prm in params:
            plan = plan_for(sql, REG)
            assert isinstance(plan, InsertPlan)
            plan.bind(prm)

    t = best(per_execute, runs=2)
    print(f"\nexecutemany: plan_for + bind per Execute: {t / len(params) * 1e6:.2f} µs "
          f"({len(params) / t / 1e3:.0f}k/s)")

    def per_execute_coerce() -> None:
        for prm in params[:20_000]:
            plan = plan_for(sql, REG)
            assert isinstance(plan, InsertPlan)
            coerce_columns(DPS, plan.columns, plan.bind(prm), source="text")

    t = best(per_execute_coerce, runs=2)
    print(f"  + coerce each Execute alone: {t / 20_000 * 1e6:.2f} µs per row")

    def batched() -> None:
        plan = plan_for(sql, REG)
        assert isinstance(plan, InsertPlan)
        cols = plan.bind_many(params)
        coerce_columns(DPS, plan.columns, cols, source="text")

    t = best(batched, runs=2)
    print(f"  bind_many + one coerce per batch: {t / len(params) * 1e6:.2f} µs per row "
          f"({len(params) / t / 1e3:.0f}k rows/s)")
