"""Column-wise coercion and validation of rows against a table's CDF rules.

Pure and fast: values arrive column-wise (one list per column, as COPY and
multi-row INSERTs produce them) and are converted with one bulk pass per
column (``map(float, col)``, ``datetime.fromisoformat``, ``struct.unpack`` of a
joined binary column); only when a bulk pass fails does a per-value loop run,
to find the offending value and report it like PostgreSQL does.

Output values are CDF-ready:

==========================  ===============================================
column type                 output
==========================  ===============================================
int2/int4/int8              ``int``
float4/float8               ``float``
numeric                     ``int`` when integral, else ``float``
bool                        ``bool``
text/varchar/bpchar/uuid    ``str``
json/jsonb                  parsed JSON (``dict``/``list``/…)
bytea                       ``bytes`` (text input: PostgreSQL's hex format
                            ``\\x…`` or the escape format; binary input as is)
timestamptz/timestamp/date  ``int`` milliseconds since the Unix epoch
                            (finer precision is truncated towards -inf, and
                            one NOTICE is returned per call)
arrays                      ``list`` of the element outputs
==========================  ===============================================

SQLSTATE choices (PostgreSQL's where it has one):

* 22P02 invalid text; 22P03 invalid binary; 22003 numeric out of range or
  outside the column's CDF range (``min_value``/``max_value``); 22001 too long;
  22007/22008 bad or out-of-range date/time; 23502 NULL in a required column.
* 428C9 for a non-NULL value in a read-only column (``id``, ``created_time``):
  PostgreSQL's code for writing a GENERATED ALWAYS column, the closest
  analogue of a value CDF assigns itself.
* 0A000 for ``infinity`` timestamps (CDF cannot store them).
* 22023 for JSON that parses but has the wrong shape for CDF (metadata not a
  string map, bad GeoJSON, …) and for CDF size limits (metadata, array items).
* 23514 (check_violation) for cross-column rules (``limits.ROW_RULES``).
* 23505 / 21000 for duplicate keys in one statement (:func:`check_duplicate_keys`).
* 54000 (program_limit_exceeded) for a ``bytea`` value longer than the column's
  ``max_length`` (bytes): a limit of pggw's, not a malformed value.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pggw.tables import limits as L
from pggw.tables.model import Column, Op, Table
from pggw.wire import codecs
from pggw.wire.errors import (
    CARDINALITY_VIOLATION,
    DATETIME_FIELD_OVERFLOW,
    FEATURE_NOT_SUPPORTED,
    INVALID_PARAMETER_VALUE,
    INVALID_TEXT_REPRESENTATION,
    NOT_NULL_VIOLATION,
    NUMERIC_VALUE_OUT_OF_RANGE,
    STATEMENT_TOO_COMPLEX,
    STRING_DATA_RIGHT_TRUNCATION,
    UNDEFINED_COLUMN,
    UNIQUE_VIOLATION,
    PgError,
)

__all__ = [
    "GENERATED_ALWAYS", "CHECK_VIOLATION", "TRUNCATION_NOTICE", "check_duplicate_keys",
    "check_required", "coerce_columns", "to_ms",
]

GENERATED_ALWAYS = "428C9"
CHECK_VIOLATION = "23514"
DATATYPE_MISMATCH = "42804"
PROGRAM_LIMIT_EXCEEDED = "54000"

TRUNCATION_NOTICE = (
    "timestamps with sub-millisecond precision were truncated to milliseconds "
    "(CDF stores milliseconds)"
)

# OIDs
_BOOL, _BYTEA, _NAME, _INT8, _INT2, _INT4, _TEXT, _OID = 16, 17, 19, 20, 21, 23, 25, 26
_JSON, _FLOAT4, _FLOAT8, _UNKNOWN, _BPCHAR, _VARCHAR = 114, 700, 701, 705, 1042, 1043
_DATE, _TIMESTAMP, _TIMESTAMPTZ, _NUMERIC, _UUID, _JSONB = 1082, 1114, 1184, 1700, 2950, 3802
_CHAR = 18

_INTS = {_INT2: (-32768, 32767), _INT4: (-(2**31), 2**31 - 1), _INT8: (-(2**63), 2**63 - 1),
         _OID: (0, 2**32 - 1)}
_FLOATS = {_FLOAT4, _FLOAT8}
_TEXTS = {_TEXT, _VARCHAR, _BPCHAR, _NAME, _UNKNOWN, _CHAR}
_JSONS = {_JSON, _JSONB}
_TIMES = {_TIMESTAMPTZ, _TIMESTAMP, _DATE}
_TYPE_WORD = {_INT2: "smallint", _INT4: "integer", _INT8: "bigint"}
_FLOAT4_MAX = 3.4028234663852886e38

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_MS = timedelta(milliseconds=1)
_PG_EPOCH_MS = 946_684_800_000  # 2000-01-01 in Unix ms
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SPECIAL_TS = {"infinity", "+infinity", "-infinity"}

_fromiso = datetime.fromisoformat


class _Bad(Exception):
    """Internal: value at ``index`` failed; ``error`` is what to report (already PG-shaped)."""

    def __init__(self, index: int, error: PgError) -> None:
        super().__init__(error.message)
        self.index = index
        self.error = error


# --------------------------------------------------------------------------- small helpers


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    up = name.upper()
    if up in ("UTC", "Z", "GMT", "ETC/UTC", "UCT", "ZULU", "ETC/UCT", "GMT0", "ETC/GMT"):
        return UTC
    m = re.fullmatch(r"([+-])?(\d{1,2})(?::?(\d{2}))?", name.strip())
    if m:  # POSIX-style numeric zone: SET TIME ZONE '+02' means UTC+2 here (ISO sign)
        sign = -1 if m.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0)))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PgError(INVALID_PARAMETER_VALUE, f'time zone "{name}" not recognized') from None


def to_ms(dt: datetime | date, tz: tzinfo = UTC) -> int:
    """Milliseconds since the Unix epoch (floor); naive datetimes are in ``tz``."""
    if not isinstance(dt, datetime):
        return (dt.toordinal() - 719163) * 86_400_000
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return (dt - _EPOCH) // _MS


def _short(v: Any) -> str:
    s = v if isinstance(v, str) else (
        bytes(v[:400]).decode("utf-8", "replace") if isinstance(v, bytes | bytearray) else
        json.dumps(v) if isinstance(v, dict | list) else str(v))
    return s if len(s) <= 200 else s[:200] + "..."


def _json_dumps(v: Any) -> str:
    try:
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


class _Ctx:
    """Where errors point: table, column, row numbering."""

    __slots__ = ("table", "column", "first_row", "where", "raw")

    def __init__(self, table: Table, column: str, first_row: int,
                 where: Callable[[int, str], str] | None, raw: Sequence[Any]) -> None:
        self.table = table
        self.column = column
        self.first_row = first_row
        self.where = where
        self.raw = raw

    def fail(self, index: int, err: PgError, *, show_value: bool = True) -> PgError:
        row = self.first_row + index
        raw = self.raw[index] if 0 <= index < len(self.raw) else None
        if self.where is not None:
            w = self.where(row, self.column)
        else:
            w = f'relation "{self.table.name}", row {row}, column {self.column}'
        if show_value and raw is not None:
            w += f': "{_short(raw)}"'
        err.where = w
        err.table = self.table.name
        err.column = self.column
        return err


# --------------------------------------------------------------------------- per-value decode


def _per_value(vals: Sequence[Any], fn: Callable[[Any], Any]) -> list[Any]:
    """Apply ``fn`` to non-None values; on error raise :class:`_Bad` with the index."""
    out: list[Any] = []
    append = out.append
    for i, v in enumerate(vals):
        if v is None:
            append(None)
            continue
        try:
            append(fn(v))
        except PgError as e:
            raise _Bad(i, e) from None
    return out


def _infinite_ts(text: str) -> PgError:
    return PgError(
        FEATURE_NOT_SUPPORTED,
        f'timestamp "{text.strip()}" is not supported: CDF cannot store infinite timestamps')


def _fix_special(e: PgError) -> PgError:
    if "infinit" in e.message:
        return PgError(FEATURE_NOT_SUPPORTED, e.message.replace(" is not supported:",
                                                                " is not supported:"))
    return e


# --------------------------------------------------------------------------- text fast paths


def _text_ints(vals: list[Any], oid: int) -> list[Any]:
    try:
        out = list(map(int, vals))
    except (TypeError, ValueError):
        return _text_slow(vals, oid)
    joined = "".join(vals)
    if "_" in joined or not joined.isascii():
        return _text_slow(vals, oid)
    if out:
        lo, hi = _INTS.get(oid, _INTS[_INT8])
        if min(out) < lo or max(out) > hi:
            return _text_slow(vals, oid)
    return out


def _text_floats(vals: list[Any], oid: int) -> list[Any]:
    try:
        out = list(map(float, vals))
    except (TypeError, ValueError):
        return _text_slow(vals, oid)
    joined = "".join(vals)
    if "_" in joined or not joined.isascii():
        return _text_slow(vals, oid)
    if out:
        s = sum(out)
        if not math.isfinite(s) or (oid == _FLOAT4 and (max(out) > _FLOAT4_MAX
                                                          or min(out) < -_FLOAT4_MAX)):
            return _text_slow(vals, oid)
    return out


_BOOL_FAST = {"t": True, "f": False, "true": True, "false": False, "TRUE": True, "FALSE": False,
              "1": True, "0": False}


def _text_bools(vals: list[Any], oid: int) -> list[Any]:
    try:
        return [_BOOL_FAST[v] for v in vals]
    except KeyError:
        return _text_slow(vals, oid)


class _Fallback(Exception):
    """Internal: the cached fast path cannot handle a value; use the general one."""


# The cached fast path for timestamps: a value "YYYY-MM-DD HH:MM<rest>" is the
# sum of two cached parts, the minute (as UTC) and the rest (":SS.fff" plus the
# zone offset).  Runs of datapoints share minutes and rests, so most values
# cost two slices and two dict lookups instead of datetime arithmetic.  A rest
# that loses sub-millisecond digits maps to ``ms + 0.5`` (a float) to mark
# truncation; such rests are not cached.
_REST_RE = re.compile(
    r"(?::([0-5][0-9])(?:\.([0-9]{1,9}))?)?"
    r"(?:(Z|z)|([+-])([0-9]{2})(?::?([0-9]{2}))?)?"
)


_MISSES = [0]  # approximate (not locked): only steers the fast-path heuristic
_CACHE_MAX = 50_000  # entries per cache (a few MB); cleared when full


class _MinuteCache(dict[str, int]):
    def __missing__(self, key: str) -> int:
        _MISSES[0] += 1
        n = len(key)
        if n != 16 and n != 10:
            raise _Fallback
        if n == 16 and (key[10] not in "T " or key[13] != ":"):
            raise _Fallback
        if key[4] != "-" or key[7] != "-":
            raise _Fallback
        try:
            d = datetime(int(key[:4]), int(key[5:7]), int(key[8:10]),
                         int(key[11:13]) if n == 16 else 0, int(key[14:16]) if n == 16 else 0)
        except ValueError:
            raise _Fallback from None
        if not (key[:4] + key[5:7] + key[8:10]).isdigit() or (
                n == 16 and not (key[11:13] + key[14:16]).isdigit()):
            raise _Fallback
        v = (d - _EPOCH_NAIVE) // _MS
        if len(self) > _CACHE_MAX:
            self.clear()
        self[key] = v
        return v


class _RestCache(dict[str, Any]):
    """``zoned_only``: zone-less rests are refused (session zone is not UTC)."""

    def __init__(self, zoned_only: bool) -> None:
        super().__init__()
        self.zoned_only = zoned_only

    def __missing__(self, key: str) -> Any:
        _MISSES[0] += 1
        m = _REST_RE.fullmatch(key)
        if m is None:
            raise _Fallback
        sec, frac, z, sign, oh, om = m.groups()
        if z is None and sign is None and self.zoned_only:
            raise _Fallback
        if not sec and frac:
            raise _Fallback
        ms = int(sec or 0) * 1000
        trunc = False
        if frac:
            ms += int(frac[:3].ljust(3, "0"))
            trunc = len(frac) > 3 and int(frac[3:]) != 0
        if sign is not None:
            h, mi = int(oh), int(om or 0)
            if h > 15 or mi > 59:
                raise _Fallback
            off = (h * 60 + mi) * 60_000
            ms = ms - off if sign == "+" else ms + off
        if trunc:
            return ms + 0.5
        if len(self) > _CACHE_MAX:
            self.clear()
        self[key] = ms
        return ms


_SAMPLE = 512
_CHUNK = 8192
_MINUTES = _MinuteCache()
_RESTS_UTC = _RestCache(zoned_only=False)
_RESTS_ZONED = _RestCache(zoned_only=True)


def _text_timestamps(vals: list[Any], oid: int, tz: tzinfo, notes: set[str]) -> list[Any]:
    out: list[Any] = []
    pos = 0
    n = len(vals)
    if oid == _TIMESTAMPTZ:
        mins = _MINUTES
        rests = _RESTS_UTC if tz is UTC else _RESTS_ZONED
        chunk = _SAMPLE
        try:
            while pos < n:
                part = vals[pos:pos + chunk] if pos or n > chunk else vals
                before = _MISSES[0]
                out += [mins[s[:16]] + rests[s[16:]] for s in part]
                pos += len(part)
                if _MISSES[0] - before > len(part) // 8:
                    break  # values rarely share minutes/rests here: not worth it
                chunk = _CHUNK
        except (_Fallback, TypeError):
            pass
        if out and type(sum(out)) is float:
            notes.add(TRUNCATION_NOTICE)
            out = [int(x - 0.5) if type(x) is float else x for x in out]
        if pos >= n:
            return out
    rest = vals[pos:] if pos else vals
    try:
        dts = list(map(_fromiso, rest))
    except (TypeError, ValueError):
        try:
            tail = _ts_slow(rest, oid, tz, notes)
        except _Bad as b:
            b.index += pos
            raise
    else:
        tail = _dts_to_ms(dts, oid, tz, notes)
    if pos:
        out += tail
        return out
    return tail


def _dts_to_ms(dts: list[Any], oid: int, tz: tzinfo, notes: set[str]) -> list[Any]:
    """datetimes (no None) → ms; naive ones are in ``tz`` (timestamptz) or UTC (timestamp)."""
    ms_unit = _MS
    if oid == _TIMESTAMP:
        naive = _EPOCH_NAIVE
        try:
            out = [(d - naive) // ms_unit for d in dts]
        except TypeError:  # some carry a zone: PostgreSQL ignores it for timestamp
            out = [(d.replace(tzinfo=None) - naive) // ms_unit for d in dts]
    else:
        epoch = _EPOCH
        try:
            out = [(d - epoch) // ms_unit for d in dts]
        except TypeError:  # some are naive: they are in the session time zone
            out = [((d if d.tzinfo is not None else d.replace(tzinfo=tz)) - _EPOCH) // _MS
                   for d in dts]
    if any(d.microsecond % 1000 for d in dts):
        notes.add(TRUNCATION_NOTICE)
    return out


def _ts_one(v: str, oid: int, tz: tzinfo) -> datetime:
    try:
        dt0 = _fromiso(v)
    except ValueError:
        pass
    else:
        return datetime(dt0.year, dt0.month, dt0.day) if oid == _DATE else dt0
    if v.strip().lower() in _SPECIAL_TS:
        raise _infinite_ts(v)
    if oid == _DATE:
        d = codecs.decode_text(_DATE, v)
        return datetime(d.year, d.month, d.day)
    try:
        dt: datetime = codecs.decode_text(oid, v, timezone="UTC")
    except PgError as e:
        raise _fix_special(e) from None
    if oid == _TIMESTAMPTZ and dt.tzinfo is not None and tz is not UTC and not _has_zone(v):
        # codecs read a zone-less value as UTC; it is in the session zone.
        dt = dt.replace(tzinfo=None)
    return dt


_ZONE_TAIL = re.compile(r"(?:Z|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?|[A-Za-z][A-Za-z0-9_/+-]*)\s*$")


def _has_zone(v: str) -> bool:
    s = v.strip()
    # a date alone ends in digits; '-05' after a time is an offset
    return bool(_ZONE_TAIL.search(s)) and (":" in s or s[-1:].isalpha())


def _ts_slow(vals: list[Any], oid: int, tz: tzinfo, notes: set[str]) -> list[Any]:
    dts = _per_value(vals, lambda v: _ts_one(v, oid, tz))
    nn = [d for d in dts if d is not None]
    # a date is a UTC midnight, whatever the session zone
    ms = iter(_dts_to_ms(nn, _TIMESTAMP if oid == _DATE else oid, tz, notes)) if nn else iter(())
    return [None if d is None else next(ms) for d in dts]


JSON_MAX_DEPTH = 200  # far beyond any CDF document; keeps encoding far from Python's stack


def _json_depth(v: Any) -> int:
    """Nesting depth of a decoded JSON value (iterative: never recurses itself)."""
    depth, level = 0, [(v, 1)]
    while level:
        x, d = level.pop()
        depth = max(depth, d)
        if isinstance(x, dict):
            level.extend((y, d + 1) for y in x.values())
        elif isinstance(x, list):
            level.extend((y, d + 1) for y in x)
    return depth


def _loads_bounded(v: Any) -> Any:
    """``json.loads`` with PostgreSQL's answer to nesting that is too deep (54001)."""
    text = v if isinstance(v, str) else bytes(v).decode("utf-8", "replace")
    if text.count("[") + text.count("{") <= JSON_MAX_DEPTH:
        return json.loads(text)
    try:
        out = json.loads(text)
    except RecursionError:
        out = None
    if out is None or _json_depth(out) > JSON_MAX_DEPTH:
        raise PgError(STATEMENT_TOO_COMPLEX, "stack depth limit exceeded",
                      detail=f"JSON nested deeper than {JSON_MAX_DEPTH} levels.",
                      hint="Flatten the document; CDF documents are rarely deeper than a few "
                           "levels.")
    return out


