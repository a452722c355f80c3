"""The content step of ``files`` rows: once CDF has a file, PUT its bytes to the file's
upload URL.

A ``files`` row with ``content`` becomes an item whose :attr:`~pggw.upload.mapping.Item.content`
holds the bytes (never the JSON body). The uploader creates the file as usual
(``POST /files``, one file per request) and then calls :func:`upload_contents`:

1. **The upload URL.** The create's answer carries it (``uploadUrl``). A file that exists
   already — a create answered ``duplicated`` that verified as pggw's own earlier attempt,
   or an upsert's update — gets one from ``POST /files/uploadlink`` (by id).
2. **The PUT** (:meth:`~pggw.cdf.client.CdfClient.put_content`, ``Content-Type`` from the
   file's mime type, as cognite-sdk does). Transient failures (connection errors,
   timeouts, 408/425/429/5xx) are retried forever with the uploader's backoff (capped
   exponential, full jitter, ``Retry-After``) and concurrency limit, to the same URL: the
   file is never created twice because its upload failed. Any other answer (an expired or
   refused URL: 400/401/403/404 …) gets a fresh URL from ``/files/uploadlink`` once; if the
   PUT to the fresh URL is refused too, the row is dead-lettered ("rejected", with the
   storage's answer). Its file then exists in CDF without content — CDF deletes such a
   file after a week — and retrying the dead letter finds the file ``duplicated``,
   verifies it and uploads the content.

Unknown outcomes:

* The create's answer is lost (timeout, dropped connection, 5xx after CDF applied it): the
  retried create is answered ``duplicated`` (for a file with an ``external_id``); the
  uploader verifies that CDF holds what was sent, and :func:`upload_contents` uploads the
  content unless CDF says the file is ``uploaded`` already (an earlier attempt got that
  far). The same happens when pggw restarts between the create and the PUT.
* ``ON CONFLICT DO NOTHING`` leaves existing files alone, except one that holds exactly
  what was sent and has no content yet — pggw's own earlier create whose answer was lost
  (:func:`ignored_duplicates`): it gets its content.
* A file without ``external_id`` cannot be recognised: a create retried after a lost
  answer makes a second file; the first one never gets content, so CDF deletes it after a
  week.
* The PUT's answer is lost: the PUT is sent again (it overwrites the same content).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import CancelledError
from twisted.logger import Logger

from pggw.cdf.client import CdfClient, CdfResponse
from pggw.cdf.errors import CdfConnectionError, CdfError, is_transient
from pggw.tables.model import Table
from pggw.upload.mapping import Item
from pggw.upload.policy import sleep

if TYPE_CHECKING:
    from pggw.upload.uploader import Uploader, _Lane

__all__ = ["ignored_duplicates", "upload_contents"]

_log = Logger(namespace="pggw.upload.files")

Ident = tuple[str, Any]

#: label of the content PUT in the uploader's request counters
_LABEL = "uploadUrl"


async def upload_contents(
    up: Uploader, lane: _Lane, client: CdfClient, table: Table, items: list[Item], *,
    response: CdfResponse | None = None, found: Mapping[Ident, Any] | None = None,
) -> list[Item]:
    """Upload the content of the ``items`` that have one. ``response`` is CDF's answer to
    the create (one file, with its ``uploadUrl``) or update (``items``) the items were
    sent in; ``found`` the files as ``/files/byids`` returned them when a create was
    answered ``duplicated`` (a file ``uploaded`` already is left as it is).

    Returns the items that are done (content uploaded, or none to upload); those whose
    content CDF refused are dead-lettered here and left out."""
    todo = [it for it in items if it.content is not None]
    if not todo:
        return items
    answered = _files_in(response) if response is not None else []
    done: list[Item] = [it for it in items if it.content is None]
    for it in todo:
        if found is not None:
            file = found.get(it.ident) if it.ident is not None else None
            if isinstance(file, dict) and file.get("uploaded"):
                done.append(it)  # an earlier attempt of pggw's uploaded it
                continue
        else:
            file = _match(answered, it, len(todo) == 1)
        error = await _upload(up, lane, client, it, file if isinstance(file, dict) else None)
        if error is None:
            done.append(it)
        else:
            _log.warn("file content of {ident} not uploaded: {message}", ident=it.ident,
                      message=error.get("message"))
            await up._dead(lane, table, [it], "rejected", error)
    return done


async def ignored_duplicates(
    up: Uploader, lane: _Lane, client: CdfClient, table: Table, items: list[Item]
) -> list[Item]:
    """``ON CONFLICT DO NOTHING`` found these files existing: they stay as they are, except
    a file that holds exactly what was sent and has no content yet — pggw's own earlier
    create whose answer was lost — which gets its content. Returns the items that are
    done (as :func:`upload_contents`)."""
    todo = [it for it in items if it.content is not None and it.ident is not None]
    if not todo:
        return items
    from pggw.upload.uploader import matches

    found: dict[Ident, Any] = {}
    for a in range(0, len(todo), 1000):
        part = todo[a : a + 1000]
        try:
            answer = await up._request(
                lane, client, f"/{table.resource}/byids",
                {"items": [_ref(it.ident) for it in part if it.ident is not None],
                 "ignoreUnknownIds": True}, None, 1)
        except CdfError:
            continue  # cannot tell: do nothing, as asked
        for got in answer.items:
            if isinstance(got, dict):
                for k in ("externalId", "id"):
                    if k in got:
                        found[(k, got[k])] = got
    ours = [it for it in todo if it.ident in found and not found[it.ident].get("uploaded")
            and matches(it.body, found[it.ident])]
    if not ours:
        return items
    mine = {id(it) for it in ours}
    rest = [it for it in items if id(it) not in mine]
    return rest + await upload_contents(up, lane, client, table, ours, found=found)


# -- internals ----------------------------------------------------------------------------


def _ref(ident: Ident) -> dict[str, Any]:
    return {ident[0]: ident[1]}


def _files_in(response: CdfResponse) -> list[dict[str, Any]]:
    """The files in an answer: ``POST /files`` answers with the file itself (the spec says
    ``items``; both are read), ``/files/update`` and ``/files/uploadlink`` with ``items``."""
    body = response.body
    if isinstance(body, dict) and ("id" in body or "uploadUrl" in body):
        return [body]
    return [f for f in response.items if isinstance(f, dict)]


def _match(files: Sequence[dict[str, Any]], it: Item, only: bool) -> dict[str, Any] | None:
    for f in files:
        if it.ident is not None and f.get(it.ident[0]) == it.ident[1]:
            return f
    return files[0] if only and len(files) == 1 else None


def _mime(it: Item, file: Mapping[str, Any] | None) -> str | None:
    if file is not None and isinstance(file.get("mimeType"), str):
        return str(file["mimeType"])
    body = it.body if isinstance(it.body, dict) else {}
    mime = body.get("mimeType")
    if mime is None and isinstance(body.get("update"), dict):
        patch = body["update"].get("mimeType")
        mime = patch.get("set") if isinstance(patch, dict) else None
    return mime if isinstance(mime, str) else None


async def _upload(
    up: Uploader, lane: _Lane, client: CdfClient, it: Item, file: dict[str, Any] | None
) -> dict[str, Any] | None:
    """PUT ``it.content`` for ``file`` (as CDF answered it; ``None``: find it by the item's
    identity); ``None`` when uploaded, else the error to dead-letter the row with."""
    assert it.content is not None
    url = file.get("uploadUrl") if file is not None else None
    ref: dict[str, Any] | None = (
        {"id": file["id"]} if file is not None and isinstance(file.get("id"), int)
        else _ref(it.ident) if it.ident is not None else None)
    mime = _mime(it, file)
    relinked = False
    while True:
        if not isinstance(url, str) or not url:
            if ref is None:
                return {"message": "file content not uploaded: CDF gave no upload URL and "
                        "the file has no id or external id to ask for one"}
            try:
                answer = await up._request(lane, client, "/files/uploadlink",
                                           {"items": [ref]}, None, 1)
            except CdfError as e:
                return {**e.as_dict(),
                        "message": f"file content not uploaded: no upload URL: {e.message}"}
            linked = _match(_files_in(answer), it, True)
            url = linked.get("uploadUrl") if linked is not None else None
            mime = _mime(it, linked) or mime
            if not isinstance(url, str) or not url:
                return {"status": answer.status,
                        "message": "file content not uploaded: /files/uploadlink gave no URL"}
        error = await _put(up, lane, client, url, it.content, mime)
        if error is None:
            return None
        if relinked or ref is None:
            return error
        relinked, url = True, None  # expired or refused: once more with a fresh URL


async def _put(
    up: Uploader, lane: _Lane, client: CdfClient, url: str, data: bytes, mime: str | None
) -> dict[str, Any] | None:
    """One content upload, retried like every uploader request while the failure is
    transient; ``None`` when stored, else the (permanent) error."""
    attempt = 0
    metrics = up.metrics
    while True:
        if not up.running:
            raise CancelledError()
        limiter = up._limiter(client)
        await limiter.acquire()
        metrics.in_flight = limiter.in_flight
        retry_after: float | None = None
        try:
            response = await client.put_content(url, data, mime)
        except CdfError as e:
            metrics.requests[(_LABEL, str(e.status))] += 1
            if not e.transient:
                return {**e.as_dict(),
                        "message": f"file content upload refused: {e.message}"}
            if e.status == 429:
                limiter.throttled()
            reason, retry_after = str(e.status), e.retry_after
            lane.last_error = str(e)
        except CdfConnectionError as e:
            metrics.requests[(_LABEL, "error")] += 1
            reason = "connection"
            lane.last_error = str(e)
        except CancelledError:
            raise
        except Exception as e:  # a bug or an unexpected answer: never drop, retry
            _log.failure("unexpected error uploading file content")
            reason = "connection" if is_transient(e) else "error"
            lane.last_error = repr(e)
        else:
            metrics.requests[(_LABEL, str(response.status))] += 1
            metrics.backoff_until.pop(lane.user, None)
            limiter.success()
            return None
        finally:
            limiter.release()
            metrics.in_flight = limiter.in_flight
            metrics.concurrency_limit = limiter.limit
        attempt += 1
        metrics.retries[reason] += 1
        delay = up.backoff.delay(attempt - 1, retry_after)
        metrics.backoff_until[lane.user] = up.reactor.seconds() + delay
        await sleep(up.reactor, delay)
