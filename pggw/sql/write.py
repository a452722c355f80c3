"""Write statements (INSERT, COPY, UPDATE, DELETE, TRUNCATE, temp tables) → plans.

No general SQL parser on this path: a dedicated tokenizer (:mod:`pggw.sql.lexer`)
plus a regular-expression fast path for ``VALUES`` lists.  Everything here is
pure: plans say *what* to write; executing them is the integrator's job.

Entry points:

* :func:`parse_write` parses one statement (``None`` when it is not a write);
* :func:`plan_for` does the same through a small LRU cache for statements
  worth caching (parameterised INSERT/UPDATE/DELETE and COPY);
* :meth:`InsertPlan.bind` / :meth:`InsertPlan.bind_many` turn Bind parameters
  into column-wise raw values; :meth:`InsertPlan.sources` says how to coerce
  each column (``pggw.tables.coerce.coerce_columns``).

Values in plans are Python values as :mod:`pggw.tables.coerce` takes them with
``source="python"``: ``str`` for string literals (parsed with the column's text
input syntax), ``int``/``float`` for numbers, ``bool``, ``None`` for NULL and
DEFAULT, ``list`` for ``ARRAY[...]``, and :class:`Param` for ``$n``.

Executing a plan (the integrator's side), in outline::

    plan = plan_for(sql, registry, session.temp_tables)        # None: not a write
    if isinstance(plan, InsertPlan):
        # literal rows: plan.bind([]); prepared: plan.bind(params) per Execute, or
        # plan.bind_many(all Bind params since the last Sync) for one bulk pass
        cols = plan.bind(params)
        srcs, oids = plan.sources(bind.param_formats, parse.param_oids)
        for j, s in enumerate(srcs):                              # rare
            if s == "mixed":
                cols[j] = decode_params(cols[j], plan.values[j], plan.param_types,
                                        bind.param_formats, parse.param_oids)
        check_required(plan.table, plan.columns)                  # INSERT/UPSERT only
        rows, notices = coerce_columns(plan.table, plan.columns, cols, source=srcs,
                                       oids=oids, timezone=session.timezone)
        skip = check_duplicate_keys(plan.table, rows, plan.op)   # DO NOTHING: drop these
        # → WAL record (plan.table, plan.op, rows); tag "INSERT 0 <n>"

COPY: ``CopyPlan`` gives table, columns and the stream format; decode the
stream into column lists of ``str`` (text/CSV) or ``bytes`` (binary, sender
OIDs = the columns' types) and call ``coerce_columns`` per chunk with
``first_row`` and ``where=lambda r, c: f"COPY {t}, line {r}, column {c}"``.
UPDATE: ``plan.bind(params)`` gives key + SET columns (coerce with
``partial=True``); DELETE: ``plan.where.bind(params)`` gives key columns and
range bounds (coerce the bounds as the range column's values).
Temp tables (``plan.temp``) hold staging rows; no CDF rules apply to them.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import product
from operator import itemgetter
from typing import Any, NamedTuple

from pggw.sql.lexer import (
    CAST,
    IDENT,
    NUMBER,
    OP,
    PARAM,
    PUNCT,
    QIDENT,
    STRING,
    Token,
    syntax_error,
    tokenize,
)
from pggw.tables.model import Column, Op, Table
from pggw.tables.registry import Registry
from pggw.wire import types as T
from pggw.wire.errors import (
    FEATURE_NOT_SUPPORTED,
    INVALID_PARAMETER_TYPE,
    INVALID_TEXT_REPRESENTATION,
    SYNTAX_ERROR,
    UNDEFINED_COLUMN,
    UNDEFINED_OBJECT,
    UNDEFINED_TABLE,
    PgError,
)

__all__ = [
    "CopyPlan", "CreateTempTablePlan", "DeletePlan", "DropTablePlan", "InsertPlan",
    "InsertSelectPlan", "KeyPredicate", "Param", "TruncatePlan", "UpdatePlan", "WritePlan",
    "first_keyword", "parse_write", "plan_for",
]

DUPLICATE_COLUMN = "42701"
INVALID_COLUMN_REFERENCE = "42P10"
GENERATED_ALWAYS = "428C9"

ASYNC_RETURNING = (
    "RETURNING is not supported: rows are written asynchronously to CDF, "
    "so nothing CDF assigns (ids, times) is known when the statement completes"
)


class Param(NamedTuple):
    """A ``$n`` placeholder: ``num`` is n - 1; ``cast`` the OID of an explicit cast or 0."""

    num: int
    cast: int = 0


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True, eq=False)
class InsertPlan:
    """``INSERT INTO table (columns) VALUES ...``.

    ``values`` is column-wise: ``values[j][r]`` is row ``r`` of ``columns[j]``,
    either a Python value or a :class:`Param`.  ``param_types[i]`` is the OID to
    report for ``$i+1`` (explicit cast, else the target column's type).
    """

    table: Table
    columns: tuple[str, ...]
    op: Op
    values: tuple[list[Any], ...]
    nrows: int
    param_types: tuple[int, ...] = ()
    conflict_target: tuple[str, ...] = ()
    update_columns: tuple[str, ...] = ()
    temp: bool = False
    # Precomputed for bind(): per column, the 0-based param index when every
    # row of the column is a bare parameter (single-row templates).
    _single: tuple[int, ...] | None = field(default=None, repr=False)
    _getters: tuple[Any, ...] = field(default=(), repr=False)

    @property
    def nparams(self) -> int:
        return len(self.param_types)

    def bind(self, params: Sequence[Any]) -> list[list[Any]]:
        """Column-wise raw values for one Execute (params as received, None = NULL)."""
        if not self.param_types:
            return [list(c) for c in self.values]
        if len(params) != len(self.param_types):
            raise PgError(
                "08P01",
                f"bind message supplies {len(params)} parameters, but prepared statement "
                f"requires {len(self.param_types)}",
            )
        single = self._single
        if single is not None:
            return [[params[i]] for i in single]
        out: list[list[Any]] = []
        for col, getter in zip(self.values, self._getters, strict=True):
            if getter is None:
                out.append(list(col))
            elif isinstance(getter, tuple):  # mixed: (positions, indexes)
                row = list(col)
                for pos, i in zip(getter[0], getter[1], strict=True):
                    row[pos] = params[i]
                out.append(row)
            else:
                got = getter(params)
                out.append(list(got) if self.nrows > 1 else [got])
        return out

    def bind_many(self, param_rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
        """Column-wise raw values for many Executes of this statement (one batch)."""
        single = self._single
        if single is not None:
            rows = list(param_rows)
            if not rows:
                return [[] for _ in self.columns]
            n = len(self.param_types)
            for r in rows:
                if len(r) != n:
                    return self._bind_concat(rows)
            by_param = list(zip(*rows, strict=True))
            return [list(by_param[i]) for i in single]
        return self._bind_concat(param_rows)

    def _bind_concat(self, param_rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
        out: list[list[Any]] = [[] for _ in self.columns]
        for params in param_rows:
            for acc, col in zip(out, self.bind(params), strict=True):
                acc.extend(col)
        return out

    def sources(
        self, param_formats: Sequence[int] = (), parse_oids: Sequence[int] = ()
    ) -> tuple[list[str], list[int]]:
        """How to coerce each column of :meth:`bind`'s output.

        ``param_formats`` are Bind's per-parameter format codes (PostgreSQL's
        rules: empty = all text, one = applies to all).  Returns per column a
        source (``"text"``, ``"binary"`` or ``"python"``) and the sender's OID
        for binary columns (``parse_oids[i]`` when non-zero, else the reported
        ``param_types[i]``).  A column mixing constants and parameters, or
        parameters of different formats/types, is ``"mixed"``: decode its
        parameters with :func:`decode_params` and coerce it as ``"python"``.
        """
        return _sources(self.values, self.param_types, param_formats, parse_oids)


@dataclass(frozen=True, eq=False)
class InsertSelectPlan:
    """``INSERT INTO table (columns) SELECT source_columns FROM source`` (staging flows).

    ``casts[j]`` is the OID of an explicit cast on ``source_columns[j]`` (0: none).
    """

    table: Table
    columns: tuple[str, ...]
    source: Table
    source_columns: tuple[str, ...]
    casts: tuple[int, ...]
    op: Op
    conflict_target: tuple[str, ...] = ()
    update_columns: tuple[str, ...] = ()
    temp: bool = False
    source_temp: bool = True


@dataclass(frozen=True, eq=False)
class CopyPlan:
    """``COPY table (columns) FROM STDIN`` with its options resolved to defaults."""

    table: Table
    columns: tuple[str, ...]
    format: str = "text"  # 'text' | 'csv' | 'binary'
    delimiter: str = "\t"
    null: str = "\\N"
    quote: str = '"'
    escape: str = '"'
    header: bool = False
    header_match: bool = False
    force_null: tuple[str, ...] = ()
    force_not_null: tuple[str, ...] = ()
    encoding: str | None = None
    freeze: bool = False
    temp: bool = False

    @property
    def op(self) -> Op:
        """COPY FROM is a plain INSERT of every row."""
        return Op.INSERT


@dataclass(frozen=True, eq=False)
class KeyPredicate:
    """``WHERE`` of an UPDATE/DELETE: key columns by equality/IN, plus an optional range.

    ``keys`` maps a key column to its list of values (one for ``=``, several for
    ``IN``); rows are the cartesian product in column order.  ``range_column``
    (a timestamp key column) is bounded by ``lower``/``upper`` (None = open).
    """

    keys: tuple[tuple[str, tuple[Any, ...]], ...]
    range_column: str | None = None
    lower: Any = None
    lower_inclusive: bool = True
    upper: Any = None
    upper_inclusive: bool = False

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.keys)

    def bind(self, params: Sequence[Any] = ()) -> tuple[dict[str, list[Any]], Any, Any]:
        """(column-wise key rows, lower bound, upper bound) with params substituted."""
        names = [k for k, _ in self.keys]
        vals = [[_sub(v, params) for v in vs] for _, vs in self.keys]
        rows = list(product(*vals)) if vals else []
        cols: dict[str, list[Any]] = {n: [r[i] for r in rows] for i, n in enumerate(names)}
        return cols, _sub(self.lower, params), _sub(self.upper, params)


@dataclass(frozen=True, eq=False)
class UpdatePlan:
    """``UPDATE table SET set_columns = set_values WHERE <key predicate>``."""

    table: Table
    set_columns: tuple[str, ...]
    set_values: tuple[Any, ...]
    where: KeyPredicate
    param_types: tuple[int, ...] = ()
    temp: bool = False

    @property
    def op(self) -> Op:
        return Op.UPDATE

    def bind(self, params: Sequence[Any] = ()) -> dict[str, list[Any]]:
        """Column-wise rows: key columns then SET columns (repeated per key row)."""
        cols, _, _ = self.where.bind(params)
        n = len(next(iter(cols.values()))) if cols else 0
        for c, v in zip(self.set_columns, self.set_values, strict=True):
            cols[c] = [_sub(v, params)] * n
        return cols

    def sources(
        self, param_formats: Sequence[int] = (), parse_oids: Sequence[int] = ()
    ) -> dict[str, tuple[str, int]]:
        """Per column of :meth:`bind`'s output: (source, sender OID), like InsertPlan.sources."""
        names = [*self.where.key_columns, *self.set_columns]
        templates = [*(vs for _, vs in self.where.keys), *([v] for v in self.set_values)]
        srcs, oids = _sources(templates, self.param_types, param_formats, parse_oids)
        return dict(zip(names, zip(srcs, oids, strict=True), strict=True))


