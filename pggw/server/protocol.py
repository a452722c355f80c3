"""The thin Twisted adapter: socket bytes in, protocol messages out, with backpressure."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import interfaces
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from pggw.server.session import Session
from pggw.wire import backend as B
from pggw.wire import errors as E
from pggw.wire import startup as S
from pggw.wire.errors import PgError
from pggw.wire.framing import MessageReader

log = Logger()

# Stop reading from a socket while this much input waits behind an async step.
HIGH_WATER = 4 * 2**20
# While a transaction's commit waits for its fsync, the replies so far are held, as
# PostgreSQL buffers them until Sync: BindComplete, CommandComplete and ReadyForQuery of an
# autocommit INSERT go out in one write (one send, one wake-up of the client) — unless
# this much is held. Other waits (a COPY's or a batch's backpressure) send at once.
OUT_HIGH_WATER = 256 * 2**10


@dataclass
class GatewayContext:
    """What every connection needs; built once by the service."""

    auth_method: str
    require_tls: bool
    allow_cleartext_without_tls: bool
    tls_context: Any  # twisted.internet.ssl.CertificateOptions or None
    lookup: Callable[[str], S.AuthInfo | None]
    make_engine: Callable[[str, str, dict[str, str]], Any]  # (user, database, params) -> Engine
    database_ok: Callable[[str, str], bool]  # (user, database)
    max_message_size: int = 256 * 2**20
    connections: dict[int, PgServerProtocol] = field(default_factory=dict)
    # None when the gateway can take writes, else a Deferred that fires when it can.
    when_ready: Callable[[], Deferred[None] | None] = lambda: None
    # Slows down failed logins per address and user (pggw.credentials.ratelimit).
    login_throttle: Any = None
    reactor: Any = None
    metrics: Any = None  # pggw.ops.metrics.Metrics


class PgServerProtocol(Protocol):
    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx
        self.reader = MessageReader(ctx.max_message_size)
        self.startup = S.StartupMachine(
            tls_available=ctx.tls_context is not None,
            require_tls=ctx.require_tls,
            auth_method=ctx.auth_method,
            lookup=ctx.lookup,
            allow_cleartext_without_tls=ctx.allow_cleartext_without_tls,
        )
        self.session: Session | None = None
        self.out: list[bytes] = []
        self.out_size = 0  # bytes in ``out``
        self.waiting: Deferred[None] | None = None
        self.paused = False
        self.closing = False
        self.pid = 0
        self.key = b""
        self.user = ""

    # -- Twisted callbacks ---------------------------------------------------
    def connectionMade(self) -> None:  # noqa: N802
        # Replies are written whole; Nagle's algorithm would hold them for the peer's delayed ACK.
        if hasattr(self.transport, "setTcpNoDelay"):
            self.transport.setTcpNoDelay(True)  # type: ignore[union-attr]
        self.pid = secrets.randbelow(2**31 - 1) + 1
        while self.pid in self.ctx.connections:
            self.pid = secrets.randbelow(2**31 - 1) + 1
        self.key = secrets.token_bytes(4)
        self.ctx.connections[self.pid] = self
        throttle = self.ctx.login_throttle
        if throttle is not None and throttle.refused(self._host()):
            self._fatal(PgError(E.INVALID_AUTHORIZATION,
                                "too many failed logins from this address; try again later"))

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]  # noqa: N802
        self.closing = True
        self.ctx.connections.pop(self.pid, None)
        if self.session is not None:
            if self.ctx.metrics is not None:
                self.ctx.metrics.connection_closed()
            log.info("connection {pid}: {user} disconnected", pid=self.pid, user=self.user)
            try:
                self.session.engine.close()
            except Exception:  # noqa: BLE001
                log.failure("closing session of {user}", user=self.user)

    def dataReceived(self, data: bytes) -> None:  # noqa: N802
        self.reader.feed(data)
        self._process()

    # -- message loop --------------------------------------------------------
    def _process(self) -> None:
        try:
            while self.waiting is None and not self.closing:
                msg = self.reader.next_message()
                if msg is None:
                    break
                mtype, body = msg
                if self.session is None:
                    self._startup_message(mtype, body)
                    continue
                d = self.session.receive(mtype, body)
                if self.session.closed:
                    self._close()
                    return
                if d is not None:
                    self._wait(d)
        except PgError as e:
            self._fatal(e)
            return
        except Exception:  # noqa: BLE001 - one bad connection never takes the process down
            log.failure("connection {pid} failed", pid=self.pid)
            self._fatal(PgError(E.INTERNAL_ERROR, "internal error", severity="FATAL"))
            return
        if (self.waiting is None or self.out_size > OUT_HIGH_WATER
                or self.session is None or not self.session.committing):
            self._send()
        if self.waiting is not None and self.reader.buffered() > HIGH_WATER and not self.paused:
            self.paused = True
            self.transport.pauseProducing()  # type: ignore[union-attr]

    def _wait(self, d: Deferred[None]) -> None:
        """Hold further messages until ``d`` fires (it may have fired already)."""
        waited = False  # True once this returned: ``d`` did not fire at once

        def resume(outcome: object) -> None:
            self.waiting = None
            if isinstance(outcome, Failure):
                self._internal_error(outcome)
                return
            if not waited or self.closing:
                return  # fired at once: the message loop goes on by itself
            self._send()  # what was held for this wait goes before the next replies
            if self.paused:
                self.paused = False
                self.transport.resumeProducing()  # type: ignore[union-attr]
            self._process()

        self.waiting = d
        d.addBoth(resume)
        waited = True

    def _internal_error(self, failure: Failure) -> None:
        log.failure("connection {pid}: unexpected failure", failure, pid=self.pid)
        self._fatal(PgError(E.INTERNAL_ERROR, f"internal error: {failure.value}",
                            severity="FATAL"))

    def _send(self) -> None:
        if self.out and not self.closing:
            out, self.out = self.out, []
            self.out_size = 0
            self.transport.writeSequence(out)  # type: ignore[union-attr]

    def _write(self, data: bytes) -> None:
        self.out.append(data)
        self.out_size += len(data)

    def _fatal(self, err: PgError) -> None:
        err.severity = "FATAL"
        self.out.append(B.error_response(err))
        self._close()

    def _close(self) -> None:
        self._send()
        self.closing = True
        self.transport.loseConnection()  # type: ignore[union-attr]

    # -- startup -------------------------------------------------------------
    def _host(self) -> str:
        peer = self.transport.getPeer() if self.transport is not None else None
        return str(getattr(peer, "host", ""))

    def _startup_message(self, mtype: int, body: memoryview) -> None:
        throttle = self.ctx.login_throttle
        was_startup = self.startup.expecting_startup_packet
        for ev in self.startup.receive(mtype, body, pending=self.reader.buffered()):
            if isinstance(ev, S.Send):
                self.out.append(ev.data)
            elif isinstance(ev, S.StartTLS):
                self._send()
                self.transport.startTLS(self.ctx.tls_context)  # type: ignore[union-attr]
                self.startup.tls_active = True
            elif isinstance(ev, S.CancelRequested):
                self._cancel(ev.pid, ev.key)
                self._close()
                return
            elif isinstance(ev, S.Close):
                if not was_startup and self.ctx.metrics is not None:
                    self.ctx.metrics.auth_failure("password")
                if throttle is not None and not was_startup:
                    throttle.failed(self._host(), self.startup.user)
                self._close()
                return
            elif isinstance(ev, S.Authenticated):
                if throttle is not None:
                    throttle.succeeded(self._host(), ev.user)
                self._authenticated(ev)
                return
        self.reader.startup = self.startup.expecting_startup_packet
        if (throttle is not None and was_startup and not self.startup.finished
                and not self.startup.expecting_startup_packet):
            # A password is now awaited: after failures, hold its check for a while.
            delay = throttle.delay(self._host(), self.startup.user)
            if delay > 0:
                from twisted.internet.task import deferLater

                self._send()
                self._wait(deferLater(self.ctx.reactor, delay, lambda: None))

    def _authenticated(self, ev: S.Authenticated) -> None:
        # AuthenticationOk is already queued by the startup machine.
        self.reader.startup = False
        if not self.ctx.database_ok(ev.user, ev.database):
            if self.ctx.metrics is not None:
                self.ctx.metrics.auth_failure("database")
            self._fatal(PgError(E.INVALID_CATALOG_NAME, f'database "{ev.database}" does not exist',
                                hint=f'connect to database "{ev.user}" (your user name) or '
                                     '"postgres"'))
            return
        self.user = ev.user
        wait = self.ctx.when_ready()
        if wait is not None:
            # Just started: the WAL is still opening. Hold the session until it is.
            self._wait(wait.addCallback(lambda _: self._start_session(ev)))
            return
        self._start_session(ev)

    def _start_session(self, ev: S.Authenticated) -> None:
        engine = self.ctx.make_engine(ev.user, ev.database, ev.params)
        self.session = Session(engine, self._write, self._send)
        if self.ctx.metrics is not None:
            self.ctx.metrics.connection_opened()
        for k, v in engine.settings.startup_parameter_status():
            self.out.append(B.parameter_status(k, v))
        self.out.append(B.backend_key_data(self.pid, self.key))
        self.session.ready()
        log.info("connection {pid}: {user} connected to {database}", pid=self.pid,
                 user=ev.user, database=ev.database)

    def _cancel(self, pid: int, key: bytes) -> None:
        target = self.ctx.connections.get(pid)
        if target is not None and target is not self and secrets.compare_digest(target.key, key):
            target.cancel()

    def cancel(self) -> None:
        if self.session is not None:
            self.session.canceled = True


class PgServerFactory(Factory):
    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx

    def buildProtocol(self, addr: interfaces.IAddress | None) -> PgServerProtocol:  # noqa: N802
        p = PgServerProtocol(self.ctx)
        p.factory = self
        return p
