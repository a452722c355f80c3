"""Per-user CDF identities: their sealed credentials, token providers, clients, and the cached
capabilities that let pggw refuse what CDF would refuse without asking CDF.

A user of kind ``cdf`` holds either OIDC client credentials or a bound CDF session, sealed in
``users.identity`` (see :mod:`pggw.credentials.secrets`). :class:`IdentityManager` builds one
:class:`~pggw.cdf.CdfClient` per user (cached), keeps the last ``/token/inspect`` answer in
``user_state``, and marks a user *revoked* only when CDF positively refuses its credentials
(400/401/403 on a token refresh, 401 on inspect). CDF being unreachable changes nothing.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

from pggw.cdf.auth import ClientCredentialsProvider, ITokenProvider
from pggw.cdf.client import CdfClient
from pggw.cdf.errors import CdfConnectionError, CdfError, TokenError, is_transient
from pggw.cdf.sessions import SessionToken, SessionTokenProvider
from pggw.credentials.secrets import SecretBox, SecretKeyError
from pggw.credentials.users import User, UserState, UserStore
from pggw.tables.model import Table
from pggw.wire.errors import INSUFFICIENT_PRIVILEGE, INVALID_AUTHORIZATION, PgError

log = Logger()

__all__ = [
    "ACL_FOR_RESOURCE",
    "Capabilities",
    "ClientCredentials",
    "IdentityManager",
    "SessionCredentials",
    "check_token_url",
    "inspect_token",
    "is_refusal",
]

#: Seconds between background re-checks of an identity (triggered by logins).
RECHECK_ENV = "PGGW_IDENTITY_RECHECK_SECONDS"
DEFAULT_RECHECK = 300.0

#: Which capability a write to a table's resource needs (any of them).
ACL_FOR_RESOURCE: dict[str, tuple[str, ...]] = {
    "datasets": ("datasetsAcl",),
    "labels": ("labelsAcl",),
    "assets": ("assetsAcl",),
    "events": ("eventsAcl",),
    "timeseries": ("timeSeriesAcl",),
    "timeseries/data": ("timeSeriesAcl",),
    "files": ("filesAcl",),
    "sequences": ("sequencesAcl",),
    "sequences/data": ("sequencesAcl",),
    "relationships": ("relationshipsAcl",),
    "raw": ("rawAcl",),
    "extpipes": ("extractionPipelinesAcl",),
    "extpipes/runs": ("extractionRunsAcl", "extractionPipelinesAcl"),
    "models/instances": ("dataModelInstancesAcl",),
}


# -- credentials ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientCredentials:
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = ()
    audience: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "clientCredentials", "tokenUrl": self.token_url,
                               "clientId": self.client_id, "clientSecret": self.client_secret,
                               "scopes": list(self.scopes)}
        if self.audience:
            out["audience"] = self.audience
        return out


@dataclass(frozen=True)
class SessionCredentials:
    session_id: int
    session_key: str = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"type": "session", "sessionId": self.session_id, "sessionKey": self.session_key}


Credentials = ClientCredentials | SessionCredentials


def credentials_from_json(doc: dict[str, Any]) -> Credentials:
    if doc.get("type") == "session":
        return SessionCredentials(int(doc["sessionId"]), str(doc["sessionKey"]))
    if doc.get("type") == "clientCredentials":
        return ClientCredentials(str(doc["tokenUrl"]), str(doc["clientId"]),
                                 str(doc["clientSecret"]), tuple(doc.get("scopes") or ()),
                                 doc.get("audience"))
    raise ValueError(f"unknown identity type {doc.get('type')!r}")


def _aad(username: str) -> bytes:
    return b"pggw-identity\0" + username.encode()


def seal_credentials(box: SecretBox, username: str, creds: Credentials) -> bytes:
    return box.seal(json.dumps(creds.to_json()).encode(), _aad(username))


def open_credentials(box: SecretBox, username: str, sealed: bytes) -> Credentials:
    return credentials_from_json(json.loads(box.open(sealed, _aad(username))))


def check_token_url(url: str) -> str | None:
    """Why ``url`` is not acceptable as an OIDC token URL, or None. HTTPS is required,
    except for loopback hosts (a local IdP or the emulator)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "tokenUrl is not a URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "tokenUrl must be an https:// URL"
    if parts.scheme == "http":
        host = parts.hostname
        loopback = host == "localhost"
        with contextlib.suppress(ValueError):
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        if not loopback:
            return "tokenUrl must be an https:// URL (http only for loopback hosts)"
    return None


