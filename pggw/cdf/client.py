"""A small CDF REST client on treq: JSON in and out, bearer tokens, error parsing.

Large bodies are encoded (and gzipped) on a worker thread so that a 100k-datapoint
request does not stall the reactor. Retrying is the caller's business (the uploader owns
the one retry layer); the client only refreshes the token once on a 401.
"""

from __future__ import annotations

import gzip as gzip_module
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from pggw import __version__
from pggw.cdf.auth import ITokenProvider
from pggw.cdf.errors import CdfConnectionError, CdfError, is_transient, parse_retry_after

_orjson: Any
try:  # optional accelerator: ~10x faster than json for datapoint-heavy bodies
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

__all__ = ["CdfClient", "CdfResponse", "dumps", "loads", "path_label"]

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
                if is_transient(e):
                    raise CdfConnectionError(f"{method} {path}: {e!r}", e) from e
                raise
            status = int(response.code)
            self.requests[(method, label, str(status))] += 1
            hdrs = {
                k.decode("latin-1").lower(): v[-1].decode("latin-1")
                for k, v in response.headers.getAllRawHeaders()
            }
            try:
                body = loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
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


def _pooled_treq(reactor: Any) -> Any:
    from treq.client import HTTPClient
    from twisted.web.client import Agent, HTTPConnectionPool

    pool = HTTPConnectionPool(reactor, persistent=True)  # type: ignore[no-untyped-call]
    pool.maxPersistentPerHost = 64
    pool.retryAutomatically = False  # the uploader decides about retries
    return HTTPClient(Agent(reactor, pool=pool))  # type: ignore[no-untyped-call]
