"""The uploader against a fake CDF (StubTreq) and a fake WAL, on a Clock."""

from __future__ import annotations

import pytest
from upload_fakes import harness


def test_drains_resources_datapoints_and_raw_in_dependency_order() -> None:
    h = harness()
    # commit order deliberately "wrong": datapoints, then their time series, then the
    # child asset before its parent.
    h.wal.add("alice", "double_datapoints", {
        "external_id": ["ts1", "ts1", "ts2"], "timestamp": [1, 2, 1], "value": [1.0, 2.0, 3.0]})
    h.wal.add("alice", "time_series", [{"external_id": "ts1", "name": "one"},
                                       {"external_id": "ts2", "name": "two"}])
    h.wal.add("alice", "assets", [{"external_id": "child", "name": "c",
                                   "parent_external_id": "root"}])
    h.wal.add("alice", "assets", [{"external_id": "root", "name": "r",
                                   "metadata": {"k": "v"}, "labels": ["l1"]}])
    h.wal.add("alice", "raw_rows", {"_raw_database": ["db"], "_raw_table": ["t"],
                                    "_raw_key": ["k"], "_raw_columns": [{"a": 1}]})
    h.pump(h.drained)
    assert set(h.cdf.items["assets"]) == {"root", "child"}
    assert h.cdf.items["assets"]["root"]["labels"] == [{"externalId": "l1"}]
    assert h.cdf.datapoints == {"ts1": {1: 1.0, 2: 2.0}, "ts2": {1: 3.0}}
    assert h.cdf.raw == {("db", "t"): {"k": {"a": 1}}}
    paths = h.cdf.paths()
    assert paths.index("/assets") < paths.index("/timeseries") < paths.index("/timeseries/data")
    # parent and child went in two requests, parent first
    creates = [b for p, b, _ in h.cdf.log if p == "/assets"]
    assert [it["externalId"] for b in creates for it in b["items"]] == ["root", "child"]
    assert h.wal.dead == []
    assert h.uploader.metrics.rows_uploaded["double_datapoints"] == 3
    assert h.uploader.metrics.records_done == 5
    h.stop()


def test_data_set_external_id_is_resolved_after_the_data_set_is_created() -> None:
    h = harness()
    h.wal.add("alice", "assets", [{"external_id": "a", "name": "a",
                                   "data_set_external_id": "ds"}])
    h.wal.add("alice", "data_sets", [{"external_id": "ds", "name": "DS"}])
    h.pump(h.drained)
    ds_id = h.cdf.items["datasets"]["ds"]["id"]
    assert h.cdf.items["assets"]["a"]["dataSetId"] == ds_id
    h.stop()


def test_transient_errors_are_retried_with_backoff_honouring_retry_after() -> None:
    h = harness()
    h.cdf.fail("/assets", 503, count=2, headers={"Retry-After": "7"})
    h.wal.add("alice", "assets", [{"external_id": "a", "name": "a"}])
    h.pump(h.drained)
    times = [t for p, _, t in h.cdf.log if p == "/assets"]
    assert len(times) == 3
    assert times[1] - times[0] >= 7 and times[2] - times[1] >= 7
    assert h.uploader.metrics.retries["503"] == 2
    assert "a" in h.cdf.items["assets"]
    h.stop()


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 504])
def test_every_transient_status_is_retried(status: int) -> None:
    h = harness()
    h.cdf.fail("/raw/*", status, count=3)
    h.wal.add("alice", "raw_rows", {"_raw_database": ["d"], "_raw_table": ["t"],
                                    "_raw_key": ["k"], "_raw_columns": [{}]})
    h.pump(h.drained, seconds=120)
    assert h.uploader.metrics.retries[str(status)] == 3
    assert h.wal.dead == []
    h.stop()


def test_outage_of_an_hour_then_full_drain_nothing_dropped() -> None:
    h = harness()
    h.cdf.fail("*", 503, count=None)
    for i in range(5):
        h.wal.add("alice", "assets", [{"external_id": f"a{i}", "name": "x"}])
    h.pump(seconds=3600, step=5)
    assert len(h.wal.records) == 5 and h.wal.dead == []
    h.cdf.faults.clear()
    h.pump(h.drained, seconds=120)
    assert len(h.cdf.items["assets"]) == 5
    h.stop()


