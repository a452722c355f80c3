"""The uploader: drains the WAL into CDF.

One *lane* per user reads that user's committed records in commit order, a page at a
time. A page is cut into *stages*: consecutive records that may be uploaded together
(no key written twice, except overwrite-by-key tables where the last write wins; deletes
alone). A stage runs its tables in dependency order (data sets, labels, RAW, assets by
hierarchy depth, then events/time series/files/sequences/pipelines, then datapoints,
sequence rows, relationships, runs) with batches of one level in parallel, under a
concurrency limit shared by all users of a CDF project that shrinks on 429 and grows back
slowly.

Failures: transient ones (:func:`pggw.cdf.is_transient`) are retried forever with capped
exponential backoff and full jitter, honouring ``Retry-After``. 401/403 pause the user's
lane (only it) and probe until the identity works again. A 400/409/422 naming items
(``missing``/``duplicated``) removes exactly those and resends the rest; what stays
unexplained is bisected until single poison items are dead-lettered with the CDF error
and their original rows. Items whose references are missing are parked — one task per
parked batch — and retried for ``missing_window`` seconds (``PGGW_MISSING_WINDOW``
overrides it) before they are dead-lettered; later writes to a parked key are queued
behind it in O(1) (merged for overwrite kinds), in commit order. The window is per key:
once it ran out, writes to the same key that CDF still finds missing are dead-lettered
at once. A lane whose parked and held records reach ``max_open_rows`` rows stops reading
more records until some are settled: the rest stays in the WAL, not in memory.
``duplicated`` on a create counts as done when the item in CDF matches
what was sent (the retry of a request whose outcome was unknown), and is a "conflict"
dead letter otherwise; upserts update the duplicated items, insert-ignore drops them.

A record is marked done in the WAL only when all its items were accepted (or
dead-lettered). Records are chunks of many rows, so after a crash a record may be sent
again: creates are then found duplicated and verified, overwrites are idempotent.
"""

from __future__ import annotations

import gc
import math
import os
import random
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, DeferredList
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from pggw.cdf.client import CdfClient, CdfResponse, path_label
from pggw.cdf.errors import CdfConnectionError, CdfError, TokenError, is_transient
from pggw.tables.limits import DATAPOINTS
from pggw.tables.model import Table
from pggw.upload import files as file_content
from pggw.upload.mapping import (
    LEVELS,
    Endpoint,
    Item,
    OverwriteMerger,
    Points,
    Unmappable,
    endpoint_for,
    kind_of,
    map_record,
    pack,
    rows_of,
    split_heavy,
    to_update,
)
from pggw.upload.metrics import UploadMetrics
from pggw.upload.policy import AdaptiveLimiter, Backoff, sleep
from pggw.upload.resolve import Resolver
from pggw.wal.log import Record, WriteAheadLog
from pggw.wire.errors import DISK_FULL, PgError

__all__ = ["UploadRejected", "Uploader"]

_log = Logger(namespace="pggw.upload")

#: Rows handled between two yields to the reactor in bulk steps.
_SLICE = 20_000

_MAX_POINTS = DATAPOINTS.max_points_per_request

_OVERWRITE_KINDS = frozenset({"datapoints", "raw", "custom_raw", "sequence_rows", "view"})

Key = tuple[str, Any, Any]  # (table, group, ident)

#: seconds before a failed mark_done (disk full) is tried again
MARK_DONE_RETRY_SECONDS = 1.0

#: dead letters remembered per lane for wait_uploaded's errors
_DEAD_LOG = 10_000
#: keys remembered per lane as "missing window ran out"
_EXPIRED_KEYS = 100_000


@dataclass(eq=False)
class _RecState:
    record: Record
    table: Table
    cols: dict[str, list[Any]]
    outstanding: int = 0
    dead: set[Any] = field(default_factory=set)
    dead_rows: int = 0


@dataclass(eq=False)
class _Park:
    """Items of one table CDF found missing a reference, retried by one task.

    ``queues`` holds, per key, the parked item first and then the later writes to that
    key held behind it, in commit order; ``loose`` the parked items without identity."""

    table: Table
    queues: dict[Key, deque[Item]] = field(default_factory=dict)
    loose: list[Item] = field(default_factory=list)


@dataclass(eq=False)
class _Lane:
    user: str
    seq: int = 0
    rid: int | None = None
    running: bool = False
    paused: str | None = None
    last_error: str | None = None
    records: dict[int, _RecState] = field(default_factory=dict)
    blockers: dict[Key, _Park] = field(default_factory=dict)
    #: key → seq of the last record read that writes it (only while records are open)
    last_write: dict[Key, int] = field(default_factory=dict)
    #: keys whose missing window ran out → when CDF last found them missing
    expired: OrderedDict[Key, float] = field(default_factory=OrderedDict)
    parked: int = 0
    #: rows of the records read but not finished (bounded by ``max_open_rows``)
    open_rows: int = 0
    room: Deferred[None] | None = None
    pause_attempt: int = 0
    #: (seq, dead letter summary) of recent dead letters, for :meth:`Uploader.wait_uploaded`
    dead_log: deque[tuple[int, dict[str, Any]]] = field(
        default_factory=lambda: deque(maxlen=_DEAD_LOG))
    waiters: list[_Waiter] = field(default_factory=list)
    checking: bool = False
    recheck: bool = False
    #: a commit of this user was announced (:meth:`Uploader.wake`) since the lane's last read
    more: bool = False
    #: fires to cut a linger or a yield of the lane short (a waiter came, or stopping)
    nap: Deferred[None] | None = None


@dataclass(eq=False)
class _Waiter:
    after_seq: int
    up_to_seq: int  # -1 until known
    deferred: Deferred[None]
    fail_fast: bool = False
    timer: Any = None


class UploadRejected(Exception):
    """CDF refused (dead-lettered) rows a caller of :meth:`Uploader.wait_uploaded`
    waited for. ``errors``: one dict per dead letter with ``table``, ``op``, ``seq``,
    ``record_id``, ``rows`` (count), ``reason`` (rejected, missing, conflict,
    unmappable) and, as CDF gave them, ``status``, ``code``, ``message``, ``missing``,
    ``duplicated``, ``request_id``. ``complete`` is false when raised before all the
    waited-for rows were settled (timeout or ``fail_fast``)."""

    def __init__(self, user: str, errors: list[dict[str, Any]], *,
                 complete: bool = True) -> None:
        rows = sum(int(e.get("rows", 0)) for e in errors)
        first = errors[0] if errors else {}
        super().__init__(
            f"CDF rejected {rows} row(s) of user {user}"
            f" ({first.get('table')}: {first.get('message')})"
            + ("" if len(errors) <= 1 else f" and {len(errors) - 1} more dead letter(s)"))
        self.user = user
        self.errors = errors
        self.complete = complete


