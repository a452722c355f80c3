"""Column-wise coercion and validation (pggw.tables.coerce)."""

from __future__ import annotations

import json
import struct
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from pggw.tables.coerce import (
    TRUNCATION_NOTICE,
    check_duplicate_keys,
    check_required,
    coerce_columns,
    to_ms,
)
from pggw.tables.model import Column, Op, Table
from pggw.wire import types as T
from pggw.wire.errors import PgError

MS_2024 = 1_704_067_200_000  # 2024-01-01T00:00:00Z

TYPED = Table(
    name="typed",
    resource="x",
    columns=(
        Column("b", T.BOOL),
        Column("i2", T.INT2),
        Column("i4", T.INT4),
        Column("i8", T.INT8),
        Column("f4", T.FLOAT4),
        Column("f8", T.FLOAT8),
        Column("n", T.NUMERIC),
        Column("t", T.TEXT),
        Column("v", T.VARCHAR, max_length=5),
        Column("j", T.JSON),
        Column("jb", T.JSONB),
        Column("ts", T.TIMESTAMPTZ),
        Column("tsn", T.TIMESTAMP),
        Column("d", T.DATE),
        Column("ai", T.INT8_ARRAY),
        Column("at", T.TEXT_ARRAY),
        Column("rng", T.INT8, min_value=1, max_value=100),
        Column("conf", T.FLOAT4, min_value=0, max_value=1),
        Column("since", T.TIMESTAMPTZ, min_value=0),
        Column("choice", T.VARCHAR, choices=("success", "failure")),
        Column("req", T.TEXT, required=True),
        Column("ro", T.INT8, read_only=True),
    ),
    key=(),
)
ASSETS = Table(
    name="assets",
    resource="assets",
    columns=(
        Column("id", T.INT8, cdf="id", read_only=True),
        Column("external_id", T.VARCHAR, cdf="externalId", max_length=255),
        Column("name", T.VARCHAR, cdf="name", required=True, max_length=140),
        Column("parent_id", T.INT8, cdf="parentId"),
        Column("parent_external_id", T.VARCHAR, max_length=255),
        Column("description", T.VARCHAR, max_length=500),
        Column("metadata", T.JSON, cdf="metadata", check="metadata"),
        Column("labels", T.VARCHAR_ARRAY, cdf="labels", max_items=3, max_length=10,
               check="labels"),
        Column("geo_location", T.JSON, check="geojson"),
        Column("created_time", T.TIMESTAMPTZ, read_only=True),
    ),
    key=("external_id",),
    ops=frozenset(Op),
)
DPS = Table(
    name="double_datapoints",
    resource="timeseries/data",
    columns=(
        Column("id", T.INT8, cdf="id"),
        Column("external_id", T.VARCHAR, cdf="externalId", max_length=255),
        Column("timestamp", T.TIMESTAMPTZ, cdf="timestamp", required=True,
               min_value=-2_208_988_800_000, max_value=4_102_444_799_999,
               check="datapoint_timestamp"),
        Column("value", T.FLOAT8, cdf="value", check="datapoint_value"),
        Column("status_code", T.INT8, check="datapoint_status"),
    ),
    key=("external_id", "timestamp"),
    ops=frozenset({Op.INSERT, Op.UPSERT, Op.DELETE}),
)
SDPS = Table(
    name="string_datapoints",
    resource="timeseries/data",
    columns=(
        Column("external_id", T.VARCHAR, max_length=255),
        Column("timestamp", T.TIMESTAMPTZ, required=True),
        Column("value", T.VARCHAR, max_length=255, check="string_datapoint_value"),
        Column("status_code", T.INT8, check="datapoint_status"),
    ),
    key=("external_id", "timestamp"),
    ops=frozenset({Op.INSERT, Op.UPSERT, Op.DELETE}),
)
SEQ = Table(
    name="sequences",
    resource="sequences",
    columns=(
        Column("external_id", T.VARCHAR),
        Column("columns", T.JSON, required=True, check="sequence_columns"),
        Column("metadata", T.JSON, check="metadata"),
    ),
    key=("external_id",),
    ops=frozenset(Op),
)
SEQ_ROWS = Table(
    name="sequence_rows",
    resource="sequences/data",
    columns=(
        Column("external_id", T.VARCHAR),
        Column("row_number", T.INT8, required=True, min_value=0),
        Column("values", T.JSON, required=True, check="sequence_row_values"),
    ),
    key=("external_id", "row_number"),
    ops=frozenset({Op.INSERT, Op.UPSERT, Op.DELETE}),
)
RAW = Table(
    name="raw_rows",
    resource="raw",
    columns=(
        Column("_raw_key", T.TEXT, required=True),
        Column("_raw_columns", T.JSON, required=True, check="raw_columns"),
    ),
    key=("_raw_key",),
    ops=frozenset({Op.INSERT, Op.UPSERT, Op.DELETE}),
)
EVENTS = Table(
    name="events",
    resource="events",
    columns=(
        Column("external_id", T.VARCHAR),
        Column("start_time", T.TIMESTAMPTZ),
        Column("end_time", T.TIMESTAMPTZ),
        Column("metadata", T.JSON, check="metadata"),
    ),
    key=("external_id",),
    ops=frozenset(Op),
)
EXTPIPES = Table(
    name="extraction_pipelines",
    resource="extpipes",
    columns=(
        Column("external_id", T.VARCHAR),
        Column("raw_tables", T.JSON, check="extpipe_raw_tables"),
        Column("contacts", T.JSON, check="extpipe_contacts"),
        Column("schedule", T.VARCHAR, check="extpipe_schedule"),
        Column("notification_config", T.JSON, check="extpipe_notification_config"),
        Column("data_set_id", T.INT8),
    ),
    key=("external_id",),
    ops=frozenset(Op),
)


