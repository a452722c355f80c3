"""Regressions for what the coverage-guided fuzzer (tests/reliability/atheris_wire.py) found:
each input used to raise something other than PgError, hang, or allocate far more than its
size. Every one must now be a PgError with PostgreSQL's SQLSTATE (or a value), quickly."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from pggw.wire.codecs import decode_binary, decode_text
from pggw.wire.copy import CsvCopyDecoder, TextCopyDecoder
from pggw.wire.errors import PgError

INT4_ARRAY, INTERVAL_ARRAY = 1007, 1187
JSON, JSONB, DATE, TIMESTAMP, TIMESTAMPTZ, INTERVAL = 114, 3802, 1082, 1114, 1184, 1186


def _array(elem: int, dims: list[int], elements: bytes = b"") -> bytes:
    return (struct.pack("!iiI", len(dims), 0, elem)
            + b"".join(struct.pack("!ii", d, 1) for d in dims) + elements)


@pytest.mark.parametrize("dims", [[2**31 - 1, 0], [2, 2, 16, 0, 16, 128], [0, 2**31 - 1]])
def test_binary_array_with_a_zero_dimension_is_empty(dims: list[int]) -> None:
    """Used to build dims[0] × dims[1] × … empty lists from 40 bytes (a hang / GBs)."""
    t = time.monotonic()
    assert decode_binary(INT4_ARRAY, _array(23, dims)) == []
    assert decode_binary(INTERVAL_ARRAY, _array(1186, dims)) == []
    assert time.monotonic() - t < 1


def test_binary_array_still_nests() -> None:
    elems = b"".join(struct.pack("!ii", 4, v) for v in range(6))
    assert decode_binary(INT4_ARRAY, _array(23, [2, 3], elems)) == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("oid", [JSON, JSONB])
def test_deeply_nested_json_is_54001(oid: int) -> None:
    """Used to raise RecursionError out of json.loads."""
    for text in ("[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000):
        with pytest.raises(PgError) as e:
            decode_text(oid, text)
        assert e.value.sqlstate == "54001"
    assert decode_text(oid, "[" * 50 + "]" * 50) == "[" * 50 + "]" * 50


def test_array_literal_deeper_than_maxdim_is_54000() -> None:
    """Used to recurse once per '{' into a RecursionError; PostgreSQL allows 6 dimensions."""
    assert decode_text(INT4_ARRAY, "{" * 6 + "1" + "}" * 6) == [[[[[[1]]]]]]
    for depth in (7, 100_000):
        with pytest.raises(PgError) as e:
            decode_text(INT4_ARRAY, "{" * depth + "1" + "}" * depth)
        assert e.value.sqlstate == "54000"
        assert "(7) exceeds the maximum allowed (6)" in e.value.message


@pytest.mark.parametrize("text", ["nan", "NaN", " nan ", "-" + "9" * 400 + " years " + "9" * 400
                                  + " years"])
def test_interval_nan_is_invalid_syntax(text: str) -> None:
    """Used to raise ValueError ('cannot convert float NaN to integer') from timedelta."""
    with pytest.raises(PgError) as e:
        decode_text(INTERVAL, text)
    assert e.value.sqlstate == "22P02"


def test_iso_interval_overflow_is_22008() -> None:
    """Used to raise OverflowError from timedelta (the ISO 8601 branch had no guard)."""
    with pytest.raises(PgError) as e:
        decode_text(INTERVAL, "P" + "9" * 400 + "Y")
    assert e.value.sqlstate == "22008"
    assert decode_text(INTERVAL, "P1DT2H").total_seconds() == 93600


@pytest.mark.parametrize("oid", [DATE, TIMESTAMP, TIMESTAMPTZ])
def test_huge_year_is_a_pg_error(oid: int) -> None:
    """A year beyond a C long used to raise OverflowError out of datetime()."""
    for year in ("2027" + "7" * 100, "2" * 5000):
        with pytest.raises(PgError) as e:
            decode_text(oid, f"{year}-01-02 03:04:05")
        assert e.value.sqlstate in ("22008", "22007", "22P02")


@pytest.mark.parametrize("oid", [TIMESTAMP, TIMESTAMPTZ])
def test_fraction_longer_than_int_digit_limit(oid: int) -> None:
    """More than 4300 fractional digits used to raise ValueError from int()."""
    v = decode_text(oid, "2024-01-01 00:00:00." + "1" * 5000 + ("+00" if oid == TIMESTAMPTZ
                                                                else ""))
    assert v.microsecond == 111111
    assert decode_text(oid, "2024-01-01 00:00:00.1234567").microsecond == 123457


@pytest.mark.parametrize("make", [lambda: TextCopyDecoder(1), lambda: CsvCopyDecoder(1)])
def test_copy_bytes_after_end_marker_ignored_whatever_the_split(
        make: Callable[[], Any]) -> None:
    """Non-UTF-8 bytes after the \\. line failed the COPY with 22021 when they came in the
    same CopyData message as the marker, and were ignored when they came in a later one."""
    data = b"a\nb\n\\.\n\x80\xff junk\nmore\n"
    for cut in range(len(data) + 1):
        d = make()
        rows = d.feed(data[:cut]) + d.feed(data[cut:]) + d.finish()
        assert rows == [["a"], ["b"]] and d.done, cut


def test_copy_bad_utf8_before_end_marker_still_22021() -> None:
    d = TextCopyDecoder(1, table="t")
    with pytest.raises(PgError) as e:
        d.feed(b"a\nb\n\x80\n\\.\n")
    assert e.value.sqlstate == "22021" and e.value.where == "COPY t, line 3" and d.line == 3
    d = TextCopyDecoder(2, table="t")
    with pytest.raises(PgError) as e:  # the earlier line's error comes first, as when split
        d.feed(b"a\tb\nc\n\x80\n\\.\n")
    assert e.value.sqlstate == "22P04" and e.value.where == "COPY t, line 2"


@pytest.mark.parametrize("text", ["1e131072", "1e999999999", "-9.9e200000", "1e-16384",
                                  "1e-20000"])
def test_numeric_beyond_postgresql_limits_is_22003_not_a_gigabyte(text: str) -> None:
    """Found by the full atheris run (an OOM): '1e999999999' decoded fine and then printed
    as a 1 GB string. PostgreSQL: 22003 value overflows numeric format."""
    with pytest.raises(PgError) as ei:
        decode_text(1700, text)
    assert (ei.value.sqlstate, ei.value.message) == ("22003", "value overflows numeric format")


@pytest.mark.parametrize("text", ["1e131071", "1e-16383", "0e-20000", "NaN", "-0.5"])
def test_numeric_at_postgresql_limits_is_accepted(text: str) -> None:
    v = decode_text(1700, text)
    assert str(v) == str(Decimal(text))
