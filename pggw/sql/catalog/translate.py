"""Translate a PostgreSQL catalog query into SQLite, inferring PostgreSQL result types.

The query is parsed with sqlglot's PostgreSQL dialect, its tables are resolved against the
catalog (:class:`~pggw.sql.catalog.schema.CatalogDB`), every expression is given the
PostgreSQL type it would have (from catalog column types, casts, literals and function return
types), and the PostgreSQL-only constructs are rewritten into SQLite: ``::regclass`` and
friends become lookups, arrays become JSON text (``= ANY(...)`` → ``IN (SELECT value FROM
json_each(...))``), ``~`` becomes a Python regex function, ``unnest``/``generate_series``
become ``json_each``, and PostgreSQL functions become registered ``pgf_*`` functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.optimizer.simplify import simplify

from pggw.sql.catalog.functions import FUNCTIONS, array_in
from pggw.sql.catalog.schema import TYPE_BY_NAME, CatalogDB, Relation
from pggw.wire.errors import FEATURE_NOT_SUPPORTED, SYNTAX_ERROR, PgError
from pggw.wire.types import ALIASES

INT_TYPES = frozenset({"int2", "int4", "int8", "oid", "xid", "cid"})
REG_TYPES = frozenset({"regclass", "regtype", "regproc", "regprocedure", "regnamespace",
                       "regrole", "regoper", "regoperator", "regconfig"})
VECTOR_TYPES = frozenset({"int2vector", "oidvector"})
TEXT_TYPES = frozenset({"text", "varchar", "bpchar", "name", "char", "unknown", "json",
                        "jsonb", "pg_node_tree", "xml", "uuid"})
NUMERIC_TYPES = INT_TYPES | {"float4", "float8", "numeric"} | REG_TYPES


def is_array(t: str) -> bool:
    return t.startswith("_") or t in VECTOR_TYPES


def elem_type(t: str) -> str:
    if t == "int2vector":
        return "int2"
    if t == "oidvector":
        return "oid"
    return t[1:] if t.startswith("_") else "text"


def array_of(t: str) -> str:
    if t.startswith("_"):
        return t
    if t == "unknown":
        t = "text"
    return "_" + t


_EXTRA_ALIASES = {
    "int": "int4", "integer": "int4", "smallint": "int2", "bigint": "int8",
    "double precision": "float8", "double": "float8", "float": "float8", "real": "float4",
    "decimal": "numeric", "boolean": "bool", "character varying": "varchar",
    "character": "bpchar", "char": "bpchar", '"char"': "char", "timestamptz": "timestamptz",
    "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
    "time without time zone": "time", "time with time zone": "timetz",
    "bit varying": "varbit", "sql_identifier": "name", "character_data": "varchar",
    "cardinal_number": "int4", "yes_or_no": "varchar", "time_stamp": "timestamptz",
}


def typname_for(text: str) -> str | None:
    """The pg_type.typname for a type as written in SQL (``pg_catalog.int2[]``, ``VARCHAR(32)``)."""
    s = " ".join(text.strip().split())
    arr = False
    if s.endswith("[]"):
        arr, s = True, s[:-2].strip()
    elif s.upper().startswith("ARRAY<") and s.endswith(">"):
        arr, s = True, s[6:-1]
    s = re.sub(r"\(.*?\)", "", s).strip()
    if s.startswith('"char"') or s.lower().endswith('."char"'):
        base = "char"
    elif s.startswith("_") and not arr:
        inner = typname_for(s[1:])
        return array_of(inner) if inner is not None and not inner.startswith("_") else None
    else:
        low = s.lower().replace('"', "")
        for prefix in ("pg_catalog.", "information_schema."):
            if low.startswith(prefix):
                low = low[len(prefix):]
        base = _EXTRA_ALIASES.get(low) or low
        if base not in TYPE_BY_NAME:
            t = ALIASES.get(low)
            if t is not None:
                base = t.name
        if base not in TYPE_BY_NAME:
            return None
    if arr:
        return array_of(base)
    return base


def _typmod_for(text: str, typname: str) -> int:
    m = re.search(r"\((\d+)(?:\s*,\s*(\d+))?\)", text)
    if not m:
        return -1
    if typname in ("varchar", "bpchar"):
        return int(m.group(1)) + 4
    if typname == "numeric":
        return ((int(m.group(1)) << 16) | int(m.group(2) or 0)) + 4
    if typname in ("timestamp", "timestamptz", "time", "timetz"):
        return int(m.group(1))
    return -1


@dataclass(frozen=True)
class PgT:
    """A PostgreSQL type: pg_type.typname and type modifier."""

    name: str
    typmod: int = -1
    table_oid: int = 0
    attnum: int = 0


TEXT = PgT("text")
UNKNOWN = PgT("unknown")
BOOL = PgT("bool")
INT4 = PgT("int4")
INT8 = PgT("int8")


@dataclass
class OutColumn:
    name: str
    type: PgT


@dataclass
class Translation:
    sql: str
    columns: list[OutColumn]
    param_types: dict[int, str]
    nparams: int
    data_reads: list[str] = field(default_factory=list)  # data tables read with rows possible
    data_tables: list[str] = field(default_factory=list)


_ARRAY_CAST_RE = re.compile(r"::\s*((?:pg_catalog\s*\.\s*)?\"?[A-Za-z_][A-Za-z0-9_]*\"?)\s*\[\s*\]")


def _preprocess(sql: str) -> str:
    """Rewrite ``::type[]`` to ``::_type`` outside literals (sqlglot trips on it inside ANY())."""
    out: list[str] = []
    i, n = 0, len(sql)
    seg_start = 0
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            out.append(_ARRAY_CAST_RE.sub(_arr_rep, sql[seg_start:i]))
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                if ch == "'" and sql[j] == "\\" and i > 0 and sql[i - 1] in "eE":
                    j += 2
                    continue
                j += 1
            out.append(sql[i:j + 1])
            i = seg_start = j + 1
            continue
        if ch == "-" and sql.startswith("--", i):
            out.append(_ARRAY_CAST_RE.sub(_arr_rep, sql[seg_start:i]))
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = seg_start = j
            continue
        i += 1
    out.append(_ARRAY_CAST_RE.sub(_arr_rep, sql[seg_start:]))
    return "".join(out)


def _arr_rep(m: re.Match[str]) -> str:
    name = re.sub(r"\s+", "", m.group(1))
    schema = ""
    if "." in name:
        schema, name = name.split(".", 1)
        schema += "."
    name = name.strip('"')
    return f"::{schema}_{name}"


_TYPED_FUNCS: dict[type[exp.Expr], str] = {
    exp.CurrentUser: "current_user", exp.SessionUser: "session_user",
    exp.CurrentSchema: "current_schema", exp.CurrentDatabase: "current_database",
    exp.CurrentCatalog: "current_catalog", exp.CurrentVersion: "version",
    exp.CurrentSchemas: "current_schemas", exp.ArrayToString: "array_to_string",
    exp.GroupConcat: "string_agg", exp.Left: "left", exp.Right: "right", exp.Upper: "upper",
    exp.Lower: "lower", exp.Length: "length", exp.Coalesce: "coalesce", exp.Nullif: "nullif",
    exp.Greatest: "greatest", exp.Least: "least", exp.StrPosition: "strpos",
    exp.Substring: "substring", exp.Concat: "concat", exp.ConcatWs: "concat_ws",
    exp.RegexpReplace: "regexp_replace", exp.SplitPart: "split_part", exp.ArrayAgg: "array_agg",
    exp.StartsWith: "starts_with", exp.Round: "round", exp.Abs: "abs",
    exp.CurrentTimestamp: "now", exp.ArraySize: "array_length", exp.Pad: "lpad",
    exp.Initcap: "initcap", exp.Format: "format", exp.Replace: "replace",
    exp.LogicalAnd: "bool_and", exp.LogicalOr: "bool_or",
}

_KEEP_FUNCS: tuple[type[exp.Expr], ...] = (
    exp.Count, exp.Sum, exp.Avg, exp.Max, exp.Min, exp.RowNumber, exp.Cast, exp.Case, exp.If,
    exp.Anonymous, exp.Trim, exp.Array, exp.Explode, exp.Unnest, exp.GenerateSeries,
    exp.ExplodingGenerateSeries, exp.Any, exp.All, exp.Exists, exp.Collate, exp.Bracket,
)

_SQL_VALUE_FUNCS = {"current_user", "session_user", "user", "current_role", "current_catalog",
                    "current_schema"}

_CMP = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_OPERATORS: dict[str, Any] = {
    "=": exp.EQ, "<>": exp.NEQ, "!=": exp.NEQ, "<": exp.LT, ">": exp.GT, "<=": exp.LTE,
    ">=": exp.GTE, "~~": exp.Like, "~~*": exp.ILike,
}


def _func_args(node: exp.Expr) -> list[exp.Expr]:
    args: list[exp.Expr] = []
    for key in node.arg_types:
        v = node.args.get(key)
        if v is None or isinstance(v, bool):
            continue
        if isinstance(v, list):
            args.extend(x for x in v if isinstance(x, exp.Expr))
        elif isinstance(v, exp.Expr):
            args.append(v)
    return args


def _anon(name: str, args: Sequence[exp.Expr]) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


class _FuncTable:
    """A set-returning function in FROM, answered with json_each: exposes one column."""

    def __init__(self, alias: str, column: str, type_: PgT) -> None:
        self.alias = alias
        self.column = column
        self.type = type_
        self.vector = False
        self.node: exp.Expr | None = None
        self.typed = False


class Translator:
    def __init__(self, db: CatalogDB, search_path: Sequence[str]) -> None:
        self.db = db
        self.search_path = list(search_path)
        self.types: dict[int, PgT] = {}
        self.scope_of: dict[int, Scope] = {}
        self.relations: dict[int, Relation] = {}  # id(Table node) -> relation
        self.func_tables: dict[int, dict[str, _FuncTable]] = {}  # id(scope.expression) -> alias
        self.param_types: dict[int, str] = {}
        self.nparams = 0
        self._in_progress: set[int] = set()

    # ------------------------------------------------------------------------------------------
    def translate(self, sql: str) -> Translation:
        tree = self.parse(sql)
        tree = self.normalise(tree)
        root = build_scope(tree)
        if root is None:
            raise PgError(FEATURE_NOT_SUPPORTED, "this statement is not supported by pggw")
        scopes = list(root.traverse())
        for s in scopes:
            self.scope_of[id(s.expression)] = s
        for s in scopes:
            self.resolve_tables(s)
        for s in scopes:
            self.expand_stars(s)
        data_tables, data_reads = self.data_access()
        out = self.output_columns(tree)
        for node in tree.walk():
            if isinstance(node, exp.Expr):
                self.type_of(node)
        self.infer_params(tree)
        new = self.rewrite(tree)
        sqlite_sql = new.sql(dialect="sqlite")
        return Translation(sqlite_sql, out, dict(self.param_types), self.nparams,
                           data_reads, data_tables)

    # -- parsing ------------------------------------------------------------------------------
    def parse(self, sql: str) -> exp.Expr:
        try:
            stmts = [s for s in sqlglot.parse(_preprocess(sql), read="postgres") if s is not None]
        except (ParseError, TokenError) as e:
            msg = str(e).split("\n")[0]
            raise PgError(SYNTAX_ERROR, f"syntax error: {msg}") from None
        if len(stmts) != 1:
            raise PgError(SYNTAX_ERROR, "cannot handle several statements at once here")
        tree = stmts[0]
        if not isinstance(tree, exp.Query):
            kind = tree.key.upper()
            raise PgError(FEATURE_NOT_SUPPORTED, f"{kind} is not supported by pggw here")
        return tree

    def normalise(self, tree: exp.Expr) -> exp.Expr:
        for node in list(tree.walk()):
            if not isinstance(node, exp.Expr):
                continue
            new: exp.Expr | None = None
            if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func) and \
                    node.this.name.lower() in ("pg_catalog", "information_schema"):
                new = node.expression
            elif isinstance(node, exp.Collate):
                new = node.this
            elif isinstance(node, exp.ByteString):
                new = exp.Literal.string(node.name)
            elif isinstance(node, exp.Operator):
                op = str(node.args.get("operator", "")).split(".")[-1].strip()
                if op == "~":
                    new = exp.RegexpLike(this=node.this, expression=node.expression)
                elif op == "!~":
                    new = exp.Not(this=exp.RegexpLike(this=node.this, expression=node.expression))
                elif op == "~*":
                    new = exp.RegexpILike(this=node.this, expression=node.expression)
                elif op == "!~*":
                    new = exp.Not(this=exp.RegexpILike(this=node.this,
                                                       expression=node.expression))
                elif op in _OPERATORS:
                    new = _OPERATORS[op](this=node.this, expression=node.expression)
                else:
                    raise PgError(FEATURE_NOT_SUPPORTED,
                                  f"operator {op} is not supported by pggw")
            elif isinstance(node, exp.Column):
                if node.args.get("catalog") is not None:
                    node.set("catalog", None)
                if node.args.get("db") is not None:
                    node.set("db", None)
                if not node.table and not node.this.quoted and \
                        node.name.lower() in _SQL_VALUE_FUNCS:
                    new = _anon(node.name.lower(), [])
            elif isinstance(node, exp.Distinct) and node.args.get("on") is not None:
                raise PgError(FEATURE_NOT_SUPPORTED, "SELECT DISTINCT ON is not supported by pggw")
            elif isinstance(node, exp.Lock):
                node.pop()
                continue
            elif isinstance(node, (exp.ArrayAgg, exp.GroupConcat)) and \
                    isinstance(node.this, exp.Order):
                new = _ordered_agg(node)
            elif isinstance(node, exp.Func) and not isinstance(node, _KEEP_FUNCS) and not \
                    isinstance(node, (exp.Binary, exp.Connector, exp.Predicate, exp.Unary)):
                fname = _TYPED_FUNCS.get(type(node))
                if fname is None:
                    if isinstance(node, exp.Pad):
                        fname = "lpad" if node.args.get("is_left") else "rpad"
                    else:
                        fname = node.sql_name().lower()
                args = [a.this if isinstance(a, exp.Order) else a for a in _func_args(node)]
                new = _anon(fname, args)
            elif isinstance(node, exp.Anonymous):
                fname = str(node.this).lower()
                node.set("this", fname)
                if fname in ("all", "any", "some") and len(node.expressions) == 1:
                    cls = exp.All if fname == "all" else exp.Any
                    new = cls(this=exp.Paren(this=node.expressions[0]))
            if new is not None:
                if node is tree:
                    tree = new
                else:
                    node.replace(new)
        for sel in list(tree.find_all(exp.Select)):
            _rewrite_select_srfs(sel)
            _order_by_output_names(sel)
        for dot in list(tree.find_all(exp.Dot)):
            # (composite).field on a value built by _pg_expandarray: a JSON object
            if isinstance(dot.this, exp.Paren) and isinstance(dot.expression, exp.Identifier):
                dot.replace(_anon("json_extract", [dot.this.this,
                                                   exp.Literal.string("$." + dot.name.lower())]))
        return tree

    # -- tables ---------------------------------------------------------------------------------
    def resolve_tables(self, scope: Scope) -> None:
        sel = scope.expression
        for node in _from_items(sel):
            if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
                name = node.name
                if name in scope.sources and isinstance(scope.sources[name], Scope) and \
                        not node.args.get("db"):
                    continue  # a CTE reference
                if self._cte_visible(scope, name) and not node.args.get("db"):
                    continue
                schema = node.args.get("db")
                schema_name = schema.name if schema is not None else None
                rel = self.db.relation(schema_name, name, self.search_path)
                if rel is None:
                    full = f"{schema_name}.{name}" if schema_name else name
                    raise PgError("42P01", f'relation "{full}" does not exist')
                self.relations[id(node)] = rel
            elif isinstance(node, (exp.Unnest, exp.Table)):
                self.func_table(scope, node)

    def _cte_visible(self, scope: Scope, name: str) -> bool:
        s: Scope | None = scope
        while s is not None:
            if name in s.cte_sources:
                return True
            w = s.expression.args.get("with_") or s.expression.args.get("with")
            if w is not None and any(c.alias == name for c in w.expressions):
                return True
            s = s.parent
        return False

    def func_table(self, scope: Scope, node: exp.Expr) -> None:
        alias_node = node.args.get("alias")
        fname, _args = _functable_call(node)
        if fname not in ("unnest", "generate_series", "pggw_srf_each"):
            raise PgError(FEATURE_NOT_SUPPORTED, f"function {fname}() in FROM is not supported "
                          "by pggw")
        alias = alias_node.name if alias_node is not None and alias_node.name else fname
        cols = alias_node.columns if alias_node is not None else []
        column = cols[0].name if cols else alias
        ft = _FuncTable(alias, column, TEXT)
        ft.node = node
        node.meta["pggw_functable"] = (fname, ft)
        self.func_tables.setdefault(id(scope.expression), {})[alias] = ft

    def _functable_type(self, ft: _FuncTable) -> PgT:
        if not ft.typed and ft.node is not None:
            ft.typed = True
            fname, args = _functable_call(ft.node)
            argt = [self.type_of(a).name for a in args]
            if fname in ("unnest", "pggw_srf_each"):
                ft.type = PgT(elem_type(argt[0])) if argt else TEXT
            else:
                ft.type = INT8 if "int8" in argt else INT4
        return ft.type

    def source_columns(self, scope: Scope, alias: str) -> list[str] | None:
        src = scope.sources.get(alias)
        ft = self.func_tables.get(id(scope.expression), {}).get(alias)
        if ft is not None:
            return [ft.column]
        if isinstance(src, exp.Table):
            rel = self.relations.get(id(src))
            return [c[0] for c in rel.columns] if rel else None
        if isinstance(src, Scope):
            names = self._alias_columns(src)
            if names:
                return names
            q = src.expression
            return list(q.named_selects) if isinstance(q, exp.Query) else None
        return None

    @staticmethod
    def _alias_columns(src: Scope) -> list[str]:
        parent = src.expression.parent
        alias = None
        if isinstance(parent, (exp.CTE, exp.Subquery)):
            alias = parent.args.get("alias")
        if alias is not None and alias.columns:
            return [c.name for c in alias.columns]
        return []

    def expand_stars(self, scope: Scope) -> None:
        sel = scope.expression
        if not isinstance(sel, exp.Select):
            return
        new_exprs: list[exp.Expr] = []
        changed = False
        for p in sel.expressions:
            if isinstance(p, exp.Star) or (isinstance(p, exp.Column) and
                                           isinstance(p.this, exp.Star)):
                changed = True
                only = p.table if isinstance(p, exp.Column) else None
                if only and only not in self._ordered_sources(scope):
                    raise PgError("42P01", f'missing FROM-clause entry for table "{only}"')
                for alias in self._ordered_sources(scope):
                    if only and alias != only:
                        continue
                    cols = self.source_columns(scope, alias) or []
                    for c in cols:
                        new_exprs.append(exp.column(c, table=alias, quoted=True))
            else:
                new_exprs.append(p)
        if changed:
            sel.set("expressions", new_exprs)

    def _ordered_sources(self, scope: Scope) -> list[str]:
        out: list[str] = []
        for node in _from_items(scope.expression):
            alias = node.alias_or_name if not isinstance(node, exp.Unnest) else (
                node.args["alias"].name if node.args.get("alias") else "unnest")
            if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
                ft = node.meta.get("pggw_functable")
                alias = ft[1].alias if ft else alias
            out.append(alias)
        return out

    # -- data tables ------------------------------------------------------------------------------
    def data_access(self) -> tuple[list[str], list[str]]:
        tables: list[str] = []
        reads: list[str] = []
        for node_id, rel in self.relations.items():
            if rel.data_table is None:
                continue
            name = rel.name if rel.schema == "public" else f"{rel.schema}.{rel.name}"
            tables.append(name)
            node = self._node_by_id(node_id)
            if node is None or not self._provably_empty(node):
                reads.append(name)
        return tables, reads

    def _node_by_id(self, node_id: int) -> exp.Expr | None:
        for s in self.scope_of.values():
            for n in _from_items(s.expression):
                if id(n) == node_id:
                    return n
        return None

    @staticmethod
    def _provably_empty(node: exp.Expr) -> bool:
        cur: exp.Expr | None = node
        while cur is not None:
            if isinstance(cur, exp.Select | exp.SetOperation):
                limit = cur.args.get("limit")
                if limit is not None:
                    v = limit.expression if isinstance(limit, exp.Limit) else None
                    if isinstance(v, exp.Literal) and not v.is_string and v.this == "0":
                        return True
                where = cur.args.get("where")
                if where is not None and _constant_false(where.this):
                    return True
                having = cur.args.get("having")
                if having is not None and _constant_false(having.this):
                    return True
            cur = cur.parent
        return False

    # -- output columns -----------------------------------------------------------------------
    def output_columns(self, tree: exp.Expr) -> list[OutColumn]:
        sel = tree
        while isinstance(sel, exp.SetOperation):
            sel = sel.this
        if isinstance(sel, exp.Subquery):
            sel = sel.unnest()
        if not isinstance(sel, exp.Select):
            raise PgError(FEATURE_NOT_SUPPORTED, "this query shape is not supported by pggw")
        out = []
        for p in sel.expressions:
            t = self.type_of(p)
            if t.name == "unknown":
                t = PgT("text", -1, t.table_oid, t.attnum)
            out.append(OutColumn(_colname(p), t))
        return out

    # -- type inference ---------------------------------------------------------------------------
    def scope_for(self, node: exp.Expr) -> Scope | None:
        cur: exp.Expr | None = node
        while cur is not None:
            s = self.scope_of.get(id(cur))
            if s is not None:
                return s
            cur = cur.parent
        return None

    def type_of(self, node: exp.Expr) -> PgT:
        key = id(node)
        t = self.types.get(key)
        if t is not None:
            return t
        if key in self._in_progress:
            return TEXT
        self._in_progress.add(key)
        try:
            t = self._infer(node)
        finally:
            self._in_progress.discard(key)
        self.types[key] = t
        return t

    def _infer(self, node: exp.Expr) -> PgT:  # noqa: C901
        if isinstance(node.parent, (exp.Table, exp.Unnest)) and node.arg_key == "this" and \
                isinstance(node, exp.Func):
            for a in node.iter_expressions():
                self.type_of(a)
            return TEXT
        if isinstance(node, (exp.Explode, exp.GenerateSeries, exp.ExplodingGenerateSeries)):
            raise PgError(FEATURE_NOT_SUPPORTED, f"{node.sql(dialect='postgres')} is not "
                          "supported by pggw here")
        if isinstance(node, exp.Alias):
            return self.type_of(node.this)
        if isinstance(node, exp.Paren):
            return self.type_of(node.this)
        if isinstance(node, exp.Column):
            return self.column_type(node) or TEXT
        if isinstance(node, exp.Literal):
            if node.is_string:
                return UNKNOWN
            txt = str(node.this)
            if re.fullmatch(r"\d+", txt):
                v = int(txt)
                return INT4 if v < 2**31 else INT8 if v < 2**63 else PgT("numeric")
            return PgT("numeric")
        if isinstance(node, exp.Boolean):
            return BOOL
        if isinstance(node, exp.Null):
            return UNKNOWN
        if isinstance(node, (exp.Parameter, exp.Placeholder)):
            n = _param_number(node)
            if n is not None:
                self.nparams = max(self.nparams, n)
            return UNKNOWN
        if isinstance(node, exp.Cast):
            name = typname_for(node.to.sql(dialect="postgres"))
            if name is None:
                raise PgError("42704", f'type "{node.to.sql(dialect="postgres").lower()}" '
                              "does not exist")
            self.type_of(node.this)
            return PgT(name, _typmod_for(node.to.sql(dialect="postgres"), name))
        if isinstance(node, (*_CMP, exp.And, exp.Or, exp.Not, exp.In, exp.Like, exp.ILike,
                             exp.RegexpLike, exp.RegexpILike, exp.Exists, exp.Is, exp.Between,
                             exp.Any, exp.All, exp.Escape, exp.SimilarTo)):
            for c in node.iter_expressions():
                self.type_of(c)
            return BOOL
        if isinstance(node, exp.If):
            for child in node.iter_expressions():
                self.type_of(child)
            return self.type_of(node.args["true"])
        if isinstance(node, exp.Case):
            for part in node.iter_expressions():
                self.type_of(part)
            cands = [self.type_of(i.args["true"]) for i in node.args.get("ifs", [])]
            if node.args.get("default") is not None:
                cands.append(self.type_of(node.args["default"]))
            for cand in cands:
                if cand.name != "unknown":
                    return PgT(cand.name, cand.typmod)
            return UNKNOWN
        if isinstance(node, exp.Subquery):
            inner = node.unnest()
            if isinstance(inner, exp.Query) and inner.selects:
                return self.type_of(inner.selects[0])
            return TEXT
        if isinstance(node, exp.Array):
            exprs = node.expressions
            if len(exprs) == 1 and isinstance(exprs[0], (exp.Select, exp.Subquery)):
                q = exprs[0].unnest() if isinstance(exprs[0], exp.Subquery) else exprs[0]
                et = self.type_of(q.selects[0]) if isinstance(q, exp.Query) and q.selects \
                    else TEXT
                return PgT(array_of(et.name))
            types = [self.type_of(e) for e in exprs]
            known = [t for t in types if t.name != "unknown"]
            return PgT(array_of(known[0].name if known else "text"))
        if isinstance(node, exp.Bracket):
            return PgT(elem_type(self.type_of(node.this).name))
        if isinstance(node, exp.DPipe):
            ta, tb = self.type_of(node.this), self.type_of(node.expression)
            if is_array(ta.name):
                return PgT(ta.name)
            if is_array(tb.name):
                return PgT(tb.name)
            return TEXT
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)):
            ta, tb = self.type_of(node.this), self.type_of(node.expression)
            names = {ta.name, tb.name}
            if names & {"float8", "float4"}:
                return PgT("float8")
            if "numeric" in names:
                return PgT("numeric")
            if "int8" in names:
                return INT8
            if names & {"int2", "int4", "oid", "unknown"}:
                return INT4 if ta.name != "oid" else PgT("oid")
            return ta
        if isinstance(node, exp.Neg):
            return self.type_of(node.this)
        if isinstance(node, exp.Window):
            return self.type_of(node.this)
        if isinstance(node, exp.RowNumber):
            return INT8
        if isinstance(node, exp.Count):
            return INT8
        if isinstance(node, (exp.Max, exp.Min)):
            return self.type_of(node.this)
        if isinstance(node, exp.Sum):
            st = self.type_of(node.this).name
            return INT8 if st in ("int2", "int4") else PgT("numeric") if st == "int8" \
                else PgT(st)
        if isinstance(node, exp.Avg):
            return PgT("numeric")
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            argt = [self.type_of(a).name for a in node.expressions]
            if name == "pggw_ordered_agg":
                kind = node.expressions[0].name if node.expressions else "array"
                return PgT(array_of(argt[1])) if kind == "array" else TEXT
            if name == "pgf_series":
                return PgT("_int8" if "int8" in argt else "_int4")
            if name in ("pggw_srf_elem", "pggw_srf_elem_at"):
                return PgT(elem_type(argt[0]))
            if name in ("pggw_srf_sub", "pggw_srf_sub1"):
                return INT4
            if name == "json_extract":
                return INT4 if argt and argt[0] == "record" else TEXT
            if name == "pggw_srf_record":
                return PgT("record")
            spec = FUNCTIONS.get(name)
            if spec is None:
                if name in ("unnest", "generate_series"):
                    return PgT(elem_type(argt[0]) if name == "unnest" and argt else "int4")
                raise PgError("42883", f"function {name}({', '.join(_arg_sql(a) for a in argt)}) "
                              "does not exist",
                              hint="No function matches the given name and argument types.")
            ret = spec[1]
            rt = ret if isinstance(ret, str) else ret(argt)
            if rt == "unknown":
                rt = "text"
            return PgT(rt)
        if isinstance(node, exp.Trim):
            return TEXT
        if isinstance(node, exp.Star):
            return TEXT
        if isinstance(node, exp.Tuple):
            return PgT("record")
        if isinstance(node, (exp.Query, exp.From, exp.Join, exp.Where, exp.Order, exp.Ordered,
                             exp.Limit, exp.Offset, exp.Group, exp.Having, exp.Table,
                             exp.TableAlias, exp.Identifier, exp.DataType, exp.With, exp.CTE,
                             exp.Unnest, exp.Var, exp.Interval, exp.Kwarg, exp.Distinct)):
            return TEXT
        if isinstance(node, exp.Func):
            raise PgError(FEATURE_NOT_SUPPORTED,
                          f"function {node.sql(dialect='postgres')} is not supported by pggw")
        return TEXT

    def column_type(self, col: exp.Column) -> PgT | None:
        scope = self.scope_for(col)
        name = col.name
        tbl = col.table
        s = scope
        while s is not None:
            r = self._column_in_scope(s, tbl, name)
            if r is not None:
                return r
            s = s.parent
        # an output-column alias (ORDER BY alias)
        if scope is not None and not tbl:
            sel = scope.expression
            if isinstance(sel, exp.Select):
                for p in sel.expressions:
                    if isinstance(p, exp.Alias) and p.alias == name:
                        return self.type_of(p.this)
        return None

    def _column_in_scope(self, s: Scope, tbl: str, name: str) -> PgT | None:
        fts = self.func_tables.get(id(s.expression), {})
        aliases = [tbl] if tbl else self._ordered_sources(s)
        for alias in aliases:
            ft = fts.get(alias)
            if ft is not None:
                if tbl and name == "key":
                    return INT4
                if name == ft.column or (tbl and name == "value"):
                    return self._functable_type(ft)
                continue
            src = s.sources.get(alias)
            if isinstance(src, exp.Table):
                rel = self.relations.get(id(src))
                if rel is None:
                    continue
                c = rel.column(name)
                if c is not None:
                    attnum, typ, mod = c
                    return PgT(typ, mod, rel.oid, attnum)
                if name == "tableoid" and tbl:
                    return PgT("oid")
            elif isinstance(src, Scope):
                t = self._scope_column_type(src, name)
                if t is not None:
                    return t
        return None

    def _scope_column_type(self, src: Scope, name: str) -> PgT | None:
        q = src.expression
        selects = q.selects if isinstance(q, exp.Query) else []
        names = self._alias_columns(src)
        if names:
            if name in names:
                i = names.index(name)
                if i < len(selects):
                    t = self.type_of(selects[i])
                    return PgT(t.name, t.typmod)
            return None
        for p in selects:
            if p.alias_or_name == name:
                t = self.type_of(p)
                return PgT(t.name, t.typmod, t.table_oid, t.attnum)
        return None

    # -- parameters ---------------------------------------------------------------------------
    def infer_params(self, tree: exp.Expr) -> None:
        for node in tree.find_all(exp.Parameter, exp.Placeholder):
            n = _param_number(node)
            if n is None:
                continue
            self.nparams = max(self.nparams, n)
            t = self._param_context_type(node)
            if t is not None and n not in self.param_types:
                self.param_types[n] = t
        for n in range(1, self.nparams + 1):
            self.param_types.setdefault(n, "unknown")

    def _param_context_type(self, node: exp.Expr) -> str | None:
        parent = node.parent
        while isinstance(parent, exp.Paren):
            node, parent = parent, parent.parent
        if isinstance(parent, exp.Cast):
            return typname_for(parent.to.sql(dialect="postgres"))
        if isinstance(parent, _CMP):
            other = parent.expression if parent.this is node else parent.this
            if isinstance(other, exp.Any | exp.All):
                t = self.type_of(other.this)
                return elem_type(t.name) if is_array(t.name) else t.name
            t = self.type_of(other)
            return None if t.name == "unknown" else t.name
        if isinstance(parent, exp.In):
            t = self.type_of(parent.this)
            return None if t.name == "unknown" else t.name
        if isinstance(parent, (exp.Like, exp.ILike)):
            return "text"
        if isinstance(parent, exp.Any | exp.All):
            cmp = parent.parent
            if isinstance(cmp, _CMP):
                other = cmp.this if cmp.expression is parent else cmp.expression
                t = self.type_of(other)
                return array_of(t.name) if t.name != "unknown" else "_text"
        if isinstance(parent, exp.Anonymous):
            return "text"
        if isinstance(parent, (exp.Limit, exp.Offset)):
            return "int8"
        return None

    # -- rewriting -----------------------------------------------------------------------------
    def rewrite(self, tree: exp.Expr) -> exp.Expr:
        nodes = [n for n in tree.walk() if isinstance(n, exp.Expr)]
        root = tree
        for node in reversed(nodes):
            new = self._rewrite_node(node)
            if new is not None and new is not node:
                if id(node) in self.types:
                    self.types[id(new)] = self.types[id(node)]
                if node is root:
                    root = new
                else:
                    node.replace(new)
        return root

    def _t(self, node: exp.Expr) -> str:
        t = self.types.get(id(node))
        return t.name if t is not None else "text"

    def _rewrite_node(self, node: exp.Expr) -> exp.Expr | None:  # noqa: C901
        if isinstance(node, exp.Table):
            rel = self.relations.get(id(node))
            if rel is not None:
                alias = node.alias or node.name
                alias_node = node.args.get("alias")
                cols = alias_node.columns if alias_node is not None else []
                new = exp.Table(this=exp.to_identifier(rel.sqlite_name, quoted=True))
                new.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True),
                                                columns=cols))
                return new
            ft = node.meta.get("pggw_functable")
            if ft is not None:
                return self._functable_sql(node, ft[1])
            return None
        if isinstance(node, exp.Unnest):
            ft = node.meta.get("pggw_functable")
            if ft is not None:
                return self._functable_sql(node, ft[1])
            return None
        if isinstance(node, exp.Column):
            return self._rewrite_column(node)
        if isinstance(node, (exp.Parameter, exp.Placeholder)):
            n = _param_number(node)
            if n is None:
                raise PgError(SYNTAX_ERROR, f"unsupported parameter {node.sql()}")
            ph = exp.Var(this=f"?{n}")
            t = self.param_types.get(n, "unknown")
            if isinstance(node.parent, exp.Cast):
                return ph
            return self._coerce_value(ph, t)
        if isinstance(node, exp.Cast):
            return self._rewrite_cast(node)
        if isinstance(node, (exp.RegexpLike, exp.RegexpILike)):
            fname = "pgf_regex" if isinstance(node, exp.RegexpLike) else "pgf_regex_i"
            return _anon(fname, [node.this, node.expression])
        if isinstance(node, exp.ILike):
            like = exp.Like(this=_anon("lower", [node.this]),
                            expression=_anon("lower", [node.expression]))
            return exp.Escape(this=like, expression=exp.Literal.string("\\"))
        if isinstance(node, exp.Like) and not isinstance(node.parent, exp.Escape):
            if isinstance(node.expression, exp.Any | exp.All):
                return self._like_any(node)
            return exp.Escape(this=node.copy(), expression=exp.Literal.string("\\"))
        if isinstance(node, _CMP):
            return self._rewrite_cmp(node)
        if isinstance(node, exp.In):
            lt = self._t(node.this)
            if lt in NUMERIC_TYPES or lt == "bool":
                node.set("expressions", [self._coerce_literal(e, lt)
                                         for e in node.expressions])
            return None
        if isinstance(node, exp.Bracket):
            bt = self.types.get(id(node.this))
            vector = bt is not None and bt.name in VECTOR_TYPES
            raw = node.expressions[0] if node.expressions else exp.Literal.number(0)
            lit = _int_literal(raw)
            if lit is not None:
                # sqlglot already shifted a literal PostgreSQL subscript to 0-based
                pos: exp.Expr = exp.Literal.number(lit + (1 if vector else 0))
            elif vector:
                pos = exp.Paren(this=raw)
            else:
                pos = exp.Paren(this=exp.Sub(this=exp.Paren(this=raw),
                                             expression=exp.Literal.number(1)))
            path = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("$["), expression=pos),
                             expression=exp.Literal.string("]"))
            return _anon("json_extract", [node.this, path])
        if isinstance(node, exp.DPipe):
            a, b = self._t(node.this), self._t(node.expression)
            if is_array(a) or is_array(b):
                return _anon("pgf_array_cat", [self._as_array(node.this),
                                               self._as_array(node.expression)])
            return None
        if isinstance(node, exp.Array):
            exprs = node.expressions
            if len(exprs) == 1 and isinstance(exprs[0], (exp.Select, exp.Subquery)):
                q = exprs[0].unnest() if isinstance(exprs[0], exp.Subquery) else exprs[0]
                if not isinstance(q, exp.Query):
                    raise PgError(FEATURE_NOT_SUPPORTED, "this ARRAY() form is not supported")
                return self._array_subquery(q)
            if not exprs:
                return exp.Literal.string("[]")
            return _anon("json_array", exprs)
        if isinstance(node, exp.Anonymous):
            return self._rewrite_func(node)
        if isinstance(node, exp.Boolean):
            return exp.Literal.number(1 if node.this else 0)
        if isinstance(node, exp.Subquery) and isinstance(node.parent, exp.Any | exp.All):
            return None
        return None

    def _functable_sql(self, node: exp.Expr, info: _FuncTable) -> exp.Expr:
        fname, args = _functable_call(node)
        if fname in ("pggw_srf_each", "unnest"):
            if len(args) != 1:
                raise PgError(FEATURE_NOT_SUPPORTED, "unnest() of several arrays is not "
                              "supported by pggw")
            src = self._as_array(args[0])
        else:
            src = _anon("pgf_series", args)
        tbl = exp.Table(this=_anon("json_each", [src]))
        tbl.set("alias", exp.TableAlias(this=exp.to_identifier(info.alias, quoted=True)))
        return tbl

    def _rewrite_column(self, col: exp.Column) -> exp.Expr | None:
        scope = self.scope_for(col)
        if col.name == "tableoid" and col.table and scope is not None:
            src = scope.sources.get(col.table)
            rel = self.relations.get(id(src)) if isinstance(src, exp.Table) else None
            if rel is not None and rel.column("tableoid") is None:
                return exp.Literal.number(rel.oid)  # the system column
        s = scope
        while s is not None:
            fts = self.func_tables.get(id(s.expression), {})
            if col.table:
                ft = fts.get(col.table)
                if ft is not None:
                    if col.name == "key":
                        return exp.column("key", table=ft.alias, quoted=True)
                    return exp.column("value", table=ft.alias, quoted=True)
                if col.table in s.sources:
                    break
            else:
                for ft in fts.values():
                    if col.name == ft.column and not self._has_real_column(s, col.name):
                        return exp.column("value", table=ft.alias, quoted=True)
            s = s.parent
        return None

    def _has_real_column(self, s: Scope, name: str) -> bool:
        for src in s.sources.values():
            if isinstance(src, exp.Table):
                rel = self.relations.get(id(src))
                if rel and rel.column(name):
                    return True
        return False

    def _coerce_value(self, e: exp.Expr, t: str) -> exp.Expr:
        if t in INT_TYPES or t in REG_TYPES:
            return _anon("pgf_int_in", [e])
        if t == "bool":
            return _anon("pgf_bool_in", [e])
        if is_array(t):
            return _anon("pgf_array_in", [e])
        return e

    def _as_array(self, e: exp.Expr) -> exp.Expr:
        if isinstance(e, exp.Literal) and e.is_string:
            return exp.Literal.string(array_in(e.name) or "[]")
        if isinstance(e, exp.Null):
            return e
        return e

    def _coerce_literal(self, e: exp.Expr, t: str) -> exp.Expr:
        if not (isinstance(e, exp.Literal) and e.is_string):
            return e
        v = e.name
        if t == "bool":
            low = v.strip().lower()
            if low in ("t", "true", "y", "yes", "on", "1"):
                return exp.Literal.number(1)
            if low in ("f", "false", "n", "no", "off", "0"):
                return exp.Literal.number(0)
            raise PgError("22P02", f'invalid input syntax for type boolean: "{v}"')
        if t in INT_TYPES or t in REG_TYPES:
            if re.fullmatch(r"\s*-?\d+\s*", v):
                return exp.Literal.number(int(v))
            if t == "regclass":
                return _anon("pgf_regclass_in", [e])
            if t == "regtype":
                return _anon("pgf_regtype_in", [e])
            if t in INT_TYPES:
                raise PgError("22P02", f'invalid input syntax for type {t}: "{v}"')
        if t in ("float4", "float8", "numeric"):
            try:
                return exp.Literal.number(float(v))
            except ValueError:
                raise PgError("22P02", f'invalid input syntax for type {t}: "{v}"') from None
        if is_array(t):
            return exp.Literal.string(array_in(v) or "[]")
        return e

    def _rewrite_cmp(self, node: exp.Expr) -> exp.Expr | None:
        left, right = node.this, node.expression
        if isinstance(right, exp.Any | exp.All) or isinstance(left, exp.Any | exp.All):
            return self._rewrite_any(node)
        lt, rt = self._t(left), self._t(right)
        if rt == "unknown" and lt != "unknown":
            node.set("expression", self._coerce_literal(right, lt))
        elif lt == "unknown" and rt != "unknown":
            node.set("this", self._coerce_literal(left, rt))
        return None

    def _any_source(self, arr: exp.Expr) -> tuple[list[exp.Expr] | None,
                                                        exp.Expr | None]:
        inner = arr.this if isinstance(arr, exp.Any | exp.All) else arr
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Anonymous) and inner.name == "json_array":
            return list(inner.expressions), None
        if isinstance(inner, (exp.Select, exp.Subquery)):
            return None, inner
        return None, exp.select("value").from_(exp.Table(this=_anon("json_each", [
            self._as_array(inner)])))

    def _rewrite_any(self, node: exp.Expr) -> exp.Expr:
        left, right = node.this, node.expression
        if isinstance(left, exp.Any | exp.All):
            left, right = right, left
        is_all = isinstance(right, exp.All)
        items, query = self._any_source(right)
        if isinstance(node, exp.EQ) and not is_all:
            if items is not None:
                items = [self._coerce_literal(i, self._t(left)) for i in items]
                return exp.In(this=left, expressions=items)
            return exp.In(this=left, query=_subq(query))
        if isinstance(node, exp.NEQ) and is_all:
            if items is not None:
                return exp.Not(this=exp.In(this=left, expressions=items))
            return exp.Not(this=exp.In(this=left, query=_subq(query)))
        raise PgError(FEATURE_NOT_SUPPORTED,
                      f"{node.key.upper()} {'ALL' if is_all else 'ANY'} (array) is not supported "
                      "by pggw; use = ANY or <> ALL")

    def _like_any(self, node: exp.Like) -> exp.Expr:
        items, _ = self._any_source(node.expression)
        if items is None:
            raise PgError(FEATURE_NOT_SUPPORTED, "LIKE ANY over a non-literal array is not "
                          "supported by pggw")
        conds: list[exp.Expr] = [
            exp.Escape(this=exp.Like(this=node.this.copy(), expression=i),
                       expression=exp.Literal.string("\\")) for i in items]
        out = conds[0]
        for c in conds[1:]:
            out = exp.Or(this=out, expression=c)
        return exp.Paren(this=out)

    def _array_subquery(self, q: exp.Query) -> exp.Expr:
        q = q.copy()
        if not isinstance(q, exp.Select) or len(q.expressions) != 1:
            raise PgError(FEATURE_NOT_SUPPORTED, "ARRAY(subquery) with several columns is not "
                          "supported by pggw")
        proj = q.expressions[0]
        inner = proj.this if isinstance(proj, exp.Alias) else proj
        q.set("expressions", [exp.alias_(inner, "pggw_v", quoted=True)])
        outer = exp.select(exp.func("coalesce", _anon("json_group_array", [
            exp.column("pggw_v", quoted=True)]), exp.Literal.string("[]"))).from_(
            exp.Subquery(this=q))
        return exp.Subquery(this=outer)

    def _rewrite_cast(self, node: exp.Cast) -> exp.Expr:
        target = self._t(node)
        src_t = self._t(node.this)
        val: exp.Expr = node.this
        if isinstance(val, exp.Literal) and val.is_string:
            return self._cast_literal(val, target)
        if target in REG_TYPES:
            if src_t in TEXT_TYPES:
                fn = {"regclass": "pgf_regclass_in", "regtype": "pgf_regtype_in",
                      "regproc": "pgf_regproc_in", "regprocedure": "pgf_regproc_in",
                      "regnamespace": "pgf_regnamespace_in",
                      "regrole": "pgf_regrole_in"}.get(target, "pgf_int_in")
                return _anon(fn, [val])
            return val
        if target in ("text", "varchar", "name", "bpchar", "char"):
            if src_t in REG_TYPES:
                out_fn = {"regclass": "pgf_regclass_out", "regtype": "pgf_regtype_out",
                          "regproc": "pgf_regproc_out", "regprocedure": "pgf_regproc_out",
                          "regnamespace": "pgf_regnamespace_out",
                          "regrole": "pgf_regrole_out"}.get(src_t)
                if out_fn:
                    return _anon(out_fn, [val])
            if src_t == "bool":
                return _anon("pgf_bool_out", [val])
            if src_t in VECTOR_TYPES:
                return _anon("pgf_vector_out", [val])
            if is_array(src_t):
                return _anon("pgf_array_out", [val])
            return exp.Cast(this=val, to=exp.DataType.build("TEXT"))
        if target in INT_TYPES:
            if src_t in INT_TYPES or src_t in REG_TYPES:
                return val
            if src_t == "bool":
                return val
            return _anon("pgf_int_in", [val])
        if target == "bool":
            if src_t == "bool":
                return val
            return _anon("pgf_bool_in", [val])
        if target in ("float4", "float8", "numeric"):
            return exp.Cast(this=val, to=exp.DataType.build("REAL"))
        if is_array(target):
            if is_array(src_t):
                return val
            return _anon("pgf_array_in", [val])
        return val

    def _cast_literal(self, lit: exp.Literal, target: str) -> exp.Expr:
        v = lit.name
        if target == "regclass":
            oid = self.db.regclass_in(v, self.search_path)
            if oid is None:
                raise PgError("42P01", f'relation "{v}" does not exist')
            return exp.Literal.number(oid)
        if target == "regtype":
            toid = self.db.regtype_in(v)
            if toid is None:
                raise PgError("42704", f'type "{v}" does not exist')
            return exp.Literal.number(toid)
        if target in REG_TYPES:
            return _anon({"regproc": "pgf_regproc_in", "regprocedure": "pgf_regproc_in",
                          "regnamespace": "pgf_regnamespace_in",
                          "regrole": "pgf_regrole_in"}.get(target, "pgf_int_in"), [lit])
        if target in INT_TYPES or target in ("bool", "float4", "float8", "numeric") or \
                is_array(target):
            return self._coerce_literal(lit, target)
        return lit

    def _rewrite_func(self, node: exp.Anonymous) -> exp.Expr:
        name = node.name.lower()
        if isinstance(node.parent, (exp.Table, exp.Unnest)):
            return node  # the FROM item is rewritten as a whole
        if name == "pggw_ordered_agg":
            return _anon("pgf_ordered_agg", list(node.expressions))
        if name == "pggw_srf_elem_at":
            key = exp.column("key", table="pggw_srf", quoted=True)
            path = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("$["), expression=key),
                             expression=exp.Literal.string("]"))
            return _anon("json_extract", [self._as_array(node.expressions[0]), path])
        if name in ("pggw_srf_elem", "pggw_srf_sub", "pggw_srf_sub1", "pggw_srf_record"):
            key = exp.column("key", table="pggw_srf", quoted=True)
            val = exp.column("value", table="pggw_srf", quoted=True)
            vector = self._t(node.expressions[0]) in VECTOR_TYPES if node.expressions else False
            if name == "pggw_srf_elem":
                return val
            if name == "pggw_srf_sub":
                return exp.Add(this=key, expression=exp.Literal.number(0 if vector else 1))
            if name == "pggw_srf_sub1":
                return exp.Add(this=key, expression=exp.Literal.number(1))
            return _anon("json_object", [exp.Literal.string("x"), val, exp.Literal.string("n"),
                                         exp.Add(this=key, expression=exp.Literal.number(1))])
        if name.startswith("pgf_") or name in ("json_each", "json_array", "json_extract",
                                               "json_group_array", "lower", "coalesce"):
            return node
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise PgError("42883", f"function {name}() does not exist")
        target = spec[0] or name
        args = list(node.expressions)
        if args and name in ("array_to_string", "array_upper", "array_lower", "array_length",
                             "cardinality", "array_position", "array_cat", "array_append"):
            args[0] = self._as_array(args[0])
        return _anon(target, args)


def _functable_call(node: exp.Expr) -> tuple[str, list[exp.Expr]]:
    if isinstance(node, exp.Unnest):
        return "unnest", list(node.expressions)
    f = node.this
    if isinstance(f, exp.Explode):
        return "unnest", [f.this]
    if isinstance(f, (exp.GenerateSeries, exp.ExplodingGenerateSeries)):
        return "generate_series", [a for a in (f.args.get("start"), f.args.get("end"),
                                              f.args.get("step")) if a is not None]
    if isinstance(f, exp.Anonymous):
        return f.name.lower(), list(f.expressions)
    raise PgError(FEATURE_NOT_SUPPORTED,
                  f"{node.sql(dialect='postgres')} in FROM is not supported by pggw")


_SRF_NAMES = {"unnest", "generate_subscripts", "_pg_expandarray", "generate_series"}


def _srf_call(e: exp.Expr) -> tuple[str, list[exp.Expr]] | None:
    if isinstance(e, exp.Dot) and isinstance(e.expression, exp.Anonymous):
        e = e.expression
    if isinstance(e, exp.Explode):
        return "unnest", [e.this]
    if isinstance(e, exp.Unnest):
        return "unnest", list(e.expressions)
    if isinstance(e, (exp.GenerateSeries, exp.ExplodingGenerateSeries)):
        return "generate_series", [a for a in (e.args.get("start"), e.args.get("end"),
                                              e.args.get("step")) if a is not None]
    if isinstance(e, exp.Anonymous) and e.name.lower() in _SRF_NAMES:
        return e.name.lower(), list(e.expressions)
    return None


def _int_literal(e: exp.Expr) -> int | None:
    if isinstance(e, exp.Literal) and not e.is_string and str(e.this).isdigit():
        return int(e.this)
    if isinstance(e, exp.Neg):
        inner = _int_literal(e.this)
        return None if inner is None else -inner
    return None


def _ordered_agg(node: exp.ArrayAgg | exp.GroupConcat) -> exp.Expr:
    """array_agg(x ORDER BY …) / string_agg(x, sep ORDER BY …): a Python aggregate that sorts
    (SQLite before 3.44 has no ORDER BY inside aggregates)."""
    order = node.this
    kind = "array" if isinstance(node, exp.ArrayAgg) else "string"
    sep = node.args.get("separator") if kind == "string" else None
    dirs = "".join("d" if o.args.get("desc") else "a" for o in order.expressions)
    keys = [o.this for o in order.expressions]
    return _anon("pggw_ordered_agg", [exp.Literal.string(kind), order.this,
                                      sep if sep is not None else exp.Null(),
                                      exp.Literal.string(dirs), *keys])


def _find_srfs(sel: exp.Select) -> list[tuple[exp.Expr, str, list[exp.Expr]]]:
    found: list[tuple[exp.Expr, str, list[exp.Expr]]] = []
    for proj in sel.expressions:
        for node in proj.walk():
            if isinstance(node, exp.Expr):
                call = _srf_call(node)
                if call is not None and node.find_ancestor(exp.Select) is sel:
                    found.append((node, *call))
    return found


def _contains(root: exp.Expr, node: exp.Expr) -> bool:
    cur: exp.Expr | None = node
    while cur is not None:
        if cur is root:
            return True
        cur = cur.parent
    return False


def _srf_colname(proj: exp.Expr) -> str:
    e = proj.expression if isinstance(proj, exp.Dot) else proj
    if isinstance(proj, exp.Dot) and isinstance(proj.this, exp.Paren):
        return proj.name.lower()  # (f(x)).field
    call = _srf_call(e)
    if call is not None:
        return call[0]
    return _colname(proj)


def _rewrite_select_srfs(sel: exp.Select) -> None:
    """Set-returning functions in a select list: run them in lockstep over one json_each."""
    found = _find_srfs(sel)
    if not found:
        return
    for i, proj in enumerate(sel.expressions):
        if not isinstance(proj, exp.Alias) and any(
                n is proj or proj in list(n.iter_expressions()) or
                n.find_ancestor(exp.Alias, exp.Select) is None and _contains(proj, n)
                for n, _f, _a in found):
            name = _srf_colname(proj)
            sel.expressions[i].replace(exp.alias_(proj.copy(), name, quoted=True))
    found = [(n, f, a) for n, f, a in _find_srfs(sel)]
    _, fname, args = found[0]
    base: exp.Expr
    if fname == "generate_series":
        base = _anon("pgf_series", [a.copy() for a in args])
    else:
        if not args:
            raise PgError(FEATURE_NOT_SUPPORTED, f"{fname}() without arguments")
        base = args[0].copy()
    base_sql = base.sql()
    for node, name, fargs in found:
        if name == "generate_series":
            new: exp.Expr = exp.column("value", table="pggw_srf", quoted=True)
        elif fargs and fargs[0].sql() != base_sql:
            if name != "unnest":
                raise PgError(FEATURE_NOT_SUPPORTED, "set-returning functions over different "
                              "arrays in one select list are not supported by pggw")
            new = _anon("pggw_srf_elem_at", [fargs[0]])
        elif name == "unnest":
            new = _anon("pggw_srf_elem", [fargs[0]])
        elif name == "generate_subscripts":
            new = _anon("pggw_srf_sub", [fargs[0]])
        else:  # _pg_expandarray
            new = _anon("pggw_srf_record", [fargs[0]])
            parent = node.parent
            if isinstance(parent, exp.Paren) and isinstance(parent.parent, exp.Dot):
                field_name = parent.parent.name.lower()
                inner = _anon("pggw_srf_elem" if field_name == "x" else "pggw_srf_sub1",
                              [fargs[0]])
                parent.parent.replace(inner)
                continue
        node.replace(new)
    srf = exp.Table(this=_anon("pggw_srf_each", [base]),
                    alias=exp.TableAlias(this=exp.to_identifier("pggw_srf")))
    if sel.args.get("from_") is None and sel.args.get("from") is None:
        sel.set("from_", exp.From(this=srf))
    else:
        sel.append("joins", exp.Join(this=srf))


def _order_by_output_names(sel: exp.Select) -> None:
    """ORDER BY name means the output column first (PostgreSQL), so make it positional."""
    order = sel.args.get("order")
    if order is None:
        return
    names = [_colname(p) for p in sel.expressions]
    for o in order.expressions:
        c = o.this
        if isinstance(c, exp.Column) and not c.table:
            n = c.this.this if c.this.quoted else c.name.lower()
            if names.count(n) == 1:
                c.replace(exp.Literal.number(names.index(n) + 1))


def _subq(q: exp.Expr | None) -> exp.Expr:
    if q is None:
        raise PgError(FEATURE_NOT_SUPPORTED, "this ANY/ALL form is not supported by pggw")
    return q if isinstance(q, exp.Subquery) else exp.Subquery(this=q)


def _from_items(sel: exp.Expr) -> list[exp.Expr]:
    items: list[exp.Expr] = []
    out: list[exp.Expr] = []
    if not isinstance(sel, exp.Select):
        return items
    f = sel.args.get("from_") or sel.args.get("from")
    if f is not None:
        items.append(f.this)
        items.extend(f.expressions if hasattr(f, "expressions") else [])
    for j in sel.args.get("joins") or []:
        items.append(j.this)
    for it in items:
        if isinstance(it, (exp.Table, exp.Unnest, exp.Subquery)):
            out.append(it)
    return out


def _param_number(node: exp.Expr) -> int | None:
    v = node.this
    if isinstance(v, exp.Literal):
        v = v.this
    if isinstance(v, exp.Expr):
        v = v.name
    try:
        return int(str(v))
    except ValueError:
        return None


def _constant_false(cond: exp.Expr) -> bool:
    try:
        s = simplify(cond.copy())
    except Exception:  # noqa: BLE001 - simplify is best-effort
        return False
    if isinstance(s, exp.Boolean):
        return not s.this
    if isinstance(s, exp.Null):
        return True
    if isinstance(s, exp.Literal) and not s.is_string:
        try:
            return float(s.this) == 0
        except ValueError:
            return False
    return False


def _arg_sql(t: str) -> str:
    from pggw.sql.catalog.functions import _SQL_NAMES

    if t.startswith("_"):
        return _SQL_NAMES.get(t[1:], t[1:]) + "[]"
    return _SQL_NAMES.get(t, t)


def _colname(p: exp.Expr) -> str:
    """PostgreSQL's FigureColname."""
    if isinstance(p, exp.Alias):
        ident = p.args.get("alias")
        if isinstance(ident, exp.Identifier):
            return str(ident.this) if ident.quoted else str(ident.this).lower()
        return p.alias.lower()
    name, _strength = _figure(p)
    return name or "?column?"


