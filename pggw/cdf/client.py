"""A small CDF REST client on treq: JSON in and out, bearer tokens, error parsing.

Large bodies are encoded (and gzipped) on a worker thread so that a 100k-datapoint
request does not stall the reactor. Retrying is the caller's business (the uploader owns
the one retry layer); the client only refreshes the token once on a 401.

Every HTTP request the client makes is timed into a :class:`RequestTimings` (exported as
the ``pggw_cdf_request_duration_seconds`` histogram by :mod:`pggw.ops.metrics`): API
calls, file content uploads (:meth:`CdfClient.put_content`), and the token requests of
its token provider, whose HTTP client the constructor wraps in a :class:`TimedTreq`.
"""

from __future__ import annotations

import bisect
import gzip as gzip_module
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote, urlsplit

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from pggw import __version__
from pggw.cdf.auth import ITokenProvider
from pggw.cdf.errors import (
    CdfConnectionError,
    CdfError,
    is_transient,
    parse_retry_after,
)

_orjson: Any
try:  # optional accelerator: ~10x faster than json for datapoint-heavy bodies
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

__all__ = [
    "LATENCY_BUCKETS",
    "REQUEST_TIMINGS",
    "CdfClient",
    "CdfResponse",
    "RequestTimings",
    "TimedTreq",
    "dumps",
    "endpoint_label",
    "loads",
    "outcome_of",
    "path_label",
]

_json_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False, check_circular=False)


def dumps(body: Any) -> bytes:
    """Compact JSON bytes (orjson when installed)."""
    if _orjson is not None:
        try:
            return cast(bytes, _orjson.dumps(body))
        except TypeError:
            pass  # e.g. an int beyond 64 bits: let json report or handle it
    return _json_encoder.encode(body).encode()


def loads(data: bytes) -> Any:
    if _orjson is not None:
        return _orjson.loads(data)
    return json.loads(data)


_RAW_PATH = re.compile(r"^/raw/dbs/[^/]+/tables/[^/]+/")


def path_label(path: str) -> str:
    """The path with RAW database/table names folded, for low-cardinality metrics."""
    return _RAW_PATH.sub("/raw/dbs/{db}/tables/{table}/", path)


# -- request latency ------------------------------------------------------------------

#: Upper bounds (seconds) of the latency histogram's buckets: from a cached-connection
#: token or byids call (a few ms) through large writes (seconds; the client's timeout is
#: 60 s) to file content uploads (up to the 600 s upload timeout).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
    600.0,
)

_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def endpoint_label(method: str, path: str) -> tuple[str, str]:
    """(resource, endpoint) labels of a request to ``path`` (relative to the project):
    ``("assets", "POST /assets/byids")``, ``("raw", "POST /raw/dbs/{db}/tables/{table}/rows")``;
    numeric ids are folded to ``{id}`` so the label set stays small."""
    folded = _ID_SEGMENT.sub("/{id}", path_label(path.split("?", 1)[0]))
    resource = folded.lstrip("/").split("/", 1)[0] or "project"
    return resource, f"{method} {folded}"


def outcome_of(status: int | None, error: BaseException | None = None) -> str:
    """The ``outcome`` label of an answer (``status``) or of a request that got none:
    ``success`` (2xx), ``throttled`` (429, 425), ``auth_error`` (401/403), ``timeout``
    (408, or no answer in time), ``client_error`` (other 4xx and anything else),
    ``server_error`` (5xx) or ``connection_error``."""
    if status is None:
        text = f"{type(error).__name__} {error}".lower() if error is not None else ""
        return "timeout" if "timeout" in text or "cancelled" in text else "connection_error"
    if 200 <= status < 300:
        return "success"
    if status in (429, 425):
        return "throttled"
    if status == 408:
        return "timeout"
    if status in (401, 403):
        return "auth_error"
    if status >= 500:
        return "server_error"
    return "client_error"


