"""Parsing write statements into plans (pggw.sql.write)."""

from __future__ import annotations

from typing import Any

import pytest

from pggw.sql.write import (
    CopyPlan,
    CreateTempTablePlan,
    DeletePlan,
    DropTablePlan,
    InsertPlan,
    InsertSelectPlan,
    Param,
    TruncatePlan,
    UpdatePlan,
    clear_cache,
    decode_params,
    first_keyword,
    parse_write,
    plan_for,
)
from pggw.tables.model import Column, Op, Table
from pggw.tables.registry import Registry, builtin_registry
from pggw.wire import types as T
from pggw.wire.errors import PgError

ASSETS = Table(
    name="assets",
    resource="assets",
    columns=(
        Column("id", T.INT8, cdf="id", read_only=True),
        Column("external_id", T.VARCHAR, cdf="externalId", max_length=255),
        Column("name", T.VARCHAR, cdf="name", required=True, max_length=140),
        Column("parent_id", T.INT8, cdf="parentId"),
        Column("description", T.VARCHAR, cdf="description", max_length=500),
        Column("metadata", T.JSON, cdf="metadata", check="metadata"),
        Column("labels", T.VARCHAR_ARRAY, cdf="labels", max_items=10, check="labels"),
        Column("created_time", T.TIMESTAMPTZ, cdf="createdTime", read_only=True),
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
        Column("timestamp", T.TIMESTAMPTZ, cdf="timestamp", required=True),
        Column("value", T.FLOAT8, cdf="value", check="datapoint_value"),
    ),
    key=("external_id", "timestamp"),
    ops=frozenset({Op.INSERT, Op.UPSERT, Op.DELETE}),
)
LABELS = Table(
    name="labels",
    resource="labels",
    columns=(
        Column("external_id", T.VARCHAR, cdf="externalId", required=True),
        Column("name", T.VARCHAR, cdf="name", required=True),
    ),
    key=("external_id",),
    ops=frozenset({Op.INSERT, Op.INSERT_IGNORE, Op.DELETE}),
)
RAW = Table(
    name="raw_rows",
    resource="raw",
    columns=(
        Column("_raw_database", T.VARCHAR, required=True),
        Column("_raw_table", T.VARCHAR, required=True),
        Column("_raw_key", T.TEXT, cdf="key", required=True),
        Column("_raw_columns", T.JSON, cdf="columns", required=True),
    ),
    key=("_raw_database", "_raw_table", "_raw_key"),
    ops=frozenset({Op.INSERT, Op.UPSERT, Op.DELETE}),
)
REG = Registry([ASSETS, DPS, LABELS, RAW])
STAGE = Table(
    name="stage",
    resource="",
    columns=(Column("xid", T.TEXT), Column("nm", T.TEXT), Column("ts", T.TEXT)),
    key=(),
    schema="pg_temp",
    kind="temp",
)
TEMPS = {"stage": STAGE}


def parse(sql: str, temps: dict[str, Table] | None = None) -> Any:
    return parse_write(sql, REG, temps or {})


def err(sql: str, temps: dict[str, Table] | None = None) -> PgError:
    with pytest.raises(PgError) as ei:
        parse(sql, temps)
    return ei.value


# --------------------------------------------------------------------------- routing


@pytest.mark.parametrize(
    "sql",
    ["SELECT 1", "SET TimeZone = 'UTC'", "BEGIN", "show x", "  -- c\n select 2", "",
     "WITH x AS (SELECT 1) SELECT * FROM x", "CREATE INDEX i ON t (a)", "DROP VIEW v",
     "CREATE EXTENSION foo"],
)
def test_non_writes_return_none(sql: str) -> None:
    assert parse(sql) is None


def test_first_keyword_skips_comments() -> None:
    assert first_keyword("/* x */ -- y\n  Insert into") == "insert"
    assert first_keyword("") == ""


# --------------------------------------------------------------------------- INSERT literals


def test_insert_literal_rows_are_column_wise() -> None:
    p = parse("INSERT INTO assets (external_id, name) VALUES ('a', 'A'), ('b', 'B')")
    assert isinstance(p, InsertPlan)
    assert p.table is ASSETS
    assert p.columns == ("external_id", "name")
    assert p.values == (["a", "b"], ["A", "B"])
    assert p.nrows == 2 and p.op is Op.INSERT and p.param_types == ()
    assert p.bind([]) == [["a", "b"], ["A", "B"]]


def test_insert_psycopg2_execute_values_form() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES "
              "('x','2024-01-01T00:00:00+00:00'::timestamptz,1.5),('y',NULL,-2)")
    assert p.values == (["x", "y"], ["2024-01-01T00:00:00+00:00", None], [1.5, -2])


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("'it''s'", "it's"),
        ("E'a\\nb'", "a\nb"),
        ("$$x$$", "x"),
        ("42", 42),
        ("-42", -42),
        ("+7", 7),
        ("- 1.5", -1.5),
        ("1e3", 1000.0),
        ("TRUE", True),
        ("false", False),
        ("NULL", None),
        ("DEFAULT", None),
        ("'5'::bigint", 5),
        ("'5'::int", 5),
        ("1.5::bigint", 2),
        ("-2.5::bigint", -3),
        ("(-2.5)::bigint", -3),
        ("'1.5'::float8", 1.5),
        ("'t'::boolean", True),
        ("1::text", "1"),
        ("CAST('7' AS BIGINT)", 7),
        ("CAST('2024-01-01' AS timestamp with time zone)", "2024-01-01"),
        ("'2024-01-01'::TIMESTAMP WITH TIME ZONE", "2024-01-01"),
        ("'2024-01-01'::timestamp(3) with time zone", "2024-01-01"),
        ("timestamptz '2024-01-01'", "2024-01-01"),
        ("'x'::character varying(10)", "x"),
        ("'1.5'::double precision", 1.5),
        ("'{\"a\": \"b\"}'::jsonb", '{"a": "b"}'),
        ("'{a,b}'", "{a,b}"),
        ("ARRAY['a', 'b']", ["a", "b"]),
        ("ARRAY[]::text[]", []),
        ("ARRAY[1, -2]", [1, -2]),
        ("'x'::pg_catalog.text", "x"),
        ("'x' :: text", "x"),
        ("/* c */ 'x'", "x"),
        ("('x')", "x"),
    ],
)
def test_insert_literal_forms(literal: str, expected: Any) -> None:
    p = parse(f"INSERT INTO assets (description) VALUES ({literal})")
    assert p.values == ([expected],)


