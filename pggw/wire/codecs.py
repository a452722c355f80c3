"""PostgreSQL value representations (text and binary) ↔ Python values.

Python types produced by the decoders:

=====================  ===========================================================
PostgreSQL type         Python value
=====================  ===========================================================
bool                    ``bool``
int2 / int4 / int8      ``int`` (binary: accepted by *length*, 2/4/8 bytes, for any
                        of the three OIDs, since clients send the smallest width)
oid / regclass / …      ``int`` (unsigned 32-bit)
float4 / float8         ``float`` (incl. nan / ±inf)
numeric                 ``decimal.Decimal`` (incl. NaN, ±Infinity)
text, varchar, bpchar,  ``str``
name, unknown, "char"
bytea                   ``bytes``
json / jsonb            ``str`` (the JSON text; jsonb's binary version byte is checked;
                        text input is validated with ``json.loads``)
uuid                    ``str`` (canonical lower-case form)
date                    ``datetime.date``
time                    ``datetime.time``
timestamp               naive ``datetime.datetime``
timestamptz             aware ``datetime.datetime`` in UTC
interval                ``datetime.timedelta``; months are folded in as 30 days each
arrays                  ``list`` (nested for multi-dimensional arrays), elements as above
=====================  ===========================================================

Infinite dates and timestamps (``infinity`` / ``-infinity``, and the binary
INT32/INT64 min/max sentinels) raise ``PgError`` 22008: CDF cannot store them.
Years outside Python's 1..9999 (BC dates, far future) raise 22008 too.

For column-wise conversion of many values, fetch the function once with
:func:`text_decoder` / :func:`binary_decoder` instead of calling
:func:`decode_text` / :func:`decode_binary` per value.
"""

from __future__ import annotations

import json
import math
import re
import struct
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pggw.wire.errors import (
    CHARACTER_NOT_IN_REPERTOIRE,
    DATETIME_FIELD_OVERFLOW,
    INVALID_DATETIME_FORMAT,
    INVALID_PARAMETER_VALUE,
    INVALID_TEXT_REPRESENTATION,
    NUMERIC_VALUE_OUT_OF_RANGE,
    PROGRAM_LIMIT_EXCEEDED,
    STATEMENT_TOO_COMPLEX,
    PgError,
)
from pggw.wire.types import TYPES_BY_OID

__all__ = [
    "INVALID_BINARY_REPRESENTATION", "binary_decoder", "binary_encoder", "decode_binary",
    "decode_int", "decode_text", "encode_binary", "encode_text", "parse_array_text",
    "text_decoder", "text_encoder", "type_display_name",
]

INVALID_BINARY_REPRESENTATION = "22P03"

# OIDs (see types.py)
BOOL, BYTEA, CHAR, NAME, INT8, INT2, INT4 = 16, 17, 18, 19, 20, 21, 23
REGPROC, TEXT, OID = 24, 25, 26
JSON, FLOAT4, FLOAT8, UNKNOWN, BPCHAR, VARCHAR = 114, 700, 701, 705, 1042, 1043
DATE, TIME, TIMESTAMP, TIMESTAMPTZ, INTERVAL, NUMERIC = 1082, 1083, 1114, 1184, 1186, 1700
REGCLASS, REGTYPE, UUID, JSONB, VOID = 2205, 2206, 2950, 3802, 2278

_h = struct.Struct("!h")
_i = struct.Struct("!i")
_I = struct.Struct("!I")
_q = struct.Struct("!q")
_f = struct.Struct("!f")
_d = struct.Struct("!d")
_hhhh = struct.Struct("!hhhh")
_qii = struct.Struct("!qii")
_iiI = struct.Struct("!iiI")
_ii = struct.Struct("!ii")

_PG_EPOCH_DATE = date(2000, 1, 1)
_PG_EPOCH_ORDINAL = _PG_EPOCH_DATE.toordinal()
_PG_EPOCH = datetime(2000, 1, 1)
_PG_EPOCH_TZ = datetime(2000, 1, 1, tzinfo=UTC)
_INT32_MAX, _INT32_MIN = 2**31 - 1, -(2**31)
_INT64_MAX, _INT64_MIN = 2**63 - 1, -(2**63)
_FLOAT4_MAX = 3.4028234663852886e38


def type_display_name(oid: int) -> str:
    """The name PostgreSQL uses in error messages (``integer``, ``double precision`` …)."""
    t = TYPES_BY_OID.get(oid)
    return t.sql_name if t is not None else str(oid)


def _bad_binary(oid: int, what: str = "") -> PgError:
    msg = what or f"incorrect binary data format for type {type_display_name(oid)}"
    return PgError(INVALID_BINARY_REPRESENTATION, msg)


def _infinite(kind: str, neg: bool) -> PgError:
    word = "-infinity" if neg else "infinity"
    return PgError(
        DATETIME_FIELD_OVERFLOW,
        f'{kind} value "{word}" is not supported: CDF cannot store infinite {kind}s',
    )


# --------------------------------------------------------------------------- binary decode

def decode_int(data: bytes | memoryview) -> int:
    """A binary int2/int4/int8 of any of the three widths (decided by length)."""
    n = len(data)
    if n == 8:
        return int(_q.unpack(data)[0])
    if n == 4:
        return int(_i.unpack(data)[0])
    if n == 2:
        return int(_h.unpack(data)[0])
    raise PgError(INVALID_BINARY_REPRESENTATION,
                  f"incorrect binary data format for an integer ({n} bytes)")


def _b_int2(data: bytes | memoryview) -> int:
    v = decode_int(data)
    if not -32768 <= v <= 32767:
        raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, "smallint out of range")
    return v


def _b_int4(data: bytes | memoryview) -> int:
    v = decode_int(data)
    if not _INT32_MIN <= v <= _INT32_MAX:
        raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, "integer out of range")
    return v


def _b_oid(data: bytes | memoryview) -> int:
    if len(data) != 4:
        raise _bad_binary(OID)
    return int(_I.unpack(data)[0])


