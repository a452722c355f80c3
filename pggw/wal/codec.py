"""Compact columnar encoding of a chunk of validated rows.

A chunk is a ``dict`` of column name to a list of values, all lists of the same length.
Values are what the tables layer produces for CDF: ``int``, ``float`` (NaN and ±inf
round-trip exactly), ``str``, ``bool``, ``None``, JSON-able ``dict``/``list`` values, and
``bytes`` (``bytea`` columns such as ``files.content``; a column holding bytes holds only
bytes and ``None``).

Layout (all integers little-endian)::

    u8  version (1)
    u8  flags   (bit 0: the body is zlib-compressed)
    body:
      u32 nrows
      u16 ncols
      per column:
        u16 name length, name (UTF-8)
        u8  kind
        u32 payload length, payload

Column kinds, chosen per column from the types of its values:

* ``KIND_JSON``: a UTF-8 JSON array (``allow_nan``), the general case;
* ``KIND_F64``: every value is exactly ``float``: packed IEEE-754 doubles (bit-exact, so
  NaN payloads and -0.0 survive), far faster than ``repr``-ing floats into JSON;
* ``KIND_I64``: every value is exactly ``int`` within int64: packed int64;
* ``KIND_DICT``: every value is ``str`` with many repeats (e.g. a datapoint's
  ``external_id``): u32 size of the JSON array of distinct values, that array, then one
  u32 index per row.
* ``KIND_BYTES``: every value is ``bytes`` or ``None``: one int64 length per row (-1 for
  ``None``), then the values' bytes back to back (no copy through JSON or hex).

Readers of format version 1 that predate a kind refuse chunks using it
(:class:`ChunkFormatError`); chunks of the older kinds are unchanged.

The version byte lets a later encoding coexist with chunks already in a WAL file:
``decode_chunk`` must keep reading every version ever written.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from array import array
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "FORMAT_VERSION",
    "ChunkFormatError",
    "chunk_nrows",
    "columns_to_rows",
    "decode_chunk",
    "encode_chunk",
    "rows_to_columns",
]

FORMAT_VERSION = 1

FLAG_ZLIB = 0x01

KIND_JSON = 0
KIND_F64 = 1
KIND_I64 = 2
KIND_DICT = 3
KIND_BYTES = 4

_BODY_HEADER = struct.Struct("<IH")  # nrows, ncols (inside the possibly compressed body)
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_COL = struct.Struct("<BI")  # kind, payload length

_BIG_ENDIAN = sys.byteorder == "big"
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# An array typecode for unsigned 32-bit indexes on this platform.
_U32_CODE = next(code for code in ("I", "L") if array(code).itemsize == 4)

# Use dictionary encoding for a text column when a sample of it has at most this
# fraction of distinct values.
_DICT_SAMPLE = 1024
_DICT_MAX_DISTINCT_RATIO = 0.25

_json_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=True, check_circular=False)
# What _json_encoder (ensure_ascii) writes for one str: the C helper, when present.
_encode_str: Any = getattr(json.encoder, "c_encode_basestring_ascii", None) or (
    json.encoder.py_encode_basestring_ascii
)


class ChunkFormatError(ValueError):
    """The bytes are not a chunk this code can read."""


def _pack(arr: array[Any]) -> bytes:
    if _BIG_ENDIAN:
        arr.byteswap()
    return arr.tobytes()


def _unpack(code: str, data: bytes | memoryview) -> list[Any]:
    arr = array(code)
    arr.frombytes(data)
    if _BIG_ENDIAN:
        arr.byteswap()
    return arr.tolist()


def _json(values: Any) -> bytes:
    return _json_encoder.encode(values).encode("utf-8")


def _json_strs(values: list[str]) -> bytes:
    """``_json(values)`` for a list of ``str`` only (the same bytes, a lot faster)."""
    return ("[" + ",".join(map(_encode_str, values)) + "]").encode("ascii")


def _encode_column(values: Sequence[Any]) -> tuple[int, bytes]:
    if not values:
        return KIND_JSON, b"[]"
    if not isinstance(values, list):
        values = list(values)
    if len(values) == 1:  # one-row chunks (autocommit INSERTs): no sampling, no sets
        t = type(values[0])
        if t is float:
            return KIND_F64, _pack(array("d", values))
        if t is int and _INT64_MIN <= values[0] <= _INT64_MAX:
            return KIND_I64, _pack(array("q", values))
        if t is str:
            return KIND_JSON, _json_strs(values)
    types = set(map(type, values))
    if bytes in types or bytearray in types:
        if types <= _BYTES_TYPES:
            return KIND_BYTES, _encode_bytes(values)
        raise TypeError("a column holding bytes may hold only bytes and None")
    if len(types) == 1:
        (t,) = types
        if t is float:
            return KIND_F64, _pack(array("d", values))
        if t is int and min(values) >= _INT64_MIN and max(values) <= _INT64_MAX:
            return KIND_I64, _pack(array("q", values))
        if t is str:
            sample = values[:_DICT_SAMPLE]
            if len(set(sample)) <= len(sample) * _DICT_MAX_DISTINCT_RATIO:
                index = {v: i for i, v in enumerate(dict.fromkeys(values))}
                if len(index) <= len(values) * _DICT_MAX_DISTINCT_RATIO:
                    distinct = _json(list(index))
                    codes = _pack(array(_U32_CODE, map(index.__getitem__, values)))
                    return KIND_DICT, _U32.pack(len(distinct)) + distinct + codes
            return KIND_JSON, _json_strs(values)
    return KIND_JSON, _json(values)


_BYTES_TYPES = frozenset({bytes, bytearray, type(None)})


def _encode_bytes(values: Sequence[Any]) -> bytes:
    lengths = _pack(array("q", [-1 if v is None else len(v) for v in values]))
    return b"".join([lengths, *(v for v in values if v is not None)])


def _decode_bytes(payload: memoryview, nrows: int) -> list[Any]:
    head = 8 * nrows
    if len(payload) < head:
        raise ChunkFormatError("bytes column is truncated")
    lengths = _unpack("q", payload[:head])
    out: list[Any] = []
    pos = head
    for n in lengths:
        if n < 0:
            out.append(None)
            continue
        end = pos + n
        if end > len(payload):
            raise ChunkFormatError("bytes column is truncated")
        out.append(bytes(payload[pos:end]))
        pos = end
    if pos != len(payload):
        raise ChunkFormatError("bytes column has trailing bytes")
    return out


_NAME_HEADERS: dict[str, bytes] = {}


def _name_header(name: str) -> bytes:
    """u16 length + UTF-8 name of a column (column names repeat: kept once built)."""
    head = _NAME_HEADERS.get(name)
    if head is None:
        encoded = name.encode("utf-8")
        if len(encoded) > 0xFFFF:
            raise ValueError(f"column name too long: {name[:40]!r}...")
        head = _U16.pack(len(encoded)) + encoded
        if len(_NAME_HEADERS) < 4096:
            _NAME_HEADERS[name] = head
    return head


def encode_chunk(columns: Mapping[str, Sequence[Any]], *, compress: bool = False) -> bytes:
    """Encode equally long column lists into one chunk.

    ``compress`` runs zlib (level 1) over the body: about 3x smaller for JSON-heavy
    chunks at roughly 200 ms per 40 MB of input, so it pays off only when disk space or
    I/O, not CPU, is the limit. Raises ``ValueError`` if the columns differ in length or a
    value cannot be represented as JSON.
    """
    nrows = -1
    parts: list[bytes] = []
    for name, values in columns.items():
        if nrows < 0:
            nrows = len(values)
        elif len(values) != nrows:
            raise ValueError(
                f"column {name!r} has {len(values)} values, expected {nrows} like the others"
            )
        head = _name_header(name)
        try:
            kind, payload = _encode_column(values)
        except TypeError as e:
            raise ValueError(f"column {name!r}: {e}") from e
        parts.append(head)
        parts.append(_COL.pack(kind, len(payload)))
        parts.append(payload)
    if len(columns) > 0xFFFF:
        raise ValueError(f"too many columns: {len(columns)}")
    body = _BODY_HEADER.pack(max(nrows, 0), len(columns)) + b"".join(parts)
    if compress:
        return bytes((FORMAT_VERSION, FLAG_ZLIB)) + zlib.compress(body, 1)
    return bytes((FORMAT_VERSION, 0)) + body


def _body(data: bytes) -> memoryview:
    if len(data) < 2:
        raise ChunkFormatError("chunk too short")
    version, flags = data[0], data[1]
    if version != FORMAT_VERSION:
        raise ChunkFormatError(f"unknown chunk format version {version}")
    if flags & ~FLAG_ZLIB:
        raise ChunkFormatError(f"unknown chunk flags {flags:#x}")
    if flags & FLAG_ZLIB:
        try:
            return memoryview(zlib.decompress(memoryview(data)[2:]))
        except zlib.error as e:
            raise ChunkFormatError(f"corrupt compressed chunk: {e}") from e
    return memoryview(data)[2:]


def chunk_nrows(data: bytes) -> int:
    """The number of rows in a chunk, without decoding its columns."""
    body = _body(data)
    if len(body) < _BODY_HEADER.size:
        raise ChunkFormatError("chunk too short")
    return int(_BODY_HEADER.unpack_from(body)[0])


def _decode_column(kind: int, payload: memoryview, nrows: int) -> list[Any]:
    if kind == KIND_JSON:
        values = json.loads(bytes(payload))
        if not isinstance(values, list):
            raise ChunkFormatError("JSON column is not an array")
        return values
    if kind == KIND_F64:
        return _unpack("d", payload)
    if kind == KIND_I64:
        return _unpack("q", payload)
    if kind == KIND_DICT:
        (n,) = _U32.unpack_from(payload)
        distinct = json.loads(bytes(payload[4 : 4 + n]))
        codes = _unpack(_U32_CODE, payload[4 + n :])
        return list(map(distinct.__getitem__, codes))
    if kind == KIND_BYTES:
        return _decode_bytes(payload, nrows)
    raise ChunkFormatError(f"unknown column kind {kind}")


def decode_chunk(data: bytes) -> dict[str, list[Any]]:
    """Decode a chunk made by ``encode_chunk`` (any format version this code knows)."""
    body = _body(data)
    try:
        nrows, ncols = _BODY_HEADER.unpack_from(body)
        pos = _BODY_HEADER.size
        columns: dict[str, list[Any]] = {}
        for _ in range(ncols):
            (name_len,) = _U16.unpack_from(body, pos)
            pos += 2
            name = bytes(body[pos : pos + name_len]).decode("utf-8")
            pos += name_len
            kind, size = _COL.unpack_from(body, pos)
            pos += _COL.size
            if pos + size > len(body):
                raise ChunkFormatError(f"column {name!r} is truncated")
            values = _decode_column(kind, body[pos : pos + size], nrows)
            pos += size
            if len(values) != nrows:
                raise ChunkFormatError(f"column {name!r} has {len(values)} values, not {nrows}")
            columns[name] = values
    except (struct.error, UnicodeDecodeError, ValueError, IndexError) as e:
        if isinstance(e, ChunkFormatError):
            raise
        raise ChunkFormatError(f"corrupt chunk: {e}") from e
    if pos != len(body):
        raise ChunkFormatError("trailing bytes after the last column")
    return columns


def rows_to_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Turn row dicts into columns; a key missing from some rows becomes ``None`` there."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in names}


def columns_to_rows(columns: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Turn columns back into row dicts (for dead letters and debugging, not the hot path)."""
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
