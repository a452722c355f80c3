"""PostgreSQL functions, implemented in Python and registered in the catalog's SQLite database.

:data:`FUNCTIONS` maps a PostgreSQL function name to ``(sqlite name, return type)``; the
return type is a PostgreSQL type name or a callable computing it from the argument types.
Functions registered here are named ``pgf_<name>`` so they never clash with SQLite's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pggw.sql.settings import VERSION_STRING
from pggw.wire.errors import PgError

if TYPE_CHECKING:
    from pggw.sql.catalog.schema import CatalogDB, Session

RetType = str | Callable[[Sequence[str]], str]


def _first(args: Sequence[str]) -> str:
    return args[0] if args else "text"


def _common(args: Sequence[str]) -> str:
    for a in args:
        if a != "unknown":
            return a
    return "text"


def _elem(args: Sequence[str]) -> str:
    a = args[0] if args else "_text"
    return a[1:] if a.startswith("_") else ("int2" if a == "int2vector" else
                                            "oid" if a == "oidvector" else "text")


def _arr(args: Sequence[str]) -> str:
    a = args[0] if args else "text"
    return a if a.startswith("_") else "_" + ("text" if a == "unknown" else a)


# name -> (sqlite function or None for a native SQLite function of the same name, return type)
FUNCTIONS: dict[str, tuple[str | None, RetType]] = {
    "version": ("pgf_version", "text"),
    "current_database": ("pgf_current_database", "name"),
    "current_catalog": ("pgf_current_database", "name"),
    "current_schema": ("pgf_current_schema", "name"),
    "current_schemas": ("pgf_current_schemas", "_name"),
    "current_user": ("pgf_current_user", "name"),
    "session_user": ("pgf_current_user", "name"),
    "current_role": ("pgf_current_user", "name"),
    "user": ("pgf_current_user", "name"),
    "current_setting": ("pgf_current_setting", "text"),
    "set_config": ("pgf_set_config", "text"),
    "pg_backend_pid": ("pgf_pg_backend_pid", "int4"),
    "format_type": ("pgf_format_type", "text"),
    "pg_get_expr": ("pgf_null", "text"),
    "pg_get_viewdef": ("pgf_null", "text"),
    "pg_get_triggerdef": ("pgf_null", "text"),
    "pg_get_ruledef": ("pgf_null", "text"),
    "pg_get_partkeydef": ("pgf_null", "text"),
    "pg_get_function_arguments": ("pgf_empty", "text"),
    "pg_get_function_identity_arguments": ("pgf_empty", "text"),
    "pg_get_function_result": ("pgf_null", "text"),
    "pg_get_statisticsobjdef_columns": ("pgf_null", "text"),
    "pg_get_serial_sequence": ("pgf_null", "text"),
    "pg_tablespace_location": ("pgf_empty", "text"),
    "pg_get_function_sqlbody": ("pgf_null", "text"),
    "pg_get_indexdef": ("pgf_pg_get_indexdef", "text"),
    "pg_get_constraintdef": ("pgf_pg_get_constraintdef", "text"),
    "pg_get_userbyid": ("pgf_pg_get_userbyid", "name"),
    "pg_table_is_visible": ("pgf_pg_table_is_visible", "bool"),
    "pg_type_is_visible": ("pgf_pg_type_is_visible", "bool"),
    "pg_function_is_visible": ("pgf_true", "bool"),
    "pg_collation_is_visible": ("pgf_true", "bool"),
    "pg_opfamily_is_visible": ("pgf_true", "bool"),
    "pg_opclass_is_visible": ("pgf_true", "bool"),
    "pg_operator_is_visible": ("pgf_true", "bool"),
    "pg_conversion_is_visible": ("pgf_true", "bool"),
    "pg_statistics_obj_is_visible": ("pgf_true", "bool"),
    "pg_ts_config_is_visible": ("pgf_true", "bool"),
    "pg_ts_dict_is_visible": ("pgf_true", "bool"),
    "pg_ts_parser_is_visible": ("pgf_true", "bool"),
    "pg_ts_template_is_visible": ("pgf_true", "bool"),
    "pg_relation_is_publishable": ("pgf_false", "bool"),
    "pg_is_in_recovery": ("pgf_false", "bool"),
    "pg_is_other_temp_schema": ("pgf_false", "bool"),
    "pg_my_temp_schema": ("pgf_zero", "oid"),
    "obj_description": ("pgf_obj_description", "text"),
    "col_description": ("pgf_col_description", "text"),
    "shobj_description": ("pgf_null", "text"),
    "has_table_privilege": ("pgf_true", "bool"),
    "has_schema_privilege": ("pgf_true", "bool"),
    "has_database_privilege": ("pgf_true", "bool"),
    "has_column_privilege": ("pgf_true", "bool"),
    "has_any_column_privilege": ("pgf_true", "bool"),
    "has_function_privilege": ("pgf_true", "bool"),
    "has_type_privilege": ("pgf_true", "bool"),
    "has_sequence_privilege": ("pgf_true", "bool"),
    "pg_has_role": ("pgf_true", "bool"),
    "pg_encoding_to_char": ("pgf_pg_encoding_to_char", "name"),
    "pg_char_to_encoding": ("pgf_pg_char_to_encoding", "int4"),
    "array_to_string": ("pgf_array_to_string", "text"),
    "array_upper": ("pgf_array_upper", "int4"),
    "array_lower": ("pgf_array_lower", "int4"),
    "array_length": ("pgf_array_length", "int4"),
    "cardinality": ("pgf_cardinality", "int4"),
    "array_position": ("pgf_array_position", "int4"),
    "array_cat": ("pgf_array_cat", _first),
    "array_append": ("pgf_array_append", _first),
    "string_to_array": ("pgf_string_to_array", "_text"),
    "to_regtype": ("pgf_to_regtype", "regtype"),
    "to_regclass": ("pgf_to_regclass", "regclass"),
    "to_regproc": ("pgf_to_regproc", "regproc"),
    "to_regnamespace": ("pgf_to_regnamespace", "regnamespace"),
    "to_regrole": ("pgf_to_regrole", "regrole"),
    "pg_advisory_unlock_all": ("pgf_void", "void"),
    "pg_advisory_lock": ("pgf_void", "void"),
    "pg_advisory_xact_lock": ("pgf_void", "void"),
    "pg_try_advisory_lock": ("pgf_true", "bool"),
    "pg_advisory_unlock": ("pgf_true", "bool"),
    "pg_total_relation_size": ("pgf_zero", "int8"),
    "pg_relation_size": ("pgf_zero", "int8"),
    "pg_table_size": ("pgf_zero", "int8"),
    "pg_indexes_size": ("pgf_zero", "int8"),
    "pg_database_size": ("pgf_zero", "int8"),
    "pg_size_pretty": ("pgf_pg_size_pretty", "text"),
    "txid_current": ("pgf_one", "int8"),
    "pg_current_xact_id": ("pgf_one", "int8"),
    "pg_postmaster_start_time": ("pgf_now", "timestamptz"),
    "now": ("pgf_now", "timestamptz"),
    "transaction_timestamp": ("pgf_now", "timestamptz"),
    "statement_timestamp": ("pgf_now", "timestamptz"),
    "clock_timestamp": ("pgf_now", "timestamptz"),
    "inet_server_addr": ("pgf_null", "inet"),
    "inet_server_port": ("pgf_null", "int4"),
    "inet_client_addr": ("pgf_null", "inet"),
    "quote_ident": ("pgf_quote_ident", "text"),
    "quote_literal": ("pgf_quote_literal", "text"),
    "format": ("pgf_format", "text"),
    "concat": ("pgf_concat", "text"),
    "concat_ws": ("pgf_concat_ws", "text"),
    "left": ("pgf_left", "text"),
    "right": ("pgf_right", "text"),
    "split_part": ("pgf_split_part", "text"),
    "regexp_replace": ("pgf_regexp_replace", "text"),
    "starts_with": ("pgf_starts_with", "bool"),
    "strpos": ("instr", "int4"),
    "position": ("instr", "int4"),
    "upper": (None, "text"),
    "lower": (None, "text"),
    "length": (None, "int4"),
    "char_length": ("length", "int4"),
    "character_length": ("length", "int4"),
    "octet_length": ("pgf_octet_length", "int4"),
    "replace": (None, "text"),
    "substr": (None, "text"),
    "substring": ("substr", "text"),
    "trim": (None, "text"),
    "btrim": ("trim", "text"),
    "ltrim": (None, "text"),
    "rtrim": (None, "text"),
    "abs": (None, _first),
    "round": (None, "numeric"),
    "coalesce": (None, _common),
    "nullif": (None, _common),
    "greatest": ("max", _common),
    "least": ("min", _common),
    "count": (None, "int8"),
    "sum": (None, lambda a: "int8" if a and a[0] in ("int2", "int4") else "numeric"
            if a and a[0] == "int8" else _first(a)),
    "max": (None, _first),
    "min": (None, _first),
    "avg": (None, "numeric"),
    "bool_and": ("min", "bool"),
    "bool_or": ("max", "bool"),
    "every": ("min", "bool"),
    "string_agg": ("group_concat", "text"),
    "array_agg": ("json_group_array", _arr),
    "row_number": (None, "int8"),
    "rank": (None, "int8"),
    "dense_rank": (None, "int8"),
    "json_build_object": ("json_object", "json"),
    "json_build_array": ("json_array", "json"),
    "jsonb_build_object": ("json_object", "jsonb"),
    "lpad": ("pgf_lpad", "text"),
    "rpad": ("pgf_rpad", "text"),
}


def _py_regex(pattern: str) -> str:
    """Translate the common parts of PostgreSQL's ARE syntax to Python's re."""
    p = pattern.replace("[[:<:]]", r"\b").replace("[[:>:]]", r"\b")
    p = p.replace(r"\m", r"\b").replace(r"\M", r"\b").replace(r"\y", r"\b")
    classes = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z",
               "lower": "a-z", "space": r"\s", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9a-fA-F",
               "word": r"\w"}
    for k, v in classes.items():
        p = p.replace(f"[:{k}:]", v)
    return p


_RE_CACHE: dict[tuple[str, int], re.Pattern[str]] = {}


def regex_match(s: Any, pattern: Any, flags: int = 0) -> int | None:
    if s is None or pattern is None:
        return None
    key = (str(pattern), flags)
    rx = _RE_CACHE.get(key)
    if rx is None:
        try:
            rx = re.compile(_py_regex(str(pattern)), flags)
        except re.error as e:
            raise PgError("2201B", f"invalid regular expression: {e}") from None
        if len(_RE_CACHE) > 512:
            _RE_CACHE.clear()
        _RE_CACHE[key] = rx
    return 1 if rx.search(str(s)) else 0


def _loads(v: Any) -> list[Any] | None:
    if v is None:
        return None
    if isinstance(v, list):
        return v
    try:
        out = json.loads(v)
    except (TypeError, ValueError):
        return parse_pg_array(str(v))
    return out if isinstance(out, list) else [out]


def parse_pg_array(text: str) -> list[Any] | None:
    """Parse a one-dimensional PostgreSQL array literal (``{a,"b c",NULL}``)."""
    s = text.strip()
    if s.startswith("[") and "=" in s:
        s = s[s.index("=") + 1:]
    if not (s.startswith("{") and s.endswith("}")):
        return None
    body = s[1:-1]
    out: list[Any] = []
    if not body.strip():
        return out
    i, n = 0, len(body)
    while i <= n:
        while i < n and body[i] == " ":
            i += 1
        if i < n and body[i] == '"':
            i += 1
            cur = ""
            while i < n and body[i] != '"':
                if body[i] == "\\" and i + 1 < n:
                    i += 1
                cur += body[i]
                i += 1
            i += 1
            out.append(cur)
        else:
            j = body.find(",", i)
            j = n if j < 0 else j
            tok = body[i:j].strip()
            out.append(None if tok.upper() == "NULL" else _num_or_str(tok))
            i = j
        while i < n and body[i] != ",":
            i += 1
        i += 1
    return out


def _num_or_str(tok: str) -> Any:
    if re.fullmatch(r"-?\d+", tok):
        return int(tok)
    return tok


def array_in(v: Any) -> str | None:
    """Any array representation (JSON text, PostgreSQL literal, list) to JSON text."""
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return json.dumps(list(v))
    s = str(v).strip()
    if s.startswith("{") or (s.startswith("[") and "=" in s):
        arr = parse_pg_array(s)
        if arr is None:
            raise PgError("22P02", f'malformed array literal: "{s}"')
        return json.dumps(arr)
    if s.startswith("["):
        return s
    # int2vector / oidvector text form
    if re.fullmatch(r"[\d\s-]*", s):
        return json.dumps([int(x) for x in s.split()])
    raise PgError("22P02", f'malformed array literal: "{s}"')


def array_out(v: Any, elem_quote: bool = True) -> str | None:
    arr = _loads(v)
    if arr is None:
        return None
    parts = []
    for x in arr:
        if x is None:
            parts.append("NULL")
        elif isinstance(x, bool):
            parts.append("t" if x else "f")
        elif isinstance(x, (int, float)):
            parts.append(str(x))
        else:
            sx = str(x)
            if sx == "" or re.search(r'[{},"\\\s]', sx) or sx.upper() == "NULL":
                sx = '"' + sx.replace("\\", "\\\\").replace('"', '\\"') + '"'
            parts.append(sx)
    return "{" + ",".join(parts) + "}"


def format_type(db: CatalogDB, oid: Any, typmod: Any) -> str | None:
    from pggw.sql.catalog.schema import TYPE_ROWS

    if oid is None:
        return None
    oid = int(oid)
    mod = -1 if typmod is None else int(typmod)
    row = TYPE_ROWS.get(oid)
    if row is None:
        name = db.type_names.get(oid)
        if name is None:
            return "???"
        ns = db.type_namespace.get(oid, 11)
        if name.startswith("_"):
            return _qi(name[1:]) + "[]"
        nsname = db.namespace_names.get(ns, "public")
        return _qi(name) if nsname in ("pg_catalog", "public") else f"{_qi(nsname)}.{_qi(name)}"
    if row["typcategory"] == "A" and int(row["typelem"]) and int(row["typlen"]) == -1:
        return (format_type(db, row["typelem"], mod) or "") + "[]"
    name = row["typname"]
    sql = _SQL_NAMES.get(name)
    if sql is None:
        return _qi(name) if name != "char" else '"char"'
    if mod >= 0:
        if name in ("varchar", "bpchar") and mod >= 4:
            return f"{sql}({mod - 4})"
        if name == "numeric" and mod >= 4:
            m = mod - 4
            return f"numeric({(m >> 16) & 0xFFFF},{m & 0xFFFF})"
        if name in ("timestamp", "timestamptz", "time", "timetz"):
            base, _, rest = sql.partition(" ")
            return f"{base}({mod}) {rest}".strip()
        if name in ("bit", "varbit"):
            return f"{sql}({mod})"
        if name == "interval":
            return f"interval({mod & 0xFFFF})"
    return sql


_SQL_NAMES = {
    "bool": "boolean", "int2": "smallint", "int4": "integer", "int8": "bigint",
    "float4": "real", "float8": "double precision", "varchar": "character varying",
    "bpchar": "character", "timestamp": "timestamp without time zone",
    "timestamptz": "timestamp with time zone", "time": "time without time zone",
    "timetz": "time with time zone", "varbit": "bit varying", "bit": "bit", "numeric": "numeric",
    "interval": "interval", "text": "text", "name": "name", "oid": "oid", "json": "json",
    "jsonb": "jsonb", "bytea": "bytea", "date": "date", "uuid": "uuid",
}


def _qi(s: str) -> str:
    from pggw.sql.catalog.schema import _quote_ident

    return _quote_ident(s)


class _Registrar:
    """Registers functions so that a PgError they raise reaches the caller intact."""

    def __init__(self, db: CatalogDB) -> None:
        self.db = db

    def create_function(self, name: str, nargs: int, f: Callable[..., Any],
                        deterministic: bool = False) -> None:
        db = self.db

        def wrapped(*args: Any) -> Any:
            try:
                return f(*args)
            except PgError as e:
                db.pending_error = e
                raise

        self.db.conn.create_function(name, nargs, wrapped, deterministic=deterministic)


def register_functions(db: CatalogDB) -> None:
    conn = _Registrar(db)

    def sess() -> Session:
        s = db.session
        if s is None:
            raise PgError("XX000", "catalog function called outside a session")
        return s

    def fn(name: str, nargs: int, deterministic: bool = False
           ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def deco(f: Callable[..., Any]) -> Callable[..., Any]:
            conn.create_function(name, nargs, f, deterministic=deterministic)
            return f
        return deco

    # -- constants -----------------------------------------------------------------------------
    for n in range(0, 5):
        conn.create_function("pgf_null", n, lambda *a: None, deterministic=True)
        conn.create_function("pgf_true", n, lambda *a: 1, deterministic=True)
        conn.create_function("pgf_false", n, lambda *a: 0, deterministic=True)
        conn.create_function("pgf_zero", n, lambda *a: 0, deterministic=True)
        conn.create_function("pgf_one", n, lambda *a: 1, deterministic=True)
        conn.create_function("pgf_void", n, lambda *a: "", deterministic=True)
        conn.create_function("pgf_empty", n, lambda *a: "", deterministic=True)

    db.conn.create_aggregate("pgf_ordered_agg", -1, _OrderedAgg)  # type: ignore[arg-type]
    fn("pgf_version", 0)(lambda: VERSION_STRING)
    fn("pgf_current_database", 0)(lambda: sess().database)
    fn("pgf_current_user", 0)(lambda: sess().user)
    fn("pgf_user_oid", 0)(lambda: 16380)

    @fn("pgf_current_schema", 0)
    def current_schema() -> str | None:
        for s in sess().search_path_schemas():
            if s in db.namespace_names.values():
                return s
        return None

    @fn("pgf_current_schemas", 1)
    def current_schemas(implicit: Any) -> str:
        out = [s for s in sess().search_path_schemas() if s in db.namespace_names.values()]
        if implicit and "pg_catalog" not in out:
            out.insert(0, "pg_catalog")
        return json.dumps(out)

    @fn("pgf_current_setting", 1)
    def current_setting(name: Any) -> str | None:
        return sess().current_setting(str(name))

    @fn("pgf_current_setting", 2)
    def current_setting2(name: Any, missing_ok: Any) -> str | None:
        return sess().current_setting(str(name), bool(missing_ok))

    @fn("pgf_set_config", 3)
    def set_config(name: Any, value: Any, is_local: Any) -> str:
        return sess().set_config(str(name), "" if value is None else str(value), bool(is_local))

    fn("pgf_pg_backend_pid", 0)(lambda: sess().backend_pid())
    fn("pgf_setting", 1)(lambda n: sess().current_setting(str(n), True))
    fn("pgf_format_type", 2, True)(lambda oid, mod: format_type(db, oid, mod))

    def render_indexdef(oid: Any, pretty: bool) -> str | None:
        d = db.index_defs.get(int(oid)) if oid is not None else None
        if d is None:
            return None
        text, _cols, schema, table = d
        if pretty and schema in sess().search_path_schemas():
            name = _qi(table)
        else:
            name = f"{_qi(schema)}.{_qi(table)}"
        return text.replace("{table}", name)

    fn("pgf_pg_get_indexdef", 1)(lambda oid: render_indexdef(oid, False))

    @fn("pgf_pg_get_indexdef", 3)
    def indexdef3(oid: Any, col: Any, pretty: Any) -> str | None:
        d = db.index_defs.get(int(oid)) if oid is not None else None
        if d is None:
            return None
        c = int(col or 0)
        if c == 0:
            return render_indexdef(oid, bool(pretty))
        return _qi(d[1][c - 1]) if 0 < c <= len(d[1]) else ""

    conn.create_function("pgf_pg_get_constraintdef", 1,
                         lambda oid: db.constraint_defs.get(int(oid)) if oid is not None
                         else None)
    conn.create_function("pgf_pg_get_constraintdef", 2,
                         lambda oid, p: db.constraint_defs.get(int(oid)) if oid is not None
                         else None)

    @fn("pgf_pg_get_userbyid", 1)
    def userbyid(oid: Any) -> str | None:
        if oid is None:
            return None
        if int(oid) == 16380:
            return sess().user
        if int(oid) == 10:
            return "pggw"
        return f"unknown (OID={int(oid)})"

    @fn("pgf_pg_table_is_visible", 1)
    def table_is_visible(oid: Any) -> int | None:
        if oid is None:
            return None
        ns = db.class_namespace.get(int(oid))
        if ns is None:
            return None
        name = db.namespace_names.get(ns, "")
        return 1 if name == "pg_catalog" or name in sess().search_path_schemas() else 0

    @fn("pgf_pg_type_is_visible", 1)
    def type_is_visible(oid: Any) -> int | None:
        if oid is None:
            return None
        ns = db.type_namespace.get(int(oid))
        if ns is None:
            return None
        name = db.namespace_names.get(ns, "")
        return 1 if name == "pg_catalog" or name in sess().search_path_schemas() else 0

    conn.create_function("pgf_obj_description", 1,
                         lambda oid: db.descriptions.get((int(oid), 1259, 0))
                         if oid is not None else None)

    @fn("pgf_obj_description", 2)
    def obj_description(oid: Any, catalog: Any) -> str | None:
        if oid is None:
            return None
        classoid = 1259 if str(catalog) == "pg_class" else 0
        return db.descriptions.get((int(oid), classoid, 0))

    @fn("pgf_col_description", 2)
    def col_description(oid: Any, attnum: Any) -> str | None:
        if oid is None or attnum is None:
            return None
        return db.descriptions.get((int(oid), 1259, int(attnum)))

    fn("pgf_pg_encoding_to_char", 1, True)(
        lambda e: {6: "UTF8", 0: "SQL_ASCII"}.get(int(e), "") if e is not None else None)
    fn("pgf_pg_char_to_encoding", 1, True)(
        lambda e: {"utf8": 6, "sql_ascii": 0}.get(str(e).lower(), -1) if e is not None else None)

    # -- arrays (JSON text) --------------------------------------------------------------------
    @fn("pgf_array_to_string", 2, True)
    def array_to_string(a: Any, sep: Any) -> str | None:
        arr = _loads(a)
        if arr is None or sep is None:
            return None
        return str(sep).join(_txt(x) for x in arr if x is not None)

    @fn("pgf_array_to_string", 3, True)
    def array_to_string3(a: Any, sep: Any, null: Any) -> str | None:
        arr = _loads(a)
        if arr is None or sep is None:
            return None
        return str(sep).join(_txt(x) if x is not None else str(null) for x in arr
                             if x is not None or null is not None)

    def upper(a: Any, dim: Any) -> int | None:
        arr = _loads(a)
        return len(arr) if arr and int(dim or 0) == 1 else None

    conn.create_function("pgf_array_upper", 2, upper, deterministic=True)
    conn.create_function("pgf_array_length", 2, upper, deterministic=True)
    conn.create_function("pgf_array_lower", 2,
                         lambda a, d: 1 if _loads(a) and int(d or 0) == 1 else None,
                         deterministic=True)
    conn.create_function("pgf_cardinality", 1,
                         lambda a: None if _loads(a) is None else len(_loads(a) or []),
                         deterministic=True)

    @fn("pgf_array_position", 2, True)
    def array_position(a: Any, v: Any) -> int | None:
        arr = _loads(a) or []
        for i, x in enumerate(arr, 1):
            if x == v or str(x) == str(v):
                return i
        return None

    @fn("pgf_array_cat", 2, True)
    def array_cat(a: Any, b: Any) -> str | None:
        x, y = _loads(a), _loads(b)
        if x is None and y is None:
            return None
        return json.dumps((x or []) + (y or []))

    @fn("pgf_array_append", 2, True)
    def array_append(a: Any, v: Any) -> str:
        return json.dumps((_loads(a) or []) + [v])

    fn("pgf_array_in", 1, True)(array_in)
    fn("pgf_array_out", 1, True)(array_out)

    @fn("pgf_vector_out", 1, True)
    def vector_out(a: Any) -> str | None:
        arr = _loads(a)
        return None if arr is None else " ".join(str(x) for x in arr)

    @fn("pgf_string_to_array", 2, True)
    def string_to_array(s: Any, sep: Any) -> str | None:
        if s is None:
            return None
        if s == "":
            return "[]"
        return json.dumps(str(s).split(str(sep)) if sep is not None else list(str(s)))

    @fn("pgf_series", 2, True)
    def series(a: Any, b: Any) -> str | None:
        if a is None or b is None:
            return None
        return json.dumps(list(range(int(a), int(b) + 1)))

    @fn("pgf_series", 3, True)
    def series3(a: Any, b: Any, step: Any) -> str | None:
        if a is None or b is None or step is None:
            return None
        st = int(step)
        if st == 0:
            raise PgError("22023", "step size cannot equal zero")
        return json.dumps(list(range(int(a), int(b) + (1 if st > 0 else -1), st)))

    # -- reg* ----------------------------------------------------------------------------------
    def regclass_in_strict(v: Any) -> int | None:
        if v is None:
            return None
        if isinstance(v, int):
            return v
        oid = db.regclass_in(str(v), sess().search_path_schemas())
        if oid is None:
            raise PgError("42P01", f'relation "{v}" does not exist')
        return oid

    def regtype_in_strict(v: Any) -> int | None:
        if v is None:
            return None
        if isinstance(v, int):
            return v
        oid = db.regtype_in(str(v))
        if oid is None:
            raise PgError("42704", f'type "{v}" does not exist')
        return oid

    def regproc_in(v: Any) -> int | None:
        from pggw.sql.catalog.schema import PROC_BY_NAME

        if v is None:
            return None
        if isinstance(v, int) or str(v).isdigit():
            return int(v)
        name = str(v).split(".")[-1].strip('"')
        if name == "-":
            return 0
        oid = PROC_BY_NAME.get(name)
        if oid is None:
            raise PgError("42883", f'function "{v}" does not exist')
        return oid

    def regnamespace_in(v: Any) -> int | None:
        if v is None:
            return None
        if isinstance(v, int) or str(v).isdigit():
            return int(v)
        for oid, n in db.namespace_names.items():
            if n == str(v).strip('"'):
                return oid
        raise PgError("42704", f'schema "{v}" does not exist')

    def regrole_in(v: Any) -> int | None:
        if v is None:
            return None
        if isinstance(v, int) or str(v).isdigit():
            return int(v)
        if str(v) == sess().user:
            return 16380
        if str(v) == "pggw":
            return 10
        raise PgError("42704", f'role "{v}" does not exist')

    def soft(f: Callable[[Any], int | None]) -> Callable[[Any], int | None]:
        def g(v: Any) -> int | None:
            try:
                return f(v)
            except PgError:
                return None
        return g

    fn("pgf_regclass_in", 1)(regclass_in_strict)
    fn("pgf_regtype_in", 1)(regtype_in_strict)
    fn("pgf_regproc_in", 1)(regproc_in)
    fn("pgf_regnamespace_in", 1)(regnamespace_in)
    fn("pgf_regrole_in", 1)(regrole_in)
    fn("pgf_to_regclass", 1)(soft(regclass_in_strict))
    fn("pgf_to_regtype", 1)(soft(regtype_in_strict))
    fn("pgf_to_regproc", 1)(soft(regproc_in))
    fn("pgf_to_regnamespace", 1)(soft(regnamespace_in))
    fn("pgf_to_regrole", 1)(soft(regrole_in))

    fn("pgf_regclass_out", 1)(
        lambda o: None if o is None else ("-" if int(o) == 0 else
                                          db.regclass_out(int(o), sess().search_path_schemas())))
    fn("pgf_regtype_out", 1)(
        lambda o: None if o is None else ("-" if int(o) == 0 else db.regtype_out(int(o))))
    fn("pgf_regproc_out", 1)(lambda o: regproc_out(o))
    fn("pgf_regnamespace_out", 1)(
        lambda o: None if o is None else db.namespace_names.get(int(o), str(o)))
    fn("pgf_regrole_out", 1)(lambda o: None if o is None else userbyid(o))

    # -- strings and misc ----------------------------------------------------------------------
    fn("pgf_regex", 2, True)(lambda s, p: regex_match(s, p))
    fn("pgf_regex_i", 2, True)(lambda s, p: regex_match(s, p, re.I))
    fn("pgf_quote_ident", 1, True)(lambda s: None if s is None else _qi(str(s)))
    fn("pgf_quote_literal", 1, True)(
        lambda s: None if s is None else "'" + str(s).replace("'", "''") + "'")
    fn("pgf_left", 2, True)(lambda s, n: None if s is None or n is None else
                            (str(s)[: int(n)] if int(n) >= 0 else str(s)[: int(n)]))
    fn("pgf_right", 2, True)(lambda s, n: None if s is None or n is None else
                             (str(s)[-int(n):] if int(n) > 0 else str(s)[-int(n):]))
    fn("pgf_split_part", 3, True)(
        lambda s, d, n: None if s is None or d is None or n is None else
        (lambda parts, i: parts[i - 1] if 0 < i <= len(parts) else "")(str(s).split(str(d)),
                                                                        int(n)))
    fn("pgf_starts_with", 2, True)(
        lambda s, p: None if s is None or p is None else int(str(s).startswith(str(p))))
    fn("pgf_octet_length", 1, True)(
        lambda s: None if s is None else len(str(s).encode()))
    fn("pgf_int", 1, True)(lambda s: None if s is None else int(s))
    fn("pgf_now", 0)(lambda: _now())
    fn("pgf_now", 1)(lambda _a: _now())

    @fn("pgf_bool_in", 1, True)
    def bool_in(v: Any) -> int | None:
        if v is None:
            return None
        if isinstance(v, (int, float)):
            return 1 if v else 0
        s = str(v).strip().lower()
        if s in ("t", "true", "y", "yes", "on", "1"):
            return 1
        if s in ("f", "false", "n", "no", "off", "0"):
            return 0
        raise PgError("22P02", f'invalid input syntax for type boolean: "{v}"')

    fn("pgf_bool_out", 1, True)(lambda v: None if v is None else ("true" if v else "false"))

    @fn("pgf_int_in", 1, True)
    def int_in(v: Any) -> int | None:
        if v is None:
            return None
        if isinstance(v, int):
            return v
        try:
            return int(str(v).strip())
        except ValueError:
            raise PgError("22P02", f'invalid input syntax for type integer: "{v}"') from None

    @fn("pgf_pg_size_pretty", 1, True)
    def size_pretty(n: Any) -> str | None:
        if n is None:
            return None
        v = int(n)
        for unit in ("bytes", "kB", "MB", "GB", "TB"):
            if abs(v) < 10 * 1024 or unit == "TB":
                return f"{v} {unit}"
            v = (v + 512) // 1024
        return f"{v} PB"

    for n in range(1, 10):
        conn.create_function("pgf_concat", n,
                             lambda *a: "".join(_txt(x) for x in a if x is not None),
                             deterministic=True)
        conn.create_function("pgf_concat_ws", n + 1,
                             lambda sep, *a: None if sep is None else
                             str(sep).join(_txt(x) for x in a if x is not None),
                             deterministic=True)
        conn.create_function("pgf_format", n, _format, deterministic=True)

    for n in (2, 3):
        conn.create_function("pgf_lpad", n, lambda s, k, f=" ": None if s is None or k is None
                             else (str(f) * int(k) + str(s))[-int(k):] if len(str(s)) < int(k)
                             else str(s)[: int(k)], deterministic=True)
        conn.create_function("pgf_rpad", n, lambda s, k, f=" ": None if s is None or k is None
                             else (str(s) + str(f) * int(k))[: int(k)], deterministic=True)

    @fn("pgf_regexp_replace", 3, True)
    def regexp_replace(s: Any, p: Any, r: Any) -> str | None:
        if s is None or p is None or r is None:
            return None
        return re.sub(_py_regex(str(p)), re.sub(r"\\(\d)", r"\\\1", str(r)), str(s), count=1)

    @fn("pgf_regexp_replace", 4, True)
    def regexp_replace4(s: Any, p: Any, r: Any, flags: Any) -> str | None:
        if s is None or p is None or r is None:
            return None
        fl = str(flags or "")
        return re.sub(_py_regex(str(p)), str(r), str(s), count=0 if "g" in fl else 1,
                      flags=re.I if "i" in fl else 0)

    def regproc_out(o: Any) -> str | None:
        from pggw.sql.catalog.schema import PROC_NAMES

        if o is None:
            return None
        return "-" if int(o) == 0 else PROC_NAMES.get(int(o), str(o))


class _OrderedAgg:
    """array_agg / string_agg with ORDER BY: collects (keys, value) and sorts at the end."""

    def __init__(self) -> None:
        self.items: list[tuple[tuple[Any, ...], Any]] = []
        self.kind = "array"
        self.sep: Any = None
        self.dirs = ""

    def step(self, kind: Any, value: Any, sep: Any, dirs: Any, *keys: Any) -> None:
        self.kind, self.sep, self.dirs = str(kind), sep, str(dirs)
        self.items.append((keys, value))

    def finalize(self) -> Any:
        import functools

        dirs = self.dirs

        def cmp(a: tuple[tuple[Any, ...], Any], b: tuple[tuple[Any, ...], Any]) -> int:
            for i, (x, y) in enumerate(zip(a[0], b[0], strict=False)):
                desc = i < len(dirs) and dirs[i] == "d"
                if x == y:
                    continue
                if x is None or y is None:  # NULLS LAST ascending, FIRST descending
                    r = 1 if x is None else -1
                    return -r if desc else r
                r = -1 if x < y else 1
                return -r if desc else r
            return 0

        items = sorted(self.items, key=functools.cmp_to_key(cmp))
        if not items:
            return None
        if self.kind == "array":
            return json.dumps([v for _k, v in items])
        vals = [_txt(v) for _k, v in items if v is not None]
        return str(self.sep if self.sep is not None else "").join(vals) if vals else None


def _txt(x: Any) -> str:
    if isinstance(x, bool):
        return "t" if x else "f"
    if isinstance(x, (list, dict)):
        return array_out(json.dumps(x)) or ""
    return str(x)


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).isoformat(sep=" ")


def _format(fmt: Any, *args: Any) -> str | None:
    if fmt is None:
        return None
    it = iter(args)

    def rep(m: re.Match[str]) -> str:
        c = m.group(1)
        if c == "%":
            return "%"
        v = next(it, None)
        if c == "I":
            return _qi(str(v))
        if c == "L":
            return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"
        return "" if v is None else _txt(v)

    return re.sub(r"%([sIL%])", rep, str(fmt))
