"""The token endpoint, token inspection, the emulator's own ``/_emulator`` API, and the route
table of everything else."""

from __future__ import annotations

import base64
import binascii
import hmac
import zlib
from typing import Any
from urllib.parse import parse_qs, unquote

from pggw.emulator import auth, datapoints, kinds, models, raw, seqdata, sessions
from pggw.emulator.http import Ctx, Reply, Route


def _oauth_error(status: int, error: str, description: str) -> Reply:
    headers = {"WWW-Authenticate": 'Basic realm="pggw-emulator"'} if status == 401 else {}
    return Reply(status, {"error": error, "error_description": description}, headers=headers)


def token_endpoint(ctx: Ctx) -> Reply:
    """OAuth 2.0 client-credentials grant (RFC 6749 §4.4); secret in the body or a Basic header."""
    form = {k: v[-1] for k, v in parse_qs(ctx.raw_body.decode("utf-8", "replace")).items()}
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    header = ctx.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return _oauth_error(401, "invalid_client", "Malformed Basic authorization header")
        user, _, password = decoded.partition(":")
        client_id, client_secret = unquote(user), unquote(password)
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported")
    client = ctx.app.clients.get(client_id or "")
    if client is None or not hmac.compare_digest(client.client_secret, client_secret or ""):
        return _oauth_error(401, "invalid_client", "Unknown client or wrong secret")
    token = ctx.app.issuer.issue(client.client_id, client.project, client.capabilities)
    return Reply(
        200,
        {"access_token": token, "token_type": "Bearer", "expires_in": auth.TOKEN_LIFETIME},
        headers={"Cache-Control": "no-store"},
    )


def _group_id(subject: str) -> int:
    return zlib.crc32(subject.encode()) or 1


def token_inspect(ctx: Ctx) -> Reply:
    who = ctx.who
    who.require(("projectsAcl", "LIST"), ("groupsAcl", "LIST"))
    scope = {"projects": [who.project]}
    capabilities = []
    for capability in who.capabilities:
        entry = {k: v for k, v in capability.items() if k != "projectScope"}
        entry["projectScope"] = capability.get("projectScope", scope)
        capabilities.append(entry)
    return Reply(
        200,
        {
            "subject": who.subject,
            "projects": [{"projectUrlName": who.project, "groups": [_group_id(who.subject)]}],
            "capabilities": capabilities,
        },
    )


# -- /_emulator: faults and stats (no auth; these paths exist only in the emulator) ------------


def set_faults(ctx: Ctx) -> Reply:
    rules = ctx.app.faults.set(ctx.json(), replace=ctx.bool_arg("replace"))
    return Reply(200, {"items": [r.dump() for r in rules]})


def get_faults(ctx: Ctx) -> Reply:
    return Reply(200, {"items": [r.dump() for r in ctx.app.faults.rules]})


def clear_faults(ctx: Ctx) -> Reply:
    ctx.app.faults.clear()
    return Reply(200, {})


def get_stats(ctx: Ctx) -> Reply:
    return Reply(200, ctx.app.stats.dump(sum(ctx.app.in_flight.values())))


def reset_stats(ctx: Ctx) -> Reply:
    ctx.app.stats.reset()
    return Reply(200, {})


def health(ctx: Ctx) -> Reply:
    return Reply(200, {"status": "ok", "project": ctx.app.project})


def info(ctx: Ctx) -> Reply:
    body: dict[str, Any] = {
        "project": ctx.app.project,
        "baseUrl": ctx.base_url,
        "tokenUrl": f"{ctx.base_url}/oauth2/token",
        "clients": [
            {"clientId": c.client_id, "project": c.project} for c in ctx.app.clients.values()
        ],
        "maxConcurrent": ctx.app.max_concurrent,
    }
    return Reply(200, body)


def all_routes() -> list[Route]:
    out = [
        Route("POST", "/oauth2/token", token_endpoint, scope="public"),
        Route("GET", "/api/v1/token/inspect", token_inspect, scope="token"),
        Route("POST", "/_emulator/faults", set_faults, scope="public"),
        Route("GET", "/_emulator/faults", get_faults, scope="public"),
        Route("DELETE", "/_emulator/faults", clear_faults, scope="public"),
        Route("GET", "/_emulator/stats", get_stats, scope="public"),
        Route("DELETE", "/_emulator/stats", reset_stats, scope="public"),
        Route("GET", "/_emulator/health", health, scope="public"),
        Route("GET", "/_emulator/info", info, scope="public"),
    ]
    out += sessions.routes()
    out += datapoints.routes()
    out += seqdata.routes()
    out += raw.routes()
    out += kinds.routes()
    out += models.routes()
    return out