def _b_float(data: bytes | memoryview) -> float:
    n = len(data)
    if n == 8:
        return float(_d.unpack(data)[0])
    if n == 4:
        return float(_f.unpack(data)[0])
    raise _bad_binary(FLOAT8)


def _b_bool(data: bytes | memoryview) -> bool:
    if len(data) != 1:
        raise _bad_binary(BOOL)
    return data[0] != 0


def _utf8(data: bytes | memoryview) -> str:
    try:
        return str(data, "utf-8")
    except UnicodeDecodeError as e:
        raw = bytes(data)[e.start:e.start + 2]
        raise PgError(
            CHARACTER_NOT_IN_REPERTOIRE,
            'invalid byte sequence for encoding "UTF8": ' + " ".join(f"0x{b:02x}" for b in raw),
        ) from None


def _b_bytea(data: bytes | memoryview) -> bytes:
    return bytes(data)


def _b_jsonb(data: bytes | memoryview) -> str:
    if len(data) < 1 or data[0] != 1:
        v = data[0] if len(data) else 0
        raise PgError(INVALID_BINARY_REPRESENTATION, f"unsupported jsonb version number {v}")
    return _utf8(data[1:])


def _b_uuid(data: bytes | memoryview) -> str:
    if len(data) != 16:
        raise _bad_binary(UUID)
    return str(uuid.UUID(bytes=bytes(data)))


def _b_date(data: bytes | memoryview) -> date:
    if len(data) != 4:
        raise _bad_binary(DATE)
    (days,) = _i.unpack(data)
    if days in (_INT32_MAX, _INT32_MIN):
        raise _infinite("date", days < 0)
    try:
        return date.fromordinal(_PG_EPOCH_ORDINAL + days)
    except (ValueError, OverflowError):
        raise PgError(DATETIME_FIELD_OVERFLOW, "date out of range") from None


