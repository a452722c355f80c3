"""The resource types served by :mod:`pggw.emulator.resources`, with their CDF-specific rules."""

from __future__ import annotations

import secrets
from typing import Any

from pggw.emulator.errors import ApiError, bad_request, missing
from pggw.emulator.http import Ctx, Reply, Route, identifier, items_of, limit_of
from pggw.emulator.resources import (
    DATA_SET,
    MAX_ID,
    TIME,
    XID,
    XID_REQUIRED,
    F,
    Hooks,
    Kind,
    build_item,
    check_value,
    insert_bodies,
    kind_routes,
    list_items,
    meta,
    resolve,
)
from pggw.emulator.store import now_ms

ASSET_REF = F("int", minimum=1, maximum=MAX_ID, ref="assets")
ASSET_REFS = F("ints", max_items=10000, ref="assets")
LABELS = F("labels", max_items=10)

# -- assets: parents inside the same request, rootId, recursive delete ---------------------


def assets_before_create(ctx: Ctx, kind: Kind, bodies: list[dict[str, Any]]) -> None:
    """Resolve parentExternalId / parentId, also to assets created in this same request."""
    store = ctx.app.store
    by_xid = {b["externalId"]: b for b in bodies if "externalId" in b}
    lost: list[dict[str, Any]] = []
    for body in bodies:
        if "parentId" in body and "parentExternalId" in body:
            raise bad_request("Only one of parentId and parentExternalId may be set")
        if "parentId" in body and store.get_by_id(ctx.project, "assets", body["parentId"]) is None:
            lost.append({"id": body["parentId"]})
        pxid = body.get("parentExternalId")
        if (
            pxid is not None
            and pxid not in by_xid
            and (store.get_by_external_id(ctx.project, "assets", pxid) is None)
        ):
            lost.append({"externalId": pxid})
    if lost:
        raise missing(lost, "Reference to unknown parent asset(s).")
    # Insert parents before children: order by depth inside the request.
    order: list[dict[str, Any]] = []
    placed: set[int] = set()

    def place(body: dict[str, Any], depth: int = 0) -> None:
        if id(body) in placed:
            return
        if depth > len(bodies):
            raise bad_request("Asset hierarchy in request contains a cycle")
        parent = by_xid.get(body.get("parentExternalId", ""))
        if parent is not None and parent is not body:
            place(parent, depth + 1)
        placed.add(id(body))
        order.append(body)

    for body in bodies:
        place(body)
    bodies[:] = order


def assets_after_create(ctx: Ctx, kind: Kind, created: list[dict[str, Any]]) -> None:
    store = ctx.app.store
    by_xid = {b["externalId"]: b for b in created if "externalId" in b}
    for body in created:  # parents come first (see assets_before_create)
        pxid = body.get("parentExternalId")
        parent: dict[str, Any] | None = None
        if pxid is not None:
            parent = by_xid.get(pxid) or store.get_by_external_id(ctx.project, "assets", pxid)
        elif "parentId" in body:
            parent = store.get_by_id(ctx.project, "assets", body["parentId"])
        if parent is None:
            body["rootId"] = body["id"]
            body.pop("parentExternalId", None)
            continue
        body["parentId"] = parent["id"]
        if parent.get("externalId") is not None:
            body["parentExternalId"] = parent["externalId"]
        else:
            body.pop("parentExternalId", None)
        body["rootId"] = parent["rootId"]


def assets_before_delete(
    ctx: Ctx, kind: Kind, found: list[dict[str, Any]], body: dict[str, Any]
) -> list[dict[str, Any]]:
    store = ctx.app.store
    ids = {a["id"] for a in found}
    recursive = bool(body.get("recursive", False))
    out = list(found)
    todo = list(found)
    while todo:
        asset = todo.pop()
        for child in store.children(ctx.project, "assets", [asset["id"]]):
            if child["id"] in ids:
                continue
            if not recursive:
                raise bad_request(
                    f"Asset {asset['id']} has children; delete them first or set recursive=true"
                )
            ids.add(child["id"])
            out.append(child)
            todo.append(child)
    return out


