"""Built-in PostgreSQL types: OIDs, names, lengths and array OIDs (from pg_type.dat)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PgType:
    oid: int
    name: str  # pg_type.typname
    sql_name: str  # format_type() spelling, e.g. "character varying"
    typlen: int  # -1 for varlena
    array_oid: int
    category: str  # pg_type.typcategory
    typalign: str = "i"
    element_oid: int = 0  # for array types

    @property
    def is_array(self) -> bool:
        return self.element_oid != 0


_BASE = [
    # oid, typname, format_type name, typlen, array oid, category, align
    (16, "bool", "boolean", 1, 1000, "B", "c"),
    (17, "bytea", "bytea", -1, 1001, "U", "i"),
    (18, "char", '"char"', 1, 1002, "Z", "c"),
    (19, "name", "name", 64, 1003, "S", "c"),
    (20, "int8", "bigint", 8, 1016, "N", "d"),
    (21, "int2", "smallint", 2, 1005, "N", "s"),
    (23, "int4", "integer", 4, 1007, "N", "i"),
    (24, "regproc", "regproc", 4, 1008, "N", "i"),
    (25, "text", "text", -1, 1009, "S", "i"),
    (26, "oid", "oid", 4, 1028, "N", "i"),
    (114, "json", "json", -1, 199, "U", "i"),
    (700, "float4", "real", 4, 1021, "N", "i"),
    (701, "float8", "double precision", 8, 1022, "N", "d"),
    (705, "unknown", "unknown", -2, 0, "X", "c"),
    (1042, "bpchar", "character", -1, 1014, "S", "i"),
    (1043, "varchar", "character varying", -1, 1015, "S", "i"),
    (1082, "date", "date", 4, 1182, "D", "i"),
    (1083, "time", "time without time zone", 8, 1183, "D", "d"),
    (1114, "timestamp", "timestamp without time zone", 8, 1115, "D", "d"),
    (1184, "timestamptz", "timestamp with time zone", 8, 1185, "D", "d"),
    (1186, "interval", "interval", 16, 1187, "T", "d"),
    (1700, "numeric", "numeric", -1, 1231, "N", "i"),
    (2205, "regclass", "regclass", 4, 2210, "N", "i"),
    (2206, "regtype", "regtype", 4, 2211, "N", "i"),
    (2950, "uuid", "uuid", 16, 2951, "U", "c"),
    (3802, "jsonb", "jsonb", -1, 3807, "U", "i"),
    (2249, "record", "record", -1, 2287, "P", "d"),
    (2278, "void", "void", 4, 0, "P", "i"),
]

TYPES_BY_OID: dict[int, PgType] = {}
TYPES_BY_NAME: dict[str, PgType] = {}

for _oid, _name, _sql, _len, _arr, _cat, _align in _BASE:
    _t = PgType(_oid, _name, _sql, _len, _arr, _cat, _align)
    TYPES_BY_OID[_oid] = _t
    TYPES_BY_NAME[_name] = _t
    if _arr:
        _a = PgType(_arr, "_" + _name, _sql + "[]", -1, 0, "A", _align, element_oid=_oid)
        TYPES_BY_OID[_arr] = _a
        TYPES_BY_NAME[_a.name] = _a

BOOL = TYPES_BY_NAME["bool"]
BYTEA = TYPES_BY_NAME["bytea"]
INT2 = TYPES_BY_NAME["int2"]
INT4 = TYPES_BY_NAME["int4"]
INT8 = TYPES_BY_NAME["int8"]
TEXT = TYPES_BY_NAME["text"]
OID = TYPES_BY_NAME["oid"]
NAME = TYPES_BY_NAME["name"]
CHAR = TYPES_BY_NAME["char"]
JSON = TYPES_BY_NAME["json"]
JSONB = TYPES_BY_NAME["jsonb"]
FLOAT4 = TYPES_BY_NAME["float4"]
FLOAT8 = TYPES_BY_NAME["float8"]
VARCHAR = TYPES_BY_NAME["varchar"]
DATE = TYPES_BY_NAME["date"]
TIMESTAMP = TYPES_BY_NAME["timestamp"]
TIMESTAMPTZ = TYPES_BY_NAME["timestamptz"]
NUMERIC = TYPES_BY_NAME["numeric"]
UNKNOWN = TYPES_BY_NAME["unknown"]
INT8_ARRAY = TYPES_BY_NAME["_int8"]
TEXT_ARRAY = TYPES_BY_NAME["_text"]
VARCHAR_ARRAY = TYPES_BY_NAME["_varchar"]

# Names a SQL cast or a column definition may use, mapped to the type.
ALIASES: dict[str, PgType] = {
    "bigint": INT8, "int8": INT8, "integer": INT4, "int": INT4, "int4": INT4,
    "smallint": INT2, "int2": INT2, "text": TEXT, "varchar": VARCHAR,
    "character varying": VARCHAR, "boolean": BOOL, "bool": BOOL,
    "double precision": FLOAT8, "float8": FLOAT8, "float": FLOAT8, "real": FLOAT4,
    "float4": FLOAT4, "numeric": NUMERIC, "decimal": NUMERIC, "json": JSON, "jsonb": JSONB,
    "timestamptz": TIMESTAMPTZ, "timestamp with time zone": TIMESTAMPTZ,
    "timestamp": TIMESTAMP, "timestamp without time zone": TIMESTAMP, "date": DATE,
    "bytea": BYTEA, "uuid": TYPES_BY_NAME["uuid"], "oid": OID, "name": NAME,
    "regclass": TYPES_BY_NAME["regclass"], "regtype": TYPES_BY_NAME["regtype"],
    "char": TYPES_BY_NAME["bpchar"], "character": TYPES_BY_NAME["bpchar"],
    "bpchar": TYPES_BY_NAME["bpchar"],
}


def lookup(name: str) -> PgType | None:
    """Find a type by a SQL spelling (``bigint``, ``int8``, ``text[]``, ``varchar(32)``)."""
    n = " ".join(name.lower().replace('"', "").split())
    is_array = n.endswith("[]")
    if is_array:
        n = n[:-2].strip()
    if "(" in n:
        n = n[: n.index("(")].strip()
    if n.startswith("pg_catalog."):
        n = n[len("pg_catalog."):]
    t = ALIASES.get(n) or TYPES_BY_NAME.get(n)
    if t is None:
        return None
    return TYPES_BY_OID[t.array_oid] if is_array else t
