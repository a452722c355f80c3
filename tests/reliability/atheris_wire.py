"""Coverage-guided fuzzing (atheris / libFuzzer) of the sans-IO wire code in ``pggw.wire``.

Run as a script; every argument is handed to libFuzzer::

    python tests/reliability/atheris_wire.py -runs=20000 -seed=1 -timeout=10 CORPUS_DIR
    python tests/reliability/atheris_wire.py --write-seeds CORPUS_DIR   # the seed corpus

``test_fuzz_atheris.py`` does both. One input drives one of four targets:

0. ``MessageReader`` fed in random splits, each framed message into its frontend decoder
   (startup packet, Query, Parse, Bind — whose parameters then go through the codecs with
   the OIDs of the last Parse, as the session does —, Describe, Close, Execute, CopyFail,
   the three password-message flavours, CopyData into a COPY decoder).
1. ``parse_startup_packet`` + ``StartupMachine`` through SSLRequest / startup / SASL /
   MD5 / cleartext exchanges; a "cooperative client" flag rewrites the answers into
   correct ones (right nonce, right proof, right MD5 hash) so the success path is reached.
2. the text / CSV / binary COPY decoders with random options, then the codecs on the fields.
3. the text and binary codecs of every built-in type on one value.

The only allowed outcomes are a normal return and :class:`~pggw.wire.errors.PgError`
(which must be well-formed and encodable as an ErrorResponse). Any other exception is a
crash; so is a decoded structure far bigger than the bytes it came from (an allocation
driven by a length word or a count), a hang (libFuzzer's ``-timeout``) and an RSS over
``-rss_limit_mb``. Two differential checks as well: the framing of a stream and the rows of
a COPY must not depend on how the bytes were cut into reads / CopyData messages. And two
security ones: ``Authenticated`` only for a known user (and over TLS when it is required),
and no cleartext password request over plaintext unless allowed.

Input layout (so that seeds can be written by hand): byte 0 picks the target, byte 1 holds
flags whose top 3 bits are the number of split points, bytes 2-9 are target options; the
split sizes (1-256) are taken from the *end* of the input (FuzzedDataProvider takes ranged
integers from the end) and what is left in the middle is the payload.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import atheris  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports(include=["pggw.wire"]):
    from pggw.wire import auth, backend, codecs, frontend
    from pggw.wire import startup as S
    from pggw.wire.copy import BINARY_SIGNATURE, BinaryCopyDecoder, CsvCopyDecoder, TextCopyDecoder
    from pggw.wire.errors import PgError
    from pggw.wire.framing import MessageReader
    from pggw.wire.types import TYPES_BY_OID

# The mock verifier of unknown users costs a 4096-round PBKDF2 per cleartext attempt; the
# fuzzer is not measuring timing, so make it cheap (known users use 16 rounds, too).
auth.DEFAULT_ITERATIONS = 16
PASSWORD = "pw"
USERS: dict[str, S.AuthInfo] = {
    "alice": S.AuthInfo(scram=auth.make_verifier(PASSWORD, 16, b"fuzz-salt-alice!")),
    "bob": S.AuthInfo(scram=auth.make_verifier(PASSWORD, 16, b"fuzz-salt-bob!!!"),
                      md5=auth.md5_hash("bob", PASSWORD)),
    "carol": S.AuthInfo(md5=auth.md5_hash("carol", PASSWORD)),
}
# A fixed server nonce (and the fixed salts above) make an input replay the same SCRAM
# exchange in every process, so seeds can hold a correct client-final and the fuzzer can
# mutate around it (libFuzzer also wants a deterministic target).
SERVER_NONCE = bytes(18)


class _FixedNonceScram(auth.ScramServer):
    def __init__(self, user: str, verifier: auth.ScramVerifier | None,
                 nonce: bytes | None = None) -> None:
        super().__init__(user, verifier, nonce=SERVER_NONCE)


S.ScramServer = _FixedNonceScram  # type: ignore[attr-defined]
STARTUP_USERS = ["alice", "bob", "carol", "mallory"]
METHODS = ["scram", "md5", "password", "scram"]
OIDS = sorted(TYPES_BY_OID) + [0, 99999]
TIMEZONES = ["UTC", "Europe/Oslo", "America/St_Johns", "Asia/Kathmandu", "posixrules",
             "Factory", "Nowhere/Else"]
DELIMITERS = [",", "\t", "|", ";", "\\", "\n", "ab", '"']
QUOTES = ['"', "'", "\\", ","]
NULLS = ["", "\\N", "NULL", "\\"]
HEADER = 10  # bytes before the payload

# How much bigger (in Python objects) than its input any decoded structure may be. Generous:
# it is there to catch a length word or count turned into an allocation, not to measure.
FACTOR = 64
SLACK = 4096
# A numeric of weight 32767 legitimately expands 10 bytes into 131 072 digits (PostgreSQL
# accepts it too); the codecs get this much absolute headroom on top of the factor.
CODEC_SLACK = 1 << 20


class Bloat(AssertionError):
    """A decoded structure is much bigger than the bytes it was decoded from."""


def weight(obj: Any, depth: int = 0) -> int:
    """A rough size in bytes of a decoded value (strings, bytes, containers, dataclasses)."""
    if obj is None or isinstance(obj, bool | int | float):
        return 8
    if isinstance(obj, str | bytes | bytearray | memoryview):
        return 8 + len(obj)
    if depth > 200:
        return 8
    if isinstance(obj, list | tuple):
        return 8 + sum(weight(x, depth + 1) for x in obj)
    if isinstance(obj, dict):
        return 8 + sum(weight(k, depth + 1) + weight(v, depth + 1) for k, v in obj.items())
    if is_dataclass(obj):
        return 8 + sum(weight(getattr(obj, f.name), depth + 1) for f in fields(obj))
    return sys.getsizeof(obj)


def bounded(obj: Any, n_in: int, what: str, slack: int = SLACK) -> None:
    w = weight(obj)
    if w > FACTOR * n_in + slack:
        raise Bloat(f"{what}: {w} bytes of Python objects from {n_in} input bytes")


def check_error(err: PgError) -> None:
    """A PgError must be something the server can send: SQLSTATE, severity, encodable."""
    assert isinstance(err.sqlstate, str) and len(err.sqlstate) == 5 and \
        err.sqlstate.isalnum(), err
    assert err.severity in ("ERROR", "FATAL"), err
    assert isinstance(err.message, str) and err.message, err
    check_backend(backend.error_response(err))


def check_backend(data: bytes) -> None:
    """One or more well-framed backend messages."""
    pos = 0
    while pos < len(data):
        assert pos + 5 <= len(data), data
        (ln,) = struct.unpack_from("!i", data, pos + 1)
        assert ln >= 4 and pos + 1 + ln <= len(data), data
        pos += 1 + ln


def chunks(payload: bytes, splits: list[int]) -> Iterator[bytes]:
    pos = 0
    for n in splits:
        yield payload[pos:pos + n]
        pos += n
    yield payload[pos:]


# --------------------------------------------------------------------------- codecs

def decode_value(oid: int, fmt: int, raw: bytes | memoryview, tz: str = "UTC") -> None:
    """Decode one non-NULL parameter / field the way the session does (text: UTF-8 first)."""
    try:
        if fmt:
            out = codecs.decode_binary(oid, raw)
        else:
            b = bytes(raw)
            try:
                text = b.decode()
            except UnicodeDecodeError as e:
                raise frontend.invalid_utf8(b, e.start) from None
            if oid == 1184 and tz != "UTC":
                out = codecs.text_decoder(oid, tz)(text)
            else:
                out = codecs.decode_text(oid or 25, text)
    except PgError as e:
        check_error(e)
        return
    bounded(out, len(raw), f"codec {oid}/{fmt}", CODEC_SLACK)


def target_codec(flags: int, aux: bytes, payload: bytes) -> None:
    oid = OIDS[(aux[0] << 8 | aux[1]) % len(OIDS)]
    tz = TIMEZONES[aux[2] % len(TIMEZONES)]
    decode_value(oid, flags & 1, payload, tz)


# --------------------------------------------------------------------------- COPY

def make_copy_decoder(kind: int, aux: bytes, ncols: int, require_trailer: bool = True) -> Any:
    if kind == 2:
        return BinaryCopyDecoder(ncols, require_trailer=require_trailer, table="t")
    delimiter = DELIMITERS[aux[1] % len(DELIMITERS)]
    null = NULLS[aux[3] % len(NULLS)]
    header = bool(aux[1] & 0x80)
    if kind == 0:
        return TextCopyDecoder(ncols, delimiter if aux[1] & 0x40 else "\t", null
                               if aux[3] & 0x40 else "\\N", header=header, table="t")
    quote = QUOTES[aux[2] % len(QUOTES)]
    escape = QUOTES[(aux[2] >> 4) % len(QUOTES)] if aux[2] & 0x80 else quote
    force_null = [c for c in range(ncols) if aux[4] >> c & 1]
    force_not_null = [c for c in range(ncols) if aux[5] >> c & 1]
    return CsvCopyDecoder(ncols, delimiter if aux[1] & 0x40 else ",", quote, escape,
                          null if aux[3] & 0x40 else "", header, force_null, force_not_null,
                          table="t")


def check_rows(rows: list[Any], ncols: int, binary: bool, n_in: int) -> None:
    for row in rows:
        assert isinstance(row, list) and len(row) == ncols, (row, ncols)
        for f in row:
            assert f is None or isinstance(f, bytes if binary else str), row
    bounded(rows, n_in, "COPY rows")


def run_copy(dec: Any, ncols: int, binary: bool, pieces: Iterator[bytes],
             column_oids: list[int] | None) -> tuple[list[Any], str | None]:
    """Feed, finish; the rows and the SQLSTATE of the error that ended it (None: no error)."""
    fed = 0
    rows: list[Any] = []
    failed = None
    try:
        for piece in pieces:
            fed += len(piece)
            rows += dec.feed(piece)
            check_rows(rows, ncols, binary, fed)
        rows += dec.finish()
        check_rows(rows, ncols, binary, fed)
    except PgError as e:
        check_error(e)
        failed = e.sqlstate
    if column_oids:
        for row in rows:
            for oid, f in zip(column_oids, row, strict=True):
                if f is not None:
                    decode_value(oid, int(binary), f if binary else f.encode())
    return rows, failed


def target_copy(flags: int, aux: bytes, payload: bytes, splits: list[int]) -> None:
    kind = (0, 1, 2, 1)[flags & 3]
    ncols = 1 + aux[0] % 6
    try:
        dec = make_copy_decoder(kind, aux, ncols, require_trailer=not flags & 8)
    except PgError as e:  # an impossible option combination (delimiter == quote, …)
        check_error(e)
        return
    oids = [OIDS[(aux[6] + c * (aux[7] | 1)) % len(OIDS)] for c in range(ncols)] \
        if flags & 4 else None
    rows, failed = run_copy(dec, ncols, kind == 2, chunks(payload, splits), oids)
    if splits:
        # CopyData boundaries have nothing to do with rows: the same bytes in one piece
        # must give the same rows, or fail the same way.
        whole = make_copy_decoder(kind, aux, ncols, require_trailer=not flags & 8)
        rows1, failed1 = run_copy(whole, ncols, kind == 2, iter([payload]), None)
        # (Which error is reported may differ when there are several: the UTF-8 check runs
        # per block of complete lines, as PostgreSQL's runs per raw buffer.)
        assert (failed is None) == (failed1 is None), ("split-dependent COPY failure",
                                                       failed, failed1)
        assert failed is not None or rows == rows1, ("split-dependent COPY rows", rows, rows1)


# --------------------------------------------------------------------------- messages

class Stream:
    """Target 0: frontend messages after (or including) the startup packet."""

    def __init__(self, flags: int, aux: bytes) -> None:
        self.reader = MessageReader(max_message_size=256 if flags & 2 else 1 << 20)
        self.reader.startup = bool(flags & 1)
        self.param_oids: tuple[int, ...] = ()
        self.copy_kind = (flags >> 2) & 3  # 0: no COPY in progress; 1 text, 2 csv, 3 binary
        self.aux = aux
        self.copy: Any = None
        self.fed = 0
        self.closed = False

    def feed(self, data: bytes) -> None:
        r = self.reader
        r.feed(data)
        self.fed += len(data)
        while not self.closed:
            try:
                msg = r.next_message()
            except PgError as e:
                check_error(e)
                assert e.sqlstate == "08P01" and e.severity == "FATAL", e
                self.closed = True
                return
            assert r.buffered() <= self.fed
            if msg is None:
                return
            mtype, body = msg
            assert len(body) <= self.fed
            try:
                self.dispatch(mtype, body)
            except PgError as e:
                check_error(e)

    def dispatch(self, mtype: int, body: memoryview) -> None:
        n = len(body)
        if mtype == 0:
            pkt = frontend.parse_startup_packet(body)
            bounded(pkt, n, "startup packet")
            if isinstance(pkt, frontend.StartupMessage):
                self.reader.startup = False
            elif isinstance(pkt, frontend.CancelRequest):
                self.closed = True
        elif mtype == frontend.QUERY:
            bounded(frontend.decode_query(body), n, "Query")
        elif mtype == frontend.PARSE:
            self.param_oids = ()
            p = frontend.decode_parse(body)
            assert len(p.param_oids) <= n // 4, p
            bounded(p, n, "Parse")
            self.param_oids = p.param_oids
        elif mtype == frontend.BIND:
            self.bind(body)
        elif mtype == frontend.DESCRIBE:
            bounded(frontend.decode_describe(body), n, "Describe")
        elif mtype == frontend.CLOSE:
            bounded(frontend.decode_close(body), n, "Close")
        elif mtype == frontend.EXECUTE:
            bounded(frontend.decode_execute(body), n, "Execute")
        elif mtype == frontend.COPY_FAIL:
            bounded(frontend.decode_copy_fail(body), n, "CopyFail")
        elif mtype == frontend.PASSWORD:
            for dec in (frontend.decode_password, frontend.decode_sasl_initial,
                        frontend.decode_sasl_response):
                try:
                    bounded(dec(body), n, dec.__name__)
                except PgError as e:
                    check_error(e)
        elif mtype == frontend.COPY_DATA:
            self.copy_data(body)
        elif mtype == frontend.COPY_DONE:
            if self.copy is not None:
                dec, self.copy = self.copy, None
                check_rows(dec.finish(), dec.ncols, isinstance(dec, BinaryCopyDecoder), self.fed)
        elif mtype == frontend.TERMINATE:
            self.closed = True

    def bind(self, body: memoryview) -> None:
        n = len(body)
        b = frontend.decode_bind(body)
        assert len(b.params) <= n // 4 and len(b.param_formats) <= n // 2 and \
            len(b.result_formats) <= n // 2, b
        assert sum(len(p) for p in b.params if p is not None) <= n, b
        bounded(b, n, "Bind")
        pf = b.param_formats
        for i, v in enumerate(b.params):
            if v is None:
                continue
            oid = self.param_oids[i] if i < len(self.param_oids) else 0
            fmt = pf[0] if len(pf) == 1 else pf[i] if i < len(pf) else 0
            decode_value(oid, fmt, v)

    def copy_data(self, body: memoryview) -> None:
        if not self.copy_kind:
            return
        if self.copy is None:
            ncols = 1 + self.aux[0] % 6
            self.copy = make_copy_decoder(self.copy_kind - 1, self.aux, ncols)
        dec = self.copy
        try:
            check_rows(dec.feed(body), dec.ncols, isinstance(dec, BinaryCopyDecoder),
                       self.fed)
        except PgError:
            self.copy = None  # "After an error the decoder must be discarded."
            raise


def frames(pieces: Iterator[bytes], startup: bool, max_size: int) -> tuple[list[Any], bool]:
    """Just the framing: the (type, body) list and whether it ended in a framing error."""
    r = MessageReader(max_message_size=max_size)
    r.startup = startup
    out: list[tuple[int, bytes]] = []
    for piece in pieces:
        r.feed(piece)
        while True:
            try:
                msg = r.next_message()
            except PgError:
                return out, True
            if msg is None:
                break
            out.append((msg[0], bytes(msg[1])))
            if msg[0] == 0:
                try:
                    if isinstance(frontend.parse_startup_packet(msg[1]), frontend.StartupMessage):
                        r.startup = False
                except PgError:
                    return out, True
    return out, False


BIG = b"H" + struct.pack("!i", 70004) + b"x" * 70000  # a Flush with a 70 000-byte body


def target_messages(flags: int, aux: bytes, payload: bytes, splits: list[int]) -> None:
    s = Stream(flags, aux)
    pieces = list(chunks(payload, splits))
    if aux[7] & 1 and not flags & 1:
        # Reach the big-message paths of MessageReader: fed alone, the body is handed over
        # without a copy; glued to what follows, the buffer is compacted later.
        if aux[7] & 2:
            pieces[0] = BIG + pieces[0]
        else:
            pieces.insert(0, BIG)
    for piece in pieces:
        if s.closed:
            break
        s.feed(piece)
    if splits:
        # The framing must not depend on how the stream was cut into reads.
        max_size = s.reader.max_message_size
        split = frames(chunks(payload, splits), bool(flags & 1), max_size)
        assert split == frames(iter([payload]), bool(flags & 1), max_size), \
            "split-dependent framing"


# --------------------------------------------------------------------------- startup

def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.digest(key, msg, "sha256")


class Client:
    """Remembers what the server asked for, to rewrite the fuzzed answers into right ones."""

    def __init__(self) -> None:
        self.md5_salt: bytes | None = None
        self.cleartext = False
        self.sasl = False
        self.server_first: str | None = None
        self.client_first_bare = ""
        self.gs2 = "n,,"

    def saw(self, data: bytes) -> None:
        pos = 0
        while pos + 5 <= len(data):
            t = data[pos]
            (ln,) = struct.unpack_from("!i", data, pos + 1)
            body = data[pos + 5:pos + 1 + ln]
            pos += 1 + ln
            if t != ord("R") or len(body) < 4:
                continue
            (code,) = struct.unpack_from("!i", body)
            if code == 5:
                self.md5_salt = body[4:8]
            elif code == 3:
                self.cleartext = True
            elif code == 10:
                self.sasl = True
            elif code == 11:
                self.server_first = body[4:].decode()

    def answer(self, user: str, body: bytes) -> bytes:
        if self.md5_salt is not None:
            inner = auth.md5_hash(user, PASSWORD)[3:]
            return ("md5" + hashlib.md5(inner.encode() + self.md5_salt).hexdigest()).encode() \
                + b"\0"
        if self.cleartext:
            return PASSWORD.encode() + b"\0"
        if self.server_first is not None:
            return self.client_final(body)
        if self.sasl:
            # Keep the fuzzed client-first if it parses; remember its bare part.
            try:
                _, first = frontend.decode_sasl_initial(body)
                msg = first.decode()
                gs2_end = msg.index(",", msg.index(",") + 1) + 1
                self.gs2, self.client_first_bare = msg[:gs2_end], msg[gs2_end:]
            except (PgError, ValueError):
                self.gs2, self.client_first_bare = "n,,", "n=,r=fuzzclientnonce"
                first = (self.gs2 + self.client_first_bare).encode()
            return auth.SCRAM_MECHANISM.encode() + b"\0" + struct.pack("!i", len(first)) + first
        return body

    def client_final(self, body: bytes) -> bytes:
        """Keep the fuzzed attributes before ``,p=`` (a wrong c= or r= must still fail);
        replace the proof with the right one for them."""
        assert self.server_first is not None
        msg = body.decode("ascii", "replace")
        idx = msg.rfind(",p=")
        without_proof = msg[:idx] if idx >= 0 else None
        return scram_client_final(self.gs2, self.client_first_bare, self.server_first,
                                  without_proof)


def scram_client_final(gs2: str, client_first_bare: str, server_first: str,
                       without_proof: str | None = None) -> bytes:
    """The client-final message with the right proof for PASSWORD."""
    attrs = dict(a.split("=", 1) for a in server_first.split(","))
    salt = base64.b64decode(attrs["s"])
    salted = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, int(attrs["i"]))
    client_key = _hmac(salted, b"Client Key")
    if without_proof is None:
        without_proof = f"c={_b64(gs2.encode())},r={attrs['r']}"
    auth_message = ",".join((client_first_bare, server_first, without_proof))
    sig = _hmac(hashlib.sha256(client_key).digest(), auth_message.encode())
    proof = bytes(a ^ b for a, b in zip(client_key, sig, strict=True))
    return f"{without_proof},p={_b64(proof)}".encode()


def startup_packet(params: dict[str, str], version: int = 196608) -> bytes:
    body = struct.pack("!i", version) + b"".join(
        k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items()) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


def target_startup(flags: int, aux: bytes, payload: bytes, splits: list[int]) -> None:
    m = S.StartupMachine(tls_available=bool(flags & 2), require_tls=bool(flags & 1),
                         auth_method=METHODS[(flags >> 2) & 3], lookup=USERS.get,
                         allow_cleartext_without_tls=bool(aux[0] & 1))
    cooperative = bool(flags & 16)
    client = Client()
    r = MessageReader(max_message_size=1 << 16)
    pieces = list(chunks(payload, splits))
    if aux[0] & 2:
        user = STARTUP_USERS[aux[1] % len(STARTUP_USERS)]
        pieces.insert(0, startup_packet({"user": user, "database": user}))
    fed = 0
    steps = 0
    for piece in pieces:
        r.feed(piece)
        fed += len(piece)
        while not m.finished:
            r.startup = m.expecting_startup_packet
            try:
                msg = r.next_message()
            except PgError as e:
                check_error(e)
                return
            if msg is None:
                break
            mtype, body = msg
            assert len(body) <= fed and r.buffered() <= fed
            if cooperative and mtype == frontend.PASSWORD:
                body = memoryview(client.answer(m.user, bytes(body)))
            events = m.receive(mtype, body, pending=r.buffered())
            steps += 1
            assert steps <= fed + 1, "the startup machine loops"
            for ev in events:
                if isinstance(ev, S.Send):
                    if ev.data not in (b"S", b"N"):  # the one-byte SSL/GSSENC answers
                        check_backend(ev.data)
                        client.saw(ev.data)
                    # Never ask for a cleartext password over plaintext unless allowed.
                    assert not client.cleartext or m.tls_active or \
                        m.allow_cleartext_without_tls, events
                elif isinstance(ev, S.StartTLS):
                    assert m.tls_available and not m.tls_active
                    m.tls_active = True
                elif isinstance(ev, S.Close):
                    assert m.finished and ev is events[-1], events
                elif isinstance(ev, S.Authenticated):
                    assert m.finished and ev is events[-1], events
                    assert ev.user in USERS, ev
                    assert m.tls_active or not m.require_tls, ev
                    bounded(ev, fed, "Authenticated")
                else:
                    assert isinstance(ev, S.CancelRequested), ev
                    bounded(ev, fed, "CancelRequest")
        if m.finished:
            return


# --------------------------------------------------------------------------- entry point

TARGETS: list[Callable[[int, bytes, bytes, list[int]], None]] = [
    target_messages, target_startup, target_copy,
    lambda flags, aux, payload, splits: target_codec(flags, aux, payload),
]


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    fdp = atheris.FuzzedDataProvider(data)
    target = fdp.ConsumeUInt(1) % len(TARGETS)
    flags = fdp.ConsumeUInt(1)
    aux = fdp.ConsumeBytes(HEADER - 2).ljust(HEADER - 2, b"\0")
    splits = [fdp.ConsumeIntInRange(1, 256) for _ in range(flags >> 5)]
    payload = fdp.ConsumeBytes(fdp.remaining_bytes())
    TARGETS[target](flags, aux, payload, splits)


# --------------------------------------------------------------------------- seeds

def encode_input(target: int, flags: int, aux: bytes, payload: bytes,
                 splits: Sequence[int] = ()) -> bytes:
    """The inverse of TestOneInput's layout."""
    assert len(splits) <= 7 and all(1 <= s <= 256 for s in splits)
    flags = (flags & 0x1F) | len(splits) << 5
    return (bytes([target, flags]) + aux.ljust(HEADER - 2, b"\0")[:HEADER - 2] + payload
            + bytes(s - 1 for s in reversed(splits)))


