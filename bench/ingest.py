"""Ingest benchmark: the same rows, through the same client, into pggw and into PostgreSQL 15.

    python bench/ingest.py [--rows 1000000] [--paths copy_text,copy_binary,...] [--rss-rows N]
                           [--backlog N] [--profile DIR [--profile-mode gil|idle]]

pggw runs as in real use (``twistd pggw``, its uploader draining into the
embedded emulator in another process); PostgreSQL is Debian's 15, started
in a temp dir with fsync and synchronous_commit on.  Both get a
``double_datapoints (external_id, timestamp, value)`` table with a unique
index on (external_id, timestamp).  Prints rows/s for each and the ratio; then how
many rows pggw's uploader drained into the emulator while PostgreSQL's part ran (on the
same cores), and for pggw's part the rows waiting in its WAL for upload when it started
and ended (the uploader drains the earlier paths' rows meanwhile) and the CPU seconds the
gateway and the emulator used.

``--backlog N`` first COPYs N rows into pggw only (not measured), so that a single path
runs while the uploader drains a backlog, as in the full run. ``--profile DIR`` records
the gateway with py-spy during pggw's part of each path (``DIR/<path>.txt``, py-spy's raw
collapsed stacks): every thread, waiting or not, or with ``--profile-mode gil`` only the
thread holding the GIL (where the Python CPU goes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pgserver import postgres_server  # noqa: E402
from tests.conftest import start_daemon  # noqa: E402

SERIES = 1000
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
PG_TABLE = """
CREATE TABLE double_datapoints (
    external_id varchar(255),
    "timestamp" timestamptz NOT NULL,
    value double precision,
    UNIQUE (external_id, "timestamp")
)"""


def make_rows(n: int, offset: int = 0) -> list[tuple[str, dt.datetime, float]]:
    return [(f"bench-ts-{i % SERIES}", BASE + dt.timedelta(milliseconds=offset + i), i * 0.25)
            for i in range(n)]


def dsn_params(dsn: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in dsn.split())


# -- the paths: each gets a DSN and rows and returns seconds ----------------------------
def copy_text(dsn: str, rows: list[tuple[str, dt.datetime, float]]) -> float:
    import psycopg

    with psycopg.connect(dsn) as c, c.cursor() as cur:
        t = time.perf_counter()
        with cur.copy('COPY double_datapoints (external_id, "timestamp", value) FROM STDIN') as cp:
            for r in rows:
                cp.write_row(r)
        c.commit()
        return time.perf_counter() - t


def copy_binary(dsn: str, rows: list[tuple[str, dt.datetime, float]]) -> float:
    import asyncpg

    p = dsn_params(dsn)

    async def run() -> float:
        conn = await asyncpg.connect(host=p["host"], port=int(p["port"]), user=p["user"],
                                     password=p.get("password"), database=p["dbname"], ssl=False)
        try:
            t = time.perf_counter()
            await conn.copy_records_to_table("double_datapoints", records=rows,
                                             columns=["external_id", "timestamp", "value"])
            return time.perf_counter() - t
        finally:
            await conn.close()

    return asyncio.run(run())


def multirow_insert(dsn: str, rows: list[tuple[str, dt.datetime, float]]) -> float:
    import psycopg

    stmts = []
    for i in range(0, len(rows), 1000):
        values = ",".join(f"('{e}','{ts.isoformat()}',{v!r})" for e, ts, v in rows[i:i + 1000])
        stmts.append(f'INSERT INTO double_datapoints (external_id, "timestamp", value) '
                     f"VALUES {values}")
    with psycopg.connect(dsn, autocommit=True) as c:
        t = time.perf_counter()
        for s in stmts:
            c.execute(s.encode(), prepare=False)
        return time.perf_counter() - t


def executemany(dsn: str, rows: list[tuple[str, dt.datetime, float]]) -> float:
    import psycopg

    with psycopg.connect(dsn) as c, c.cursor() as cur:
        t = time.perf_counter()
        for i in range(0, len(rows), 10_000):
            cur.executemany('INSERT INTO double_datapoints (external_id, "timestamp", value) '
                            "VALUES (%s, %s, %s)", rows[i:i + 10_000])
        c.commit()
        return time.perf_counter() - t


def single_row_8(dsn: str, rows: list[tuple[str, dt.datetime, float]]) -> float:
    import psycopg

    parts = [rows[i::8] for i in range(8)]
    conns = [psycopg.connect(dsn, autocommit=True) for _ in parts]
    errors: list[BaseException] = []

    def work(c: psycopg.Connection, part: list[tuple[str, dt.datetime, float]]) -> None:
        try:
            for r in part:
                c.execute('INSERT INTO double_datapoints (external_id, "timestamp", value) '
                          "VALUES (%s, %s, %s)", r)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(c, p)) for c, p in zip(conns, parts,
                                                                          strict=True)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    for c in conns:
        c.close()
    if errors:
        raise errors[0]
    return elapsed


PATHS: dict[str, tuple[str, Callable[..., float], float, float]] = {
    # name: (label, function, target ratio, share of --rows)
    "copy_text": ("COPY text (psycopg copy())", copy_text, 0.5, 1.0),
    "copy_binary": ("COPY binary (asyncpg copy_records_to_table)", copy_binary, 0.4, 1.0),
    "multirow_insert": ("1000-row literal multi-row INSERT", multirow_insert, 0.3, 1.0),
    "executemany": ("psycopg executemany (pipelined)", executemany, 0.7, 1.0),
    "single_row_8": ("single-row autocommit INSERT, 8 connections", single_row_8, 0.5, 0.02),
}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_run(dsn: str, pid: int, n: int) -> float:
    """Stream ``n`` rows through one COPY without holding them in the client."""
    import psycopg

    with psycopg.connect(dsn) as c, c.cursor() as cur:
        with cur.copy('COPY double_datapoints (external_id, "timestamp", value) FROM STDIN') as cp:
            step = 100_000
            for off in range(0, n, step):
                lines = "".join(
                    f"bench-ts-{i % SERIES}\t"
                    f"{(BASE + dt.timedelta(milliseconds=10**9 + i)).isoformat()}\t{i * 0.5}\n"
                    for i in range(off, min(n, off + step)))
                cp.write(lines)
        c.commit()
    return peak_rss_mb(pid)


def backlog_rows(dsn: str) -> int:
    """Rows waiting in pggw's WAL for upload (all tables of the bench user)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as c:
        rows = c.execute("SELECT rows_waiting FROM pggw.backlog").fetchall()
    return sum(int(r[0] or 0) for r in rows)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds used so far by process ``pid`` and by its children (the emulator)."""
    tick = os.sysconf("SC_CLK_TCK")

    def own(p: int) -> float:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / tick

    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            kids += [int(k) for k in (task / "children").read_text().split()]
    return own(pid), sum(own(k) for k in kids)


def start_profile(pid: int, out: Path, mode: str) -> subprocess.Popen[bytes] | None:
    """py-spy on ``pid``: ``mode`` "gil" samples only the thread holding the GIL (where
    the Python CPU goes), "idle" every thread, waiting or not."""
    spy = shutil.which("py-spy")
    if spy is None:
        print("py-spy not found: pip install py-spy", file=sys.stderr)
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--threads",
                             "--gil" if mode == "gil" else "--idle", "--rate", "200",
                             "--nonblocking", "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profile(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        import signal

        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--paths", default=",".join(PATHS))
    ap.add_argument("--rss-rows", type=int, default=0,
                    help="also COPY this many rows in one stream and report pggw's peak RSS")
    ap.add_argument("--backlog", type=int, default=0,
                    help="first COPY this many rows into pggw only, for its uploader to drain "
                         "while the paths run")
    ap.add_argument("--profile", type=Path, default=None,
                    help="record pggw with py-spy during each path into this directory")
    ap.add_argument("--profile-mode", choices=("gil", "idle"), default="idle",
                    help="py-spy samples: the GIL holder only, or all threads (default)")
    args = ap.parse_args()
    import psycopg

    data_dir = Path(tempfile.mkdtemp(prefix="pggw-bench-"))
    gw = start_daemon(data_dir)
    gw_dsn = gw.dsn + " sslmode=disable"
    results = []
    try:
        with psycopg.connect(gw_dsn, autocommit=True) as c:
            c.execute("INSERT INTO time_series (external_id, name) VALUES " + ",".join(
                f"('bench-ts-{i}', 'bench series {i}')" for i in range(SERIES)))
        offset = 0
        if args.backlog:
            copy_text(gw_dsn, make_rows(args.backlog, 10**10))
        with postgres_server() as pg_dsn:
            with psycopg.connect(pg_dsn, autocommit=True) as c:
                c.execute(PG_TABLE)
            for name in args.paths.split(","):
                label, fn, target, share = PATHS[name]
                n = max(1000, int(args.rows * share))
                rows = make_rows(n, offset)
                offset += n
                with psycopg.connect(pg_dsn, autocommit=True) as c:
                    c.execute("TRUNCATE double_datapoints")
                    c.execute("CHECKPOINT")
                before_pg = backlog_rows(gw_dsn)
                t_pg = fn(pg_dsn, rows)
                waiting = backlog_rows(gw_dsn)
                spy = (start_profile(gw.proc.pid, args.profile / f"{name}.txt",
                                     args.profile_mode)
                       if args.profile else None)
                cpu0 = cpu_seconds(gw.proc.pid)
                try:
                    t_gw = fn(gw_dsn, rows)
                finally:
                    stop_profile(spy)
                cpu1 = cpu_seconds(gw.proc.pid)
                r_pg, r_gw = n / t_pg, n / t_gw
                results.append((label, n, r_gw, r_pg, r_gw / r_pg, target))
                print(f"{label:48s} {n:>9,} rows  pggw {r_gw:>10,.0f}/s  "
                      f"PostgreSQL {r_pg:>10,.0f}/s  ratio {r_gw / r_pg:5.2f} "
                      f"(target >= {target})", flush=True)
                print(f"  pggw's uploader drained {before_pg - waiting:,} rows during "
                      f"PostgreSQL's part; pggw: {waiting:,} rows waiting for upload at "
                      f"start, {backlog_rows(gw_dsn):,} at end; CPU s: gateway "
                      f"{cpu1[0] - cpu0[0]:.1f}, emulator {cpu1[1] - cpu0[1]:.1f} "
                      f"in {t_gw:.1f} s; peak RSS so far {peak_rss_mb(gw.proc.pid):.0f} MB",
                      flush=True)
        if args.rss_rows:
            rss = rss_run(gw_dsn, gw.proc.pid, args.rss_rows)
            print(f"peak RSS of pggw after COPY of {args.rss_rows:,} rows: {rss:.0f} MB "
                  "(target <= 200 MB)")
    finally:
        gw.stop()
    print()
    print("| path | rows | pggw rows/s | PostgreSQL rows/s | pggw / PostgreSQL | target |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, n, r_gw, r_pg, ratio, target in results:
        print(f"| {label} | {n:,} | {r_gw:,.0f} | {r_pg:,.0f} | {ratio:.2f} | ≥ {target} |")
    cpu = Path("/proc/cpuinfo").read_text().split("model name")[1].split(":")[1].splitlines()[0]
    print(f"\n{os.cpu_count()} cores; {cpu.strip()}")


if __name__ == "__main__":
    main()
