"""Custom tables: per-user RAW tables and data-modeling view tables.

Stored in ``custom_tables`` (users.sqlite3) and turned into registry :class:`Table` objects
with ``kind="raw"`` (options ``database``, ``table``, ``primaryKey``) or ``kind="view"``
(options ``space``, ``externalId``, ``version``), the shapes the uploader's
``custom_raw_write`` and ``view_write`` mappers expect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pggw.credentials.users import StoredTable
from pggw.tables.model import Column, Op, Table
from pggw.tables.registry import table_oid
from pggw.wire import types as T
from pggw.wire.types import PgType

__all__ = [
    "SPEC_TYPES",
    "TableError",
    "builtin_api",
    "parse_create",
    "stored_api",
    "table_of",
    "view_columns",
]

#: The spec's 16 column types (``Column_``) and the PostgreSQL types they become.
SPEC_TYPES: dict[str, PgType] = {
    "TEXT": T.TEXT,
    "VARCHAR": T.VARCHAR,
    "BOOL": T.BOOL,
    "BIGINT": T.INT8,
    "DOUBLE PRECISION": T.FLOAT8,
    "REAL": T.FLOAT4,
    "TIMESTAMPTZ": T.TIMESTAMPTZ,
    "JSON": T.JSON,
    "TEXT[]": T.TEXT_ARRAY,
    "VARCHAR[]": T.VARCHAR_ARRAY,
    "BOOL[]": T.TYPES_BY_NAME["_bool"],
    "BIGINT[]": T.INT8_ARRAY,
    "DOUBLE PRECISION[]": T.TYPES_BY_NAME["_float8"],
    "REAL[]": T.TYPES_BY_NAME["_float4"],
    "JSON[]": T.TYPES_BY_NAME["_json"],
    "BYTEA": T.BYTEA,
}
_SPEC_OF_PG = {t.name: n for n, t in SPEC_TYPES.items()}
_SPEC_OF_PG.update({"int4": "BIGINT", "int2": "BIGINT", "_int4": "BIGINT[]", "jsonb": "JSON",
                    "numeric": "DOUBLE PRECISION", "timestamp": "TIMESTAMPTZ", "date": "TEXT"})

#: Data-modeling property types → spec column types (timestamps and dates as ISO 8601 text,
#: which is what /models/instances takes; references to CDF resources by external id).
_DMS_TYPES = {
    "text": "TEXT", "enum": "TEXT", "timestamp": "TEXT", "date": "TEXT",
    "boolean": "BOOL", "int32": "BIGINT", "int64": "BIGINT",
    "float32": "REAL", "float64": "DOUBLE PRECISION", "json": "JSON", "direct": "JSON",
    "timeseries": "TEXT", "file": "TEXT", "sequence": "TEXT",
}

MAX_TABLENAME = 60
_RAW_NAME = 64  # RAW database and table names: at most 32 and 64 characters
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class TableError(ValueError):
    """A table definition the API refuses: ``status`` 400 or 422."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str  # one of SPEC_TYPES
    cdf: str | None = None
    required: bool = False


def _columns_json(cols: Iterable[ColumnSpec]) -> str:
    return json.dumps([[c.name, c.type, c.cdf, c.required] for c in cols])


def _columns_of(stored: StoredTable) -> list[ColumnSpec]:
    return [ColumnSpec(str(n), str(t), c, bool(r)) for n, t, c, r in json.loads(stored.columns)]


def _check_name(name: Any, builtin: set[str]) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_TABLENAME:
        raise TableError("tablename must be a string of 1 to 60 characters")
    if "\0" in name or name != name.strip():
        raise TableError(f"invalid tablename {name!r}")
    if name in builtin or name.lower() in builtin:
        raise TableError(f"tablename {name!r} is the name of a built-in table", 400)
    if name.lower().startswith("pg_") or name.lower() in ("information_schema",):
        raise TableError(f"tablename {name!r} is reserved", 400)
    return name