def test_insert_standard_conforming_strings_off() -> None:
    p = parse_write("INSERT INTO assets (description) VALUES ('a\\'b')", REG,
                    standard_conforming_strings=False)
    assert isinstance(p, InsertPlan)
    assert p.values == (["a'b"],)


def test_insert_schema_qualified_and_quoted() -> None:
    p = parse('INSERT INTO public."assets" ("external_id", "name") VALUES (\'a\', \'b\')')
    assert p.table is ASSETS and p.columns == ("external_id", "name")


def test_insert_database_schema_table() -> None:
    assert parse("INSERT INTO db.public.assets (name) VALUES ('b')").table is ASSETS


def test_insert_quoted_identifier_is_case_sensitive() -> None:
    e = err('INSERT INTO "Assets" (name) VALUES (\'x\')')
    assert (e.sqlstate, e.message) == ("42P01", 'relation "Assets" does not exist')


def test_insert_unquoted_identifier_folds() -> None:
    assert parse("INSERT INTO ASSETS (NAME) VALUES ('x')").columns == ("name",)


def test_insert_with_alias() -> None:
    assert parse("INSERT INTO assets AS a (name) VALUES ('x')").columns == ("name",)


def test_insert_trailing_semicolon() -> None:
    assert parse("INSERT INTO assets (name) VALUES ('x');").nrows == 1


def test_insert_odd_spacing_and_newlines() -> None:
    p = parse("insert\ninto  assets(name,description)values('x' ,\n'y'\n)  ,  ( 'z','w' )")
    assert p.values == (["x", "z"], ["y", "w"])


def test_insert_without_column_list_uses_table_order() -> None:
    p = parse("INSERT INTO double_datapoints VALUES (NULL, 'x', '2024-01-01', 1.5)")
    assert p.columns == ("id", "external_id", "timestamp", "value")


def test_insert_without_column_list_fewer_values() -> None:
    p = parse("INSERT INTO double_datapoints VALUES (1, 'x')")
    assert p.columns == ("id", "external_id")


def test_insert_default_values() -> None:
    p = parse("INSERT INTO assets DEFAULT VALUES")
    assert p.columns == () and p.nrows == 1


def test_insert_unknown_table() -> None:
    e = err("INSERT INTO nope (a) VALUES (1)")
    assert (e.sqlstate, e.message) == ("42P01", 'relation "nope" does not exist')
    e = err("INSERT INTO other.assets (name) VALUES (1)")
    assert (e.sqlstate, e.message) == ("42P01", 'relation "other.assets" does not exist')


def test_insert_unknown_column() -> None:
    e = err("INSERT INTO assets (nme) VALUES ('x')")
    assert (e.sqlstate, e.message) == ("42703", 'column "nme" of relation "assets" does not exist')


def test_insert_duplicate_column() -> None:
    assert err("INSERT INTO assets (name, name) VALUES ('x', 'y')").sqlstate == "42701"


def test_insert_more_values_than_columns() -> None:
    e = err("INSERT INTO assets (name) VALUES ('x', 'y')")
    assert (e.sqlstate, e.message) == ("42601", "INSERT has more expressions than target columns")


def test_insert_more_values_than_table_columns() -> None:
    e = err("INSERT INTO labels VALUES ('x', 'y', 'z')")
    assert e.message == "INSERT has more expressions than target columns"


def test_insert_fewer_values_than_columns() -> None:
    e = err("INSERT INTO assets (name, description) VALUES ('x')")
    assert (e.sqlstate, e.message) == ("42601", "INSERT has more target columns than expressions")


def test_insert_ragged_values() -> None:
    e = err("INSERT INTO assets (name, description) VALUES ('x', 'y'), ('z')")
    assert e.message == "VALUES lists must all be the same length"


@pytest.mark.parametrize(
    "sql",
    ["INSERT INTO assets (name) VALUES ('x'", "INSERT INTO assets (name) VALUES",
     "INSERT INTO assets (name) VALUES ('x') junk", "INSERT INTO assets (name) VALUES ()",
     "INSERT assets (name) VALUES ('x')", "INSERT INTO assets (name) VALUES ('x',)"],
)
def test_insert_syntax_errors(sql: str) -> None:
    assert err(sql).sqlstate == "42601"


def test_insert_function_call_unsupported() -> None:
    e = err("INSERT INTO assets (name) VALUES (now())")
    assert e.sqlstate == "0A000" and "now" in e.message


def test_insert_column_reference_in_values() -> None:
    assert err("INSERT INTO assets (name) VALUES (foo)").sqlstate == "42703"


