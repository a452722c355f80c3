from __future__ import annotations

import datetime as dt
import struct
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg.adapt import PyFormat, Transformer

from pggw.wire import codecs
from pggw.wire.codecs import (
    decode_binary,
    decode_int,
    decode_text,
    encode_binary,
    encode_text,
    parse_array_text,
    text_decoder,
)
from pggw.wire.errors import PgError

UTC = dt.UTC
_tx = Transformer()


def psycopg_binary(v: Any) -> tuple[int, bytes]:
    d = _tx.get_dumper(v, PyFormat.BINARY)
    out = d.dump(v)
    assert out is not None
    return d.oid, bytes(out)


VALUES: list[Any] = [
    0, 5, -3, 70000, -70000, 2**40, -(2**62), 1.5, -0.0, 1e300, float("inf"),
    Decimal("1.50"), Decimal("-12345.678"), Decimal("0.0001"), Decimal("0"), Decimal("0.00"),
    Decimal("123456789012345678901234567890.123456789"), Decimal("NaN"), Decimal("-Infinity"),
    True, False, "héllo", "", b"\x00\x01\xff", dt.date(2024, 1, 1), dt.date(1, 1, 1),
    dt.date(9999, 12, 31), dt.datetime(2024, 1, 1, tzinfo=UTC),
    dt.datetime(1970, 5, 6, 7, 8, 9, 123456, tzinfo=UTC), dt.datetime(2024, 1, 1, 1, 2, 3, 4),
    dt.datetime(1900, 1, 1), dt.timedelta(days=3, seconds=5, microseconds=7),
    dt.time(1, 2, 3, 4), uuid.UUID("12345678-1234-5678-1234-567812345678"),
    [1, 2, None], [[1, 2], [3, 4]], ["a", "b c", None, ""], [1.5, 2.5],
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_binary_against_psycopg(value: Any) -> None:
    oid, data = psycopg_binary(value)
    decoded = decode_binary(oid, data)
    expected = str(value) if isinstance(value, uuid.UUID) else value
    if isinstance(value, Decimal) and value.is_nan():
        assert decoded.is_nan()
    elif isinstance(value, float) and value == 0:
        assert decoded == 0
    else:
        assert decoded == expected
    assert encode_binary(oid, decoded) == data


def test_captured_timestamptz() -> None:
    # psycopg3 sent 2024-01-01T00:00Z as 00 02 b0 d5 d4 e9 40 00 [captured, pgwire.md 1.8]
    raw = bytes.fromhex("0002b0d5d4e94000")
    assert decode_binary(1184, raw) == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert decode_binary(1114, raw) == dt.datetime(2024, 1, 1)


@pytest.mark.parametrize("oid", [20, 21, 23])
def test_ints_by_length(oid: int) -> None:
    assert decode_binary(oid, b"\x00\x05") == 5
    assert decode_binary(oid, b"\xff\xff\xff\xfe") == -2
    assert decode_int(struct.pack("!q", 2**40)) == 2**40
    with pytest.raises(PgError) as ei:
        decode_binary(oid, b"\x00\x00\x05")
    assert ei.value.sqlstate == "22P03"


def test_int_width_overflow() -> None:
    with pytest.raises(PgError) as ei:
        decode_binary(21, struct.pack("!i", 70000))
    assert ei.value.sqlstate == "22003"


def test_jsonb_version_byte() -> None:
    assert decode_binary(3802, b'\x01{"a": 1}') == '{"a": 1}'
    with pytest.raises(PgError) as ei:
        decode_binary(3802, b'{"a": 1}')
    assert ei.value.message == "unsupported jsonb version number 123"
    assert encode_binary(3802, {"a": 1}) == b'\x01{"a": 1}'
    assert decode_binary(114, b"[1]") == "[1]"


def test_infinity_rejected() -> None:
    for oid, raw in [(1082, struct.pack("!i", 2**31 - 1)), (1114, struct.pack("!q", 2**63 - 1)),
                     (1184, struct.pack("!q", -(2**63)))]:
        with pytest.raises(PgError) as ei:
            decode_binary(oid, raw)
        assert ei.value.sqlstate == "22008"
        assert "infinity" in ei.value.message
    for oid in (1082, 1114, 1184):
        with pytest.raises(PgError) as ei:
            decode_text(oid, "-infinity")
        assert ei.value.sqlstate == "22008"


def test_interval_months_as_30_days() -> None:
    raw = struct.pack("!qii", 1_000_000, 2, 1)
    assert decode_binary(1186, raw) == dt.timedelta(days=32, seconds=1)


def test_array_header_element_oid_and_nulls() -> None:
    raw = struct.pack("!iiIii", 1, 1, 25, 3, 1) + struct.pack("!i", 1) + b"a" + struct.pack(
        "!i", -1) + struct.pack("!i", 0)
    assert decode_binary(1009, raw) == ["a", None, ""]
    assert decode_binary(1016, struct.pack("!iiI", 0, 0, 20)) == []


def test_invalid_utf8() -> None:
    with pytest.raises(PgError) as ei:
        decode_binary(25, b"\xff")
    assert ei.value.sqlstate == "22021"


# ------------------------------------------------------------------ text decode

@pytest.mark.parametrize(("oid", "text", "value"), [
    (23, "42", 42), (23, " -7 ", -7), (21, "32767", 32767), (20, "-9223372036854775808", -(2**63)),
    (701, "1.5", 1.5), (701, "-Infinity", float("-inf")), (700, "3.5", 3.5),
    (1700, "12.340", Decimal("12.340")), (1700, "NaN", None),
    (16, "t", True), (16, "TRUE", True), (16, "yes", True), (16, "on", True), (16, "1", True),
    (16, "f", False), (16, " Off ", False), (16, "n", False), (16, "0", False),
    (25, "x", "x"), (1043, "", ""), (17, "\\x00ff", b"\x00\xff"),
    (17, "ab\\\\c\\001", b"ab\\c\x01"),
    (1082, "2024-02-29", dt.date(2024, 2, 29)),
    (1114, "2024-01-01 00:00:01.042", dt.datetime(2024, 1, 1, 0, 0, 1, 42000)),
    (1114, "2024-01-01 00:00:01+05", dt.datetime(2024, 1, 1, 0, 0, 1)),
    (1184, "2024-01-01 00:00:01.042+00", dt.datetime(2024, 1, 1, 0, 0, 1, 42000, tzinfo=UTC)),
    (1184, "2024-01-01T00:00:00Z", dt.datetime(2024, 1, 1, tzinfo=UTC)),
    (1184, "2024-01-01T05:30:00+05:30", dt.datetime(2024, 1, 1, tzinfo=UTC)),
    (1184, "2024-01-01T00:00:00+00:00", dt.datetime(2024, 1, 1, tzinfo=UTC)),
    (1184, "2024-01-01 00:00:00", dt.datetime(2024, 1, 1, tzinfo=UTC)),
    (1184, "2024-1-2 3:04:05 UTC", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    (1184, "2024-01-01 00:00:00.1234567+00", dt.datetime(2024, 1, 1, 0, 0, 0, 123457, tzinfo=UTC)),
    (1184, "2024-01-01 00:00:00 Europe/Oslo", dt.datetime(2023, 12, 31, 23, tzinfo=UTC)),
    (1184, "2024-01-01", dt.datetime(2024, 1, 1, tzinfo=UTC)),
    (2950, "{12345678-1234-5678-1234-567812345678}", "12345678-1234-5678-1234-567812345678"),
    (3802, '{"a": [1, 2]}', '{"a": [1, 2]}'),
    (1186, "1 day 02:00:00", dt.timedelta(days=1, hours=2)),
    (1186, "3 hours", dt.timedelta(hours=3)), (1186, "P1DT2H", dt.timedelta(days=1, hours=2)),
    (1186, "-01:00:00", dt.timedelta(hours=-1)),
    (1007, "{1,2,NULL}", [1, 2, None]), (1007, "{{1,2},{3,4}}", [[1, 2], [3, 4]]),
    (1009, '{"a b","c\\"d",NULL,"NULL",e\\,f}', ["a b", 'c"d', None, "NULL", "e,f"]),
    (1009, "{}", []), (1000, "{t,f}", [True, False]),
])
def test_decode_text(oid: int, text: str, value: Any) -> None:
    got = decode_text(oid, text)
    if value is None:
        assert got.is_nan()
    else:
        assert got == value
        assert type(got) is type(value)


def test_timestamptz_session_zone() -> None:
    got = decode_text(1184, "2024-07-01 12:00:00", timezone="Europe/Oslo")
    assert got == dt.datetime(2024, 7, 1, 10, tzinfo=UTC)
    assert got.tzinfo is UTC
    f = text_decoder(1184, "America/New_York")
    assert f("2024-01-01 00:00:00") == dt.datetime(2024, 1, 1, 5, tzinfo=UTC)
    assert f("2024-01-01 00:00:00Z") == dt.datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("oid", "text", "sqlstate", "message"), [
    (23, "zz", "22P02", 'invalid input syntax for type integer: "zz"'),
    (23, "", "22P02", 'invalid input syntax for type integer: ""'),
    (23, "1.5", "22P02", 'invalid input syntax for type integer: "1.5"'),
    (23, "2147483648", "22003", 'value "2147483648" is out of range for type integer'),
    (21, "99999", "22003", 'value "99999" is out of range for type smallint'),
    (20, "9223372036854775808", "22003",
     'value "9223372036854775808" is out of range for type bigint'),
    (701, "abc", "22P02", 'invalid input syntax for type double precision: "abc"'),
    (701, "1e400", "22003", '"1e400" is out of range for type double precision'),
    (700, "1e39", "22003", '"1e39" is out of range for type real'),
    (16, "maybe", "22P02", 'invalid input syntax for type boolean: "maybe"'),
    (1700, "1.2.3", "22P02", 'invalid input syntax for type numeric: "1.2.3"'),
    (2950, "nope", "22P02", 'invalid input syntax for type uuid: "nope"'),
    (1082, "2024-13-45", "22008", 'date/time field value out of range: "2024-13-45"'),
    (1082, "abc", "22007", 'invalid input syntax for type date: "abc"'),
    (1184, "not a date", "22007",
     'invalid input syntax for type timestamp with time zone: "not a date"'),
    (1083, "25:00", "22008", 'date/time field value out of range: "25:00"'),
    (1083, "x", "22007", 'invalid input syntax for type time: "x"'),
    (1184, "yesterday-ish", "22007",
     'invalid input syntax for type timestamp with time zone: "yesterday-ish"'),
    (1184, "2024-02-30 00:00:00", "22008",
     'date/time field value out of range: "2024-02-30 00:00:00"'),
    (3802, "{bad", "22P02", "invalid input syntax for type json"),
    (1007, "{1,2", "22P02", 'malformed array literal: "{1,2"'),
    (1007, "1,2", "22P02", 'malformed array literal: "1,2"'),
    (1007, "{1,x}", "22P02", 'invalid input syntax for type integer: "x"'),
])
def test_decode_text_errors(oid: int, text: str, sqlstate: str, message: str) -> None:
    with pytest.raises(PgError) as ei:
        decode_text(oid, text)
    assert ei.value.sqlstate == sqlstate
    assert ei.value.message == message


def test_float_specials() -> None:
    import math
    assert math.isnan(decode_text(701, "NaN"))
    assert decode_text(701, "Infinity") == float("inf")
    assert decode_text(700, "-inf") == float("-inf")


# ------------------------------------------------------------------ text encode

@pytest.mark.parametrize(("oid", "value", "text"), [
    (16, True, b"t"), (16, False, b"f"), (23, 5, b"5"), (701, 1.0, b"1"), (701, 0.1, b"0.1"),
    (701, float("nan"), b"NaN"), (701, float("-inf"), b"-Infinity"), (701, -0.0, b"-0"),
    (701, 1e15, b"1e+15"), (701, 1e14, b"100000000000000"), (701, 1.5e-5, b"1.5e-05"),
    (701, 0.0001, b"0.0001"), (701, 1234567890123456.0, b"1.234567890123456e+15"),
    (701, 1.2345678901234568e+17, b"1.2345678901234568e+17"), (701, -2.5, b"-2.5"),
    (700, 0.1, b"0.1"), (700, 123456.0, b"123456"), (700, 1234567.0, b"1.234567e+06"),
    (700, 1e6, b"1e+06"), (700, 3.4028234663852886e38, b"3.4028235e+38"),
    (1700, Decimal("1E+2"), b"100"), (1700, Decimal("NaN"), b"NaN"),
    (25, "héllo", "héllo".encode()), (17, b"\x01\xab", b"\\x01ab"),
    (1082, dt.date(2024, 1, 2), b"2024-01-02"),
    (1114, dt.datetime(2024, 1, 1, 0, 0, 1, 42000), b"2024-01-01 00:00:01.042"),
    (1184, dt.datetime(2024, 1, 1, 0, 0, 1, 42000, tzinfo=UTC), b"2024-01-01 00:00:01.042+00"),
    (1184, dt.datetime(2024, 1, 1, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
     b"2024-01-01 00:00:00+00"),
    (1186, dt.timedelta(days=1, hours=2), b"1 day 02:00:00"),
    (1186, dt.timedelta(hours=-1), b"-01:00:00"),
    (3802, {"a": 1}, b'{"a": 1}'),
    (1007, [1, None, 3], b"{1,NULL,3}"), (1009, ["a b", "", 'x"y', "NULL", "p\\q"],
                                         b'{"a b","","x\\"y","NULL","p\\\\q"}'),
    (1007, [[1, 2], [3, 4]], b"{{1,2},{3,4}}"),
])
def test_encode_text(oid: int, value: Any, text: bytes) -> None:
    assert encode_text(oid, value) == text


@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(
    blacklist_categories=("Cs",), blacklist_characters="\x00")))))