def _m(t: bytes, body: bytes) -> bytes:
    return t + struct.pack("!i", len(body) + 4) + body


def _cstr(s: str) -> bytes:
    return s.encode() + b"\0"


def _bind(params: list[bytes | None], fmts: list[int], portal: str = "",
          stmt: str = "") -> bytes:
    body = _cstr(portal) + _cstr(stmt) + struct.pack(f"!h{len(fmts)}h", len(fmts), *fmts)
    body += struct.pack("!h", len(params))
    for p in params:
        body += struct.pack("!i", -1) if p is None else struct.pack("!i", len(p)) + p
    return _m(b"B", body + struct.pack("!hh", 1, 1))


TEXT_SAMPLES = [
    "1", "-32768", "2147483647", "9223372036854775807", "3.14", "-1.5e10", "NaN", "Infinity",
    "t", "off", "2024-01-02", "2024-01-02 03:04:05.1234567+05:30", "2024-01-02T03:04:05Z",
    "2024-1-2 3:4:5 Europe/Oslo", "epoch", "12:00:00.5", "1 day 02:00:00", "3 hours ago",
    "P1Y2M3DT4H5M6.5S", "{1,2,NULL}", '{"a b","c\\"d",NULL}', "{{1,2},{3,4}}",
    "[1:2]={1,2}", '{"a": [1, 2.5, null, true]}', "\\x0102ff", "a\\\\b\\001c",
    "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "{1b4e28ba-2fa1-11d2-883f-0016d3cca427}",
    "hello", "",
]


