"""Property tests: the fast paths agree with the general ones."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pggw.sql import lexer, write
from pggw.sql.write import InsertPlan, parse_write
from pggw.tables.model import Column, Op, Table
from pggw.tables.registry import Registry
from pggw.wire import types as T

T3 = Table(
    name="t3", resource="x",
    columns=(Column("a", T.TEXT), Column("b", T.FLOAT8), Column("c", T.INT8)),
    key=(), ops=frozenset({Op.INSERT}),
)
REG = Registry([T3])

text_values = st.text(alphabet=st.sampled_from(list("ab ;'\"$\\\n-/*,()æ")), max_size=8)


def literal(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "false"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


values = st.one_of(st.none(), st.booleans(), text_values,
                   st.integers(min_value=-(2**63), max_value=2**63 - 1),
                   st.floats(allow_nan=False, allow_infinity=False))
rows = st.lists(st.tuples(values, values, values), min_size=1, max_size=6)
spacing = st.sampled_from(["", " ", "\n", "  \t", " /* c */ ", " -- x\n"])


def build(rs: list[tuple[Any, Any, Any]], sp: str) -> str:
    body = ",".join(f"({sp}{literal(a)},{sp}{literal(b)}{sp},{literal(c)}{sp})"
                    for a, b, c in rs)
    return f"INSERT INTO t3 (a, b, c) VALUES {body}"


@settings(max_examples=300, deadline=None)
@given(rs=rows, sp=spacing)
def test_values_fast_path_equals_token_parser(rs: list[tuple[Any, Any, Any]], sp: str) -> None:
    sql = build(rs, sp)
    fast = parse_write(sql, REG)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(write, "_VALUE_RE", re.compile(r"(?!x)x"))
        slow = parse_write(sql, REG)
    assert isinstance(fast, InsertPlan) and isinstance(slow, InsertPlan)
    assert fast.values == slow.values
    expected = tuple(list(col) for col in zip(*rs, strict=True))
    assert fast.values == expected


pieces = st.lists(st.sampled_from([
    "select 1 ", ";", " ", "\n", "'a;b'", "'it''s'", "E'x\\';y'", '"q;"', "$$;$$", "$t$ ; $t$",
    "-- c;\n", "a$b$", "$1", "e", "E", "-", "/", "x-y", "1/2", "''", "';'",
]), max_size=12)


@settings(max_examples=500, deadline=None)
@given(ps=pieces)
def test_fast_split_equals_token_splitter(ps: list[str]) -> None:
    sql = "".join(ps)
    assert lexer.split_statements(sql) == lexer._split_slow(sql, True)