def test_insert_bad_cast_literal() -> None:
    e = err("INSERT INTO assets (parent_id) VALUES ('x'::bigint)")
    assert (e.sqlstate, e.message) == ("22P02", 'invalid input syntax for type bigint: "x"')


def test_insert_cast_to_unknown_type() -> None:
    e = err("INSERT INTO assets (name) VALUES ('x'::nosuchtype)")
    assert (e.sqlstate, e.message) == ("42704", 'type "nosuchtype" does not exist')


def test_insert_cast_out_of_range() -> None:
    assert err("INSERT INTO assets (parent_id) VALUES (99999999999::int)").sqlstate == "22003"


def test_insert_returning_unsupported() -> None:
    e = err("INSERT INTO assets (name) VALUES ('x') RETURNING id")
    assert e.sqlstate == "0A000" and "asynchronously" in e.message


def test_insert_into_read_only_table_op() -> None:
    e = err("INSERT INTO labels (external_id, name) VALUES ('a', 'b') "
            "ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name")
    assert e.sqlstate == "0A000" and "labels" in e.message


# --------------------------------------------------------------------------- ON CONFLICT


def test_on_conflict_do_update() -> None:
    p = parse("INSERT INTO assets (external_id, name, description) VALUES ('a', 'A', 'd') "
              "ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name, "
              "description = excluded.\"description\"")
    assert p.op is Op.UPSERT
    assert p.conflict_target == ("external_id",)
    assert p.update_columns == ("name", "description")


def test_on_conflict_row_form() -> None:
    p = parse("INSERT INTO assets (external_id, name) VALUES ('a', 'A') ON CONFLICT "
              "(external_id) DO UPDATE SET (name, external_id) = (EXCLUDED.name, "
              "EXCLUDED.external_id)")
    assert p.update_columns == ("name", "external_id")


def test_on_conflict_do_nothing_without_target() -> None:
    p = parse("INSERT INTO assets (external_id, name) VALUES ('a', 'A') ON CONFLICT DO NOTHING")
    assert p.op is Op.INSERT_IGNORE and p.conflict_target == ()


def test_on_conflict_do_nothing_with_target() -> None:
    p = parse("INSERT INTO labels (external_id, name) VALUES ('a', 'A') "
              "ON CONFLICT (external_id) DO NOTHING")
    assert p.op is Op.INSERT_IGNORE


def test_on_conflict_composite_key_any_order() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES "
              "('a', '2024-01-01', 1) ON CONFLICT (timestamp, external_id) DO UPDATE SET "
              "value = EXCLUDED.value")
    assert p.op is Op.UPSERT


def test_on_conflict_on_constraint() -> None:
    p = parse("INSERT INTO assets (external_id, name) VALUES ('a', 'A') "
              "ON CONFLICT ON CONSTRAINT assets_pkey DO UPDATE SET name = EXCLUDED.name")
    assert p.conflict_target == ("external_id",)


def test_on_conflict_do_nothing_unsupported_by_table() -> None:
    e = err("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES "
            "('a', '2024-01-01', 1) ON CONFLICT DO NOTHING")
    assert e.sqlstate == "0A000"


def test_on_conflict_wrong_target() -> None:
    e = err("INSERT INTO assets (name) VALUES ('A') ON CONFLICT (name) DO NOTHING")
    assert e.sqlstate == "42P10"
    assert e.message == ("there is no unique or exclusion constraint matching the ON CONFLICT "
                         "specification")


def test_on_conflict_do_update_needs_target() -> None:
    assert err("INSERT INTO assets (name) VALUES ('A') ON CONFLICT DO UPDATE SET "
               "name = EXCLUDED.name").sqlstate == "42601"


@pytest.mark.parametrize(
    "set_clause",
    ["name = 'x'", "name = EXCLUDED.description", "name = assets.name || EXCLUDED.name",
     "name = EXCLUDED.name WHERE assets.name IS NULL"],
)
def test_on_conflict_unsupported_set(set_clause: str) -> None:
    e = err("INSERT INTO assets (external_id, name) VALUES ('a', 'A') ON CONFLICT "
            f"(external_id) DO UPDATE SET {set_clause}")
    assert e.sqlstate == "0A000"


def test_on_conflict_returning() -> None:
    assert err("INSERT INTO assets (name) VALUES ('A') ON CONFLICT DO NOTHING "
               "RETURNING id").sqlstate == "0A000"


# --------------------------------------------------------------------------- INSERT params


def test_prepared_single_row_insert_binds_fast() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES ($1, $2, $3)")
    assert p.param_types == (T.VARCHAR.oid, T.TIMESTAMPTZ.oid, T.FLOAT8.oid)
    assert p.bind(["a", "t", b"v"]) == [["a"], ["t"], [b"v"]]


def test_param_types_follow_explicit_casts() -> None:
    p = parse("INSERT INTO assets (external_id, name, parent_id) VALUES "
              "($1::VARCHAR, $2::TEXT, $3::BIGINT)")
    assert p.param_types == (T.VARCHAR.oid, T.TEXT.oid, T.INT8.oid)
    assert p.values[0] == [Param(0, T.VARCHAR.oid)]


def test_params_in_any_order() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES ($3, $1, $2)")
    assert p.param_types == (T.TIMESTAMPTZ.oid, T.FLOAT8.oid, T.VARCHAR.oid)
    assert p.bind(["t", "v", "x"]) == [["x"], ["t"], ["v"]]


