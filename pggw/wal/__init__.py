"""The SQLite write-ahead log: append with group commit, uploader bookkeeping, dead
letters and the size quota. See :mod:`pggw.wal.log` and :mod:`pggw.wal.codec`."""

from pggw.wal.codec import decode_chunk, encode_chunk
from pggw.wal.log import DeadLetter, Record, TableStats, WalError, WalStats, WriteAheadLog

__all__ = [
    "DeadLetter",
    "Record",
    "TableStats",
    "WalError",
    "WalStats",
    "WriteAheadLog",
    "decode_chunk",
    "encode_chunk",
]
