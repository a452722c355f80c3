"""Data modeling, enough for view-backed tables: spaces, containers and views (apply, byids,
list, delete) and instances (apply as upsert, list, byids, delete)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from pggw.emulator.errors import ApiError, bad_request, missing
from pggw.emulator.http import Ctx, Reply, Route, decode_cursor, encode_cursor, items_of, limit_of
from pggw.emulator.store import dumps, now_ms

MODELS = "dataModelsAcl"
INSTANCES = "dataModelInstancesAcl"

# Schema objects live in the generic items table; their key is the externalId column.
SPACE, CONTAINER, VIEW = "dm_spaces", "dm_containers", "dm_views"


def _key(kind: str, ident: dict[str, Any]) -> str:
    if kind == SPACE:
        return str(ident["space"])
    if kind == CONTAINER:
        return f"{ident['space']}/{ident['externalId']}"
    return f"{ident['space']}/{ident['externalId']}/{ident.get('version')}"


def _ident(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(item.get("space"), str) or not 1 <= len(item["space"]) <= 43:
        raise bad_request("space must be a string of 1 to 43 characters")
    if kind == SPACE:
        return {"space": item["space"]}
    if not isinstance(item.get("externalId"), str) or not 1 <= len(item["externalId"]) <= 255:
        raise bad_request("externalId must be a string of 1 to 255 characters")
    ident = {"space": item["space"], "externalId": item["externalId"]}
    if kind == VIEW and "version" in item:
        ident["version"] = str(item["version"])
    return ident


def _get(ctx: Ctx, kind: str, ident: dict[str, Any]) -> dict[str, Any] | None:
    store = ctx.app.store
    if kind == VIEW and "version" not in ident:
        latest = None
        for view in store.scan(ctx.project, VIEW):
            same = view["space"] == ident["space"] and view["externalId"] == ident["externalId"]
            if same and (latest is None or view["createdTime"] >= latest["createdTime"]):
                latest = view
        return latest
    return store.get_by_external_id(ctx.project, kind, _key(kind, ident))


def _render(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "id" and not k.startswith("_")}


def _require_space(ctx: Ctx, space: str) -> None:
    if ctx.app.store.get_by_external_id(ctx.project, SPACE, space) is None:
        raise missing([{"space": space}], f"Space {space!r} does not exist")


def _apply(
    kind: str, build: Callable[[Ctx, dict[str, Any]], dict[str, Any]]
) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        items = items_of(ctx.body(), 100)
        store = ctx.app.store
        now = now_ms()
        out = []
        with store.transaction():
            for raw in items:
                ident = _ident(kind, raw)
                if kind != SPACE:
                    _require_space(ctx, ident["space"])
                body = build(ctx, raw)
                old = store.get_by_external_id(ctx.project, kind, _key(kind, ident))
                body.update(ident)
                body["isGlobal"] = False
                body["lastUpdatedTime"] = now
                if old is None:
                    body["createdTime"] = now
                    body["id"] = store.insert_item(ctx.project, kind, _key(kind, ident), body)
                else:
                    body["createdTime"] = old["createdTime"]
                    store.replace_item(old["id"], _key(kind, ident), body)
                out.append(_render(body))
        return Reply(200, {"items": out})

    return handler


def _build_space(ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
    return {k: raw[k] for k in ("name", "description") if raw.get(k) is not None}


PROPERTY_TYPES = {
    "text",
    "boolean",
    "float32",
    "float64",
    "int32",
    "int64",
    "timestamp",
    "date",
    "json",
    "direct",
    "enum",
    "timeseries",
    "file",
    "sequence",
}


def _build_container(ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
    props = raw.get("properties")
    if not isinstance(props, dict) or not props:
        raise bad_request("A container needs properties")
    out_props = {}
    for name, prop in props.items():
        ptype = (prop or {}).get("type") if isinstance(prop, dict) else None
        if not isinstance(ptype, dict) or ptype.get("type") not in PROPERTY_TYPES:
            raise bad_request(
                f"Container property {name!r} needs a type of {sorted(PROPERTY_TYPES)}"
            )
        out_props[name] = {
            "nullable": True,
            "autoIncrement": False,
            "immutable": False,
            **prop,
            "type": {"list": False, **ptype} if ptype["type"] not in ("direct",) else ptype,
        }
    body = {k: raw[k] for k in ("name", "description") if raw.get(k) is not None}
    body.update(
        properties=out_props,
        usedFor=raw.get("usedFor", "node"),
        constraints=raw.get("constraints", {}),
        indexes=raw.get("indexes", {}),
    )
    return body


def _build_view(ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
    if "version" not in raw:
        raise bad_request("A view needs a version")
    props = raw.get("properties") or {}
    out_props = {}
    mapped: list[dict[str, Any]] = []
    for name, prop in props.items():
        container_ref = prop.get("container") if isinstance(prop, dict) else None
        if not isinstance(container_ref, dict):
            raise bad_request(f"View property {name!r} must map a container property")
        container = _get(ctx, CONTAINER, _ident(CONTAINER, container_ref))
        if container is None:
            raise missing(
                [
                    {
                        "space": container_ref.get("space"),
                        "externalId": container_ref.get("externalId"),
                    }
                ],
                "Container not found",
            )
        cprop_name = prop.get("containerPropertyIdentifier", name)
        cprop = container["properties"].get(cprop_name)
        if cprop is None:
            raise bad_request(f"Container {container['externalId']} has no property {cprop_name!r}")
        ref = {
            "type": "container",
            "space": container["space"],
            "externalId": container["externalId"],
        }
        if ref not in mapped:
            mapped.append(ref)
        out_props[name] = {
            "container": ref,
            "containerPropertyIdentifier": cprop_name,
            "type": cprop["type"],
            "nullable": cprop.get("nullable", True),
            "autoIncrement": cprop.get("autoIncrement", False),
            "immutable": cprop.get("immutable", False),
            **{k: prop[k] for k in ("name", "description") if prop.get(k) is not None},
        }
    body = {k: raw[k] for k in ("name", "description", "filter") if raw.get(k) is not None}
    body.update(
        version=str(raw["version"]),
        properties=out_props,
        implements=raw.get("implements", []),
        writable=True,
        queryable=True,
        usedFor="node",
        mappedContainers=mapped,
    )
    return body


def _byids(kind: str) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        out = []
        for raw in items_of(ctx.body(), 100):
            item = _get(ctx, kind, _ident(kind, raw))
            if item is not None:
                out.append(_render(item))
        return Reply(200, {"items": out})

    return handler


def _list(kind: str) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        limit = limit_of(ctx.int_arg("limit"), 10, 1000)
        space = ctx.arg("space")
        after = decode_cursor(ctx.arg("cursor")) or 0
        out: list[dict[str, Any]] = []
        next_cursor = None
        for item in ctx.app.store.scan(ctx.project, kind, after):
            if space is not None and item.get("space") != space:
                continue
            if len(out) == limit:
                next_cursor = encode_cursor(out[-1]["id"])
                break
            out.append(item)
        body: dict[str, Any] = {"items": [_render(i) for i in out]}
        if next_cursor is not None:
            body["nextCursor"] = next_cursor
        return Reply(200, body)

    return handler


def _delete(kind: str) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        store = ctx.app.store
        out = []
        with store.transaction():
            for raw in items_of(ctx.body(), 100):
                ident = _ident(kind, raw)
                item = _get(ctx, kind, ident)
                if item is not None:
                    store.delete_items([item["id"]])
                    if kind == SPACE:
                        store.db.execute(
                            "DELETE FROM instances WHERE project = ? AND space = ?",
                            (ctx.project, ident["space"]),
                        )
                out.append(ident)
        return Reply(200, {"items": out})

    return handler


# -- instances --------------------------------------------------------------------------------


def _check_property(view: dict[str, Any], name: str, value: Any) -> None:
    prop = view["properties"].get(name)
    if prop is None:
        raise bad_request(f"View {view['externalId']} has no property {name!r}")
    if value is None:
        if not prop.get("nullable", True):
            raise bad_request(f"Property {name!r} may not be null")
        return
    ptype = prop["type"]
    values = value if ptype.get("list") else [value]
    if ptype.get("list") and not isinstance(value, list):
        raise bad_request(f"Property {name!r} must be a list")
    kind = ptype["type"]
    for v in values:
        ok = True
        if kind in ("text", "timestamp", "date", "enum"):
            ok = isinstance(v, str)
        elif kind in ("int32", "int64"):
            ok = isinstance(v, int) and not isinstance(v, bool)
        elif kind in ("float32", "float64"):
            ok = isinstance(v, int | float) and not isinstance(v, bool)
        elif kind == "boolean":
            ok = isinstance(v, bool)
        elif kind in ("direct", "timeseries", "file", "sequence"):
            ok = isinstance(v, dict | str)
        if not ok:
            raise bad_request(f"Property {name!r} has the wrong type for {kind}: {v!r}")


def _instance_row(ctx: Ctx, space: str, xid: str) -> dict[str, Any] | None:
    row = ctx.app.store.db.execute(
        "SELECT body FROM instances WHERE project = ? AND space = ? AND external_id = ?",
        (ctx.project, space, xid),
    ).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def apply_instances(ctx: Ctx) -> Reply:
    body = ctx.body()
    items = items_of(body, 1000)
    replace = bool(body.get("replace", False))
    store = ctx.app.store
    now = now_ms()
    out = []
    seen: set[tuple[str, str]] = set()
    with store.transaction():
        for raw in items:
            instance_type = raw.get("instanceType")
            if instance_type not in ("node", "edge"):
                raise bad_request("instanceType must be node or edge")
            ident = _ident(CONTAINER, raw)
            key = (ident["space"], ident["externalId"])
            if key in seen:
                raise ApiError(400, "Duplicate instances in request", duplicated=[ident])
            seen.add(key)
            _require_space(ctx, ident["space"])
            if instance_type == "edge":
                for field_name in ("type", "startNode", "endNode"):
                    if not isinstance(raw.get(field_name), dict):
                        raise bad_request(f"An edge needs {field_name}")
            old = _instance_row(ctx, *key)
            if old is not None and old["instanceType"] != instance_type:
                raise bad_request(f"{key} already exists as a {old['instanceType']}")
            existing_version = raw.get("existingVersion")
            if (
                old is not None
                and existing_version is not None
                and existing_version != old["version"]
            ):
                if body.get("skipOnVersionConflict"):
                    continue
                raise ApiError(409, "Version conflict", duplicated=[ident])
            properties: dict[str, Any] = copy.deepcopy(old.get("properties", {})) if old else {}
            for source_entry in raw.get("sources") or []:
                source = source_entry.get("source") or {}
                if source.get("type") == "view":
                    view = _get(ctx, VIEW, _ident(VIEW, source))
                else:
                    view = _get(ctx, CONTAINER, _ident(CONTAINER, source))
                if view is None:
                    raise missing(
                        [
                            {
                                k: source.get(k)
                                for k in ("space", "externalId", "version")
                                if k in source
                            }
                        ],
                        "Source not found",
                    )
                props = source_entry.get("properties") or {}
                for name, value in props.items():
                    _check_property(view, name, value)
                if old is None or replace:
                    for name, prop in view["properties"].items():
                        if not prop.get("nullable", True) and props.get(name) is None:
                            raise bad_request(f"Property {name!r} is required")
                skey = (
                    f"{view['externalId']}/{view['version']}"
                    if "version" in view
                    else view["externalId"]
                )
                bucket = properties.setdefault(view["space"], {})
                merged = {} if replace else dict(bucket.get(skey, {}))
                merged.update(props)
                bucket[skey] = merged
            record = {
                "instanceType": instance_type,
                **ident,
                "version": 1,
                "createdTime": now,
                "lastUpdatedTime": now,
                "properties": properties,
            }
            if instance_type == "edge":
                record.update(type=raw["type"], startNode=raw["startNode"], endNode=raw["endNode"])
            elif isinstance(raw.get("type"), dict):
                record["type"] = raw["type"]
            modified = old is None or _content(old) != _content(record)
            if old is not None:
                record["createdTime"] = old["createdTime"]
                record["version"] = old["version"] + 1 if modified else old["version"]
                if not modified:
                    record["lastUpdatedTime"] = old["lastUpdatedTime"]
            version = record["version"]
            # An update keeps its place (seq) so that list cursors stay stable.
            store.db.execute(
                "INSERT INTO instances(project, space, external_id, instance_type, body, seq) "
                "VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM instances)) "
                "ON CONFLICT(project, space, external_id) DO UPDATE SET body = excluded.body",
                (ctx.project, ident["space"], ident["externalId"], instance_type, dumps(record)),
            )
            out.append(
                {
                    "instanceType": instance_type,
                    **ident,
                    "version": version,
                    "wasModified": modified,
                    "createdTime": record["createdTime"],
                    "lastUpdatedTime": record["lastUpdatedTime"],
                }
            )
    return Reply(200, {"items": out})


def _content(record: dict[str, Any]) -> Any:
    return {
        k: v for k, v in record.items() if k not in ("version", "createdTime", "lastUpdatedTime")
    }


def _select_sources(record: dict[str, Any], sources: list[dict[str, Any]] | None) -> dict[str, Any]:
    if not sources:
        record.pop("properties", None)
        return record
    props = record.get("properties", {})
    picked: dict[str, Any] = {}
    for entry in sources:
        source = entry.get("source") or {}
        skey = (
            f"{source.get('externalId')}/{source.get('version')}"
            if source.get("version")
            else source.get("externalId")
        )
        values = props.get(source.get("space"), {}).get(skey)
        if values is not None:
            picked.setdefault(str(source.get("space")), {})[skey] = values
    record["properties"] = picked
    return record


def list_instances(ctx: Ctx) -> Reply:
    body = ctx.body()
    limit = limit_of(body.get("limit"), 1000, 1000)
    instance_type = body.get("instanceType", "node")
    after = decode_cursor(body.get("cursor")) or 0
    space_filter = _space_filter(body.get("filter"))
    rows = ctx.app.store.db.execute(
        "SELECT seq, body FROM instances WHERE project = ? AND instance_type = ? AND seq > ? "
        "ORDER BY seq",
        (ctx.project, instance_type, after),
    )
    out: list[dict[str, Any]] = []
    next_cursor = None
    last_seq = 0
    sources = body.get("sources")
    for seq, raw in rows:
        record = json.loads(raw)
        if space_filter is not None and record["space"] not in space_filter:
            continue
        if sources and not _has_data(record, sources):
            continue
        if len(out) == limit:
            next_cursor = encode_cursor(last_seq)
            break
        out.append(_select_sources(record, sources))
        last_seq = seq
    reply: dict[str, Any] = {"items": out, "typing": {}}
    if next_cursor is not None:
        reply["nextCursor"] = next_cursor
    return Reply(200, reply)


def _has_data(record: dict[str, Any], sources: list[dict[str, Any]]) -> bool:
    picked = _select_sources(dict(record), sources)
    return bool(picked.get("properties"))


def _space_filter(flt: Any) -> set[str] | None:
    if not isinstance(flt, dict):
        return None
    for op in ("equals", "in"):
        spec = flt.get(op)
        if isinstance(spec, dict) and spec.get("property") in (
            ["node", "space"],
            ["edge", "space"],
        ):
            value = spec.get("value", spec.get("values"))
            return {str(v) for v in value} if isinstance(value, list) else {str(value)}
    return None


def byids_instances(ctx: Ctx) -> Reply:
    body = ctx.body()
    out = []
    for raw in items_of(body, 1000):
        ident = _ident(CONTAINER, raw)
        record = _instance_row(ctx, ident["space"], ident["externalId"])
        if record is not None and record["instanceType"] == raw.get(
            "instanceType", record["instanceType"]
        ):
            out.append(_select_sources(record, body.get("sources")))
    return Reply(200, {"items": out, "typing": {}})


def delete_instances(ctx: Ctx) -> Reply:
    items = items_of(ctx.body(), 1000)
    store = ctx.app.store
    out = []
    with store.transaction():
        for raw in items:
            ident = _ident(CONTAINER, raw)
            store.db.execute(
                "DELETE FROM instances WHERE project = ? AND space = ? AND external_id = ?",
                (ctx.project, ident["space"], ident["externalId"]),
            )
            out.append({"instanceType": raw.get("instanceType", "node"), **ident})
    return Reply(200, {"items": out})


def routes() -> list[Route]:
    read, write = ((MODELS, "READ"),), ((MODELS, "WRITE"),)
    out: list[Route] = []
    for path, kind, build in (
        ("/models/spaces", SPACE, _build_space),
        ("/models/containers", CONTAINER, _build_container),
        ("/models/views", VIEW, _build_view),
    ):
        out += [
            Route("POST", path, _apply(kind, build), write),
            Route("GET", path, _list(kind), read),
            Route("POST", path + "/byids", _byids(kind), read),
            Route("POST", path + "/delete", _delete(kind), write),
        ]
    iread, iwrite = ((INSTANCES, "READ"),), ((INSTANCES, "WRITE"),)
    out += [
        Route("POST", "/models/instances", apply_instances, iwrite),
        Route("POST", "/models/instances/list", list_instances, iread),
        Route("POST", "/models/instances/byids", byids_instances, iread),
        Route("POST", "/models/instances/delete", delete_instances, iwrite),
    ]
    return out
