"""The write-ahead log: one SQLite file, one writer thread, group commit.

Durability model
----------------
* The file is in WAL journal mode. Every transaction that makes rows visible to the
  uploader (``commit``) runs with ``synchronous=FULL``, so its SQLite COMMIT fsyncs the
  ``-wal`` file before the caller's Deferred fires. Transactions that only stage chunks,
  mark records done or move dead letters run with ``synchronous=NORMAL`` (no fsync): they
  survive a killed process anyway, and the next FULL commit's fsync of the same ``-wal``
  file covers their frames too, before anything they wrote becomes visible. (A power cut
  may undo a recent ``mark_done``; the record is then uploaded again: at-least-once.)
* All writes run on one dedicated thread. It takes every request queued at that moment
  (up to a size limit, so the write lock is held briefly) and runs them in ONE SQLite
  transaction, each under its own SAVEPOINT, so a request that fails (quota) does not undo
  the others. One fsync then acknowledges every commit of the group. If SQLite itself
  fails (disk full, I/O error), the group is rolled back and its requests are retried one
  by one, so only those that still fail get the error.
* Reads for the uploader and for stats run on a second thread with its own read-only
  connection (WAL mode lets it read while the writer writes).
* Public methods are called on the reactor thread. They only enqueue work; results come
  back through ``reactor.callFromThread``.

Data model
----------
``records`` holds chunks (many rows each, see :mod:`pggw.wal.codec`) tagged with the
transaction id that wrote them. ``commits`` holds one small row per committed transaction;
its ``seq`` (AUTOINCREMENT, never reused) is the commit order. A chunk is visible to the
uploader exactly when a ``commits`` row with its ``txid`` exists: committing a huge staged
transaction writes only that row, never rewrites the chunks. Chunks without a commit row
are staging chunks of open transactions; at ``open()`` every such chunk is an orphan of a
transaction that never committed, and is deleted. Transaction ids are
``generation << 32 | n`` with a generation bumped (durably) at every ``open()``, so they
never repeat across restarts. A ``<file>.lock`` flock keeps a second process out.

Quota
-----
``max_bytes`` limits the encoded chunk bytes held: staged + committed records + dead
letters (SQLite's own overhead, free pages and the ``-wal`` file come on top). A write that
would pass it fails with SQLSTATE 53100 and a message saying how much is pending upload.
While other users have rows pending (or were refused within the last minute), one user may
hold at most ``per_user_share * max_bytes``. Acknowledged rows are never evicted.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import shutil
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.logger import Logger

from pggw.wal import codec
from pggw.wal.reserve import DEFAULT_RESERVE_BYTES, SpaceReserve
from pggw.wire.errors import ADMIN_SHUTDOWN, DISK_FULL, IO_ERROR, PgError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "MIGRATIONS",
    "OPS",
    "SCHEMA_VERSION",
    "DeadLetter",
    "Record",
    "TableStats",
    "WalError",
    "WalStats",
    "WriteAheadLog",
    "default_max_bytes",
]

T = TypeVar("T")

OPS = frozenset({"insert", "upsert", "insert-ignore", "update", "delete"})

GiB = 1024**3
DEFAULT_MAX_BYTES_CAP = 10 * GiB
DEFAULT_MAX_BYTES_FREE_FRACTION = 0.10
DEFAULT_PER_USER_SHARE = 0.5
# A user refused at the quota counts as "waiting" for this long.
WAITING_SECONDS = 60.0

# Group commit limits: stop taking requests into one SQLite transaction beyond these, so
# the write lock is held briefly even while a big COPY streams staging chunks.
MAX_BATCH_REQUESTS = 2000
MAX_BATCH_BYTES = 16 * 1024 * 1024

PAGE_SIZE = 16384
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
WAL_AUTOCHECKPOINT_PAGES = 4096  # 64 MiB at 16 KiB pages
BUSY_TIMEOUT_SECONDS = 30.0
# Idle maintenance: incremental vacuum when this many pages are free, in steps of this.
VACUUM_MIN_FREE_PAGES = 1024
VACUUM_STEP_PAGES = 1024
IDLE_SECONDS = 0.5
SPACE_CHECK_SECONDS = 0.5
SPACE_CHECK_BYTES = 1 * 2**20
MIN_AUTOCHECKPOINT_PAGES = 16
RECLAIM_STEPS = 8  # maintenance steps per refused group while the reserve is not held
CHECKPOINT_WAIT_MS = 50
SQL_PARAMS_PER_STATEMENT = 500

SQLITE_FULL = 13

_INSERT_RECORD = (
    "INSERT INTO records (txid, user_name, table_name, op, nrows, nbytes, chunk)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)

_log = Logger(namespace="pggw.wal")


class WalError(PgError):
    """A PgError raised by the WAL (quota, disk full, I/O error, closed)."""


# ---------------------------------------------------------------------------------------
# Public data types


@dataclass(frozen=True)
class Record:
    """A committed chunk waiting for upload."""

    id: int
    seq: int
    txid: int
    user: str
    table: str
    op: str
    chunk: bytes
    nrows: int
    attempts: int
    committed_at: float
    last_error: str | None = None

    def columns(self) -> dict[str, list[Any]]:
        return codec.decode_chunk(self.chunk)


@dataclass(frozen=True)
class DeadLetter:
    """Rows CDF refused after the ack: a whole record (``chunk``) or some of its rows
    (``rows_json``, a list of row dicts keyed by column name)."""

    id: int
    record_id: int | None
    seq: int | None
    txid: int | None
    user: str
    table: str
    op: str
    nrows: int
    chunk: bytes | None
    rows_json: list[dict[str, Any]] | None
    error: dict[str, Any]
    attempts: int
    committed_at: float | None
    dead_at: float

    def rows(self) -> list[dict[str, Any]]:
        """The dead rows as row dicts, whichever way they are stored."""
        if self.rows_json is not None:
            return self.rows_json
        if self.chunk is not None:
            return codec.columns_to_rows(codec.decode_chunk(self.chunk))
        return []


@dataclass(frozen=True)
class TableStats:
    records: int = 0
    rows: int = 0
    bytes: int = 0
    oldest_committed_at: float | None = None


@dataclass(frozen=True)
class WalStats:
    """Backlog figures. ``bytes``/``records``/``rows`` count committed records pending
    upload; staged chunks of open transactions and dead letters are counted apart."""

    bytes: int
    records: int
    rows: int
    oldest_committed_at: float | None
    staged_bytes: int
    staged_records: int
    dead_letters: int
    dead_letter_rows: int
    dead_letter_bytes: int
    max_bytes: int
    file_bytes: int
    last_seq: int
    users: dict[str, TableStats] = field(default_factory=dict)
    tables: dict[tuple[str, str], TableStats] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Schema and migrations
#
# MIGRATIONS[i] takes a database at user_version i to user_version i + 1, inside one
# transaction (SQLite DDL is transactional). Never edit a released migration: add one.


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements one by one (``executescript`` would COMMIT the open transaction)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement!r}")


def _migrate_0_to_1(conn: sqlite3.Connection) -> None:
    _run_script(
        conn,
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO meta (key, value) VALUES ('generation', 0);

        -- One row per committed transaction; seq is the commit order.
        CREATE TABLE commits (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            txid         INTEGER NOT NULL UNIQUE,
            user_name    TEXT NOT NULL,
            committed_at REAL NOT NULL
        );
        CREATE INDEX commits_user ON commits (user_name, seq);

        -- Chunks of rows. Visible to the uploader iff commits has their txid.
        CREATE TABLE records (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            txid       INTEGER NOT NULL,
            user_name  TEXT NOT NULL,
            table_name TEXT NOT NULL,
            op         TEXT NOT NULL,
            nrows      INTEGER NOT NULL,
            nbytes     INTEGER NOT NULL,
            attempts   INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            chunk      BLOB NOT NULL  -- last, so metadata reads skip its overflow pages
        );
        CREATE INDEX records_txid ON records (txid, id);

        CREATE TABLE dead_letters (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            record_id    INTEGER,
            seq          INTEGER,
            txid         INTEGER,
            user_name    TEXT NOT NULL,
            table_name   TEXT NOT NULL,
            op           TEXT NOT NULL,
            nrows        INTEGER NOT NULL,
            nbytes       INTEGER NOT NULL,
            error        TEXT NOT NULL,  -- JSON object
            attempts     INTEGER NOT NULL DEFAULT 0,
            committed_at REAL,
            dead_at      REAL NOT NULL,
            rows_json    TEXT,           -- JSON array of row objects, or NULL
            chunk        BLOB            -- the whole record's chunk, or NULL
        );
        CREATE INDEX dead_letters_user ON dead_letters (user_name, id);
        """,
    )


Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = [_migrate_0_to_1]
SCHEMA_VERSION = len(MIGRATIONS)