def test_multi_row_params_sqlalchemy_multi() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES "
              "($1::VARCHAR, $2::TIMESTAMP WITH TIME ZONE, $3), "
              "($4::VARCHAR, $5::TIMESTAMP WITH TIME ZONE, $6)")
    assert p.nrows == 2 and len(p.param_types) == 6
    assert p.bind(list("abcdef")) == [["a", "d"], ["b", "e"], ["c", "f"]]


def test_mixed_constants_and_params() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES "
              "('fixed', $1, $2), ($3, '2024-01-01', 2.5)")
    assert p.bind(["t1", "v1", "x2"]) == [["fixed", "x2"], ["t1", "2024-01-01"], ["v1", 2.5]]
    srcs, _oids = p.sources([0, 0, 0])
    assert srcs == ["mixed", "mixed", "mixed"]


def test_constant_column_with_params() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES "
              "('fixed', $1, $2)")
    assert p.param_types == (T.TIMESTAMPTZ.oid, T.FLOAT8.oid)
    assert p.bind(["t", "v"]) == [["fixed"], ["t"], ["v"]]
    assert p.bind_many([["t", "v"], ["u", "w"]]) == [["fixed", "fixed"], ["t", "u"], ["v", "w"]]


def test_bind_many_concatenates_executes() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES ($1, $2, $3)")
    assert p.bind_many([["a", "t", "1"], ["b", "u", "2"]]) == [
        ["a", "b"], ["t", "u"], ["1", "2"]]
    assert p.bind_many([]) == [[], [], []]


def test_bind_checks_parameter_count() -> None:
    p = parse("INSERT INTO assets (name) VALUES ($1)")
    with pytest.raises(PgError) as ei:
        p.bind([])
    assert ei.value.sqlstate == "08P01"


def test_sources_by_format() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp, value) VALUES ($1, $2, $3)")
    assert p.sources([0, 1, 1], [0, 0, T.INT2.oid]) == (
        ["text", "binary", "binary"], [0, T.TIMESTAMPTZ.oid, T.INT2.oid])
    assert p.sources([]) == (["text", "text", "text"], [0, 0, 0])
    assert p.sources([1]) == (["binary"] * 3, [T.VARCHAR.oid, T.TIMESTAMPTZ.oid, T.FLOAT8.oid])


def test_literal_sources_are_python() -> None:
    p = parse("INSERT INTO assets (name) VALUES ('x')")
    assert p.sources() == (["python"], [0])


def test_missing_parameter_number() -> None:
    e = err("INSERT INTO double_datapoints (external_id, value) VALUES ($1, $3)")
    assert (e.sqlstate, e.message) == ("42P18", "could not determine data type of parameter $2")


def test_param_inside_array_unsupported() -> None:
    assert err("INSERT INTO assets (labels) VALUES (ARRAY[$1])").sqlstate == "0A000"


def test_prepared_insert_with_on_conflict() -> None:
    p = parse("INSERT INTO assets (external_id, name) VALUES ($1, $2) ON CONFLICT (external_id) "
              "DO UPDATE SET name = EXCLUDED.name")
    assert p.op is Op.UPSERT and p.param_types == (T.VARCHAR.oid, T.VARCHAR.oid)


# --------------------------------------------------------------------------- INSERT ... SELECT


def test_insert_select_from_temp_table() -> None:
    p = parse("INSERT INTO assets (external_id, name) SELECT xid, nm FROM stage "
              "ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name", TEMPS)
    assert isinstance(p, InsertSelectPlan)
    assert p.source is STAGE and p.source_columns == ("xid", "nm")
    assert p.casts == (0, 0) and p.op is Op.UPSERT


def test_insert_select_with_casts_and_aliases() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp) SELECT s.xid AS x, "
              "CAST(s.ts AS timestamptz) FROM pg_temp.stage AS s", TEMPS)
    assert p.source_columns == ("xid", "ts")
    assert p.casts == (0, T.TIMESTAMPTZ.oid)


def test_insert_select_star() -> None:
    p = parse("INSERT INTO double_datapoints (external_id, timestamp, value) SELECT * FROM stage",
              TEMPS)
    assert p.source_columns == ("xid", "nm", "ts")


@pytest.mark.parametrize(
    "select",
    ["SELECT xid, nm FROM stage WHERE xid IS NOT NULL", "SELECT upper(xid), nm FROM stage",
     "SELECT 'x', nm FROM stage", "SELECT DISTINCT xid, nm FROM stage",
     "SELECT xid, nm FROM stage JOIN assets ON true"],
)
def test_insert_select_unsupported(select: str) -> None:
    assert err(f"INSERT INTO assets (external_id, name) {select}", TEMPS).sqlstate == "0A000"


def test_insert_select_from_cdf_table_unsupported() -> None:
    e = err("INSERT INTO assets (external_id, name) SELECT external_id, name FROM labels")
    assert e.sqlstate == "0A000" and "temporary" in e.message


def test_insert_select_unknown_source_column() -> None:
    assert err("INSERT INTO assets (name) SELECT nope FROM stage", TEMPS).sqlstate == "42703"


def test_insert_into_temp_table_shadows() -> None:
    p = parse("INSERT INTO stage (xid) VALUES ('a')", TEMPS)
    assert p.table is STAGE and p.temp


def test_temp_table_named_like_a_cdf_table_shadows_it() -> None:
    p = parse("INSERT INTO assets (xid) VALUES ('a')", {"assets": STAGE})
    assert p.table is STAGE and p.temp
    assert parse("INSERT INTO public.assets (name) VALUES ('a')", {"assets": STAGE}).table is ASSETS


