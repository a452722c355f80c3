"""Child process for the kill -9 test: commits in a loop and prints what was acknowledged.

Usage: python wal_crash_child.py WAL_PATH SEED

Lines written to stdout (each flushed as soon as it is true):
  READY
  ACK <seq> <txid> <parts>     the commit Deferred fired: all <parts> chunks are durable
  DONE <txid>:<part> ...       mark_done was requested for these chunks (they may be gone)
Each transaction stages parts 0..parts-2 and commits the last part with the commit marker;
every chunk carries its txid, part number and part count, so a reader can check that a
visible transaction is complete.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred, gatherResults

from pggw.wal.codec import decode_chunk, encode_chunk
from pggw.wal.log import WriteAheadLog


def part_chunk(txid: int, part: int, parts: int, rng: random.Random) -> bytes:
    n = rng.choice([1, 10, 500])
    return encode_chunk(
        {"txid": [txid] * n, "part": [part] * n, "parts": [parts] * n, "v": [rng.random()] * n}
    )


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def committer(wal: WriteAheadLog, user: str, rng: random.Random) -> None:
    while True:
        txid = wal.new_txid()
        parts = rng.choice([1, 1, 2, 4])
        for part in range(parts - 1):
            await wal.stage(txid, user, "t", "insert", part_chunk(txid, part, parts, rng), 1)
        if rng.random() < 0.1:
            await wal.rollback(txid)  # abandoned: must never show
            continue
        last = part_chunk(txid, parts - 1, parts, rng)
        seq = await wal.commit(txid, user, [("t", "insert", last, 1)])
        say(f"ACK {seq} {txid} {parts}")


async def uploader(wal: WriteAheadLog, rng: random.Random) -> None:
    while True:
        await task.deferLater(wal._reactor, 0.05, lambda: None)
        records = await wal.pending(20)
        if not records:
            continue
        chosen = [r for r in records if rng.random() < 0.5]
        if not chosen:
            continue
        tags = []
        for r in chosen:
            cols = decode_chunk(r.chunk)
            tags.append(f"{cols['txid'][0]}:{cols['part'][0]}")
        say("DONE " + " ".join(tags))
        await wal.mark_done([r.id for r in chosen])


async def main(reactor: Any, path: str, seed: str) -> None:
    rng = random.Random(int(seed))
    wal = WriteAheadLog(Path(path), reactor=reactor, max_bytes=10**10)
    await wal.open()
    say("READY")
    loops = [
        Deferred.fromCoroutine(committer(wal, f"user{i % 3}", random.Random(rng.random())))
        for i in range(8)
    ]
    loops.append(Deferred.fromCoroutine(uploader(wal, random.Random(rng.random()))))
    await gatherResults(loops)


if __name__ == "__main__":
    task.react(lambda reactor: Deferred.fromCoroutine(main(reactor, *sys.argv[1:3])))
