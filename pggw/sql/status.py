"""Schema ``pggw``: read-only views of a user's own rows on their way to CDF, and the
functions that act on them.

``pggw.backlog``, ``pggw.rejected`` and ``pggw.uploads`` are registry tables of kind
``sqlview`` (relkind ``v`` in the catalog); their rows come from
:mod:`pggw.ops.views`, always filtered to the connected user, and are fetched
before the query runs.  ``SELECT pggw.retry_rejected(id)``,
``pggw.discard_rejected(id)`` and ``pggw.wait_uploaded(timeout_seconds)`` are
recognised as calls (a single function call in a SELECT list).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pggw.tables.model import Column, Table
from pggw.wire import types as T


def _view(name: str, description: str, *cols: tuple[str, T.PgType]) -> Table:
    return Table(name=name, resource="", schema="pggw", kind="sqlview", key=(),
                 ops=frozenset(), description=description,
                 columns=tuple(Column(n, t) for n, t in cols))


BACKLOG = _view(
    "backlog", "Your rows waiting for upload, per table.",
    ("table_name", T.TEXT), ("rows_waiting", T.INT8), ("records_waiting", T.INT8),
    ("bytes_waiting", T.INT8), ("oldest_waiting_since", T.TIMESTAMPTZ),
    ("last_upload_at", T.TIMESTAMPTZ), ("last_error", T.TEXT), ("last_error_at", T.TIMESTAMPTZ),
    ("rejected_rows", T.INT8), ("state", T.TEXT))
REJECTED = _view(
    "rejected", "Your rows CDF refused (dead letters), with CDF's error.",
    ("id", T.INT8), ("table_name", T.TEXT), ("operation", T.TEXT), ("row_number", T.INT4),
    ("row", T.JSON), ("error_code", T.TEXT), ("error_message", T.TEXT), ("reason", T.TEXT),
    ("rejected_at", T.TIMESTAMPTZ), ("committed_at", T.TIMESTAMPTZ), ("attempts", T.INT4))
UPLOADS = _view(
    "uploads", "Your recent upload batches.",
    ("finished_at", T.TIMESTAMPTZ), ("table_name", T.TEXT), ("operation", T.TEXT),
    ("rows", T.INT8), ("items", T.INT8), ("status", T.TEXT), ("http_status", T.INT4),
    ("duration_s", T.FLOAT8), ("error", T.TEXT))

STATUS_TABLES: tuple[Table, ...] = (BACKLOG, REJECTED, UPLOADS)

_MENTIONS = re.compile(r'"?pggw"?\s*\.\s*"?(backlog|rejected|uploads)\b', re.I)
CALL = re.compile(
    r"\s*select\s+(?:pggw\s*\.\s*)(retry_rejected|discard_rejected|wait_uploaded)\s*"
    r"\(\s*(.*?)\s*\)\s*(?:as\s+\w+\s*)?;?\s*$", re.I | re.S)


def views_read(sql: str) -> set[str]:
    """Which status views a query mentions (cheap; the catalog does the real parsing)."""
    return {m.lower() for m in _MENTIONS.findall(sql)} if "pggw" in sql.lower() else set()


def _sql_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, dict | list):
        return json.dumps(v)
    return v


def _fetchers(services: Any) -> dict[str, Callable[[Any, str], Awaitable[list[dict[str, Any]]]]]:
    from pggw.ops import views

    return {"backlog": views.backlog, "rejected": views.rejected, "uploads": views.uploads}


async def fetch_rows(services: Any, user: str, names: set[str]
                     ) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of the named views for ``user``, as tuples in column order."""
    fetch = _fetchers(services)
    tables = {t.name: t for t in STATUS_TABLES}
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name in names:
        rows = await fetch[name](services, user)
        cols = tables[name].column_names
        out[f"pggw.{name}"] = [tuple(_sql_value(r.get(c)) for c in cols) for r in rows]
    return out
