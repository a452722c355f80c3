"""The columnar chunk codec: exact round trips, compact kinds, a version byte."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pggw.wal import codec
from pggw.wal.codec import (
    FORMAT_VERSION,
    ChunkFormatError,
    chunk_nrows,
    columns_to_rows,
    decode_chunk,
    encode_chunk,
    rows_to_columns,
)


def same(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN and tells -0.0 from 0.0 and 1 from 1.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def kinds(data: bytes) -> dict[str, int]:
    """Column kinds of an uncompressed chunk, by parsing the layout by hand."""
    assert data[0] == FORMAT_VERSION and data[1] == 0
    _, ncols = struct.unpack_from("<IH", data, 2)
    pos = 8
    out = {}
    for _ in range(ncols):
        (n,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + n].decode()
        pos += 2 + n
        kind, size = struct.unpack_from("<BI", data, pos)
        pos += 5 + size
        out[name] = kind
    return out


def test_datapoints_round_trip_with_special_floats() -> None:
    cols = {
        "external_id": ["ts-1"] * 6,
        "timestamp": [0, 1, -1, 2**63 - 1, -(2**63), 1_700_000_000_000],
        "value": [math.nan, math.inf, -math.inf, -0.0, 1e-310, 1.5],
    }
    data = encode_chunk(cols)
    assert data[0] == FORMAT_VERSION
    assert same(decode_chunk(data), cols)
    assert kinds(data) == {
        "external_id": codec.KIND_DICT,
        "timestamp": codec.KIND_I64,
        "value": codec.KIND_F64,
    }
    assert chunk_nrows(data) == 6


def test_nan_payload_is_bit_exact() -> None:
    odd_nan = struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_0000_1234))[0]
    (out,) = decode_chunk(encode_chunk({"v": [odd_nan]}))["v"]
    assert struct.pack("<d", out) == struct.pack("<d", odd_nan)


def test_types_are_kept_not_coerced() -> None:
    cols = {
        "flag": [True, False, None],
        "mixed": [1, 1.0, None],
        "big": [2**64, -(2**70), 0],
        "obj": [{"a": "b", "n": [1, 2.5, None]}, [], {"nan": math.nan}],
        "text": ["æøå", "\u0000", "line\nbreak"],
    }
    out = decode_chunk(encode_chunk(cols))
    assert same(out, cols)
    assert kinds(encode_chunk(cols))["big"] == codec.KIND_JSON


def test_empty_and_zero_column_chunks() -> None:
    assert decode_chunk(encode_chunk({})) == {}
    assert decode_chunk(encode_chunk({"a": [], "b": []})) == {"a": [], "b": []}
    assert chunk_nrows(encode_chunk({"a": []})) == 0


def test_column_order_is_kept() -> None:
    cols = {"z": [1], "a": [2], "m": [3]}
    assert list(decode_chunk(encode_chunk(cols))) == ["z", "a", "m"]


def test_unequal_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="'b' has 1 values"):
        encode_chunk({"a": [1, 2], "b": [1]})


def test_unencodable_value_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="column 'a'"):
        encode_chunk({"a": [object()]})


def test_compressed_round_trip_is_smaller_for_text() -> None:
    cols = {"name": [f"asset number {i} in plant {i % 3}" for i in range(5000)]}
    plain = encode_chunk(cols)
    packed = encode_chunk(cols, compress=True)
    assert packed[1] == codec.FLAG_ZLIB
    assert len(packed) < len(plain) / 2
    assert decode_chunk(packed) == cols
    assert chunk_nrows(packed) == 5000


def test_repeated_strings_are_dictionary_encoded() -> None:
    cols = {"external_id": [f"sensor-{i % 10}" for i in range(10_000)]}
    data = encode_chunk(cols)
    assert kinds(data)["external_id"] == codec.KIND_DICT
    assert len(data) < 10_000 * 5
    assert decode_chunk(data) == cols
    distinct = {"external_id": [f"sensor-{i}" for i in range(1000)]}
    assert kinds(encode_chunk(distinct))["external_id"] == codec.KIND_JSON


@pytest.mark.parametrize(
    "data",
    [b"", b"\x01", b"\x02\x00" + b"\x00" * 6, b"\x01\x80" + b"\x00" * 6, b"\x01\x01garbage"],
)
def test_bad_headers_are_format_errors(data: bytes) -> None:
    with pytest.raises(ChunkFormatError):
        decode_chunk(data)


def test_truncated_chunks_are_format_errors() -> None:
    data = encode_chunk({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, 1.5, 2.5]})
    for cut in range(2, len(data)):
        with pytest.raises(ChunkFormatError):
            decode_chunk(data[:cut])


def test_rows_and_columns_convert_both_ways() -> None:
    rows = [{"a": 1, "b": "x"}, {"a": 2}, {"c": None, "b": "y"}]
    cols = rows_to_columns(rows)
    assert cols == {"a": [1, 2, None], "b": ["x", None, "y"], "c": [None, None, None]}
    assert columns_to_rows({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"},
        {"a": 2, "b": "y"},
    ]


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def column_sets(draw: st.DrawFn) -> dict[str, list[Any]]:
    n = draw(st.integers(0, 40))
    names = draw(st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=5))
    cols: dict[str, list[Any]] = {}
    for name in names:
        element = draw(
            st.sampled_from(
                [
                    json_values,
                    st.floats(allow_nan=True),
                    st.integers(-(2**63), 2**63 - 1),
                    st.sampled_from(["a", "b", "c"]),
                    st.text(max_size=5),
                ]
            )
        )
        cols[name] = draw(st.lists(element, min_size=n, max_size=n))
    return cols


@settings(max_examples=300, deadline=None)
@given(column_sets(), st.booleans())
def test_round_trip_property(cols: dict[str, list[Any]], compress: bool) -> None:
    data = encode_chunk(cols, compress=compress)
    assert same(decode_chunk(data), cols)
    assert chunk_nrows(data) == (len(next(iter(cols.values()))) if cols else 0)


def test_any_sequence_of_values_is_accepted() -> None:
    data = encode_chunk({"a": (1, 2, 3), "b": ("x", "y", "z"), "c": (0.5, None, 1.5)})
    assert decode_chunk(data) == {"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, None, 1.5]}
