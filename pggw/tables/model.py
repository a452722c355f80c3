"""The shape of a table definition: what every module that reads the registry relies on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from pggw.wire.types import PgType


class Op(str, Enum):  # noqa: UP042 (StrEnum would change str(op), which callers may store)
    """What a WAL record asks CDF to do."""

    INSERT = "insert"  # create; CDF rejects existing keys
    UPSERT = "upsert"  # ON CONFLICT (key) DO UPDATE
    INSERT_IGNORE = "insert-ignore"  # ON CONFLICT DO NOTHING
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Column:
    """One column of a gateway table.

    ``cdf`` is the CDF JSON field the column maps to (dotted for nested
    fields, e.g. ``source.name``); ``None`` for columns that only steer the
    mapping (RAW's ``_raw_database``, and ``files.content``, whose bytes are
    uploaded to the file's upload URL).  ``max_length`` is CDF's limit in
    characters for text (for arrays: of each element; the element count is
    ``max_items``), and pggw's limit in bytes for ``bytea``.
    ``min_value``/``max_value`` are inclusive bounds, of each element for
    arrays, and in epoch milliseconds for ``timestamptz`` columns.
    """

    name: str
    type: PgType
    cdf: str | None = None
    required: bool = False
    read_only: bool = False
    max_length: int | None = None
    max_items: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    # The registry table this column refers to by external id / id, e.g. "assets".
    references: str | None = None
    description: str = ""
    # How the column's values are checked beyond type and length, e.g. "metadata",
    # "geojson", "sequence_columns", "labels", "datapoint_value".
    check: str | None = None
    # Added for the built-in registry (all defaulted; nothing above changed):
    # The only values CDF accepts (an enum in the spec), e.g. ("success", "failure", "seen").
    choices: tuple[str, ...] = ()
    # False when CDF's update endpoint cannot change the field (time series ``isString``).
    updatable: bool = True
    # For a reference by external id that CDF does not accept natively
    # (``data_set_external_id``): the column of this table that receives the
    # internal id the external id resolves to (``data_set_id``).  ``cdf`` is
    # then ``None``: the value itself is never sent.
    resolves: str | None = None

    # Type modifier as PostgreSQL reports it (varchar(32) -> 36); -1 when none.
    @property
    def atttypmod(self) -> int:
        if self.type.name in ("varchar", "bpchar") and self.max_length:
            return self.max_length + 4
        return -1


@dataclass(frozen=True)
class Table:
    """A table the gateway exposes; one instance per table, built declaratively."""

    name: str
    resource: str  # CDF resource path under /api/v1/projects/{p}/, e.g. "assets", "timeseries/data"
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # columns of the unique index ON CONFLICT may name
    ops: frozenset[Op] = frozenset({Op.INSERT})
    batch_limit: int = 1000  # CDF's per-request item limit
    description: str = ""
    # A stable OID for pg_class; assigned by the registry.
    oid: int = 0
    schema: str = "public"
    kind: str = "builtin"  # "builtin", "raw" (custom RAW table), "view" (custom DM view table)
    options: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def writable(self) -> Iterable[Column]:
        return (c for c in self.columns if not c.read_only)
