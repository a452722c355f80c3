from __future__ import annotations

import hashlib
import struct
from typing import Any

import pytest
from scramp import ScramClient

from pggw.wire.auth import make_verifier, md5_hash
from pggw.wire.framing import MessageReader
from pggw.wire.startup import (
    Authenticated,
    AuthInfo,
    CancelRequested,
    Close,
    Event,
    Send,
    StartTLS,
    StartupMachine,
)

USERS = {
    "alice": AuthInfo(scram=make_verifier("s3cret")),
    "bob": AuthInfo(scram=make_verifier("pw"), md5=md5_hash("bob", "pw")),
    "carol": AuthInfo(md5=md5_hash("carol", "pw")),
}


def startup_packet(params: dict[str, str], version: int = 196608) -> bytes:
    body = struct.pack("!i", version) + b"".join(
        k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items()) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


def typed(t: bytes, body: bytes) -> bytes:
    return t + struct.pack("!i", len(body) + 4) + body


class Conn:
    """A fake adapter: bytes in, events out."""

    def __init__(self, **kw: Any) -> None:
        opts: dict[str, Any] = dict(tls_available=False, require_tls=False, auth_method="scram",
                                    lookup=USERS.get)
        opts.update(kw)
        self.m = StartupMachine(**opts)
        self.r = MessageReader()
        self.out = b""
        self.events: list[Event] = []

    def send(self, data: bytes) -> list[Event]:
        self.r.feed(data)
        new: list[Event] = []
        while not self.m.finished and (msg := self.r.next_message()) is not None:
            evs = self.m.receive(msg[0], msg[1], pending=self.r.buffered())
            for e in evs:
                if isinstance(e, Send):
                    self.out += e.data
                if isinstance(e, StartTLS):
                    self.m.tls_active = True
            new += evs
            self.r.startup = self.m.expecting_startup_packet
        self.events += new
        return new

    def take(self) -> bytes:
        out, self.out = self.out, b""
        return out


def messages(data: bytes) -> list[tuple[bytes, bytes]]:
    out = []
    pos = 0
    while pos < len(data):
        t = data[pos:pos + 1]
        (ln,) = struct.unpack_from("!i", data, pos + 1)
        out.append((t, data[pos + 5:pos + 1 + ln]))
        pos += 1 + ln
    return out


def error_fields(body: bytes) -> dict[str, str]:
    return {f[:1].decode(): f[1:].decode() for f in body.split(b"\0") if f}


def scram_login(conn: Conn, user: str, password: str) -> list[Event]:
    client = ScramClient(["SCRAM-SHA-256"], user, password)
    evs = conn.send(startup_packet({"user": user, "database": "postgres",
                                    "application_name": "t"}))
    (t, body), = messages(conn.take())
    assert t == b"R" and body == struct.pack("!i", 10) + b"SCRAM-SHA-256\0\0"
    assert not any(isinstance(e, Authenticated) for e in evs)
    cf = client.get_client_first().encode()
    conn.send(typed(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(cf)) + cf))
    (t, body), = messages(conn.take())
    assert t == b"R" and body[:4] == struct.pack("!i", 11)
    client.set_server_first(body[4:].decode())
    evs = conn.send(typed(b"p", client.get_client_final().encode()))
    if any(isinstance(e, Authenticated) for e in evs):
        msgs = messages(conn.take())
        assert msgs[0][1][:4] == struct.pack("!i", 12)
        client.set_server_final(msgs[0][1][4:].decode())
        assert msgs[1] == (b"R", struct.pack("!i", 0))
    return evs


def test_scram_success() -> None:
    c = Conn()
    evs = scram_login(c, "alice", "s3cret")
    auth = [e for e in evs if isinstance(e, Authenticated)]
    assert auth == [Authenticated("alice", "postgres", {"application_name": "t"}, 0)]
    assert c.m.finished


def test_scram_wrong_password() -> None:
    c = Conn()
    evs = scram_login(c, "alice", "bad")
    assert isinstance(evs[-1], Close)
    (t, body), = messages(c.take())
    f = error_fields(body)
    assert t == b"E" and f["C"] == "28P01" and f["S"] == "FATAL" and f["V"] == "FATAL"
    assert f["M"] == 'password authentication failed for user "alice"'


def test_unknown_user_runs_exchange_then_fails() -> None:
    c = Conn()
    evs = scram_login(c, "mallory", "whatever")
    assert isinstance(evs[-1], Close)
    (t, body), = messages(c.take())
    assert error_fields(body)["M"] == 'password authentication failed for user "mallory"'


def test_ssl_request_accepted_then_startup() -> None:
    c = Conn(tls_available=True, require_tls=True)
    evs = c.send(struct.pack("!ii", 8, 80877103))
    assert evs == [Send(b"S"), StartTLS()]
    assert c.m.expecting_startup_packet and c.r.startup
    c.take()
    evs = scram_login(c, "alice", "s3cret")
    assert any(isinstance(e, Authenticated) for e in evs)


def test_ssl_request_refused_and_plaintext_continues() -> None:
    c = Conn(tls_available=False)
    assert c.send(struct.pack("!ii", 8, 80877103)) == [Send(b"N")]
    c.take()
    assert any(isinstance(e, Authenticated) for e in scram_login(c, "alice", "s3cret"))


def test_gssenc_then_ssl() -> None:
    c = Conn(tls_available=True)
    assert c.send(struct.pack("!ii", 8, 80877104)) == [Send(b"N")]
    assert c.send(struct.pack("!ii", 8, 80877103)) == [Send(b"S"), StartTLS()]


