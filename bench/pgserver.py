"""Start a throw-away PostgreSQL 15 server (Debian's) in a temp dir on a free port.

Used by the benchmarks to compare pggw with PostgreSQL itself on the same
machine, with PostgreSQL's durable defaults (fsync and synchronous_commit on).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a libpq DSN for a fresh PostgreSQL with a trust-authenticated user ``bench``."""
    if not (PG_BIN / "initdb").exists():
        raise SystemExit(f"PostgreSQL 15 not found in {PG_BIN}: apt-get install postgresql-15")
    tmp = Path(tempfile.mkdtemp(prefix="pggw-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    data = tmp / "data"
    port = _free_port()
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "bench",
                                 "-A", "trust", "-E", "UTF8"]),
                   check=True, capture_output=True)
    proc = subprocess.Popen(
        _as_postgres([str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port),
                      "-k", str(tmp), "-c", "listen_addresses=127.0.0.1",
                      "-c", "fsync=on", "-c", "synchronous_commit=on",
                      "-c", "max_connections=50"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dsn = f"host=127.0.0.1 port={port} user=bench dbname=postgres"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("PostgreSQL did not start") from None
                time.sleep(0.1)
        time.sleep(0.3)
        yield dsn
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
