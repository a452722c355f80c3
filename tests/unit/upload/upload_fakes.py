"""Fakes for the uploader's unit tests: a tiny CDF behind ``StubTreq``, an in-memory WAL
with the uploader-facing API of :class:`pggw.wal.log.WriteAheadLog`, and a pump that
drives both with a ``Clock`` (imported by name: the test directory is on sys.path)."""

from __future__ import annotations

import fnmatch
import gzip
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from treq.testing import StubTreq
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.web.resource import Resource
from twisted.web.server import Request

from pggw.cdf import CdfClient, StaticTokenProvider
from pggw.tables.registry import builtin_registry
from pggw.upload import Backoff, Uploader
from pggw.wal.codec import columns_to_rows, encode_chunk
from pggw.wal.log import DeadLetter, Record

PREFIX = "/api/v1/projects/p"
RESOURCES = {"assets", "events", "timeseries", "datasets", "labels", "sequences",
             "relationships", "extpipes", "files"}


@dataclass
class Fault:
    path: str
    status: int
    count: int | None = 1
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    apply: bool = False  # apply the request, then answer with the failure
    token: str | None = None  # only for requests with this bearer token


class FakeCdf(Resource):
    """Just enough CDF: create/update/delete/byids for resources (409 duplicated, 400
    missing parent / data set), datapoints (400 missing series), RAW rows; fault rules;
    ``poison`` makes any batch containing a matching item fail with 400 naming nothing."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, dict[str, dict[str, Any]]] = {r: {} for r in RESOURCES}
        self.by_id: dict[int, tuple[str, str]] = {}
        self.datapoints: dict[str, dict[int, Any]] = {}
        self.raw: dict[tuple[str, str], dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.poison: Callable[[dict[str, Any]], bool] = lambda item: False
        self.log: list[tuple[str, Any, float]] = []
        self.denied: dict[str, int] = {}  # token -> 401/403
        self.ids = itertools.count(1000)
        self.clock: Clock | None = None
        self.max_items: list[int] = []

    # -- helpers for tests ----------------------------------------------------------
    def fail(self, path: str, status: int, **kw: Any) -> Fault:
        f = Fault(path, status, **kw)
        self.faults.append(f)
        return f

    def add(self, resource: str, item: dict[str, Any]) -> dict[str, Any]:
        item = dict(item)
        item["id"] = next(self.ids)
        self.items[resource][item.get("externalId") or str(item["id"])] = item
        self.by_id[item["id"]] = (resource, item.get("externalId") or str(item["id"]))
        return item

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.log]

    # -- HTTP -----------------------------------------------------------------------
    def render(self, request: Request) -> bytes:
        path = request.path.decode()
        assert path.startswith(PREFIX), path
        path = path[len(PREFIX):]
        data = request.content.read() if request.content is not None else b""
        if request.getHeader("content-encoding") == "gzip":
            data = gzip.decompress(data)
        body = json.loads(data) if data else None
        now = self.clock.seconds() if self.clock else 0.0
        self.log.append((path, body, now))
        token = (request.getHeader("authorization") or "").removeprefix("Bearer ")
        if token in self.denied:
            return self._answer(request, self.denied[token], {"error": {
                "code": self.denied[token], "message": "denied"}})
        for f in self.faults:
            if f.count == 0 or not fnmatch.fnmatchcase(path, f.path):
                continue
            if f.token is not None and f.token != token:
                continue
            if f.count is not None:
                f.count -= 1
            for k, v in f.headers.items():
                request.setHeader(k, v)
            if f.apply:
                self._handle(request, path, body)
            return self._answer(request, f.status,
                                f.body or {"error": {"code": f.status, "message": "fault"}})
        status, answer = self._handle(request, path, body)
        return self._answer(request, status, answer)

    def _answer(self, request: Request, status: int, body: Any) -> bytes:
        request.setResponseCode(status)
        request.setHeader("content-type", "application/json")
        request.setHeader("x-request-id", "req-1")
        return json.dumps(body).encode()

    def _handle(self, request: Request, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            self.max_items.append(len(body["items"]))
            if any(self.poison(it) for it in body["items"] if isinstance(it, dict)):
                return 400, {"error": {"code": 400, "message": "poison item"}}
        if parts[0] == "raw":
            key = (parts[2], parts[4])
            if parts[-1] == "delete":
                for it in body["items"]:
                    self.raw.get(key, {}).pop(it["key"], None)
                return 200, {}
            rows = self.raw.setdefault(key, {})
            for it in body["items"]:
                rows[it["key"]] = it["columns"]
            return 200, {}
        if parts[:2] == ["timeseries", "data"]:
            missing = [{"externalId": it["externalId"]} for it in body["items"]
                       if it["externalId"] not in self.items["timeseries"]]
            if missing:
                return 400, {"error": {"code": 400, "message": "missing ts", "missing": missing}}
            if parts[-1] == "delete":
                for it in body["items"]:
                    dps = self.datapoints.get(it["externalId"], {})
                    for t in [t for t in dps if it["inclusiveBegin"] <= t < it["exclusiveEnd"]]:
                        del dps[t]
                return 200, {}
            for it in body["items"]:
                dps = self.datapoints.setdefault(it["externalId"], {})
                for p in it["datapoints"]:
                    dps[p["timestamp"]] = p.get("value")
            return 200, {}
        resource = parts[0]
        store = self.items[resource]
        action = parts[1] if len(parts) > 1 else "create"
        if action == "byids":
            found = [store[x["externalId"]] for x in body["items"] if x["externalId"] in store]
            return 200, {"items": found}
        if action == "delete":
            for x in body["items"]:
                store.pop(x.get("externalId"), None)
            return 200, {}
        if action == "update":
            missing = [{"externalId": x["externalId"]} for x in body["items"]
                       if x["externalId"] not in store]
            if missing:
                return 400, {"error": {"code": 400, "message": "missing", "missing": missing}}
            for x in body["items"]:
                for k, patch in x["update"].items():
                    if "set" in patch:
                        store[x["externalId"]][k] = patch["set"]
                    elif patch.get("setNull"):
                        store[x["externalId"]].pop(k, None)
            return 200, {"items": [store[x["externalId"]] for x in body["items"]]}
        items = body["items"] if resource != "files" else [body]
        dup = [{"externalId": it["externalId"]} for it in items
               if it.get("externalId") in store]
        if dup:
            return 409, {"error": {"code": 409, "message": "duplicated", "duplicated": dup}}
        missing = [{"externalId": it["parentExternalId"]} for it in items
                   if "parentExternalId" in it
                   and it["parentExternalId"] not in self.items["assets"]]
        missing += [{"id": it["dataSetId"]} for it in items
                    if "dataSetId" in it and it["dataSetId"] not in self.by_id]
        if missing:
            return 400, {"error": {"code": 400, "message": "missing", "missing": missing}}
        created = [self.add(resource, it) for it in items]
        return 201, created[0] if resource == "files" else {"items": created}


class FakeWal:
    """The uploader-facing half of WriteAheadLog, in memory, answering at once."""

    def __init__(self) -> None:
        self.records: dict[int, Record] = {}
        self.dead: list[DeadLetter] = []
        self.done: list[int] = []
        self._ids = itertools.count(1)
        self._seqs = itertools.count(1)
        self._last_seq = 0

    def add(self, user: str, table: str, rows: list[dict[str, Any]] | dict[str, list[Any]],
            op: str = "insert") -> Record:
        cols = rows if isinstance(rows, dict) else {k: [r.get(k) for r in rows]
                                                    for k in dict.fromkeys(
                                                        k for r in rows for k in r)}
        n = len(next(iter(cols.values())))
        seq = self._last_seq = next(self._seqs)
        rec = Record(next(self._ids), seq, seq, user, table, op, encode_chunk(cols), n, 0, 0.0)
        self.records[rec.id] = rec
        return rec

    def pending(self, limit: int, after_seq: int = 0, users: set[str] | None = None, *,
                after_id: int | None = None, row_limit: int | None = None
                ) -> Deferred[list[Record]]:
        out: list[Record] = []
        rows = 0
        for r in sorted(self.records.values(), key=lambda r: (r.seq, r.id)):
            if users is not None and r.user not in users:
                continue
            if after_id is None:
                if r.seq <= after_seq:
                    continue
            elif (r.seq, r.id) <= (after_seq, after_id):
                continue
            rows += r.nrows
            if out and row_limit is not None and rows > row_limit:
                break
            out.append(r)
        return succeed(out[:limit])

    def mark_done(self, ids: Any) -> Deferred[int]:
        n = 0
        for i in ids:
            if self.records.pop(i, None) is not None:
                n += 1
                self.done.append(i)
        return succeed(n)

    def dead_letter(self, record_id: int, rows_json: list[dict[str, Any]] | None,
                    error: dict[str, Any], *, remove_record: bool | None = None) -> Deferred[int]:
        rec = self.records[record_id]
        rows = rows_json if rows_json is not None else columns_to_rows(rec.columns())
        self.dead.append(DeadLetter(len(self.dead) + 1, rec.id, rec.seq, rec.txid, rec.user,
                                    rec.table, rec.op, len(rows), None, rows, error, 0,
                                    0.0, 0.0))
        if remove_record if remove_record is not None else rows_json is None:
            del self.records[record_id]
        return succeed(len(self.dead))

    def stats(self) -> Deferred[Any]:
        users: dict[str, Any] = {}
        for r in self.records.values():
            users.setdefault(r.user, _UserStats())
            users[r.user].records += 1
        return succeed(_Stats(len(self.records), users, self._last_seq))


@dataclass
class _UserStats:
    records: int = 0


@dataclass
class _Stats:
    records: int
    users: dict[str, Any]
    last_seq: int = 0


@dataclass
class Harness:
    clock: Clock
    cdf: FakeCdf
    wal: FakeWal
    stub: StubTreq
    clients: dict[str, CdfClient]
    uploader: Uploader

    def pump(self, until: Callable[[], bool] | None = None, seconds: float = 60.0,
             step: float = 0.05) -> None:
        """Advance time in steps, delivering HTTP exchanges, until ``until()`` or
        ``seconds`` of fake time passed."""
        elapsed = 0.0
        while elapsed < seconds:
            for _ in range(20):
                self.stub.flush()
            if until is not None and until():
                return
            self.clock.advance(step)
            elapsed += step
        self.stub.flush()
        if until is not None:
            assert until(), "condition not reached in time"

    def drained(self) -> bool:
        return not self.wal.records

    def stop(self) -> None:
        d = self.uploader.stopService()
        self.pump(lambda: d.called, seconds=5)


def harness(users: tuple[str, ...] = ("alice",), **kw: Any) -> Harness:
    clock = Clock()
    cdf = FakeCdf()
    cdf.clock = clock
    stub = StubTreq(cdf)
    wal = FakeWal()
    clients = {
        u: CdfClient("http://cdf.test", "p", StaticTokenProvider(f"token-{u}"), treq=stub,
                     reactor=clock, offload_weight=None)
        for u in users
    }
    kw.setdefault("backoff", Backoff(0.5, 10.0))
    kw.setdefault("lag_interval", None)
    uploader = Uploader(wal, builtin_registry(), clients.get, clock, **kw)  # type: ignore[arg-type]
    uploader.startService()
    return Harness(clock, cdf, wal, stub, clients, uploader)