def test_bytes_pipelined_after_ssl_request_are_fatal() -> None:
    c = Conn(tls_available=True)
    evs = c.send(struct.pack("!ii", 8, 80877103) + startup_packet({"user": "alice"}))
    assert not any(isinstance(e, StartTLS) for e in evs)
    assert isinstance(evs[-1], Close)
    (t, body), = messages(c.take())
    f = error_fields(body)
    assert f["C"] == "08P01" and f["M"] == "received unencrypted data after SSL request"


def test_second_ssl_request_is_fatal() -> None:
    c = Conn(tls_available=False)
    c.send(struct.pack("!ii", 8, 80877103))
    evs = c.send(struct.pack("!ii", 8, 80877103))
    assert isinstance(evs[-1], Close)


def test_require_tls_without_tls() -> None:
    c = Conn(tls_available=True, require_tls=True)
    evs = c.send(startup_packet({"user": "alice"}))
    assert isinstance(evs[-1], Close)
    f = error_fields(messages(c.take())[0][1])
    assert f["C"] == "28000" and "no encryption" in f["M"] and f["S"] == "FATAL"


def test_cancel_request() -> None:
    c = Conn()
    evs = c.send(struct.pack("!iiii", 16, 80877102, 1234, 5678))
    assert evs == [CancelRequested(1234, struct.pack("!i", 5678)), Close()]
    assert c.take() == b""


def test_missing_user() -> None:
    c = Conn()
    evs = c.send(startup_packet({"database": "x"}))
    assert isinstance(evs[-1], Close)
    f = error_fields(messages(c.take())[0][1])
    assert f["C"] == "28000"
    assert f["M"] == "no PostgreSQL user name specified in startup packet"


def test_protocol_3_2_and_pq_options_negotiated() -> None:
    c = Conn()
    c.send(startup_packet({"user": "alice", "_pq_.compression": "on"}, version=196610))
    msgs = messages(c.take())
    assert msgs[0][0] == b"v"
    assert msgs[0][1] == struct.pack("!ii", 196608, 1) + b"_pq_.compression\0"
    assert msgs[1][0] == b"R"


def test_protocol_2_rejected() -> None:
    c = Conn()
    evs = c.send(startup_packet({"user": "alice"}, version=131072))
    assert isinstance(evs[-1], Close)
    f = error_fields(messages(c.take())[0][1])
    assert f["C"] == "08P01" and f["M"].startswith("unsupported frontend protocol 2.0")


def test_database_defaults_to_user_and_quotes_stripped() -> None:
    c = Conn(auth_method="password", allow_cleartext_without_tls=True)
    c.send(startup_packet({"user": "alice", "client_encoding": "'utf-8'"}))
    assert messages(c.take()) == [(b"R", struct.pack("!i", 3))]
    evs = c.send(typed(b"p", b"s3cret\0"))
    assert evs[-1] == Authenticated("alice", "alice", {"client_encoding": "utf-8"}, 0)


def test_cleartext_refused_without_tls_falls_back_to_scram() -> None:
    c = Conn(auth_method="password")
    c.send(startup_packet({"user": "alice"}))
    assert messages(c.take())[0][1][:4] == struct.pack("!i", 10)


def test_cleartext_over_tls_wrong_password() -> None:
    c = Conn(auth_method="password", tls_available=True)
    c.send(struct.pack("!ii", 8, 80877103))
    c.take()
    c.send(startup_packet({"user": "alice"}))
    c.take()
    evs = c.send(typed(b"p", b"nope\0"))
    assert isinstance(evs[-1], Close)
    assert error_fields(messages(c.take())[0][1])["C"] == "28P01"


@pytest.mark.parametrize("user", ["bob", "carol"])
def test_md5(user: str) -> None:
    c = Conn(auth_method="md5")
    c.send(startup_packet({"user": user}))
    (t, body), = messages(c.take())
    assert body[:4] == struct.pack("!i", 5)
    salt = body[4:8]
    inner = hashlib.md5(f"pw{user}".encode()).hexdigest()
    resp = "md5" + hashlib.md5(inner.encode() + salt).hexdigest()
    evs = c.send(typed(b"p", resp.encode() + b"\0"))
    assert isinstance(evs[-1], Authenticated) and evs[-1].user == user


def test_md5_method_without_md5_hash_uses_scram() -> None:
    c = Conn(auth_method="md5")
    evs = scram_login(c, "alice", "s3cret")
    assert isinstance(evs[-1], Authenticated)


def test_wrong_message_type_during_auth() -> None:
    c = Conn()
    c.send(startup_packet({"user": "alice"}))
    c.take()
    evs = c.send(typed(b"Q", b"SELECT 1\0"))
    assert isinstance(evs[-1], Close)
    assert error_fields(messages(c.take())[0][1])["C"] == "08P01"


def test_wrong_sasl_mechanism() -> None:
    c = Conn()
    c.send(startup_packet({"user": "alice"}))
    c.take()
    evs = c.send(typed(b"p", b"SCRAM-SHA-256-PLUS\0" + struct.pack("!i", 3) + b"p=x"))
    assert isinstance(evs[-1], Close)


def test_receive_after_finish_raises() -> None:
    c = Conn()
    c.send(struct.pack("!iiii", 16, 80877102, 1, 2))
    with pytest.raises(RuntimeError):
        c.m.receive(0, memoryview(b""))
