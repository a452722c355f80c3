"""Rows → CDF items, merging, splitting, packing and hierarchy layers."""

from __future__ import annotations

import math

import pytest

from pggw.tables.builtin import (
    ASSETS,
    DOUBLE_DATAPOINTS,
    EXTRACTION_PIPELINE_RUNS,
    FILES,
    LABELS,
    RAW_ROWS,
    SEQUENCE_ROWS,
    TIME_SERIES,
)
from pggw.tables.model import Column, Table
from pggw.upload.mapping import (
    Unmappable,
    endpoint_for,
    map_record,
    merge_overwrites,
    pack,
    rows_of,
    split_heavy,
    to_update,
)
from pggw.upload.uploader import _hierarchy_layers, matches
from pggw.wire import types as T


def test_asset_create_maps_fields_labels_and_references() -> None:
    cols = {
        "external_id": ["a", "b"], "name": ["A", "B"], "parent_external_id": [None, "a"],
        "labels": [["l1", "l2"], None], "metadata": [{"k": "v"}, None],
        "data_set_external_id": ["ds", None], "parent_id": [None, None],
    }
    a, b = map_record(ASSETS, "insert", cols, 7)
    assert a.body == {"externalId": "a", "name": "A", "metadata": {"k": "v"},
                      "labels": [{"externalId": "l1"}, {"externalId": "l2"}]}
    assert a.ident == ("externalId", "a") and a.owners == [(7, (0,))]
    assert [(r.table, r.external_ids, r.target, r.many) for r in a.resolve] == [
        ("data_sets", ["ds"], "dataSetId", False)]
    assert b.body == {"externalId": "b", "name": "B", "parentExternalId": "a"}
    assert b.parent == "a" and ("externalId", "a") in b.refs


def test_time_series_asset_external_id_and_labels_data_set_array() -> None:
    (ts,) = map_record(TIME_SERIES, "insert", {"external_id": ["t"],
                                              "asset_external_id": ["A"]}, 1)
    assert [(r.table, r.target) for r in ts.resolve] == [("assets", "assetId")]
    (lab,) = map_record(LABELS, "insert", {"external_id": ["l"], "name": ["L"],
                                           "data_set_id": [[5]]}, 1)
    assert lab.body == {"externalId": "l", "name": "L", "dataSetId": 5}


def test_dotted_fields_build_nested_objects() -> None:
    table = Table("t", "things", (Column("a", T.TEXT, cdf="source.name"),
                                  Column("b", T.TEXT, cdf="source.kind"),
                                  Column("external_id", T.TEXT, cdf="externalId")),
                  key=("external_id",))
    (it,) = map_record(table, "insert", {"a": ["x"], "b": ["y"], "external_id": ["e"]}, 1)
    assert it.body == {"source": {"name": "x", "kind": "y"}, "externalId": "e"}


def test_update_and_delete_shapes() -> None:
    cols = {"external_id": ["a"], "name": ["N"], "description": [None],
            "metadata:add": [{"k": "v"}], "metadata:remove": [["old"]],
            "labels:add": [["x"]]}
    (it,) = map_record(ASSETS, "update", cols, 1)
    assert it.body == {"externalId": "a", "update": {
        "name": {"set": "N"}, "description": {"setNull": True},
        "metadata": {"add": {"k": "v"}, "remove": ["old"]},
        "labels": {"add": [{"externalId": "x"}]}}}
    (d,) = map_record(ASSETS, "delete", {"id": [42]}, 1)
    assert d.body == {"id": 42}
    assert endpoint_for(ASSETS, "delete").body([d]) == {"items": [{"id": 42}],
                                                       "ignoreUnknownIds": True}
    with pytest.raises(Unmappable):
        map_record(ASSETS, "update", {"external_id": ["a"], "root_id": [1]}, 1)


