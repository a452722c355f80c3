"""Rows of a WAL record → CDF items, and items → request bodies.

Registry-driven: a column's ``cdf`` names its JSON field (dotted fields build nested
objects), ``resolves`` marks an external-id reference that is resolved to an internal id
before upload, ``check="labels"`` becomes ``[{"externalId": …}]``.

Each (table kind, op) has one small mapper function in :data:`MAPPERS`; each (kind, action)
one :class:`Endpoint` saying where and how a batch of items is sent. Update and delete
records carry the key columns (``external_id`` or ``id``; RAW: db, table, key) plus, for
update, the columns to set (a ``None`` value means ``setNull``); a column named
``"<col>:add"`` / ``"<col>:remove"`` adds to / removes from an array or metadata column.
A ``files`` row's ``content`` (bytes) rides on its item as :attr:`Item.content`, never in
the JSON body: :mod:`pggw.upload.files` uploads it once CDF has the file.
Datapoint deletes carry ``timestamp`` (one point) or ``_range_begin`` (inclusive) and
``_range_end`` (exclusive) in epoch ms. Change those conventions here, nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pggw.tables.limits import DATAPOINTS, SEQUENCE_ROWS
from pggw.tables.model import Column, Table

__all__ = [
    "ENDPOINTS",
    "MAPPERS",
    "Endpoint",
    "Item",
    "Resolution",
    "Unmappable",
    "kind_of",
    "map_record",
    "OverwriteMerger",
    "merge_overwrites",
    "pack",
    "rows_of",
    "split_heavy",
]

Ident = tuple[str, Any]
Owner = tuple[int, tuple[int, ...] | None]

#: Tables whose items reference other tables, by dependency level (lower goes first).
LEVELS: Mapping[str, int] = {
    "data_sets": 0,
    "labels": 1,
    "raw_rows": 1,
    "assets": 2,
    "events": 3,
    "time_series": 3,
    "files": 3,
    "sequences": 3,
    "extraction_pipelines": 3,
    "relationships": 4,
    "double_datapoints": 4,
    "string_datapoints": 4,
    "sequence_rows": 4,
    "extraction_pipeline_runs": 4,
}

#: Resource path of the ``byids`` endpoint used to resolve external ids, per table.
BYIDS: Mapping[str, str] = {
    "assets": "/assets/byids",
    "data_sets": "/datasets/byids",
    "time_series": "/timeseries/byids",
    "sequences": "/sequences/byids",
    "events": "/events/byids",
    "files": "/files/byids",
    "labels": "/labels/byids",
    "relationships": "/relationships/byids",
    "extraction_pipelines": "/extpipes/byids",
}


class Unmappable(ValueError):
    """A row (or record) that cannot become a CDF item; it is dead-lettered."""


@dataclass
class Resolution:
    """An external-id reference of an item waiting to become an internal id."""

    table: str  # the referenced registry table, e.g. "data_sets"
    external_ids: list[str]
    target: str  # the JSON field receiving the id(s), e.g. "dataSetId"
    many: bool  # a list of ids (assetIds) rather than one id
    update: bool = False  # goes into item["update"][target] = {"set": …}


@dataclass(eq=False, slots=True)
class Item:
    """One CDF item, plus what the uploader needs to track it.

    ``owners`` are the (record id, row indexes) the item came from; ``None`` indexes mean
    "the record's rows with this item's identity" (merged datapoints/RAW rows). ``refs``
    are identities the item references (``missing`` answers may name them); ``parent`` an
    external id of a parent asset for topological order; ``weight`` counts datapoints or
    sequence values against per-request limits.
    """

    table: str
    op: str  # the WAL op, or "update" once an upsert's create came back duplicated
    ident: Ident | None
    body: Any
    owners: list[Owner]
    group: Hashable = None
    refs: tuple[Ident, ...] = ()
    parent: str | None = None
    resolve: Sequence[Resolution] = ()
    weight: int = 1
    missing_since: float | None = None
    tries: int = 0
    error: dict[str, Any] | None = None
    #: a file's bytes, uploaded after CDF created (or updated) the file; None: none given
    content: bytes | None = None

    @property
    def rows(self) -> int:
        """Table rows the item stands for (datapoints count one each)."""
        return len(self.body) if isinstance(self.body, Points) else 1


@dataclass(frozen=True)
class Endpoint:
    """How a batch of items of one (kind, action) is sent."""

    path: Callable[[Table, Hashable], str]
    body: Callable[[list[Item]], Any]
    max_items: Callable[[Table], int]
    max_weight: int | None = None
    params: Mapping[str, str] | None = None
    #: same identity twice in one request is refused by CDF
    unique: bool = True


# ---------------------------------------------------------------------------------------
# Kinds


def kind_of(table: Table) -> str:
    """The mapping family of a table."""
    if table.kind == "raw":
        return "custom_raw"
    if table.kind == "view":
        return "view"
    return {
        "double_datapoints": "datapoints",
        "string_datapoints": "datapoints",
        "raw_rows": "raw",
        "sequence_rows": "sequence_rows",
        "extraction_pipeline_runs": "runs",
        "files": "files",
    }.get(table.name, "resource")


def action_of(kind: str, op: str) -> str:
    """The request an item of ``op`` becomes: create, update, delete or write (overwrite)."""
    if op in ("update", "delete"):
        return op
    if kind in ("datapoints", "raw", "custom_raw", "sequence_rows", "view"):
        return "write"
    return "create"


# ---------------------------------------------------------------------------------------
# Helpers


def _set_path(obj: dict[str, Any], dotted: str, value: Any) -> None:
    if "." not in dotted:
        obj[dotted] = value
        return
    *parents, last = dotted.split(".")
    for p in parents:
        nxt = obj.get(p)
        if not isinstance(nxt, dict):
            nxt = obj[p] = {}
        obj = nxt
    obj[last] = value


def _json_number(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    return v


def _ident_of(cols: Mapping[str, list[Any]], i: int) -> Ident | None:
    ext = cols.get("external_id")
    if ext is not None and ext[i] is not None:
        return ("externalId", ext[i])
    ids = cols.get("id")
    if ids is not None and ids[i] is not None:
        return ("id", ids[i])
    return None


def _ident_json(ident: Ident) -> dict[str, Any]:
    return {ident[0]: ident[1]}


def _labels(value: Any) -> list[dict[str, Any]]:
    return [{"externalId": v} for v in value]


@dataclass(frozen=True)
class _Plan:
    """Per table: how each column is treated (computed once per table)."""

    fields: tuple[tuple[str, str, Column], ...]  # (column, cdf field, column)
    resolves: tuple[tuple[str, Column, Column], ...]  # (column, its column, target column)
    refs: tuple[tuple[str, str], ...]  # (column, ident kind) of native references


_PLANS: dict[tuple[str, int], _Plan] = {}


def _plan(table: Table) -> _Plan:
    key = (table.name, id(table))
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    fields = []
    resolves = []
    refs = []
    for c in table.columns:
        if c.resolves:
            target = table.column(c.resolves)
            if target is None or target.cdf is None:
                continue
            resolves.append((c.name, c, target))
        elif c.cdf and not c.read_only:
            fields.append((c.name, c.cdf, c))
            if c.references and c.name != "external_id" and c.name != "id":
                refs.append((c.name, "externalId" if "external" in c.name else "id"))
    plan = _Plan(tuple(fields), tuple(resolves), tuple(refs))
    _PLANS[key] = plan
    return plan


def _field_value(col: Column, value: Any) -> Any:
    if col.check == "labels":
        return _labels(value)
    if col.cdf == "dataSetId" and isinstance(value, list):  # labels' one-element array
        return value[0] if value else None
    return value


def _refs_of(plan: _Plan, cols: Mapping[str, list[Any]], i: int) -> tuple[Ident, ...]:
    out: list[Ident] = []
    for name, kind in plan.refs:
        values = cols.get(name)
        if values is None:
            continue
        v = values[i]
        if v is None:
            continue
        if isinstance(v, list):
            out.extend((kind, x) for x in v)
        else:
            out.append((kind, v))
    return tuple(out)


def _resolutions(
    plan: _Plan, cols: Mapping[str, list[Any]], i: int, *, update: bool
) -> list[Resolution]:
    out = []
    for name, col, target in plan.resolves:
        values = cols.get(name)
        if values is None or values[i] is None:
            continue
        v = values[i]
        many = isinstance(v, list)
        ext = list(v) if many else [v]
        if not ext:
            continue
        # labels' data_set_external_id is a one-element array holding one id
        many = many and target.cdf != "dataSetId"
        assert col.references is not None and target.cdf is not None
        out.append(Resolution(col.references, ext, target.cdf, many, update))
    return out


# ---------------------------------------------------------------------------------------
# Mappers: one per (kind, op). Each returns the items of one record.

Mapper = Callable[[Table, Mapping[str, list[Any]], int], list[Item]]


def _n(cols: Mapping[str, list[Any]]) -> int:
    return len(next(iter(cols.values()))) if cols else 0


def resource_create(table: Table, cols: Mapping[str, list[Any]], rid: int, op: str) -> list[Item]:
    plan = _plan(table)
    present = [(name, cdf, col, cols[name]) for name, cdf, col in plan.fields if name in cols]
    items: list[Item] = []
    parent_col = cols.get("parent_external_id") if table.name == "assets" else None
    for i in range(_n(cols)):
        body: dict[str, Any] = {}
        for _name, cdf, col, values in present:
            v = values[i]
            if v is not None:
                _set_path(body, cdf, _field_value(col, v))
        ident = _ident_of(cols, i)
        items.append(
            Item(
                table.name,
                op,
                ident,
                body,
                [(rid, (i,))],
                refs=_refs_of(plan, cols, i),
                parent=parent_col[i] if parent_col is not None else None,
                resolve=_resolutions(plan, cols, i, update=False),
            )
        )
    return items


def _patch(col: Column | None, value: Any, how: str) -> dict[str, Any]:
    if how == "set":
        if value is None:
            return {"setNull": True}
        return {"set": _field_value(col, value) if col is not None else value}
    if col is not None and col.check == "metadata" and how == "remove":
        return {"remove": list(value)}
    return {how: _field_value(col, value) if col is not None else value}


#: The ``files`` column whose bytes are uploaded to the file's upload URL.
CONTENT = "content"


def content_bytes(value: Any) -> bytes | None:
    """A ``content`` value as bytes: bytes from the WAL, or the ``\\x…`` hex text a
    requeued dead letter carries (dead letters keep rows as JSON)."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str) and value.startswith("\\x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise Unmappable(f"file content must be bytes, not {type(value).__name__}")