def one(table: Table, col: str, value: Any, source: str = "text", **kw: Any) -> Any:
    out, _ = coerce_columns(table, [col], [[value]], source=source, **kw)
    return out[col][0]


def fails(table: Table, cols: list[str], vals: list[list[Any]], source: str = "text",
          **kw: Any) -> PgError:
    with pytest.raises(PgError) as ei:
        coerce_columns(table, cols, vals, source=source, **kw)
    return ei.value


def fail1(table: Table, col: str, value: Any, source: str = "text", **kw: Any) -> PgError:
    return fails(table, [col], [[value]], source, **kw)


# --------------------------------------------------------------------------- text input


@pytest.mark.parametrize(
    ("col", "text", "expected"),
    [
        ("b", "t", True), ("b", "f", False), ("b", "TRUE", True), ("b", "false", False),
        ("b", "1", True), ("b", "0", False), ("b", "yes", True), ("b", "no", False),
        ("b", "on", True), ("b", "off", False), ("b", " True ", True),
        ("i2", "-32768", -32768), ("i4", " 42 ", 42), ("i8", "+9223372036854775807", 2**63 - 1),
        ("f8", "1.5", 1.5), ("f8", "-1e-3", -0.001), ("f8", "1E300", 1e300),
        ("f4", "0.5", 0.5), ("n", "12", 12), ("n", "1.25", 1.25),
        ("t", "x\ty", "x\ty"), ("t", "", ""), ("v", "abcde", "abcde"), ("v", "æøåäö", "æøåäö"),
        ("j", '{"a": [1, 2]}', {"a": [1, 2]}), ("jb", "[true, null]", [True, None]),
        ("j", "3", 3),
        ("ts", "2024-01-01 00:00:00+00", MS_2024),
        ("ts", "2024-01-01T00:00:00Z", MS_2024),
        ("ts", "2024-01-01T01:00:00+01:00", MS_2024),
        ("ts", "2024-01-01 02:30:00+0230", MS_2024),
        ("ts", "2024-01-01 00:00:01.042+00", MS_2024 + 1042),
        ("ts", "2024-01-01 00:00:00", MS_2024),
        ("ts", "2024-01-01", MS_2024),
        ("ts", "2024-1-1 0:0:0+00", MS_2024),
        ("ts", "2024-01-01 00:00:00 UTC", MS_2024),
        ("ts", "2023-12-31 19:00:00-05", MS_2024),
        ("ts", "1969-12-31 23:59:59.999Z", -1),
        ("tsn", "2024-01-01 00:00:00", MS_2024),
        ("tsn", "2024-01-01 00:00:00+05", MS_2024),  # PostgreSQL ignores the zone
        ("d", "2024-01-01", MS_2024),
        ("ai", "{1,2,3}", [1, 2, 3]),
        ("at", '{a,"b c",NULL,"d\\"e"}', ["a", "b c", None, 'd"e']),
        ("at", "{}", []),
    ],
)
def test_text_input(col: str, text: str, expected: Any) -> None:
    assert one(TYPED, col, text) == expected


def test_text_null_is_none() -> None:
    out, _ = coerce_columns(TYPED, ["i8", "ts", "t"], [[None, "1"], [None, "2024-01-01"],
                                                      [None, "x"]], source="text")
    assert out == {"i8": [None, 1], "ts": [None, MS_2024], "t": [None, "x"]}


def test_nan_and_infinity_floats() -> None:
    out, _ = coerce_columns(TYPED, ["f8"], [["NaN", "Infinity", "-Infinity", "inf"]],
                            source="text")
    v = out["f8"]
    assert v[0] != v[0] and v[1] == float("inf") and v[2] == float("-inf")


