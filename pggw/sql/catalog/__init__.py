"""Catalog emulation: answer clients' catalog queries from the table registry.

A :class:`Catalog` is created per connection (cheap: the SQLite catalog database is built once
per registry and shared).  :meth:`Catalog.query` runs a PostgreSQL catalog query — or ``SHOW``/
``SET``/``RESET`` — and returns a :class:`~pggw.sql.result.Result` with PostgreSQL column names
and type OIDs; :meth:`Catalog.describe` gives parameter and result types without executing.

Data tables exist in the catalog database as empty tables, so ``SELECT … FROM assets LIMIT 0``
describes them; a query that could return their rows is refused (they are write-only).
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pggw.sql.catalog.schema import TYPE_BY_NAME, CatalogDB, catalog_db
from pggw.sql.catalog.translate import (
    REG_TYPES,
    VECTOR_TYPES,
    PgT,
    Translation,
    Translator,
    elem_type,
    is_array,
)
from pggw.sql.result import Result, ResultColumn
from pggw.sql.settings import Settings, execute_settings_statement, is_settings_statement
from pggw.tables.registry import Registry
from pggw.wire.errors import (
    FEATURE_NOT_SUPPORTED,
    PROGRAM_LIMIT_EXCEEDED,
    PROTOCOL_VIOLATION,
    QUERY_CANCELED,
    PgError,
)

__all__ = ["Catalog", "Result", "ResultColumn", "split_statements", "type_oid"]

_CACHE_SIZE = 256
# A catalog query never legitimately runs long; stop runaway ones (recursive CTEs …).
MAX_CATALOG_SECONDS = 10.0


def type_oid(typname: str) -> int:
    if typname == "unknown":
        return 25
    row = TYPE_BY_NAME.get(typname)
    return int(row["oid"]) if row is not None else 25


def _type_size(typname: str) -> int:
    row = TYPE_BY_NAME.get(typname)
    return int(row["typlen"]) if row is not None else -1


def split_statements(sql: str) -> list[str]:
    """Split a simple Query's text into statements at top-level semicolons.

    Quotes ('…', E'…', "…", $tag$…$tag$) and comments (-- …, /* … */, nested) are respected;
    empty statements are dropped.
    """
    out: list[str] = []
    i, n, start = 0, len(sql), 0
    while i < n:
        ch = sql[i]
        if ch == "'":
            escape = i > 0 and sql[i - 1] in "eE" and (i < 2 or not (sql[i - 2].isalnum()
                                                                    or sql[i - 2] == "_"))
            i += 1
            while i < n:
                if escape and sql[i] == "\\":
                    i += 2
                    continue
                if sql[i] == "'":
                    if i + 1 < n and sql[i + 1] == "'":
                        i += 2
                        continue
                    break
                i += 1
            i += 1
        elif ch == '"':
            j = sql.find('"', i + 1)
            i = n if j < 0 else j + 1
        elif ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif ch == "/" and sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif ch == "$":
            m = _DOLLAR_RE.match(sql, i)
            if m:
                end = sql.find(m.group(0), m.end())
                i = n if end < 0 else end + len(m.group(0))
            else:
                i += 1
        elif ch == ";":
            stmt = sql[start:i].strip()
            if stmt:
                out.append(stmt)
            i += 1
            start = i
        else:
            i += 1
    stmt = sql[start:].strip()
    if stmt and not _only_comments(stmt):
        out.append(stmt)
    return out


_DOLLAR_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def _only_comments(s: str) -> bool:
    return not re.sub(r"--[^\n]*|/\*.*?\*/", "", s, flags=re.S).strip()


class _TranslationCache:
    def __init__(self) -> None:
        self._d: OrderedDict[tuple[str, tuple[str, ...]], Translation] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, tuple[str, ...]]) -> Translation | None:
        with self._lock:
            t = self._d.get(key)
            if t is not None:
                self._d.move_to_end(key)
            return t

    def put(self, key: tuple[str, tuple[str, ...]], t: Translation) -> None:
        with self._lock:
            self._d[key] = t
            if len(self._d) > _CACHE_SIZE:
                self._d.popitem(last=False)


def _cache_for(db: CatalogDB) -> _TranslationCache:
    """The translation cache lives with (and dies with) the shared catalog database."""
    c = db.translation_cache
    if not isinstance(c, _TranslationCache):
        c = _TranslationCache()
        db.translation_cache = c
    return c


class Catalog:
    """One session's view of the catalog."""

    def __init__(self, registry: Registry, *, user: str, database: str, settings: Settings,
                 backend_pid: int | None = None,
                 row_sources: Mapping[str, RowSource] | None = None) -> None:
        """``row_sources`` makes registry tables readable: ``"schema.name"`` → a callable
        returning the rows (tuples in column order) a query on that table should see, e.g.
        ``pggw.backlog`` from the WAL.  Every other registry table is write-only."""
        self.row_sources: dict[str, RowSource] = dict(row_sources or {})
        self._db = catalog_db(registry)
        self._cache = _cache_for(self._db)
        self.registry = registry
        self.user = user
        self.database = database
        self.settings = settings
        self._pid = backend_pid if backend_pid is not None else os.getpid()
        self._cancelled = False

    # -- Session protocol (used by the SQL functions) -------------------------------------------
    def current_setting(self, name: str, missing_ok: bool = False) -> str | None:
        if missing_ok:
            return self.settings.get_or_none(name)
        return self.settings.get(name)

    def set_config(self, name: str, value: str, is_local: bool) -> str:
        return self.settings.set(name, value, local=is_local)

    def search_path_schemas(self) -> list[str]:
        return [self.user if s == "$user" else s for s in self.settings.search_path()]

    def backend_pid(self) -> int:
        return self._pid

    # -- API --------------------------------------------------------------------------------------
    def translate(self, sql: str) -> Translation:
        sp = tuple(self.search_path_schemas())
        key = (sql, sp)
        t = self._cache.get(key)
        if t is None:
            try:
                t = Translator(self._db, sp).translate(sql)
            except PgError:
                raise
            except RecursionError:
                raise PgError(PROGRAM_LIMIT_EXCEEDED, "statement is too deeply nested") from None
            except Exception as e:  # noqa: BLE001 - anything else is a construct we lack
                raise PgError(FEATURE_NOT_SUPPORTED,
                              "this catalog query is not supported by pggw",
                              detail=f"{type(e).__name__}: {e}"[:500]) from None
            self._cache.put(key, t)
        return t

    def cancel(self) -> None:
        """Interrupt the statement running on another thread (CancelRequest)."""
        self._cancelled = True

    def query(self, sql: str, params: Sequence[Any] = ()) -> Result:
        if is_settings_statement(sql):
            r = execute_settings_statement(self.settings, sql)
            if r is not None:
                return r
        tr = self.translate(sql)
        unreadable = [t for t in tr.data_reads if _qualified(t) not in self.row_sources]
        if unreadable:
            table = unreadable[0]
            raise PgError(
                FEATURE_NOT_SUPPORTED,
                f"pggw tables are write-only: rows written to {table} are uploaded to CDF; "
                "follow them with SELECT * FROM pggw.backlog or in CDF itself",
                hint="SELECT ... LIMIT 0 describes a table without reading it.",
            )
        if len(params) < tr.nparams:
            raise PgError(PROTOCOL_VIOLATION, f"bind message supplies {len(params)} parameters, "
                          f"but prepared statement requires {tr.nparams}")
        bound = [_bind(p) for p in params[: tr.nparams]]
        fill = {_qualified(t): self.row_sources[_qualified(t)] for t in tr.data_reads}
        rows = self._run(tr.sql, bound, fill)
        convs = [_converter(self._db, c.type, self) for c in tr.columns]
        out = [tuple(conv(v) for conv, v in zip(convs, row, strict=False)) for row in rows]
        return Result(self._columns(tr), out, f"SELECT {len(out)}")

    def describe(self, sql: str, param_oids: Sequence[int] = ()) -> tuple[list[int],
                                                                          list[ResultColumn]]:
        if is_settings_statement(sql):
            # SHOW's column is the parameter's name; SET/RESET have none.  Run it on a copy so
            # that describing never changes the session.
            r = execute_settings_statement(self.settings.copy(), sql)
            return [], (r.columns if r is not None else [])
        tr = self.translate(sql)
        oids: list[int] = []
        for n in range(1, tr.nparams + 1):
            given = param_oids[n - 1] if n - 1 < len(param_oids) else 0
            oids.append(given if given else type_oid(tr.param_types.get(n, "unknown")))
        self._run("EXPLAIN " + tr.sql, [None] * tr.nparams)
        return oids, self._columns(tr)

    # -- helpers ---------------------------------------------------------------------------------
    def _columns(self, tr: Translation) -> list[ResultColumn]:
        out = []
        for c in tr.columns:
            t = c.type
            out.append(ResultColumn(c.name, type_oid(t.name), _type_size(t.name), t.typmod,
                                    t.table_oid, t.attnum))
        return out

    def _run(self, sql: str, params: Sequence[Any],
             fill: Mapping[str, RowSource] | None = None) -> list[tuple[Any, ...]]:
        db = self._db
        timeout = _timeout_seconds(self.settings.get_or_none("statement_timeout"))
        deadline = time.monotonic() + (timeout or MAX_CATALOG_SECONDS)
        self._cancelled = False
        state = {"why": ""}

        def progress() -> int:
            if self._cancelled:
                state["why"] = "user request"
                return 1
            if time.monotonic() > deadline:
                state["why"] = "statement timeout"
                return 1
            return 0

        with db.lock:
            db.session = self
            db.pending_error = None
            db.conn.set_progress_handler(progress, 20_000)
            filled = []
            try:
                for name, source in (fill or {}).items():
                    schema, _, table = name.partition(".")
                    rel = db.relations[(schema, table)]
                    ph = ", ".join("?" * len(rel.columns))
                    db.conn.executemany(f'INSERT INTO "{rel.sqlite_name}" VALUES ({ph})',
                                        [tuple(_bind(v) for v in r) for r in source()])
                    filled.append(rel.sqlite_name)
                return db.conn.execute(sql, params).fetchall()
            except sqlite3.Error as e:
                pending = db.pending_error
                db.pending_error = None
                if pending is not None:
                    raise pending from None
                if state["why"]:
                    raise PgError(QUERY_CANCELED,
                                  f"canceling statement due to {state['why']}") from None
                raise _map_sqlite_error(e, sql) from None
            finally:
                for name in filled:
                    db.conn.execute(f'DELETE FROM "{name}"')
                db.conn.set_progress_handler(None, 0)
                db.session = None