def codec_seeds() -> Iterator[bytes]:
    for k, oid in enumerate(OIDS):
        aux = bytes([k >> 8, k & 0xFF, 0])
        found = 0
        for s in TEXT_SAMPLES:
            try:
                v = codecs.decode_text(oid or 25, s)
            except PgError:
                continue
            yield encode_input(3, 0, aux, s.encode())
            with contextlib.suppress(PgError, TypeError, ValueError, AttributeError,
                                     OverflowError):
                yield encode_input(3, 1, aux, codecs.encode_binary(oid, v))
            found += 1
            if found == 2:
                break


def message_seeds() -> Iterator[bytes]:
    start = startup_packet({"user": "alice", "database": "alice", "application_name": "x"})
    oids = [23, 114, 1184, 1700, 1007, 3802, 17, 2950, 1186, 1082, 1009, 701]
    texts = [b"42", b'{"a": 1}', b"2024-01-02 03:04:05+01", b"-12.50", b"{1,2,3}",
             b"[1, {}]", b"\\x00ff", b"1b4e28ba-2fa1-11d2-883f-0016d3cca427", b"1 day",
             b"2024-02-29", b'{"x","y"}', b"1e300"]
    binaries: list[bytes | None] = []
    for oid, t in zip(oids, texts, strict=True):
        try:
            binaries.append(codecs.encode_binary(oid, codecs.decode_text(oid, t.decode())))
        except (PgError, TypeError, ValueError):
            binaries.append(None)
    parse = _m(b"P", _cstr("s1") + _cstr("INSERT INTO t VALUES ($1, $2)")
               + struct.pack(f"!h{len(oids)}I", len(oids), *oids))
    ext = (parse + _bind(list(texts), [0], "p1", "s1") + _bind(binaries, [1], "", "s1")
           + _m(b"D", b"Ss1\0") + _m(b"D", b"P\0") + _m(b"E", b"p1\0" + struct.pack("!i", 0))
           + _m(b"C", b"Ss1\0") + _m(b"S", b"") + _m(b"H", b""))
    query = _m(b"Q", _cstr("SELECT 1; INSERT INTO assets (name) VALUES ('é')"))
    copy_text = (_m(b"Q", _cstr("COPY t FROM STDIN")) + _m(b"d", b"1\ta\\tb\t\\N\n2\t")
                 + _m(b"d", b"x\ty\n\\.\n") + _m(b"c", b""))
    copy_bin = (_m(b"d", BINARY_SIGNATURE + b"\0" * 8) + _m(b"d", _bin_tuple([b"1", None, b"xy"]))
                + _m(b"d", b"\xff\xff") + _m(b"c", b""))
    sasl = (_m(b"p", _cstr("SCRAM-SHA-256") + struct.pack("!i", 20) + b"n,,n=,r=abcdefghijkl")
            + _m(b"p", b"c=biws,r=abc,p=" + base64.b64encode(b"\0" * 32)) + _m(b"p", b"pw\0"))
    tail = _m(b"f", b"boom\0") + _m(b"F", b"\0\0\0\1") + _m(b"X", b"")
    aux3 = bytes([2, 0, 0, 0])  # three COPY columns
    yield encode_input(0, 1, aux3, start + query + ext + tail)
    yield encode_input(0, 1, aux3, start + ext, [3, 7, 40])
    yield encode_input(0, 0, aux3, ext + query, [1, 5, 64, 100])
    yield encode_input(0, 0 | 1 << 2, aux3, copy_text + query)
    yield encode_input(0, 0 | 3 << 2, aux3, copy_bin, [2, 13])
    yield encode_input(0, 1 | 2, aux3, start + sasl + query + _m(b"Q", b"x" * 300 + b"\0"))
    yield encode_input(0, 1, aux3, struct.pack("!ii", 16, 80877102) + b"\0\0\0\1" * 2)
    yield encode_input(0, 1, aux3, struct.pack("!ii", 8, 80877103) + start + query)
    yield encode_input(0, 0, bytes([2, 0, 0, 0, 0, 0, 0, 1]), ext + query, [7])
    yield encode_input(0, 0, bytes([2, 0, 0, 0, 0, 0, 0, 3]), ext + query, [7])


