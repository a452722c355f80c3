from __future__ import annotations

import struct

import pytest

from pggw.wire import backend as be
from pggw.wire import frontend as fe
from pggw.wire.errors import PgError


def cstr(s: str) -> bytes:
    return s.encode() + b"\0"


# ------------------------------------------------------------------ frontend

def test_startup_message_lenient() -> None:
    body = struct.pack("!i", 196608) + b"user\0alice\0database\0db\0client_encoding\0'utf-8'\0\0"
    m = fe.parse_startup_packet(body)
    assert isinstance(m, fe.StartupMessage)
    assert (m.major, m.minor) == (3, 0)
    assert m.params == {"user": "alice", "database": "db", "client_encoding": "utf-8"}
    # odd trailer / missing final NUL
    m2 = fe.parse_startup_packet(struct.pack("!i", 196610) + b"user\0bob\0\0\0garbage")
    assert isinstance(m2, fe.StartupMessage) and m2.params == {"user": "bob"} and m2.minor == 2
    m3 = fe.parse_startup_packet(struct.pack("!i", 196608) + b"user\0bob")
    assert isinstance(m3, fe.StartupMessage) and m3.params == {"user": "bob"}


def test_special_packets() -> None:
    assert isinstance(fe.parse_startup_packet(struct.pack("!i", 80877103)), fe.SSLRequest)
    assert isinstance(fe.parse_startup_packet(struct.pack("!i", 80877104)), fe.GSSENCRequest)
    c = fe.parse_startup_packet(struct.pack("!iii", 80877102, 42, 0x01020304))
    assert c == fe.CancelRequest(42, b"\x01\x02\x03\x04")
    with pytest.raises(PgError):
        fe.parse_startup_packet(struct.pack("!ii", 80877102, 42))


def test_query_parse() -> None:
    assert fe.decode_query(b"SELECT 1\0") == "SELECT 1"
    # Framed correctly but bad inside: an ERROR (the connection goes on), as in PostgreSQL.
    with pytest.raises(PgError) as ei:
        fe.decode_query(b"SELECT '\xc3\x28'\0")
    assert (ei.value.sqlstate, ei.value.severity) == ("22021", "ERROR")
    assert ei.value.message == 'invalid byte sequence for encoding "UTF8": 0xc3 0x28'
    with pytest.raises(PgError) as ei:
        fe.decode_query(b"SELECT 1\0; SELECT 2\0")
    assert (ei.value.sqlstate, ei.value.severity) == ("08P01", "ERROR")
    with pytest.raises(PgError) as ei:
        fe.decode_parse(cstr("") + b"SELECT '\xff'\0\0\0")
    assert (ei.value.sqlstate, ei.value.severity) == ("22021", "ERROR")
    p = fe.decode_parse(cstr("s1") + cstr("INSERT INTO t VALUES ($1,$2)")
                        + struct.pack("!hII", 2, 20, 3802))
    assert p == fe.Parse("s1", "INSERT INTO t VALUES ($1,$2)", (20, 3802))
    # pg8000 sends no OIDs at all
    assert fe.decode_parse(cstr("") + cstr("SELECT 1") + b"\0\0").param_oids == ()
    assert fe.decode_parse(cstr("") + cstr("SELECT 1")).param_oids == ()
    with pytest.raises(PgError) as ei:
        fe.decode_parse(cstr("") + b"SELECT")
    assert ei.value.sqlstate == "08P01" and ei.value.severity == "FATAL"


def bind_body(portal: str, stmt: str, pf: list[int], params: list[bytes | None],
              rf: list[int]) -> bytes:
    out = cstr(portal) + cstr(stmt) + struct.pack(f"!h{len(pf)}h", len(pf), *pf)
    out += struct.pack("!h", len(params))
    for p in params:
        out += struct.pack("!i", -1) if p is None else struct.pack("!i", len(p)) + p
    out += struct.pack(f"!h{len(rf)}h", len(rf), *rf)
    return out


def test_bind() -> None:
    b = fe.decode_bind(bind_body("", "s", [1], [b"\0\x05", None, b""], [1]))
    assert b == fe.Bind("", "s", (1,), [b"\0\x05", None, b""], (1,))
    assert isinstance(b.params[0], bytes)
    b2 = fe.decode_bind(bind_body("p", "", [], [], []))
    assert b2 == fe.Bind("p", "", (), [], ())
    with pytest.raises(PgError):
        fe.decode_bind(bind_body("", "", [], [b"abc"], [])[:-4])  # truncated
    with pytest.raises(PgError):
        fe.decode_bind(bind_body("", "", [0, 1], [b"a"], []))  # 2 formats, 1 param
    with pytest.raises(PgError):
        fe.decode_bind(bind_body("", "", [2], [b"a"], []))


def test_describe_execute_close() -> None:
    assert fe.decode_describe(b"Sname\0") == fe.Describe("S", "name")
    assert fe.decode_describe(b"P\0") == fe.Describe("P", "")
    assert fe.decode_close(b"Sx\0") == fe.Close("S", "x")
    assert fe.decode_execute(b"\0\0\0\0\0") == fe.Execute("", 0)
    assert fe.decode_execute(cstr("c") + struct.pack("!i", 100)) == fe.Execute("c", 100)
    with pytest.raises(PgError):
        fe.decode_describe(b"Xname\0")
    with pytest.raises(PgError):
        fe.decode_execute(b"\0\0")


