"""The user store: gateway users and how they authenticate, in ``<data-dir>/users.sqlite3``.

Passwords are never stored: only SCRAM-SHA-256 verifiers (and an md5 hash for
users created while ``--auth md5`` is configured).  The file is read per
login, so users added by ``pggw-admin`` while the daemon runs can log in at once.
"""

from __future__ import annotations

import builtins
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
-- What pggw last learned about a CDF user's identity (credentials API): never secrets.
CREATE TABLE IF NOT EXISTS user_state (
    username TEXT PRIMARY KEY,
    session_id INTEGER,                       -- the bound CDF session (nonce users)
    capabilities TEXT,                        -- JSON: the last /token/inspect answer
    checked_ms INTEGER,                       -- when CDF last accepted the identity
    revoked TEXT,                             -- why CDF refused it (401/403), or NULL
    revoked_ms INTEGER
);
-- Custom tables (credentials API): RAW tables and data-modeling view tables per user.
CREATE TABLE IF NOT EXISTS custom_tables (
    username TEXT NOT NULL,
    tablename TEXT NOT NULL,
    type TEXT NOT NULL,                       -- 'raw_rows' or 'view'
    options TEXT NOT NULL,                    -- JSON
    columns TEXT NOT NULL,                    -- JSON: [[name, spec type, cdf name], ...]
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (username, tablename)
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


@dataclass(frozen=True)
class UserState:
    username: str
    session_id: int | None = None
    capabilities: str | None = None
    checked_ms: int | None = None
    revoked: str | None = None
    revoked_ms: int | None = None


@dataclass(frozen=True)
class StoredTable:
    username: str
    tablename: str
    type: str
    options: str
    columns: str
    created_ms: int


class IUserStore(Interface):
    """Where the gateway looks users up at login."""

    def get(username: str) -> User | None:  # noqa: N805
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

    def list(self) -> builtins.list[User]:
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
            db.execute("DELETE FROM user_state WHERE username = ?", (username,))
            db.execute("DELETE FROM custom_tables WHERE username = ?", (username,))
        return cur.rowcount > 0

    # -- CDF users (credentials API) -----------------------------------------------------

    def update(
        self, username: str, *, scram: str | None = None, project: str | None = None,
        identity: bytes | None = None,
    ) -> User | None:
        """Replace some fields of an existing user (and bump ``updated_ms``)."""
        sets, args = ["updated_ms = ?"], [int(time.time() * 1000)]
        for name, value in (("scram", scram), ("project", project), ("identity", identity)):
            if value is not None:
                sets.append(f"{name} = ?")
                args.append(value)  # type: ignore[arg-type]
        with self._db() as db:
            db.execute(f"UPDATE users SET {', '.join(sets)} WHERE username = ?",
                       (*args, username))
        return self.get(username)

    def list_cdf(self, project: str | None = None, after: str = "",
                 limit: int = 1000) -> builtins.list[User]:
        """CDF users (kind ``cdf``), by name, after ``after``; of one project if given."""
        sql = ("SELECT username, kind, scram, md5, project, identity, created_ms, updated_ms"
               " FROM users WHERE kind = 'cdf' AND username > ?")
        args: builtins.list[object] = [after]
        if project is not None:
            sql += " AND project = ?"
            args.append(project)
        sql += " ORDER BY username LIMIT ?"
        args.append(limit)
        with self._db() as db:
            rows = db.execute(sql, args).fetchall()
        return [User(*r) for r in rows]

    def get_state(self, username: str) -> UserState | None:
        with self._db() as db:
            row = db.execute(
                "SELECT username, session_id, capabilities, checked_ms, revoked, revoked_ms"
                " FROM user_state WHERE username = ?", (username,)).fetchone()
        return UserState(*row) if row else None

    def put_state(self, state: UserState) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO user_state (username, session_id, capabilities,"
                " checked_ms, revoked, revoked_ms) VALUES (?, ?, ?, ?, ?, ?)",
                (state.username, state.session_id, state.capabilities, state.checked_ms,
                 state.revoked, state.revoked_ms))

    # -- custom tables ---------------------------------------------------------------------

    def add_tables(self, username: str, tables: builtins.list[StoredTable]) -> None:
        """Add tables atomically; ``ValueError`` naming the first that already exists."""
        try:
            with self._db() as db:
                for t in tables:
                    db.execute(
                        "INSERT INTO custom_tables (username, tablename, type, options, columns,"
                        " created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                        (username, t.tablename, t.type, t.options, t.columns, t.created_ms))
        except sqlite3.IntegrityError as e:
            raise ValueError(str(e)) from None

    def tables(self, username: str) -> builtins.list[StoredTable]:
        with self._db() as db:
            rows = db.execute(
                "SELECT username, tablename, type, options, columns, created_ms"
                " FROM custom_tables WHERE username = ? ORDER BY tablename",
                (username,)).fetchall()
        return [StoredTable(*r) for r in rows]

    def delete_tables(self, username: str, names: builtins.list[str]) -> int:
        with self._db() as db:
            n = 0
            for name in names:
                n += db.execute("DELETE FROM custom_tables WHERE username = ? AND tablename = ?",
                                (username, name)).rowcount
        return n
