"""Decoders for frontend (client → server) messages.

Every decoder takes the message body (without type byte and length word) as
``bytes`` or ``memoryview`` and returns plain Python values. A malformed body raises
:class:`PgError` with SQLSTATE 08P01 and severity FATAL: after a framing error the
byte stream cannot be trusted any more.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass

from pggw.wire.errors import CHARACTER_NOT_IN_REPERTOIRE, PROTOCOL_VIOLATION, PgError

__all__ = [
    "BIND", "CLOSE", "COPY_DATA", "COPY_DONE", "COPY_FAIL", "DESCRIBE", "EXECUTE", "FLUSH",
    "FUNCTION_CALL", "PARSE", "PASSWORD", "QUERY", "SYNC", "TERMINATE",
    "CANCEL_REQUEST_CODE", "GSSENC_REQUEST_CODE", "SSL_REQUEST_CODE",
    "Bind", "CancelRequest", "Close", "Describe", "Execute", "GSSENCRequest", "Parse",
    "SSLRequest", "StartupMessage",
    "decode_bind", "decode_close", "decode_copy_fail", "decode_describe", "decode_execute",
    "decode_parse", "decode_password", "decode_query", "decode_sasl_initial",
    "decode_sasl_response", "invalid_utf8", "parse_startup_packet",
]

# Message type bytes sent by the frontend.
QUERY = ord("Q")
PARSE = ord("P")
BIND = ord("B")
DESCRIBE = ord("D")
EXECUTE = ord("E")
CLOSE = ord("C")
SYNC = ord("S")
FLUSH = ord("H")
TERMINATE = ord("X")
COPY_DATA = ord("d")
COPY_DONE = ord("c")
COPY_FAIL = ord("f")
PASSWORD = ord("p")  # PasswordMessage, SASLInitialResponse, SASLResponse, GSSResponse
FUNCTION_CALL = ord("F")

# Codes of the untyped startup-phase packets.
SSL_REQUEST_CODE = 80877103
GSSENC_REQUEST_CODE = 80877104
CANCEL_REQUEST_CODE = 80877102

_H = struct.Struct("!h")
_HH = struct.Struct("!hh")
_I = struct.Struct("!i")
_II = struct.Struct("!ii")


@dataclass(frozen=True, slots=True)
class SSLRequest:
    pass


@dataclass(frozen=True, slots=True)
class GSSENCRequest:
    pass


@dataclass(frozen=True, slots=True)
class CancelRequest:
    pid: int
    key: bytes


@dataclass(frozen=True, slots=True)
class StartupMessage:
    """``version`` is the full code, e.g. 196608 (3.0); use ``major``/``minor``."""

    version: int
    params: dict[str, str]

    @property
    def major(self) -> int:
        return self.version >> 16

    @property
    def minor(self) -> int:
        return self.version & 0xFFFF


@dataclass(slots=True)  # not frozen: built once per message on the hot path
class Parse:
    name: str
    query: str
    param_oids: tuple[int, ...]


@dataclass(slots=True)  # not frozen: built once per message on the hot path
class Bind:
    portal: str
    statement: str
    param_formats: tuple[int, ...]
    params: list[bytes | None]
    result_formats: tuple[int, ...]


@dataclass(slots=True)  # not frozen: built once per message on the hot path
class Describe:
    kind: str  # 'S' statement or 'P' portal
    name: str


@dataclass(slots=True)  # not frozen: built once per message on the hot path
class Execute:
    portal: str
    max_rows: int


@dataclass(slots=True)  # not frozen: built once per message on the hot path
class Close:
    kind: str  # 'S' or 'P'
    name: str


def _bad(what: str) -> PgError:
    return PgError(PROTOCOL_VIOLATION, f"invalid {what} message format", severity="FATAL")


def _text(raw: bytes, what: str) -> str:
    """Decode UTF-8; a bad sequence is an ERROR (FATAL only in the startup packet), as in
    PostgreSQL: the message itself was framed correctly, so the connection can go on."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise invalid_utf8(raw, e.start, fatal=what == "startup") from None


def invalid_utf8(raw: bytes, pos: int, *, fatal: bool = False) -> PgError:
    """PostgreSQL's ``invalid byte sequence for encoding "UTF8": 0xc3 0x28`` (22021)."""
    lead = raw[pos]
    n = 2 if 0xC0 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4 if 0xF0 <= lead < 0xF8 else 1
    shown = " ".join(f"0x{b:02x}" for b in raw[pos : pos + n])
    return PgError(CHARACTER_NOT_IN_REPERTOIRE,
                   f'invalid byte sequence for encoding "UTF8": {shown}',
                   severity="FATAL" if fatal else "ERROR")


def _cstring(b: bytes, pos: int, what: str) -> tuple[str, int]:
    end = b.find(b"\0", pos)
    if end < 0:
        raise _bad(what)
    return _text(b[pos:end], what), end + 1


def _strip_quotes(v: str) -> str:
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        return v[1:-1]
    return v


def parse_startup_packet(
    body: bytes | memoryview,
) -> SSLRequest | GSSENCRequest | CancelRequest | StartupMessage:
    """Decode the untyped first packet (the body after the length word)."""
    b = bytes(body)
    if len(b) < 4:
        raise _bad("startup packet")
    (code,) = _I.unpack_from(b, 0)
    if code == SSL_REQUEST_CODE:
        return SSLRequest()
    if code == GSSENC_REQUEST_CODE:
        return GSSENCRequest()
    if code == CANCEL_REQUEST_CODE:
        if len(b) < 12:
            raise _bad("cancel request")
        (pid,) = _I.unpack_from(b, 4)
        return CancelRequest(pid, b[8:])
    params: dict[str, str] = {}
    # Lenient: split on NUL and stop at the first empty name (psql 14.9/16.1 send
    # an odd trailer; RisingWave#14279).
    parts = b[4:].split(b"\0")
    i = 0
    while i + 1 < len(parts):
        name = parts[i]
        if not name:
            break
        params[_text(name, "startup")] = _strip_quotes(_text(parts[i + 1], "startup"))
        i += 2
    return StartupMessage(code, params)


