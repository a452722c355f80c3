"""The connection adapter holds the replies of a transaction while its commit waits for
the WAL, and sends them with ReadyForQuery in one write (PostgreSQL flushes at Sync)."""

from __future__ import annotations

import struct
from types import SimpleNamespace
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.testing import StringTransport

from pggw.server.protocol import GatewayContext, PgServerProtocol
from pggw.server.session import Session
from pggw.sql.catalog import Catalog
from pggw.sql.engine import Engine
from pggw.sql.settings import Settings
from pggw.sql.writes import Writer
from pggw.tables.registry import builtin_registry

SQL = 'INSERT INTO double_datapoints (external_id, "timestamp", value) VALUES ($1, $2, $3)'


def msg(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


def parse(name: bytes, sql: str) -> bytes:
    return msg(b"P", name + b"\0" + sql.encode() + b"\0" + struct.pack("!H", 0))


def bind(name: bytes, *params: bytes) -> bytes:
    body = b"\0" + name + b"\0" + struct.pack("!H", 0) + struct.pack("!H", len(params))
    for p in params:
        body += struct.pack("!I", len(p)) + p
    return msg(b"B", body + struct.pack("!H", 0))


DESCRIBE_PORTAL = msg(b"D", b"P\0")
EXECUTE = msg(b"E", b"\0" + struct.pack("!I", 0))
SYNC = msg(b"S", b"")


class CountingTransport(StringTransport):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        super().write(data)

    def writeSequence(self, seq: Any) -> None:  # noqa: N802
        self.writes += 1
        super().writeSequence(seq)


class FakeWal:
    def __init__(self) -> None:
        self.commits: list[Deferred[int]] = []
        self.n = 0

    def new_txid(self) -> int:
        self.n += 1
        return self.n

    def commit(self, txid: int, user: str, chunks: Any) -> Deferred[int]:
        d: Deferred[int] = Deferred()
        self.commits.append(d)
        return d


def connection() -> tuple[PgServerProtocol, CountingTransport, FakeWal]:
    registry = builtin_registry()
    wal = FakeWal()
    settings = Settings()
    settings.apply_startup({"session_authorization": "alice"})
    writer = Writer(registry=registry, wal=wal, user="alice", settings=settings)
    engine = Engine(user="alice", database="alice", settings=settings, writer=writer,
                    catalog=Catalog(registry, user="alice", database="alice",
                                    settings=settings),
                    services=SimpleNamespace(metrics=None, uploader=None))
    ctx = GatewayContext(auth_method="scram", require_tls=False,
                         allow_cleartext_without_tls=False, tls_context=None,
                         lookup=lambda user: None, make_engine=lambda *a: engine,
                         database_ok=lambda user, db: True)
    proto = PgServerProtocol(ctx)
    transport = CountingTransport()
    proto.makeConnection(transport)
    proto.reader.startup = False  # as after authentication
    proto.session = Session(engine, proto._write, proto._send)
    return proto, transport, wal


def test_an_autocommit_insert_is_answered_in_one_write_after_the_commit() -> None:
    proto, transport, wal = connection()
    proto.dataReceived(parse(b"s1", SQL) + SYNC)
    transport.clear()
    transport.writes = 0
    proto.dataReceived(bind(b"s1", b"ts-1", b"2024-01-01 00:00:00+00", b"1.5")
                       + DESCRIBE_PORTAL + EXECUTE + SYNC)
    assert len(wal.commits) == 1
    assert transport.writes == 0 and transport.value() == b""  # held: not durable yet
    assert proto.session is not None and proto.session.committing
    wal.commits[0].callback(1)
    assert transport.writes == 1
    out = transport.value()
    assert [out[i:i + 1] for i in _message_starts(out)] == [b"2", b"n", b"C", b"Z"]
    assert not proto.session.committing


def test_replies_are_not_held_while_waiting_for_anything_but_a_commit() -> None:
    from pggw.server.protocol import OUT_HIGH_WATER

    proto, transport, _ = connection()

    class Waiting:
        closed = False
        committing = False
        reply = b"reply"

        def receive(self, mtype: int, body: memoryview) -> Deferred[None]:
            proto._write(self.reply)
            self.d: Deferred[None] = Deferred()
            return self.d

    session = Waiting()
    proto.session = session  # type: ignore[assignment]
    proto.dataReceived(msg(b"d", b"copy data"))
    assert transport.value() == b"reply"  # a backpressure wait does not hold replies
    session.d.callback(None)
    session.committing = True
    proto.dataReceived(msg(b"d", b"more"))
    assert transport.value() == b"reply"  # a commit's wait does …
    session.d.callback(None)
    assert transport.value() == b"replyreply"  # … until it ends
    session.reply = b"x" * (OUT_HIGH_WATER + 1)
    proto.dataReceived(msg(b"d", b"big"))
    assert len(transport.value()) == 10 + OUT_HIGH_WATER + 1  # … unless too much is held


def _message_starts(data: bytes) -> list[int]:
    starts, i = [], 0
    while i < len(data):
        starts.append(i)
        i += 1 + struct.unpack("!I", data[i + 1:i + 5])[0]
    return starts


def test_a_pipelined_transaction_does_not_hold_back_the_previous_ones_reply() -> None:
    proto, transport, wal = connection()
    proto.dataReceived(parse(b"s1", SQL) + SYNC)
    transport.clear()
    one = bind(b"s1", b"ts-1", b"2024-01-01 00:00:00+00", b"1.5") + EXECUTE + SYNC
    proto.dataReceived(one + one)  # two transactions sent at once
    assert len(wal.commits) == 1 and transport.value() == b""
    wal.commits[0].callback(1)
    # the first one's replies went out before the second one started to commit
    assert transport.value().endswith(b"Z\0\0\0\x05I") and len(wal.commits) == 2
    first = transport.value()
    wal.commits[1].callback(2)
    assert transport.value() == first * 2
