"""pg8000 (native and DB-API) through the real daemon into the WAL.

pg8000 sends every parameter as untyped text and flushes + syncs after each message,
including right after a COPY's Execute, before any CopyData.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pg8000.dbapi
import pg8000.native
import pytest
from walread import WalReader, ms

from tests.conftest import Daemon

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def native(wal_gateway: Daemon) -> Iterator[pg8000.native.Connection]:
    c = pg8000.native.Connection(wal_gateway.user, host="127.0.0.1", port=wal_gateway.port,
                                 password=wal_gateway.password, database=wal_gateway.user)
    try:
        yield c
    finally:
        c.close()


def test_native_params(native: pg8000.native.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    native.run("INSERT INTO events (external_id, start_time, metadata, asset_ids, description)"
               " VALUES (:x, :t, :m, :a, :d)",
               x="p8-ev", t=T0 + timedelta(milliseconds=3), m={"k": "v"}, a=[4, 5], d=None)
    assert native.row_count == 1
    native.run("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES (:x, :t, :v)",
               x="p8-dp", t="2024-01-01T00:00:00Z", v=2.5)
    native.run("UPDATE events SET description = :d WHERE external_id = :x", d="upd", x="p8-ev")
    assert native.row_count == 1
    native.run("DELETE FROM double_datapoints WHERE external_id = :x AND timestamp >= :lo"
               " AND timestamp < :hi", x="p8-dp", lo=T0, hi=T0 + timedelta(days=1))
    recs = wal.since(mark)
    assert [(r.table, r.op) for r in recs] == [
        ("events", "insert"), ("double_datapoints", "insert"), ("events", "update"),
        ("double_datapoints", "delete")]
    t0 = ms(T0.isoformat())
    assert recs[0].rows() == [{"external_id": "p8-ev", "start_time": t0 + 3,
                               "metadata": {"k": "v"}, "asset_ids": [4, 5],
                               "description": None}]
    assert recs[1].rows() == [{"external_id": "p8-dp", "timestamp": t0, "value": 2.5}]
    assert recs[2].rows() == [{"external_id": "p8-ev", "description": "upd"}]
    assert recs[3].rows() == [{"external_id": "p8-dp", "_range_begin": t0,
                               "_range_end": t0 + 86_400_000}]


def test_native_copy_with_flush_sync(native: pg8000.native.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    native.run("COPY double_datapoints (external_id, timestamp, value) FROM STDIN",
               stream=io.BytesIO(b"p8-copy\t2024-01-01 00:00:00+00\t1\n"
                                 b"p8-copy\t2024-01-01 00:00:01+00\t2\n"))
    assert native.row_count == 2
    native.run("COPY assets (external_id, name) FROM STDIN WITH (FORMAT csv)",
               stream=io.BytesIO(b"p8-copy-a,A\np8-copy-b,\"B, b\"\n"))
    assert native.row_count == 2
    recs = wal.since(mark)
    t0 = ms(T0.isoformat())
    assert recs[0].rows() == [{"external_id": "p8-copy", "timestamp": t0, "value": 1.0},
                              {"external_id": "p8-copy", "timestamp": t0 + 1000, "value": 2.0}]
    assert recs[1].rows() == [{"external_id": "p8-copy-a", "name": "A"},
                              {"external_id": "p8-copy-b", "name": "B, b"}]
    # A bad row aborts the whole COPY; the connection stays usable.
    mark = wal.mark()
    with pytest.raises(pg8000.native.DatabaseError) as e:
        native.run("COPY double_datapoints (external_id, timestamp, value) FROM STDIN",
                   stream=io.BytesIO(b"p8-copy-bad\t2024-01-01 00:00:00+00\t1\n"
                                     b"p8-copy-bad\t2024-01-01 00:00:01+00\tzz\n"))
    err = e.value.args[0]
    assert err["C"] == "22P02", err
    assert "zz" in err["M"] and "line 2" in err.get("W", ""), err
    native.run("INSERT INTO assets (external_id, name) VALUES ('p8-after', 'x')")
    assert wal.rows(mark) == [{"external_id": "p8-after", "name": "x"}]
    wal.assert_no_staged()


def test_native_transaction(native: pg8000.native.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    native.run("START TRANSACTION")
    native.run("INSERT INTO assets (external_id, name) VALUES (:x, :n)", x="p8-tx", n="t")
    native.run("COPY assets (external_id, name) FROM STDIN",
               stream=io.BytesIO(b"p8-tx-copy\tc\n"))
    assert wal.since(mark) == []
    native.run("COMMIT")
    (tx,) = wal.transactions(mark)
    assert [row for r in tx for row in r.rows()] == [
        {"external_id": "p8-tx", "name": "t"}, {"external_id": "p8-tx-copy", "name": "c"}]
    mark = wal.mark()
    native.run("BEGIN")
    native.run("INSERT INTO assets (external_id, name) VALUES (:x, :n)", x="p8-tx-rb", n="t")
    native.run("ROLLBACK")
    wal.assert_nothing_since(mark)


def test_dbapi(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    conn = pg8000.dbapi.connect(wal_gateway.user, host="127.0.0.1", port=wal_gateway.port,
                                password=wal_gateway.password, database=wal_gateway.user)
    try:
        cur = conn.cursor()
        cur.execute("INSERT INTO time_series (external_id, name, is_string) VALUES (%s, %s, %s)",
                    ("p8-ts", "name", False))
        assert cur.rowcount == 1
        cur.executemany("INSERT INTO double_datapoints (external_id, timestamp, value)"
                        " VALUES (%s, %s, %s)",
                        [("p8-ts", T0 + timedelta(seconds=i), i / 4) for i in range(5)])
        cur.execute("COPY string_datapoints (external_id, timestamp, value) FROM STDIN",
                    stream=io.BytesIO(b"p8-str\t2024-01-01T00:00:00Z\thello\n"))
        assert cur.rowcount == 1
        assert wal.since(mark) == []  # DB-API: a transaction until commit()
        conn.commit()
        cur.execute("INSERT INTO time_series (external_id, name) VALUES (%s, %s)",
                    ("p8-ts-rb", "x"))
        conn.rollback()
    finally:
        conn.close()
    (tx,) = wal.transactions(mark)
    t0 = ms(T0.isoformat())
    assert [(r.table, r.op, r.rows()) for r in tx] == [
        ("time_series", "insert", [{"external_id": "p8-ts", "name": "name",
                                    "is_string": False}]),
        ("double_datapoints", "insert", [{"external_id": "p8-ts", "timestamp": t0 + 1000 * i,
                                          "value": i / 4} for i in range(5)]),
        ("string_datapoints", "insert", [{"external_id": "p8-str", "timestamp": t0,
                                          "value": "hello"}]),
    ]
