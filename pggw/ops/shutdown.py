"""Graceful, bounded shutdown (SIGTERM) and closing client sessions for drain.

``twistd`` turns SIGTERM (and SIGINT) into ``reactor.stop()``, which stops the
application's services and waits for the Deferred they return while the reactor keeps
running. :class:`GatewayService` replaces :class:`MultiService`'s all-at-once stop with
an ordered one:

1. stop accepting PostgreSQL connections (readiness turns false);
2. let in-flight statements and open transactions finish: a session is closed with
   ``57P01 terminating connection due to administrator command`` as soon as it is idle
   outside a transaction block, every session still busy after ``grace`` seconds is
   closed anyway (its uncommitted transaction was never acknowledged, so nothing
   acknowledged is lost: the client sees an error);
3. stop the uploader (in-flight requests are cancelled; their records stay in the WAL and
   are sent again, idempotently, by the next start);
4. stop everything else but the WAL (HTTP listener, sampler, embedded emulator);
5. close the WAL: queued writes finish, the file is checkpointed and unlocked.

Each step has a time limit, so the process exits with status 0 within about
``grace + 15`` seconds whatever happens; Kubernetes' ``terminationGracePeriodSeconds`` and
systemd's ``TimeoutStopSec`` must be longer than that.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.application.service import IService, MultiService, Service
from twisted.internet.defer import Deferred
from twisted.logger import Logger

from pggw.wire import errors as E
from pggw.wire.errors import PgError

__all__ = ["GatewayService", "close_sessions", "is_idle", "shutdown_grace"]

log = Logger(namespace="pggw.ops")

DEFAULT_GRACE = 20.0
UPLOADER_STOP_TIMEOUT = 5.0
SERVICE_STOP_TIMEOUT = 5.0
WAL_CLOSE_TIMEOUT = 10.0
POLL = 0.05
LINGER = 2.0


def shutdown_grace(config: Any) -> float:
    """Seconds in-flight statements get on shutdown: ``PGGW_SHUTDOWN_GRACE``, default 20."""
    value = getattr(config, "extra", {}).get("shutdown_grace") or os.environ.get(
        "PGGW_SHUTDOWN_GRACE")
    try:
        return float(value) if value is not None else DEFAULT_GRACE
    except ValueError:
        return DEFAULT_GRACE


def is_idle(proto: Any) -> bool:
    """Whether a connection can be closed without cutting a statement or an open
    transaction short (a connection still in its startup handshake counts as idle)."""
    session = getattr(proto, "session", None)
    if session is None:
        return True
    if proto.waiting is not None or session.copy is not None:
        return False
    if getattr(session, "_pending", None):
        return False
    if session.engine.in_block:
        return False
    return not proto.reader.buffered()


def terminate(proto: Any) -> None:
    """Send FATAL 57P01 and close (PostgreSQL's words for a shutdown)."""
    if proto.closing:
        return
    proto._fatal(PgError(E.ADMIN_SHUTDOWN,
                         "terminating connection due to administrator command"))


def _sleep(reactor: Any, seconds: float) -> Deferred[None]:
    d: Deferred[None] = Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


async def close_sessions(ctx: Any, reactor: Any, grace: float) -> None:
    """Close every connection of ``ctx`` as soon as it is idle, and all of them after
    ``grace`` seconds; returns once they are gone.

    A closed TLS connection waits for the peer's close_notify, which an idle client
    never sends: a connection still there ``LINGER`` seconds after its error was sent
    is aborted."""
    deadline = reactor.seconds() + grace
    told: dict[int, float] = {}  # id(proto) -> when it was sent 57P01
    forced = False
    while ctx.connections:
        now = reactor.seconds()
        late = now >= deadline
        for proto in list(ctx.connections.values()):
            key = id(proto)
            if key in told or proto.closing:
                since = told.setdefault(key, now)
                if now - since >= LINGER or (late and now - deadline >= LINGER):
                    transport = getattr(proto, "transport", None)
                    if transport is not None and hasattr(transport, "abortConnection"):
                        transport.abortConnection()
                continue
            if late or is_idle(proto):
                if not is_idle(proto):
                    forced = True
                    log.warn("connection {pid} of {user} still busy after {grace}s: closed",
                             pid=proto.pid, user=proto.user or "-", grace=grace)
                terminate(proto)
                told[key] = now
        if late and now - deadline > 2 * LINGER:
            break  # aborted transports that never report connectionLost: give up
        await _sleep(reactor, POLL)
    if forced:
        log.info("closed busy sessions after the grace period")


async def _bounded(what: str, d: Any, reactor: Any, timeout: float) -> None:
    if d is None:
        return
    if not isinstance(d, Deferred):
        return
    d.addTimeout(timeout, reactor)
    try:
        await d
    except Exception as e:  # noqa: BLE001 - shutdown goes on whatever one part does
        log.warn("shutdown: stopping {what} failed or timed out: {error!r}", what=what,
                 error=e)


class GatewayService(MultiService):
    """The gateway's top service: children start in order; stop is ordered and bounded
    (see the module docstring)."""

    def __init__(self, gateway: Any) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.gateway = gateway
        self.grace = shutdown_grace(gateway.config)

    def setServiceParent(self, parent: Any) -> None:  # noqa: N802
        # twistd hands the Application here before it starts logging: the place where a
        # service may pick its log observer (--log-format json).
        from pggw.ops.logs import install_observer

        install_observer(parent, self.gateway.config)
        super().setServiceParent(parent)  # type: ignore[no-untyped-call]

    def stopService(self) -> Deferred[None]:  # noqa: N802
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        Service.stopService(self)  # type: ignore[no-untyped-call]
        gw = self.gateway
        reactor = gw.reactor
        start = reactor.seconds()
        ops = getattr(gw, "ops", None)
        if ops is not None:
            ops.stopping = True
            ops.last_ready = False
        log.info("shutting down: no new connections; in-flight statements have {grace}s",
                 grace=self.grace)
        pg = getattr(gw, "pg_listener", None)
        if pg is not None and pg.running:
            await _bounded("the PostgreSQL listener", pg.stopService(), reactor,
                           SERVICE_STOP_TIMEOUT)
        ctx = getattr(gw, "context", None)
        if ctx is not None:
            await close_sessions(ctx, reactor, self.grace)
        uploader = getattr(gw, "uploader", None)
        if uploader is not None and uploader.running:
            await _bounded("the uploader", uploader.stopService(), reactor,
                           UPLOADER_STOP_TIMEOUT)
        wal_service = getattr(gw, "wal_service", None)
        rest = []
        for svc in reversed(list(self)):
            if svc in (pg, uploader, wal_service) or not IService(svc).running:
                continue
            rest.append(svc.stopService())
        for d in rest:
            await _bounded("a service", d, reactor, SERVICE_STOP_TIMEOUT)
        if wal_service is not None and wal_service.running:
            await _bounded("the WAL", wal_service.stopService(), reactor, WAL_CLOSE_TIMEOUT)
        log.info("stopped cleanly in {seconds:.1f}s", seconds=reactor.seconds() - start)
        # twistd re-raises the signal that stopped the reactor once it has stopped, so the
        # exit status would say "killed by SIGTERM"; a completed graceful stop exits 0.
        if getattr(reactor, "_exitSignal", None) is not None:
            reactor._exitSignal = None
