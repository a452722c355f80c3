"""The content step of files rows (pggw.upload.files): create, then PUT the bytes to the
upload URL; retries, expired URLs, unknown outcomes, upserts and DO NOTHING, against a
fake CDF with upload URLs (StubTreq) on a Clock."""

from __future__ import annotations

import fnmatch
import itertools
from typing import Any

from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.web.server import Request
from upload_fakes import PREFIX, FakeCdf, FakeWal, Harness

from pggw.cdf import CdfClient, StaticTokenProvider
from pggw.cdf.client import RequestTimings
from pggw.tables.registry import builtin_registry
from pggw.upload import Backoff, Uploader

BLOB = bytes(range(256)) * 4 + b"\x00end"


class FilesCdf(FakeCdf):
    """FakeCdf plus upload URLs: ``POST /files`` answers with an ``uploadUrl``
    (``/_upload/{id}/{n}``, relative or absolute), ``/files/uploadlink`` gives a fresh one,
    a PUT there stores the content (a URL replaced by a newer one answers 403, like an
    expired signed URL). Fault rules match PUT paths too."""

    def __init__(self, absolute: bool = True) -> None:
        super().__init__()
        self.absolute = absolute
        self.links = itertools.count(1)
        self.current: dict[int, str] = {}  # file id -> its valid upload URL path
        self.content: dict[int, bytes] = {}
        self.puts: list[dict[str, Any]] = []

    def _url(self, file_id: int) -> str:
        path = f"/_upload/{file_id}/{next(self.links)}"
        self.current[file_id] = path
        return f"http://cdf.test{PREFIX}{path}" if self.absolute else f"{PREFIX}{path}"

    def render(self, request: Request) -> bytes:
        if request.method != b"PUT":
            return super().render(request)
        path = request.path.decode()[len(PREFIX):]
        data = request.content.read() if request.content is not None else b""
        self.puts.append({"path": path, "data": data,
                          "type": request.getHeader("content-type"),
                          "auth": request.getHeader("authorization")})
        now = self.clock.seconds() if self.clock else 0.0
        self.log.append(("PUT " + path, None, now))
        for f in self.faults:
            if f.count != 0 and fnmatch.fnmatchcase("PUT " + path, f.path):
                if f.count is not None:
                    f.count -= 1
                for k, v in f.headers.items():
                    request.setHeader(k, v)
                return self._answer(request, f.status, {"error": {"code": f.status,
                                                                  "message": "fault"}})
        file_id = int(path.split("/")[2])
        if self.current.get(file_id) != path:
            request.setResponseCode(403)
            return b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
        self.content[file_id] = data
        resource, key = self.by_id[file_id]
        self.items[resource][key]["uploaded"] = True
        request.setResponseCode(200)
        return b""

    def _handle(self, request: Request, path: str, body: Any) -> tuple[int, Any]:
        if path == "/files/uploadlink":
            (ref,) = body["items"]
            found = [f for f in self.items["files"].values()
                     if ("id" in ref and f["id"] == ref["id"])
                     or f.get("externalId") == ref.get("externalId")]
            if not found:
                return 400, {"error": {"code": 400, "message": "missing", "missing": [ref]}}
            return 200, {"items": [{**found[0], "uploadUrl": self._url(found[0]["id"])}]}
        status, answer = super()._handle(request, path, body)
        if path == "/files" and status == 201:
            answer.setdefault("uploaded", False)
            self.items["files"][answer.get("externalId") or str(answer["id"])]["uploaded"] = False
            answer = {**answer, "uploadUrl": self._url(answer["id"])}
        return status, answer

    def file(self, external_id: str) -> dict[str, Any]:
        return self.items["files"][external_id]


def files_harness(absolute: bool = True, **kw: Any) -> tuple[Harness, FilesCdf]:
    clock = Clock()
    cdf = FilesCdf(absolute)
    cdf.clock = clock
    stub = StubTreq(cdf)
    wal = FakeWal()
    clients = {"alice": CdfClient("http://cdf.test", "p", StaticTokenProvider("token-alice"),
                                  treq=stub, reactor=clock, offload_weight=None,
                                  timings=RequestTimings(), clock=clock.seconds)}
    kw.setdefault("backoff", Backoff(0.5, 10.0))
    kw.setdefault("lag_interval", None)
    uploader = Uploader(wal, builtin_registry(), clients.get, clock, **kw)  # type: ignore[arg-type]
    uploader.startService()
    return Harness(clock, cdf, wal, stub, clients, uploader), cdf


def creates(cdf: FilesCdf) -> int:
    return sum(1 for p in cdf.paths() if p == "/files")


