"""A small, fast PostgreSQL tokenizer and statement splitter.

Only what the write path needs: it is not a SQL parser.  Tokens are
``Token(kind, value, start, end)`` tuples where ``kind`` is one of:

``IDENT``
    an unquoted identifier or keyword, ``value`` case-folded to lower case;
``QIDENT``
    a quoted identifier, ``value`` with ``""`` unescaped and case kept;
``STRING``
    a string constant (plain, ``E''``, ``N''``, ``U&''`` without UESCAPE,
    dollar-quoted), ``value`` is the decoded text;
``NUMBER``
    ``value`` is an ``int`` (integers) or a ``float`` (anything with ``.`` or an
    exponent; PostgreSQL would make it ``numeric``, but every consumer here
    turns it into a double anyway);
``PARAM``
    ``$n``, ``value`` is ``n`` (1-based, as written);
``OP``
    an operator (``=``, ``<=``, ``||``, ``-`` …), ``value`` is its text;
``CAST``
    ``::``;
``PUNCT``
    one of ``( ) , ; [ ] . :``.

Whitespace and comments (``--`` and nested ``/* */``) are dropped.  The
scanner is one compiled regular expression driven by ``Pattern.match`` so the
cost per token is a C-level match plus one dictionary dispatch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from pggw.wire.errors import SYNTAX_ERROR, PgError

IDENT = "ident"
QIDENT = "qident"
STRING = "string"
NUMBER = "number"
PARAM = "param"
OP = "op"
CAST = "cast"
PUNCT = "punct"


class Token(NamedTuple):
    kind: str
    value: Any
    start: int
    end: int


_IDENT_START = r"A-Za-z_\u0080-\U0010ffff"
_IDENT_CHAR = r"A-Za-z_0-9$\u0080-\U0010ffff"

# Order matters: E'' before identifiers, comments before operators, numbers
# before the '.' punctuation.
_MASTER = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lc>--[^\n]*)
  | (?P<bc>/\*)
  | (?P<estr>[eE]'(?:[^'\\]|\\.|'')*')
  | (?P<nstr>[nN]'(?:[^']|'')*')
  | (?P<ustr>[uU]&'(?:[^']|'')*')
  | (?P<str>'(?:[^']|'')*')
  | (?P<dq>\$(?:[""" + _IDENT_START + r"""][A-Za-z_0-9\u0080-\U0010ffff]*)?\$)
  | (?P<param>\$[0-9]+)
  | (?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<qid>"(?:[^"]|"")*")
  | (?P<id>[""" + _IDENT_START + r"""][""" + _IDENT_CHAR + r"""]*)
  | (?P<cast>::)
  | (?P<op><=|>=|<>|!=|\|\||->>|->|\#>>|\#>|@>|<@|[-+*/<>=~!@\#%^&|`?])
  | (?P<punct>[(),;\[\].:])
  | (?P<err>.)
    """,
    re.VERBOSE | re.DOTALL,
)

# Same, for servers with standard_conforming_strings = off: backslashes escape
# inside plain '' strings too.
_MASTER_NSCS = re.compile(
    _MASTER.pattern.replace(
        r"(?P<str>'(?:[^']|'')*')", r"(?P<str>'(?:[^'\\]|\\.|'')*')"
    ),
    re.VERBOSE | re.DOTALL,
)

_E_ESCAPE = re.compile(
    r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))|''",
    re.DOTALL,
)
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _e_repl(m: re.Match[str]) -> str:
    octal, hx, u4, u8, other = m.groups()
    if m.group(0) == "''":
        return "'"
    if octal is not None:
        return chr(int(octal, 8) & 0xFF)
    if hx is not None:
        return chr(int(hx, 16))
    if u4 is not None:
        return chr(int(u4, 16))
    if u8 is not None:
        return chr(int(u8, 16))
    return _SIMPLE_ESCAPES.get(other, other)


def unescape_e(body: str) -> str:
    """Decode the body of an ``E'...'`` string (without the quotes)."""
    if "\\" not in body and "''" not in body:
        return body
    return _E_ESCAPE.sub(_e_repl, body)


_U_ESCAPE = re.compile(r"\\(?:\\|([0-9A-Fa-f]{4})|\+([0-9A-Fa-f]{6}))")


def _unescape_u(body: str) -> str:
    body = body.replace("''", "'")

    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return chr(int(m.group(1), 16))
        if m.group(2):
            return chr(int(m.group(2), 16))
        return "\\"

    return _U_ESCAPE.sub(repl, body)


def _near(sql: str, pos: int) -> str:
    return sql[pos : pos + 20]


