"""The README's quick start tour, as a newcomer follows it: the statements, the shell lines and
the connection examples are read from README.md itself (so they cannot drift) and run
against a real first-start gateway with its embedded emulator, through the psql line the
gateway prints; what the README says they answer is checked."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from pggw.demo import TOUR_STATEMENTS
from tests.conftest import Daemon, embedded_emulator_url, start_daemon

README = Path(__file__).resolve().parents[2] / "README.md"
JAR = "/usr/share/java/postgresql.jar"


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def blocks(title: str) -> list[tuple[str, str]]:
    """The fenced code blocks of a README section: (language, text)."""
    return re.findall(r"^```(\w*)\n(.*?)^```", section(title), re.S | re.M)


def squash(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Tour:
    daemon: Daemon
    psql_url: str  # as the gateway printed it
    passfile: Path
    emulator: str


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    data = tmp_path_factory.mktemp("tour") / "pggw-data"
    d = start_daemon(data, user="")  # a first start: no user yet
    try:
        deadline = time.monotonic() + 30
        while not (m := re.search(r'psql "(postgresql://demo@[^"]+)"', d.log())):
            assert time.monotonic() < deadline, d.log()
            time.sleep(0.1)
        url = m.group(1)
        yield Tour(d, url, Path(url.split("passfile=")[1]), embedded_emulator_url(d))
    finally:
        d.stop()


def test_the_greeting_is_the_readmes(tour: Tour) -> None:
    (lang, greeting), *_ = blocks("A short tour")
    assert lang == "text"
    log_lines = [line.rstrip() for line in tour.daemon.log().splitlines()]
    for line in filter(str.strip, greeting.splitlines()):
        line = line.replace(":5432/", f":{tour.daemon.port}/").replace(
            "/path/to/pggw-data", str(tour.daemon.data_dir.resolve()))
        assert any(ll.endswith(line) for ll in log_lines), (line, tour.daemon.log())
    # The statements it suggests are the README tour's first ones, verbatim.
    readme_sql = squash("".join(text for lang, text in blocks("A short tour") if lang == "sql"))
    for statement in TOUR_STATEMENTS:
        assert squash(statement) in readme_sql, statement
        assert any(ll.endswith("    " + statement) for ll in log_lines), statement
    assert oct(tour.passfile.stat().st_mode & 0o777) == "0o600"
    assert tour.passfile.read_text().split(":")[-1].strip() not in tour.daemon.log()


def test_the_tour_answers_as_the_readme_says(tour: Tour, tmp_path: Path) -> None:
    tour_blocks = blocks("A short tour")
    sql = [text for lang, text in tour_blocks if lang == "sql"]
    answers = [text for lang, text in tour_blocks if lang == "text"][1]
    assert len(sql) == 2
    script = tmp_path / "tour.sql"
    script.write_text("".join(sql))
    # psql as pasted from the gateway's line (-X: whatever ~/.psqlrc the machine has)
    out = subprocess.run(["psql", "-X", tour.psql_url, "-f", str(script)],
                         capture_output=True, text=True, timeout=120)
    stdout = out.stdout
    assert re.search(r"^ public \| assets +\| table \| demo$", stdout, re.M), stdout
    assert re.search(r"^ name +\| character varying\(140\) +\| +\| not null \|", stdout,
                     re.M), stdout
    # "psql answers" the command tags of the README, in order
    pos = 0
    for tag in filter(str.strip, answers.splitlines()):
        found = stdout.find(f"\n{tag}\n", pos)
        assert found >= 0, (tag, stdout, out.stderr)
        pos = found + 1
    assert re.search(r"^ wait_uploaded \n-+\n t\n", stdout, re.M), stdout
    uploads = re.findall(r"^ \S+ \| (\w+) +\| insert +\| +(\d+) \| +\d+ \| (\w+) ", stdout, re.M)
    assert sorted(uploads) == [("assets", "1", "ok"), ("double_datapoints", "3", "ok"),
                               ("time_series", "1", "ok")], stdout
    assert re.search(r"^ id \| table_name .*\n-+.*\n\(0 rows\)", stdout, re.M), stdout
    assert re.search(r"^ retry_rejected \n-+\n +0\n", stdout, re.M), stdout
    errors = [line for line in out.stderr.splitlines() if "ERROR:" in line]
    assert len(errors) == 1 and "write-only" in errors[0], out.stderr  # count(*) only


def test_the_emulator_has_the_rows(tour: Tour) -> None:
    (script,) = [text for lang, text in blocks("A short tour") if lang == "sh"]
    assert "http://127.0.0.1:8900" in script
    # wait until the tour's rows are uploaded (the previous test waited with wait_uploaded)
    with psycopg.connect(tour.psql_url) as c:
        c.execute("SELECT pggw.wait_uploaded(30)")
    out = subprocess.run(["bash", "-c", script.replace("http://127.0.0.1:8900", tour.emulator)],
                         capture_output=True, text=True, timeout=60, check=True)
    assert '"externalId":"pump-1"' in out.stdout and '"site":"Oslo"' in out.stdout, out


def test_pggw_admin_status_as_the_greeting_says(tour: Tour) -> None:
    m = re.search(r"in a terminal: pggw-admin (.*)$", tour.daemon.log(), re.M)
    assert m, tour.daemon.log()
    environ = {k: v for k, v in os.environ.items()
               if k not in ("PGGW_TOKEN", "PGGW_ADMIN_TOKEN")}
    out = subprocess.run([sys.executable, "-m", "pggw.admin", *m.group(1).split()],
                         capture_output=True, text=True, timeout=30, check=True, env=environ)
    assert re.search(r"^demo\s", out.stdout, re.M), out.stdout


def connecting(name: str) -> str:
    """The example of one client in the README's "Connecting" section."""
    m = re.search(rf"^- {re.escape(name)}: `([^`]+)`", section("Connecting"), re.M)
    assert m, name
    return m.group(1)


