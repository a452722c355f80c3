"""SIGTERM and drain on a real daemon: stop accepting, let in-flight transactions finish,
close the rest with 57P01, exit 0 in bounded time; committed rows survive the restart and
their upload resumes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from ops_testlib import UNREACHABLE_CDF, http, metrics, status, wait_for

from tests.conftest import start_daemon

GRACE = "3"


def pending_rows(data_dir: Path) -> int:
    """Rows committed and not uploaded, read from a stopped gateway's WAL file."""
    import sqlite3

    conn = sqlite3.connect(f"file:{data_dir / 'wal.sqlite3'}?mode=ro", uri=True)
    try:
        (n,) = conn.execute("SELECT coalesce(sum(r.nrows), 0) FROM records r"
                            " JOIN commits c ON c.txid = r.txid").fetchone()
        return int(n)
    finally:
        conn.close()


def test_sigterm_finishes_transactions_and_rows_survive(tmp_path: Path) -> None:
    d = start_daemon(tmp_path, *UNREACHABLE_CDF, env={"PGGW_SHUTDOWN_GRACE": GRACE})
    try:
        with psycopg.connect(d.dsn, autocommit=True) as c:
            c.execute("INSERT INTO assets (external_id, name) VALUES ('t1', 'T1'), "
                      "('t2', 'T2'), ('t3', 'T3')")
        in_tx = psycopg.connect(d.dsn)
        in_tx.execute("INSERT INTO assets (external_id, name) VALUES ('t4', 'T4')")
        idle = psycopg.connect(d.dsn, autocommit=True)
        # a COPY (psql) that keeps streaming past the grace period
        psql = subprocess.Popen(
            ["psql", "-X", "-q", d.url, "-c", "COPY assets (external_id, name) FROM STDIN"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        copying = threading.Event()

        def slow_copy() -> None:
            assert psql.stdin is not None
            try:
                for i in range(400):
                    psql.stdin.write(f"copy-{i}\tx\n".encode())
                    psql.stdin.flush()
                    copying.set()
                    time.sleep(0.05)
                psql.stdin.write(b"\\.\n")
                psql.stdin.close()
            except (OSError, ValueError):  # psql went away: the server ended the COPY
                pass

        t = threading.Thread(target=slow_copy, daemon=True)
        t.start()
        assert copying.wait(10)
        time.sleep(0.3)
        started = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        # no new connections
        wait_for(lambda: http_refused(d.port), timeout=5, what="the listener to close")
        # the open transaction can still finish within the grace period
        in_tx.execute("INSERT INTO assets (external_id, name) VALUES ('t5', 'T5')")
        in_tx.commit()
        rc = d.proc.wait(timeout=float(GRACE) + 20)
        elapsed = time.monotonic() - started
        assert rc == 0, d.log()
        assert elapsed < float(GRACE) + 15
        # the COPY got an error rather than an acknowledgement
        _, err = psql.communicate(timeout=20)
        assert psql.returncode != 0
        assert b"terminating connection due to administrator command" in err, err
        # the idle session was told why
        with pytest.raises(psycopg.OperationalError):
            idle.execute("SELECT 1")
        in_tx.close()
        log = d.log()
        assert "shutting down" in log and "stopped cleanly" in log
        assert "Traceback" not in log
    finally:
        d.stop()
    # committed: t1..t3 and t4+t5; nothing of the cut COPY
    assert pending_rows(tmp_path) == 5
    # the next start resumes the upload (here into the embedded emulator)
    d2 = start_daemon(tmp_path)
    try:
        wait_for(lambda: status(d2)["wal"]["rows"] == 0, timeout=30, what="upload to resume")
        assert metrics(d2)[("pggw_upload_rows_total", (("table", "assets"),))] == 5
    finally:
        d2.stop()
    assert d2.proc.returncode == 0


def http_refused(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


def test_drain_then_wait_for_empty_wal(tmp_path: Path) -> None:
    d = start_daemon(tmp_path, *UNREACHABLE_CDF)
    try:
        with psycopg.connect(d.dsn, autocommit=True) as c:
            c.execute("INSERT INTO assets (external_id, name) VALUES ('d1', 'D1')")
        idle = psycopg.connect(d.dsn, autocommit=True)
        in_tx = psycopg.connect(d.dsn)
        in_tx.execute("INSERT INTO assets (external_id, name) VALUES ('d2', 'D2')")
        url = f"http://127.0.0.1:{d.http_port}"
        # CDF is unreachable: the WAL cannot empty, drain gives up after its timeout
        r = subprocess.run([sys.executable, "-m", "pggw.admin", "drain", "--http-url", url,
                            "--timeout", "2", "--interval", "0.2"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "draining" in r.stdout and "timed out" in r.stdout
        code, _, body = http(d, "/readyz")
        assert code == 503 and json.loads(body)["state"] == "draining"
        assert status(d)["state"] == "draining"
        assert metrics(d)[("pggw_draining", ())] == 1
        assert http_refused(d.port)
        with pytest.raises(psycopg.OperationalError):
            idle.execute("SELECT 1")
        # the transaction that was open may still commit
        in_tx.execute("INSERT INTO assets (external_id, name) VALUES ('d3', 'D3')")
        in_tx.commit()
        wait_for(lambda: status(d)["connections"] == 0, timeout=10,
                 what="the session to close")
        assert status(d)["wal"]["rows"] == 3
    finally:
        d.stop()
    assert d.proc.returncode == 0


def test_drain_completes_when_cdf_is_up(tmp_path: Path) -> None:
    d = start_daemon(tmp_path)
    try:
        with psycopg.connect(d.dsn, autocommit=True) as c:
            c.execute("INSERT INTO assets (external_id, name) VALUES ('e1', 'E1'), "
                      "('e2', 'E2')")
        r = subprocess.run([sys.executable, "-m", "pggw.admin", "drain", "--http-url",
                            f"http://127.0.0.1:{d.http_port}", "--timeout", "30",
                            "--interval", "0.2"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "drained: the WAL of replica" in r.stdout
        assert status(d)["wal"]["rows"] == 0
    finally:
        d.stop()


def test_json_logs(tmp_path: Path) -> None:
    d = start_daemon(tmp_path, *UNREACHABLE_CDF, "--log-format", "json")
    try:
        with psycopg.connect(d.dsn, autocommit=True) as c:
            c.execute("INSERT INTO assets (external_id, name) VALUES ('j1', 'J1')")
        wait_for(lambda: "backing_off" in d.log(), timeout=20, what="a state change line")
    finally:
        d.stop()
    lines = [line for line in d.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"ts", "level", "namespace", "msg"} <= set(r) for r in records)
    conn = [r for r in records if r.get("user") == "alice" and "connected" in r["msg"]]
    assert conn and conn[0]["namespace"] == "pggw.server.protocol"
    # idle -> backing_off, or idle -> running -> backing_off when the commit woke the lane
    assert any(r["msg"].startswith("uploads of alice: ") and " -> backing_off" in r["msg"]
               for r in records), [
        r["msg"] for r in records if "uploads of" in r["msg"]]
    assert any("stopped cleanly" in r["msg"] for r in records)
    text = d.log()
    assert d.password not in text
    assert '"y"' not in text  # the CDF client secret given on the command line


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(x) for x in (task / "children").read_text().split()]
    return out


def test_sigkilled_gateway_takes_its_embedded_emulator_along(tmp_path: Path) -> None:
    """The embedded emulator notices its gateway is gone and stops, so that a restarted
    gateway's emulator can take the port again."""
    d = start_daemon(tmp_path / "gw")
    try:
        emulators = wait_for(lambda: [
            c for c in _children(d.proc.pid)
            if b"pggw.emulator" in Path(f"/proc/{c}/cmdline").read_bytes()],  # after exec
            timeout=10, what="the embedded emulator")
        assert len(emulators) == 1, emulators
    finally:
        d.proc.kill()
        d.proc.wait()
    wait_for(lambda: not Path(f"/proc/{emulators[0]}").exists()
             or b"Z" in Path(f"/proc/{emulators[0]}/stat").read_bytes().split(b")")[1][:3],
             timeout=10, what="the orphaned emulator to stop")
    # And the same data dir starts again, emulator and all.
    start_daemon(tmp_path / "gw").stop()
