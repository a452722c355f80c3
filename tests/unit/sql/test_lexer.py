"""The tokenizer and statement splitter."""

from __future__ import annotations

import time

import pytest

from pggw.sql.lexer import (
    CAST,
    IDENT,
    NUMBER,
    OP,
    PARAM,
    PUNCT,
    QIDENT,
    STRING,
    split_statements,
    tokens,
    unescape_e,
)
from pggw.wire.errors import PgError


def kv(sql: str, **kw: bool) -> list[tuple[str, object]]:
    return [(t.kind, t.value) for t in tokens(sql, **kw)]


def test_keywords_fold_to_lower_case() -> None:
    assert kv("INSERT Into T") == [(IDENT, "insert"), (IDENT, "into"), (IDENT, "t")]


def test_quoted_identifier_keeps_case_and_unescapes() -> None:
    assert kv('"My""Table"') == [(QIDENT, 'My"Table')]


def test_identifier_with_dollar_and_unicode() -> None:
    assert kv("a$b æøå") == [(IDENT, "a$b"), (IDENT, "æøå")]


def test_string_with_doubled_quote() -> None:
    assert kv("'it''s'") == [(STRING, "it's")]


def test_empty_string() -> None:
    assert kv("''") == [(STRING, "")]


def test_string_keeps_backslash_with_standard_conforming_strings() -> None:
    assert kv(r"'a\nb'") == [(STRING, "a\\nb")]


def test_string_backslash_escapes_without_standard_conforming_strings() -> None:
    assert kv(r"'a\nb\''", standard_conforming_strings=False) == [(STRING, "a\nb'")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (r"a\nb", "a\nb"),
        (r"\t\r\b\f\v", "\t\r\b\f\v"),
        (r"\x41\101", "AA"),
        (r"\u00e6\U0001F600", "æ\U0001F600"),
        (r"\'q\\", "'q\\"),
        ("a''b", "a'b"),
        (r"\z", "z"),
    ],
)
def test_e_string_escapes(body: str, expected: str) -> None:
    assert unescape_e(body) == expected
    assert kv(f"E'{body}'") == [(STRING, expected)]


def test_e_string_escaped_quote_does_not_end_string() -> None:
    assert kv(r"e'a\'b', 1") == [(STRING, "a'b"), (PUNCT, ","), (NUMBER, 1)]


def test_national_and_unicode_strings() -> None:
    assert kv("N'x'") == [(STRING, "x")]
    assert kv(r"U&'d\0061t\+000061'") == [(STRING, "data")]


def test_dollar_quoted_strings() -> None:
    assert kv("$$it's$$") == [(STRING, "it's")]
    assert kv("$tag$a $$ b$tag$") == [(STRING, "a $$ b")]


def test_numbers() -> None:
    assert kv("1 1.5 .5 1e3 2.5E-2 10.") == [
        (NUMBER, 1), (NUMBER, 1.5), (NUMBER, 0.5), (NUMBER, 1000.0), (NUMBER, 0.025),
        (NUMBER, 10.0)]


def test_big_integer_stays_exact() -> None:
    assert kv("9223372036854775807") == [(NUMBER, 9223372036854775807)]


def test_negative_number_is_operator_then_number() -> None:
    assert kv("-1") == [(OP, "-"), (NUMBER, 1)]


def test_params_and_casts() -> None:
    assert kv("$1::BIGINT") == [(PARAM, 1), (CAST, "::"), (IDENT, "bigint")]


def test_operators() -> None:
    assert [v for _, v in kv("a <= b >= c <> d != e = f < g > h || i")] == [
        "a", "<=", "b", ">=", "c", "<>", "d", "!=", "e", "=", "f", "<", "g", ">", "h", "||",
        "i"]


def test_punctuation() -> None:
    assert kv("(a.b, c[1]);") == [
        (PUNCT, "("), (IDENT, "a"), (PUNCT, "."), (IDENT, "b"), (PUNCT, ","), (IDENT, "c"),
        (PUNCT, "["), (NUMBER, 1), (PUNCT, "]"), (PUNCT, ")"), (PUNCT, ";")]


def test_comments_are_dropped() -> None:
    assert kv("a -- c\nb /* x */ c") == [(IDENT, "a"), (IDENT, "b"), (IDENT, "c")]


