"""Assets, events and time series over HTTP: CRUD, paging, filters, CDF's limits and errors."""

from __future__ import annotations

import pytest_twisted
from emulator_harness import Api


@pytest_twisted.ensureDeferred
async def test_assets_create_with_parents_in_same_request(api: Api) -> None:
    created = await api.post(
        api.p("/assets"),
        {
            "items": [
                {"externalId": "pump-1", "name": "Pump", "parentExternalId": "site"},
                {"externalId": "site", "name": "Site", "metadata": {"k": "v"}},
            ]
        },
    )
    assert created.status == 201
    by_xid = {a["externalId"]: a for a in created.body["items"]}
    site, pump = by_xid["site"], by_xid["pump-1"]
    assert site["rootId"] == site["id"] and "parentId" not in site
    assert pump["parentId"] == site["id"] and pump["rootId"] == site["id"]
    assert pump["parentExternalId"] == "site"
    child = await api.post(api.p("/assets"), {"items": [{"name": "Motor", "parentId": pump["id"]}]})
    assert child.body["items"][0]["rootId"] == site["id"]
    one = await api.get(api.p(f"/assets/{pump['id']}"))
    assert one.status == 200 and one.body["name"] == "Pump"


@pytest_twisted.ensureDeferred
async def test_assets_errors(api: Api) -> None:
    await api.post(api.p("/assets"), {"items": [{"externalId": "a", "name": "A"}]})
    dup = await api.post(
        api.p("/assets"), {"items": [{"externalId": "a", "name": "A"}, {"name": "B"}]}
    )
    assert dup.status == 409
    assert dup.body["error"]["duplicated"] == [{"externalId": "a"}]
    same = await api.post(
        api.p("/assets"),
        {"items": [{"externalId": "x", "name": "1"}, {"externalId": "x", "name": "2"}]},
    )
    assert same.status == 422
    assert same.body["error"]["duplicated"] == [{"externalId": "x"}]
    lost = await api.post(api.p("/assets"), {"items": [{"name": "c", "parentExternalId": "nope"}]})
    assert lost.status == 400
    assert lost.body["error"]["missing"] == [{"externalId": "nope"}]
    no_ds = await api.post(api.p("/assets"), {"items": [{"name": "c", "dataSetId": 123}]})
    assert no_ds.status == 400 and no_ds.body["error"]["missing"] == [{"id": 123}]
    no_label = await api.post(
        api.p("/assets"), {"items": [{"name": "c", "labels": [{"externalId": "L"}]}]}
    )
    assert no_label.status == 400 and no_label.body["error"]["missing"] == [{"externalId": "L"}]
    nameless = await api.post(api.p("/assets"), {"items": [{"externalId": "q"}]}, check=False)
    assert nameless.status == 400 and "name" in nameless.body["error"]["message"]
    long_name = await api.post(api.p("/assets"), {"items": [{"name": "n" * 141}]}, check=False)
    assert long_name.status == 400
    big_meta = await api.post(
        api.p("/assets"), {"items": [{"name": "m", "metadata": {"k": "v" * 10241}}]}, check=False
    )
    assert big_meta.status == 400
    too_many = await api.post(
        api.p("/assets"), {"items": [{"name": str(i)} for i in range(1001)]}, check=False
    )
    assert too_many.status == 400
    nothing = await api.post(api.p("/assets"), {"items": []}, check=False)
    assert nothing.status == 400
    # Nothing of a rejected request was kept.
    listed = await api.post(api.p("/assets/list"), {"limit": 1000})
    assert [a["externalId"] for a in listed.body["items"]] == ["a"]