def _b_time(data: bytes | memoryview) -> time:
    if len(data) != 8:
        raise _bad_binary(TIME)
    (us,) = _q.unpack(data)
    if not 0 <= us <= 86_400_000_000:
        raise PgError(DATETIME_FIELD_OVERFLOW, "time out of range")
    if us == 86_400_000_000:
        us -= 1
    s, us = divmod(us, 1_000_000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return time(h, m, s, us)


def _b_timestamp(data: bytes | memoryview) -> datetime:
    if len(data) != 8:
        raise _bad_binary(TIMESTAMP)
    (us,) = _q.unpack(data)
    if us in (_INT64_MAX, _INT64_MIN):
        raise _infinite("timestamp", us < 0)
    try:
        return _PG_EPOCH + timedelta(microseconds=us)
    except OverflowError:
        raise PgError(DATETIME_FIELD_OVERFLOW, "timestamp out of range") from None


def _b_timestamptz(data: bytes | memoryview) -> datetime:
    if len(data) != 8:
        raise _bad_binary(TIMESTAMPTZ)
    (us,) = _q.unpack(data)
    if us in (_INT64_MAX, _INT64_MIN):
        raise _infinite("timestamp", us < 0)
    try:
        return _PG_EPOCH_TZ + timedelta(microseconds=us)
    except OverflowError:
        raise PgError(DATETIME_FIELD_OVERFLOW, "timestamp out of range") from None


def _b_interval(data: bytes | memoryview) -> timedelta:
    if len(data) != 16:
        raise _bad_binary(INTERVAL)
    us, days, months = _qii.unpack(data)
    try:
        return timedelta(days=days + 30 * months, microseconds=us)
    except OverflowError:
        raise PgError(DATETIME_FIELD_OVERFLOW, "interval out of range") from None


_NUMERIC_NAN, _NUMERIC_PINF, _NUMERIC_NINF, _NUMERIC_NEG = 0xC000, 0xD000, 0xF000, 0x4000


def _b_numeric(data: bytes | memoryview) -> Decimal:
    if len(data) < 8:
        raise _bad_binary(NUMERIC)
    ndigits, weight, sign, dscale = _hhhh.unpack_from(data, 0)
    sign &= 0xFFFF
    if sign == _NUMERIC_NAN:
        return Decimal("NaN")
    if sign == _NUMERIC_PINF:
        return Decimal("Infinity")
    if sign == _NUMERIC_NINF:
        return Decimal("-Infinity")
    if sign not in (0, _NUMERIC_NEG) or ndigits < 0 or dscale < 0 or len(data) != 8 + 2 * ndigits:
        raise PgError(INVALID_BINARY_REPRESENTATION, "invalid sign in external \"numeric\" value"
                      if sign not in (0, _NUMERIC_NEG) else "invalid external \"numeric\" value")
    if ndigits == 0:
        return Decimal(f"{'-' if sign else ''}0E-{dscale}") if dscale else Decimal(0)
    digits = struct.unpack_from(f"!{ndigits}h", data, 8)
    for d in digits:
        if not 0 <= d < 10000:
            raise PgError(INVALID_BINARY_REPRESENTATION,
                          'invalid digit in external "numeric" value')
    s = "".join([f"{d:04d}" for d in digits])
    exp = (weight + 1 - ndigits) * 4
    if exp < -dscale:
        cut = -dscale - exp
        s = s[:-cut] or "0"
        exp = -dscale
    elif exp > -dscale:
        s += "0" * (exp + dscale)
        exp = -dscale
    return Decimal(f"{'-' if sign else ''}{s}E{exp}")


def _b_array(data: bytes | memoryview) -> list[Any]:
    if len(data) < 12:
        raise _bad_binary(0, "invalid array binary representation")
    ndim, _flags, elem = _iiI.unpack_from(data, 0)
    if ndim == 0:
        return []
    if ndim < 0 or ndim > 6 or len(data) < 12 + 8 * ndim:
        raise PgError(INVALID_BINARY_REPRESENTATION, f"invalid number of dimensions: {ndim}")
    dims = [_ii.unpack_from(data, 12 + 8 * k)[0] for k in range(ndim)]
    dec = _BINARY.get(elem, _b_text)
    pos = 12 + 8 * ndim
    mv = memoryview(data)
    total = len(mv)
    count = 1
    for d in dims:
        if d < 0:
            raise PgError(INVALID_BINARY_REPRESENTATION, "invalid array dimensions")
        count *= d
    flat: list[Any] = []
    for _ in range(count):
        if pos + 4 > total:
            raise PgError(INVALID_BINARY_REPRESENTATION, "insufficient data left in message")
        (ln,) = _i.unpack_from(mv, pos)
        pos += 4
        if ln < 0:
            flat.append(None)
        else:
            if pos + ln > total:
                raise PgError(INVALID_BINARY_REPRESENTATION, "insufficient data left in message")
            flat.append(dec(mv[pos:pos + ln]))
            pos += ln
    if pos != total:
        raise PgError(INVALID_BINARY_REPRESENTATION, "incorrect binary data format in array")
    if not count:  # a zero dimension: an empty array, as in PostgreSQL (not dims[0] empty lists)
        return []
    return _nest(flat, dims)


def _nest(flat: list[Any], dims: list[int]) -> list[Any]:
    if len(dims) == 1:
        return flat
    step = len(flat) // dims[0] if dims[0] else 0
    return [_nest(flat[k * step:(k + 1) * step], dims[1:]) for k in range(dims[0])]


def _b_text(data: bytes | memoryview) -> str:
    return _utf8(data)


_BINARY: dict[int, Callable[[bytes | memoryview], Any]] = {
    BOOL: _b_bool, BYTEA: _b_bytea, CHAR: _b_text, NAME: _b_text,
    INT8: decode_int, INT2: _b_int2, INT4: _b_int4, REGPROC: _b_oid, TEXT: _b_text, OID: _b_oid,
    JSON: _b_text, FLOAT4: _b_float, FLOAT8: _b_float, UNKNOWN: _b_text, BPCHAR: _b_text,
    VARCHAR: _b_text, DATE: _b_date, TIME: _b_time, TIMESTAMP: _b_timestamp,
    TIMESTAMPTZ: _b_timestamptz, INTERVAL: _b_interval, NUMERIC: _b_numeric,
    REGCLASS: _b_oid, REGTYPE: _b_oid, UUID: _b_uuid, JSONB: _b_jsonb,
}
for _t in list(TYPES_BY_OID.values()):
    if _t.is_array:
        _BINARY[_t.oid] = _b_array


def binary_decoder(oid: int) -> Callable[[bytes | memoryview], Any]:
    """The binary decoder for ``oid`` (unknown OIDs decode as text)."""
    return _BINARY.get(oid, _b_text)


def decode_binary(oid: int, data: bytes | memoryview) -> Any:
    """Decode one non-NULL value sent in binary format."""
    return _BINARY.get(oid, _b_text)(data)


# --------------------------------------------------------------------------- text decode

def _invalid(oid: int, text: str) -> PgError:
    return PgError(INVALID_TEXT_REPRESENTATION,
                   f'invalid input syntax for type {type_display_name(oid)}: "{text}"')


def _out_of_range(oid: int, text: str) -> PgError:
    return PgError(NUMERIC_VALUE_OUT_OF_RANGE,
                   f'value "{text}" is out of range for type {type_display_name(oid)}')


def _int_parser(oid: int, lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise _invalid(oid, text) from None
        if not lo <= v <= hi:
            raise _out_of_range(oid, text)
        if not text.isascii():
            raise _invalid(oid, text)
        return v
    return parse


_t_int2 = _int_parser(INT2, -32768, 32767)
_t_int4 = _int_parser(INT4, _INT32_MIN, _INT32_MAX)
_t_int8 = _int_parser(INT8, _INT64_MIN, _INT64_MAX)
_t_oid = _int_parser(OID, _INT32_MIN, 2**32 - 1)  # PG accepts negative oids (wraps)


def _float_parser(oid: int, maxval: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise _invalid(oid, text) from None
        if math.isinf(v):
            if "inf" not in text.lower():
                raise PgError(NUMERIC_VALUE_OUT_OF_RANGE,
                              f'"{text}" is out of range for type {type_display_name(oid)}')
        elif abs(v) > maxval:
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE,
                          f'"{text}" is out of range for type {type_display_name(oid)}')
        if "_" in text or not text.isascii():
            raise _invalid(oid, text)
        return v
    return parse


_t_float8 = _float_parser(FLOAT8, math.inf)
_t_float4 = _float_parser(FLOAT4, _FLOAT4_MAX)


def _bool_words() -> dict[str, bool]:
    out: dict[str, bool] = {}
    for word, val in (("true", True), ("yes", True), ("false", False), ("no", False)):
        for k in range(1, len(word) + 1):
            out[word[:k]] = val
    out.update({"on": True, "off": False, "of": False, "1": True, "0": False})
    return out


_BOOL_WORDS = _bool_words()
_BOOL_FAST = {"t": True, "f": False, "true": True, "false": False, "TRUE": True, "FALSE": False}


def _t_bool(text: str) -> bool:
    v = _BOOL_FAST.get(text)
    if v is not None:
        return v
    v = _BOOL_WORDS.get(text.strip().lower())
    if v is None:
        raise _invalid(BOOL, text)
    return v


def _t_numeric(text: str) -> Decimal:
    try:
        v = Decimal(text)
    except InvalidOperation:
        raise _invalid(NUMERIC, text) from None
    if v.is_snan() or "_" in text or not text.isascii():
        raise _invalid(NUMERIC, text)
    if v.is_finite() and v and (v.adjusted() >= _NUMERIC_MAX_WEIGHT_DIGITS
                                or int(v.as_tuple().exponent) < -_NUMERIC_MAX_SCALE):
        # PostgreSQL's limits; "1e999999999" would otherwise print as a 1 GB string.
        raise PgError(NUMERIC_VALUE_OUT_OF_RANGE, "value overflows numeric format")
    return v


_NUMERIC_MAX_WEIGHT_DIGITS = 131072  # digits before the decimal point
_NUMERIC_MAX_SCALE = 16383  # digits after it


def _t_text(text: str) -> str:
    return text


def _t_json(text: str) -> str:
    try:
        json.loads(text)
    except ValueError:
        raise PgError(INVALID_TEXT_REPRESENTATION, "invalid input syntax for type json",
                      detail=f'Token "{text[:40]}" is invalid.') from None
    except RecursionError:
        raise PgError(STATEMENT_TOO_COMPLEX, "stack depth limit exceeded") from None
    return text


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_BYTEA_ESCAPE = re.compile(r"\\(\\|[0-3][0-7][0-7])?")


def _bad_hex(body: str) -> PgError:
    """PostgreSQL's error for hex-format bytea input that ``bytes.fromhex`` refused."""
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c in " \t\n\r":
            i += 1
            continue
        for d in (c, body[i + 1] if i + 1 < n else None):
            if d is None:
                break
            if d not in _HEX_DIGITS:
                return PgError(INVALID_PARAMETER_VALUE, f'invalid hexadecimal digit: "{d}"')
        if i + 1 >= n:
            break
        i += 2
    return PgError(INVALID_PARAMETER_VALUE, "invalid hexadecimal data: odd number of digits")


def _t_bytea(text: str) -> bytes:
    """bytea text input: the hex format (``\\x`` then pairs of hex digits, whitespace
    between pairs) or the escape format (``\\\\`` and ``\\ooo`` octal escapes, other
    characters as their UTF-8 bytes), with PostgreSQL's errors."""
    if text.startswith("\\x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            raise _bad_hex(text[2:]) from None
    if "\\" not in text:
        return text.encode("utf-8")
    out = bytearray()
    pos = 0
    for m in _BYTEA_ESCAPE.finditer(text):
        out += text[pos:m.start()].encode("utf-8")
        esc = m.group(1)
        if esc is None:
            raise PgError(INVALID_TEXT_REPRESENTATION, "invalid input syntax for type bytea")
        out.append(92 if esc == "\\" else int(esc, 8))
        pos = m.end()
    out += text[pos:].encode("utf-8")
    return bytes(out)


_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _t_uuid(text: str) -> str:
    if len(text) == 36 and _UUID_RE.fullmatch(text):
        return text.lower()
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        raise _invalid(UUID, text) from None


_SPECIAL_TS = {"infinity", "+infinity", "-infinity"}


def _check_special(kind: str, text: str) -> None:
    low = text.strip().lower()
    if low in _SPECIAL_TS:
        raise _infinite(kind, low.startswith("-"))


def _t_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    _check_special("date", text)
    s = text.strip()
    if s.upper().endswith(" BC"):
        raise PgError(DATETIME_FIELD_OVERFLOW, f'date out of range: "{text}"')
    return _parse_ts(s, DATE, text).date()


def _t_time(text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        if _TIME_RE.match(text):  # well-formed, a field out of range ("25:00")
            raise PgError(DATETIME_FIELD_OVERFLOW,
                          f'date/time field value out of range: "{text}"') from None
        # PostgreSQL's time_in names the type "time", not "time without time zone".
        raise PgError(INVALID_DATETIME_FORMAT,
                      f'invalid input syntax for type time: "{text}"') from None


_TIME_RE = re.compile(r"\s*\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d*)?)?\s*$")


# "2024-01-01 12:00:00.123456789 +05:30", also "2024-1-1 1:2:3", zone names, "Z", " UTC".
_TS_RE = re.compile(
    r"\s*(\d{4,})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ]\s*(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d*))?)?)?"
    r"\s*(Z|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?|[A-Za-z][A-Za-z0-9_/+-]*)?\s*$"
)


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    up = name.upper()
    if up in ("UTC", "Z", "GMT", "ETC/UTC", "UCT", "ZULU"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PgError(INVALID_PARAMETER_VALUE,
                      f'time zone "{name}" not recognized') from None



def _parse_offset(z: str) -> tzinfo:
    sign = -1 if z[0] == "-" else 1
    digits = z[1:].replace(":", "")
    if len(digits) <= 2:
        h, m, s = int(digits), 0, 0
    elif len(digits) == 4:
        h, m, s = int(digits[:2]), int(digits[2:]), 0
    elif len(digits) == 3:
        h, m, s = int(digits[:1]), int(digits[1:]), 0
    else:
        h, m, s = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    if h > 15 or m > 59 or s > 59:
        raise PgError(INVALID_DATETIME_FORMAT, f"time zone displacement out of range: \"{z}\"")
    if h == m == s == 0:
        return UTC
    return timezone(sign * timedelta(hours=h, minutes=m, seconds=s))


def _parse_ts(s: str, oid: int, orig: str) -> datetime:
    """Slow path for timestamps ``datetime.fromisoformat`` does not accept."""
    low = s.strip().lower()
    if low in _SPECIAL_TS:
        raise _infinite("timestamp", low.startswith("-"))
    if low.endswith(" bc"):
        raise PgError(DATETIME_FIELD_OVERFLOW, f'timestamp out of range: "{orig}"')
    if low == "epoch":
        return datetime(1970, 1, 1, tzinfo=UTC) if oid == TIMESTAMPTZ else datetime(1970, 1, 1)
    m = _TS_RE.match(s)
    if m is None:
        raise _invalid_datetime(oid, orig)
    y, mo, d, hh, mi, ss, frac, zone = m.groups()
    us = 0
    if frac:
        # Round to microseconds like PostgreSQL. Digits past the 30th cannot matter (and
        # int() refuses more than 4300).
        frac = frac[:30]
        us = round(int(frac) / 10 ** (len(frac) - 6)) if len(frac) > 6 else int(frac.ljust(6, "0"))
    try:
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
    except (ValueError, OverflowError):  # OverflowError: a year beyond a C long
        raise PgError(DATETIME_FIELD_OVERFLOW,
                      f'date/time field value out of range: "{orig}"') from None
    if us:
        try:
            dt += timedelta(microseconds=us)
        except OverflowError:
            raise PgError(DATETIME_FIELD_OVERFLOW, f'timestamp out of range: "{orig}"') from None
    if zone:
        tz = _parse_offset(zone) if zone[0] in "+-" else _zone(zone)
        dt = dt.replace(tzinfo=tz)
    return dt


def _invalid_datetime(oid: int, text: str) -> PgError:
    """PostgreSQL's date/time input errors are 22007, not 22P02."""
    e = _invalid(oid, text)
    return PgError(INVALID_DATETIME_FORMAT, e.message)


def _ts_from_text(text: str, oid: int) -> datetime:
    dot = text.find(".")
    if dot < 0 or len(text) - dot <= 7 or not text[dot + 1:dot + 8].isdigit():
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    # more than 6 fractional digits (PostgreSQL rounds), or not ISO 8601
    return _parse_ts(text, oid, text)


def _t_timestamp(text: str) -> datetime:
    dt = _ts_from_text(text, TIMESTAMP)
    if dt.tzinfo is not None:
        # PostgreSQL silently ignores a zone in a timestamp-without-time-zone literal.
        dt = dt.replace(tzinfo=None)
    return dt


def _t_timestamptz(text: str, timezone: str = "UTC") -> datetime:
    dt = _ts_from_text(text, TIMESTAMPTZ)
    if dt.tzinfo is None:
        tz = _zone(timezone)
        if tz is UTC:
            return dt.replace(tzinfo=UTC)
        dt = dt.replace(tzinfo=tz)
    elif dt.tzinfo is UTC:
        return dt
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise PgError(DATETIME_FIELD_OVERFLOW, f'timestamp out of range: "{text}"') from None


_INTERVAL_UNITS = {
    "microsecond": 1e-6, "microseconds": 1e-6, "us": 1e-6, "usec": 1e-6, "usecs": 1e-6,
    "millisecond": 1e-3, "milliseconds": 1e-3, "ms": 1e-3, "msec": 1e-3, "msecs": 1e-3,
    "second": 1, "seconds": 1, "sec": 1, "secs": 1, "s": 1,
    "minute": 60, "minutes": 60, "min": 60, "mins": 60, "m": 60,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600, "h": 3600,
    "day": 86400, "days": 86400, "d": 86400,
    "week": 604800, "weeks": 604800, "w": 604800,
    "month": 2592000, "months": 2592000, "mon": 2592000, "mons": 2592000,
    "year": 31104000, "years": 31104000, "y": 31104000, "yr": 31104000, "yrs": 31104000,
}
_INTERVAL_TOKEN = re.compile(
    r"([+-]?\d+(?:\.\d*)?)\s*([A-Za-z]+)|([+-]?\d+:\d+(?::\d+(?:\.\d*)?)?)")
_ISO_DURATION = re.compile(
    r"P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def _t_interval(text: str) -> timedelta:
    """PostgreSQL ('1 day 02:00:00', '3 hours', '-1 mons') and ISO 8601 ('P1DT2H') forms.

    Months are 30 days and years 360 days, as PostgreSQL's own interval arithmetic does.
    """
    s = text.strip()
    m = _ISO_DURATION.match(s)
    if m and s != "P":
        f = [float(g) if g else 0.0 for g in m.groups()]
        secs = (f[0] * 31104000 + f[1] * 2592000 + f[2] * 604800 + f[3] * 86400
                + f[4] * 3600 + f[5] * 60 + f[6])
        try:
            return timedelta(seconds=secs)
        except OverflowError:
            raise PgError(DATETIME_FIELD_OVERFLOW, "interval out of range") from None
    body = s.lower()
    ago = body.endswith(" ago")
    if ago:
        body = body[:-4]
    body = body.lstrip("@ ")
    total = 0.0
    pos = 0
    found = False
    for tok in _INTERVAL_TOKEN.finditer(body):
        if body[pos:tok.start()].strip(" ,"):
            raise _invalid(INTERVAL, text)
        pos = tok.end()
        found = True
        if tok.group(3):
            t = tok.group(3)
            neg = t.startswith("-")
            parts = t.lstrip("+-").split(":")
            secs = int(parts[0]) * 3600 + int(parts[1]) * 60
            if len(parts) > 2:
                secs += float(parts[2])
            total += -secs if neg else secs
        else:
            unit = _INTERVAL_UNITS.get(tok.group(2))
            if unit is None:
                raise _invalid(INTERVAL, text)
            total += float(tok.group(1)) * unit
    if not found or body[pos:].strip():
        # A bare number means seconds.
        try:
            if not found:
                total = float(body)
            else:
                raise ValueError
        except ValueError:
            raise _invalid(INTERVAL, text) from None
    if math.isnan(total):  # 'nan', or inf - inf
        raise _invalid(INTERVAL, text)
    try:
        return timedelta(seconds=-total if ago else total)
    except OverflowError:
        raise PgError(DATETIME_FIELD_OVERFLOW, "interval out of range") from None


_MAXDIM = 6  # PostgreSQL's MAXDIM


def parse_array_text(text: str, oid: int = 0) -> list[Any]:
    """Parse an array literal (``{1,2,NULL}``, ``{"a b","c\\"d"}``, ``{{1,2},{3,4}}``)
    into nested lists of ``str | None`` (element strings unescaped, not converted)."""
    s = text.strip()
    if s.startswith("[") and "=" in s:  # dimension decoration: [1:2]={1,2}
        s = s[s.index("=") + 1:].strip()
    if not s.startswith("{"):
        raise PgError(INVALID_TEXT_REPRESENTATION, f'malformed array literal: "{text}"',
                      detail='Array value must start with "{" or dimension information.')
    delim = ";" if oid == 1020 else ","  # box[] uses ';'; everything built-in here uses ','
    pos, result = _parse_array_level(s, 0, text, delim, 1)
    if s[pos:].strip():
        raise PgError(INVALID_TEXT_REPRESENTATION, f'malformed array literal: "{text}"',
                      detail="Junk after closing right brace.")
    return result


def _parse_array_level(s: str, pos: int, orig: str, delim: str,
                       ndim: int) -> tuple[int, list[Any]]:
    # s[pos] == '{'
    if ndim > _MAXDIM:  # also what keeps '{{{{…' from exhausting the Python stack
        raise PgError(PROGRAM_LIMIT_EXCEEDED, f"number of array dimensions ({ndim}) exceeds "
                      f"the maximum allowed ({_MAXDIM})")
    pos += 1
    out: list[Any] = []
    n = len(s)
    expect_elem = True
    while True:
        while pos < n and s[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            raise PgError(INVALID_TEXT_REPRESENTATION, f'malformed array literal: "{orig}"',
                          detail="Unexpected end of input.")
        c = s[pos]
        if c == "}":
            if expect_elem and out:
                raise PgError(INVALID_TEXT_REPRESENTATION, f'malformed array literal: "{orig}"',
                              detail='Unexpected "}" character.')
            return pos + 1, out
        if not expect_elem:
            if c != delim:
                raise PgError(INVALID_TEXT_REPRESENTATION, f'malformed array literal: "{orig}"',
                              detail=f'Expected "{delim}" or "}}" character.')
            pos += 1
            expect_elem = True
            continue
        if c == "{":
            pos, sub = _parse_array_level(s, pos, orig, delim, ndim + 1)
            out.append(sub)
        elif c == '"':
            pos += 1
            buf: list[str] = []
            while True:
                if pos >= n:
                    raise PgError(INVALID_TEXT_REPRESENTATION,
                                  f'malformed array literal: "{orig}"',
                                  detail="Unexpected end of input.")
                ch = s[pos]
                if ch == "\\" and pos + 1 < n:
                    buf.append(s[pos + 1])
                    pos += 2
                elif ch == '"':
                    pos += 1
                    break
                else:
                    buf.append(ch)
                    pos += 1
            out.append("".join(buf))
        else:
            start = pos
            buf = []
            has_escape = False
            while pos < n and s[pos] not in (delim, "}"):
                ch = s[pos]
                if ch in '{"':
                    raise PgError(INVALID_TEXT_REPRESENTATION,
                                  f'malformed array literal: "{orig}"',
                                  detail=f'Unexpected "{ch}" character.')
                if ch == "\\" and pos + 1 < n:
                    has_escape = True
                    buf.append(s[pos + 1])
                    pos += 2
                else:
                    buf.append(ch)
                    pos += 1
            raw = "".join(buf).rstrip(" \t\r\n") if has_escape else s[start:pos].strip()
            if not raw and not has_escape:
                raise PgError(INVALID_TEXT_REPRESENTATION, f'malformed array literal: "{orig}"',
                              detail="Unexpected end of input." if pos >= n else
                              f'Unexpected "{s[pos]}" character.')
            out.append(None if not has_escape and raw.upper() == "NULL" else raw)
        expect_elem = False


def _array_text_parser(elem_oid: int) -> Callable[[str], list[Any]]:
    def parse(text: str) -> list[Any]:
        dec = _TEXT.get(elem_oid, _t_text)
        tree = parse_array_text(text, elem_oid)

        def conv(node: list[Any]) -> list[Any]:
            return [conv(x) if isinstance(x, list) else (None if x is None else dec(x))
                    for x in node]
        return conv(tree)
    return parse


_TEXT: dict[int, Callable[[str], Any]] = {
    BOOL: _t_bool, BYTEA: _t_bytea, CHAR: _t_text, NAME: _t_text, INT8: _t_int8, INT2: _t_int2,
    INT4: _t_int4, REGPROC: _t_oid, TEXT: _t_text, OID: _t_oid, JSON: _t_json,
    FLOAT4: _t_float4, FLOAT8: _t_float8, UNKNOWN: _t_text, BPCHAR: _t_text, VARCHAR: _t_text,
    DATE: _t_date, TIME: _t_time, TIMESTAMP: _t_timestamp, TIMESTAMPTZ: _t_timestamptz,
    INTERVAL: _t_interval, NUMERIC: _t_numeric, REGCLASS: _t_oid, REGTYPE: _t_oid,
    UUID: _t_uuid, JSONB: _t_json,
}
for _t in list(TYPES_BY_OID.values()):
    if _t.is_array:
        _TEXT[_t.oid] = _array_text_parser(_t.element_oid)


def text_decoder(oid: int, timezone: str = "UTC") -> Callable[[str], Any]:
    """The text-format decoder for ``oid``; ``timezone`` applies to zone-less timestamptz."""
    if oid == TIMESTAMPTZ and timezone.upper() not in ("UTC", "ETC/UTC", "Z", "GMT"):
        _zone(timezone)  # validate early

        def parse(text: str) -> datetime:
            return _t_timestamptz(text, timezone)
        return parse
    return _TEXT.get(oid, _t_text)


def decode_text(oid: int, text: str, timezone: str = "UTC") -> Any:
    """Decode one non-NULL value sent in text format."""
    if oid == TIMESTAMPTZ:
        return _t_timestamptz(text, timezone)
    return _TEXT.get(oid, _t_text)(text)


# --------------------------------------------------------------------------- encode

def _e_bool(v: Any) -> bytes:
    if isinstance(v, str):
        v = _t_bool(v)
    return b"t" if v else b"f"


def _e_int(v: Any) -> bytes:
    return str(int(v)).encode()


def _float_special(v: float) -> str | None:
    if v != v:
        return "NaN"
    if v == math.inf:
        return "Infinity"
    if v == -math.inf:
        return "-Infinity"
    if v == 0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    return None


def _pg_float_format(shortest: str, threshold: int) -> str:
    """Re-lay out Python's shortest round-trip digits the way PostgreSQL's float
    output does: scientific when the decimal exponent is < -4 or >= threshold
    (15 for float8, 6 for float4), with at least two exponent digits."""
    sign = "-" if shortest[0] == "-" else ""
    s = shortest.lstrip("-")
    if "e" in s:
        mant, e = s.split("e")
        e10 = int(e)
    else:
        mant, e10 = s, 0
    ip, _, fp = mant.partition(".")
    digits = ip + fp
    exp = e10 + len(ip) - 1
    stripped = digits.lstrip("0")
    exp -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    if exp < -4 or exp >= threshold:
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{m}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    if len(digits) <= exp + 1:
        return sign + digits + "0" * (exp + 1 - len(digits))
    return f"{sign}{digits[:exp + 1]}.{digits[exp + 1:]}"


def _float_text(v: float) -> str:
    v = float(v)
    special = _float_special(v)
    if special is not None:
        return special
    r = repr(v)
    if "e" not in r and abs(v) < 1e15:
        return r[:-2] if r.endswith(".0") else r
    return _pg_float_format(r, 15)


def _float4_text(v: float) -> str:
    v = float(_f.unpack(_f.pack(v))[0]) if abs(v) <= _FLOAT4_MAX else float(v)
    special = _float_special(v)
    if special is not None:
        return special
    s = repr(v)
    for p in range(1, 10):
        cand = f"{v:.{p - 1}e}"
        try:
            if _f.unpack(_f.pack(float(cand)))[0] == v:
                s = cand
                break
        except OverflowError:
            continue
    return _pg_float_format(s, 6)


def _e_float(v: Any) -> bytes:
    return _float_text(v).encode()


def _e_float4(v: Any) -> bytes:
    return _float4_text(v).encode()


def _numeric_text(v: Any) -> str:
    d = v if isinstance(v, Decimal) else Decimal(str(v))
    if d.is_nan():
        return "NaN"
    if d.is_infinite():
        return "-Infinity" if d < 0 else "Infinity"
    return format(d, "f")


def _e_numeric(v: Any) -> bytes:
    return _numeric_text(v).encode()


def _e_text(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    return str(v).encode("utf-8")


def _e_json(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    return json.dumps(v, separators=(", ", ": "), ensure_ascii=False).encode("utf-8")


def _e_bytea(v: Any) -> bytes:
    return b"\\x" + bytes(v).hex().encode()


def _e_date(v: Any) -> bytes:
    return str(v.isoformat()).encode()


def _frac_trim(s: str) -> str:
    # isoformat gives .ffffff; PostgreSQL drops trailing zeros.
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _e_time(v: Any) -> bytes:
    return _frac_trim(str(v.isoformat())).encode()


def _e_timestamp(v: Any) -> bytes:
    if isinstance(v, datetime):
        if v.tzinfo is not None:
            v = v.astimezone(UTC).replace(tzinfo=None)
        return _frac_trim(v.isoformat(sep=" ")).encode()
    return str(v).encode()


def _e_timestamptz(v: Any) -> bytes:
    if isinstance(v, datetime):
        v = v.replace(tzinfo=None) if v.tzinfo is None else v.astimezone(UTC).replace(tzinfo=None)
        return (_frac_trim(v.isoformat(sep=" ")) + "+00").encode()
    return str(v).encode()


def _interval_text(v: timedelta) -> str:
    total = (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
    neg = total < 0
    total = abs(total)
    days, rem = divmod(total, 86_400_000_000)
    secs, us = divmod(rem, 1_000_000)
    h, secs = divmod(secs, 3600)
    m, s = divmod(secs, 60)
    sign = "-" if neg else ""
    parts = []
    if days:
        parts.append(f"{sign}{days} day{'s' if days != 1 else ''}")
    if rem or not days:
        t = f"{sign}{h:02d}:{m:02d}:{s:02d}"
        if us:
            t += f".{us:06d}".rstrip("0")
        parts.append(t)
    return " ".join(parts)


def _e_interval(v: Any) -> bytes:
    if isinstance(v, timedelta):
        return _interval_text(v).encode()
    return str(v).encode()


def _e_uuid(v: Any) -> bytes:
    return str(v).lower().encode()


_ARRAY_SPECIAL = re.compile(r'[{},"\\\s]')


def _array_elem_text(x: Any, enc: Callable[[Any], bytes]) -> str:
    if x is None:
        return "NULL"
    if isinstance(x, (list, tuple)):
        return "{" + ",".join(_array_elem_text(y, enc) for y in x) + "}"
    s = enc(x).decode("utf-8")
    if s == "" or _ARRAY_SPECIAL.search(s) or s.upper() == "NULL":
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def _array_text_encoder(elem_oid: int) -> Callable[[Any], bytes]:
    def enc(v: Any) -> bytes:
        e = _TEXT_ENC.get(elem_oid, _e_text)
        return ("{" + ",".join(_array_elem_text(x, e) for x in v) + "}").encode("utf-8")
    return enc


_TEXT_ENC: dict[int, Callable[[Any], bytes]] = {
    BOOL: _e_bool, BYTEA: _e_bytea, CHAR: _e_text, NAME: _e_text, INT8: _e_int, INT2: _e_int,
    INT4: _e_int, REGPROC: _e_int, TEXT: _e_text, OID: _e_int, JSON: _e_json, FLOAT4: _e_float4,
    FLOAT8: _e_float, UNKNOWN: _e_text, BPCHAR: _e_text, VARCHAR: _e_text, DATE: _e_date,
    TIME: _e_time, TIMESTAMP: _e_timestamp, TIMESTAMPTZ: _e_timestamptz, INTERVAL: _e_interval,
    NUMERIC: _e_numeric, REGCLASS: _e_int, REGTYPE: _e_int, UUID: _e_uuid, JSONB: _e_json,
}
for _t in list(TYPES_BY_OID.values()):
    if _t.is_array:
        _TEXT_ENC[_t.oid] = _array_text_encoder(_t.element_oid)


def encode_text(oid: int, value: Any) -> bytes:
    """Text-format representation of a non-NULL result value, as PostgreSQL prints it
    (bool ``t``/``f``, timestamptz in UTC with ``+00``, arrays ``{…}`` with quoting)."""
    return _TEXT_ENC.get(oid, _e_text)(value)


def text_encoder(oid: int) -> Callable[[Any], bytes]:
    return _TEXT_ENC.get(oid, _e_text)


# binary encoders

def _packer(st: struct.Struct, oid: int) -> Callable[[Any], bytes]:
    pack = st.pack

    def enc(v: Any) -> bytes:
        try:
            return pack(v)
        except struct.error:
            raise PgError(NUMERIC_VALUE_OUT_OF_RANGE,
                          f"{type_display_name(oid)} out of range") from None
    return enc


def _be_bool(v: Any) -> bytes:
    return b"\x01" if v else b"\x00"


def _be_text(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    return str(v).encode("utf-8")


def _be_bytea(v: Any) -> bytes:
    return bytes(v)


def _be_jsonb(v: Any) -> bytes:
    return b"\x01" + _e_json(v)


def _be_uuid(v: Any) -> bytes:
    u = v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))
    return u.bytes


def _be_date(v: Any) -> bytes:
    return _i.pack(v.toordinal() - _PG_EPOCH_ORDINAL)


def _be_time(v: Any) -> bytes:
    return _q.pack(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)


def _td_us(td: timedelta) -> int:
    return (td.days * 86400 + td.seconds) * 1_000_000 + td.microseconds


def _be_timestamp(v: Any) -> bytes:
    if v.tzinfo is not None:
        v = v.astimezone(UTC).replace(tzinfo=None)
    return _q.pack(_td_us(v - _PG_EPOCH))


def _be_timestamptz(v: Any) -> bytes:
    if v.tzinfo is None:
        v = v.replace(tzinfo=UTC)
    return _q.pack(_td_us(v - _PG_EPOCH_TZ))


def _be_interval(v: Any) -> bytes:
    return _qii.pack(v.seconds * 1_000_000 + v.microseconds, v.days, 0)


def _be_numeric(v: Any) -> bytes:
    d = v if isinstance(v, Decimal) else Decimal(str(v))
    if d.is_nan():
        return _hhhh.pack(0, 0, _NUMERIC_NAN - 65536, 0)
    if d.is_infinite():
        return _hhhh.pack(0, 0, (_NUMERIC_NINF if d < 0 else _NUMERIC_PINF) - 65536, 0)
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    dscale = max(0, -exp)
    ds = "".join(map(str, digits))
    # integer part digits and fractional digits, aligned to groups of 4 around the point
    if exp >= 0:
        int_part, frac_part = ds + "0" * exp, ""
    else:
        if len(ds) > -exp:
            int_part, frac_part = ds[:exp], ds[exp:]
        else:
            int_part, frac_part = "", ds.rjust(-exp, "0")
    int_part = int_part.lstrip("0")
    pad_int = (-len(int_part)) % 4
    int_part = "0" * pad_int + int_part
    frac_part = frac_part + "0" * ((-len(frac_part)) % 4)
    groups = [int(int_part[k:k + 4]) for k in range(0, len(int_part), 4)]
    weight = len(groups) - 1
    groups += [int(frac_part[k:k + 4]) for k in range(0, len(frac_part), 4)]
    # strip leading zero groups (adjusting weight) and trailing zero groups
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    return _hhhh.pack(len(groups), weight, _NUMERIC_NEG if sign else 0, dscale) + struct.pack(
        f"!{len(groups)}h", *groups)


def _array_binary_encoder(elem_oid: int) -> Callable[[Any], bytes]:
    def enc(v: Any) -> bytes:
        e = _BINARY_ENC.get(elem_oid, _be_text)
        dims: list[int] = []
        node: Any = v
        while isinstance(node, (list, tuple)):
            dims.append(len(node))
            if not node:
                break
            node = node[0]
        if not dims or dims[0] == 0:
            return _iiI.pack(0, 0, elem_oid)
        flat: list[Any] = list(v)
        for _ in range(len(dims) - 1):
            flat = [y for x in flat for y in x]
        has_null = any(x is None for x in flat)
        parts = [_iiI.pack(len(dims), 1 if has_null else 0, elem_oid)]
        parts += [_ii.pack(d, 1) for d in dims]
        for x in flat:
            if x is None:
                parts.append(_i.pack(-1))
            else:
                b = e(x)
                parts.append(_i.pack(len(b)))
                parts.append(b)
        return b"".join(parts)
    return enc


_BINARY_ENC: dict[int, Callable[[Any], bytes]] = {
    BOOL: _be_bool, BYTEA: _be_bytea, CHAR: _be_text, NAME: _be_text,
    INT8: _packer(_q, INT8), INT2: _packer(_h, INT2), INT4: _packer(_i, INT4),
    REGPROC: _packer(_I, OID), TEXT: _be_text, OID: _packer(_I, OID), JSON: _be_text,
    FLOAT4: _packer(_f, FLOAT4), FLOAT8: _packer(_d, FLOAT8), UNKNOWN: _be_text,
    BPCHAR: _be_text, VARCHAR: _be_text, DATE: _be_date, TIME: _be_time,
    TIMESTAMP: _be_timestamp, TIMESTAMPTZ: _be_timestamptz, INTERVAL: _be_interval,
    NUMERIC: _be_numeric, REGCLASS: _packer(_I, OID), REGTYPE: _packer(_I, OID),
    UUID: _be_uuid, JSONB: _be_jsonb,
}
for _t in list(TYPES_BY_OID.values()):
    if _t.is_array:
        _BINARY_ENC[_t.oid] = _array_binary_encoder(_t.element_oid)


def encode_binary(oid: int, value: Any) -> bytes:
    """Binary-format representation of a non-NULL result value."""
    return _BINARY_ENC.get(oid, _be_text)(value)


def binary_encoder(oid: int) -> Callable[[Any], bytes]:
    return _BINARY_ENC.get(oid, _be_text)
