"""Disk full (a real 40 MiB tmpfs under the data dir) and the --wal-max-bytes quota: writes get
SQLSTATE 53100 with a clear message, the connection stays usable, every acknowledged row
survives (checked in CDF after the drain), and writes work again once space returns."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from harness import Emulator, dsn, start, stop, wait_uploaded, write_figure
from standalone import cdf_args, standalone_emulator

ROW = ("INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key, _raw_columns) "
       "VALUES (%s, %s, %s, %s)")
MULTI = ROW + ", (%s, %s, %s, %s)" * 49
PAD = "x" * 500


def _fill_until_53100(d, table: str, limit: int = 200_000) -> tuple[set[str], psycopg.Error]:
    """Batches of 50 rows until the gateway refuses with 53100; returns the acknowledged keys."""
    acked: set[str] = set()
    with psycopg.connect(dsn(d), autocommit=True) as c:
        cur = c.cursor()
        for k in range(limit):
            keys = [f"k{k}-{j}" for j in range(50)]
            try:
                # One multi-row statement (an executemany in psycopg's pipeline mode cannot
                # take an error at the implicit commit and carry on with the same connection).
                cur.execute(MULTI, [v for key in keys
                                    for v in ("diskdb", table, key, json.dumps({"pad": PAD}))])
            except psycopg.Error as e:
                # The connection survives the refusal.
                assert c.execute("SELECT 1").fetchone() == (1,)
                return acked, e
            acked.update(keys)
    raise AssertionError("never refused")


def _check_in_cdf(emu: Emulator, table: str, acked: set[str]) -> int:
    rows = emu.raw_rows("diskdb", table)
    missing = acked - rows.keys()
    assert not missing, f"{len(missing)} acknowledged rows lost, e.g. {sorted(missing)[:5]}"
    return len(acked)


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root/CAP_SYS_ADMIN): {r.stderr}")


def _unmount(mnt: Path, keep: Path) -> None:
    """Unmount the small file system, keeping the daemon's log for a failure's post-mortem."""
    log = mnt / "gw" / "twistd.log"
    if log.exists():
        shutil.copy(log, keep / "twistd.log")
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.slow
def test_disk_full_53100_and_recovery(tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    _mount_tmpfs(mnt, "12m")
    try:
        with standalone_emulator(tmp_path / "emu") as url:
            emu = Emulator(url)
            emu.faults([{"path": "*", "status": 503}])  # CDF down: everything stays in the WAL
            d = start(mnt / "gw", *cdf_args(url), "--wal-max-bytes", str(10 * 2**30))
            ballast = mnt / "ballast"
            ballast.write_bytes(b"\0" * 4 * 2**20)  # what "space returns" will free
            try:
                acked, err = _fill_until_53100(d, "full")
                assert err.sqlstate == "53100", (err.sqlstate, str(err))
                assert "disk full" in str(err) or "space" in str(err), str(err)
                assert d.proc.poll() is None, "the gateway died on a full disk"
                # Space returns: the uploader drains, and writes succeed again by themselves.
                ballast.unlink()
                emu.faults(None)
                wait_uploaded(d, ["alice"], 180)
                with psycopg.connect(dsn(d), autocommit=True) as c:
                    c.execute(ROW, ("diskdb", "full", "after", "{}"))
                    acked.add("after")
                    c.execute("SELECT pggw.wait_uploaded(60)")
                checked = _check_in_cdf(emu, "full", acked)
            finally:
                stop(d)
            # And across a restart on the once-full disk.
            d = start(mnt / "gw", *cdf_args(url), "--wal-max-bytes", str(10 * 2**30))
            stop(d)
        write_figure("disk_full", {"acked_rows_before_53100": len(acked) - 1,
                                   "rows_checked_in_cdf": checked, "sqlstate": err.sqlstate,
                                   "message": str(err).splitlines()[0][:200]})
    finally:
        _unmount(mnt, tmp_path)


def test_wal_quota_53100_and_recovery(tmp_path: Path) -> None:
    with standalone_emulator(tmp_path / "emu") as url:
        emu = Emulator(url)
        emu.faults([{"path": "*", "status": 503, "retryAfter": 1}])
        d = start(tmp_path / "gw", *cdf_args(url), "--wal-max-bytes", str(2 * 2**20))
        try:
            acked, err = _fill_until_53100(d, "quota")
            assert err.sqlstate == "53100", (err.sqlstate, str(err))
            assert d.proc.poll() is None
            emu.faults(None)
            wait_uploaded(d, ["alice"], 120)
            with psycopg.connect(dsn(d), autocommit=True) as c:
                c.execute(ROW, ("diskdb", "quota", "after", "{}"))
                acked.add("after")
                c.execute("SELECT pggw.wait_uploaded(60)")
            checked = _check_in_cdf(emu, "quota", acked)
        finally:
            stop(d)
    write_figure("wal_quota", {"acked_rows_before_53100": len(acked) - 1,
                               "rows_checked_in_cdf": checked, "sqlstate": err.sqlstate,
                               "message": str(err).splitlines()[0][:200]})



@pytest.mark.slow
def test_disk_filled_by_the_wal_alone_drains_when_cdf_returns(tmp_path: Path) -> None:
    """No ballast to remove: the WAL itself filled the disk. Deleting uploaded records needs
    space too; the WAL's reserve file (pggw/wal/reserve.py) is what lets the drain start."""
    mnt = tmp_path / "small"
    _mount_tmpfs(mnt, "12m")
    try:
        with standalone_emulator(tmp_path / "emu") as url:
            emu = Emulator(url)
            emu.faults([{"path": "*", "status": 503}])
            d = start(mnt / "gw", *cdf_args(url), "--wal-max-bytes", str(10 * 2**30))
            try:
                acked, err = _fill_until_53100(d, "alone")
                assert err.sqlstate == "53100", (err.sqlstate, str(err))
                emu.faults(None)
                wait_uploaded(d, ["alice"], 180)
                with psycopg.connect(dsn(d), autocommit=True) as c:
                    # Writes come back by themselves once the drained space is free again
                    # (the reserve is re-taken first); a client retrying 53100 gets through.
                    t0 = time.monotonic()
                    while True:
                        try:
                            c.execute(ROW, ("diskdb", "alone", "after", "{}"))
                            break
                        except psycopg.errors.DiskFull:
                            assert time.monotonic() - t0 < 30, "writes never came back"
                            time.sleep(0.5)
                    recovered_s = round(time.monotonic() - t0, 1)
                    acked.add("after")
                    c.execute("SELECT pggw.wait_uploaded(60)")
                checked = _check_in_cdf(emu, "alone", acked)
                log = d.log_path.read_text(errors="replace")
                released = "released the WAL's reserved space" in log
            finally:
                stop(d)
        write_figure("disk_full_wal_alone", {
            "acked_rows_before_53100": len(acked) - 1, "rows_checked_in_cdf": checked,
            "reserve_released": released, "writes_back_after_drain_s": recovered_s})
    finally:
        _unmount(mnt, tmp_path)
