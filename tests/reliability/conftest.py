"""Reliability suite: markers and the CI / full switch.

``PGGW_RELIABILITY=full`` selects the full run (200 kills, 500+ connection floods, a 30-minute
soak, longer fuzzing); without it every test runs at its CI size (a few kills, a 2-minute soak).
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import pytest

# Sibling modules (harness, oracle) import as plain modules, like tests/integration/walread.
sys.path.insert(0, str(Path(__file__).parent))




def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a reliability test that takes more than ~20 s")
    # Floods need thousands of descriptors (the daemon inherits the raised limit too).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