def _bin_tuple(fields_: list[bytes | None]) -> bytes:
    out = struct.pack("!h", len(fields_))
    for f in fields_:
        out += struct.pack("!i", -1) if f is None else struct.pack("!i", len(f)) + f
    return out


def startup_seeds() -> Iterator[bytes]:
    first = b"n,,n=,r=rOprNGfwEbeRWgbNEkqO"
    sasl_initial = _m(b"p", _cstr("SCRAM-SHA-256") + struct.pack("!i", len(first)) + first)
    sasl_final = _m(b"p", b"c=biws,r=rOprNGfwEbeRWgbNEkqO" + _b64(SERVER_NONCE).encode()
                    + b",p=" + base64.b64encode(b"\x01" * 32))
    for user in ("alice", "bob"):  # a correct exchange, no help from the cooperative flag
        v = USERS[user].scram
        assert v is not None
        server_first = f"r=rOprNGfwEbeRWgbNEkqO{_b64(SERVER_NONCE)},s={_b64(v.salt)}," \
            f"i={v.iterations}"
        final = _m(b"p", scram_client_final("n,,", first[3:].decode(), server_first))
        yield encode_input(1, 0, b"", startup_packet({"user": user}) + sasl_initial + final)
    md5 = _m(b"p", b"md5" + b"0" * 32 + b"\0")
    clear = _m(b"p", b"pw\0")
    for user in ("alice", "bob", "carol", "mallory"):
        start = startup_packet({"user": user, "database": "postgres", "options": "-c x=y"})
        for method in range(3):
            for coop in (0, 16):
                answers = sasl_initial + sasl_final if method == 0 else md5 if method == 1 \
                    else clear
                yield encode_input(1, method << 2 | coop, b"\1", start + answers)
    ssl = struct.pack("!ii", 8, 80877103)
    gss = struct.pack("!ii", 8, 80877104)
    start = startup_packet({"user": "alice", "_pq_.x": "1"}, 196609)
    yield encode_input(1, 1 | 2 | 16, b"", ssl + start + sasl_initial + sasl_final, [8])
    yield encode_input(1, 1 | 2, b"", ssl + start)  # pipelined after SSLRequest: FATAL
    yield encode_input(1, 0, b"", gss + ssl + start + sasl_initial, [8, 8])
    yield encode_input(1, 2 << 2 | 16, b"\2\1", clear)
    yield encode_input(1, 0, b"", struct.pack("!iiii", 16, 80877102, 1, 2))
    yield encode_input(1, 0, b"", startup_packet({"user": "alice"}, 131072))


