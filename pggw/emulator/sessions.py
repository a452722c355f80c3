"""Sessions: create (nonce), bind/refresh (``/sessions/token``), list, byids, revoke.

``POST /sessions/token`` is Cognite-internal in real CDF (see research/cdf.md §4.2); the emulator
serves it without a bearer token, so that pggw can exercise the nonce flow end to end.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from pggw.emulator.errors import ApiError, bad_request, missing
from pggw.emulator.http import Ctx, Reply, Route, decode_cursor, encode_cursor, items_of, limit_of
from pggw.emulator.store import now_ms

if TYPE_CHECKING:
    from pggw.emulator.app import Emulator

KIND = "sessions"
ACL = "sessionsAcl"
NONCE_LIFETIME_MS = 60_000
SESSION_LIFETIME_MS = 7 * 24 * 3600 * 1000
ACCESS_TOKEN_LIFETIME = 3600
PUBLIC_FIELDS = ("id", "type", "status", "creationTime", "expirationTime", "clientId")


def session_is_active(app: Emulator, project: str, session_id: int) -> bool:
    session = app.store.get_by_id(project, KIND, session_id)
    return session is not None and _status(session) == "ACTIVE"


def _status(session: dict[str, Any]) -> str:
    status = str(session["status"])
    if status in ("READY", "ACTIVE") and session["expirationTime"] < now_ms():
        return "EXPIRED"
    return status


def _public(session: dict[str, Any]) -> dict[str, Any]:
    out = {k: session[k] for k in PUBLIC_FIELDS if k in session}
    out["status"] = _status(session)
    return out


def create(ctx: Ctx) -> Reply:
    items = items_of(ctx.body(), 1)
    item = items[0]
    now = now_ms()
    session: dict[str, Any] = {
        "status": "READY",
        "creationTime": now,
        "expirationTime": now + SESSION_LIFETIME_MS,
        "_nonce": secrets.token_urlsafe(32),
        "_nonceExpires": now + NONCE_LIFETIME_MS,
    }
    if "clientId" in item or "clientSecret" in item:
        client = ctx.app.clients.get(str(item.get("clientId")))
        if client is None or client.client_secret != item.get("clientSecret"):
            raise ApiError(400, "Invalid client credentials")
        if client.project != ctx.project:
            raise ApiError(400, f"Client {client.client_id} has no access to project {ctx.project}")
        session.update(type="CLIENT_CREDENTIALS", clientId=client.client_id)
        session["_subject"] = client.client_id
        session["_capabilities"] = client.capabilities
    elif item.get("tokenExchange") is True or item.get("oneshotTokenExchange") is True:
        if ctx.who.session_id is not None:
            raise bad_request("Sessions can only be created from a root session")
        oneshot = item.get("oneshotTokenExchange") is True
        session["type"] = "ONESHOT_TOKEN_EXCHANGE" if oneshot else "TOKEN_EXCHANGE"
        session["_subject"] = ctx.who.subject
        session["_capabilities"] = ctx.who.capabilities
    else:
        raise bad_request("Session item needs clientId and clientSecret, or tokenExchange")
    store = ctx.app.store
    with store.transaction():
        session["id"] = store.insert_item(ctx.project, KIND, None, session)
    return Reply(
        200,
        {
            "items": [
                {
                    **{k: session[k] for k in ("id", "type", "status", "clientId") if k in session},
                    "nonce": session["_nonce"],
                }
            ]
        },
    )


def _find_by_nonce(ctx: Ctx, nonce: str) -> dict[str, Any] | None:
    for session in ctx.app.store.scan(ctx.project, KIND):
        if session.get("_nonce") == nonce:
            return session
    return None


def token(ctx: Ctx) -> Reply:
    """Bind a nonce (``{"nonce"}``) or refresh (``{"sessionId", "sessionKey"}``)."""
    body = ctx.body()
    store = ctx.app.store
    now = now_ms()
    if "nonce" in body:
        session = _find_by_nonce(ctx, str(body["nonce"]))
        if session is None or session.get("_nonceUsed"):
            raise ApiError(400, "Invalid or already used nonce")
        if session["_nonceExpires"] < now:
            raise ApiError(400, "The nonce has expired")
        if _status(session) != "READY":
            raise ApiError(400, f"Session is {_status(session)}")
        session["_nonceUsed"] = True
        session["status"] = "ACTIVE"
        session["_sessionKey"] = secrets.token_urlsafe(32)
        if session["type"] == "ONESHOT_TOKEN_EXCHANGE":
            session["expirationTime"] = now + ACCESS_TOKEN_LIFETIME * 1000
    elif "sessionId" in body:
        session = (
            store.get_by_id(ctx.project, KIND, body["sessionId"])
            if isinstance(body["sessionId"], int)
            else None
        )
        if session is None or session.get("_sessionKey") != body.get("sessionKey"):
            raise ApiError(401, "Unknown session or wrong session key")
        if _status(session) != "ACTIVE":
            raise ApiError(401, f"Session is {_status(session)}")
        if session["type"] == "ONESHOT_TOKEN_EXCHANGE":
            raise ApiError(400, "One-shot sessions cannot be refreshed")
    else:
        raise bad_request("Expected nonce, or sessionId and sessionKey")
    with store.transaction():
        store.replace_item(session["id"], None, {k: v for k, v in session.items() if k != "id"})
    lifetime = ACCESS_TOKEN_LIFETIME
    access_token = ctx.app.issuer.issue(
        session["_subject"],
        ctx.project,
        session["_capabilities"],
        lifetime,
        session_id=session["id"],
    )
    return Reply(
        200,
        {
            "id": session["id"],
            "accessToken": access_token,
            "expiresIn": lifetime,
            "mustRefreshIn": lifetime - 30,
            "sessionKey": session["_sessionKey"],
        },
    )


def list_sessions(ctx: Ctx) -> Reply:
    limit = limit_of(ctx.int_arg("limit"), 25, 1000)
    wanted = (ctx.arg("status") or "").upper() or None
    after = decode_cursor(ctx.arg("cursor")) or 0
    out: list[dict[str, Any]] = []
    next_cursor = None
    for session in ctx.app.store.scan(ctx.project, KIND, after):
        if wanted is not None and _status(session) != wanted:
            continue
        if len(out) == limit:
            next_cursor = encode_cursor(out[-1]["id"])
            break
        out.append(_public(session))
    body: dict[str, Any] = {"items": out}
    if next_cursor is not None:
        body["nextCursor"] = next_cursor
    return Reply(200, body)


def _by_ids(ctx: Ctx, ignore_unknown: bool = False) -> list[dict[str, Any]]:
    items = items_of(ctx.body(), 1000)
    found, lost = [], []
    for item in items:
        session_id = item.get("id")
        session = (
            ctx.app.store.get_by_id(ctx.project, KIND, session_id)
            if isinstance(session_id, int)
            else None
        )
        if session is None:
            lost.append({"id": session_id})
        else:
            found.append(session)
    if lost and not ignore_unknown:
        raise missing(lost, "Sessions not found.")
    return found


def byids(ctx: Ctx) -> Reply:
    return Reply(200, {"items": [_public(s) for s in _by_ids(ctx)]})


def revoke(ctx: Ctx) -> Reply:
    sessions = _by_ids(ctx, ignore_unknown=True)
    store = ctx.app.store
    with store.transaction():
        for session in sessions:
            session["status"] = "REVOKED"
            store.replace_item(session["id"], None, {k: v for k, v in session.items() if k != "id"})
    if ctx.who.allows(ACL, "LIST"):
        return Reply(200, {"items": [_public(s) for s in sessions]})
    return Reply(200, {"items": [{"id": s["id"]} for s in sessions]})


def routes() -> list[Route]:
    return [
        Route("POST", "/sessions", create, ((ACL, "CREATE"),)),
        Route("GET", "/sessions", list_sessions, ((ACL, "LIST"),)),
        Route("POST", "/sessions/byids", byids, ((ACL, "LIST"),)),
        Route("POST", "/sessions/revoke", revoke, ((ACL, "DELETE"),)),
        Route("POST", "/sessions/token", token, scope="project-public"),
    ]