def _migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> int:
    """Bring the schema to ``len(migrations)``; return the version found."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > len(migrations):
        raise WalError(
            IO_ERROR,
            f"WAL schema version {found} is newer than this pggw understands "
            f"({len(migrations)}); refusing to open it",
        )
    for version in range(found, len(migrations)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            migrations[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return found


def default_max_bytes(directory: Path) -> int:
    """min(10% of the free space, 10 GiB) of the file system holding ``directory``."""
    free = shutil.disk_usage(directory).free
    return max(1, min(int(free * DEFAULT_MAX_BYTES_FREE_FRACTION), DEFAULT_MAX_BYTES_CAP))


def _human(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{n} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------
# Space accounting (owned by the writer thread)


@dataclass
class _Acct:
    """What the writer knows about the file's contents, kept in step with every
    transaction so that quota checks and ``stats()`` need no table scans.

    ``pending``: bytes per user of staged + committed records; ``dead``: bytes per user of
    dead letters; ``total``: the sum of both (what the quota limits); ``staged``: open
    transactions' (user, bytes, chunks) by txid; ``tables``: committed (records, rows, bytes) by
    (user, table); ``dead_letters``: (count, rows) of dead letters.

    The writer publishes a new object after each transaction and never mutates a
    published one (all values are immutable), so other threads may read ``acct``.
    """

    pending: dict[str, int] = field(default_factory=dict)
    dead: dict[str, int] = field(default_factory=dict)
    staged: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    tables: dict[tuple[str, str], tuple[int, int, int]] = field(default_factory=dict)
    dead_letters: tuple[int, int] = (0, 0)
    total: int = 0

    def copy(self) -> _Acct:
        return _Acct(
            dict(self.pending),
            dict(self.dead),
            dict(self.staged),
            dict(self.tables),
            self.dead_letters,
            self.total,
        )

    def add_committed(self, user: str, table: str, records: int, rows: int, nbytes: int) -> None:
        r, n, b = self.tables.get((user, table), (0, 0, 0))
        if r + records:
            self.tables[(user, table)] = (r + records, n + rows, b + nbytes)
        else:
            self.tables.pop((user, table), None)

    def add_dead_letters(self, count: int, rows: int) -> None:
        c, n = self.dead_letters
        self.dead_letters = (c + count, n + rows)

    def add_pending(self, user: str, nbytes: int) -> None:
        left = self.pending.get(user, 0) + nbytes
        if left:
            self.pending[user] = left
        else:
            self.pending.pop(user, None)
        self.total += nbytes

    def add_dead(self, user: str, nbytes: int) -> None:
        left = self.dead.get(user, 0) + nbytes
        if left:
            self.dead[user] = left
        else:
            self.dead.pop(user, None)
        self.total += nbytes

    def user_bytes(self, user: str) -> int:
        return self.pending.get(user, 0) + self.dead.get(user, 0)


# ---------------------------------------------------------------------------------------
# Worker threads


class _Ctx:
    """What an operation running on a worker thread gets: the connection and, on the
    writer, a scratch copy of the accounting that is kept only if the operation's
    savepoint is released and the group's COMMIT succeeds."""

    __slots__ = ("acct", "conn", "now")

    def __init__(self, conn: sqlite3.Connection, acct: _Acct, now: float) -> None:
        self.conn = conn
        self.acct = acct
        self.now = now


class _Request(Generic[T]):
    __slots__ = ("clean", "deferred", "drains", "fn", "nbytes", "sync", "tx")

    def __init__(self, fn: Callable[[_Ctx], T], *, sync: bool, nbytes: int, tx: bool,
                 drains: bool = False, clean: bool = False) -> None:
        self.fn = fn
        self.sync = sync
        self.nbytes = nbytes
        self.tx = tx
        self.drains = drains  # frees WAL space (may use the disk reserve)
        # ``fn`` raises (anything but a SQLite error) only before it writes: it needs no
        # savepoint of its own in a group (see _Writer._run_batch)
        self.clean = clean
        self.deferred: Deferred[T] = Deferred()


_STOP = object()
_Outcome = tuple[Deferred[Any], bool, Any]


