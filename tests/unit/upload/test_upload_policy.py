"""Backoff, the adaptive concurrency limiter, the reference resolver, metrics export."""

from __future__ import annotations

import random
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock

from pggw.cdf import CdfResponse
from pggw.tables.builtin import ASSETS
from pggw.upload import AdaptiveLimiter, Backoff, UploadMetrics
from pggw.upload.mapping import map_record
from pggw.upload.policy import sleep
from pggw.upload.resolve import Resolver


def test_backoff_is_capped_full_jitter_and_honours_retry_after() -> None:
    b = Backoff(0.5, 10.0, rng=random.Random(1), max_retry_after=60)
    for attempt in range(30):
        for _ in range(50):
            d = b.delay(attempt)
            assert 0 <= d <= min(10.0, 0.5 * 2**attempt)
    assert max(b.delay(20) for _ in range(200)) > 5  # jitter spreads up to the cap
    assert b.delay(0, retry_after=7) >= 7
    assert b.delay(0, retry_after=3600) == 60


def test_limiter_caps_in_flight_shrinks_on_429_and_grows_slowly() -> None:
    clock = Clock()
    lim = AdaptiveLimiter(clock, 4, maximum=4, cooldown=1.0)
    got = [lim.acquire() for _ in range(6)]
    assert [d.called for d in got] == [True] * 4 + [False] * 2
    lim.throttled()
    lim.throttled()  # within the cooldown: one halving per burst
    assert lim.limit == 2 and lim.shrinks == 1
    lim.release()
    lim.release()
    assert not got[4].called  # 2 in flight, limit 2
    lim.release()
    assert got[4].called and not got[5].called  # 1 + 1 in flight
    rounds = 0
    while lim.limit < 3:
        lim.success()
        rounds += 1
    assert rounds >= 8  # about growth_rounds successes per step of one
    got[5].cancel()
    clock.advance(2)
    lim.throttled()
    assert 1.5 <= lim.limit < 1.6 and lim.current == 1


def test_sleep_is_cancellable() -> None:
    clock = Clock()
    d = sleep(clock, 5)
    d.addErrback(lambda f: None)
    d.cancel()
    assert clock.getDelayedCalls() == []


def test_resolver_caches_and_reports_unknown_external_ids() -> None:
    calls: list[Any] = []

    def post(path: str, body: dict[str, Any]) -> Deferred[CdfResponse]:
        calls.append((path, body))
        known = {"ds1": 11}
        return succeed(CdfResponse(200, {"items": [
            {"externalId": x["externalId"], "id": known[x["externalId"]]}
            for x in body["items"] if x["externalId"] in known]}))

    r = Resolver()
    items = map_record(ASSETS, "insert", {"external_id": ["a", "b"], "name": ["A", "B"],
                                          "data_set_external_id": ["ds1", "nope"]}, 1)
    d = Deferred.fromCoroutine(r.resolve_items("scope", items, post))
    unresolved: list[Any] = []
    d.addCallback(unresolved.extend)
    assert items[0].body["dataSetId"] == 11 and not items[0].resolve
    assert [(it.ident, ext) for it, ext in unresolved] == [(("externalId", "b"), ["nope"])]
    assert calls[0] == ("/datasets/byids", {"items": [{"externalId": "ds1"},
                                                      {"externalId": "nope"}],
                                            "ignoreUnknownIds": True})
    assert r.cached("scope", "data_sets", "ds1") == 11
    more = map_record(ASSETS, "insert", {"external_id": ["c"], "name": ["C"],
                                         "data_set_external_id": ["ds1"]}, 2)
    Deferred.fromCoroutine(r.resolve_items("scope", more, post))
    assert len(calls) == 1 and more[0].body["dataSetId"] == 11
    r.forget_ids("scope", [11])
    assert r.cached("scope", "data_sets", "ds1") is None


def test_metrics_export_with_pggw_prefix() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    m = UploadMetrics()
    m.requests[("/assets", "201")] += 2
    m.dead_letters[("assets", "rejected")] += 1
    m.reactor_lag_seconds = 0.25
    registry = CollectorRegistry()
    registry.register(m.collector())
    text = generate_latest(registry).decode()
    assert 'pggw_upload_requests_total{resource="/assets",status="201"} 2.0' in text
    assert 'pggw_upload_dead_letter_rows_total{reason="rejected",table="assets"} 1.0' in text
    assert "pggw_reactor_lag_seconds 0.25" in text
