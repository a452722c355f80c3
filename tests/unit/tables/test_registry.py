"""The built-in table registry against its two authorities.

* Cognite's gateway 2.0 (the seed document): its tables, and the columns and
  types it names, transcribed below by hand from the seed text.
* The CDF OpenAPI spec: every ``cdf=`` field exists in the resource's create
  schema (read-only columns: in its response schema), and every limit the spec
  states (maxLength, maxItems, minimum/maximum, enum, required) is the column's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pggw.tables import limits
from pggw.tables.builtin import BUILTIN_TABLES
from pggw.tables.model import Column, Op, Table
from pggw.tables.registry import FIRST_TABLE_OID, builtin_registry
from pggw.wire import types as T

# ---------------------------------------------------------------------------
# The seed: Cognite's PostgreSQL gateway 2.0 migration guide.

SEED_TABLES = (
    "assets", "events", "files", "labels", "sequences", "sequence_rows", "time_series",
    "string_datapoints", "double_datapoints", "raw_rows", "extraction_pipelines",
    "extraction_pipeline_runs",
)

_TS = "TIMESTAMPTZ"
SEED_COLUMNS: dict[str, dict[str, str]] = {
    "assets": {"created_time": _TS, "last_updated_time": _TS},
    "events": {"created_time": _TS, "last_updated_time": _TS},
    "extraction_pipeline_runs": {"id": "BIGINT"},
    "extraction_pipelines": {
        "contacts": "JSON", "raw_tables": "JSON", "documentation": "VARCHAR(10000)",
        "last_updated_time": _TS, "created_by": "VARCHAR(255)",
    },
    "files": {
        "directory": "VARCHAR(512)", "asset_ids": "BIGINT[]", "source_created_time": _TS,
        "source_modified_time": _TS, "security_categories": "BIGINT[]", "created_time": _TS,
        "last_updated_time": _TS,
    },
    "labels": {"data_set_id": "BIGINT[]", "created_time": _TS},
    "sequences": {"created_time": _TS},
    "sequence_rows": {"values": "JSON"},
    "string_datapoints": {
        "value": "VARCHAR(255)", "timestamp": _TS, "external_id": "VARCHAR(255)", "id": "BIGINT",
    },
    "double_datapoints": {
        "value": "DOUBLE PRECISION", "timestamp": _TS, "external_id": "VARCHAR(255)",
        "id": "BIGINT",
    },
    "time_series": {},
    "raw_rows": {
        "_raw_last_updated_time": _TS, "_raw_database": "VARCHAR(32)",
        "_raw_table": "VARCHAR(64)", "_raw_key": "TEXT", "_raw_columns": "JSON",
    },
}

# Columns the seed renames away or retires.
SEED_GONE = {
    "time_series": {"legacy_name"},
    "sequence_rows": {"row_values"},
    "raw_rows": {"database", "table", "key", "columns"},
}

# Tables beyond the seed: the remaining CDF resource types the research names.
EXTRA_TABLES = ("data_sets", "relationships")

REGISTRY = builtin_registry()


def _seed_type(spelling: str) -> tuple[T.PgType, int | None]:
    t = T.lookup(spelling)
    assert t is not None, spelling
    n = spelling[spelling.index("(") + 1 : spelling.index(")")] if "(" in spelling else None
    return t, int(n) if n else None


def test_every_seed_table_and_no_others() -> None:
    assert set(REGISTRY) == set(SEED_TABLES) | set(EXTRA_TABLES)
    assert len(BUILTIN_TABLES) == len(REGISTRY)


@pytest.mark.parametrize("table", sorted(SEED_COLUMNS))
def test_seed_columns_and_types(table: str) -> None:
    t = REGISTRY[table]
    for name, spelling in SEED_COLUMNS[table].items():
        col = t.column(name)
        assert col is not None, f"{table}.{name} missing"
        pg_type, length = _seed_type(spelling)
        assert col.type == pg_type, f"{table}.{name}: {col.type.sql_name} != {spelling}"
        if length is not None:
            assert col.max_length == length, f"{table}.{name}"
            assert col.atttypmod == length + 4
    for gone in SEED_GONE.get(table, ()):
        assert t.column(gone) is None, f"{table}.{gone} was removed in 2.0"


def test_seed_array_holding_one_value() -> None:
    col = REGISTRY["labels"].column("data_set_id")
    assert col is not None and col.max_items == 1


# ---------------------------------------------------------------------------
# Shape of the registry itself


def _columns() -> Iterator[tuple[Table, Column]]:
    for t in BUILTIN_TABLES:
        for c in t.columns:
            yield t, c


def test_names_unique_and_oids_unique() -> None:
    assert len({t.name for t in BUILTIN_TABLES}) == len(BUILTIN_TABLES)
    oids = [t.oid for t in REGISTRY.values()]
    assert all(o >= FIRST_TABLE_OID for o in oids)
    assert len(set(oids)) == len(oids)
    for t in BUILTIN_TABLES:
        assert len(set(t.column_names)) == len(t.columns), t.name
        assert t.description and t.resource and t.batch_limit > 0 and t.ops, t.name


def test_keys_name_existing_columns() -> None:
    for t in BUILTIN_TABLES:
        assert t.key, t.name
        for k in t.key:
            assert t.column(k) is not None, f"{t.name}: key column {k}"
        if t.ops & {Op.UPSERT, Op.INSERT_IGNORE}:
            assert all(not t.column(k).read_only for k in t.key)  # type: ignore[union-attr]


def test_expected_keys_ops_and_batches() -> None:
    r = REGISTRY
    assert r["double_datapoints"].key == ("external_id", "timestamp")
    assert r["raw_rows"].key == ("_raw_database", "_raw_table", "_raw_key")
    assert r["sequence_rows"].key == ("external_id", "row_number")
    assert r["labels"].key == ("external_id",)
    assert Op.UPDATE not in r["labels"].ops
    assert Op.DELETE not in r["data_sets"].ops
    assert r["extraction_pipeline_runs"].ops == frozenset({Op.INSERT})
    assert Op.UPDATE not in r["string_datapoints"].ops
    assert {Op.INSERT, Op.UPSERT, Op.DELETE} <= r["raw_rows"].ops
    batches = {t.name: t.batch_limit for t in BUILTIN_TABLES}
    assert batches["double_datapoints"] == 100_000
    assert batches["raw_rows"] == 10_000
    assert batches["data_sets"] == 10
    assert batches["files"] == 1
    assert batches["assets"] == 1000


def test_columns_are_consistent() -> None:
    for t, c in _columns():
        where = f"{t.name}.{c.name}"
        assert not (c.required and c.read_only), where
        if c.references is not None:
            assert c.references in REGISTRY, where
        if c.check is not None:
            assert c.check in limits.CHECKS, where
        if c.max_items is not None:
            assert c.type.is_array or c.type == T.JSON, where
        if c.resolves is not None:
            target = t.column(c.resolves)
            assert target is not None and target.cdf is not None, where
            assert c.cdf is None and c.references == target.references, where
            assert c.type.is_array == target.type.is_array, where
            assert c.max_items == target.max_items, where
        elif c.cdf is None:
            # RAW's steering columns, and files.content (uploaded to the file's upload URL)
            assert t.name == "raw_rows" or where == "files.content", (
                f"{where} maps to nothing in CDF")
        if c.name.endswith("_external_id") or c.name.endswith("_external_ids"):
            # Not references to a registry table: relationship ends (typed by
            # source_type/target_type) and the unit catalog.
            assert c.references is not None or c.name in {
                "source_external_id", "target_external_id", "unit_external_id",
            }, where


def test_metadata_limits_cover_every_metadata_column() -> None:
    with_metadata = {t.name for t, c in _columns() if c.check == "metadata"}
    assert with_metadata == set(limits.METADATA)


def test_row_rules_name_existing_columns() -> None:
    for name, rules in limits.ROW_RULES.items():
        t = REGISTRY[name]
        for group in (*rules.one_of, *rules.at_most_one_of):
            assert all(t.column(c) is not None for c in group), (name, group)
        for earlier, later, _ in rules.ordered:
            assert t.column(earlier) is not None and t.column(later) is not None


def test_resource_columns_have_server_fields_read_only() -> None:
    for t, c in _columns():
        if c.name in {"created_time", "last_updated_time", "root_id", "uploaded_time"}:
            assert c.read_only == (t.name != "extraction_pipeline_runs" or c.name != "created_time")
        if c.name == "id" and t.name not in {"double_datapoints", "string_datapoints",
                                              "sequence_rows"}:
            assert c.read_only, f"{t.name}.id"


# ---------------------------------------------------------------------------
# The CDF OpenAPI spec


def _spec_path() -> Path | None:
    here = Path(__file__).resolve()
    candidates = [os.environ.get("PGGW_CDF_OPENAPI", "")]
    candidates += [str(p / "shared" / "cdf-openapi" / "cog-api.json") for p in here.parents]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


_SPEC_PATH = _spec_path()
needs_spec = pytest.mark.skipif(
    _SPEC_PATH is None, reason="CDF OpenAPI spec not found (set PGGW_CDF_OPENAPI)"
)

Schema = dict[str, Any]


class Spec:
    """Just enough of an OpenAPI reader: $refs, allOf/oneOf merging, field lookup."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, node: Schema) -> Schema:
        while "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            target: Any = self.doc
            for part in ref[2:].split("/"):
                target = target[part]
            node = target
        return node

    def flat(self, node: Schema, prefer: str | None = None) -> Schema:
        """One schema with the allOf parts merged (and oneOf: the ``prefer``red branch, or all).

        ``required`` is collected from allOf parts only: a oneOf's required
        lists are alternatives.
        """
        node = self.resolve(node)
        out: Schema = {k: v for k, v in node.items() if k not in ("allOf", "oneOf", "anyOf")}
        out["properties"] = dict(node.get("properties", {}))
        out["required"] = list(node.get("required", []))
        for part in node.get("allOf", []):
            sub = self.flat(part, prefer)
            for k, v in sub.items():
                if k == "properties":
                    out["properties"].update(v)
                elif k == "required":
                    out["required"] += v
                else:
                    out.setdefault(k, v)
        branches = node.get("oneOf", []) + node.get("anyOf", [])
        chosen = [b for b in branches if self.resolve(b).get("title") == prefer] or branches
        for part in chosen:
            sub = self.flat(part, prefer)
            out["properties"].update(sub.get("properties", {}))
            for k, v in sub.items():
                if k not in ("properties", "required"):
                    out.setdefault(k, v)
        return out

    def field(self, node: Schema, dotted: str, prefer: str | None = None) -> Schema | None:
        for part in dotted.split("."):
            props = self.flat(node, prefer)["properties"]
            if part not in props:
                return None
            node = props[part]
        return self.flat(node, prefer)

    def json_body(self, container: Schema) -> Schema:
        return self.resolve(self.resolve(container)["content"]["application/json"]["schema"])

    def unwrap_items(self, schema: Schema) -> Schema:
        """The element schema of an ``{"items": [...]}`` body (or the body itself)."""
        items = self.flat(schema)["properties"].get("items")
        return self.flat(self.flat(items)["items"]) if items is not None else self.flat(schema)