def test_429_shrinks_concurrency_and_it_grows_back() -> None:
    h = harness(concurrency=8)
    h.cdf.fail("/raw/*", 429, count=3)
    for i in range(40):
        h.wal.add("alice", "raw_rows", {"_raw_database": ["d"], "_raw_table": [f"t{i}"],
                                        "_raw_key": ["k"], "_raw_columns": [{}]})
    h.pump(lambda: h.uploader.metrics.retries["429"] >= 1)
    limiter = next(iter(h.uploader._limiters.values()))
    assert limiter.shrinks >= 1 and limiter.lowest <= 4
    h.pump(h.drained, seconds=120)
    assert limiter.limit > limiter.lowest
    assert h.wal.dead == []
    h.stop()


def test_poison_row_is_dead_lettered_while_its_batch_mates_arrive() -> None:
    h = harness()
    h.cdf.poison = lambda item: item.get("name") == "poison"
    rows = [{"external_id": f"a{i}", "name": "poison" if i == 6 else f"n{i}"} for i in range(10)]
    h.wal.add("alice", "assets", rows)
    h.pump(h.drained)
    assert set(h.cdf.items["assets"]) == {f"a{i}" for i in range(10) if i != 6}
    assert len(h.wal.dead) == 1
    dl = h.wal.dead[0]
    assert dl.rows_json == [{"external_id": "a6", "name": "poison"}]
    assert dl.error["message"] == "poison item" and dl.error["reason"] == "rejected"
    assert h.uploader.metrics.bisections >= 3
    h.stop()


def test_missing_named_items_are_removed_and_the_rest_resent_without_bisecting() -> None:
    h = harness(missing_window=30.0)
    h.cdf.add("timeseries", {"externalId": "ok"})
    h.wal.add("alice", "double_datapoints", {"external_id": ["ok", "nope"],
                                             "timestamp": [1, 1], "value": [1.0, 2.0]})
    h.pump(h.drained, seconds=120)
    assert h.cdf.datapoints == {"ok": {1: 1.0}}
    assert h.uploader.metrics.bisections == 0
    assert [d.rows_json for d in h.wal.dead] == [[{"external_id": "nope", "timestamp": 1,
                                                    "value": 2.0}]]
    assert h.wal.dead[0].error["reason"] == "missing"
    h.stop()


def test_late_created_parent_is_picked_up_within_the_window() -> None:
    h = harness(missing_window=60.0, missing_retry=(1.0, 4.0))
    h.wal.add("alice", "assets", [{"external_id": "kid", "name": "k",
                                   "parent_external_id": "later"}])
    h.wal.add("alice", "assets", [{"external_id": "other", "name": "o"}])
    h.pump(lambda: "other" in h.cdf.items["assets"], seconds=5)
    assert "kid" not in h.cdf.items["assets"]  # parked, not blocking "other"
    h.clock.advance(10)
    h.cdf.add("assets", {"externalId": "later", "name": "made elsewhere"})
    h.pump(h.drained, seconds=30)
    assert "kid" in h.cdf.items["assets"] and h.wal.dead == []
    h.stop()


def test_later_write_to_a_parked_key_waits_behind_it() -> None:
    h = harness(missing_window=20.0, missing_retry=(1.0, 2.0))
    h.wal.add("alice", "assets", [{"external_id": "kid", "name": "first",
                                   "parent_external_id": "never"}])
    h.wal.add("alice", "assets", [{"external_id": "kid", "name": "second"}])
    h.pump(h.drained, seconds=60)
    # the first write died after the window, then the second was applied
    assert h.cdf.items["assets"]["kid"]["name"] == "second"
    assert [d.error["reason"] for d in h.wal.dead] == ["missing"]
    h.stop()


def test_duplicated_on_create_counts_as_done_when_cdf_matches() -> None:
    h = harness()
    h.cdf.add("assets", {"externalId": "same", "name": "x", "metadata": {"a": "1"}})
    h.cdf.add("assets", {"externalId": "diff", "name": "y"})
    h.wal.add("alice", "assets", [
        {"external_id": "same", "name": "x", "metadata": {"a": "1"}},
        {"external_id": "diff", "name": "other"},
        {"external_id": "new", "name": "n"},
    ])
    h.pump(h.drained)
    assert "new" in h.cdf.items["assets"]
    assert h.uploader.metrics.duplicates_verified == 1
    assert [(d.rows_json, d.error["reason"]) for d in h.wal.dead] == [
        ([{"external_id": "diff", "name": "other", "metadata": None}], "conflict")]
    h.stop()


