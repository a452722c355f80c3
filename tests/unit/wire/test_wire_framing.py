from __future__ import annotations

import struct
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pggw.wire.errors import PgError
from pggw.wire.framing import MessageReader


def typed(t: bytes, body: bytes) -> bytes:
    return t + struct.pack("!i", len(body) + 4) + body


def startup(body: bytes) -> bytes:
    return struct.pack("!i", len(body) + 4) + body


STARTUP_BODY = struct.pack("!i", 196608) + b"user\0alice\0\0"


def drain(r: MessageReader) -> list[tuple[int, bytes]]:
    out = []
    while (m := r.next_message()) is not None:
        out.append((m[0], bytes(m[1])))
        r.startup = False
    return out


messages = st.lists(
    st.tuples(st.sampled_from(b"QPBDESHXdcfp"), st.binary(max_size=300)), max_size=20)


@given(messages, st.lists(st.integers(min_value=1, max_value=50), max_size=60))
@settings(max_examples=200)
def test_random_splits(msgs: list[tuple[int, bytes]], cuts: list[int]) -> None:
    stream = startup(STARTUP_BODY) + b"".join(typed(bytes([t]), b) for t, b in msgs)
    r = MessageReader()
    got: list[tuple[int, bytes]] = []
    pos = 0
    for c in cuts:
        r.feed(stream[pos:pos + c])
        pos += c
        got += drain(r)
    r.feed(stream[pos:])
    got += drain(r)
    assert got == [(0, STARTUP_BODY)] + [(t, b) for t, b in msgs]
    assert r.buffered() == 0


def test_incomplete_returns_none() -> None:
    r = MessageReader()
    r.startup = False
    r.feed(b"Q\0\0")
    assert r.next_message() is None
    r.feed(b"\0\x09abc")
    assert r.next_message() is None
    assert r.buffered() == 8
    r.feed(b"d\0")
    assert r.next_message() == (ord("Q"), memoryview(b"abcd\0"))


def test_ssl_request_then_startup() -> None:
    r = MessageReader()
    r.feed(struct.pack("!ii", 8, 80877103))
    m = r.next_message()
    assert m is not None and m[0] == 0 and bytes(m[1]) == struct.pack("!i", 80877103)
    assert r.startup  # still expecting an untyped packet
    r.feed(startup(STARTUP_BODY))
    m = r.next_message()
    assert m is not None and bytes(m[1]) == STARTUP_BODY


@pytest.mark.parametrize("length", [0, 3, -1])
def test_bad_typed_length(length: int) -> None:
    r = MessageReader()
    r.startup = False
    r.feed(b"Q" + struct.pack("!i", length))
    with pytest.raises(PgError) as ei:
        r.next_message()
    assert ei.value.sqlstate == "08P01" and ei.value.severity == "FATAL"


def test_too_large_rejected_before_buffering() -> None:
    r = MessageReader(max_message_size=1000)
    r.startup = False
    r.feed(b"d" + struct.pack("!i", 1001))
    with pytest.raises(PgError):
        r.next_message()


@pytest.mark.parametrize("length", [0, 4, 7, 10001])
def test_bad_startup_length(length: int) -> None:
    r = MessageReader()
    r.feed(struct.pack("!i", length) + b"\0" * 8)
    with pytest.raises(PgError) as ei:
        r.next_message()
    assert ei.value.sqlstate == "08P01"


def test_body_survives_further_feeds() -> None:
    r = MessageReader()
    r.startup = False
    r.feed(typed(b"Q", b"one\0") + typed(b"Q", b"two\0")[:3])
    m = r.next_message()
    assert m is not None
    body = m[1]
    for _ in range(2000):  # forces growth and compaction while body is alive
        r.feed(b"x" * 100)
    assert bytes(body) == b"one\0"


def test_huge_message_in_small_reads_is_linear() -> None:
    size = 64 * 2**20
    payload = bytes(size)
    msg = typed(b"d", payload)
    r = MessageReader()
    r.startup = False
    t = time.perf_counter()
    for i in range(0, len(msg), 16384):
        r.feed(msg[i:i + 16384])
        if i + 16384 < len(msg):
            assert r.next_message() is None
    m = r.next_message()
    elapsed = time.perf_counter() - t
    assert m is not None and len(m[1]) == size
    assert elapsed < 5


def test_many_small_messages() -> None:
    one = typed(b"B", b"\0\0" + b"\0\0\0\0") + typed(b"E", b"\0\0\0\0\0") + typed(b"S", b"")
    data = one * 30000
    r = MessageReader()
    r.startup = False
    n = 0
    for i in range(0, len(data), 65536):
        r.feed(data[i:i + 65536])
        while r.next_message() is not None:
            n += 1
    assert n == 90000


def test_large_messages_back_to_back() -> None:
    big1 = bytes(range(256)) * 400  # 102400 bytes: above the hand-over threshold
    big2 = b"z" * 70000
    stream = typed(b"d", big1) + typed(b"d", big2) + typed(b"c", b"") + typed(b"d", big1)
    for step in (1000, 9999, 65536, 200000, len(stream)):
        r = MessageReader()
        r.startup = False
        got = []
        for i in range(0, len(stream), step):
            r.feed(memoryview(stream)[i:i + step])
            while (m := r.next_message()) is not None:
                got.append((m[0], m[1]))
        assert [(t, bytes(b)) for t, b in got] == [
            (ord("d"), big1), (ord("d"), big2), (ord("c"), b""), (ord("d"), big1)]
