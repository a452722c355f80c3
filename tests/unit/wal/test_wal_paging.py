"""Uploader-facing reads of the WAL: pages bounded by rows; one-row chunks."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from wal_testlib import open_wal, rows_chunk

from pggw.wal import codec
from pggw.wal.codec import decode_chunk, encode_chunk


@pytest_twisted.ensureDeferred
async def test_pending_pages_are_bounded_by_rows(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    for n in (3, 4, 5, 6):
        await wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(n), n)])
    assert [r.nrows for r in await wal.pending(10, row_limit=7)] == [3, 4]
    assert [r.nrows for r in await wal.pending(10, row_limit=6)] == [3]
    assert [r.nrows for r in await wal.pending(10, row_limit=1)] == [3]  # never empty
    assert [r.nrows for r in await wal.pending(3, row_limit=100)] == [3, 4, 5]
    first = (await wal.pending(1))[0]
    page = await wal.pending(10, first.seq, after_id=first.id, row_limit=9)
    assert [r.nrows for r in page] == [4, 5]
    one = len(first.chunk)
    assert len(await wal.pending(10, byte_limit=one + 1, row_limit=100)) == 1
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_a_committed_transaction_cannot_be_committed_again(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    txid = wal.new_txid()
    await wal.commit(txid, "u", [("t", "insert", rows_chunk(2), 2)])
    before = wal.used_bytes
    with pytest.raises(ValueError, match="already committed"):
        await wal.commit(txid, "u", [("t", "insert", rows_chunk(1), 1)])
    # grouped with other commits, the refused one leaves nothing behind
    other = wal.new_txid()
    again = wal.commit(txid, "u", [("t", "insert", rows_chunk(1), 1)])
    fine = wal.commit(other, "u", [("t", "insert", rows_chunk(1), 1)])
    errors: list[Any] = []
    again.addErrback(lambda f: errors.append(f.value))
    await fine
    await again
    assert isinstance(errors[0], ValueError)
    assert [r.nrows for r in await wal.pending(10)] == [2, 1]
    assert wal.used_bytes == before + len(rows_chunk(1))
    await wal.close()


@pytest.mark.parametrize("values", [
    ["bench-ts-1"], ["é\u2028\"\\\n\x00😀"], [""], [1.5], [-0.0], [math.inf], [2**63 - 1],
    [-(2**63)], [2**63], [True], [None], [{"a": [1, "b"]}], [b"\x00\xff"], [[1, 2]],
])
def test_one_row_columns_round_trip(values: list[Any]) -> None:
    got = decode_chunk(encode_chunk({"c": values, "d": [1]}))
    assert repr(got["c"]) == repr(values) and type(got["c"][0]) is type(values[0])


def test_str_columns_encode_as_the_json_encoder_does() -> None:
    for values in (["a", "é\u2028\"\\\n\x00", "😀"], ["x"], ["x", "y", "z", "w"]):
        assert codec._json_strs(values) == codec._json(values)
    nan = decode_chunk(encode_chunk({"c": [math.nan]}))["c"][0]
    assert math.isnan(nan)


@pytest_twisted.ensureDeferred
async def test_a_clean_request_that_fails_after_writing_leaves_no_trace(tmp_path: Path) -> None:
    """Commits run without a savepoint of their own; should one fail after it wrote
    (a bug), the group runs again with savepoints and only that one is undone."""
    wal = await open_wal(tmp_path / "w.sqlite", max_bytes=10**9)
    before = wal._writer.batches

    def broken(ctx: Any) -> None:
        ctx.conn.execute("INSERT INTO meta (key, value) VALUES ('junk', 1)")
        raise RuntimeError("bug after a write")

    gate = threading.Event()
    held = wal._call_writer(lambda conn: gate.wait(10), tx=False)  # the three queue up …
    ok1 = wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(1), 1)])
    bad = wal._writer.submit(broken, clean=True)
    ok2 = wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(2), 2)])
    gate.set()  # … and run as one group
    await held
    errors: list[Any] = []
    bad.addErrback(lambda f: errors.append(f.value))
    assert await ok1 > 0 and await ok2 > 0
    await bad
    assert isinstance(errors[0], RuntimeError)
    junk = await wal._call_reader(
        lambda conn: conn.execute("SELECT count(*) FROM meta WHERE key = 'junk'").fetchone())
    assert junk[0] == 0
    assert [r.nrows for r in await wal.pending(10)] == [1, 2]
    assert wal._writer.batches == before + 1  # one SQLite transaction for the three
    await wal.close()
