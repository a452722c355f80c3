"""bytea end to end in the pure layers: files.content in the registry, text (hex and
escape format) and binary input, the size limit (54000), plans from INSERT/COPY, the WAL
chunk codec, and the upload mapping (content on the item, never in the JSON body)."""

from __future__ import annotations

import pytest

from pggw.sql.write import CopyPlan, InsertPlan, plan_for
from pggw.tables.builtin import MAX_FILE_CONTENT_BYTES
from pggw.tables.coerce import coerce_columns
from pggw.tables.model import Column, Table
from pggw.tables.registry import builtin_registry
from pggw.upload.mapping import Unmappable, content_bytes, map_record, rows_of, to_update
from pggw.wal.codec import KIND_BYTES, decode_chunk, encode_chunk
from pggw.wire import codecs
from pggw.wire import types as T
from pggw.wire.errors import PgError

REG = builtin_registry()
FILES = REG["files"]
ALL = bytes(range(256))


def coerce(values: list[object], source: str = "text", oid: int = 0) -> list[object]:
    out, notes = coerce_columns(FILES, ["name", "content"], [["n"] * len(values), values],
                                source=["text", source], oids=[0, oid])
    assert notes == []
    return out["content"]


def test_files_has_an_optional_bytea_content_column() -> None:
    col = FILES.column("content")
    assert col is not None and col.type is T.BYTEA and col.type.oid == 17
    assert not col.required and not col.read_only and col.cdf is None
    assert col.max_length == MAX_FILE_CONTENT_BYTES == 64 * 2**20
    assert col.atttypmod == -1 and not col.updatable
    assert FILES.column_names[-1] == "content"  # existing ordinal positions unchanged


@pytest.mark.parametrize(("text", "expected"), [
    ("\\x", b""),
    ("\\x00ff10", b"\x00\xff\x10"),
    ("\\xDEADbeef", b"\xde\xad\xbe\xef"),
    ("\\x 01 02\n03", b"\x01\x02\x03"),  # whitespace between pairs, as PostgreSQL allows
    ("abc", b"abc"),  # escape format: plain characters
    ("a\\\\b", b"a\\b"),
    ("\\000\\001\\377x", b"\x00\x01\xffx"),
    ("ø", "ø".encode()),
    ("", b""),
])
def test_text_input_hex_and_escape_formats(text: str, expected: bytes) -> None:
    assert coerce([text]) == [expected]
    assert codecs.decode_text(17, text) == expected


@pytest.mark.parametrize(("text", "sqlstate", "message"), [
    ("\\x0", "22023", "invalid hexadecimal data: odd number of digits"),
    ("\\x0g", "22023", 'invalid hexadecimal digit: "g"'),
    ("\\xzz", "22023", 'invalid hexadecimal digit: "z"'),
    ("\\x0 1", "22023", 'invalid hexadecimal digit: " "'),
    ("a\\b", "22P02", "invalid input syntax for type bytea"),
    ("\\400", "22P02", "invalid input syntax for type bytea"),
    ("trailing\\", "22P02", "invalid input syntax for type bytea"),
])
def test_bad_text_input_gets_postgresqls_errors(text: str, sqlstate: str, message: str) -> None:
    with pytest.raises(PgError) as e:
        coerce([text])
    assert (e.value.sqlstate, e.value.message) == (sqlstate, message)
    assert e.value.column == "content" and "row 1" in (e.value.where or "")


def test_text_format_bind_params_arrive_as_bytes() -> None:
    assert coerce([b"\\x0102", None]) == [b"\x01\x02", None]


def test_binary_input_is_the_bytes() -> None:
    assert coerce([ALL, b"", None, bytearray(b"ba")], "binary", 17) == [ALL, b"", None, b"ba"]
    assert coerce([ALL], "binary", 0) == [ALL]  # unspecified type: the column's
    assert coerce([b"\\x41"], "binary", 25) == [b"A"]  # a binary text value: bytea syntax


