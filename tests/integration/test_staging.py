"""Staging flows (Azure Data Factory's Upsert write method and friends) through temp tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import Daemon, start_daemon
from tests.integration.test_crash import OFFLINE, committed_rows


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_daemon(tmp_path_factory.mktemp("staging"), *OFFLINE)
    yield d
    d.stop()


def records(d: Daemon, table: str) -> list[tuple[str, dict[str, list[object]]]]:
    import sqlite3

    from pggw.wal.codec import decode_chunk

    db = sqlite3.connect(f"file:{d.data_dir / 'wal.sqlite3'}?mode=ro", uri=True)
    try:
        return [(op, decode_chunk(ch)) for op, ch in db.execute(
            "SELECT r.op, r.chunk FROM records r JOIN commits c ON c.txid = r.txid "
            "WHERE r.table_name = ? ORDER BY c.seq, r.id", (table,))]
    finally:
        db.close()


def test_upsert_through_a_temp_table(offline: Daemon) -> None:
    with psycopg.connect(offline.dsn + " sslmode=disable", autocommit=True) as c:
        c.execute("CREATE TEMP TABLE stage_assets (LIKE assets)")
        cur = c.cursor()
        with cur.copy("COPY stage_assets (external_id, name, metadata) FROM STDIN "
                      "(FORMAT csv)") as cp:
            cp.write('stg-1,Pump 1,"{""site"": ""Oslo""}"\nstg-2,Pump 2,\n')
        assert cur.statusmessage == "COPY 2"
        tag = c.execute(
            "INSERT INTO assets (external_id, name, metadata) "
            "SELECT external_id, name, metadata FROM stage_assets "
            "ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name, "
            "metadata = EXCLUDED.metadata").statusmessage
        assert tag == "INSERT 0 2"
        assert c.execute("DROP TABLE stage_assets").statusmessage == "DROP TABLE"
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute("INSERT INTO stage_assets (external_id, name) VALUES ('x', 'y')")
    ups = [cols for op, cols in records(offline, "assets") if op == "upsert"
           and "stg-1" in cols["external_id"]]
    assert ups == [{"external_id": ["stg-1", "stg-2"], "name": ["Pump 1", "Pump 2"],
                    "metadata": [{"site": "Oslo"}, None]}]


def test_staged_rows_are_validated_for_the_target(offline: Daemon) -> None:
    with psycopg.connect(offline.dsn + " sslmode=disable", autocommit=True) as c:
        c.execute("CREATE TEMP TABLE s (external_id text, ts timestamptz, v float8)")
        c.cursor().executemany("INSERT INTO s VALUES (%s, %s, %s)", [
            ("stg-ts", dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 1.5),
            ("stg-ts", dt.datetime(1800, 1, 1, tzinfo=dt.UTC), 2.5)])
        with pytest.raises(psycopg.errors.DatetimeFieldOverflow):
            c.execute('INSERT INTO double_datapoints (external_id, "timestamp", value) '
                      "SELECT external_id, ts, v FROM s")
        # Nothing of the failed statement was kept; the staged rows are still there.
        assert c.execute("TRUNCATE s").statusmessage == "TRUNCATE TABLE"
        c.cursor().executemany("INSERT INTO s VALUES (%s, %s, %s)", [
            ("stg-ts", dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 1.5)])
        assert c.execute('INSERT INTO double_datapoints (external_id, "timestamp", value) '
                         "SELECT external_id, ts, v FROM s").statusmessage == "INSERT 0 1"
    rows = committed_rows(offline.data_dir / "wal.sqlite3")
    assert rows["stg-ts"] == [(1704067200000, 1.5)]


def test_temp_tables_end_with_the_connection(offline: Daemon) -> None:
    dsn = offline.dsn + " sslmode=disable"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE TEMP TABLE gone (LIKE assets)")
    with psycopg.connect(dsn, autocommit=True) as c, pytest.raises(
            psycopg.errors.UndefinedTable):
        c.execute("INSERT INTO gone (external_id, name) VALUES ('a', 'b')")
    left = list((offline.data_dir / "tmp").glob("pggw-staging-*"))
    assert left == []
