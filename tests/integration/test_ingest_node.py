"""node-postgres (and pg-copy-streams) through the real daemon into the WAL."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from walread import WalReader, ms

from tests.conftest import Daemon

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
T0 = ms("2024-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def node_modules() -> Path:
    assert shutil.which("node") and shutil.which("npm"), "needs Debian's nodejs and npm (.ci/run)"
    if not (CLIENTS / "node_modules" / "pg-copy-streams").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=CLIENTS,
                       check=True, capture_output=True, timeout=300)
    return CLIENTS / "node_modules"


def node(d: Daemon, scenario: str) -> list[str]:
    r = subprocess.run(["node", str(CLIENTS / "ingest.js"), f"{d.url}?sslmode=disable", scenario],
                       capture_output=True, text=True, timeout=60, cwd=CLIENTS)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_parameterised(wal_gateway: Daemon, wal: WalReader, node_modules: Path) -> None:
    mark = wal.mark()
    assert node(wal_gateway, "params") == [
        "tag INSERT 1", "tag INSERT 2", "tag UPDATE 1", "tag DELETE 1"]
    txs = wal.transactions(mark)
    assert [[(r.table, r.op) for r in tx] for tx in txs] == [
        [("events", "insert")], [("double_datapoints", "insert")],
        [("events", "update"), ("double_datapoints", "delete")]]
    assert txs[0][0].rows() == [{"external_id": "node-ev", "start_time": T0 + 250,
                                 "metadata": {"k": "v"}, "asset_ids": [1, 2], "type": None}]
    assert txs[1][0].rows() == [
        {"external_id": "node-dp", "timestamp": T0, "value": 1.5},
        {"external_id": "node-dp", "timestamp": T0 + 1000, "value": -2.0}]
    assert txs[2][0].rows() == [{"external_id": "node-ev", "type": "alarm"}]
    assert txs[2][1].rows() == [{"external_id": "node-dp"}]


def test_copy_from(wal_gateway: Daemon, wal: WalReader, node_modules: Path) -> None:
    mark = wal.mark()
    assert node(wal_gateway, "copy") == ["copied 1000"]
    assert wal.rows(mark) == [
        {"external_id": "node-copy", "timestamp": T0 + 1000 * i, "value": f"v{i}\t{i}"}
        for i in range(1000)]


def test_copy_error(wal_gateway: Daemon, wal: WalReader, node_modules: Path) -> None:
    mark = wal.mark()
    out = node(wal_gateway, "copy-error")
    assert out[0] == 'error 22P02 COPY double_datapoints, line 2, column value: "zz"', out
    assert out[1:] == ["tag INSERT 1"]
    assert wal.rows(mark) == [{"external_id": "node-after", "name": "x"}]
    wal.assert_no_staged()