def _text_json(vals: list[Any], oid: int) -> list[Any]:
    loads = _loads_bounded
    try:
        return [None if v is None else loads(v) for v in vals]
    except (ValueError, TypeError):
        pass

    def one(v: Any) -> Any:
        try:
            return loads(v)
        except (ValueError, TypeError):
            raise PgError(INVALID_TEXT_REPRESENTATION,
                          f"invalid input syntax for type {'jsonb' if oid == _JSONB else 'json'}",
                          detail=f'Token "{_short(v)[:40]}" is invalid.') from None
    return _per_value(vals, one)


def _text_slow(vals: list[Any], oid: int) -> list[Any]:
    dec = codecs.text_decoder(oid)
    out = _per_value(vals, dec)
    return [_canon(v) for v in out]


def _canon(v: Any) -> Any:
    """Codec outputs → CDF-ready values (Decimal → int/float, str JSON stays str here)."""
    if isinstance(v, Decimal):
        if v.is_nan() or v.is_infinite():
            return float(v)
        return int(v) if v == v.to_integral_value() else float(v)
    return v


# --------------------------------------------------------------------------- converters


def _convert_text(col: Column, vals: list[Any], tz: tzinfo, notes: set[str]) -> list[Any]:
    oid = col.type.oid
    if oid in _TEXTS:
        if None not in vals and "\x00" not in "".join(vals):
            return vals if isinstance(vals, list) else list(vals)
        return _per_value(vals, _check_text)
    if oid in _INTS:
        return _text_ints(vals, oid)
    if oid in _FLOATS:
        return _text_floats(vals, oid)
    if oid in _TIMES:
        if oid == _DATE:
            return _ts_slow(vals, _DATE, tz, notes)
        return _text_timestamps(vals, oid, tz, notes)
    if oid == _BOOL:
        return _text_bools(vals, oid)
    if oid in _JSONS:
        return _text_json(vals, oid)
    if oid == _BYTEA:
        return _per_value(vals, _BYTEA_TEXT)
    if col.type.is_array:
        dec = codecs.text_decoder(oid)
        return [_array_out(col, a, tz, notes) if a is not None else None
                for a in _per_value(vals, dec)]
    if oid == _NUMERIC:
        return _text_slow(vals, oid)
    return _text_slow(vals, oid)


