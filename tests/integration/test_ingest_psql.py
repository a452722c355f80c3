"""psql through the real daemon into the WAL: \\copy and multi-statement simple queries."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from walread import WalReader, ms

from tests.conftest import Daemon

T0 = ms("2024-01-01T00:00:00Z")


def psql(d: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PGPASSWORD": d.password, "PGSSLMODE": "disable", "PGTZ": "UTC"}
    return subprocess.run(
        ["psql", "-X", "-h", "127.0.0.1", "-p", str(d.port), "-U", d.user, "-d", d.user,
         "-v", "ON_ERROR_STOP=1", *args],
        env=env, capture_output=True, text=True, timeout=60)


def test_copy_csv_file(wal_gateway: Daemon, wal: WalReader, tmp_path: Path) -> None:
    f = tmp_path / "assets.csv"
    f.write_text("external_id,name,metadata,labels\n"
                 'psql-csv-1,"Pump, big","{""a"": ""1""}","{x,y}"\n'
                 "psql-csv-2,Valve,,\n", encoding="utf-8")
    mark = wal.mark()
    r = psql(wal_gateway, "-c", rf"\copy assets (external_id, name, metadata, labels) from '{f}'"
             " with (format csv, header true)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "COPY 2"
    assert wal.rows(mark) == [
        {"external_id": "psql-csv-1", "name": "Pump, big", "metadata": {"a": "1"},
         "labels": ["x", "y"]},
        {"external_id": "psql-csv-2", "name": "Valve", "metadata": None, "labels": None}]


def test_copy_text_file(wal_gateway: Daemon, wal: WalReader, tmp_path: Path) -> None:
    f = tmp_path / "dps.txt"
    f.write_text("".join(f"psql-txt\t2024-01-01 00:00:{i:02d}.5\t{i}.25\n" for i in range(50))
                 + "\\.\n", encoding="utf-8")
    mark = wal.mark()
    r = psql(wal_gateway, "-c",
             rf"\copy double_datapoints (external_id,timestamp,value) from '{f}'")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "COPY 50"
    assert wal.rows(mark) == [
        {"external_id": "psql-txt", "timestamp": T0 + 1000 * i + 500, "value": i + 0.25}
        for i in range(50)]


def test_multi_statement_all_or_nothing(wal_gateway: Daemon, wal: WalReader) -> None:
    mark = wal.mark()
    r = psql(wal_gateway, "-c",
             "INSERT INTO assets (external_id, name) VALUES ('psql-multi-1', 'a');"
             " INSERT INTO double_datapoints (external_id, timestamp, value)"
             " VALUES ('psql-multi', '2024-01-01T00:00:00Z', 1),"
             " ('psql-multi', '2024-01-01T00:00:01Z', 2);"
             " UPDATE assets SET description = 'd' WHERE external_id = 'psql-multi-1'")
    assert r.returncode == 0, r.stderr
    # psql 15 prints every statement's tag of a multi-statement -c.
    assert r.stdout.splitlines() == ["INSERT 0 1", "INSERT 0 2", "UPDATE 1"]
    (tx,) = wal.transactions(mark)
    assert [(rec.table, rec.op, rec.rows()) for rec in tx] == [
        ("assets", "insert", [{"external_id": "psql-multi-1", "name": "a"}]),
        ("double_datapoints", "insert", [
            {"external_id": "psql-multi", "timestamp": T0, "value": 1.0},
            {"external_id": "psql-multi", "timestamp": T0 + 1000, "value": 2.0}]),
        ("assets", "update", [{"external_id": "psql-multi-1", "description": "d"}])]
    # The third statement fails: the first two are not kept either.
    mark = wal.mark()
    r = psql(wal_gateway, "-c",
             "INSERT INTO assets (external_id, name) VALUES ('psql-multi-2', 'a');"
             " INSERT INTO double_datapoints (external_id, timestamp, value)"
             " VALUES ('psql-multi', '2024-01-01T00:00:02Z', 3);"
             " INSERT INTO assets (external_id, name) VALUES ('psql-multi-3', NULL)")
    assert r.returncode != 0
    assert 'null value in column "name"' in r.stderr, r.stderr
    wal.assert_nothing_since(mark)


def test_script_with_transactions(wal_gateway: Daemon, wal: WalReader, tmp_path: Path) -> None:
    f = tmp_path / "script.sql"
    f.write_text(
        "BEGIN;\n"
        "INSERT INTO assets (external_id, name) VALUES ('psql-script-1', 'kept');\n"
        "COMMIT;\n"
        "BEGIN;\n"
        "INSERT INTO assets (external_id, name) VALUES ('psql-script-2', 'gone');\n"
        "ROLLBACK;\n"
        "\\copy assets (external_id, name) from stdin\n"
        "psql-script-3\tcopied\n"
        "\\.\n")
    mark = wal.mark()
    r = psql(wal_gateway, "-f", str(f))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["BEGIN", "INSERT", "0", "1", "COMMIT", "BEGIN", "INSERT", "0",
                                "1", "ROLLBACK", "COPY", "1"]
    assert wal.rows(mark) == [{"external_id": "psql-script-1", "name": "kept"},
                              {"external_id": "psql-script-3", "name": "copied"}]