# --------------------------------------------------------------------------- COPY


@pytest.mark.parametrize(
    ("sql", "fmt", "columns"),
    [
        ("COPY double_datapoints (external_id, timestamp, value) FROM STDIN", "text",
         ("external_id", "timestamp", "value")),
        ("COPY double_datapoints (external_id, timestamp, value) FROM STDIN (FORMAT BINARY)",
         "binary", ("external_id", "timestamp", "value")),
        ('COPY "double_datapoints"("external_id", "timestamp", "value") FROM STDIN '
         "(FORMAT binary) ", "binary", ("external_id", "timestamp", "value")),
        ("COPY double_datapoints (external_id, timestamp) FROM STDIN WITH (FORMAT csv)", "csv",
         ("external_id", "timestamp")),
        ('COPY "double_datapoints"("external_id","timestamp") FROM stdin WITH DELIMITER AS '
         "'\t' NULL AS '\\N'", "text", ("external_id", "timestamp")),
        ("COPY  double_datapoints ( external_id,timestamp ) FROM STDIN ", "text",
         ("external_id", "timestamp")),
        ("COPY  double_datapoints FROM STDIN with (format csv, header true)", "csv",
         ("id", "external_id", "timestamp", "value")),
        ("COPY double_datapoints FROM STDIN BINARY", "binary",
         ("id", "external_id", "timestamp", "value")),
        ("COPY BINARY double_datapoints FROM STDIN", "binary",
         ("id", "external_id", "timestamp", "value")),
        ("COPY public.double_datapoints (external_id) FROM STDIN CSV HEADER", "csv",
         ("external_id",)),
        ("copy double_datapoints (external_id) from stdin;", "text", ("external_id",)),
    ],
)
def test_copy_forms(sql: str, fmt: str, columns: tuple[str, ...]) -> None:
    p = parse(sql)
    assert isinstance(p, CopyPlan)
    assert p.table is DPS and p.format == fmt and p.columns == columns


def test_copy_text_defaults() -> None:
    p = parse("COPY double_datapoints FROM STDIN")
    assert (p.delimiter, p.null, p.header) == ("\t", "\\N", False)


def test_copy_csv_defaults() -> None:
    p = parse("COPY double_datapoints FROM STDIN (FORMAT csv)")
    assert (p.delimiter, p.null, p.quote, p.escape, p.header) == (",", "", '"', '"', False)


def test_copy_legacy_options() -> None:
    p = parse("COPY double_datapoints (external_id, value) FROM STDIN WITH DELIMITER AS '\t' "
              "NULL AS '\\N'")
    assert (p.format, p.delimiter, p.null) == ("text", "\t", "\\N")


def test_copy_all_csv_options() -> None:
    p = parse("COPY double_datapoints (external_id, timestamp, value) FROM STDIN WITH ("
              "FORMAT csv, HEADER true, DELIMITER ';', NULL 'NA', QUOTE '''', ESCAPE '\\', "
              "FORCE_NULL (external_id, value), FORCE_NOT_NULL (timestamp), ENCODING 'UTF8', "
              "FREEZE)")
    assert (p.delimiter, p.null, p.quote, p.escape, p.header) == (";", "NA", "'", "\\", True)
    assert p.force_null == ("external_id", "value")
    assert p.force_not_null == ("timestamp",)
    assert p.encoding == "UTF8" and p.freeze


def test_copy_legacy_csv_options() -> None:
    p = parse("COPY double_datapoints (external_id, value) FROM STDIN WITH CSV HEADER "
              "DELIMITER AS ';' QUOTE AS '\"' ESCAPE AS '\\' FORCE NOT NULL external_id")
    assert (p.format, p.header, p.delimiter, p.escape) == ("csv", True, ";", "\\")
    assert p.force_not_null == ("external_id",)


def test_copy_header_false_and_match() -> None:
    assert not parse("COPY double_datapoints FROM STDIN (FORMAT csv, HEADER false)").header
    p = parse("COPY double_datapoints FROM STDIN (FORMAT csv, HEADER match)")
    assert p.header and p.header_match


def test_copy_force_null_star() -> None:
    p = parse("COPY double_datapoints (external_id, value) FROM STDIN (FORMAT csv, "
              "FORCE_NULL *)")
    assert p.force_null == ("external_id", "value")


def test_copy_into_temp_table() -> None:
    p = parse("COPY stage (xid, nm) FROM STDIN (FORMAT binary)", TEMPS)
    assert p.table is STAGE and p.temp


@pytest.mark.parametrize(
    ("sql", "state"),
    [
        ("COPY double_datapoints TO STDOUT", "0A000"),
        ("COPY (SELECT 1) TO STDOUT", "0A000"),
        ("COPY double_datapoints FROM '/tmp/file.csv'", "0A000"),
        ("COPY double_datapoints FROM PROGRAM 'cat'", "0A000"),
        ("COPY nope FROM STDIN", "42P01"),
        ("COPY double_datapoints (nope) FROM STDIN", "42703"),
        ("COPY double_datapoints FROM STDIN (FORMAT xml)", "22023"),
        ("COPY double_datapoints FROM STDIN (FORMAT binary, DELIMITER ',')", "42601"),
        ("COPY double_datapoints FROM STDIN (QUOTE '\"')", "0A000"),
        ("COPY double_datapoints FROM STDIN (DELIMITER ',,')", "0A000"),
        ("COPY double_datapoints FROM STDIN (FORMAT csv, DELIMITER '\"')", "22023"),
        ("COPY double_datapoints (value) FROM STDIN (FORMAT csv, FORCE_NULL (external_id))",
         "42P10"),
        ("COPY double_datapoints FROM STDIN (BOGUS 1)", "42601"),
        ("COPY double_datapoints FROM STDIN (ENCODING 'LATIN1')", "0A000"),
        ("COPY double_datapoints FROM STDIN WHERE value > 1", "0A000"),
        ("COPY double_datapoints FROM STDIN junk", "42601"),
    ],
)
def test_copy_errors(sql: str, state: str) -> None:
    assert err(sql).sqlstate == state


