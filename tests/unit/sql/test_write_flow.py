"""Plans and coercion together, the way the integrator will drive them."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import pytest

from pggw.sql.write import (
    CopyPlan,
    DeletePlan,
    InsertPlan,
    UpdatePlan,
    clear_cache,
    decode_params,
    plan_for,
)
from pggw.tables.coerce import check_duplicate_keys, check_required, coerce_columns
from pggw.tables.model import Op
from pggw.tables.registry import builtin_registry
from pggw.wire import types as T
from pggw.wire.errors import PgError

REG = builtin_registry()
MS_2024 = 1_704_067_200_000


def run_insert(sql: str, params: Sequence[Any] = (), formats: Sequence[int] = (),
               oids: Sequence[int] = (), tz: str = "UTC") -> tuple[dict[str, list[Any]], Any]:
    plan = plan_for(sql, REG)
    assert isinstance(plan, InsertPlan)
    cols = plan.bind(params)
    srcs, soids = plan.sources(formats, oids)
    for j, s in enumerate(srcs):
        if s == "mixed":
            cols[j] = decode_params(cols[j], plan.values[j], plan.param_types, formats, oids)
    check_required(plan.table, plan.columns)
    rows, _ = coerce_columns(plan.table, plan.columns, cols, source=srcs, oids=soids,
                             timezone=tz)
    check_duplicate_keys(plan.table, rows, plan.op)
    return rows, plan


def test_psycopg3_prepared_insert_binary_int2_for_bigint() -> None:
    clear_cache()
    sql = ("INSERT INTO double_datapoints (id, timestamp, value) VALUES "
           "($1::BIGINT, $2::TIMESTAMP WITH TIME ZONE, $3)")
    rows, plan = run_insert(
        sql, [struct.pack(">h", 5), bytes.fromhex("0002b0d5d4e94000"), struct.pack(">d", 1.5)],
        [1, 1, 1], [T.INT2.oid, T.TIMESTAMPTZ.oid, T.FLOAT8.oid])
    assert rows == {"id": [5], "timestamp": [MS_2024], "value": [1.5]}
    assert plan.param_types == (T.INT8.oid, T.TIMESTAMPTZ.oid, T.FLOAT8.oid)


def test_text_params_pg8000_style() -> None:
    rows, _ = run_insert(
        "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES ($1, $2, $3)",
        [b"ts1", b"2024-01-01 01:00:00", b"2.5"], [0, 0, 0], tz="Europe/Oslo")
    assert rows == {"external_id": ["ts1"], "timestamp": [MS_2024], "value": [2.5]}


def test_sqlalchemy_literal_insert() -> None:
    rows, plan = run_insert(
        "INSERT INTO assets (external_id, name, metadata) VALUES "
        "('a', 'A', '{\"k\": \"v\"}'), ('b', 'it''s', NULL)")
    assert plan.op is Op.INSERT
    assert rows == {"external_id": ["a", "b"], "name": ["A", "it's"],
                    "metadata": [{"k": "v"}, None]}


def test_mixed_column_with_binary_param() -> None:
    rows, _ = run_insert(
        "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES "
        "('x', '2024-01-01', $1), ('y', '2024-01-01', 2)", [struct.pack(">d", 1.0)], [1])
    assert rows["value"] == [1.0, 2.0]


def test_duplicate_external_ids_rejected_at_the_door() -> None:
    with pytest.raises(PgError) as ei:
        run_insert("INSERT INTO assets (external_id, name) VALUES ('a', 'x'), ('a', 'y')")
    assert ei.value.sqlstate == "23505"


def test_missing_required_column() -> None:
    with pytest.raises(PgError) as ei:
        run_insert("INSERT INTO assets (external_id) VALUES ('a')")
    assert ei.value.sqlstate == "23502"


def test_read_only_column_given_a_value() -> None:
    with pytest.raises(PgError) as ei:
        run_insert("INSERT INTO assets (id, name) VALUES (5, 'x')")
    assert ei.value.sqlstate == "428C9"


def test_omitted_column_list_with_null_read_only_values() -> None:
    rows, plan = run_insert("INSERT INTO assets VALUES (NULL, 'a', 'A')")
    assert plan.columns[:3] == ("id", "external_id", "name")
    assert rows == {"external_id": ["a"], "name": ["A"]}


def test_update_flow() -> None:
    plan = plan_for("UPDATE assets SET description = $1 WHERE external_id IN ($2, $3)", REG)
    assert isinstance(plan, UpdatePlan)
    cols = plan.bind(["d", "a", "b"])
    rows, _ = coerce_columns(plan.table, list(cols), list(cols.values()), source="text",
                             partial=True)
    assert rows == {"external_id": ["a", "b"], "description": ["d", "d"]}


def test_delete_datapoints_flow() -> None:
    plan = plan_for("DELETE FROM double_datapoints WHERE external_id = $1 AND "
                    "timestamp >= $2 AND timestamp < '2024-01-02'", REG)
    assert isinstance(plan, DeletePlan) and plan.where is not None
    keys, lo, hi = plan.where.bind(["x", "2024-01-01"])
    rng, _ = coerce_columns(plan.table, ["timestamp"], [[lo, hi]], source="python",
                            partial=True)
    assert keys == {"external_id": ["x"]}
    assert rng["timestamp"] == [MS_2024, MS_2024 + 86_400_000]


@pytest.mark.parametrize("name", sorted(REG))
def test_every_builtin_table_parses_and_coerces_nulls(name: str) -> None:
    table = REG[name]
    plan = plan_for(f'COPY "{name}" FROM STDIN (FORMAT csv)', REG)
    assert isinstance(plan, CopyPlan) and plan.table is table
    writable = [c.name for c in table.columns if not c.read_only and not c.required]
    if writable:
        rows, _ = coerce_columns(table, writable, [[None] for _ in writable], source="text",
                                 partial=True)
        assert set(rows) == set(writable)
