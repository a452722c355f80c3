"""Datapoints, RAW and sequence rows over HTTP."""

from __future__ import annotations

import time

import pytest_twisted
from emulator_harness import Api


async def _series(api: Api) -> tuple[int, int]:
    created = await api.post(
        api.p("/timeseries"),
        {"items": [{"externalId": "num"}, {"externalId": "str", "isString": True}]},
    )
    return created.body["items"][0]["id"], created.body["items"][1]["id"]


@pytest_twisted.ensureDeferred
async def test_datapoints_insert_overwrite_and_list(api: Api) -> None:
    num, _ = await _series(api)
    first = await api.post(
        api.p("/timeseries/data"),
        {
            "items": [
                {
                    "id": num,
                    "datapoints": [{"timestamp": t, "value": t / 10} for t in range(0, 100, 10)],
                },
                {
                    "externalId": "str",
                    "datapoints": [{"timestamp": 5, "value": "a"}, {"timestamp": 6, "value": "b"}],
                },
            ]
        },
    )
    assert first.status == 200 and first.body == {}
    overwrite = await api.post(
        api.p("/timeseries/data"),
        {"items": [{"externalId": "num", "datapoints": [{"timestamp": 10, "value": 42}]}]},
    )
    assert overwrite.status == 200
    listed = await api.post(
        api.p("/timeseries/data/list"),
        {
            "items": [{"externalId": "num", "limit": 4}, {"externalId": "str"}],
            "start": 0,
            "end": "now",
        },
    )
    num_item, str_item = listed.body["items"]
    assert [(d["timestamp"], d["value"]) for d in num_item["datapoints"]] == [
        (0, 0),
        (10, 42),
        (20, 2),
        (30, 3),
    ]
    assert num_item["isString"] is False and "nextCursor" in num_item
    rest = await api.post(
        api.p("/timeseries/data/list"),
        {
            "items": [{"id": num, "cursor": num_item["nextCursor"], "limit": 100}],
            "start": 0,
            "end": 1000,
        },
    )
    assert [d["timestamp"] for d in rest.body["items"][0]["datapoints"]] == [40, 50, 60, 70, 80, 90]
    assert "nextCursor" not in rest.body["items"][0]
    assert [d["value"] for d in str_item["datapoints"]] == ["a", "b"] and str_item[
        "isString"
    ] is True
    latest = await api.post(api.p("/timeseries/data/latest"), {"items": [{"externalId": "num"}]})
    assert latest.body["items"][0]["datapoints"] == [{"timestamp": 90, "value": 9.0}]

    deleted = await api.post(
        api.p("/timeseries/data/delete"),
        {"items": [{"id": num, "inclusiveBegin": 0, "exclusiveEnd": 50}]},
    )
    assert deleted.status == 200
    after = await api.post(
        api.p("/timeseries/data/list"), {"items": [{"id": num}], "start": 0, "end": 1000}
    )
    assert [d["timestamp"] for d in after.body["items"][0]["datapoints"]] == [50, 60, 70, 80, 90]


