"""The pieces every handler uses: request context, replies, routes, and argument checks."""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pggw.emulator.errors import ApiError, bad_request

if TYPE_CHECKING:
    from pggw.emulator.app import Emulator
    from pggw.emulator.auth import Identity


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(
            self.body if self.body is not None else {}, separators=(",", ":")
        ).encode()


@dataclass
class Ctx:
    """One request as handlers see it."""

    app: Emulator
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw_body: bytes
    project: str = ""
    identity: Identity | None = None
    _json: Any = None
    _parsed: bool = False

    @property
    def who(self) -> Identity:
        assert self.identity is not None
        return self.identity

    def json(self) -> Any:
        if not self._parsed:
            if not self.raw_body.strip():
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.raw_body)
                except ValueError as exc:
                    raise bad_request(f"Invalid JSON body: {exc}") from exc
            self._parsed = True
        return self._json

    def body(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise bad_request("Expected a JSON object as request body")
        return data

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        value = self.arg(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError as exc:
            raise bad_request(f"Query parameter {name} must be an integer") from exc

    def bool_arg(self, name: str, default: bool = False) -> bool:
        value = self.arg(name)
        if value is None:
            return default
        return value.lower() in ("true", "1", "yes")

    @property
    def base_url(self) -> str:
        host = self.headers.get("host", "127.0.0.1")
        return f"http://{host}"


Handler = Callable[[Ctx], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    needs: tuple[tuple[str, str], ...] = ()
    # "project": under /api/v1/projects/{project}; "token": any valid token; "public": no auth.
    scope: str = "project"

    def compile(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern)
        return re.compile(f"^{regex}$")


def decode_body(raw: bytes, encoding: str | None) -> bytes:
    if not encoding or encoding.lower() == "identity":
        return raw
    enc = encoding.lower()
    try:
        if enc == "gzip":
            return gzip.decompress(raw)
        if enc == "deflate":
            return zlib.decompress(raw)
    except (OSError, zlib.error, EOFError) as exc:
        raise bad_request(f"Could not decode {encoding} request body") from exc
    raise ApiError(415, f"Unsupported content encoding: {encoding}")


# -- argument checking helpers shared by the resource modules ----------------------------


def items_of(body: dict[str, Any], limit: int, what: str = "items", minimum: int = 1) -> list[Any]:
    items = body.get("items")
    if not isinstance(items, list):
        raise bad_request(f"{what} must be a list")
    if len(items) < minimum:
        raise bad_request(f"{what} size must be between {minimum} and {limit}")
    if len(items) > limit:
        raise bad_request(f"{what} size must be between {minimum} and {limit}")
    for item in items:
        if not isinstance(item, dict):
            raise bad_request(f"Each element of {what} must be an object")
    return items


def limit_of(value: Any, default: int, maximum: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("limit must be an integer")
    if value == -1:
        return maximum
    if not 1 <= value <= maximum:
        raise bad_request(f"limit must be between 1 and {maximum}")
    return value


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: Any) -> Any:
    if cursor is None or cursor == "":
        return None
    if not isinstance(cursor, str):
        raise bad_request("cursor must be a string")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError as exc:
        raise bad_request("Invalid cursor") from exc


def identifier(item: dict[str, Any], allow_instance: bool = False) -> dict[str, Any]:
    """The ``{"id"}`` / ``{"externalId"}`` (/ ``{"instanceId"}``) part of an item, checked."""
    keys = [k for k in ("id", "externalId", "instanceId") if k in item]
    if len(keys) != 1 or (keys[0] == "instanceId" and not allow_instance):
        allowed = "id, externalId or instanceId" if allow_instance else "id or externalId"
        raise bad_request(f"Each item must have exactly one of {allowed}")
    key = keys[0]
    value = item[key]
    if key == "id" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise bad_request("id must be a positive integer")
    if key == "externalId" and (not isinstance(value, str) or not value or len(value) > 255):
        raise bad_request("externalId must be a string of 1 to 255 characters")
    if key == "instanceId" and not (
        isinstance(value, dict)
        and isinstance(value.get("space"), str)
        and isinstance(value.get("externalId"), str)
    ):
        raise bad_request("instanceId must be an object with space and externalId")
    return {key: value}


def ident_key(ident: dict[str, Any]) -> tuple[str, Any]:
    key, value = next(iter(ident.items()))
    if isinstance(value, dict):
        return key, (value.get("space"), value.get("externalId"))
    return key, value
