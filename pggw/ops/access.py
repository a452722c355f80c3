"""Who may read the per-user detail of ``GET /status``.

``/status`` answers everyone (load balancers and probes send no token): without an
``Authorization`` header it shows totals only. With ``Authorization: Bearer <token>``:

* the gateway's **admin token** shows every user. It is ``PGGW_ADMIN_TOKEN`` when the
  daemon's environment sets it, else a random token the gateway writes to
  ``<data-dir>/admin.token`` (mode 0600) on its first start, which ``pggw-admin status``
  on the gateway's host reads by itself;
* a **CDF access token** is checked with CDF's ``/token/inspect`` (the credentials API's
  :class:`~pggw.credentials.api.TokenInspector`, answers cached for
  :data:`TOKEN_CACHE_SECONDS`) and shows the gateway users of CDF identities it may see:
  in each project the token is valid for, the users its ``postgresGatewayAcl:READ`` covers
  (all, or its ``usersScope``), and the users bound to the token's own identity (same
  subject). Local users (``pggw-admin adduser``) share the daemon's identity: only the
  admin token shows them. A token that sees no user here (another project, say) gets
  totals only;
* a token CDF refuses (expired, wrong) gets **401** with CDF's error body shape and
  ``WWW-Authenticate: Bearer error="invalid_token"``, rather than totals that would look
  like an empty gateway: the caller asked for detail and should learn why it got none.
  So does a malformed ``Authorization`` header, and a token that looks like an admin token
  (``pggw-admin-…``) but is not this gateway's (it is never sent to CDF);
* when CDF cannot be asked (unreachable, or it will not inspect the token) the answer is
  totals with a note in ``access.note``: ``/status`` keeps working while CDF is down, and
  the admin token needs no CDF at all.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twisted.logger import Logger

from pggw.credentials.api import ApiError, TokenInspector, bearer_token
from pggw.credentials.identities import Capabilities
from pggw.ops.cli import ADMIN_TOKEN_ENV, ADMIN_TOKEN_FILE, read_admin_token

__all__ = ["ADMIN_TOKEN_ENV", "ADMIN_TOKEN_FILE", "ADMIN_TOKEN_PREFIX", "Access",
           "StatusAuthorizer", "TOKEN_CACHE_SECONDS", "load_admin_token", "read_admin_token"]

log = Logger(namespace="pggw.ops")

ADMIN_TOKEN_PREFIX = "pggw-admin-"
#: how long a CDF token's /token/inspect answer (or refusal) is reused for /status
TOKEN_CACHE_SECONDS = 30.0


def load_admin_token(data_dir: Path, env: dict[str, str] | None = None) -> str:
    """``PGGW_ADMIN_TOKEN``, else ``<data_dir>/admin.token``, created (0600) with a random
    token when missing."""
    environ = os.environ if env is None else env
    token = (environ.get(ADMIN_TOKEN_ENV) or "").strip()
    if token:
        if len(token) < 16:
            log.warn("{env} is shorter than 16 characters: easy to guess", env=ADMIN_TOKEN_ENV)
        return token
    existing = read_admin_token(data_dir)
    if existing:
        return existing
    token = ADMIN_TOKEN_PREFIX + secrets.token_urlsafe(32)
    path = data_dir / ADMIN_TOKEN_FILE
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.replace(tmp, path)
    return token


@dataclass(frozen=True)
class Access:
    """What one ``/status`` caller may see."""

    viewer: str  # "anonymous", "admin" or "cdf"
    #: whose per-user detail: None for everyone's, an empty set for nobody's (totals only)
    users: frozenset[str] | None = frozenset()
    subject: str | None = None
    projects: tuple[str, ...] = ()
    note: str | None = None
    #: (HTTP status, message) to answer instead of the status
    refused: tuple[int, str] | None = None

    @property
    def detail(self) -> bool:
        return self.users is None or bool(self.users)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"viewer": self.viewer}
        if self.viewer == "cdf":
            out["subject"] = self.subject
            out["projects"] = list(self.projects)
        if self.note:
            out["note"] = self.note
        return out


ANONYMOUS = Access("anonymous")


class StatusAuthorizer:
    """``ops.authorize_status``: ``await authorizer(request)`` gives the caller's
    :class:`Access` (see the module docstring)."""

    def __init__(self, gateway: Any, admin_token: Callable[[], str | None],
                 inspector: Any = None) -> None:
        self.gw = gateway
        self.admin_token = admin_token
        self.inspector = inspector or TokenInspector(gateway, ttl=TOKEN_CACHE_SECONDS)

    async def __call__(self, request: Any) -> Access:
        if not request.getHeader(b"authorization"):
            return ANONYMOUS
        token = bearer_token(request)
        if token is None:
            return Access("anonymous", refused=(
                401, "Unauthorized: send Authorization: Bearer <token>"))
        admin = self.admin_token()
        if admin and hmac.compare_digest(token.encode(), admin.encode()):
            return Access("admin", users=None)
        if token.startswith(ADMIN_TOKEN_PREFIX):
            return Access("anonymous", refused=(
                401, "Unauthorized: not this gateway's admin token"))
        try:
            caps = await self.inspector.inspect(token)
        except ApiError as e:
            if e.code == 401:
                return Access("anonymous", refused=(401, e.message))
            why = (f"could not check the token: {e.message}" if e.code != 403 else
                   "CDF will not inspect the token (its identity needs projectsAcl:LIST and "
                   "groupsAcl:LIST)")
            return Access("anonymous", note=f"totals only: {why}")
        return self.for_caps(caps)

    def for_caps(self, caps: Capabilities) -> Access:
        """The users a token with these capabilities may see (module docstring)."""
        visible: set[str] = set()
        for project in dict.fromkeys(caps.projects):
            allowed = caps.users_allowed("READ", project)
            after = ""
            while batch := self.gw.users.list_cdf(project, after, 1000):
                after = batch[-1].username
                visible.update(u.username for u in batch
                               if allowed is None or u.username in allowed
                               or self._same_identity(u.username, caps))
        projects = tuple(caps.projects)
        note = None
        if not visible:
            note = ("totals only: no gateway user here belongs to the token's identity or "
                    f"is readable with its postgresGatewayAcl (projects: "
                    f"{', '.join(projects) or 'none'})")
        return Access("cdf", users=frozenset(visible), subject=caps.subject or None,
                      projects=projects, note=note)

    def _same_identity(self, username: str, caps: Capabilities) -> bool:
        if not caps.subject:
            return False
        identities = getattr(self.gw, "identities", None)
        mine: Capabilities | None
        if identities is not None:
            mine = identities.capabilities(username)
        else:
            state = self.gw.users.get_state(username)
            mine = Capabilities.from_json(state.capabilities if state else None)
        return mine is not None and hmac.compare_digest(mine.subject.encode(),
                                                        caps.subject.encode())