@pytest_twisted.ensureDeferred
async def test_datapoints_errors(api: Api) -> None:
    num, _ = await _series(api)

    async def insert(items: list[dict], check: bool = True) -> tuple[int, dict]:
        answer = await api.post(api.p("/timeseries/data"), {"items": items}, check=check)
        return answer.status, answer.body

    status, body = await insert(
        [
            {"externalId": "nope", "datapoints": [{"timestamp": 1, "value": 1}]},
            {"id": 99, "datapoints": []},
        ]
    )
    assert status == 400 and body["error"]["missing"] == [{"externalId": "nope"}, {"id": 99}]
    status, body = await insert(
        [{"id": num, "datapoints": []}, {"externalId": "num", "datapoints": []}]
    )
    assert status == 422 and body["error"]["duplicated"] == [{"externalId": "num"}]
    status, _ = await insert(
        [{"id": num, "datapoints": [{"timestamp": 1, "value": "text"}]}], check=False
    )
    assert status == 400
    status, _ = await insert(
        [{"externalId": "str", "datapoints": [{"timestamp": 1, "value": 3.5}]}], check=False
    )
    assert status == 400
    status, _ = await insert(
        [{"id": num, "datapoints": [{"timestamp": 4102444800000, "value": 1}]}], check=False
    )
    assert status == 400
    status, _ = await insert(
        [{"id": num, "datapoints": [{"timestamp": 1, "value": 1e101}]}], check=False
    )
    assert status == 400
    status, _ = await insert(
        [{"externalId": "str", "datapoints": [{"timestamp": 1, "value": "x" * 256}]}], check=False
    )
    assert status == 400
    status, body = await insert(
        [{"id": num, "datapoints": [{"timestamp": t, "value": 1} for t in range(100_001)]}],
        check=False,
    )
    assert status == 400 and "100000" in body["error"]["message"]
    # Bad-status points may carry NaN and no value; they are hidden unless asked for.
    status, _ = await insert(
        [
            {
                "id": num,
                "datapoints": [
                    {"timestamp": 1, "value": 1.0},
                    {"timestamp": 2, "value": "NaN", "status": {"symbol": "Bad"}},
                    {"timestamp": 3, "status": {"code": 2147483648}},
                    {"timestamp": 4, "value": 4.0, "status": {"code": 1073741824}},
                ],
            }
        ]
    )
    assert status == 200
    plain = await api.post(
        api.p("/timeseries/data/list"), {"items": [{"id": num}], "start": 0, "end": 10}
    )
    assert [d["timestamp"] for d in plain.body["items"][0]["datapoints"]] == [1]
    everything = await api.post(
        api.p("/timeseries/data/list"),
        {
            "items": [{"id": num}],
            "start": 0,
            "end": 10,
            "ignoreBadDataPoints": False,
            "treatUncertainAsBad": False,
            "includeStatus": True,
        },
    )
    points = everything.body["items"][0]["datapoints"]
    assert [d["timestamp"] for d in points] == [1, 2, 3, 4]
    assert points[1] == {
        "timestamp": 2,
        "value": "NaN",
        "status": {"code": 2147483648, "symbol": "Bad"},
    }
    assert "value" not in points[2]
    # Nothing of a rejected request was applied.
    assert all(d["timestamp"] != 4102444800000 for d in points)


@pytest_twisted.ensureDeferred
async def test_100k_datapoints_in_one_gzip_request(api: Api) -> None:
    num, _ = await _series(api)
    base = 1_600_000_000_000
    items = [
        {
            "id": num,
            "datapoints": [{"timestamp": base + i, "value": i * 0.5} for i in range(100_000)],
        }
    ]
    began = time.monotonic()
    answer = await api.post(
        api.p("/timeseries/data"), {"items": items}, gzip_body=True, check=False
    )
    elapsed = time.monotonic() - began
    assert answer.status == 200, answer.body
    assert elapsed < 10, f"100k datapoints took {elapsed:.1f}s"
    listed = await api.post(
        api.p("/timeseries/data/list"),
        {"items": [{"id": num, "limit": 100_000}], "start": base, "end": base + 200_000},
        check=False,
    )
    points = listed.body["items"][0]["datapoints"]
    assert len(points) == 100_000 and points[-1] == {"timestamp": base + 99_999, "value": 49_999.5}