def files_create(table: Table, cols: Mapping[str, list[Any]], rid: int, op: str) -> list[Item]:
    """Like :func:`resource_create`; each item carries its row's ``content``."""
    items = resource_create(table, cols, rid, op)
    content = cols.get(CONTENT)
    if content is not None:
        for it, value in zip(items, content, strict=True):
            it.content = content_bytes(value)
    return items


def resource_update(table: Table, cols: Mapping[str, list[Any]], rid: int, op: str) -> list[Item]:
    plan = _plan(table)
    by_name = {name: (cdf, col) for name, cdf, col in plan.fields}
    resolvable = {name for name, _, _ in plan.resolves}
    changes: list[tuple[str, str, Column, list[Any]]] = []
    for name, values in cols.items():
        base, _, how = name.partition(":")
        if base in ("external_id", "id") and not how:
            continue
        if base in resolvable:
            continue
        entry = by_name.get(base)
        if entry is None:
            raise Unmappable(f"column {name!r} of {table.name} cannot be updated in CDF")
        changes.append((entry[0], how or "set", entry[1], values))
    items = []
    for i in range(_n(cols)):
        ident = _ident_of(cols, i)
        if ident is None:
            raise Unmappable(f"update of {table.name} without external_id or id")
        update: dict[str, Any] = {}
        for cdf, how, col, values in changes:
            patch = _patch(col, values[i], how)
            if how in ("add", "remove") and cdf in update:
                update[cdf].update(patch)
            else:
                update[cdf] = patch
        items.append(
            Item(
                table.name,
                op,
                ident,
                {**_ident_json(ident), "update": update},
                [(rid, (i,))],
                refs=_refs_of(plan, cols, i),
                resolve=_resolutions(plan, cols, i, update=True),
            )
        )
    return items


