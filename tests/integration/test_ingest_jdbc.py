"""pgjdbc through the real daemon into the WAL (``tests/clients/IngestJdbc.java``).

One JVM serves the module: scenarios are sent over its stdin, and the WAL is read
between them.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from walread import WalReader, ms

from tests.conftest import Daemon

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
JAR = "/usr/share/java/postgresql.jar"
T0 = ms("2024-01-01T00:00:00Z")


class Jvm:
    def __init__(self, d: Daemon) -> None:
        url = f"jdbc:postgresql://127.0.0.1:{d.port}/{d.user}"
        self.proc = subprocess.Popen(
            ["java", "-Duser.timezone=UTC", "-cp", JAR, str(CLIENTS / "IngestJdbc.java"),
             url, d.user, d.password],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def read_until(self, marker: str) -> list[str]:
        assert self.proc.stdout is not None
        out = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"java exited: {out} {err}")
            line = line.rstrip("\n")
            if line == marker:
                return out
            out.append(line)

    def run(self, scenario: str) -> list[str]:
        self.send(scenario)
        return self.read_until("END")

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def jvm(wal_gateway: Daemon) -> Iterator[Jvm]:
    assert shutil.which("java"), "needs a JDK: apt-get install default-jdk-headless (see .ci/run)"
    assert Path(JAR).exists(), "install libpostgresql-jdbc-java"
    j = Jvm(wal_gateway)
    yield j
    j.close()


@pytest.mark.parametrize("scenario,prefix", [("batch", "jdbc-batch"),
                                             ("batch-rewrite", "jdbc-rewrite")])
def test_batch(jvm: Jvm, wal: WalReader, scenario: str, prefix: str) -> None:
    mark = wal.mark()
    out = jvm.run(scenario)
    # Rewritten batches report Statement.SUCCESS_NO_INFO (-2) per row, as against PostgreSQL.
    assert out[0] == ("counts 100 100" if scenario == "batch" else "counts -200 100"), out
    assert out[1:] == ["update 1"], out
    dps = wal.rows(mark, "double_datapoints")
    assert dps == [{"external_id": prefix, "timestamp": T0 + 1000 * i, "value": i * 0.5}
                   for i in range(100)]
    # The whole batch is one implicit transaction (one Sync), and its own commit.
    assert len(wal.transactions(mark)) == 2
    assert wal.rows(mark, "events") == [
        {"external_id": f"{prefix}-ev", "start_time": T0 + 5, "description": None,
         "asset_ids": [7, 8]}]


def test_transaction(jvm: Jvm, wal: WalReader) -> None:
    mark = wal.mark()
    jvm.send("transaction")
    assert jvm.read_until("before-commit") == []
    assert wal.since(mark) == []  # autoCommit false: nothing before commit()
    jvm.send("go")
    out = jvm.read_until("END")
    assert out == ["update 2", "delete 1"], out
    txs = wal.transactions(mark)
    assert len(txs) == 2
    assert [(r.table, r.op, r.rows()) for r in txs[0]] == [
        ("assets", "insert", [{"external_id": "jdbc-tx-1", "name": "one", "metadata": {"a": "b"}},
                              {"external_id": "jdbc-tx-2", "name": "two", "metadata": None}])]
    assert [(r.table, r.op, r.rows()) for r in txs[1]] == [
        ("assets", "update", [{"external_id": "jdbc-tx-1", "name": "renamed"},
                              {"external_id": "jdbc-tx-2", "name": "renamed"}]),
        ("assets", "delete", [{"external_id": "jdbc-tx-2"}])]


def test_copy_manager(jvm: Jvm, wal: WalReader) -> None:
    mark = wal.mark()
    assert jvm.run("copy") == ["copied 2", "copied 1"]
    recs = wal.since(mark)
    assert [(r.table, r.op, r.rows()) for r in recs] == [
        ("assets", "insert", [{"external_id": "jdbc-copy-1", "name": "One", "metadata": {"k": "v"}},
                              {"external_id": "jdbc-copy-2", "name": "Two", "metadata": None}]),
        ("double_datapoints", "insert", [{"external_id": "jdbc-copy-dp", "timestamp": T0,
                                          "value": 3.5}])]


def test_batch_error_keeps_nothing(jvm: Jvm, wal: WalReader) -> None:
    mark = wal.mark()
    out = jvm.run("errors")
    # 1874-12-05 is before 1900: CDF's datapoint timestamp range.
    assert out == ["sqlstate 22008", "after ok"], out
    assert wal.rows(mark) == [{"external_id": "jdbc-after-err", "name": "x"}]
    wal.assert_no_staged()
