"""The emulator's SQLite store: one database file in the data directory.

Resources that CDF keeps as JSON documents (assets, events, time series, ...) share one ``items``
table keyed by ``(project, kind)``; their numeric ``id`` is the row id, so ids are unique across
kinds like CDF's and never reused. Datapoints, RAW rows and sequence rows have their own indexed
tables, written with ``executemany``. The emulator is its own process, so handlers call SQLite
synchronously.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    kind TEXT NOT NULL,
    external_id TEXT,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS items_xid ON items(project, kind, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_kind ON items(project, kind, id);
CREATE INDEX IF NOT EXISTS items_parent ON items(project, kind, json_extract(body, '$.parentId'))
    WHERE json_extract(body, '$.parentId') IS NOT NULL;
CREATE TABLE IF NOT EXISTS datapoints (
    ts_id INTEGER NOT NULL,
    t INTEGER NOT NULL,
    v,
    status INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ts_id, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS raw_dbs (
    project TEXT NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (project, name)
);
CREATE TABLE IF NOT EXISTS raw_tables (
    project TEXT NOT NULL, db TEXT NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (project, db, name)
);
CREATE TABLE IF NOT EXISTS raw_rows (
    project TEXT NOT NULL, db TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL,
    columns TEXT NOT NULL, updated INTEGER NOT NULL,
    PRIMARY KEY (project, db, tbl, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sequence_rows (
    seq_id INTEGER NOT NULL, row_number INTEGER NOT NULL, vals TEXT NOT NULL,
    PRIMARY KEY (seq_id, row_number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS file_content (
    file_id INTEGER PRIMARY KEY, content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS instances (
    project TEXT NOT NULL, space TEXT NOT NULL, external_id TEXT NOT NULL,
    instance_type TEXT NOT NULL, body TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (project, space, external_id)
);
CREATE INDEX IF NOT EXISTS instances_seq ON instances(project, seq);
"""

# Ids start high, as CDF's do, so a client that squeezes them into 32 bits fails here too.
FIRST_ID = 1 << 40


def now_ms() -> int:
    return int(time.time() * 1000)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Store:
    """Synchronous access to the emulator's database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        has_seq = self.db.execute("SELECT 1 FROM sqlite_sequence WHERE name='items'").fetchone()
        if has_seq is None:
            self.db.execute(
                "INSERT INTO sqlite_sequence(name, seq) VALUES ('items', ?)", (FIRST_ID,)
            )

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes of one request commit together, or not at all."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # -- generic JSON documents -------------------------------------------------------------

    def insert_item(
        self, project: str, kind: str, external_id: str | None, body: dict[str, Any]
    ) -> int:
        cur = self.db.execute(
            "INSERT INTO items(project, kind, external_id, body) VALUES (?, ?, ?, ?)",
            (project, kind, external_id, dumps(body)),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def replace_item(self, item_id: int, external_id: str | None, body: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE items SET external_id = ?, body = ? WHERE id = ?",
            (external_id, dumps(body), item_id),
        )

    def delete_items(self, ids: Iterable[int]) -> None:
        self.db.executemany("DELETE FROM items WHERE id = ?", ((i,) for i in ids))

    def get_by_id(self, project: str, kind: str, item_id: int) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT id, body FROM items WHERE project = ? AND kind = ? AND id = ?",
            (project, kind, item_id),
        ).fetchone()
        return _load(row)

    def get_by_external_id(
        self, project: str, kind: str, external_id: str
    ) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT id, body FROM items WHERE project = ? AND kind = ? AND external_id = ?",
            (project, kind, external_id),
        ).fetchone()
        return _load(row)

    def existing_external_ids(self, project: str, kind: str, external_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(external_ids), 500):
            chunk = external_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.db.execute(
                    f"SELECT external_id FROM items WHERE project = ? AND kind = ? "
                    f"AND external_id IN ({marks})",
                    (project, kind, *chunk),
                )
            )
        return found

    def scan(self, project: str, kind: str, after: int = 0) -> Iterator[dict[str, Any]]:
        """Every item of a kind in id order, starting after ``after``; read in pages."""
        while True:
            rows = self.db.execute(
                "SELECT id, body FROM items WHERE project = ? AND kind = ? AND id > ? "
                "ORDER BY id LIMIT 1000",
                (project, kind, after),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                item = _load(row)
                assert item is not None
                yield item
            after = rows[-1][0]

    def children(self, project: str, kind: str, parent_ids: list[int]) -> list[dict[str, Any]]:
        """Items whose ``parentId`` is one of ``parent_ids`` (an index, not a scan)."""
        out: list[dict[str, Any]] = []
        for i in range(0, len(parent_ids), 500):
            chunk = parent_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                "SELECT id, body FROM items WHERE project = ? AND kind = ? "
                f"AND json_extract(body, '$.parentId') IN ({marks})",
                (project, kind, *chunk),
            ):
                item = _load(row)
                assert item is not None
                out.append(item)
        return out

    def count(self, project: str, kind: str) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM items WHERE project = ? AND kind = ?", (project, kind)
        ).fetchone()
        return int(row[0])

    # -- datapoints -------------------------------------------------------------------------

    def insert_datapoints(self, rows: list[tuple[int, int, Any, int]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO datapoints(ts_id, t, v, status) VALUES (?, ?, ?, ?)", rows
        )

    def datapoints(
        self,
        ts_id: int,
        start: int,
        end: int,
        limit: int,
        descending: bool = False,
        max_status: int | None = None,
    ) -> list[tuple[int, Any, int]]:
        """Datapoints in [start, end), at most ``limit``; only those with status < max_status."""
        order = "DESC" if descending else "ASC"
        status = "" if max_status is None else f"AND status < {int(max_status)}"
        return self.db.execute(
            f"SELECT t, v, status FROM datapoints WHERE ts_id = ? AND t >= ? AND t < ? {status} "
            f"ORDER BY t {order} LIMIT ?",
            (ts_id, start, end, limit),
        ).fetchall()

    def delete_datapoints(self, ts_id: int, start: int, end: int) -> None:
        self.db.execute(
            "DELETE FROM datapoints WHERE ts_id = ? AND t >= ? AND t < ?", (ts_id, start, end)
        )

    def delete_all_datapoints(self, ts_id: int) -> None:
        self.db.execute("DELETE FROM datapoints WHERE ts_id = ?", (ts_id,))

    def count_datapoints(self, ts_id: int) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM datapoints WHERE ts_id = ?", (ts_id,)
        ).fetchone()
        return int(row[0])


def _load(row: tuple[int, str] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    item: dict[str, Any] = json.loads(row[1])
    item["id"] = row[0]
    return item
