"""A minimal PostgreSQL protocol client on a plain socket, for byte-exact replay tests."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

from scramp import ScramClient


@dataclass
class ResultSet:
    columns: list[tuple[str, int]] = field(default_factory=list)  # (name, type oid)
    rows: list[list[bytes | None]] = field(default_factory=list)
    tag: str = ""


@dataclass
class Reply:
    results: list[ResultSet] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    status: str = ""


def _msg(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


class RawClient:
    def __init__(self, host: str, port: int, timeout: float = 30) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_message(self) -> tuple[bytes, bytes]:
        while len(self.buf) < 5 or len(self.buf) < 1 + struct.unpack("!i", self.buf[1:5])[0]:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        n = struct.unpack("!i", self.buf[1:5])[0]
        kind, body, self.buf = self.buf[:1], self.buf[5:1 + n], self.buf[1 + n:]
        return kind, body

    def startup(self, user: str, password: str, database: str | None = None,
                **params: str) -> dict[str, str]:
        pairs = {"user": user, "database": database or user, **params}
        body = struct.pack("!i", 196608) + b"".join(
            k.encode() + b"\0" + v.encode() + b"\0" for k, v in pairs.items()) + b"\0"
        self.send(struct.pack("!i", len(body) + 4) + body)
        scram: ScramClient | None = None
        status: dict[str, str] = {}
        while True:
            kind, body = self.recv_message()
            if kind == b"R":
                code = struct.unpack("!i", body[:4])[0]
                if code == 10:
                    scram = ScramClient(["SCRAM-SHA-256"], user, password)
                    first = scram.get_client_first().encode()
                    self.send(_msg(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first))
                                   + first))
                elif code == 11:
                    assert scram is not None
                    scram.set_server_first(body[4:].decode())
                    self.send(_msg(b"p", scram.get_client_final().encode()))
                elif code == 12:
                    assert scram is not None
                    scram.set_server_final(body[4:].decode())
                elif code == 3:
                    self.send(_msg(b"p", password.encode() + b"\0"))
            elif kind == b"S":
                k, v, _ = body.split(b"\0", 2)
                status[k.decode()] = v.decode()
            elif kind == b"E":
                raise ConnectionError(parse_fields(body))
            elif kind == b"Z":
                return status

    def query(self, sql: str | bytes) -> Reply:
        data = sql.encode() if isinstance(sql, str) else sql
        self.send(_msg(b"Q", data + b"\0"))
        return self.read_until_ready()

    def read_until_ready(self) -> Reply:
        reply = Reply()
        current: ResultSet | None = None
        while True:
            kind, body = self.recv_message()
            if kind == b"T":
                current = ResultSet()
                (n,) = struct.unpack("!h", body[:2])
                pos = 2
                for _ in range(n):
                    end = body.index(b"\0", pos)
                    name = body[pos:end].decode()
                    oid = struct.unpack("!i", body[end + 7:end + 11])[0]
                    current.columns.append((name, oid))
                    pos = end + 19
            elif kind == b"D":
                assert current is not None
                (n,) = struct.unpack("!h", body[:2])
                pos, row = 2, []
                for _ in range(n):
                    (ln,) = struct.unpack("!i", body[pos:pos + 4])
                    pos += 4
                    if ln < 0:
                        row.append(None)
                    else:
                        row.append(body[pos:pos + ln])
                        pos += ln
                current.rows.append(row)
            elif kind == b"C":
                rs = current or ResultSet()
                rs.tag = body.rstrip(b"\0").decode()
                reply.results.append(rs)
                current = None
            elif kind == b"E":
                reply.errors.append(parse_fields(body))
            elif kind == b"Z":
                reply.status = body.decode()
                return reply


def parse_fields(body: bytes) -> dict[str, str]:
    out = {}
    for part in body.split(b"\0"):
        if part:
            out[chr(part[0])] = part[1:].decode(errors="replace")
    return out