# -- capabilities ----------------------------------------------------------------------------


class Capabilities:
    """A ``/token/inspect`` answer: which actions the identity has, in which projects."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.subject = str(body.get("subject", ""))
        caps = body.get("capabilities")
        self.entries: list[dict[str, Any]] = [c for c in caps if isinstance(c, dict)] \
            if isinstance(caps, list) else []
        projects = body.get("projects")
        self.projects: list[str] = [
            str(p.get("projectUrlName")) for p in projects
            if isinstance(p, dict) and p.get("projectUrlName")
        ] if isinstance(projects, list) else []

    def to_json(self) -> str:
        return json.dumps(self.body)

    @classmethod
    def from_json(cls, text: str | None) -> Capabilities | None:
        if not text:
            return None
        try:
            body = json.loads(text)
        except ValueError:
            return None
        return cls(body) if isinstance(body, dict) else None

    def in_project(self, project: str) -> bool:
        return project in self.projects

    def scopes(self, acl: str, action: str, project: str) -> list[dict[str, Any]]:
        """The scopes of every grant of ``acl``/``action`` that applies in ``project``."""
        wanted = acl.lower()
        out = []
        for entry in self.entries:
            pscope = entry.get("projectScope")
            if isinstance(pscope, dict) and "allProjects" not in pscope:
                listed = pscope.get("projects")
                if not isinstance(listed, list) or project not in listed:
                    continue
            for name, grant in entry.items():
                if name == "projectScope" or name.lower() != wanted:
                    continue
                if not isinstance(grant, dict) or action not in (grant.get("actions") or []):
                    continue
                scope = grant.get("scope")
                out.append(scope if isinstance(scope, dict) and scope else {"all": {}})
        return out

    def allows(self, acl: str, action: str, project: str) -> bool:
        return bool(self.scopes(acl, action, project))

    def data_sets(self, acl: str, action: str, project: str) -> frozenset[int] | None:
        """Data set ids the action is limited to; None when some grant is not limited
        to data sets (or there is no grant at all: see :meth:`allows`)."""
        ids: set[int] = set()
        scopes = self.scopes(acl, action, project)
        if not scopes:
            return None
        for scope in scopes:
            limited = scope.get("datasetScope") or scope.get("datasetscope")
            if not isinstance(limited, dict):
                return None
            ids.update(int(i) for i in limited.get("ids", []) if str(i).lstrip("-").isdigit())
        return frozenset(ids)

    def users_allowed(self, action: str, project: str) -> set[str] | None:
        """``postgresGatewayAcl`` usernames ``action`` is limited to (``usersScope``); None
        when unlimited; an empty set when not granted at all."""
        scopes = self.scopes("postgresGatewayAcl", action, project)
        if not scopes:
            return set()
        names: set[str] = set()
        for scope in scopes:
            limited = scope.get("usersScope")
            if not isinstance(limited, dict):
                return None
            names.update(str(u) for u in limited.get("usernames", []))
        return names


async def inspect_token(treq: Any, base_url: str, token: str,
                        timeout: float = 30.0) -> Capabilities:
    """``GET /api/v1/token/inspect``. Raises :class:`CdfError` on a non-200 answer,
    :class:`CdfConnectionError` without an answer."""
    url = base_url.rstrip("/") + "/api/v1/token/inspect"
    try:
        response = await treq.get(url, headers={"Authorization": [f"Bearer {token}"],
                                                "Accept": ["application/json"]},
                                  timeout=timeout)
        raw = await response.content()
    except Exception as e:
        if is_transient(e):
            raise CdfConnectionError(f"GET /token/inspect: {type(e).__name__}", e) from e
        raise
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")[:500]
    if int(response.code) != 200 or not isinstance(body, dict):
        raise CdfError.from_body(int(response.code), body, path="/token/inspect")
    return Capabilities(body)


def is_refusal(e: BaseException) -> bool:
    """Whether CDF (or the IdP) positively refused an identity's credentials."""
    return isinstance(e, TokenError) and e.status in (400, 401, 403)