def test_text_array_round_trip(values: list[str | None]) -> None:
    assert decode_text(1009, encode_text(1009, values).decode()) == values


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_numeric_binary_round_trip(d: Decimal) -> None:
    raw = encode_binary(1700, d)
    back = decode_binary(1700, raw)
    assert back == d
    assert decode_text(1700, encode_text(1700, d).decode()) == d


@given(st.datetimes(timezones=st.just(UTC)))
def test_timestamptz_round_trips(v: dt.datetime) -> None:
    assert decode_binary(1184, encode_binary(1184, v)) == v
    assert decode_text(1184, encode_text(1184, v).decode()) == v


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_int8_text_round_trip(v: int) -> None:
    assert decode_text(20, encode_text(20, v).decode()) == v
    assert decode_binary(20, encode_binary(20, v)) == v


def test_parse_array_text_raw() -> None:
    assert parse_array_text('{a,"b",{c}}') == ["a", "b", ["c"]]
    assert parse_array_text("[1:2]={x,y}") == ["x", "y"]


def test_dispatch_functions_exist() -> None:
    assert codecs.text_decoder(23)("5") == 5
    assert codecs.binary_decoder(23)(b"\0\0\0\x05") == 5
    assert codecs.text_encoder(16)(True) == b"t"
    assert codecs.binary_encoder(16)(True) == b"\x01"


