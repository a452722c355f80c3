"""Coverage-guided fuzzing of the sans-IO wire code: ``atheris_wire.py`` under libFuzzer.

The harness runs in a subprocess with a fixed seed, from a seed corpus of valid messages
(startup packets, Query, Parse/Bind/Execute/Sync, SASL answers, COPY data, codec values) and
a dictionary of protocol tokens written into ``tmp_path``. It must exit 0: any exception
other than ``PgError``, a decoded structure far bigger than its input, a hang (``-timeout``)
or an RSS over ``-rss_limit_mb`` makes libFuzzer stop, write the input to ``tmp_path`` and
exit non-zero; the test then shows the traceback and the input.

Runs: ``PGGW_ATHERIS_RUNS`` (CI default 300 000, ≈ 20 s on 2 cores; full run 3 000 000,
≈ 14 min: inputs grow toward ``-max_len`` and the rate falls from ~15 000 to ~3 000 /s).
Reproduce a failure with ``python tests/reliability/atheris_wire.py CRASH_FILE``.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import write_figure
from reliability_mode import FULL

pytest.importorskip("atheris", reason="atheris has wheels for Linux x86_64 only")

HARNESS = Path(__file__).with_name("atheris_wire.py")
ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("PGGW_ATHERIS_RUNS", "3000000" if FULL else "300000"))
SEED = int(os.environ.get("PGGW_ATHERIS_SEED", "1"))
# A safety net only: the run is bounded by -runs; this caps a pathologically slow machine.
MAX_SECONDS = int(os.environ.get("PGGW_ATHERIS_MAX_SECONDS", "3600" if FULL else "300"))
PER_INPUT_TIMEOUT = 10  # seconds; libFuzzer reports a slower input as a hang
RSS_LIMIT_MB = 1024
MAX_LEN = 8192


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTHONHASHSEED", None)
    return env


def _failure_report(out: str, artifacts: Path) -> str:
    lines = [ln for ln in out.splitlines() if not ln.startswith("INFO: Instrumenting")]
    report = ["libFuzzer output (tail):", *lines[-60:]]
    for f in sorted(artifacts.iterdir()) if artifacts.exists() else []:
        data = f.read_bytes()
        report += ["", f"input {f} ({len(data)} bytes): {data[:400]!r}",
                   f"base64: {base64.b64encode(data).decode()}",
                   f"reproduce: python {HARNESS} {f}"]
    return "\n".join(report)


@pytest.mark.slow
def test_atheris_wire(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    dictionary = tmp_path / "wire.dict"
    subprocess.run([sys.executable, str(HARNESS), "--write-seeds", str(corpus), str(dictionary)],
                   check=True, env=_env(), cwd=ROOT, capture_output=True, timeout=120)
    seeds = len(list(corpus.iterdir()))
    cmd = [sys.executable, str(HARNESS), f"-runs={RUNS}", f"-seed={SEED}",
           f"-max_total_time={MAX_SECONDS}", f"-timeout={PER_INPUT_TIMEOUT}",
           f"-rss_limit_mb={RSS_LIMIT_MB}", f"-max_len={MAX_LEN}", f"-dict={dictionary}",
           f"-artifact_prefix={artifacts}/", "-print_final_stats=1", str(corpus)]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=_env(), cwd=ROOT, capture_output=True,
                          timeout=MAX_SECONDS + 300)
    elapsed = time.monotonic() - t0
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    assert proc.returncode == 0, _failure_report(out, artifacts)
    assert not any(artifacts.iterdir()), _failure_report(out, artifacts)

    done = re.search(r"^Done (\d+) runs in (\d+) second", out, re.M)
    final = re.findall(r"^#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\d+)(b|Kb|Mb)", out,
                       re.M)
    inited = re.search(r"^#\d+\s+INITED\s+cov: (\d+) ft: (\d+)", out, re.M)
    assert done and final and inited, out[-3000:]
    runs = int(done.group(1))
    _, cov, ft, corp, size, unit = final[-1]
    assert runs >= min(RUNS, 1000), out[-3000:]  # fewer only if MAX_SECONDS cut it short
    assert int(cov) > int(inited.group(1)), "fuzzing reached no new coverage beyond the seeds"
    write_figure("fuzz_atheris", {
        "runs": runs,
        "runs_requested": RUNS,
        "seed": SEED,
        "seconds": round(elapsed, 1),
        "execs_per_second": round(runs / elapsed) if elapsed else None,
        "seed_inputs": seeds,
        "coverage_edges_seeds": int(inited.group(1)),
        "features_seeds": int(inited.group(2)),
        "coverage_edges": int(cov),
        "features": int(ft),
        "corpus_inputs": int(corp),
        "corpus_bytes": int(size) * {"b": 1, "Kb": 1024, "Mb": 1 << 20}[unit],
        "crashes": 0,
    })