# -- the manager -----------------------------------------------------------------------------


@implementer(ITokenProvider)
class ObservedTokens:
    """Wraps a user's token provider: a positive refusal marks the user revoked, a token
    clears that mark."""

    def __init__(self, inner: Any, username: str, manager: IdentityManager) -> None:
        self.inner = inner
        self.username = username
        self.manager = manager

    async def token(self) -> str:
        try:
            token: str = await self.inner.token()
        except TokenError as e:
            if is_refusal(e):
                self.manager.mark_revoked(self.username, str(e))
            raise
        self.manager.mark_working(self.username)
        return token

    def invalidate(self) -> None:
        self.inner.invalidate()


@dataclass
class _Entry:
    user: User
    state: UserState
    caps: Capabilities | None
    client: CdfClient | None = None
    broken: str | None = None  # why no client can be built (e.g. wrong secret key)
    rechecking: bool = False


class IdentityManager:
    """Everything the gateway does with per-user CDF identities."""

    def __init__(
        self,
        users: UserStore,
        box: Callable[[], SecretBox],
        reactor: IReactorTime,
        base_url: Callable[[], str | None],
        treq: Any = None,
        recheck_interval: float | None = None,
    ) -> None:
        self.users = users
        self._box = box
        self.reactor = reactor
        self.base_url = base_url
        self._treq = treq
        if recheck_interval is None:
            try:
                recheck_interval = float(os.environ.get(RECHECK_ENV, DEFAULT_RECHECK))
            except ValueError:
                recheck_interval = DEFAULT_RECHECK
        self.recheck_interval = recheck_interval
        self._entries: dict[str, _Entry | None] = {}
        self._kinds: dict[str, str | None] = {}  # username → "cdf", "local", or None

    @property
    def treq(self) -> Any:
        if self._treq is None:
            from treq.client import HTTPClient
            from twisted.web.client import Agent, HTTPConnectionPool

            pool = HTTPConnectionPool(self.reactor, persistent=True)  # type: ignore[no-untyped-call]
            pool.maxPersistentPerHost = 64
            pool.retryAutomatically = False
            self._treq = HTTPClient(Agent(self.reactor, pool=pool))  # type: ignore[no-untyped-call]
        return self._treq

    def _now_ms(self) -> int:
        return int(self.reactor.seconds() * 1000)

    # -- cache --------------------------------------------------------------------------

    def _entry(self, username: str) -> _Entry | None:
        """The cached entry of a CDF user (None for local and unknown users)."""
        if username in self._entries:
            return self._entries[username]
        user = self.users.get(username)
        if user is None:
            return None  # not cached: the user may be added later (pggw-admin)
        self._kinds[username] = user.kind
        entry = None
        if user.kind == "cdf":
            state = self.users.get_state(username) or UserState(username)
            entry = _Entry(user, state, Capabilities.from_json(state.capabilities))
        self._entries[username] = entry
        return entry

    def forget(self, username: str) -> None:
        """Drop what is cached about a user (after it was updated or deleted)."""
        self._entries.pop(username, None)
        self._kinds.pop(username, None)

    def kind(self, username: str) -> str | None:
        """The user's kind (``cdf`` or ``local``), None for an unknown user (cached)."""
        if username not in self._kinds:
            self._entry(username)
        return self._kinds.get(username)

    def _save(self, entry: _Entry, **changes: Any) -> None:
        entry.state = replace(entry.state, **changes)
        if "capabilities" in changes:
            entry.caps = Capabilities.from_json(entry.state.capabilities)
        self.users.put_state(entry.state)

    def state(self, username: str) -> UserState | None:
        entry = self._entry(username)
        return entry.state if entry else None

    def capabilities(self, username: str) -> Capabilities | None:
        entry = self._entry(username)
        return entry.caps if entry else None

    # -- state changes --------------------------------------------------------------------

    def record_created(self, username: str, session_id: int | None,
                       caps: Capabilities | None, seed: Any = None) -> None:
        """A user was created or its credentials replaced, just now verified with CDF.
        ``seed`` (the bind's :class:`SessionToken`, or the ``ClientCredentialsProvider`` that
        fetched the proving token) lets its first uploads reuse that token."""
        self.forget(username)
        state = UserState(username, session_id=session_id,
                          capabilities=caps.to_json() if caps else None,
                          checked_ms=self._now_ms())
        self.users.put_state(state)
        entry = self._entry(username)
        base = self.base_url()
        if entry is None or seed is None or base is None:
            return
        if isinstance(seed, SessionToken):
            seed = self._provider(entry, base, initial=seed)
        entry.client = self._make_client(entry, seed)

    def mark_revoked(self, username: str, why: str) -> None:
        entry = self._entry(username)
        if entry is None or entry.state.revoked == why:
            return
        if entry.state.revoked is None:
            log.warn("CDF refused the identity of user {user}: {why}", user=username, why=why)
        self._save(entry, revoked=why, revoked_ms=self._now_ms())

    def mark_working(self, username: str) -> None:
        entry = self._entry(username)
        if entry is None or entry.state.revoked is None:
            return
        log.info("CDF accepts the identity of user {user} again", user=username)
        self._save(entry, revoked=None, revoked_ms=None, checked_ms=self._now_ms())

    # -- clients --------------------------------------------------------------------------

    def _provider(self, entry: _Entry, base_url: str,
                  initial: SessionToken | None = None) -> Any:
        user = entry.user
        assert user.identity is not None
        creds = open_credentials(self._box(), user.username, user.identity)
        inner: Any
        if isinstance(creds, ClientCredentials):
            inner = ClientCredentialsProvider(creds.token_url, creds.client_id,
                                              creds.client_secret, creds.scopes,
                                              treq=self.treq, reactor=self.reactor,
                                              audience=creds.audience)
        else:
            inner = SessionTokenProvider(
                base_url, user.project or "", creds.session_id, creds.session_key,
                treq=self.treq, reactor=self.reactor, initial=initial,
                on_new_key=lambda key: self._new_session_key(user.username, creds, key))
        return inner

    def _make_client(self, entry: _Entry, inner: Any) -> CdfClient:
        base = self.base_url()
        assert base is not None
        tokens = ObservedTokens(inner, entry.user.username, self)
        return CdfClient(base, entry.user.project or "", tokens, treq=self.treq,
                         reactor=self.reactor)

    def _new_session_key(self, username: str, creds: SessionCredentials, key: str) -> None:
        sealed = seal_credentials(self._box(), username, SessionCredentials(creds.session_id, key))
        user = self.users.update(username, identity=sealed)
        entry = self._entries.get(username)
        if entry is not None and user is not None:
            entry.user = user

    def client_for(self, username: str) -> CdfClient | None:
        """The CdfClient with the user's own identity; None for users without one, or while
        CDF's address is unknown, or when its credentials cannot be opened."""
        entry = self._entry(username)
        if entry is None:
            return None
        if entry.client is not None:
            return entry.client
        if entry.broken is not None:
            return None
        base = self.base_url()
        if base is None or entry.user.identity is None:
            return None
        try:
            entry.client = self._make_client(entry, self._provider(entry, base))
        except (SecretKeyError, ValueError, KeyError) as e:
            entry.broken = str(e)
            log.error("cannot open the CDF credentials of user {user}: {why}",
                      user=username, why=str(e))
            return None
        return entry.client

    # -- login and re-checks ----------------------------------------------------------------

    def login_check(self, username: str) -> None:
        """At login: refuse (28000) a user whose identity CDF refused; otherwise let it in
        and re-check the identity in the background when the last check is old."""
        entry = self._entry(username)
        if entry is None:
            return
        if entry.state.revoked is not None:
            raise PgError(
                INVALID_AUTHORIZATION,
                f'CDF no longer accepts the credentials of user "{username}"',
                detail=entry.state.revoked,
                hint="Rotate them with POST /api/v1/projects/{project}/postgresgateway/update "
                     "(or create a new user); rows already queued are kept and paused.",
                severity="FATAL")
        self.maybe_recheck(username)

    def maybe_recheck(self, username: str) -> Deferred[None] | None:
        entry = self._entry(username)
        if entry is None or entry.rechecking:
            return None
        checked = (entry.state.checked_ms or 0) / 1000
        if self.reactor.seconds() - checked < self.recheck_interval:
            return None
        return self.recheck(username)

    def recheck(self, username: str) -> Deferred[None]:
        """Fetch a fresh token and inspect it: updates the cached capabilities, or marks the
        user revoked on a positive refusal. Never fails."""
        async def run() -> None:
            entry = self._entry(username)
            if entry is None:
                return
            entry.rechecking = True
            try:
                await self._recheck(username)
            except Exception:  # noqa: BLE001 - a background check must not fail loudly
                log.failure("re-checking the identity of {user}", user=username)
            finally:
                entry.rechecking = False

        return Deferred.fromCoroutine(run())

    async def _recheck(self, username: str) -> None:
        client = self.client_for(username)
        if client is None:
            return
        client.tokens.invalidate()
        try:
            token = await client.tokens.token()  # a refusal marks the user (ObservedTokens)
        except TokenError:
            return
        base = self.base_url()
        if base is None:
            return
        try:
            caps = await inspect_token(self.treq, base, token)
        except CdfError as e:
            if e.status == 401:
                self.mark_revoked(username, f"token/inspect answered 401: {e.message}")
            return
        except CdfConnectionError:
            return
        entry = self._entry(username)
        if entry is not None:
            self._save(entry, capabilities=caps.to_json(), checked_ms=self._now_ms())

    # -- capability checks ----------------------------------------------------------------

    def _write_acls(self, table: Table) -> tuple[str, ...]:
        if table.kind == "view":
            return ACL_FOR_RESOURCE["models/instances"]
        if table.kind == "raw":
            return ACL_FOR_RESOURCE["raw"]
        return ACL_FOR_RESOURCE.get(table.resource, ())

    def check_write(self, username: str, table: Table) -> None:
        """Raise 42501 when the user's cached capabilities hold no write grant at all for
        the table's resource. Unknown capabilities (never inspected) allow everything."""
        entry = self._entry(username)
        if entry is None or entry.caps is None:
            return
        acls = self._write_acls(table)
        project = entry.user.project or ""
        if not acls or any(entry.caps.allows(acl, "WRITE", project) for acl in acls):
            return
        raise PgError(
            INSUFFICIENT_PRIVILEGE,
            f"permission denied for table {table.name}",
            detail=f'The CDF identity of user "{username}" has no {acls[0]}:WRITE capability '
                   f"in project {project}.",
            hint=f"Add {acls[0]}:WRITE to a CDF group of that identity; pggw re-reads "
                 "capabilities at the next login after a few minutes.",
            table=table.name)

    def write_data_sets(self, username: str, table: Table) -> frozenset[int] | None:
        """The data set ids the user may write rows of ``table`` into, when every write
        grant for its resource is data-set scoped; None when not limited (or unknown)."""
        entry = self._entry(username)
        if entry is None or entry.caps is None:
            return None
        project = entry.user.project or ""
        limited: set[int] = set()
        granted = False
        for acl in self._write_acls(table):
            if not entry.caps.allows(acl, "WRITE", project):
                continue
            granted = True
            ids = entry.caps.data_sets(acl, "WRITE", project)
            if ids is None:
                return None
            limited |= ids
        return frozenset(limited) if granted else None

