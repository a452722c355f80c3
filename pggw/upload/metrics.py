"""Uploader counters, readable as attributes and exportable to Prometheus (``pggw_``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["UploadMetrics"]


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
    reactor_lag_seconds: float = 0.0
    reactor_lag_max_seconds: float = 0.0
    concurrency_limit: float = 0.0
    in_flight: int = 0
    paused_users: int = 0

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
