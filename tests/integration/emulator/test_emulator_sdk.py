"""The official cognite-sdk against the emulator running as a child process."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_harness import ChildEmulator

sdk = pytest.importorskip("cognite.client")

from cognite.client import ClientConfig, CogniteClient  # noqa: E402
from cognite.client.credentials import OAuthClientCredentials  # noqa: E402
from cognite.client.data_classes import (  # noqa: E402
    AssetUpdate,
    AssetWrite,
    EventWrite,
    TimeSeriesUpdate,
    TimeSeriesWrite,
)
from cognite.client.exceptions import (  # noqa: E402
    CogniteAPIError,
    CogniteDuplicatedError,
    CogniteNotFoundError,
)


def client_for(url: str, secret: str = "demo-secret") -> CogniteClient:
    return CogniteClient(
        ClientConfig(
            client_name="pggw-emulator-tests",
            project="demo",
            base_url=url,
            credentials=OAuthClientCredentials(
                token_url=f"{url}/oauth2/token",
                client_id="demo-client",
                client_secret=secret,
                scopes=[f"{url}/.default"],
            ),
            timeout=30,
        )
    )


@pytest.fixture
def client(child_emulator: ChildEmulator) -> CogniteClient:
    return client_for(child_emulator.url)


def test_assets_events_timeseries_crud(client: CogniteClient) -> None:
    root, child = client.assets.create(
        [
            AssetWrite(external_id="root", name="Root"),
            AssetWrite(external_id="child", name="Child", parent_external_id="root"),
        ]
    )
    assert child.parent_id == root.id and child.root_id == root.id
    with pytest.raises(CogniteDuplicatedError) as dup:
        client.assets.create(AssetWrite(external_id="root", name="Again"))
    assert dup.value.duplicated == [{"externalId": "root"}]
    assert client.assets.retrieve(external_id="child").name == "Child"
    assert client.assets.retrieve(external_id="nope") is None
    with pytest.raises(CogniteNotFoundError):
        client.assets.retrieve_multiple(external_ids=["nope"])
    client.assets.update(
        AssetUpdate(external_id="child").name.set("Child 2").metadata.add({"k": "v"})
    )
    assert client.assets.retrieve(external_id="child").metadata == {"k": "v"}
    assert sorted(a.external_id for a in client.assets.list(limit=None)) == ["child", "root"]
    client.assets.delete(external_id="root", recursive=True)
    assert len(client.assets.list(limit=None)) == 0

    client.events.create(
        [EventWrite(external_id=f"e{i}", start_time=i * 1000, type="t") for i in range(5)]
    )
    assert len(client.events.list(limit=None, type="t")) == 5
    client.events.delete(external_id=["e0", "e1"])
    assert sorted(e.external_id for e in client.events.list(limit=None)) == ["e2", "e3", "e4"]

    ts = client.time_series.create(
        TimeSeriesWrite(external_id="temp", name="Temperature", unit="C")
    )
    assert ts.is_string is False
    client.time_series.update(TimeSeriesUpdate(external_id="temp").unit.set("K"))
    assert client.time_series.retrieve(external_id="temp").unit == "K"
    client.time_series.delete(external_id="temp")
    assert client.time_series.retrieve(external_id="temp") is None


def test_datapoints_insert_and_retrieve(client: CogniteClient) -> None:
    client.time_series.create(
        [TimeSeriesWrite(external_id="num"), TimeSeriesWrite(external_id="txt", is_string=True)]
    )
    base = 1_700_000_000_000
    client.time_series.data.insert(
        [(base + i * 1000, float(i)) for i in range(5000)], external_id="num"
    )
    client.time_series.data.insert([(base, "on"), (base + 1000, "off")], external_id="txt")
    client.time_series.data.insert([(base, 100.0)], external_id="num")  # overwrite
    dps = client.time_series.data.retrieve(
        external_id="num", start=base, end=base + 10_000_000, limit=None
    )
    assert len(dps) == 5000
    assert dps.value[0] == 100.0 and dps.value[1] == 1.0
    txt = client.time_series.data.retrieve(external_id="txt", start=base, end=base + 10_000)
    assert list(txt.value) == ["on", "off"]
    latest = client.time_series.data.retrieve_latest(external_id="num")
    assert latest.value == 4999.0
    client.time_series.data.delete_range(start=base, end=base + 2000 * 1000, external_id="num")
    assert (
        len(
            client.time_series.data.retrieve(
                external_id="num", start=base, end=base + 10_000_000, limit=None
            )
        )
        == 3000
    )
    with pytest.raises(CogniteNotFoundError):
        client.time_series.data.insert([(base, 1.0)], external_id="missing")


def test_raw_rows(client: CogniteClient) -> None:
    client.raw.rows.insert(
        "db", "table", {f"k{i}": {"n": i} for i in range(20)}, ensure_parent=True
    )
    rows = client.raw.rows.list("db", "table", limit=None)
    assert len(rows) == 20
    assert client.raw.rows.retrieve("db", "table", "k3").columns == {"n": 3}
    client.raw.rows.delete("db", "table", ["k0", "k1"])
    assert len(client.raw.rows.list("db", "table", limit=None)) == 18
    assert [d.name for d in client.raw.databases.list(limit=None)] == ["db"]
    assert [t.name for t in client.raw.tables.list("db", limit=None)] == ["table"]


def test_wrong_secret_is_an_auth_error(child_emulator: ChildEmulator) -> None:
    bad = client_for(child_emulator.url, secret="wrong")
    with pytest.raises(Exception) as exc:  # noqa: B017 - the SDK wraps OAuth errors its own way
        bad.assets.list(limit=1)
    assert "invalid_client" in str(exc.value) or isinstance(exc.value, CogniteAPIError)


def test_data_survives_a_restart(child_emulator: ChildEmulator) -> None:
    client = client_for(child_emulator.url)
    client.assets.create(AssetWrite(external_id="persisted", name="P"))
    client.raw.rows.insert("db", "t", {"k": {"v": 1}}, ensure_parent=True)
    child_emulator.stop()
    url = child_emulator.start()
    again = client_for(url)
    assert again.assets.retrieve(external_id="persisted").name == "P"
    row: Any = again.raw.rows.retrieve("db", "t", "k")
    assert row.columns == {"v": 1}
