"""Render the reliability figures (``figures/*.json``, written by the tests) as the Markdown
table of the README and tests/reliability/README.md.

    python tests/reliability/figures.py            # rewrite both READMEs' tables
    python tests/reliability/figures.py --print    # just print the table

A full run (``PGGW_RELIABILITY=full``) writes ``figures/``; CI-sized runs write
``figures/ci/`` (not committed), so the committed figures are always those of a full run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
START, END = "<!-- reliability-figures -->", "<!-- /reliability-figures -->"

Row = tuple[str, str, str]  # what was tried, how much, what held


def _n(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else str(v)


def _crash(f: dict[str, Any]) -> Row:
    return ("SIGKILL of the gateway at random moments (mid-COPY, group commit, upload, "
            "token fetch), mixed two-user workload",
            f"{_n(f['kills'])} kills, {_n(f['acked_ops'])} acknowledged statements, "
            f"{_n(f['rows_checked'])} rows checked in CDF",
            f"{f['acked_lost']} acknowledged rows lost, {f['problems']} oracle problems; "
            f"in-flight statements whole or absent ({f['inflight_applied']} applied, "
            f"{f['inflight_not_applied']} not)")


def _faults(f: dict[str, Any]) -> Row:
    return ("CDF faulted per lifetime: 503 storms with/without Retry-After, 429, token "
            "endpoint 500, 800 ms latency, dropped connections, apply-then-fail; emulator "
            "killed; gateway killed",
            f"{_n(f['fault_rounds'])} faulted lifetimes, {_n(f['faults_injected'])} fault "
            f"rules, {f['emulator_kills']} emulator kills, {_n(f['kills'])} gateway kills, "
            f"{_n(f['rows_checked'])} rows checked",
            f"{f['acked_lost']} acknowledged rows lost, {f['problems']} oracle problems, "
            "no duplicates")


def _disk(f: dict[str, Any]) -> Row:
    return ("Disk full (12 MiB tmpfs), space freed by the operator",
            f"{_n(f['acked_rows_before_53100'])} rows acknowledged until 53100",
            f"53100, connection usable, all {_n(f['rows_checked_in_cdf'])} rows in CDF, "
            "writes back without a restart")


def _disk_alone(f: dict[str, Any]) -> Row:
    return ("Disk filled by the WAL alone, CDF down, then back",
            f"{_n(f['acked_rows_before_53100'])} rows acknowledged until 53100",
            f"drained through the reserved space, all {_n(f['rows_checked_in_cdf'])} rows in "
            f"CDF, writes back {f['writes_back_after_drain_s']} s after the drain")


def _quota(f: dict[str, Any]) -> Row:
    return ("`--wal-max-bytes` quota reached, CDF down",
            f"{_n(f['acked_rows_before_53100'])} rows acknowledged until 53100",
            f"53100 naming what is pending, all {_n(f['rows_checked_in_cdf'])} rows in CDF")


def _flood(f: dict[str, Any]) -> Row:
    return ("Connection flood: idle authenticated, slow-loris (1 byte/s), never-reading "
            "clients",
            f"{_n(f['connections'])} connections ({f['authenticated_idle']} idle, "
            f"{f['slow_loris']} slow-loris, {f['never_read']} never reading), "
            f"{_n(f['probe_inserts'])} probe INSERTs",
            f"probe INSERT p50/p99 {f['baseline_p50_ms']}/{f['baseline_p99_ms']} ms before, "
            f"{f['flood_p50_ms']}/{f['flood_p99_ms']} ms during; RSS {f['rss_before_mib']} → "
            f"peak {f['rss_peak_mib']} MiB")


def _soak(f: dict[str, Any]) -> Row:
    s = f["samples_t_rssMiB_walMiB"]
    rss = [x[1] for x in s]
    wal = [x[2] for x in s]
    return ("Soak: steady mixed load, every CDF answer 300 ms late",
            f"{_n(int(f['seconds']))} s, {_n(f['acked_ops'])} acknowledged statements, "
            f"{_n(f['rows_checked'])} rows checked",
            f"RSS {min(rss)}–{max(rss)} MiB, WAL files {min(wal)}–{max(wal)} MiB; "
            f"{f['problems']} problems")


def _sansio(f: dict[str, Any]) -> Row:
    return ("Hypothesis over the sans-IO parser: framing, every frontend decoder, startup/auth "
            "state machine, COPY decoders",
            f"{_n(f['inputs_executed'])} generated inputs",
            "only protocol errors; no crash, hang or length-driven allocation")


def _atheris(f: dict[str, Any]) -> Row:
    return ("Coverage-guided fuzzing (atheris/libFuzzer) of the sans-IO parser: framing, "
            "decoders, startup/auth, COPY, every type's codecs",
            f"{_n(f['runs'])} executions from {f['seed_inputs']} seeds; edges "
            f"{f['coverage_edges_seeds']} → {f['coverage_edges']}",
            f"{f['crashes']} crashes, hangs or unbounded allocations (after fixing the 8 "
            "bugs it found)")


def _socket(f: dict[str, Any]) -> Row:
    return ("Socket fuzzing of the daemon: random bytes, mutated startup, random message "
            "sequences after login",
            f"{_n(f['connections'])} connections",
            "daemon alive and a probe INSERT served after every batch")


def _auth(f: dict[str, Any]) -> Row:
    return ("Wrong passwords vs unknown users; login throttle",
            f"{f['samples_each']} of each, plus a burst from one address",
            f"same answer, median {f['median_known_user_wrong_password_s'] * 1000:.1f} vs "
            f"{f['median_unknown_user_s'] * 1000:.1f} ms; burst slowed to "
            f"{f['one_address_burst_s'][-1]} s per attempt")


def _secrets(f: dict[str, Any]) -> Row:
    return ("Secrets scan of log, /metrics, /status, dashboard and error messages",
            f"{len(f['secrets'])} secrets × {len(f['haystacks'])} places",
            f"{len(f['found'])} found")


RENDER: dict[str, Callable[[dict[str, Any]], Row]] = {
    "crash": _crash, "faults": _faults, "disk_full": _disk, "disk_full_wal_alone": _disk_alone,
    "wal_quota": _quota, "flood": _flood, "soak": _soak, "fuzz_sansio": _sansio,
    "fuzz_atheris": _atheris, "fuzz_socket": _socket, "auth_timing": _auth,
    "secrets_scan": _secrets,
}


def table(directory: Path = HERE / "figures") -> str:
    lines = ["| tried | how much | held |", "|---|---|---|"]
    when: set[str] = set()
    for name, render in RENDER.items():
        path = directory / f"{name}.json"
        if not path.exists():
            continue
        f = json.loads(path.read_text())
        when.add(f.get("when", "?")[:10])
        lines.append("| " + " | ".join(render(f)) + " |")
    modes = {json.loads(p.read_text()).get("mode") for p in directory.glob("*.json")}
    lines.append("")
    lines.append(f"Run mode: {', '.join(sorted(m or '?' for m in modes))}; dates: "
                 f"{', '.join(sorted(when))}; 2-core machine.")
    return "\n".join(lines)


def update(path: Path, text: str) -> None:
    doc = path.read_text()
    if START not in doc or END not in doc:
        raise SystemExit(f"{path}: no {START} ... {END} markers")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def main(argv: list[str]) -> None:
    text = table()
    if "--print" in argv:
        print(text)
        return
    for path in (ROOT / "README.md", HERE / "README.md"):
        update(path, text)


if __name__ == "__main__":
    main(sys.argv[1:])
