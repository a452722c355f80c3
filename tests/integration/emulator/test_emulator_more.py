"""Files, labels, data sets, relationships, extraction pipelines and data modeling over HTTP."""

from __future__ import annotations

import pytest_twisted
from emulator_harness import Api


@pytest_twisted.ensureDeferred
async def test_files_metadata_and_upload(api: Api) -> None:
    created = await api.post(
        api.p("/files"), {"externalId": "f1", "name": "report.txt", "mimeType": "text/plain"}
    )
    assert created.status == 201
    meta = created.body
    assert meta["uploaded"] is False and meta["uploadUrl"].startswith(api.url)
    upload_path = meta["uploadUrl"][len(api.url) :]
    put = await api.call("PUT", upload_path, raw=b"hello", headers={"content-type": "text/plain"})
    assert put.status == 200
    got = await api.post(api.p("/files/byids"), {"items": [{"externalId": "f1"}]})
    assert got.body["items"][0]["uploaded"] is True and "uploadUrl" not in got.body["items"][0]
    content = await api.get(upload_path, check=False)
    assert content.raw == b"hello"
    dup = await api.post(api.p("/files"), {"externalId": "f1", "name": "again"})
    assert dup.status == 409
    replaced = await api.post(
        api.p("/files"), {"externalId": "f1", "name": "v2"}, query={"overwrite": True}
    )
    assert replaced.status == 201 and replaced.body["id"] == meta["id"]
    listed = await api.post(api.p("/files/list"), {"filter": {"name": "v2"}})
    assert [f["externalId"] for f in listed.body["items"]] == ["f1"]
    upd = await api.post(
        api.p("/files/update"), {"items": [{"id": meta["id"], "update": {"source": {"set": "s"}}}]}
    )
    assert upd.body["items"][0]["source"] == "s"
    assert (await api.post(api.p("/files/delete"), {"items": [{"id": meta["id"]}]})).status == 200
    assert (await api.post(api.p("/files/list"), {})).body["items"] == []


@pytest_twisted.ensureDeferred
async def test_labels_datasets_relationships(api: Api) -> None:
    labels = await api.post(api.p("/labels"), {"items": [{"externalId": "pump", "name": "Pump"}]})
    assert labels.status == 201 and "id" not in labels.body["items"][0]
    assert (
        await api.post(api.p("/labels"), {"items": [{"externalId": "pump", "name": "P"}]})
    ).status == 409
    listed = await api.post(api.p("/labels/list"), {"filter": {"externalIdPrefix": "pu"}})
    assert [x["externalId"] for x in listed.body["items"]] == ["pump"]

    eleven = await api.post(
        api.p("/datasets"), {"items": [{"name": f"d{i}"} for i in range(11)]}, check=False
    )
    assert eleven.status == 400
    ds = await api.post(api.p("/datasets"), {"items": [{"externalId": "ds", "name": "DS"}]})
    assert ds.status == 200 and ds.body["items"][0]["writeProtected"] is False
    ds_id = ds.body["items"][0]["id"]
    upd = await api.post(
        api.p("/datasets/update"),
        {"items": [{"id": ds_id, "update": {"description": {"set": "d"}}}]},
    )
    assert upd.body["items"][0]["description"] == "d"

    rel = await api.post(
        api.p("/relationships"),
        {
            "items": [
                {
                    "externalId": "r1",
                    "sourceExternalId": "a",
                    "sourceType": "asset",
                    "targetExternalId": "t",
                    "targetType": "timeSeries",
                    "confidence": 0.5,
                    "dataSetId": ds_id,
                    "labels": [{"externalId": "pump"}],
                }
            ]
        },
    )
    assert rel.status == 201 and rel.body["items"][0]["confidence"] == 0.5
    bad = await api.post(
        api.p("/relationships"),
        {
            "items": [
                {
                    "externalId": "r2",
                    "sourceExternalId": "a",
                    "sourceType": "thing",
                    "targetExternalId": "t",
                    "targetType": "asset",
                }
            ]
        },
        check=False,
    )
    assert bad.status == 400
    by_source = await api.post(
        api.p("/relationships/list"), {"filter": {"sourceExternalIds": ["a"]}}
    )
    assert [r["externalId"] for r in by_source.body["items"]] == ["r1"]
    rupd = await api.post(
        api.p("/relationships/update"),
        {"items": [{"externalId": "r1", "update": {"confidence": {"set": 1}}}]},
    )
    assert rupd.body["items"][0]["confidence"] == 1
    deleted = await api.post(api.p("/relationships/delete"), {"items": [{"externalId": "r1"}]})
    assert deleted.status == 202
    assert (
        await api.post(api.p("/labels/delete"), {"items": [{"externalId": "pump"}]})
    ).status == 200