def resource_delete(table: Table, cols: Mapping[str, list[Any]], rid: int, op: str) -> list[Item]:
    items = []
    for i in range(_n(cols)):
        ident = _ident_of(cols, i)
        if ident is None:
            raise Unmappable(f"delete from {table.name} without external_id or id")
        items.append(Item(table.name, op, ident, _ident_json(ident), [(rid, (i,))]))
    return items


@dataclass(slots=True)
class Points:
    """Datapoints of one series, column-wise (dicts are built only when encoding)."""

    timestamps: list[int]
    values: list[Any]
    codes: list[Any] | None = None
    symbols: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.timestamps)

    def extend(self, other: Points) -> None:
        n = len(self.timestamps)
        self.timestamps.extend(other.timestamps)
        self.values.extend(other.values)
        if other.codes is not None or self.codes is not None:
            self.codes = (self.codes or [None] * n) + (other.codes or [None] * len(other))
        if other.symbols is not None or self.symbols is not None:
            self.symbols = (self.symbols or [None] * n) + (other.symbols or [None] * len(other))

    def slice(self, a: int, b: int) -> Points:
        return Points(
            self.timestamps[a:b],
            self.values[a:b],
            self.codes[a:b] if self.codes is not None else None,
            self.symbols[a:b] if self.symbols is not None else None,
        )

    def dedupe(self) -> None:
        """Keep the last point of each timestamp (last write wins)."""
        ts = self.timestamps
        last = {t: i for i, t in enumerate(ts)}
        if len(last) == len(ts):
            return
        keep = sorted(last.values())
        self.timestamps = [ts[i] for i in keep]
        self.values = [self.values[i] for i in keep]
        if self.codes is not None:
            self.codes = [self.codes[i] for i in keep]
        if self.symbols is not None:
            self.symbols = [self.symbols[i] for i in keep]

    def json_points(self) -> list[dict[str, Any]]:
        ts, vs = self.timestamps, self.values
        if not all(isinstance(v, str) or v is None or math.isfinite(v) for v in vs):
            vs = [_json_number(v) for v in vs]
        if self.codes is None and self.symbols is None:
            return [{"timestamp": t, "value": v} for t, v in zip(ts, vs, strict=True)]
        out = []
        codes = self.codes or [None] * len(ts)
        symbols = self.symbols or [None] * len(ts)
        for t, v, c, s in zip(ts, vs, codes, symbols, strict=True):
            p: dict[str, Any] = {"timestamp": t}
            if v is not None:
                p["value"] = v
            if c is not None or s is not None:
                p["status"] = {k: x for k, x in (("code", c), ("symbol", s)) if x is not None}
            out.append(p)
        return out