def assets_extra_update(ctx: Ctx, kind: Kind, item: dict[str, Any], name: str, change: Any) -> bool:
    if name not in ("parentId", "parentExternalId"):
        return False
    if not isinstance(change, dict) or set(change) != {"set"}:
        raise bad_request(f"{name} can only be set")
    store = ctx.app.store
    if name == "parentId":
        parent = store.get_by_id(
            ctx.project, "assets", check_value(kind, name, ASSET_REF, change["set"])
        )
        ref: dict[str, Any] = {"id": change["set"]}
    else:
        parent = store.get_by_external_id(
            ctx.project, "assets", check_value(kind, name, XID, change["set"])
        )
        ref = {"externalId": change["set"]}
    if parent is None:
        raise missing([ref], "Reference to unknown parent asset.")
    if "parentId" not in item:
        raise bad_request("Cannot move a root asset under another asset")
    item["parentId"] = parent["id"]
    item["rootId"] = parent["rootId"]
    if parent.get("externalId") is not None:
        item["parentExternalId"] = parent["externalId"]
    else:
        item.pop("parentExternalId", None)
    return True


ASSETS = Kind(
    "assets",
    "assetsAcl",
    {
        "externalId": XID,
        "name": F("str", max_len=140, min_len=1, required=True, nullable=False),
        "parentId": F("int", minimum=1, maximum=MAX_ID, updatable=False),
        "parentExternalId": F("str", max_len=255, updatable=False),
        "description": F("str", max_len=500),
        "dataSetId": DATA_SET,
        "metadata": meta(10240, 10240),
        "source": F("str", max_len=128),
        "labels": LABELS,
        "geoLocation": F("obj"),
    },
    hooks=Hooks(
        before_create=assets_before_create,
        after_create=assets_after_create,
        before_delete=assets_before_delete,
        extra_update=assets_extra_update,
    ),
)

# -- events ----------------------------------------------------------------------------------


def events_check(ctx: Ctx, kind: Kind, body: dict[str, Any]) -> None:
    start, end = body.get("startTime"), body.get("endTime")
    if start is not None and end is not None and end < start:
        raise bad_request("endTime must be greater than or equal to startTime")


EVENTS = Kind(
    "events",
    "eventsAcl",
    {
        "externalId": XID,
        "dataSetId": DATA_SET,
        "startTime": TIME,
        "endTime": TIME,
        "type": F("str", max_len=64),
        "subtype": F("str", max_len=64),
        "description": F("str", max_len=500),
        "metadata": meta(128000, 200000),
        "assetIds": ASSET_REFS,
        "source": F("str", max_len=128),
    },
    hooks=Hooks(check_item=events_check),
)

# -- time series -----------------------------------------------------------------------------


def timeseries_check(ctx: Ctx, kind: Kind, body: dict[str, Any]) -> None:
    body.pop("legacyName", None)
    if body.get("isString") and "unitExternalId" in body:
        raise bad_request("unitExternalId is only allowed for numeric time series")


def timeseries_after_delete(ctx: Ctx, kind: Kind, deleted: list[dict[str, Any]]) -> None:
    for ts in deleted:
        ctx.app.store.delete_all_datapoints(ts["id"])


TIMESERIES = Kind(
    "timeseries",
    "timeSeriesAcl",
    {
        "externalId": XID,
        "name": F("str", max_len=255),
        "legacyName": F("str", max_len=255, updatable=False),
        "isString": F("bool", updatable=False),
        "metadata": meta(10000, 10000),
        "unit": F("str", max_len=32),
        "unitExternalId": F("str", max_len=64),
        "assetId": ASSET_REF,
        "isStep": F("bool", nullable=False),
        "description": F("str", max_len=1000),
        "securityCategories": F("ints", max_items=100),
        "dataSetId": DATA_SET,
    },
    defaults={"isString": False, "isStep": False},
    hooks=Hooks(check_item=timeseries_check, after_delete=timeseries_after_delete),
)

# -- sequences -------------------------------------------------------------------------------

VALUE_TYPES = ("STRING", "DOUBLE", "LONG")
COLUMN_FIELDS = {"externalId", "name", "description", "valueType", "metadata"}


