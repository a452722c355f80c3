from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pggw.wire.copy import BinaryCopyDecoder, CsvCopyDecoder, TextCopyDecoder
from pggw.wire.errors import PgError

SIG = b"PGCOPY\n\xff\r\n\x00"


def run(dec: Any, data: bytes, cuts: list[int] | None = None) -> list[Any]:
    rows: list[Any] = []
    pos = 0
    for c in cuts or []:
        rows += dec.feed(data[pos:c])
        pos = c
    rows += dec.feed(memoryview(data[pos:]))
    rows += dec.finish()
    return rows


def every_split(make: Any, data: bytes, expected: list[Any]) -> None:
    assert run(make(), data) == expected
    for i in range(len(data) + 1):
        assert run(make(), data, [i]) == expected, i
    for i in range(0, len(data) + 1, 3):
        for j in range(i, len(data) + 1, 5):
            assert run(make(), data, [i, j]) == expected, (i, j)
    # one byte at a time
    assert run(make(), data, list(range(len(data) + 1))) == expected


# ------------------------------------------------------------------ text

TEXT = "1\thé\t\\N\n2\ta\\tb\\\\c\\nd\t\\x41\\101\\303\\251\n3\t\\\\N\t\n".encode()
TEXT_ROWS = [["1", "hé", None], ["2", "a\tb\\c\nd", "AAé"], ["3", "\\N", ""]]


def test_text_every_split() -> None:
    every_split(lambda: TextCopyDecoder(3), TEXT, TEXT_ROWS)


def test_text_fast_path_and_line_count() -> None:
    d = TextCopyDecoder(2)
    assert d.feed(b"a\tb\nc\td\ne\t") == [["a", "b"], ["c", "d"]]
    assert d.line == 2
    assert d.finish() == [["e", ""]]  # the final line without a newline is a row
    assert d.line == 3


def test_text_last_line_without_newline() -> None:
    assert run(TextCopyDecoder(2), b"a\tb\nc\td") == [["a", "b"], ["c", "d"]]


def test_text_end_marker_and_crlf() -> None:
    d = TextCopyDecoder(2)
    assert run(d, b"a\tb\r\nc\td\r\n\\.\r\nignored\n") == [["a", "b"], ["c", "d"]]
    assert d.done
    every_split(lambda: TextCopyDecoder(1), b"x\n\\.\n", [["x"]])


def test_text_custom_delimiter_and_null() -> None:
    d = TextCopyDecoder(3, delimiter=",", null="")
    assert run(d, b"a\\,b,,c\n") == [["a,b", None, "c"]]
    d2 = TextCopyDecoder(2, delimiter="|", null="NULL")
    assert run(d2, b"NULL|x\n") == [[None, "x"]]


def test_text_header() -> None:
    assert run(TextCopyDecoder(2, header=True), b"a\tb\n1\t2\n") == [["1", "2"]]


def test_text_column_count_errors() -> None:
    d = TextCopyDecoder(3, columns=["id", "name", "v"], table="u")
    with pytest.raises(PgError) as ei:
        run(d, b"1\tx\tv\n2\tonly\n")
    e = ei.value
    assert (e.sqlstate, e.message) == ("22P04", 'missing data for column "v"')
    assert e.where == "COPY u, line 2"
    assert d.line == 2
    with pytest.raises(PgError) as ei:
        run(TextCopyDecoder(1), b"a\n\\Nb\tc\n")
    assert ei.value.message == "extra data after last expected column"
    with pytest.raises(PgError) as ei:
        run(TextCopyDecoder(2), b"a\tb\nc\td\te\n")
    assert ei.value.message == "extra data after last expected column"


def test_text_invalid_utf8() -> None:
    with pytest.raises(PgError) as ei:
        run(TextCopyDecoder(1, table="t"), b"ok\n\xff\n")
    assert ei.value.sqlstate == "22021"
    assert ei.value.where == "COPY t, line 2"


