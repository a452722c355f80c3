"""The in-memory SQLite database that mirrors PostgreSQL's catalog for one registry.

One :class:`CatalogDB` is built per registry and shared (read-only) by every session that
uses that registry; the few catalog answers that depend on the session (current user,
database, settings) come from SQL functions that read the *active* session, which the
:class:`~pggw.sql.catalog.Catalog` installs around each statement.

Values are stored the SQLite way: booleans as 0/1, arrays and int2vector/oidvector as JSON
text, reg* values (regproc, regclass …) as OIDs.  :mod:`pggw.sql.catalog.translate` knows the
PostgreSQL type of every column (:attr:`CatalogDB.relations`) and converts on the way out.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pggw.sql.catalog import pgdata
from pggw.tables.model import Table
from pggw.tables.registry import Registry

# OIDs pggw assigns (below PostgreSQL's FirstNormalObjectId 16384; tables are 16384 + 8k).
BOOTSTRAP_ROLE_OID = 10
USER_ROLE_OID = 16380
DATABASE_OID = 16381
PGGW_NAMESPACE_OID = 16383
PG_CLASS_OID = 1259
PG_TYPE_OID = 1247
PG_CONSTRAINT_OID = 2606
HEAP_AM = 2
BTREE_AM = 403
DEFAULT_COLLATION = 100
C_COLLATION = 950

NAMESPACES: dict[str, int] = {
    "pg_catalog": pgdata.NAMESPACE_OIDS["pg_catalog"],
    "public": pgdata.NAMESPACE_OIDS["public"],
    "information_schema": pgdata.NAMESPACE_OIDS["information_schema"],
    "pg_toast": pgdata.NAMESPACE_OIDS["pg_toast"],
    "pggw": PGGW_NAMESPACE_OID,
}

# typname -> row of pg_type (as in pgdata.TYPE_COLUMNS)
TYPE_ROWS: dict[int, dict[str, Any]] = {
    r[0]: dict(zip(pgdata.TYPE_COLUMNS, r, strict=True)) for r in pgdata.TYPES
}
TYPE_BY_NAME: dict[str, dict[str, Any]] = {r["typname"]: r for r in TYPE_ROWS.values()}
PROC_BY_NAME: dict[str, int] = {}
for _p in pgdata.PROCS:
    PROC_BY_NAME.setdefault(_p[1], _p[0])
PROC_NAMES: dict[int, str] = {p[0]: p[1] for p in pgdata.PROCS}

_REGPROC_TYPE_COLUMNS = ("typinput", "typoutput", "typreceive", "typsend", "typmodin",
                         "typmodout", "typanalyze", "typsubscript")


def sqlite_affinity(typname: str) -> str:
    if typname.startswith("_") or typname in ("int2vector", "oidvector"):
        return "TEXT"
    if typname in ("bool", "int2", "int4", "int8", "oid", "xid", "cid", "regproc", "regclass",
                   "regtype", "regnamespace", "regrole", "regprocedure", "regoper", "regconfig"):
        return "INTEGER"
    if typname in ("float4", "float8", "numeric"):
        return "REAL"
    return "TEXT"


@dataclass
class Relation:
    """A relation the translator can read: a catalog table/view or a (data) table."""

    schema: str
    name: str
    sqlite_name: str
    columns: list[tuple[str, str, int]]  # (name, pg typname, typmod)
    oid: int = 0
    kind: str = "r"  # r table, v view
    data_table: Table | None = None

    def column(self, name: str) -> tuple[int, str, int] | None:
        for i, (n, t, m) in enumerate(self.columns):
            if n == name:
                return i + 1, t, m
        return None


class Session(Protocol):
    """What the SQL functions need to know about the session running a statement."""

    user: str
    database: str

    def current_setting(self, name: str, missing_ok: bool = False) -> str | None: ...

    def set_config(self, name: str, value: str, is_local: bool) -> str: ...

    def search_path_schemas(self) -> list[str]: ...

    def backend_pid(self) -> int: ...


def _relname_for_index(t: Table) -> str:
    return f"{t.name}_{'_'.join(t.key)}_key"


def _collation_for(typ_oid: int) -> int:
    row = TYPE_ROWS.get(typ_oid)
    return int(row["typcollation"]) if row else 0


@dataclass
class _RowSink:
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, **values: Any) -> None:
        self.rows.setdefault(table, []).append(values)


class CatalogDB:
    """The shared SQLite catalog for one registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.lock = threading.RLock()
        self.session: Session | None = None
        self.pending_error: Exception | None = None
        self.translation_cache: Any = None  # set by pggw.sql.catalog
        self.conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA case_sensitive_like = ON")
        self.relations: dict[tuple[str, str], Relation] = {}
        self.class_names: dict[int, tuple[str, str]] = {}  # oid -> (schema, relname)
        self.class_namespace: dict[int, int] = {}
        self.namespace_names: dict[int, str] = {v: k for k, v in NAMESPACES.items()}
        self.type_names: dict[int, str] = {oid: r["typname"] for oid, r in TYPE_ROWS.items()}
        self.type_namespace: dict[int, int] = {oid: int(r["typnamespace"])
                                               for oid, r in TYPE_ROWS.items()}
        self.descriptions: dict[tuple[int, int, int], str] = {}
        self.index_defs: dict[int, tuple[str, list[str], str, str]] = {}
        self.constraint_defs: dict[int, str] = {}
        from pggw.sql.catalog.functions import register_functions

        register_functions(self)
        self._build()

    # -- building ------------------------------------------------------------------------------
    def _build(self) -> None:
        sink = _RowSink()
        self._catalog_relations()
        self._static_rows(sink)
        for t in self.registry.values():
            self._table_rows(t, sink)
        self._catalog_self_rows(sink)
        cur = self.conn.cursor()
        for rel in self.relations.values():
            if rel.kind == "r" or rel.data_table is not None:
                cols = ", ".join(f'"{n}" {sqlite_affinity(t)}' for n, t, _ in rel.columns)
                cur.execute(f'CREATE TABLE "{rel.sqlite_name}" ({cols})')
        for table, rows in sink.rows.items():
            rel = self.relations[("pg_catalog", table)]
            names = [n for n, _, _ in rel.columns]
            types = {n: t for n, t, _ in rel.columns}
            data = [tuple(_store(types[n], r.get(n, _default(types[n]))) for n in names)
                    for r in rows]
            ph = ", ".join("?" * len(names))
            cur.executemany(f'INSERT INTO "{rel.sqlite_name}" VALUES ({ph})', data)
        from pggw.sql.catalog.views import create_views

        create_views(self)
        cur.execute("ANALYZE")

    def _catalog_relations(self) -> None:
        for (schema, name), cols in pgdata.CATALOG_TABLES.items():
            oid, kind = pgdata.CATALOG_RELS[(schema, name)]
            sqlite_name = name if schema == "pg_catalog" else f"{schema}__{name}"
            rel = Relation(schema, name, sqlite_name, [(c, t, -1) for c, t in cols], oid, kind)
            self.relations[(schema, name)] = rel
            self.class_names[oid] = (schema, name)
            self.class_namespace[oid] = NAMESPACES[schema]
        # Relations PostgreSQL has that pgdata does not list, answered as empty tables.
        extra = {
            "pg_partitioned_table": [("partrelid", "oid"), ("partstrat", "char"),
                                     ("partnatts", "int2"), ("partdefid", "oid"),
                                     ("partattrs", "int2vector")],
            "pg_statistic_ext_data": [("stxoid", "oid"), ("stxdinherit", "bool")],
            "pg_shdescription": [("objoid", "oid"), ("classoid", "oid"), ("description", "text")],
            "pg_opfamily": [("oid", "oid"), ("opfmethod", "oid"), ("opfname", "name"),
                            ("opfnamespace", "oid"), ("opfowner", "oid")],
            "pg_sequence": [("seqrelid", "oid"), ("seqtypid", "oid"), ("seqstart", "int8"),
                            ("seqincrement", "int8"), ("seqmax", "int8"), ("seqmin", "int8"),
                            ("seqcache", "int8"), ("seqcycle", "bool")],
            "pg_default_acl": [("oid", "oid"), ("defaclrole", "oid"),
                               ("defaclnamespace", "oid"), ("defaclobjtype", "char"),
                               ("defaclacl", "_aclitem")],
        }
        for name, cols in extra.items():
            if ("pg_catalog", name) not in self.relations:
                self.relations[("pg_catalog", name)] = Relation(
                    "pg_catalog", name, name, [(c, t, -1) for c, t in cols], 0, "r")

    def _static_rows(self, sink: _RowSink) -> None:
        for name, oid in NAMESPACES.items():
            sink.add("pg_namespace", oid=oid, nspname=name,
                     nspowner=USER_ROLE_OID if name in ("public", "pggw") else BOOTSTRAP_ROLE_OID)
        for r in pgdata.TYPES:
            row = dict(zip(pgdata.TYPE_COLUMNS, r, strict=True))
            for c in _REGPROC_TYPE_COLUMNS:
                row[c] = PROC_BY_NAME.get(row[c], 0) if row[c] != "-" else 0
            sink.add("pg_type", **row)
        for p in pgdata.PROCS:
            row = dict(zip(pgdata.PROC_COLUMNS, p, strict=True))
            row["prosupport"] = 0
            row["proargtypes"] = [int(x) for x in str(row["proargtypes"]).split()]
            sink.add("pg_proc", **row)
        for r in pgdata.RANGES:
            rngtypid, sub, multi, coll, opc, canon, diff = r
            sink.add("pg_range", rngtypid=rngtypid, rngsubtype=sub, rngmultitypid=multi,
                     rngcollation=coll, rngsubopc=opc, rngcanonical=PROC_BY_NAME.get(canon, 0),
                     rngsubdiff=PROC_BY_NAME.get(diff, 0))
        for oid, name, handler, amtype in pgdata.AMS:
            sink.add("pg_am", oid=oid, amname=name, amhandler=PROC_BY_NAME.get(handler, 0),
                     amtype=amtype)
        cols = ["oid", "collname", "collnamespace", "collowner", "collprovider",
                "collisdeterministic", "collencoding", "collcollate", "collctype",
                "colliculocale", "collversion"]
        for r in pgdata.COLLATIONS:
            sink.add("pg_collation", **dict(zip(cols, r, strict=True)))
        sink.add("pg_tablespace", oid=1663, spcname="pg_default", spcowner=BOOTSTRAP_ROLE_OID)
        sink.add("pg_extension", oid=13500, extname="plpgsql", extowner=BOOTSTRAP_ROLE_OID,
                 extnamespace=11, extrelocatable=False, extversion="1.0")
        sink.add("pg_language", oid=12, lanname="internal", lanowner=BOOTSTRAP_ROLE_OID)
        sink.add("pg_language", oid=13, lanname="c", lanowner=BOOTSTRAP_ROLE_OID)
        sink.add("pg_language", oid=14, lanname="sql", lanowner=BOOTSTRAP_ROLE_OID,
                 lanpltrusted=True)

    def _catalog_self_rows(self, sink: _RowSink) -> None:
        """pg_class/pg_attribute rows for the catalog relations themselves (e.g. for ::regclass)."""
        for (schema, name), rel in list(self.relations.items()):
            if rel.data_table is not None or not rel.oid:
                continue
            sink.add("pg_class", oid=rel.oid, relname=name, relnamespace=NAMESPACES[schema],
                     reltype=0, relowner=BOOTSTRAP_ROLE_OID,
                     relam=HEAP_AM if rel.kind == "r" else 0, relfilenode=0,
                     relpages=0, reltuples=-1.0, relkind=rel.kind, relnatts=len(rel.columns),
                     relpersistence="p", relreplident="n", relispopulated=True,
                     relhasrules=rel.kind == "v")
            for i, (cname, ctype, _) in enumerate(rel.columns, 1):
                typ = TYPE_BY_NAME.get(ctype)
                toid = int(typ["oid"]) if typ else 25
                sink.add("pg_attribute", attrelid=rel.oid, attname=cname, atttypid=toid,
                         attstattarget=-1, attlen=int(typ["typlen"]) if typ else -1, attnum=i,
                         attndims=1 if ctype.startswith("_") else 0, attcacheoff=-1,
                         atttypmod=-1, attbyval=bool(typ["typbyval"]) if typ else False,
                         attalign=typ["typalign"] if typ else "i",
                         attstorage=typ["typstorage"] if typ else "x", attcompression="",
                         attnotnull=False, atthasdef=False, atthasmissing=False,
                         attidentity="", attgenerated="", attisdropped=False, attislocal=True,
                         attinhcount=0, attcollation=_collation_for(toid))

    def _table_rows(self, t: Table, sink: _RowSink) -> None:
        ns = NAMESPACES.get(t.schema)
        if ns is None:
            ns = PGGW_NAMESPACE_OID + 1 + len(self.namespace_names)
            NAMESPACES[t.schema] = ns
            self.namespace_names[ns] = t.schema
            sink.add("pg_namespace", oid=ns, nspname=t.schema, nspowner=USER_ROLE_OID)
        cols = []
        for c in t.columns:
            cols.append((c.name, c.type.name, c.atttypmod))
        sqlite_name = f"{t.schema}__{t.name}"
        relkind = "v" if t.kind == "sqlview" else "r"  # pggw.backlog and friends are views
        self.relations[(t.schema, t.name)] = Relation(t.schema, t.name, sqlite_name, cols, t.oid,
                                                      relkind, data_table=t)
        self.class_names[t.oid] = (t.schema, t.name)
        self.class_namespace[t.oid] = ns
        has_index = bool(t.key)
        row_type, array_type = t.oid + 2, t.oid + 3
        sink.add("pg_class", oid=t.oid, relname=t.name, relnamespace=ns, reltype=row_type,
                 reloftype=0, relowner=USER_ROLE_OID, relam=HEAP_AM if relkind == "r" else 0,
                 relfilenode=t.oid if relkind == "r" else 0,
                 reltablespace=0, relpages=0, reltuples=-1.0, relallvisible=0, reltoastrelid=0,
                 relhasindex=has_index, relisshared=False, relpersistence="p", relkind=relkind,
                 relnatts=len(t.columns), relchecks=0, relhasrules=relkind == "v",
                 relhastriggers=False,
                 relhassubclass=False, relrowsecurity=False, relforcerowsecurity=False,
                 relispopulated=True, relreplident="d", relispartition=False, relrewrite=0,
                 relfrozenxid=0, relminmxid=0)
        sink.add("pg_type", oid=row_type, typname=t.name, typnamespace=ns, typowner=USER_ROLE_OID,
                 typlen=-1, typbyval=False, typtype="c", typcategory="C", typispreferred=False,
                 typisdefined=True, typdelim=",", typrelid=t.oid, typsubscript=0, typelem=0,
                 typarray=array_type, typinput=PROC_BY_NAME.get("record_in", 0),
                 typoutput=PROC_BY_NAME.get("record_out", 0),
                 typreceive=PROC_BY_NAME.get("record_recv", 0),
                 typsend=PROC_BY_NAME.get("record_send", 0), typmodin=0, typmodout=0,
                 typanalyze=0, typalign="d", typstorage="x", typnotnull=False, typbasetype=0,
                 typtypmod=-1, typndims=0, typcollation=0)
        sink.add("pg_type", oid=array_type, typname="_" + t.name, typnamespace=ns,
                 typowner=USER_ROLE_OID, typlen=-1, typbyval=False, typtype="b",
                 typcategory="A", typispreferred=False, typisdefined=True, typdelim=",",
                 typrelid=0, typsubscript=PROC_BY_NAME.get("array_subscript_handler", 0),
                 typelem=row_type, typarray=0, typinput=PROC_BY_NAME.get("array_in", 0),
                 typoutput=PROC_BY_NAME.get("array_out", 0),
                 typreceive=PROC_BY_NAME.get("array_recv", 0),
                 typsend=PROC_BY_NAME.get("array_send", 0), typmodin=0, typmodout=0,
                 typanalyze=PROC_BY_NAME.get("array_typanalyze", 0), typalign="d",
                 typstorage="x", typnotnull=False, typbasetype=0, typtypmod=-1, typndims=0,
                 typcollation=0)
        self.type_names[row_type] = t.name
        self.type_names[array_type] = "_" + t.name
        self.type_namespace[row_type] = ns
        self.type_namespace[array_type] = ns
        if t.description:
            sink.add("pg_description", objoid=t.oid, classoid=PG_CLASS_OID, objsubid=0,
                     description=t.description)
            self.descriptions[(t.oid, PG_CLASS_OID, 0)] = t.description
        attnums: dict[str, int] = {}
        for i, c in enumerate(t.columns, 1):
            attnums[c.name] = i
            typ = TYPE_ROWS.get(c.type.oid)
            sink.add("pg_attribute", attrelid=t.oid, attname=c.name, atttypid=c.type.oid,
                     attstattarget=-1, attlen=c.type.typlen, attnum=i,
                     attndims=1 if c.type.is_array else 0, attcacheoff=-1,
                     atttypmod=c.atttypmod,
                     attbyval=bool(typ["typbyval"]) if typ else False,
                     attalign=typ["typalign"] if typ else c.type.typalign,
                     attstorage=typ["typstorage"] if typ else "x", attcompression="",
                     attnotnull=c.required, atthasdef=False, atthasmissing=False,
                     attidentity="", attgenerated="", attisdropped=False, attislocal=True,
                     attinhcount=0, attcollation=_collation_for(c.type.oid))
            if c.description:
                sink.add("pg_description", objoid=t.oid, classoid=PG_CLASS_OID, objsubid=i,
                         description=c.description)
                self.descriptions[(t.oid, PG_CLASS_OID, i)] = c.description
        if not t.key:
            return
        idx_oid, con_oid = t.oid + 1, t.oid + 4
        idx_name = _relname_for_index(t)
        keys = [attnums[k] for k in t.key if k in attnums]
        sink.add("pg_class", oid=idx_oid, relname=idx_name, relnamespace=ns, reltype=0,
                 reloftype=0, relowner=USER_ROLE_OID, relam=BTREE_AM, relfilenode=idx_oid,
                 reltablespace=0, relpages=1, reltuples=0.0, relallvisible=0, reltoastrelid=0,
                 relhasindex=False, relisshared=False, relpersistence="p", relkind="i",
                 relnatts=len(keys), relchecks=0, relhasrules=False, relhastriggers=False,
                 relhassubclass=False, relrowsecurity=False, relforcerowsecurity=False,
                 relispopulated=True, relreplident="n", relispartition=False, relrewrite=0,
                 relfrozenxid=0, relminmxid=0)
        self.class_names[idx_oid] = (t.schema, idx_name)
        self.class_namespace[idx_oid] = ns
        for j, k in enumerate(t.key, 1):
            col = t.column(k)
            if col is None:
                continue
            sink.add("pg_attribute", attrelid=idx_oid, attname=k, atttypid=col.type.oid,
                     attstattarget=-1, attlen=col.type.typlen, attnum=j, attndims=0,
                     attcacheoff=-1, atttypmod=col.atttypmod, attbyval=False,
                     attalign=col.type.typalign, attstorage="p", attcompression="",
                     attnotnull=False, atthasdef=False, atthasmissing=False, attidentity="",
                     attgenerated="", attisdropped=False, attislocal=True, attinhcount=0,
                     attcollation=_collation_for(col.type.oid))
        sink.add("pg_index", indexrelid=idx_oid, indrelid=t.oid, indnatts=len(keys),
                 indnkeyatts=len(keys), indisunique=True, indnullsnotdistinct=False,
                 indisprimary=False, indisexclusion=False, indimmediate=True,
                 indisclustered=False, indisvalid=True, indcheckxmin=False, indisready=True,
                 indislive=True, indisreplident=False, indkey=keys,
                 indcollation=[_collation_for(t.column(k).type.oid)  # type: ignore[union-attr]
                               for k in t.key if t.column(k)],
                 indclass=[0 for _ in keys], indoption=[0 for _ in keys])
        sink.add("pg_constraint", oid=con_oid, conname=idx_name, connamespace=ns, contype="u",
                 condeferrable=False, condeferred=False, convalidated=True, conrelid=t.oid,
                 contypid=0, conindid=idx_oid, conparentid=0, confrelid=0, confupdtype=" ",
                 confdeltype=" ", confmatchtype=" ", conislocal=True, coninhcount=0,
                 connoinherit=True, conkey=keys)
        cols_sql = ", ".join(_quote_ident(k) for k in t.key)
        self.index_defs[idx_oid] = (
            f"CREATE UNIQUE INDEX {_quote_ident(idx_name)} ON {{table}} USING btree ({cols_sql})",
            list(t.key), t.schema, t.name,
        )
        self.constraint_defs[con_oid] = f"UNIQUE ({cols_sql})"

    # -- lookups used by functions and the translator -----------------------------------------
    def relation(self, schema: str | None, name: str, search_path: Sequence[str]
                 ) -> Relation | None:
        if schema is not None:
            return self.relations.get((schema, name))
        for s in ("pg_catalog", *search_path):
            r = self.relations.get((s, name))
            if r is not None:
                return r
        return None

    def regclass_in(self, text: str, search_path: Sequence[str]) -> int | None:
        schema, name = _split_qualified(text)
        if schema is None and name.isdigit():
            return int(name)
        for oid, (s, n) in self.class_names.items():
            if n == name and (s == schema or (schema is None and s in ("pg_catalog",
                                                                      *search_path))):
                return oid
        return None

    def regclass_out(self, oid: int, search_path: Sequence[str]) -> str:
        sn = self.class_names.get(oid)
        if sn is None:
            return str(oid)
        s, n = sn
        visible = s in ("pg_catalog", *search_path)
        return _quote_ident(n) if visible else f"{_quote_ident(s)}.{_quote_ident(n)}"

    def regtype_in(self, text: str) -> int | None:
        from pggw.sql.catalog.translate import typname_for

        name = typname_for(text)
        if name is None:
            return None
        row = TYPE_BY_NAME.get(name)
        if row is not None:
            return int(row["oid"])
        for oid, n in self.type_names.items():
            if n == name:
                return oid
        return None

    def regtype_out(self, oid: int) -> str:
        from pggw.sql.catalog.functions import format_type

        if oid not in self.type_names:
            return str(oid)
        return format_type(self, oid, -1) or str(oid)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)


