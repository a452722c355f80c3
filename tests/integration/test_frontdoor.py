"""The front door as a newcomer and an operator meet it: first start, users, auth options."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import TWISTD, Daemon, add_user, free_port, start_daemon


def psql(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["psql", "-X", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_first_start_provisions_demo_and_prints_a_secret_free_line(tmp_path: Path) -> None:
    d = start_daemon(tmp_path / "gw", user="")
    try:
        m = None
        for _ in range(100):
            m = re.search(r'psql "(postgresql://demo@[^"]+)"', d.log())
            if m:
                break
            __import__("time").sleep(0.1)
        assert m, d.log()
        url = m.group(1)
        passfile = Path(url.split("passfile=")[1])
        assert oct(passfile.stat().st_mode & 0o777) == "0o600"
        password = passfile.read_text().strip().split(":")[-1]
        assert password not in d.log()
        out = psql(url.replace(":5432", f":{d.port}") if ":5432" in url else url, "-c", r"\dt")
        assert out.returncode == 0, out.stderr
        assert " assets " in out.stdout
    finally:
        d.stop()


def test_users_added_while_running_log_in_at_once(gateway: Daemon) -> None:
    add_user(gateway.data_dir, "carol", "carol-pw")
    dsn = f"host=127.0.0.1 port={gateway.port} user=carol password=carol-pw dbname=carol"
    with psycopg.connect(dsn) as c:
        assert c.execute("SELECT current_user").fetchone() == ("carol",)
    with psycopg.connect(dsn.replace("dbname=carol", "dbname=postgres")) as c:
        assert c.execute("SELECT current_database()").fetchone() == ("carol",)
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(dsn.replace("dbname=carol", "dbname=other"))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn.replace("carol-pw", "wrong"))
    subprocess.run([sys.executable, "-m", "pggw.admin", "--data-dir", str(gateway.data_dir),
                    "deluser", "carol"], check=True, capture_output=True)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn)


def test_require_tls_and_md5(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    data.mkdir()
    add_user(data, "mona", "mona-pw", "--md5")
    d = start_daemon(data, "--require-tls", "--auth", "md5", user="")
    try:
        base = f"host=127.0.0.1 port={d.port} user=mona password=mona-pw dbname=mona"
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(base + " sslmode=disable")
        with psycopg.connect(base + " sslmode=require") as c:
            assert c.info.pgconn.ssl_in_use
            assert c.execute("SELECT 1").fetchone() == (1,)
    finally:
        d.stop()


def test_port_in_use_is_one_line_naming_the_option(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run(
            [*TWISTD, "-n", "--pidfile", "", "pggw", "--data-dir", str(tmp_path / "d"),
             "--pg-endpoint", f"tcp:{port}:interface=127.0.0.1",
             "--http-endpoint", f"tcp:{free_port()}:interface=127.0.0.1",
             "--cdf-url", "http://127.0.0.1:9", "--cdf-project", "p", "--cdf-token-url",
             "http://127.0.0.1:9/t", "--cdf-client-id", "x", "--cdf-client-secret", "y"],
            capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    lines = [ln for ln in (r.stderr + r.stdout).splitlines() if "--pg-endpoint" in ln]
    assert lines and "cannot listen" in lines[0], r.stderr + r.stdout
    assert "Traceback" not in r.stderr