text_field = st.one_of(st.none(), st.text(alphabet=st.characters(
    blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8))


def text_escape(v: str | None) -> str:
    if v is None:
        return "\\N"
    return (v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


@given(st.lists(st.lists(text_field, min_size=2, max_size=2), max_size=6),
       st.lists(st.integers(0, 200), max_size=5))
@settings(max_examples=300)
def test_text_round_trip_random(rows: list[list[str | None]], cuts: list[int]) -> None:
    data = "".join("\t".join(text_escape(v) for v in r) + "\n" for r in rows).encode()
    assert run(TextCopyDecoder(2), data, sorted(min(c, len(data)) for c in cuts)) == rows


# ------------------------------------------------------------------ CSV

CSV = b'1,"a,b",,""\n2,"line1\nline2","say ""hi""",x\n3,plain,"",\n'
CSV_ROWS = [["1", "a,b", None, ""], ["2", "line1\nline2", 'say "hi"', "x"],
            ["3", "plain", "", None]]


def test_csv_every_split() -> None:
    every_split(lambda: CsvCopyDecoder(4), CSV, CSV_ROWS)


def test_csv_fast_path() -> None:
    assert run(CsvCopyDecoder(3), b"1,,x\n2,y,\n") == [["1", None, "x"], ["2", "y", None]]


def test_csv_crlf_and_quoted_crlf() -> None:
    data = b'a,"x\r\ny"\r\nb,c\r\n'
    every_split(lambda: CsvCopyDecoder(2), data, [["a", "x\r\ny"], ["b", "c"]])


def test_csv_header_and_end_marker() -> None:
    d = CsvCopyDecoder(2, header=True)
    assert run(d, b"h1,h2\n1,2\n\\.\n3,4\n") == [["1", "2"]]
    assert d.done
    # a quoted "\." is data
    assert run(CsvCopyDecoder(1), b'"\\."\n') == [["\\."]]


def test_csv_force_null_not_null_and_null_string() -> None:
    d = CsvCopyDecoder(3, force_null={1}, force_not_null={2})
    assert run(d, b'"",""," "\n,,\n') == [["", None, " "], [None, None, ""]]
    d2 = CsvCopyDecoder(2, null="NULL")
    assert run(d2, b'NULL,"NULL"\n,x\n') == [[None, "NULL"], ["", "x"]]


def test_csv_custom_escape_and_delimiter() -> None:
    d = CsvCopyDecoder(2, delimiter=";", escape="\\")
    every_split(lambda: CsvCopyDecoder(2, delimiter=";", escape="\\"),
                b'"a\\"b";"c\\\\d\\x"\n"multi\nline";z\n',
                [['a"b', "c\\d\\x"], ["multi\nline", "z"]])
    assert run(d, b"x;y\n") == [["x", "y"]]


def test_csv_mixed_quoting() -> None:
    assert run(CsvCopyDecoder(2), b'ab"c,d"e,f\n') == [["abc,de", "f"]]


def test_csv_unterminated_quote() -> None:
    d = CsvCopyDecoder(2, table="t")
    assert d.feed(b'1,"open\n') == []
    with pytest.raises(PgError) as ei:
        d.finish()
    assert ei.value.sqlstate == "22P04"
    assert ei.value.message == "unterminated CSV quoted field"


def test_csv_count_errors() -> None:
    with pytest.raises(PgError) as ei:
        run(CsvCopyDecoder(3, columns=["a", "b", "c"]), b'1,"2"\n')
    assert ei.value.message == 'missing data for column "c"'
    with pytest.raises(PgError) as ei:
        run(CsvCopyDecoder(1), b"1,2\n")
    assert ei.value.message == "extra data after last expected column"


def csv_quote(v: str | None) -> str:
    if v is None:
        return ""
    return '"' + v.replace('"', '""') + '"'


@given(st.lists(st.lists(text_field, min_size=3, max_size=3), max_size=6),
       st.lists(st.integers(0, 200), max_size=5))
@settings(max_examples=300)
def test_csv_round_trip_random(rows: list[list[str | None]], cuts: list[int]) -> None:
    data = "".join(",".join(csv_quote(v) for v in r) + "\n" for r in rows).encode()
    got = run(CsvCopyDecoder(3), data, sorted(min(c, len(data)) for c in cuts))
    assert got == rows


# ------------------------------------------------------------------ binary

def binary_copy(rows: list[list[bytes | None]], trailer: bool = True, ext: bytes = b"") -> bytes:
    out = SIG + struct.pack("!ii", 0, len(ext)) + ext
    for r in rows:
        out += struct.pack("!h", len(r))
        for v in r:
            out += struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v
    if trailer:
        out += b"\xff\xff"
    return out


def test_binary_captured_psycopg() -> None:
    # [captured] psycopg binary COPY of (5, 'ab'), see pgwire.md 1.7
    data = (SIG + bytes(8) + b"\x00\x02" + b"\x00\x00\x00\x08" + (5).to_bytes(8, "big")
            + b"\x00\x00\x00\x02ab" + b"\xff\xff")
    every_split(lambda: BinaryCopyDecoder(2), data, [[(5).to_bytes(8, "big"), b"ab"]])


def test_binary_every_split_with_nulls_and_extension() -> None:
    rows: list[list[bytes | None]] = [[b"x", None], [b"", b"yy"]]
    every_split(lambda: BinaryCopyDecoder(2), binary_copy(rows, ext=b"abc"), rows)


def test_binary_bad_signature() -> None:
    with pytest.raises(PgError) as ei:
        run(BinaryCopyDecoder(1), b"1\tfoo\n")
    assert (ei.value.sqlstate, ei.value.message) == ("22P04", "COPY file signature not recognized")
    with pytest.raises(PgError):
        BinaryCopyDecoder(1).feed(b"PGCOPX")


def test_binary_field_count_mismatch() -> None:
    with pytest.raises(PgError) as ei:
        run(BinaryCopyDecoder(3), binary_copy([[b"a", b"b"]]))
    assert ei.value.message == "row field count is 2, expected 3"


def test_binary_missing_trailer_and_partial() -> None:
    with pytest.raises(PgError) as ei:
        run(BinaryCopyDecoder(1), binary_copy([[b"a"]], trailer=False))
    assert ei.value.sqlstate == "22P04"
    assert run(BinaryCopyDecoder(1, require_trailer=False),
               binary_copy([[b"a"]], trailer=False)) == [[b"a"]]
    with pytest.raises(PgError):
        run(BinaryCopyDecoder(1), binary_copy([[b"abc"]])[:-4])
    with pytest.raises(PgError):
        run(BinaryCopyDecoder(1), SIG[:5])


def test_binary_data_after_trailer() -> None:
    with pytest.raises(PgError) as ei:
        run(BinaryCopyDecoder(1), binary_copy([[b"a"]]) + b"\x00")
    assert ei.value.message == "received copy data after EOF marker"


def test_binary_flags() -> None:
    data = SIG + struct.pack("!ii", 1 << 17, 0) + b"\xff\xff"
    with pytest.raises(PgError) as ei:
        run(BinaryCopyDecoder(1), data)
    assert ei.value.sqlstate == "22P04"


def test_crlf_fast_paths() -> None:
    every_split(lambda: TextCopyDecoder(2), b"a\tb\r\nc\td\r\n", [["a", "b"], ["c", "d"]])
    every_split(lambda: TextCopyDecoder(2, header=True), b"h\th\r\nc\td\r\n", [["c", "d"]])
    every_split(lambda: CsvCopyDecoder(2), b"a,\r\nc,d\r\n", [["a", None], ["c", "d"]])
    every_split(lambda: CsvCopyDecoder(2, header=True), b"x,y\r\n,d\r\n", [[None, "d"]])


def test_text_line_numbers_across_chunks() -> None:
    d = TextCopyDecoder(1, table="t")
    d.feed(b"a\nb\nc")
    assert d.line == 2
    d.feed(b"\n")
    assert d.line == 3
    with pytest.raises(PgError) as ei:
        d.feed(b"x\ty\n")
    assert ei.value.where == "COPY t, line 4"


def test_text_null_variants_every_split() -> None:
    every_split(lambda: TextCopyDecoder(3, delimiter=",", null=""), b"a,,c\n,b,\n",
                [["a", None, "c"], [None, "b", None]])
    # with another null string, \N is just an escaped N
    every_split(lambda: TextCopyDecoder(2, null="NULL"), b"NULL\tx\nNULLx\t\\N\n",
                [[None, "x"], ["NULLx", "N"]])


@given(st.lists(st.lists(st.one_of(st.none(), st.binary(max_size=6)), min_size=2, max_size=2),
                max_size=5),
       st.lists(st.integers(0, 120), max_size=6))
@settings(max_examples=200)
def test_binary_random(rows: list[list[bytes | None]], cuts: list[int]) -> None:
    data = binary_copy(rows)
    assert run(BinaryCopyDecoder(2), data, sorted(min(c, len(data)) for c in cuts)) == rows


@given(st.lists(st.lists(text_field, min_size=2, max_size=2), max_size=5),
       st.lists(st.integers(0, 120), max_size=6))
@settings(max_examples=200)
def test_csv_crlf_custom_null_random(rows: list[list[str | None]], cuts: list[int]) -> None:
    def q(v: str | None) -> str:
        return "NULL" if v is None else '"' + v.replace('"', '""') + '"'
    data = "".join(";".join(q(v) for v in r) + "\r\n" for r in rows).encode()
    dec = CsvCopyDecoder(2, delimiter=";", null="NULL")
    got = run(dec, data, sorted(min(c, len(data)) for c in cuts))
    assert got == rows
