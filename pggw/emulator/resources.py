"""Assets, events, time series, files, sequences, labels, data sets, relationships and
extraction pipelines: create, byids, list (GET and POST /list), update, delete.

Each resource type is declared once, as a :class:`Kind` with its fields and CDF's limits; the
handlers are shared. Field limits come from ``cog-api.json``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pggw.emulator.errors import bad_request, duplicated, duplicated_in_request, missing
from pggw.emulator.http import (
    Ctx,
    Reply,
    Route,
    decode_cursor,
    encode_cursor,
    ident_key,
    identifier,
    items_of,
    limit_of,
)
from pggw.emulator.store import now_ms

MAX_ID = 9007199254740991


@dataclass(frozen=True)
class F:
    """One field of a resource: its JSON kind and CDF's limits."""

    kind: str  # str | int | num | bool | meta | ints | labels | obj | list | any
    max_len: int | None = None
    min_len: int = 0
    required: bool = False
    updatable: bool = True
    nullable: bool = True  # may be setNull in an update
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_items: int | None = None
    # metadata limits
    max_value: int | None = None
    max_total: int | None = None
    ref: str | None = None  # kind whose id (or externalId for labels) this field refers to


XID = F("str", max_len=255)
XID_REQUIRED = F("str", max_len=255, min_len=1, required=True, nullable=False)
DATA_SET = F("int", minimum=1, maximum=MAX_ID, ref="datasets")
TIME = F("int", minimum=0)


def meta(max_value: int, max_total: int) -> F:
    return F("meta", max_value=max_value, max_total=max_total)


@dataclass
class Kind:
    name: str
    acl: str
    fields: dict[str, F]
    has_id: bool = True
    create_limit: int = 1000
    create_status: int = 201
    delete_status: int = 200
    list_max: int = 1000
    list_default: int = 100
    has_last_updated: bool = True
    updatable: bool = True
    deletable: bool = True
    # Extra fields the server adds (read-only) and their defaults on create.
    defaults: dict[str, Any] = field(default_factory=dict)
    hooks: Hooks | None = None

    @property
    def route_base(self) -> str:
        return "/" + self.name

    def render(self, item: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in item.items() if not k.startswith("_")}
        if not self.has_id:
            out.pop("id", None)
        return out


@dataclass
class Hooks:
    """Resource-specific behaviour on top of the shared handlers."""

    before_create: Callable[[Ctx, Kind, list[dict[str, Any]]], None] | None = None
    after_create: Callable[[Ctx, Kind, list[dict[str, Any]]], None] | None = None
    check_item: Callable[[Ctx, Kind, dict[str, Any]], None] | None = None
    before_delete: (
        Callable[[Ctx, Kind, list[dict[str, Any]], dict[str, Any]], list[dict[str, Any]]] | None
    ) = None
    after_delete: Callable[[Ctx, Kind, list[dict[str, Any]]], None] | None = None
    after_update: Callable[[Ctx, Kind, dict[str, Any], dict[str, Any]], None] | None = None
    extra_update: Callable[[Ctx, Kind, dict[str, Any], str, Any], bool] | None = None


# -- validation ------------------------------------------------------------------------------


def check_value(kind: Kind, name: str, spec: F, value: Any, where: str = "") -> Any:
    label = f"{where}{name}"
    if value is None:
        if spec.required:
            raise bad_request(f"{label} may not be null")
        return None
    k = spec.kind
    if k == "str":
        if not isinstance(value, str):
            raise bad_request(f"{label} must be a string")
        if spec.max_len is not None and len(value) > spec.max_len:
            raise bad_request(f"{label} size must be between {spec.min_len} and {spec.max_len}")
        if len(value) < spec.min_len:
            raise bad_request(f"{label} size must be between {spec.min_len} and {spec.max_len}")
        if spec.enum is not None and value not in spec.enum:
            raise bad_request(f"{label} must be one of {list(spec.enum)}")
    elif k == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f"{label} must be an integer")
        _range(label, spec, value)
    elif k == "num":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"{label} must be a number")
        _range(label, spec, value)
    elif k == "bool":
        if not isinstance(value, bool):
            raise bad_request(f"{label} must be a boolean")
    elif k == "meta":
        check_metadata(label, spec, value)
    elif k == "ints":
        if not isinstance(value, list) or any(
            isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_ID for v in value
        ):
            raise bad_request(f"{label} must be a list of ids")
        if spec.max_items is not None and len(value) > spec.max_items:
            raise bad_request(f"{label} may hold at most {spec.max_items} ids")
    elif k == "labels":
        if not isinstance(value, list) or any(
            not isinstance(v, dict) or not isinstance(v.get("externalId"), str) for v in value
        ):
            raise bad_request(f"{label} must be a list of {{externalId}} objects")
        if len(value) > (spec.max_items or 10):
            raise bad_request(f"{label} may hold at most {spec.max_items or 10} labels")
        value = [{"externalId": v["externalId"]} for v in value]
    elif k == "obj":
        if not isinstance(value, dict):
            raise bad_request(f"{label} must be an object")
    elif k == "list":
        if not isinstance(value, list):
            raise bad_request(f"{label} must be a list")
        if spec.max_items is not None and len(value) > spec.max_items:
            raise bad_request(f"{label} may hold at most {spec.max_items} elements")
    return value