@pytest_twisted.ensureDeferred
async def test_raw_rows(api: Api) -> None:
    rows = api.p("/raw/dbs/db1/tables/t1/rows")
    no_parent = await api.post(rows, {"items": [{"key": "k", "columns": {}}]})
    assert no_parent.status == 404 and no_parent.body["error"]["missing"] == [{"name": "db1"}]
    inserted = await api.post(
        rows,
        {"items": [{"key": f"k{i:02}", "columns": {"n": i, "s": str(i)}} for i in range(30)]},
        query={"ensureParent": True},
    )
    assert inserted.status == 200
    upsert = await api.post(rows, {"items": [{"key": "k00", "columns": {"n": 100}}]})
    assert upsert.status == 200
    one = await api.get(rows + "/k00")
    assert one.body["columns"] == {"n": 100} and one.body["key"] == "k00"
    assert (await api.get(rows + "/missing")).status == 404
    keys: list[str] = []
    cursor = None
    while True:
        page = await api.get(rows, query={"limit": 7, **({"cursor": cursor} if cursor else {})})
        keys += [r["key"] for r in page.body["items"]]
        cursor = page.body.get("nextCursor")
        if not cursor:
            break
    assert keys == [f"k{i:02}" for i in range(30)]
    narrow = await api.get(rows, query={"limit": 1, "columns": "s"})
    assert narrow.body["items"][0]["columns"] == {}  # k00 has no column s any more
    assert (
        await api.post(rows + "/delete", {"items": [{"key": "k01"}, {"key": "k02"}]})
    ).status == 200
    assert len((await api.get(rows, query={"limit": 100})).body["items"]) == 28
    too_many = await api.post(
        rows, {"items": [{"key": str(i), "columns": {}} for i in range(10_001)]}, check=False
    )
    assert too_many.status == 400

    dbs = await api.get(api.p("/raw/dbs"))
    assert [d["name"] for d in dbs.body["items"]] == ["db1"]
    tables = await api.get(api.p("/raw/dbs/db1/tables"))
    assert [t["name"] for t in tables.body["items"]] == ["t1"]
    created = await api.post(api.p("/raw/dbs"), {"items": [{"name": "db2"}]})
    assert created.status == 201
    made = await api.post(api.p("/raw/dbs/db2/tables"), {"items": [{"name": "t"}]})
    assert made.status == 201
    refused = await api.post(api.p("/raw/dbs/delete"), {"items": [{"name": "db2"}]})
    assert refused.status == 400
    assert (
        await api.post(api.p("/raw/dbs/db1/tables/delete"), {"items": [{"name": "t1"}]})
    ).status == 200
    assert (
        await api.post(api.p("/raw/dbs/delete"), {"items": [{"name": "db2"}], "recursive": True})
    ).status == 200
    assert [d["name"] for d in (await api.get(api.p("/raw/dbs"))).body["items"]] == ["db1"]


@pytest_twisted.ensureDeferred
async def test_sequences_and_rows(api: Api) -> None:
    created = await api.post(
        api.p("/sequences"),
        {
            "items": [
                {
                    "externalId": "seq",
                    "name": "S",
                    "columns": [
                        {"externalId": "depth", "valueType": "DOUBLE"},
                        {"externalId": "label", "valueType": "STRING"},
                        {"externalId": "count", "valueType": "LONG"},
                    ],
                }
            ]
        },
    )
    assert created.status == 201
    seq = created.body["items"][0]
    assert [c["valueType"] for c in seq["columns"]] == ["DOUBLE", "STRING", "LONG"]
    no_columns = await api.post(
        api.p("/sequences"), {"items": [{"externalId": "s2", "columns": []}]}, check=False
    )
    assert no_columns.status == 400
    inserted = await api.post(
        api.p("/sequences/data"),
        {
            "items": [
                {
                    "externalId": "seq",
                    "columns": ["depth", "label", "count"],
                    "rows": [{"rowNumber": i, "values": [i * 1.5, f"r{i}", i]} for i in range(5)],
                }
            ]
        },
    )
    assert inserted.status == 200
    wrong = await api.post(
        api.p("/sequences/data"),
        {
            "items": [
                {
                    "externalId": "seq",
                    "columns": ["count"],
                    "rows": [{"rowNumber": 1, "values": ["x"]}],
                }
            ]
        },
    )
    assert wrong.status == 400
    lost = await api.post(
        api.p("/sequences/data"),
        {
            "items": [
                {"externalId": "none", "columns": ["a"], "rows": [{"rowNumber": 1, "values": [1]}]}
            ]
        },
    )
    assert lost.status == 400 and lost.body["error"]["missing"] == [{"externalId": "none"}]
    listed = await api.post(
        api.p("/sequences/data/list"), {"externalId": "seq", "limit": 3, "columns": ["label"]}
    )
    assert listed.body["rows"] == [{"rowNumber": i, "values": [f"r{i}"]} for i in range(3)]
    assert "nextCursor" in listed.body
    deleted = await api.post(
        api.p("/sequences/data/delete"), {"items": [{"id": seq["id"], "rows": [0, 1]}]}
    )
    assert deleted.status == 200
    rest = await api.post(api.p("/sequences/data/list"), {"id": seq["id"]})
    assert [r["rowNumber"] for r in rest.body["rows"]] == [2, 3, 4]
    upd = await api.post(
        api.p("/sequences/update"),
        {"items": [{"id": seq["id"], "update": {"columns": {"add": [{"externalId": "extra"}]}}}]},
    )
    assert [c["externalId"] for c in upd.body["items"][0]["columns"]][-1] == "extra"
