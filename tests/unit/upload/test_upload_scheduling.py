"""The uploader's scheduling: commits announced per user, lingering for a trickle of small
transactions, giving way to ingestion (never starving), and batched WAL bookkeeping."""

from __future__ import annotations

from typing import Any

from upload_fakes import Harness, harness

DPS = "double_datapoints"


def _series(h: Harness, *names: str) -> None:
    for name in names:
        h.cdf.add("timeseries", {"externalId": name, "name": name})


def _point(h: Harness, i: int, series: str = "ts") -> Any:
    return h.wal.add("alice", DPS, {"external_id": [series], "timestamp": [i],
                                    "value": [float(i)]})


def _count_calls(h: Harness, name: str) -> dict[str, int]:
    calls = {"n": 0}
    real = getattr(h.wal, name)

    def counting(*a: Any, **kw: Any) -> Any:
        calls["n"] += 1
        return real(*a, **kw)

    setattr(h.wal, name, counting)
    return calls


def test_a_commit_of_a_user_whose_lane_runs_needs_no_poll() -> None:
    h = harness(linger=0.2)
    _series(h, "ts")
    _point(h, 0)
    h.uploader.wake("alice")
    h.pump(lambda: bool(h.cdf.datapoints), seconds=5, step=0.01)
    assert h.uploader.lanes["alice"].running  # lingering after its first page
    stats = _count_calls(h, "stats")
    for i in range(1, 20):
        _point(h, i)
        h.uploader.wake("alice")  # as the gateway does after each commit
    h.pump(h.drained, seconds=5, step=0.01)
    assert stats["n"] == 0  # no WAL stats per commit: the running lane reads them
    assert h.cdf.datapoints["ts"] == {i: float(i) for i in range(20)}
    h.stop()


def test_a_commit_during_the_lanes_last_read_is_not_missed() -> None:
    h = harness(poll_interval=30.0)
    _series(h, "ts")
    _point(h, 0)
    h.uploader.wake("alice")
    h.pump(h.drained, seconds=5, step=0.01)
    lane = h.uploader.lanes["alice"]
    pending = h.wal.pending
    late: list[Any] = []

    def racing(*a: Any, **kw: Any) -> Any:
        d = pending(*a, **kw)  # the read sees the WAL as it is now …
        got: list[Any] = []
        d.addCallback(lambda r: got.append(r) or r)
        if got == [[]] and not late:
            late.append(_point(h, 1))  # … and a commit lands before it is delivered
            h.uploader.wake("alice")
        return d

    _point(h, 2)
    h.wal.pending = racing  # type: ignore[method-assign]
    h.uploader.wake("alice")
    h.pump(h.drained, seconds=2, step=0.01)  # far less than the 30 s poll interval
    assert late  # the race happened
    assert h.cdf.datapoints["ts"] == {0: 0.0, 1: 1.0, 2: 2.0}
    assert not lane.running
    h.stop()


def test_a_trickle_of_small_commits_is_uploaded_in_few_requests() -> None:
    def run(linger: float) -> int:
        h = harness(linger=linger)
        _series(h, "ts")
        for i in range(200):  # 200 one-row commits, 2 ms apart
            _point(h, i)
            h.uploader.wake("alice")
            h.pump(seconds=0.002, step=0.002)
        h.pump(h.drained, seconds=5, step=0.01)
        assert h.cdf.datapoints["ts"] == {i: float(i) for i in range(200)}
        n = h.cdf.paths().count("/timeseries/data")
        h.stop()
        return n

    eager, lingering = run(0.0), run(0.05)
    assert lingering * 5 <= eager
    assert lingering <= 12  # about one request per 50 ms of commits


def test_finished_records_are_marked_done_in_batches() -> None:
    from twisted.internet.defer import Deferred

    h = harness(page_records=1000)
    _series(h, "ts")
    for i in range(300):
        _point(h, i)
    batches: list[int] = []
    real = h.wal.mark_done

    def slow_mark_done(ids: Any) -> Deferred[int]:  # the writer thread takes a while
        ids = list(ids)
        batches.append(len(ids))
        d: Deferred[int] = Deferred()
        h.clock.callLater(0.01, lambda: real(ids).chainDeferred(d))
        return d

    h.wal.mark_done = slow_mark_done  # type: ignore[method-assign]
    h.uploader.wake()
    h.pump(lambda: len(h.wal.done) == 300, seconds=10, step=0.01)
    assert sum(batches) == 300
    assert len(batches) < 10  # one request while the previous one is under way
    h.stop()


