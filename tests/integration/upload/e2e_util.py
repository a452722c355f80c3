"""Helpers for the end-to-end upload tests: a real daemon with its embedded emulator,
read back with cognite-sdk, fault injection, and a look into the WAL file (imported by
name: the test directory is on sys.path)."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cognite.client import ClientConfig, CogniteClient
from cognite.client.credentials import OAuthClientCredentials

from tests.conftest import Daemon, embedded_emulator_url


def sdk(url: str) -> CogniteClient:
    return CogniteClient(ClientConfig(
        client_name="pggw-e2e", project="demo", base_url=url, timeout=30,
        credentials=OAuthClientCredentials(
            token_url=f"{url}/oauth2/token", client_id="demo-client",
            client_secret="demo-secret", scopes=["x"]),
    ))


def faults(url: str, rules: list[dict[str, Any]] | None) -> Any:
    """Set (``rules``) or clear (``None``) the emulator's fault rules."""
    if rules is None:
        req = urllib.request.Request(f"{url}/_emulator/faults", method="DELETE")
    else:
        req = urllib.request.Request(f"{url}/_emulator/faults", data=json.dumps(rules).encode(),
                                     method="POST", headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def fault_rules(url: str) -> list[dict[str, Any]]:
    """The emulator's fault rules with how often each fired."""
    with urllib.request.urlopen(f"{url}/_emulator/faults", timeout=10) as r:
        body = json.loads(r.read())
    rules = body.get("items", body) if isinstance(body, dict) else body
    return list(rules)


def emu_stats(url: str) -> Any:
    with urllib.request.urlopen(f"{url}/_emulator/stats", timeout=10) as r:
        return json.loads(r.read())


def _wal(d: Daemon) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{d.data_dir / 'wal.sqlite3'}?mode=ro", uri=True, timeout=10)


def wal_pending(d: Daemon) -> int:
    """Committed records still waiting for upload."""
    with _wal(d) as c:
        return int(c.execute("SELECT count(*) FROM records AS r JOIN commits AS c"
                             " ON c.txid = r.txid").fetchone()[0])


def dead_letters(d: Daemon) -> list[tuple[str, list[dict[str, Any]] | None, dict[str, Any]]]:
    with _wal(d) as c:
        return [(t, json.loads(rows) if rows else None, json.loads(err)) for t, rows, err in
                c.execute("SELECT table_name, rows_json, error FROM dead_letters ORDER BY id")]


def until(cond: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout} s")
        time.sleep(0.1)


def drained(d: Daemon, timeout: float = 60) -> None:
    until(lambda: wal_pending(d) == 0, timeout, "WAL drained")


def emulator_of(d: Daemon) -> str:
    return embedded_emulator_url(d)


__all__ = ["Path", "dead_letters", "drained", "emu_stats", "emulator_of", "fault_rules",
           "faults", "sdk",
           "until", "wal_pending"]
