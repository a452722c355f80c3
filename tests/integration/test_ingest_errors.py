"""Rejected writes through the real daemon: SQLSTATE, message, nothing kept, connection usable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors as pe
from walread import WalReader

from tests.conftest import Daemon

T0 = datetime(2024, 1, 1, tzinfo=UTC)
LONG = "x" * 141
DP_COPY = "COPY double_datapoints (external_id, timestamp, value) FROM STDIN"
ASSET_COPY = "COPY assets (external_id, name) FROM STDIN"


def copy(c: psycopg.Connection, sql: str) -> psycopg.Copy:
    return c.cursor().copy(sql)


@pytest.fixture(scope="module")
def conn(wal_gateway: Daemon) -> Iterator[psycopg.Connection]:
    with psycopg.connect(wal_gateway.dsn, autocommit=True) as c:
        yield c


def still_usable(c: psycopg.Connection, wal: WalReader, mark: int, xid: str) -> None:
    """Nothing of the failed statement was kept, and the next statement works."""
    wal.assert_nothing_since(mark)
    cur = c.execute("INSERT INTO assets (external_id, name) VALUES (%s, 'ok')", (xid,))
    assert cur.statusmessage == "INSERT 0 1"
    assert wal.rows(mark) == [{"external_id": xid, "name": "ok"}]


# (id, sql, params, sqlstate, message fragment, context fragment or None)
CASES: list[tuple[str, str, Any, str, str, str | None]] = [
    ("unknown-table", "INSERT INTO nope (a) VALUES (1)", None,
     "42P01", 'relation "nope" does not exist', None),
    ("unknown-table-copy", "COPY public.nope FROM STDIN", None,
     "42P01", 'relation "public.nope" does not exist', None),
    ("unknown-column", "INSERT INTO assets (external_id, name, colour) VALUES ('e', 'n', 'red')",
     None, "42703", 'column "colour" of relation "assets" does not exist', None),
    ("unknown-column-update", "UPDATE assets SET colour = 'red' WHERE external_id = 'e'", None,
     "42703", '"colour"', None),
    # String literals only: with an int literal in the same column (VALUES (..., 1), (...,
    # 'abc')) the context names row 1 and value "1" (coerce.py, reported).
    ("bad-int-literal", "INSERT INTO assets (external_id, name, parent_id) VALUES"
     " ('e', 'n', '1'), ('e2', 'n', 'abc')", None,
     "22P02", 'invalid input syntax for type bigint: "abc"', "row 2"),
    ("bad-int-param", "INSERT INTO double_datapoints (external_id, timestamp, value)"
     " VALUES (%s, %s, %s::text)", ("e", T0, "1.5x"),
     "22P02", '"1.5x"', None),
    ("bad-json", "INSERT INTO assets (external_id, name, metadata) VALUES ('e', 'n', '{bad')",
     None, "22P02", "json", None),
    ("metadata-not-strings", "INSERT INTO assets (external_id, name, metadata)"
     " VALUES ('e', 'n', '{\"a\": 1}')", None, "22", "metadata", None),
    ("too-long", "INSERT INTO assets (external_id, name) VALUES ('e', %s)", (LONG,),
     "22001", "value too long for type character varying(140)", "column name"),
    ("missing-required", "INSERT INTO assets (external_id, description) VALUES ('e', 'd')",
     None, "23502", 'null value in column "name" of relation "assets"', None),
    ("null-required", "INSERT INTO assets (external_id, name) VALUES ('e', NULL)", None,
     "23502", 'null value in column "name"', None),
    ("value-out-of-range", "INSERT INTO double_datapoints (external_id, timestamp, value)"
     " VALUES ('e', '2024-01-01Z', 1e101)", None, "22003", "value", None),
    ("bigint-out-of-range", "INSERT INTO assets (external_id, name, parent_id)"
     " VALUES ('e', 'n', 99999999999999999999)", None, "22003", "out of range", None),
    ("timestamp-before-1900", "INSERT INTO double_datapoints (external_id, timestamp, value)"
     " VALUES ('e', '1899-12-31T23:59:59Z', 1)", None, "22008", "timestamp", None),
    ("timestamp-after-2099", "INSERT INTO double_datapoints (external_id, timestamp, value)"
     " VALUES (%s, %s, %s)", ("e", datetime(2100, 1, 1, tzinfo=UTC), 1.0),
     "22008", "timestamp", None),
    ("duplicate-key", "INSERT INTO assets (external_id, name) VALUES ('e', 'a'), ('e', 'b')",
     None, "23505", "duplicate key value", "row 2"),
    ("duplicate-key-upsert", "INSERT INTO assets (external_id, name) VALUES ('e', 'a'),"
     " ('e', 'b') ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name", None,
     "21000", "ON CONFLICT DO UPDATE command cannot affect row a second time", None),
    ("read-only-column", "INSERT INTO assets (id, external_id, name) VALUES (5, 'e', 'n')", None,
     "428C9", 'cannot insert a non-DEFAULT value into column "id"', None),
    ("read-only-update",
     "UPDATE assets SET created_time = '2024-01-01Z' WHERE external_id = 'e'", None,
     "428C9", "created_time", None),
    ("returning", "INSERT INTO assets (external_id, name) VALUES ('e', 'n') RETURNING id", None,
     "0A000", "RETURNING is not supported", None),
    ("returning-update", "UPDATE assets SET name = 'n' WHERE external_id = 'e' RETURNING *",
     None, "0A000", "RETURNING", None),
    ("truncate", "TRUNCATE assets", None, "0A000", "TRUNCATE", None),
    ("delete-without-where", "DELETE FROM assets", None, "0A000",
     'DELETE without WHERE is not supported on "assets"', None),
    ("delete-other-predicate", "DELETE FROM assets WHERE name = 'n'", None,
     "0A000", "external_id", None),
    ("update-other-predicate", "UPDATE assets SET description = 'd' WHERE name LIKE 'n%%'", None,
     "0A000", "external_id", None),
    ("update-not-supported", "UPDATE labels SET name = 'n' WHERE external_id = 'e'", None,
     "0A000", "labels", None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rejected_statement(conn: psycopg.Connection, wal: WalReader,
                            case: tuple[str, str, Any, str, str, str | None]) -> None:
    name, sql, params, sqlstate, message, context = case
    mark = wal.mark()
    with pytest.raises(psycopg.Error) as e:
        conn.execute(sql, params)
    diag = e.value.diag
    assert diag.sqlstate is not None and diag.sqlstate.startswith(sqlstate), (
        diag.sqlstate, diag.message_primary)
    assert message in (diag.message_primary or ""), diag.message_primary
    if context is not None:
        assert context in (diag.context or ""), (diag.context, diag.message_primary)
    still_usable(conn, wal, mark, f"err-after-{name}")


def test_copy_bad_value_context(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    with pytest.raises(pe.InvalidTextRepresentation) as e, copy(conn, DP_COPY) as cp:
        cp.write("cp-err\t2024-01-01T00:00:00Z\t1\n"
                 "cp-err\t2024-01-01T00:00:01Z\t2\n"
                 "cp-err\t2024-01-01T00:00:02Z\tzz\n")
    diag = e.value.diag
    assert diag.message_primary == 'invalid input syntax for type double precision: "zz"'
    assert diag.context == 'COPY double_datapoints, line 3, column value: "zz"'
    still_usable(conn, wal, mark, "err-after-copy-value")


def test_copy_csv_header_line_numbers(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    csv = ASSET_COPY + " WITH (FORMAT csv, HEADER)"
    with pytest.raises(pe.StringDataRightTruncation) as e, copy(conn, csv) as cp:
        cp.write(f"external_id,name\ncp-a,ok\ncp-b,{LONG}\n")
    assert e.value.diag.context is not None
    assert e.value.diag.context.startswith("COPY assets, line 3, column name"), e.value.diag.context
    still_usable(conn, wal, mark, "err-after-copy-long")


def test_copy_wrong_column_count(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    with pytest.raises(pe.BadCopyFileFormat) as e, copy(conn, ASSET_COPY) as cp:
        cp.write("cp-c\tok\ncp-d\tok\textra\n")
    assert "line 2" in (e.value.diag.context or ""), e.value.diag.context
    still_usable(conn, wal, mark, "err-after-copy-count")


def test_copy_missing_required_column(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    sql = "COPY assets (external_id) FROM STDIN"
    with pytest.raises(pe.NotNullViolation), copy(conn, sql) as cp:
        cp.write("cp-e\n")
    still_usable(conn, wal, mark, "err-after-copy-required")


def test_copy_fail_keeps_nothing(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    # psycopg sends CopyFail and re-raises the client's own exception.
    with pytest.raises(RuntimeError), copy(conn, DP_COPY) as cp:
        for i in range(100):
            cp.write_row(("cp-fail", T0 + timedelta(seconds=i), float(i)))
        raise RuntimeError("client gives up")
    still_usable(conn, wal, mark, "err-after-copyfail")


def test_error_after_staged_chunks_keeps_nothing(conn: psycopg.Connection,
                                                 wal: WalReader) -> None:
    """A COPY big enough to stage chunks in the WAL, then a bad row: all of it goes."""
    mark = wal.mark()
    n = 45_000
    with pytest.raises(pe.DatetimeFieldOverflow), copy(conn, DP_COPY) as cp:
        cp.write("".join(f"cp-big\t{_iso(T0, i)}\t{i}\n" for i in range(n)))
        cp.write("cp-big\t2100-01-01T00:00:00Z\t1\n")
    still_usable(conn, wal, mark, "err-after-big-copy")


def _iso(t: datetime, i: int) -> str:
    return (t + timedelta(milliseconds=i)).isoformat()


def test_pipeline_error_keeps_nothing(wal_gateway: Daemon, wal: WalReader) -> None:
    """executemany pipelines Bind/Execute until one Sync: a bad row drops the earlier ones."""
    mark = wal.mark()
    rows = [("pipe-err", T0 + timedelta(seconds=i), float(i)) for i in range(10)]
    rows[6] = ("pipe-err", datetime(1800, 1, 1, tzinfo=UTC), 6.0)
    with psycopg.connect(wal_gateway.dsn, autocommit=True) as c:
        with pytest.raises(pe.DatetimeFieldOverflow) as e, c.cursor() as cur:
            cur.executemany("INSERT INTO double_datapoints (external_id, timestamp, value)"
                            " VALUES (%s, %s, %s)", rows)
        assert "row 7" in (e.value.diag.context or ""), e.value.diag.context
        still_usable(c, wal, mark, "err-after-pipeline")


def test_failed_transaction_block(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    with psycopg.connect(wal_gateway.dsn, autocommit=True) as c:
        c.execute("BEGIN")
        c.execute("INSERT INTO assets (external_id, name) VALUES ('blk-1', 'a')")
        with pytest.raises(pe.UndefinedTable):
            c.execute("INSERT INTO nope (a) VALUES (1)")
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        for sql in ["INSERT INTO assets (external_id, name) VALUES ('blk-2', 'b')",
                    "SELECT 1", "COPY assets (external_id, name) FROM STDIN"]:
            with pytest.raises(pe.InFailedSqlTransaction) as e:
                c.execute(sql)
            assert e.value.diag.message_primary == (
                "current transaction is aborted, commands ignored until end of transaction block")
        # Extended protocol too (server-side parameters).
        with pytest.raises(pe.InFailedSqlTransaction):
            c.execute("INSERT INTO assets (external_id, name) VALUES (%s, %s)", ("blk-3", "c"))
        assert c.execute("ROLLBACK").statusmessage == "ROLLBACK"
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        wal.assert_nothing_since(mark)
        still_usable(c, wal, mark, "err-after-block")


def test_copy_fail_in_transaction(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    with psycopg.connect(wal_gateway.dsn) as c:
        c.execute("INSERT INTO assets (external_id, name) VALUES ('blk-copy-1', 'a')")
        # CopyFail sent, the client's own error re-raised.
        with pytest.raises(RuntimeError), copy(c, ASSET_COPY) as cp:
            cp.write_row(("blk-copy-2", "b"))
            raise RuntimeError("give up")
        with pytest.raises(pe.InFailedSqlTransaction):
            c.execute("INSERT INTO assets (external_id, name) VALUES ('blk-copy-3', 'c')")
        c.rollback()
        wal.assert_nothing_since(mark)
        c.execute("INSERT INTO assets (external_id, name) VALUES ('blk-copy-4', 'd')")
        c.commit()
    assert wal.rows(mark) == [{"external_id": "blk-copy-4", "name": "d"}]


def test_unsupported_savepoint_rollback(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    with psycopg.connect(wal_gateway.dsn, autocommit=True) as c:
        c.execute("BEGIN")
        c.execute("SAVEPOINT s1")
        c.execute("INSERT INTO assets (external_id, name) VALUES ('sp-1', 'a')")
        with pytest.raises(pe.FeatureNotSupported):
            c.execute("ROLLBACK TO SAVEPOINT s1")
        c.execute("ROLLBACK")
    wal.assert_nothing_since(mark)


def test_duplicate_keys_do_nothing(conn: psycopg.Connection, wal: WalReader) -> None:
    """ON CONFLICT DO NOTHING drops a statement's own duplicates, like PostgreSQL."""
    mark = wal.mark()
    cur = conn.execute("INSERT INTO assets (external_id, name) VALUES ('dup-1', 'a'),"
                       " ('dup-1', 'b'), ('dup-2', 'c') ON CONFLICT DO NOTHING")
    assert cur.statusmessage == "INSERT 0 2"
    assert wal.rows(mark) == [{"external_id": "dup-1", "name": "a"},
                              {"external_id": "dup-2", "name": "c"}]