@pytest_twisted.ensureDeferred
async def test_assets_list_paging_and_filters(api: Api) -> None:
    ds = await api.post(api.p("/datasets"), {"items": [{"externalId": "ds", "name": "DS"}]})
    ds_id = ds.body["items"][0]["id"]
    items = [
        {"externalId": f"a{i:03}", "name": f"A{i}", "dataSetId": ds_id if i % 2 else None}
        for i in range(25)
    ]
    for item in items:
        if item["dataSetId"] is None:
            del item["dataSetId"]
    await api.post(api.p("/assets"), {"items": items})
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = await api.get(api.p("/assets"), query=query)
        seen += [a["externalId"] for a in page.body["items"]]
        cursor = page.body.get("nextCursor")
        if not cursor:
            break
    assert seen == [i["externalId"] for i in items]
    in_ds = await api.post(
        api.p("/assets/list"), {"filter": {"dataSetIds": [{"externalId": "ds"}]}, "limit": 100}
    )
    assert len(in_ds.body["items"]) == 12
    prefix = await api.post(api.p("/assets/list"), {"filter": {"externalIdPrefix": "a01"}})
    assert [a["externalId"] for a in prefix.body["items"]] == [f"a01{i}" for i in range(10)]
    parts = []
    for n in (1, 2, 3):
        part = await api.post(api.p("/assets/list"), {"partition": f"{n}/3", "limit": 1000})
        parts += [a["id"] for a in part.body["items"]]
    assert len(parts) == len(set(parts)) == 25


@pytest_twisted.ensureDeferred
async def test_assets_byids_update_delete(api: Api) -> None:
    await api.post(
        api.p("/labels"),
        {"items": [{"externalId": "red", "name": "Red"}, {"externalId": "big", "name": "Big"}]},
    )
    created = await api.post(
        api.p("/assets"),
        {
            "items": [
                {"externalId": "root", "name": "Root"},
                {
                    "externalId": "leaf",
                    "name": "Leaf",
                    "parentExternalId": "root",
                    "metadata": {"a": "1", "b": "2"},
                    "labels": [{"externalId": "red"}],
                },
            ]
        },
    )
    root_id = created.body["items"][0]["id"]
    got = await api.post(
        api.p("/assets/byids"), {"items": [{"externalId": "leaf"}, {"id": root_id}]}
    )
    assert [a["name"] for a in got.body["items"]] == ["Leaf", "Root"]
    lost = await api.post(
        api.p("/assets/byids"), {"items": [{"externalId": "leaf"}, {"externalId": "gone"}]}
    )
    assert lost.status == 400 and lost.body["error"]["missing"] == [{"externalId": "gone"}]
    ignored = await api.post(
        api.p("/assets/byids"), {"items": [{"externalId": "gone"}], "ignoreUnknownIds": True}
    )
    assert ignored.body["items"] == []

    updated = await api.post(
        api.p("/assets/update"),
        {
            "items": [
                {
                    "externalId": "leaf",
                    "update": {
                        "name": {"set": "Leaf 2"},
                        "description": {"set": "d"},
                        "metadata": {"add": {"c": "3"}, "remove": ["a"]},
                        "labels": {
                            "add": [{"externalId": "big"}],
                            "remove": [{"externalId": "red"}],
                        },
                    },
                }
            ]
        },
    )
    assert updated.status == 200
    leaf = updated.body["items"][0]
    assert leaf["name"] == "Leaf 2" and leaf["metadata"] == {"b": "2", "c": "3"}
    assert leaf["labels"] == [{"externalId": "big"}]
    cleared = await api.post(
        api.p("/assets/update"),
        {"items": [{"externalId": "leaf", "update": {"description": {"setNull": True}}}]},
    )
    assert "description" not in cleared.body["items"][0]
    missing = await api.post(
        api.p("/assets/update"),
        {"items": [{"externalId": "nope", "update": {"name": {"set": "x"}}}]},
    )
    assert missing.status == 400 and missing.body["error"]["missing"] == [{"externalId": "nope"}]
    taken = await api.post(
        api.p("/assets/update"),
        {"items": [{"externalId": "leaf", "update": {"externalId": {"set": "root"}}}]},
    )
    assert taken.status == 409 and taken.body["error"]["duplicated"] == [{"externalId": "root"}]

    refused = await api.post(api.p("/assets/delete"), {"items": [{"externalId": "root"}]})
    assert refused.status == 400
    gone = await api.post(
        api.p("/assets/delete"), {"items": [{"externalId": "root"}], "recursive": True}
    )
    assert gone.status == 200 and gone.body == {}
    assert (await api.post(api.p("/assets/list"), {})).body["items"] == []
    again = await api.post(api.p("/assets/delete"), {"items": [{"externalId": "root"}]})
    assert again.status == 400 and again.body["error"]["missing"] == [{"externalId": "root"}]
    quiet = await api.post(
        api.p("/assets/delete"), {"items": [{"externalId": "root"}], "ignoreUnknownIds": True}
    )
    assert quiet.status == 200


