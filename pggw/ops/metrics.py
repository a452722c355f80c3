"""The gateway's Prometheus metrics (``GET /metrics``), all named ``pggw_*``.

:class:`Metrics` owns one :class:`prometheus_client.CollectorRegistry` per gateway (never
the global one, so several gateways can live in one test process) and offers the hooks
the front door and the SQL engine call on the reactor thread. Each hook is a counter
increment: cheap enough for the hot path.

=======================================  ===========================================
hook                                     exported as
=======================================  ===========================================
``connection_opened()``                  ``pggw_connections_opened_total``
``connection_closed()``                  ``pggw_connections_closed_total``
(live count of the listener's sockets)   ``pggw_connections``
``statement(kind)``                      ``pggw_statements_total{kind}``
``statement_error(sqlstate)``            ``pggw_statement_errors_total{sqlstate}``
``rows_accepted(table, n)``              ``pggw_rows_accepted_total{table}``
``transaction_committed()``              ``pggw_transactions_committed_total``
``auth_failure(reason)``                 ``pggw_auth_failures_total{reason}``
=======================================  ===========================================

WAL figures (``pggw_wal_*``) come from a snapshot of :meth:`WriteAheadLog.stats` that the
``/metrics`` resource refreshes before each scrape; the uploader's own counters
(``pggw_upload_*``, ``pggw_reactor_lag_seconds``) come from its collector.

``pggw_cdf_request_duration_seconds{resource,endpoint,outcome}`` is the histogram of every
HTTP request the CDF clients make (API calls, file content uploads, token requests), read
from a :class:`pggw.cdf.client.RequestTimings` (the process's ``REQUEST_TIMINGS`` unless
``Metrics`` is given another): ``resource`` is the API resource (``assets``, ``raw``,
``files``, ``token`` …), ``endpoint`` the method and folded path (``POST /assets``,
``POST /raw/dbs/{db}/tables/{table}/rows``, ``PUT uploadUrl``, ``POST token``),
``outcome`` one of ``success``, ``client_error``, ``auth_error``, ``throttled``,
``server_error``, ``timeout``, ``connection_error``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from pggw.cdf.client import REQUEST_TIMINGS, RequestTimings

__all__ = ["CONTENT_TYPE", "Metrics", "WalSnapshot"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LABEL_OK = re.compile(r"[A-Za-z0-9_.\-]{1,63}")
#: A label value that is not a short identifier (or one too many) is folded into this.
OTHER = "other"
#: Distinct values one label may take before new ones are folded into ``other``.
MAX_LABEL_VALUES = 500


#: An endpoint label: a method and a folded API path (``POST /raw/dbs/{db}/tables/{table}/rows``).
_ENDPOINT_OK = re.compile(r"[A-Z]{1,10} [A-Za-z0-9_./{}\-]{1,120}")


class _Labels:
    """Keeps label cardinality bounded whatever the callers pass."""

    def __init__(self, limit: int = MAX_LABEL_VALUES, pattern: re.Pattern[str] = _LABEL_OK
                 ) -> None:
        self.limit = limit
        self.pattern = pattern
        self.seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self.seen:
            return value
        if not self.pattern.fullmatch(value) or len(self.seen) >= self.limit:
            return OTHER
        self.seen.add(value)
        return value


class WalSnapshot:
    """The latest WAL figures, and when they were taken (wall clock)."""

    def __init__(self) -> None:
        self.stats: Any = None  # pggw.wal.log.WalStats
        self.used_bytes = 0
        self.taken_at = 0.0

    def update(self, stats: Any, used_bytes: int, now: float) -> None:
        self.stats, self.used_bytes, self.taken_at = stats, used_bytes, now

    def oldest_pending_age(self, now: float) -> float:
        oldest = getattr(self.stats, "oldest_committed_at", None)
        return max(0.0, now - oldest) if oldest is not None else 0.0


class Metrics:
    """Counters the gateway's hot path increments, plus the registry ``/metrics`` exports."""

    def __init__(self, clock: Callable[[], float] = time.time,
                 cdf_timings: RequestTimings | None = None) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._opened = Counter("pggw_connections_opened", "Authenticated sessions opened",
                               registry=r)
        self._closed = Counter("pggw_connections_closed", "Authenticated sessions closed",
                               registry=r)
        self._live = Gauge("pggw_connections", "Client connections open now", registry=r)
        self._live_source: Callable[[], int] | None = None
        self._n_open = 0
        self._live.set_function(self._connections_now)
        self._statements = Counter("pggw_statements", "Statements executed, by kind",
                                   ["kind"], registry=r)
        self._errors = Counter("pggw_statement_errors", "Statements that failed, by SQLSTATE",
                               ["sqlstate"], registry=r)
        self._rows = Counter(
            "pggw_rows_accepted",
            "Rows acknowledged to clients (committed to the WAL), by table", ["table"],
            registry=r)
        self._commits = Counter("pggw_transactions_committed",
                                "Transactions that wrote rows and committed", registry=r)
        self._auth = Counter("pggw_auth_failures", "Failed logins, by reason", ["reason"],
                             registry=r)
        self._kinds, self._states, self._tables, self._reasons = (
            _Labels(64), _Labels(256), _Labels(), _Labels(32))
        Gauge("pggw_start_time_seconds", "When the gateway started (Unix time)",
              registry=r).set(clock())
        from pggw import __version__

        Gauge("pggw_build_info", "Version of the running gateway", ["version"],
              registry=r).labels(__version__).set(1)
        self.wal = WalSnapshot()
        self.state: Callable[[], dict[str, float]] = dict
        r.register(_OpsCollector(self))
        #: CDF request latencies (``pggw_cdf_request_duration_seconds``)
        self.cdf_timings = cdf_timings if cdf_timings is not None else REQUEST_TIMINGS
        r.register(_CdfLatencyCollector(self.cdf_timings))
        self._statement_children: dict[str, Any] = {}

    # -- hooks for the front door and the engine ----------------------------------------

    def connection_opened(self) -> None:
        """A client authenticated (call once per session, after AuthenticationOk)."""
        self._opened.inc()
        self._n_open += 1

    def connection_closed(self) -> None:
        """An authenticated session ended (call from ``connectionLost``)."""
        self._closed.inc()
        self._n_open -= 1

    def statement(self, kind: str) -> None:
        """A statement ran (``kind``: the engine's statement kind, e.g. ``write``,
        ``query``, ``copy``, ``tx``, ``settings``)."""
        child = self._statement_children.get(kind)
        if child is None:  # labels() takes a lock and a lookup: once per kind, not per row
            child = self._statement_children[kind] = self._statements.labels(self._kinds(kind))
        child.inc()

    def statement_error(self, sqlstate: str) -> None:
        """A statement was rejected with an ErrorResponse carrying ``sqlstate``."""
        self._errors.labels(self._states(sqlstate)).inc()

    def rows_accepted(self, table: str, n: int) -> None:
        """``n`` rows of ``table`` were committed to the WAL and acknowledged."""
        if n > 0:
            self._rows.labels(self._tables(table)).inc(n)

    def transaction_committed(self) -> None:
        self._commits.inc()

    def auth_failure(self, reason: str = "password") -> None:
        """A login failed (``password``, ``unknown_user``, ``database``, ``tls_required`` …)."""
        self._auth.labels(self._reasons(reason)).inc()

    # -- wiring -------------------------------------------------------------------------

    def track_connections(self, count: Callable[[], int]) -> None:
        """Report ``count()`` as ``pggw_connections`` (the listener's live sockets)."""
        self._live_source = count

    def register(self, collector: Any) -> None:
        """Export another collector (the uploader's) through this registry."""
        self.registry.register(collector)

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)

    def _connections_now(self) -> float:
        if self._live_source is not None:
            return float(self._live_source())
        return float(self._n_open)

    # -- reading back (tests, /status) --------------------------------------------------

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when absent), e.g. ``value("pggw_rows_accepted_total",
        table="assets")``."""
        v = self.registry.get_sample_value(name, labels or None)
        return float(v) if v is not None else 0.0


class _OpsCollector:
    """WAL and gateway-state gauges, read from the latest snapshot at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Any]:
        return []  # unchecked: the families vary with the snapshot

    def collect(self) -> Iterator[Any]:
        m = self.metrics
        snap = m.wal
        st = snap.stats
        now = m.clock()

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, value=value)

        yield gauge("pggw_wal_used_bytes", "Bytes counted against the WAL quota", snap.used_bytes)
        if st is not None:
            yield gauge("pggw_wal_pending_bytes", "Encoded bytes committed and not yet uploaded",
                        st.bytes)
            yield gauge("pggw_wal_pending_records", "WAL records waiting for upload", st.records)
            yield gauge("pggw_wal_pending_rows", "Rows waiting for upload", st.rows)
            yield gauge("pggw_wal_oldest_pending_age_seconds",
                        "Age of the oldest committed row not yet uploaded (0: none)",
                        snap.oldest_pending_age(now))
            yield gauge("pggw_wal_staged_bytes", "Bytes staged by open transactions",
                        st.staged_bytes)
            yield gauge("pggw_wal_dead_letters", "Dead letters held (rows CDF refused)",
                        st.dead_letters)
            yield gauge("pggw_wal_dead_letter_rows", "Rows held in dead letters",
                        st.dead_letter_rows)
            yield gauge("pggw_wal_max_bytes", "WAL quota in bytes", st.max_bytes)
            yield gauge("pggw_wal_file_bytes", "Size of the WAL files on disk", st.file_bytes)
            yield gauge("pggw_wal_last_commit_seq", "Sequence number of the last commit",
                        st.last_seq)
        for name, value in m.state().items():
            yield gauge(f"pggw_{name}", _STATE_DOCS.get(name, name), value)


