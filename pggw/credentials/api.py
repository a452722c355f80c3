"""The credentials API: create gateway users bound to CDF identities, and their custom tables.

Mounted on the gateway's HTTP endpoint by :func:`mount`:

* ``POST /create`` (v1, "skywarp"): ``{"auth": {"token_url", "client_id", "client_secret",
  "scope"}, "project"}`` or the same keys flat; authenticated by the credentials in the body
  (pggw fetches a token with them) → ``{"username", "password"}``.
* ``/api/v1/projects/{project}/postgresgateway`` (2.0, the shapes of the CDF OpenAPI spec),
  with ``Authorization: Bearer <CDF token>`` checked through CDF's ``/token/inspect``
  (``postgresGatewayAcl`` READ/WRITE): create (a session ``nonce``, or — pggw's extension for
  any CDF — ``clientCredentials``), ``GET`` list, ``list``, ``byids``, ``update`` (rotate the
  CDF credentials), ``delete``; and ``tables/{username}`` (create, list, ``byids``,
  ``delete``) for custom RAW and view tables.

Errors use CDF's body ``{"error": {"code", "message", "missing"?, "duplicated"?}}``. Request
bodies and secrets are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.web import resource, server

from pggw.cdf.auth import ClientCredentialsProvider
from pggw.cdf.errors import CdfConnectionError, CdfError, TokenError
from pggw.cdf.sessions import SessionBindRefused, SessionToken, bind_nonce
from pggw.credentials.identities import (
    Capabilities,
    ClientCredentials,
    SessionCredentials,
    check_token_url,
    inspect_token,
    seal_credentials,
)
from pggw.credentials.ratelimit import LoginThrottle
from pggw.credentials.tables import (
    TableError,
    builtin_api,
    parse_create,
    stored_api,
    view_columns,
)
from pggw.credentials.users import StoredTable, User
from pggw.wire.auth import make_verifier

log = Logger()

__all__ = ["ApiError", "CredentialsApi", "TokenInspector", "bearer_token", "mount"]

MAX_BODY = 1 << 20
USERNAME_PREFIX = "pggw_"
_ALPHABET = string.ascii_lowercase + string.digits
ACL = "postgresGatewayAcl"

USE_CLIENT_CREDENTIALS = (
    'Create the user with client credentials instead: {"items": [{"credentials": '
    '{"clientCredentials": {"tokenUrl": "...", "clientId": "...", "clientSecret": "...", '
    '"scopes": ["..."]}}}]}'
)


class ApiError(Exception):
    def __init__(self, code: int, message: str, *, missing: list[dict[str, Any]] | None = None,
                 duplicated: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.missing = missing
        self.duplicated = duplicated

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.missing is not None:
            err["missing"] = self.missing
        if self.duplicated is not None:
            err["duplicated"] = self.duplicated
        return {"error": err}


def _invalid(message: str) -> ApiError:
    return ApiError(422, message)


def _unavailable(what: str) -> ApiError:
    return ApiError(503, f"{what}; try again later")


# -- small validators ----------------------------------------------------------------------------


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(f"Input should be a valid dictionary: {where}")
    return value


def _only(obj: dict[str, Any], allowed: set[str], where: str = "") -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise _invalid(f"Extra inputs are not permitted: {where}{extra[0]}")


def _items(body: Any, lo: int, hi: int,
           allowed: frozenset[str] = frozenset({"items"})) -> list[Any]:
    body = _obj(body, "body")
    _only(body, set(allowed))
    items = body.get("items")
    if not isinstance(items, list):
        raise _invalid("Field required: items")
    if not lo <= len(items) <= hi:
        raise _invalid(f"items must have {lo} to {hi} elements" if lo != hi
                       else f"items must have exactly {lo} element")
    return items


def _str(obj: dict[str, Any], key: str, where: str = "", required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value:
        raise _invalid(f"Field required: {where}{key}" if value is None
                       else f"Input should be a non-empty string: {where}{key}")
    return value


def _bool(obj: dict[str, Any], key: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise _invalid(f"Input should be a valid boolean: {key}")
    return value


def _scopes(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.replace(",", " ").split())
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return tuple(value)
    raise _invalid(f"Input should be a string or a list of strings: {where}")


def _encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> str:
    if not cursor:
        return ""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Invalid cursor") from None


def _limit(value: Any, default: int, hi: int) -> int:
    if value is None:
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise _invalid("Input should be a valid integer: limit") from None
    if isinstance(value, bool) or not 1 <= n <= hi:
        raise _invalid(f"limit must be between 1 and {hi}")
    return n


def user_json(user: User, session_id: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"username": user.username, "createdTime": user.created_ms,
                           "lastUpdatedTime": user.updated_ms}
    if session_id:
        out["sessionId"] = session_id
    return out


# -- callers' tokens ------------------------------------------------------------------------------


def bearer_token(request: server.Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None without a header of
    that form."""
    header = (request.getHeader(b"authorization") or b"").decode("latin-1")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class TokenInspector:
    """Whose a caller's CDF access token is: CDF's ``GET /token/inspect`` (against the
    daemon's CDF), its failures mapped to :class:`ApiError` — 401 CDF refuses the token,
    403 CDF will not inspect it (the identity lacks ``projectsAcl:LIST``/``groupsAcl:LIST``),
    503 CDF unreachable or failing.

    With ``ttl`` > 0 answers (and 401/403 refusals) are cached that many seconds, keyed by
    the token's SHA-256 (the token itself is not kept); transient failures are not cached.
    ``gateway`` gives ``reactor``, ``cdf`` (None until CDF's address is known) and
    ``identities.treq``."""

    def __init__(self, gateway: Any, *, ttl: float = 0.0, max_entries: int = 1024) -> None:
        self.gw = gateway
        self.ttl = ttl
        self.max_entries = max_entries
        self._cache: dict[bytes, tuple[float, Capabilities | ApiError]] = {}

    def _now(self) -> float:
        return float(self.gw.reactor.seconds())

    def _cached(self, key: bytes) -> Capabilities | ApiError | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        if hit[0] <= self._now():
            del self._cache[key]
            return None
        return hit[1]

    def _remember(self, key: bytes, answer: Capabilities | ApiError) -> None:
        if self.ttl <= 0:
            return
        now = self._now()
        if len(self._cache) >= self.max_entries:
            for k in [k for k, (until, _) in self._cache.items() if until <= now]:
                del self._cache[k]
            while len(self._cache) >= self.max_entries:
                del self._cache[next(iter(self._cache))]
        self._cache[key] = (now + self.ttl, answer)

    async def inspect(self, token: str) -> Capabilities:
        key = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        hit = self._cached(key)
        if isinstance(hit, ApiError):
            raise ApiError(hit.code, hit.message)
        if hit is not None:
            return hit
        cdf = self.gw.cdf
        if cdf is None:
            raise _unavailable("pggw is not connected to CDF yet")
        try:
            caps = await inspect_token(self.gw.identities.treq, str(cdf.base_url), token)
        except CdfError as e:
            if e.status == 401:
                refused = ApiError(401, "Unauthorized: CDF does not accept the token")
            elif e.status == 403:
                refused = ApiError(403, "The token's identity needs projectsAcl:LIST and "
                                        "groupsAcl:LIST (CDF refused /token/inspect)")
            else:
                raise _unavailable(f"CDF answered {e.status} to /token/inspect") from None
            self._remember(key, refused)
            raise refused from None
        except (CdfConnectionError, TokenError):
            raise _unavailable("CDF is unreachable") from None
        self._remember(key, caps)
        return caps


