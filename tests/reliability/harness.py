"""Helpers shared by the reliability tests: daemons with their embedded emulator, killing them
(and their emulator child) by pid, talking to the emulator, RSS, figure files."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from pathlib import Path
from typing import Any

import requests
from reliability_mode import FULL

from tests.conftest import Daemon, add_user, start_daemon

FIGURES = Path(__file__).parent / "figures"
USERS = {"alice": "s3cret-pw", "bob": "b0b-pa55word"}
_EMU = re.compile(r"embedded CDF emulator listening on (http://\S+)")


def dsn(d: Daemon, user: str = "alice", **extra: str) -> str:
    parts = {"host": "127.0.0.1", "port": str(d.port), "user": user,
             "password": USERS.get(user, d.password), "dbname": user, "sslmode": "disable",
             "connect_timeout": "10", **extra}
    return " ".join(f"{k}={v}" for k, v in parts.items())


def start(data_dir: Path, *args: str, users: bool = True) -> Daemon:
    """A daemon (embedded emulator unless args say otherwise) with users alice and bob."""
    fresh = not (data_dir / "users.sqlite3").exists()
    d = start_daemon(data_dir, *args, password=USERS["alice"])
    if users and fresh:
        add_user(data_dir, "bob", USERS["bob"])
    return d


def children(pid: int) -> list[int]:
    """Direct child pids of pid (from /proc)."""
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def emulator_pid(d: Daemon) -> int | None:
    for c in children(d.proc.pid):
        try:
            cmd = Path(f"/proc/{c}/cmdline").read_bytes()
        except OSError:
            continue
        if b"pggw.emulator" in cmd:
            return c
    return None


def kill_hard(d: Daemon, *, with_emulator: bool = True) -> None:
    """SIGKILL the gateway; its emulator child (which would outlive it) is killed too, by pid."""
    kids = [emulator_pid(d)] if with_emulator else []
    os.kill(d.proc.pid, signal.SIGKILL)
    d.proc.wait()
    for k in kids:
        if k is None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(k, signal.SIGKILL)
        _reap_wait(k)


def _reap_wait(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return
        except OSError:
            return
        time.sleep(0.02)


def stop(d: Daemon) -> None:
    kid = emulator_pid(d)
    d.stop()
    if kid is not None and Path(f"/proc/{kid}").exists():
        with contextlib.suppress(ProcessLookupError):
            os.kill(kid, signal.SIGKILL)


def emulator_url(d: Daemon, timeout: float = 30) -> str:
    """The URL the running daemon's embedded emulator listens on (the last one logged)."""
    deadline = time.monotonic() + timeout
    while True:
        found = _EMU.findall(d.log())
        if found:
            # The log is appended to across restarts: the newest line is this daemon's.
            url = found[-1]
            try:
                requests.get(url + "/_emulator/stats", timeout=2)
                return url
            except requests.RequestException:
                pass
        if time.monotonic() > deadline:
            raise TimeoutError("no embedded emulator URL in the log")
        time.sleep(0.1)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def tree_rss_kib(pid: int) -> int:
    return rss_kib(pid) + sum(rss_kib(c) for c in children(pid) if Path(f"/proc/{c}").exists())


def write_figure(name: str, data: dict[str, Any]) -> Path:
    """Record what a test measured: figures/ for a full run (committed, in the READMEs'
    tables via figures.py), figures/ci/ for CI-sized runs (not committed)."""
    directory = FIGURES if FULL else FIGURES / "ci"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    data = {**data, "mode": os.environ.get("PGGW_RELIABILITY", "ci") or "ci",
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(f"\nfigure {name}: {json.dumps(data, sort_keys=True)}")
    return path


class Emulator:
    """A tiny CDF client on requests, for reading back what arrived (project demo)."""

    def __init__(self, url: str, project: str = "demo") -> None:
        self.url = url
        self.base = f"{url}/api/v1/projects/{project}"
        self.s = requests.Session()
        tok = self.s.post(f"{url}/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": "demo-client",
            "client_secret": "demo-secret"}, timeout=30).json()["access_token"]
        self.token = tok
        self.s.headers["Authorization"] = f"Bearer {tok}"

    def faults(self, rules: list[dict[str, Any]] | None) -> None:
        if rules is None:
            self.s.delete(f"{self.url}/_emulator/faults", timeout=30).raise_for_status()
        else:
            self.s.post(f"{self.url}/_emulator/faults", json=rules, timeout=30).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return dict(self.s.get(f"{self.url}/_emulator/stats", timeout=30).json())

    def fault_report(self) -> list[dict[str, Any]]:
        r = self.s.get(f"{self.url}/_emulator/faults", timeout=30).json()
        return list(r.get("items", r) if isinstance(r, dict) else r)

    def list_all(self, resource: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            r = self.s.get(f"{self.base}/{resource}", params=params, timeout=60)
            r.raise_for_status()
            body = r.json()
            out += body["items"]
            cursor = body.get("nextCursor")
            if not cursor:
                return out

    def datapoints(self, xid: str) -> dict[int, float]:
        out: dict[int, float] = {}
        start = 0
        while True:
            r = self.s.post(f"{self.base}/timeseries/data/list", json={
                "items": [{"externalId": xid}], "start": start, "end": "now",
                "limit": 100000}, timeout=60)
            r.raise_for_status()
            dps = r.json()["items"][0]["datapoints"]
            for p in dps:
                out[p["timestamp"]] = p.get("value")
            if len(dps) < 100000:
                return out
            start = dps[-1]["timestamp"] + 1

    def raw_tables(self, db: str) -> list[str]:
        r = self.s.get(f"{self.base}/raw/dbs/{db}/tables", params={"limit": 1000}, timeout=60)
        if r.status_code == 404:
            return []
        r.raise_for_status()
        return [t["name"] for t in r.json()["items"]]

    def raw_rows(self, db: str, table: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 10000}
            if cursor:
                params["cursor"] = cursor
            r = self.s.get(f"{self.base}/raw/dbs/{db}/tables/{table}/rows", params=params,
                           timeout=60)
            if r.status_code == 404:
                return out
            r.raise_for_status()
            body = r.json()
            for row in body["items"]:
                out[row["key"]] = row["columns"]
            cursor = body.get("nextCursor")
            if not cursor:
                return out


def wait_uploaded(d: Daemon, users: list[str], timeout: float = 120) -> None:
    """The per-user barrier: every committed row of each user is in CDF, none rejected."""
    import psycopg

    for u in users:
        with psycopg.connect(dsn(d, u), autocommit=True) as c:
            c.execute(f"SELECT pggw.wait_uploaded({timeout})")