def copy_seeds() -> Iterator[bytes]:
    text = b"1\th\xc3\xa9\t\\N\n2\ta\\tb\\\\c\\nd\t\\x41\\101\n3\t\\\\N\t\n\\.\n"
    csv = (b'id,name,note\n1,"a ""quoted"", value",\n2,"multi\nline",x\n3,,""\r\n'
           b'4,\\N,"\\N"\n\\.\n')
    binary = (BINARY_SIGNATURE + b"\0\0\0\0\0\0\0\0" + _bin_tuple([b"\0\0\0\1", None, b"abc"])
              + _bin_tuple([b"\0\0\0\0\0\0\0\2", b"", b"\x01"]) + b"\xff\xff")
    # aux: ncols-1, delimiter/header, quote/escape, null, force_null, force_not_null, oids
    yield encode_input(2, 0, bytes([2, 0, 0, 0, 0, 0, 9, 3]), text, [5, 17])
    yield encode_input(2, 4, bytes([2, 0, 0, 0, 0, 0, 9, 3]), text)
    yield encode_input(2, 1, bytes([2, 0x80, 0, 0, 2, 4, 0, 0]), csv, [9, 30])
    yield encode_input(2, 1 | 4, bytes([2, 0x80 | 0x40 | 3, 0x80 | 2 << 4 | 1, 0x40 | 1,
                                        0, 0, 1, 1]), csv.replace(b",", b";"))
    yield encode_input(2, 2, bytes([2, 0, 0, 0, 0, 0, 0, 0]), binary, [11, 19, 3])
    yield encode_input(2, 2 | 4, bytes([2, 0, 0, 0, 0, 0, 17, 5]), binary)


