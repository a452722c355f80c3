"""The gateway's operational state: readiness, ``/status``, the dashboard's history, drain.

:class:`Operations` is a service of the gateway. Every ``sample_interval`` seconds it
refreshes the WAL figures behind ``/metrics`` and appends one sample (backlog rows, rows
uploaded so far, rejected rows) to a ring buffer covering ``history`` seconds, which the
dashboard at ``/`` charts.

Drain (``POST /admin/drain`` or :meth:`Operations.drain`): the PostgreSQL listener stops
accepting, idle sessions are closed with 57P01 at once and busy ones once their statement
or transaction ends (or when ``drain_grace`` runs out), readiness turns false, and the
uploader keeps draining the WAL. Drain is one-way: restart the process to accept again.
``pggw-admin drain`` starts it and waits until ``/status`` shows an empty WAL.
"""

from __future__ import annotations

import os
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from pggw.ops.access import Access, StatusAuthorizer, load_admin_token
from pggw.ops.metrics import Metrics
from pggw.ops.views import dead_letter_counts, user_state

__all__ = ["Operations", "Sample", "loopback_only", "replica_name"]

log = Logger(namespace="pggw.ops")

SAMPLE_INTERVAL = 5.0
HISTORY_SECONDS = 3600.0
READY_TIMEOUT = 2.0


def replica_name() -> str:
    """``PGGW_REPLICA`` (a StatefulSet pod name via the downward API), else the host name."""
    return os.environ.get("PGGW_REPLICA") or socket.gethostname()


def loopback_only(request: Any) -> bool:
    """The default ``authorize_admin``: only clients on loopback may drain."""
    host = getattr(request.getClientAddress(), "host", "")
    return host in ("127.0.0.1", "::1", "::ffff:127.0.0.1") or host.startswith("127.")


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


@dataclass(frozen=True)
class Sample:
    t: float
    backlog_rows: int
    uploaded_rows: int  # cumulative since start
    rejected_rows: int
    rate: float  # rows/s uploaded since the previous sample


