"""Fixtures for the write-path integration tests: a gateway whose uploader cannot upload.

Its CDF is unreachable (port 9 on loopback, retried forever), so every acknowledged row
stays in ``<data-dir>/wal.sqlite3``, where :class:`walread.WalReader` reads it back.
One daemon per test module (``scope="module"``); tests tell their rows apart with
:meth:`WalReader.mark` / :meth:`WalReader.since`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from walread import WalReader

from tests.conftest import Daemon, start_daemon

UNREACHABLE_CDF = (
    "--cdf-url", "http://127.0.0.1:9", "--cdf-project", "p",
    "--cdf-token-url", "http://127.0.0.1:9/token",
    "--cdf-client-id", "x", "--cdf-client-secret", "y",
)


@pytest.fixture(scope="module")
def wal_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A gateway that keeps every acknowledged row in its WAL."""
    d = start_daemon(tmp_path_factory.mktemp("walgw"), *UNREACHABLE_CDF)
    yield d
    d.stop()


@pytest.fixture(scope="module")
def wal(wal_gateway: Daemon) -> WalReader:
    reader = WalReader(wal_gateway.data_dir)
    reader.wait_open()
    return reader
