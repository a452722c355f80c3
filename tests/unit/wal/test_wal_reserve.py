"""The disk reserve that lets a full WAL drain (pggw/wal/reserve.py and its use by the writer).

The real disk-full path (a small tmpfs filled by the WAL alone) is in
tests/reliability/test_disk.py; here the free space is faked to test the decisions."""

from __future__ import annotations

import shutil
from collections import namedtuple
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from wal_testlib import open_wal, rows_chunk

from pggw.wal import reserve as reserve_mod
from pggw.wal.reserve import SpaceReserve
from pggw.wire.errors import PgError

_Usage = namedtuple("_Usage", "total used free")
_REAL_DISK_USAGE = shutil.disk_usage


def _low_disk(monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    monkeypatch.setattr(reserve_mod.shutil, "disk_usage", lambda p: _Usage(free * 4, 0, free))


def test_ensure_allocates_real_blocks_and_release_gives_them_back(tmp_path: Path) -> None:
    r = SpaceReserve(tmp_path / "wal.reserve", 256 * 1024)
    assert not r.holding
    assert r.ensure() and r.holding
    st = (tmp_path / "wal.reserve").stat()
    assert st.st_size == 256 * 1024 and st.st_blocks * 512 >= 256 * 1024  # not sparse
    assert r.ensure()  # held: nothing to do
    assert r.release() and not r.holding and r.released == 1
    assert not (tmp_path / "wal.reserve").exists()
    assert not r.release()  # nothing left to give


def test_ensure_waits_for_room_and_retries_at_most_every_second(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = SpaceReserve(tmp_path / "wal.reserve", 1024 * 1024)
    _low_disk(monkeypatch, 1024 * 1024)  # less than twice the reserve: leave it to the rows
    assert not r.ensure()
    monkeypatch.setattr(reserve_mod.shutil, "disk_usage", _REAL_DISK_USAGE)
    assert not r.ensure()  # too soon after the last try
    assert r.ensure(now=True) and r.holding


def test_an_existing_reserve_is_found_at_start(tmp_path: Path) -> None:
    SpaceReserve(tmp_path / "wal.reserve", 4096).ensure()
    assert SpaceReserve(tmp_path / "wal.reserve", 4096).holding


@pytest_twisted.ensureDeferred
async def test_without_the_reserve_client_writes_get_53100_and_the_drain_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal = await open_wal(tmp_path / "wal.sqlite3", max_bytes=10**12, reserve_bytes=64 * 1024)
    reserve: Any = wal._writer.reserve
    assert reserve.holding and (tmp_path / "wal.reserve").stat().st_size == 64 * 1024
    await wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(3), 3)])
    # A drain-side write hit "disk full" and used the reserve; the disk is still short.
    assert reserve.release()
    _low_disk(monkeypatch, 64 * 1024)
    with pytest.raises(PgError) as ei:
        await wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(2), 2)])
    assert ei.value.sqlstate == "53100"
    assert "disk full" in ei.value.message and "uploading" in (ei.value.detail or "")
    # The drain is not refused: uploaded records are removed.
    records = await wal.pending(10)
    assert await wal.mark_done([r.id for r in records]) == 1
    # Space is back: the next client write takes the reserve again and goes through.
    monkeypatch.setattr(reserve_mod.shutil, "disk_usage", _REAL_DISK_USAGE)
    await wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(2), 2)])
    assert reserve.holding
    await wal.close()


@pytest_twisted.ensureDeferred
async def test_reserve_can_be_turned_off(tmp_path: Path) -> None:
    wal = await open_wal(tmp_path / "wal.sqlite3", max_bytes=10**12, reserve_bytes=0)
    await wal.commit(wal.new_txid(), "u", [("t", "insert", rows_chunk(1), 1)])
    assert not (tmp_path / "wal.reserve").exists()
    await wal.close()
