"""psycopg2 through the real daemon into the WAL: simple-query writes with client-side literals."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg2
import psycopg2.extras
import pytest
from walread import WalReader, ms

from tests.conftest import Daemon

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def conn(wal_gateway: Daemon) -> Iterator[psycopg2.extensions.connection]:
    c = psycopg2.connect(wal_gateway.dsn)
    try:
        yield c
    finally:
        c.close()


def test_execute_values(conn: psycopg2.extensions.connection, wal: WalReader) -> None:
    mark = wal.mark()
    rows = [(f"pg2-ev-{i}", f"it's {i}", {"i": str(i)}) for i in range(250)]
    with conn.cursor() as cur:
        psycopg2.extras.execute_values(
            cur, "INSERT INTO assets (external_id, name, metadata) VALUES %s",
            [(x, n, psycopg2.extras.Json(m)) for x, n, m in rows], page_size=100)
        assert cur.statusmessage == "INSERT 0 50"  # the last page
        assert wal.since(mark) == []  # psycopg2 is in a transaction until commit
    conn.commit()
    (tx,) = wal.transactions(mark)
    assert [(r.table, r.op) for r in tx] == [("assets", "insert")]
    assert tx[0].rows() == [{"external_id": x, "name": n, "metadata": m} for x, n, m in rows]


def test_datapoints_with_timestamps(conn: psycopg2.extensions.connection, wal: WalReader) -> None:
    mark = wal.mark()
    rows = [("pg2-dp", T0 + timedelta(milliseconds=1500 * i), 1.0 / (i + 1)) for i in range(10)]
    with conn.cursor() as cur:
        psycopg2.extras.execute_values(
            cur, "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES %s", rows)
        assert cur.statusmessage == "INSERT 0 10"
        cur.execute("INSERT INTO double_datapoints (external_id, timestamp, value)"
                    " VALUES (%s, %s, %s)", ("pg2-dp", datetime(2024, 6, 1, 12), 7))
    conn.commit()
    got = wal.rows(mark)
    assert got[:10] == [{"external_id": x, "timestamp": ms(t.isoformat()), "value": v}
                        for x, t, v in rows]
    # A naive timestamp is in the session TimeZone (UTC by default).
    assert got[10] == {"external_id": "pg2-dp", "timestamp": ms("2024-06-01T12:00:00Z"),
                       "value": 7.0}


def test_copy_from_legacy_syntax(conn: psycopg2.extensions.connection, wal: WalReader) -> None:
    mark = wal.mark()
    data = io.StringIO(
        "pg2-cf\t2024-01-01 00:00:00+00\tplain\n"
        "pg2-cf\t2024-01-01 00:00:01+00\twith\\ttab\n"
        "pg2-cf\t2024-01-01 00:00:02+00\t\\\\N\n")  # \\N: the text \N
    with conn.cursor() as cur:
        cur.copy_from(data, "string_datapoints", columns=("external_id", "timestamp", "value"))
        assert cur.rowcount == 3
    conn.commit()
    t0 = ms("2024-01-01T00:00:00Z")
    assert wal.rows(mark) == [
        {"external_id": "pg2-cf", "timestamp": t0, "value": "plain"},
        {"external_id": "pg2-cf", "timestamp": t0 + 1000, "value": "with\ttab"},
        {"external_id": "pg2-cf", "timestamp": t0 + 2000, "value": "\\N"},
    ]


def test_copy_expert_csv_header(conn: psycopg2.extensions.connection, wal: WalReader) -> None:
    mark = wal.mark()
    data = io.StringIO(
        "external_id,name,description,metadata\n"
        'pg2-csv-1,"Name, with comma","multi\nline","{""a"": ""b""}"\n'
        'pg2-csv-2,plain,,\n'
        'pg2-csv-3,"quoted empty","",{}\n')
    with conn.cursor() as cur:
        cur.copy_expert("COPY assets (external_id, name, description, metadata)"
                        " FROM STDIN WITH (FORMAT csv, HEADER true)", data)
        assert cur.rowcount == 3
        cur.copy_expert("COPY events (external_id, type) FROM STDIN CSV HEADER",
                        io.StringIO("external_id,type\npg2-csv-ev,alarm\n"))
        assert cur.rowcount == 1
    conn.commit()
    recs = wal.since(mark)
    assert [(r.table, r.op) for r in recs] == [("assets", "insert"), ("events", "insert")]
    assert recs[0].rows() == [
        {"external_id": "pg2-csv-1", "name": "Name, with comma", "description": "multi\nline",
         "metadata": {"a": "b"}},
        {"external_id": "pg2-csv-2", "name": "plain", "description": None, "metadata": None},
        {"external_id": "pg2-csv-3", "name": "quoted empty", "description": "", "metadata": {}},
    ]
    assert recs[1].rows() == [{"external_id": "pg2-csv-ev", "type": "alarm"}]


def test_transactions(conn: psycopg2.extensions.connection, wal: WalReader) -> None:
    mark = wal.mark()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key, _raw_columns)"
                    " VALUES (%s, %s, %s, %s)",
                    ("db", "tbl", "k1", psycopg2.extras.Json({"x": 1, "y": [1, 2], "z": None})))
        cur.execute("INSERT INTO raw_rows VALUES ('db', 'tbl', 'k2', '{\"s\": \"t\"}')")
    assert wal.since(mark) == []
    conn.rollback()
    assert wal.since(mark) == []
    with conn.cursor() as cur:
        cur.execute("INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key, _raw_columns)"
                    " VALUES (%s, %s, %s, %s)", ("db", "tbl", "k3", '{"n": 1.5}'))
        # execute_batch: several statements in one simple Query.
        psycopg2.extras.execute_batch(
            cur, "DELETE FROM raw_rows WHERE _raw_database = %s AND _raw_table = %s"
            " AND _raw_key = %s", [("db", "tbl", "k1"), ("db", "tbl", "k2")])
    conn.commit()
    (tx,) = wal.transactions(mark)
    assert [(r.table, r.op) for r in tx] == [("raw_rows", "insert"), ("raw_rows", "delete")]
    assert tx[0].rows() == [{"_raw_database": "db", "_raw_table": "tbl", "_raw_key": "k3",
                             "_raw_columns": {"n": 1.5}}]
    assert tx[1].rows() == [{"_raw_database": "db", "_raw_table": "tbl", "_raw_key": "k1"},
                            {"_raw_database": "db", "_raw_table": "tbl", "_raw_key": "k2"}]


def test_error_in_transaction_then_rollback(conn: psycopg2.extensions.connection,
                                            wal: WalReader) -> None:
    mark = wal.mark()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO assets (external_id, name) VALUES ('pg2-tx-ok', 'ok')")
        with pytest.raises(psycopg2.errors.NotNullViolation):
            cur.execute("INSERT INTO assets (external_id) VALUES ('pg2-tx-bad')")
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            cur.execute("INSERT INTO assets (external_id, name) VALUES ('pg2-tx-2', 'x')")
    conn.rollback()
    wal.assert_nothing_since(mark)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO assets (external_id, name) VALUES ('pg2-tx-3', 'x')")
    conn.commit()
    assert wal.rows(mark) == [{"external_id": "pg2-tx-3", "name": "x"}]
    # COMMIT of a failed block is a ROLLBACK.
    mark = wal.mark()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO assets (external_id, name) VALUES ('pg2-tx-4', 'x')")
        with pytest.raises(psycopg2.errors.UndefinedColumn):
            cur.execute("INSERT INTO assets (external_id, nope) VALUES ('pg2-tx-5', 'x')")
        cur.execute("COMMIT")
        assert cur.statusmessage == "ROLLBACK"
    conn.rollback()
    wal.assert_nothing_since(mark)
