"""psycopg 3 through the real daemon into the WAL: every statement form of the write path.

Each test takes a WAL mark first and reads back exactly what its statements committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Json, Jsonb
from walread import WalReader, ms

from tests.conftest import Daemon

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def conn(wal_gateway: Daemon) -> Iterator[psycopg.Connection]:
    with psycopg.connect(wal_gateway.dsn, autocommit=True) as c:
        yield c


def test_insert_literals(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    cur = conn.execute(
        "INSERT INTO public.assets (external_id, \"name\", description, metadata,"
        " parent_external_id, labels, data_set_id) VALUES"
        " ('pg3-lit-1', 'Pump ''A''', NULL, '{\"site\": \"oslo\", \"n\": \"1\"}', DEFAULT,"
        "  '{l1,l2}', 42),"
        " ('pg3-lit-2', E'tab\\there', 'd', '{}'::jsonb, 'pg3-lit-1', ARRAY['x'], NULL)")
    assert cur.statusmessage == "INSERT 0 2"
    cur = conn.execute(
        "INSERT INTO events (external_id, start_time, end_time, type, asset_ids) VALUES"
        " ('pg3-ev-1', '2024-01-01 00:00:01.042+00', '2024-01-01T02:00:00Z'::timestamptz,"
        "  'alarm', '{1,2,3}')")
    assert cur.statusmessage == "INSERT 0 1"
    # Column list omitted: table order (id is read-only, so only a NULL/DEFAULT goes there).
    cur = conn.execute("INSERT INTO double_datapoints VALUES"
                       " (NULL, 'pg3-nocols', '2024-03-01T00:00:00Z', 2.5, DEFAULT, DEFAULT)")
    assert cur.statusmessage == "INSERT 0 1"
    recs = wal.since(mark)
    assert [(r.table, r.op, r.nrows) for r in recs] == [
        ("assets", "insert", 2), ("events", "insert", 1), ("double_datapoints", "insert", 1)]
    a1, a2 = recs[0].rows()
    assert a1["external_id"] == "pg3-lit-1" and a1["name"] == "Pump 'A'"
    assert a1["description"] is None
    assert a1["metadata"] == {"site": "oslo", "n": "1"}
    assert a1["labels"] == ["l1", "l2"] and a1["data_set_id"] == 42
    assert a1.get("parent_external_id") is None
    assert a2["name"] == "tab\there" and a2["metadata"] == {} and a2["labels"] == ["x"]
    assert a2["parent_external_id"] == "pg3-lit-1"
    (ev,) = recs[1].rows()
    assert ev["start_time"] == ms("2024-01-01T00:00:01.042Z")
    assert ev["end_time"] == ms("2024-01-01T02:00:00Z")
    assert ev["asset_ids"] == [1, 2, 3] and ev["type"] == "alarm"
    (dp,) = recs[2].rows()
    assert dp["external_id"] == "pg3-nocols" and dp["timestamp"] == ms("2024-03-01T00:00:00Z")
    assert dp["value"] == 2.5
    assert dp.get("id") is None and dp.get("status_code") is None


def test_insert_params(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO events (external_id, start_time, end_time, metadata, asset_ids, description)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        ("pg3-evp-1", T0 + timedelta(milliseconds=7, microseconds=999),
         datetime(2024, 1, 1, 3, tzinfo=timedelta_tz(2)), Jsonb({"k": "v"}), [10, 20], None))
    assert cur.statusmessage == "INSERT 0 1"
    cur.execute("INSERT INTO time_series (external_id, name, is_step, is_string, metadata)"
                " VALUES (%s, %s, %s, %s, %s)",
                ("pg3-ts-1", "Temperature", True, False, Json({"unit": "C"})))
    # Explicit casts on parameters and a literal mixed in.
    cur.execute("INSERT INTO double_datapoints (external_id, timestamp, value)"
                " VALUES (%s::varchar, %s::timestamptz, 3.25)",
                ("pg3-ts-1", "2024-01-01T00:00:00.5Z"))
    cur.execute("INSERT INTO double_datapoints (id, timestamp, value) VALUES (%s, %s, %s)",
                (123, T0, -1e99))
    recs = wal.since(mark)
    assert [(r.table, r.op, r.nrows) for r in recs] == [
        ("events", "insert", 1), ("time_series", "insert", 1),
        ("double_datapoints", "insert", 1), ("double_datapoints", "insert", 1)]
    (ev,) = recs[0].rows()
    assert ev["external_id"] == "pg3-evp-1"
    assert ev["start_time"] == ms("2024-01-01T00:00:00.007Z")  # microseconds truncated
    assert ev["end_time"] == ms("2024-01-01T01:00:00Z")  # 03:00+02
    assert ev["metadata"] == {"k": "v"} and ev["asset_ids"] == [10, 20]
    assert ev.get("description") is None
    (ts,) = recs[1].rows()
    assert ts == {"external_id": "pg3-ts-1", "name": "Temperature", "is_step": True,
                  "is_string": False, "metadata": {"unit": "C"}}
    assert recs[2].rows() == [{"external_id": "pg3-ts-1",
                               "timestamp": ms("2024-01-01T00:00:00.5Z"), "value": 3.25}]
    assert recs[3].rows() == [{"id": 123, "timestamp": ms("2024-01-01T00:00:00Z"),
                               "value": -1e99}]


def timedelta_tz(hours: int):  # noqa: ANN201 - tiny helper
    from datetime import timezone

    return timezone(timedelta(hours=hours))


def test_executemany_pipelined(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    rows = [("pg3-many", T0 + timedelta(seconds=i), i * 0.5) for i in range(500)]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES (%s, %s, %s)",
            rows)
    got = wal.rows(mark, "double_datapoints", "insert")
    assert got == [{"external_id": x, "timestamp": ms(t.isoformat()), "value": v}
                   for x, t, v in rows]
    # One implicit transaction (one Sync): one commit.
    assert len(wal.transactions(mark)) == 1


def test_executemany_in_transaction(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    with psycopg.connect(wal_gateway.dsn) as c:  # not autocommit: BEGIN ... COMMIT
        with c.cursor() as cur:
            cur.executemany("INSERT INTO string_datapoints (external_id, timestamp, value)"
                            " VALUES (%s, %s, %s)",
                            [("pg3-str", T0 + timedelta(minutes=i), f"v{i}") for i in range(20)])
            assert wal.since(mark) == []  # not committed yet
        c.commit()
    got = wal.rows(mark, "string_datapoints")
    assert [r["value"] for r in got] == [f"v{i}" for i in range(20)]
    assert got[3]["timestamp"] == ms("2024-01-01T00:03:00Z")


def test_copy_text(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    with conn.cursor() as cur:
        with cur.copy("COPY string_datapoints (external_id, timestamp, value) FROM STDIN") as cp:
            cp.write_row(("pg3-copy", T0, "tab\there"))
            cp.write_row(("pg3-copy", T0 + timedelta(seconds=1), "back\\slash\nnewline"))
            cp.write_row(("pg3-copy", "2024-01-01 00:00:02.25+00", r"\N"))
        assert cur.rowcount == 3
        assert cur.statusmessage == "COPY 3"
    assert wal.rows(mark) == [
        {"external_id": "pg3-copy", "timestamp": ms("2024-01-01T00:00:00Z"), "value": "tab\there"},
        {"external_id": "pg3-copy", "timestamp": ms("2024-01-01T00:00:01Z"),
         "value": "back\\slash\nnewline"},
        {"external_id": "pg3-copy", "timestamp": ms("2024-01-01T00:00:02.25Z"), "value": r"\N"},
    ]
    # NULLs in text COPY, and a raw write() with rows split across CopyData messages.
    mark = wal.mark()
    with conn.cursor() as cur:
        with cur.copy("COPY double_datapoints (external_id, timestamp, value, status_code)"
                      " FROM STDIN") as cp:
            cp.write("pg3-copy2\t2024-01-01T00:00:00Z\t1.5\t\\N\npg3-co")
            cp.write("py2\t2024-01-01T00:00:01Z\t\\N\t2147483648\n")
        assert cur.statusmessage == "COPY 2"
    assert wal.rows(mark) == [
        {"external_id": "pg3-copy2", "timestamp": ms("2024-01-01T00:00:00Z"), "value": 1.5,
         "status_code": None},
        {"external_id": "pg3-copy2", "timestamp": ms("2024-01-01T00:00:01Z"), "value": None,
         "status_code": 2147483648},
    ]


def test_copy_binary(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    rows = [("pg3-bin", T0 + timedelta(milliseconds=i), float(i) / 3) for i in range(1000)]
    with conn.cursor() as cur:
        with cur.copy("COPY double_datapoints (external_id, timestamp, value)"
                      " FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types(["varchar", "timestamptz", "float8"])
            for r in rows:
                cp.write_row(r)
        assert cur.statusmessage == "COPY 1000"
    got = wal.rows(mark)
    assert got == [{"external_id": x, "timestamp": ms("2024-01-01T00:00:00Z") + i, "value": v}
                   for i, (x, _t, v) in enumerate(rows)]
    # Binary COPY into JSON, arrays, bool and int columns.
    mark = wal.mark()
    with conn.cursor() as cur:
        with cur.copy("COPY time_series (external_id, name, is_step, metadata,"
                      " security_categories) FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types(["text", "text", "bool", "json", "int8[]"])
            cp.write_row(("pg3-bin-ts", "n", True, Json({"a": "b"}), [1, 2]))
            cp.write_row(("pg3-bin-ts2", None, False, None, None))
        assert cur.statusmessage == "COPY 2"
    assert wal.rows(mark) == [
        {"external_id": "pg3-bin-ts", "name": "n", "is_step": True, "metadata": {"a": "b"},
         "security_categories": [1, 2]},
        {"external_id": "pg3-bin-ts2", "name": None, "is_step": False, "metadata": None,
         "security_categories": None},
    ]


def test_transaction_commit(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    with psycopg.connect(wal_gateway.dsn) as c:
        c.execute("INSERT INTO assets (external_id, name) VALUES ('pg3-tx-root', 'root')")
        c.execute("INSERT INTO assets (external_id, name, parent_external_id)"
                  " VALUES (%s, %s, %s)", ("pg3-tx-child", "child", "pg3-tx-root"))
        with c.cursor().copy("COPY double_datapoints (external_id, timestamp, value)"
                             " FROM STDIN") as cp:
            cp.write_row(("pg3-tx-dp", T0, 1.0))
        assert wal.since(mark) == []  # nothing visible before COMMIT
        c.commit()
    txs = wal.transactions(mark)
    assert len(txs) == 1
    # Different column lists are different records, in statement order, one transaction.
    assert [(r.table, r.op) for r in txs[0]] == [
        ("assets", "insert"), ("assets", "insert"), ("double_datapoints", "insert")]
    assert [row for r in txs[0] for row in r.rows()] == [
        {"external_id": "pg3-tx-root", "name": "root"},
        {"external_id": "pg3-tx-child", "name": "child", "parent_external_id": "pg3-tx-root"},
        {"external_id": "pg3-tx-dp", "timestamp": ms("2024-01-01T00:00:00Z"), "value": 1.0},
    ]


def test_transaction_keeps_write_order(wal_gateway: Daemon, wal: WalReader) -> None:
    """A delete between two writes of the same key stays between them in the WAL."""
    mark = wal.mark()
    ins = "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES (%s, %s, %s)"
    with psycopg.connect(wal_gateway.dsn) as c:
        c.execute(ins, ("pg3-order", T0, 1.0))
        c.execute("DELETE FROM double_datapoints WHERE external_id = %s", ("pg3-order",))
        c.execute(ins, ("pg3-order", T0, 2.0))
        c.execute("INSERT INTO assets (external_id, name) VALUES ('pg3-order', 'a')")
        c.execute(ins, ("pg3-order", T0 + timedelta(seconds=1), 3.0))
    t0 = ms(T0.isoformat())
    (tx,) = wal.transactions(mark)
    assert [(r.table, r.op, r.rows()) for r in tx] == [
        ("double_datapoints", "insert", [{"external_id": "pg3-order", "timestamp": t0,
                                          "value": 1.0}]),
        ("double_datapoints", "delete", [{"external_id": "pg3-order"}]),
        ("double_datapoints", "insert", [
            {"external_id": "pg3-order", "timestamp": t0, "value": 2.0},
            {"external_id": "pg3-order", "timestamp": t0 + 1000, "value": 3.0}]),
        ("assets", "insert", [{"external_id": "pg3-order", "name": "a"}]),
    ]


def test_transaction_rollback(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    with psycopg.connect(wal_gateway.dsn) as c:
        c.execute("INSERT INTO assets (external_id, name) VALUES ('pg3-rb', 'gone')")
        with c.cursor().copy("COPY double_datapoints (external_id, timestamp, value)"
                             " FROM STDIN") as cp:
            cp.write_row(("pg3-rb", T0, 1.0))
        c.rollback()
        c.execute("INSERT INTO assets (external_id, name) VALUES ('pg3-after-rb', 'kept')")
        c.commit()
    assert wal.rows(mark) == [{"external_id": "pg3-after-rb", "name": "kept"}]
    # A dropped connection with an open transaction keeps nothing either.
    mark = wal.mark()
    c = psycopg.connect(wal_gateway.dsn)
    c.execute("INSERT INTO assets (external_id, name) VALUES ('pg3-dropped', 'gone')")
    c.close()
    with psycopg.connect(wal_gateway.dsn, autocommit=True) as c2:
        c2.execute("INSERT INTO assets (external_id, name) VALUES ('pg3-after-drop', 'kept')")
    assert wal.rows(mark) == [{"external_id": "pg3-after-drop", "name": "kept"}]
    wal.assert_no_staged()


def test_on_conflict(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    cur = conn.execute(
        "INSERT INTO assets (external_id, name, description) VALUES ('pg3-up', 'U', 'd')"
        " ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name,"
        " description = EXCLUDED.description")
    assert cur.statusmessage == "INSERT 0 1"
    cur = conn.execute(
        "INSERT INTO assets (external_id, name) VALUES (%s, %s), (%s, %s) ON CONFLICT DO NOTHING",
        ("pg3-ign-1", "I1", "pg3-ign-2", "I2"))
    assert cur.statusmessage == "INSERT 0 2"
    cur = conn.execute(
        "INSERT INTO double_datapoints (external_id, timestamp, value)"
        " VALUES ('pg3-up-dp', '2024-01-01Z', 1) ON CONFLICT (external_id, timestamp)"
        " DO UPDATE SET value = EXCLUDED.value")
    assert cur.statusmessage == "INSERT 0 1"
    recs = wal.since(mark)
    assert [(r.table, r.op) for r in recs] == [
        ("assets", "upsert"), ("assets", "insert-ignore"), ("double_datapoints", "upsert")]
    assert recs[0].rows() == [{"external_id": "pg3-up", "name": "U", "description": "d"}]
    assert recs[1].rows() == [{"external_id": "pg3-ign-1", "name": "I1"},
                              {"external_id": "pg3-ign-2", "name": "I2"}]
    assert recs[2].rows() == [{"external_id": "pg3-up-dp",
                               "timestamp": ms("2024-01-01T00:00:00Z"), "value": 1.0}]


def test_update_and_delete_by_key(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    tags = []
    for sql, params in [
        ("UPDATE assets SET name = 'renamed', metadata = '{\"a\": \"1\"}'"
         " WHERE external_id = 'pg3-up'", ()),
        ("UPDATE assets SET description = %s WHERE id = %s", ("by id", 77)),
        ("UPDATE events SET end_time = %s WHERE external_id IN (%s, %s)",
         (T0, "pg3-ev-1", "pg3-evp-1")),
        ("DELETE FROM assets WHERE external_id = %s", ("pg3-ign-1",)),
        ("DELETE FROM assets WHERE external_id IN ('pg3-ign-2', 'pg3-lit-1', 'pg3-lit-2')", ()),
        ("DELETE FROM events WHERE id = 5", ()),
    ]:
        tags.append(conn.execute(sql, params or None).statusmessage)
    assert tags == ["UPDATE 1", "UPDATE 1", "UPDATE 2", "DELETE 1", "DELETE 3", "DELETE 1"]
    recs = wal.since(mark)
    assert [(r.table, r.op) for r in recs] == [
        ("assets", "update"), ("assets", "update"), ("events", "update"),
        ("assets", "delete"), ("assets", "delete"), ("events", "delete")]
    assert recs[0].rows() == [{"external_id": "pg3-up", "name": "renamed",
                               "metadata": {"a": "1"}}]
    assert recs[1].rows() == [{"id": 77, "description": "by id"}]
    assert recs[2].rows() == [{"external_id": "pg3-ev-1", "end_time": ms(T0.isoformat())},
                              {"external_id": "pg3-evp-1", "end_time": ms(T0.isoformat())}]
    assert recs[3].rows() == [{"external_id": "pg3-ign-1"}]
    assert [r["external_id"] for r in recs[4].rows()] == ["pg3-ign-2", "pg3-lit-1", "pg3-lit-2"]
    assert recs[5].rows() == [{"id": 5}]


def test_datapoint_range_delete(conn: psycopg.Connection, wal: WalReader) -> None:
    mark = wal.mark()
    cur = conn.execute(
        "DELETE FROM double_datapoints WHERE external_id = 'pg3-many'"
        " AND timestamp >= '2024-01-01T00:00:00Z' AND timestamp < '2024-01-01T00:01:00Z'")
    assert cur.statusmessage == "DELETE 1"
    cur = conn.execute(
        "DELETE FROM double_datapoints WHERE external_id = %s AND timestamp > %s"
        " AND timestamp <= %s", ("pg3-bin", T0, T0 + timedelta(seconds=1)))
    assert cur.statusmessage == "DELETE 1"
    cur = conn.execute("DELETE FROM string_datapoints WHERE external_id = %s AND timestamp = %s",
                       ("pg3-str", T0))
    assert cur.statusmessage == "DELETE 1"
    recs = wal.since(mark)
    assert [(r.table, r.op) for r in recs] == [
        ("double_datapoints", "delete"), ("double_datapoints", "delete"),
        ("string_datapoints", "delete")]
    t0 = ms(T0.isoformat())
    # Half-open [begin, end) in milliseconds.
    assert recs[0].rows() == [{"external_id": "pg3-many", "_range_begin": t0,
                               "_range_end": t0 + 60_000}]
    assert recs[1].rows() == [{"external_id": "pg3-bin", "_range_begin": t0 + 1,
                               "_range_end": t0 + 1001}]
    row = recs[2].rows()[0]
    assert row["external_id"] == "pg3-str"
    assert (row.get("_range_begin"), row.get("_range_end")) in [(t0, t0 + 1), (None, None)]
    if row.get("_range_begin") is None:
        assert row["timestamp"] == t0


def test_large_transaction_staged_in_order(wal_gateway: Daemon, wal: WalReader) -> None:
    """A transaction larger than a staging chunk: all rows, one commit, in write order."""
    mark = wal.mark()
    n = 45_000
    with psycopg.connect(wal_gateway.dsn) as c:
        c.execute("INSERT INTO assets (external_id, name) VALUES ('pg3-big-root', 'root')")
        with c.cursor().copy("COPY double_datapoints (external_id, timestamp, value)"
                             " FROM STDIN") as cp:
            for i in range(n):
                cp.write_row(("pg3-big", T0 + timedelta(milliseconds=i), float(i)))
        c.execute("INSERT INTO assets (external_id, name, parent_external_id)"
                  " VALUES ('pg3-big-child', 'child', 'pg3-big-root')")
        assert wal.since(mark) == []  # staged chunks are invisible until COMMIT
        c.commit()
    (tx,) = wal.transactions(mark)
    assert len(tx) >= 3
    assert tx[0].table == "assets" and tx[0].rows()[0]["external_id"] == "pg3-big-root"
    assert tx[-1].table == "assets" and tx[-1].rows()[0]["external_id"] == "pg3-big-child"
    t0 = ms(T0.isoformat())
    dps = [row for r in tx if r.table == "double_datapoints" for row in r.rows()]
    assert dps == [{"external_id": "pg3-big", "timestamp": t0 + i, "value": float(i)}
                   for i in range(n)]
    wal.assert_no_staged()


def test_session_timezone_and_truncation_notice(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    with psycopg.connect(wal_gateway.dsn, autocommit=True) as c:
        notices: list[tuple[str | None, str | None]] = []
        c.add_notice_handler(lambda n: notices.append((n.sqlstate, n.message_primary)))
        c.execute("SET TimeZone = 'Europe/Oslo'")
        cur = c.execute("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES"
                        " ('pg3-tz', '2024-06-01 12:00:00', 1),"
                        " ('pg3-tz', '2024-06-01 12:00:00.123456', 2),"
                        " ('pg3-tz', '2024-06-01 12:00:00.999999+00', 3)")
        assert cur.statusmessage == "INSERT 0 3"
        # One NOTICE per statement, however many values were truncated.
        assert len(notices) == 1 and notices[0][0] == "00000", notices
        assert "truncated to milliseconds" in (notices[0][1] or "")
        c.execute("RESET TimeZone")
        c.execute("INSERT INTO double_datapoints (external_id, timestamp, value)"
                  " VALUES ('pg3-tz', '2024-06-01 12:00:00', 4)")
    t = ms("2024-06-01T10:00:00Z")  # 12:00 in Oslo (CEST, +02)
    assert wal.rows(mark) == [
        {"external_id": "pg3-tz", "timestamp": t, "value": 1.0},
        {"external_id": "pg3-tz", "timestamp": t + 123, "value": 2.0},
        {"external_id": "pg3-tz", "timestamp": ms("2024-06-01T12:00:00.999Z"), "value": 3.0},
        {"external_id": "pg3-tz", "timestamp": ms("2024-06-01T12:00:00Z"), "value": 4.0},
    ]


def test_upsert_executemany_and_big_parameterised_insert(conn: psycopg.Connection,
                                                         wal: WalReader) -> None:
    mark = wal.mark()
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO assets (external_id, name, description) VALUES (%s, %s, %s)"
            " ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name,"
            " description = EXCLUDED.description",
            [("pg3-upm-1", "a", None), ("pg3-upm-2", "b", "d")])
    # ADF "Bulk insert": one multi-row INSERT with ~30000 parameters.
    n = 10_000
    params: list[object] = []
    for i in range(n):
        params += ["pg3-bulk", T0 + timedelta(seconds=i), float(i)]
    cur = conn.execute("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES "
                       + ",".join(["(%s, %s, %s)"] * n), params)
    assert cur.statusmessage == f"INSERT 0 {n}"
    recs = wal.since(mark)
    assert [(r.table, r.op, r.nrows) for r in recs] == [
        ("assets", "upsert", 2), ("double_datapoints", "insert", n)]
    assert recs[0].rows() == [{"external_id": "pg3-upm-1", "name": "a", "description": None},
                              {"external_id": "pg3-upm-2", "name": "b", "description": "d"}]
    t0 = ms(T0.isoformat())
    assert recs[1].rows() == [{"external_id": "pg3-bulk", "timestamp": t0 + 1000 * i,
                               "value": float(i)} for i in range(n)]