# -- the API --------------------------------------------------------------------------------------


class CredentialsApi:
    """The handlers; ``gateway`` gives ``users``, ``identities``, ``secret_box()``,
    ``reactor``, ``cdf`` (the daemon's client: CDF's base URL), ``registry`` (built-in
    tables), ``public_host()`` and ``custom_tables_changed(user)``."""

    def __init__(self, gateway: Any) -> None:
        self.gw = gateway
        self.throttle = LoginThrottle(gateway.reactor, free_failures=5, addr_refuse_after=60)
        # Uncached: a change of the caller's groups in CDF applies to the next request.
        self.inspector = TokenInspector(gateway)

    # -- plumbing ------------------------------------------------------------------------

    @property
    def treq(self) -> Any:
        return self.gw.identities.treq

    def base_url(self) -> str:
        cdf = self.gw.cdf
        if cdf is None:
            raise _unavailable("pggw is not connected to CDF yet")
        return str(cdf.base_url)

    def _now_ms(self) -> int:
        return int(self.gw.reactor.seconds() * 1000)

    async def _inspect_caller(self, request: server.Request, project: str) -> Capabilities:
        token = bearer_token(request)
        if token is None:
            raise ApiError(401, "Unauthorized: send Authorization: Bearer <CDF access token>")
        caps = await self.inspector.inspect(token)
        if not caps.in_project(project):
            raise ApiError(401, f"Unauthorized: the token is not valid for project {project}")
        request.pggw_bearer = token  # type: ignore[attr-defined]
        return caps

    @staticmethod
    def _require(caps: Capabilities, action: str, project: str,
                 username: str | None = None) -> set[str] | None:
        """403 unless ``caps`` allow ``action``; returns the usernames it is limited to."""
        allowed = caps.users_allowed(action, project)
        if allowed is not None and (not allowed or (username is not None
                                                    and username not in allowed)):
            raise ApiError(403, f"Missing capability {ACL}:{action} in project {project}"
                           + (f" for user {username}" if username else ""))
        return allowed

    def _user(self, project: str, username: str, allowed: set[str] | None) -> User | None:
        user = self.gw.users.get(username)
        if user is None or user.kind != "cdf" or user.project != project:
            return None
        if allowed is not None and username not in allowed:
            return None
        return user  # type: ignore[no-any-return]

    def _session_id(self, username: str) -> int | None:
        state = self.gw.users.get_state(username)
        return state.session_id if state else None

    # -- verifying credentials --------------------------------------------------------------

    async def _verify_client_credentials(
        self, creds: ClientCredentials, project: str, require_inspect: bool
    ) -> tuple[Capabilities | None, ClientCredentialsProvider]:
        why = check_token_url(creds.token_url)
        if why:
            raise _invalid(why)
        provider = ClientCredentialsProvider(creds.token_url, creds.client_id, creds.client_secret,
                                             creds.scopes, treq=self.treq,
                                             reactor=self.gw.reactor, audience=creds.audience)
        try:
            token = await provider.token()
        except TokenError as e:
            if e.transient:
                raise _unavailable("the identity provider is unreachable") from None
            raise ApiError(401 if require_inspect else 400,
                           f"The identity provider refused the client credentials: {e}") from None
        caps: Capabilities | None = None
        try:
            caps = await inspect_token(self.treq, self.base_url(), token)
        except CdfError as e:
            if e.status == 401:
                raise ApiError(400, "CDF does not accept tokens of these client credentials "
                                    "(check the scope and the token URL)") from None
            if require_inspect:
                raise ApiError(403, "The identity needs projectsAcl:LIST and groupsAcl:LIST "
                                    f"(CDF answered {e.status} to /token/inspect)") from None
        except (CdfConnectionError, TokenError):
            if require_inspect:
                raise _unavailable("CDF is unreachable") from None
        if caps is not None and not caps.in_project(project):
            raise ApiError(403 if require_inspect else 400,
                           f"The identity of these client credentials has no access to "
                           f"project {project}")
        return caps, provider

    async def _bind(self, nonce: str, project: str,
                    bearer: str | None) -> tuple[SessionToken, Capabilities | None]:
        try:
            answer = await bind_nonce(self.treq, self.base_url(), project, nonce, bearer=bearer)
        except SessionBindRefused as e:
            raise ApiError(
                400,
                f"This CDF does not let pggw bind session nonces (POST /sessions/token "
                f"answered {e.status}: {e.message}). {USE_CLIENT_CREDENTIALS}") from None
        except CdfError as e:
            raise ApiError(400, f"CDF refused the nonce: {e.message}") from None
        except TokenError:
            raise _unavailable("CDF is unreachable or failing") from None
        if not answer.session_key:
            raise ApiError(
                400, "CDF bound the session but gave no session key, so pggw could not keep "
                     f"it alive. Use a refreshable session, or client credentials. "
                     f"{USE_CLIENT_CREDENTIALS}")
        caps: Capabilities | None = None
        try:
            caps = await inspect_token(self.treq, self.base_url(), answer.access_token)
        except (CdfError, CdfConnectionError, TokenError):
            caps = None
        if caps is not None and not caps.in_project(project):
            raise ApiError(400, f"The session belongs to another project than {project}")
        return answer, caps

    def _parse_credentials(self, creds: Any, where: str) -> tuple[str, Any]:
        """``("nonce", str)`` or ``("clientCredentials", ClientCredentials)``."""
        creds = _obj(creds, where)
        if "nonce" in creds:
            _only(creds, {"nonce"}, where + ".")
            return "nonce", _str(creds, "nonce", where + ".")
        if "clientCredentials" in creds:
            _only(creds, {"clientCredentials"}, where + ".")
            cc = _obj(creds["clientCredentials"], where + ".clientCredentials")
            w = where + ".clientCredentials."
            _only(cc, {"tokenUrl", "clientId", "clientSecret", "scopes", "audience"}, w)
            return "clientCredentials", ClientCredentials(
                _str(cc, "tokenUrl", w), _str(cc, "clientId", w), _str(cc, "clientSecret", w),
                _scopes(cc.get("scopes"), w + "scopes"),
                _str(cc, "audience", w, required=False) or None)
        raise _invalid(f"Field required: {where}.nonce (or {where}.clientCredentials)")

    async def _obtain(self, kind: str, value: Any, project: str, bearer: str | None,
                      require_inspect: bool = False) -> tuple[Any, int | None,
                                                              Capabilities | None, Any]:
        """Verify credentials with CDF: (credentials to seal, session id, caps, seed)."""
        if kind == "nonce":
            answer, caps = await self._bind(value, project, bearer)
            assert answer.session_key is not None
            return (SessionCredentials(answer.session_id, answer.session_key),
                    answer.session_id, caps, answer)
        caps, provider = await self._verify_client_credentials(value, project, require_inspect)
        return value, None, caps, provider

    def _new_user(self, project: str, creds: Any, session_id: int | None,
                  caps: Capabilities | None, seed: Any) -> tuple[User, str]:
        password = secrets.token_urlsafe(24)
        scram = make_verifier(password).to_string()
        box = self.gw.secret_box()
        for _ in range(10):
            username = USERNAME_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(12))
            try:
                user = self.gw.users.add(username, scram=scram, kind="cdf", project=project,
                                         identity=seal_credentials(box, username, creds))
            except ValueError:
                continue
            self.gw.identities.record_created(username, session_id, caps, seed)
            log.info("created gateway user {user} in CDF project {project} ({how})",
                     user=username, project=project,
                     how="session" if session_id else "client credentials")
            return user, password
        raise ApiError(500, "could not generate a unique user name")

    # -- v1 ------------------------------------------------------------------------------

    async def v1_create(self, request: server.Request, body: Any) -> dict[str, Any]:
        body = _obj(body, "body")
        auth = body.get("auth", body)
        auth = _obj(auth, "auth")
        if "auth" in body:
            _only(body, {"auth", "project"})
            _only(auth, {"token_url", "client_id", "client_secret", "scope", "audience"},
                  "auth.")
        else:
            _only(body, {"token_url", "client_id", "client_secret", "scope", "audience",
                         "project"})
        project = _str(body, "project")
        w = "auth." if "auth" in body else ""
        creds = ClientCredentials(_str(auth, "token_url", w), _str(auth, "client_id", w),
                                  _str(auth, "client_secret", w),
                                  _scopes(auth.get("scope"), w + "scope"),
                                  _str(auth, "audience", w, required=False) or None)
        host = _peer(request)
        if self.throttle.refused(host):
            raise ApiError(429, "Too many failed attempts from your address; try again later")
        delay = self.throttle.delay(host, creds.client_id)
        if delay:
            await deferLater(self.gw.reactor, delay, lambda: None)
        try:
            caps, provider = await self._verify_client_credentials(creds, project, True)
        except ApiError as e:
            if e.code in (400, 401, 403):
                self.throttle.failed(host, creds.client_id)
            raise
        self.throttle.succeeded(host, creds.client_id)
        user, password = self._new_user(project, creds, None, caps, provider)
        return {"username": user.username, "password": password}

    # -- 2.0 users -----------------------------------------------------------------------------

    async def create_users(self, request: server.Request, project: str,
                           body: Any) -> dict[str, Any]:
        caps = await self._inspect_caller(request, project)
        if self._require(caps, "WRITE", project) is not None:
            raise ApiError(403, f"Creating users needs {ACL}:WRITE for all users in "
                                f"project {project}")
        (item,) = _items(body, 1, 1)
        item = _obj(item, "items[0]")
        _only(item, {"credentials"}, "items[0].")
        kind, value = self._parse_credentials(item.get("credentials"), "items[0].credentials")
        creds, session_id, user_caps, seed = await self._obtain(
            kind, value, project, getattr(request, "pggw_bearer", None))
        user, password = self._new_user(project, creds, session_id, user_caps, seed)
        out = {"host": self.gw.public_host(), "username": user.username, "password": password,
               **user_json(user, session_id)}
        return {"items": [out]}

    def _page(self, project: str, allowed: set[str] | None, limit: int,
              cursor: str | None) -> dict[str, Any]:
        after = _decode_cursor(cursor)
        out: list[dict[str, Any]] = []
        more = False
        while True:
            users = self.gw.users.list_cdf(project, after, limit + 1)
            for user in users:
                after = user.username
                if allowed is not None and user.username not in allowed:
                    continue
                if len(out) == limit:
                    more = True
                    break
                out.append(user_json(user, self._session_id(user.username)))
            if more or len(users) <= limit:
                break
        body: dict[str, Any] = {"items": out}
        if more:
            body["nextCursor"] = _encode_cursor(out[-1]["username"])
        return body

    async def list_users(self, request: server.Request, project: str) -> dict[str, Any]:
        caps = await self._inspect_caller(request, project)
        allowed = self._require(caps, "READ", project)
        limit = _limit(_arg(request, "limit"), 100, 100)
        return self._page(project, allowed, limit, _arg(request, "cursor"))

    async def filter_users(self, request: server.Request, project: str,
                           body: Any) -> dict[str, Any]:
        caps = await self._inspect_caller(request, project)
        allowed = self._require(caps, "READ", project)
        body = _obj(body if body is not None else {}, "body")
        _only(body, {"limit", "cursor"})
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise _invalid("Input should be a valid string: cursor")
        return self._page(project, allowed, _limit(body.get("limit"), 10, 100), cursor)

    def _usernames(self, body: Any, hi: int) -> tuple[list[str], bool]:
        items = _items(body, 1, hi, frozenset({"items", "ignoreUnknownIds"}))
        names = []
        for i, item in enumerate(items):
            item = _obj(item, f"items[{i}]")
            _only(item, {"username"}, f"items[{i}].")
            names.append(_str(item, "username", f"items[{i}]."))
        return names, _bool(body, "ignoreUnknownIds")

    async def byids_users(self, request: server.Request, project: str,
                          body: Any) -> dict[str, Any]:
        caps = await self._inspect_caller(request, project)
        allowed = self._require(caps, "READ", project)
        names, ignore = self._usernames(body, 10)
        found, missing = [], []
        for name in dict.fromkeys(names):
            user = self._user(project, name, allowed)
            if user is None:
                missing.append({"username": name})
            else:
                found.append(user_json(user, self._session_id(name)))
        if missing and not ignore:
            raise ApiError(400, "Users not found", missing=missing)
        return {"items": found}

    async def update_users(self, request: server.Request, project: str,
                           body: Any) -> dict[str, Any]:
        caps = await self._inspect_caller(request, project)
        (item,) = _items(body, 1, 1)
        item = _obj(item, "items[0]")
        _only(item, {"username", "update"}, "items[0].")
        username = _str(item, "username", "items[0].")
        allowed = self._require(caps, "WRITE", project, username)
        update = _obj(item.get("update"), "items[0].update")
        _only(update, {"credentials"}, "items[0].update.")
        user = self._user(project, username, allowed)
        if user is None:
            raise ApiError(400, "Users not found", missing=[{"username": username}])
        if "credentials" in update:
            patch = _obj(update["credentials"], "items[0].update.credentials")
            _only(patch, {"set"}, "items[0].update.credentials.")
            kind, value = self._parse_credentials(patch.get("set"),
                                                  "items[0].update.credentials.set")
            old_session = self._session_id(username)
            creds, session_id, user_caps, seed = await self._obtain(
                kind, value, project, getattr(request, "pggw_bearer", None))
            sealed = seal_credentials(self.gw.secret_box(), username, creds)
            user = self.gw.users.update(username, identity=sealed)
            self.gw.identities.record_created(username, session_id, user_caps, seed)
            log.info("replaced the CDF credentials of gateway user {user}", user=username)
            if old_session and old_session != session_id:
                await self._revoke_session(request, project, old_session)
        assert user is not None
        return {"items": [user_json(user, self._session_id(username))]}

    async def _revoke_session(self, request: server.Request, project: str,
                              session_id: int) -> None:
        """Best effort: revoke a session pggw no longer uses, with the caller's token."""
        bearer = getattr(request, "pggw_bearer", None)
        if not bearer:
            return
        url = f"{self.base_url()}/api/v1/projects/{project}/sessions/revoke"
        try:
            response = await self.treq.post(
                url, data=json.dumps({"items": [{"id": session_id}]}).encode(),
                headers={"Authorization": [f"Bearer {bearer}"],
                         "Content-Type": ["application/json"]}, timeout=10)
            await response.content()
            if response.code != 200:
                log.info("could not revoke session {sid} (CDF answered {code})",
                         sid=session_id, code=response.code)
        except Exception as e:  # noqa: BLE001 - best effort
            log.info("could not revoke session {sid}: {e}", sid=session_id,
                     e=type(e).__name__)

    async def delete_users(self, request: server.Request, project: str,
                           body: Any) -> dict[str, Any]:
        caps = await self._inspect_caller(request, project)
        names, ignore = self._usernames(body, 1)
        (username,) = names
        allowed = self._require(caps, "WRITE", project, username)
        user = self._user(project, username, allowed)
        if user is None:
            if ignore:
                return {}
            raise ApiError(400, "Users not found", missing=[{"username": username}])
        session_id = self._session_id(username)
        self.gw.users.delete(username)
        self.gw.identities.forget(username)
        self.gw.custom_tables_changed(username)
        log.info("deleted gateway user {user}", user=username)
        if session_id:
            await self._revoke_session(request, project, session_id)
        return {}

    # -- custom tables ---------------------------------------------------------------------

    async def _table_owner(self, request: server.Request, project: str, username: str,
                           action: str) -> User:
        caps = await self._inspect_caller(request, project)
        allowed = self._require(caps, action, project, username)
        user = self._user(project, username, allowed)
        if user is None:
            raise ApiError(400, f"User {username} not found", missing=[{"username": username}])
        return user

    async def create_tables(self, request: server.Request, project: str, username: str,
                            body: Any) -> dict[str, Any]:
        await self._table_owner(request, project, username, "WRITE")
        items = _items(body, 1, 10)
        builtin = set(self.gw.registry)
        now = self._now_ms()
        rows: list[StoredTable] = []
        seen: set[str] = set()
        dup_in_request = []
        for item in items:
            try:
                stored, options = parse_create(item, builtin, now)
            except TableError as e:
                raise ApiError(e.status, str(e)) from None
            if stored.tablename in seen:
                dup_in_request.append({"tablename": stored.tablename})
            seen.add(stored.tablename)
            if stored.type == "view":
                stored = StoredTable(stored.username, stored.tablename, stored.type,
                                     stored.options, await self._view_columns(username, options),
                                     stored.created_ms)
            rows.append(StoredTable(username, stored.tablename, stored.type, stored.options,
                                    stored.columns, stored.created_ms))
        if dup_in_request:
            raise ApiError(422, "Duplicate table names in the request",
                           duplicated=dup_in_request)
        existing = {t.tablename for t in self.gw.users.tables(username)}
        dup = [{"tablename": r.tablename} for r in rows if r.tablename in existing]
        if dup:
            raise ApiError(409, "Tables already exist", duplicated=dup)
        try:
            self.gw.users.add_tables(username, rows)
        except ValueError:
            raise ApiError(409, "Tables already exist",
                           duplicated=[{"tablename": r.tablename} for r in rows]) from None
        self.gw.custom_tables_changed(username)
        log.info("user {user}: created tables {names}", user=username,
                 names=[r.tablename for r in rows])
        return {"items": [stored_api(r, created=True) for r in rows]}

    async def _view_columns(self, username: str, options: dict[str, Any]) -> str:
        client = self.gw.identities.client_for(username)
        if client is None:
            raise _unavailable("the user's CDF identity is not available")
        ref: dict[str, Any] = {k: options[k] for k in ("space", "externalId", "version")
                               if k in options}
        try:
            answer = await client.post("/models/views/byids", {"items": [ref]})
        except CdfError as e:
            if e.transient:
                raise _unavailable(f"CDF answered {e.status}") from None
            raise ApiError(400, f"CDF refused to look up the view: {e.message}") from None
        except (CdfConnectionError, TokenError):
            raise _unavailable("CDF is unreachable") from None
        views = answer.items
        if not views:
            raise ApiError(400, "View not found", missing=[ref])
        try:
            return view_columns(views[0])
        except TableError as e:
            raise ApiError(e.status, str(e)) from None

    async def list_tables(self, request: server.Request, project: str,
                          username: str) -> dict[str, Any]:
        await self._table_owner(request, project, username, "READ")
        limit = _limit(_arg(request, "limit"), 100, 100)
        after = _decode_cursor(_arg(request, "cursor"))
        builtins = (_arg(request, "includeBuiltIns") or "").lower() in ("true", "yes", "1")
        everything: list[dict[str, Any]] = []
        if builtins:
            everything += [builtin_api(t) for t in self.gw.registry.values()]
        everything += [stored_api(t) for t in self.gw.users.tables(username)]
        everything.sort(key=lambda t: str(t["tablename"]))
        page = [t for t in everything if str(t["tablename"]) > after]
        body: dict[str, Any] = {"items": page[:limit]}
        if len(page) > limit:
            body["nextCursor"] = _encode_cursor(str(page[limit - 1]["tablename"]))
        return body

    def _tablenames(self, body: Any) -> tuple[list[str], bool]:
        items = _items(body, 1, 10, frozenset({"items", "ignoreUnknownIds"}))
        names = []
        for i, item in enumerate(items):
            item = _obj(item, f"items[{i}]")
            _only(item, {"tablename"}, f"items[{i}].")
            names.append(_str(item, "tablename", f"items[{i}]."))
        return names, _bool(body, "ignoreUnknownIds")

    async def byids_tables(self, request: server.Request, project: str, username: str,
                           body: Any) -> dict[str, Any]:
        await self._table_owner(request, project, username, "READ")
        names, ignore = self._tablenames(body)
        tables = {t.tablename: t for t in self.gw.users.tables(username)}
        missing = [{"tablename": n} for n in names if n not in tables]
        if missing and not ignore:
            raise ApiError(400, "Tables not found", missing=missing)
        return {"items": [stored_api(tables[n]) for n in dict.fromkeys(names) if n in tables]}

    async def delete_tables(self, request: server.Request, project: str, username: str,
                            body: Any) -> dict[str, Any]:
        await self._table_owner(request, project, username, "WRITE")
        names, ignore = self._tablenames(body)
        existing = {t.tablename for t in self.gw.users.tables(username)}
        missing = [{"tablename": n} for n in names if n not in existing]
        if missing and not ignore:
            raise ApiError(400, "Tables not found", missing=missing)
        self.gw.users.delete_tables(username, [n for n in names if n in existing])
        self.gw.custom_tables_changed(username)
        log.info("user {user}: deleted tables {names}", user=username, names=names)
        return {}

    # -- routing ---------------------------------------------------------------------------

    def route(self, method: str, segments: list[str]) -> tuple[Callable[..., Awaitable[Any]],
                                                               tuple[Any, ...], bool]:
        """(handler, path arguments, takes a body) for ``/api/v1/projects/...`` segments."""
        if len(segments) < 4 or segments[:2] != ["v1", "projects"] or \
                segments[3] != "postgresgateway" or not segments[2]:
            raise ApiError(404, "Not found")
        project, rest = segments[2], [s for s in segments[4:]]
        if rest and rest[-1] == "":
            rest = rest[:-1]
        table: dict[tuple[str, ...], dict[str, tuple[Callable[..., Awaitable[Any]], bool]]] = {
            (): {"POST": (self.create_users, True), "GET": (self.list_users, False)},
            ("list",): {"POST": (self.filter_users, True)},
            ("byids",): {"POST": (self.byids_users, True)},
            ("update",): {"POST": (self.update_users, True)},
            ("delete",): {"POST": (self.delete_users, True)},
        }
        args: tuple[Any, ...] = (project,)
        if len(rest) >= 2 and rest[0] == "tables" and rest[1]:
            args = (project, rest[1])
            key = tuple(rest[2:])
            table = {
                (): {"POST": (self.create_tables, True), "GET": (self.list_tables, False)},
                ("byids",): {"POST": (self.byids_tables, True)},
                ("delete",): {"POST": (self.delete_tables, True)},
            }
        else:
            key = tuple(rest)
        methods = table.get(key)
        if methods is None:
            raise ApiError(404, "Not found")
        if method not in methods:
            raise ApiError(405, f"Method {method} not allowed")
        handler, with_body = methods[method]
        return handler, args, with_body


