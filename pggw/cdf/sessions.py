"""CDF sessions as a token source: bind a nonce once, then refresh with the session key.

``POST /api/v1/projects/{project}/sessions/token`` takes ``{"nonce"}`` (bind: the nonce's
first and only use) or ``{"sessionId", "sessionKey"}`` (refresh) and answers
``{"id", "accessToken", "expiresIn", "mustRefreshIn"?, "sessionKey"?}`` (research/cdf.md §4.2).
Cognite's own CDF lets only its internal services call it; :func:`bind_nonce` reports such a
refusal as :class:`SessionBindRefused` so that the caller can say "use client credentials".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from zope.interface import implementer

from pggw.cdf.auth import CachedTokenProvider, ITokenProvider, default_io
from pggw.cdf.errors import CdfError, TokenError, is_transient

__all__ = [
    "SessionBindRefused",
    "SessionToken",
    "SessionTokenProvider",
    "bind_nonce",
    "refresh_session",
    "session_token_url",
]

#: Statuses with which a CDF says "you may not bind/refresh sessions here" (rather than
#: "this nonce is bad"): no such endpoint, or not for callers like pggw.
_REFUSES_BINDING = frozenset({401, 403, 404, 405, 501})


@dataclass(frozen=True)
class SessionToken:
    """One answer of ``/sessions/token``."""

    session_id: int
    access_token: str
    expires_in: float
    must_refresh_in: float | None
    session_key: str | None

    @classmethod
    def parse(cls, body: Any) -> SessionToken:
        if not isinstance(body, dict) or not isinstance(body.get("accessToken"), str):
            raise ValueError("the /sessions/token answer has no accessToken")
        sid = body.get("id")
        if not isinstance(sid, int) or isinstance(sid, bool):
            raise ValueError("the /sessions/token answer has no session id")
        key = body.get("sessionKey")
        must = body.get("mustRefreshIn")
        return cls(
            session_id=sid,
            access_token=body["accessToken"],
            expires_in=float(body.get("expiresIn") or 3600),
            must_refresh_in=float(must) if isinstance(must, int | float) else None,
            session_key=key if isinstance(key, str) and key else None,
        )

    @property
    def refresh_after(self) -> float:
        """Seconds after issue when to refresh: CDF's ``mustRefreshIn``, else 30 s before
        expiry (the Scala SDK's margin), never less than a tenth of the lifetime."""
        if self.must_refresh_in is not None:
            return max(0.0, min(self.must_refresh_in, self.expires_in))
        return max(self.expires_in * 0.1, self.expires_in - 30.0)


class SessionBindRefused(Exception):
    """CDF does not let pggw bind (or refresh) sessions: it answered ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def session_token_url(base_url: str, project: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/projects/{quote(project, safe='')}/sessions/token"


async def _post(
    treq: Any, url: str, body: dict[str, Any], bearer: str | None, timeout: float
) -> tuple[int, Any]:
    headers = {"Content-Type": ["application/json"], "Accept": ["application/json"]}
    if bearer:
        headers["Authorization"] = [f"Bearer {bearer}"]
    try:
        response = await treq.post(url, data=json.dumps(body).encode(), headers=headers,
                                   timeout=timeout)
        raw = await response.content()
    except Exception as e:
        if is_transient(e):
            raise TokenError(f"{url} unreachable: {type(e).__name__}") from e
        raise
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode("utf-8", "replace")[:500]
    return int(response.code), decoded


async def bind_nonce(
    treq: Any, base_url: str, project: str, nonce: str, *, bearer: str | None = None,
    timeout: float = 30.0,
) -> SessionToken:
    """Exchange a session nonce for the session's first token and its session key.

    Raises :class:`SessionBindRefused` when this CDF does not let pggw bind nonces,
    :class:`CdfError` (400) for a bad or expired nonce, :class:`TokenError` when CDF is
    unreachable or failing.
    """
    url = session_token_url(base_url, project)
    status, body = await _post(treq, url, {"nonce": nonce}, bearer, timeout)
    if status == 200:
        try:
            return SessionToken.parse(body)
        except ValueError as e:
            raise TokenError(f"{url}: {e}", 502) from None
    err = CdfError.from_body(status, body, path="/sessions/token")
    if status in _REFUSES_BINDING:
        raise SessionBindRefused(status, err.message)
    if err.transient:
        raise TokenError(f"{url} answered {status}: {err.message}", status)
    raise err


async def refresh_session(
    treq: Any, base_url: str, project: str, session_id: int, session_key: str, *,
    timeout: float = 30.0,
) -> SessionToken:
    """A fresh access token for a bound session. Raises :class:`TokenError` (its ``status``
    401/403 when CDF refuses the session: revoked, expired, or the key is wrong)."""
    url = session_token_url(base_url, project)
    status, body = await _post(treq, url, {"sessionId": session_id, "sessionKey": session_key},
                               None, timeout)
    if status == 200:
        try:
            return SessionToken.parse(body)
        except ValueError as e:
            raise TokenError(f"{url}: {e}", 502) from None
    err = CdfError.from_body(status, body, path="/sessions/token")
    raise TokenError(f"session {session_id}: CDF answered {status}: {err.message}", status)


@implementer(ITokenProvider)
class SessionTokenProvider(CachedTokenProvider):
    """Access tokens of one bound CDF session, refreshed with its session key.

    ``initial`` (the bind's answer) is used until it must be refreshed. A new session key in a
    refresh answer is reported to ``on_new_key`` (to be stored). If a refresh fails for a
    transient reason while the old token is still valid, the old token is returned.
    """

    def __init__(
        self,
        base_url: str,
        project: str,
        session_id: int,
        session_key: str,
        *,
        treq: Any = None,
        reactor: IReactorTime | None = None,
        initial: SessionToken | None = None,
        issued_at: float | None = None,
        on_new_key: Callable[[str], None] | None = None,
        timeout: float = 30.0,
    ) -> None:
        reactor, treq = default_io(reactor, treq)
        self.base_url = base_url
        self.project = project
        self.session_id = session_id
        self._key = session_key
        self._treq = treq
        self._reactor: IReactorTime = reactor
        self._on_new_key = on_new_key
        self._timeout = timeout
        self._token: str | None = None
        self._expires_at = 0.0
        self._refresh_at = 0.0
        self._fetching: list[Deferred[str]] | None = None
        self.refreshes = 0
        if initial is not None:
            self._accept(initial, reactor.seconds() if issued_at is None else issued_at)

    def _accept(self, answer: SessionToken, started: float) -> None:
        self._token = answer.access_token
        self._expires_at = started + answer.expires_in
        self._refresh_at = started + answer.refresh_after
        if answer.session_key and answer.session_key != self._key:
            self._key = answer.session_key
            if self._on_new_key is not None:
                self._on_new_key(answer.session_key)

    async def _fetch(self) -> str:
        started = self._reactor.seconds()
        self.refreshes += 1
        answer = await refresh_session(self._treq, self.base_url, self.project,
                                       self.session_id, self._key, timeout=self._timeout)
        self._accept(answer, started)
        return answer.access_token
