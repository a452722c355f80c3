"""The connection-startup and authentication state machine (sans-IO).

Driving it from an adapter::

    reader = MessageReader()
    machine = StartupMachine(tls_available=..., require_tls=..., auth_method="scram",
                             lookup=user_store.auth_info)
    # on data:
    reader.feed(data)
    while not machine.finished and (msg := reader.next_message()) is not None:
        mtype, body = msg
        for ev in machine.receive(mtype, body, pending=reader.buffered()):
            ...  # Send → write; StartTLS → transport.startTLS(...); Close → loseConnection
        reader.startup = machine.expecting_startup_packet

Events are processed in order. After :class:`Authenticated` the machine is done
(``finished`` is True) and the adapter takes over: it checks the database name,
then sends ParameterStatus…, BackendKeyData and ReadyForQuery itself.
``AuthenticationOk`` has already been emitted (as a ``Send``) before ``Authenticated``.

**Bytes after SSLRequest.** If the client pipelined more bytes after an SSLRequest
that we are about to accept, those bytes were sent in plaintext but would be read
as if they came through TLS (CVE-2021-23222). Pass the number of bytes still
buffered as ``pending=reader.buffered()``; when it is non-zero on an SSLRequest that
would be answered ``S``, the machine instead emits a FATAL 08P01 ErrorResponse
("received unencrypted data after SSL request") and :class:`Close`, never
:class:`StartTLS`. (This is what ``pending_bytes_after_ssl_request_is_error``
documents; it is True and not configurable.)
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from pggw.wire import backend
from pggw.wire.auth import (
    SCRAM_MECHANISM,
    ScramServer,
    ScramVerifier,
    check_cleartext,
    check_md5,
    md5_hash,
    mock_verifier,
    password_failed,
)
from pggw.wire.errors import INVALID_AUTHORIZATION, PROTOCOL_VIOLATION, PgError
from pggw.wire.frontend import (
    PASSWORD,
    CancelRequest,
    GSSENCRequest,
    SSLRequest,
    StartupMessage,
    decode_password,
    decode_sasl_initial,
    decode_sasl_response,
    parse_startup_packet,
)

__all__ = [
    "AuthInfo", "Authenticated", "CancelRequested", "Close", "Event", "Send", "StartTLS",
    "StartupMachine",
]


@dataclass(frozen=True)
class AuthInfo:
    """What the user store knows about a user's password."""

    scram: ScramVerifier | None = None
    md5: str | None = None


@dataclass(frozen=True)
class Send:
    data: bytes


@dataclass(frozen=True)
class StartTLS:
    pass


@dataclass(frozen=True)
class CancelRequested:
    pid: int
    key: bytes


@dataclass(frozen=True)
class Authenticated:
    user: str
    database: str
    params: dict[str, str] = field(default_factory=dict)
    protocol_minor: int = 0


@dataclass(frozen=True)
class Close:
    pass


Event = Send | StartTLS | CancelRequested | Authenticated | Close

_STARTUP, _SASL_INITIAL, _SASL_CONTINUE, _PASSWORD_MD5, _PASSWORD_CLEAR, _DONE, _CLOSED = range(7)

_SUPPORTED_MINOR = 0


