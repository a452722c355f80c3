"""CDF errors, the one list of transient failures, and ``Retry-After`` parsing."""

from __future__ import annotations

import email.utils
import math
from typing import Any

from twisted.internet import error as ierror
from twisted.internet.defer import CancelledError
from twisted.internet.defer import TimeoutError as DeferTimeoutError
from twisted.web import _newclient

__all__ = [
    "TRANSIENT_STATUSES",
    "CdfConnectionError",
    "CdfError",
    "TokenError",
    "is_transient",
    "parse_retry_after",
]

#: THE list of HTTP statuses pggw retries forever (docs and code use this one constant).
#: Connection errors and timeouts are transient too (see :func:`is_transient`).
TRANSIENT_STATUSES: frozenset[int] = frozenset({408, 425, 429, 500, 502, 503, 504})

_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    CancelledError,  # treq's timeout cancels the request
    DeferTimeoutError,
    ierror.ConnectError,
    ierror.ConnectionLost,
    ierror.ConnectionClosed,
    ierror.DNSLookupError,
    ierror.TimeoutError,
    _newclient.ResponseNeverReceived,
    _newclient.ResponseFailed,
    _newclient.RequestTransmissionFailed,
)


class CdfError(Exception):
    """A non-2xx answer from CDF, with its parsed error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: int | None = None,
        missing: list[dict[str, Any]] | None = None,
        duplicated: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
        path: str = "",
    ) -> None:
        super().__init__(f"CDF {status} on {path or '?'}: {message}")
        self.status = status
        self.code = code if code is not None else status
        self.message = message
        self.missing = missing or []
        self.duplicated = duplicated or []
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body
        self.path = path

    @classmethod
    def from_body(
        cls,
        status: int,
        body: Any,
        *,
        request_id: str | None = None,
        retry_after: float | None = None,
        path: str = "",
    ) -> CdfError:
        """Parse ``{"error": {"code", "message", "missing", "duplicated"}}`` (or the flat
        ``{"code", "message", "missingFields"}`` variant); anything else is kept as text."""
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            err = body if isinstance(body, dict) and "message" in body else {}
        message = err.get("message")
        if not isinstance(message, str):
            message = str(body)[:500] if body not in (None, "", b"") else f"HTTP {status}"
        code = err.get("code")
        missing = err.get("missing")
        duplicated = err.get("duplicated")
        return cls(
            status,
            message,
            code=code if isinstance(code, int) else None,
            missing=(
                [m for m in missing if isinstance(m, dict)] if isinstance(missing, list) else None
            ),
            duplicated=(
                [d for d in duplicated if isinstance(d, dict)]
                if isinstance(duplicated, list)
                else None
            ),
            request_id=request_id,
            retry_after=retry_after,
            body=body,
            path=path,
        )

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT_STATUSES

    @property
    def auth(self) -> bool:
        """401/403: the identity is refused; pause its user rather than blame rows."""
        return self.status in (401, 403)

    def as_dict(self) -> dict[str, Any]:
        """The error as a dead letter keeps it."""
        out: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.missing:
            out["missing"] = self.missing
        if self.duplicated:
            out["duplicated"] = self.duplicated
        if self.request_id:
            out["requestId"] = self.request_id
        if self.path:
            out["path"] = self.path
        return out


class CdfConnectionError(Exception):
    """The request got no HTTP answer (connection refused/reset, DNS, timeout)."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class TokenError(Exception):
    """The identity provider refused or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        return self.status is None or self.status in TRANSIENT_STATUSES


def is_transient(failure: int | BaseException) -> bool:
    """Whether to retry (forever, with backoff): connection errors, timeouts, and the
    statuses in :data:`TRANSIENT_STATUSES`."""
    if isinstance(failure, bool):
        return False
    if isinstance(failure, int):
        return failure in TRANSIENT_STATUSES
    if isinstance(failure, CdfError | TokenError):
        return failure.transient
    if isinstance(failure, CdfConnectionError):
        return True
    return isinstance(failure, _TRANSPORT_ERRORS)


def parse_retry_after(value: str | bytes | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP-date,
    RFC 9110 §10.2.3); ``None`` when absent or unparseable. ``now`` is epoch seconds."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        return max(0.0, when.timestamp() - now)
    if math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, 24 * 3600.0)