def test_datapoints_group_by_series_with_status_and_non_finite_values() -> None:
    cols = {"external_id": ["s1", "s2", "s1"], "timestamp": [1, 1, 2],
            "value": [1.0, math.nan, 3.0], "status_code": [None, 2147483648, None],
            "status_symbol": [None, None, None]}
    items = map_record(DOUBLE_DATAPOINTS, "insert", cols, 3)
    body = endpoint_for(DOUBLE_DATAPOINTS, "insert").body(items)
    assert body == {"items": [
        {"externalId": "s1", "datapoints": [{"timestamp": 1, "value": 1.0},
                                            {"timestamp": 2, "value": 3.0}]},
        {"externalId": "s2", "datapoints": [{"timestamp": 1, "value": "NaN",
                                             "status": {"code": 2147483648}}]}]}
    assert rows_of(cols, items[1].owners[0], items[1].ident) == [
        {"external_id": "s2", "timestamp": 1, "value": cols["value"][1],
         "status_code": 2147483648, "status_symbol": None}]


def test_datapoint_delete_ranges() -> None:
    items = map_record(DOUBLE_DATAPOINTS, "delete", {
        "external_id": ["a", "b"], "timestamp": [5, None],
        "_range_begin": [None, 10], "_range_end": [None, 20]}, 1)
    assert [it.body for it in items] == [
        {"externalId": "a", "inclusiveBegin": 5, "exclusiveEnd": 6},
        {"externalId": "b", "inclusiveBegin": 10, "exclusiveEnd": 20}]


def test_merge_last_write_wins_then_split_and_pack_within_limits() -> None:
    first = map_record(DOUBLE_DATAPOINTS, "insert", {
        "external_id": ["s"] * 3, "timestamp": [1, 2, 3], "value": [1.0, 2.0, 3.0]}, 1)
    second = map_record(DOUBLE_DATAPOINTS, "insert", {
        "external_id": ["s", "t"], "timestamp": [2, 9], "value": [20.0, 9.0]}, 2)
    merged = merge_overwrites(first + second)
    s = next(it for it in merged if it.ident == ("externalId", "s"))
    assert dict(zip(s.body.timestamps, s.body.values, strict=True)) == {1: 1.0, 2: 20.0, 3: 3.0}
    assert s.owners == [(1, None), (2, None)]
    parts = split_heavy(merged, 2)
    assert sorted(p.weight for p in parts) == [1, 1, 2]
    batches = pack(parts, 10_000, 2)
    assert all(sum(p.weight for p in b) <= 2 for b in batches)
    for b in batches:  # a series appears once per request
        assert len({p.ident for p in b}) == len(b)


def test_raw_rows_group_by_database_and_table() -> None:
    items = map_record(RAW_ROWS, "insert", {
        "_raw_database": ["d", "d", "e"], "_raw_table": ["t", "t", "t"],
        "_raw_key": ["k", "k", "k"], "_raw_columns": [{"v": 1}, {"v": 2}, {"v": 3}]}, 1)
    merged = merge_overwrites(items)
    assert [(it.group, it.body) for it in merged] == [
        (("d", "t"), {"key": "k", "columns": {"v": 2}}),
        (("e", "t"), {"key": "k", "columns": {"v": 3}})]
    ep = endpoint_for(RAW_ROWS, "insert")
    assert ep.path(RAW_ROWS, ("my db", "t/1")) == "/raw/dbs/my%20db/tables/t%2F1/rows"
    assert ep.params == {"ensureParent": "true"}
    batches = pack(merged, 10_000, None)
    assert len(batches) == 2


def test_sequence_rows_grouped_per_sequence_and_column_set() -> None:
    items = map_record(SEQUENCE_ROWS, "insert", {
        "external_id": ["q", "q", "q"], "row_number": [1, 2, 3],
        "values": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3}]}, 1)
    body = endpoint_for(SEQUENCE_ROWS, "insert").body(items)
    assert body == {"items": [
        {"externalId": "q", "columns": ["a", "b"],
         "rows": [{"rowNumber": 1, "values": [1, "x"]}, {"rowNumber": 2, "values": [2, "y"]}]},
        {"externalId": "q", "columns": ["a"], "rows": [{"rowNumber": 3, "values": [3]}]}]}