def test_nested_block_comments() -> None:
    assert kv("a /* x /* y */ z */ b") == [(IDENT, "a"), (IDENT, "b")]


def test_token_positions() -> None:
    t = tokens("  ab  'c'")
    assert (t[0].start, t[0].end, t[1].start, t[1].end) == (2, 4, 6, 9)


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("select 'abc", "unterminated quoted string"),
        ('select "abc', "unterminated quoted identifier"),
        ("select $$abc", "unterminated dollar-quoted string"),
        ("select /* abc", "unterminated /* comment"),
        ("select E'abc", "unterminated quoted string"),
    ],
)
def test_unterminated_errors(sql: str, fragment: str) -> None:
    with pytest.raises(PgError) as ei:
        tokens(sql)
    assert ei.value.sqlstate == "42601"
    assert fragment in ei.value.message


def test_stray_character_is_a_syntax_error() -> None:
    with pytest.raises(PgError) as ei:
        tokens("select \\")
    assert ei.value.sqlstate == "42601"
    assert ei.value.position == 8


# --------------------------------------------------------------------------- splitting


def test_split_simple() -> None:
    assert split_statements("BEGIN; INSERT INTO t VALUES (1); COMMIT;") == [
        "BEGIN", "INSERT INTO t VALUES (1)", "COMMIT"]


def test_split_without_semicolon() -> None:
    assert split_statements("  SELECT 1  ") == ["SELECT 1"]


def test_split_drops_empty_statements() -> None:
    assert split_statements(";; ;\n; -- c\n;") == []
    assert split_statements("") == []
    assert split_statements("   -- only a comment") == []


def test_split_respects_quotes() -> None:
    sql = "INSERT INTO t VALUES ('a;b', \"c;d\", E'\\';x', $$;$$, $q$ ; $q$);SELECT 2"
    assert split_statements(sql) == [sql.split(";SELECT")[0], "SELECT 2"]


def test_split_respects_doubled_quotes() -> None:
    assert split_statements("SELECT 'it''s;' ; SELECT 2") == ["SELECT 'it''s;'", "SELECT 2"]


def test_split_respects_comments() -> None:
    assert split_statements("SELECT 1 -- a;b\n; SELECT 2") == ["SELECT 1 -- a;b", "SELECT 2"]
    assert split_statements("SELECT 1 /* a; /* b; */ c; */; SELECT 2") == [
        "SELECT 1 /* a; /* b; */ c; */", "SELECT 2"]


def test_split_psycopg2_execute_batch() -> None:
    sql = "INSERT INTO t (a, b) VALUES (0, 'w');INSERT INTO t (a, b) VALUES (1, 'w')"
    assert split_statements(sql) == [
        "INSERT INTO t (a, b) VALUES (0, 'w')", "INSERT INTO t (a, b) VALUES (1, 'w')"]


def test_split_identifier_with_dollar_is_not_a_dollar_quote() -> None:
    assert split_statements("SELECT a$b$ FROM t; SELECT 2") == ["SELECT a$b$ FROM t", "SELECT 2"]


def test_split_unterminated_quote_keeps_rest_together() -> None:
    assert split_statements("SELECT 1; SELECT 'a;b") == ["SELECT 1", "SELECT 'a;b"]


def test_split_without_standard_conforming_strings() -> None:
    assert split_statements(r"SELECT 'a\';b'; SELECT 2", standard_conforming_strings=False) == [
        r"SELECT 'a\';b'", "SELECT 2"]


def test_tokenize_large_insert_quickly() -> None:
    rows = ",".join(f"('ts{i}', '2024-01-01 00:00:{i % 60:02d}+00', {i}.5)" for i in range(20_000))
    sql = f"INSERT INTO t VALUES {rows};"
    t0 = time.perf_counter()
    toks = tokens(sql)
    split = split_statements(sql)
    elapsed = time.perf_counter() - t0
    assert len(split) == 1
    assert len(toks) == 4 + 20_000 * 8 - 1 + 1
    print(f"\ntokenize+split {len(sql) / 1e6:.1f} MB: {elapsed * 1000:.0f} ms "
          f"({len(toks) / elapsed / 1e6:.2f} M tokens/s)")
