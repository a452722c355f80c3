"""Hostile input against the sans-IO protocol core: every parser and state machine answers any
byte sequence with a PgError (or a result), never another exception, never a hang, and never
holds more than what it was fed (no length-word driven allocation).

Examples per test: 300 in CI, ``PGGW_FUZZ_EXAMPLES`` (default 5000) in the full run.
"""

from __future__ import annotations

import contextlib
import os
import struct
import time
import tracemalloc
from typing import Any

import pytest
from harness import write_figure
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_mode import FULL

from pggw.wire import frontend
from pggw.wire.auth import make_verifier
from pggw.wire.copy import BinaryCopyDecoder, CsvCopyDecoder, TextCopyDecoder
from pggw.wire.errors import PgError
from pggw.wire.framing import MessageReader
from pggw.wire.startup import AuthInfo, Close, StartupMachine

EXAMPLES = int(os.environ.get("PGGW_FUZZ_EXAMPLES", "5000" if FULL else "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, derandomize=not FULL,
                suppress_health_check=list(HealthCheck), database=None)
EXECUTED: dict[str, int] = {}
USERS = {"alice": AuthInfo(scram=make_verifier("pw", iterations=16))}


def count(name: str) -> None:
    EXECUTED[name] = EXECUTED.get(name, 0) + 1


def _msg(t: bytes, body: bytes) -> bytes:
    return t + struct.pack("!i", len(body) + 4) + body


def _startup(params: dict[str, str], version: int = 196608) -> bytes:
    body = struct.pack("!i", version) + b"".join(
        k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items()) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


cstr = st.binary(max_size=40).map(lambda b: b.replace(b"\0", b"") + b"\0")
i16 = st.integers(-40000, 40000).map(lambda n: struct.pack("!h", max(-32768, min(32767, n))))
i32 = st.integers(-2**31, 2**31 - 1).map(lambda n: struct.pack("!i", n))
field = st.one_of(cstr, i16, i32, st.binary(max_size=30))
body = st.lists(field, max_size=12).map(b"".join)
mtype = st.sampled_from(list(b"QPBEDCSHXFdcfp")).map(lambda b: bytes([b])) | st.binary(
    min_size=1, max_size=1)
messages = st.lists(st.tuples(mtype, body), max_size=20)
startup_bodies = st.one_of(
    st.binary(max_size=200),
    st.tuples(st.sampled_from([196608, 80877103, 80877104, 80877102, 131072, 196609, 0]),
              st.dictionaries(st.text(max_size=12), st.text(max_size=20), max_size=6)).map(
        lambda t: _startup(t[1], t[0])[4:]),
)


def _mutate(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    b = bytearray(data)
    for pos, val in flips:
        if b:
            b[pos % len(b)] = val
    return bytes(b)


def test_message_reader_any_stream() -> None:
    @FUZZ
    @given(st.binary(max_size=400), st.booleans(), st.lists(st.integers(1, 50), max_size=10))
    def run(data: bytes, startup: bool, cuts: list[int]) -> None:
        count("MessageReader")
        r = MessageReader(max_message_size=1 << 16)
        r.startup = startup
        pos = 0
        try:
            for n in [*cuts, len(data)]:
                r.feed(data[pos:pos + n])
                pos += n
                while (m := r.next_message()) is not None:
                    assert len(m[1]) <= max(len(data), 1)
            # Never more buffered than what came in.
            assert r.buffered() <= len(data)
        except PgError as e:
            assert e.sqlstate == "08P01"
    run()


def test_message_reader_huge_length_word_allocates_nothing() -> None:
    """A length word of 2 GB must not make the reader allocate (or wait for) 2 GB."""
    tracemalloc.start()
    r = MessageReader()
    r.startup = False
    try:
        r.feed(b"Q" + struct.pack("!i", 2**31 - 1) + b"x" * 100)
        with pytest.raises(PgError):
            r.next_message()
        r2 = MessageReader()
        r2.startup = False
        r2.feed(b"Q" + struct.pack("!i", 200 * 2**20) + b"x" * 100)  # under the 256 MiB cap
        assert r2.next_message() is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak


def test_parse_startup_packet_any_body() -> None:
    @FUZZ
    @given(startup_bodies)
    def run(b: bytes) -> None:
        count("parse_startup_packet")
        with contextlib.suppress(PgError):
            frontend.parse_startup_packet(b)
    run()


DECODERS = [frontend.decode_query, frontend.decode_parse, frontend.decode_bind,
            frontend.decode_describe, frontend.decode_close, frontend.decode_execute,
            frontend.decode_copy_fail, frontend.decode_password, frontend.decode_sasl_initial,
            frontend.decode_sasl_response]


@pytest.mark.parametrize("decoder", DECODERS, ids=lambda f: f.__name__)
def test_frontend_decoders_any_body(decoder: Any) -> None:
    @FUZZ
    @given(body)
    def run(b: bytes) -> None:
        count(decoder.__name__)
        try:
            decoder(b)
            decoder(memoryview(b))
        except PgError:
            pass
    run()


def test_decode_bind_hostile_counts() -> None:
    """Parameter counts of 32767 / -1 / 65535 and lengths beyond the body: PgError, quickly."""
    for nparams in (32767, -1, -32768):
        for plen in (2**31 - 1, -2, 10):
            b = (b"\0\0" + struct.pack("!h", 0) + struct.pack("!h", nparams)
                 + struct.pack("!i", plen) * 3 + struct.pack("!h", 0))
            t = time.monotonic()
            with pytest.raises(PgError):
                frontend.decode_bind(b)
            assert time.monotonic() - t < 1


def _drive_machine(stream: bytes, require_tls: bool, method: str) -> None:
    m = StartupMachine(tls_available=True, require_tls=require_tls, auth_method=method,
                       lookup=USERS.get)
    r = MessageReader(max_message_size=1 << 16)
    r.feed(stream)
    steps = 0
    while not m.finished:
        r.startup = m.expecting_startup_packet
        try:
            msg = r.next_message()
        except PgError:
            return
        if msg is None:
            return
        events = m.receive(msg[0], msg[1], pending=r.buffered())
        steps += 1
        assert steps < 100
        if any(isinstance(e, Close) for e in events):
            assert m.finished
            return


def test_startup_machine_any_sequence() -> None:
    @FUZZ
    @given(startup_bodies, messages, st.booleans(), st.sampled_from(["scram", "md5", "password"]),
           st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4))
    def run(first: bytes, rest: list[tuple[bytes, bytes]], require_tls: bool, method: str,
            flips: list[tuple[int, int]]) -> None:
        count("StartupMachine")
        good = _startup({"user": "alice", "database": "alice"})
        stream = (struct.pack("!i", len(first) + 4) + first if first else good) + b"".join(
            _msg(t, b) for t, b in rest)
        _drive_machine(_mutate(stream, flips), require_tls, method)
        # A valid start then garbage where the SASL answers go.
        _drive_machine(good + b"".join(_msg(b"p", b) for _, b in rest), require_tls, method)
    run()


def _copy_decoders(ncols: int) -> list[Any]:
    return [TextCopyDecoder(ncols), CsvCopyDecoder(ncols), BinaryCopyDecoder(ncols)]


def test_copy_decoders_any_stream() -> None:
    binary_start = b"PGCOPY\n\xff\r\n\0" + b"\0" * 8
    tuple_ = st.lists(st.one_of(st.just(b"\xff\xff\xff\xff"),
                                st.binary(max_size=12).map(
                                    lambda v: struct.pack("!i", len(v)) + v),
                                i32), max_size=4).map(
        lambda fs: struct.pack("!h", len(fs)) + b"".join(fs))
    binary_stream = st.lists(tuple_, max_size=6).map(
        lambda ts: binary_start + b"".join(ts) + b"\xff\xff")
    text_stream = st.lists(st.text(max_size=40), max_size=8).map(
        lambda ls: "\n".join(ls).encode())

    @FUZZ
    @given(st.one_of(st.binary(max_size=300), binary_stream, text_stream),
           st.integers(1, 5), st.lists(st.integers(1, 64), max_size=8),
           st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3))
    def run(data: bytes, ncols: int, cuts: list[int], flips: list[tuple[int, int]]) -> None:
        count("copy decoders")
        data = _mutate(data, flips)
        for dec in _copy_decoders(ncols):
            pos = 0
            try:
                for n in [*cuts, len(data)]:
                    dec.feed(data[pos:pos + n])
                    pos += n
                dec.finish()
            except PgError:
                pass
    run()


def test_zz_figure() -> None:
    write_figure("fuzz_sansio", {"examples_per_test": EXAMPLES,
                                 "inputs_executed": sum(EXECUTED.values()),
                                 "by_target": EXECUTED})
