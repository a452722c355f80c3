"""Every real client connects to the daemon (TLS and plaintext, SCRAM) and discovers the tables."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pggw.tables.registry import builtin_registry
from tests.conftest import Daemon

REGISTRY = builtin_registry()
TABLES = sorted(REGISTRY)
ASSET_COLUMNS = [c.name for c in REGISTRY["assets"].columns]
CLIENTS = Path(__file__).resolve().parents[1] / "clients"


def psql(d: Daemon, *args: str, sslmode: str = "prefer") -> str:
    env = {**os.environ, "PGPASSWORD": d.password, "PGSSLMODE": sslmode}
    r = subprocess.run(
        ["psql", "-X", "-h", "127.0.0.1", "-p", str(d.port), "-U", d.user, "-d", d.user,
         "-v", "ON_ERROR_STOP=1", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("sslmode", ["disable", "require"])
def test_psql_dt(gateway: Daemon, sslmode: str) -> None:
    out = psql(gateway, "-c", r"\dt", sslmode=sslmode)
    for t in TABLES:
        assert f" {t} " in out, out


def test_psql_describe_table(gateway: Daemon) -> None:
    out = psql(gateway, "-c", r"\d assets")
    for c in ASSET_COLUMNS:
        assert f" {c} " in out, out
    out = psql(gateway, "-c", r"\d+ double_datapoints")
    assert "timestamp with time zone" in out and "double precision" in out


def test_psql_tuples(gateway: Daemon) -> None:
    out = psql(gateway, "-At", "-c", "SELECT current_database(), current_user, version()")
    db, user, version = out.strip().split("|")
    assert db == gateway.user and user == gateway.user and version.startswith("PostgreSQL 15")


def test_psycopg3(gateway: Daemon) -> None:
    import psycopg

    for sslmode in ("disable", "require"):
        with psycopg.connect(gateway.dsn, sslmode=sslmode) as conn:
            rows = conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s ORDER BY 1", ("public",)).fetchall()
            assert [r[0] for r in rows] == TABLES
            cur = conn.execute("SELECT * FROM assets LIMIT 0")
            assert [d.name for d in cur.description] == ASSET_COLUMNS
            assert conn.info.parameter_status("server_version", ) .startswith("15")


def test_psycopg2(gateway: Daemon) -> None:
    import psycopg2

    conn = psycopg2.connect(gateway.dsn)
    try:
        cur = conn.cursor()
        cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = %s ORDER BY ordinal_position", ("assets",))
        assert [r[0] for r in cur.fetchall()] == ASSET_COLUMNS
        conn.rollback()
    finally:
        conn.close()


def test_asyncpg(gateway: Daemon) -> None:
    import asyncpg

    async def main() -> None:
        for ssl in (False, True):
            conn = await asyncpg.connect(
                host="127.0.0.1", port=gateway.port, user=gateway.user,
                password=gateway.password, database=gateway.user,
                ssl="require" if ssl else False)
            try:
                rows = await conn.fetch(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = $1 ORDER BY 1", "public")
                assert [r["table_name"] for r in rows] == TABLES
                stmt = await conn.prepare("SELECT * FROM assets WHERE 1 = 0")
                assert [a.name for a in stmt.get_attributes()] == ASSET_COLUMNS
            finally:
                await conn.close()

    asyncio.run(main())


def test_pg8000(gateway: Daemon) -> None:
    import pg8000.native

    conn = pg8000.native.Connection(gateway.user, host="127.0.0.1", port=gateway.port,
                                    password=gateway.password, database=gateway.user)
    try:
        rows = conn.run("SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = :s ORDER BY 1", s="public")
        assert [r[0] for r in rows] == TABLES
    finally:
        conn.close()


def test_sqlalchemy_inspect(gateway: Daemon) -> None:
    import sqlalchemy as sa

    for driver in ("psycopg2", "psycopg"):
        engine = sa.create_engine(
            f"postgresql+{driver}://{gateway.user}:{gateway.password}@127.0.0.1:"
            f"{gateway.port}/{gateway.user}")
        try:
            insp = sa.inspect(engine)
            assert insp.has_table("assets")
            assert not insp.has_table("no_such_table")
            cols = insp.get_columns("assets")
            assert [c["name"] for c in cols] == ASSET_COLUMNS
            assert sorted(insp.get_table_names()) == TABLES
        finally:
            engine.dispose()


def test_pgjdbc(gateway: Daemon) -> None:
    assert shutil.which("java"), "needs a JDK: apt-get install default-jdk-headless (see .ci/run)"
    jar = "/usr/share/java/postgresql.jar"
    assert Path(jar).exists(), "install libpostgresql-jdbc-java"
    url = f"jdbc:postgresql://127.0.0.1:{gateway.port}/{gateway.user}"
    r = subprocess.run(["java", "-cp", jar, str(CLIENTS / "Discover.java"), url, gateway.user,
                        gateway.password, "assets"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert sorted(ln.split()[1] for ln in lines if ln.startswith("table ")) == TABLES
    cols = [ln.split()[1] for ln in lines if ln.startswith("column ")]
    assert cols == ASSET_COLUMNS
    assert f"database {gateway.user}" in lines


@pytest.fixture(scope="session")
def node_modules() -> Path:
    assert shutil.which("node") and shutil.which("npm"), "needs Debian's nodejs and npm (.ci/run)"
    if not (CLIENTS / "node_modules" / "pg").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=CLIENTS,
                       check=True, capture_output=True, timeout=300)
    return CLIENTS / "node_modules"


def test_node_postgres(gateway: Daemon, node_modules: Path) -> None:
    for ssl in ("disable", "no-verify"):
        url = f"{gateway.url}?sslmode={ssl}"
        r = subprocess.run(["node", str(CLIENTS / "discover.js"), url, "assets"],
                           capture_output=True, text=True, timeout=60, cwd=CLIENTS)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert [ln.split()[1] for ln in lines if ln.startswith("table ")] == TABLES
        assert [ln.split()[1] for ln in lines if ln.startswith("column ")] == ASSET_COLUMNS