RAW_ROWS_PATH = "/raw/dbs/{dbName}/tables/{tableName}/rows"
# Tables whose row is an element nested in the request item: (field, oneOf branch).
NESTED = {
    "double_datapoints": ("datapoints", "NumericalDatapoint"),
    "string_datapoints": ("datapoints", "StringDatapoint"),
    "sequence_rows": ("rows", None),
}


@pytest.fixture(scope="module")
def spec() -> Spec:
    assert _SPEC_PATH is not None
    return Spec(json.loads(_SPEC_PATH.read_text(encoding="utf-8")))


def _post_path(t: Table) -> str:
    return RAW_ROWS_PATH if t.name == "raw_rows" else "/" + t.resource


def create_schemas(spec: Spec, t: Table) -> list[tuple[Schema, str | None]]:
    """The schemas one row's writable fields come from, each with its oneOf preference."""
    op = spec.doc["paths"][_post_path(t)]["post"]
    item = spec.unwrap_items(spec.json_body(op["requestBody"]))
    if t.name not in NESTED:
        return [(item, None)]
    nested, prefer = NESTED[t.name]
    rows = spec.flat(spec.flat(item)["properties"][nested])["items"]
    return [(item, None), (spec.flat(rows, prefer), prefer)]


def read_schema(spec: Spec, t: Table) -> Schema:
    if t.name == "raw_rows":
        op = spec.doc["paths"][RAW_ROWS_PATH]["get"]
    else:
        op = spec.doc["paths"][_post_path(t)]["post"]
    ok = next(v for k, v in op["responses"].items() if k.startswith("2"))
    return spec.unwrap_items(spec.json_body(ok))