def seeds() -> Iterator[bytes]:
    yield from message_seeds()
    yield from startup_seeds()
    yield from copy_seeds()
    yield from codec_seeds()


# libFuzzer dictionary (-dict=): tokens the parsers compare against that byte mutations
# rarely assemble by chance.
TOKENS = [
    b"SCRAM-SHA-256", b"n,,", b"y,,", b"p=tls-server-end-point,,", b"n=", b"r=", b"c=biws",
    b",p=", b"m=", b"md5", b"user", b"database", b"options", b"_pq_.", BINARY_SIGNATURE,
    b"\\.", b"\\N", b"\\x", b"\\", b"\r\n", b'""', b"NULL", b"{", b"}", b"[", b"]",
    b"[1:2]=", b"true", b"false", b"infinity", b"-infinity", b"nan", b"NaN", b"Infinity",
    b"epoch", b" BC", b"ago", b"@", b"P1Y2M3DT4H5M6S", b"T", b"Z", b"+05:30", b"UTC",
    b"Europe/Oslo", b"e+308", b"e-400", b"0000-00-00", b"24:00:00", b"12:00:00.", b"\xff\xff",
    b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x01\x00\x00",
    b"\xc0\x00", b"\xd0\x00", b"\xf0\x00", b"\x40\x00",
]


def write_seeds(directory: Path, dictionary: Path | None = None) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    n = 0
    for n, s in enumerate(seeds(), 1):
        (directory / f"seed-{n:04d}").write_bytes(s)
    if dictionary is not None:
        dictionary.write_text("".join(
            '"' + "".join(chr(c) if 32 <= c < 127 and c not in b'"\\' else f"\\x{c:02x}"
                          for c in t) + '"\n' for t in TOKENS))
    return n


def main(argv: list[str]) -> None:
    if len(argv) in (3, 4) and argv[1] == "--write-seeds":
        dictionary = Path(argv[3]) if len(argv) == 4 else None
        print(f"{write_seeds(Path(argv[2]), dictionary)} seeds written to {argv[2]}")
        return
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
