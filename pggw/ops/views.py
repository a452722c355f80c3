"""Data behind the SQL views in schema ``pggw``, always scoped to one user.

The SQL engine turns these into result sets; column names below are the views' columns
(``*_at``/``*_since`` are timezone-aware :class:`datetime` values in UTC, or ``None``)::

    pggw.backlog   table_name, rows_waiting, records_waiting, bytes_waiting,
                   oldest_waiting_since, last_upload_at, last_error, last_error_at,
                   rejected_rows, state
    pggw.rejected  id, table_name, operation, row_number, row (dict → json), error_code,
                   error_message, reason, rejected_at, committed_at, attempts
    pggw.uploads   finished_at, table_name, operation, rows, items, status, http_status,
                   duration_s, error

``SELECT pggw.retry_rejected(id)`` / ``pggw.discard_rejected(id)`` (``id`` NULL: all the
user's) call :func:`retry_rejected` / :func:`discard_rejected`, which return the number
of *rows* affected. A user never sees or touches another user's rows: every function
takes the connected user and filters by it.

``gateway`` is anything with ``wal`` (:class:`~pggw.wal.log.WriteAheadLog`) and
``uploader`` (:class:`~pggw.upload.Uploader` or ``None``) attributes.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "BACKLOG_COLUMNS",
    "REJECTED_COLUMNS",
    "UPLOADS_COLUMNS",
    "backlog",
    "discard_rejected",
    "rejected",
    "retry_rejected",
    "uploads",
    "user_state",
]

BACKLOG_COLUMNS = ("table_name", "rows_waiting", "records_waiting", "bytes_waiting",
                   "oldest_waiting_since", "last_upload_at", "last_error", "last_error_at",
                   "rejected_rows", "state")
REJECTED_COLUMNS = ("id", "table_name", "operation", "row_number", "row", "error_code",
                    "error_message", "reason", "rejected_at", "committed_at", "attempts")
UPLOADS_COLUMNS = ("finished_at", "table_name", "operation", "rows", "items", "status",
                   "http_status", "duration_s", "error")


def _ts(t: float | None) -> datetime | None:
    return datetime.fromtimestamp(t, UTC) if t is not None else None


def _upload_metrics(gateway: Any) -> Any:
    uploader = getattr(gateway, "uploader", None)
    return getattr(uploader, "metrics", None)


async def _pending_by_table(wal: Any, user: str) -> dict[str, tuple[int, int, int, float | None]]:
    """table → (records, rows, bytes, oldest committed_at) of ``user``'s pending records
    (one indexed scan of that user's commits, on the WAL's reader thread)."""

    def run(conn: sqlite3.Connection) -> dict[str, tuple[int, int, int, float | None]]:
        out = {}
        for table, n, rows, nbytes, oldest in conn.execute(
            "SELECT r.table_name, count(*), sum(r.nrows), sum(r.nbytes), min(c.committed_at)"
            " FROM commits AS c JOIN records AS r ON r.txid = c.txid"
            " WHERE c.user_name = ? GROUP BY r.table_name",
            (user,),
        ):
            out[table] = (int(n), int(rows or 0), int(nbytes or 0), oldest)
        return out

    result: dict[str, tuple[int, int, int, float | None]] = await wal._call_reader(run)
    return result


async def dead_letter_counts(wal: Any, user: str | None = None) -> dict[tuple[str, str], int]:
    """(user, table) → dead-lettered rows held, for one user or everyone."""

    def run(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
        sql = "SELECT user_name, table_name, sum(nrows) FROM dead_letters"
        params: tuple[Any, ...] = ()
        if user is not None:
            sql += " WHERE user_name = ?"
            params = (user,)
        sql += " GROUP BY user_name, table_name"
        return {(u, t): int(n or 0) for u, t, n in conn.execute(sql, params)}

    result: dict[tuple[str, str], int] = await wal._call_reader(run)
    return result


def user_state(gateway: Any, user: str, now: float) -> dict[str, Any]:
    """The user's upload lane: ``state`` (running, backing_off, paused, idle),
    ``backing_off_until`` (Unix time or None), ``paused_reason``, ``last_error``."""
    uploader = getattr(gateway, "uploader", None)
    lane = uploader.status().get(user) if uploader is not None else None
    metrics = _upload_metrics(gateway)
    until = metrics.backoff_until.get(user) if metrics is not None else None
    if until is not None and until <= now:
        until = None
    state = "idle"
    paused = lane.get("paused") if lane else None
    if paused:
        state = "paused"
    elif until is not None:
        state = "backing_off"
    elif lane and lane.get("state") == "active":
        state = "running"
    return {
        "state": state,
        "backing_off_until": until,
        "paused_reason": paused,
        "last_error": lane.get("last_error") if lane else None,
    }


async def backlog(gateway: Any, user: str) -> list[dict[str, Any]]:
    """One row per table the user has rows waiting in, rows rejected in, or uploaded to
    since the gateway started; ordered by table name."""
    import time

    now = time.time()
    pending = await _pending_by_table(gateway.wal, user)
    dead = await dead_letter_counts(gateway.wal, user)
    metrics = _upload_metrics(gateway)
    last_up: dict[str, float] = {}
    last_err: dict[str, tuple[float, str]] = {}
    if metrics is not None:
        last_up = {t: at for (u, t), at in metrics.last_upload.items() if u == user}
        last_err = {t: e for (u, t), e in metrics.last_error.items() if u == user}
    state = user_state(gateway, user, now)
    tables = set(pending) | {t for (_, t) in dead} | set(last_up) | set(last_err)
    out = []
    for table in sorted(tables):
        records, rows, nbytes, oldest = pending.get(table, (0, 0, 0, None))
        err = last_err.get(table)
        out.append({
            "table_name": table,
            "rows_waiting": rows,
            "records_waiting": records,
            "bytes_waiting": nbytes,
            "oldest_waiting_since": _ts(oldest),
            "last_upload_at": _ts(last_up.get(table)),
            "last_error": err[1] if err else None,
            "last_error_at": _ts(err[0]) if err else None,
            "rejected_rows": dead.get((user, table), 0),
            "state": (state["state"] if rows else "idle"),
        })
    return out


async def rejected(gateway: Any, user: str, *, limit: int | None = 10_000
                   ) -> list[dict[str, Any]]:
    """One row per dead-lettered row of ``user``, oldest first (at most ``limit`` rows).
    ``id`` is the dead letter's id (shared by the rows refused together), the argument of
    ``retry_rejected``/``discard_rejected``."""
    out: list[dict[str, Any]] = []
    for dl in await gateway.wal.dead_letters(user):
        error = dl.error or {}
        code = error.get("code", error.get("status"))
        for n, row in enumerate(dl.rows(), 1):
            out.append({
                "id": dl.id,
                "table_name": dl.table,
                "operation": dl.op,
                "row_number": n,
                "row": row,
                "error_code": str(code) if code is not None else None,
                "error_message": error.get("message"),
                "reason": error.get("reason"),
                "rejected_at": _ts(dl.dead_at),
                "committed_at": _ts(dl.committed_at),
                "attempts": dl.attempts,
            })
            if limit is not None and len(out) >= limit:
                return out
    return out


async def uploads(gateway: Any, user: str, *, limit: int = 1000) -> list[dict[str, Any]]:
    """The user's most recent upload batches, newest first."""
    metrics = _upload_metrics(gateway)
    if metrics is None:
        return []
    out: list[dict[str, Any]] = []
    for b in reversed(metrics.batches):
        if b.user != user:
            continue
        out.append({
            "finished_at": _ts(b.finished_at),
            "table_name": b.table,
            "operation": b.op,
            "rows": b.rows,
            "items": b.items,
            "status": b.status,
            "http_status": b.http_status,
            "duration_s": round(b.duration_s, 6),
            "error": b.error,
        })
        if len(out) >= limit:
            break
    return out


