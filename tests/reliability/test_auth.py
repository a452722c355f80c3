"""Authentication under attack: wrong passwords (same answer and timing for unknown users, and
the throttle), replayed SCRAM exchanges, downgrade to cleartext, --require-tls, and no secret in
the log, /metrics, /status or error messages."""

from __future__ import annotations

import json
import socket
import statistics
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from harness import dsn, start, stop, write_figure
from scramp import ScramClient
from standalone import cdf_args

from tests.conftest import Daemon
from tests.rawpg import _msg, parse_fields

KNOWN_USERS = 8
CLIENT_SECRET = "Cl13nt-S3cret-4-pggw-xyz"
WRONG = "wr0ng-Passw0rd-zz"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, str]]:
    base = tmp_path_factory.mktemp("auth")
    clients = base / "clients.json"
    clients.write_text(json.dumps([{"clientId": "gw-client", "clientSecret": CLIENT_SECRET,
                                    "project": "demo", "capabilities": [
                                        {k: {"actions": ["READ", "WRITE", "LIST"],
                                             "scope": {"all": {}}}}
                                        for k in ("assetsAcl", "timeSeriesAcl", "rawAcl",
                                                  "projectsAcl", "groupsAcl",
                                                  "datasetsAcl", "sessionsAcl")]}]))
    import subprocess
    import sys

    from tests.conftest import free_port
    port = free_port()
    emu = subprocess.Popen([sys.executable, "-m", "pggw.emulator", "--endpoint",
                            f"tcp:{port}:interface=127.0.0.1", "--data-dir", str(base / "emu"),
                            "--clients", str(clients)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    from tests.conftest import wait_port
    wait_port(port, emu)
    args = list(cdf_args(url, CLIENT_SECRET))
    args[args.index("demo-client")] = "gw-client"
    d = start(base / "gw", *args)
    from tests.conftest import add_user
    for i in range(KNOWN_USERS):
        add_user(base / "gw", f"known{i}", f"pw-known-{i}")
    yield d, url
    stop(d)
    emu.kill()
    emu.wait()


def _conn(port: int, src: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(src, 0))


def _recv(s: socket.socket, buf: list[bytes]) -> tuple[bytes, bytes]:
    data = buf[0]
    while len(data) < 5 or len(data) < 1 + struct.unpack("!i", data[1:5])[0]:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    n = struct.unpack("!i", data[1:5])[0]
    buf[0] = data[1 + n:]
    return data[:1], data[5:1 + n]


def _startup(user: str) -> bytes:
    body = struct.pack("!i", 196608) + f"user\0{user}\0database\0{user}\0\0".encode()
    return struct.pack("!i", len(body) + 4) + body


_SRC = iter(f"127.9.{a}.{b}" for a in range(256) for b in range(1, 255))


def _raw_login(port: int, user: str, password: str, src: str | None = None) -> tuple[float, str]:
    """A SCRAM login from its own loopback address (the throttle counts per address):
    seconds until the verdict, and "OK" or the error's SQLSTATE + message."""
    src = src or next(_SRC)
    client = ScramClient(["SCRAM-SHA-256"], user, password)
    t = time.perf_counter()
    s = _conn(port, src)
    buf = [b""]
    try:
        s.sendall(_startup(user))
        while True:
            kind, body = _recv(s, buf)
            if kind == b"E":
                f = parse_fields(body)
                return time.perf_counter() - t, f"{f.get('C')} {f.get('M')}"
            if kind == b"Z":
                return time.perf_counter() - t, "OK"
            if kind != b"R":
                continue
            code = struct.unpack("!i", body[:4])[0]
            if code == 10:
                first = client.get_client_first().encode()
                s.sendall(_msg(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first))
            elif code == 11:
                client.set_server_first(body[4:].decode())
                s.sendall(_msg(b"p", client.get_client_final().encode()))
    finally:
        s.close()


def test_wrong_passwords_same_answer_and_timing(gw: tuple[Daemon, str]) -> None:
    d, _ = gw
    known, unknown = [], []
    msgs = set()
    for i in range(KNOWN_USERS):
        dt, m = _raw_login(d.port, f"known{i}", WRONG)
        known.append(dt)
        msgs.add(m.replace(f"known{i}", "USER"))
        dt, m = _raw_login(d.port, f"nobody{i}", WRONG)
        unknown.append(dt)
        msgs.add(m.replace(f"nobody{i}", "USER"))
    assert "OK" not in msgs
    assert len(msgs) == 1, msgs  # the same answer for a wrong password and an unknown user
    k, u = statistics.median(known), statistics.median(unknown)
    # The throttle, from one address.
    src = next(_SRC)
    burst = [_raw_login(d.port, "alice", WRONG, src) for _ in range(6)]
    write_figure("auth_timing", {
        "median_known_user_wrong_password_s": round(k, 4), "median_unknown_user_s": round(u, 4),
        "samples_each": len(known), "answer": next(iter(msgs))[:200],
        "one_address_burst_s": [round(t, 3) for t, _ in burst],
        "one_address_burst_answers": sorted({m for _, m in burst})})
    assert abs(k - u) < 0.03 or 1 / 3 < k / u < 3, (k, u)
    assert burst[-1][0] > burst[0][0] + 0.3 or "too many" in burst[-1][1], burst


def _scram_start(port: int, src: str, user: str, first: str) -> tuple[socket.socket, list[bytes],
                                                                       str]:
    s = _conn(port, src)
    buf = [b""]
    s.sendall(_startup(user))
    kind, body = _recv(s, buf)
    assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 10, (kind, body)
    mechs = body[4:].split(b"\0")
    assert b"SCRAM-SHA-256" in mechs and not any(m.startswith(b"PLAIN") for m in mechs)
    f = first.encode()
    s.sendall(_msg(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(f)) + f))
    kind, body = _recv(s, buf)
    assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 11, (kind, body)
    return s, buf, body[4:].decode()


def test_replayed_scram_exchange_fails(gw: tuple[Daemon, str]) -> None:
    d, _ = gw
    client = ScramClient(["SCRAM-SHA-256"], "alice", "s3cret-pw")
    first = client.get_client_first()
    s, buf, server_first = _scram_start(d.port, next(_SRC), "alice", first)
    client.set_server_first(server_first)
    final = client.get_client_final()
    s.sendall(_msg(b"p", final.encode()))
    kind, body = _recv(s, buf)
    assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 12  # SASLFinal: it worked
    s.close()
    # Replay the captured client-first and client-final on a new connection.
    s2, buf2, server_first2 = _scram_start(d.port, next(_SRC), "alice", first)
    assert server_first2 != server_first, "the server reused its nonce"
    s2.sendall(_msg(b"p", final.encode()))
    kind, body = _recv(s2, buf2)
    assert kind == b"E", (kind, body)
    assert parse_fields(body).get("C") in ("28P01", "08P01"), parse_fields(body)
    s2.close()


def test_cleartext_downgrade_refused(gw: tuple[Daemon, str]) -> None:
    """Answering the SASL request with a cleartext password never authenticates."""
    d, _ = gw
    s = _conn(d.port, next(_SRC))
    buf = [b""]
    s.sendall(_startup("alice"))
    kind, body = _recv(s, buf)
    code = struct.unpack("!i", body[:4])[0]
    assert code == 10, f"server offered auth method {code}, not SCRAM"
    s.sendall(_msg(b"p", b"s3cret-pw\0"))
    kind, body = _recv(s, buf)
    assert kind == b"E", (kind, body)
    s.close()
    # libpq refusing anything but SCRAM still logs in (no downgrade needed).
    psycopg.connect(dsn(d, require_auth="scram-sha-256")).close()


def test_require_tls_refuses_plaintext(tmp_path: Path) -> None:
    d = start(tmp_path / "tls", "--require-tls")
    try:
        with pytest.raises(psycopg.OperationalError) as ei:
            psycopg.connect(dsn(d, sslmode="disable")).close()
        with psycopg.connect(dsn(d, sslmode="require"), autocommit=True) as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
            assert c.pgconn.ssl_in_use
        assert "s3cret-pw" not in str(ei.value)
    finally:
        stop(d)


def test_no_secret_anywhere(gw: tuple[Daemon, str]) -> None:
    d, url = gw
    errors = []
    for user, pw in (("alice", WRONG), ("bob", "b0b-pa55word-typo"), ("ghost", WRONG)):
        errors.append(_raw_login(d.port, user, pw)[1])
    with psycopg.connect(dsn(d), autocommit=True) as c:
        c.execute("INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key, _raw_columns) "
                  "VALUES ('s', 's', 'k', '{}')")
        c.execute("SELECT pggw.wait_uploaded(60)")
        for sql in ("SELECT 1/0", "INSERT INTO nope VALUES ('s3cret-pw')", "SHOW ALL",
                    "SELECT * FROM pggw.uploads", "SELECT * FROM pggw.backlog"):
            try:
                errors.append(repr(c.execute(sql).fetchall()))
            except psycopg.Error as e:
                errors.append(str(e))
    http = f"http://127.0.0.1:{d.http_port}"
    pages = {p: requests.get(http + p, timeout=10).text for p in ("/metrics", "/status", "/")}
    # The daemon's own token: fetch one the same way and check its shape never appears.
    token = requests.post(f"{url}/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "gw-client",
        "client_secret": CLIENT_SECRET}, timeout=10).json()["access_token"]
    haystacks = {"log": d.log(), **pages, "errors": "\n".join(errors)}
    secrets = {"alice password": "s3cret-pw", "bob password": "b0b-pa55word",
               "wrong password": WRONG, "client secret": CLIENT_SECRET,
               "token prefix": token.split(".")[0] + "." + token.split(".")[1][:12]}
    found = [(where, what) for where, text in haystacks.items()
             for what, secret in secrets.items() if secret in text]
    # A JWT header.payload prefix of any token the daemon used.
    found += [(where, "a JWT") for where, text in haystacks.items() if "eyJhbGciOi" in text]
    write_figure("secrets_scan", {"haystacks": {k: len(v) for k, v in haystacks.items()},
                                  "secrets": sorted(secrets), "found": found})
    assert not found, found