def check_column(raw: Any, now: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise bad_request("Each column must be an object")
    unknown = set(raw) - COLUMN_FIELDS
    if unknown:
        raise bad_request(f"Unrecognized column field(s): {sorted(unknown)}")
    xid = raw.get("externalId")
    if not isinstance(xid, str) or not 1 <= len(xid) <= 255:
        raise bad_request("Each column needs an externalId of 1 to 255 characters")
    value_type = str(raw.get("valueType") or "DOUBLE").upper()
    if value_type not in VALUE_TYPES:
        raise bad_request(f"valueType must be one of {list(VALUE_TYPES)}")
    column: dict[str, Any] = {"externalId": xid, "valueType": value_type}
    for key, limit in (("name", 255), ("description", 1000)):
        if raw.get(key) is not None:
            if not isinstance(raw[key], str) or len(raw[key]) > limit:
                raise bad_request(f"column {key} must be a string of at most {limit} characters")
            column[key] = raw[key]
    if raw.get("metadata") is not None:
        column["metadata"] = check_value(SEQUENCES, "metadata", meta(10000, 10000), raw["metadata"])
    column["id"] = secrets.randbelow(MAX_ID - 1) + 1
    column["createdTime"] = now
    column["lastUpdatedTime"] = now
    return column


def check_columns(columns: list[dict[str, Any]]) -> None:
    if not 1 <= len(columns) <= 400:
        raise bad_request("A sequence must have between 1 and 400 columns")
    if sum(1 for c in columns if c["valueType"] == "STRING") > 200:
        raise bad_request("A sequence may have at most 200 string columns")
    xids = [c["externalId"] for c in columns]
    if len(set(xids)) != len(xids):
        raise bad_request("Column externalIds must be unique within a sequence")


def sequences_check(ctx: Ctx, kind: Kind, body: dict[str, Any]) -> None:
    now = now_ms()
    body["columns"] = [check_column(c, now) for c in body["columns"]]
    check_columns(body["columns"])


def sequences_extra_update(
    ctx: Ctx, kind: Kind, item: dict[str, Any], name: str, change: Any
) -> bool:
    if name != "columns":
        return False
    if not isinstance(change, dict):
        raise bad_request("columns update must be an object")
    now = now_ms()
    columns: list[dict[str, Any]] = list(item["columns"])
    for raw in change.get("add", []) or []:
        columns.append(check_column(raw, now))
    drop = {
        r.get("externalId") if isinstance(r, dict) else r for r in change.get("remove", []) or []
    }
    columns = [c for c in columns if c["externalId"] not in drop]
    for mod in change.get("modify", []) or []:
        target = next((c for c in columns if c["externalId"] == mod.get("externalId")), None)
        if target is None:
            raise missing([{"externalId": mod.get("externalId")}], "Unknown column")
        for key, op in (mod.get("update") or {}).items():
            if key not in ("externalId", "name", "description", "metadata"):
                raise bad_request(f"Column field {key} cannot be updated")
            if "setNull" in op:
                target.pop(key, None)
            elif "set" in op:
                target[key] = op["set"]
        target["lastUpdatedTime"] = now
    check_columns(columns)
    item["columns"] = columns
    return True


def sequences_after_delete(ctx: Ctx, kind: Kind, deleted: list[dict[str, Any]]) -> None:
    ctx.app.store.db.executemany(
        "DELETE FROM sequence_rows WHERE seq_id = ?", [(s["id"],) for s in deleted]
    )


SEQUENCES = Kind(
    "sequences",
    "sequencesAcl",
    {
        "externalId": XID,
        "name": F("str", max_len=255),
        "description": F("str", max_len=1000),
        "assetId": ASSET_REF,
        "metadata": meta(10000, 10000),
        "columns": F("list", required=True, updatable=False, max_items=400),
        "dataSetId": DATA_SET,
    },
    hooks=Hooks(
        check_item=sequences_check,
        extra_update=sequences_extra_update,
        after_delete=sequences_after_delete,
    ),
)

# -- files (metadata; the content goes to the uploadUrl) -------------------------------------

FILES = Kind(
    "files",
    "filesAcl",
    {
        "externalId": XID,
        "name": F("str", max_len=256, min_len=1, required=True, nullable=False),
        "directory": F("str", max_len=512),
        "source": F("str", max_len=128),
        "mimeType": F("str", max_len=256),
        "metadata": meta(10240, 10240),
        "assetIds": F("ints", max_items=1000, ref="assets"),
        "dataSetId": DATA_SET,
        "sourceCreatedTime": TIME,
        "sourceModifiedTime": TIME,
        "securityCategories": F("ints", max_items=100),
        "labels": LABELS,
        "geoLocation": F("obj"),
    },
    defaults={"uploaded": False},
)

# -- labels, data sets, relationships, extraction pipelines ----------------------------------

LABEL_DEFS = Kind(
    "labels",
    "labelsAcl",
    {
        "externalId": XID_REQUIRED,
        "name": F("str", max_len=140, min_len=1, required=True),
        "description": F("str", max_len=500),
        "dataSetId": DATA_SET,
    },
    has_id=False,
    has_last_updated=False,
    updatable=False,
)

DATASETS = Kind(
    "datasets",
    "datasetsAcl",
    {
        "externalId": XID,
        "name": F("str", max_len=50, min_len=1),
        "description": F("str", max_len=500, min_len=1),
        "metadata": meta(10240, 10240),
        "writeProtected": F("bool", nullable=False),
    },
    create_limit=10,
    create_status=200,
    defaults={"writeProtected": False},
    deletable=False,
)

RESOURCE_TYPES = ("asset", "timeSeries", "file", "event", "sequence")


def relationships_check(ctx: Ctx, kind: Kind, body: dict[str, Any]) -> None:
    start, end = body.get("startTime"), body.get("endTime")
    if start is not None and end is not None and end <= start:
        raise bad_request("endTime must be greater than startTime")


RELATIONSHIPS = Kind(
    "relationships",
    "relationshipsAcl",
    {
        "externalId": XID_REQUIRED,
        "sourceExternalId": F("str", max_len=255, min_len=1, required=True),
        "sourceType": F("str", enum=RESOURCE_TYPES, required=True),
        "targetExternalId": F("str", max_len=255, min_len=1, required=True),
        "targetType": F("str", enum=RESOURCE_TYPES, required=True),
        "startTime": TIME,
        "endTime": TIME,
        "confidence": F("num", minimum=0, maximum=1),
        "dataSetId": DATA_SET,
        "labels": LABELS,
    },
    has_id=False,
    delete_status=202,
    hooks=Hooks(check_item=relationships_check),
)

EXTPIPES = Kind(
    "extpipes",
    "extractionPipelinesAcl",
    {
        "externalId": XID_REQUIRED,
        "name": F("str", max_len=140, min_len=1, required=True, nullable=False),
        "description": F("str", max_len=500),
        "dataSetId": F(
            "int", minimum=0, maximum=MAX_ID, required=True, nullable=False, ref="datasets"
        ),
        "rawTables": F("list"),
        "schedule": F("str"),
        "contacts": F("list"),
        "metadata": meta(10240, 10240),
        "source": F("str", max_len=255),
        "documentation": F("str", max_len=10000),
        "notificationConfig": F("obj"),
        "createdBy": F("str", max_len=255),
    },
    create_status=200,
)

EXTPIPE_RUNS = Kind(
    "extpipe_runs",
    "extractionRunsAcl",
    {
        "externalId": XID_REQUIRED,
        "status": F("str", enum=("success", "failure", "seen"), required=True),
        "message": F("str", max_len=1000),
        "createdTime": F("int", minimum=0),
    },
    has_last_updated=False,
)


def create_runs(ctx: Ctx) -> Reply:
    raw_items = items_of(ctx.body(), 1000)
    store = ctx.app.store
    bodies = [build_item(EXTPIPE_RUNS, raw) for raw in raw_items]
    pipelines: dict[str, dict[str, Any]] = {}
    lost = []
    for body in bodies:
        xid = body["externalId"]
        pipe = pipelines.get(xid) or store.get_by_external_id(ctx.project, "extpipes", xid)
        if pipe is None:
            lost.append({"externalId": xid})
        else:
            pipelines[xid] = pipe
    if lost:
        raise missing(lost, "Extraction pipeline(s) not found.")
    now = now_ms()
    out = []
    with store.transaction():
        for body in bodies:
            created = body.get("createdTime", now)
            pipe = pipelines[body["externalId"]]
            run = {
                "status": body["status"],
                "createdTime": created,
                "_pipeline": body["externalId"],
            }
            if "message" in body:
                run["message"] = body["message"]
            run["id"] = store.insert_item(ctx.project, "extpipe_runs", None, run)
            out.append(run)
            last = {"success": "lastSuccess", "failure": "lastFailure", "seen": "lastSeen"}
            pipe[last[body["status"]]] = max(created, pipe.get(last[body["status"]], 0))
            pipe["lastSeen"] = max(created, pipe.get("lastSeen", 0))
            if body["status"] == "failure" and "message" in body:
                pipe["lastMessage"] = body["message"]
        for pipe in pipelines.values():
            store.replace_item(
                pipe["id"], pipe["externalId"], {k: v for k, v in pipe.items() if k != "id"}
            )
    return Reply(200, {"items": [_render_run(r) for r in out]})


def _render_run(run: dict[str, Any]) -> dict[str, Any]:
    return EXTPIPE_RUNS.render(run)


def list_runs(ctx: Ctx, flt: dict[str, Any], limit: int, cursor: Any) -> Reply:
    xid = flt.get("externalId")
    if not isinstance(xid, str):
        raise bad_request("filter.externalId is required")
    statuses = flt.get("statuses")
    inner: dict[str, Any] = {"_pipeline": xid}
    reply = list_items(ctx, EXTPIPE_RUNS, inner, limit, cursor, None)
    if statuses:
        wanted = {s.lower() for s in statuses}
        reply.body["items"] = [r for r in reply.body["items"] if r["status"] in wanted]
    return reply


def list_runs_post(ctx: Ctx) -> Reply:
    body = ctx.body()
    return list_runs(
        ctx, body.get("filter") or {}, limit_of(body.get("limit"), 100, 1000), body.get("cursor")
    )


def list_runs_get(ctx: Ctx) -> Reply:
    flt: dict[str, Any] = {"externalId": ctx.arg("externalId")}
    if ctx.arg("statuses"):
        flt["statuses"] = [
            s for s in (ctx.arg("statuses") or "").strip("[]").replace('"', "").split(",") if s
        ]
    return list_runs(ctx, flt, limit_of(ctx.int_arg("limit"), 100, 1000), ctx.arg("cursor"))


# -- files: single-object create, upload and download links --------------------------------
#
# The upload URL is ``/_emulator/files/{project}/{id}/{key}``: ``PUT`` the content there (no
# token: the key is the authorization, like a signed cloud-storage URL) and ``GET`` it back.
# Fault rules apply to these paths too (``"path": "/_emulator/files/*"``), to emulate a
# failing or expired upload URL.


def _upload_url(ctx: Ctx, item: dict[str, Any]) -> str:
    return f"{ctx.base_url}/_emulator/files/{ctx.project}/{item['id']}/{item['_uploadKey']}"


def create_file(ctx: Ctx) -> Reply:
    raw = ctx.body()
    body = build_item(FILES, raw)
    ctx.who.require_data_sets(FILES.acl, "WRITE", [body])
    overwrite = ctx.bool_arg("overwrite")
    store = ctx.app.store
    key = _new_upload_key()
    xid = body.get("externalId")
    existing = store.get_by_external_id(ctx.project, "files", xid) if xid is not None else None
    if existing is not None and overwrite:
        # "If there is no successful upload, the current file contents will be kept."
        now = now_ms()
        kept = {k: existing[k] for k in ("uploaded", "uploadedTime", "_contentType")
                if k in existing}
        body.update(id=existing["id"], createdTime=existing["createdTime"],
                    lastUpdatedTime=now, **kept)
        body["_uploadKey"] = key
        store.replace_item(existing["id"], xid, {k: v for k, v in body.items() if k != "id"})
        item = body
    else:
        body["_uploadKey"] = key
        item = insert_bodies(ctx, FILES, [body], Hooks())[0]
    out = FILES.render(item)
    out["uploadUrl"] = _upload_url(ctx, item)
    return Reply(201, out)


def _new_upload_key() -> str:
    return secrets.token_urlsafe(24)


def _one_file(ctx: Ctx, limit: int) -> list[dict[str, Any]]:
    raw = items_of(ctx.body(), limit)
    idents = [identifier(i, allow_instance=True) for i in raw]
    return resolve(ctx, FILES, idents)


def upload_link(ctx: Ctx) -> Reply:
    """``POST /files/uploadlink``: a (new) upload URL for an existing file."""
    (item,) = _one_file(ctx, 1)
    if not item.get("_uploadKey"):
        item["_uploadKey"] = _new_upload_key()
        ctx.app.store.replace_item(
            item["id"], item.get("externalId"), {k: v for k, v in item.items() if k != "id"})
    out = FILES.render(item)
    out["uploadUrl"] = _upload_url(ctx, item)
    return Reply(200, {"items": [out]})


def download_link(ctx: Ctx) -> Reply:
    """``POST /files/downloadlink``: URLs to ``GET`` the content of uploaded files."""
    raw = items_of(ctx.body(), 100)
    idents = [identifier(i, allow_instance=True) for i in raw]
    found = resolve(ctx, FILES, idents)
    not_uploaded = [i for i, item in zip(idents, found, strict=True) if not item.get("uploaded")]
    if not_uploaded:
        raise ApiError(400, "Files not uploaded: "
                       + ", ".join(str(next(iter(i.values()))) for i in not_uploaded))
    return Reply(200, {"items": [
        {**ident, "downloadUrl": _upload_url(ctx, item)}
        for ident, item in zip(idents, found, strict=True)
    ]})


def upload_file(ctx: Ctx) -> Reply:
    project, file_id, key = ctx.params["project"], int(ctx.params["id"]), ctx.params["key"]
    store = ctx.app.store
    item = store.get_by_id(project, "files", file_id)
    if item is None or item.get("_uploadKey") != key:
        raise ApiError(404, "Upload URL not found or expired")
    now = now_ms()
    item["uploaded"] = True
    item["uploadedTime"] = now
    item["lastUpdatedTime"] = now
    item["_contentType"] = ctx.headers.get("content-type")
    with store.transaction():
        store.db.execute(
            "INSERT OR REPLACE INTO file_content(file_id, content) VALUES (?, ?)",
            (file_id, ctx.raw_body),
        )
        store.replace_item(
            file_id, item.get("externalId"), {k: v for k, v in item.items() if k != "id"}
        )
    return Reply(200, {})


def download_file(ctx: Ctx) -> Reply:
    project, file_id, key = ctx.params["project"], int(ctx.params["id"]), ctx.params["key"]
    store = ctx.app.store
    item = store.get_by_id(project, "files", file_id)
    if item is None or item.get("_uploadKey") != key:
        raise ApiError(404, "File not found")
    row = store.db.execute(
        "SELECT content FROM file_content WHERE file_id = ?", (file_id,)
    ).fetchone()
    if row is None:
        raise ApiError(404, "File has no content yet")
    return Reply(
        200, raw=bytes(row[0]),
        content_type=item.get("_contentType") or item.get("mimeType")
        or "application/octet-stream",
    )


def files_after_delete(ctx: Ctx, kind: Kind, deleted: list[dict[str, Any]]) -> None:
    ctx.app.store.db.executemany(
        "DELETE FROM file_content WHERE file_id = ?", [(f["id"],) for f in deleted]
    )


FILES.hooks = Hooks(after_delete=files_after_delete)

KINDS = (
    ASSETS,
    EVENTS,
    TIMESERIES,
    SEQUENCES,
    FILES,
    LABEL_DEFS,
    DATASETS,
    RELATIONSHIPS,
    EXTPIPES,
)


def routes() -> list[Route]:
    out: list[Route] = []
    # Specific routes first: /extpipes/runs must not be taken for /extpipes/{id}.
    runs_read = (("extractionRunsAcl", "READ"),)
    out.append(Route("POST", "/extpipes/runs", create_runs, (("extractionRunsAcl", "WRITE"),)))
    out.append(Route("GET", "/extpipes/runs", list_runs_get, runs_read))
    out.append(Route("POST", "/extpipes/runs/list", list_runs_post, runs_read))
    out.append(Route("POST", "/files", create_file, (("filesAcl", "WRITE"),)))
    out.append(Route("POST", "/files/uploadlink", upload_link, (("filesAcl", "WRITE"),)))
    out.append(Route("POST", "/files/downloadlink", download_link, (("filesAcl", "READ"),)))
    for kind in KINDS:
        for route in kind_routes(kind):
            if kind is FILES and route.method == "POST" and route.pattern == "/files":
                continue
            out.append(route)
    out.append(Route("PUT", "/_emulator/files/{project}/{id}/{key}", upload_file, scope="public"))
    out.append(Route("GET", "/_emulator/files/{project}/{id}/{key}", download_file, scope="public"))
    return out
