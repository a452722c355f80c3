"""Encoders for backend (server → client) messages. Every function returns ``bytes``."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pggw.wire.errors import PgError

__all__ = [
    "FieldDesc", "authentication_cleartext", "authentication_md5", "authentication_ok",
    "authentication_sasl", "authentication_sasl_continue", "authentication_sasl_final",
    "backend_key_data", "bind_complete", "close_complete", "command_complete",
    "copy_in_response", "data_row", "empty_query_response", "error_response",
    "negotiate_protocol_version", "no_data", "notice_response", "parameter_description",
    "parameter_status", "parse_complete", "portal_suspended", "ready_for_query",
    "row_description",
]

_I = struct.Struct("!i")
_BI = struct.Struct("!Bi")
_BIh = struct.Struct("!Bih")
_BIi = struct.Struct("!Bii")
_FIELD = struct.Struct("!IhIhih")

_pack_i = _I.pack
_NULL = _I.pack(-1)


def _msg(mtype: bytes, body: bytes = b"") -> bytes:
    return mtype + _I.pack(len(body) + 4) + body


def _cstr(s: str) -> bytes:
    return s.encode("utf-8") + b"\0"


# Precomputed constant messages.
_AUTH_OK = _msg(b"R", _I.pack(0))
_AUTH_CLEARTEXT = _msg(b"R", _I.pack(3))
_PARSE_COMPLETE = _msg(b"1")
_BIND_COMPLETE = _msg(b"2")
_CLOSE_COMPLETE = _msg(b"3")
_NO_DATA = _msg(b"n")
_PORTAL_SUSPENDED = _msg(b"s")
_EMPTY_QUERY = _msg(b"I")
_RFQ = {s: _msg(b"Z", s.encode()) for s in ("I", "T", "E")}
_TAG_CACHE: dict[str, bytes] = {}


def authentication_ok() -> bytes:
    return _AUTH_OK


def authentication_cleartext() -> bytes:
    return _AUTH_CLEARTEXT


def authentication_md5(salt: bytes) -> bytes:
    if len(salt) != 4:
        raise ValueError("md5 salt must be 4 bytes")
    return _msg(b"R", _I.pack(5) + salt)


def authentication_sasl(mechanisms: Iterable[str]) -> bytes:
    body = _I.pack(10) + b"".join(_cstr(m) for m in mechanisms) + b"\0"
    return _msg(b"R", body)


def authentication_sasl_continue(data: bytes) -> bytes:
    return _msg(b"R", _I.pack(11) + data)


def authentication_sasl_final(data: bytes) -> bytes:
    return _msg(b"R", _I.pack(12) + data)


def parameter_status(name: str, value: str) -> bytes:
    return _msg(b"S", _cstr(name) + _cstr(value))


def backend_key_data(pid: int, key: bytes | int) -> bytes:
    """BackendKeyData. ``key`` is 4 bytes in protocol 3.0 (an int is packed as Int32)."""
    if isinstance(key, int):
        key = _I.pack(key)
    return _msg(b"K", _I.pack(pid) + key)


def ready_for_query(status: str) -> bytes:
    """``status`` is 'I' (idle), 'T' (in transaction) or 'E' (failed transaction)."""
    return _RFQ[status]


@dataclass(frozen=True, slots=True)
class FieldDesc:
    name: str
    table_oid: int = 0
    column_attnum: int = 0
    type_oid: int = 25
    type_size: int = -1
    type_modifier: int = -1
    format: int = 0


def row_description(fields: Sequence[FieldDesc]) -> bytes:
    parts = [struct.pack("!h", len(fields))]
    pack = _FIELD.pack
    for f in fields:
        parts.append(f.name.encode("utf-8"))
        parts.append(b"\0")
        parts.append(pack(f.table_oid, f.column_attnum, f.type_oid, f.type_size,
                          f.type_modifier, f.format))
    return _msg(b"T", b"".join(parts))


def data_row(values: Sequence[bytes | None]) -> bytes:
    """DataRow from already-encoded column values (None = NULL)."""
    parts: list[bytes] = [b""]
    append = parts.append
    total = 6  # length word + column count
    for v in values:
        if v is None:
            append(_NULL)
            total += 4
        else:
            n = len(v)
            append(_pack_i(n))
            append(v)
            total += 4 + n
    parts[0] = _BIh.pack(68, total, len(values))  # 'D'
    return b"".join(parts)


def command_complete(tag: str) -> bytes:
    m = _TAG_CACHE.get(tag)
    if m is None:
        m = _msg(b"C", _cstr(tag))
        if len(_TAG_CACHE) < 256:
            _TAG_CACHE[tag] = m
    return m


def _fields_message(mtype: bytes, err: PgError) -> bytes:
    parts = []
    for code, value in err.fields():
        parts.append(code.encode("ascii"))
        parts.append(value.replace("\0", "").encode("utf-8"))
        parts.append(b"\0")
    parts.append(b"\0")
    return _msg(mtype, b"".join(parts))


def error_response(err: PgError) -> bytes:
    return _fields_message(b"E", err)


def notice_response(err: PgError) -> bytes:
    return _fields_message(b"N", err)


def parse_complete() -> bytes:
    return _PARSE_COMPLETE


def bind_complete() -> bytes:
    return _BIND_COMPLETE


def close_complete() -> bytes:
    return _CLOSE_COMPLETE


def no_data() -> bytes:
    return _NO_DATA


def portal_suspended() -> bytes:
    return _PORTAL_SUSPENDED


def empty_query_response() -> bytes:
    return _EMPTY_QUERY


def parameter_description(oids: Sequence[int]) -> bytes:
    return _msg(b"t", struct.pack(f"!h{len(oids)}I", len(oids), *oids))


def copy_in_response(binary: bool, ncols: int) -> bytes:
    fmt = 1 if binary else 0
    return _msg(b"G", struct.pack(f"!bh{ncols}h", fmt, ncols, *([fmt] * ncols)))


def negotiate_protocol_version(newest_minor: int, unsupported_options: Sequence[str]) -> bytes:
    """NegotiateProtocolVersion; the Int32 carries the full version code (3 << 16 | minor)."""
    body = _II_pack((3 << 16) | newest_minor, len(unsupported_options))
    body += b"".join(_cstr(o) for o in unsupported_options)
    return _msg(b"v", body)


_II_pack = struct.Struct("!ii").pack
