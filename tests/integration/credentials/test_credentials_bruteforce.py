"""Brute force: failed logins slow down (per address and per user) before the password is
checked, and an address is refused after many failures; a user is never locked out.

The front door holds password checks through ``Gateway.login_throttle``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import Daemon, start_daemon

FREE_FAILURES = 3  # LoginThrottle's default


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    d = start_daemon(tmp_path / "gw")
    yield d
    d.stop()


def attempt(daemon: Daemon, password: str) -> tuple[float, str | None]:
    started = time.monotonic()
    try:
        with psycopg.connect(host="127.0.0.1", port=daemon.port, user=daemon.user,
                             password=password, dbname=daemon.user, connect_timeout=30,
                             sslmode="disable"):  # "prefer" retries a failure without TLS
            pass
    except psycopg.OperationalError as e:
        return time.monotonic() - started, str(e)
    return time.monotonic() - started, None


def test_failed_logins_slow_down_without_locking_the_user_out(daemon: Daemon) -> None:
    for _ in range(FREE_FAILURES):
        took, error = attempt(daemon, "wrong")
        assert error is not None and "password authentication failed" in error
        assert took < 0.4
    took, error = attempt(daemon, "wrong")
    assert "password authentication failed" in (error or "")
    assert 0.4 < took < 2
    took2, _ = attempt(daemon, "wrong")
    assert took2 > took * 1.6  # growing
    # the right password is held as long, then gets in: no lockout of the user
    took3, error = attempt(daemon, daemon.password)
    assert error is None and took3 > took2 * 1.6
    # the address keeps its count: the next wrong guess is held, whatever user it names
    took4, _ = attempt(daemon, "wrong")
    assert took4 > 1.5