RowSource = Callable[[], Iterable[Sequence[Any]]]


def _qualified(name: str) -> str:
    return name if "." in name else f"public.{name}"


def _timeout_seconds(value: str | None) -> float:
    """statement_timeout as SHOW prints it ('0', '5s', '250ms', '2min') in seconds."""
    if not value or value == "0":
        return 0.0
    m = re.fullmatch(r"(\d+)(us|ms|s|min|h|d)?", value)
    if not m:
        return 0.0
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
    return int(m.group(1)) * scale[m.group(2) or "ms"]


def _map_sqlite_error(e: sqlite3.Error, sql: str) -> PgError:
    msg = str(e)
    if msg.startswith("no such column:"):
        col = msg.split(":", 1)[1].strip()
        return PgError("42703", f'column {_pretty_col(col)} does not exist')
    if msg.startswith("no such table:"):
        return PgError("42P01", f'relation "{msg.split(":", 1)[1].strip()}" does not exist')
    if msg.startswith("no such function:") or msg.startswith("wrong number of arguments"):
        name = msg.split("function", 1)[1].strip(" :()").removeprefix("pgf_")
        return PgError("42883", f"function {name}(...) does not exist",
                       hint="No function matches the given name and argument types.")
    if "ambiguous column name" in msg:
        col = msg.split(":", 1)[1].strip()
        return PgError("42702", f'column reference "{col}" is ambiguous')
    return PgError(FEATURE_NOT_SUPPORTED, f"this catalog query is not supported by pggw ({msg})")


