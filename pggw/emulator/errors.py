"""CDF's error bodies, raised from handlers and rendered by the web layer."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered the way CDF answers it: ``{"error": {"code", "message", ...}}``."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        missing: list[dict[str, Any]] | None = None,
        duplicated: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.missing = missing
        self.duplicated = duplicated
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.missing is not None:
            error["missing"] = self.missing
        if self.duplicated is not None:
            error["duplicated"] = self.duplicated
        return {"error": error}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def missing(items: list[dict[str, Any]], message: str | None = None) -> ApiError:
    return ApiError(400, message or "Resources not found.", missing=items)


def duplicated(items: list[dict[str, Any]], message: str | None = None) -> ApiError:
    return ApiError(409, message or "Resource(s) already exist(s).", duplicated=items)


def duplicated_in_request(items: list[dict[str, Any]]) -> ApiError:
    return ApiError(422, "Duplicate identifiers in request.", duplicated=items)


UNAUTHORIZED_MESSAGE = "Unauthorized"
FORBIDDEN_MESSAGE = "Resource not found. This may also be due to insufficient access rights."


def unauthorized(detail: str = UNAUTHORIZED_MESSAGE) -> ApiError:
    return ApiError(401, detail)


def forbidden() -> ApiError:
    return ApiError(403, FORBIDDEN_MESSAGE)


def too_many_requests(limit: int) -> ApiError:
    return ApiError(
        429,
        f"Project exceeded maximum number='{limit}' of concurrent requests. "
        "Please try again later.",
    )