def test_unknown_outcome_retry_creates_no_duplicates() -> None:
    h = harness()
    h.cdf.fail("/events", 502, count=1, apply=True)
    h.wal.add("alice", "events", [{"external_id": f"e{i}", "type": "t"} for i in range(3)])
    h.pump(h.drained)
    assert sorted(h.cdf.items["events"]) == ["e0", "e1", "e2"]
    assert h.wal.dead == [] and h.uploader.metrics.duplicates_verified == 3
    h.stop()


def test_upsert_updates_duplicated_and_insert_ignore_drops_them() -> None:
    h = harness()
    h.cdf.add("assets", {"externalId": "a", "name": "old"})
    h.cdf.add("assets", {"externalId": "b", "name": "keep"})
    h.wal.add("alice", "assets", [{"external_id": "a", "name": "new"},
                                  {"external_id": "c", "name": "c"}], op="upsert")
    h.wal.add("alice", "assets", [{"external_id": "b", "name": "ignored"}], op="insert-ignore")
    h.pump(h.drained)
    assert h.cdf.items["assets"]["a"]["name"] == "new"
    assert h.cdf.items["assets"]["b"]["name"] == "keep"
    assert "c" in h.cdf.items["assets"]
    assert h.wal.dead == []
    h.stop()


def test_401_and_403_pause_only_that_user() -> None:
    h = harness(users=("alice", "bob"), pause_retry=(2.0, 8.0))
    h.cdf.denied["token-alice"] = 403
    h.wal.add("alice", "assets", [{"external_id": "a", "name": "a"}])
    h.wal.add("bob", "assets", [{"external_id": "b", "name": "b"}])
    h.pump(lambda: "b" in h.cdf.items["assets"], seconds=10)
    h.pump(seconds=30)
    assert "a" not in h.cdf.items["assets"]
    assert h.uploader.status()["alice"]["state"] == "paused"
    assert h.wal.dead == [] and len(h.wal.records) == 1
    del h.cdf.denied["token-alice"]
    h.pump(h.drained, seconds=30)
    assert "a" in h.cdf.items["assets"]
    assert h.uploader.status()["alice"]["paused"] is None
    h.stop()


def test_batches_respect_cdf_limits() -> None:
    h = harness()
    h.wal.add("alice", "data_sets", [{"external_id": f"d{i}", "name": "d"} for i in range(25)])
    h.wal.add("alice", "assets", [{"external_id": f"a{i}", "name": "a"} for i in range(2500)])
    h.pump(h.drained)
    sizes = {p: [] for p in ("/datasets", "/assets")}
    for p, b, _ in h.cdf.log:
        if p in sizes:
            sizes[p].append(len(b["items"]))
    assert sorted(sizes["/datasets"]) == [5, 10, 10]
    assert sorted(sizes["/assets"]) == [500, 1000, 1000]
    h.stop()


def test_update_and_delete_records() -> None:
    h = harness()
    h.cdf.add("assets", {"externalId": "a", "name": "a", "description": "d"})
    h.cdf.add("assets", {"externalId": "gone", "name": "g"})
    h.wal.add("alice", "assets", {"external_id": ["a"], "name": ["renamed"],
                                  "description": [None]}, op="update")
    h.wal.add("alice", "assets", {"external_id": ["gone"]}, op="delete")
    h.pump(h.drained)
    assert h.cdf.items["assets"]["a"]["name"] == "renamed"
    assert "description" not in h.cdf.items["assets"]["a"]
    assert "gone" not in h.cdf.items["assets"]
    h.stop()


def test_unknown_table_record_is_dead_lettered_whole() -> None:
    h = harness()
    h.wal.add("alice", "no_such_table", {"x": [1, 2]})
    h.wal.add("alice", "assets", [{"external_id": "a", "name": "a"}])
    h.pump(h.drained)
    assert len(h.wal.dead) == 1 and h.wal.dead[0].nrows == 2
    assert "a" in h.cdf.items["assets"]
    h.stop()


def test_wait_uploaded_fires_when_the_users_rows_are_in_cdf() -> None:
    h = harness()
    h.wal.add("alice", "assets", [{"external_id": "a", "name": "a"}])
    d = h.uploader.wait_uploaded("alice")
    h.pump(lambda: d.called)
    assert "a" in h.cdf.items["assets"]
    h.stop()