class StartupMachine:
    """Startup packet → (TLS) → authentication → :class:`Authenticated`."""

    pending_bytes_after_ssl_request_is_error = True

    def __init__(self, *, tls_available: bool, require_tls: bool, auth_method: str,
                 lookup: Callable[[str], AuthInfo | None],
                 allow_cleartext_without_tls: bool = False) -> None:
        if auth_method not in ("scram", "md5", "password"):
            raise ValueError(f"unknown auth_method {auth_method!r}")
        self.tls_available = tls_available
        self.require_tls = require_tls
        self.auth_method = auth_method
        self.lookup = lookup
        self.allow_cleartext_without_tls = allow_cleartext_without_tls
        self.tls_active = False
        self._state = _STARTUP
        self._ssl_done = False
        self._gss_done = False
        self._user = ""
        self._database = ""
        self._params: dict[str, str] = {}
        self._info: AuthInfo | None = None
        self._scram: ScramServer | None = None
        self._salt = b""

    @property
    def expecting_startup_packet(self) -> bool:
        """True while the next message is an untyped startup-phase packet."""
        return self._state == _STARTUP

    @property
    def finished(self) -> bool:
        """True after Authenticated or Close: stop feeding messages to the machine."""
        return self._state in (_DONE, _CLOSED)

    @property
    def user(self) -> str:
        return self._user

    def receive(self, msg_type: int, body: bytes | memoryview, *,
                pending: int = 0) -> list[Event]:
        """Handle one message (``msg_type`` 0 for an untyped startup packet)."""
        if self._state in (_DONE, _CLOSED):
            raise RuntimeError("startup machine already finished")
        try:
            if self._state == _STARTUP:
                if msg_type != 0:
                    raise PgError(PROTOCOL_VIOLATION, "expected a startup packet",
                                  severity="FATAL")
                return self._startup_packet(body, pending)
            if msg_type != PASSWORD:
                raise PgError(PROTOCOL_VIOLATION,
                              f"expected password response, got message type {msg_type}",
                              severity="FATAL")
            if self._state == _SASL_INITIAL:
                return self._sasl_initial(body)
            if self._state == _SASL_CONTINUE:
                return self._sasl_continue(body)
            if self._state == _PASSWORD_MD5:
                return self._password_md5(body)
            return self._password_clear(body)
        except PgError as err:
            return self.fail(err)

    def fail(self, err: PgError) -> list[Event]:
        """Send ``err`` as FATAL and close (also usable by the adapter, e.g. on timeout)."""
        self._state = _CLOSED
        if err.severity != "FATAL":
            err.severity = "FATAL"
        return [Send(backend.error_response(err)), Close()]

    # -- startup packet

    def _startup_packet(self, body: bytes | memoryview, pending: int) -> list[Event]:
        pkt = parse_startup_packet(body)
        if isinstance(pkt, SSLRequest):
            if self._ssl_done or self.tls_active:
                raise _unsupported(1234, 5679)
            self._ssl_done = True
            if not self.tls_available:
                return [Send(b"N")]
            if pending:
                raise PgError(
                    PROTOCOL_VIOLATION, "received unencrypted data after SSL request",
                    detail="This could be either a client-software bug or evidence of an "
                           "attempted man-in-the-middle attack.",
                    severity="FATAL")
            return [Send(b"S"), StartTLS()]
        if isinstance(pkt, GSSENCRequest):
            if self._gss_done or self.tls_active:
                raise _unsupported(1234, 5680)
            self._gss_done = True
            return [Send(b"N")]
        if isinstance(pkt, CancelRequest):
            self._state = _CLOSED
            return [CancelRequested(pkt.pid, pkt.key), Close()]
        assert isinstance(pkt, StartupMessage)
        return self._startup_message(pkt)

    def _startup_message(self, msg: StartupMessage) -> list[Event]:
        if msg.major != 3:
            raise _unsupported(msg.major, msg.minor)
        out: list[Event] = []
        params: dict[str, str] = {}
        unsupported: list[str] = []
        for k, v in msg.params.items():
            if k.startswith("_pq_."):
                unsupported.append(k)
            else:
                params[k] = v
        if msg.minor > _SUPPORTED_MINOR or unsupported:
            out.append(Send(backend.negotiate_protocol_version(_SUPPORTED_MINOR, unsupported)))
        user = params.pop("user", "")
        if not user:
            raise PgError(INVALID_AUTHORIZATION,
                          "no PostgreSQL user name specified in startup packet",
                          severity="FATAL")
        database = params.pop("database", "") or user
        self._user, self._database, self._params = user, database, params
        if self.require_tls and not self.tls_active:
            raise PgError(
                INVALID_AUTHORIZATION,
                f'no pg_hba.conf entry for user "{user}", database "{database}", no encryption',
                hint="This server accepts only TLS connections; connect with sslmode=require.",
                severity="FATAL")
        self._info = self.lookup(user)
        info = self._info
        method = self.auth_method
        if method == "md5" and info is not None and info.md5:
            self._salt = os.urandom(4)
            self._state = _PASSWORD_MD5
            out.append(Send(backend.authentication_md5(self._salt)))
        elif method == "password" and (self.tls_active or self.allow_cleartext_without_tls):
            self._state = _PASSWORD_CLEAR
            out.append(Send(backend.authentication_cleartext()))
        else:
            self._scram = ScramServer(user, info.scram if info is not None else None)
            self._state = _SASL_INITIAL
            out.append(Send(backend.authentication_sasl([SCRAM_MECHANISM])))
        return out

    # -- authentication exchanges

    def _sasl_initial(self, body: bytes | memoryview) -> list[Event]:
        mech, data = decode_sasl_initial(body)
        if mech != SCRAM_MECHANISM:
            raise PgError(PROTOCOL_VIOLATION,
                          "client selected an invalid SASL authentication mechanism",
                          severity="FATAL")
        assert self._scram is not None
        server_first = self._scram.first(data)
        self._state = _SASL_CONTINUE
        return [Send(backend.authentication_sasl_continue(server_first))]

    def _sasl_continue(self, body: bytes | memoryview) -> list[Event]:
        assert self._scram is not None
        server_final = self._scram.final(decode_sasl_response(body))
        return [Send(backend.authentication_sasl_final(server_final))] + self._ok()

    def _password_md5(self, body: bytes | memoryview) -> list[Event]:
        response = decode_password(body)
        info = self._info
        if info is None or not info.md5 or not check_md5(info.md5, self._user, self._salt,
                                                         response):
            raise password_failed(self._user)
        return self._ok()

    def _password_clear(self, body: bytes | memoryview) -> list[Event]:
        password = decode_password(body)
        info = self._info
        if info is not None and info.scram is not None:
            ok = check_cleartext(info.scram, password)
        elif info is not None and info.md5:
            ok = hmac.compare_digest(md5_hash(self._user, password).encode(),
                                     info.md5.encode())
        else:
            # Same work as for a known user, so timing does not reveal existence.
            check_cleartext(mock_verifier(self._user), password)
            ok = False
        if not ok:
            raise password_failed(self._user)
        return self._ok()

    def _ok(self) -> list[Event]:
        self._state = _DONE
        return [Send(backend.authentication_ok()),
                Authenticated(self._user, self._database, dict(self._params), _SUPPORTED_MINOR)]


def _unsupported(major: int, minor: int) -> PgError:
    return PgError(
        PROTOCOL_VIOLATION,
        f"unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.0",
        severity="FATAL")
