"""Disk space held back so that the uploader can always drain a full WAL.

Deleting uploaded records needs free space too: in WAL journal mode SQLite appends the changed
pages to the ``-wal`` file before it can give anything back. If client writes were allowed to
take the last byte, a disk filled by the WAL alone could never drain, even with CDF back. So
the writer keeps a file of ``size`` bytes beside the WAL; when a drain-side write (marking
records done, dead letters, attempt counts) hits "disk full", the file is deleted and the write
retried, while client writes keep getting 53100. The file is put back when the disk has room
again. Only the WAL writer thread touches it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
from pathlib import Path

__all__ = ["DEFAULT_RESERVE_BYTES", "SpaceReserve"]

DEFAULT_RESERVE_BYTES = 2 * 2**20  # far more than the pages one mark_done batch touches
_RETRY_SECONDS = 1.0


class SpaceReserve:
    def __init__(self, path: Path, size: int = DEFAULT_RESERVE_BYTES) -> None:
        self.path = path
        self.size = size
        self.released = 0  # how many times the reserve was given up
        self.holding = self._exists()
        self._next_try = 0.0

    def _exists(self) -> bool:
        try:
            return self.path.stat().st_size >= self.size
        except OSError:
            return False

    def ensure(self, *, now: bool = False) -> bool:
        """Hold the reserve if the disk has room for it and then some; True if held.

        While it is not held, the writer refuses client writes (they would only eat the space
        the drain needs); cheap when held, and retried at most every few seconds when not."""
        if self.holding or self.size <= 0:
            return True
        t = time.monotonic()
        if t < self._next_try and not now:
            return False
        self._next_try = t + _RETRY_SECONDS
        try:
            if shutil.disk_usage(self.path.parent).free < 2 * self.size:
                return False  # space has not really come back: leave it to the clients' rows
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                _allocate(fd, self.size)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            with contextlib.suppress(OSError):
                self.path.unlink()
            return False
        self.holding = True
        return True

    def release(self) -> bool:
        """Give the reserved space back to the file system; True if there was any."""
        self.holding = False
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        self.released += 1
        self._next_try = time.monotonic() + _RETRY_SECONDS
        return True


def _allocate(fd: int, size: int) -> None:
    """Real blocks, not a sparse file (which would reserve nothing)."""
    try:
        os.posix_fallocate(fd, 0, size)
        return
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise
    block = b"\0" * 2**16
    for _ in range(0, size, len(block)):
        os.write(fd, block)
