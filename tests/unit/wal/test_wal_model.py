"""Random operation sequences against a plain Python model of the WAL, with restarts."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, gatherResults
from wal_testlib import open_wal, rows_chunk

from pggw.wal.codec import encode_chunk, rows_to_columns
from pggw.wal.log import WriteAheadLog

USERS = ["ann", "bo", "cy"]
TABLES = ["assets", "datapoints"]
OPS = ["insert", "upsert", "delete"]


@dataclass
class Model:
    open_txns: dict[int, list[tuple[str, str, str, bytes]]] = field(default_factory=dict)
    txn_user: dict[int, str] = field(default_factory=dict)
    # Committed, in commit order: (seq, user, table, op, chunk); record ids learnt lazily.
    committed: list[tuple[int, str, str, str, bytes]] = field(default_factory=list)
    dead: dict[str, list[bytes]] = field(default_factory=dict)


def a_chunk(rng: random.Random) -> tuple[str, str, bytes]:
    return (
        rng.choice(TABLES),
        rng.choice(OPS),
        rows_chunk(rng.randint(1, 30), f"t{rng.randrange(1000)}", rng.randrange(10**6)),
    )


async def check(wal: WriteAheadLog, model: Model) -> None:
    records = await wal.pending(10_000)
    got = [(r.seq, r.user, r.table, r.op, r.chunk) for r in records]
    assert got == model.committed
    stats = await wal.stats()
    assert stats.records == len(model.committed)
    assert stats.staged_records == sum(len(v) for v in model.open_txns.values())
    assert stats.bytes == sum(len(c[4]) for c in model.committed)
    exact = await wal.stats(exact=True)
    assert {u: (t.records, t.rows, t.bytes) for u, t in stats.users.items()} == {
        u: (t.records, t.rows, t.bytes) for u, t in exact.users.items()
    }
    assert [(u, t.oldest_committed_at) for u, t in stats.users.items()] == [
        (u, exact.users[u].oldest_committed_at) for u in stats.users
    ]
    assert {k: (t.records, t.rows, t.bytes) for k, t in stats.tables.items()} == {
        k: (t.records, t.rows, t.bytes) for k, t in exact.tables.items()
    }
    assert (stats.staged_records, stats.staged_bytes) == (exact.staged_records, exact.staged_bytes)
    assert (stats.dead_letters, stats.dead_letter_rows, stats.dead_letter_bytes) == (
        exact.dead_letters,
        exact.dead_letter_rows,
        exact.dead_letter_bytes,
    )
    assert (stats.oldest_committed_at, stats.last_seq) == (
        exact.oldest_committed_at,
        exact.last_seq,
    )
    dls = await wal.dead_letters(None)
    assert sorted(d.chunk or b"" for d in dls) == sorted(c for v in model.dead.values() for c in v)


@pytest.mark.parametrize("seed", range(6))
@pytest_twisted.ensureDeferred
async def test_random_operations_match_the_model(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "w.sqlite"
    wal = await open_wal(path, max_bytes=10**9)
    model = Model()
    for _ in range(40):
        # A burst of writes issued without waiting: they share group commits.
        ds: list[Deferred[object]] = []
        # (index into ds, first position in model.committed, number of chunks)
        commit_slots: list[tuple[int, int, int]] = []
        for _ in range(rng.randint(1, 12)):
            action = rng.random()
            if action < 0.2 or not model.open_txns:
                txid = wal.new_txid()
                model.open_txns[txid] = []
                model.txn_user[txid] = rng.choice(USERS)
            elif action < 0.55:
                txid = rng.choice(list(model.open_txns))
                table, op, chunk = a_chunk(rng)
                user = model.txn_user[txid]
                ds.append(wal.stage(txid, user, table, op, chunk, 1))
                model.open_txns[txid].append((user, table, op, chunk))
            elif action < 0.9:
                txid = rng.choice(list(model.open_txns))
                user = model.txn_user[txid]
                extra = [a_chunk(rng) for _ in range(rng.choice([0, 0, 1, 2]))]
                staged = model.open_txns.pop(txid)
                ds.append(wal.commit(txid, user, [(t, o, c, 1) for t, o, c in extra]))
                chunks = staged + [(user, t, o, c) for t, o, c in extra]
                if chunks:
                    commit_slots.append((len(ds) - 1, len(model.committed), len(chunks)))
                    model.committed.extend((0, u, t, o, c) for u, t, o, c in chunks)
            else:
                txid = rng.choice(list(model.open_txns))
                ds.append(wal.rollback(txid))
                del model.open_txns[txid]
        results = await gatherResults(ds)
        for index, position, count in commit_slots:
            seq = results[index]
            assert isinstance(seq, int) and seq > 0
            for i in range(position, position + count):
                model.committed[i] = (seq, *model.committed[i][1:])
        seqs = [c[0] for c in model.committed]
        assert seqs == sorted(seqs)

        roll = rng.random()
        if roll < 0.25 and model.committed:
            records = await wal.pending(10_000)
            chosen = {i for i in range(len(records)) if rng.random() < 0.3}
            assert await wal.mark_done([records[i].id for i in chosen]) == len(chosen)
            model.committed = [c for i, c in enumerate(model.committed) if i not in chosen]
        elif roll < 0.33 and model.committed:
            records = await wal.pending(10_000)
            i = rng.randrange(len(records))
            await wal.dead_letter(records[i].id, None, {"code": 400})
            _, user, _, _, chunk = model.committed.pop(i)
            model.dead.setdefault(user, []).append(chunk)
        elif roll < 0.43 and model.committed:
            records = await wal.pending(10_000)
            i = rng.randrange(len(records))
            cols = records[i].columns()
            row = {k: v[0] for k, v in cols.items()}
            remove = rng.random() < 0.5
            await wal.dead_letter(records[i].id, [row], {"code": 409}, remove_record=remove)
            user = records[i].user
            if remove:
                model.committed.pop(i)
            model.dead.setdefault(user, []).append(b"")
        elif roll < 0.5 and model.dead:
            user = rng.choice(list(model.dead))
            dls = await wal.dead_letters(user)
            assert await wal.requeue_dead_letters(user) == len(dls)
            records = await wal.pending(10_000)
            seq = records[-1].seq
            for dl in dls:
                chunk = dl.chunk or encode_chunk(rows_to_columns(dl.rows()))
                model.committed.append((seq, user, dl.table, dl.op, chunk))
            del model.dead[user]
        elif roll < 0.55:
            # Restart: open transactions die with the process.
            await wal.close()
            wal = await open_wal(path, max_bytes=10**9)
            model.open_txns.clear()
        await check(wal, model)
    await wal.close()