class Operations(Service):
    """Status, readiness, history and drain for one gateway (see the module docstring)."""

    name = "ops"

    def __init__(self, gateway: Any, metrics: Metrics, reactor: Any, *,
                 clock: Callable[[], float] = time.time,
                 sample_interval: float = SAMPLE_INTERVAL,
                 history: float = HISTORY_SECONDS, drain_grace: float = 60.0) -> None:
        self.gateway = gateway
        self.metrics = metrics
        self.reactor = reactor
        self.clock = clock
        self.started_at = clock()
        self.replica = replica_name()
        self.sample_interval = sample_interval
        self.samples: deque[Sample] = deque(maxlen=max(2, int(history / sample_interval) + 1))
        self.drain_grace = drain_grace
        self.draining = False
        self.stopping = False
        self.last_ready = False
        #: the token that shows every user's detail in /status (see pggw.ops.access)
        self.admin_token: str | None = None
        #: what a /status caller may see: the admin token, a CDF token, or totals only
        self.authorize_status: Callable[[Any], Awaitable[Access]] = StatusAuthorizer(
            gateway, lambda: self.admin_token)
        #: who may POST /admin/* (drain)
        self.authorize_admin: Callable[[Any], bool] = loopback_only
        self._loop: LoopingCall | None = None
        self._drain_d: Deferred[None] | None = None
        self._user_states: dict[str, str] = {}
        metrics.state = self._state_gauges

    # -- service --------------------------------------------------------------------------

    def startService(self) -> None:  # noqa: N802
        super().startService()  # type: ignore[no-untyped-call]
        data_dir = getattr(self.gateway, "data_dir", None)
        if self.admin_token is None and data_dir is not None:
            try:
                self.admin_token = load_admin_token(data_dir)
            except OSError as e:
                log.error("cannot write the admin token to {dir}: {e}; /status shows "
                          "per-user detail to CDF tokens only", dir=data_dir, e=e)
        self._loop = LoopingCall(self._tick)
        self._loop.clock = self.reactor
        self._loop.start(self.sample_interval, now=False)

    def stopService(self) -> None:  # noqa: N802
        super().stopService()  # type: ignore[no-untyped-call]
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    def _tick(self) -> Deferred[None]:
        async def tick() -> None:
            try:
                await self.sample()
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.failure("sampling the backlog failed")

        return Deferred.fromCoroutine(tick())

    # -- figures --------------------------------------------------------------------------

    def uploaded_rows(self) -> int:
        uploader = getattr(self.gateway, "uploader", None)
        if uploader is None:
            return 0
        return int(sum(uploader.metrics.rows_uploaded.values()))

    async def refresh(self) -> Any:
        """Fresh WAL figures into the metrics snapshot; returns the ``WalStats``."""
        wal = self.gateway.wal
        stats = await wal.stats()
        self.metrics.wal.update(stats, wal.used_bytes, self.clock())
        return stats

    async def sample(self) -> Sample:
        stats = await self.refresh()
        now = self.clock()
        uploaded = self.uploaded_rows()
        prev = self.samples[-1] if self.samples else None
        rate = 0.0
        if prev is not None and now > prev.t:
            rate = max(0.0, (uploaded - prev.uploaded_rows) / (now - prev.t))
        s = Sample(now, stats.rows, uploaded, stats.dead_letter_rows, rate)
        self.samples.append(s)
        self.log_state_changes(now)
        return s

    def log_state_changes(self, now: float) -> None:
        """One log line per change of a user's upload state (running, backing_off, paused,
        idle), as seen at each sample."""
        uploader = getattr(self.gateway, "uploader", None)
        if uploader is None:
            return
        for user in uploader.status():
            st = user_state(self.gateway, user, now)
            before = self._user_states.get(user, "idle")
            if st["state"] != before:
                self._user_states[user] = st["state"]
                log.info("uploads of {user}: {before} -> {state}{why}", user=user,
                         before=before, state=st["state"],
                         why=f" ({st['paused_reason'] or st['last_error']})"
                         if st["state"] in ("paused", "backing_off") else "",
                         last_error=st["last_error"])

    def history(self) -> dict[str, Any]:
        return {
            "interval_s": self.sample_interval,
            "samples": [
                {"t": round(s.t, 3), "backlog_rows": s.backlog_rows,
                 "uploaded_rows": s.uploaded_rows, "rejected_rows": s.rejected_rows,
                 "rate": round(s.rate, 3)}
                for s in self.samples
            ],
        }

    def _state_gauges(self) -> dict[str, float]:
        metrics = getattr(getattr(self.gateway, "uploader", None), "metrics", None)
        now = self.clock()
        backing_off = 0
        if metrics is not None:
            backing_off = sum(1 for until in metrics.backoff_until.values() if until > now)
        return {"ready": float(self.last_ready), "draining": float(self.draining),
                "users_backing_off": float(backing_off)}

    # -- readiness ------------------------------------------------------------------------

    async def ready(self) -> tuple[bool, dict[str, Any]]:
        """Listeners up and WAL writable (a round trip to the WAL's writer thread and a
        writable data directory). CDF's reachability does not count."""
        gw = self.gateway
        checks: dict[str, Any] = {}
        pg = getattr(gw, "pg_listener", None)
        checks["pg_listener"] = pg is not None and pg.port is not None
        checks["wal_writable"] = await self._wal_ok()
        wal = gw.wal
        if wal.max_bytes:
            checks["wal_full"] = wal.used_bytes >= wal.max_bytes  # reported, not required
        ok = bool(checks["pg_listener"] and checks["wal_writable"])
        if self.stopping:
            checks["state"] = "stopping"
            ok = False
        elif self.draining:
            checks["state"] = "draining"
            ok = False
        self.last_ready = ok
        return ok, checks

    async def _wal_ok(self) -> bool:
        wal = self.gateway.wal
        if not os.access(wal.path.parent, os.W_OK):
            return False
        d: Deferred[Any] = wal._call_writer(lambda conn: conn.execute("SELECT 1").fetchone(),
                                            tx=False)
        d.addTimeout(READY_TIMEOUT, self.reactor)
        try:
            await d
        except Exception:  # noqa: BLE001 - closed, failed or wedged: not ready
            return False
        return True

    # -- status ---------------------------------------------------------------------------

    def state(self) -> str:
        return "stopping" if self.stopping else ("draining" if self.draining else "running")

    async def status(self, detail: bool, users: frozenset[str] | None = None
                     ) -> dict[str, Any]:
        """The ``/status`` body: totals always; with ``detail`` the per-user list, of
        ``users`` only unless None."""
        gw = self.gateway
        from pggw import __version__

        await self.ready()
        stats = await self.refresh()
        now = self.clock()
        dead = await dead_letter_counts(gw.wal)
        uploader = getattr(gw, "uploader", None)
        up = getattr(uploader, "metrics", None)
        recent = [s.rate for s in list(self.samples)[-3:]]
        ctx = getattr(gw, "context", None)
        body: dict[str, Any] = {
            "version": __version__,
            "replica": self.replica,
            "state": self.state(),
            "ready": self.last_ready,
            "started_at": iso(self.started_at),
            "uptime_s": round(now - self.started_at, 3),
            "connections": len(ctx.connections) if ctx is not None else 0,
            "wal": {
                "bytes": stats.bytes,
                "records": stats.records,
                "rows": stats.rows,
                "oldest_pending_age_s": round(self.metrics.wal.oldest_pending_age(now), 3),
                "staged_bytes": stats.staged_bytes,
                "staged_records": stats.staged_records,
                "used_bytes": gw.wal.used_bytes,
                "max_bytes": stats.max_bytes,
                "file_bytes": stats.file_bytes,
                "dead_letters": stats.dead_letters,
                "dead_letter_rows": stats.dead_letter_rows,
            },
            "uploads": {
                "rows_uploaded": self.uploaded_rows(),
                "rows_per_s": round(sum(recent) / len(recent), 3) if recent else 0.0,
                "in_flight": up.in_flight if up is not None else 0,
                "records_done": up.records_done if up is not None else 0,
            },
            "detail": detail,
        }
        everyone = self._users(stats, dead, now)
        body["totals"] = {
            "users": len(everyone),
            "users_with_backlog": sum(1 for u in everyone if u["backlog_rows"]),
            "backlog_rows": stats.rows,
            "rejected_rows": sum(dead.values()),
            "paused": sum(1 for u in everyone if u["state"] == "paused"),
            "backing_off": sum(1 for u in everyone if u["state"] == "backing_off"),
        }
        if detail:
            body["users"] = [u for u in everyone if users is None or u["username"] in users]
        return body

    def _users(self, stats: Any, dead: dict[tuple[str, str], int], now: float
               ) -> list[dict[str, Any]]:
        gw = self.gateway
        names: set[str] = set(stats.users) | {u for (u, _) in dead}
        uploader = getattr(gw, "uploader", None)
        if uploader is not None:
            names |= set(uploader.status())
        store = getattr(gw, "users", None)
        if store is not None:
            try:
                names |= {u.username for u in store.list()}
            except Exception:  # noqa: BLE001 - status must answer even if the store does not
                log.failure("listing users for /status")
        out = []
        for name in sorted(names):
            backlog: dict[str, Any] = {}
            for (user, table), t in stats.tables.items():
                if user == name and (t.rows or t.records):
                    backlog[table] = {"rows": t.rows, "records": t.records, "bytes": t.bytes}
            u = stats.users.get(name)
            st = user_state(gw, name, now)
            rejected = {t: n for (user, t), n in dead.items() if user == name and n}
            state = st["state"]
            if state == "running" and not (u and u.rows):
                state = "idle"
            oldest = u.oldest_committed_at if u is not None else None
            out.append({
                "username": name,
                "backlog": backlog,
                "backlog_rows": u.rows if u is not None else 0,
                "oldest_pending_age_s": round(now - oldest, 3) if oldest else None,
                "state": state,
                "backing_off_until": iso(st["backing_off_until"]),
                "paused_reason": st["paused_reason"],
                "last_error": st["last_error"],
                "rejected": sum(rejected.values()),
                "rejected_by_table": rejected,
            })
        return out

    # -- drain ----------------------------------------------------------------------------

    def drain(self) -> Deferred[None]:
        """Stop accepting connections, close sessions as they go idle; fires when no client
        session is left (the WAL may still hold rows: the uploader keeps draining)."""
        if self._drain_d is None:
            self.draining = True
            self.last_ready = False
            log.info("draining: no new connections; waiting for the WAL to empty")
            self._drain_d = Deferred.fromCoroutine(self._drain())
            self._drain_d.addErrback(lambda f: log.failure("drain failed", f))
        waiter: Deferred[None] = Deferred()

        def fire(result: object) -> object:
            waiter.callback(None)
            return result

        self._drain_d.addBoth(fire)
        return waiter

    async def _drain(self) -> None:
        from pggw.ops.shutdown import close_sessions

        gw = self.gateway
        pg = getattr(gw, "pg_listener", None)
        if pg is not None and pg.running:
            stopped = pg.stopService()
            if stopped is not None:
                await stopped
        ctx = getattr(gw, "context", None)
        if ctx is not None:
            await close_sessions(ctx, self.reactor, self.drain_grace)
        uploader = getattr(gw, "uploader", None)
        if uploader is not None:
            uploader.wake()