def test_files_and_runs_endpoints() -> None:
    (f,) = map_record(FILES, "insert", {"external_id": ["f"], "name": ["f.txt"]}, 1)
    ep = endpoint_for(FILES, "insert")
    assert ep.body([f]) == {"externalId": "f", "name": "f.txt"} and ep.max_items(FILES) == 1
    (r,) = map_record(EXTRACTION_PIPELINE_RUNS, "insert",
                      {"external_id": ["p"], "status": ["success"]}, 1)
    assert r.ident is None and r.refs == (("externalId", "p"),)
    assert endpoint_for(EXTRACTION_PIPELINE_RUNS, "insert").path(
        EXTRACTION_PIPELINE_RUNS, None) == "/extpipes/runs"


def test_upsert_duplicate_becomes_an_update_of_updatable_fields() -> None:
    (it,) = map_record(TIME_SERIES, "upsert", {"external_id": ["t"], "name": ["n"],
                                               "is_string": [False]}, 1)
    up = to_update(it, TIME_SERIES)
    assert up.op == "update"
    assert up.body == {"externalId": "t", "update": {"name": {"set": "n"}}}


def test_hierarchy_layers_are_topological() -> None:
    items = map_record(ASSETS, "insert", {
        "external_id": ["c", "gc", "r", "other"], "name": ["x"] * 4,
        "parent_external_id": ["r", "c", None, "outside"]}, 1)
    layers = _hierarchy_layers(items)
    assert [[it.ident[1] for it in layer] for layer in layers] == [["r", "other"], ["c"], ["gc"]]


def test_matches_compares_sent_fields() -> None:
    assert matches({"name": "a", "metadata": {"k": "v"}},
                   {"name": "a", "metadata": {"k": "v"}, "id": 1, "createdTime": 5})
    assert not matches({"name": "a"}, {"name": "b"})
    assert not matches({"name": "a", "description": "d"}, {"name": "a"})
    assert matches({"labels": [{"externalId": "x"}, {"externalId": "y"}]},
                   {"labels": [{"externalId": "y"}, {"externalId": "x"}]})
    assert matches({"value": 0.1 + 0.2}, {"value": 0.3})


def test_custom_raw_and_view_tables() -> None:
    raw = Table("my_raw", "raw", (Column("title", T.TEXT), Column("year", T.INT8)),
                key=(), kind="raw",
                options={"database": "db", "table": "t", "primaryKey": "title"})
    (it,) = map_record(raw, "insert", {"title": ["Dune"], "year": [1965]}, 1)
    assert it.group == ("db", "t") and it.body == {"key": "Dune", "columns": {"year": 1965}}
    nokey = Table("k", "raw", (Column("a", T.TEXT),), key=(), kind="raw",
                  options={"database": "db", "table": "t"})
    (it,) = map_record(nokey, "insert", {"a": ["x"]}, 9)
    assert it.body["key"] == "pggw-9-0"  # stable across retries of record 9
    view = Table("pumps", "models/instances",
                 (Column("external_id", T.TEXT), Column("flow", T.FLOAT8)), key=(),
                 kind="view", options={"space": "sp", "externalId": "Pump", "version": "v1"})
    (it,) = map_record(view, "upsert", {"external_id": ["p1"], "flow": [2.5]}, 1)
    assert it.ident == ("instanceId", ("sp", "p1"))
    assert endpoint_for(view, "upsert").body([it]) == {"items": [{
        "instanceType": "node", "space": "sp", "externalId": "p1",
        "sources": [{"source": {"type": "view", "space": "sp", "externalId": "Pump",
                                "version": "v1"}, "properties": {"flow": 2.5}}]}],
        "autoCreateDirectRelations": True}