@pytest_twisted.ensureDeferred
async def test_extraction_pipelines_and_runs(api: Api) -> None:
    no_ds = await api.post(
        api.p("/extpipes"), {"items": [{"externalId": "p", "name": "P", "dataSetId": 5}]}
    )
    assert no_ds.status == 400 and no_ds.body["error"]["missing"] == [{"id": 5}]
    ds_id = (await api.post(api.p("/datasets"), {"items": [{"name": "d"}]})).body["items"][0]["id"]
    pipe = await api.post(
        api.p("/extpipes"), {"items": [{"externalId": "p", "name": "P", "dataSetId": ds_id}]}
    )
    assert pipe.status == 200
    runs = await api.post(
        api.p("/extpipes/runs"),
        {"items": [{"externalId": "p", "status": "success", "createdTime": 1000}]},
    )
    assert runs.status == 200 and runs.body["items"][0]["status"] == "success"
    await api.post(
        api.p("/extpipes/runs"),
        {
            "items": [
                {"externalId": "p", "status": "failure", "message": "boom", "createdTime": 2000}
            ]
        },
    )
    lost = await api.post(
        api.p("/extpipes/runs"), {"items": [{"externalId": "nope", "status": "seen"}]}
    )
    assert lost.status == 400 and lost.body["error"]["missing"] == [{"externalId": "nope"}]
    listed = await api.post(api.p("/extpipes/runs/list"), {"filter": {"externalId": "p"}})
    assert [r["status"] for r in listed.body["items"]] == ["success", "failure"]
    failures = await api.get(
        api.p("/extpipes/runs"), query={"externalId": "p", "statuses": "failure"}
    )
    assert [r["message"] for r in failures.body["items"]] == ["boom"]
    got = await api.post(api.p("/extpipes/byids"), {"items": [{"externalId": "p"}]})
    item = got.body["items"][0]
    assert (
        item["lastSuccess"] == 1000
        and item["lastFailure"] == 2000
        and item["lastMessage"] == "boom"
    )
    assert (
        await api.post(api.p("/extpipes/delete"), {"items": [{"externalId": "p"}]})
    ).status == 200


@pytest_twisted.ensureDeferred
async def test_data_modeling_view_backed_instances(api: Api) -> None:
    assert (
        await api.post(api.p("/models/spaces"), {"items": [{"space": "sp", "name": "Space"}]})
    ).status == 200
    container = await api.post(
        api.p("/models/containers"),
        {
            "items": [
                {
                    "space": "sp",
                    "externalId": "Pump",
                    "properties": {
                        "name": {"type": {"type": "text"}, "nullable": False},
                        "flow": {"type": {"type": "float64"}},
                    },
                }
            ]
        },
    )
    assert container.status == 200
    view = await api.post(
        api.p("/models/views"),
        {
            "items": [
                {
                    "space": "sp",
                    "externalId": "PumpView",
                    "version": "v1",
                    "properties": {
                        "name": {
                            "container": {"type": "container", "space": "sp", "externalId": "Pump"},
                            "containerPropertyIdentifier": "name",
                        },
                        "flow": {
                            "container": {"type": "container", "space": "sp", "externalId": "Pump"},
                            "containerPropertyIdentifier": "flow",
                        },
                    },
                }
            ]
        },
    )
    assert view.status == 200
    props = view.body["items"][0]["properties"]
    assert props["name"]["type"]["type"] == "text" and props["name"]["nullable"] is False
    byids = await api.post(
        api.p("/models/views/byids"), {"items": [{"space": "sp", "externalId": "PumpView"}]}
    )
    assert byids.body["items"][0]["version"] == "v1"

    source = {"type": "view", "space": "sp", "externalId": "PumpView", "version": "v1"}
    applied = await api.post(
        api.p("/models/instances"),
        {
            "items": [
                {
                    "instanceType": "node",
                    "space": "sp",
                    "externalId": f"p{i}",
                    "sources": [
                        {"source": source, "properties": {"name": f"Pump {i}", "flow": i * 1.5}}
                    ],
                }
                for i in range(3)
            ]
        },
    )
    assert applied.status == 200
    assert [i["version"] for i in applied.body["items"]] == [1, 1, 1]
    again = await api.post(
        api.p("/models/instances"),
        {
            "items": [
                {
                    "instanceType": "node",
                    "space": "sp",
                    "externalId": "p0",
                    "sources": [{"source": source, "properties": {"flow": 9.0}}],
                }
            ]
        },
    )
    assert again.body["items"][0]["version"] == 2
    assert again.body["items"][0]["wasModified"] is True
    same = await api.post(
        api.p("/models/instances"),
        {
            "items": [
                {
                    "instanceType": "node",
                    "space": "sp",
                    "externalId": "p0",
                    "sources": [{"source": source, "properties": {"flow": 9.0}}],
                }
            ]
        },
    )
    assert same.body["items"][0]["version"] == 2
    assert same.body["items"][0]["wasModified"] is False
    missing_required = await api.post(
        api.p("/models/instances"),
        {
            "items": [
                {
                    "instanceType": "node",
                    "space": "sp",
                    "externalId": "new",
                    "sources": [{"source": source, "properties": {"flow": 1.0}}],
                }
            ]
        },
    )
    assert missing_required.status == 400
    wrong_type = await api.post(
        api.p("/models/instances"),
        {
            "items": [
                {
                    "instanceType": "node",
                    "space": "sp",
                    "externalId": "p1",
                    "sources": [{"source": source, "properties": {"flow": "fast"}}],
                }
            ]
        },
    )
    assert wrong_type.status == 400
    listed = await api.post(
        api.p("/models/instances/list"),
        {"instanceType": "node", "sources": [{"source": source}], "limit": 2},
    )
    assert len(listed.body["items"]) == 2 and "nextCursor" in listed.body
    p0 = listed.body["items"][0]
    assert p0["properties"]["sp"]["PumpView/v1"] == {"name": "Pump 0", "flow": 9.0}
    got = await api.post(
        api.p("/models/instances/byids"),
        {
            "items": [{"instanceType": "node", "space": "sp", "externalId": "p2"}],
            "sources": [{"source": source}],
        },
    )
    assert got.body["items"][0]["properties"]["sp"]["PumpView/v1"]["name"] == "Pump 2"
    deleted = await api.post(
        api.p("/models/instances/delete"),
        {"items": [{"instanceType": "node", "space": "sp", "externalId": "p2"}]},
    )
    assert deleted.status == 200
    rest = await api.post(api.p("/models/instances/list"), {"instanceType": "node"})
    assert sorted(i["externalId"] for i in rest.body["items"]) == ["p0", "p1"]
