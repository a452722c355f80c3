"""Identities: OIDC clients, signed access tokens, and CDF capability checks."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from pggw.emulator.errors import forbidden, unauthorized

ISSUER = "pggw-emulator"
TOKEN_LIFETIME = 3600
ALGORITHM = "HS256"

# Every capability CDF knows that the emulator serves, with all of its actions.
ALL_ACTIONS: dict[str, list[str]] = {
    "assetsAcl": ["READ", "WRITE"],
    "eventsAcl": ["READ", "WRITE"],
    "filesAcl": ["READ", "WRITE"],
    "timeSeriesAcl": ["READ", "WRITE"],
    "rawAcl": ["READ", "WRITE", "LIST"],
    "sequencesAcl": ["READ", "WRITE"],
    "labelsAcl": ["READ", "WRITE"],
    "relationshipsAcl": ["READ", "WRITE"],
    "datasetsAcl": ["READ", "WRITE", "OWNER"],
    "extractionPipelinesAcl": ["READ", "WRITE"],
    "extractionRunsAcl": ["READ", "WRITE"],
    "sessionsAcl": ["LIST", "CREATE", "DELETE"],
    "dataModelsAcl": ["READ", "WRITE"],
    "dataModelInstancesAcl": ["READ", "WRITE", "WRITE_PROPERTIES"],
    "projectsAcl": ["READ", "LIST"],
    "groupsAcl": ["READ", "LIST"],
    "postgresGatewayAcl": ["READ", "WRITE"],
}


def all_capabilities() -> list[dict[str, Any]]:
    return [
        {acl: {"actions": list(actions), "scope": {"all": {}}}}
        for acl, actions in ALL_ACTIONS.items()
    ]


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    project: str
    capabilities: list[dict[str, Any]] = field(default_factory=all_capabilities)


def default_clients(project: str) -> list[Client]:
    return [Client("demo-client", "demo-secret", project)]


def load_clients(path: Path) -> list[Client]:
    """Read ``--clients FILE``: a JSON list of
    ``{clientId, clientSecret, project, capabilities}``."""
    raw = json.loads(path.read_text())
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of clients")
    clients = []
    for entry in raw:
        clients.append(
            Client(
                client_id=str(entry["clientId"]),
                client_secret=str(entry["clientSecret"]),
                project=str(entry["project"]),
                capabilities=list(entry.get("capabilities", all_capabilities())),
            )
        )
    return clients


@dataclass(frozen=True)
class Identity:
    """Who a request is from, decoded from its bearer token."""

    subject: str
    project: str
    capabilities: list[dict[str, Any]]
    session_id: int | None = None

    def allows(self, acl: str, action: str) -> bool:
        wanted = acl.lower()
        for capability in self.capabilities:
            for name, grant in capability.items():
                if name.lower() != wanted or not isinstance(grant, dict):
                    continue
                if action in grant.get("actions", []):
                    return True
        return False

    def data_set_scope(self, acl: str, action: str) -> set[int] | None:
        """The data set ids an action is limited to, or None when it is not limited.

        Only ``datasetScope`` is enforced; any other scope counts as ``all``.
        """
        wanted = acl.lower()
        ids: set[int] = set()
        for capability in self.capabilities:
            for name, grant in capability.items():
                if name.lower() != wanted or not isinstance(grant, dict):
                    continue
                if action not in grant.get("actions", []):
                    continue
                scope = grant.get("scope") or {"all": {}}
                limited = scope.get("datasetScope") or scope.get("datasetscope")
                if not isinstance(limited, dict):
                    return None
                ids.update(int(i) for i in limited.get("ids", []))
        return ids

    def require_data_sets(self, acl: str, action: str, items: list[dict[str, Any]]) -> None:
        """403 unless every item's ``dataSetId`` lies in the action's data-set scope."""
        allowed = self.data_set_scope(acl, action)
        if allowed is not None and any(i.get("dataSetId") not in allowed for i in items):
            raise forbidden()

    def require(self, *needs: tuple[str, str]) -> None:
        for acl, action in needs:
            if not self.allows(acl, action):
                raise forbidden()


def key_path(data_dir: Path) -> Path:
    return data_dir / "token-signing-key"


def load_or_create_key(data_dir: Path) -> bytes:
    path = key_path(data_dir)
    if path.exists():
        return path.read_bytes()
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(key)
    tmp.chmod(0o600)
    tmp.replace(path)
    return key


class TokenIssuer:
    """Signs and verifies the emulator's access tokens (HS256 JWTs with an expiry)."""

    def __init__(self, key: bytes, clock: Any = time.time) -> None:
        self._key = key
        self._clock = clock

    def issue(
        self,
        subject: str,
        project: str,
        capabilities: list[dict[str, Any]],
        lifetime: int = TOKEN_LIFETIME,
        session_id: int | None = None,
    ) -> str:
        issued = int(self._clock())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": subject,
            "iat": issued,
            "exp": issued + lifetime,
            "cdf_project": project,
            "capabilities": capabilities,
        }
        if session_id is not None:
            claims["sid"] = session_id
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> Identity:
        try:
            # Expiry is checked against our own clock (the reactor's), not PyJWT's time.time().
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError as exc:
            raise unauthorized() from exc
        if int(claims["exp"]) <= self._clock():
            raise unauthorized("Unauthorized: the token has expired")
        return Identity(
            subject=str(claims["sub"]),
            project=str(claims["cdf_project"]),
            capabilities=list(claims.get("capabilities", [])),
            session_id=claims.get("sid"),
        )


def bearer(header: bytes | None) -> str:
    if not header:
        raise unauthorized()
    scheme, _, token = header.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    return token.strip()