def _figure(p: exp.Expr) -> tuple[str | None, int]:
    """(name, strength) as FigureColnameInternal: 2 for column/function names, 1 for type names."""
    if isinstance(p, exp.Column):
        ident = p.this
        if isinstance(ident, exp.Identifier):
            return (str(ident.this) if ident.quoted else str(ident.this).lower()), 2
        return p.name, 2
    if isinstance(p, exp.Cast):
        name, strength = _figure(p.this)
        if strength <= 1:
            t = typname_for(p.to.sql(dialect="postgres"))
            t = t[1:] if t and t.startswith("_") else t
            return t, 1
        return name, strength
    if isinstance(p, exp.Anonymous):
        return p.name.lower(), 2
    if isinstance(p, exp.Case):
        default = p.args.get("default")
        if default is not None:
            name, strength = _figure(default)
            if strength > 1:
                return name, strength
        return "case", 1
    if isinstance(p, exp.Exists):
        return "exists", 2
    if isinstance(p, exp.Array):
        return "array", 2
    if isinstance(p, exp.Subquery):
        inner = p.unnest()
        if isinstance(inner, exp.Query) and inner.selects:
            n = _colname(inner.selects[0])
            return (None, 0) if n == "?column?" else (n, 2)
        return None, 0
    if isinstance(p, (exp.Paren, exp.Bracket, exp.Window)):
        return _figure(p.this)
    if isinstance(p, exp.RowNumber):
        return "row_number", 2
    if isinstance(p, exp.Count):
        return "count", 2
    if isinstance(p, (exp.Sum, exp.Max, exp.Min, exp.Avg)):
        return p.key.lower(), 2
    if isinstance(p, exp.Trim):
        return "btrim", 2
    return None, 0