def test_connection_examples_psql_and_psycopg(tour: Tour) -> None:
    port = str(tour.daemon.port)
    env = {**os.environ, "PGPASSFILE": str(tour.passfile)}
    url = connecting("psql / libpq").replace("HOST", "127.0.0.1").replace(
        "5432", port).replace("USER", "demo")
    out = subprocess.run(["psql", "-X", url, "-c", r"\conninfo"], capture_output=True,
                         text=True, timeout=30, env=env)
    assert "SSL connection" in out.stdout, out

    call = connecting("psycopg")
    m = re.fullmatch(r'psycopg\.connect\("([^"]+)"\)', call)
    assert m, call
    conninfo = m.group(1).replace("HOST", "127.0.0.1").replace("5432", port).replace(
        "USER", "demo")
    password = tour.passfile.read_text().strip().split(":")[-1]
    note = squash(section("Connecting")).replace("`", "")
    assert "passfile=/path/to/pggw-data/demo.pgpass instead of password=..." in note
    for info in (conninfo.replace("password=...", f"password={password}"),
                 conninfo.replace("password=...", f"passfile={tour.passfile}")):
        with psycopg.connect(info) as c:
            cur = c.execute("INSERT INTO events (external_id, type) VALUES (%s, %s)",
                            (f"tour-{len(info)}", "demo"))
            assert cur.statusmessage == "INSERT 0 1"


JAVA = """
import java.sql.*;
public class TourJdbc {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0], "demo", null);
             PreparedStatement ps = c.prepareStatement(
                 "INSERT INTO events (external_id, type) VALUES (?, 'demo')")) {
            for (int i = 0; i < 3; i++) { ps.setString(1, "tour-jdbc-" + i); ps.addBatch(); }
            ps.executeBatch();
            System.out.println("ok " + c.getMetaData().getDatabaseProductVersion());
        }
    }
}
"""


@pytest.mark.skipif(not (shutil.which("java") and Path(JAR).exists()),
                    reason="needs java and libpostgresql-jdbc-java")
def test_connection_example_jdbc(tour: Tour, tmp_path: Path) -> None:
    url = connecting("JDBC").replace("HOST", "127.0.0.1").replace(
        "5432", str(tour.daemon.port)).replace("USER", "demo")
    source = tmp_path / "TourJdbc.java"
    source.write_text(JAVA)
    # no password: pgjdbc reads the passfile PGPASSFILE names, as the README says
    out = subprocess.run(["java", "-cp", JAR, str(source), url], capture_output=True,
                         text=True, timeout=120,
                         env={**os.environ, "PGPASSFILE": str(tour.passfile)})
    assert out.stdout.startswith("ok 15."), out


def test_a_plain_install_has_every_module_the_gateway_imports() -> None:
    """``pip install -e .`` (the quick start, without the test extras) must bring every
    third-party module pggw imports: the embedded emulator once needed PyJWT that only the
    test extras happened to bring, and the tour's uploads silently went nowhere."""
    import ast
    import tomllib
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    root = README.parent
    wanted = [Requirement(r) for r in
              tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]]
    have: set[str] = set()
    while wanted:
        req = wanted.pop()
        name = canonicalize_name(req.name)
        if name in have:
            continue
        have.add(name)
        for text in metadata.requires(req.name) or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e})
                                         for e in {"", *req.extras}):
                wanted.append(sub)
    dists = metadata.packages_distributions()
    missing = set()
    for path in (root / "pggw").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top in ("pggw", "__future__"):
                    continue
                if not {canonicalize_name(d) for d in dists.get(top, [])} & have:
                    missing.add(f"{top} ({path.relative_to(root)})")
    assert not missing, f"imported but not a dependency of pggw: {sorted(missing)}"