async def _rows_of(wal: Any, user: str, id: int | None) -> int:
    def run(conn: sqlite3.Connection) -> int:
        sql = "SELECT coalesce(sum(nrows), 0) FROM dead_letters WHERE user_name = ?"
        params: tuple[Any, ...] = (user,)
        if id is not None:
            sql += " AND id = ?"
            params = (user, id)
        return int(conn.execute(sql, params).fetchone()[0])

    result: int = await wal._call_reader(run)
    return result


async def retry_rejected(gateway: Any, user: str, id: int | None = None) -> int:
    """Put ``user``'s dead letter ``id`` (all of them with ``None``) back in the upload
    queue, behind everything committed so far; returns the rows re-queued."""
    rows = await _rows_of(gateway.wal, user, id)
    if not rows:
        return 0
    done = await gateway.wal.requeue_dead_letters(user, id)
    uploader = getattr(gateway, "uploader", None)
    if uploader is not None:
        uploader.wake()
    return rows if done else 0


async def discard_rejected(gateway: Any, user: str, id: int | None = None) -> int:
    """Delete ``user``'s dead letter ``id`` (all of them with ``None``) for good; returns
    the rows discarded."""
    rows = await _rows_of(gateway.wal, user, id)
    if not rows:
        return 0
    done = await gateway.wal.discard_dead_letters(user, id)
    return rows if done else 0