# bytea text input: hex (``\\x0102``) or escape format (``a\\001\\\\``), as PostgreSQL reads it.
_BYTEA_TEXT = codecs.text_decoder(_BYTEA)


def _decode_utf8(b: Any) -> str:
    if isinstance(b, str):
        return b
    try:
        return bytes(b).decode("utf-8")
    except UnicodeDecodeError:
        raise PgError("22021", 'invalid byte sequence for encoding "UTF8"') from None


def _check_text(v: str) -> str:
    if "\x00" in v:
        raise PgError("22021", 'invalid byte sequence for encoding "UTF8": 0x00')
    return v


def _array_out(col: Column, arr: list[Any], tz: tzinfo, notes: set[str]) -> list[Any]:
    elem = col.type.element_oid
    if elem in _TIMES:
        return [None if x is None else (x if isinstance(x, list) else to_ms(x, tz)) for x in arr]
    if elem in _JSONS:
        return [None if x is None else (json.loads(x) if isinstance(x, str) else x) for x in arr]
    if elem == _NUMERIC:
        return [_canon(x) for x in arr]
    return arr


_STRUCT_INT = {8: "q", 4: "i", 2: "h"}


def _convert_binary(col: Column, vals: list[Any], sender: int, tz: tzinfo,
                    notes: set[str]) -> list[Any]:
    oid = col.type.oid
    if not sender or sender == _UNKNOWN:
        sender = oid
    if oid == _BYTEA and sender == _BYTEA:  # the binary form of bytea is the bytes
        return [v if v is None or type(v) is bytes else bytes(v) for v in vals]
    if None not in vals and vals:
        lens = set(map(len, vals))
        if len(lens) == 1:
            width = lens.pop()
            n = len(vals)
            if sender in _INTS and sender != _OID and width in _STRUCT_INT and (
                    oid in _INTS or oid in _FLOATS):
                out = list(struct.unpack(f">{n}{_STRUCT_INT[width]}", b"".join(vals)))
                if oid in _INTS:
                    lo, hi = _INTS[oid]
                    if min(out) < lo or max(out) > hi:
                        return _python(col, _per_value(vals, codecs.binary_decoder(sender)), tz,
                                       notes)
                    return out
                return [float(v) for v in out]
            if sender in _FLOATS and oid in _FLOATS and width == (8 if sender == _FLOAT8 else 4):
                fmt = "d" if width == 8 else "f"
                out = list(struct.unpack(f">{n}{fmt}", b"".join(vals)))
                if oid == _FLOAT4:
                    return _python(col, out, tz, notes)
                return out
            if sender in (_TIMESTAMPTZ, _TIMESTAMP) and oid in (_TIMESTAMPTZ, _TIMESTAMP) and (
                    width == 8):
                us = struct.unpack(f">{n}q", b"".join(vals))
                if max(us) == _INT64_MAX or min(us) == _INT64_MIN:
                    i = us.index(_INT64_MAX) if _INT64_MAX in us else us.index(_INT64_MIN)
                    word = "infinity" if us[i] == _INT64_MAX else "-infinity"
                    raise _Bad(i, _infinite_ts(word))
                out = [u // 1000 + _PG_EPOCH_MS for u in us]
                if any(u % 1000 for u in us):
                    notes.add(TRUNCATION_NOTICE)
                return out
    if sender in _TEXTS or (sender == oid and oid in _TEXTS):
        def dec_text(b: Any) -> str:
            try:
                s = bytes(b).decode("utf-8")
            except UnicodeDecodeError:
                raise PgError("22021", 'invalid byte sequence for encoding "UTF8"') from None
            return _check_text(s)
        try:
            texts: list[Any] = list(map(bytes.decode, vals))
            if "\x00" in "".join(texts):
                raise ValueError
        except (TypeError, ValueError):
            texts = _per_value(vals, dec_text)
        if oid in _TEXTS:
            return texts
        return _convert_text(col, texts, tz, notes)
    dec = codecs.binary_decoder(sender)

    def dec_one(b: Any) -> Any:
        try:
            return dec(b)
        except PgError as e:
            raise _fix_special(e) from None
    return _python(col, _per_value(vals, dec_one), tz, notes, from_binary=sender)


def _mismatch(col: Column, v: Any) -> PgError:
    kind = {bool: "boolean", int: "integer", float: "double precision", str: "text",
            list: "array", dict: "json", bytes: "bytea"}.get(type(v), type(v).__name__)
    return PgError(DATATYPE_MISMATCH,
                   f'column "{col.name}" is of type {col.type.sql_name} but expression is of '
                   f"type {kind}",
                   hint="You will need to rewrite or cast the expression.")


def _python(col: Column, vals: list[Any], tz: tzinfo, notes: set[str],
            from_binary: int = 0) -> list[Any]:
    """Python values (literals, decoded binary) → column outputs."""
    kinds = set(map(type, vals))
    kinds.discard(type(None))
    oid = col.type.oid
    if kinds <= {str}:
        return _convert_text(col, vals, tz, notes) if kinds else list(vals)
    if oid in _INTS and kinds <= {int}:
        lo, hi = _INTS[oid]
        nn = [v for v in vals if v is not None]
        if nn and (min(nn) < lo or max(nn) > hi):
            return _per_value(vals, lambda v: _py_one(col, v, tz))
        return list(vals)
    if oid in _FLOATS and kinds <= {float, int}:
        if kinds == {float}:
            return _per_value(vals, lambda v: _py_one(col, v, tz)) if oid == _FLOAT4 \
                else list(vals)
        return [None if v is None else float(v) for v in vals]
    if oid in _TIMES and kinds <= {datetime, date}:
        nn = [v for v in vals if v is not None]
        if kinds == {datetime}:
            ms = iter(_dts_to_ms(nn, oid if oid != _DATE else _TIMESTAMP, tz, notes))
        else:
            ms = iter([to_ms(v, tz) for v in nn])
        return [None if v is None else next(ms) for v in vals]
    return _per_value(vals, lambda v: _py_one(col, v, tz, notes))


def _py_one(col: Column, v: Any, tz: tzinfo, notes: set[str] | None = None) -> Any:
    oid = col.type.oid
    t = type(v)
    if t is str:
        one = _convert_text(col, [v], tz, notes if notes is not None else set())
        return one[0]
    if oid in _INTS:
        if t is bool:
            raise _mismatch(col, v)
        if t is float or isinstance(v, Decimal):
            f = float(v)
            if not math.isfinite(f):
                raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, f"{_TYPE_WORD.get(oid, 'bigint')} "
                              "out of range")
            fl = math.floor(f)
            r = fl + 1 if f - fl > 0.5 or (f - fl == 0.5 and f > 0) else fl
        elif isinstance(v, int):
            r = v
        else:
            raise _mismatch(col, v)
        lo, hi = _INTS[oid]
        if not lo <= r <= hi:
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, f"{_TYPE_WORD.get(oid, 'bigint')} "
                          "out of range")
        return r
    if oid in _FLOATS:
        if t is bool or not isinstance(v, int | float | Decimal):
            raise _mismatch(col, v)
        f = float(v)
        if oid == _FLOAT4 and math.isfinite(f) and abs(f) > _FLOAT4_MAX:
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, "value out of range: overflow")
        return f
    if oid == _NUMERIC:
        if t is bool or not isinstance(v, int | float | Decimal):
            raise _mismatch(col, v)
        return _canon(v) if isinstance(v, Decimal) else v
    if oid == _BOOL:
        if t is bool:
            return v
        raise _mismatch(col, v)
    if oid in _TEXTS:
        if t is bool:
            return "true" if v else "false"
        if isinstance(v, int | float | Decimal):
            return str(v)
        if isinstance(v, bytes):
            raise _mismatch(col, v)
        if isinstance(v, dict | list):
            return _json_dumps(v)
        return str(v)
    if oid in _TIMES:
        if isinstance(v, datetime):
            if oid == _TIMESTAMP and v.tzinfo is not None:
                v = v.replace(tzinfo=None)
            if v.microsecond % 1000 and notes is not None:
                notes.add(TRUNCATION_NOTICE)
            return to_ms(v, tz if oid == _TIMESTAMPTZ else UTC)
        if isinstance(v, date):
            return to_ms(v)
        raise _mismatch(col, v)
    if oid in _JSONS:
        if isinstance(v, dict | list | int | float | bool):
            return v
        raise _mismatch(col, v)
    if col.type.is_array:
        if isinstance(v, list | tuple):
            elem = Column(col.name, codecs_type(col.type.element_oid))
            return [None if x is None else (
                [_py_one(elem, y, tz, notes) for y in x] if isinstance(x, list) else
                _py_one(elem, x, tz, notes)) for x in v]
        raise _mismatch(col, v)
    if oid == _BYTEA:
        if t is bytes:
            return v
        if isinstance(v, bytearray | memoryview):
            return bytes(v)
        raise _mismatch(col, v)
    return v


