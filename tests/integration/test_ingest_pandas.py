"""SQLAlchemy + pandas ``DataFrame.to_sql(if_exists="append")`` through the daemon into the WAL.

``has_table`` must find the table, so no CREATE TABLE is sent (pggw would refuse it).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa
from walread import WalReader, ms

from tests.conftest import Daemon


def engine(d: Daemon, driver: str) -> sa.Engine:
    return sa.create_engine(
        f"postgresql+{driver}://{d.user}:{d.password}@127.0.0.1:{d.port}/{d.user}")


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg"])
@pytest.mark.parametrize("method", ["multi", None])
def test_to_sql_datapoints(wal_gateway: Daemon, wal: WalReader, driver: str,
                           method: str | None) -> None:
    xid = f"pd-{driver}-{method}"
    n = 250
    df = pd.DataFrame({
        "external_id": [xid] * n,
        "timestamp": pd.date_range("2024-01-01", periods=n, freq="1500ms", tz="UTC"),
        "value": [i / 8 for i in range(n)],
    })
    mark = wal.mark()
    e = engine(wal_gateway, driver)
    try:
        df.to_sql("double_datapoints", e, if_exists="append", index=False, method=method,
                  chunksize=100)
    finally:
        e.dispose()
    t0 = ms("2024-01-01T00:00:00Z")
    assert wal.rows(mark) == [{"external_id": xid, "timestamp": t0 + 1500 * i, "value": i / 8}
                              for i in range(n)]
    assert {r.op for r in wal.since(mark)} == {"insert"}
    # One transaction (SQLAlchemy's BEGIN ... COMMIT around all chunks).
    assert len(wal.transactions(mark)) == 1


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg"])
def test_to_sql_assets(wal_gateway: Daemon, wal: WalReader, driver: str) -> None:
    df = pd.DataFrame({
        "external_id": [f"pd-{driver}-a{i}" for i in range(5)],
        "name": [f"Asset {i}" for i in range(5)],
        "description": ["d", None, "it's", "", None],
        "parent_external_id": [None] + [f"pd-{driver}-a0"] * 4,
        "metadata": [json.dumps({"i": str(i)}) for i in range(5)],
    })
    mark = wal.mark()
    e = engine(wal_gateway, driver)
    try:
        df.to_sql("assets", e, if_exists="append", index=False, method="multi")
    finally:
        e.dispose()
    assert wal.rows(mark) == [
        {"external_id": f"pd-{driver}-a{i}", "name": f"Asset {i}",
         "description": ["d", None, "it's", "", None][i],
         "parent_external_id": None if i == 0 else f"pd-{driver}-a0",
         "metadata": {"i": str(i)}}
        for i in range(5)]
