"""The uploader against the real emulator in a child process, with a real WAL (imported
by name: the test directory is on sys.path)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from pggw.cdf import CdfClient, ClientCredentialsProvider
from pggw.tables.registry import builtin_registry
from pggw.upload import Backoff, Uploader
from pggw.wal.codec import encode_chunk
from pggw.wal.log import WriteAheadLog

REPO = Path(__file__).resolve().parents[3]

CLIENTS = [
    {"clientId": "demo-client", "clientSecret": "demo-secret", "project": "demo"},
    {"clientId": "reader", "clientSecret": "reader-secret", "project": "demo",
     "capabilities": [{"assetsAcl": {"actions": ["READ"], "scope": {"all": {}}}}]},
]


class Emulator:
    """``python -m pggw.emulator`` as a child process."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        clients = self.data_dir / "clients.json"
        clients.write_text(json.dumps(CLIENTS))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pggw.emulator", "--endpoint", "tcp:0:interface=127.0.0.1",
             "--data-dir", str(self.data_dir), "--clients", str(clients)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                return self.url
        self.stop()
        raise RuntimeError("the emulator did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator(tmp_path / "emulator")
    emu.start()
    yield emu
    emu.stop()


def client_for(url: str, client_id: str = "demo-client", secret: str = "demo-secret",
               **kw: Any) -> CdfClient:
    tokens = ClientCredentialsProvider(f"{url}/oauth2/token", client_id, secret,
                                       [f"{url}/.default"], reactor=reactor)
    return CdfClient(url, "demo", tokens, reactor=reactor, **kw)


async def open_wal(path: Path) -> WriteAheadLog:
    wal = WriteAheadLog(path, reactor=reactor)  # type: ignore[arg-type]
    await wal.open()
    return wal


async def commit(wal: WriteAheadLog, user: str, table: str, rows: Any,
                 op: str = "insert") -> int:
    cols = rows if isinstance(rows, dict) else {
        k: [r.get(k) for r in rows] for k in dict.fromkeys(k for r in rows for k in r)}
    n = len(next(iter(cols.values())))
    seq: int = await wal.commit(wal.new_txid(), user, [(table, op, encode_chunk(cols), n)])
    return seq


def uploader(wal: WriteAheadLog, clients: Any, **kw: Any) -> Uploader:
    kw.setdefault("backoff", Backoff(0.05, 1.0))
    kw.setdefault("poll_interval", 0.05)
    up = Uploader(wal, builtin_registry(), clients, reactor, **kw)  # type: ignore[arg-type]
    up.startService()
    return up


async def wait_for(cond: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if isinstance(value, Deferred):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await deferLater(reactor, 0.05, lambda: None)


async def drained(wal: WriteAheadLog, timeout: float = 60.0) -> None:
    async def empty() -> bool:
        return (await wal.stats()).records == 0

    await wait_for(lambda: Deferred.fromCoroutine(empty()), timeout)


async def faults(client: CdfClient, rules: list[dict[str, Any]] | None) -> None:
    """Set (or with ``None`` clear) the emulator's fault rules."""
    import treq

    if rules is None:
        response = await treq.delete(f"{client.base_url}/_emulator/faults")
    else:
        response = await treq.post(f"{client.base_url}/_emulator/faults",
                                   json.dumps(rules).encode(),
                                   headers={"Content-Type": ["application/json"]},
                                   params={"replace": "true"})
    await response.content()
    assert response.code in (200, 204), response.code