def codecs_type(oid: int) -> Any:
    from pggw.wire.types import TYPES_BY_OID

    return TYPES_BY_OID[oid]


# --------------------------------------------------------------------------- checks


def _not_null_error(table: Table, col: str, row_values: Sequence[Any] | None) -> PgError:
    detail = None
    if row_values is not None:
        detail = "Failing row contains (" + ", ".join(
            "null" if v is None else _short(v) for v in row_values) + ")."
    return PgError(NOT_NULL_VIOLATION,
                   f'null value in column "{col}" of relation "{table.name}" violates '
                   "not-null constraint", detail=detail, table=table.name, column=col)


def _too_long(col: Column) -> PgError:
    t = "character varying" if col.type.oid != _TEXT else "text"
    return PgError(STRING_DATA_RIGHT_TRUNCATION,
                   f"value too long for type {t}({col.max_length})",
                   detail=f'CDF accepts at most {col.max_length} characters in '
                   f'"{col.name}".')


def _too_large(col: Column, table: Table, size: int) -> PgError:
    limit = col.max_length or 0
    return PgError(
        PROGRAM_LIMIT_EXCEEDED,
        f'value too large for column "{col.name}": {size} bytes',
        detail=f"pggw accepts at most {limit} bytes ({limit / 2**20:g} MiB) per value of "
        f'"{col.name}": it keeps each value in memory and in its write-ahead log until CDF '
        "has it.",
        hint="Upload larger files with the CDF files API directly (CDF takes up to 5 GiB "
        "through one upload URL)." if table.name == "files" else None)


