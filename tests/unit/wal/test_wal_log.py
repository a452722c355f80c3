"""The SQLite write-ahead log, driven through its API on the real reactor."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet.defer import DeferredList, gatherResults
from wal_testlib import open_wal, raw, reactor, rows_chunk, sleep

from pggw.wal import log as wal_log
from pggw.wal.codec import decode_chunk, encode_chunk
from pggw.wal.log import SCHEMA_VERSION, WalError, WriteAheadLog
from pggw.wire.errors import PgError


@pytest_twisted.ensureDeferred
async def test_open_sets_up_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "wal.sqlite"
    wal = await open_wal(path, max_bytes=10**9)
    await wal.close()
    conn = raw(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    assert conn.execute("PRAGMA page_size").fetchone()[0] == wal_log.PAGE_SIZE


@pytest_twisted.ensureDeferred
async def test_synchronous_full_on_commit(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    seen: list[int] = []

    def probe(conn: sqlite3.Connection) -> None:
        seen.append(conn.execute("PRAGMA synchronous").fetchone()[0])

    txid = wal.new_txid()
    d1 = wal.commit(txid, "u", [("t", "insert", rows_chunk(3), 3)])
    d2 = wal._call_writer(probe)  # grouped with the commit: same transaction settings
    await gatherResults([d1, d2])
    await wal._call_writer(probe)  # alone: no commit in the group, no fsync needed
    assert seen == [2, 1]
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_default_quota_is_a_fraction_of_free_disk(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite")
    assert 0 < wal.max_bytes <= wal_log.DEFAULT_MAX_BYTES_CAP
    assert wal.max_bytes == wal_log.default_max_bytes(tmp_path)
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_commit_makes_rows_pending_in_order(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    seqs = []
    for i in range(3):
        txid = wal.new_txid()
        d = wal.commit(
            txid,
            "alice",
            [
                ("assets", "insert", rows_chunk(2, f"a{i}"), 2),
                ("events", "upsert", rows_chunk(1), 1),
            ],
        )
        assert not d.called  # the reactor thread never waits for SQLite
        seqs.append(await d)
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    records = await wal.pending(100)
    assert [r.seq for r in records] == [seqs[0]] * 2 + [seqs[1]] * 2 + [seqs[2]] * 2
    assert [r.table for r in records[:2]] == ["assets", "events"]
    assert [r.op for r in records[:2]] == ["insert", "upsert"]
    assert records[0].user == "alice" and records[0].nrows == 2 and records[0].attempts == 0
    assert decode_chunk(records[0].chunk)["external_id"] == ["a0-0", "a0-1"]
    assert records[0].columns() == decode_chunk(rows_chunk(2, "a0"))
    assert records[0].committed_at > 0
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_staged_chunks_are_invisible_until_commit(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    txid = wal.new_txid()
    for i in range(5):
        await wal.stage(txid, "bob", "datapoints", "insert", rows_chunk(100, start=i * 100), 100)
    assert await wal.pending(100) == []
    stats = await wal.stats()
    assert stats.staged_records == 5 and stats.records == 0
    other = wal.new_txid()
    other_seq = await wal.commit(other, "carol", [("assets", "insert", rows_chunk(1), 1)])
    seq = await wal.commit(txid, "bob", [("datapoints", "insert", rows_chunk(7), 7)])
    assert seq > other_seq
    records = await wal.pending(100)
    assert [r.seq for r in records] == [other_seq] + [seq] * 6
    assert [r.nrows for r in records[1:]] == [100] * 5 + [7]
    assert {r.txid for r in records[1:]} == {txid}
    stats = await wal.stats()
    assert stats.staged_records == 0 and stats.records == 7 and stats.rows == 508
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_rollback_leaves_nothing(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    txid = wal.new_txid()
    for _ in range(3):
        await wal.stage(txid, "bob", "datapoints", "insert", rows_chunk(10), 10)
    await wal.rollback(txid)
    await wal.rollback(txid)  # twice is harmless
    await wal.rollback(wal.new_txid())  # never staged: harmless
    stats = await wal.stats()
    assert stats.staged_records == 0 and stats.records == 0
    assert await wal.commit(txid, "bob") == 0  # nothing left to commit
    assert await wal.pending(10) == []
    await wal.close()
    assert raw(tmp_path / "w.sqlite").execute("SELECT count(*) FROM records").fetchone()[0] == 0


@pytest_twisted.ensureDeferred
async def test_a_committed_transaction_cannot_be_reused(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    txid = wal.new_txid()
    await wal.commit(txid, "u", [("t", "insert", rows_chunk(1), 1)])
    with pytest.raises(ValueError, match="already committed"):
        await wal.stage(txid, "u", "t", "insert", rows_chunk(1), 1)
    with pytest.raises(ValueError, match="already committed"):
        await wal.commit(txid, "u", [("t", "insert", rows_chunk(1), 1)])
    assert len(await wal.pending(10)) == 1
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_empty_commit_writes_nothing(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    assert await wal.commit(wal.new_txid(), "u") == 0
    assert await wal.commit(wal.new_txid(), "u", []) == 0
    assert (await wal.stats()).last_seq == 0
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_txids_are_unique_across_restarts_and_orphans_go(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    wal = await open_wal(path, max_bytes=10**9)
    first = [wal.new_txid() for _ in range(3)]
    await wal.stage(first[0], "u", "t", "insert", rows_chunk(5), 5)  # never committed
    seq = await wal.commit(first[1], "u", [("t", "insert", rows_chunk(2), 2)])
    await wal.close()
    wal = await open_wal(path, max_bytes=10**9)
    second = [wal.new_txid() for _ in range(3)]
    assert not set(first) & set(second)
    assert min(second) > max(first)
    records = await wal.pending(10)
    assert [(r.txid, r.seq) for r in records] == [(first[1], seq)]
    stats = await wal.stats()
    assert stats.staged_records == 0
    assert await wal.commit(second[0], "u", [("t", "insert", rows_chunk(1), 1)]) > seq
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_pending_pages_through_a_cut_transaction(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    big = wal.new_txid()
    for i in range(5):
        await wal.stage(big, "u", "t", "insert", rows_chunk(1, start=i), 1)
    await wal.commit(big, "u")
    await wal.commit(wal.new_txid(), "v", [("t", "insert", rows_chunk(1), 1)])
    seen = []
    after_seq, after_id = 0, 0
    while page := await wal.pending(2, after_seq, after_id=after_id):
        seen.extend(page)
        after_seq, after_id = page[-1].seq, page[-1].id
    assert len(seen) == 6 and len({r.id for r in seen}) == 6
    assert [r.user for r in seen] == ["u"] * 5 + ["v"]
    # Without after_id, after_seq skips whole transactions.
    assert [r.user for r in await wal.pending(10, seen[0].seq)] == ["v"]
    assert [r.user for r in await wal.pending(10, users={"v"})] == ["v"]
    assert await wal.pending(10, users=set()) == []
    one = len(seen[0].chunk)
    assert len(await wal.pending(10, byte_limit=one * 3)) == 3
    assert len(await wal.pending(10, byte_limit=1)) == 1  # never an empty page
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_mark_done_deletes_and_space_is_reclaimed(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    wal = await open_wal(path, max_bytes=10**9)
    big = encode_chunk({"blob": ["x" * 100_000 + str(i) for i in range(40)]})
    for _ in range(20):
        await wal.commit(wal.new_txid(), "u", [("t", "insert", big, 40)])
    records = await wal.pending(100)
    assert await wal.mark_done([r.id for r in records[:5]]) == 5
    assert await wal.mark_done([records[0].id]) == 0  # already gone
    assert len(await wal.pending(100)) == 15
    assert await wal.mark_done([r.id for r in records]) == 15
    stats = await wal.stats()
    assert (stats.records, stats.bytes) == (0, 0)
    conn = raw(path)
    assert conn.execute("SELECT count(*) FROM commits").fetchone()[0] == 0
    pages_before = conn.execute("PRAGMA page_count").fetchone()[0]

    # The writer gives the space back when idle, step by step.
    for _ in range(100):
        await sleep(0.1)
        if conn.execute("PRAGMA freelist_count").fetchone()[0] < wal_log.VACUUM_MIN_FREE_PAGES:
            break
    assert conn.execute("PRAGMA page_count").fetchone()[0] < pages_before / 2
    await sleep(wal_log.IDLE_SECONDS * 2)
    assert os.path.getsize(str(path) + "-wal") == 0  # checkpointed and truncated when idle
    assert os.path.getsize(path) < pages_before * wal_log.PAGE_SIZE / 2
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_mark_done_ignores_staged_chunks(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    txid = wal.new_txid()
    await wal.stage(txid, "u", "t", "insert", rows_chunk(1), 1)
    staged_id = raw(tmp_path / "w.sqlite").execute("SELECT id FROM records").fetchone()[0]
    assert await wal.mark_done([staged_id]) == 0
    await wal.commit(txid, "u")
    assert [r.id for r in await wal.pending(10)] == [staged_id]
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_record_attempt(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    await wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(1), 1)])
    (rec,) = await wal.pending(1)
    await wal.record_attempt(rec.id, "503 from CDF")
    await wal.record_attempt(rec.id, None)
    await wal.record_attempt(rec.id, "timeout")
    (rec,) = await wal.pending(1)
    assert (rec.attempts, rec.last_error) == (3, "timeout")
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_dead_letters_whole_record_requeue_and_discard(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    chunk = rows_chunk(3, "dl")
    s1 = await wal.commit(wal.new_txid(), "u", [("assets", "insert", chunk, 3)])
    s2 = await wal.commit(wal.new_txid(), "u", [("assets", "insert", rows_chunk(1), 1)])
    first, second = await wal.pending(10)
    await wal.record_attempt(first.id, "400")
    dl_id = await wal.dead_letter(first.id, None, {"code": 400, "message": "bad"})
    assert [r.id for r in await wal.pending(10)] == [second.id]
    (dl,) = await wal.dead_letters("u")
    assert (dl.id, dl.record_id, dl.seq) == (dl_id, first.id, s1)
    assert (dl.table, dl.op, dl.nrows) == ("assets", "insert", 3)
    assert dl.error == {"code": 400, "message": "bad"} and dl.attempts == 1
    assert dl.chunk == chunk and dl.rows_json is None
    assert dl.rows()[0] == {"external_id": "dl-0", "timestamp": 1_700_000_000_000, "value": 0.0}
    assert await wal.dead_letters("someone else") == []
    stats = await wal.stats()
    assert (stats.dead_letters, stats.dead_letter_rows, stats.records) == (1, 3, 1)

    assert await wal.requeue_dead_letters("u", dl_id) == 1
    assert await wal.dead_letters("u") == []
    records = await wal.pending(10)
    assert [r.id for r in records][0] == second.id
    assert records[1].seq > s2 and records[1].chunk == chunk and records[1].nrows == 3

    await wal.dead_letter(records[1].id, None, {"code": 400})
    assert await wal.discard_dead_letters("u", 999_999) == 0
    assert await wal.discard_dead_letters("u") == 1
    assert await wal.dead_letters(None) == []
    assert (await wal.stats()).dead_letters == 0
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_dead_letters_for_some_rows(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    await wal.commit(wal.new_txid(), "u", [("assets", "insert", rows_chunk(4), 4)])
    (rec,) = await wal.pending(10)
    rows = rec.columns()
    bad1 = {k: v[1] for k, v in rows.items()}
    bad3 = {k: v[3] for k, v in rows.items()}
    await wal.dead_letter(rec.id, [bad1], {"code": 409, "duplicated": [{"externalId": "x"}]})
    assert [r.id for r in await wal.pending(10)] == [rec.id]  # the record stays queued
    await wal.dead_letter(rec.id, [bad3], {"code": 400}, remove_record=True)
    assert await wal.pending(10) == []
    dls = await wal.dead_letters("u")
    assert [d.rows() for d in dls] == [[bad1], [bad3]]
    assert [d.nrows for d in dls] == [1, 1]
    assert dls[0].error["duplicated"] == [{"externalId": "x"}]
    assert await wal.requeue_dead_letters("u") == 2
    records = await wal.pending(10)
    assert len({r.seq for r in records}) == 1  # one new commit for the user
    assert [r.columns() for r in records] == [
        {k: [v] for k, v in bad1.items()},
        {k: [v] for k, v in bad3.items()},
    ]
    with pytest.raises(KeyError):
        await wal.dead_letter(123456, None, {})
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_quota_refuses_with_53100_and_recovers(tmp_path: Path) -> None:
    chunk = rows_chunk(1000)
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=len(chunk) * 3 + 10)
    for _ in range(3):
        await wal.commit(wal.new_txid(), "u", [("t", "insert", chunk, 1000)])
    txid = wal.new_txid()
    with pytest.raises(PgError) as info:
        await wal.commit(txid, "u", [("t", "insert", chunk, 1000)])
    assert info.value.sqlstate == "53100"
    assert "pending upload" in info.value.message
    assert f"{len(chunk) * 3 / 1024:.1f} kB pending upload" in info.value.message
    with pytest.raises(WalError):
        await wal.stage(txid, "u", "t", "insert", chunk, 1000)
    records = await wal.pending(10)
    assert len(records) == 3  # acknowledged rows are never evicted
    assert wal.used_bytes == len(chunk) * 3
    await wal.mark_done([records[0].id])
    assert await wal.commit(txid, "u", [("t", "insert", chunk, 1000)]) > records[-1].seq
    await wal.close()
    # The accounting is rebuilt from the file at open.
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=len(chunk) * 3 + 10)
    with pytest.raises(WalError):
        await wal.commit(wal.new_txid(), "u", [("t", "insert", chunk, 1000)])
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_fair_share_keeps_one_user_from_blocking_others(tmp_path: Path) -> None:
    chunk = rows_chunk(1000)
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=len(chunk) * 10, per_user_share=0.5)
    # Alone, a user may use more than its share.
    for _ in range(6):
        await wal.commit(wal.new_txid(), "stalled", [("t", "insert", chunk, 1000)])
    await wal.commit(wal.new_txid(), "other", [("t", "insert", chunk, 1000)])
    # Now someone else is waiting: the stalled user is held to its share...
    with pytest.raises(WalError, match="fair share exceeded for user 'stalled'") as info:
        await wal.commit(wal.new_txid(), "stalled", [("t", "insert", chunk, 1000)])
    assert info.value.sqlstate == "53100"
    # ...and the other user can keep writing up to the quota.
    for _ in range(3):
        await wal.commit(wal.new_txid(), "other", [("t", "insert", chunk, 1000)])
    with pytest.raises(WalError, match="WAL quota exceeded"):
        await wal.commit(wal.new_txid(), "other", [("t", "insert", chunk, 1000)])
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_a_refused_user_counts_as_waiting(tmp_path: Path) -> None:
    chunk = rows_chunk(1000)
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=len(chunk) * 4, per_user_share=0.5)
    for _ in range(4):
        await wal.commit(wal.new_txid(), "hog", [("t", "insert", chunk, 1000)])
    with pytest.raises(WalError, match="quota exceeded"):
        await wal.commit(wal.new_txid(), "newcomer", [("t", "insert", chunk, 1000)])
    records = await wal.pending(10)
    await wal.mark_done([records[0].id])
    # The hog, above its share, does not get the freed space while the newcomer waits.
    with pytest.raises(WalError, match="fair share"):
        await wal.commit(wal.new_txid(), "hog", [("t", "insert", chunk, 1000)])
    await wal.commit(wal.new_txid(), "newcomer", [("t", "insert", chunk, 1000)])
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_group_commit_shares_transactions(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    batches0, requests0 = wal.group_commit_stats
    ds = [
        wal.commit(wal.new_txid(), f"u{i % 3}", [("t", "insert", rows_chunk(2), 2)])
        for i in range(200)
    ]
    seqs = await gatherResults(ds)
    assert seqs == sorted(seqs) and len(set(seqs)) == 200  # queue order is commit order
    batches, requests = wal.group_commit_stats
    assert requests - requests0 == 200
    assert batches - batches0 < 50
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_one_failing_request_does_not_fail_its_group(tmp_path: Path) -> None:
    chunk = rows_chunk(1000)
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=len(chunk) * 5)
    ds = [wal.commit(wal.new_txid(), "u", [("t", "insert", chunk, 1000)]) for _ in range(8)]
    results = await DeferredList(ds, consumeErrors=True)
    ok = [r for success, r in results if success]
    failed = [r for success, r in results if not success]
    assert len(ok) == 5 and len(failed) == 3
    assert all(f.value.sqlstate == "53100" for f in failed)
    assert len(await wal.pending(100)) == 5
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_sqlite_disk_full_becomes_53100_and_the_wal_keeps_working(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**12)
    small = rows_chunk(2)
    await wal.commit(wal.new_txid(), "u", [("t", "insert", small, 2)])

    def cap(conn: sqlite3.Connection) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 4}")

    await wal._call_writer(cap, tx=False)
    huge = encode_chunk({"blob": ["y" * 1_000_000]})
    # A group with a request that fills the disk: only that request fails.
    d_small = wal.commit(wal.new_txid(), "u", [("t", "insert", small, 2)])
    d_huge = wal.commit(wal.new_txid(), "u", [("t", "insert", huge, 1)])
    d_small2 = wal.commit(wal.new_txid(), "u", [("t", "insert", small, 2)])
    results = await DeferredList([d_small, d_huge, d_small2], consumeErrors=True)
    assert [ok for ok, _ in results] == [True, False, True]
    error = results[1][1].value
    assert isinstance(error, PgError) and error.sqlstate == "53100"
    assert "disk full" in error.message and "pending upload" in error.message
    txid = wal.new_txid()
    with pytest.raises(PgError):
        await wal.stage(txid, "u", "t", "insert", huge, 1)
    stats = await wal.stats()
    assert stats.records == 3 and stats.staged_records == 0

    await wal._call_writer(lambda c: c.execute("PRAGMA max_page_count = 1073741823"), tx=False)
    seq = await wal.commit(wal.new_txid(), "u", [("t", "insert", huge, 1)])
    records = await wal.pending(10)
    assert len(records) == 4 and records[-1].seq == seq and records[-1].chunk == huge
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_stats(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    c1, c2 = rows_chunk(5), rows_chunk(7)
    await wal.commit(
        wal.new_txid(), "a", [("assets", "insert", c1, 5), ("events", "insert", c2, 7)]
    )
    await wal.commit(wal.new_txid(), "b", [("assets", "insert", c2, 7)])
    await wal.stage(wal.new_txid(), "a", "assets", "insert", c1, 5)
    stats = await wal.stats()
    assert (stats.records, stats.rows, stats.bytes) == (3, 19, len(c1) + 2 * len(c2))
    assert (stats.staged_records, stats.staged_bytes) == (1, len(c1))
    assert stats.users["a"].rows == 12 and stats.users["b"].records == 1
    assert stats.tables[("a", "events")].bytes == len(c2)
    assert stats.oldest_committed_at is not None and stats.last_seq == 2
    assert stats.max_bytes == 10**9 and stats.file_bytes > 0
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_bad_op_is_refused_at_once(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    with pytest.raises(ValueError, match="unknown WAL operation"):
        wal.stage(wal.new_txid(), "u", "t", "merge", b"", 0)
    with pytest.raises(ValueError):
        wal.commit(wal.new_txid(), "u", [("t", "truncate", b"", 0)])
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_closed_wal_refuses_work(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    d = wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(1), 1)])
    await wal.close()
    assert d.called  # queued work finishes before close
    with pytest.raises(PgError) as info:
        await wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(1), 1)])
    assert info.value.sqlstate == "57P01"
    with pytest.raises(PgError):
        await wal.pending(1)
    await wal.close()  # idempotent


@pytest_twisted.ensureDeferred
async def test_one_process_per_file(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    second = WriteAheadLog(tmp_path / "w.sqlite", reactor=reactor, max_bytes=10**9)
    with pytest.raises(PgError, match="in use"):
        await second.open()
    await second.close()
    await wal.close()
    third = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    await third.close()


@pytest_twisted.ensureDeferred
async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    conn = raw(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    wal = WriteAheadLog(path, reactor=reactor, max_bytes=10**9)
    with pytest.raises(PgError, match="newer than this pggw"):
        await wal.open()
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_sqlite_runs_off_the_reactor_thread(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    threads = await gatherResults(
        [
            wal._call_writer(lambda c: threading.current_thread().name),
            wal._call_reader(lambda c: threading.current_thread().name),
        ]
    )
    assert threads == ["pggw-wal-writer", "pggw-wal-reader"]
    assert threading.current_thread() is threading.main_thread()
    await sleep(0)
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_a_dead_writer_fails_requests_instead_of_hanging(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)

    def bug(*args: object) -> None:
        raise AssertionError("bug in the writer")

    wal._writer._run_batch = bug
    with pytest.raises(PgError, match="bug in the writer"):
        await wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(1), 1)])
    await sleep(0)
    with pytest.raises(PgError):
        await wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(1), 1)])
    await wal.close()