def _series_keys(cols: Mapping[str, list[Any]], n: int) -> list[Ident]:
    ext = cols.get("external_id")
    ids = cols.get("id")
    if ext is not None and ids is None and None not in ext:
        return [("externalId", x) for x in ext]
    out: list[Ident] = []
    for i in range(n):
        key = _ident_of(cols, i)
        if key is None:
            raise Unmappable("datapoint row without external_id or id")
        out.append(key)
    return out


def datapoints_write(table: Table, cols: Mapping[str, list[Any]], rid: int, op: str) -> list[Item]:
    n = _n(cols)
    if not n:
        return []
    ts = cols["timestamp"]
    vals = cols.get("value") or [None] * n
    codes = cols.get("status_code")
    symbols = cols.get("status_symbol")
    if codes is not None and all(c is None for c in codes):
        codes = None
    if symbols is not None and all(s is None for s in symbols):
        symbols = None
    keys = _series_keys(cols, n)
    first = keys[0]
    if keys.count(first) == n:  # one series: no regrouping
        groups: dict[Ident, list[int]] | None = None
        series = {first: Points(list(ts), list(vals), codes and list(codes),
                                symbols and list(symbols))}
    else:
        groups = {}
        for i, k in enumerate(keys):
            g = groups.get(k)
            if g is None:
                groups[k] = [i]
            else:
                g.append(i)
        series = {
            k: Points(
                [ts[i] for i in idx],
                [vals[i] for i in idx],
                [codes[i] for i in idx] if codes is not None else None,
                [symbols[i] for i in idx] if symbols is not None else None,
            )
            for k, idx in groups.items()
        }
    return [
        Item(table.name, op, k, p, [(rid, None)], weight=len(p), refs=(k,))
        for k, p in series.items()
    ]