class _Worker(threading.Thread):
    """A thread owning one SQLite connection, running requests from a queue."""

    def __init__(
        self,
        name: str,
        reactor: IReactorFromThreads,
        connect: Callable[[], sqlite3.Connection],
    ) -> None:
        super().__init__(name=name, daemon=True)
        self._reactor = reactor
        self._connect = connect
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._started_d: Deferred[None] = Deferred()
        self._stopped_d: Deferred[None] = Deferred()
        self.conn: sqlite3.Connection | None = None
        self._inflight: list[_Request[Any]] = []  # taken from the queue, not yet answered

    # -- reactor thread ------------------------------------------------------------------

    def begin(self) -> Deferred[None]:
        self.start()
        return self._started_d

    def submit(
        self, fn: Callable[[_Ctx], T], *, sync: bool = False, nbytes: int = 0, tx: bool = True,
        drains: bool = False, clean: bool = False,
    ) -> Deferred[T]:
        request = _Request(fn, sync=sync, nbytes=nbytes, tx=tx, drains=drains, clean=clean)
        if self._closed:
            request.deferred.errback(WalError(ADMIN_SHUTDOWN, "the WAL is closed"))
        else:
            self._put(request)
        return request.deferred

    def _put(self, request: _Request[Any]) -> None:
        self._queue.put(request)

    def stop(self) -> Deferred[None]:
        if not self._closed:
            self._closed = True
            self._put_now()
            self._queue.put(_STOP)
        return self._stopped_d

    def _put_now(self) -> None:
        """Hand over requests held back on the reactor thread (see _Writer)."""

    @staticmethod
    def _deliver(outcomes: list[_Outcome]) -> None:
        for d, ok, value in outcomes:
            if ok:
                d.callback(value)
            else:
                d.errback(value)

    # -- worker thread -------------------------------------------------------------------

    def _send(self, outcomes: list[_Outcome]) -> None:
        self._inflight = []
        if outcomes:
            self._reactor.callFromThread(self._deliver, outcomes)

    def run(self) -> None:
        error: BaseException = WalError(ADMIN_SHUTDOWN, "the WAL is closed")
        try:
            self.conn = self._connect()
        except BaseException as e:
            self._send([(self._started_d, False, e)])
            self._reactor.callFromThread(self._finish, e)
            return
        self._send([(self._started_d, True, None)])
        try:
            self.loop(self.conn)
        except BaseException as e:  # a bug: fail everything rather than hang
            error = WalError(IO_ERROR, f"the WAL {self.name} thread failed: {e!r}")
            self._reactor.callFromThread(
                _log.critical,
                "WAL thread {name} failed:\n{traceback}",
                name=self.name,
                traceback="".join(traceback.format_exception(e)),
            )
        finally:
            with contextlib.suppress(sqlite3.Error):
                self.on_close(self.conn)
            self.conn.close()
            self._reactor.callFromThread(self._finish, error, self._inflight)

    def _finish(self, error: BaseException, inflight: Sequence[_Request[Any]] = ()) -> None:
        """On the reactor thread, so no submit() can slip in after the last drain."""
        self._closed = True
        for item in inflight:
            item.deferred.errback(error)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                item.deferred.errback(error)
        self._stopped_d.callback(None)

    def on_close(self, conn: sqlite3.Connection) -> None:
        pass

    def loop(self, conn: sqlite3.Connection) -> None:
        """Run requests one at a time, each in autocommit mode (the reader)."""
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            self._inflight = [item]
            ctx = _Ctx(conn, _Acct(), time.time())
            try:
                outcome: _Outcome = (item.deferred, True, item.fn(ctx))
            except Exception as e:
                outcome = (item.deferred, False, _translate(e, None))
            finally:
                if conn.in_transaction:
                    conn.rollback()
            self._send([outcome])


