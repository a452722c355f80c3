"""Run the clients' catalog queries against pggw's catalog *and* a real PostgreSQL 15.

A throw-away PostgreSQL 15 cluster (Debian's ``postgresql-15``) gets tables generated from the
registry — same columns, types, NOT NULLs, unique keys and comments — and every captured
client query runs on both.  Column names and result type OIDs must be identical; rows must be
identical after OIDs are replaced by what they name (pggw's OIDs differ from the cluster's).
Skipped when the PostgreSQL 15 binaries are not installed.
"""

from __future__ import annotations

import contextlib
import decimal
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from test_catalog_clients import (  # noqa: I001
    QUERIES,
    asyncpg_lookup_types,
    npgsql_batch,
    with_oid,
)

from pggw.sql.catalog import Catalog, split_statements
from pggw.sql.catalog.functions import array_out
from pggw.sql.settings import Settings
from pggw.tables.model import Table
from pggw.tables.registry import Registry, builtin_registry

psycopg = pytest.importorskip("psycopg")

PG_BIN = Path(os.environ.get("PGGW_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))

# name -> (mode, columns whose values are not compared)
#   rows:    same columns, types and (sorted) rows;  ordered: rows in the same order too;
#   shape:   same columns and types only (answers depend on what else the server holds).
MODES: dict[str, tuple[str, frozenset[str]]] = {
    "psql_dt": ("ordered", frozenset()),
    "psql_d": ("ordered", frozenset()),
    "psql_d_lookup": ("ordered", frozenset()),
    "psql_d_table": ("rows", frozenset()),
    "psql_d_columns": ("ordered", frozenset()),
    "psql_d_indexes": ("rows", frozenset()),
    "psql_dplus_table": ("rows", frozenset()),
    "psql_dplus_columns": ("ordered", frozenset()),
    "psql_dn": ("shape", frozenset()),
    "psql_di": ("ordered", frozenset()),
    "psql_dtplus": ("ordered", frozenset({"Size"})),
    "sa_version": ("shape", frozenset()),
    "sa_opclass": ("shape", frozenset()),
    "sa_get_indexes": ("rows", frozenset({"elements_opclass"})),
    "sa_reflect_9": ("rows", frozenset({"elements_opclass"})),
    "sa_reflect_33": ("rows", frozenset({"elements_opclass"})),
    "jdbc_get_index_info": ("rows", frozenset({"cardinality", "pages"})),
    "jdbc_get_schemas": ("shape", frozenset()),
    "jdbc_get_all_tables": ("shape", frozenset()),
    "npgsql_version": ("shape", frozenset()),
    "npgsql_get_users": ("shape", frozenset()),
    "psql_l": ("shape", frozenset()),
    "psql_du": ("shape", frozenset()),
    "psql_dx": ("shape", frozenset()),
    "psql_dT": ("shape", frozenset()),
    "psql_dn_plus": ("shape", frozenset()),
    "psql_db": ("shape", frozenset()),
    "psql_dd": ("shape", frozenset()),
    "psql_dC": ("shape", frozenset()),
    "psql_df": ("shape", frozenset()),
    "psql_dp": ("rows", frozenset({"Access privileges"})),
    "sa_reflect_8": ("shape", frozenset()),  # pggw has no operator classes
    "sa_reflect_14": ("shape", frozenset()),  # pggw always has its own schema
    "sa_reflect_38": ("shape", frozenset()),
}

EXTRA_QUERIES: list[tuple[str, str, list[Any]]] = [
    ("is_tables", "SELECT * FROM information_schema.tables WHERE table_schema = 'public' "
                  "ORDER BY table_name", []),
    ("is_columns", "SELECT table_catalog, table_schema, table_name, column_name, "
                   "ordinal_position, column_default, is_nullable, data_type, "
                   "character_maximum_length, character_octet_length, numeric_precision, "
                   "numeric_precision_radix, numeric_scale, datetime_precision, udt_catalog, "
                   "udt_schema, udt_name, dtd_identifier, is_identity, is_generated, "
                   "is_updatable FROM information_schema.columns WHERE table_schema = 'public' "
                   "ORDER BY table_name, ordinal_position", []),
    ("is_table_constraints", "SELECT constraint_schema, constraint_name, table_schema, "
                             "table_name, constraint_type, is_deferrable, initially_deferred "
                             "FROM information_schema.table_constraints WHERE table_schema = "
                             "'public' AND constraint_type IN ('UNIQUE', 'PRIMARY KEY') "
                             "ORDER BY table_name", []),
    ("is_key_column_usage", "SELECT constraint_name, table_name, column_name, "
                            "ordinal_position FROM information_schema.key_column_usage WHERE "
                            "table_schema = 'public' ORDER BY table_name, ordinal_position", []),
    ("pg_tables", "SELECT schemaname, tablename, tableowner, hasindexes FROM pg_tables "
                  "WHERE schemaname = 'public' ORDER BY tablename", []),
    ("pg_indexes", "SELECT * FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname", []),
    ("select_1", "SELECT 1", []),
    ("session_functions", "SELECT current_schema(), current_database(), current_user, "
                          "session_user, current_schemas(false), current_schemas(true)", []),
    ("casts", "SELECT 'pg_class'::regclass, 'pg_class'::regclass::oid, "
              "'int4'::regtype, 'varchar'::regtype::text, 'assets'::regclass::text, "
              "to_regtype('text'), to_regclass('nope'), true, 'x'::text, 1::int8", []),
    ("format_type", "SELECT format_type(1043, 36), format_type(1184, -1), format_type(1016, -1),"
                    " format_type(18, -1), format_type(1042, 5)", []),
    ("has_table", "SELECT c.relname FROM pg_class c WHERE c.relname = $1 AND "
                  "pg_table_is_visible(c.oid)", ["assets"]),
    ("any_param", "SELECT typname FROM pg_type WHERE oid = ANY($1::oid[]) ORDER BY 1",
     ["{23,25,1043}"]),
    ("regex_collate", "SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname "
                      "OPERATOR(pg_catalog.~) '^(ass.*)$' COLLATE pg_catalog.default "
                      "AND c.relname !~ '_key$' ORDER BY 1", []),
    ("ilike_escape", "SELECT relname FROM pg_class WHERE relname ILIKE 'ASSET%' AND relname "
                     "NOT LIKE '%\\_key' ORDER BY 1", []),
    ("union", "SELECT relname AS n FROM pg_class WHERE relname = 'assets' UNION ALL "
              "SELECT nspname FROM pg_namespace WHERE nspname = 'public' ORDER BY 1", []),
    ("window", "SELECT attname, row_number() OVER (ORDER BY attnum DESC) AS r, count(*) OVER () "
               "FROM pg_attribute WHERE attrelid = 'assets'::regclass AND attnum > 0 "
               "ORDER BY attnum", []),
    ("array_agg_unnest", "SELECT array_to_string(ARRAY(SELECT unnest(indkey) FROM pg_index "
                         "WHERE indrelid = 'assets'::regclass), ','), "
                         "(SELECT count(*) FROM generate_series(1, 5) g), "
                         "array_upper(ARRAY[1,2,3], 1), coalesce(NULL, 'x'), "
                         "E'a\\tb', CASE WHEN 1 = 1 THEN 'yes' END", []),
    ("srf_select_list", "SELECT generate_series(1, 3), 'x' AS x", []),
    ("srf_lockstep", "SELECT indexrelid::regclass, unnest(indkey), generate_subscripts(indkey, 1)"
                     " FROM pg_index WHERE indrelid = 'double_datapoints'::regclass", []),
    ("unnest_from", "SELECT u, g FROM unnest(ARRAY['a', 'b']) u, generate_series(1, 2) g "
                    "ORDER BY 1, 2", []),
    ("subscripts", "SELECT indkey[0], (current_schemas(true))[1], (ARRAY[5,6,7])[2] FROM "
                   "pg_index WHERE indrelid = 'assets'::regclass", []),
    ("regtype_out", "SELECT a.atttypid::regtype, format_type(a.atttypid, a.atttypmod) FROM "
                    "pg_attribute a WHERE a.attrelid = 'assets'::regclass AND a.attnum > 0 "
                    "ORDER BY a.attnum", []),
    # Npgsql's GetSchema() collections (NpgsqlSchema.cs), as ADF's schema browser uses them
    ("npgsql_get_databases", "SELECT d.datname AS database_name, u.usename AS owner, "
     "pg_catalog.pg_encoding_to_char(d.encoding) AS encoding FROM pg_catalog.pg_database d "
     "LEFT JOIN pg_catalog.pg_user u ON d.datdba = u.usesysid WHERE datname = $1",
     ["postgres"]),
    ("npgsql_get_tables", "SELECT table_catalog, table_schema, table_name, table_type FROM "
     "information_schema.tables WHERE table_schema = $1", ["public"]),
    ("npgsql_get_columns", "SELECT table_catalog, table_schema, table_name, column_name, "
     "ordinal_position, column_default, is_nullable, udt_name AS data_type, "
     "character_maximum_length, character_octet_length, numeric_precision, "
     "numeric_precision_radix, numeric_scale, datetime_precision, character_set_catalog, "
     "character_set_schema, character_set_name, collation_catalog FROM "
     "information_schema.columns WHERE table_schema = $1 AND table_name = $2",
     ["public", "assets"]),
    ("npgsql_get_indexes", "select current_database() as table_catalog,\n    n.nspname as "
     "table_schema,\n    t.relname as table_name,\n    i.relname as index_name\nfrom\n    "
     "pg_catalog.pg_class i join\n    pg_catalog.pg_index ix ON ix.indexrelid = i.oid join\n"
     "    pg_catalog.pg_class t ON ix.indrelid = t.oid join\n    pg_attribute a on t.oid = "
     "a.attrelid left join\n    pg_catalog.pg_user u ON u.usesysid = i.relowner left join\n"
     "    pg_catalog.pg_namespace n ON n.oid = i.relnamespace\nwhere\n    i.relkind = 'i'\n"
     "    and n.nspname not in ('pg_catalog', 'pg_toast')\n    and "
     "pg_catalog.pg_table_is_visible(i.oid)\n    and a.attnum = ANY(ix.indkey)\n    and "
     "t.relkind = 'r' AND t.relname = $1", ["double_datapoints"]),
    ("npgsql_get_index_columns", "select current_database() as table_catalog, n.nspname as "
     "table_schema, t.relname as table_name, i.relname as index_name, a.attname as "
     "column_name from pg_class t join pg_index ix on t.oid = ix.indrelid join pg_class i on "
     "ix.indexrelid = i.oid join pg_attribute a on t.oid = a.attrelid left join pg_namespace "
     "n on i.relnamespace = n.oid where i.relkind = 'i' and n.nspname not in ('pg_catalog', "
     "'pg_toast') and pg_catalog.pg_table_is_visible(i.oid) and a.attnum = ANY(ix.indkey) "
     "and t.relkind = 'r'", []),
    ("npgsql_get_foreign_keys", 'select current_database() as "CONSTRAINT_CATALOG", '
     'pgn.nspname as "CONSTRAINT_SCHEMA", pgc.conname as "CONSTRAINT_NAME", '
     'current_database() as "TABLE_CATALOG", pgtn.nspname as "TABLE_SCHEMA", pgt.relname as '
     '"TABLE_NAME", \'FOREIGN KEY\' as "CONSTRAINT_TYPE", pgc.condeferrable as '
     '"IS_DEFERRABLE", pgc.condeferred as "INITIALLY_DEFERRED" from pg_catalog.pg_constraint '
     "pgc inner join pg_catalog.pg_namespace pgn on pgc.connamespace = pgn.oid inner join "
     "pg_catalog.pg_class pgt on pgc.conrelid = pgt.oid inner join pg_catalog.pg_namespace "
     "pgtn on pgt.relnamespace = pgtn.oid where pgc.contype='f'", []),
    ("npgsql_get_users", "SELECT usename as user_name, usesysid as user_sysid FROM "
     "pg_catalog.pg_user", []),
    ("show_settings", "SELECT name, setting FROM pg_settings WHERE name IN "
                      "('DateStyle', 'standard_conforming_strings', 'integer_datetimes') "
                      "ORDER BY name", []),
]


def _table_ddl(t: Table) -> list[str]:
    cols = []
    for c in t.columns:
        typ = c.type.sql_name
        if c.type.name in ("varchar", "bpchar") and c.max_length:
            typ = f"{typ}({c.max_length})"
        cols.append(f'"{c.name}" {typ}' + (" NOT NULL" if c.required else ""))
    qname = f'"{t.schema}"."{t.name}"'
    out = [f"CREATE SCHEMA IF NOT EXISTS \"{t.schema}\"",
           f"CREATE TABLE {qname} ({', '.join(cols)})"]
    if t.key:
        keys = ", ".join(f'"{k}"' for k in t.key)
        out.append(f'ALTER TABLE {qname} ADD CONSTRAINT "{t.name}_{"_".join(t.key)}_key" '
                   f"UNIQUE ({keys})")
    if t.description:
        out.append(f"COMMENT ON TABLE {qname} IS {_lit(t.description)}")
    for c in t.columns:
        if c.description:
            out.append(f'COMMENT ON COLUMN {qname}."{c.name}" IS {_lit(c.description)}')
    return out


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RealPG:
    def __init__(self, conn: Any, registry: Registry) -> None:
        self.conn = conn
        self.registry = registry
        self.oid_names: dict[int, str] = {}
        self.domains: dict[int, int] = {}
        rows = self.raw("SELECT c.oid, n.nspname || '.' || c.relname FROM pg_class c JOIN "
                        "pg_namespace n ON n.oid = c.relnamespace WHERE c.oid >= 16384")[1]
        for oid, name in rows:
            self.oid_names[int(oid)] = "rel:" + str(name)
        for oid, name in self.raw("SELECT oid, typname FROM pg_type WHERE oid >= 16384")[1]:
            self.oid_names[int(oid)] = "type:" + str(name)
        for oid, name in self.raw("SELECT oid, conname FROM pg_constraint WHERE oid >= 16384")[1]:
            self.oid_names[int(oid)] = "con:" + str(name)
        self.oid_names[10] = "role:user"
        self.oid_names[6171] = "role:database_owner"
        for oid, base in self.raw("SELECT oid, typbasetype FROM pg_type WHERE typtype = 'd'")[1]:
            self.domains[int(oid)] = int(base)

    def raw(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[tuple[str, int]],
                                                               list[tuple[Any, ...]]]:
        pgconn = self.conn.pgconn
        res = pgconn.exec_params(sql.encode(), [None if p is None else str(p).encode()
                                                for p in params])
        if res.status not in (1, 2):  # COMMAND_OK, TUPLES_OK
            raise AssertionError(f"PostgreSQL failed: {res.error_message.decode()}\n{sql}")
        cols = [(res.fname(i).decode(), res.ftype(i)) for i in range(res.nfields)]
        rows = []
        for r in range(res.ntuples):
            row = []
            for f in range(res.nfields):
                v = res.get_value(r, f)
                row.append(None if v is None else v.decode())
            rows.append(tuple(row))
        return cols, rows


@pytest.fixture(scope="module")
def registry() -> Registry:
    return builtin_registry()


@pytest.fixture(scope="module")
def real_pg(registry: Registry) -> Iterator[RealPG]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG_BIN}")
    prefix: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="pggw-pg15-"))
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run PostgreSQL")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = tmp / "data"
    port = _free_port()
    try:
        subprocess.run([*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                        "-A", "trust", "--no-locale", "-E", "UTF8"], check=True,
                       capture_output=True)
        subprocess.run([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l",
                        str(tmp / "log"), "-o",
                        f"-p {port} -k {tmp} -c listen_addresses='' -c fsync=off", "start"],
                       check=True, capture_output=True)
    except subprocess.CalledProcessError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.skip(f"cannot start PostgreSQL 15: {e.stderr.decode(errors='replace')[:300]}")
    try:
        conn = psycopg.connect(host=str(tmp), port=port, user="postgres", dbname="postgres",
                               autocommit=True)
        for t in registry.values():
            for stmt in _table_ddl(t):
                conn.execute(stmt)
        yield RealPG(conn, registry)
        conn.close()
    finally:
        subprocess.run([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture()
def catalog(registry: Registry) -> Catalog:
    return Catalog(registry, user="postgres", database="postgres",
                   settings=Settings(user="postgres"))


def _our_oid_names(registry: Registry) -> dict[int, str]:
    out = {16380: "role:user", 10: "role:user"}
    for t in registry.values():
        out[t.oid] = f"rel:{t.schema}.{t.name}"
        out[t.oid + 2] = f"type:{t.name}"
        out[t.oid + 3] = f"type:_{t.name}"
        if t.key:
            name = f"{t.name}_{'_'.join(t.key)}_key"
            out[t.oid + 1] = f"rel:{t.schema}.{name}"
            out[t.oid + 4] = f"con:{name}"
    return out


_OID_TYPES = {26, 2205, 2206, 24, 4089, 4096, 2202}


def _text(v: Any) -> str | None:
    """A Python value as PostgreSQL's text output would show it."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, list):
        return array_out(v)
    return str(v)


def _norm(cols: list[tuple[str, int]], rows: list[tuple[Any, ...]], names: dict[int, str],
          ignore: frozenset[str]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        new = []
        for (cname, ctype), v in zip(cols, row, strict=True):
            if cname in ignore:
                new.append("<ignored>")
                continue
            if ctype in _OID_TYPES and v is not None and str(v).isdigit():
                v = names.get(int(v), v)
            new.append(v)
        out.append(tuple(new))
    return out


def _all_queries() -> list[tuple[str, str, list[Any]]]:
    out = [(name, sql, params) for name, _client, sql, params in QUERIES]
    out.extend(EXTRA_QUERIES)
    batch = split_statements(npgsql_batch("\r\n"))
    for name, stmt in zip(("npgsql_version", "npgsql_types", "npgsql_composites",
                           "npgsql_enums"), batch, strict=True):
        out.append((name, stmt, []))
    lookup = asyncpg_lookup_types()
    if lookup is not None:
        out.append(("asyncpg_types", lookup, ["{16,20,23,25,1043,1184,114,1015,1016,2205}"]))
    return out


@pytest.mark.parametrize(("name", "sql", "params"), _all_queries(),
                         ids=[q[0] for q in _all_queries()])
def test_same_answer_as_postgres(real_pg: RealPG, catalog: Catalog, registry: Registry,
                                 name: str, sql: str, params: list[Any]) -> None:
    assets = registry["assets"]
    pg_oid = next(o for o, n in real_pg.oid_names.items() if n == "rel:public.assets")
    pg_cols, pg_rows = real_pg.raw(*with_oid(sql, params, pg_oid))
    ours = catalog.query(*with_oid(sql, params, assets.oid))
    our_cols = [(c.name, c.type_oid) for c in ours.columns]
    expected_cols = [(n, real_pg.domains.get(t, t)) for n, t in pg_cols]
    assert our_cols == expected_cols
    mode, ignore = MODES.get(name, ("rows", frozenset()))
    if mode == "shape":
        return
    our_rows = _norm(our_cols, [tuple(_text(v) for v in r) for r in ours.rows],
                     _our_oid_names(registry), ignore)
    pg_rows_n = _norm(expected_cols, pg_rows, real_pg.oid_names, ignore)
    if mode == "ordered":
        assert our_rows == pg_rows_n
    else:
        assert sorted(our_rows, key=repr) == sorted(pg_rows_n, key=repr)


def test_limit0_describes_every_table_like_postgres(real_pg: RealPG, catalog: Catalog,
                                                     registry: Registry) -> None:
    for t in registry.values():
        sql = f'SELECT * FROM "{t.schema}"."{t.name}" LIMIT 0'
        res = real_pg.conn.pgconn.exec_(sql.encode())
        expected = [(res.fname(i).decode(), res.ftype(i), res.fmod(i))
                    for i in range(res.nfields)]
        ours = catalog.query(sql)
        assert [(c.name, c.type_oid, c.type_modifier) for c in ours.columns] == expected, t.name
        assert ours.rows == []
        described = catalog.describe(sql, [])[1]
        assert described == ours.columns


def test_describe_matches_postgres_parameter_types(real_pg: RealPG, catalog: Catalog) -> None:
    cases = [
        ("SELECT c.relname FROM pg_class c WHERE c.relname = $1 AND c.relkind = ANY($2)", None),
        ("SELECT typname FROM pg_type WHERE oid = ANY($1::oid[])", None),
        ("SELECT typname FROM pg_type t WHERE t.oid = to_regtype($1)", None),
        ("SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > $2", None),
        ("SELECT n.nspname FROM pg_namespace n WHERE n.nspname LIKE $1", None),
    ]
    for sql, _ in cases:
        with contextlib.closing(real_pg.conn.cursor()) as _cur:
            pgconn = real_pg.conn.pgconn
            pgconn.prepare(b"", sql.encode())
            d = pgconn.describe_prepared(b"")
            pg_params = [d.param_type(i) for i in range(d.nparams)]
            pg_cols = [(d.fname(i).decode(), d.ftype(i)) for i in range(d.nfields)]
        params, cols = catalog.describe(sql, [0] * len(pg_params))
        assert params == pg_params, sql
        assert [(c.name, c.type_oid) for c in cols] == pg_cols, sql


def _per_table_queries() -> list[tuple[str, str, list[Any]]]:
    """psql's \\d+ and SQLAlchemy's/pgjdbc's column queries, for a table named TABLE."""
    wanted = ("psql_d_lookup", "psql_dplus_table", "psql_dplus_columns", "psql_d_indexes",
              "sa_get_columns", "sa_get_unique_constraints", "sa_get_indexes",
              "jdbc_get_columns", "jdbc_get_index_info")
    return [(n, sql, params) for n, _c, sql, params in QUERIES if n in wanted]


@pytest.mark.parametrize("table", [t.name for t in builtin_registry().values()])
def test_every_table_described_like_postgres(real_pg: RealPG, catalog: Catalog,
                                             registry: Registry, table: str) -> None:
    t = registry[table]
    pg_oid = next(o for o, n in real_pg.oid_names.items() if n == f"rel:{t.schema}.{t.name}")
    names = _our_oid_names(registry)
    for name, sql, params in _per_table_queries():
        sql = sql.replace("'assets'", f"'{t.name}'").replace("^(assets)$", f"^({t.name})$")
        params = [t.name if p == "assets" else p for p in params]
        if t.schema != "public":
            sql = sql.replace("'public'", f"'{t.schema}'")
        pg_cols, pg_rows = real_pg.raw(*with_oid(sql, params, pg_oid))
        ours = catalog.query(*with_oid(sql, params, t.oid))
        our_cols = [(c.name, c.type_oid) for c in ours.columns]
        assert our_cols == pg_cols, name
        _mode, ignore = MODES.get(name, ("rows", frozenset()))
        mine = _norm(our_cols, [tuple(_text(v) for v in r) for r in ours.rows], names, ignore)
        theirs = _norm(pg_cols, pg_rows, real_pg.oid_names, ignore)
        assert sorted(mine, key=repr) == sorted(theirs, key=repr), name


def test_every_catalog_relation_has_postgres_columns(real_pg: RealPG, catalog: Catalog) -> None:
    from pggw.sql.catalog.pgdata import CATALOG_TABLES

    for schema, name in CATALOG_TABLES:
        sql = f"SELECT * FROM {schema}.{name} LIMIT 0"
        pg_cols, _ = real_pg.raw(sql)
        ours = catalog.query(sql)
        expected = [(n, real_pg.domains.get(t, t)) for n, t in pg_cols]
        assert [(c.name, c.type_oid) for c in ours.columns] == expected, name