def _check_column(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    """Length, range, choices and check-tag rules on converted values (None skipped)."""
    oid = col.type.oid
    has_null = None in out
    nn = [v for v in out if v is not None] if has_null else out
    if not nn:
        return
    if oid == _BYTEA:
        if col.max_length is not None and max(map(len, nn)) > col.max_length:
            for i, v in enumerate(out):
                if v is not None and len(v) > col.max_length:
                    raise ctx.fail(i, _too_large(col, table, len(v)), show_value=False)
        return
    if col.max_length is not None and oid in _TEXTS and max(map(len, nn)) > col.max_length:
        for i, v in enumerate(out):
            if v is not None and len(v) > col.max_length:
                raise ctx.fail(i, _too_long(col))
    if col.type.is_array:
        _check_arrays(col, out, ctx)
    elif oid in _JSONS and col.max_items is not None:
        for i, v in enumerate(out):
            if isinstance(v, list) and len(v) > col.max_items:
                raise ctx.fail(i, PgError(
                    INVALID_PARAMETER_VALUE,
                    f'too many elements in column "{col.name}": {len(v)}',
                    detail=f"CDF accepts at most {col.max_items}."), show_value=False)
    if col.choices:
        allowed = set(col.choices)
        for i, v in enumerate(out):
            if v is not None and v not in allowed:
                raise ctx.fail(i, PgError(
                    INVALID_TEXT_REPRESENTATION,
                    f'invalid input value for column "{col.name}": "{_short(v)}"',
                    detail="CDF accepts one of: " + ", ".join(col.choices) + "."))
    check = col.check
    if (col.min_value is not None or col.max_value is not None) and not col.type.is_array and (
            check != "datapoint_value"):
        _check_range(col, out, nn, ctx)
    if check is not None and check in _CHECKS:
        _CHECKS[check](col, table, out, ctx)


def _range_error(col: Column, v: Any) -> PgError:
    lo, hi = col.min_value, col.max_value
    if col.type.oid in _TIMES:
        def fmt(x: float | None) -> str:
            if x is None:
                return "any"
            return datetime.fromtimestamp(x / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] \
                + "Z"
        return PgError(DATETIME_FIELD_OVERFLOW,
                       f'timestamp out of range for column "{col.name}"',
                       detail=f"CDF accepts {fmt(lo)} to {fmt(hi)}.")
    bounds = f"{_num(lo)} to {_num(hi)}" if lo is not None and hi is not None else (
        f"at least {_num(lo)}" if lo is not None else f"at most {_num(hi)}")
    return PgError(NUMERIC_VALUE_OUT_OF_RANGE,
                   f'value {_short(v)} is out of range for column "{col.name}"',
                   detail=f"CDF accepts {bounds}.")


def _num(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e18 else repr(x)


def _check_range(col: Column, out: list[Any], nn: list[Any], ctx: _Ctx) -> None:
    lo, hi = col.min_value, col.max_value
    try:
        bad = (lo is not None and min(nn) < lo) or (hi is not None and max(nn) > hi)
    except TypeError:
        return
    if isinstance(nn[0], float) and not bad:
        bad = not math.isfinite(sum(nn))
    if not bad:
        return
    for i, v in enumerate(out):
        if v is None:
            continue
        if (lo is not None and not v >= lo) or (hi is not None and not v <= hi):
            raise ctx.fail(i, _range_error(col, v))


def _check_arrays(col: Column, out: list[Any], ctx: _Ctx) -> None:
    for i, arr in enumerate(out):
        if arr is None:
            continue
        flat = arr
        if any(isinstance(x, list) for x in arr):
            raise ctx.fail(i, PgError(INVALID_PARAMETER_VALUE,
                                      f'column "{col.name}" takes a one-dimensional array'))
        if col.max_items is not None and len(flat) > col.max_items:
            raise ctx.fail(i, PgError(
                INVALID_PARAMETER_VALUE,
                f'too many elements in column "{col.name}": {len(flat)}',
                detail=f"CDF accepts at most {col.max_items}."))
        if None in flat and (col.cdf or col.check or col.references or col.resolves):
            raise ctx.fail(i, PgError(NOT_NULL_VIOLATION,
                                      f'array in column "{col.name}" contains a NULL element'))
        if col.max_length is not None:
            for x in flat:
                if isinstance(x, str) and len(x) > col.max_length:
                    raise ctx.fail(i, _too_long(col))
        lo, hi = col.min_value, col.max_value
        if (lo is not None or hi is not None) and flat:
            for x in flat:
                if isinstance(x, int | float) and (
                        (lo is not None and x < lo) or (hi is not None and x > hi)):
                    raise ctx.fail(i, _range_error(col, x))


def _shape(col: Column, msg: str, detail: str | None = None) -> PgError:
    return PgError(INVALID_PARAMETER_VALUE, f'invalid value for column "{col.name}": {msg}',
                   detail=detail)


def _utf8len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8"))


def _check_metadata_obj(col: Column, m: Any, lim: L.MetadataLimits) -> None:
    if not isinstance(m, dict):
        raise _shape(col, "metadata must be a JSON object of string keys and string values")
    if len(m) > lim.max_pairs:
        raise _shape(col, f"metadata has {len(m)} keys", f"CDF accepts at most {lim.max_pairs}.")
    total = 0
    for k, v in m.items():
        if not isinstance(v, str):
            raise _shape(col, f'metadata value of key "{_short(k)}" is not a string',
                         'CDF metadata values are strings; quote the value, e.g. {"k": "1"}.')
        kl = _utf8len(k)
        if kl > lim.max_key_bytes:
            raise _shape(col, f'metadata key "{_short(k)}" is {kl} bytes long',
                         f"CDF accepts keys of at most {lim.max_key_bytes} bytes.")
        vl = _utf8len(v)
        if lim.max_value_bytes is not None and vl > lim.max_value_bytes:
            raise _shape(col, f'metadata value of key "{_short(k)}" is {vl} bytes long',
                         f"CDF accepts values of at most {lim.max_value_bytes} bytes.")
        total += kl + vl
    if total > lim.max_total_bytes:
        raise _shape(col, f"metadata is {total} bytes in total",
                     f"CDF accepts at most {lim.max_total_bytes} bytes of keys and values.")


def _metadata_limits(table: Table) -> L.MetadataLimits:
    return L.METADATA.get(table.name) or L.MetadataLimits()


def _each(fn: Callable[[Any], None], out: list[Any], ctx: _Ctx) -> None:
    for i, v in enumerate(out):
        if v is None:
            continue
        try:
            fn(v)
        except PgError as e:
            raise ctx.fail(i, e, show_value=False) from None


def _chk_metadata(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    lim = _metadata_limits(table)
    _each(lambda m: _check_metadata_obj(col, m, lim), out, ctx)


_GEO_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def _chk_geojson(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    def one(g: Any) -> None:
        if not isinstance(g, dict) or g.get("type") != "Feature":
            raise _shape(col, 'expected a GeoJSON Feature: {"type": "Feature", "geometry": {...}}')
        geom = g.get("geometry")
        if not isinstance(geom, dict) or geom.get("type") not in _GEO_TYPES:
            raise _shape(col, "GeoJSON geometry must be a Point, MultiPoint, LineString, "
                         "MultiLineString, Polygon or MultiPolygon")
        if not isinstance(geom.get("coordinates"), list):
            raise _shape(col, "GeoJSON geometry needs a coordinates array")
        props = g.get("properties")
        if props is not None and not isinstance(props, dict):
            raise _shape(col, "GeoJSON properties must be an object")
    _each(one, out, ctx)


def _chk_labels(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    def one(arr: Any) -> None:
        if not isinstance(arr, list):
            raise _shape(col, "labels must be an array of label external ids")
        seen: set[str] = set()
        for x in arr:
            if not isinstance(x, str) or not x:
                raise _shape(col, "labels must be non-empty strings")
            if x in seen:
                raise _shape(col, f'label "{_short(x)}" is given twice')
            seen.add(x)
    _each(one, out, ctx)


def _chk_sequence_columns(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    lim = L.SEQUENCE_COLUMNS

    def one(cols: Any) -> None:
        if not isinstance(cols, list) or not cols:
            raise _shape(col, "sequence columns must be a non-empty JSON array of objects")
        if len(cols) > lim.max_columns:
            raise _shape(col, f"{len(cols)} sequence columns",
                         f"CDF accepts at most {lim.max_columns}.")
        strings = 0
        seen: set[str] = set()
        for c in cols:
            if not isinstance(c, dict):
                raise _shape(col, "each sequence column must be a JSON object")
            xid = c.get("externalId")
            if not isinstance(xid, str) or not 1 <= len(xid) <= lim.max_external_id_chars:
                raise _shape(col, "each sequence column needs an externalId of 1–"
                             f"{lim.max_external_id_chars} characters")
            if xid in seen:
                raise _shape(col, f'sequence column "{_short(xid)}" is given twice')
            seen.add(xid)
            name = c.get("name")
            if name is not None and (not isinstance(name, str)
                                     or len(name) > lim.max_name_chars):
                raise _shape(col, f"sequence column name longer than {lim.max_name_chars}")
            desc = c.get("description")
            if desc is not None and (not isinstance(desc, str)
                                     or len(desc) > lim.max_description_chars):
                raise _shape(col, "sequence column description longer than "
                             f"{lim.max_description_chars}")
            vt = c.get("valueType", "DOUBLE")
            if not isinstance(vt, str) or vt.upper() not in lim.value_types:
                raise _shape(col, f'invalid valueType "{_short(vt)}"',
                             "CDF accepts " + ", ".join(lim.value_types) + ".")
            if vt.upper() == "STRING":
                strings += 1
            md = c.get("metadata")
            if md is not None:
                _check_metadata_obj(col, md, L.SEQUENCE_COLUMN_METADATA)
        if strings > lim.max_string_columns:
            raise _shape(col, f"{strings} STRING sequence columns",
                         f"CDF accepts at most {lim.max_string_columns}.")
    _each(one, out, ctx)


def _chk_sequence_row_values(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    lim = L.SEQUENCE_ROWS

    def one(v: Any) -> None:
        if not isinstance(v, dict):
            raise _shape(col, "sequence row values must be a JSON object: column external id "
                         "→ value")
        if len(v) > lim.max_columns_per_item:
            raise _shape(col, f"{len(v)} values in one row",
                         f"CDF accepts at most {lim.max_columns_per_item}.")
        for k, x in v.items():
            if x is None:
                continue
            if isinstance(x, bool) or not isinstance(x, int | float | str):
                raise _shape(col, f'value of "{_short(k)}" must be a number, a string or null')
            if isinstance(x, str) and len(x) > lim.max_string_chars:
                raise _shape(col, f'string value of "{_short(k)}" is longer than '
                             f"{lim.max_string_chars} characters")
            if isinstance(x, float) and not (math.isfinite(x) and abs(x) <= lim.max_abs_double):
                raise _shape(col, f'value of "{_short(k)}" is out of range',
                             f"CDF accepts numbers in [-{lim.max_abs_double:g}, "
                             f"{lim.max_abs_double:g}].")
    _each(one, out, ctx)


def _chk_raw_columns(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    lim = L.RAW

    def one(v: Any) -> None:
        if not isinstance(v, dict):
            raise _shape(col, "a RAW row must be a JSON object")
        size = len(_json_dumps(v).encode("utf-8"))
        if size > lim.max_row_bytes:
            raise _shape(col, f"RAW row is {size} bytes", f"CDF accepts at most "
                         f"{lim.max_row_bytes} bytes per row.")
    _each(one, out, ctx)


def _chk_raw_tables(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    def one(v: Any) -> None:
        if not isinstance(v, list) or not all(
                isinstance(x, dict) and isinstance(x.get("dbName"), str) and x["dbName"]
                and isinstance(x.get("tableName"), str) and x["tableName"] for x in v):
            raise _shape(col, 'expected a JSON array of {"dbName": ..., "tableName": ...}')
    _each(one, out, ctx)


def _chk_contacts(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    def one(v: Any) -> None:
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise _shape(col, "expected a JSON array of contact objects")
        for x in v:
            email = x.get("email")
            if email is not None and (not isinstance(email, str) or len(email) > 254):
                raise _shape(col, "contact email must be a string of at most 254 characters")
            sn = x.get("sendNotification")
            if sn is not None and not isinstance(sn, bool):
                raise _shape(col, "contact sendNotification must be true or false")
    _each(one, out, ctx)


_SCHEDULE = re.compile(L.EXTPIPE_SCHEDULE_PATTERN)


def _chk_schedule(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    def one(v: Any) -> None:
        if not _SCHEDULE.match(v):
            raise _shape(col, f'"{_short(v)}" is not a schedule',
                         "Use 'On trigger', 'Continuous' or a cron expression.")
    _each(one, out, ctx)


def _chk_notification(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    def one(v: Any) -> None:
        n = v.get("allowedNotSeenRangeInMinutes") if isinstance(v, dict) else None
        if not isinstance(v, dict) or (n is not None and (
                isinstance(n, bool) or not isinstance(n, int) or n < 0)):
            raise _shape(col, 'expected {"allowedNotSeenRangeInMinutes": <integer ≥ 0>}')
    _each(one, out, ctx)


def _chk_nothing(col: Column, table: Table, out: list[Any], ctx: _Ctx) -> None:
    return None


_CHECKS: dict[str, Callable[[Column, Table, list[Any], _Ctx], None]] = {
    "metadata": _chk_metadata,
    "geojson": _chk_geojson,
    "labels": _chk_labels,
    "sequence_columns": _chk_sequence_columns,
    "sequence_row_values": _chk_sequence_row_values,
    "raw_columns": _chk_raw_columns,
    "extpipe_raw_tables": _chk_raw_tables,
    "extpipe_contacts": _chk_contacts,
    "extpipe_schedule": _chk_schedule,
    "extpipe_notification_config": _chk_notification,
    # Checked across columns in _check_rows (need the status columns):
    "datapoint_value": _chk_nothing,
    "string_datapoint_value": _chk_nothing,
    "datapoint_status": _chk_nothing,
    # Range via min_value/max_value; the message is the generic timestamp one.
    "datapoint_timestamp": _chk_nothing,
    "json": _chk_nothing,
}


def _is_bad_status(code: Any, symbol: Any) -> bool:
    if isinstance(code, int) and (code >> 30) & 3 == 2:
        return True
    return isinstance(symbol, str) and symbol.lower().startswith("bad")


class _TableInfo:
    """Per-table lookups, computed once per Table object."""

    __slots__ = ("table", "columns", "rules", "dp_values", "has_rules")

    def __init__(self, table: Table) -> None:
        self.table = table
        self.columns = {c.name: c for c in table.columns}
        self.rules = L.row_rules(table.name)
        self.dp_values = tuple(c.name for c in table.columns
                               if c.check in ("datapoint_value", "string_datapoint_value"))
        r = self.rules
        self.has_rules = bool(r.one_of or r.at_most_one_of or r.ordered or self.dp_values)


_INFO: dict[int, _TableInfo] = {}


def _info(table: Table) -> _TableInfo:
    info = _INFO.get(id(table))
    if info is None or info.table is not table:
        info = _TableInfo(table)
        if len(_INFO) > 10_000:
            _INFO.clear()
        _INFO[id(table)] = info
    return info


def _check_datapoint_values(table: Table, out: dict[str, list[Any]], n: int,
                            ctxs: dict[str, _Ctx], partial: bool, info: _TableInfo) -> None:
    for name in info.dp_values:
        vals = out.get(name)
        col = table.column(name)
        if vals is None or col is None:
            continue
        codes = out.get("status_code")
        syms = out.get("status_symbol")
        numeric = col.check == "datapoint_value"
        limit = L.MAX_DATAPOINT_VALUE
        if numeric and None not in vals and vals:
            s = sum(vals)
            if math.isfinite(s) and max(vals) <= limit and min(vals) >= -limit:
                continue
        elif not numeric and None not in vals:
            continue
        for i, v in enumerate(vals):
            ok = v is not None and (not numeric or (math.isfinite(v) and -limit <= v <= limit))
            if ok:
                continue
            bad_status = _is_bad_status(codes[i] if codes else None, syms[i] if syms else None)
            if bad_status:
                continue
            if v is None:
                if partial:
                    continue
                raise ctxs[name].fail(i, PgError(
                    NOT_NULL_VIOLATION,
                    f'null value in column "{name}" of relation "{table.name}" violates '
                    "not-null constraint",
                    detail="CDF accepts a NULL datapoint value only with a bad status code."),
                    show_value=False)
            if not math.isfinite(v):
                raise ctxs[name].fail(i, PgError(
                    NUMERIC_VALUE_OUT_OF_RANGE,
                    f'value {_short(v)} is out of range for column "{name}"',
                    detail="CDF accepts NaN and infinite datapoint values only with a bad "
                    "status code."))
            raise ctxs[name].fail(i, PgError(
                NUMERIC_VALUE_OUT_OF_RANGE,
                f'value {_short(v)} is out of range for column "{name}"',
                detail="CDF accepts datapoint values with an absolute value below 1e100."))


def _check_rows(table: Table, out: dict[str, list[Any]], n: int, ctxs: dict[str, _Ctx],
                partial: bool, info: _TableInfo) -> None:
    if not info.has_rules:
        return
    rules = info.rules
    for group in rules.at_most_one_of:
        present = [c for c in group if c in out]
        if len(present) < 2:
            continue
        cols = [out[c] for c in present]
        if sum(1 for c in cols if c.count(None) != n) < 2:
            continue
        for i in range(n):
            if sum(1 for c in cols if c[i] is not None) > 1:
                raise ctxs[present[0]].fail(i, PgError(
                    CHECK_VIOLATION,
                    f'new row for relation "{table.name}" violates check constraint '
                    f'"{table.name}_{"_".join(group)}_check"',
                    detail="Set at most one of " + ", ".join(group) + "."), show_value=False)
    if not partial:
        for group in rules.one_of:
            present = [c for c in group if c in out]
            if not present:
                raise PgError(
                    CHECK_VIOLATION,
                    f'new row for relation "{table.name}" violates check constraint '
                    f'"{table.name}_{"_".join(group)}_check"',
                    detail="One of " + ", ".join(group) + " is required.", table=table.name)
            cols = [out[c] for c in present]
            if any(None not in c for c in cols):
                continue
            for i in range(n):
                if all(c[i] is None for c in cols):
                    raise ctxs[present[0]].fail(i, PgError(
                        CHECK_VIOLATION,
                        f'new row for relation "{table.name}" violates check constraint '
                        f'"{table.name}_{"_".join(group)}_check"',
                        detail="One of " + ", ".join(group) + " is required."), show_value=False)
    for early, late, strict in rules.ordered:
        if early not in out or late not in out:
            continue
        a, b = out[early], out[late]
        for i in range(n):
            x, y = a[i], b[i]
            if x is not None and y is not None and (y < x or (strict and y == x)):
                raise ctxs[late].fail(i, PgError(
                    CHECK_VIOLATION,
                    f'new row for relation "{table.name}" violates check constraint '
                    f'"{table.name}_{early}_{late}_check"',
                    detail=f"{late} must be {'after' if strict else 'at or after'} {early}."),
                    show_value=False)
    _check_datapoint_values(table, out, n, ctxs, partial, info)


# --------------------------------------------------------------------------- entry points


def coerce_columns(
    table: Table,
    columns: Sequence[str],
    values: Sequence[list[Any]],
    *,
    source: str | Sequence[str],
    timezone: str = "UTC",
    first_row: int = 1,
    where: Callable[[int, str], str] | None = None,
    oids: Sequence[int] | None = None,
    partial: bool = False,
) -> tuple[dict[str, list[Any]], list[str]]:
    """Convert and validate column-wise values; return CDF-ready columns and notices.

    ``values[j]`` holds every row's value of ``columns[j]`` (``None`` = NULL).
    ``source`` says what the values are — one for all columns or one per column:
    ``"text"`` (``str`` in PostgreSQL text input syntax: COPY text/CSV fields,
    text-format Bind parameters), ``"binary"`` (``bytes`` in PostgreSQL binary
    format; ``oids[j]`` is the sender's type, 0 = the column's own type), or
    ``"python"`` (literals from the statement parser / decoded values; ``str``
    values are read with the column's text input syntax).  ``timezone`` is the
    session ``TimeZone`` for zone-less timestamptz input.  ``where(row, column)``
    builds the error context (row numbers start at ``first_row``), e.g.
    ``lambda r, c: f"COPY t, line {r}, column {c}"``; the offending value is
    appended.  ``partial`` is for UPDATE's SET columns: cross-row "one of"
    rules and NULL datapoint values are not enforced.

    Read-only columns must be NULL/DEFAULT and are left out of the result.
    Raises :class:`PgError` for the first bad value, naming table, column,
    row and value.
    """
    if len(columns) != len(values):
        raise ValueError("columns and values differ in length")
    tz = _zone(timezone)
    notes: set[str] = set()
    out: dict[str, list[Any]] = {}
    ctxs: dict[str, _Ctx] = {}
    n = len(values[0]) if values else 0
    info = _info(table)
    colmap = info.columns
    for j, name in enumerate(columns):
        col = colmap.get(name)
        if col is None:
            raise PgError(UNDEFINED_COLUMN,
                          f'column "{name}" of relation "{table.name}" does not exist')
        vals = values[j]
        if len(vals) != n:
            raise ValueError(f"column {name} has {len(vals)} values, expected {n}")
        src = source if isinstance(source, str) else source[j]
        ctx = _Ctx(table, name, first_row, where, vals)
        if col.read_only:
            for i, v in enumerate(vals):
                if v is not None:
                    raise ctx.fail(i, PgError(
                        GENERATED_ALWAYS,
                        f'cannot insert a non-DEFAULT value into column "{name}"',
                        detail=f'Column "{name}" of relation "{table.name}" is assigned by '
                        "CDF (read-only).",
                        hint="Leave it out, or write NULL or DEFAULT."))
            continue
        # NULLs: convert the non-NULL values in one bulk pass, then put them back.
        present: list[int] | None = None
        todo = vals
        if None in vals and col.type.oid not in _TEXTS:
            present = [i for i, v in enumerate(vals) if v is not None]
            todo = [vals[i] for i in present]
        try:
            if not todo:
                conv = list(todo)
            elif src == "text":
                if type(todo[0]) is not str or type(todo[-1]) is not str:
                    todo = _per_value(todo, _decode_utf8)  # text-format Bind params as bytes
                conv = _convert_text(col, todo, tz, notes)
            elif src == "binary":
                sender = oids[j] if oids is not None and j < len(oids) else 0
                conv = _convert_binary(col, todo, sender, tz, notes)
            elif src == "python" or src == "mixed":
                conv = _python(col, todo, tz, notes)
            else:
                raise ValueError(f"unknown source {src!r}")
        except _Bad as b:
            raise ctx.fail(b.index if present is None else present[b.index], b.error) from None
        if present is not None:
            full: list[Any] = [None] * n
            for i, v in zip(present, conv, strict=True):
                full[i] = v
            conv = full
        if col.required and None in conv:
            i = conv.index(None)
            err = _not_null_error(table, name, [values[k][i] for k in range(len(columns))])
            raise ctx.fail(i, err, show_value=False)
        _check_column(col, table, conv, ctx)
        out[name] = conv
        ctxs[name] = ctx
    if table.kind != "temp":
        _check_rows(table, out, n, ctxs, partial, info)
    return out, sorted(notes)


def check_required(table: Table, columns: Sequence[str]) -> None:
    """23502 when an INSERT/COPY leaves out a column CDF requires (or a whole "one of" group)."""
    given = set(columns)
    for c in table.columns:
        if c.required and not c.read_only and c.name not in given:
            raise PgError(
                NOT_NULL_VIOLATION,
                f'null value in column "{c.name}" of relation "{table.name}" violates '
                "not-null constraint",
                detail=f'Column "{c.name}" is required by CDF and was not given.',
                table=table.name, column=c.name)
    for group in L.row_rules(table.name).one_of:
        if not any(g in given for g in group):
            raise PgError(
                CHECK_VIOLATION,
                f'new row for relation "{table.name}" violates check constraint '
                f'"{table.name}_{"_".join(group)}_check"',
                detail="One of " + ", ".join(group) + " is required.", table=table.name)


def check_duplicate_keys(
    table: Table,
    columns: dict[str, list[Any]],
    op: Op,
    *,
    first_row: int = 1,
    where: Callable[[int, str], str] | None = None,
) -> list[int]:
    """Duplicate keys inside one statement, where CDF would refuse them.

    Only resources whose create request refuses duplicates are checked (those
    with an update endpoint or a "do nothing" mode; not datapoints, sequence
    rows or RAW rows, which overwrite by key).  Rows whose key is NULL are
    never duplicates.  INSERT → 23505, ON CONFLICT DO UPDATE → 21000; for ON
    CONFLICT DO NOTHING the later duplicates are skipped, as PostgreSQL does:
    their indexes are returned so the caller drops them.
    """
    if table.kind == "temp" or not table.key or not (
            Op.UPDATE in table.ops or Op.INSERT_IGNORE in table.ops):
        return []
    if op not in (Op.INSERT, Op.UPSERT, Op.INSERT_IGNORE):
        return []
    keycols = [columns[k] for k in table.key if k in columns]
    if len(keycols) != len(table.key) or not keycols:
        return []
    n = len(keycols[0])
    keys: list[Any] = keycols[0] if len(keycols) == 1 else list(zip(*keycols, strict=True))
    nn = [k for k in keys if k is not None]
    try:
        if len(set(nn)) == len(nn):
            return []
    except TypeError:
        return []
    seen: dict[Any, int] = {}
    drop: list[int] = []
    for i in range(n):
        k = keys[i]
        if k is None or (isinstance(k, tuple) and None in k):
            continue
        if k in seen:
            if op is Op.INSERT_IGNORE:
                drop.append(i)
                continue
            ctx = _Ctx(table, table.key[0], first_row, where, keycols[0])
            kv = k if isinstance(k, tuple) else (k,)
            if op is Op.UPSERT:
                err = PgError(
                    CARDINALITY_VIOLATION,
                    "ON CONFLICT DO UPDATE command cannot affect row a second time",
                    hint="Ensure that no rows proposed for insertion within the same command "
                    "have duplicate constrained values.",
                    detail=f"Key ({', '.join(table.key)})=({', '.join(map(str, kv))}) is "
                    f"given in rows {first_row + seen[k]} and {first_row + i}.")
            else:
                err = PgError(
                    UNIQUE_VIOLATION,
                    f'duplicate key value violates unique constraint "{table.name}_pkey"',
                    detail=f"Key ({', '.join(table.key)})=({', '.join(map(str, kv))}) "
                    f"already exists (rows {first_row + seen[k]} and {first_row + i} of this "
                    "statement).")
            raise ctx.fail(i, err, show_value=False)
        seen[k] = i
    return drop