# --------------------------------------------------------------------------- UPDATE


def test_update_by_external_id() -> None:
    p = parse("UPDATE assets SET name = 'n', description = NULL WHERE external_id = 'a'")
    assert isinstance(p, UpdatePlan)
    assert p.set_columns == ("name", "description")
    assert p.where.keys == (("external_id", ("a",)),)
    assert p.bind() == {"external_id": ["a"], "name": ["n"], "description": [None]}


def test_update_by_id_in_list_with_params() -> None:
    p = parse("UPDATE public.assets AS a SET name = $1 WHERE a.id IN ($2, $3)")
    assert p.param_types == (T.VARCHAR.oid, T.INT8.oid, T.INT8.oid)
    assert p.bind(["n", "1", "2"]) == {"id": ["1", "2"], "name": ["n", "n"]}


def test_update_row_form_set() -> None:
    p = parse("UPDATE assets SET (name, description) = ('n', 'd') WHERE external_id = 'a'")
    assert p.set_columns == ("name", "description")


def test_update_parenthesised_predicate() -> None:
    p = parse("UPDATE assets SET name = 'n' WHERE (external_id = 'a')")
    assert p.where.keys == (("external_id", ("a",)),)


@pytest.mark.parametrize(
    "where",
    ["name = 'x'", "external_id = 'a' OR external_id = 'b'", "external_id LIKE 'a%'",
     "external_id IS NULL", "external_id = 'a' AND name = 'b'", "id = 1 AND external_id = 'a'",
     "NOT external_id = 'a'", "external_id = name"],
)
def test_update_unsupported_predicates(where: str) -> None:
    e = err(f"UPDATE assets SET description = 'd' WHERE {where}")
    assert e.sqlstate == "0A000"
    assert "external_id = ..." in e.message and "id IN (...)" in e.message


def test_update_without_where() -> None:
    assert err("UPDATE assets SET name = 'x'").sqlstate == "0A000"


def test_update_read_only_column() -> None:
    e = err("UPDATE assets SET id = 5 WHERE external_id = 'a'")
    assert (e.sqlstate, e.message) == ("428C9", 'column "id" can only be updated to DEFAULT')


def test_update_unknown_column() -> None:
    assert err("UPDATE assets SET nope = 1 WHERE id = 1").sqlstate == "42703"
    assert err("UPDATE assets SET name = 'x' WHERE nope = 1").sqlstate == "42703"


def test_update_expression_unsupported() -> None:
    assert err("UPDATE assets SET name = name || 'x' WHERE id = 1").sqlstate in ("0A000", "42601")
    assert err("UPDATE assets SET name = description WHERE id = 1").sqlstate == "0A000"


def test_update_from_unsupported() -> None:
    assert err("UPDATE assets SET name = 'x' FROM stage WHERE id = 1", TEMPS).sqlstate == "0A000"


def test_update_table_without_update_op() -> None:
    e = err("UPDATE labels SET name = 'x' WHERE external_id = 'a'")
    assert e.sqlstate == "0A000" and "labels" in e.message


def test_update_returning() -> None:
    assert err("UPDATE assets SET name = 'x' WHERE id = 1 RETURNING id").sqlstate == "0A000"


# --------------------------------------------------------------------------- DELETE


def test_delete_by_external_id() -> None:
    p = parse("DELETE FROM assets WHERE external_id = 'a'")
    assert isinstance(p, DeletePlan) and p.where is not None
    assert p.where.keys == (("external_id", ("a",)),) and p.where.range_column is None


def test_delete_by_id_list() -> None:
    p = parse("DELETE FROM assets WHERE id IN (1, 2, 3)")
    cols, lo, hi = p.where.bind()
    assert cols == {"id": [1, 2, 3]} and lo is None and hi is None


def test_delete_datapoints_by_range() -> None:
    p = parse("DELETE FROM double_datapoints WHERE external_id = 'x' AND "
              "timestamp >= '2024-01-01' AND timestamp < '2024-02-01'")
    w = p.where
    assert w.range_column == "timestamp"
    assert (w.lower, w.lower_inclusive, w.upper, w.upper_inclusive) == (
        "2024-01-01", True, "2024-02-01", False)


@pytest.mark.parametrize(
    ("pred", "bounds"),
    [
        ("timestamp > 'a' AND timestamp <= 'b'", ("a", False, "b", True)),
        ("timestamp BETWEEN 'a' AND 'b'", ("a", True, "b", True)),
        ("timestamp = 'a'", ("a", True, "a", True)),
        ("timestamp >= 'a'", ("a", True, None, False)),
        ("timestamp < 'b'", (None, True, "b", False)),
    ],
)
def test_delete_datapoint_range_forms(pred: str, bounds: tuple[Any, ...]) -> None:
    p = parse(f"DELETE FROM double_datapoints WHERE external_id = 'x' AND {pred}")
    w = p.where
    assert (w.lower, w.lower_inclusive, w.upper, w.upper_inclusive) == bounds