@pytest_twisted.ensureDeferred
async def test_events_crud(api: Api) -> None:
    asset = (await api.post(api.p("/assets"), {"items": [{"name": "A"}]})).body["items"][0]
    created = await api.post(
        api.p("/events"),
        {
            "items": [
                {
                    "externalId": "e1",
                    "startTime": 1000,
                    "endTime": 2000,
                    "type": "alarm",
                    "assetIds": [asset["id"]],
                },
                {"externalId": "e2", "startTime": 5000, "type": "info"},
            ]
        },
    )
    assert created.status == 201
    bad_time = await api.post(api.p("/events"), {"items": [{"startTime": 10, "endTime": 5}]})
    assert bad_time.status == 400
    bad_asset = await api.post(api.p("/events"), {"items": [{"assetIds": [42]}]})
    assert bad_asset.status == 400 and bad_asset.body["error"]["missing"] == [{"id": 42}]
    alarms = await api.post(api.p("/events/list"), {"filter": {"type": "alarm"}})
    assert [e["externalId"] for e in alarms.body["items"]] == ["e1"]
    late = await api.post(api.p("/events/list"), {"filter": {"startTime": {"min": 3000}}})
    assert [e["externalId"] for e in late.body["items"]] == ["e2"]
    by_asset = await api.get(api.p("/events"), query={"assetIds": f"[{asset['id']}]"})
    assert [e["externalId"] for e in by_asset.body["items"]] == ["e1"]
    upd = await api.post(
        api.p("/events/update"),
        {"items": [{"externalId": "e2", "update": {"assetIds": {"add": [asset["id"]]}}}]},
    )
    assert upd.body["items"][0]["assetIds"] == [asset["id"]]
    assert (
        await api.post(api.p("/events/delete"), {"items": [{"externalId": "e1"}]})
    ).status == 200
    assert [e["externalId"] for e in (await api.post(api.p("/events/list"), {})).body["items"]] == [
        "e2"
    ]


@pytest_twisted.ensureDeferred
async def test_timeseries_crud(api: Api) -> None:
    created = await api.post(
        api.p("/timeseries"),
        {
            "items": [
                {"externalId": "t1", "name": "T1", "unit": "C"},
                {"externalId": "s1", "isString": True},
            ]
        },
    )
    assert created.status == 201
    t1, s1 = created.body["items"]
    assert t1["isString"] is False and t1["isStep"] is False and s1["isString"] is True
    dup = await api.post(api.p("/timeseries"), {"items": [{"externalId": "t1"}]})
    assert dup.status == 409 and dup.body["error"]["duplicated"] == [{"externalId": "t1"}]
    same = await api.post(
        api.p("/timeseries"), {"items": [{"externalId": "n"}, {"externalId": "n"}]}
    )
    assert same.status == 422
    strings = await api.post(api.p("/timeseries/list"), {"filter": {"isString": True}})
    assert [t["externalId"] for t in strings.body["items"]] == ["s1"]
    frozen = await api.post(
        api.p("/timeseries/update"),
        {"items": [{"id": t1["id"], "update": {"isString": {"set": True}}}]},
        check=False,
    )
    assert frozen.status == 400
    upd = await api.post(
        api.p("/timeseries/update"),
        {"items": [{"id": t1["id"], "update": {"unit": {"set": "K"}, "isStep": {"set": True}}}]},
    )
    assert upd.body["items"][0]["unit"] == "K" and upd.body["items"][0]["isStep"] is True
    await api.post(
        api.p("/timeseries/data"),
        {"items": [{"id": t1["id"], "datapoints": [{"timestamp": 1, "value": 1}]}]},
    )
    assert (
        await api.post(api.p("/timeseries/delete"), {"items": [{"externalId": "t1"}]})
    ).status == 200
    # Recreating the series starts with no datapoints.
    again = (await api.post(api.p("/timeseries"), {"items": [{"externalId": "t1"}]})).body["items"][
        0
    ]
    data = await api.post(
        api.p("/timeseries/data/list"), {"items": [{"id": again["id"]}], "start": 0, "end": 10}
    )
    assert data.body["items"][0]["datapoints"] == []
