"""First start without any user: provision ``demo`` and say how to connect, without a secret.

The password goes into ``<data-dir>/demo.pgpass`` (mode 0600, libpq's passfile format, valid
for any host, port and database, so it keeps working when the gateway moves to another
port), so the line printed for the newcomer carries no secret:
``psql "postgresql://demo@127.0.0.1:5432/demo?passfile=<data-dir>/demo.pgpass"``.

:data:`TOUR` is what the gateway prints then: the first statements of the README's "A short
tour", verbatim (``tests/integration/test_tour.py`` checks both against each other and runs
the README's tour against a real gateway).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pggw.credentials.users import UserStore
from pggw.wire.auth import make_verifier

DEMO_USER = "demo"


def _listen_address(endpoint: str) -> tuple[str, str]:
    """(host, port) a client on this machine uses for a Twisted ``tcp:`` endpoint string."""
    parts = endpoint.split(":")
    port = parts[1] if len(parts) > 1 else "5432"
    host = "127.0.0.1"
    for p in parts[2:]:
        if p.startswith("interface="):
            value = p.split("=", 1)[1].replace("\\", "")
            if value not in ("", "0.0.0.0", "::"):
                host = value
    return host, port


def provision_demo_user(users: UserStore, data_dir: Path, pg_endpoint: str) -> str | None:
    """Create ``demo`` when no user exists yet; return the connect line (also on later
    starts, while the passfile is there), or None when there is nothing to say."""
    passfile = data_dir / "demo.pgpass"
    host, port = _listen_address(pg_endpoint)
    if not users.list():
        password = secrets.token_urlsafe(18)
        users.add(DEMO_USER, scram=make_verifier(password).to_string())
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            # hostname:port:database:username:password; '*' so that localhost and 127.0.0.1,
            # another --pg-endpoint port and the "postgres" database alias match too
            f.write(f"*:*:*:{DEMO_USER}:{password}\n")
    elif not passfile.exists() or users.get(DEMO_USER) is None:
        return None
    return (f'psql "postgresql://{DEMO_USER}@{host}:{port}/{DEMO_USER}'
            f'?passfile={passfile.resolve()}"')


def dashboard_url(http_endpoint: str) -> str:
    """The dashboard's URL for a client on this machine (``ssl:`` endpoints: https)."""
    host, port = _listen_address(http_endpoint)
    scheme = "https" if http_endpoint.startswith("ssl:") else "http"
    return f"{scheme}://{host}:{port}/"


def status_command(data_dir: Path, http_endpoint: str) -> str:
    """The ``pggw-admin status`` line that shows this gateway's users (it reads the admin
    token in the data directory)."""
    url = dashboard_url(http_endpoint).rstrip("/")
    command = f"pggw-admin --data-dir {data_dir.resolve()} status"
    return command if url == "http://127.0.0.1:8080" else f"{command} --http-url {url}"


#: One statement per line, so each can be pasted from the log on its own.
TOUR_STATEMENTS = (
    "\\dt",
    "INSERT INTO assets (external_id, name, metadata) VALUES ('pump-1', 'Pump 1', "
    "'{\"site\": \"Oslo\"}');",
    "SELECT * FROM pggw.backlog;",
    "SELECT pggw.wait_uploaded(30);",
)

TOUR = """\
pggw is ready. Connect with:

    {line}

and try (the README's "A short tour" goes on from there):

""" + "".join("    " + statement.replace("{", "{{").replace("}", "}}") + "\n"
             for statement in TOUR_STATEMENTS) + """
Dashboard: {dashboard} · in a terminal: {status}
"""