# ------------------------------------------------------------------ cross-check with psycopg

def psycopg_text(v: Any) -> tuple[int, str]:
    d = _tx.get_dumper(v, PyFormat.TEXT)
    out = d.dump(v)
    assert out is not None
    return d.oid, bytes(out).decode()


TEXT_VALUES: list[Any] = [
    5, -70000, 2**40, 1.5, Decimal("-12.340"), True, False, "x y", b"\x00\xffab",
    dt.date(2024, 2, 29), dt.datetime(2024, 1, 1, 2, 3, 4, 5006),
    dt.datetime(2024, 1, 1, 2, 3, 4, 500000, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    dt.timedelta(days=2, hours=3, microseconds=5), dt.time(23, 59, 59, 999999),
    uuid.UUID("12345678-1234-5678-1234-567812345678"), [1, None, 3], ["a b", 'q"x', ""],
]


# psycopg leaves str lists untyped, and without a connection it doubles the backslashes
# of bytea escapes (standard_conforming_strings unknown): those are not comparable here.
TYPED_TEXT_VALUES = [v for v in TEXT_VALUES if psycopg_text(v)[0] != 0]


@pytest.mark.parametrize("value", [v for v in TYPED_TEXT_VALUES if not isinstance(v, bytes)],
                         ids=repr)
def test_decode_psycopg_text_dumps(value: Any) -> None:
    oid, text = psycopg_text(value)
    got = decode_text(oid, text)
    expected = str(value) if isinstance(value, uuid.UUID) else value
    assert got == expected


@pytest.mark.parametrize("value", TYPED_TEXT_VALUES, ids=repr)
def test_psycopg_loads_our_text(value: Any) -> None:
    from psycopg.pq import Format
    oid, _ = psycopg_text(value)
    loader = _tx.get_loader(oid, Format.TEXT)
    ours = encode_text(oid, value)
    back = loader.load(ours)
    expected = value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        assert back == value  # aware comparison across zones
        return
    assert back == expected


def test_text_copy_null_variants_decode() -> None:
    assert decode_text(1009, '{"",NULL}') == ["", None]