def test_content_is_put_to_the_upload_url_after_the_create() -> None:
    h, cdf = files_harness()
    h.wal.add("alice", "files", [
        {"external_id": "f1", "name": "a.bin", "mime_type": "application/pdf", "content": BLOB},
        {"external_id": "f2", "name": "b.txt", "content": b"plain"},
        {"external_id": "f3", "name": "c.txt", "content": None},
    ])
    h.pump(h.drained)
    f1, f2, f3 = cdf.file("f1"), cdf.file("f2"), cdf.file("f3")
    assert cdf.content == {f1["id"]: BLOB, f2["id"]: b"plain"}
    assert f1["uploaded"] and f2["uploaded"] and not f3["uploaded"]
    assert "content" not in f1 and creates(cdf) == 3
    types = {p["path"].split("/")[2]: p["type"] for p in cdf.puts}
    assert types == {str(f1["id"]): "application/pdf", str(f2["id"]): None}
    assert all(p["auth"] is None for p in cdf.puts)  # the URL carries its own authorization
    assert h.wal.dead == []
    assert h.uploader.metrics.requests[("uploadUrl", "200")] == 2
    timings = h.clients["alice"].timings
    assert timings.count("files", "PUT uploadUrl", "success") == 2
    assert timings.count("files", "POST /files", "success") == 3
    h.stop()


def test_a_relative_upload_url_is_resolved_against_the_base_url() -> None:
    h, cdf = files_harness(absolute=False)
    h.wal.add("alice", "files", [{"external_id": "rel", "name": "r", "content": b"x"}])
    h.pump(h.drained)
    assert list(cdf.content.values()) == [b"x"] and h.wal.dead == []
    h.stop()


def test_transient_upload_failures_are_retried_to_the_same_url_not_recreated() -> None:
    h, cdf = files_harness()
    cdf.fail("PUT /_upload/*", 503, count=2, headers={"Retry-After": "5"})
    h.wal.add("alice", "files", [{"external_id": "t", "name": "t", "content": BLOB}])
    h.pump(h.drained)
    puts = [(p, t) for p, _, t in cdf.log if p.startswith("PUT ")]
    assert len(puts) == 3 and len({p for p, _ in puts}) == 1
    assert puts[1][1] - puts[0][1] >= 5 and puts[2][1] - puts[1][1] >= 5
    assert creates(cdf) == 1 and "/files/uploadlink" not in cdf.paths()
    assert cdf.content == {cdf.file("t")["id"]: BLOB}
    assert h.uploader.metrics.retries["503"] == 2 and h.wal.dead == []
    assert h.clients["alice"].timings.count("files", "PUT uploadUrl", "server_error") == 2
    h.stop()


def test_connection_errors_during_the_upload_are_retried() -> None:
    h, cdf = files_harness()
    h.wal.add("alice", "files", [{"external_id": "c", "name": "c", "content": b"abc"}])
    real = h.clients["alice"].put_content
    calls = []

    async def flaky(url: str, data: bytes, content_type: str | None = None) -> Any:
        calls.append(url)
        if len(calls) == 1:
            from pggw.cdf.errors import CdfConnectionError

            raise CdfConnectionError("reset")
        return await real(url, data, content_type)

    h.clients["alice"].put_content = flaky  # type: ignore[method-assign]
    h.pump(h.drained)
    assert len(calls) == 2 and calls[0] == calls[1]
    assert h.uploader.metrics.retries["connection"] == 1 and h.wal.dead == []
    assert creates(cdf) == 1
    h.stop()


def test_an_expired_upload_url_is_replaced_from_uploadlink() -> None:
    h, cdf = files_harness()
    cdf.fail("PUT /_upload/*", 403, count=1)
    h.wal.add("alice", "files", [{"external_id": "e", "name": "e", "content": b"late"}])
    h.pump(h.drained)
    f = cdf.file("e")
    assert cdf.content == {f["id"]: b"late"} and f["uploaded"]
    assert creates(cdf) == 1
    link = [b for p, b, _ in cdf.log if p == "/files/uploadlink"]
    assert link == [{"items": [{"id": f["id"]}]}]
    assert len({p["path"] for p in cdf.puts}) == 2  # a fresh URL
    assert h.wal.dead == []
    assert h.uploader.status()["alice"]["paused"] is None  # not an identity problem
    h.stop()


def test_content_refused_with_a_fresh_url_is_dead_lettered_as_bytea_hex() -> None:
    h, cdf = files_harness()
    cdf.fail("PUT /_upload/*", 400, count=None)
    h.wal.add("alice", "files", [{"external_id": "bad", "name": "b", "content": b"\x01\xff"},
                                 {"external_id": "meta", "name": "m"}])
    h.pump(h.drained)
    assert len(cdf.puts) == 2 and cdf.paths().count("/files/uploadlink") == 1
    (dl,) = h.wal.dead
    assert dl.rows_json == [{"external_id": "bad", "name": "b", "content": "\\x01ff"}]
    assert dl.error["reason"] == "rejected" and dl.error["status"] == 400
    assert "file content upload refused" in dl.error["message"]
    assert not cdf.file("bad")["uploaded"] and "meta" in cdf.items["files"]
    h.stop()