def _ident_key(entry: Mapping[str, Any]) -> tuple[str, Any] | None:
    for k in ("externalId", "id"):
        if k in entry:
            return (k, entry[k])
    if "instanceId" in entry and isinstance(entry["instanceId"], dict):
        inst = entry["instanceId"]
        return ("instanceId", (inst.get("space"), inst.get("externalId")))
    return None


def _same(sent: Any, got: Any) -> bool:
    if isinstance(sent, float) or isinstance(got, float):
        try:
            return math.isclose(float(sent), float(got), rel_tol=1e-9, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    if isinstance(sent, dict) and isinstance(got, dict):
        return sent.keys() == got.keys() and all(_same(v, got[k]) for k, v in sent.items())
    if isinstance(sent, list) and isinstance(got, list):
        return len(sent) == len(got) and all(_same(a, b) for a, b in zip(sent, got, strict=True))
    return bool(sent == got)


def matches(sent: Mapping[str, Any], got: Mapping[str, Any]) -> bool:
    """Whether an item CDF holds has every field as ``sent`` (labels in any order)."""
    for k, v in sent.items():
        if k not in got:
            if v in (None, [], {}):
                continue
            return False
        g = got[k]
        if k == "labels" and isinstance(v, list) and isinstance(g, list):
            if sorted(map(str, v)) != sorted(map(str, g)):
                return False
        elif not _same(v, g):
            return False
    return True


class Uploader(Service):
    """Drains the WAL into CDF; see the module docstring.

    ``registry`` maps table names to :class:`Table`; ``table_for(user, name)`` may
    replace it for users with custom tables. ``clients(user)`` gives the
    :class:`CdfClient` with that user's identity, or ``None`` while the user has none
    (its lane waits). Counters are in :attr:`metrics`.
    """

    name = "uploader"

    def __init__(
        self,
        wal: WriteAheadLog,
        registry: Mapping[str, Table],
        clients: Callable[[str], CdfClient | None],
        reactor: IReactorTime,
        *,
        concurrency: int = 8,
        max_concurrency: int | None = None,
        page_records: int = 64,
        page_rows: int = 400_000,
        poll_interval: float = 0.5,
        discover_interval: float = 5.0,
        backoff: Backoff | None = None,
        missing_window: float = 300.0,
        missing_retry: tuple[float, float] = (2.0, 30.0),
        pause_retry: tuple[float, float] = (5.0, 120.0),
        lag_interval: float | None = 0.1,
        rng: random.Random | None = None,
        table_for: Callable[[str, str], Table | None] | None = None,
        max_open_rows: int | None = None,
        page_items: int | None = None,
        linger: float = 0.0,
        ingest_share: float = 1.0,
        ingest_window: float = 0.05,
    ) -> None:
        self.wal = wal
        self.registry = registry
        self.table_for = table_for or (lambda user, name: registry.get(name))
        self.clients = clients
        self.reactor = reactor
        self.concurrency = concurrency
        self.max_concurrency = max_concurrency if max_concurrency is not None else concurrency
        self.page_records = page_records
        self.page_rows = page_rows
        #: a page stops once its records made this many items (default: page_rows)
        self.page_items = page_items if page_items is not None else page_rows
        self.poll_interval = poll_interval
        self.backoff = backoff or Backoff(rng=rng)
        env_window = os.environ.get("PGGW_MISSING_WINDOW")
        if env_window:  # hidden knob for tests and operators
            missing_window = float(env_window)
        self.missing_window = missing_window
        #: stop reading a lane's records while this many rows of it are read but not
        #: finished (parked/held ones): the rest waits in the WAL, not in memory
        self.max_open_rows = max_open_rows if max_open_rows is not None else page_rows
        self.missing_retry = missing_retry
        self.pause_retry = pause_retry
        self.lag_interval = lag_interval
        self.metrics = UploadMetrics()
        self.resolver = Resolver()
        self.lanes: dict[str, _Lane] = {}
        self._limiters: dict[tuple[str, str], AdaptiveLimiter] = {}
        self._tasks: set[Deferred[Any]] = set()
        self._writes: set[Deferred[Any]] = set()
        self._poll_call: Any = None
        self._polling = False
        self._woken = True
        self._last_discover = -1e18
        self.discover_interval = discover_interval
        self._lag: LoopingCall | None = None
        self._lag_expected = 0.0
        #: after a page that reached the end of the WAL, wait this long for more commits
        #: before reading again, so that a trickle of small transactions is uploaded in
        #: few requests (skipped while someone waits for the lane: --ack cdf)
        self.linger = linger
        #: while clients are committing, the uploader takes at most this share of the time
        #: (it pauses after each page for as long as the page took, scaled); 1.0: no limit.
        #: The WAL is the buffer: ingestion first, the drain still makes steady progress,
        #: and the share grows to 1 as the WAL fills up (to half its quota).
        self.ingest_share = ingest_share
        #: "clients are committing": a commit was announced within this many seconds
        self.ingest_window = ingest_window
        self._last_commit = -1e18
        #: ids of finished records not yet deleted from the WAL (one mark_done at a time)
        self._done_ids: list[int] = []
        self._done_waiters: list[Deferred[None]] = []
        self._marking = False
        #: lingers and yields taken between pages (for tests and benchmarks)
        self.naps = 0

    # -- service ------------------------------------------------------------------------

    def startService(self) -> None:
        super().startService()  # type: ignore[no-untyped-call]
        self._schedule_poll(0)
        if self.lag_interval:
            self._lag = LoopingCall(self._probe_lag)
            self._lag.clock = self.reactor
            self._lag_expected = self.reactor.seconds()
            self._lag.start(self.lag_interval, now=False)

    def stopService(self) -> Deferred[None]:
        super().stopService()  # type: ignore[no-untyped-call]
        if self._poll_call is not None and self._poll_call.active():
            self._poll_call.cancel()
        self._poll_call = None
        if self._lag is not None and self._lag.running:
            self._lag.stop()
        for lane in self.lanes.values():
            self._cut_nap(lane)
        for d in list(self._tasks):
            d.cancel()
        pending = list(self._tasks)
        done: Deferred[Any] = DeferredList(pending, consumeErrors=True)
        done.addCallback(lambda _: Deferred.fromCoroutine(self._flush_writes()))
        return done.addCallback(lambda _: None)

    def wake(self, user: str | None = None) -> None:
        """Look for new records now (call after a commit to cut latency). With the
        committing ``user``: nothing to look for if that user's lane is reading anyway
        (it reads again before it stops); the commit also counts as client activity for
        :attr:`ingest_share`."""
        if user is not None:
            self._last_commit = self.reactor.seconds()
            lane = self.lanes.get(user)
            if lane is not None and lane.running:
                lane.more = True
                return
        self._woken = True
        if self.running and not self._polling:
            self._schedule_poll(0)

    def ingesting(self) -> bool:
        """Whether clients committed within the last :attr:`ingest_window` seconds."""
        return self.reactor.seconds() - self._last_commit < self.ingest_window

    # -- status -------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Per-user drain state, for /status and tests."""
        return {
            user: {
                "state": "paused" if lane.paused else ("active" if lane.running else "idle"),
                "paused": lane.paused,
                "last_error": lane.last_error,
                "parked": lane.parked,
                "blocked_keys": len(lane.blockers),
                "records_in_flight": len(lane.records),
                "rows_in_flight": lane.open_rows,
            }
            for user, lane in self.lanes.items()
        }

    def wait_uploaded(
        self, user: str, up_to_seq: int | None = None, timeout: float | None = None, *,
        after_seq: int = 0, fail_fast: bool = False,
    ) -> Deferred[None]:
        """Fires (with ``None``) once CDF has taken every record of ``user`` committed
        with a seq ``<= up_to_seq``: each was accepted or dead-lettered, and they are all
        out of the WAL. ``up_to_seq=None`` means everything committed when called.

        Event-driven: a lane re-checks its waiters when one of its records is finished
        or dead-lettered and when it goes idle; a cheap in-memory test runs first and
        only a plausible completion is confirmed with one WAL query (so a commit that
        the lane has not read yet can never be reported as uploaded).

        Fails with:

        * :class:`UploadRejected` if any rows of records with ``after_seq < seq <=
          up_to_seq`` were dead-lettered by this uploader (since it started); its
          ``errors`` list holds each dead letter's table, seq, row count, reason and the
          CDF error (``code``, ``message``, ``missing``, ``duplicated``). Rows CDF
          accepted stay in CDF. With ``fail_fast`` it fails at the first such dead
          letter instead of waiting for the rest.
        * :class:`TimeoutError` after ``timeout`` seconds (rows are safely queued in the
          WAL and keep being uploaded) — unless rows in range were dead-lettered by
          then, which gives :class:`UploadRejected` with ``complete=False``.

        Cancelling the Deferred forgets the wait. For ``--ack cdf`` pass the commit's
        seq as ``up_to_seq`` and ``after_seq=seq - 1`` (only that transaction's errors);
        for ``pggw.wait_uploaded()`` pass the session's last commit seq and, as
        ``after_seq``, the seq the previous barrier of the session returned for.
        """
        lane = self._lane(user)
        d: Deferred[None] = Deferred(lambda _: self._drop_waiter(lane, w))
        w = _Waiter(after_seq, up_to_seq if up_to_seq is not None else -1, d, fail_fast)
        lane.waiters.append(w)
        self._cut_nap(lane)  # someone waits: no lingering, no yielding
        if timeout is not None:
            w.timer = self.reactor.callLater(max(0.0, timeout), self._timed_out, lane, w,
                                             timeout)
        if up_to_seq is None:
            def last(stats: Any) -> None:
                w.up_to_seq = stats.last_seq
                self._poke(lane)

            self._write(self.wal.stats().addCallback(last))
        else:
            self._poke(lane)
        return d

    def _lane(self, user: str) -> _Lane:
        lane = self.lanes.get(user)
        if lane is None:
            lane = self.lanes[user] = _Lane(user)
        return lane

    def _drop_waiter(self, lane: _Lane, w: _Waiter) -> None:
        if w in lane.waiters:
            lane.waiters.remove(w)
        if w.timer is not None and w.timer.active():
            w.timer.cancel()

    def _errors_for(self, lane: _Lane, w: _Waiter) -> list[dict[str, Any]]:
        return [e for seq, e in lane.dead_log if w.after_seq < seq <= w.up_to_seq]

    def _timed_out(self, lane: _Lane, w: _Waiter, timeout: float) -> None:
        w.timer = None
        self._drop_waiter(lane, w)
        errors = self._errors_for(lane, w)
        if errors:
            w.deferred.errback(UploadRejected(lane.user, errors, complete=False))
        else:
            w.deferred.errback(TimeoutError(
                f"rows are safely queued in the WAL but CDF has not accepted them all "
                f"within {timeout:g} s; they keep being uploaded"))

    def _poke(self, lane: _Lane) -> None:
        """Something finished in ``lane``: re-check its waiters (coalesced)."""
        if not lane.waiters:
            return
        if lane.checking:
            lane.recheck = True
            return
        lane.checking = True
        d = Deferred.fromCoroutine(self._check_waiters(lane))
        d.addErrback(lambda f: _log.failure("checking upload waiters failed", f))

    async def _check_waiters(self, lane: _Lane) -> None:
        try:
            while True:
                lane.recheck = False
                for w in [w for w in lane.waiters if w.fail_fast]:
                    errors = self._errors_for(lane, w)
                    if errors and w.up_to_seq >= 0:
                        self._drop_waiter(lane, w)
                        w.deferred.errback(UploadRejected(lane.user, errors, complete=False))
                low = min((st.record.seq for st in lane.records.values()), default=None)
                candidates = [
                    w for w in lane.waiters
                    if w.up_to_seq >= 0 and (low is None or low > w.up_to_seq)
                    and not (lane.running and lane.seq < w.up_to_seq)
                ]
                if candidates:
                    await self._flush_writes()
                    recs = await self.wal.pending(1, 0, {lane.user})
                    first = recs[0].seq if recs else None
                    for w in candidates:
                        if w not in lane.waiters or (first is not None
                                                     and first <= w.up_to_seq):
                            continue
                        self._drop_waiter(lane, w)
                        errors = self._errors_for(lane, w)
                        if errors:
                            w.deferred.errback(UploadRejected(lane.user, errors))
                        else:
                            w.deferred.callback(None)
                if not lane.recheck:
                    return
        finally:
            lane.checking = False

    # -- polling and lanes --------------------------------------------------------------

    def _probe_lag(self) -> None:
        now = self.reactor.seconds()
        lag = max(0.0, now - self._lag_expected - (self.lag_interval or 0))
        self._lag_expected = now
        self.metrics.reactor_lag_seconds = lag
        self.metrics.reactor_lag_max_seconds = max(self.metrics.reactor_lag_max_seconds, lag)

    def _schedule_poll(self, delay: float) -> None:
        if self._poll_call is not None and self._poll_call.active():
            if delay > 0:
                return
            self._poll_call.cancel()
        self._poll_call = self.reactor.callLater(delay, self._poll)

    def _poll(self) -> None:
        self._poll_call = None
        self._polling = True
        d = Deferred.fromCoroutine(self._discover())

        def finished(result: Any) -> None:
            self._polling = False
            if isinstance(result, BaseException) or hasattr(result, "value"):
                _log.failure("uploader poll failed", result)
            if self.running:
                self._schedule_poll(self.poll_interval)

        d.addBoth(finished)

    async def _discover(self) -> None:
        # WAL stats scan the backlog: while lanes are busy, look for new users less often
        now = self.reactor.seconds()
        busy = any(lane.running for lane in self.lanes.values())
        if busy and not self._woken and now - self._last_discover < self.discover_interval:
            return
        self._woken = False
        self._last_discover = now
        stats = await self.wal.stats()
        for user, st in stats.users.items():
            if st.records <= 0:
                continue
            lane = self._lane(user)
            if not lane.running:
                lane.running = True
                self._spawn(self._run_lane(lane))
        self.metrics.paused_users = sum(1 for lane in self.lanes.values() if lane.paused)

    def _spawn(self, coro: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred.fromCoroutine(coro)
        self._tasks.add(d)

        def gone(result: Any) -> None:
            self._tasks.discard(d)
            if hasattr(result, "check") and not result.check(CancelledError):
                _log.failure("uploader task failed", result)

        d.addBoth(gone)
        return d

    async def _run_lane(self, lane: _Lane) -> None:
        try:
            while self.running:
                client = self.clients(lane.user)
                if client is None:
                    lane.paused = "no CDF identity for this user"
                    await sleep(self.reactor, self.pause_retry[0])
                    continue
                while lane.open_rows >= self.max_open_rows:
                    # parked/held records fill the lane: leave the rest in the WAL
                    lane.room = Deferred()
                    await lane.room
                lane.more = False
                records = await self.wal.pending(
                    self.page_records, lane.seq, {lane.user}, after_id=lane.rid,
                    row_limit=self.page_rows,
                )
                if not records:
                    if lane.more:  # a commit landed while the read was under way
                        continue
                    break
                take: list[Record] = []
                rows = 0
                for rec in records:
                    if take and rows + rec.nrows > self.page_rows:
                        break
                    take.append(rec)
                    rows += rec.nrows
                started = self.reactor.seconds()
                taken = await self._process(lane, client, take)
                lane.seq, lane.rid = take[taken - 1].seq, take[taken - 1].id
                self._poke(lane)
                # a page far from full: the lane has caught up with the commits
                caught_up = (taken == len(records) and len(records) < self.page_records
                             and rows * 2 < self.page_rows)
                await self._give_way(lane, started, caught_up=caught_up)
        finally:
            lane.running = False
            self._poke(lane)

    async def _give_way(self, lane: _Lane, started: float, *, caught_up: bool) -> None:
        """Between two pages of a lane. A page that reached the end of the WAL is followed
        by a linger (more commits join the next page). While clients are committing, the
        lane pauses so that it takes at most :attr:`ingest_share` of the time: a page that
        took ``t`` seconds is followed by ``t * (1 / share - 1)`` seconds of rest (at most
        one second), so the drain slows down under load but never stops. Someone waiting
        for the lane (``wait_uploaded``, ``--ack cdf``) cuts both short."""
        if lane.waiters or not self.running:
            return
        delay = self.linger if caught_up else 0.0
        share = self._share()
        if share < 1.0 and self.ingesting():
            took = self.reactor.seconds() - started
            delay = max(delay, min(1.0, took * (1.0 / max(share, 0.01) - 1.0)))
        if delay <= 0:
            return
        self.naps += 1
        nap: Deferred[None] = Deferred()
        call = self.reactor.callLater(delay, self._wake_nap, nap)
        lane.nap = nap
        try:
            await nap
        finally:
            lane.nap = None
            if call.active():
                call.cancel()

    def _share(self) -> float:
        """:attr:`ingest_share`, growing with the WAL's fill: from its set value while the
        WAL is empty to 1 (no yielding) when it is half full, so that giving way to clients
        never makes the WAL fill up where the drain could have kept up."""
        share = self.ingest_share
        if share >= 1.0:
            return 1.0
        limit = getattr(self.wal, "max_bytes", 0)
        if limit > 0:
            fill = getattr(self.wal, "used_bytes", 0) / limit
            share += (1.0 - share) * min(1.0, 2.0 * fill)
        return share

    @staticmethod
    def _wake_nap(nap: Deferred[None]) -> None:
        if not nap.called:
            nap.callback(None)

    def _cut_nap(self, lane: _Lane) -> None:
        if lane.nap is not None:
            self._wake_nap(lane.nap)

    # -- planning -----------------------------------------------------------------------

    async def _process(self, lane: _Lane, client: CdfClient, records: list[Record]) -> int:
        """Map and upload a page; returns how many of ``records`` it took: it stops
        mapping once they make :attr:`page_items` items (many small records of many
        series each are far heavier in memory than their rows suggest)."""
        mapped: list[tuple[_RecState, list[Item]]] = []
        since_yield = 0
        items = taken = 0
        for rec in records:
            if items >= self.page_items:
                break
            taken += 1
            with _no_gc():
                ((_, result),) = self._map_all(lane, [rec])
            if isinstance(result, str):
                await self._dead_record(lane, rec, result)
            else:
                mapped.append((lane.records[rec.id], result))
                items += len(result)
            since_yield += rec.nrows
            if since_yield >= _SLICE // 4:
                since_yield = 0
                await sleep(self.reactor, 0)  # let the reactor breathe between records
        if since_yield:
            await sleep(self.reactor, 0)
        with _no_gc():
            stages = self._stages(mapped, lane.last_write)
        for stage in stages:
            await self._run_stage(lane, client, stage)
        return taken

    def _map_all(
        self, lane: _Lane, records: list[Record]
    ) -> list[tuple[Record, list[Item] | str]]:
        out: list[tuple[Record, list[Item] | str]] = []
        for rec in records:
            table = self.table_for(lane.user, rec.table)
            if table is None:
                out.append((rec, f"unknown table {rec.table!r}"))
                continue
            try:
                cols = rec.columns()
                items = map_record(table, rec.op, cols, rec.id)
            except (Unmappable, ValueError, KeyError, TypeError) as e:
                out.append((rec, f"cannot map to CDF: {e}"))
                continue
            lane.records[rec.id] = _RecState(rec, table, cols)
            lane.open_rows += rec.nrows
            out.append((rec, items))
        return out

    def _stages(
        self, mapped: list[tuple[_RecState, list[Item]]], last_write: dict[Key, int]
    ) -> list[list[tuple[_RecState, list[Item]]]]:
        """Cut records into stages that may be uploaded together (and note in
        ``last_write`` which record writes each key last)."""
        stages: list[list[tuple[_RecState, list[Item]]]] = []
        cur: list[tuple[_RecState, list[Item]]] = []
        keys: dict[Key, str] = {}
        cut_next = False
        for st, items in mapped:
            op = st.record.op
            overwrite = kind_of(st.table) in _OVERWRITE_KINDS
            conflict = cut_next or (op == "delete" and bool(cur))
            # overwrite-by-key writes only conflict with deletes, which cut anyway
            track = not (overwrite and op != "delete")
            if not conflict and track:
                for it in items:
                    prev = keys.get((st.table.name, it.group, it.ident))
                    if prev is not None and not (overwrite and prev == op):
                        conflict = True
                        break
            if conflict and cur:
                stages.append(cur)
                cur, keys = [], {}
            cur.append((st, items))
            if track:
                name = st.table.name
                seq = st.record.seq
                for it in items:
                    if it.ident is not None:
                        keys[(name, it.group, it.ident)] = op
                        last_write[(name, it.group, it.ident)] = seq
            cut_next = op == "delete"
        if cur:
            stages.append(cur)
        return stages

    async def _run_stage(
        self, lane: _Lane, client: CdfClient, stage: list[tuple[_RecState, list[Item]]]
    ) -> None:
        groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
        tables: dict[str, Table] = {}
        for st, items in stage:
            tables[st.table.name] = st.table
            groups[(st.table.name, st.record.op)].extend(items)
        # merge, split and count owners before anything is sent
        prepared: dict[tuple[str, str], list[Item]] = {}
        for key, items in groups.items():
            await self._prepare(lane, key, items, tables[key[0]], prepared)
        for st, _ in stage:
            if st.outstanding == 0:
                self._record_done(lane, st.record.id)
        levels: dict[int, list[tuple[Table, list[Item]]]] = defaultdict(list)
        for (tname, op), items in prepared.items():
            table = tables[tname]
            level = LEVELS.get(tname, 1 if kind_of(table) == "custom_raw" else 4)
            if op == "delete":
                level = 10 - level  # children before parents
            levels[level].append((table, items))
        for level in sorted(levels):
            work = [self._send_table(lane, client, table, items)
                    for table, items in levels[level]]
            await _gather(work)

    async def _prepare(self, lane: _Lane, key: tuple[str, str], items: list[Item],
                       table: Table, prepared: dict[tuple[str, str], list[Item]]) -> None:
        """Merge (overwrite kinds) and split one table's items of a stage in slices that
        do not stall the reactor, then count each record's outstanding items."""
        op = key[1]
        kind = kind_of(table)
        if kind in _OVERWRITE_KINDS and op != "delete":
            merger = OverwriteMerger()
            for a in range(0, len(items), _SLICE):
                with _no_gc():
                    merger.add(items[a : a + _SLICE])
                await sleep(self.reactor, 0)
            with _no_gc():
                items = merger.result()
                ep = endpoint_for(table, op)
                if ep.max_weight is not None and kind == "datapoints":
                    items = split_heavy(items, ep.max_weight)
        records = lane.records
        for it in items:
            for rid, _ in it.owners:
                records[rid].outstanding += 1
        prepared[key] = items

    async def _send_table(
        self, lane: _Lane, client: CdfClient, table: Table, items: list[Item]
    ) -> None:
        """Send one table's items of a stage; park what is missing a reference; hold
        what is behind a parked key."""
        blockers = lane.blockers
        if blockers:
            ready: list[Item] = []
            name = table.name
            for it in items:
                park = blockers.get((name, it.group, it.ident)) if it.ident is not None else None
                if park is not None:
                    self._hold(lane, park, (name, it.group, it.ident), it)
                else:
                    ready.append(it)
        else:
            ready = items
        if table.name == "assets" and ready and ready[0].op != "delete":
            layers = _hierarchy_layers(ready)
        else:
            layers = [ready]
        for layer in layers:
            missing = await self._send_items(lane, client, table, layer)
            if missing:
                self._park(lane, client, table, missing)

    # -- sending ------------------------------------------------------------------------

    def _limiter(self, client: CdfClient) -> AdaptiveLimiter:
        key = (client.base_url, client.project)
        lim = self._limiters.get(key)
        if lim is None:
            lim = self._limiters[key] = AdaptiveLimiter(
                self.reactor, self.concurrency, maximum=self.max_concurrency
            )
        return lim

    async def _send_items(
        self, lane: _Lane, client: CdfClient, table: Table, items: list[Item]
    ) -> list[Item]:
        """Upload items (any mix of ops) until each is done, dead-lettered, or missing a
        reference; returns the missing ones."""
        if not items:
            return []
        missing: list[Item] = []
        unresolved = await self.resolver.resolve_items(
            (client.base_url, client.project), [it for it in items if it.resolve],
            lambda path, body: self._request(lane, client, path, body, None, 1),
        )
        if unresolved:
            bad = {id(it) for it, _ in unresolved}
            for it, ext in unresolved:
                it.error = {"status": 400, "code": 400, "message": "Reference(s) not found.",
                            "missing": [{"externalId": x} for x in ext]}
                missing.append(it)
            items = [it for it in items if id(it) not in bad]
        by_op: dict[str, list[Item]] = defaultdict(list)
        for it in items:
            by_op[it.op].append(it)
        work = []
        for op, its in by_op.items():
            ep = endpoint_for(table, op)
            for batch in pack(its, ep.max_items(table), ep.max_weight, ep.unique):
                work.append(self._send_batch(lane, client, table, ep, batch))
        for result in await _gather(work):
            missing.extend(result)
        return missing

    async def _request(
        self, lane: _Lane, client: CdfClient, path: str, body: Any,
        params: Mapping[str, str] | None, weight: int,
    ) -> CdfResponse:
        """One request, retried until it is answered with anything but a transient error
        or an auth failure (which pause the lane until the identity works)."""
        limiter = self._limiter(client)
        label = path_label(path)
        attempt = 0
        while True:
            if not self.running:
                raise CancelledError()
            if attempt or lane.paused:  # credentials may have been replaced meanwhile
                client = self.clients(lane.user) or client
                limiter = self._limiter(client)
            await limiter.acquire()
            self.metrics.in_flight = limiter.in_flight
            refused: str | None = None
            retry_after: float | None = None
            try:
                response = await client.post(path, body, params, weight=weight)
            except CdfError as e:
                self.metrics.requests[(label, str(e.status))] += 1
                if e.auth:
                    refused = str(e)
                elif not e.transient:
                    raise
                else:
                    if e.status == 429:
                        limiter.throttled()
                    reason, retry_after = str(e.status), e.retry_after
                    lane.last_error = str(e)
            except (CdfConnectionError, TokenError) as e:
                self.metrics.requests[(label, "error")] += 1
                if isinstance(e, TokenError) and not e.transient:
                    refused = str(e)
                else:
                    reason = "connection"
                    lane.last_error = str(e)
            except CancelledError:
                raise
            except Exception as e:  # a bug or an unexpected answer: never drop, retry
                _log.failure("unexpected error uploading to {path}", path=path)
                reason = "connection" if is_transient(e) else "error"
                lane.last_error = repr(e)
            else:
                self.metrics.requests[(label, str(response.status))] += 1
                self.metrics.backoff_until.pop(lane.user, None)
                limiter.success()
                if lane.paused:
                    lane.paused = None
                    lane.pause_attempt = 0
                return response
            finally:
                limiter.release()
                self.metrics.in_flight = limiter.in_flight
                self.metrics.concurrency_limit = limiter.limit
            attempt += 1
            if refused is not None:
                await self._pause(lane, client, refused)
                continue
            self.metrics.retries[reason] += 1
            delay = self.backoff.delay(attempt - 1, retry_after)
            self.metrics.backoff_until[lane.user] = self.reactor.seconds() + delay
            await sleep(self.reactor, delay)

    async def _pause(self, lane: _Lane, client: CdfClient, why: str) -> None:
        if lane.paused is None:
            _log.warn("uploads of user {user} paused: {why}", user=lane.user, why=why)
        lane.paused = why
        lane.last_error = why
        self.metrics.paused_users = sum(1 for la in self.lanes.values() if la.paused)
        base, cap = self.pause_retry
        delay = min(cap, base * 2 ** min(lane.pause_attempt, 30))
        lane.pause_attempt += 1
        await sleep(self.reactor, delay)
        client.tokens.invalidate()

    async def _send_batch(
        self, lane: _Lane, client: CdfClient, table: Table, ep: Endpoint, batch: list[Item]
    ) -> list[Item]:
        path = ep.path(table, batch[0].group)
        weight = sum(it.weight for it in batch)
        started = self.reactor.seconds()
        rows = sum(it.rows for it in batch)
        try:
            response = await self._request(
                lane, client, path, lambda: ep.body(batch), ep.params, weight
            )
        except CdfError as e:
            self.metrics.record_batch(lane.user, table.name, batch[0].op, rows, len(batch),
                                      started, self.reactor.seconds(), http_status=e.status,
                                      error=str(e))
            return await self._rejected(lane, client, table, ep, batch, e)
        self.metrics.record_batch(lane.user, table.name, batch[0].op, rows, len(batch),
                                  started, self.reactor.seconds(), http_status=response.status)
        if table.name == "files" and any(it.content is not None for it in batch):
            # files: upload the content to each file's upload URL
            batch = await file_content.upload_contents(self, lane, client, table, batch,
                                                       response=response)
        del response
        self._items_done(lane, table, batch)
        return []

    async def _rejected(
        self, lane: _Lane, client: CdfClient, table: Table, ep: Endpoint,
        batch: list[Item], e: CdfError,
    ) -> list[Item]:
        """A permanent 4xx for a batch: remove exactly the named items, resend the rest,
        bisect what stays unexplained."""
        dup_keys = {k for k in map(_ident_key, e.duplicated) if k is not None}
        miss_keys = {k for k in map(_ident_key, e.missing) if k is not None}
        dups = [it for it in batch if it.ident is not None and it.ident in dup_keys]
        dup_ids = {id(it) for it in dups}
        missing = [
            it for it in batch
            if id(it) not in dup_ids and (
                (it.ident is not None and it.ident in miss_keys)
                or any(r in miss_keys for r in it.refs)
            )
        ]
        named = dup_ids | {id(it) for it in missing}
        rest = [it for it in batch if id(it) not in named]
        if not named:
            if len(batch) == 1:
                await self._dead(lane, table, batch, "rejected", e.as_dict())
                return []
            self.metrics.bisections += 1
            half = len(batch) // 2
            results = await _gather([
                self._send_batch(lane, client, table, ep, batch[:half]),
                self._send_batch(lane, client, table, ep, batch[half:]),
            ])
            return [it for r in results for it in r]
        err = e.as_dict()
        for it in missing:
            it.error = err
        stale = [k[1] for k in miss_keys if k[0] == "id"]
        if stale:
            self.resolver.forget_ids((client.base_url, client.project), stale)
        work = []
        if dups:
            work.append(self._duplicated(lane, client, table, dups, e))
        if rest:
            work.append(self._send_batch(lane, client, table, ep, rest))
        results = await _gather(work)
        return missing + [it for r in results for it in r]

    async def _duplicated(
        self, lane: _Lane, client: CdfClient, table: Table, items: list[Item], e: CdfError
    ) -> list[Item]:
        by_op: dict[str, list[Item]] = defaultdict(list)
        for it in items:
            by_op[it.op].append(it)
        missing: list[Item] = []
        for op, its in by_op.items():
            if op == "insert-ignore":
                if any(it.content is not None for it in its):  # files: our own create?
                    its = await file_content.ignored_duplicates(self, lane, client, table, its)
                self._items_done(lane, table, its, uploaded=False)
            elif op == "upsert":
                missing += await self._send_items(
                    lane, client, table, [to_update(it, table) for it in its]
                )
            elif op == "insert":
                await self._verify(lane, client, table, its, e)
            else:
                await self._dead(lane, table, its, "rejected", e.as_dict())
        return missing

    async def _verify(
        self, lane: _Lane, client: CdfClient, table: Table, items: list[Item], e: CdfError
    ) -> None:
        """``duplicated`` on a create: done if CDF holds what was sent, else a conflict."""
        found: dict[tuple[str, Any], Any] = {}
        for a in range(0, len(items), 1000):
            part = items[a : a + 1000]
            try:
                response = await self._request(
                    lane, client, f"/{table.resource}/byids",
                    {"items": [{it.ident[0]: it.ident[1]} for it in part if it.ident],
                     "ignoreUnknownIds": True}, None, 1,
                )
            except CdfError as err:
                await self._dead(lane, table, part, "conflict",
                                 {**e.as_dict(), "verify": err.as_dict()})
                continue
            for got in response.items:
                if isinstance(got, dict):
                    k = _ident_key(got)
                    if k is not None:
                        found[k] = got
        same = [it for it in items if it.ident in found and (
            matches(it.body, found[it.ident]) or self._superseded(lane, table, it))]
        same_ids = {id(it) for it in same}
        differ = [it for it in items if id(it) not in same_ids]
        self.metrics.duplicates_verified += len(same)
        if any(it.content is not None for it in same):  # files: content not uploaded yet?
            same = await file_content.upload_contents(self, lane, client, table, same,
                                                      found=found)
        self._items_done(lane, table, same)
        if differ:
            await self._dead(
                lane, table, differ, "conflict",
                {**e.as_dict(),
                 "message": "an item with this key already exists in CDF with other values"},
            )

    @staticmethod
    def _superseded(lane: _Lane, table: Table, it: Item) -> bool:
        """A later record of this user writes the same key: the create was applied before a
        restart (or an unknown outcome) and so was that later write, which is why CDF holds
        other values. Replaying the later write brings CDF to its final state anyway."""
        later = lane.last_write.get((table.name, it.group, it.ident), 0)
        return any(later > lane.records[rid].record.seq
                   for rid, _ in it.owners if rid in lane.records)

    # -- parking and holding ------------------------------------------------------------

    def _park(self, lane: _Lane, client: CdfClient, table: Table, items: list[Item]) -> None:
        """Retry ``items`` (CDF found a reference of theirs missing) in one task, for
        ``missing_window`` seconds; their keys block later writes (:meth:`_hold`)."""
        now = self.reactor.seconds()
        park = _Park(table)
        for it in items:
            if it.missing_since is None:
                it.missing_since = now
            lane.parked += 1
            if it.ident is None:
                park.loose.append(it)
                continue
            key = (table.name, it.group, it.ident)
            if self._still_missing(lane, key, now):
                it.missing_since = now - self.missing_window  # no second window
            other = lane.blockers.get(key)
            if other is not None and other is not park:
                other.queues[key].append(it)  # behind a write parked earlier
                continue
            q = park.queues.get(key)
            if q is None:
                park.queues[key] = deque((it,))
                lane.blockers[key] = park
            else:
                q.append(it)  # parts of one series
        if park.queues or park.loose:
            self.metrics.parks += 1
            self._spawn(self._run_park(lane, client, park))

    def _hold(self, lane: _Lane, park: _Park, key: Key, it: Item) -> None:
        """Queue ``it`` behind the parked write with the same key: O(1), no task.

        Consecutive held writes of overwrite kinds merge (last write wins) while the
        merged item stays within one request, so a stream of datapoints for a missing
        series becomes a few held items, not one per record."""
        q = park.queues[key]
        lane.parked += 1
        self.metrics.held += 1
        tail = q[-1]
        if (len(q) > 1 and tail.missing_since is None and tail.op == it.op
                and it.op != "delete" and kind_of(park.table) in _OVERWRITE_KINDS):
            if isinstance(tail.body, Points) and isinstance(it.body, Points):
                if tail.weight + it.weight <= _MAX_POINTS:
                    self._merge_owners(lane, tail, it)
                    tail.body.extend(it.body)
                    tail.weight = len(tail.body)
                    lane.parked -= 1
                    return
            elif not isinstance(tail.body, Points) and not isinstance(it.body, Points):
                self._merge_owners(lane, it, tail)
                q[-1] = it  # the later write replaces the earlier one
                lane.parked -= 1
                return
        q.append(it)

    @staticmethod
    def _merge_owners(lane: _Lane, keep: Item, other: Item) -> None:
        """Give ``keep`` the owners of ``other`` (which disappears); a record owning
        both now waits for one item less."""
        extra = []
        for owner in other.owners:
            if owner in keep.owners:
                st = lane.records.get(owner[0])
                if st is not None:
                    st.outstanding -= 1
            else:
                extra.append(owner)
        if extra:
            keep.owners = keep.owners + extra  # owner lists may be shared: copy

    async def _run_park(self, lane: _Lane, client: CdfClient, park: _Park) -> None:
        """One task per parked batch: retry the head of each key's queue (and the items
        without identity) with capped exponential backoff until accepted, dead-lettered,
        or ``missing_window`` passed since it was first found missing; then the next
        write held for that key goes at once. The window is per key: once a key's head
        expired, later writes to that key that CDF still finds missing are dead-lettered
        without another wait, as long as such writes keep coming less than a window
        apart (a stream to a never-created series cannot stall the lane window after
        window)."""
        table = park.table
        try:
            while park.queues or park.loose:
                now = self.reactor.seconds()
                heads = [q[0] for q in park.queues.values()] + park.loose
                expired = [it for it in heads if it.missing_since is not None
                           and now - it.missing_since >= self.missing_window - 1e-3]
                if expired:
                    for it in expired:
                        if it.ident is not None:
                            self._expire(lane, (table.name, it.group, it.ident), now)
                    await self._dead_missing(lane, table, expired)
                    self._unpark(lane, park, expired)
                    continue
                todo = [it for it in heads if it.missing_since is None]  # released writes
                if todo:
                    for it in todo:
                        if isinstance(it.body, Points) and len(it.owners) > 1:
                            it.body.dedupe()
                            it.weight = len(it.body)
                else:
                    tries = min(it.tries for it in heads)
                    base, cap = self.missing_retry
                    left = min(self.missing_window - (now - (it.missing_since or now))
                               for it in heads)
                    await sleep(self.reactor,
                                max(1e-3, min(cap, base * 2 ** min(tries, 30), left)))
                    todo = [q[0] for q in park.queues.values()] + park.loose
                    for it in todo:
                        it.tries += 1
                missing = await self._send_items(lane, client, table, todo)
                missed = {id(it) for it in missing}
                now = self.reactor.seconds()
                late = []
                for it in missing:
                    if it.missing_since is None:
                        it.missing_since = now
                        if it.ident is not None and self._still_missing(
                                lane, (table.name, it.group, it.ident), now):
                            late.append(it)
                if late:
                    await self._dead_missing(lane, table, late)
                    missed.difference_update(id(it) for it in late)
                self._unpark(lane, park, [it for it in todo if id(it) not in missed])
        finally:
            for key in park.queues:
                if lane.blockers.get(key) is park:
                    del lane.blockers[key]

    def _expire(self, lane: _Lane, key: Key, now: float) -> None:
        lane.expired[key] = now
        lane.expired.move_to_end(key)
        while len(lane.expired) > _EXPIRED_KEYS:
            lane.expired.popitem(last=False)

    def _still_missing(self, lane: _Lane, key: Key, now: float) -> bool:
        """Whether ``key``'s missing window ran out and CDF found it missing again
        within a window since: then it is dead-lettered without another wait."""
        when = lane.expired.get(key)
        if when is None:
            return False
        if now - when >= self.missing_window:
            del lane.expired[key]
            return False
        self._expire(lane, key, now)
        return True

    def _unpark(self, lane: _Lane, park: _Park, resolved: list[Item]) -> None:
        """Drop resolved heads (accepted or dead-lettered) from their queues."""
        if not resolved:
            return
        lane.parked -= len(resolved)
        loose = False
        for it in resolved:
            if it.ident is None:
                loose = True
                continue
            key = (park.table.name, it.group, it.ident)
            q = park.queues.get(key)
            if q and q[0] is it:
                q.popleft()
                if not q:
                    del park.queues[key]
                    if lane.blockers.get(key) is park:
                        del lane.blockers[key]
        if loose:
            gone = {id(it) for it in resolved}
            park.loose = [it for it in park.loose if id(it) not in gone]

    async def _dead_missing(self, lane: _Lane, table: Table, items: list[Item]) -> None:
        """Dead-letter items whose reference stayed missing, grouped by CDF error."""
        by_error: dict[int, tuple[dict[str, Any], list[Item]]] = {}
        default: dict[str, Any] = {"message": "a referenced item is missing in CDF"}
        for it in items:
            err = it.error or default
            by_error.setdefault(id(err), (err, []))[1].append(it)
        for err, its in by_error.values():
            await self._dead(lane, table, its, "missing", err)

    # -- outcomes -----------------------------------------------------------------------

    def _items_done(self, lane: _Lane, table: Table, items: list[Item],
                    uploaded: bool = True) -> None:
        if uploaded:
            self.metrics.rows_uploaded[table.name] += sum(it.rows for it in items)
            self.metrics.items_uploaded[table.name] += len(items)
        for it in items:
            self._item_resolved(lane, it)

    def _item_resolved(self, lane: _Lane, it: Item) -> None:
        for rid, _ in it.owners:
            st = lane.records.get(rid)
            if st is None:
                continue
            st.outstanding -= 1
            if st.outstanding <= 0:
                self._record_done(lane, rid)

    def _record_done(self, lane: _Lane, rid: int) -> None:
        st = lane.records.pop(rid, None)
        if st is None:
            return
        if not lane.records:
            lane.last_write.clear()
        lane.open_rows -= st.record.nrows
        if lane.room is not None and lane.open_rows < self.max_open_rows:
            room, lane.room = lane.room, None
            if not room.called:  # not cancelled by stopService
                room.callback(None)
        self.metrics.records_done += 1
        self._mark_done(rid)
        self._poke(lane)

    def _mark_done(self, rid: int) -> None:
        """Delete a finished record from the WAL: ids are collected while one mark_done
        is under way and go together in the next (one writer request, not one per
        record, when a trickle of small transactions is drained)."""
        self._done_ids.append(rid)
        if not self._marking:
            self._flush_done()

    def _flush_done(self) -> None:
        ids, self._done_ids = self._done_ids, []
        waiters, self._done_waiters = self._done_waiters, []
        self._marking = True
        d = self.wal.mark_done(ids)

        def after(result: Any) -> Any:
            if isinstance(result, Failure):
                # Disk full or an I/O error: the records stay uploaded-but-not-deleted, so
                # keep their ids and try again (waiters keep waiting), never drop them.
                self._done_ids[:0] = ids
                self._done_waiters[:0] = waiters
                self.reactor.callLater(MARK_DONE_RETRY_SECONDS, self._retry_done)
                return result
            self._marking = False
            for w in waiters:
                w.callback(None)
            if self._done_ids:
                self._flush_done()
            return result

        d.addBoth(after)
        self._write(d)

    def _retry_done(self) -> None:
        self._marking = False
        if self._done_ids:
            self._flush_done()

    def _write(self, d: Deferred[Any]) -> Deferred[Any]:
        self._writes.add(d)

        def gone(result: Any) -> Any:
            self._writes.discard(d)
            if isinstance(result, Failure):
                if isinstance(result.value, PgError) and result.value.sqlstate == DISK_FULL:
                    _log.warn("WAL bookkeeping postponed: {error}", error=result.value)
                else:
                    _log.failure("WAL bookkeeping failed", result)
            return None

        d.addBoth(gone)
        return d

    async def _flush_writes(self) -> None:
        """Until the WAL bookkeeping asked for so far is written."""
        pending = list(self._writes)
        if self._done_ids:  # queued behind the mark_done under way
            queued: Deferred[None] = Deferred()
            self._done_waiters.append(queued)
            pending.append(queued)
        if pending:
            await DeferredList(pending, consumeErrors=True)

    async def _dead(self, lane: _Lane, table: Table, items: list[Item], reason: str,
                    error: dict[str, Any]) -> None:
        """Dead-letter the original rows of ``items`` (one dead letter per record)."""
        rows_by_record: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for it in items:
            for owner in it.owners:
                st = lane.records.get(owner[0])
                if st is None:
                    continue
                mark = (owner[1], it.ident)
                if mark in st.dead:
                    continue
                st.dead.add(mark)
                rows = rows_of(st.cols, owner, it.ident)
                rows_by_record[owner[0]].extend(rows)
        for rid, rows in rows_by_record.items():
            st = lane.records[rid]
            st.dead_rows += len(rows)
            self.metrics.dead_letters[(table.name, reason)] += len(rows)
            _log.warn("dead-lettered {n} row(s) of {table} for {user}: {reason}: {message}",
                      n=len(rows), table=table.name, user=lane.user, reason=reason,
                      message=error.get("message"))
            await self._write(self.wal.dead_letter(rid, rows, {**error, "reason": reason},
                                                   remove_record=False))
            lane.dead_log.append((st.record.seq, _summary(st.record, len(rows), reason, error)))
            self._poke(lane)
        for it in items:
            self._item_resolved(lane, it)

    async def _dead_record(self, lane: _Lane, rec: Record, message: str) -> None:
        self.metrics.dead_letters[(rec.table, "unmappable")] += rec.nrows
        _log.warn("dead-lettered record {rid} of {table}: {message}", rid=rec.id,
                  table=rec.table, message=message)
        error = {"message": message, "reason": "unmappable"}
        await self._write(self.wal.dead_letter(rec.id, None, error))
        lane.dead_log.append((rec.seq, _summary(rec, rec.nrows, "unmappable", error)))
        self._poke(lane)


def _summary(rec: Record, rows: int, reason: str, error: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"table": rec.table, "op": rec.op, "seq": rec.seq,
                           "record_id": rec.id, "rows": rows, "reason": reason}
    for k in ("status", "code", "message", "missing", "duplicated", "request_id"):
        if error.get(k) is not None:
            out[k] = error[k]
    return out


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector around bulk allocation of acyclic objects
    (mapping a page of rows): its repeated scans would otherwise triple the cost."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _hierarchy_layers(items: list[Item]) -> list[list[Item]]:
    """Assets in topological layers: parents (by external id) in an earlier layer than
    their children when both are in ``items``."""
    by_ext = {it.ident[1]: it for it in items if it.ident and it.ident[0] == "externalId"}
    if not any(it.parent in by_ext for it in items if it.parent is not None):
        return [items]
    depth: dict[int, int] = {}

    def depth_of(it: Item) -> int:
        d = depth.get(id(it))
        if d is not None:
            return d
        chain = []
        cur: Item | None = it
        seen: set[int] = set()
        while cur is not None and id(cur) not in depth and id(cur) not in seen:
            seen.add(id(cur))
            chain.append(cur)
            cur = by_ext.get(cur.parent) if cur.parent is not None else None
        base = depth[id(cur)] + 1 if cur is not None and id(cur) in depth else 0
        for node in reversed(chain):
            depth[id(node)] = base
            base += 1
        return depth[id(it)]

    layers: dict[int, list[Item]] = defaultdict(list)
    for it in items:
        layers[depth_of(it)].append(it)
    return [layers[d] for d in sorted(layers)]


async def _gather(work: list[Any]) -> list[Any]:
    """Run coroutines concurrently; results in order; the first failure is raised after
    all finished."""
    if not work:
        return []
    if len(work) == 1:
        return [await work[0]]
    ds = [Deferred.fromCoroutine(w) for w in work]
    results = await DeferredList(ds, consumeErrors=True)
    out = []
    for ok, value in results:
        if not ok:
            value.raiseException()
        out.append(value)
    return out