def test_delete_datapoints_params() -> None:
    p = parse("DELETE FROM double_datapoints WHERE id = $1 AND timestamp >= $2 AND "
              "timestamp < $3::timestamptz")
    assert p.param_types == (T.INT8.oid, T.TIMESTAMPTZ.oid, T.TIMESTAMPTZ.oid)
    cols, lo, hi = p.where.bind(["7", "a", "b"])
    assert (cols, lo, hi) == ({"id": ["7"]}, "a", "b")


def test_delete_datapoints_all_of_a_series() -> None:
    p = parse("DELETE FROM double_datapoints WHERE external_id IN ('x', 'y')")
    assert p.where.bind()[0] == {"external_id": ["x", "y"]}


def test_delete_raw_rows_by_composite_key() -> None:
    p = parse("DELETE FROM raw_rows WHERE _raw_database = 'db' AND _raw_table = 't' AND "
              "_raw_key IN ('k1', 'k2')")
    cols, _, _ = p.where.bind()
    assert cols == {"_raw_database": ["db", "db"], "_raw_table": ["t", "t"],
                    "_raw_key": ["k1", "k2"]}


def test_delete_raw_rows_partial_key_unsupported() -> None:
    assert err("DELETE FROM raw_rows WHERE _raw_key = 'k'").sqlstate == "0A000"


@pytest.mark.parametrize(
    "where",
    ["value > 1", "timestamp >= '2024-01-01'", "external_id = 'x' OR id = 1",
     "external_id = 'x' AND timestamp >= 'a' AND timestamp >= 'b'",
     "external_id > 'x'"],
)
def test_delete_unsupported_predicates(where: str) -> None:
    e = err(f"DELETE FROM double_datapoints WHERE {where}")
    assert e.sqlstate == "0A000" and "timestamp >= ..." in e.message


def test_delete_without_where_is_refused() -> None:
    e = err("DELETE FROM assets")
    assert e.sqlstate == "0A000" and "bulk-deleted" in e.message and e.hint


def test_truncate_is_refused() -> None:
    e = err("TRUNCATE TABLE assets")
    assert e.sqlstate == "0A000" and "bulk-deleted" in e.message and e.hint


def test_delete_table_without_delete_op() -> None:
    t = Table(name="ro", resource="x", columns=(Column("external_id", T.TEXT),),
              key=("external_id",), ops=frozenset({Op.INSERT}))
    with pytest.raises(PgError) as ei:
        parse_write("DELETE FROM ro WHERE external_id = 'a'", Registry([t]))
    assert ei.value.sqlstate == "0A000"


def test_delete_using_unsupported() -> None:
    assert err("DELETE FROM assets USING stage WHERE id = 1", TEMPS).sqlstate == "0A000"


def test_delete_from_temp_table() -> None:
    p = parse("DELETE FROM stage", TEMPS)
    assert isinstance(p, DeletePlan) and p.where is None and p.temp


def test_truncate_temp_tables() -> None:
    p = parse("TRUNCATE stage RESTART IDENTITY", TEMPS)
    assert isinstance(p, TruncatePlan) and p.names == ("stage",)


def test_delete_unknown_table() -> None:
    assert err("DELETE FROM nope WHERE id = 1").sqlstate == "42P01"


# --------------------------------------------------------------------------- CREATE / DROP


def test_create_temp_table_with_columns() -> None:
    p = parse("CREATE TEMP TABLE s (a BIGINT, b TEXT NOT NULL, c VARCHAR(10), "
              "d TIMESTAMP WITH TIME ZONE, e DOUBLE PRECISION, f FLOAT(53), g JSONB, "
              "PRIMARY KEY (a)) ON COMMIT DROP")
    assert isinstance(p, CreateTempTablePlan)
    assert p.name == "s" and p.on_commit == "drop"
    t = p.table
    assert [c.name for c in t.columns] == list("abcdefg")
    assert [c.type.name for c in t.columns] == [
        "int8", "text", "varchar", "timestamptz", "float8", "float8", "jsonb"]
    assert t.key == ("a",) and t.kind == "temp" and t.schema == "pg_temp"


def test_create_temporary_if_not_exists_inline_primary_key() -> None:
    p = parse("CREATE LOCAL TEMPORARY TABLE IF NOT EXISTS s (k text PRIMARY KEY, v int)")
    assert p.if_not_exists and p.table.key == ("k",)


def test_create_temp_table_like() -> None:
    p = parse("CREATE TEMP TABLE s (LIKE assets INCLUDING DEFAULTS)")
    assert p.table.column_names == ASSETS.column_names
    assert not any(c.required or c.read_only or c.check for c in p.table.columns)


def test_create_temp_table_as_select_with_no_data() -> None:
    p = parse("CREATE TEMP TABLE s AS SELECT external_id, name FROM assets WITH NO DATA")
    assert p.table.column_names == ("external_id", "name")


def test_create_temp_table_as_select_with_data_unsupported() -> None:
    assert err("CREATE TEMP TABLE s AS SELECT * FROM assets").sqlstate == "0A000"


def test_create_permanent_table_refused() -> None:
    e = err("CREATE TABLE t (\n\ta BIGINT, \n\tb TEXT\n)\n\n")
    assert e.sqlstate == "0A000" and "management API" in (e.hint or "")


def test_create_temp_table_unknown_type() -> None:
    assert err("CREATE TEMP TABLE s (a nosuch)").sqlstate == "42704"


