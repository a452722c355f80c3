# ruff: noqa: B023
# (each closure in this file is called at once, inside its own loop iteration)
"""A mixed workload that records what the gateway acknowledged, and the oracle that checks CDF.

Every client thread owns its keys (``rel-<user>-r<round>-<worker>...``), so the expected final
state of a key is decided by that thread's operations alone, in order:

* an acknowledged operation sets its keys' states;
* the one operation in flight when the gateway died (sent, not acknowledged) may or may not
  have committed: the oracle accepts either, but *all or none* of its keys (a transaction is
  atomic, also in CDF once drained);
* rolled-back transactions, unfinished COPYs and never-committed transactions leave keys that
  must never appear.

A key's state: ``A|xid`` asset → ``(name, parent external id)``; ``T|xid`` time series →
``True``; ``D|xid|ms`` datapoint → value; ``R|table|key`` RAW row → columns. ``None`` = absent.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import psycopg
from harness import Emulator

BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
BASE_MS = int(BASE.timestamp() * 1000)
RAW_DB = "reldb"
PREFIX = "rel-"


def ts(ms: int) -> dt.datetime:
    return BASE + dt.timedelta(milliseconds=ms)


@dataclass
class Op:
    worker: str
    label: str
    changes: dict[str, Any]
    acked: bool = False


@dataclass
class Recorder:
    """Everything every client sent and saw acknowledged, across rounds."""

    ops: list[Op] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self, worker: str, label: str, changes: dict[str, Any]) -> Op:
        op = Op(worker, label, changes)
        with self.lock:
            self.ops.append(op)
        return op

    def forbid(self, *keys: str) -> None:
        with self.lock:
            self.forbidden.update(keys)

    @property
    def acked_ops(self) -> int:
        return sum(op.acked for op in self.ops)

    @property
    def acked_keys(self) -> int:
        return len({k for op in self.ops if op.acked for k in op.changes})


class Round:
    """One user's client threads for one gateway lifetime."""

    def __init__(self, rec: Recorder, dsn: str, user: str, round_no: int,
                 rng: random.Random, *, never_acked: bool = True, pace: float = 0.0) -> None:
        self.rec = rec
        self.dsn = dsn
        self.ns = f"{PREFIX}{user}-r{round_no}"
        self.rng = random.Random(rng.random())
        self.pace = pace  # seconds between operations (0: as fast as the gateway acks)
        self.progress: dict[str, int] = defaultdict(int)
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        workers = [self.assets, self.series, self.raw]
        if never_acked:
            workers += [self.copy_forever, self.open_transaction]
        self.threads = [threading.Thread(target=self._guard, args=(f,), daemon=True)
                        for f in workers]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self, timeout: float = 15) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout)

    def ready(self) -> bool:
        return all(self.progress[w] > 0 for w in ("assets", "series", "raw"))

    def _guard(self, fn: Any) -> None:
        try:
            fn()
        except (psycopg.OperationalError, psycopg.Rollback):
            pass  # the gateway died (a Rollback escapes when the ROLLBACK itself fails)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.errors.append(e)
            self.rec.unexpected.append(f"{self.ns} {fn.__name__}: {type(e).__name__}: {e}")

    def _run(self, worker: str, label: str, changes: dict[str, Any], fn: Any) -> None:
        op = self.rec.begin(f"{self.ns}-{worker}", label, changes)
        fn()
        op.acked = True
        self.progress[worker] += 1
        if self.pace:
            time.sleep(self.pace)

    # -- workers ---------------------------------------------------------------------------

    def assets(self) -> None:
        ns = f"{self.ns}-a"
        with psycopg.connect(self.dsn, autocommit=True) as c:
            cur = c.cursor()
            for k in range(10**9):
                if self.stop.is_set():
                    return
                p, c1, c2 = f"{ns}-p{k}", f"{ns}-c{k}a", f"{ns}-c{k}b"

                def tx() -> None:
                    with c.transaction():
                        cur.execute("INSERT INTO assets (external_id, name) VALUES (%s, %s)",
                                    (p, f"P{k}"))
                        cur.execute("INSERT INTO assets (external_id, name, parent_external_id)"
                                    " VALUES (%s, %s, %s), (%s, %s, %s)",
                                    (c1, f"C{k}a", p, c2, f"C{k}b", p))
                self._run("assets", "tx parent+children", {
                    f"A|{p}": (f"P{k}", None), f"A|{c1}": (f"C{k}a", p),
                    f"A|{c2}": (f"C{k}b", p)}, tx)
                if k % 2 == 0:
                    self._run("assets", "upsert", {f"A|{p}": (f"P{k}-v2", None)},
                              lambda: cur.execute(
                                  "INSERT INTO assets (external_id, name) VALUES (%s, %s) "
                                  "ON CONFLICT (external_id) DO UPDATE SET name = "
                                  "EXCLUDED.name", (p, f"P{k}-v2")))
                if k % 3 == 0:
                    self._run("assets", "delete", {f"A|{c2}": None}, lambda: cur.execute(
                        "DELETE FROM assets WHERE external_id = %s", (c2,)))
                if k % 5 == 0:
                    self._run("assets", "update", {f"A|{c1}": (f"C{k}a-v3", p)},
                              lambda: cur.execute(
                                  "UPDATE assets SET name = %s WHERE external_id = %s",
                                  (f"C{k}a-v3", c1)))
                if k % 4 == 1:
                    rb = f"{ns}-rb{k}"
                    self.rec.forbid(f"A|{rb}")
                    with c.transaction():
                        cur.execute("INSERT INTO assets (external_id, name) VALUES (%s, 'RB')",
                                    (rb,))
                        raise psycopg.Rollback()

    def series(self) -> None:
        ns = f"{self.ns}-t"
        ins = "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES (%s, %s, %s)"
        with psycopg.connect(self.dsn, autocommit=True) as c:
            cur = c.cursor()
            for k in range(10**9):
                if self.stop.is_set():
                    return
                x = f"{ns}{k}"
                pts = [(x, ts(j), k * 1000 + j + 0.5) for j in range(20)]

                def tx() -> None:
                    with c.transaction():
                        cur.execute("INSERT INTO time_series (external_id, name) VALUES (%s, %s)",
                                    (x, f"series {k}"))
                        cur.executemany(ins, pts)
                self._run("series", "tx series+points", {
                    f"T|{x}": True, **{f"D|{x}|{BASE_MS + j}": r[2] for j, r in enumerate(pts)}},
                    tx)
                text = [(x, ts(100 + j), k * 1000 + 100 + j + 0.125) for j in range(50)]

                def copy_text() -> None:
                    with cur.copy("COPY double_datapoints (external_id, timestamp, value) "
                                  "FROM STDIN") as cp:
                        for row in text:
                            cp.write_row(row)
                self._run("series", "copy text", {
                    f"D|{x}|{BASE_MS + 100 + j}": r[2] for j, r in enumerate(text)},
                    copy_text)
                binary = [(x, ts(200 + j), -(k * 1000 + j) - 0.75) for j in range(50)]

                def copy_binary() -> None:
                    with cur.copy("COPY double_datapoints (external_id, timestamp, value) "
                                  "FROM STDIN (FORMAT BINARY)") as cp:
                        cp.set_types(["text", "timestamptz", "float8"])
                        for row in binary:
                            cp.write_row(row)
                self._run("series", "copy binary", {
                    f"D|{x}|{BASE_MS + 200 + j}": r[2] for j, r in enumerate(binary)},
                    copy_binary)
                if k % 2 == 0:
                    over = [(x, ts(j), 7e6 + k + j) for j in range(10)]
                    self._run("series", "overwrite", {
                        f"D|{x}|{BASE_MS + j}": r[2] for j, r in enumerate(over)},
                        lambda: cur.executemany(ins, over))
                if k % 3 == 0:
                    self._run("series", "delete range", {
                        f"D|{x}|{BASE_MS + 100 + j}": None for j in range(10)},
                        lambda: cur.execute(
                            "DELETE FROM double_datapoints WHERE external_id = %s AND "
                            "timestamp >= %s AND timestamp < %s", (x, ts(100), ts(110))))

    def raw(self) -> None:
        table = f"{self.ns}-raw"
        ins = ("INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key, _raw_columns) "
               "VALUES (%s, %s, %s, %s)")
        with psycopg.connect(self.dsn, autocommit=True) as c:
            cur = c.cursor()
            for k in range(10**9):
                if self.stop.is_set():
                    return
                rows = [(RAW_DB, table, f"k{(k * 3 + j) % 25}",
                         json.dumps({"n": k, "j": j, "s": "é\u2603"})) for j in range(10)]
                self._run("raw", "executemany upsert", {
                    f"R|{table}|{r[2]}": json.loads(r[3]) for r in rows},
                    lambda: cur.executemany(ins, rows))
                if k % 3 == 2:
                    multi = [(RAW_DB, table, f"m{k}-{j}", json.dumps({"m": k})) for j in range(3)]
                    self._run("raw", "multi-row", {
                        f"R|{table}|m{k}-{j}": {"m": k} for j in range(3)},
                        lambda: cur.execute(
                            "INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key, "
                            "_raw_columns) VALUES " + ", ".join(["(%s, %s, %s, %s)"] * 3),
                            [v for r in multi for v in r]))
                if k % 4 == 3:
                    self.rec.forbid(f"R|{table}|rb{k}")
                    with c.transaction():
                        cur.execute(ins, (RAW_DB, table, f"rb{k}", '{"rolled": "back"}'))
                        raise psycopg.Rollback()

    def copy_forever(self) -> None:
        """A COPY still streaming when the gateway dies: none of it may reach CDF."""
        table = f"{self.ns}-never"
        with psycopg.connect(self.dsn) as c, c.cursor() as cur, cur.copy(
                "COPY raw_rows (_raw_database, _raw_table, _raw_key, _raw_columns) "
                "FROM STDIN") as cp:
                for k in range(10**9):
                    key = f"copy{k}"
                    if k % 100 == 0:
                        self.rec.forbid(*(f"R|{table}|copy{k + i}" for i in range(100)))
                    cp.write_row((RAW_DB, table, key, '{"copy": 1}'))
                    if k % 200 == 199:
                        time.sleep(0.01)
                        if self.stop.is_set():
                            raise psycopg.OperationalError("stopped")

    def open_transaction(self) -> None:
        """A transaction that never commits."""
        table = f"{self.ns}-never"
        with psycopg.connect(self.dsn) as c:
            cur = c.cursor()
            for k in range(10**9):
                self.rec.forbid(f"R|{table}|open{k}")
                cur.execute("INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key, "
                            "_raw_columns) VALUES (%s, %s, %s, '{}')", (RAW_DB, table, f"open{k}"))
                time.sleep(0.005)
                if self.stop.is_set():
                    raise psycopg.OperationalError("stopped")


