"""The user store: gateway users and how they authenticate, in ``<data-dir>/users.sqlite3``.

Passwords are never stored: only SCRAM-SHA-256 verifiers (and an md5 hash for
users created while ``--auth md5`` is configured).  The file is read per
login, so users added by ``pggw-admin`` while the daemon runs can log in at once.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from zope.interface import Interface, implementer

USERNAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'local',      -- 'local' (daemon identity) or 'cdf' (own identity)
    scram TEXT NOT NULL,                      -- SCRAM-SHA-256$iter:salt$stored:server
    md5 TEXT,                                 -- 'md5' || md5(password || username), optional
    project TEXT,
    identity BLOB,                            -- encrypted CDF credentials (credentials API)
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class User:
    username: str
    kind: str
    scram: str
    md5: str | None
    project: str | None
    identity: bytes | None
    created_ms: int
    updated_ms: int


class IUserStore(Interface):  # type: ignore[misc]
    """Where the gateway looks users up at login."""

    def get(username: str) -> User | None:  # type: ignore[empty-body]  # noqa: N805
        """The user, or None."""


@implementer(IUserStore)
class UserStore:
    """Users in a small SQLite file; short-lived connections, so other processes see changes."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "users.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    def get(self, username: str) -> User | None:
        with self._db() as db:
            row = db.execute(
                "SELECT username, kind, scram, md5, project, identity, created_ms, updated_ms"
                " FROM users WHERE username = ?",
                (username,),
            ).fetchone()
        return User(*row) if row else None

    def list(self) -> list[User]:
        with self._db() as db:
            rows = db.execute(
                "SELECT username, kind, scram, md5, project, identity, created_ms, updated_ms"
                " FROM users ORDER BY username"
            ).fetchall()
        return [User(*r) for r in rows]

    def add(
        self,
        username: str,
        *,
        scram: str,
        md5: str | None = None,
        kind: str = "local",
        project: str | None = None,
        identity: bytes | None = None,
        replace: bool = False,
    ) -> User:
        if not USERNAME_RE.match(username):
            raise ValueError(
                f"invalid user name {username!r}: use lowercase letters, digits and _ "
                "(it is also the database name)"
            )
        now = int(time.time() * 1000)
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        try:
            with self._db() as db:
                db.execute(
                    f"{verb} INTO users (username, kind, scram, md5, project, identity,"
                    " created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (username, kind, scram, md5, project, identity, now, now),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"user {username!r} already exists") from None
        user = self.get(username)
        assert user is not None
        return user

    def delete(self, username: str) -> bool:
        with self._db() as db:
            cur = db.execute("DELETE FROM users WHERE username = ?", (username,))
        return cur.rowcount > 0
