"""Helpers shared by the WAL tests (imported by name: the test directory is on sys.path)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from pggw.wal.codec import encode_chunk
from pggw.wal.log import WriteAheadLog

reactor: Any = _reactor


async def open_wal(path: Path, **kwargs: Any) -> WriteAheadLog:
    wal = WriteAheadLog(path, reactor=reactor, **kwargs)
    await wal.open()
    return wal


def rows_chunk(n: int, tag: str = "x", start: int = 0) -> bytes:
    """A datapoint-like chunk of ``n`` rows."""
    return encode_chunk(
        {
            "external_id": [f"{tag}-{i % 7}" for i in range(start, start + n)],
            "timestamp": [1_700_000_000_000 + i for i in range(start, start + n)],
            "value": [i * 0.5 for i in range(start, start + n)],
        }
    )


def sleep(seconds: float) -> Deferred[None]:
    return deferLater(reactor, seconds, lambda: None)


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection to the WAL file, for looking behind the API."""
    return sqlite3.connect(path, isolation_level=None)