def spec_field(spec: Spec, t: Table, c: Column) -> Schema | None:
    assert c.cdf is not None
    if c.read_only:
        return spec.field(read_schema(spec, t), c.cdf)
    for schema, prefer in create_schemas(spec, t):
        found = spec.field(schema, c.cdf, prefer)
        if found is not None:
            return found
    return None


def _mapped_columns() -> list[tuple[Table, Column]]:
    return [(t, c) for t, c in _columns() if c.cdf is not None]


def _id(tc: tuple[Table, Column]) -> str:
    return f"{tc[0].name}.{tc[1].name}"


@needs_spec
def test_resource_paths_exist(spec: Spec) -> None:
    for t in BUILTIN_TABLES:
        assert "post" in spec.doc["paths"][_post_path(t)], t.name


@needs_spec
@pytest.mark.parametrize("tc", _mapped_columns(), ids=_id)
def test_cdf_field_exists(spec: Spec, tc: tuple[Table, Column]) -> None:
    t, c = tc
    where = "response" if c.read_only else "create"
    assert spec_field(spec, t, c) is not None, f"{t.name}.{c.name}: {c.cdf} not in {where} schema"


def _element(spec: Spec, field: Schema, c: Column) -> Schema:
    """The schema the column's scalar limits apply to (an array's element)."""
    if field.get("type") == "array" and c.type.is_array:
        elem = spec.flat(field["items"])
        if c.check == "labels":
            elem = spec.flat(elem["properties"]["externalId"])
        return elem
    return field


