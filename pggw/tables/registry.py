"""The registry: every table the gateway exposes, looked up by name.

Built-in tables are defined in :mod:`pggw.tables.builtin`; custom tables
(per user, from the management API) are added at run time through a
:class:`Catalog` view that layers them over the built-ins.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

from pggw.tables.model import Table

# OIDs for user tables start where PostgreSQL's own user OIDs start.
FIRST_TABLE_OID = 16384


def table_oid(schema: str, name: str) -> int:
    """A stable OID for a table, the same across restarts and replicas."""
    return FIRST_TABLE_OID + (zlib.crc32(f"{schema}.{name}".encode()) % 1_000_000) * 8


class Registry(Mapping[str, Table]):
    """An immutable name → table mapping, with lookups that accept SQL spellings."""

    def __init__(self, tables: Iterable[Table]) -> None:
        self._tables: dict[str, Table] = {}
        for t in tables:
            if not t.oid:
                object.__setattr__(t, "oid", table_oid(t.schema, t.name))
            self._tables[t.name] = t

    def __getitem__(self, name: str) -> Table:
        return self._tables[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def find(self, name: str, schema: str | None = None) -> Table | None:
        """Look up ``name`` (already unquoted/case-folded by the caller) in ``schema``."""
        t = self._tables.get(name)
        if t is None or (schema is not None and schema != t.schema):
            return None
        return t

    def with_tables(self, extra: Iterable[Table]) -> Registry:
        return Registry([*self._tables.values(), *extra])


def builtin_registry() -> Registry:
    from pggw.tables.builtin import BUILTIN_TABLES

    return Registry(BUILTIN_TABLES)