def _only(obj: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise TableError(f"Extra inputs are not permitted: {where}{extra[0]}")


def _str_option(options: dict[str, Any], key: str, required: bool, limit: int = 255) -> str | None:
    value = options.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise TableError(f"options.{key} must be a non-empty string")
    return value


def parse_create(item: Any, builtin: set[str], now_ms: int) -> tuple[StoredTable, dict[str, Any]]:
    """Validate one ``CreateRawTable`` / ``CreateFdmTable`` item. Returns the stored row for
    RAW tables; for view tables the row's columns are still empty (the caller fetches the
    view and fills them with :func:`view_columns`)."""
    if not isinstance(item, dict):
        raise TableError("each item must be an object")
    kind = item.get("type")
    name = _check_name(item.get("tablename"), builtin)
    options = item.get("options")
    if not isinstance(options, dict):
        raise TableError("options is required")
    if kind == "raw_rows":
        _only(item, {"type", "tablename", "options", "columns"}, "")
        _only(options, {"database", "table", "primaryKey"}, "options.")
        db = _str_option(options, "database", True, 32)
        tbl = _str_option(options, "table", True, _RAW_NAME)
        pk = _str_option(options, "primaryKey", False)
        columns = item.get("columns")
        if not isinstance(columns, dict) or not columns:
            raise TableError("columns must map at least one column name to {\"type\"}")
        specs = []
        for cname, cdef in columns.items():
            if not isinstance(cdef, dict) or set(cdef) != {"type"}:
                raise TableError(f"column {cname!r} must be {{\"type\": <column type>}}")
            ctype = cdef["type"]
            if ctype not in SPEC_TYPES:
                raise TableError(f"column {cname!r}: type must be one of "
                                 f"{', '.join(SPEC_TYPES)}")
            if not cname or len(cname) > 63 or "\0" in cname:
                raise TableError(f"invalid column name {cname!r}")
            specs.append(ColumnSpec(cname, ctype, None, cname == pk))
        if pk is not None and pk not in columns:
            raise TableError(f"primaryKey {pk!r} is not one of the columns", 400)
        opts = {"database": db, "table": tbl, **({"primaryKey": pk} if pk else {})}
        return StoredTable("", name, "raw_rows", json.dumps(opts), _columns_json(specs),
                           now_ms), opts
    if kind == "view":
        _only(item, {"type", "tablename", "options"}, "")
        _only(options, {"space", "externalId", "version"}, "options.")
        opts = {"space": _str_option(options, "space", True),
                "externalId": _str_option(options, "externalId", True)}
        version = _str_option(options, "version", False)
        if version:
            opts["version"] = version
        return StoredTable("", name, "view", json.dumps(opts), "[]", now_ms), opts
    raise TableError("type must be raw_rows or view")


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def view_columns(view: dict[str, Any]) -> str:
    """The columns of a view table (stored JSON) from a view definition
    (``/models/views/byids``): ``external_id`` (required), ``space`` (default: the view's),
    then one column per container property, snake_cased (``cdf`` keeps the property name)."""
    specs = [ColumnSpec("external_id", "TEXT", None, True), ColumnSpec("space", "TEXT")]
    taken = {"external_id", "space"}
    props = view.get("properties")
    if not isinstance(props, dict):
        raise TableError("the view has no properties", 400)
    for pname, prop in props.items():
        ptype = prop.get("type") if isinstance(prop, dict) else None
        if not isinstance(ptype, dict) or ptype.get("type") not in _DMS_TYPES:
            continue  # edge connections and reverse relations are not columns
        ctype = _DMS_TYPES[ptype["type"]]
        if ptype.get("list"):
            ctype = "JSON[]" if ctype == "JSON" else ctype + "[]"
        cname = _snake(pname)
        if cname in taken:
            cname = pname
        if cname in taken:
            continue
        taken.add(cname)
        required = prop.get("nullable", True) is False and not prop.get("autoIncrement")
        specs.append(ColumnSpec(cname, ctype, pname, bool(required)))
    return _columns_json(specs)


def table_of(stored: StoredTable) -> Table:
    """The registry table of a stored custom table."""
    options = {k: str(v) for k, v in json.loads(stored.options).items()}
    cols = tuple(Column(c.name, SPEC_TYPES[c.type], cdf=c.cdf, required=c.required)
                 for c in _columns_of(stored))
    if stored.type == "raw_rows":
        pk = options.get("primaryKey")
        return Table(
            name=stored.tablename,
            resource="raw",
            columns=cols,
            key=(pk,) if pk else (),
            ops=frozenset({Op.INSERT, Op.UPSERT, Op.DELETE}) if pk else frozenset({Op.INSERT}),
            batch_limit=10_000,
            description=f"RAW table {options.get('database')}.{options.get('table')}",
            oid=table_oid(f"custom:{stored.username}", stored.tablename),
            kind="raw",
            options=options,
        )
    return Table(
        name=stored.tablename,
        resource="models/instances",
        columns=cols,
        key=("external_id",),
        ops=frozenset({Op.INSERT, Op.UPSERT, Op.DELETE}),
        batch_limit=1000,
        description=f"Nodes of view {options.get('space')}:{options.get('externalId')}"
                    + (f"/{options['version']}" if options.get("version") else ""),
        oid=table_oid(f"custom:{stored.username}", stored.tablename),
        kind="view",
        options=options,
    )


def stored_api(stored: StoredTable, created: bool = False) -> dict[str, Any]:
    """The API's ``Table`` (or ``TableCreated`` with ``created``)."""
    columns = {c.name: {"type": c.type} for c in _columns_of(stored)}
    kind = stored.type
    if not created and kind == "view":
        kind = "nodes"  # the spec's TableType has no "view": a view table writes nodes
    out: dict[str, Any] = {"type": kind, "tablename": stored.tablename,
                           "options": json.loads(stored.options), "columns": columns}
    if created:
        out["createdTime"] = stored.created_ms
    return out


def builtin_api(table: Table) -> dict[str, Any]:
    columns = {c.name: {"type": _SPEC_OF_PG.get(c.type.name, "TEXT")} for c in table.columns}
    return {"type": "built_in", "tablename": table.name, "columns": columns}