# -- the oracle ----------------------------------------------------------------------------

@dataclass
class Verdict:
    keys_checked: int = 0
    rows_checked: int = 0
    acked_ops: int = 0
    inflight_applied: int = 0
    inflight_not_applied: int = 0
    problems: list[str] = field(default_factory=list)


def actual_state(emu: Emulator, rec: Recorder) -> tuple[dict[str, Any], list[str]]:
    """Everything under our prefix that is in CDF, as oracle keys; plus duplicate reports."""
    state: dict[str, Any] = {}
    dups: list[str] = []
    assets = [a for a in emu.list_all("assets") if str(a.get("externalId", "")).startswith(PREFIX)]
    by_id = {a["id"]: a.get("externalId") for a in emu.list_all("assets")}
    seen: set[str] = set()
    for a in assets:
        x = a["externalId"]
        if x in seen:
            dups.append(f"asset {x}")
        seen.add(x)
        parent = a.get("parentExternalId") or by_id.get(a.get("parentId"))
        state[f"A|{x}"] = (a.get("name"), parent)
    series = [t["externalId"] for t in emu.list_all("timeseries")
              if str(t.get("externalId", "")).startswith(PREFIX)]
    if len(series) != len(set(series)):
        dups.append("time series duplicated")
    wanted = {k.split("|")[1] for op in rec.ops for k in op.changes if k.startswith("T|")}
    for x in set(series) | wanted:
        if x in series:
            state[f"T|{x}"] = True
            for t_ms, v in emu.datapoints(x).items():
                state[f"D|{x}|{t_ms}"] = v
    for table in emu.raw_tables(RAW_DB):
        if table.startswith(PREFIX):
            for key, cols in emu.raw_rows(RAW_DB, table).items():
                state[f"R|{table}|{key}"] = cols
    return state, dups


