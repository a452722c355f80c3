"""End to end: psycopg and psql (\\copy) through the real daemon into every built-in
table, then read back from the embedded emulator with cognite-sdk, field by field."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from cognite.client import CogniteClient
from e2e_util import dead_letters, drained, emulator_of, sdk

from tests.conftest import Daemon, start_daemon

T1 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_daemon(tmp_path_factory.mktemp("e2e-tables"))
    yield d
    d.stop()


@pytest.fixture(scope="module")
def cdf(daemon: Daemon) -> CogniteClient:
    return sdk(emulator_of(daemon))


def test_psycopg_into_every_builtin_table(daemon: Daemon, cdf: CogniteClient) -> None:
    with psycopg.connect(daemon.dsn, autocommit=True) as c:
        c.execute("INSERT INTO data_sets (external_id, name, description, metadata)"
                  " VALUES ('e2e-ds', 'E2E', 'set', '{\"team\": \"ops\"}')")
        c.execute("INSERT INTO labels (external_id, name, description, data_set_external_id)"
                  " VALUES ('e2e-lab', 'Pump', 'a label', '{e2e-ds}')")
        c.execute("BEGIN")
        c.execute("INSERT INTO assets (external_id, name, parent_external_id, description,"
                  " metadata, source, labels, data_set_external_id) VALUES"
                  " ('e2e-kid', 'Kid', 'e2e-root', 'child', '{\"n\": \"2\"}', 'src', '{e2e-lab}',"
                  "  'e2e-ds'),"
                  " ('e2e-root', 'Root', NULL, 'root', '{\"n\": \"1\"}', 'src', NULL, 'e2e-ds')")
        c.execute("COMMIT")
        c.execute("INSERT INTO events (external_id, start_time, end_time, type, subtype,"
                  " description, metadata, asset_external_ids, source, data_set_external_id)"
                  " VALUES ('e2e-ev', '2024-01-01T00:00:01Z', '2024-01-01T00:00:02.5Z', 'alarm',"
                  " 'high', 'hot', '{\"k\": \"v\"}', '{e2e-root,e2e-kid}', 'scada', 'e2e-ds')")
        c.execute("INSERT INTO time_series (external_id, name, is_string, metadata, unit,"
                  " asset_external_id, is_step, description, data_set_external_id) VALUES"
                  " ('e2e-ts', 'Temp', false, '{\"u\": \"c\"}', 'C', 'e2e-root', true, 'temp',"
                  "  'e2e-ds'),"
                  " ('e2e-sts', 'State', true, NULL, NULL, NULL, false, NULL, NULL)")
        with c.cursor() as cur:
            cur.executemany(
                "INSERT INTO double_datapoints (external_id, timestamp, value, status_code)"
                " VALUES (%s, %s, %s, %s)",
                [("e2e-ts", f"2024-01-01T00:00:0{i}Z", i * 1.5, None) for i in range(5)])
        c.execute("INSERT INTO string_datapoints (external_id, timestamp, value) VALUES"
                  " ('e2e-sts', '2024-01-01T00:00:00Z', 'on'),"
                  " ('e2e-sts', '2024-01-01T00:00:01Z', 'off')")
        c.execute("INSERT INTO files (external_id, name, directory, source, mime_type, metadata,"
                  " asset_external_ids, data_set_external_id, labels) VALUES"
                  " ('e2e-file', 'report.txt', '/r', 'docs', 'text/plain', '{\"p\": \"1\"}',"
                  "  '{e2e-root}', 'e2e-ds', '{e2e-lab}')")
        c.execute("INSERT INTO sequences (external_id, name, description, asset_external_id,"
                  " data_set_external_id, metadata, columns) VALUES"
                  " ('e2e-seq', 'Curve', 'pump curve', 'e2e-root', 'e2e-ds', '{\"m\": \"1\"}',"
                  "  '[{\"externalId\": \"flow\", \"valueType\": \"DOUBLE\"},"
                  "    {\"externalId\": \"note\", \"valueType\": \"STRING\"}]')")
        c.execute("INSERT INTO sequence_rows (external_id, row_number, values) VALUES"
                  " ('e2e-seq', 0, '{\"flow\": 1.5, \"note\": \"a\"}'),"
                  " ('e2e-seq', 1, '{\"flow\": 2.5, \"note\": \"b\"}')")
        c.execute("INSERT INTO relationships (external_id, source_external_id, source_type,"
                  " target_external_id, target_type, start_time, confidence,"
                  " data_set_external_id, labels) VALUES"
                  " ('e2e-rel', 'e2e-root', 'asset', 'e2e-ev', 'event', '2024-01-01T00:00:00Z',"
                  "  0.75, 'e2e-ds', '{e2e-lab}')")
        c.execute("INSERT INTO raw_rows (_raw_database, _raw_table, _raw_key, _raw_columns)"
                  " VALUES ('e2e-db', 'e2e-t', 'k1', '{\"a\": 1, \"b\": \"x\"}'),"
                  " ('e2e-db', 'e2e-t', 'k2', '{\"a\": 2, \"nested\": {\"c\": [1, 2]}}')")
        c.execute("INSERT INTO extraction_pipelines (external_id, name, description,"
                  " data_set_external_id, schedule, source, created_by) VALUES"
                  " ('e2e-pipe', 'Pipe', 'loads', 'e2e-ds', 'Continuous', 'sap', 'me')")
        c.execute("INSERT INTO extraction_pipeline_runs (external_id, status, message) VALUES"
                  " ('e2e-pipe', 'success', 'all good')")
    drained(daemon)
    assert dead_letters(daemon) == []

    ds = cdf.data_sets.retrieve(external_id="e2e-ds")
    assert ds is not None and ds.name == "E2E" and ds.description == "set"
    assert ds.metadata == {"team": "ops"}
    (lab,) = [x for x in cdf.labels.list(limit=100) if x.external_id == "e2e-lab"]
    assert lab.name == "Pump" and lab.description == "a label" and lab.data_set_id == ds.id

    root = cdf.assets.retrieve(external_id="e2e-root")
    kid = cdf.assets.retrieve(external_id="e2e-kid")
    assert root is not None and kid is not None
    assert (root.name, root.description, root.metadata, root.source, root.data_set_id) == (
        "Root", "root", {"n": "1"}, "src", ds.id)
    assert root.parent_id is None and kid.parent_id == root.id
    assert (kid.name, kid.metadata, kid.data_set_id) == ("Kid", {"n": "2"}, ds.id)
    assert [lb.external_id for lb in kid.labels] == ["e2e-lab"]

    ev = cdf.events.retrieve(external_id="e2e-ev")
    assert ev is not None
    assert (ev.start_time, ev.end_time, ev.type, ev.subtype) == (
        T1 + 1000, T1 + 2500, "alarm", "high")
    assert (ev.description, ev.metadata, ev.source, ev.data_set_id) == (
        "hot", {"k": "v"}, "scada", ds.id)
    assert sorted(ev.asset_ids) == sorted([root.id, kid.id])

    ts = cdf.time_series.retrieve(external_id="e2e-ts")
    assert ts is not None
    assert (ts.name, ts.is_string, ts.metadata, ts.unit, ts.asset_id, ts.is_step) == (
        "Temp", False, {"u": "c"}, "C", root.id, True)
    assert (ts.description, ts.data_set_id) == ("temp", ds.id)
    dps = cdf.time_series.data.retrieve(external_id="e2e-ts", start=T1, end=T1 + 10_000)
    assert list(dps.timestamp) == [T1 + i * 1000 for i in range(5)]
    assert list(dps.value) == [i * 1.5 for i in range(5)]
    sdps = cdf.time_series.data.retrieve(external_id="e2e-sts", start=T1, end=T1 + 10_000)
    assert list(sdps.value) == ["on", "off"]

    f = cdf.files.retrieve(external_id="e2e-file")
    assert f is not None
    assert (f.name, f.directory, f.source, f.mime_type, f.metadata, f.data_set_id) == (
        "report.txt", "/r", "docs", "text/plain", {"p": "1"}, ds.id)
    assert f.asset_ids == [root.id]

    seq = cdf.sequences.retrieve(external_id="e2e-seq")
    assert seq is not None
    assert (seq.name, seq.description, seq.asset_id, seq.data_set_id, seq.metadata) == (
        "Curve", "pump curve", root.id, ds.id, {"m": "1"})
    assert [col.external_id for col in seq.columns] == ["flow", "note"]
    rows = cdf.sequences.data.retrieve(external_id="e2e-seq", start=0, end=None)
    assert [(r[0], list(r[1])) for r in rows.items()] == [(0, [1.5, "a"]), (1, [2.5, "b"])]

    rel = cdf.relationships.retrieve(external_id="e2e-rel")
    assert rel is not None
    assert (rel.source_external_id, rel.source_type, rel.target_external_id,
            rel.target_type) == ("e2e-root", "asset", "e2e-ev", "event")
    assert (rel.start_time, rel.confidence, rel.data_set_id) == (T1, 0.75, ds.id)

    raw = {r.key: r.columns for r in cdf.raw.rows.list("e2e-db", "e2e-t", limit=10_000)}
    assert raw == {"k1": {"a": 1, "b": "x"}, "k2": {"a": 2, "nested": {"c": [1, 2]}}}

    pipe = cdf.extraction_pipelines.retrieve(external_id="e2e-pipe")
    assert pipe is not None
    assert (pipe.name, pipe.description, pipe.data_set_id, pipe.schedule, pipe.source,
            pipe.created_by) == ("Pipe", "loads", ds.id, "Continuous", "sap", "me")
    runs = cdf.extraction_pipelines.runs.list(external_id="e2e-pipe", limit=10)
    assert [(r.status, r.message) for r in runs] == [("success", "all good")]


def test_psql_copy_into_datapoints_and_raw(daemon: Daemon, cdf: CogniteClient,
                                           tmp_path: Path) -> None:
    with psycopg.connect(daemon.dsn, autocommit=True) as c:
        c.execute("INSERT INTO time_series (external_id, name) VALUES ('e2e-copy-ts', 'Copy')")
    points = tmp_path / "points.csv"
    points.write_text("".join(
        f"e2e-copy-ts,{datetime.fromtimestamp(T1 / 1000 + i, UTC).isoformat()},{i / 4}\n"
        for i in range(2000)))
    raw = tmp_path / "raw.csv"
    raw.write_text("".join(f'e2e-copy-db,t,key-{i},"{{""i"": {i}, ""s"": ""r{i}""}}"\n'
                           for i in range(1500)))
    env = {**os.environ, "PGPASSWORD": daemon.password}
    for sql in (f"\\copy double_datapoints (external_id, timestamp, value) FROM '{points}' CSV",
                f"\\copy raw_rows (_raw_database, _raw_table, _raw_key, _raw_columns)"
                f" FROM '{raw}' CSV"):
        out = subprocess.run(
            ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(daemon.port),
             "-U", daemon.user, "-d", daemon.user, "-c", sql],
            env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() in ("COPY 2000", "COPY 1500"), out.stdout
    drained(daemon)
    assert dead_letters(daemon) == []
    dps = cdf.time_series.data.retrieve(external_id="e2e-copy-ts", start=T1, end=T1 + 10**7,
                                        limit=None)
    assert list(dps.timestamp) == [T1 + i * 1000 for i in range(2000)]
    assert list(dps.value) == [i / 4 for i in range(2000)]
    rows = {r.key: r.columns for r in cdf.raw.rows.list("e2e-copy-db", "t", limit=10_000)}
    assert len(rows) == 1500 and rows["key-77"] == {"i": 77, "s": "r77"}
