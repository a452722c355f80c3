"""Catalog views (``pg_roles``, ``pg_settings``, ``information_schema.*`` …) as SQLite views.

Each view is defined by the expressions of the columns it can answer; every other column of
the PostgreSQL view is NULL.  Views that depend on the session call ``pgf_*`` functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pggw.sql.settings import GUCS

if TYPE_CHECKING:
    from pggw.sql.catalog.schema import CatalogDB

# Relations that PostgreSQL stores as tables but that pggw answers per session.
SESSION_RELATIONS = ("pg_authid", "pg_database")

_ROLE_COLS = {
    "rolsuper": "0", "rolinherit": "1", "rolcreaterole": "0", "rolcreatedb": "0",
    "rolcanlogin": "1", "rolreplication": "0", "rolconnlimit": "-1", "rolbypassrls": "0",
}

_DEFS: dict[tuple[str, str], tuple[dict[str, str], str]] = {
    ("pg_catalog", "pg_authid"): (
        {"oid": "16380", "rolname": "pgf_current_user()", "rolpassword": "NULL", **_ROLE_COLS},
        "",
    ),
    ("pg_catalog", "pg_roles"): (
        {"oid": "16380", "rolname": "pgf_current_user()", "rolpassword": "'********'",
         **_ROLE_COLS},
        "",
    ),
    ("pg_catalog", "pg_user"): (
        {"usename": "pgf_current_user()", "usesysid": "16380", "usecreatedb": "0",
         "usesuper": "0", "userepl": "0", "usebypassrls": "0", "passwd": "'********'"},
        "",
    ),
    ("pg_catalog", "pg_database"): (
        {"oid": "16381", "datname": "pgf_current_database()", "datdba": "16380",
         "encoding": "6", "datlocprovider": "'c'", "datistemplate": "0", "datallowconn": "1",
         "datconnlimit": "-1", "datfrozenxid": "0", "datminmxid": "1", "dattablespace": "1663",
         "datcollate": "'C.UTF-8'", "datctype": "'C.UTF-8'"},
        "",
    ),
    ("pg_catalog", "pg_settings"): (
        {"name": "s.name", "setting": "pgf_setting(s.name)", "category": "s.category",
         "short_desc": "s.short_desc", "context": "'user'", "vartype": "s.vartype",
         "source": "'default'", "boot_val": "s.boot_val", "reset_val": "s.boot_val",
         "pending_restart": "0"},
        "FROM pggw_settings_base s",
    ),
    ("pg_catalog", "pg_tables"): (
        {"schemaname": "n.nspname", "tablename": "c.relname",
         "tableowner": "pgf_pg_get_userbyid(c.relowner)", "tablespace": "NULL",
         "hasindexes": "c.relhasindex", "hasrules": "c.relhasrules",
         "hastriggers": "c.relhastriggers", "rowsecurity": "c.relrowsecurity"},
        "FROM pg_class c LEFT JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p')",
    ),
    ("pg_catalog", "pg_indexes"): (
        {"schemaname": "n.nspname", "tablename": "c.relname", "indexname": "i.relname",
         "tablespace": "NULL", "indexdef": "pgf_pg_get_indexdef(i.oid)"},
        "FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "LEFT JOIN pg_namespace n ON n.oid = c.relnamespace",
    ),
    ("pg_catalog", "pg_stat_activity"): (
        {"datid": "16381", "datname": "pgf_current_database()", "pid": "pgf_pg_backend_pid()",
         "usesysid": "16380", "usename": "pgf_current_user()",
         "application_name": "pgf_setting('application_name')", "state": "'active'",
         "backend_type": "'client backend'"},
        "",
    ),
    # information_schema --------------------------------------------------------------------
    ("information_schema", "schemata"): (
        {"catalog_name": "pgf_current_database()", "schema_name": "n.nspname",
         "schema_owner": "pgf_pg_get_userbyid(n.nspowner)"},
        "FROM pg_namespace n",
    ),
    ("information_schema", "tables"): (
        {"table_catalog": "pgf_current_database()", "table_schema": "n.nspname",
         "table_name": "c.relname",
         "table_type": "CASE WHEN n.nspname LIKE 'pg\\_temp%' ESCAPE '\\' THEN "
                       "'LOCAL TEMPORARY' WHEN c.relkind IN ('r', 'p') THEN 'BASE TABLE' "
                       "WHEN c.relkind = 'v' THEN 'VIEW' WHEN c.relkind = 'f' THEN "
                       "'FOREIGN' ELSE NULL END",
         "is_insertable_into": "CASE WHEN c.relkind IN ('r', 'p') AND n.nspname NOT IN "
                               "('pg_catalog', 'information_schema') THEN 'YES' ELSE 'NO' END",
         "is_typed": "'NO'"},
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'v', 'f', 'p')",
    ),
    ("information_schema", "columns"): (
        {"table_catalog": "pgf_current_database()", "table_schema": "n.nspname",
         "table_name": "c.relname", "column_name": "a.attname",
         "ordinal_position": "a.attnum", "column_default": "NULL",
         "is_nullable": "CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END",
         "data_type": "pgf_is_data_type(a.atttypid)",
         "character_maximum_length": "pgf_is_char_max(a.atttypid, a.atttypmod)",
         "character_octet_length": "pgf_is_octet_len(a.atttypid, a.atttypmod)",
         "numeric_precision": "pgf_is_num_precision(a.atttypid, a.atttypmod)",
         "numeric_precision_radix": "pgf_is_num_radix(a.atttypid)",
         "numeric_scale": "pgf_is_num_scale(a.atttypid, a.atttypmod)",
         "datetime_precision": "pgf_is_dt_precision(a.atttypid, a.atttypmod)",
         "collation_catalog": "NULL", "udt_catalog": "pgf_current_database()",
         "udt_schema": "'pg_catalog'", "udt_name": "t.typname",
         "dtd_identifier": "CAST(a.attnum AS TEXT)", "is_self_referencing": "'NO'",
         "is_identity": "'NO'", "identity_cycle": "'NO'", "is_generated": "'NEVER'",
         "is_updatable": "CASE WHEN c.relkind IN ('r', 'p') AND n.nspname NOT IN "
                         "('pg_catalog', 'information_schema') THEN 'YES' ELSE 'NO' END"},
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'f', 'p')",
    ),
    ("information_schema", "table_constraints"): (
        {"constraint_catalog": "pgf_current_database()", "constraint_schema": "n.nspname",
         "constraint_name": "k.conname", "table_catalog": "pgf_current_database()",
         "table_schema": "n.nspname", "table_name": "c.relname",
         "constraint_type": "CASE k.contype WHEN 'u' THEN 'UNIQUE' WHEN 'p' THEN 'PRIMARY KEY' "
                            "WHEN 'f' THEN 'FOREIGN KEY' WHEN 'c' THEN 'CHECK' END",
         "is_deferrable": "'NO'", "initially_deferred": "'NO'", "enforced": "'YES'",
         "nulls_distinct": "'YES'"},
        "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace",
    ),
    ("information_schema", "key_column_usage"): (
        {"constraint_catalog": "pgf_current_database()", "constraint_schema": "n.nspname",
         "constraint_name": "k.conname", "table_catalog": "pgf_current_database()",
         "table_schema": "n.nspname", "table_name": "c.relname", "column_name": "a.attname",
         "ordinal_position": "CAST(j.key AS INTEGER) + 1",
         "position_in_unique_constraint": "NULL"},
        "FROM pg_constraint k JOIN json_each(k.conkey) j JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = j.value "
        "WHERE k.contype IN ('p', 'u', 'f')",
    ),
    ("information_schema", "constraint_column_usage"): (
        {"table_catalog": "pgf_current_database()", "table_schema": "n.nspname",
         "table_name": "c.relname", "column_name": "a.attname",
         "constraint_catalog": "pgf_current_database()", "constraint_schema": "n.nspname",
         "constraint_name": "k.conname"},
        "FROM pg_constraint k JOIN json_each(k.conkey) j JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = j.value",
    ),
    ("information_schema", "table_privileges"): (
        {"grantor": "pgf_current_user()", "grantee": "pgf_current_user()",
         "table_catalog": "pgf_current_database()", "table_schema": "n.nspname",
         "table_name": "c.relname", "privilege_type": "'INSERT'", "is_grantable": "'YES'",
         "with_hierarchy": "'NO'"},
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
    ),
    ("information_schema", "enabled_roles"): ({"role_name": "pgf_current_user()"}, ""),
    ("information_schema", "character_sets"): (
        {"character_set_name": "'UTF8'", "character_repertoire": "'UCS'",
         "form_of_use": "'UTF8'", "default_collate_catalog": "pgf_current_database()"},
        "",
    ),
}


def _type_name(typid: Any) -> str:
    from pggw.sql.catalog.schema import TYPE_ROWS

    row = TYPE_ROWS.get(int(typid)) if typid is not None else None
    return str(row["typname"]) if row else ""


def _is_data_type(typid: Any) -> str | None:
    from pggw.sql.catalog.functions import _SQL_NAMES
    from pggw.sql.catalog.schema import TYPE_ROWS

    if typid is None:
        return None
    row = TYPE_ROWS.get(int(typid))
    if row is None:
        return "USER-DEFINED"
    if row["typcategory"] == "A":
        return "ARRAY"
    name = str(row["typname"])
    return _SQL_NAMES.get(name, '"char"' if name == "char" else name)


def _char_max(typid: Any, typmod: Any) -> int | None:
    if _type_name(typid) in ("varchar", "bpchar") and typmod is not None and int(typmod) >= 4:
        return int(typmod) - 4
    return None


def _octet_len(typid: Any, typmod: Any) -> int | None:
    name = _type_name(typid)
    if name in ("varchar", "bpchar", "text"):
        m = _char_max(typid, typmod)
        return m * 4 if m is not None else 1073741824
    return None


_PRECISION = {"int2": 16, "int4": 32, "int8": 64, "float4": 24, "float8": 53}


def _num_precision(typid: Any, typmod: Any) -> int | None:
    name = _type_name(typid)
    if name == "numeric":
        return ((int(typmod) - 4) >> 16) & 0xFFFF if typmod is not None and int(typmod) >= 4 \
            else None
    return _PRECISION.get(name)


def _num_radix(typid: Any) -> int | None:
    name = _type_name(typid)
    if name == "numeric":
        return 10
    return 2 if name in _PRECISION else None


def _num_scale(typid: Any, typmod: Any) -> int | None:
    name = _type_name(typid)
    if name in ("int2", "int4", "int8"):
        return 0
    if name == "numeric" and typmod is not None and int(typmod) >= 4:
        return (int(typmod) - 4) & 0xFFFF
    return None


def _dt_precision(typid: Any, typmod: Any) -> int | None:
    name = _type_name(typid)
    if name == "date":
        return 0
    if name in ("timestamp", "timestamptz", "time", "timetz", "interval"):
        return int(typmod) if typmod is not None and int(typmod) >= 0 else 6
    return None


def create_views(db: CatalogDB) -> None:
    conn = db.conn
    conn.create_function("pgf_is_data_type", 1, _is_data_type, deterministic=True)
    conn.create_function("pgf_is_char_max", 2, _char_max, deterministic=True)
    conn.create_function("pgf_is_octet_len", 2, _octet_len, deterministic=True)
    conn.create_function("pgf_is_num_precision", 2, _num_precision, deterministic=True)
    conn.create_function("pgf_is_num_radix", 1, _num_radix, deterministic=True)
    conn.create_function("pgf_is_num_scale", 2, _num_scale, deterministic=True)
    conn.create_function("pgf_is_dt_precision", 2, _dt_precision, deterministic=True)
    conn.execute("CREATE TABLE pggw_settings_base (name TEXT, category TEXT, short_desc TEXT, "
                 "vartype TEXT, boot_val TEXT)")
    kinds = {"time": "integer", "enum": "enum", "bool": "bool", "integer": "integer",
             "real": "real"}
    conn.executemany("INSERT INTO pggw_settings_base VALUES (?, ?, ?, ?, ?)",
                     [(g.name, g.category, g.description, kinds.get(g.kind, "string"),
                       g.default) for g in GUCS.values()])
    for key, rel in db.relations.items():
        if rel.data_table is not None:
            continue
        if rel.kind != "v" and key[1] not in SESSION_RELATIONS:
            continue
        if key[1] in SESSION_RELATIONS:
            conn.execute(f'DROP TABLE IF EXISTS "{rel.sqlite_name}"')
        exprs, tail = _DEFS.get(key, ({}, "WHERE 0"))
        cols = ", ".join(f'{exprs.get(n, "NULL")} AS "{n}"' for n, _, _ in rel.columns)
        conn.execute(f'CREATE VIEW "{rel.sqlite_name}" AS SELECT {cols} {tail}')
