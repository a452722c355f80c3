"""The result of a statement the sql layer answers itself (catalog queries, SHOW, SET …)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResultColumn:
    """One field of a RowDescription."""

    name: str
    type_oid: int
    type_size: int = -1
    type_modifier: int = -1
    table_oid: int = 0
    column_attnum: int = 0


@dataclass
class Result:
    """Columns (empty for statements without rows), rows of Python values, and the command tag."""

    columns: list[ResultColumn] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    tag: str = "SELECT 0"