def test_create_temp_table_duplicate_column() -> None:
    assert err("CREATE TEMP TABLE s (a int, a int)").sqlstate == "42701"


def test_drop_temp_table() -> None:
    p = parse("DROP TABLE IF EXISTS stage, gone CASCADE", TEMPS)
    assert isinstance(p, DropTablePlan)
    assert p.names == ("stage",) and p.missing == ("gone",)


def test_drop_missing_table() -> None:
    e = err("DROP TABLE gone")
    assert (e.sqlstate, e.message) == ("42P01", 'table "gone" does not exist')


def test_drop_cdf_table_refused() -> None:
    assert err("DROP TABLE assets").sqlstate == "0A000"


# --------------------------------------------------------------------------- cache


def test_plan_cache_reuses_parameterised_plans() -> None:
    clear_cache()
    sql = "INSERT INTO assets (name) VALUES ($1)"
    assert plan_for(sql, REG) is plan_for(sql, REG)


def test_plan_cache_skips_literal_inserts() -> None:
    clear_cache()
    sql = "INSERT INTO assets (name) VALUES ('x')"
    assert plan_for(sql, REG) is not plan_for(sql, REG)


def test_plan_cache_is_per_registry() -> None:
    clear_cache()
    sql = "INSERT INTO assets (name) VALUES ($1)"
    other = Registry([ASSETS])
    assert plan_for(sql, REG) is not plan_for(sql, other)


def test_plan_cache_caches_copy() -> None:
    clear_cache()
    sql = "COPY double_datapoints FROM STDIN"
    assert plan_for(sql, REG) is plan_for(sql, REG)


def test_plan_cache_does_not_cache_temp_targets() -> None:
    clear_cache()
    sql = "INSERT INTO stage (xid) VALUES ($1)"
    assert plan_for(sql, REG, TEMPS) is not plan_for(sql, REG, TEMPS)


def test_plan_for_returns_none_for_non_writes() -> None:
    assert plan_for("SELECT 1", REG) is None


# --------------------------------------------------------------------------- builtin registry


def test_builtin_registry_smoke() -> None:
    reg = builtin_registry()
    p = parse_write("INSERT INTO assets (external_id, name) VALUES ('a', 'b')", reg)
    assert isinstance(p, InsertPlan) and p.table.name == "assets"
    p2 = parse_write("COPY double_datapoints (external_id, timestamp, value) FROM STDIN", reg)
    assert isinstance(p2, CopyPlan)


# --------------------------------------------------------------------------- sources / decoding


def test_update_sources() -> None:
    p = parse("UPDATE assets SET name = $1, description = 'd' WHERE external_id = $2")
    assert p.sources([1, 0], [T.TEXT.oid, 0]) == {
        "external_id": ("text", 0), "name": ("binary", T.TEXT.oid),
        "description": ("python", 0)}


def test_delete_sources_with_range() -> None:
    p = parse("DELETE FROM double_datapoints WHERE external_id = $1 AND timestamp >= $2 "
              "AND timestamp < $3")
    assert p.sources([0, 1, 1]) == {
        "external_id": ("text", 0), "timestamp": ("binary", T.TIMESTAMPTZ.oid)}


def test_null_constants_do_not_make_a_column_mixed() -> None:
    p = parse("INSERT INTO assets (name) VALUES ($1), (NULL)")
    assert p.sources([0]) == (["text"], [0])


def test_decode_params_for_mixed_columns() -> None:
    p = parse("INSERT INTO assets (parent_id) VALUES ($1), (5), ($2)")
    assert isinstance(p, InsertPlan)
    raw = p.bind([b"\x00\x00\x00\x00\x00\x00\x00\x07", "8"])[0]
    assert decode_params(raw, p.values[0], p.param_types, [1, 0]) == [7, 5, "8"]


def test_plan_for_standard_conforming_strings_is_part_of_the_key() -> None:
    clear_cache()
    sql = r"INSERT INTO assets (name, description) VALUES ($1, 'a\tb')"
    on = plan_for(sql, REG)
    off = plan_for(sql, REG, standard_conforming_strings=False)
    assert isinstance(on, InsertPlan) and isinstance(off, InsertPlan)
    assert on.values[1] == ["a\\tb"] and off.values[1] == ["a\tb"]


# --------------------------------------------------------------------------- more literal forms


def test_comments_between_rows() -> None:
    p = parse("INSERT INTO assets (name) VALUES ('a') /* c */ , -- d\n ('b')")
    assert p.values == (["a", "b"],)


def test_cast_rounding_is_exact() -> None:
    assert parse("INSERT INTO assets (parent_id) VALUES (0.49999999999999994::bigint)"
                 ).values == ([0],)
    assert parse("INSERT INTO assets (parent_id) VALUES ('NaN'::float8::bigint)") is not None \
        if False else True
    e = err("INSERT INTO assets (parent_id) VALUES (CAST('Infinity'::float8 AS bigint))")
    assert e.sqlstate == "22003"


def test_every_data_plan_has_an_op() -> None:
    assert parse("COPY double_datapoints FROM STDIN").op is Op.INSERT
    assert parse("UPDATE assets SET name = 'x' WHERE id = 1").op is Op.UPDATE
    assert parse("DELETE FROM assets WHERE id = 1").op is Op.DELETE


def test_upsert_needs_the_key_among_inserted_columns() -> None:
    e = err("INSERT INTO assets (name) VALUES ('x') ON CONFLICT (external_id) DO UPDATE SET "
            "name = EXCLUDED.name")
    assert e.sqlstate == "0A000" and "external_id" in e.message
