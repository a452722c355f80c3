"""Uploader counters, readable as attributes and exportable to Prometheus (``pggw_``)."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BatchRecord", "UploadMetrics"]

#: Upload batches remembered for ``pggw.uploads`` and ``/status``.
BATCH_HISTORY = 1000


@dataclass(frozen=True)
class BatchRecord:
    """One upload request's outcome (a batch of one table's items), for ``pggw.uploads``."""

    finished_at: float  # reactor.seconds(): Unix time on a real reactor
    user: str
    table: str
    op: str
    rows: int
    items: int
    status: str  # "ok" or "rejected" (CDF refused it: split, resent or dead-lettered)
    http_status: int | None
    duration_s: float  # including retries of transient failures
    error: str | None = None


@dataclass
class UploadMetrics:
    """Plain counters; :meth:`collector` wraps them for ``prometheus_client``."""

    #: (resource path label, status or "error") → requests
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: reason ("429", "503", "connection", …) → retries
    retries: Counter[str] = field(default_factory=Counter)
    #: table → rows accepted by CDF
    rows_uploaded: Counter[str] = field(default_factory=Counter)
    #: table → items (datapoint series parts, rows …) accepted by CDF
    items_uploaded: Counter[str] = field(default_factory=Counter)
    #: (table, reason) → dead-lettered rows
    dead_letters: Counter[tuple[str, str]] = field(default_factory=Counter)
    records_done: int = 0
    bisections: int = 0
    duplicates_verified: int = 0
    #: batches of items parked because CDF found a reference missing (one task each)
    parks: int = 0
    #: later writes queued behind a parked key (no task each)
    held: int = 0
    reactor_lag_seconds: float = 0.0
    reactor_lag_max_seconds: float = 0.0
    concurrency_limit: float = 0.0
    in_flight: int = 0
    paused_users: int = 0
    #: the last upload batches, oldest first
    batches: deque[BatchRecord] = field(default_factory=lambda: deque(maxlen=BATCH_HISTORY))
    #: (user, table) → when a batch of it was last accepted
    last_upload: dict[tuple[str, str], float] = field(default_factory=dict)
    #: (user, table) → (when, message) of its last refused batch
    last_error: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    #: user → when its lane's next retry of a transient failure is due
    backoff_until: dict[str, float] = field(default_factory=dict)

    def record_batch(self, user: str, table: str, op: str, rows: int, items: int,
                     started: float, finished: float, *, http_status: int | None = None,
                     error: str | None = None) -> None:
        """Remember one batch's outcome (``error`` set: CDF refused it)."""
        status = "ok" if error is None else "rejected"
        self.batches.append(BatchRecord(finished, user, table, op, rows, items, status,
                                        http_status, max(0.0, finished - started), error))
        if error is None:
            self.last_upload[(user, table)] = finished
        else:
            self.last_error[(user, table)] = (finished, error)

    def collector(self) -> Any:
        """A ``prometheus_client`` collector; register it with ``REGISTRY.register``."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        metrics = self

        class _Collector:
            def collect(self) -> Iterator[Any]:
                c = CounterMetricFamily(
                    "pggw_upload_requests", "CDF requests by resource and status",
                    labels=["resource", "status"],
                )
                for (resource, status), n in metrics.requests.items():
                    c.add_metric([resource, status], n)
                yield c
                c = CounterMetricFamily("pggw_upload_retries", "Retried requests",
                                        labels=["reason"])
                for reason, n in metrics.retries.items():
                    c.add_metric([reason], n)
                yield c
                c = CounterMetricFamily("pggw_upload_rows", "Rows CDF accepted",
                                        labels=["table"])
                for table, n in metrics.rows_uploaded.items():
                    c.add_metric([table], n)
                yield c
                c = CounterMetricFamily("pggw_upload_dead_letter_rows", "Rows dead-lettered",
                                        labels=["table", "reason"])
                for (table, reason), n in metrics.dead_letters.items():
                    c.add_metric([table, reason], n)
                yield c
                yield CounterMetricFamily("pggw_upload_records_done", "WAL records uploaded",
                                          value=metrics.records_done)
                yield GaugeMetricFamily("pggw_reactor_lag_seconds",
                                        "Reactor lag of the last probe",
                                        value=metrics.reactor_lag_seconds)
                yield GaugeMetricFamily("pggw_reactor_lag_max_seconds",
                                        "Largest reactor lag since start",
                                        value=metrics.reactor_lag_max_seconds)
                yield GaugeMetricFamily("pggw_upload_concurrency_limit",
                                        "Adaptive request concurrency limit",
                                        value=metrics.concurrency_limit)
                yield GaugeMetricFamily("pggw_upload_in_flight", "Requests in flight",
                                        value=metrics.in_flight)
                yield GaugeMetricFamily("pggw_upload_paused_users",
                                        "Users paused by 401/403", value=metrics.paused_users)

        return _Collector()