def _slow_pages(h: Harness, seconds: float) -> list[float]:
    """Each page takes ``seconds`` (CDF answers late); returns when pages were read."""
    clock = h.clock
    pages: list[float] = []
    pending = h.wal.pending

    def timed(*a: Any, **kw: Any) -> Any:
        pages.append(clock.seconds())
        return pending(*a, **kw)

    h.wal.pending = timed  # type: ignore[method-assign]
    real_post = h.clients["alice"].post

    async def slow_post(*a: Any, **kw: Any) -> Any:
        from pggw.upload.policy import sleep

        await sleep(clock, seconds)
        return await real_post(*a, **kw)

    h.clients["alice"].post = slow_post  # type: ignore[method-assign]
    return pages


def _committing(h: Harness, seconds: float) -> None:
    for _ in range(int(seconds / 0.01)):  # a client commits every 10 ms
        h.uploader.wake("alice")
        h.pump(seconds=0.01, step=0.01)


def test_the_drain_gives_way_less_as_the_wal_fills_up() -> None:
    h = harness(page_records=1, ingest_share=0.25, ingest_window=0.05)
    _series(h, "ts")
    for i in range(40):
        _point(h, i)
    h.wal.max_bytes, h.wal.used_bytes = 1000, 500  # type: ignore[attr-defined]
    pages = _slow_pages(h, 0.1)
    h.uploader.wake()
    _committing(h, 2.0)
    assert len(pages) >= 15  # half full: no yielding at all
    assert h.uploader._share() == 1.0
    h.wal.used_bytes = 250  # type: ignore[attr-defined]
    assert h.uploader._share() == 0.625
    h.pump(h.drained, seconds=10, step=0.01)
    h.stop()


def test_the_drain_gives_way_to_ingestion_but_keeps_going() -> None:
    h = harness(page_records=1, ingest_share=0.25, ingest_window=0.05)
    _series(h, "ts")
    for i in range(40):
        _point(h, i)
    pages = _slow_pages(h, 0.1)
    h.uploader.wake()
    _committing(h, 2.0)
    under_load = len(pages)
    # share 0.25: a 0.1 s page is followed by 0.3 s of rest — slower, never stopped
    assert 3 <= under_load <= 7
    assert h.uploader.naps >= under_load - 1
    h.pump(seconds=2.0, step=0.01)  # the clients stopped: full speed again
    assert len(pages) - under_load >= 15
    h.pump(h.drained, seconds=10, step=0.01)
    assert len(h.cdf.datapoints["ts"]) == 40
    h.stop()


def test_someone_waiting_for_the_lane_cuts_its_nap_short() -> None:
    h = harness(linger=30.0)
    _series(h, "ts")
    _point(h, 0)
    h.uploader.wake("alice")
    h.pump(lambda: bool(h.cdf.datapoints), seconds=5, step=0.01)
    rec = _point(h, 1)
    h.uploader.wake("alice")  # the lane lingers: this commit waits for the next page
    h.pump(seconds=1, step=0.01)
    assert 1 not in h.cdf.datapoints["ts"]
    d = h.uploader.wait_uploaded("alice", rec.seq, after_seq=rec.seq - 1)  # --ack cdf
    h.pump(lambda: d.called, seconds=1, step=0.01)
    assert h.cdf.datapoints["ts"][1] == 1.0
    h.stop()


def test_stopping_flushes_the_queued_bookkeeping() -> None:
    h = harness(linger=30.0)
    _series(h, "ts")
    for i in range(5):
        _point(h, i)
    h.uploader.wake()
    h.pump(h.drained, seconds=5, step=0.01)
    d = h.uploader.stopService()
    h.pump(lambda: d.called, seconds=1, step=0.01)  # no 30 s linger in the way
    assert d.called and len(h.wal.done) == 5


def test_a_page_stops_at_its_item_budget_and_the_rest_follows() -> None:
    h = harness(page_records=1000, page_items=250)
    names = [f"ts{i}" for i in range(100)]
    _series(h, *names)
    for r in range(10):  # 10 records of 100 rows over 100 series: 100 items each
        h.wal.add("alice", DPS, {"external_id": names, "timestamp": [r] * 100,
                                 "value": [float(r)] * 100})
    reads = _count_calls(h, "pending")
    h.uploader.wake()
    h.pump(h.drained, seconds=10)
    assert all(h.cdf.datapoints[n] == {r: float(r) for r in range(10)} for n in names)
    # pages of 3 records (the one reaching the budget included), each read again from
    # where the previous one stopped: one request per page, in commit order
    bodies = [b for p, b, _ in h.cdf.log if p == "/timeseries/data"]
    assert [len(b["items"][0]["datapoints"]) for b in bodies] == [3, 3, 3, 1]
    assert reads["n"] >= 4
    h.stop()