def decode_query(body: bytes | memoryview) -> str:
    b = bytes(body)
    end = b.find(b"\0")
    if end < 0:
        raise _bad("Query")
    if end != len(b) - 1:  # a NUL inside the query text: framed, so not fatal (PostgreSQL)
        raise PgError(PROTOCOL_VIOLATION, "invalid message format")
    return _text(b[:end], "Query")


def decode_parse(body: bytes | memoryview) -> Parse:
    b = bytes(body)
    name, pos = _cstring(b, 0, "Parse")
    query, pos = _cstring(b, pos, "Parse")
    oids: tuple[int, ...] = ()
    if pos + 2 <= len(b):
        (n,) = _H.unpack_from(b, pos)
        pos += 2
        if n < 0 or pos + 4 * n > len(b):
            raise _bad("Parse")
        if n:
            # OIDs are unsigned on the wire.
            oids = struct.unpack_from(f"!{n}I", b, pos)
    return Parse(name, query, oids)


def _formats(b: bytes, pos: int, what: str) -> tuple[tuple[int, ...], int]:
    if pos + 2 > len(b):
        raise _bad(what)
    (n,) = _H.unpack_from(b, pos)
    pos += 2
    if n == 0:
        return (), pos
    if n < 0 or pos + 2 * n > len(b):
        raise _bad(what)
    fmts = _int16s(n).unpack_from(b, pos)
    for f in fmts:
        if f not in (0, 1):
            raise PgError(PROTOCOL_VIOLATION, f"unsupported format code: {f}")
    return fmts, pos + 2 * n


@functools.lru_cache(maxsize=64)
def _int16s(n: int) -> struct.Struct:
    return struct.Struct(f"!{n}h")


def decode_bind(body: bytes | memoryview) -> Bind:
    b = bytes(body)
    end = b.find(b"\0")
    if end < 0:
        raise _bad("Bind")
    portal = _text(b[:end], "Bind") if end else ""
    pos = end + 1
    end = b.find(b"\0", pos)
    if end < 0:
        raise _bad("Bind")
    statement = _text(b[pos:end], "Bind") if end > pos else ""
    pos = end + 1
    pfmts, pos = _formats(b, pos, "Bind")
    if pos + 2 > len(b):
        raise _bad("Bind")
    (n,) = _H.unpack_from(b, pos)
    pos += 2
    if n < 0:
        raise _bad("Bind")
    params: list[bytes | None] = []
    append = params.append
    unpack = _I.unpack_from
    size = len(b)
    for _ in range(n):
        if pos + 4 > size:
            raise _bad("Bind")
        (ln,) = unpack(b, pos)
        pos += 4
        if ln < 0:
            if ln != -1:
                raise _bad("Bind")
            append(None)
        else:
            nxt = pos + ln
            if nxt > size:
                raise _bad("Bind")
            append(b[pos:nxt])
            pos = nxt
    rfmts, pos = _formats(b, pos, "Bind")
    if len(pfmts) > 1 and len(pfmts) != n:
        raise PgError(
            PROTOCOL_VIOLATION,
            f"bind message has {len(pfmts)} parameter formats but {n} parameters",
        )
    return Bind(portal, statement, pfmts, params, rfmts)


def _kind_name(body: bytes | memoryview, what: str) -> tuple[str, str]:
    b = bytes(body)
    if len(b) < 2 or b[-1] != 0:
        raise _bad(what)
    kind = chr(b[0])
    if kind not in ("S", "P"):
        raise PgError(
            PROTOCOL_VIOLATION, f"invalid {what.upper()} message subtype {b[0]}",
            severity="FATAL",
        )
    name, _ = _cstring(b, 1, what)
    return kind, name


def decode_describe(body: bytes | memoryview) -> Describe:
    kind, name = _kind_name(body, "Describe")
    return Describe(kind, name)


def decode_close(body: bytes | memoryview) -> Close:
    kind, name = _kind_name(body, "Close")
    return Close(kind, name)


def decode_execute(body: bytes | memoryview) -> Execute:
    b = bytes(body)
    portal, pos = _cstring(b, 0, "Execute")
    if pos + 4 > len(b):
        raise _bad("Execute")
    (max_rows,) = _I.unpack_from(b, pos)
    return Execute(portal, max_rows)


def decode_copy_fail(body: bytes | memoryview) -> str:
    b = bytes(body)
    end = b.find(b"\0")
    raw = b if end < 0 else b[:end]
    return raw.decode("utf-8", "replace")


def decode_password(body: bytes | memoryview) -> str:
    b = bytes(body)
    end = b.find(b"\0")
    if end < 0:
        raise _bad("password packet")
    return _text(b[:end], "password")


def decode_sasl_initial(body: bytes | memoryview) -> tuple[str, bytes]:
    """SASLInitialResponse: mechanism name and the client-first message."""
    b = bytes(body)
    mech, pos = _cstring(b, 0, "SASLInitialResponse")
    if pos + 4 > len(b):
        raise _bad("SASLInitialResponse")
    (ln,) = _I.unpack_from(b, pos)
    pos += 4
    if ln == -1:
        return mech, b""
    if ln < 0 or pos + ln != len(b):
        raise _bad("SASLInitialResponse")
    return mech, b[pos:]


def decode_sasl_response(body: bytes | memoryview) -> bytes:
    return bytes(body)