@pytest.mark.parametrize(
    ("col", "text", "state", "message"),
    [
        ("i8", "x", "22P02", 'invalid input syntax for type bigint: "x"'),
        ("i8", "1.5", "22P02", 'invalid input syntax for type bigint: "1.5"'),
        ("i8", "", "22P02", 'invalid input syntax for type bigint: ""'),
        ("i4", "99999999999", "22003", 'value "99999999999" is out of range for type integer'),
        ("i2", "40000", "22003", 'value "40000" is out of range for type smallint'),
        ("f8", "abc", "22P02", 'invalid input syntax for type double precision: "abc"'),
        ("f8", "1e400", "22003", '"1e400" is out of range for type double precision'),
        ("f4", "1e39", "22003", '"1e39" is out of range for type real'),
        ("b", "maybe", "22P02", 'invalid input syntax for type boolean: "maybe"'),
        ("v", "abcdef", "22001", "value too long for type character varying(5)"),
        ("ts", "not a date", "22007", None),
        ("ts", "2024-13-01", "22008", None),
        ("d", "2024-02-30", "22008", 'date/time field value out of range: "2024-02-30"'),
        ("ai", "{1,x}", "22P02", 'invalid input syntax for type bigint: "x"'),
        ("ai", "1,2", "22P02", 'malformed array literal: "1,2"'),
        ("j", "{bad", "22P02", "invalid input syntax for type json"),
        ("t", "a\x00b", "22021", None),
    ],
)
def test_text_input_errors(col: str, text: str, state: str, message: str | None) -> None:
    e = fail1(TYPED, col, text)
    assert e.sqlstate == state
    if message is not None:
        assert e.message == message
    assert e.table == "typed" and e.column == col


@pytest.mark.parametrize("text", ["infinity", "-infinity", "Infinity", " +infinity "])
def test_infinite_timestamps_are_not_supported(text: str) -> None:
    e = fail1(TYPED, "ts", text)
    assert e.sqlstate == "0A000" and "infinite" in e.message


def test_error_names_row_column_and_value() -> None:
    e = fails(TYPED, ["i8"], [["1", "2", "zz"]], first_row=10)
    assert e.where == 'relation "typed", row 12, column i8: "zz"'


def test_error_where_callback_like_copy() -> None:
    e = fails(TYPED, ["i4"], [["1", "zz"]], where=lambda r, c: f"COPY typed, line {r}, column {c}",
              first_row=2)
    assert e.where == 'COPY typed, line 3, column i4: "zz"'
    assert e.message == 'invalid input syntax for type integer: "zz"'


def test_error_in_later_bulk_value_found() -> None:
    vals = [str(i) for i in range(10_000)]
    vals[7777] = "oops"
    e = fails(TYPED, ["f8"], [vals])
    assert e.where is not None and "row 7778" in e.where and '"oops"' in e.where