class _CdfLatencyCollector:
    """``pggw_cdf_request_duration_seconds``: the CDF clients' request timings."""

    def __init__(self, timings: RequestTimings) -> None:
        self.timings = timings
        self.labels = (_Labels(64), _Labels(256, _ENDPOINT_OK), _Labels(16))

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        family = HistogramMetricFamily(
            "pggw_cdf_request_duration_seconds",
            "Duration of HTTP requests to CDF (API calls, file content uploads, token "
            "requests), by resource, endpoint and outcome",
            labels=["resource", "endpoint", "outcome"])
        merged: dict[tuple[str, ...], tuple[list[int], float]] = {}
        for key, pairs, total, _n in self.timings.snapshot():
            labels = tuple(f(v) for f, v in zip(self.labels, key, strict=True))
            prev = merged.get(labels)
            counts = [c for _, c in pairs]
            if prev is not None:  # labels folded into "other"
                counts = [a + b for a, b in zip(prev[0], counts, strict=True)]
                total += prev[1]
            merged[labels] = (counts, total)
        les = [*(_le(b) for b in self.timings.buckets), "+Inf"]
        for labels, (counts, total) in merged.items():
            family.add_metric(list(labels), list(zip(les, counts, strict=True)), total)
        yield family


def _le(bound: float) -> str:
    return str(float(bound))


_STATE_DOCS = {
    "ready": "1 when the gateway accepts connections and its WAL is writable",
    "draining": "1 while draining (no new connections; waiting for the WAL to empty)",
    "users_backing_off": "Users whose uploads wait for a retry after a transient failure",
}