def syntax_error(sql: str, pos: int, what: str | None = None) -> PgError:
    """PostgreSQL's ``syntax error at or near "..."`` (42601), 1-based position."""
    if pos >= len(sql):
        return PgError(SYNTAX_ERROR, what or "syntax error at end of input", position=len(sql) + 1)
    m = _MASTER.match(sql, pos)
    near = m.group(0) if m and m.lastgroup not in ("ws", "err") else sql[pos : pos + 1]
    return PgError(SYNTAX_ERROR, what or f'syntax error at or near "{near}"', position=pos + 1)


def _skip_block_comment(sql: str, pos: int) -> int:
    """``pos`` is just after an opening ``/*``; returns the index after the matching ``*/``."""
    depth = 1
    n = len(sql)
    while depth:
        close = sql.find("*/", pos)
        opn = sql.find("/*", pos)
        if close < 0:
            raise PgError(SYNTAX_ERROR, "unterminated /* comment at or near \"/*\"",
                          position=max(0, pos - 1))
        if 0 <= opn < close:
            depth += 1
            pos = opn + 2
        else:
            depth -= 1
            pos = close + 2
        if pos > n:
            break
    return pos


def tokenize(
    sql: str, start: int = 0, *, standard_conforming_strings: bool = True
) -> Iterator[Token]:
    """Yield the tokens of ``sql`` from ``start``; raise 42601 on unterminated quotes."""
    match = (_MASTER if standard_conforming_strings else _MASTER_NSCS).match
    pos = start
    n = len(sql)
    while pos < n:
        m = match(sql, pos)
        assert m is not None  # the 'err' alternative matches any character
        kind = m.lastgroup
        end = m.end()
        if kind == "ws" or kind == "lc":
            pass
        elif kind == "id":
            yield Token(IDENT, m.group().lower(), pos, end)
        elif kind == "num":
            text = m.group()
            if "." in text or "e" in text or "E" in text:
                yield Token(NUMBER, float(text), pos, end)
            else:
                yield Token(NUMBER, int(text), pos, end)
        elif kind == "str":
            body = sql[pos + 1 : end - 1]
            if standard_conforming_strings:
                yield Token(STRING, body.replace("''", "'") if "''" in body else body, pos, end)
            else:
                yield Token(STRING, unescape_e(body), pos, end)
        elif kind == "punct":
            yield Token(PUNCT, m.group(), pos, end)
        elif kind == "op":
            yield Token(OP, m.group(), pos, end)
        elif kind == "cast":
            yield Token(CAST, "::", pos, end)
        elif kind == "param":
            yield Token(PARAM, int(sql[pos + 1 : end]), pos, end)
        elif kind == "qid":
            yield Token(QIDENT, sql[pos + 1 : end - 1].replace('""', '"'), pos, end)
        elif kind == "estr":
            yield Token(STRING, unescape_e(sql[pos + 2 : end - 1]), pos, end)
        elif kind == "nstr":
            yield Token(STRING, sql[pos + 2 : end - 1].replace("''", "'"), pos, end)
        elif kind == "ustr":
            yield Token(STRING, _unescape_u(sql[pos + 3 : end - 1]), pos, end)
        elif kind == "dq":
            tag = m.group()
            close = sql.find(tag, end)
            if close < 0:
                raise PgError(SYNTAX_ERROR, f'unterminated dollar-quoted string at or near "{tag}"',
                              position=pos + 1)
            yield Token(STRING, sql[end:close], pos, close + len(tag))
            end = close + len(tag)
        elif kind == "bc":
            end = _skip_block_comment(sql, end)
        else:  # err: an unterminated quote, or a stray character
            ch = m.group()
            if ch == "'":
                raise PgError(SYNTAX_ERROR,
                              f'unterminated quoted string at or near "{_near(sql, pos)}"',
                              position=pos + 1)
            if ch == '"':
                raise PgError(SYNTAX_ERROR,
                              f'unterminated quoted identifier at or near "{_near(sql, pos)}"',
                              position=pos + 1)
            if ch in "eEnNuU" or ch == "$":
                raise PgError(SYNTAX_ERROR,
                              f'unterminated quoted string at or near "{_near(sql, pos)}"',
                              position=pos + 1)
            raise PgError(SYNTAX_ERROR, f'syntax error at or near "{ch}"', position=pos + 1)
        pos = end


def tokens(sql: str, *, standard_conforming_strings: bool = True) -> list[Token]:
    """All tokens of ``sql`` as a list."""
    return list(tokenize(sql, standard_conforming_strings=standard_conforming_strings))