def test_error_in_timestamp_tail_after_fast_chunks() -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    vals = [(base + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S+00") for i in range(20_000)]
    vals[15_000] = "2024-01-01 25:00:00+00"
    e = fails(TYPED, ["ts"], [vals])
    assert e.where is not None and "row 15001" in e.where


# --------------------------------------------------------------------------- timestamps


def test_timestamps_truncate_to_ms_with_one_notice() -> None:
    out, notes = coerce_columns(
        TYPED, ["ts"], [["2024-01-01 00:00:00.0015+00", "2024-01-01 00:00:00.0019+00"]],
        source="text")
    assert out["ts"] == [MS_2024 + 1, MS_2024 + 1]
    assert notes == [TRUNCATION_NOTICE]


def test_no_notice_without_truncation() -> None:
    _, notes = coerce_columns(TYPED, ["ts"], [["2024-01-01 00:00:00.123+00"]], source="text")
    assert notes == []


def test_truncation_before_1970_floors() -> None:
    assert one(TYPED, "ts", "1969-12-31 23:59:59.9995+00") == -1


def test_session_time_zone_applies_to_zone_less_values() -> None:
    assert one(TYPED, "ts", "2024-01-01 01:00:00", timezone="Europe/Oslo") == MS_2024
    assert one(TYPED, "ts", "2024-07-01 02:00:00", timezone="Europe/Oslo") == to_ms(
        datetime(2024, 7, 1, tzinfo=UTC))
    # explicit offsets win over the session zone
    assert one(TYPED, "ts", "2024-01-01 00:00:00+00", timezone="Europe/Oslo") == MS_2024


def test_session_time_zone_for_bulk_values() -> None:
    vals = [f"2024-01-01 01:00:{s:02d}" for s in range(60)] * 100
    out, _ = coerce_columns(TYPED, ["ts"], [vals], source="text", timezone="Europe/Oslo")
    assert out["ts"][:2] == [MS_2024, MS_2024 + 1000]


def test_unknown_time_zone() -> None:
    assert fail1(TYPED, "ts", "2024-01-01", timezone="Nowhere/Zone").sqlstate == "22023"


@pytest.mark.parametrize(
    "fmt",
    ["%Y-%m-%d %H:%M:%S+00", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S.%f+00:00",
     "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S-0500"],
)
def test_bulk_timestamps_match_datetime(fmt: str) -> None:
    base = datetime(2023, 12, 31, 23, 0, tzinfo=UTC)
    dts = [base + timedelta(milliseconds=i * 997) for i in range(30_000)]
    texts = [d.strftime(fmt) for d in dts]
    out, _ = coerce_columns(TYPED, ["ts"], [texts], source="text")
    expected = [to_ms(datetime.fromisoformat(t.replace("Z", "+00:00"))) for t in texts]
    assert out["ts"] == expected


def test_to_ms() -> None:
    assert to_ms(datetime(2024, 1, 1, tzinfo=UTC)) == MS_2024
    assert to_ms(datetime(2024, 1, 1)) == MS_2024
    assert to_ms(date(2024, 1, 1)) == MS_2024


# --------------------------------------------------------------------------- binary input


def test_binary_ints_any_width() -> None:
    out, _ = coerce_columns(TYPED, ["i8", "i4"], [[struct.pack(">h", 5), struct.pack(">h", -1)],
                                                  [struct.pack(">q", 7), struct.pack(">q", 8)]],
                            source="binary", oids=[T.INT2.oid, T.INT8.oid])
    assert out == {"i8": [5, -1], "i4": [7, 8]}


def test_binary_int_out_of_range_for_column() -> None:
    e = fails(TYPED, ["i4"], [[struct.pack(">q", 2**40)]], source="binary", oids=[T.INT8.oid])
    assert e.sqlstate == "22003"


def test_binary_int_into_float_column() -> None:
    out, _ = coerce_columns(TYPED, ["f8"], [[struct.pack(">h", 3)]], source="binary",
                            oids=[T.INT2.oid])
    assert out["f8"] == [3.0] and type(out["f8"][0]) is float


def test_binary_floats() -> None:
    out, _ = coerce_columns(TYPED, ["f8", "f4"], [[struct.pack(">d", 1.5)],
                                                  [struct.pack(">f", 0.25)]],
                            source="binary", oids=[T.FLOAT8.oid, T.FLOAT4.oid])
    assert out == {"f8": [1.5], "f4": [0.25]}


def test_binary_timestamptz_psycopg_capture() -> None:
    raw = bytes.fromhex("0002b0d5d4e94000")  # 2024-01-01T00:00Z as captured from psycopg
    assert one(TYPED, "ts", raw, "binary", oids=[T.TIMESTAMPTZ.oid]) == MS_2024


def test_binary_timestamp_truncation_notice() -> None:
    raw = struct.pack(">q", 757_382_400_000_123)
    out, notes = coerce_columns(TYPED, ["ts"], [[raw]], source="binary",
                                oids=[T.TIMESTAMPTZ.oid])
    assert out["ts"] == [MS_2024] and notes == [TRUNCATION_NOTICE]


def test_binary_infinite_timestamp() -> None:
    e = fail1(TYPED, "ts", struct.pack(">q", 2**63 - 1), "binary", oids=[T.TIMESTAMPTZ.oid])
    assert e.sqlstate == "0A000"


def test_binary_text_and_null() -> None:
    out, _ = coerce_columns(TYPED, ["t"], [[b"abc", None, "æ".encode()]], source="binary",
                            oids=[T.TEXT.oid])
    assert out["t"] == ["abc", None, "æ"]


def test_binary_invalid_utf8() -> None:
    assert fail1(TYPED, "t", b"\xff", "binary", oids=[T.TEXT.oid]).sqlstate == "22021"


def test_binary_jsonb_version_byte() -> None:
    assert one(TYPED, "jb", b'\x01{"a": 1}', "binary", oids=[T.JSONB.oid]) == {"a": 1}
    e = fail1(TYPED, "jb", b'{"a": 1}', "binary", oids=[T.JSONB.oid])
    assert e.sqlstate == "22P03" and "jsonb version" in e.message


def test_binary_json() -> None:
    assert one(TYPED, "j", b'[1]', "binary", oids=[T.JSON.oid]) == [1]


@pytest.mark.parametrize("depth", [201, 100_000])
@pytest.mark.parametrize("source", ["text", "binary"])
def test_deeply_nested_json_is_54001(depth: int, source: str) -> None:
    doc = '{"a":' * depth + "1" + "}" * depth
    value = doc if source == "text" else b"\x01" + doc.encode()
    e = fail1(TYPED, "jb", value, source, **({"oids": [T.JSONB.oid]} if source == "binary" else {}))
    assert e.sqlstate == "54001" and e.message == "stack depth limit exceeded"


def test_json_nested_to_the_limit_is_accepted() -> None:
    doc = "[" * 200 + "]" * 200
    assert one(TYPED, "j", doc) == json.loads(doc)
    # Brackets inside strings do not count.
    assert one(TYPED, "j", json.dumps(["[" * 1000])) == ["[" * 1000]


def test_binary_bool_and_date() -> None:
    assert one(TYPED, "b", b"\x01", "binary", oids=[T.BOOL.oid]) is True
    assert one(TYPED, "d", struct.pack(">i", 8766), "binary", oids=[T.DATE.oid]) == MS_2024


def test_binary_text_array() -> None:
    data = struct.pack(">iiiii", 1, 0, T.TEXT.oid, 2, 1) + struct.pack(">i", 1) + b"a" + \
        struct.pack(">i", 2) + b"bc"
    assert one(TYPED, "at", data, "binary", oids=[T.TEXT_ARRAY.oid]) == ["a", "bc"]


def test_binary_unknown_sender_oid_uses_column_type() -> None:
    assert one(TYPED, "i8", struct.pack(">q", 9), "binary", oids=[0]) == 9


def test_binary_text_sender_into_int_column() -> None:
    assert one(TYPED, "i8", b"42", "binary", oids=[T.TEXT.oid]) == 42


def test_binary_bad_length() -> None:
    assert fail1(TYPED, "f8", b"\x00\x01\x02", "binary", oids=[T.FLOAT8.oid]).sqlstate == "22P03"


def test_binary_numeric() -> None:
    # 1.5 = ndigits 2, weight 0, sign +, dscale 1, digits [1, 5000]
    data = struct.pack(">hhhhhh", 2, 0, 0, 1, 1, 5000)
    assert one(TYPED, "f8", data, "binary", oids=[T.NUMERIC.oid]) == 1.5


# --------------------------------------------------------------------------- python input


@pytest.mark.parametrize(
    ("col", "value", "expected"),
    [
        ("i8", 5, 5), ("i8", 2.5, 3), ("i8", -2.5, -3), ("i8", "7", 7),
        ("f8", 1, 1.0), ("f8", 1.5, 1.5), ("f8", Decimal("2.5"), 2.5),
        ("n", Decimal("3"), 3), ("n", 1.5, 1.5),
        ("b", True, True), ("b", "yes", True),
        ("t", 12, "12"), ("t", True, "true"), ("t", "x", "x"),
        ("j", {"a": "b"}, {"a": "b"}), ("j", '{"a": "b"}', {"a": "b"}), ("j", [1], [1]),
        ("ts", datetime(2024, 1, 1, tzinfo=UTC), MS_2024),
        ("ts", datetime(2024, 1, 1), MS_2024),
        ("ts", "2024-01-01T00:00:00+00:00", MS_2024),
        ("d", date(2024, 1, 1), MS_2024),
        ("ai", [1, 2], [1, 2]), ("ai", ["1", "2"], [1, 2]), ("ai", "{3}", [3]),
        ("at", ["a", None], ["a", None]),
    ],
)
def test_python_input(col: str, value: Any, expected: Any) -> None:
    assert one(TYPED, col, value, "python") == expected


def test_python_all_ints_bulk() -> None:
    out, _ = coerce_columns(TYPED, ["i8", "f8"], [[1, 2, None], [1.5, None, 2.0]],
                            source="python")
    assert out == {"i8": [1, 2, None], "f8": [1.5, None, 2.0]}


@pytest.mark.parametrize(
    ("col", "value", "state"),
    [("i8", True, "42804"), ("b", 1, "42804"), ("i4", 2**40, "22003"), ("ts", 5, "42804"),
     ("f8", "x", "22P02"), ("i8", float("nan"), "22003"), ("t", b"x", "42804")],
)
def test_python_input_errors(col: str, value: Any, state: str) -> None:
    assert fail1(TYPED, col, value, "python").sqlstate == state


def test_python_int_bulk_out_of_range() -> None:
    e = fails(TYPED, ["i2"], [[1, 2, 70000]], source="python")
    assert e.sqlstate == "22003" and e.where is not None and "row 3" in e.where


def test_per_column_sources() -> None:
    out, _ = coerce_columns(TYPED, ["i8", "t", "f8"], [["1"], [b"x"], [2.5]],
                            source=["text", "binary", "python"], oids=[0, T.TEXT.oid, 0])
    assert out == {"i8": [1], "t": ["x"], "f8": [2.5]}


def test_mixed_source_is_python() -> None:
    out, _ = coerce_columns(TYPED, ["i8"], [[5, "6"]], source="mixed")
    assert out == {"i8": [5, 6]}


# --------------------------------------------------------------------------- column rules


def test_required_null() -> None:
    e = fails(TYPED, ["t", "req"], [["a", "b"], ["x", None]])
    assert e.sqlstate == "23502"
    assert e.message == ('null value in column "req" of relation "typed" violates '
                         "not-null constraint")
    assert e.detail == "Failing row contains (b, null)."
    assert e.where is not None and "row 2" in e.where


def test_read_only_non_null_rejected() -> None:
    e = fail1(TYPED, "ro", "5")
    assert e.sqlstate == "428C9"
    assert e.message == 'cannot insert a non-DEFAULT value into column "ro"'


def test_read_only_null_is_dropped() -> None:
    out, _ = coerce_columns(TYPED, ["ro", "t"], [[None], ["x"]], source="text")
    assert out == {"t": ["x"]}


def test_unknown_column() -> None:
    e = fail1(TYPED, "nope", "1")
    assert (e.sqlstate, e.message) == ("42703", 'column "nope" of relation "typed" does not exist')


def test_min_max_value() -> None:
    assert one(TYPED, "rng", "100") == 100
    e = fail1(TYPED, "rng", "101")
    assert e.sqlstate == "22003" and "out of range" in e.message and e.detail == \
        "CDF accepts 1 to 100."
    assert fail1(TYPED, "rng", "0").sqlstate == "22003"
    assert fail1(TYPED, "conf", "1.5").sqlstate == "22003"
    assert fail1(TYPED, "conf", "NaN").sqlstate == "22003"


def test_min_value_timestamp() -> None:
    e = fail1(TYPED, "since", "1969-12-31 23:59:59Z")
    assert e.sqlstate == "22008"


def test_choices() -> None:
    assert one(TYPED, "choice", "success") == "success"
    e = fail1(TYPED, "choice", "maybe")
    assert e.sqlstate == "22P02" and "success, failure" in (e.detail or "")


def test_varchar_counts_characters_not_bytes() -> None:
    assert one(TYPED, "v", "æææææ") == "æææææ"


def test_values_and_columns_length_mismatch() -> None:
    with pytest.raises(ValueError):
        coerce_columns(TYPED, ["t", "i8"], [["a"]], source="text")


# --------------------------------------------------------------------------- CDF checks


def test_metadata_ok() -> None:
    assert one(ASSETS, "metadata", '{"k": "v"}') == {"k": "v"}


@pytest.mark.parametrize(
    ("md", "fragment"),
    [
        ('["a"]', "JSON object"),
        ('{"k": 1}', "not a string"),
        ('{"' + "k" * 129 + '": "v"}', "bytes long"),
        ('{"k": "' + "v" * 10_241 + '"}', "bytes long"),
        (json.dumps({f"k{i}": "v" for i in range(257)}), "257 keys"),
        (json.dumps({f"k{i}": "v" * 100 for i in range(120)}), "bytes in total"),
        ('{"k": "' + "æ" * 5_121 + '"}', "bytes long"),
    ],
)
def test_metadata_limits(md: str, fragment: str) -> None:
    e = fails(ASSETS, ["name", "metadata"], [["x"], [md]])
    assert e.sqlstate == "22023" and fragment in e.message
    assert e.column == "metadata"


def test_metadata_limits_per_table() -> None:
    # events allow values up to 128000 bytes
    big = '{"k": "' + "v" * 20_000 + '"}'
    assert one(EVENTS, "metadata", big) == {"k": "v" * 20_000}
    assert fails(ASSETS, ["name", "metadata"], [["x"], [big]]).sqlstate == "22023"


def test_geojson() -> None:
    g = '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}}'
    assert one(ASSETS, "geo_location", g)["geometry"]["type"] == "Point"
    for bad in ('{"type": "Point", "coordinates": [1, 2]}',
                '{"type": "Feature", "geometry": {"type": "Circle", "coordinates": []}}',
                '{"type": "Feature", "geometry": {"type": "Point"}}'):
        assert fails(ASSETS, ["name", "geo_location"], [["x"], [bad]]).sqlstate == "22023"


def test_labels() -> None:
    assert one(ASSETS, "labels", "{a,b}") == ["a", "b"]
    e = fails(ASSETS, ["name", "labels"], [["x"], ["{a,b,c,d}"]])
    assert e.sqlstate == "22023" and "too many elements" in e.message
    assert fails(ASSETS, ["name", "labels"], [["x"], ["{a,a}"]]).sqlstate == "22023"
    assert fails(ASSETS, ["name", "labels"], [["x"], ["{a,NULL}"]]).sqlstate == "23502"
    assert fails(ASSETS, ["name", "labels"], [["x"], ["{abcdefghijk}"]]).sqlstate == "22001"
    assert fails(ASSETS, ["name", "labels"], [["x"], ["{{a},{b}}"]]).sqlstate == "22023"


def test_sequence_columns() -> None:
    ok = '[{"externalId": "c1", "valueType": "string"}, {"externalId": "c2"}]'
    assert len(one(SEQ, "columns", ok)) == 2
    for bad in ("[]", '[{"name": "x"}]', '[{"externalId": "a"}, {"externalId": "a"}]',
                '[{"externalId": "a", "valueType": "BLOB"}]', '{"externalId": "a"}',
                json.dumps([{"externalId": f"c{i}"} for i in range(401)]),
                json.dumps([{"externalId": f"c{i}", "valueType": "STRING"} for i in range(201)]),
                '[{"externalId": "a", "metadata": {"k": 1}}]'):
        assert fail1(SEQ, "columns", bad).sqlstate == "22023", bad


def test_sequence_row_values() -> None:
    got = one(SEQ_ROWS, "values", '{"a": 1, "b": "x", "c": null}', partial=True)
    assert got == {"a": 1, "b": "x", "c": None}
    for bad in ('[1]', '{"a": [1]}', '{"a": "' + "x" * 257 + '"}', '{"a": 1e101}',
                '{"a": true}'):
        assert fails(SEQ_ROWS, ["external_id", "row_number", "values"],
                     [["s"], ["0"], [bad]]).sqlstate == "22023", bad


def test_sequence_row_number_min() -> None:
    e = fails(SEQ_ROWS, ["external_id", "row_number", "values"], [["s"], ["-1"], ["{}"]])
    assert e.sqlstate == "22003"


def test_raw_columns_must_be_object() -> None:
    assert one(RAW, "_raw_columns", '{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    assert fails(RAW, ["_raw_key", "_raw_columns"], [["k"], ["[1]"]]).sqlstate == "22023"


def test_raw_row_size_limit() -> None:
    big = json.dumps({"a": "x" * (5 * 1024 * 1024)})
    assert fails(RAW, ["_raw_key", "_raw_columns"], [["k"], [big]]).sqlstate == "22023"


def test_extpipe_checks() -> None:
    out, _ = coerce_columns(
        EXTPIPES, ["data_set_id", "raw_tables", "contacts", "schedule", "notification_config"],
        [["1"], ['[{"dbName": "d", "tableName": "t"}]'],
         ['[{"email": "a@b.c", "sendNotification": true}]'],
         ["0 * * * *"], ['{"allowedNotSeenRangeInMinutes": 5}']], source="text")
    assert out["schedule"] == ["0 * * * *"]
    assert fail1(EXTPIPES, "raw_tables", '[{"dbName": "d"}]', partial=True).sqlstate == "22023"
    assert fail1(EXTPIPES, "contacts", '[{"sendNotification": "yes"}]',
                 partial=True).sqlstate == "22023"
    assert fail1(EXTPIPES, "schedule", "whenever", partial=True).sqlstate == "22023"
    assert fail1(EXTPIPES, "notification_config", '{"allowedNotSeenRangeInMinutes": -1}',
                 partial=True).sqlstate == "22023"


# --------------------------------------------------------------------------- datapoints


def test_datapoints_bulk() -> None:
    out, notes = coerce_columns(
        DPS, ["external_id", "timestamp", "value"],
        [["a", "b"], ["2024-01-01 00:00:00+00", "2024-01-01 00:00:01+00"], ["1.5", "-2"]],
        source="text")
    assert out == {"external_id": ["a", "b"], "timestamp": [MS_2024, MS_2024 + 1000],
                   "value": [1.5, -2.0]}
    assert notes == []


@pytest.mark.parametrize("ts", ["1899-12-31 23:59:59.999+00", "2100-01-01 00:00:00+00"])
def test_datapoint_timestamp_range(ts: str) -> None:
    e = fails(DPS, ["external_id", "timestamp", "value"], [["a"], [ts], ["1"]])
    assert e.sqlstate == "22008" and "out of range" in e.message
    assert "1900-01-01" in (e.detail or "")


def test_datapoint_timestamp_range_edges() -> None:
    out, _ = coerce_columns(DPS, ["external_id", "timestamp", "value"],
                            [["a", "b"], ["1900-01-01 00:00:00+00", "2099-12-31 23:59:59.999+00"],
                             ["1", "2"]], source="text")
    assert out["timestamp"] == [-2_208_988_800_000, 4_102_444_799_999]


@pytest.mark.parametrize("value", ["1e100", "-1e100", "1e200", "NaN", "Infinity"])
def test_datapoint_value_range(value: str) -> None:
    e = fails(DPS, ["external_id", "timestamp", "value"], [["a"], ["2024-01-01"], [value]])
    assert e.sqlstate == "22003"


def test_datapoint_value_just_below_limit() -> None:
    assert one(DPS, "value", "9.99e99", timezone="UTC", partial=True) == 9.99e99


def test_datapoint_null_value_needs_bad_status() -> None:
    e = fails(DPS, ["external_id", "timestamp", "value"], [["a"], ["2024-01-01"], [None]])
    assert e.sqlstate == "23502"
    out, _ = coerce_columns(DPS, ["external_id", "timestamp", "value", "status_code"],
                            [["a", "b"], ["2024-01-01", "2024-01-02"], [None, "NaN"],
                             [str(0x80000000), str(0x80000000)]], source="text")
    assert out["value"][0] is None


def test_datapoint_needs_id_or_external_id() -> None:
    e = fails(DPS, ["id", "external_id", "timestamp", "value"],
              [["1", None], [None, None], ["2024-01-01", "2024-01-01"], ["1", "2"]])
    assert e.sqlstate == "23514" and e.where is not None and "row 2" in e.where
    e = fails(DPS, ["timestamp", "value"], [["2024-01-01"], ["1"]])
    assert e.sqlstate == "23514"


def test_datapoint_id_and_external_id_not_both() -> None:
    e = fails(DPS, ["id", "external_id", "timestamp", "value"],
              [["1"], ["x"], ["2024-01-01"], ["1"]])
    assert e.sqlstate == "23514"


def test_string_datapoints() -> None:
    out, _ = coerce_columns(SDPS, ["external_id", "timestamp", "value"],
                            [["a"], ["2024-01-01"], ["hello"]], source="text")
    assert out["value"] == ["hello"]
    assert fails(SDPS, ["external_id", "timestamp", "value"],
                 [["a"], ["2024-01-01"], ["x" * 256]]).sqlstate == "22001"
    assert fails(SDPS, ["external_id", "timestamp", "value"],
                 [["a"], ["2024-01-01"], [None]]).sqlstate == "23502"


def test_partial_skips_one_of() -> None:
    out, _ = coerce_columns(DPS, ["value"], [["1"]], source="text", partial=True)
    assert out == {"value": [1.0]}


def test_assets_parent_at_most_one() -> None:
    e = fails(ASSETS, ["name", "parent_id", "parent_external_id"], [["x"], ["1"], ["p"]])
    assert e.sqlstate == "23514" and "at most one" in (e.detail or "")


def test_events_end_not_before_start() -> None:
    e = fails(EVENTS, ["start_time", "end_time"], [["2024-01-02"], ["2024-01-01"]])
    assert e.sqlstate == "23514"
    out, _ = coerce_columns(EVENTS, ["start_time", "end_time"], [["2024-01-01"], ["2024-01-01"]],
                            source="text")
    assert out["start_time"] == out["end_time"]


# --------------------------------------------------------------------------- required / duplicates


def test_check_required() -> None:
    check_required(ASSETS, ["name"])
    with pytest.raises(PgError) as ei:
        check_required(ASSETS, ["external_id"])
    assert ei.value.sqlstate == "23502"
    assert ei.value.message == ('null value in column "name" of relation "assets" violates '
                                "not-null constraint")


def test_check_required_one_of_group() -> None:
    with pytest.raises(PgError) as ei:
        check_required(DPS, ["timestamp", "value"])
    assert ei.value.sqlstate == "23514"


def test_duplicate_keys_insert() -> None:
    with pytest.raises(PgError) as ei:
        check_duplicate_keys(ASSETS, {"external_id": ["a", "b", "a"]}, Op.INSERT)
    e = ei.value
    assert e.sqlstate == "23505"
    assert e.message == 'duplicate key value violates unique constraint "assets_pkey"'
    assert "Key (external_id)=(a)" in (e.detail or "") and e.where is not None and \
        "row 3" in e.where


def test_duplicate_keys_upsert() -> None:
    with pytest.raises(PgError) as ei:
        check_duplicate_keys(ASSETS, {"external_id": ["a", "a"]}, Op.UPSERT)
    assert ei.value.sqlstate == "21000"
    assert ei.value.message == "ON CONFLICT DO UPDATE command cannot affect row a second time"


def test_duplicate_keys_do_nothing_skips_later_rows() -> None:
    assert check_duplicate_keys(ASSETS, {"external_id": ["a", "b", "a", "a"]},
                                Op.INSERT_IGNORE) == [2, 3]


def test_duplicate_keys_ignores_nulls_and_overwrite_tables() -> None:
    assert check_duplicate_keys(ASSETS, {"external_id": [None, None]}, Op.INSERT) == []
    assert check_duplicate_keys(DPS, {"external_id": ["a", "a"], "timestamp": [1, 1]},
                                Op.INSERT) == []
    assert check_duplicate_keys(ASSETS, {"name": ["a", "a"]}, Op.INSERT) == []


def test_text_source_accepts_bytes_from_bind() -> None:
    out, _ = coerce_columns(TYPED, ["i8", "t", "ts"], [[b"5", None], [b"x", b"y"],
                                                      [memoryview(b"2024-01-01"), None]],
                            source="text")
    assert out == {"i8": [5, None], "t": ["x", "y"], "ts": [MS_2024, None]}
    assert fail1(TYPED, "t", b"\xff").sqlstate == "22021"


def test_date_ignores_session_zone_and_time_of_day() -> None:
    assert one(TYPED, "d", "2024-01-01", timezone="Europe/Oslo") == MS_2024
    assert one(TYPED, "d", "2024-01-01 10:30", timezone="Europe/Oslo") == MS_2024


def test_nulls_are_kept_in_place_around_bulk_conversion() -> None:
    vals = [None, "1.5", None, "2", None]
    out, _ = coerce_columns(TYPED, ["f8"], [vals], source="text")
    assert out["f8"] == [None, 1.5, None, 2.0, None]
    bins = [None, struct.pack(">q", 757_382_400_000_000), None]
    out, _ = coerce_columns(TYPED, ["ts"], [bins], source="binary", oids=[T.TIMESTAMPTZ.oid])
    assert out["ts"] == [None, MS_2024, None]


def test_error_row_is_right_with_nulls_before_it() -> None:
    e = fails(TYPED, ["i8"], [[None, None, "1", None, "x"]])
    assert e.where is not None and "row 5" in e.where


def test_all_null_column() -> None:
    out, _ = coerce_columns(TYPED, ["ts", "j"], [[None, None], [None, None]], source="binary")
    assert out == {"ts": [None, None], "j": [None, None]}


def test_json_array_max_items() -> None:
    t = Table(name="j", resource="x", columns=(Column("c", T.JSON, max_items=2),), key=())
    assert one(t, "c", "[1, 2]") == [1, 2]
    assert fail1(t, "c", "[1, 2, 3]").sqlstate == "22023"