@dataclass(frozen=True, eq=False)
class DeletePlan:
    """``DELETE FROM table WHERE <key predicate>``; ``where`` None only for temp tables."""

    table: Table
    where: KeyPredicate | None
    param_types: tuple[int, ...] = ()
    temp: bool = False

    @property
    def op(self) -> Op:
        return Op.DELETE

    def sources(
        self, param_formats: Sequence[int] = (), parse_oids: Sequence[int] = ()
    ) -> dict[str, tuple[str, int]]:
        """(source, sender OID) per key column, and for the range column's bounds together."""
        if self.where is None:
            return {}
        w = self.where
        names = list(w.key_columns)
        templates: list[Sequence[Any]] = [vs for _, vs in w.keys]
        if w.range_column:
            names.append(w.range_column)
            templates.append([w.lower, w.upper])
        srcs, oids = _sources(templates, self.param_types, param_formats, parse_oids)
        return dict(zip(names, zip(srcs, oids, strict=True), strict=True))


@dataclass(frozen=True, eq=False)
class TruncatePlan:
    """``TRUNCATE`` of session temp tables (names as keys of ``temp_tables``)."""

    names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class CreateTempTablePlan:
    """``CREATE TEMP TABLE``: ``table`` is the new session table (schema ``pg_temp``)."""

    name: str
    table: Table
    if_not_exists: bool = False
    on_commit: str = "preserve"  # 'preserve' | 'delete' | 'drop'


@dataclass(frozen=True, eq=False)
class DropTablePlan:
    """``DROP TABLE`` of temp tables; ``names`` exist, ``missing`` were skipped by IF EXISTS."""

    names: tuple[str, ...]
    missing: tuple[str, ...] = ()
    if_exists: bool = False


WritePlan = (
    InsertPlan | InsertSelectPlan | CopyPlan | UpdatePlan | DeletePlan | TruncatePlan
    | CreateTempTablePlan | DropTablePlan
)


def _param_format(p: Param, param_formats: Sequence[int]) -> int:
    n = len(param_formats)
    if n == 1:
        return param_formats[0]
    return param_formats[p.num] if p.num < n else 0


def _sources(
    templates: Iterable[Sequence[Any]], param_types: Sequence[int],
    param_formats: Sequence[int], parse_oids: Sequence[int],
) -> tuple[list[str], list[int]]:
    """Per template column: ("text" | "binary" | "python" | "mixed", sender OID)."""
    srcs: list[str] = []
    oids: list[int] = []
    for col in templates:
        kinds: set[tuple[str, int]] = set()
        for v in col:
            if type(v) is Param:
                if _param_format(v, param_formats) == 1:
                    po = parse_oids[v.num] if v.num < len(parse_oids) else 0
                    kinds.add(("binary", po or param_types[v.num]))
                else:
                    kinds.add(("text", 0))
            elif v is not None:
                kinds.add(("python", 0))
            if len(kinds) > 1:
                break
        if len(kinds) == 1:
            s, o = kinds.pop()
            srcs.append(s)
            oids.append(o)
        else:
            srcs.append("mixed" if kinds else "python")
            oids.append(0)
    return srcs, oids


def _sub(v: Any, params: Sequence[Any]) -> Any:
    if type(v) is Param:
        return params[v.num]
    if type(v) is list:
        return [_sub(x, params) for x in v]
    return v


# --------------------------------------------------------------------------- helpers


def _unsupported(msg: str, hint: str | None = None) -> PgError:
    return PgError(FEATURE_NOT_SUPPORTED, msg, hint=hint)


_TYPE_CACHE: dict[str, T.PgType] = {}


def _type_named(name: str) -> T.PgType:
    t = _TYPE_CACHE.get(name)
    if t is None:
        found = T.lookup(name)
        if found is None:
            raise PgError(UNDEFINED_OBJECT, f'type "{name}" does not exist')
        t = found
        if len(_TYPE_CACHE) < 1000:
            _TYPE_CACHE[name] = t
    return t


_INT_RANGES = {T.INT2.oid: (-32768, 32767), T.INT4.oid: (-(2**31), 2**31 - 1),
               T.INT8.oid: (-(2**63), 2**63 - 1)}
_BOOL_TEXT = {"t": True, "true": True, "y": True, "yes": True, "on": True, "1": True,
              "f": False, "false": False, "n": False, "no": False, "off": False, "0": False}


def _round_half_away(x: float) -> int:
    """PostgreSQL's float/numeric → integer rounding (half away from zero)."""
    f = math.floor(x)
    d = x - f
    return f + 1 if d > 0.5 or (d == 0.5 and x > 0) else f


def _apply_cast(v: Any, t: T.PgType) -> Any:
    """Apply an explicit cast to a literal where it changes the value's meaning."""
    if v is None or type(v) is Param:
        return v if type(v) is not Param else Param(v.num, t.oid)
    oid = t.oid
    try:
        if oid in _INT_RANGES:
            if isinstance(v, bool):
                if oid != T.INT4.oid:
                    raise PgError("42846", f"cannot cast type boolean to {t.sql_name}")
                r = int(v)
            elif isinstance(v, int):
                r = v
            elif isinstance(v, float):
                if not math.isfinite(v):
                    word = {20: "bigint", 21: "smallint", 23: "integer"}[oid]
                    raise PgError("22003", f"{word} out of range")
                r = _round_half_away(v)
            elif isinstance(v, str):
                s = v.strip()
                if not s or "_" in s or not s.isascii():
                    raise ValueError
                r = int(s)
            else:
                return v
            lo, hi = _INT_RANGES[oid]
            if not lo <= r <= hi:
                word = {20: "bigint", 21: "smallint", 23: "integer"}[oid]
                raise PgError("22003", f"{word} out of range")
            return r
        if oid in (T.FLOAT8.oid, T.FLOAT4.oid, T.NUMERIC.oid):
            if isinstance(v, bool):
                raise PgError("42846", f"cannot cast type boolean to {t.sql_name}")
            if isinstance(v, int | float):
                return float(v) if oid != T.NUMERIC.oid else v
            if isinstance(v, str):
                s = v.strip()
                if "_" in s or not s.isascii():
                    raise ValueError
                f = float(s)
                if oid == T.NUMERIC.oid and "." not in s and "e" not in s.lower() and s.lstrip(
                        "+-").isdigit():
                    return int(s)
                return f
            return v
        if oid == T.BOOL.oid:
            if isinstance(v, str):
                b = _BOOL_TEXT.get(v.strip().lower())
                if b is None:
                    raise ValueError
                return b
            if isinstance(v, int) and not isinstance(v, bool):
                return v != 0
            return v
        if oid in (T.TEXT.oid, T.VARCHAR.oid, T.TYPES_BY_NAME["bpchar"].oid, T.NAME.oid):
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, int | float):
                return str(v)
            return v
    except ValueError:
        raise PgError(INVALID_TEXT_REPRESENTATION,
                      f'invalid input syntax for type {t.sql_name}: "{v}"') from None
    return v


