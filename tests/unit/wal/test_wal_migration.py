"""Schema versions: a WAL written by an earlier schema opens with nothing lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import pytest_twisted
from wal_testlib import open_wal, raw, reactor, rows_chunk

from pggw.wal import log as wal_log
from pggw.wal.codec import decode_chunk

# The version 1 schema, written out by hand as released (do not import it from the code:
# this is what files in the field contain).
V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('generation', 7);
CREATE TABLE commits (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    txid INTEGER NOT NULL UNIQUE,
    user_name TEXT NOT NULL,
    committed_at REAL NOT NULL
);
CREATE INDEX commits_user ON commits (user_name, seq);
CREATE TABLE records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    txid INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    op TEXT NOT NULL,
    nrows INTEGER NOT NULL,
    nbytes INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    chunk BLOB NOT NULL
);
CREATE INDEX records_txid ON records (txid, id);
CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id INTEGER, seq INTEGER, txid INTEGER,
    user_name TEXT NOT NULL, table_name TEXT NOT NULL, op TEXT NOT NULL,
    nrows INTEGER NOT NULL, nbytes INTEGER NOT NULL, error TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, committed_at REAL, dead_at REAL NOT NULL,
    rows_json TEXT, chunk BLOB
);
CREATE INDEX dead_letters_user ON dead_letters (user_name, id);
PRAGMA user_version = 1;
"""

TX_A = (7 << 32) | 1
TX_B = (7 << 32) | 2
TX_ORPHAN = (7 << 32) | 3


def write_v1_file(path: Path) -> dict[int, bytes]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(V1_SCHEMA)
    chunks = {1: rows_chunk(3, "a"), 2: rows_chunk(2, "b"), 3: rows_chunk(4, "c")}
    conn.execute("BEGIN")
    conn.execute("INSERT INTO commits VALUES (41, ?, 'alice', 1700000000.5)", (TX_A,))
    conn.execute("INSERT INTO commits VALUES (42, ?, 'bob', 1700000001.5)", (TX_B,))
    for rid, txid, user, chunk in [
        (1, TX_A, "alice", chunks[1]),
        (2, TX_A, "alice", chunks[2]),
        (3, TX_B, "bob", chunks[3]),
        (4, TX_ORPHAN, "bob", rows_chunk(9, "orphan")),
    ]:
        conn.execute(
            "INSERT INTO records (id, txid, user_name, table_name, op, nrows, nbytes, attempts,"
            " last_error, chunk) VALUES (?, ?, ?, 'datapoints', 'insert', ?, ?, 2, 'x', ?)",
            (rid, txid, user, len(decode_chunk(chunk)["value"]), len(chunk), chunk),
        )
    conn.execute(
        "INSERT INTO dead_letters (record_id, seq, txid, user_name, table_name, op, nrows,"
        " nbytes, error, dead_at, rows_json) VALUES (9, 40, 5, 'bob', 'assets', 'insert', 1,"
        " 20, ?, 1700000000.0, ?)",
        ('{"code": 400}', '[{"name": "n"}]'),
    )
    conn.execute("COMMIT")
    conn.close()
    return chunks


async def check_v1_contents(path: Path, chunks: dict[int, bytes]) -> None:
    wal = await open_wal(path, max_bytes=10**9)
    records = await wal.pending(100)
    assert [(r.id, r.seq, r.txid, r.user, r.attempts) for r in records] == [
        (1, 41, TX_A, "alice", 2),
        (2, 41, TX_A, "alice", 2),
        (3, 42, TX_B, "bob", 2),
    ]
    assert [r.chunk for r in records] == [chunks[1], chunks[2], chunks[3]]
    (dl,) = await wal.dead_letters("bob")
    assert dl.rows() == [{"name": "n"}] and dl.error == {"code": 400}
    stats = await wal.stats()
    assert stats.staged_records == 0 and stats.records == 3 and stats.rows == 9
    txid = wal.new_txid()
    assert txid >> 32 == 8  # the generation moves on from the file's
    assert await wal.commit(txid, "alice", [("t", "insert", rows_chunk(1), 1)]) == 43
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_open_a_v1_file_with_pending_records(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    chunks = write_v1_file(path)
    await check_v1_contents(path, chunks)
    assert raw(path).execute("PRAGMA user_version").fetchone()[0] == wal_log.SCHEMA_VERSION


@pytest_twisted.ensureDeferred
async def test_a_later_migration_is_one_function_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What adding schema version 2 looks like: append a function to MIGRATIONS."""
    calls = []

    def v1_to_v2(conn: sqlite3.Connection) -> None:
        calls.append(conn.execute("PRAGMA user_version").fetchone()[0])
        assert conn.in_transaction
        conn.execute("ALTER TABLE records ADD COLUMN next_try_at REAL")

    monkeypatch.setattr(wal_log, "MIGRATIONS", [*wal_log.MIGRATIONS, v1_to_v2])
    path = tmp_path / "v1.sqlite"
    chunks = write_v1_file(path)
    await check_v1_contents(path, chunks)
    assert calls == [1]
    conn = raw(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    columns = [row[1] for row in conn.execute("PRAGMA table_info(records)")]
    assert "next_try_at" in columns
    conn.close()
    # Reopening does not migrate again.
    wal = await open_wal(path, max_bytes=10**9)
    await wal.close()
    assert calls == [1]


@pytest_twisted.ensureDeferred
async def test_a_failing_migration_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE records ADD COLUMN half_done INTEGER")
        raise RuntimeError("bug in migration")

    monkeypatch.setattr(wal_log, "MIGRATIONS", [*wal_log.MIGRATIONS, broken])
    path = tmp_path / "v1.sqlite"
    chunks = write_v1_file(path)
    wal = wal_log.WriteAheadLog(path, reactor=reactor, max_bytes=10**9)
    with pytest.raises(RuntimeError, match="bug in migration"):
        await wal.open()
    await wal.close()
    conn = raw(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "half_done" not in [row[1] for row in conn.execute("PRAGMA table_info(records)")]
    conn.close()
    monkeypatch.undo()
    await check_v1_contents(path, chunks)