def _pretty_col(col: str) -> str:
    parts = [p.strip('"') for p in col.split(".")]
    return ".".join(parts) if len(parts) > 1 else f'"{parts[0]}"'


def _bind(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (list, tuple)):
        return json.dumps([_bind_json(x) for x in v])
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", "replace")
    return v


def _bind_json(v: Any) -> Any:
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def _converter(db: CatalogDB, t: PgT, session: Catalog) -> Callable[[Any], Any]:
    name = t.name
    if name == "bool":
        return lambda v: None if v is None else bool(v) if not isinstance(v, str) else \
            v.lower() in ("t", "true", "1")
    if name in ("int2", "int4", "int8", "oid", "xid", "cid"):
        return lambda v: None if v is None else int(v)
    if name in ("float4", "float8"):
        return lambda v: None if v is None else float(v)
    if name == "numeric":
        return lambda v: None if v is None else decimal.Decimal(str(v))
    if name in VECTOR_TYPES:
        def vec(v: Any) -> Any:
            if v is None:
                return None
            arr = _load_array(v)
            return " ".join(str(x) for x in arr) if arr is not None else str(v)
        return vec
    if is_array(name):
        et = elem_type(name)
        sub = _converter(db, PgT(et), session)

        def arr(v: Any) -> Any:
            if v is None:
                return None
            a = _load_array(v)
            return [sub(x) for x in a] if a is not None else v
        return arr
    if name in REG_TYPES:
        return lambda v: _reg_out(db, name, v, session)
    return lambda v: None if v is None else (v if isinstance(v, str) else str(v))


def _load_array(v: Any) -> list[Any] | None:
    if isinstance(v, list):
        return v
    from pggw.sql.catalog.functions import _loads

    return _loads(v)


def _reg_out(db: CatalogDB, name: str, v: Any, session: Catalog) -> Any:
    from pggw.sql.catalog.functions import format_type
    from pggw.sql.catalog.schema import PROC_NAMES

    if v is None:
        return None
    if isinstance(v, str) and not v.lstrip("-").isdigit():
        return v
    oid = int(v)
    if oid == 0:
        return "-"
    if name == "regclass":
        return db.regclass_out(oid, session.search_path_schemas())
    if name == "regtype":
        return format_type(db, oid, -1) if oid in db.type_names else str(oid)
    if name in ("regproc", "regprocedure"):
        return PROC_NAMES.get(oid, str(oid))
    if name == "regnamespace":
        return db.namespace_names.get(oid, str(oid))
    if name == "regrole":
        return session.user if oid == 16380 else "pggw" if oid == 10 else str(oid)
    return str(oid)