class RequestTimings:
    """A histogram of request durations per (resource, endpoint, outcome), filled by the
    clients on the reactor thread and read by the metrics collector at scrape time."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.buckets = tuple(sorted(buckets))
        #: labels → [per-bucket counts (not cumulative; the last is +Inf), sum, count]
        self.series: dict[tuple[str, str, str], list[Any]] = {}

    def observe(self, resource: str, endpoint: str, outcome: str, seconds: float) -> None:
        key = (resource, endpoint, outcome)
        entry = self.series.get(key)
        if entry is None:
            entry = self.series[key] = [[0] * (len(self.buckets) + 1), 0.0, 0]
        seconds = max(0.0, seconds)
        entry[0][bisect.bisect_left(self.buckets, seconds)] += 1
        entry[1] += seconds
        entry[2] += 1

    def snapshot(self) -> list[tuple[tuple[str, str, str], list[tuple[float, int]], float, int]]:
        """Per series: labels, cumulative ``(le, count)`` pairs ending with ``+Inf``, the
        sum and the count."""
        out = []
        for key, (counts, total, n) in list(self.series.items()):
            acc, pairs = 0, []
            for le, c in zip((*self.buckets, float("inf")), counts, strict=True):
                acc += c
                pairs.append((le, acc))
            out.append((key, pairs, total, n))
        return out

    def count(self, resource: str | None = None, endpoint: str | None = None,
              outcome: str | None = None) -> int:
        """Requests observed with the given labels (``None``: any)."""
        return sum(n for (r, e, o), (_, _, n) in self.series.items()
                   if (resource is None or r == resource) and (endpoint is None or e == endpoint)
                   and (outcome is None or o == outcome))


#: The process's timings: every client records here unless given its own.
REQUEST_TIMINGS = RequestTimings()


class TimedTreq:
    """A treq-like HTTP client that times each request into ``timings`` and passes
    everything else through. Token providers get one so that token requests are in the
    latency histogram: ``resource="token"``, ``endpoint="POST token"`` for an identity
    provider's token URL; requests to a CDF project (session refresh) are labelled by
    their API path like the client's own."""

    def __init__(self, inner: Any, timings: RequestTimings,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.inner = inner
        self.timings = timings
        self.clock = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _labels(self, method: str, url: str) -> tuple[str, str]:
        path = urlsplit(url).path
        marker = "/api/v1/projects/"
        if marker in path:
            rest = path.split(marker, 1)[1]
            return endpoint_label(method, "/" + rest.split("/", 1)[1] if "/" in rest else "/")
        return "token", f"{method} token"

    async def _timed(self, method: str, url: str, call: Any) -> Any:
        resource, endpoint = self._labels(method, url)
        started = self.clock()
        try:
            response = await call
        except BaseException as e:
            self.timings.observe(resource, endpoint, outcome_of(None, e),
                                 self.clock() - started)
            raise
        self.timings.observe(resource, endpoint, outcome_of(int(response.code)),
                             self.clock() - started)
        return response

    def request(self, method: str, url: str, **kwargs: Any) -> Deferred[Any]:
        return Deferred.fromCoroutine(
            self._timed(method, url, self.inner.request(method, url, **kwargs)))

    def post(self, url: str, **kwargs: Any) -> Deferred[Any]:
        return Deferred.fromCoroutine(self._timed("POST", url, self.inner.post(url, **kwargs)))

    def get(self, url: str, **kwargs: Any) -> Deferred[Any]:
        return Deferred.fromCoroutine(self._timed("GET", url, self.inner.get(url, **kwargs)))


def _time_token_requests(tokens: Any, timings: RequestTimings,
                         clock: Callable[[], float]) -> None:
    """Wrap the HTTP client of ``tokens`` (and of the providers it wraps, ``.inner``) in a
    :class:`TimedTreq`, once."""
    seen = 0
    while tokens is not None and seen < 4:
        seen += 1
        inner = getattr(tokens, "_treq", None)
        if inner is not None and not isinstance(inner, TimedTreq):
            tokens._treq = TimedTreq(inner, timings, clock)
        tokens = getattr(tokens, "inner", None)


@dataclass
class CdfResponse:
    """A 2xx answer: status, the decoded JSON body (``None`` if empty), headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def items(self) -> list[Any]:
        if isinstance(self.body, dict):
            items = self.body.get("items")
            if isinstance(items, list):
                return items
        return []

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id")


Offload = Callable[[Callable[[], bytes]], "Deferred[bytes]"]


class CdfClient:
    """Requests to one CDF project with one identity.

    ``treq`` is anything with treq's ``request``/``content`` (``treq`` itself, an
    ``HTTPClient`` with a connection pool, or ``treq.testing.StubTreq``). Bodies of requests
    whose ``weight`` (rows, datapoints) is at least ``offload_weight`` are encoded through
    ``offload`` (default: the reactor's thread pool); ``offload_weight=None`` encodes inline.
    """

    def __init__(
        self,
        base_url: str,
        project: str,
        token_provider: ITokenProvider,
        *,
        treq: Any = None,
        reactor: IReactorTime | None = None,
        gzip: bool = False,
        gzip_min_bytes: int = 8192,
        timeout: float = 60.0,
        offload_weight: int | None = 5000,
        offload: Offload | None = None,
        headers: Mapping[str, str] | None = None,
        upload_timeout: float = 600.0,
        timings: RequestTimings | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        self._reactor: IReactorTime = reactor
        if treq is None:
            treq = _pooled_treq(reactor)
        self._treq = treq
        self.base_url = base_url.rstrip("/")
        self.project = project
        self.tokens = token_provider
        self.gzip = gzip
        self.gzip_min_bytes = gzip_min_bytes
        self.timeout = timeout
        self.upload_timeout = upload_timeout
        #: request latency histogram (``REQUEST_TIMINGS`` unless given); ``clock`` times it
        self.timings = timings if timings is not None else REQUEST_TIMINGS
        self._clock = clock
        _time_token_requests(token_provider, self.timings, clock)
        self.offload_weight = offload_weight
        self._offload = offload
        self._headers = {
            "User-Agent": f"pggw/{__version__}",
            "Accept": "application/json",
            **(headers or {}),
        }
        self.project_url = f"{self.base_url}/api/v1/projects/{quote(project, safe='')}"
        #: (method, path label, status or "error") → count
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.bytes_sent = 0

    # -- public -----------------------------------------------------------------------

    async def post(
        self, path: str, body: Any, params: Mapping[str, Any] | None = None, *, weight: int = 0
    ) -> CdfResponse:
        """POST ``body`` as JSON to ``path`` (relative to the project); ``body`` may be
        bytes (sent as is) or a callable building the body when it is encoded. Raises
        :class:`CdfError` on a non-2xx answer, :class:`CdfConnectionError` without one."""
        data = await self._encode(body, weight)
        return await self._send("POST", path, data, params)

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> CdfResponse:
        return await self._send("GET", path, None, params)

    async def put_content(
        self, upload_url: str, data: bytes, content_type: str | None = None
    ) -> CdfResponse:
        """PUT a file's bytes to the ``uploadUrl`` CDF gave for it, as cognite-sdk does:
        ``Content-Type`` is the file's mime type (left out when it has none), no bearer
        token (the URL carries its own authorization), a relative URL is resolved against
        the base URL, and the timeout is :attr:`upload_timeout`. Raises :class:`CdfError`
        on a non-2xx answer (``path="uploadUrl"``), :class:`CdfConnectionError` without
        one."""
        url = upload_url if urlsplit(upload_url).netloc else (
            self.base_url + ("" if upload_url.startswith("/") else "/") + upload_url)
        headers = {"User-Agent": [self._headers["User-Agent"]], "Accept": ["*/*"]}
        if content_type:
            headers["Content-Type"] = [content_type]
        endpoint = "PUT uploadUrl"
        self.bytes_sent += len(data)
        started = self._clock()
        try:
            response = await self._treq.request(
                "PUT", url, headers=headers, data=data, timeout=self.upload_timeout,
                reactor=self._reactor,
            )
            raw = await response.content()
        except Exception as e:
            self.requests[("PUT", "uploadUrl", "error")] += 1
            self.timings.observe("files", endpoint, outcome_of(None, e),
                                 self._clock() - started)
            if is_transient(e):
                raise CdfConnectionError(f"PUT uploadUrl: {e!r}", e) from e
            raise
        status = int(response.code)
        self.requests[("PUT", "uploadUrl", str(status))] += 1
        self.timings.observe("files", endpoint, outcome_of(status), self._clock() - started)
        hdrs, body = _decode(response, raw, text_limit=2000)
        if 200 <= status < 300:
            return CdfResponse(status, body, hdrs)
        raise CdfError.from_body(
            status, body, request_id=hdrs.get("x-request-id"),
            retry_after=parse_retry_after(hdrs.get("retry-after"), self._wall_time()),
            path="uploadUrl",
        )

    # -- internals --------------------------------------------------------------------

    def _encode_now(self, body: Any) -> bytes:
        if callable(body):  # built lazily, on the encoding thread when offloaded
            body = body()
        data = body if isinstance(body, bytes) else dumps(body)
        if self.gzip and len(data) >= self.gzip_min_bytes:
            return b"\x1f\x8b" + gzip_module.compress(data, compresslevel=1)[2:]
        return data

    async def _encode(self, body: Any, weight: int) -> bytes:
        if self.offload_weight is None or weight < self.offload_weight:
            return self._encode_now(body)
        if self._offload is not None:
            return await self._offload(lambda: self._encode_now(body))
        from twisted.internet.threads import deferToThreadPool

        pool = self._reactor.getThreadPool()  # type: ignore[attr-defined]
        return await deferToThreadPool(self._reactor, pool, self._encode_now, body)  # type: ignore[arg-type]

    async def _send(
        self, method: str, path: str, data: bytes | None, params: Mapping[str, Any] | None
    ) -> CdfResponse:
        for attempt in (0, 1):
            token = await self.tokens.token()
            headers = {k: [v] for k, v in self._headers.items()}
            headers["Authorization"] = [f"Bearer {token}"]
            if data is not None:
                headers["Content-Type"] = ["application/json"]
                if data[:2] == b"\x1f\x8b":
                    headers["Content-Encoding"] = ["gzip"]
                self.bytes_sent += len(data)
            label = path_label(path)
            resource, endpoint = endpoint_label(method, path)
            started = self._clock()
            try:
                response = await self._treq.request(
                    method,
                    self.project_url + path,
                    params=dict(params) if params else None,
                    headers=headers,
                    data=data,
                    timeout=self.timeout,
                    reactor=self._reactor,
                )
                raw = await response.content()
            except Exception as e:
                self.requests[(method, label, "error")] += 1
                self.timings.observe(resource, endpoint, outcome_of(None, e),
                                     self._clock() - started)
                if is_transient(e):
                    raise CdfConnectionError(f"{method} {path}: {e!r}", e) from e
                raise
            status = int(response.code)
            self.requests[(method, label, str(status))] += 1
            self.timings.observe(resource, endpoint, outcome_of(status),
                                 self._clock() - started)
            hdrs, body = _decode(response, raw)
            if 200 <= status < 300:
                return CdfResponse(status, body, hdrs)
            if status == 401 and attempt == 0:
                self.tokens.invalidate()
                continue
            raise CdfError.from_body(
                status,
                body,
                request_id=hdrs.get("x-request-id"),
                retry_after=parse_retry_after(hdrs.get("retry-after"), self._wall_time()),
                path=path,
            )
        raise AssertionError("unreachable")

    def _wall_time(self) -> float:
        import time

        return time.time()


def _decode(response: Any, raw: bytes, *,
            text_limit: int | None = None) -> tuple[dict[str, str], Any]:
    """A response's headers (lower-case names, last value) and its JSON body (or text)."""
    hdrs = {
        k.decode("latin-1").lower(): v[-1].decode("latin-1")
        for k, v in response.headers.getAllRawHeaders()
    }
    try:
        body = loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")[:text_limit]
    return hdrs, body


def _pooled_treq(reactor: Any) -> Any:
    from treq.client import HTTPClient
    from twisted.web.client import Agent, HTTPConnectionPool

    pool = HTTPConnectionPool(reactor, persistent=True)  # type: ignore[no-untyped-call]
    pool.maxPersistentPerHost = 64
    pool.retryAutomatically = False  # the uploader decides about retries
    return HTTPClient(Agent(reactor, pool=pool))  # type: ignore[no-untyped-call]