# --------------------------------------------------------------------------- token parser


class _Parser:
    """A cursor over the tokens of one statement."""

    __slots__ = ("sql", "_it", "_buf", "_last_end", "scs")

    def __init__(self, sql: str, start: int = 0, scs: bool = True) -> None:
        self.sql = sql
        self.scs = scs
        self._it = tokenize(sql, start, standard_conforming_strings=scs)
        self._buf: list[Token] = []
        self._last_end = start

    def peek(self, k: int = 0) -> Token | None:
        buf = self._buf
        while len(buf) <= k:
            t = next(self._it, None)
            if t is None:
                return None
            buf.append(t)
        return buf[k]

    def next(self) -> Token:
        t = self.peek()
        if t is None:
            raise syntax_error(self.sql, len(self.sql))
        self._buf.pop(0)
        self._last_end = t.end
        return t

    @property
    def pos(self) -> int:
        """Offset after the last consumed token (only valid with nothing peeked beyond)."""
        return self._last_end

    def error(self, tok: Token | None = None) -> PgError:
        t = tok if tok is not None else self.peek()
        return syntax_error(self.sql, t.start if t is not None else len(self.sql))

    def is_kw(self, *words: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == IDENT and t.value in words

    def accept_kw(self, *words: str) -> str | None:
        t = self.peek()
        if t is not None and t.kind == IDENT and t.value in words:
            self.next()
            return str(t.value)
        return None

    def expect_kw(self, *words: str) -> str:
        w = self.accept_kw(*words)
        if w is None:
            raise self.error()
        return w

    def is_punct(self, ch: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == PUNCT and t.value == ch

    def accept_punct(self, ch: str) -> bool:
        if self.is_punct(ch):
            self.next()
            return True
        return False

    def expect_punct(self, ch: str) -> None:
        if not self.accept_punct(ch):
            raise self.error()

    def at_end(self) -> bool:
        t = self.peek()
        if t is None:
            return True
        if t.kind == PUNCT and t.value == ";":
            return self.peek(1) is None
        return False

    def expect_end(self) -> None:
        if not self.at_end():
            raise self.error()

    def ident(self) -> str:
        t = self.peek()
        if t is None or t.kind not in (IDENT, QIDENT):
            raise self.error(t)
        self.next()
        return str(t.value)

    def qualified_name(self) -> tuple[str | None, str]:
        first = self.ident()
        if self.is_punct("."):
            self.next()
            second = self.ident()
            if self.is_punct("."):  # database.schema.table
                self.next()
                return second, self.ident()
            return first, second
        return None, first

    def ident_list(self) -> list[str]:
        self.expect_punct("(")
        out = [self.ident()]
        while self.accept_punct(","):
            out.append(self.ident())
        self.expect_punct(")")
        return out

    # -- types and values

    def type_name(self) -> T.PgType:
        words = [self.ident()]
        if self.accept_punct("."):  # pg_catalog.int8
            words = [self.ident()]
        w = words[0]
        follow = {"double": ("precision",), "character": ("varying",), "char": ("varying",),
                  "bit": ("varying",), "national": ("character", "char")}.get(w)
        if follow and self.is_kw(*follow):
            words.append(self.ident())
            if w == "national" and self.is_kw("varying"):
                words.append(self.ident())
        mod = ""
        if self.is_punct("("):
            self.next()
            parts = []
            while not self.is_punct(")"):
                parts.append(str(self.next().value))
            self.next()
            mod = "(" + "".join(parts) + ")"
        if w in ("timestamp", "time") and self.is_kw("with", "without") and self.is_kw(
                "time", k=1):
            words.append(self.ident())
            words.append(self.ident())
            words.append(self.expect_kw("zone"))
        name = " ".join(words) + mod
        while self.is_punct("["):
            self.next()
            if self.peek() is not None and self.peek().kind == NUMBER:  # type: ignore[union-attr]
                self.next()
            self.expect_punct("]")
            name += "[]"
        if self.is_kw("array"):
            self.next()
            name += "[]"
        return _type_named(name)

    def value(self) -> Any:
        """A constant, ``$n``, ``ARRAY[...]``, ``CAST(x AS t)``, with optional ``::type`` casts."""
        t = self.next()
        kind = t.kind
        v: Any
        if kind in (STRING, NUMBER):
            v = t.value
        elif kind == PARAM:
            if t.value < 1:
                raise PgError(INVALID_PARAMETER_TYPE, f"there is no parameter ${t.value}",
                              position=t.start + 1)
            v = Param(t.value - 1)
        elif kind == OP and t.value in ("-", "+"):
            inner = self.value()
            if isinstance(inner, bool) or not isinstance(inner, int | float):
                if type(inner) is Param:
                    raise _unsupported("only constants and parameters are supported as values")
                raise self.error(t)
            v = -inner if t.value == "-" else inner
        elif kind == IDENT:
            w = t.value
            if w == "null" or w == "default":
                v = None
            elif w == "true":
                v = True
            elif w == "false":
                v = False
            elif w == "array" and self.is_punct("["):
                self.next()
                items: list[Any] = []
                if not self.is_punct("]"):
                    items.append(self.value())
                    while self.accept_punct(","):
                        items.append(self.value())
                self.expect_punct("]")
                v = items
            elif w == "cast" and self.is_punct("("):
                self.next()
                inner = self.value()
                self.expect_kw("as")
                typ = self.type_name()
                self.expect_punct(")")
                v = _apply_cast(inner, typ)
            elif self.is_punct("(") or w in ("current_timestamp", "now", "localtimestamp",
                                               "current_date", "current_user"):
                raise _unsupported(
                    f"function {w}() is not supported in values written through the gateway",
                    hint="Send constants or parameters; rows are written asynchronously to CDF.")
            else:
                # A type-prefixed literal: timestamptz '2024-01-01', DATE '...', etc.
                if self.peek() is not None and self.peek().kind == STRING:  # type: ignore[union-attr]
                    typ = _type_named(w)
                    v = _apply_cast(self.next().value, typ)
                else:
                    raise PgError(UNDEFINED_COLUMN, f'column "{w}" does not exist',
                                  position=t.start + 1,
                                  hint="Only constants and parameters are supported as values.")
        elif kind == PUNCT and t.value == "(":
            v = self.value()
            self.expect_punct(")")
        else:
            raise self.error(t)
        while self.peek() is not None and self.peek().kind == CAST:  # type: ignore[union-attr]
            self.next()
            v = _apply_cast(v, self.type_name())
        return v


# --------------------------------------------------------------------------- resolution


def _display(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def _resolve(
    schema: str | None, name: str, registry: Registry, temp_tables: Mapping[str, Table]
) -> tuple[Table, bool]:
    if (schema is None or schema.startswith("pg_temp")) and name in temp_tables:
        return temp_tables[name], True
    t = None if schema is not None and schema.startswith("pg_temp") else registry.find(name, schema)
    if t is None:
        raise PgError(UNDEFINED_TABLE, f'relation "{_display(schema, name)}" does not exist')
    return t, False


def _check_columns(table: Table, cols: Sequence[str]) -> None:
    seen: set[str] = set()
    for c in cols:
        if table.column(c) is None:
            raise PgError(UNDEFINED_COLUMN,
                          f'column "{c}" of relation "{table.name}" does not exist')
        if c in seen:
            raise PgError(DUPLICATE_COLUMN, f'column "{c}" specified more than once')
        seen.add(c)


def _require_op(table: Table, op: Op, what: str, temp: bool) -> None:
    if temp or op in table.ops:
        return
    raise _unsupported(
        f'{what} is not supported for table "{table.name}": CDF has no matching operation',
        hint="Supported: " + ", ".join(sorted(o.value for o in table.ops)) + ".")


# --------------------------------------------------------------------------- INSERT

# One VALUES item followed by its delimiter: the fast path for literal and
# parameterised multi-row INSERTs.  Anything it does not match (ARRAY[...],
# CAST(...), E'', comments, ...) falls back to the token parser for that item.
_WS = r"[ \t\r\n]*"
_VALUE_RE = re.compile(
    _WS + r"""(?:
        '(?P<s>[^']*(?:''[^']*)*)'
      | (?P<n>[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)(?![A-Za-z_0-9.$])
      | \$(?P<p>[0-9]+)(?![0-9])
      | (?P<k>[Nn][Uu][Ll][Ll]|[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Dd][Ee][Ff][Aa][Uu][Ll][Tt])
        (?![A-Za-z_0-9$])
    )(?:""" + _WS + r"::" + _WS + r"""(?P<c>[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)?
        (?:[ \t]*\([0-9, ]*\))?
        (?:[ \t]+(?:precision|PRECISION|varying|VARYING
            |(?:with|WITH|without|WITHOUT)[ \t]+(?:time|TIME)[ \t]+(?:zone|ZONE)))?
        (?:\[\])*))?""" + _WS + r"(?P<d>[,)])",
    re.VERBOSE,
)
_ROW_OPEN = re.compile(_WS + r"\(")
_ROW_SEP = re.compile(_WS + r",")
_KW_VALUE = {"null": None, "default": None, "true": True, "false": False}


def _parse_values(p: _Parser, start: int) -> tuple[list[list[Any]], int]:
    """Rows of a VALUES list starting at ``start`` (just after VALUES); returns (rows, end)."""
    sql = p.sql
    vmatch = _VALUE_RE.match if p.scs else None
    rows: list[list[Any]] = []
    pos = start
    while True:
        m = _ROW_OPEN.match(sql, pos)
        if m is not None:
            pos = m.end()
        else:  # comments before the row, or not a row at all
            sub0 = _Parser(sql, pos, p.scs)
            sub0.expect_punct("(")
            pos = sub0.pos
        row: list[Any] = []
        while True:
            m = vmatch(sql, pos) if vmatch is not None else None
            if m is not None:
                s, n, prm, k, c, d = m.groups()
                if s is not None:
                    v: Any = s.replace("''", "'") if "''" in s else s
                elif n is not None:
                    v = float(n) if ("." in n or "e" in n or "E" in n) else int(n)
                elif prm is not None:
                    if int(prm) < 1:
                        raise PgError(INVALID_PARAMETER_TYPE, f"there is no parameter ${prm}")
                    v = Param(int(prm) - 1)
                else:
                    v = _KW_VALUE[k.lower()]
                if c is not None:
                    v = _apply_cast(v, _type_named(" ".join(c.split())))
                row.append(v)
                pos = m.end()
                if d == ")":
                    break
                continue
            # Slow path: one item through the token parser.
            sub = _Parser(sql, pos, p.scs)
            if sub.is_punct(")") and not row:  # VALUES () is a syntax error in PG
                raise sub.error()
            row.append(sub.value())
            t = sub.next()
            if t.kind != PUNCT or t.value not in (",", ")"):
                raise sub.error(t)
            pos = t.end
            if t.value == ")":
                break
        rows.append(row)
        m = _ROW_SEP.match(sql, pos)
        if m is not None:
            pos = m.end()
            continue
        nxt = _Parser(sql, pos, p.scs).peek()  # a comment before ','?
        if nxt is None or nxt.kind != PUNCT or nxt.value != ",":
            return rows, pos
        pos = nxt.end


def _parse_on_conflict(
    p: _Parser, table: Table, columns: Sequence[str], temp: bool
) -> tuple[Op, tuple[str, ...], tuple[str, ...]]:
    """After INSERT's source: ``[ON CONFLICT ...] [RETURNING ...]``; returns (op, target, set)."""
    op = Op.INSERT
    target: tuple[str, ...] = ()
    update_cols: tuple[str, ...] = ()
    if p.accept_kw("on"):
        p.expect_kw("conflict")
        if p.is_punct("("):
            target = tuple(p.ident_list())
            if p.is_kw("where"):
                raise _unsupported("ON CONFLICT (...) WHERE is not supported")
        elif p.accept_kw("on"):
            p.expect_kw("constraint")
            cname = p.ident()
            if cname not in (f"{table.name}_pkey", f"{table.name}_key"):
                raise PgError(UNDEFINED_OBJECT,
                              f'constraint "{cname}" for table "{table.name}" does not exist',
                              hint=f'The key constraint is "{table.name}_pkey".')
            target = tuple(table.key)
        p.expect_kw("do")
        if target:
            key = tuple(table.key)
            if set(target) != set(key) and not (temp and not key):
                for c in target:
                    if table.column(c) is None:
                        raise PgError(UNDEFINED_COLUMN, f'column "{c}" does not exist')
                raise PgError(
                    INVALID_COLUMN_REFERENCE,
                    "there is no unique or exclusion constraint matching the ON CONFLICT "
                    "specification",
                    hint=f'The key of "{table.name}" is ({", ".join(key)}).' if key else None)
        if p.accept_kw("nothing"):
            op = Op.INSERT_IGNORE
        else:
            p.expect_kw("update")
            if not target:
                raise PgError(SYNTAX_ERROR,
                              "ON CONFLICT DO UPDATE requires inference specification or "
                              "constraint name",
                              hint="For example, ON CONFLICT (column_name).")
            p.expect_kw("set")
            update_cols = _parse_excluded_set(p, table)
            missing = [c for c in target if columns and c not in columns]
            if missing:
                raise _unsupported(
                    f'ON CONFLICT ({", ".join(target)}) DO UPDATE needs {", ".join(missing)} '
                    "among the inserted columns: CDF matches the rows by their key")
            if p.is_kw("where"):
                raise _unsupported("ON CONFLICT DO UPDATE ... WHERE is not supported")
            op = Op.UPSERT
    if p.is_kw("returning"):
        raise _unsupported(ASYNC_RETURNING)
    p.expect_end()
    return op, target, update_cols


def _parse_excluded_set(p: _Parser, table: Table) -> tuple[str, ...]:
    out: list[str] = []
    while True:
        if p.is_punct("("):
            cols = p.ident_list()
            if not (p.peek() is not None and p.peek().kind == OP  # type: ignore[union-attr]
                    and p.peek().value == "="):  # type: ignore[union-attr]
                raise p.error()
            p.next()
            p.expect_punct("(")
            srcs = [_excluded_ref(p, table)]
            while p.accept_punct(","):
                srcs.append(_excluded_ref(p, table))
            p.expect_punct(")")
            if len(srcs) != len(cols):
                raise PgError(SYNTAX_ERROR, "number of columns does not match number of values")
            pairs = list(zip(cols, srcs, strict=True))
        else:
            c = p.ident()
            t = p.next()
            if t.kind != OP or t.value != "=":
                raise p.error(t)
            pairs = [(c, _excluded_ref(p, table))]
        for c, src in pairs:
            if table.column(c) is None:
                raise PgError(UNDEFINED_COLUMN,
                              f'column "{c}" of relation "{table.name}" does not exist')
            if src != c:
                raise _unsupported(
                    f'ON CONFLICT DO UPDATE SET {c} = EXCLUDED.{src} is not supported',
                    hint="Only SET column = EXCLUDED.column (the same column) is supported.")
            out.append(c)
        if not p.accept_punct(","):
            return tuple(out)


def _excluded_ref(p: _Parser, table: Table) -> str:
    t = p.peek()
    if p.is_kw("excluded") and p.is_punct(".", k=1):
        p.next()
        p.next()
        c = p.ident()
        if table.column(c) is None:
            raise PgError(UNDEFINED_COLUMN,
                          f'column excluded.{c} does not exist')
        return c
    raise _unsupported(
        "ON CONFLICT DO UPDATE supports only SET column = EXCLUDED.column",
        hint="Rows are merged into CDF by key; expressions cannot be evaluated against CDF data."
    ) if t is not None else p.error()


def _parse_insert(
    p: _Parser, registry: Registry, temp_tables: Mapping[str, Table]
) -> InsertPlan | InsertSelectPlan:
    p.expect_kw("insert")
    p.expect_kw("into")
    schema, name = p.qualified_name()
    table, temp = _resolve(schema, name, registry, temp_tables)
    if p.accept_kw("as"):
        p.ident()
    explicit = p.is_punct("(") and not p.is_kw("select", k=1)
    columns: list[str] = p.ident_list() if explicit else []
    if explicit:
        _check_columns(table, columns)
    if p.accept_kw("overriding"):
        raise _unsupported("OVERRIDING ... VALUE is not supported")
    if p.is_kw("default") and p.is_kw("values", k=1):
        p.next()
        p.next()
        op, target, upd = _parse_on_conflict(p, table, columns, temp)
        _require_op(table, op, "INSERT" if op is Op.INSERT else "ON CONFLICT", temp)
        return _make_insert(table, tuple(columns), [[]], op, target, upd, temp, explicit)
    if p.is_kw("select") or (p.is_punct("(") and p.is_kw("select", k=1)):
        return _parse_insert_select(p, table, temp, columns if explicit else None, registry,
                                    temp_tables)
    vt = p.peek()
    if vt is None or vt.kind != IDENT or vt.value != "values":
        raise p.error(vt)
    p.next()
    rows, end = _parse_values(p, vt.end)
    rest = _Parser(p.sql, end, p.scs)
    op, target, upd = _parse_on_conflict(rest, table, columns, temp)
    _require_op(table, op, "INSERT" if op is Op.INSERT else "INSERT ... ON CONFLICT", temp)
    return _make_insert(table, tuple(columns), rows, op, target, upd, temp, explicit)


def _make_insert(
    table: Table, columns: tuple[str, ...], rows: list[list[Any]], op: Op,
    target: tuple[str, ...], upd: tuple[str, ...], temp: bool, explicit: bool,
) -> InsertPlan:
    width = len(rows[0])
    for r in rows:
        if len(r) != width:
            raise PgError(SYNTAX_ERROR, "VALUES lists must all be the same length")
    if explicit:
        if width > len(columns):
            raise PgError(SYNTAX_ERROR, "INSERT has more expressions than target columns")
        if width < len(columns):
            raise PgError(SYNTAX_ERROR, "INSERT has more target columns than expressions")
    else:
        all_cols = table.column_names
        if width > len(all_cols):
            raise PgError(SYNTAX_ERROR, "INSERT has more expressions than target columns")
        columns = all_cols[:width]
    nrows = len(rows)
    values: tuple[list[Any], ...] = (
        tuple(list(c) for c in zip(*rows, strict=True)) if width else ()
    )
    # Parameters: types, and the bind() fast path.
    ptypes: dict[int, int] = {}
    getters: list[Any] = []
    all_bare = nrows == 1
    for j, col in enumerate(values):
        colt = table.column(columns[j])
        assert colt is not None
        positions: list[int] = []
        idxs: list[int] = []
        for ri, v in enumerate(col):
            if type(v) is Param:
                positions.append(ri)
                idxs.append(v.num)
                if v.num not in ptypes or (v.cast and not ptypes[v.num]):
                    ptypes[v.num] = v.cast or colt.type.oid
            elif type(v) is list and _has_param(v):
                raise _unsupported("parameters inside ARRAY[...] are not supported",
                                   hint="Send the whole array as one parameter.")
        if not positions:
            getters.append(None)
            all_bare = False
        elif len(positions) == nrows:
            getters.append(itemgetter(*idxs))
        else:
            getters.append((tuple(positions), tuple(idxs)))
            all_bare = False
    nparams = max(ptypes) + 1 if ptypes else 0
    for i in range(nparams):
        if i not in ptypes:
            raise PgError(INVALID_PARAMETER_TYPE,
                          f"could not determine data type of parameter ${i + 1}")
    single: tuple[int, ...] | None = None
    if nparams and all_bare and values:
        single = tuple(c[0].num for c in values)
    return InsertPlan(
        table=table, columns=columns, op=op, values=values, nrows=nrows,
        param_types=tuple(ptypes[i] for i in range(nparams)), conflict_target=target,
        update_columns=upd, temp=temp, _single=single, _getters=tuple(getters),
    )


def _has_param(v: list[Any]) -> bool:
    return any(type(x) is Param or (type(x) is list and _has_param(x)) for x in v)


def _parse_insert_select(
    p: _Parser, table: Table, temp: bool, columns: list[str] | None, registry: Registry,
    temp_tables: Mapping[str, Table],
) -> InsertSelectPlan:
    paren = p.accept_punct("(")
    items, source, source_temp = _parse_simple_select(p, registry, temp_tables, "INSERT ... SELECT")
    if paren:
        p.expect_punct(")")
    if not source_temp:
        raise _unsupported(
            f'INSERT ... SELECT reads only from temporary tables, not from "{source.name}"',
            hint="Stage rows in a CREATE TEMP TABLE, then INSERT INTO ... SELECT from it.")
    src_cols = [c for c, _ in items]
    casts = [k for _, k in items]
    target_cols = list(columns) if columns is not None else list(table.column_names)
    if len(src_cols) > len(target_cols):
        raise PgError(SYNTAX_ERROR, "INSERT has more expressions than target columns")
    if columns is not None and len(src_cols) < len(target_cols):
        raise PgError(SYNTAX_ERROR, "INSERT has more target columns than expressions")
    target_cols = target_cols[: len(src_cols)]
    op, target, upd = _parse_on_conflict(p, table, target_cols, temp)
    _require_op(table, op, "INSERT" if op is Op.INSERT else "INSERT ... ON CONFLICT", temp)
    return InsertSelectPlan(
        table=table, columns=tuple(target_cols), source=source, source_columns=tuple(src_cols),
        casts=tuple(casts), op=op, conflict_target=target, update_columns=upd, temp=temp,
        source_temp=source_temp,
    )


def _parse_simple_select(
    p: _Parser, registry: Registry, temp_tables: Mapping[str, Table], what: str
) -> tuple[list[tuple[str, int]], Table, bool]:
    """``SELECT col [::type] [AS x], ... | * FROM [schema.]t [[AS] alias]`` (nothing else)."""
    p.expect_kw("select")
    if p.is_kw("distinct"):
        raise _unsupported(f"SELECT DISTINCT is not supported in {what}")
    raw: list[tuple[str | None, str, int]] = []  # (qualifier, column or '*', cast)
    while True:
        t = p.peek()
        if t is not None and t.kind == OP and t.value == "*":
            p.next()
            raw.append((None, "*", 0))
        else:
            cast = 0
            if p.is_kw("cast") and p.is_punct("(", k=1):
                p.next()
                p.next()
                q, c = _column_ref(p, what)
                p.expect_kw("as")
                cast = p.type_name().oid
                p.expect_punct(")")
            else:
                q, c = _column_ref(p, what)
            while p.peek() is not None and p.peek().kind == CAST:  # type: ignore[union-attr]
                p.next()
                cast = p.type_name().oid
            if p.accept_kw("as") or (p.peek() is not None and p.peek().kind in (IDENT, QIDENT)  # type: ignore[union-attr]
                  and not p.is_kw("from")):
                p.ident()
            raw.append((q, c, cast))
        if not p.accept_punct(","):
            break
    p.expect_kw("from")
    schema, name = p.qualified_name()
    source, source_temp = _resolve(schema, name, registry, temp_tables)
    if p.accept_kw("as") or (p.peek() is not None and p.peek().kind in (IDENT, QIDENT)  # type: ignore[union-attr]
                             and not p.is_kw("on", "where", "with", "join", "group", "order",
                                             "limit", "union", "left", "inner", "cross")):
        p.ident()
    if p.is_kw("where", "join", "group", "order", "limit", "union", "left", "inner", "cross",
               "having", "offset") or p.is_punct(","):
        raise _unsupported(
            f"{what} supports only SELECT columns FROM one table, without WHERE, JOIN, "
            "GROUP BY, ORDER BY or LIMIT")
    items: list[tuple[str, int]] = []
    for _q, c, cast in raw:
        if c == "*":
            items.extend((n, 0) for n in source.column_names)
        else:
            if source.column(c) is None:
                raise PgError(UNDEFINED_COLUMN, f'column "{c}" does not exist')
            items.append((c, cast))
    return items, source, source_temp


def _column_ref(p: _Parser, what: str) -> tuple[str | None, str]:
    t = p.peek()
    if t is None or t.kind not in (IDENT, QIDENT):
        raise _unsupported(
            f"{what} supports only plain column references and casts of columns in the "
            "select list") if t is not None and t.kind in (STRING, NUMBER, PARAM) else p.error()
    if t.kind == IDENT and p.is_punct("(", k=1):
        raise _unsupported(
            f"{what} supports only plain column references and casts of columns in the "
            "select list")
    first = p.ident()
    if p.accept_punct("."):
        t2 = p.peek()
        if t2 is not None and t2.kind == OP and t2.value == "*":
            p.next()
            return first, "*"
        return first, p.ident()
    return None, first


# --------------------------------------------------------------------------- COPY

_COPY_BOOL = {"true": True, "on": True, "1": True, "false": False, "off": False, "0": False}


def _copy_opt_string(p: _Parser) -> str:
    t = p.next()
    if t.kind == STRING:
        return str(t.value)
    if t.kind in (IDENT, QIDENT, NUMBER):
        return str(t.value)
    raise p.error(t)


def _copy_opt_bool(p: _Parser) -> bool:
    t = p.peek()
    if t is None or (t.kind == PUNCT and t.value in (",", ")")):
        return True
    p.next()
    v = _COPY_BOOL.get(str(t.value).lower())
    if v is None:
        raise PgError(SYNTAX_ERROR, f"{t.value} requires a Boolean value")
    return v


def _parse_copy(p: _Parser, registry: Registry, temp_tables: Mapping[str, Table]) -> CopyPlan:
    p.expect_kw("copy")
    if p.is_punct("("):
        raise _unsupported("COPY (query) TO is not supported: the gateway is for writing to CDF")
    opts: dict[str, Any] = {}
    if p.accept_kw("binary"):  # pre-7.3 COPY BINARY t
        opts["format"] = "binary"
    schema, name = p.qualified_name()
    table, temp = _resolve(schema, name, registry, temp_tables)
    columns = p.ident_list() if p.is_punct("(") else list(table.column_names)
    _check_columns(table, columns)
    direction = p.expect_kw("from", "to")
    if direction == "to":
        raise _unsupported("COPY ... TO is not supported: the gateway is for writing to CDF",
                           hint="Query CDF through its API or SDK.")
    if p.accept_kw("program"):
        raise _unsupported("COPY FROM PROGRAM is not supported")
    t = p.peek()
    if t is not None and t.kind == STRING:
        raise _unsupported(
            "COPY FROM a server file is not supported",
            hint="Use COPY ... FROM STDIN (psql: \\copy).")
    if not p.accept_kw("stdin"):
        raise p.error()
    if p.accept_kw("using"):  # [USING] DELIMITERS 'x'
        p.expect_kw("delimiters")
        opts["delimiter"] = _copy_opt_string(p)
    elif p.accept_kw("delimiters"):
        opts["delimiter"] = _copy_opt_string(p)
    p.accept_kw("with")
    if p.is_punct("("):
        p.next()
        while True:
            o = p.ident()
            if o == "format":
                opts["format"] = _copy_opt_string(p).lower()
            elif o in ("delimiter", "null", "quote", "escape", "encoding", "default"):
                opts[o] = _copy_opt_string(p)
            elif o in ("header",):
                tk = p.peek()
                if tk is not None and tk.kind in (IDENT, STRING) and (
                        str(tk.value).lower() == "match"):
                    p.next()
                    opts["header"] = True
                    opts["header_match"] = True
                else:
                    opts["header"] = _copy_opt_bool(p)
            elif o in ("freeze", "oids"):
                opts[o] = _copy_opt_bool(p)
            elif o in ("force_null", "force_not_null", "force_quote"):
                if p.peek() is not None and p.peek().kind == OP and p.peek().value == "*":  # type: ignore[union-attr]
                    p.next()
                    opts[o] = "*"
                else:
                    opts[o] = p.ident_list()
            else:
                raise PgError(SYNTAX_ERROR, f'option "{o}" not recognized')
            if not p.accept_punct(","):
                break
        p.expect_punct(")")
    else:
        while not p.at_end():
            w = p.ident()
            if w == "binary":
                opts["format"] = "binary"
            elif w == "csv":
                opts["format"] = "csv"
            elif w == "header":
                opts["header"] = True
            elif w in ("freeze", "oids"):
                opts[w] = True
            elif w in ("delimiter", "null", "quote", "escape", "encoding"):
                p.accept_kw("as")
                opts[w] = _copy_opt_string(p)
            elif w == "force":
                if p.accept_kw("quote"):
                    key = "force_quote"
                elif p.accept_kw("not"):
                    p.expect_kw("null")
                    key = "force_not_null"
                else:
                    p.expect_kw("null")
                    key = "force_null"
                if p.peek() is not None and p.peek().kind == OP and p.peek().value == "*":  # type: ignore[union-attr]
                    p.next()
                    opts[key] = "*"
                else:
                    cols = [p.ident()]
                    while p.accept_punct(","):
                        cols.append(p.ident())
                    opts[key] = cols
            elif w == "where":
                raise _unsupported("COPY ... WHERE is not supported")
            else:
                raise p.error()
    if p.is_kw("where"):
        raise _unsupported("COPY ... WHERE is not supported")
    p.expect_end()
    return _make_copy(table, tuple(columns), opts, temp)


def _make_copy(table: Table, columns: tuple[str, ...], o: dict[str, Any], temp: bool) -> CopyPlan:
    fmt = o.get("format", "text")
    if fmt not in ("text", "csv", "binary"):
        raise PgError(INVALID_PARAMETER_VALUE_, f'COPY format "{fmt}" not recognized')
    if o.get("oids"):
        raise _unsupported("COPY ... OIDS is not supported")
    csv = fmt == "csv"
    if fmt == "binary":
        for k in ("delimiter", "null", "header", "quote", "escape", "default"):
            if k in o:
                raise PgError(SYNTAX_ERROR, f"cannot specify {k.upper()} in BINARY mode")
    if not csv:
        for k, w in (("quote", "quote"), ("escape", "escape"), ("force_null", "force null"),
                     ("force_not_null", "force not null"), ("force_quote", "force quote")):
            if k in o:
                raise _unsupported(f"COPY {w} available only in CSV mode")
    delim = o.get("delimiter", "," if csv else "\t")
    null = o.get("null", "" if csv else "\\N")
    quote = o.get("quote", '"')
    escape = o.get("escape", quote)
    if len(delim) != 1 or len(delim.encode()) != 1:
        raise _unsupported("COPY delimiter must be a single one-byte character")
    if delim in "\r\n":
        raise PgError(INVALID_PARAMETER_VALUE_,
                      "COPY delimiter cannot be newline or carriage return")
    if "\r" in null or "\n" in null:
        raise PgError(INVALID_PARAMETER_VALUE_,
                      "COPY null representation cannot use newline or carriage return")
    if not csv and delim == "\\":
        raise PgError(INVALID_PARAMETER_VALUE_, 'COPY delimiter cannot be "\\"')
    if csv:
        if len(quote) != 1 or len(quote.encode()) != 1:
            raise _unsupported("COPY quote must be a single one-byte character")
        if len(escape) != 1 or len(escape.encode()) != 1:
            raise _unsupported("COPY escape must be a single one-byte character")
        if delim == quote:
            raise PgError(INVALID_PARAMETER_VALUE_,
                          "COPY delimiter and quote must be different")
        if delim in null:
            raise PgError(INVALID_PARAMETER_VALUE_,
                          "COPY delimiter must not appear in the NULL specification")
    elif fmt == "text" and delim in null:
        raise PgError(INVALID_PARAMETER_VALUE_,
                      "COPY delimiter must not appear in the NULL specification")

    def cols_of(key: str, label: str) -> tuple[str, ...]:
        v = o.get(key)
        if v is None:
            return ()
        if v == "*":
            return columns
        for c in v:
            if c not in columns:
                raise PgError(INVALID_COLUMN_REFERENCE,
                              f'{label} column "{c}" not referenced by COPY')
        return tuple(v)

    enc = o.get("encoding")
    if enc is not None and enc.replace("-", "").replace("_", "").upper() not in (
            "UTF8", "UNICODE", "SQLASCII"):
        raise _unsupported(f'COPY encoding "{enc}" is not supported; use UTF8')
    return CopyPlan(
        table=table, columns=columns, format=fmt, delimiter=delim, null=null, quote=quote,
        escape=escape, header=bool(o.get("header", False)),
        header_match=bool(o.get("header_match", False)),
        force_null=cols_of("force_null", "FORCE_NULL"),
        force_not_null=cols_of("force_not_null", "FORCE_NOT_NULL"),
        encoding=enc, freeze=bool(o.get("freeze", False)), temp=temp,
    )


INVALID_PARAMETER_VALUE_ = "22023"

# --------------------------------------------------------------------------- UPDATE / DELETE

_RANGE_OPS = {">=", ">", "<=", "<"}
_VALUE_WORDS = frozenset({"null", "default", "true", "false", "array", "cast"})
_SQL_WORDS = frozenset({"not", "exists", "case", "true", "false", "null", "select", "coalesce",
                        "lower", "upper"})


def _predicate_help(table: Table) -> str:
    keys = [c for c in table.key if not _is_time(table, c)]
    forms: list[str] = []
    if table.column("id") is not None:
        forms += ["id = ...", "id IN (...)"]
    if keys:
        forms += [" AND ".join(f"{k} = ..." for k in keys)]
        forms += [f"{keys[-1]} IN (...)"]
    ts = [c for c in table.key if _is_time(table, c)]
    text = ", ".join(forms)
    if ts:
        text += f", combined with AND {ts[0]} >= ... AND {ts[0]} < ... (or <=, >, =, BETWEEN)"
    return text


def _is_time(table: Table, name: str) -> bool:
    c = table.column(name)
    return c is not None and c.type.oid in (T.TIMESTAMPTZ.oid, T.TIMESTAMP.oid)


def _parse_where(p: _Parser, table: Table, verb: str) -> KeyPredicate:
    allowed = set(table.key)
    if table.column("id") is not None:
        allowed.add("id")

    def bad() -> PgError:
        return _unsupported(
            f'{verb} on "{table.name}" supports only WHERE key predicates: '
            f"{_predicate_help(table)}",
            hint="Rows are identified in CDF by their key; other predicates would need a "
            "read from CDF.")

    def value() -> Any:
        nt = p.peek()
        if nt is not None and nt.kind in (IDENT, QIDENT) and (
                nt.kind == QIDENT or nt.value not in _VALUE_WORDS) and not (
                p.peek(1) is not None and p.peek(1).kind == STRING):  # type: ignore[union-attr]
            raise bad()
        return p.value()

    keys: dict[str, list[Any]] = {}
    rng: dict[str, Any] = {}
    range_col: str | None = None
    depth = 0
    while True:
        while p.accept_punct("("):
            depth += 1
        t = p.peek()
        if t is None or t.kind not in (IDENT, QIDENT):
            raise bad()
        p.next()
        col = str(t.value)
        if p.accept_punct("."):  # alias.col / table.col
            col = p.ident()
        if col not in allowed:
            if table.column(col) is None and t.kind == IDENT and t.value in _SQL_WORDS:
                raise bad()
            if table.column(col) is None:
                raise PgError(UNDEFINED_COLUMN, f'column "{col}" does not exist')
            raise bad()
        op = p.peek()
        if op is None:
            raise bad()
        if op.kind == OP and op.value == "=":
            p.next()
            v = value()
            if _is_time(table, col) and col != "id" and len(table.key) > 1:
                if range_col not in (None, col) or rng:
                    raise bad()
                range_col = col
                rng["lower"] = v
                rng["upper"] = v
                rng["lower_inclusive"] = rng["upper_inclusive"] = True
            else:
                if col in keys:
                    raise bad()
                keys[col] = [v]
        elif op.kind == IDENT and op.value == "in":
            p.next()
            p.expect_punct("(")
            vals = [value()]
            while p.accept_punct(","):
                vals.append(value())
            p.expect_punct(")")
            if col in keys or _is_time(table, col):
                raise bad()
            keys[col] = vals
        elif op.kind == OP and op.value in _RANGE_OPS and _is_time(table, col):
            p.next()
            if range_col not in (None, col):
                raise bad()
            range_col = col
            v = value()
            if op.value in (">=", ">"):
                if "lower" in rng:
                    raise bad()
                rng["lower"], rng["lower_inclusive"] = v, op.value == ">="
            else:
                if "upper" in rng:
                    raise bad()
                rng["upper"], rng["upper_inclusive"] = v, op.value == "<="
        elif op.kind == IDENT and op.value == "between" and _is_time(table, col):
            p.next()
            if range_col is not None:
                raise bad()
            range_col = col
            rng["lower"] = value()
            p.expect_kw("and")
            rng["upper"] = value()
            rng["lower_inclusive"] = rng["upper_inclusive"] = True
        else:
            raise bad()
        while depth and p.accept_punct(")"):
            depth -= 1
        if p.accept_kw("and"):
            continue
        break
    if depth:
        raise p.error()
    if p.is_kw("returning"):
        raise _unsupported(ASYNC_RETURNING)
    if not p.at_end():
        raise bad()
    # Identity: id, or every non-time key column.
    ident_cols = [c for c in table.key if not _is_time(table, c)]
    if "id" in keys:
        if len(keys) > 1:
            raise bad()
    elif not ident_cols or any(c not in keys for c in ident_cols):
        raise bad()
    ordered = [c for c in (["id"] if "id" in keys else ident_cols) if c in keys]
    return KeyPredicate(
        keys=tuple((c, tuple(keys[c])) for c in ordered),
        range_column=range_col,
        lower=rng.get("lower"),
        lower_inclusive=rng.get("lower_inclusive", True),
        upper=rng.get("upper"),
        upper_inclusive=rng.get("upper_inclusive", False),
    )


def _predicate_param_types(table: Table, pred: KeyPredicate) -> dict[int, int]:
    out: dict[int, int] = {}

    def note(v: Any, col: str) -> None:
        if type(v) is Param:
            c = table.column(col)
            oid = v.cast or (c.type.oid if c is not None else T.TEXT.oid)
            if v.num not in out or (v.cast and not out[v.num]):
                out[v.num] = oid
    for col, vals in pred.keys:
        for v in vals:
            note(v, col)
    if pred.range_column:
        note(pred.lower, pred.range_column)
        note(pred.upper, pred.range_column)
    return out


def _finish_param_types(types: dict[int, int]) -> tuple[int, ...]:
    n = max(types) + 1 if types else 0
    for i in range(n):
        if i not in types:
            raise PgError(INVALID_PARAMETER_TYPE,
                          f"could not determine data type of parameter ${i + 1}")
    return tuple(types[i] for i in range(n))


_BULK_DELETE_HINT = (
    "Delete by key (WHERE external_id = ... / id = ...), or remove the pre-copy script "
    "(Azure Data Factory)."
)
_NO_BULK = "CDF data cannot be bulk-deleted through the gateway"


def _parse_update(p: _Parser, registry: Registry, temp_tables: Mapping[str, Table]) -> UpdatePlan:
    p.expect_kw("update")
    p.accept_kw("only")
    schema, name = p.qualified_name()
    table, temp = _resolve(schema, name, registry, temp_tables)
    if temp:
        raise _unsupported("UPDATE of temporary tables is not supported",
                           hint="Stage rows with INSERT/COPY, then INSERT ... SELECT ... "
                           "ON CONFLICT ... DO UPDATE into the CDF table.")
    if p.accept_kw("as") or (p.peek() is not None and p.peek().kind in (IDENT, QIDENT)  # type: ignore[union-attr]
                             and not p.is_kw("set")):
        p.ident()
    p.expect_kw("set")
    set_cols: list[str] = []
    set_vals: list[Any] = []
    while True:
        if p.is_punct("("):
            cols = p.ident_list()
            t = p.next()
            if t.kind != OP or t.value != "=":
                raise p.error(t)
            p.accept_kw("row")
            p.expect_punct("(")
            vals = [p.value()]
            while p.accept_punct(","):
                vals.append(p.value())
            p.expect_punct(")")
            if len(vals) != len(cols):
                raise PgError(SYNTAX_ERROR, "number of columns does not match number of values")
            set_cols += cols
            set_vals += vals
        else:
            c = p.ident()
            t = p.next()
            if t.kind != OP or t.value != "=":
                raise p.error(t)
            nt = p.peek()
            if nt is not None and nt.kind in (IDENT, QIDENT) and nt.value not in (
                    "null", "default", "true", "false", "array", "cast") and not (
                    p.peek(1) is not None and p.peek(1).kind == STRING):  # type: ignore[union-attr]
                raise _unsupported(
                    f"UPDATE supports only constants and parameters in SET (column \"{c}\")",
                    hint="Rows are updated in CDF by key; expressions cannot be evaluated "
                    "against CDF data.")
            set_cols.append(c)
            set_vals.append(p.value())
        if not p.accept_punct(","):
            break
    _check_columns(table, set_cols)
    for c in set_cols:
        col = table.column(c)
        assert col is not None
        if col.read_only:
            raise PgError(GENERATED_ALWAYS, f'column "{c}" can only be updated to DEFAULT',
                          detail=f'Column "{c}" is assigned by CDF.')
        if not getattr(col, "updatable", True):
            raise _unsupported(f'column "{c}" of relation "{table.name}" cannot be updated in CDF')
    if p.is_kw("from"):
        raise _unsupported(
            "UPDATE ... FROM is not supported",
            hint="Use INSERT INTO t SELECT ... FROM staging ON CONFLICT (key) DO UPDATE SET ...")
    if p.is_kw("returning"):
        raise _unsupported(ASYNC_RETURNING)
    if not p.accept_kw("where"):
        raise _unsupported(
            f'UPDATE without WHERE is not supported on "{table.name}": CDF data cannot be '
            "bulk-updated through the gateway",
            hint="Update by key (WHERE external_id = ... / id = ...).")
    if p.is_kw("current"):
        raise _unsupported("WHERE CURRENT OF is not supported")
    _require_op(table, Op.UPDATE, "UPDATE", temp)
    pred = _parse_where(p, table, "UPDATE")
    if pred.range_column:
        raise _unsupported(f'UPDATE on "{table.name}" cannot take a range predicate')
    types = _predicate_param_types(table, pred)
    for c, v in zip(set_cols, set_vals, strict=True):
        if type(v) is Param:
            col = table.column(c)
            assert col is not None
            types.setdefault(v.num, v.cast or col.type.oid)
    return UpdatePlan(table=table, set_columns=tuple(set_cols), set_values=tuple(set_vals),
                      where=pred, param_types=_finish_param_types(types), temp=temp)


def _parse_delete(p: _Parser, registry: Registry, temp_tables: Mapping[str, Table]) -> DeletePlan:
    p.expect_kw("delete")
    p.expect_kw("from")
    p.accept_kw("only")
    schema, name = p.qualified_name()
    table, temp = _resolve(schema, name, registry, temp_tables)
    if p.accept_kw("as") or (p.peek() is not None and p.peek().kind in (IDENT, QIDENT)  # type: ignore[union-attr]
                             and not p.is_kw("where", "using", "returning")):
        p.ident()
    if p.is_kw("using"):
        raise _unsupported("DELETE ... USING is not supported")
    if p.is_kw("returning"):
        raise _unsupported(ASYNC_RETURNING)
    if temp:
        if p.at_end():
            return DeletePlan(table=table, where=None, temp=True)
        raise _unsupported("DELETE from temporary tables supports no WHERE clause")
    if not p.accept_kw("where"):
        p.expect_end()
        raise _unsupported(
            f'DELETE without WHERE is not supported on "{table.name}": {_NO_BULK}',
            hint=_BULK_DELETE_HINT)
    _require_op(table, Op.DELETE, "DELETE", temp)
    pred = _parse_where(p, table, "DELETE")
    return DeletePlan(table=table, where=pred,
                      param_types=_finish_param_types(_predicate_param_types(table, pred)),
                      temp=temp)


def _parse_truncate(
    p: _Parser, registry: Registry, temp_tables: Mapping[str, Table]
) -> TruncatePlan:
    p.expect_kw("truncate")
    p.accept_kw("table")
    names: list[str] = []
    while True:
        p.accept_kw("only")
        schema, name = p.qualified_name()
        table, temp = _resolve(schema, name, registry, temp_tables)
        if not temp:
            raise _unsupported(f'TRUNCATE is not supported on "{table.name}": {_NO_BULK}',
                               hint=_BULK_DELETE_HINT)
        names.append(name)
        if not p.accept_punct(","):
            break
    while p.accept_kw("restart", "continue", "identity", "cascade", "restrict"):
        pass
    p.expect_end()
    return TruncatePlan(names=tuple(names))


# --------------------------------------------------------------------------- CREATE / DROP

_CONSTRAINT_WORDS = ("constraint", "primary", "unique", "check", "foreign", "exclude")


def _temp_column(c: Column) -> Column:
    """A staging copy of a registry column: same type and length, no CDF rules."""
    return replace(c, required=False, read_only=False, check=None, min_value=None,
                   max_value=None, max_items=None, references=None, choices=(), resolves=None)


def _parse_create(
    p: _Parser, registry: Registry, temp_tables: Mapping[str, Table]
) -> CreateTempTablePlan | None:
    p.expect_kw("create")
    p.accept_kw("or")  # CREATE OR REPLACE ... is never a table
    temp = False
    if p.accept_kw("global", "local"):
        pass
    if p.accept_kw("temp", "temporary"):
        temp = True
    elif p.is_kw("unlogged"):
        p.next()
    if not p.is_kw("table"):
        return None  # CREATE INDEX / VIEW / EXTENSION ...: not a write
    p.next()
    if_not_exists = False
    if p.accept_kw("if"):
        p.expect_kw("not")
        p.expect_kw("exists")
        if_not_exists = True
    schema, name = p.qualified_name()
    if not temp and not (schema or "").startswith("pg_temp"):
        raise _unsupported(
            "CREATE TABLE is not supported: the gateway's tables are CDF resources",
            hint="Custom tables (RAW tables, data modeling views) are created through the "
            "gateway's management API (/postgresgateway/tables). Temporary tables "
            "(CREATE TEMP TABLE) are supported for staging.")
    columns: list[Column] = []
    key: tuple[str, ...] = ()
    if p.accept_kw("as"):
        items, source, _src_temp = _parse_simple_select(p, registry, temp_tables,
                                                        "CREATE TABLE ... AS")
        if not (p.accept_kw("with") and p.accept_kw("no") and p.accept_kw("data")):
            raise _unsupported("CREATE TEMP TABLE ... AS SELECT is supported only WITH NO DATA")
        for c, cast in items:
            col = source.column(c)
            assert col is not None
            col = _temp_column(col)
            if cast:
                col = replace(col, type=T.TYPES_BY_OID[cast], max_length=None)
            columns.append(col)
    else:
        p.expect_punct("(")
        while True:
            if p.accept_kw("like"):
                ls, ln = p.qualified_name()
                src, _ = _resolve(ls, ln, registry, temp_tables)
                columns.extend(_temp_column(c) for c in src.columns)
                while p.accept_kw("including", "excluding"):
                    p.ident()
            elif p.is_kw(*_CONSTRAINT_WORDS):
                if p.accept_kw("constraint"):
                    p.ident()
                if p.accept_kw("primary"):
                    p.expect_kw("key")
                    key = tuple(p.ident_list())
                else:
                    _skip_balanced(p)
            else:
                cname = p.ident()
                ctype = p.type_name()
                max_len = _varchar_len(p.sql, ctype)
                col = Column(cname, ctype, cdf=None, max_length=max_len)
                # Column constraints: skip to the next top-level ',' or ')'.
                if p.is_kw("primary") and p.is_kw("key", k=1):
                    key = (cname,)
                _skip_balanced(p)
                columns.append(col)
            if not p.accept_punct(","):
                break
        p.expect_punct(")")
    on_commit = "preserve"
    if p.accept_kw("on"):
        p.expect_kw("commit")
        w = p.expect_kw("preserve", "delete", "drop")
        if w != "drop":
            p.expect_kw("rows")
        on_commit = w
    p.expect_end()
    seen: set[str] = set()
    for tc in columns:
        if tc.name in seen:
            raise PgError(DUPLICATE_COLUMN, f'column "{tc.name}" specified more than once')
        seen.add(tc.name)
    table = Table(name=name, resource="", columns=tuple(columns), key=key,
                  ops=frozenset({Op.INSERT, Op.UPSERT, Op.INSERT_IGNORE, Op.DELETE}),
                  schema="pg_temp", kind="temp")
    return CreateTempTablePlan(name=name, table=table, if_not_exists=if_not_exists,
                               on_commit=on_commit)


def _varchar_len(sql: str, t: T.PgType) -> int | None:
    return None  # lengths of staging columns are not enforced (the target's are)


def _skip_balanced(p: _Parser) -> None:
    depth = 0
    while True:
        t = p.peek()
        if t is None:
            return
        if t.kind == PUNCT:
            if t.value == "(":
                depth += 1
            elif t.value == ")":
                if depth == 0:
                    return
                depth -= 1
            elif t.value == "," and depth == 0:
                return
        p.next()


def _parse_drop(
    p: _Parser, registry: Registry, temp_tables: Mapping[str, Table]
) -> DropTablePlan | None:
    p.expect_kw("drop")
    if not p.accept_kw("table"):
        return None
    if_exists = False
    if p.accept_kw("if"):
        p.expect_kw("exists")
        if_exists = True
    names: list[str] = []
    missing: list[str] = []
    while True:
        schema, name = p.qualified_name()
        if (schema is None or schema.startswith("pg_temp")) and name in temp_tables:
            names.append(name)
        elif registry.find(name, None if schema and schema.startswith("pg_temp") else schema):
            raise _unsupported(f'DROP TABLE is not supported on "{name}": it is a CDF resource')
        elif if_exists:
            missing.append(name)
        else:
            raise PgError(UNDEFINED_TABLE, f'table "{_display(schema, name)}" does not exist')
        if not p.accept_punct(","):
            break
    p.accept_kw("cascade", "restrict")
    p.expect_end()
    return DropTablePlan(names=tuple(names), missing=tuple(missing), if_exists=if_exists)


# --------------------------------------------------------------------------- entry points

_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)*([A-Za-z_]+)")
WRITE_WORDS = frozenset({"insert", "copy", "update", "delete", "truncate", "create", "drop"})


def first_keyword(sql: str) -> str:
    """The statement's first keyword, lower-cased ('' when none)."""
    m = _FIRST_WORD.match(sql)
    return m.group(1).lower() if m else ""


_EMPTY: Mapping[str, Table] = {}


def parse_write(
    sql: str, registry: Registry, temp_tables: Mapping[str, Table] = _EMPTY, *,
    standard_conforming_strings: bool = True,
) -> WritePlan | None:
    """Parse one write statement into a plan; ``None`` when ``sql`` is not a write.

    ``temp_tables`` maps the session's temp table names to their tables; they
    shadow registry tables of the same name, as ``pg_temp`` does.
    """
    word = first_keyword(sql)
    if word not in WRITE_WORDS:
        return None
    p = _Parser(sql, 0, standard_conforming_strings)
    if word == "insert":
        return _parse_insert(p, registry, temp_tables)
    if word == "copy":
        return _parse_copy(p, registry, temp_tables)
    if word == "update":
        return _parse_update(p, registry, temp_tables)
    if word == "delete":
        return _parse_delete(p, registry, temp_tables)
    if word == "truncate":
        return _parse_truncate(p, registry, temp_tables)
    if word == "create":
        return _parse_create(p, registry, temp_tables)
    return _parse_drop(p, registry, temp_tables)


_CACHE: OrderedDict[tuple[str, int, bool], tuple[Registry, WritePlan]] = OrderedDict()
CACHE_SIZE = 512
CACHE_MAX_SQL = 256 * 1024


def plan_for(
    sql: str, registry: Registry, temp_tables: Mapping[str, Table] = _EMPTY, *,
    standard_conforming_strings: bool = True,
) -> WritePlan | None:
    """:func:`parse_write` through an LRU cache keyed by SQL text and registry.

    Cached: plans with parameters (prepared statements executed many times)
    and COPY plans, when no temp table is involved.  Literal INSERTs are
    not cached (psycopg2's ``execute_values`` sends different text each time).
    """
    key = (sql, id(registry), standard_conforming_strings)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is registry:
        plan = hit[1]
        if not _uses_temp(plan) or not temp_tables:
            _CACHE.move_to_end(key)
            return plan
    parsed = parse_write(sql, registry, temp_tables,
                         standard_conforming_strings=standard_conforming_strings)
    if parsed is None or len(sql) > CACHE_MAX_SQL or _uses_temp(parsed):
        return parsed
    plan = parsed
    if isinstance(plan, CopyPlan) or (
        isinstance(plan, InsertPlan | UpdatePlan | DeletePlan) and plan.param_types
    ):
        _CACHE[key] = (registry, plan)
        if len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return plan


def _uses_temp(plan: WritePlan) -> bool:
    if isinstance(plan, InsertPlan | CopyPlan | UpdatePlan | DeletePlan):
        return plan.temp
    return True


def clear_cache() -> None:
    _CACHE.clear()


def decode_params(
    values: Sequence[Any], template: Sequence[Any], param_types: Sequence[int],
    param_formats: Sequence[int] = (), parse_oids: Sequence[int] = (),
) -> list[Any]:
    """Decode the binary parameters of a ``"mixed"`` column to Python values.

    ``values`` is the bound column, ``template`` the plan's column (constants
    and :class:`Param`); text-format parameters stay ``str`` (read with the
    column's text syntax by ``coerce_columns(source="python")``).
    """
    from pggw.wire.codecs import decode_binary

    out = list(values)
    for r, v in enumerate(template):
        if type(v) is Param and out[r] is not None and _param_format(v, param_formats) == 1:
            po = parse_oids[v.num] if v.num < len(parse_oids) else 0
            out[r] = decode_binary(po or param_types[v.num], out[r])
    return out
