"""Drain benchmark: how fast the uploader empties the WAL into CDF-shaped HTTP endpoints.

Fills a WAL with 1M double datapoints (1000 series), 100k assets (a two-level hierarchy)
and 500k RAW rows, in 20,000-row records like the write path stages them, and drains each
kind into (a) a minimal HTTP sink in another process that accepts and counts items, and
(b) the emulator (``python -m pggw.emulator``, also another process). Prints items/s and
the uploader process's CPU time per item (all threads: reactor, WAL reader/writer,
JSON encoding).

    python bench/drain.py [--scale 0.1] [--target sink|emulator|both] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHUNK_ROWS = 20_000

SINK = r'''
import sys, json
from twisted.internet import reactor, endpoints
from twisted.web import server, resource
try:
    import orjson
    loads = orjson.loads
except ImportError:
    loads = json.loads
import gzip
counts = {}
class Sink(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(counts).encode()
    def render_POST(self, request):
        data = request.content.read()
        if request.getHeader("content-encoding") == "gzip":
            data = gzip.decompress(data)
        body = loads(data)
        path = request.path.decode()
        items = body.get("items", []) if isinstance(body, dict) else []
        n = len(items)
        if path.endswith("/timeseries/data"):
            n = sum(len(it.get("datapoints", ())) for it in items)
        key = "raw" if "/raw/" in path else path.rsplit("/", 1)[-1]
        counts[key] = counts.get(key, 0) + n
        request.setHeader(b"content-type", b"application/json")
        return b"{}"
site = server.Site(Sink())
site.noisy = False
ep = endpoints.serverFromString(reactor, "tcp:0:interface=127.0.0.1")
def up(port):
    print("listening on http://127.0.0.1:%d" % port.getHost().port, flush=True)
ep.listen(site).addCallback(up)
reactor.run()
'''


def start(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"(http://\S+)", line)
    if not found:
        proc.kill()
        raise RuntimeError(f"did not start: {line!r}")
    return proc, found.group(1)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def datapoint_chunks(n_points: int, n_series: int) -> list[dict[str, list[Any]]]:
    per = n_points // n_series
    rows_ext: list[str] = []
    rows_ts: list[int] = []
    rows_val: list[float] = []
    chunks = []
    t0 = 1_700_000_000_000
    for s in range(n_series):
        rows_ext += [f"bench-ts-{s}"] * per
        rows_ts += range(t0, t0 + per * 1000, 1000)
        rows_val += [s + i * 0.001 for i in range(per)]
        while len(rows_ext) >= CHUNK_ROWS:
            chunks.append({"external_id": rows_ext[:CHUNK_ROWS], "timestamp": rows_ts[:CHUNK_ROWS],
                           "value": rows_val[:CHUNK_ROWS]})
            rows_ext, rows_ts, rows_val = (rows_ext[CHUNK_ROWS:], rows_ts[CHUNK_ROWS:],
                                           rows_val[CHUNK_ROWS:])
    if rows_ext:
        chunks.append({"external_id": rows_ext, "timestamp": rows_ts, "value": rows_val})
    return chunks


def asset_chunks(n: int) -> list[dict[str, list[Any]]]:
    roots = max(1, n // 100)
    ext = [f"bench-a-{i}" for i in range(n)]
    parent = [None if i < roots else f"bench-a-{i % roots}" for i in range(n)]
    name = [f"Asset {i}" for i in range(n)]
    desc = [f"benchmark asset number {i}" for i in range(n)]
    meta = [{"site": "bench", "idx": str(i)} for i in range(n)]
    return [
        {"external_id": ext[a:a + CHUNK_ROWS], "name": name[a:a + CHUNK_ROWS],
         "parent_external_id": parent[a:a + CHUNK_ROWS], "description": desc[a:a + CHUNK_ROWS],
         "metadata": meta[a:a + CHUNK_ROWS]}
        for a in range(0, n, CHUNK_ROWS)
    ]


def raw_chunks(n: int) -> list[dict[str, list[Any]]]:
    out = []
    for a in range(0, n, CHUNK_ROWS):
        m = min(CHUNK_ROWS, n - a)
        out.append({
            "_raw_database": ["bench"] * m,
            "_raw_table": [f"t{(a // CHUNK_ROWS) % 10}"] * m,
            "_raw_key": [f"row-{i}" for i in range(a, a + m)],
            "_raw_columns": [{"i": i, "name": f"row {i}", "v": i * 0.5} for i in range(a, a + m)],
        })
    return out


def ts_chunks(n_series: int) -> list[dict[str, list[Any]]]:
    return [{"external_id": [f"bench-ts-{s}" for s in range(n_series)],
             "name": [f"series {s}" for s in range(n_series)]}]


async def run_target(name: str, url: str, args: argparse.Namespace, tmp: Path,
                     sink: bool) -> list[tuple[str, int, float, float, float]]:
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    from pggw.cdf import CdfClient, ClientCredentialsProvider, StaticTokenProvider
    from pggw.gateway import (
        UPLOAD_INGEST_SHARE,
        UPLOAD_LINGER,
        UPLOAD_PAGE_ITEMS,
        UPLOAD_PAGE_RECORDS,
        UPLOAD_PAGE_ROWS,
    )
    from pggw.tables.registry import builtin_registry
    from pggw.upload import Uploader
    from pggw.wal.codec import encode_chunk
    from pggw.wal.log import WriteAheadLog

    if sink:
        tokens: Any = StaticTokenProvider("bench")
    else:
        tokens = ClientCredentialsProvider(f"{url}/oauth2/token", "demo-client", "demo-secret",
                                           [], reactor=reactor)
    client = CdfClient(url, "demo", tokens, reactor=reactor, gzip=args.gzip)
    wal = WriteAheadLog(tmp / f"{name}.wal", reactor=reactor)  # type: ignore[arg-type]
    await wal.open()
    s = args.scale
    phases = [
        ("time_series (setup)", "time_series", ts_chunks(args.series), "time_series"),
        ("double_datapoints", "double_datapoints",
         datapoint_chunks(int(1_000_000 * s), args.series), "double_datapoints"),
        ("assets", "assets", asset_chunks(int(100_000 * s)), "assets"),
        ("raw_rows", "raw_rows", raw_chunks(int(500_000 * s)), "raw_rows"),
    ]
    if args.only:
        phases = [p for p in phases if p[1] in args.only or p[1] == "time_series"]
    results = []
    for label, table, chunks, counter in phases:
        total = 0
        for cols in chunks:
            n = len(next(iter(cols.values())))
            total += n
            await wal.commit(wal.new_txid(), "bench", [(table, "insert", encode_chunk(cols), n)])
        up = Uploader(wal, builtin_registry(), lambda user: client, reactor,  # type: ignore[arg-type]
                      concurrency=args.concurrency, poll_interval=0.01,
                      page_rows=UPLOAD_PAGE_ROWS, page_records=UPLOAD_PAGE_RECORDS,
                      page_items=UPLOAD_PAGE_ITEMS, linger=UPLOAD_LINGER,
                      ingest_share=UPLOAD_INGEST_SHARE)  # as the gateway runs it
        c0, t0 = cpu(), time.perf_counter()
        up.startService()
        while True:
            st = await wal.stats()
            if st.records == 0:
                break
            await deferLater(reactor, 0.01, lambda: None)
        wall = time.perf_counter() - t0
        used = cpu() - c0
        await up.stopService()
        dead = (await wal.stats()).dead_letters
        uploaded = up.metrics.rows_uploaded[counter]
        assert dead == 0, f"{dead} dead letters in {label}: {await wal.dead_letters(None, limit=1)}"
        assert uploaded == total, (label, uploaded, total)
        results.append((label, total, wall, used, up.metrics.reactor_lag_max_seconds))
        print(f"  {name:8} {label:20} {total:>9,} items {wall:7.2f} s {total / wall:>10,.0f}/s"
              f"  cpu {used / total * 1e6:6.2f} µs/item  max reactor lag "
              f"{up.metrics.reactor_lag_max_seconds * 1000:.0f} ms", flush=True)
    await wal.close()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--target", choices=("sink", "emulator", "both"), default="both")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--only", nargs="*", help="tables to run (time series always run)")
    ap.add_argument("--no-tune-gc", action="store_true",
                    help="keep CPython's default GC thresholds (compare reactor lag)")
    args = ap.parse_args()
    if not args.no_tune_gc:
        from pggw.gc_tuning import tune_gc

        tune_gc()

    from twisted.internet import reactor
    from twisted.internet.defer import Deferred

    tmp = Path(tempfile.mkdtemp(prefix="pggw-bench-"))
    procs: list[subprocess.Popen[str]] = []
    table: dict[str, list[Any]] = {}

    async def all_targets() -> None:
        if args.target in ("sink", "both"):
            proc, url = start([sys.executable, "-c", SINK])
            procs.append(proc)
            table["sink"] = await run_target("sink", url, args, tmp, True)
        if args.target in ("emulator", "both"):
            proc, url = start([sys.executable, "-m", "pggw.emulator", "--endpoint",
                               "tcp:0:interface=127.0.0.1", "--data-dir", str(tmp / "emu")])
            procs.append(proc)
            table["emulator"] = await run_target("emulator", url, args, tmp, False)

    def done(result: Any) -> None:
        if hasattr(result, "printTraceback"):
            result.printTraceback()
        reactor.stop()  # type: ignore[attr-defined]

    import gc as _gc

    print(f"pggw drain benchmark (scale {args.scale}, concurrency {args.concurrency}, "
          f"gzip {args.gzip}, gc thresholds {_gc.get_threshold()}, "
          f"python {sys.version.split()[0]})", flush=True)
    reactor.callWhenRunning(  # type: ignore[attr-defined]
        lambda: Deferred.fromCoroutine(all_targets()).addBoth(done))
    reactor.run()  # type: ignore[attr-defined]
    for p in procs:
        p.terminate()
        p.wait()
    print()
    print("| target | table | items | seconds | items/s | uploader CPU µs/item "
          "| max reactor lag ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for target, rows in table.items():
        for label, total, wall, used, lag in rows:
            print(f"| {target} | {label} | {total:,} | {wall:.2f} | {total / wall:,.0f} | "
                  f"{used / total * 1e6:.2f} | {lag * 1000:.0f} |")
    print(json.dumps({t: [r[:4] for r in rows] for t, rows in table.items()}))


if __name__ == "__main__":
    main()