class _Writer(_Worker):
    """The single writer: group commit of everything queued, one transaction at a time."""

    def __init__(
        self,
        name: str,
        reactor: IReactorFromThreads,
        connect: Callable[[], sqlite3.Connection],
        describe_usage: Callable[[_Acct], str],
    ) -> None:
        super().__init__(name, reactor, connect)
        # Requests made while the reactor handles a burst of I/O (8 connections' commits
        # read in one poll) are handed over together when it is done, so that they make
        # one group (one fsync), and the writer does not wake up for the first of them to
        # fight the reactor thread for the GIL while it parses the others.
        self._call_later: Callable[..., Any] | None = getattr(reactor, "callLater", None)
        self._held_back: list[_Request[Any]] = []
        self._handover: Any = None
        self.acct = _Acct()
        self._describe_usage = describe_usage
        self._synchronous: str | None = None
        self._dirty = False
        self.reserve: SpaceReserve | None = None
        self.wal_file: Path | None = None  # the -wal file, for _checkpoint_if_disk_low
        self._next_space_check = 0.0
        self._wal_size = 0
        self._autocheckpoint = WAL_AUTOCHECKPOINT_PAGES
        self.batches = 0
        self.batched_requests = 0

    def loop(self, conn: sqlite3.Connection) -> None:
        carry: Any = None
        while True:
            if carry is not None:
                item, carry = carry, None
            else:
                try:
                    item = self._queue.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    # Idle: housekeeping, in short steps while no request is waiting.
                    while self._dirty and self._queue.empty():
                        self._dirty = self._maintain(conn)
                    if self.reserve is not None:
                        self.reserve.ensure()  # after a disk-full, once space is back
                    continue
            if item is _STOP:
                return
            if not item.tx:
                self._inflight = [item]
                self._send([self._run_alone(conn, item)])
                continue
            batch = self._inflight = [item]
            nbytes = item.nbytes
            while len(batch) < MAX_BATCH_REQUESTS and nbytes < MAX_BATCH_BYTES:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP or not more.tx:
                    carry = more
                    break
                batch.append(more)
                nbytes += more.nbytes
            self._send(self._run_batch(conn, batch))
            self._dirty = True
            self._adapt_to_free_disk(conn)

    def on_close(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _put(self, request: _Request[Any]) -> None:
        if self._call_later is None:
            self._queue.put(request)
            return
        self._held_back.append(request)
        if self._handover is None:
            self._handover = self._call_later(0, self._put_now)

    def _put_now(self) -> None:
        if self._handover is not None:
            if self._handover.active():
                self._handover.cancel()
            self._handover = None
        held, self._held_back = self._held_back, []
        for request in held:
            self._queue.put(request)

    def _set_synchronous(self, conn: sqlite3.Connection, mode: str) -> None:
        if self._synchronous != mode:
            conn.execute(f"PRAGMA synchronous = {mode}")
            self._synchronous = mode

    def _run_alone(self, conn: sqlite3.Connection, item: _Request[Any]) -> _Outcome:
        ctx = _Ctx(conn, self.acct.copy(), time.time())
        try:
            result = item.fn(ctx)
            self.acct = ctx.acct
            return (item.deferred, True, result)
        except Exception as e:
            if conn.in_transaction:
                conn.rollback()
            if self._use_reserve(conn, e, item):
                return self._run_alone(conn, item)
            return (item.deferred, False, _translate(e, self._usage()))

    def _reclaim(self, conn: sqlite3.Connection) -> bool:
        """While client writes are refused for want of the reserve: give pages back to the
        file system (the writer has nothing better to do) and try to take the reserve."""
        assert self.reserve is not None
        for _ in range(RECLAIM_STEPS):
            if not self._maintain(conn, low=True):
                break
        return self.reserve.ensure(now=True)

    def _use_reserve(self, conn: sqlite3.Connection, e: Exception, item: _Request[Any]) -> bool:
        """Disk full on a request that frees WAL space: give up the reserve to let it run."""
        if not (item.drains and _is_disk_full(e) and self._release_reserve()):
            return False
        with contextlib.suppress(sqlite3.Error):
            _checkpoint(conn)
        return True

    def _release_reserve(self) -> bool:
        if self.reserve is None or not self.reserve.release():
            return False
        self._reactor.callFromThread(
            _log.warn, "disk full: released the WAL's reserved space so that uploaded rows "
            "can be removed")
        return True

    def _adapt_to_free_disk(self, conn: sqlite3.Connection) -> None:
        """Checkpoint more often as the disk fills up.

        The -wal file takes up to WAL_AUTOCHECKPOINT_PAGES between checkpoints, and copying
        it into the database needs room for the database to grow. On a nearly full disk,
        the usual interval would leave every free byte in the -wal file and none to
        checkpoint (or delete uploaded rows) with, so the interval shrinks with the free
        space (1/8 of it), down to a few pages. Looked at every SPACE_CHECK_SECONDS, or
        when the -wal file has grown by SPACE_CHECK_BYTES (one stat() per group commit).
        """
        if self.wal_file is None:
            return
        try:
            size = os.stat(self.wal_file).st_size
        except OSError:
            return
        now = time.monotonic()
        if now < self._next_space_check and size - self._wal_size < SPACE_CHECK_BYTES:
            return
        self._next_space_check = now + SPACE_CHECK_SECONDS
        self._wal_size = size
        try:
            free = shutil.disk_usage(self.wal_file.parent).free
        except OSError:
            return
        pages = max(MIN_AUTOCHECKPOINT_PAGES, min(WAL_AUTOCHECKPOINT_PAGES,
                                                  free // (8 * PAGE_SIZE)))
        try:
            if pages != self._autocheckpoint:
                conn.execute(f"PRAGMA wal_autocheckpoint = {pages}")
                self._autocheckpoint = pages
            if size > free // 2:
                _checkpoint(conn)
        except sqlite3.Error as e:
            if not _is_disk_full(e):
                _log.warn("WAL checkpoint failed: {error}", error=e)

    def _usage(self) -> str:
        return self._describe_usage(self.acct)

    def _disk_full(self, detail: str) -> WalError:
        return _disk_full(self._usage(), detail)

    def _run_batch(
        self, conn: sqlite3.Connection, batch: list[_Request[Any]], *, savepoints: bool = False
    ) -> list[_Outcome]:
        """Run ``batch`` in one transaction, each request under a SAVEPOINT so that one that
        fails leaves the others be — except "clean" requests (commits, staging, deletes of
        uploaded records: the per-commit hot path), which raise only before they write. If
        one of them fails anyway, the group is rolled back and run again with a savepoint
        for every request, so nothing hinges on that promise."""
        if self.reserve is not None and not self.reserve.ensure() and not self._reclaim(conn):
            # The drain's reserve was used up: client writes wait until space is back.
            refused = [r for r in batch if not r.drains]
            if refused:
                batch = [r for r in batch if r.drains]
                full = [(r.deferred, False, self._disk_full("the space kept for uploading is "
                                                            "in use")) for r in refused]
                return full + (self._run_batch(conn, batch) if batch else [])
        self._set_synchronous(conn, "FULL" if any(r.sync for r in batch) else "NORMAL")
        work = self.acct.copy()
        now = time.time()
        outcomes: list[_Outcome] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for request in batch:
                if request.clean and not savepoints:
                    try:
                        result = request.fn(_Ctx(conn, work, now))
                    except sqlite3.Error:
                        raise
                    except Exception:
                        conn.execute("ROLLBACK")
                        return self._run_batch(conn, batch, savepoints=True)
                    outcomes.append((request.deferred, True, result))
                    continue
                trial = work.copy()
                conn.execute("SAVEPOINT op")
                try:
                    result = request.fn(_Ctx(conn, trial, now))
                except sqlite3.Error:
                    raise
                except Exception as e:
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    outcomes.append((request.deferred, False, e))
                    continue
                conn.execute("RELEASE op")
                work = trial
                outcomes.append((request.deferred, True, result))
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if len(batch) > 1:
                # Some request (or the COMMIT) hit a SQLite error: isolate who gets it.
                results: list[_Outcome] = []
                for request in batch:
                    results.extend(self._run_batch(conn, [request]))
                return results
            if self._use_reserve(conn, e, batch[0]):
                return self._run_batch(conn, batch)
            return [(batch[0].deferred, False, _translate(e, self._usage()))]
        self.acct = work
        self.batches += 1
        self.batched_requests += len(batch)
        return outcomes

    def _maintain(self, conn: sqlite3.Connection, *, low: bool = False) -> bool:
        """Idle housekeeping: give free pages back to the file system a step at a time and
        checkpoint the -wal file into the database. True if there is more to do. ``low``:
        the disk is short of space, give back even a few pages."""
        more = False
        least = 1 if low else VACUUM_MIN_FREE_PAGES
        try:
            self._set_synchronous(conn, "NORMAL")
            free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
            if free >= least:
                # executescript steps the pragma to completion; execute() would free 1 page.
                conn.executescript(f"PRAGMA incremental_vacuum({VACUUM_STEP_PAGES});")
                more = free - VACUUM_STEP_PAGES >= least
            _checkpoint(conn)
        except sqlite3.Error as e:
            if _is_disk_full(e) and self._release_reserve():
                with contextlib.suppress(sqlite3.Error):
                    _checkpoint(conn)
            else:
                _log.warn("WAL maintenance failed: {error}", error=e)
        finally:
            if conn.in_transaction:
                conn.rollback()
        return more


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the -wal file into the database; if all of it went, shrink it to nothing (not
    waiting long for a reader to let go of it)."""
    busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    if busy == 0 and log > 0 and log == done:
        conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")


def _is_disk_full(e: BaseException) -> bool:
    if not isinstance(e, sqlite3.Error):
        return False
    if getattr(e, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    return "database or disk is full" in str(e)


def _disk_full(usage: str | None, detail: str) -> WalError:
    return WalError(
        DISK_FULL,
        "could not write to the WAL: disk full" + (f"; {usage}" if usage else ""),
        detail=detail,
        hint="Retry when the uploader has drained some of the backlog, or free disk space.",
    )


def _translate(e: Exception, usage: str | None) -> Exception:
    """SQLite errors become PgErrors the wire layer can report; others pass through."""
    if isinstance(e, PgError):
        return e
    if _is_disk_full(e):
        return _disk_full(usage, str(e))
    if isinstance(e, sqlite3.Error):
        return WalError(IO_ERROR, f"could not write to the WAL: {e}")
    return e


def _chunks(ids: Sequence[int], size: int = SQL_PARAMS_PER_STATEMENT) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


# ---------------------------------------------------------------------------------------
# The log


class WriteAheadLog:
    """The gateway's durable log. See the module docstring for the model.

    Every public method is called on the reactor thread; those returning Deferreds never
    block it. ``new_txid`` is valid only after ``open()`` has fired.
    """

    def __init__(
        self,
        path: Path,
        *,
        reactor: IReactorFromThreads,
        max_bytes: int | None = None,
        per_user_share: float = DEFAULT_PER_USER_SHARE,
        reserve_bytes: int = DEFAULT_RESERVE_BYTES,
    ) -> None:
        if not 0 < per_user_share <= 1:
            raise ValueError("per_user_share must be in (0, 1]")
        self.path = Path(path)
        self._reactor = reactor
        self._max_bytes_arg = max_bytes
        self.max_bytes = max_bytes or 0
        self.per_user_share = per_user_share
        self._generation: int | None = None
        self._txids = itertools.count(1)
        self._lock_fd: int | None = None
        self._waiting: dict[str, float] = {}  # writer thread: users refused at the quota
        self._writer = _Writer("pggw-wal-writer", reactor, self._w_connect, self._describe)
        self._reader = _Worker("pggw-wal-reader", reactor, self._r_connect)
        self._writer.reserve = SpaceReserve(self.path.with_suffix(".reserve"), reserve_bytes)
        self._writer.wal_file = self.path.with_name(self.path.name + "-wal")
        self._opened = False

    # -- lifecycle -----------------------------------------------------------------------

    def open(self) -> Deferred[None]:
        """Create or migrate the schema, delete orphaned staging chunks, start the threads."""
        return Deferred.fromCoroutine(self._open())

    async def _open(self) -> None:
        await self._writer.begin()
        # drains: a restart on a full disk may use the reserve to get going (and drain).
        generation = await self._writer.submit(self._w_open, tx=False, drains=True)
        await self._reader.begin()
        self._generation = generation
        self._opened = True

    def close(self) -> Deferred[None]:
        """Finish queued requests, checkpoint, close the file. Later calls fail with 57P01."""
        return Deferred.fromCoroutine(self._close())

    async def _close(self) -> None:
        self._opened = False
        for worker in (self._reader, self._writer):  # the writer checkpoints as it closes
            if worker.ident is not None:
                await worker.stop()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- writing -------------------------------------------------------------------------

    def new_txid(self) -> int:
        """A transaction id, unique across restarts of this WAL file."""
        if self._generation is None:
            raise RuntimeError("WriteAheadLog.new_txid() before open()")
        n = next(self._txids)
        if n >= 1 << 32:
            raise RuntimeError("transaction ids of this process exhausted; restart")
        return (self._generation << 32) | n

    def stage(
        self, txid: int, user: str, table: str, op: str, chunk: bytes, nrows: int
    ) -> Deferred[None]:
        """Write a chunk of an open transaction: kept, but invisible until ``commit``."""
        _check_op(op)

        def run(ctx: _Ctx) -> None:
            self._w_check_open_txn(ctx, txid)
            self._w_check_quota(ctx, user, len(chunk))
            self._w_insert(ctx, txid, [(user, table, op, chunk, nrows)], committed=False)
            staged_user, staged_bytes, staged_n = ctx.acct.staged.get(txid, (user, 0, 0))
            ctx.acct.staged[txid] = (staged_user, staged_bytes + len(chunk), staged_n + 1)

        return self._writer.submit(run, nbytes=len(chunk), clean=True)

    def commit(
        self,
        txid: int,
        user: str,
        chunks: Sequence[tuple[str, str, bytes, int]] = (),
    ) -> Deferred[int]:
        """Write ``chunks`` (table, op, chunk, nrows) and the commit marker, atomically with
        the transaction's staged chunks. Fires with the commit's ``seq`` after fsync; with 0
        (and writes nothing) if the transaction has no chunks at all."""
        chunks = list(chunks)
        for _, op, _, _ in chunks:
            _check_op(op)
        nbytes = sum(len(c) for _, _, c, _ in chunks)

        def run(ctx: _Ctx) -> int:
            staged = txid in ctx.acct.staged
            if not staged and not chunks:
                self._w_check_open_txn(ctx, txid)
                return 0
            # A reused txid is caught by the commits table's UNIQUE txid below (no look-up
            # per commit).
            if nbytes:
                self._w_check_quota(ctx, user, nbytes)
            # The marker first: a reused txid fails before anything is written.
            try:
                cur = ctx.conn.execute(
                    "INSERT INTO commits (txid, user_name, committed_at) VALUES (?, ?, ?)",
                    (txid, user, ctx.now),
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"WAL transaction {txid} is already committed") from None
            if staged:
                for table, n, rows, nb in ctx.conn.execute(
                    "SELECT table_name, count(*), sum(nrows), sum(nbytes) FROM records"
                    " WHERE txid = ? GROUP BY table_name",
                    (txid,),
                ):
                    ctx.acct.add_committed(user, table, n, rows, nb)
            self._w_insert(ctx, txid, [(user, t, op, c, n) for t, op, c, n in chunks])
            ctx.acct.staged.pop(txid, None)
            assert cur.lastrowid is not None
            return cur.lastrowid

        return self._writer.submit(run, sync=True, nbytes=nbytes, clean=True)

    def rollback(self, txid: int) -> Deferred[None]:
        """Delete an open transaction's staged chunks (nothing if it has none)."""

        def run(ctx: _Ctx) -> None:
            staged = ctx.acct.staged.pop(txid, None)
            if staged is None:
                return
            ctx.conn.execute(
                "DELETE FROM records WHERE txid = ?"
                " AND NOT EXISTS (SELECT 1 FROM commits WHERE txid = ?)",
                (txid, txid),
            )
            ctx.acct.add_pending(staged[0], -staged[1])

        return self._writer.submit(run, drains=True)

    # -- uploader: reading and bookkeeping -----------------------------------------------

    def pending(
        self,
        limit: int,
        after_seq: int = 0,
        users: set[str] | None = None,
        *,
        after_id: int | None = None,
        byte_limit: int | None = None,
        row_limit: int | None = None,
    ) -> Deferred[list[Record]]:
        """Up to ``limit`` committed records in commit order (seq, then id).

        Records of one transaction share a seq. With ``after_id`` the page starts after the
        record (after_seq, after_id), so a transaction cut by ``limit`` is continued; without
        it, at the first record whose seq is greater than ``after_seq``. ``byte_limit`` stops
        the page once its chunks add up to that many bytes, ``row_limit`` once its records
        add up to that many rows (it always has one record)."""
        user_list = sorted(users) if users is not None else None

        def run(ctx: _Ctx) -> list[Record]:
            if user_list is not None and not user_list:
                return []
            where = "c.seq > ?"
            params: list[Any] = [after_seq]
            if after_id is not None:
                where = "c.seq >= ? AND (c.seq > ? OR r.id > ?)"
                params = [after_seq, after_seq, after_id]
            if user_list is not None:
                where += f" AND c.user_name IN ({','.join('?' * len(user_list))})"
                params.extend(user_list)
            params.append(limit)
            cursor = ctx.conn.execute(
                "SELECT r.id, c.seq, r.txid, r.user_name, r.table_name, r.op, r.chunk,"
                " r.nrows, r.attempts, c.committed_at, r.last_error"
                " FROM commits AS c JOIN records AS r ON r.txid = c.txid"
                f" WHERE {where} ORDER BY c.seq, r.id LIMIT ?",
                params,
            )
            if byte_limit is None and row_limit is None:
                return [Record(*row) for row in cursor]
            max_bytes = byte_limit if byte_limit is not None else float("inf")
            max_rows = row_limit if row_limit is not None else float("inf")
            out: list[Record] = []
            total = rows = 0
            for row in cursor:
                total += len(row[6])
                rows += row[7]
                if out and (total > max_bytes or rows > max_rows):
                    break
                out.append(Record(*row))
            cursor.close()
            return out

        return self._reader.submit(run)

    def mark_done(self, record_ids: Iterable[int]) -> Deferred[int]:
        """Delete uploaded records; fires with how many were deleted."""
        ids = sorted(set(record_ids))

        def run(ctx: _Ctx) -> int:
            deleted = 0
            txids: set[int] = set()
            for part in _chunks(ids):
                rows = ctx.conn.execute(
                    f"DELETE FROM records WHERE id IN ({','.join('?' * len(part))})"
                    " AND EXISTS (SELECT 1 FROM commits WHERE commits.txid = records.txid)"
                    " RETURNING user_name, table_name, nrows, nbytes, txid",
                    part,
                ).fetchall()
                for user, table, nrows, nbytes, txid in rows:
                    ctx.acct.add_pending(user, -nbytes)
                    ctx.acct.add_committed(user, table, -1, -nrows, -nbytes)
                    txids.add(txid)
                deleted += len(rows)
            self._w_drop_empty_commits(ctx, txids)
            return deleted

        return self._writer.submit(run, drains=True, clean=True)

    def record_attempt(self, record_id: int, error: str | None) -> Deferred[None]:
        """Count an upload attempt of a record and remember its last error."""

        def run(ctx: _Ctx) -> None:
            ctx.conn.execute(
                "UPDATE records SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error, record_id),
            )

        return self._writer.submit(run)

    def dead_letter(
        self,
        record_id: int,
        rows_json: list[dict[str, Any]] | None,
        error: dict[str, Any],
        *,
        remove_record: bool | None = None,
    ) -> Deferred[int]:
        """Move rows CDF refused to the dead letters; fires with the dead letter's id.

        With ``rows_json=None`` the whole record moves (it leaves the queue). With a list of
        row dicts, only those rows are stored and the record stays queued, so several
        subsets of one record can be dead-lettered with their own errors before the caller
        marks it done; pass ``remove_record=True`` to delete it in the same transaction."""
        remove = rows_json is None if remove_record is None else remove_record
        error_json = json.dumps(error, allow_nan=True, default=str)
        rows_text = (
            json.dumps(rows_json, allow_nan=True, default=str) if rows_json is not None else None
        )

        def run(ctx: _Ctx) -> int:
            row = ctx.conn.execute(
                "SELECT r.txid, c.seq, r.user_name, r.table_name, r.op, r.nrows, r.attempts,"
                " c.committed_at, r.nbytes, r.chunk"
                " FROM records AS r JOIN commits AS c ON c.txid = r.txid WHERE r.id = ?",
                (record_id,),
            ).fetchone()
            if row is None:
                raise KeyError(f"no committed WAL record {record_id}")
            txid, seq, user, table, op, nrows, attempts, committed_at, nbytes, chunk = row
            if rows_text is not None:
                dl_chunk, dl_rows = None, rows_text
                dl_nrows, dl_bytes = len(rows_json or ()), len(rows_text)
            else:
                dl_chunk, dl_rows, dl_nrows, dl_bytes = chunk, None, nrows, nbytes
            cur = ctx.conn.execute(
                "INSERT INTO dead_letters (record_id, seq, txid, user_name, table_name, op,"
                " nrows, nbytes, error, attempts, committed_at, dead_at, rows_json, chunk)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record_id,
                    seq,
                    txid,
                    user,
                    table,
                    op,
                    dl_nrows,
                    dl_bytes,
                    error_json,
                    attempts,
                    committed_at,
                    ctx.now,
                    dl_rows,
                    dl_chunk,
                ),
            )
            ctx.acct.add_dead(user, dl_bytes)
            ctx.acct.add_dead_letters(1, dl_nrows)
            if remove:
                ctx.conn.execute("DELETE FROM records WHERE id = ?", (record_id,))
                ctx.acct.add_pending(user, -nbytes)
                ctx.acct.add_committed(user, table, -1, -nrows, -nbytes)
                self._w_drop_empty_commits(ctx, {txid})
            assert cur.lastrowid is not None
            return cur.lastrowid

        return self._writer.submit(run, drains=True)

    def dead_letters(
        self, user: str | None, *, limit: int | None = None
    ) -> Deferred[list[DeadLetter]]:
        """A user's dead letters (all users' with ``user=None``), oldest first."""

        def run(ctx: _Ctx) -> list[DeadLetter]:
            sql = (
                "SELECT id, record_id, seq, txid, user_name, table_name, op, nrows, chunk,"
                " rows_json, error, attempts, committed_at, dead_at FROM dead_letters"
            )
            params: list[Any] = []
            if user is not None:
                sql += " WHERE user_name = ?"
                params.append(user)
            sql += " ORDER BY id"
            if limit is not None:
                sql += " LIMIT ?"
                params.append(limit)
            out = []
            for row in ctx.conn.execute(sql, params):
                (
                    id_,
                    rid,
                    seq,
                    txid,
                    u,
                    table,
                    op,
                    nrows,
                    chunk,
                    rows_text,
                    error,
                    attempts,
                    committed_at,
                    dead_at,
                ) = row
                out.append(
                    DeadLetter(
                        id_,
                        rid,
                        seq,
                        txid,
                        u,
                        table,
                        op,
                        nrows,
                        chunk,
                        json.loads(rows_text) if rows_text is not None else None,
                        json.loads(error),
                        attempts,
                        committed_at,
                        dead_at,
                    )
                )
            return out

        return self._reader.submit(run)

    def requeue_dead_letters(self, user: str | None, id: int | None = None) -> Deferred[int]:
        """Put dead letters back in the queue, behind everything committed so far (one new
        commit per user, in dead-letter order). Fires with how many were requeued."""

        def run(ctx: _Ctx) -> int:
            rows = self._w_select_dead(ctx, user, id)
            by_user: dict[str, list[Any]] = {}
            for row in rows:
                by_user.setdefault(row[1], []).append(row)
            for u, items in by_user.items():
                txid = (self._gen() << 32) | next(self._txids)
                chunks = []
                for dl_id, _, table, op, nrows, nbytes, chunk, rows_text in items:
                    if chunk is None:
                        chunk = codec.encode_chunk(codec.rows_to_columns(json.loads(rows_text)))
                    chunks.append((u, table, op, chunk, nrows))
                    ctx.conn.execute("DELETE FROM dead_letters WHERE id = ?", (dl_id,))
                    ctx.acct.add_dead(u, -nbytes)
                    ctx.acct.add_dead_letters(-1, -nrows)
                self._w_insert(ctx, txid, chunks)
                ctx.conn.execute(
                    "INSERT INTO commits (txid, user_name, committed_at) VALUES (?, ?, ?)",
                    (txid, u, ctx.now),
                )
            return len(rows)

        return self._writer.submit(run, sync=True)

    def discard_dead_letters(self, user: str | None, id: int | None = None) -> Deferred[int]:
        """Delete dead letters for good; fires with how many were deleted."""

        def run(ctx: _Ctx) -> int:
            rows = self._w_select_dead(ctx, user, id)
            for dl_id, u, _, _, nrows, nbytes, _, _ in rows:
                ctx.conn.execute("DELETE FROM dead_letters WHERE id = ?", (dl_id,))
                ctx.acct.add_dead(u, -nbytes)
                ctx.acct.add_dead_letters(-1, -nrows)
            return len(rows)

        return self._writer.submit(run, drains=True)

    def stats(self, *, exact: bool = False) -> Deferred[WalStats]:
        """Backlog figures. By default from the writer's running counts plus a few indexed
        look-ups (cheap at any backlog size; per-table ``oldest_committed_at`` is None).
        With ``exact=True``, recounted from the tables (a full scan; for checks and
        operators)."""
        if exact:
            return self._reader.submit(self._r_exact_stats)
        acct = self._writer.acct  # an immutable snapshot

        def run(ctx: _Ctx) -> WalStats:
            conn = ctx.conn
            tables = {key: TableStats(*value) for key, value in acct.tables.items()}
            users: dict[str, TableStats] = {}
            for (user, _), t in tables.items():
                u = users.get(user, TableStats())
                users[user] = TableStats(u.records + t.records, u.rows + t.rows, u.bytes + t.bytes)
            conn.execute("BEGIN")
            try:
                for user, t in users.items():
                    oldest = conn.execute(
                        "SELECT committed_at FROM commits WHERE user_name = ? ORDER BY seq LIMIT 1",
                        (user,),
                    ).fetchone()
                    users[user] = TableStats(
                        t.records, t.rows, t.bytes, oldest[0] if oldest else None
                    )
                last = conn.execute(
                    "SELECT seq FROM sqlite_sequence WHERE name = 'commits'"
                ).fetchone()
            finally:
                conn.rollback()
            return self._make_stats(
                tables,
                users,
                staged=(
                    sum(n for _, _, n in acct.staged.values()),
                    sum(b for _, b, _ in acct.staged.values()),
                ),
                dead=(*acct.dead_letters, sum(acct.dead.values())),
                last_seq=int(last[0]) if last else 0,
            )

        return self._reader.submit(run)

    def _r_exact_stats(self, ctx: _Ctx) -> WalStats:
        conn = ctx.conn
        conn.execute("BEGIN")  # one snapshot for all the queries below
        try:
            tables: dict[tuple[str, str], TableStats] = {}
            for user, table, n, rows, nbytes, oldest in conn.execute(
                "SELECT c.user_name, r.table_name, count(*), sum(r.nrows), sum(r.nbytes),"
                " min(c.committed_at) FROM commits AS c JOIN records AS r"
                " ON r.txid = c.txid GROUP BY c.user_name, r.table_name"
            ):
                tables[(user, table)] = TableStats(n, rows, nbytes, oldest)
            staged = conn.execute(
                "SELECT count(*), coalesce(sum(nbytes), 0) FROM records"
                " WHERE txid NOT IN (SELECT txid FROM commits)"
            ).fetchone()
            dead = conn.execute(
                "SELECT count(*), coalesce(sum(nrows), 0), coalesce(sum(nbytes), 0)"
                " FROM dead_letters"
            ).fetchone()
            last = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'commits'").fetchone()
        finally:
            conn.rollback()
        users: dict[str, TableStats] = {}
        for (user, _), t in tables.items():
            u = users.get(user, TableStats())
            users[user] = TableStats(
                u.records + t.records,
                u.rows + t.rows,
                u.bytes + t.bytes,
                _min_opt(u.oldest_committed_at, t.oldest_committed_at),
            )
        return self._make_stats(
            tables, users, staged=staged, dead=dead, last_seq=int(last[0]) if last else 0
        )

    def _make_stats(
        self,
        tables: dict[tuple[str, str], TableStats],
        users: dict[str, TableStats],
        *,
        staged: tuple[int, int],
        dead: tuple[int, int, int],
        last_seq: int,
    ) -> WalStats:
        file_bytes = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                file_bytes += os.path.getsize(str(self.path) + suffix)
        oldest = None
        for u in users.values():
            oldest = _min_opt(oldest, u.oldest_committed_at)
        return WalStats(
            bytes=sum(t.bytes for t in users.values()),
            records=sum(t.records for t in users.values()),
            rows=sum(t.rows for t in users.values()),
            oldest_committed_at=oldest,
            staged_records=staged[0],
            staged_bytes=staged[1],
            dead_letters=dead[0],
            dead_letter_rows=dead[1],
            dead_letter_bytes=dead[2],
            max_bytes=self.max_bytes,
            file_bytes=file_bytes,
            last_seq=last_seq,
            users=users,
            tables=tables,
        )

    # -- writer-thread internals ---------------------------------------------------------

    def _gen(self) -> int:
        assert self._generation is not None
        return self._generation

    def _w_connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is not None:
            fd = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                raise WalError(IO_ERROR, f"the WAL {self.path} is in use by another process") from e
            self._lock_fd = fd
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_SECONDS,
            check_same_thread=False,
        )
        try:
            fresh = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
            if fresh:
                # Only effective before the first table exists.
                conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise WalError(IO_ERROR, f"could not put {self.path} in WAL mode ({mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("PRAGMA temp_store = MEMORY")
            # Debian's SQLite zeroes every freed page by default: deleting uploaded records
            # would then write their whole size again (drain throughput, and space a full
            # disk does not have). FAST only zeroes what costs no extra I/O.
            conn.execute("PRAGMA secure_delete = FAST")
        except BaseException:
            conn.close()
            raise
        return conn

    def _r_connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_SECONDS,
            check_same_thread=False,
        )
        conn.execute("PRAGMA query_only = ON")
        return conn

    def _w_open(self, ctx: _Ctx) -> int:
        conn = ctx.conn
        _migrate(conn, MIGRATIONS)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            (generation,) = conn.execute(
                "SELECT value FROM meta WHERE key = 'generation'"
            ).fetchone()
            # Orphans: staged chunks of transactions that never committed.
            conn.execute("DELETE FROM records WHERE txid NOT IN (SELECT txid FROM commits)")
            # Commit markers whose records are all done (normally removed with them).
            conn.execute(
                "DELETE FROM commits WHERE NOT EXISTS"
                " (SELECT 1 FROM records WHERE records.txid = commits.txid)"
            )
            conn.execute("COMMIT")  # synchronous=FULL: the generation bump is durable
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        acct = _Acct()
        for user, nbytes in conn.execute(
            "SELECT user_name, sum(nbytes) FROM records GROUP BY user_name"
        ):
            acct.add_pending(user, nbytes)
        for user, table, n, rows, nbytes in conn.execute(
            "SELECT c.user_name, r.table_name, count(*), sum(r.nrows), sum(r.nbytes)"
            " FROM commits AS c JOIN records AS r ON r.txid = c.txid"
            " GROUP BY c.user_name, r.table_name"
        ):
            acct.add_committed(user, table, n, rows, nbytes)
        for user, n, rows, nbytes in conn.execute(
            "SELECT user_name, count(*), sum(nrows), sum(nbytes) FROM dead_letters"
            " GROUP BY user_name"
        ):
            acct.add_dead(user, nbytes)
            acct.add_dead_letters(n, rows)
        ctx.acct = acct
        if self._writer.reserve is not None:
            self._writer.reserve.ensure()
        if self._max_bytes_arg is None:
            self.max_bytes = default_max_bytes(self.path.parent)
        return int(generation)

    def _w_insert(
        self,
        ctx: _Ctx,
        txid: int,
        chunks: list[tuple[str, str, str, bytes, int]],
        *,
        committed: bool = True,
    ) -> None:
        if not chunks:
            return
        if len(chunks) == 1:
            ((u, t, op, c, n),) = chunks
            ctx.conn.execute(_INSERT_RECORD, (txid, u, t, op, n, len(c), c))
        else:
            ctx.conn.executemany(
                _INSERT_RECORD, [(txid, u, t, op, n, len(c), c) for u, t, op, c, n in chunks]
            )
        for u, t, _, c, n in chunks:
            ctx.acct.add_pending(u, len(c))
            if committed:
                ctx.acct.add_committed(u, t, 1, n, len(c))

    def _w_check_open_txn(self, ctx: _Ctx, txid: int) -> None:
        if ctx.conn.execute("SELECT 1 FROM commits WHERE txid = ?", (txid,)).fetchone():
            raise ValueError(f"WAL transaction {txid} is already committed")

    def _w_drop_empty_commits(self, ctx: _Ctx, txids: Iterable[int]) -> None:
        ctx.conn.executemany(
            "DELETE FROM commits WHERE txid = ?"
            " AND NOT EXISTS (SELECT 1 FROM records WHERE txid = ?)",
            [(t, t) for t in txids],
        )

    def _w_select_dead(self, ctx: _Ctx, user: str | None, id: int | None) -> list[Any]:
        sql = (
            "SELECT id, user_name, table_name, op, nrows, nbytes, chunk, rows_json"
            " FROM dead_letters WHERE 1"
        )
        params: list[Any] = []
        if user is not None:
            sql += " AND user_name = ?"
            params.append(user)
        if id is not None:
            sql += " AND id = ?"
            params.append(id)
        return ctx.conn.execute(sql + " ORDER BY id", params).fetchall()

    def _w_check_quota(self, ctx: _Ctx, user: str, nbytes: int) -> None:
        acct = ctx.acct
        now = time.monotonic()
        if acct.total + nbytes > self.max_bytes:
            self._waiting[user] = now
            raise WalError(
                DISK_FULL,
                f"WAL quota exceeded: {self._describe(acct, user)}",
                hint="Retry when the uploader has drained some of the backlog.",
            )
        share = int(self.max_bytes * self.per_user_share)
        if acct.user_bytes(user) + nbytes > share and self._others_waiting(acct, user, now):
            self._waiting[user] = now
            raise WalError(
                DISK_FULL,
                f"WAL fair share exceeded for user {user!r}: {self._describe(acct, user)}; "
                f"a user may hold {_human(share)} while other users wait",
                hint="Retry when the uploader has drained some of this user's backlog.",
            )
        self._waiting.pop(user, None)

    def _others_waiting(self, acct: _Acct, user: str, now: float) -> bool:
        if any(u != user and n > 0 for u, n in acct.pending.items()):
            return True
        for u, since in list(self._waiting.items()):
            if now - since > WAITING_SECONDS:
                del self._waiting[u]
            elif u != user:
                return True
        return False

    def _describe(self, acct: _Acct, user: str | None = None) -> str:
        text = f"{_human(acct.total)} pending upload of a {_human(self.max_bytes)} limit"
        if user is not None:
            text += (
                f" (user {user!r}: {_human(acct.pending.get(user, 0))} pending,"
                f" {_human(acct.dead.get(user, 0))} in dead letters)"
            )
        return text

    # -- test and diagnostics hooks --------------------------------------------------------

    def _call_writer(
        self, fn: Callable[[sqlite3.Connection], T], *, tx: bool = True
    ) -> Deferred[T]:
        """Run ``fn(conn)`` on the writer thread (tests, maintenance)."""
        return self._writer.submit(lambda ctx: fn(ctx.conn), tx=tx)

    def _call_reader(self, fn: Callable[[sqlite3.Connection], T]) -> Deferred[T]:
        return self._reader.submit(lambda ctx: fn(ctx.conn))

    @property
    def used_bytes(self) -> int:
        """Bytes counted against the quota (staged, pending and dead-lettered chunks), as of
        the last write; cheap enough for a readiness probe."""
        return self._writer.acct.total

    @property
    def group_commit_stats(self) -> tuple[int, int]:
        """(SQLite transactions, requests they carried) since open, for benchmarks."""
        return self._writer.batches, self._writer.batched_requests


def _check_op(op: str) -> None:
    if op not in OPS:
        raise ValueError(f"unknown WAL operation {op!r}; expected one of {sorted(OPS)}")


def _min_opt(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