def _arg(request: server.Request, name: str) -> str | None:
    values = (request.args or {}).get(name.encode())
    return values[-1].decode("utf-8", "replace") if values else None


def _peer(request: server.Request) -> str:
    addr = request.getClientAddress()  # type: ignore[no-untyped-call]
    return str(getattr(addr, "host", addr))


def _read_body(request: server.Request) -> Any:
    content = request.content
    raw = content.read(MAX_BODY + 1) if content is not None else b""
    if len(raw) > MAX_BODY:
        raise ApiError(413, "Request body too large")
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Request body is not valid JSON") from None


class _Endpoint(resource.Resource):
    """Runs an async handler per request and writes its JSON answer (or CDF's error body)."""

    isLeaf = True

    def __init__(self, api: CredentialsApi, v1: bool) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.api = api
        self.v1 = v1

    def render(self, request: server.Request) -> Any:
        method = (request.method or b"GET").decode("ascii", "replace")
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))

        async def handle() -> tuple[int, Any]:
            try:
                if self.v1:
                    if request.postpath not in ([], [b""]):
                        raise ApiError(404, "Not found")
                    if method != "POST":
                        raise ApiError(405, f"Method {method} not allowed")
                    return 200, await self.api.v1_create(request, _read_body(request))
                segments = [s.decode("utf-8", "replace") for s in (request.postpath or [])]
                handler, args, with_body = self.api.route(method, segments)
                if with_body:
                    return 200, await handler(request, *args, _read_body(request))
                return 200, await handler(request, *args)
            except ApiError as e:
                return e.code, e.body()

        def write(result: tuple[int, Any]) -> None:
            status, body = result
            path = request.path.decode("utf-8", "replace")
            if status >= 500:
                log.warn("{method} {path}: {status}", method=method, path=path, status=status)
            else:
                log.info("{method} {path}: {status}", method=method, path=path, status=status)
            if gone:
                return
            data = json.dumps(body).encode()
            request.setResponseCode(status)
            request.setHeader(b"content-type", b"application/json")  # type: ignore[no-untyped-call]
            request.setHeader(b"cache-control", b"no-store")  # type: ignore[no-untyped-call]
            request.setHeader(b"content-length", str(len(data)).encode())  # type: ignore[no-untyped-call]
            request.write(data)  # type: ignore[no-untyped-call]
            request.finish()  # type: ignore[no-untyped-call]

        def crashed(failure: Any) -> tuple[int, Any]:
            log.failure("credentials API {method} failed", failure, method=method)
            return 500, ApiError(500, "Internal error").body()

        d: Deferred[tuple[int, Any]] = Deferred.fromCoroutine(handle())
        d.addErrback(crashed).addCallback(write)
        return server.NOT_DONE_YET


def mount(root: resource.Resource, gateway: Any) -> CredentialsApi:
    """Serve the credentials API on ``root`` (``/create`` and ``/api/...``)."""
    api = CredentialsApi(gateway)
    root.putChild(b"create", _Endpoint(api, v1=True))
    root.putChild(b"api", _Endpoint(api, v1=False))
    return api
