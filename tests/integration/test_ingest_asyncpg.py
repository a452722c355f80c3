"""asyncpg through the real daemon into the WAL: binary parameters, pipelines and binary COPY."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from walread import WalReader, ms

from tests.conftest import Daemon

T0 = datetime(2024, 1, 1, tzinfo=UTC)

Body = Callable[[asyncpg.Connection], Awaitable[Any]]


def run(d: Daemon, body: Body) -> Any:
    async def main() -> Any:
        conn = await asyncpg.connect(host="127.0.0.1", port=d.port, user=d.user,
                                     password=d.password, database=d.user, ssl=False)
        try:
            # json's binary format is its text: lets binary COPY carry dicts too.
            await conn.set_type_codec("json", encoder=lambda v: json.dumps(v).encode(),
                                      decoder=json.loads, schema="pg_catalog",
                                      format="binary")
            return await body(conn)
        finally:
            await conn.close()

    return asyncio.run(main())


def test_typed_params(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()

    async def body(c: asyncpg.Connection) -> list[str]:
        return [
            await c.execute(
                "INSERT INTO events (external_id, start_time, metadata, asset_ids, type)"
                " VALUES ($1, $2, $3, $4, $5)",
                "apg-ev", T0 + timedelta(microseconds=1500), {"k": "v"}, [1, 2], None),
            await c.execute(
                "INSERT INTO time_series (external_id, is_step, security_categories,"
                " asset_id) VALUES ($1, $2, $3, $4)", "apg-ts", True, [5], 9007199254740991),
            await c.execute(
                "INSERT INTO double_datapoints (external_id, timestamp, value)"
                " VALUES ($1::text, $2::timestamptz, $3::float8)", "apg-ts", T0, 1e-300),
            await c.execute("UPDATE time_series SET unit = $1 WHERE external_id = $2",
                            "degC", "apg-ts"),
            await c.execute("DELETE FROM events WHERE id = $1", 17),
        ]

    tags = run(wal_gateway, body)
    assert tags == ["INSERT 0 1", "INSERT 0 1", "INSERT 0 1", "UPDATE 1", "DELETE 1"]
    recs = wal.since(mark)
    assert [(r.table, r.op) for r in recs] == [
        ("events", "insert"), ("time_series", "insert"), ("double_datapoints", "insert"),
        ("time_series", "update"), ("events", "delete")]
    assert recs[0].rows() == [{"external_id": "apg-ev", "start_time": ms(T0.isoformat()) + 1,
                               "metadata": {"k": "v"}, "asset_ids": [1, 2], "type": None}]
    assert recs[1].rows() == [{"external_id": "apg-ts", "is_step": True,
                               "security_categories": [5], "asset_id": 9007199254740991}]
    assert recs[2].rows() == [{"external_id": "apg-ts", "timestamp": ms(T0.isoformat()),
                               "value": 1e-300}]
    assert recs[3].rows() == [{"external_id": "apg-ts", "unit": "degC"}]
    assert recs[4].rows() == [{"id": 17}]


def test_executemany(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    rows = [("apg-many", T0 + timedelta(seconds=i), float(i)) for i in range(300)]

    async def body(c: asyncpg.Connection) -> None:
        await c.executemany(
            "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES ($1, $2, $3)",
            rows)

    run(wal_gateway, body)
    assert wal.rows(mark) == [{"external_id": x, "timestamp": ms(t.isoformat()), "value": v}
                              for x, t, v in rows]
    assert len(wal.transactions(mark)) == 1


def test_transaction(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()

    async def body(c: asyncpg.Connection) -> None:
        async with c.transaction():
            await c.execute("INSERT INTO assets (external_id, name) VALUES ($1, $2)",
                            "apg-tx", "n")
            await c.executemany("INSERT INTO assets (external_id, name) VALUES ($1, $2)",
                                [("apg-tx-2", "a"), ("apg-tx-3", "b")])
        with pytest.raises(RuntimeError):
            async with c.transaction():
                await c.execute("INSERT INTO assets (external_id, name) VALUES ($1, $2)",
                                "apg-tx-gone", "n")
                raise RuntimeError("roll back")

    run(wal_gateway, body)
    (tx,) = wal.transactions(mark)
    assert [row for r in tx for row in r.rows()] == [
        {"external_id": "apg-tx", "name": "n"}, {"external_id": "apg-tx-2", "name": "a"},
        {"external_id": "apg-tx-3", "name": "b"}]


def test_copy_records_to_table(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    rows = [("apg-copy", T0 + timedelta(milliseconds=10 * i), i * 1.25) for i in range(2000)]

    async def body(c: asyncpg.Connection) -> list[str]:
        return [
            await c.copy_records_to_table(
                "double_datapoints", records=rows, columns=["external_id", "timestamp", "value"]),
            await c.copy_records_to_table(
                "assets", records=[("apg-copy-a", "A", {"m": "1"}, ["l"]),
                                   ("apg-copy-b", "B", None, None)],
                columns=["external_id", "name", "metadata", "labels"]),
            await c.copy_records_to_table(
                "raw_rows", schema_name="public",
                records=[("db", "t", "k", {"a": [1, {"b": None}]})],
                columns=["_raw_database", "_raw_table", "_raw_key", "_raw_columns"]),
        ]

    assert run(wal_gateway, body) == ["COPY 2000", "COPY 2", "COPY 1"]
    recs = wal.since(mark)
    assert [(r.table, r.op, r.nrows) for r in recs] == [
        ("double_datapoints", "insert", 2000), ("assets", "insert", 2), ("raw_rows", "insert", 1)]
    assert recs[0].rows() == [{"external_id": x, "timestamp": ms(t.isoformat()), "value": v}
                              for x, t, v in rows]
    assert recs[1].rows() == [
        {"external_id": "apg-copy-a", "name": "A", "metadata": {"m": "1"}, "labels": ["l"]},
        {"external_id": "apg-copy-b", "name": "B", "metadata": None, "labels": None}]
    assert recs[2].rows() == [{"_raw_database": "db", "_raw_table": "t", "_raw_key": "k",
                               "_raw_columns": {"a": [1, {"b": None}]}}]


def test_copy_to_table_csv(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    data = (b"external_id;timestamp;value\n"
            b"apg-csv;2024-01-01T00:00:00.001Z;1.5\n"
            b"apg-csv;2024-01-01 01:00:00;NaN\n")

    async def body(c: asyncpg.Connection) -> str:
        return await c.copy_to_table(  # type: ignore[no-any-return]
            "double_datapoints", source=io.BytesIO(data), format="csv", header=True,
            delimiter=";", columns=["external_id", "timestamp", "value"])

    with pytest.raises(asyncpg.PostgresError) as e:
        run(wal_gateway, body)
    # NaN is refused for a datapoint value (CDF needs finite numbers).
    assert e.value.sqlstate == "22003", e.value
    assert "line 3" in str(e.value.context or "") + str(e.value), e.value.as_dict()
    wal.assert_nothing_since(mark)
    data = data.replace(b"NaN", b"-2.5e3")
    assert run(wal_gateway, body) == "COPY 2"
    assert wal.rows(mark) == [
        {"external_id": "apg-csv", "timestamp": ms("2024-01-01T00:00:00.001Z"), "value": 1.5},
        {"external_id": "apg-csv", "timestamp": ms("2024-01-01T01:00:00Z"), "value": -2500.0}]


def test_copy_generator_failure_keeps_nothing(wal_gateway: Daemon, wal: WalReader) -> None:
    """asyncpg sends CopyFail when the record iterator raises."""
    mark = wal.mark()

    async def records() -> Any:
        for i in range(5):
            yield ("apg-fail", T0 + timedelta(seconds=i), float(i))
        raise ValueError("boom")

    async def body(c: asyncpg.Connection) -> str:
        with pytest.raises(ValueError):
            await c.copy_records_to_table("double_datapoints", records=records(),
                                          columns=["external_id", "timestamp", "value"])
        return await c.execute(  # type: ignore[no-any-return]
            "INSERT INTO assets (external_id, name) VALUES ('apg-after-fail', 'x')")

    assert run(wal_gateway, body) == "INSERT 0 1"
    assert wal.rows(mark) == [{"external_id": "apg-after-fail", "name": "x"}]
    wal.assert_no_staged()


def test_errors_keep_nothing(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    rows = [("apg-err", T0 + timedelta(seconds=i), float(i)) for i in range(10)]
    rows[6] = ("apg-err", datetime(1800, 1, 1, tzinfo=UTC), 6.0)

    async def body(c: asyncpg.Connection) -> list[str]:
        out = []
        with pytest.raises(asyncpg.DatetimeFieldOverflowError):
            await c.executemany("INSERT INTO double_datapoints (external_id, timestamp, value)"
                                " VALUES ($1, $2, $3)", rows)
        with pytest.raises(asyncpg.NumericValueOutOfRangeError) as e:
            await c.copy_records_to_table(
                "double_datapoints", columns=["external_id", "timestamp", "value"],
                records=[("apg-err", T0, 1.0), ("apg-err", T0, float("inf"))])
        out.append(e.value.as_dict().get("context", ""))
        with pytest.raises(asyncpg.UndefinedColumnError):
            await c.execute("INSERT INTO assets (external_id, nope) VALUES ($1, $2)", "a", "b")
        out.append(await c.execute("INSERT INTO assets (external_id, name) VALUES ($1, $2)",
                                   "apg-after-err", "x"))
        return out

    context, tag = run(wal_gateway, body)
    assert context.startswith("COPY double_datapoints, line 2, column value"), context
    assert tag == "INSERT 0 1"
    assert wal.rows(mark) == [{"external_id": "apg-after-err", "name": "x"}]
    wal.assert_no_staged()