def _range(label: str, spec: F, value: float) -> None:
    if spec.minimum is not None and value < spec.minimum:
        raise bad_request(f"{label} must be at least {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise bad_request(f"{label} must be at most {spec.maximum:g}")


def check_metadata(label: str, spec: F, value: Any) -> None:
    if not isinstance(value, dict):
        raise bad_request(f"{label} must be an object of strings")
    if len(value) > 256:
        raise bad_request(f"{label} may have at most 256 keys")
    total = 0
    for key, val in value.items():
        if not isinstance(val, str):
            raise bad_request(f"{label} values must be strings (key {key!r})")
        key_size = len(key.encode())
        val_size = len(val.encode())
        if key_size > 128:
            raise bad_request(f"{label} keys may be at most 128 bytes")
        if spec.max_value is not None and val_size > spec.max_value:
            raise bad_request(f"{label} values may be at most {spec.max_value} bytes")
        total += key_size + val_size
    if spec.max_total is not None and total > spec.max_total:
        raise bad_request(f"{label} may be at most {spec.max_total} bytes in total")


def build_item(kind: Kind, raw: dict[str, Any]) -> dict[str, Any]:
    """Check one create item against the kind's fields; returns the stored body."""
    unknown = [k for k in raw if k not in kind.fields]
    if unknown:
        raise bad_request(
            f"Unrecognized field(s) in {kind.name} item: {', '.join(sorted(unknown))}"
        )
    body: dict[str, Any] = {}
    for name, spec in kind.fields.items():
        if name not in raw or raw[name] is None:
            if spec.required:
                raise bad_request(f"{name} is required")
            continue
        body[name] = check_value(kind, name, spec, raw[name])
    for name, value in kind.defaults.items():
        body.setdefault(name, value)
    return body


# -- references ---------------------------------------------------------------------------


def check_refs(
    ctx: Ctx, kind: Kind, bodies: list[dict[str, Any]], skip_parent: bool = False
) -> None:
    """Every referenced data set, asset and label exists, or 400 with ``missing``."""
    wanted: dict[str, set[Any]] = {}
    for body in bodies:
        for name, spec in kind.fields.items():
            if name not in body:
                continue
            value = body[name]
            if spec.kind == "labels":
                wanted.setdefault("labels", set()).update(v["externalId"] for v in value)
            elif spec.ref is not None and not (skip_parent and name == "parentId"):
                ids = value if isinstance(value, list) else [value]
                wanted.setdefault(spec.ref, set()).update(ids)
    lost: list[dict[str, Any]] = []
    store = ctx.app.store
    for ref, values in wanted.items():
        if ref == "labels":
            found = store.existing_external_ids(ctx.project, "labels", sorted(values))
            lost.extend({"externalId": v} for v in sorted(values - found))
        else:
            lost.extend(
                {"id": v} for v in sorted(values) if store.get_by_id(ctx.project, ref, v) is None
            )
    if lost:
        raise missing(lost, "Reference(s) not found.")


def resolve(
    ctx: Ctx, kind: Kind, idents: list[dict[str, Any]], ignore_unknown: bool = False
) -> list[dict[str, Any]]:
    """Look up items by ``{id}`` / ``{externalId}``; 400 with ``missing`` unless ignored."""
    found: list[dict[str, Any] | None] = []
    lost: list[dict[str, Any]] = []
    store = ctx.app.store
    for ident in idents:
        if "id" in ident:
            item = store.get_by_id(ctx.project, kind.name, ident["id"]) if kind.has_id else None
        elif "externalId" in ident:
            item = store.get_by_external_id(ctx.project, kind.name, ident["externalId"])
        else:
            item = find_by_instance_id(ctx, kind, ident["instanceId"])
        if item is None:
            lost.append(ident)
        found.append(item)
    if lost and not ignore_unknown:
        raise missing(lost)
    raise_if_repeated(idents, found)
    return [item for item in found if item is not None]


def raise_if_repeated(idents: list[dict[str, Any]], found: list[dict[str, Any] | None]) -> None:
    """422 with ``duplicated`` when two identifiers in one request name the same item."""
    seen: set[Any] = set()
    dups: list[dict[str, Any]] = []
    for ident, item in zip(idents, found, strict=True):
        key = item["id"] if item is not None else ident_key(ident)
        if key in seen:
            dups.append(ident)
        seen.add(key)
    if dups:
        raise duplicated_in_request(dups)


def find_by_instance_id(ctx: Ctx, kind: Kind, instance_id: dict[str, Any]) -> dict[str, Any] | None:
    for item in ctx.app.store.scan(ctx.project, kind.name):
        if item.get("instanceId") == instance_id:
            return item
    return None


def idents_of(kind: Kind, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if kind.has_id:
        return [identifier(i, allow_instance=kind.name in ("timeseries", "files")) for i in items]
    out = []
    for item in items:
        if set(item) - {"externalId"} or not isinstance(item.get("externalId"), str):
            raise bad_request("Each item must be an object with externalId")
        out.append({"externalId": item["externalId"]})
    return out


# -- handlers --------------------------------------------------------------------------------


def create(kind: Kind) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        raw_items = items_of(ctx.body(), kind.create_limit)
        bodies = [build_item(kind, raw) for raw in raw_items]
        hooks = kind.hooks or Hooks()
        if hooks.check_item is not None:
            for body in bodies:
                hooks.check_item(ctx, kind, body)
        ctx.who.require_data_sets(kind.acl, "WRITE", bodies)
        created = insert_bodies(ctx, kind, bodies, hooks)
        return Reply(kind.create_status, {"items": [kind.render(i) for i in created]})

    return handler


def insert_bodies(
    ctx: Ctx, kind: Kind, bodies: list[dict[str, Any]], hooks: Hooks
) -> list[dict[str, Any]]:
    xids = [b["externalId"] for b in bodies if b.get("externalId") is not None]
    seen: set[str] = set()
    dup_in_request = []
    for xid in xids:
        if xid in seen:
            dup_in_request.append({"externalId": xid})
        seen.add(xid)
    if dup_in_request:
        raise duplicated_in_request(dup_in_request)
    store = ctx.app.store
    existing = store.existing_external_ids(ctx.project, kind.name, xids)
    if existing:
        raise duplicated([{"externalId": x} for x in xids if x in existing])
    check_refs(ctx, kind, bodies, skip_parent=hooks.before_create is not None)
    now = now_ms()
    with store.transaction():
        if hooks.before_create is not None:
            hooks.before_create(ctx, kind, bodies)
        created = []
        for body in bodies:
            body["createdTime"] = now
            if kind.has_last_updated:
                body["lastUpdatedTime"] = now
            item_id = store.insert_item(ctx.project, kind.name, body.get("externalId"), body)
            body["id"] = item_id
            created.append(body)
        if hooks.after_create is not None:
            hooks.after_create(ctx, kind, created)
            for body in created:
                store.replace_item(body["id"], body.get("externalId"), _stored(body))
    return created


def _stored(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "id"}


def byids(kind: Kind) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        body = ctx.body()
        idents = idents_of(kind, items_of(body, 1000))
        found = resolve(ctx, kind, idents, bool(body.get("ignoreUnknownIds", False)))
        return Reply(200, {"items": [kind.render(i) for i in found]})

    return handler


def get_one(kind: Kind) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        try:
            item_id = int(ctx.params["id"])
        except ValueError as exc:
            raise bad_request("id must be an integer") from exc
        item = ctx.app.store.get_by_id(ctx.project, kind.name, item_id)
        if item is None:
            raise missing([{"id": item_id}])
        return Reply(200, kind.render(item))

    return handler


QUERY_SKIP = {"limit", "cursor", "partition", "includeMetadata", "sort", "fetchTypes"}


def filter_from_query(ctx: Ctx) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values in ctx.query.items():
        if name in QUERY_SKIP or not values:
            continue
        value: Any = values[-1]
        with contextlib.suppress(ValueError):
            value = json.loads(value)
        if name.startswith(("min", "max")) and name[3:4].isupper():
            field_name = name[3].lower() + name[4:]
            out.setdefault(field_name, {})[name[:3]] = value
        elif name == "root":
            if value is True:
                out["root"] = True
        else:
            out[name] = value
    return out


def list_get(kind: Kind) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        limit = limit_of(ctx.int_arg("limit"), kind.list_default, kind.list_max)
        return list_items(
            ctx, kind, filter_from_query(ctx), limit, ctx.arg("cursor"), ctx.arg("partition")
        )

    return handler


def list_post(kind: Kind) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        body = ctx.body()
        limit = limit_of(body.get("limit"), kind.list_default, kind.list_max)
        flt = body.get("filter") or {}
        if not isinstance(flt, dict):
            raise bad_request("filter must be an object")
        return list_items(ctx, kind, flt, limit, body.get("cursor"), body.get("partition"))

    return handler


def list_items(
    ctx: Ctx, kind: Kind, flt: dict[str, Any], limit: int, cursor: Any, partition: Any
) -> Reply:
    after = decode_cursor(cursor) or 0
    if not isinstance(after, int):
        raise bad_request("Invalid cursor")
    part: tuple[int, int] | None = None
    if partition:
        try:
            num, _, total = str(partition).partition("/")
            part = (int(num), int(total))
        except ValueError as exc:
            raise bad_request("partition must look like 1/10") from exc
        if not 1 <= part[0] <= part[1]:
            raise bad_request("partition must look like 1/10")
    match = compile_filter(ctx, kind, flt)
    out: list[dict[str, Any]] = []
    next_cursor = None
    for item in ctx.app.store.scan(ctx.project, kind.name, after):
        if part is not None and item["id"] % part[1] != part[0] - 1:
            continue
        if not match(item):
            continue
        if len(out) == limit:
            next_cursor = encode_cursor(out[-1]["id"])
            break
        out.append(item)
    reply: dict[str, Any] = {"items": [kind.render(i) for i in out]}
    if next_cursor is not None:
        reply["nextCursor"] = next_cursor
    return Reply(200, reply)


Test = Callable[[dict[str, Any]], bool]


def _field_in(field_name: str, wanted: set[Any]) -> Test:
    return lambda item: item.get(field_name) in wanted


def _overlaps(field_name: str, wanted: set[Any]) -> Test:
    return lambda item: bool(wanted.intersection(item.get(field_name) or []))


def _equals(field_name: str, value: Any) -> Test:
    return lambda item: item.get(field_name) == value


def _prefix(prefix: str) -> Test:
    return lambda item: str(item.get("externalId") or "").startswith(prefix)


def _metadata(wanted: dict[str, Any]) -> Test:
    return lambda item: all((item.get("metadata") or {}).get(k) == v for k, v in wanted.items())


def _is_root(item: dict[str, Any]) -> bool:
    return "parentId" not in item


def compile_filter(ctx: Ctx, kind: Kind, flt: dict[str, Any]) -> Test:
    """A predicate for CDF's basic ``filter`` object (and GET list query parameters)."""
    tests: list[Test] = []
    store = ctx.app.store

    def ids_of(values: Any, ref: str, by_xid: bool = False) -> set[int]:
        out: set[int] = set()
        for v in values if isinstance(values, list) else [values]:
            if by_xid:
                v = {"externalId": v}
            if isinstance(v, dict) and "externalId" in v:
                found = store.get_by_external_id(ctx.project, ref, v["externalId"])
                if found is not None:
                    out.add(found["id"])
            elif isinstance(v, dict) and "id" in v:
                out.add(v["id"])
            elif isinstance(v, int):
                out.add(v)
        return out

    for name, value in flt.items():
        if name == "externalIdPrefix":
            tests.append(_prefix(str(value)))
        elif name == "dataSetIds":
            tests.append(_field_in("dataSetId", ids_of(value, "datasets")))
        elif name in ("parentIds", "parentExternalIds"):
            wanted = ids_of(value, "assets", by_xid=name == "parentExternalIds")
            tests.append(_field_in("parentId", wanted))
        elif name == "rootIds":
            tests.append(_field_in("rootId", ids_of(value, "assets")))
        elif name in ("assetIds", "assetExternalIds"):
            wanted = ids_of(value, "assets", by_xid=name == "assetExternalIds")
            if "assetIds" in kind.fields:
                tests.append(_overlaps("assetIds", wanted))
            else:
                tests.append(_field_in("assetId", wanted))
        elif name == "root":
            tests.append(_is_root)
        elif name == "metadata" and isinstance(value, dict):
            tests.append(_metadata(value))
        elif name == "labels" and isinstance(value, dict):
            tests.append(label_test(value))
        elif isinstance(value, dict) and set(value) <= {"min", "max"}:
            tests.append(range_test(name, value))
        elif name in ("sourceExternalIds", "targetExternalIds", "sourceTypes", "targetTypes"):
            tests.append(_field_in(name[:-1], set(value)))
        elif name == "externalIds":
            tests.append(_field_in("externalId", set(value)))
        elif name in ("assetSubtreeIds", "assetSubtreeExternalIds"):
            roots = ids_of(value, "assets", by_xid=name == "assetSubtreeExternalIds")
            tests.append(subtree_test(ctx, kind, roots))
        else:
            tests.append(_equals(name, value))

    def match(item: dict[str, Any]) -> bool:
        return all(t(item) for t in tests)

    return match


def range_test(name: str, bounds: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    low, high = bounds.get("min"), bounds.get("max")

    def test(item: dict[str, Any]) -> bool:
        value = item.get(name)
        if value is None:
            return False
        if low is not None and value < low:
            return False
        return not (high is not None and value > high)

    return test


def label_test(spec: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    if "containsAny" in spec:
        wanted = {v["externalId"] for v in spec["containsAny"]}
        return lambda i: bool(wanted & {v["externalId"] for v in i.get("labels") or []})
    if "containsAll" in spec:
        wanted = {v["externalId"] for v in spec["containsAll"]}
        return lambda i: wanted <= {v["externalId"] for v in i.get("labels") or []}
    raise bad_request("labels filter must use containsAny or containsAll")


def subtree_test(ctx: Ctx, kind: Kind, roots: set[int]) -> Callable[[dict[str, Any]], bool]:
    store = ctx.app.store

    def in_subtree(asset_id: int | None) -> bool:
        hops = 0
        while asset_id is not None and hops < 1000:
            if asset_id in roots:
                return True
            parent = store.get_by_id(ctx.project, "assets", asset_id)
            asset_id = parent.get("parentId") if parent else None
            hops += 1
        return False

    def test(item: dict[str, Any]) -> bool:
        if kind.name == "assets":
            return in_subtree(item["id"])
        if "assetIds" in item:
            return any(in_subtree(a) for a in item["assetIds"])
        return in_subtree(item.get("assetId"))

    return test


def update(kind: Kind) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        items = items_of(ctx.body(), 1000)
        idents = []
        for raw in items:
            if "update" not in raw or not isinstance(raw["update"], dict):
                raise bad_request("Each item must have an update object")
            idents.append(idents_of(kind, [{k: v for k, v in raw.items() if k != "update"}])[0])
        found = resolve(ctx, kind, idents)
        ctx.who.require_data_sets(kind.acl, "WRITE", found)
        hooks = kind.hooks or Hooks()
        store = ctx.app.store
        now = now_ms()
        updated = []
        new_xids: dict[str, int] = {}
        for raw, item in zip(items, found, strict=True):
            before = dict(item)
            for name, change in raw["update"].items():
                apply_change(ctx, kind, item, name, change, hooks)
            xid = item.get("externalId")
            if xid is not None and xid != before.get("externalId"):
                if xid in new_xids or store.get_by_external_id(ctx.project, kind.name, xid):
                    raise duplicated([{"externalId": xid}])
                new_xids[xid] = item["id"]
            if kind.has_last_updated:
                item["lastUpdatedTime"] = now
            updated.append((before, item))
        check_refs(ctx, kind, [i for _, i in updated])
        ctx.who.require_data_sets(kind.acl, "WRITE", [i for _, i in updated])
        with store.transaction():
            for before, item in updated:
                if hooks.after_update is not None:
                    hooks.after_update(ctx, kind, before, item)
                store.replace_item(item["id"], item.get("externalId"), _stored(item))
        return Reply(200, {"items": [kind.render(i) for _, i in updated]})

    return handler


def apply_change(
    ctx: Ctx, kind: Kind, item: dict[str, Any], name: str, change: Any, hooks: Hooks
) -> None:
    if hooks.extra_update is not None and hooks.extra_update(ctx, kind, item, name, change):
        return
    spec = kind.fields.get(name)
    if spec is None or not spec.updatable:
        raise bad_request(f"Field {name} cannot be updated")
    if not isinstance(change, dict) or not change:
        raise bad_request(f"Update of {name} must be an object with set, setNull, add or remove")
    ops = set(change)
    if ops == {"setNull"}:
        if change["setNull"] is not True:
            raise bad_request("setNull must be true")
        if spec.required or not spec.nullable:
            raise bad_request(f"Field {name} cannot be set to null")
        item.pop(name, None)
        return
    if ops == {"set"}:
        if change["set"] is None:
            raise bad_request(f"set of {name} may not be null; use setNull")
        item[name] = check_value(kind, name, spec, change["set"])
        return
    if ops <= {"add", "remove"} and spec.kind in ("meta", "ints", "labels"):
        current = item.get(name)
        if spec.kind == "meta":
            merged = dict(current or {})
            merged.update(check_value(kind, name, spec, change.get("add", {})) or {})
            for key in change.get("remove", []) or []:
                merged.pop(key, None)
            item[name] = check_value(kind, name, spec, merged)
        elif spec.kind == "ints":
            values = list(current or [])
            values += [v for v in change.get("add", []) or [] if v not in values]
            drop = set(change.get("remove", []) or [])
            item[name] = check_value(kind, name, spec, [v for v in values if v not in drop])
        else:
            labels = list(current or [])
            have = {v["externalId"] for v in labels}
            for v in check_value(kind, name, spec, change.get("add", [])) or []:
                if v["externalId"] not in have:
                    labels.append(v)
                    have.add(v["externalId"])
            drop = {
                v.get("externalId") for v in change.get("remove", []) or [] if isinstance(v, dict)
            }
            item[name] = check_value(
                kind, name, spec, [v for v in labels if v["externalId"] not in drop]
            )
        return
    raise bad_request(f"Invalid update operation(s) for {name}: {sorted(ops)}")


def delete(kind: Kind) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        body = ctx.body()
        idents = idents_of(kind, items_of(body, 1000))
        found = resolve(ctx, kind, idents, bool(body.get("ignoreUnknownIds", False)))
        ctx.who.require_data_sets(kind.acl, "WRITE", found)
        hooks = kind.hooks or Hooks()
        store = ctx.app.store
        with store.transaction():
            if hooks.before_delete is not None:
                found = hooks.before_delete(ctx, kind, found, body)
            store.delete_items(i["id"] for i in found)
            if hooks.after_delete is not None:
                hooks.after_delete(ctx, kind, found)
        return Reply(kind.delete_status, {})

    return handler


def kind_routes(kind: Kind, get_by_id: bool = True) -> Iterator[Route]:
    base = kind.route_base
    read = ((kind.acl, "READ"),)
    write = ((kind.acl, "WRITE"),)
    yield Route("POST", base, create(kind), write)
    yield Route("POST", base + "/byids", byids(kind), read)
    yield Route("POST", base + "/list", list_post(kind), read)
    yield Route("GET", base, list_get(kind), read)
    if kind.has_id and get_by_id:
        yield Route("GET", base + "/{id}", get_one(kind), read)
    if kind.updatable:
        yield Route("POST", base + "/update", update(kind), write)
    if kind.deletable:
        yield Route("POST", base + "/delete", delete(kind), write)
