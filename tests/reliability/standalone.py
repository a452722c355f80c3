"""A standalone emulator process (so the gateway's data dir can live on a tiny filesystem and the
emulator survives gateway restarts), and the CDF options that point a gateway at it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import free_port


@contextmanager
def standalone_emulator(data_dir: Path) -> Iterator[str]:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pggw.emulator", "--endpoint", f"tcp:{port}:interface=127.0.0.1",
         "--data-dir", str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline().decode(errors="replace")
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"emulator did not start: {line}")
        # Keep draining its output so it never blocks on a full pipe.
        import threading
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
        yield m.group(1)
    finally:
        proc.kill()
        proc.wait()


def cdf_args(url: str, secret: str = "demo-secret") -> tuple[str, ...]:
    return ("--cdf-url", url, "--cdf-project", "demo", "--cdf-token-url", f"{url}/oauth2/token",
            "--cdf-client-id", "demo-client", "--cdf-client-secret", secret)