@needs_spec
@pytest.mark.parametrize("tc", _mapped_columns(), ids=_id)
def test_limits_match_spec(spec: Spec, tc: tuple[Table, Column]) -> None:
    t, c = tc
    field = spec_field(spec, t, c)
    assert field is not None
    elem = _element(spec, field, c)
    if "maxLength" in elem:
        assert c.max_length == elem["maxLength"], f"{t.name}.{c.name} maxLength"
    # (sequence_rows.values is a JSON object standing for CDF's array: its
    # element count is checked through limits.SEQUENCE_ROWS instead.)
    if field.get("type") == "array" and "maxItems" in field and c.name != "values":
        assert c.max_items == field["maxItems"], f"{t.name}.{c.name} maxItems"
    if c.read_only:
        return
    if "minimum" in elem:
        assert c.min_value == elem["minimum"], f"{t.name}.{c.name} minimum"
    if "maximum" in elem:
        assert c.max_value == elem["maximum"], f"{t.name}.{c.name} maximum"
    if "enum" in elem:
        assert set(c.choices) == set(elem["enum"]), f"{t.name}.{c.name} enum"


@needs_spec
@pytest.mark.parametrize("t", [t for t in BUILTIN_TABLES if t.name not in NESTED], ids=str)
def test_required_matches_spec(spec: Spec, t: Table) -> None:
    (item, _), = create_schemas(spec, t)
    spec_required = set(item["required"])
    ours = {c.cdf for c in t.columns if c.required and c.cdf is not None}
    assert ours <= spec_required, t.name
    # A field CDF requires is a required column, or stands in a one-of group.
    one_of = {col for group in limits.row_rules(t.name).one_of for col in group}
    by_cdf = {c.cdf: c for c in t.columns if c.cdf is not None}
    for field in spec_required:
        assert by_cdf[field].required or by_cdf[field].name in one_of, f"{t.name}.{field}"


@needs_spec
def test_nested_required(spec: Spec) -> None:
    for name in NESTED:
        t = REGISTRY[name]
        (_, _), (row, _) = create_schemas(spec, t)
        for field in row["required"]:
            col = next(c for c in t.columns if c.cdf == field)
            assert col.required, f"{name}.{col.name}"
        assert ("id", "external_id") in limits.row_rules(name).one_of


@needs_spec
def test_reference_external_ids_match_cdf_external_id(spec: Spec) -> None:
    ext = spec.flat({"$ref": "#/components/schemas/CogniteExternalId"})
    for t, c in _columns():
        if c.resolves is not None:
            assert c.max_length == ext["maxLength"], f"{t.name}.{c.name}"


@needs_spec
def test_raw_path_limits(spec: Spec) -> None:
    params = {
        p["name"]: p["schema"] for p in spec.doc["paths"][RAW_ROWS_PATH]["post"]["parameters"]
        if "name" in p
    }
    t = REGISTRY["raw_rows"]
    assert t.column("_raw_database").max_length == params["dbName"]["maxLength"]  # type: ignore[union-attr]
    assert t.column("_raw_table").max_length == params["tableName"]["maxLength"]  # type: ignore[union-attr]


@needs_spec
def test_non_updatable_fields(spec: Spec) -> None:
    """``updatable=False`` exactly where a create field is missing from CDF's update patch."""
    patches = {
        "time_series": "TimeSeriesUpdate",
        "files": "FileChangeUpdate",
        "extraction_pipelines": "ExtPipeUpdateData",
    }
    for name, schema in patches.items():
        t = REGISTRY[name]
        props: set[str] = set()

        def walk(node: Schema, props: set[str] = props) -> None:
            node = spec.resolve(node)
            for part in (*node.get("allOf", ()), *node.get("oneOf", ()), *node.get("anyOf", ())):
                walk(part)
            for k, v in node.get("properties", {}).items():
                if k == "update":
                    walk(v)
                else:
                    props.add(k)

        walk({"$ref": f"#/components/schemas/{schema}"})
        for c in t.writable():
            target = t.column(c.resolves) if c.resolves is not None else c
            assert target is not None
            if target.cdf is not None:
                assert c.updatable == (target.cdf in props), f"{name}.{c.name}"
