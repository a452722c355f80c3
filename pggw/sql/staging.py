"""Session-local temporary tables for staging flows (Azure Data Factory's Upsert and others).

``CREATE TEMP TABLE s (LIKE assets)``, ``COPY s FROM STDIN``,
``INSERT INTO assets SELECT ... FROM s ON CONFLICT ...``, ``DROP TABLE s``: the
staged rows live in a private SQLite file (on disk, so a large staging load
does not sit in RAM) that disappears with the connection.  Rows are stored
type-checked, one JSON array per row; no CDF rules apply until they are
inserted into a gateway table.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pggw.tables.model import Table
from pggw.wire import errors as E
from pggw.wire.errors import PgError
from pggw.wire.types import TIMESTAMP, TIMESTAMPTZ

READ_CHUNK = 10_000


class StagingArea:
    """The temporary tables of one connection."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._db: sqlite3.Connection | None = None
        self._path: str | None = None
        self._ids: dict[str, int] = {}
        self._next = 0

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            fd, self._path = tempfile.mkstemp(prefix="pggw-staging-", suffix=".sqlite3",
                                              dir=self.directory)
            os.close(fd)
            self._db = sqlite3.connect(self._path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
        return self._db

    def _sql_name(self, name: str) -> str:
        try:
            return f"t{self._ids[name]}"
        except KeyError:
            raise PgError(E.UNDEFINED_TABLE, f'relation "{name}" does not exist') from None

    def create(self, name: str) -> None:
        self._next += 1
        self._ids[name] = self._next
        self._conn().execute(f"CREATE TABLE t{self._next} (row TEXT NOT NULL)")

    def drop(self, name: str) -> None:
        sql = self._sql_name(name)
        del self._ids[name]
        self._conn().execute(f"DROP TABLE {sql}")

    def truncate(self, name: str) -> int:
        return self._conn().execute(f"DELETE FROM {self._sql_name(name)}").rowcount

    def insert(self, name: str, table: Table, columns: dict[str, list[Any]], nrows: int) -> None:
        """Append coerced rows; columns the statement left out are NULL."""
        order = [c.name for c in table.columns]
        cols = [columns.get(n) for n in order]
        rows = ((json.dumps([None if c is None else c[i] for c in cols]),) for i in range(nrows))
        db = self._conn()
        with db:
            db.executemany(f"INSERT INTO {self._sql_name(name)} (row) VALUES (?)", rows)

    def read(self, name: str, table: Table, columns: Sequence[str]
             ) -> Iterator[list[list[Any]]]:
        """The chosen columns, column-wise, in chunks, as Python values ``coerce`` accepts."""
        index = {c.name: i for i, c in enumerate(table.columns)}
        try:
            picks = [index[c] for c in columns]
        except KeyError as e:
            raise PgError(E.UNDEFINED_COLUMN, f"column {e.args[0]} does not exist") from None
        # Staged timestamps are epoch milliseconds; gateway tables read them as datetimes.
        times = {j for j, i in enumerate(picks)
                 if table.columns[i].type.oid in (TIMESTAMP.oid, TIMESTAMPTZ.oid)}
        cur = self._conn().execute(f"SELECT row FROM {self._sql_name(name)} ORDER BY rowid")
        while batch := cur.fetchmany(READ_CHUNK):
            rows = [json.loads(r[0]) for r in batch]
            out = [[row[i] for row in rows] for i in picks]
            for j in times:
                out[j] = [None if v is None else
                          dt.datetime.fromtimestamp(v / 1000, dt.UTC) for v in out[j]]
            yield out

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._path is not None:
            Path(self._path).unlink(missing_ok=True)
            self._path = None
        self._ids.clear()
