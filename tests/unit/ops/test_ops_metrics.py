"""The Metrics hooks and the exposition: names, labels, values, bounded cardinality."""

from __future__ import annotations

from types import SimpleNamespace

from prometheus_client.parser import text_string_to_metric_families

from pggw.ops.metrics import OTHER, Metrics
from pggw.upload.metrics import UploadMetrics


def samples(m: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(m.exposition().decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_hooks_count_what_they_are_told() -> None:
    m = Metrics(clock=lambda: 1000.0)
    for _ in range(3):
        m.connection_opened()
    m.connection_closed()
    m.statement("write")
    m.statement("write")
    m.statement("query")
    m.statement_error("22P02")
    m.rows_accepted("assets", 5)
    m.rows_accepted("assets", 2)
    m.rows_accepted("events", 1)
    m.rows_accepted("events", 0)
    m.transaction_committed()
    m.auth_failure()
    m.auth_failure("unknown_user")
    s = samples(m)
    assert s[("pggw_connections_opened_total", ())] == 3
    assert s[("pggw_connections_closed_total", ())] == 1
    assert s[("pggw_connections", ())] == 2  # opened - closed without a live source
    assert s[("pggw_statements_total", (("kind", "write"),))] == 2
    assert s[("pggw_statements_total", (("kind", "query"),))] == 1
    assert s[("pggw_statement_errors_total", (("sqlstate", "22P02"),))] == 1
    assert s[("pggw_rows_accepted_total", (("table", "assets"),))] == 7
    assert s[("pggw_rows_accepted_total", (("table", "events"),))] == 1
    assert s[("pggw_transactions_committed_total", ())] == 1
    assert s[("pggw_auth_failures_total", (("reason", "password"),))] == 1
    assert s[("pggw_auth_failures_total", (("reason", "unknown_user"),))] == 1
    assert s[("pggw_start_time_seconds", ())] == 1000.0
    assert ("pggw_build_info", (("version", __import__("pggw").__version__),)) in s
    assert m.value("pggw_rows_accepted_total", table="assets") == 7
    assert not any(name.endswith("_created") for name, _ in s)


def test_every_name_has_the_prefix_and_help() -> None:
    m = Metrics()
    m.register(UploadMetrics().collector())
    text = m.exposition().decode()
    for fam in text_string_to_metric_families(text):
        assert fam.name.startswith("pggw_"), fam.name
        assert fam.documentation, fam.name


def test_live_connections_come_from_the_listener() -> None:
    m = Metrics()
    conns = {1: object(), 2: object()}
    m.track_connections(lambda: len(conns))
    assert samples(m)[("pggw_connections", ())] == 2
    conns.clear()
    assert samples(m)[("pggw_connections", ())] == 0


def test_label_values_are_bounded() -> None:
    m = Metrics()
    m.rows_accepted("bad table name; drop", 1)
    m.statement("x" * 100)
    for i in range(600):
        m.rows_accepted(f"t{i}", 1)
    s = samples(m)
    tables = {dict(k[1])["table"] for k in s if k[0] == "pggw_rows_accepted_total"}
    assert OTHER in tables
    assert len(tables) <= 501
    assert s[("pggw_statements_total", (("kind", OTHER),))] == 1


def test_wal_gauges_from_the_snapshot() -> None:
    now = 10_000.0
    m = Metrics(clock=lambda: now)
    stats = SimpleNamespace(bytes=300, records=3, rows=30, oldest_committed_at=now - 42,
                            staged_bytes=7, dead_letters=1, dead_letter_rows=2,
                            max_bytes=10_000, file_bytes=4096, last_seq=9)
    m.wal.update(stats, used_bytes=310, now=now)
    m.state = lambda: {"ready": 1.0, "draining": 0.0}
    s = samples(m)
    assert s[("pggw_wal_pending_bytes", ())] == 300
    assert s[("pggw_wal_pending_records", ())] == 3
    assert s[("pggw_wal_pending_rows", ())] == 30
    assert s[("pggw_wal_oldest_pending_age_seconds", ())] == 42
    assert s[("pggw_wal_used_bytes", ())] == 310
    assert s[("pggw_wal_dead_letter_rows", ())] == 2
    assert s[("pggw_wal_max_bytes", ())] == 10_000
    assert s[("pggw_ready", ())] == 1
    assert s[("pggw_draining", ())] == 0


def test_upload_batches_ring_buffer() -> None:
    um = UploadMetrics()
    um.record_batch("alice", "assets", "insert", 10, 10, 1.0, 1.5, http_status=201)
    um.record_batch("alice", "assets", "insert", 4, 4, 2.0, 2.25, http_status=400,
                    error="CDF 400 on /assets: bad")
    assert [b.status for b in um.batches] == ["ok", "rejected"]
    assert um.batches[0].duration_s == 0.5
    assert um.last_upload[("alice", "assets")] == 1.5
    assert um.last_error[("alice", "assets")] == (2.25, "CDF 400 on /assets: bad")
    for i in range(2000):
        um.record_batch("bob", "events", "insert", 1, 1, i, i)
    assert len(um.batches) == um.batches.maxlen


def test_cdf_request_latency_histogram() -> None:
    from pggw.cdf.client import LATENCY_BUCKETS, RequestTimings

    timings = RequestTimings()
    m = Metrics(cdf_timings=timings)
    timings.observe("assets", "POST /assets", "success", 0.03)
    timings.observe("assets", "POST /assets", "success", 2.0)
    timings.observe("files", "PUT uploadUrl", "server_error", 0.2)
    timings.observe("token", "POST token", "success", 0.01)
    timings.observe("raw", "POST /raw/dbs/{db}/tables/{table}/rows", "throttled", 0.004)
    timings.observe("x", "POST bad\nlabel", "success", 1.0)  # folded, never a broken label
    s = samples(m)
    name = "pggw_cdf_request_duration_seconds"

    def labels(resource: str, endpoint: str, outcome: str, **extra: str
               ) -> tuple[tuple[str, str], ...]:
        return tuple(sorted({"resource": resource, "endpoint": endpoint, "outcome": outcome,
                             **extra}.items()))

    a = ("assets", "POST /assets", "success")
    assert s[(f"{name}_count", labels(*a))] == 2
    assert s[(f"{name}_sum", labels(*a))] == 2.03
    assert s[(f"{name}_bucket", labels(*a, le="0.05"))] == 1
    assert s[(f"{name}_bucket", labels(*a, le="2.5"))] == 2
    assert s[(f"{name}_bucket", labels(*a, le="+Inf"))] == 2
    assert s[(f"{name}_count", labels("files", "PUT uploadUrl", "server_error"))] == 1
    assert s[(f"{name}_count", labels("token", "POST token", "success"))] == 1
    assert s[(f"{name}_count", labels(
        "raw", "POST /raw/dbs/{db}/tables/{table}/rows", "throttled"))] == 1
    assert s[(f"{name}_count", labels("x", OTHER, "success"))] == 1
    les = {dict(k)["le"] for n, k in s if n == f"{name}_bucket"}
    assert len(les) == len(LATENCY_BUCKETS) + 1
    text = m.exposition().decode()
    assert f"# TYPE {name} histogram" in text