def datapoints_delete(table: Table, cols: Mapping[str, list[Any]], rid: int, op: str) -> list[Item]:
    items = []
    ts = cols.get("timestamp")
    begin = cols.get("_range_begin")
    end = cols.get("_range_end")
    for i in range(_n(cols)):
        ident = _ident_of(cols, i)
        if ident is None:
            raise Unmappable("datapoint delete without external_id or id")
        body: dict[str, Any] = _ident_json(ident)
        if ts is not None and ts[i] is not None:
            body["inclusiveBegin"] = ts[i]
            body["exclusiveEnd"] = ts[i] + 1
        else:
            body["inclusiveBegin"] = begin[i] if begin is not None and begin[i] is not None else (
                -2_208_988_800_000
            )
            if end is not None and end[i] is not None:
                body["exclusiveEnd"] = end[i]
        items.append(Item(table.name, op, ident, body, [(rid, (i,))], refs=(ident,)))
    return items


def raw_write(table: Table, cols: Mapping[str, list[Any]], rid: int, op: str) -> list[Item]:
    dbs, tables, keys = cols["_raw_database"], cols["_raw_table"], cols["_raw_key"]
    values = cols.get("_raw_columns")
    # Few objects per row (RAW volumes are large): the owner list and the (db, table)
    # groups are shared; a dead letter finds a row by its key (``rows_of``).
    owners: list[Owner] = [(rid, None)]
    groups: dict[tuple[str, str], tuple[str, str]] = {}
    items = []
    delete = op == "delete"
    for i, key in enumerate(keys):
        g = (dbs[i], tables[i])
        group = groups.setdefault(g, g)
        if delete:
            body: dict[str, Any] = {"key": key}
        else:
            v = values[i] if values is not None else None
            body = {"key": key, "columns": v if v is not None else {}}
        items.append(Item(table.name, op, ("key", key), body, owners, group=group))
    return items


def custom_raw_write(table: Table, cols: Mapping[str, list[Any]], rid: int, op: str) -> list[Item]:
    """A custom RAW table: its columns become the row's columns; the key is the
    ``primaryKey`` column, or derived from the WAL record so retries overwrite."""
    db, tbl = table.options.get("database"), table.options.get("table")
    if not db or not tbl:
        raise Unmappable(f"custom RAW table {table.name} has no database/table option")
    pk = table.options.get("primaryKey")
    names = [n for n in cols if n != pk or op == "delete"]
    items = []
    for i in range(_n(cols)):
        if pk:
            if cols.get(pk) is None or cols[pk][i] is None:
                raise Unmappable(f"row without a value in primary key column {pk!r}")
            key = str(cols[pk][i])
        else:
            if op == "delete":
                raise Unmappable(f"custom RAW table {table.name} has no primary key to delete by")
            key = f"pggw-{rid}-{i}"
        body: dict[str, Any] = {"key": key}
        if op != "delete":
            body["columns"] = {n: cols[n][i] for n in names if cols[n][i] is not None}
        items.append(Item(table.name, op, ("key", key), body, [(rid, (i,))], group=(db, tbl)))
    return items


def sequence_rows_write(
    table: Table, cols: Mapping[str, list[Any]], rid: int, op: str
) -> list[Item]:
    """One item per (sequence, row); the body builder groups rows per sequence and
    column set. Body: (row number, values, column external ids)."""
    numbers = cols["row_number"]
    values = cols.get("values")
    items = []
    for i in range(_n(cols)):
        ident = _ident_of(cols, i)
        if ident is None:
            raise Unmappable("sequence row without external_id or id")
        v = values[i] if values is not None else None
        if op != "delete" and not isinstance(v, dict):
            raise Unmappable("sequence row values must be a JSON object")
        columns = tuple(v) if isinstance(v, dict) else ()
        items.append(
            Item(
                table.name,
                op,
                (ident[0], (ident[1], numbers[i])),
                (numbers[i], v, columns),
                [(rid, (i,))],
                refs=(ident,),
                weight=max(1, len(columns)),
            )
        )
    return items


def runs_create(table: Table, cols: Mapping[str, list[Any]], rid: int, op: str) -> list[Item]:
    items = resource_create(table, cols, rid, op)
    for it in items:
        it.refs = (it.ident,) if it.ident else ()
        it.ident = None  # runs have no identity of their own
    return items