def test_requeued_dead_letter_with_hex_content_finishes_the_upload() -> None:
    h, cdf = files_harness()
    cdf.add("files", {"externalId": "again", "name": "a", "uploaded": False})
    # a dead letter put back in the queue: rows come from JSON, content as bytea hex text
    h.wal.add("alice", "files", [{"external_id": "again", "name": "a",
                                  "content": "\\x" + BLOB.hex()}])
    h.pump(h.drained)
    assert cdf.content == {cdf.file("again")["id"]: BLOB}
    assert creates(cdf) == 1 and h.uploader.metrics.duplicates_verified == 1
    assert h.wal.dead == []
    h.stop()


def test_unknown_outcome_of_the_create_uploads_without_a_second_file() -> None:
    h, cdf = files_harness()
    cdf.fail("/files", 502, count=1, apply=True)  # CDF created it; the answer was lost
    h.wal.add("alice", "files", [{"external_id": "u", "name": "u", "source": "s",
                                  "content": BLOB}])
    h.pump(h.drained)
    assert list(cdf.items["files"]) == ["u"]
    assert cdf.content == {cdf.file("u")["id"]: BLOB}
    assert h.uploader.metrics.duplicates_verified == 1
    assert cdf.paths().count("/files/uploadlink") == 1 and h.wal.dead == []
    h.stop()


def test_a_file_uploaded_by_an_earlier_attempt_is_not_uploaded_again() -> None:
    h, cdf = files_harness()
    cdf.add("files", {"externalId": "done", "name": "d", "uploaded": True})
    h.wal.add("alice", "files", [{"external_id": "done", "name": "d", "content": b"zz"}])
    h.pump(h.drained)
    assert cdf.puts == [] and h.wal.dead == []
    assert h.uploader.metrics.duplicates_verified == 1
    h.stop()


def test_upsert_of_an_existing_file_updates_it_and_replaces_the_content() -> None:
    h, cdf = files_harness()
    old = cdf.add("files", {"externalId": "up", "name": "n", "source": "old",
                            "uploaded": True})
    cdf.content[old["id"]] = b"old bytes"
    h.wal.add("alice", "files", [{"external_id": "up", "name": "n", "source": "new",
                                  "mime_type": "text/csv", "content": b"a,b\n1,2\n"}],
              op="upsert")
    h.pump(h.drained)
    f = cdf.file("up")
    assert f["source"] == "new" and cdf.content[f["id"]] == b"a,b\n1,2\n"
    assert "/files/update" in cdf.paths() and cdf.puts[-1]["type"] == "text/csv"
    assert h.wal.dead == []
    h.stop()


def test_do_nothing_leaves_existing_files_but_finishes_its_own_earlier_create() -> None:
    h, cdf = files_harness()
    theirs = cdf.add("files", {"externalId": "theirs", "name": "other", "uploaded": False})
    cdf.add("files", {"externalId": "mine", "name": "m", "uploaded": False})
    h.wal.add("alice", "files", [{"external_id": "theirs", "name": "t", "content": b"no"},
                                 {"external_id": "mine", "name": "m", "content": b"yes"}],
              op="insert-ignore")
    h.pump(h.drained)
    assert cdf.content == {cdf.file("mine")["id"]: b"yes"}
    assert theirs["id"] not in cdf.content and cdf.file("theirs")["name"] == "other"
    assert h.wal.dead == []
    h.stop()


def test_files_without_content_make_no_upload_requests() -> None:
    h, cdf = files_harness()
    h.wal.add("alice", "files", [{"external_id": f"m{i}", "name": "m"} for i in range(3)])
    h.pump(h.drained)
    assert cdf.puts == [] and "/files/uploadlink" not in cdf.paths()
    assert len(cdf.items["files"]) == 3
    h.stop()


def test_upsert_batch_mixing_rows_with_and_without_content() -> None:
    h, cdf = files_harness()
    for x in ("m1", "m2", "m3"):
        cdf.add("files", {"externalId": x, "name": x, "uploaded": False})
    h.wal.add("alice", "files", [{"external_id": "m1", "name": "m1", "source": "a"},
                                 {"external_id": "m2", "name": "m2", "content": b"two"},
                                 {"external_id": "m3", "name": "m3", "content": b"three"}],
              op="upsert")
    h.pump(h.drained)
    assert {cdf.by_id[i][1]: c for i, c in cdf.content.items()} == {"m2": b"two",
                                                                   "m3": b"three"}
    assert cdf.file("m1")["source"] == "a" and not cdf.file("m1")["uploaded"]
    assert [b["items"][0] for p, b, _ in cdf.log if p == "/files/uploadlink"] == [
        {"id": cdf.file("m2")["id"]}, {"id": cdf.file("m3")["id"]}]
    assert h.wal.dead == []
    h.stop()
