"""Reading a gateway's WAL back, read-only, for the write-path integration tests.

Only committed records are visible (a ``commits`` row with their ``txid``); staged
chunks of open or failed transactions are counted apart so that tests can prove
that nothing of a rejected statement was kept.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pggw.wal.codec import columns_to_rows, decode_chunk


@dataclass(frozen=True)
class Rec:
    """One committed WAL record, decoded."""

    seq: int
    txid: int
    user: str
    table: str
    op: str
    nrows: int
    columns: dict[str, list[Any]]

    def rows(self) -> list[dict[str, Any]]:
        return columns_to_rows(self.columns)


class WalReader:
    """Opens ``<data-dir>/wal.sqlite3`` read-only for every look (never holds it open)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "wal.sqlite3"

    def _conn(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)

    def wait_open(self, timeout: float = 30) -> None:
        """The daemon creates the schema just after it starts listening: wait for it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.mark()
                return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def mark(self) -> int:
        """The last commit sequence number: pass it to :meth:`since`."""
        conn = self._conn()
        try:
            (seq,) = conn.execute("SELECT coalesce(max(seq), 0) FROM commits").fetchone()
            return int(seq)
        finally:
            conn.close()

    def since(self, mark: int) -> list[Rec]:
        """Committed records after ``mark``, in commit order."""
        conn = self._conn()
        try:
            rows = conn.execute(
                "SELECT c.seq, r.txid, r.user_name, r.table_name, r.op, r.nrows, r.chunk"
                " FROM commits AS c JOIN records AS r ON r.txid = c.txid"
                " WHERE c.seq > ? ORDER BY c.seq, r.id", (mark,)).fetchall()
        finally:
            conn.close()
        out = []
        for seq, txid, user, table, op, nrows, chunk in rows:
            cols = decode_chunk(chunk)
            for values in cols.values():
                assert len(values) == nrows
            out.append(Rec(seq, txid, user, table, op, nrows, cols))
        return out

    def staged(self) -> int:
        """Chunks not (yet) made visible by a commit."""
        conn = self._conn()
        try:
            (n,) = conn.execute(
                "SELECT count(*) FROM records WHERE txid NOT IN (SELECT txid FROM commits)"
            ).fetchone()
            return int(n)
        finally:
            conn.close()

    def rows(self, mark: int, table: str | None = None, op: str | None = None
             ) -> list[dict[str, Any]]:
        """Every committed row after ``mark`` (optionally of one table / op), in order."""
        out: list[dict[str, Any]] = []
        for rec in self.since(mark):
            if (table is None or rec.table == table) and (op is None or rec.op == op):
                out.extend(rec.rows())
        return out

    def summary(self, mark: int) -> list[tuple[str, str, int]]:
        """(table, op, nrows) per record after ``mark``: compact for assertions."""
        return [(r.table, r.op, r.nrows) for r in self.since(mark)]

    def transactions(self, mark: int) -> list[list[Rec]]:
        """Records after ``mark`` grouped by committing transaction, in commit order."""
        groups: dict[int, list[Rec]] = {}
        for rec in self.since(mark):
            groups.setdefault(rec.seq, []).append(rec)
        return list(groups.values())

    def assert_nothing_since(self, mark: int) -> None:
        """No commit after ``mark``, and no staged chunk left (a failed transaction's
        staged chunks are deleted by the WAL's writer thread just after the error)."""
        assert self.since(mark) == [], self.summary(mark)
        self.assert_no_staged()

    def assert_no_staged(self, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while self.staged():
            assert time.monotonic() < deadline, f"{self.staged()} staged chunks left"
            time.sleep(0.02)


def ms(iso: str) -> int:
    """Epoch milliseconds of an ISO 8601 timestamp (naive = UTC), truncated like pggw."""
    from datetime import UTC, datetime, timedelta

    t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