def view_write(table: Table, cols: Mapping[str, list[Any]], rid: int, op: str) -> list[Item]:
    """A custom data-modeling view table: one node per row, upserted into the view
    named by the table's options (space, externalId, version); a ``space`` column, else
    the view's space, holds the instance. Other columns are properties (``cdf`` or name)."""
    view_space, view_id = table.options.get("space"), table.options.get("externalId")
    if not view_space or not view_id:
        raise Unmappable(f"view table {table.name} has no space/externalId option")
    source: dict[str, Any] = {"type": "view", "space": view_space, "externalId": view_id}
    if table.options.get("version"):
        source["version"] = table.options["version"]
    spaces = cols.get("space")
    ext = cols.get("external_id")
    if ext is None:
        raise Unmappable(f"view table {table.name} rows need external_id")
    props = [((table.column(n).cdf if table.column(n) else None) or n, v)  # type: ignore[union-attr]
             for n, v in cols.items() if n not in ("space", "external_id")]
    items = []
    for i in range(_n(cols)):
        space = spaces[i] if spaces is not None and spaces[i] is not None else view_space
        ident: Ident = ("instanceId", (space, ext[i]))
        body: dict[str, Any] = {"instanceType": "node", "space": space, "externalId": ext[i]}
        if op != "delete":
            body["sources"] = [{"source": source,
                                "properties": {p: v[i] for p, v in props}}]
        items.append(Item(table.name, op, ident, body, [(rid, (i,))]))
    return items


MAPPERS: dict[tuple[str, str], Callable[[Table, Mapping[str, list[Any]], int, str], list[Item]]]
MAPPERS = {}
for _op in ("insert", "upsert", "insert-ignore"):
    MAPPERS[("resource", _op)] = resource_create
    MAPPERS[("files", _op)] = files_create
    MAPPERS[("datapoints", _op)] = datapoints_write
    MAPPERS[("raw", _op)] = raw_write
    MAPPERS[("custom_raw", _op)] = custom_raw_write
    MAPPERS[("sequence_rows", _op)] = sequence_rows_write
    MAPPERS[("view", _op)] = view_write
MAPPERS[("runs", "insert")] = runs_create
for _kind in ("resource", "files"):
    MAPPERS[(_kind, "update")] = resource_update
    MAPPERS[(_kind, "delete")] = resource_delete
MAPPERS[("datapoints", "delete")] = datapoints_delete
MAPPERS[("raw", "delete")] = raw_write
MAPPERS[("custom_raw", "delete")] = custom_raw_write
MAPPERS[("sequence_rows", "delete")] = sequence_rows_write
MAPPERS[("view", "delete")] = view_write


def map_record(table: Table, op: str, cols: Mapping[str, list[Any]], rid: int) -> list[Item]:
    """The CDF items of one WAL record (raises :class:`Unmappable`)."""
    kind = kind_of(table)
    mapper = MAPPERS.get((kind, op))
    if mapper is None:
        raise Unmappable(f"{op} on {table.name} ({kind}) is not supported by the uploader")
    return mapper(table, cols, rid, op)


# ---------------------------------------------------------------------------------------
# Stage-level merging, splitting and packing


class OverwriteMerger:
    """Merges items with the same identity (last write wins) for overwrite kinds: one
    datapoint item per series, one RAW row per key, one sequence row per number. Items
    are added in commit order, in as many slices as the caller likes."""

    def __init__(self) -> None:
        self._groups: dict[Hashable, dict[Any, Item]] = {}

    def add(self, items: Iterable[Item]) -> None:
        groups = self._groups
        for it in items:
            merged = groups.get(it.group)
            if merged is None:
                merged = groups[it.group] = {}
            key = it.ident
            prev = merged.get(key)
            if prev is None:
                merged[key] = it
                continue
            if prev.owners is it.owners:
                owners = prev.owners
            else:
                owners = prev.owners + [o for o in it.owners if o not in prev.owners]
            if isinstance(prev.body, Points) and isinstance(it.body, Points):
                prev.body.extend(it.body)
                prev.weight = len(prev.body)
                prev.owners = owners
            else:
                it.owners = owners
                merged[key] = it

    def result(self) -> list[Item]:
        out = [it for merged in self._groups.values() for it in merged.values()]
        for it in out:
            if isinstance(it.body, Points) and len(it.owners) > 1:
                it.body.dedupe()
                it.weight = len(it.body)
        return out


