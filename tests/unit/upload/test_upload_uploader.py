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


def test_replayed_create_superseded_by_a_later_pending_write_is_not_a_conflict() -> None:
    """A restart replays a create and the update after it (their done-marks were lost with
    the process): CDF already holds the update's values, so the create's duplicate differs;
    the later write explains it, and replaying it gives the final state."""
    h = harness()
    h.cdf.add("assets", {"externalId": "p", "name": "renamed"})  # both applied before a kill
    h.cdf.add("assets", {"externalId": "q", "name": "foreign"})
    h.wal.add("alice", "assets", [{"external_id": "p", "name": "first"},
                                  {"external_id": "q", "name": "mine"}])
    h.wal.add("alice", "assets", [{"external_id": "p", "name": "renamed"}], op="upsert")
    h.pump(h.drained)
    assert h.cdf.items["assets"]["p"]["name"] == "renamed"
    # no later write of q: a genuine conflict
    assert [(d.rows_json[0]["external_id"], d.error["reason"]) for d in h.wal.dead] == [
        ("q", "conflict")]
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


# -- holding behind a missing reference: O(1) per write, bounded memory ------------------


def _count_spawns(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    from pggw.upload.uploader import Uploader

    n = {"spawns": 0}
    orig = Uploader._spawn

    def spawn(self: Uploader, coro: object) -> object:
        n["spawns"] += 1
        return orig(self, coro)

    monkeypatch.setattr(Uploader, "_spawn", spawn)
    return n


def _missing_series_records(h: object, records: int = 1000, per: int = 100) -> None:
    for r in range(records):
        h.wal.add("alice", "double_datapoints", {  # type: ignore[attr-defined]
            "external_id": ["nope"] * per, "timestamp": list(range(r * per, (r + 1) * per)),
            "value": [float(r)] * per})


def test_100k_datapoints_of_a_missing_series_do_not_spawn_a_task_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    n = _count_spawns(monkeypatch)
    h = harness(missing_window=30.0, missing_retry=(1.0, 4.0), poll_interval=5.0)
    _missing_series_records(h)
    h.pump(lambda: h.uploader.metrics.parks >= 1, seconds=5)
    h.pump(seconds=5)
    # every later record's datapoints are queued behind the parked ones, merged up to
    # one request's worth, without a task or Deferred per record
    assert h.uploader.metrics.parks == 1
    assert n["spawns"] <= 5
    h.pump(h.drained, seconds=60, step=0.5)
    # one window for the key, not one per page/record (the old chain of waits)
    assert h.clock.seconds() < 40
    assert sum(d.nrows for d in h.wal.dead) == 100_000
    assert {d.error["reason"] for d in h.wal.dead} == {"missing"}
    assert n["spawns"] <= 10
    h.stop()


def test_held_datapoints_arrive_in_order_when_the_series_appears_in_the_window() -> None:
    h = harness(missing_window=60.0, missing_retry=(1.0, 4.0))
    _missing_series_records(h, records=300, per=10)
    h.wal.add("alice", "double_datapoints", {"external_id": ["nope"], "timestamp": [5],
                                             "value": [-1.0]})  # overwrites a point
    h.pump(lambda: "alice" in h.uploader.lanes and h.uploader.lanes["alice"].seq == 301,
           seconds=10)
    assert h.uploader.metrics.held >= 4 and h.cdf.datapoints == {}
    h.cdf.add("timeseries", {"externalId": "nope"})
    h.pump(h.drained, seconds=30)
    dps = h.cdf.datapoints["nope"]
    assert len(dps) == 3000 and dps[5] == -1.0 and dps[2999] == 299.0
    assert h.wal.dead == []
    # few requests: the held writes went merged
    assert len([p for p in h.cdf.paths() if p == "/timeseries/data"]) < 20
    h.stop()


def test_rewrites_of_parked_assets_are_held_without_a_task_per_row(
        monkeypatch: pytest.MonkeyPatch) -> None:
    n = _count_spawns(monkeypatch)
    h = harness(missing_window=20.0, missing_retry=(1.0, 4.0), poll_interval=5.0)
    for r in range(3):
        h.wal.add("alice", "assets", [{"external_id": f"a{i}", "name": f"v{r}",
                                       "parent_external_id": "later"} for i in range(2000)],
                  op="upsert")
    h.pump(lambda: h.uploader.metrics.held >= 4000, seconds=10)
    assert h.uploader.metrics.parks <= 2 and n["spawns"] <= 6
    h.cdf.add("assets", {"externalId": "later", "name": "made elsewhere"})
    h.pump(h.drained, seconds=60)
    assert h.wal.dead == []
    assert {a["name"] for k, a in h.cdf.items["assets"].items() if k != "later"} == {"v2"}
    assert len(h.cdf.items["assets"]) == 2001
    h.stop()


def test_a_blocked_lane_stops_reading_and_leaves_records_in_the_wal() -> None:
    h = harness(missing_window=30.0, missing_retry=(1.0, 4.0), max_open_rows=500,
                page_records=4)
    _missing_series_records(h, records=50, per=100)
    h.wal.add("alice", "assets", [{"external_id": "behind", "name": "b"}])
    h.pump(seconds=10)
    lane = h.uploader.lanes["alice"]
    assert lane.open_rows <= 500 + 4 * 100  # the bound plus one page
    assert len(lane.records) < 10 and len(h.wal.records) > 40
    assert "behind" not in h.cdf.items["assets"]  # still in the WAL, in order
    h.pump(h.drained, seconds=120, step=0.5)
    assert "behind" in h.cdf.items["assets"]
    assert sum(d.nrows for d in h.wal.dead) == 5000
    h.stop()


# -- wait_uploaded: the --ack cdf / pggw.wait_uploaded() hook ----------------------------


def test_wait_uploaded_is_event_driven_and_reports_dead_letters() -> None:
    from pggw.upload import UploadRejected

    h = harness()
    h.cdf.poison = lambda item: item.get("name") == "poison"
    ok = h.wal.add("alice", "assets", [{"external_id": "a", "name": "a"}])
    bad = h.wal.add("alice", "assets", [{"external_id": "b", "name": "poison"},
                                        {"external_id": "c", "name": "c"}])
    d_ok = h.uploader.wait_uploaded("alice", ok.seq, after_seq=ok.seq - 1)
    d_bad = h.uploader.wait_uploaded("alice", bad.seq, after_seq=bad.seq - 1)
    got: list[object] = []
    d_ok.addBoth(got.append)
    d_bad.addErrback(lambda f: got.append(f.value))
    reads = {"n": 0}
    pending = h.wal.pending

    def counting(*a: object, **kw: object) -> object:
        reads["n"] += 1
        return pending(*a, **kw)  # type: ignore[arg-type]

    h.wal.pending = counting  # type: ignore[method-assign]
    h.pump(lambda: len(got) == 2)
    assert got[0] is None
    err = got[1]
    assert isinstance(err, UploadRejected) and err.complete
    assert [(e["table"], e["rows"], e["reason"], e["message"]) for e in err.errors] == [
        ("assets", 1, "rejected", "poison item")]
    assert "c" in h.cdf.items["assets"]
    assert reads["n"] < 10  # no polling loop
    h.stop()


def test_wait_uploaded_times_out_while_cdf_is_down_and_fires_after() -> None:
    h = harness()
    h.cdf.fail("*", 503, count=None)
    rec = h.wal.add("alice", "assets", [{"external_id": "a", "name": "a"}])
    errors: list[BaseException] = []
    d = h.uploader.wait_uploaded("alice", rec.seq, timeout=5)
    d.addErrback(lambda f: errors.append(f.value))
    h.pump(lambda: bool(errors), seconds=10)
    assert isinstance(errors[0], TimeoutError) and "safely queued" in str(errors[0])
    assert not h.uploader.lanes["alice"].waiters
    d2 = h.uploader.wait_uploaded("alice")  # everything committed so far
    h.cdf.faults.clear()
    h.pump(lambda: d2.called, seconds=120)
    assert "a" in h.cdf.items["assets"]
    h.stop()


def test_wait_uploaded_does_not_fire_for_a_commit_the_lane_has_not_read() -> None:
    h = harness(poll_interval=30.0)
    h.wal.add("alice", "assets", [{"external_id": "a", "name": "a"}])
    h.pump(h.drained, seconds=5)
    late = h.wal.add("alice", "assets", [{"external_id": "late", "name": "l"}])
    d = h.uploader.wait_uploaded("alice", late.seq)
    h.pump(seconds=1)
    assert not d.called  # the lane is idle and has not seen it yet
    h.uploader.wake()
    h.pump(lambda: d.called, seconds=5)
    assert "late" in h.cdf.items["assets"]
    h.stop()