def _split_qualified(text: str) -> tuple[str | None, str]:
    parts: list[str] = []
    cur, quoted, i = "", False, 0
    s = text.strip()
    while i < len(s):
        ch = s[i]
        if ch == '"':
            if quoted and i + 1 < len(s) and s[i + 1] == '"':
                cur += '"'
                i += 1
            else:
                quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch if quoted else ch.lower()
        i += 1
    parts.append(cur)
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return None, parts[0]


def _quote_ident(s: str) -> str:
    import re

    if re.fullmatch(r"[a-z_][a-z0-9_$]*", s) and s not in _RESERVED:
        return s
    return '"' + s.replace('"', '""') + '"'


_RESERVED_WORDS = (
    "all analyse analyze and any array as asc asymmetric both case cast check collate column "
    "constraint create current_catalog current_date current_role current_time current_timestamp "
    "current_user default deferrable desc distinct do else end except false fetch for foreign "
    "from grant group having in initially intersect into lateral leading limit localtime "
    "localtimestamp not null offset on only or order placing primary references returning "
    "select session_user some symmetric table then to trailing true union unique user using "
    "variadic when where window with "
    # column-name and type/function-name keywords: quote_ident quotes them too
    "between bigint bit boolean char character coalesce dec decimal exists extract float "
    "greatest grouping inout int integer interval json least national nchar none normalize "
    "nullif numeric out overlay position precision real row setof smallint substring time "
    "timestamp treat trim values varchar xmlattributes xmlconcat xmlelement xmlexists "
    "xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable authorization "
    "binary collation concurrently cross current_schema freeze full ilike inner is isnull "
    "join left like natural notnull outer overlaps right similar tablesample verbose"
)
_RESERVED = frozenset(_RESERVED_WORDS.split())


def _default(typname: str) -> Any:
    if typname == "bool":
        return False
    if sqlite_affinity(typname) == "INTEGER":
        return 0
    if typname == "char":
        return ""
    return None


def _store(typname: str, v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (list, tuple)):
        return json.dumps(list(v))
    return v


_DBS: dict[int, tuple[weakref.ref[Registry], CatalogDB]] = {}
_DBS_LOCK = threading.Lock()


def catalog_db(registry: Registry) -> CatalogDB:
    """The shared catalog database of ``registry`` (built on first use, dropped with it)."""
    key = id(registry)
    with _DBS_LOCK:
        entry = _DBS.get(key)
        if entry is not None and entry[0]() is registry:
            return entry[1]
        db = CatalogDB(registry)

        def forget(_ref: weakref.ref[Registry], k: int = key) -> None:
            _DBS.pop(k, None)

        _DBS[key] = (weakref.ref(registry, forget), db)
        return db