def merge_overwrites(items: list[Item]) -> list[Item]:
    """Merge items with the same identity, last write wins (see :class:`OverwriteMerger`)."""
    merger = OverwriteMerger()
    merger.add(items)
    return merger.result()


def split_heavy(items: list[Item], max_weight: int) -> list[Item]:
    """Split datapoint items heavier than one request into parts of the same series."""
    out: list[Item] = []
    for it in items:
        if not isinstance(it.body, Points) or it.weight <= max_weight:
            out.append(it)
            continue
        p = it.body
        for a in range(0, len(p), max_weight):
            part = p.slice(a, a + max_weight)
            out.append(Item(it.table, it.op, it.ident, part, it.owners, group=it.group,
                            refs=it.refs, weight=len(part)))
    return out


def pack(items: Iterable[Item], max_items: int, max_weight: int | None,
         unique: bool = True) -> list[list[Item]]:
    """Greedy packing into batches within the item and weight limits, per group; with
    ``unique`` an identity appears at most once per batch."""
    by_group: dict[Hashable, list[Item]] = {}
    for it in items:
        by_group.setdefault(it.group, []).append(it)
    batches: list[list[Item]] = []
    for group_items in by_group.values():
        if max_weight is None and (
            not unique or len({it.ident for it in group_items}) == len(group_items)
        ):  # fast path: fixed-size slices
            batches.extend(group_items[a : a + max_items]
                           for a in range(0, len(group_items), max_items))
            continue
        open_batches: list[tuple[list[Item], list[int], set[Any]]] = []
        for it in group_items:
            placed = False
            for batch, weight, idents in open_batches[-4:]:
                if len(batch) >= max_items:
                    continue
                if max_weight is not None and weight[0] + it.weight > max_weight:
                    continue
                if unique and it.ident is not None and it.ident in idents:
                    continue
                batch.append(it)
                weight[0] += it.weight
                if unique and it.ident is not None:
                    idents.add(it.ident)
                placed = True
                break
            if not placed:
                open_batches.append(([it], [it.weight],
                                     {it.ident} if unique and it.ident is not None else set()))
        batches.extend(b for b, _, _ in open_batches)
    return batches


# ---------------------------------------------------------------------------------------
# Endpoints


def _items_body(items: list[Item]) -> dict[str, Any]:
    return {"items": [it.body for it in items]}


def _delete_body(items: list[Item]) -> dict[str, Any]:
    return {"items": [it.body for it in items], "ignoreUnknownIds": True}


def _dp_body(items: list[Item]) -> dict[str, Any]:
    return {"items": [{**_ident_json(it.ident), "datapoints": it.body.json_points()}
                      for it in items if it.ident is not None]}


def _seq_key(it: Item) -> Ident:
    assert it.ident is not None
    return (it.ident[0], it.ident[1][0])


def _seq_body(items: list[Item]) -> dict[str, Any]:
    """Rows of one sequence and column set per request item."""
    grouped: dict[tuple[Ident, tuple[str, ...]], list[Item]] = {}
    for it in items:
        grouped.setdefault((_seq_key(it), it.body[2]), []).append(it)
    out = []
    for (ident, columns), its in grouped.items():
        out.append({
            **_ident_json(ident),
            "columns": list(columns),
            "rows": [{"rowNumber": n, "values": [v[c] for c in columns]}
                     for n, v, _ in (it.body for it in its)],
        })
    return {"items": out}


def _seq_delete_body(items: list[Item]) -> dict[str, Any]:
    grouped: dict[Ident, list[int]] = {}
    for it in items:
        grouped.setdefault(_seq_key(it), []).append(it.body[0])
    return {"items": [{**_ident_json(k), "rows": rows} for k, rows in grouped.items()]}


def _raw_path(suffix: str) -> Callable[[Table, Hashable], str]:
    def path(table: Table, group: Hashable) -> str:
        assert isinstance(group, tuple)
        db: str = group[0]
        tbl: str = group[1]
        return f"/raw/dbs/{quote(db, safe='')}/tables/{quote(tbl, safe='')}/rows{suffix}"

    return path


def _resource(suffix: str) -> Callable[[Table, Hashable], str]:
    return lambda table, group: f"/{table.resource}{suffix}"


def _limit(table: Table) -> int:
    return table.batch_limit


