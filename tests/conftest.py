"""Shared fixtures: a real gateway daemon on loopback, with a user, for client tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open")


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    data_dir: Path
    port: int
    http_port: int
    user: str
    password: str
    log_path: Path

    @property
    def dsn(self) -> str:
        return (f"host=127.0.0.1 port={self.port} user={self.user} password={self.password} "
                f"dbname={self.user}")

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.user}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def add_user(data_dir: Path, name: str, password: str, *extra: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pggw.admin", "--data-dir", str(data_dir), "adduser", name,
         "--password-stdin", *extra],
        input=password.encode(), check=True, capture_output=True,
    )


def start_daemon(data_dir: Path, *args: str, user: str = "alice", password: str = "s3cret-pw",
                 env: dict[str, str] | None = None) -> Daemon:
    data_dir.mkdir(parents=True, exist_ok=True)
    if user and not (data_dir / "users.sqlite3").exists():
        add_user(data_dir, user, password)
    port, http_port = free_port(), free_port()
    log_path = data_dir / "twistd.log"
    cmd = [*TWISTD, "-n", "--logfile", str(log_path), "--pidfile", "",
           "pggw", "--data-dir", str(data_dir),
           "--pg-endpoint", f"tcp:{port}:interface=127.0.0.1",
           "--http-endpoint", f"tcp:{http_port}:interface=127.0.0.1",
           "--emulator-endpoint", "tcp:0:interface=127.0.0.1", *args]
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    d = Daemon(proc, data_dir, port, http_port, user, password, log_path)
    try:
        wait_port(port, proc)
    except Exception:
        d.stop()
        out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        logtext = log_path.read_text(errors="replace") if log_path.exists() else ""
        raise RuntimeError(f"gateway did not start:\n{out}\n{logtext}") from None
    return d


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One gateway shared by the client tests (they use distinct rows and tables)."""
    d = start_daemon(tmp_path_factory.mktemp("gw"))
    yield d
    d.stop()


def embedded_emulator_url(d: Daemon, timeout: float = 30) -> str:
    """The embedded emulator's base URL, from the daemon's log (``embedded CDF emulator
    listening on http://...``)."""
    import re

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if d.log_path.exists():
            found = re.findall(r"embedded CDF emulator listening on (http://[^\s()]+)", d.log())
            if found:  # the last one: a restarted daemon appends to the same log
                return str(found[-1]).rstrip("/")
        if d.proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"no embedded emulator URL in {d.log_path}")