# A coarse scanner for splitting: long runs of uninteresting characters are
# consumed in one match, so a 10 MB INSERT is split in a few milliseconds.
_SPLIT = re.compile(
    r"""
    (?P<run>(?:[^'"$;/\-eE]|[eE](?!')|/(?!\*)|-(?!-))+)
  | (?P<estr>(?<![A-Za-z_0-9$\u0080-\U0010ffff])[eE]'(?:[^'\\]|\\.|'')*')
  | (?P<e>[eE])
  | (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*")
  | (?P<dq>(?<![A-Za-z_0-9$\u0080-\U0010ffff])
        \$(?:[A-Za-z_\u0080-\U0010ffff][A-Za-z_0-9\u0080-\U0010ffff]*)?\$)
  | (?P<lc>--[^\n]*)
  | (?P<bc>/\*)
  | (?P<semi>;)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_SPLIT_NSCS = re.compile(
    _SPLIT.pattern.replace(r"(?P<str>'(?:[^']|'')*')", r"(?P<str>'(?:[^'\\]|\\.|'')*')"),
    re.VERBOSE | re.DOTALL,
)


def _is_blank(stmt: str) -> bool:
    if not stmt or stmt.isspace():
        return True
    if "--" not in stmt and "/*" not in stmt:
        return False
    try:
        return next(tokenize(stmt), None) is None
    except PgError:
        return False


# One whole statement up to (not including) a top-level ';' in one match:
# possessive quantifiers keep the regex engine from backtracking, so the cost
# is a C-level scan of the text.  Nested block comments are beyond a regular
# expression, and capture groups (for dollar-quote tags) inside a possessive
# repetition trip a CPython 3.11 re bug: texts containing "/*" or a dollar
# quote use the token-by-token splitter.
_STMT = re.compile(
    r"""
    (?:
        [^'"$;/\-eE]++
      | (?<![A-Za-z_0-9$\u0080-\U0010ffff])[eE]'(?:[^'\\]|\\.|'')*+'
      | '[^']*+'
      | "[^"]*+"
      | --[^\n]*+
      | [eE$/\-]
    )*+
    """,
    re.VERBOSE,
)


_DOLLAR_QUOTE = re.compile(
    r"(?<![A-Za-z_0-9$\u0080-\U0010ffff])\$(?:[A-Za-z_\u0080-\U0010ffff]"
    r"[A-Za-z_0-9\u0080-\U0010ffff]*)?\$")


def split_statements(sql: str, *, standard_conforming_strings: bool = True) -> list[str]:
    """Split a simple-Query string at top-level semicolons.

    Quotes, quoted identifiers, dollar quotes and comments are respected.
    Statements are returned stripped of surrounding whitespace, without the
    semicolon; empty statements (only whitespace/comments) are dropped.
    Unterminated quotes are left for the tokenizer to report.
    """
    if ";" not in sql:
        return [] if _is_blank(sql) else [sql.strip()]
    if "/*" in sql or not standard_conforming_strings or (
            "$" in sql and _DOLLAR_QUOTE.search(sql)):
        return _split_slow(sql, standard_conforming_strings)
    out: list[str] = []
    pos = 0
    n = len(sql)
    match = _STMT.match
    while pos <= n:
        m = match(sql, pos)
        end = m.end() if m is not None else pos
        if end < n and sql[end] != ";":
            # An unterminated quote: the rest is one statement (the tokenizer reports it).
            end = n
        stmt = sql[pos:end]
        if not _is_blank(stmt):
            out.append(stmt.strip())
        pos = end + 1
    return out


def _split_slow(sql: str, standard_conforming_strings: bool) -> list[str]:
    if ";" not in sql:
        return [] if _is_blank(sql) else [sql.strip()]
    match = (_SPLIT if standard_conforming_strings else _SPLIT_NSCS).match
    out: list[str] = []
    begin = pos = 0
    n = len(sql)
    while pos < n:
        m = match(sql, pos)
        assert m is not None
        kind = m.lastgroup
        end = m.end()
        if kind == "semi":
            stmt = sql[begin:pos]
            if not _is_blank(stmt):
                out.append(stmt.strip())
            begin = end
        elif kind == "dq":
            close = sql.find(m.group(), end)
            end = n if close < 0 else close + len(m.group())
        elif kind == "bc":
            try:
                end = _skip_block_comment(sql, end)
            except PgError:
                end = n
        elif kind == "other" and m.group() in "'\"":
            end = n  # an unterminated quote runs to the end
        pos = end
    stmt = sql[begin:]
    if not _is_blank(stmt):
        out.append(stmt.strip())
    return out