def _one(table: Table) -> int:
    return 1


ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("resource", "create"): Endpoint(_resource(""), _items_body, _limit),
    ("resource", "update"): Endpoint(_resource("/update"), _items_body, lambda t: 1000),
    ("resource", "delete"): Endpoint(_resource("/delete"), _delete_body, lambda t: 1000),
    ("files", "create"): Endpoint(_resource(""), lambda its: its[0].body, _one),
    ("files", "update"): Endpoint(_resource("/update"), _items_body, lambda t: 1000),
    ("files", "delete"): Endpoint(_resource("/delete"), _delete_body, lambda t: 1000),
    ("runs", "create"): Endpoint(_resource(""), _items_body, _limit, unique=False),
    ("datapoints", "write"): Endpoint(
        _resource(""), _dp_body, lambda t: DATAPOINTS.max_series_per_request,
        max_weight=DATAPOINTS.max_points_per_request,
    ),
    ("datapoints", "delete"): Endpoint(
        _resource("/delete"), _items_body, lambda t: DATAPOINTS.max_delete_ranges_per_request,
        unique=False,
    ),
    ("raw", "write"): Endpoint(
        _raw_path(""), _items_body, _limit, params={"ensureParent": "true"}
    ),
    ("raw", "delete"): Endpoint(_raw_path("/delete"), _items_body, _limit),
    ("custom_raw", "write"): Endpoint(
        _raw_path(""), _items_body, lambda t: 10_000, params={"ensureParent": "true"}
    ),
    ("custom_raw", "delete"): Endpoint(_raw_path("/delete"), _items_body, lambda t: 10_000),
    ("sequence_rows", "write"): Endpoint(
        _resource(""), _seq_body, lambda t: SEQUENCE_ROWS.max_rows_per_request,
        max_weight=SEQUENCE_ROWS.max_values_per_request,
    ),
    ("view", "write"): Endpoint(
        lambda t, g: "/models/instances",
        lambda its: {"items": [it.body for it in its], "autoCreateDirectRelations": True},
        lambda t: 1000,
    ),
    ("view", "delete"): Endpoint(lambda t, g: "/models/instances/delete", _items_body,
                                 lambda t: 1000),
    ("sequence_rows", "delete"): Endpoint(
        _resource("/delete"), _seq_delete_body, lambda t: SEQUENCE_ROWS.max_rows_per_request
    ),
}


def endpoint_for(table: Table, op: str) -> Endpoint:
    kind = kind_of(table)
    ep = ENDPOINTS.get((kind, action_of(kind, op)))
    if ep is None:
        raise Unmappable(f"{op} on {table.name} ({kind}) has no CDF endpoint")
    return ep


def rows_of(
    cols: Mapping[str, list[Any]], owner: Owner, ident: Ident | None
) -> list[dict[str, Any]]:
    """The original rows an item came from, for a dead letter."""
    _, indexes = owner
    names = list(cols)
    if indexes is None:
        n = _n(cols)
        if ident is None:
            indexes = tuple(range(n))
        elif ident[0] == "key":
            keys = cols.get("_raw_key") or []
            indexes = tuple(i for i in range(n) if keys[i] == ident[1])
        else:
            indexes = tuple(i for i in range(n) if _ident_of(cols, i) == ident)
    rows = [{name: cols[name][i] for name in names} for i in indexes]
    if CONTENT in cols:  # bytes as PostgreSQL shows bytea: dead letters are JSON
        for row in rows:
            row[CONTENT] = _hex(row[CONTENT])
    return rows


def _hex(value: Any) -> Any:
    return "\\x" + value.hex() if isinstance(value, bytes | bytearray) else value


def to_update(item: Item, table: Table) -> Item:
    """An upsert's create that CDF found duplicated, as an update setting the same fields
    (references are resolved into the body by then)."""
    plan = _plan(table)
    updatable = {cdf.split(".")[0] for _, cdf, col in plan.fields if col.updatable}
    updatable.update(r.target for r in item.resolve)
    assert item.ident is not None
    update = {k: {"set": v} for k, v in item.body.items()
              if k in updatable and k not in ("externalId", "id")}
    return Item(item.table, "update", item.ident, {**_ident_json(item.ident), "update": update},
                item.owners, refs=item.refs, content=item.content)