def check(emu: Emulator, rec: Recorder) -> Verdict:
    v = Verdict(acked_ops=rec.acked_ops)
    actual, dups = actual_state(emu, rec)
    v.problems += [f"duplicate {d}" for d in dups]
    expected: dict[str, Any] = {}
    by_worker: dict[str, list[Op]] = defaultdict(list)
    for op in rec.ops:
        by_worker[op.worker].append(op)
    allowed_alt: dict[str, Any] = {}
    for worker, ops in by_worker.items():
        for i, op in enumerate(ops):
            if op.acked:
                expected.update(op.changes)
                continue
            if i != len(ops) - 1:
                v.problems.append(f"{worker}: unacknowledged {op.label} is not the last op")
            # In flight: all or none.
            before = {k: expected.get(k) for k in op.changes}
            differ = [k for k in op.changes if before[k] != op.changes[k]]
            applied = [k for k in differ if actual.get(k) == op.changes[k]]
            if applied and len(applied) != len(differ):
                v.problems.append(
                    f"{worker}: in-flight {op.label} partially applied "
                    f"({len(applied)}/{len(differ)}), e.g. "
                    f"{[k for k in differ if k not in applied][:3]}")
            if applied:
                v.inflight_applied += 1
                for k in op.changes:
                    allowed_alt[k] = op.changes[k]
            else:
                v.inflight_not_applied += 1
    for k, want in expected.items():
        got = actual.get(k)
        v.keys_checked += 1
        if want is not None:
            v.rows_checked += 1
        if k in allowed_alt:
            want = allowed_alt[k]
        if got != want:
            v.problems.append(f"{k}: expected {want!r}, CDF has {got!r}")
    for k in allowed_alt.keys() - expected.keys():
        if actual.get(k) != allowed_alt[k]:
            v.problems.append(f"{k}: in-flight applied but CDF has {actual.get(k)!r}")
    known = expected.keys() | allowed_alt.keys()
    for k, got in actual.items():
        if k in rec.forbidden:
            v.problems.append(f"{k}: never acknowledged (rolled back / unfinished) but in CDF")
        elif k not in known:
            in_op = any(k in op.changes for op in rec.ops)
            if not in_op:
                v.problems.append(f"{k}: in CDF but never written: {got!r}")
            else:
                v.problems.append(f"{k}: unacknowledged write in CDF: {got!r}")
    return v