def test_copy_fail_password_sasl() -> None:
    assert fe.decode_copy_fail(b"client gave up\0") == "client gave up"
    assert fe.decode_password(b"secret\0") == "secret"
    body = cstr("SCRAM-SHA-256") + struct.pack("!i", 8) + b"n,,n=,r="
    assert fe.decode_sasl_initial(body) == ("SCRAM-SHA-256", b"n,,n=,r=")
    assert fe.decode_sasl_initial(cstr("X") + struct.pack("!i", -1)) == ("X", b"")
    with pytest.raises(PgError):
        fe.decode_sasl_initial(cstr("SCRAM-SHA-256") + struct.pack("!i", 9) + b"n,,n=,r=")
    assert fe.decode_sasl_response(memoryview(b"c=biws")) == b"c=biws"


def test_type_constants() -> None:
    assert (fe.QUERY, fe.PARSE, fe.BIND, fe.SYNC, fe.PASSWORD) == (81, 80, 66, 83, 112)
    assert ord("d") == fe.COPY_DATA and ord("c") == fe.COPY_DONE and ord("f") == fe.COPY_FAIL


# ------------------------------------------------------------------ backend

def test_constant_messages() -> None:
    assert be.authentication_ok() == b"R\0\0\0\x08\0\0\0\0"
    assert be.authentication_cleartext() == b"R\0\0\0\x08\0\0\0\x03"
    assert be.authentication_md5(b"abcd") == b"R\0\0\0\x0c\0\0\0\x05abcd"
    assert be.ready_for_query("I") == b"Z\0\0\0\x05I"
    assert be.ready_for_query("E") == b"Z\0\0\0\x05E"
    assert be.parse_complete() == b"1\0\0\0\x04"
    assert be.bind_complete() == b"2\0\0\0\x04"
    assert be.close_complete() == b"3\0\0\0\x04"
    assert be.no_data() == b"n\0\0\0\x04"
    assert be.portal_suspended() == b"s\0\0\0\x04"
    assert be.empty_query_response() == b"I\0\0\0\x04"


def test_sasl_messages() -> None:
    assert be.authentication_sasl(["SCRAM-SHA-256"]) == (
        b"R" + struct.pack("!ii", 23, 10) + b"SCRAM-SHA-256\0\0")
    assert be.authentication_sasl_continue(b"r=x") == b"R" + struct.pack("!ii", 11, 11) + b"r=x"
    assert be.authentication_sasl_final(b"v=y") == b"R" + struct.pack("!ii", 11, 12) + b"v=y"


def test_parameter_status_key_data() -> None:
    assert be.parameter_status("a", "b") == b"S\0\0\0\x08a\0b\0"
    assert be.backend_key_data(7, b"\0\0\0\x09") == b"K\0\0\0\x0c\0\0\0\x07\0\0\0\x09"
    assert be.backend_key_data(7, 9) == be.backend_key_data(7, b"\0\0\0\x09")


def test_copy_in_response_matches_real_pg() -> None:
    # [measured] PG 15 for 2 columns: text G 00 0002 0000 0000, binary G 01 0002 0001 0001
    assert be.copy_in_response(False, 2) == b"G\0\0\0\x0b\x00\x00\x02\x00\x00\x00\x00"
    assert be.copy_in_response(True, 2) == b"G\0\0\0\x0b\x01\x00\x02\x00\x01\x00\x01"


def test_row_description_and_data_row() -> None:
    rd = be.row_description([be.FieldDesc("id", type_oid=20, type_size=8),
                             be.FieldDesc("name", 1234, 2, 25, -1, -1, 1)])
    body = struct.pack("!h", 2) + b"id\0" + struct.pack("!IhIhih", 0, 0, 20, 8, -1, 0)
    body += b"name\0" + struct.pack("!IhIhih", 1234, 2, 25, -1, -1, 1)
    assert rd == b"T" + struct.pack("!i", len(body) + 4) + body
    dr = be.data_row([b"1", None, b""])
    body = struct.pack("!h", 3) + struct.pack("!i", 1) + b"1" + struct.pack("!ii", -1, 0)
    assert dr == b"D" + struct.pack("!i", len(body) + 4) + body
    assert be.data_row([]) == b"D\0\0\0\x06\0\0"


def test_command_complete_and_errors() -> None:
    assert be.command_complete("INSERT 0 1") == b"C\0\0\0\x0fINSERT 0 1\0"
    err = PgError("22P02", 'invalid input syntax for type integer: "zz"',
                  where="COPY u, line 2, column id: \"zz\"")
    msg = be.error_response(err)
    assert msg[:1] == b"E"
    (ln,) = struct.unpack_from("!i", msg, 1)
    assert ln == len(msg) - 1
    fields = msg[5:-1].split(b"\0")[:-1]
    assert fields[:4] == [b"SERROR", b"VERROR", b"C22P02",
                          b'Minvalid input syntax for type integer: "zz"']
    assert b'WCOPY u, line 2, column id: "zz"' in fields
    assert be.notice_response(PgError("00000", "hi", severity="NOTICE"))[:1] == b"N"


def test_parameter_description_and_npv() -> None:
    assert be.parameter_description([20, 3802]) == b"t\0\0\0\x0e\0\x02" + struct.pack(
        "!II", 20, 3802)
    assert be.parameter_description([]) == b"t\0\0\0\x06\0\0"
    npv = be.negotiate_protocol_version(0, ["_pq_.foo"])
    assert npv == b"v" + struct.pack("!iii", 4 + 8 + 9, 196608, 1) + b"_pq_.foo\0"
