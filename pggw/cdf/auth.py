"""Token providers: where the bearer token of a CDF identity comes from."""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from zope.interface import Interface, implementer

from pggw.cdf.errors import TokenError, is_transient

__all__ = ["ClientCredentialsProvider", "ITokenProvider", "StaticTokenProvider", "default_io"]



def default_io(reactor: IReactorTime | None, treq: Any) -> tuple[IReactorTime, Any]:
    """The global reactor and the ``treq`` module, unless a test passed its own."""
    if reactor is None:
        from twisted.internet import reactor as global_reactor

        reactor = global_reactor
    if treq is None:
        import treq as treq_module

        treq = treq_module
    return reactor, treq

class ITokenProvider(Interface):
    """A source of bearer tokens for one CDF identity."""

    async def token() -> str:
        """A valid access token (cached until shortly before it expires)."""

    def invalidate() -> None:
        """Forget the cached token (CDF answered 401); the next ``token()`` fetches anew."""


@implementer(ITokenProvider)
class StaticTokenProvider:
    """A fixed token (tests, or a token minted elsewhere)."""

    def __init__(self, token: str) -> None:
        self._token = token
        self.invalidations = 0

    async def token(self) -> str:
        return self._token

    def invalidate(self) -> None:
        self.invalidations += 1


class CachedTokenProvider:
    """Caches a token until its refresh time; concurrent callers share one fetch, and a
    transient failure keeps a still-valid token.  Subclasses set ``_reactor`` and implement
    ``_fetch()``, which stores ``_token``, ``_expires_at`` and ``_refresh_at``."""

    _reactor: Any
    _token: str | None = None
    _expires_at = 0.0
    _refresh_at = 0.0
    _fetching: list[Deferred[str]] | None = None

    async def _fetch(self) -> str:
        raise NotImplementedError

    async def token(self) -> str:
        now = self._reactor.seconds()
        if self._token is not None and now < self._refresh_at:
            return self._token
        try:
            return await self._shared_fetch()
        except TokenError as e:
            if self._token is not None and now < self._expires_at and e.transient:
                return self._token
            raise

    def invalidate(self) -> None:
        self._token = None
        self._expires_at = self._refresh_at = 0.0

    def _shared_fetch(self) -> Deferred[str]:
        d: Deferred[str] = Deferred()
        if self._fetching is not None:
            self._fetching.append(d)
            return d
        waiters = self._fetching = [d]

        def done(result: Any) -> None:
            self._fetching = None
            for w in waiters:
                if isinstance(result, BaseException):
                    w.errback(result)
                else:
                    w.callback(result)

        async def run() -> None:
            try:
                token = await self._fetch()
            except BaseException as e:  # noqa: BLE001 - delivered to every waiter
                done(e)
            else:
                done(token)

        Deferred.fromCoroutine(run())
        return d


@implementer(ITokenProvider)
class ClientCredentialsProvider(CachedTokenProvider):
    """OAuth 2.0 client-credentials grant (RFC 6749 §4.4) against an OIDC token URL.

    The token is reused until ``refresh_fraction`` of its lifetime has passed (at most
    ``refresh_margin`` seconds before expiry); concurrent callers share one fetch. If a
    refresh fails while the old token is still valid, the old token is returned.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scopes: tuple[str, ...] | list[str] = (),
        treq: Any = None,
        *,
        reactor: IReactorTime | None = None,
        audience: str | None = None,
        timeout: float = 30.0,
        refresh_fraction: float = 0.8,
        refresh_margin: float = 60.0,
    ) -> None:
        reactor, treq = default_io(reactor, treq)
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = tuple(scopes)
        self.audience = audience
        self._treq = treq
        self._reactor: IReactorTime = reactor
        self._timeout = timeout
        self._fraction = refresh_fraction
        self._margin = refresh_margin
        self._token: str | None = None
        self._expires_at = 0.0
        self._refresh_at = 0.0
        self._fetching: list[Deferred[str]] | None = None
        self.fetches = 0

    async def _fetch(self) -> str:
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self._secret}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        if self.audience:
            form["audience"] = self.audience
        self.fetches += 1
        started = self._reactor.seconds()
        try:
            response = await self._treq.post(
                self.token_url,
                data=form,
                headers={"Accept": ["application/json"]},
                timeout=self._timeout,
            )
            raw = await response.content()
        except BaseException as e:
            if is_transient(e):
                raise TokenError(f"token endpoint {self.token_url} unreachable: {e!r}") from e
            raise
        status = int(response.code)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            detail = ""
            if isinstance(body, dict):
                detail = str(body.get("error_description") or body.get("error") or "")
            raise TokenError(
                f"token endpoint {self.token_url} answered {status}"
                + (f": {detail}" if detail else ""),
                status if status != 200 else 502,
            )
        lifetime = float(body.get("expires_in") or 3600)
        self._token = str(body["access_token"])
        self._expires_at = started + lifetime
        self._refresh_at = started + max(0.0, min(lifetime * self._fraction,
                                                  lifetime - self._margin))
        return self._token