def test_python_values() -> None:
    assert coerce([ALL, bytearray(b"x"), memoryview(b"y"), "\\x7a", None], "python") == [
        ALL, b"x", b"y", b"z", None]
    with pytest.raises(PgError) as e:
        coerce([12], "python")
    assert e.value.sqlstate == "42804"


def test_values_over_the_limit_are_refused_with_54000() -> None:
    small = Table("files", "files", (Column("name", T.TEXT),
                                     Column("content", T.BYTEA, max_length=4)), key=())
    out, _ = coerce_columns(small, ["name", "content"], [["a"], [b"1234"]], source="python")
    assert out["content"] == [b"1234"]
    with pytest.raises(PgError) as e:
        coerce_columns(small, ["name", "content"], [["a", "b"], [b"1", b"12345"]],
                       source="python")
    err = e.value
    assert err.sqlstate == "54000" and err.column == "content" and "row 2" in (err.where or "")
    assert err.message == 'value too large for column "content": 5 bytes'
    assert "at most 4 bytes" in (err.detail or "") and "5 GiB" in (err.hint or "")
    assert "12345" not in (err.where or "")  # no multi-megabyte value in the message


def test_the_real_limit() -> None:
    big = b"\x00" * (MAX_FILE_CONTENT_BYTES + 1)
    with pytest.raises(PgError) as e:
        coerce([big], "binary", 17)
    assert e.value.sqlstate == "54000"
    assert coerce([big[:-1]], "binary", 17)[0] == big[:-1]


def test_insert_and_copy_plans_carry_content() -> None:
    plan = plan_for("INSERT INTO files (name, content) VALUES ($1, $2)", REG)
    assert isinstance(plan, InsertPlan)
    cols = plan.bind([b"p", ALL])
    srcs, oids = plan.sources([0, 1], [0, 17])
    assert srcs == ["text", "binary"]
    out, _ = coerce_columns(FILES, plan.columns, cols, source=srcs, oids=oids)
    assert out["content"] == [ALL]
    plan = plan_for("INSERT INTO files (name, content) VALUES ('a', '\\x6869'), ('b', NULL)",
                    REG)
    assert isinstance(plan, InsertPlan)
    out, _ = coerce_columns(FILES, plan.columns, plan.bind([]), source="python")
    assert out["content"] == [b"hi", None]
    copy = plan_for("COPY files (name, content) FROM STDIN", REG)
    assert isinstance(copy, CopyPlan) and copy.columns == ("name", "content")


def test_wal_chunks_carry_bytes_exactly() -> None:
    cols = {"name": ["a", "b", "c", "d"], "content": [ALL, None, b"", b"\x00" * 70_000]}
    data = encode_chunk(cols)
    assert decode_chunk(data) == cols
    assert decode_chunk(encode_chunk(cols, compress=True)) == cols
    # packed as bytes, not as JSON or hex: about the size of the values
    assert len(data) < 256 + 70_000 + 200
    name = b"content"
    at = data.index(name) + len(name)
    assert data[at] == KIND_BYTES
    with pytest.raises(ValueError):
        encode_chunk({"mixed": [b"x", "y"]})


def test_mapping_puts_content_on_the_item_not_in_the_body() -> None:
    cols = {"external_id": ["f1", "f2"], "name": ["a", "b"], "mime_type": ["text/plain", None],
            "content": [b"\x00bytes", None]}
    items = map_record(FILES, "insert", cols, 7)
    assert [it.body for it in items] == [
        {"externalId": "f1", "name": "a", "mimeType": "text/plain"},
        {"externalId": "f2", "name": "b"}]
    assert [it.content for it in items] == [b"\x00bytes", None]
    upd = to_update(items[0], FILES)
    assert upd.op == "update" and upd.content == b"\x00bytes"
    assert "content" not in str(upd.body)
    # dead letters are JSON: bytes as PostgreSQL shows bytea, and back again
    (row,) = rows_of(cols, (7, (0,)), items[0].ident)
    assert row == {"external_id": "f1", "name": "a", "mime_type": "text/plain",
                   "content": "\\x006279746573"}
    assert content_bytes(row["content"]) == b"\x00bytes"
    with pytest.raises(Unmappable):
        content_bytes("not hex")
