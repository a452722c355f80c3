"""files.content end to end: psycopg (text and binary parameters, literals, executemany)
and COPY (text and binary) through the real daemon, read back byte for byte from the
embedded emulator with cognite-sdk; the NOTICE for files without content; the 54000
limit; the catalog's bytea; upload URL faults and the unknown outcome of the create."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator

import psycopg
import pytest
from cognite.client import CogniteClient
from e2e_util import dead_letters, drained, emulator_of, fault_rules, faults, sdk
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Daemon, start_daemon

ALL = bytes(range(256))
BIG = os.urandom(3 * 2**20 + 17)
NOTICE = ("01000", "file(s) inserted without content: CDF deletes a file whose content is "
          "not uploaded within one week")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_daemon(tmp_path_factory.mktemp("e2e-files"))
    yield d
    d.stop()


@pytest.fixture(scope="module")
def url(daemon: Daemon) -> str:
    return emulator_of(daemon)


@pytest.fixture(scope="module")
def cdf(url: str) -> CogniteClient:
    return sdk(url)


@pytest.fixture(autouse=True)
def no_faults(url: str) -> Iterator[None]:
    faults(url, None)
    yield
    faults(url, None)


def connect(d: Daemon, notices: list[tuple[str, str]] | None = None) -> psycopg.Connection:
    c = psycopg.connect(d.dsn, autocommit=True)
    if notices is not None:
        c.add_notice_handler(lambda n: notices.append((n.sqlstate or "", n.message_primary or "")))
    return c


def upload_latency_counts(d: Daemon) -> dict[str, float]:
    """``pggw_cdf_request_duration_seconds_count`` of the content PUTs, by outcome."""
    with urllib.request.urlopen(f"http://127.0.0.1:{d.http_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if (s.name == "pggw_cdf_request_duration_seconds_count"
                    and s.labels["endpoint"] == "PUT uploadUrl"):
                assert s.labels["resource"] == "files"
                out[s.labels["outcome"]] = s.value
    return out


def content(cdf: CogniteClient, external_id: str) -> bytes:
    f = cdf.files.retrieve(external_id=external_id)
    assert f is not None and f.uploaded, external_id
    return cdf.files.download_bytes(external_id=external_id)


def test_content_through_psycopg_and_copy_read_back_byte_for_byte(
        daemon: Daemon, cdf: CogniteClient) -> None:
    notices: list[tuple[str, str]] = []
    with connect(daemon, notices) as c, c.cursor() as cur:
        cur.execute("INSERT INTO files (external_id, name, mime_type, content)"
                    " VALUES (%s, %s, %s, %b)", ("c-bin", "all.bin", "application/octet-stream",
                                                 ALL))
        cur.execute("INSERT INTO files (external_id, name, mime_type, content)"
                    " VALUES (%s, %s, %s, %t)", ("c-text", "all.txt", "text/plain", ALL))
        cur.execute("INSERT INTO files (external_id, name, content)"
                    " VALUES ('c-lit-hex', 'h', '\\x00ff0a'), ('c-lit-esc', 'e', 'a\\\\b\\001')")
        cur.execute("INSERT INTO files (external_id, name, mime_type, content)"
                    " VALUES (%s, %s, %s, %b)", ("c-big", "big.dat", "image/png", BIG))
        cur.executemany("INSERT INTO files (external_id, name, content) VALUES (%s, %s, %b)",
                        [(f"c-many-{i}", f"m{i}", ALL[i:] + bytes([i])) for i in range(5)])
        with cur.copy("COPY files (external_id, name, mime_type, content) FROM STDIN") as cp:
            cp.write_row(("c-copy-text", "t.bin", "application/pdf", b"\x00\\\t\n\r" + ALL))
            cp.write_row(("c-copy-text2", "t2.bin", None, b""))
        with cur.copy("COPY files (external_id, name, content) FROM STDIN (FORMAT BINARY)"
                      ) as cp:
            cp.set_types(["text", "text", "bytea"])
            cp.write_row(("c-copy-bin", "b.bin", ALL * 3))
    assert notices == []  # every file had content
    drained(daemon)
    assert dead_letters(daemon) == []
    assert content(cdf, "c-bin") == ALL and content(cdf, "c-text") == ALL
    assert content(cdf, "c-lit-hex") == b"\x00\xff\n"
    assert content(cdf, "c-lit-esc") == b"a\\b\x01"
    assert content(cdf, "c-big") == BIG
    for i in range(5):
        assert content(cdf, f"c-many-{i}") == ALL[i:] + bytes([i])
    assert content(cdf, "c-copy-text") == b"\x00\\\t\n\r" + ALL
    assert content(cdf, "c-copy-text2") == b""
    assert content(cdf, "c-copy-bin") == ALL * 3
    f = cdf.files.retrieve(external_id="c-big")
    assert f is not None and (f.name, f.mime_type) == ("big.dat", "image/png")
    assert len(cdf.files.list(external_id_prefix="c-", limit=None)) == 13  # no duplicates


def test_notice_once_per_statement_for_files_without_content(daemon: Daemon,
                                                             cdf: CogniteClient) -> None:
    notices: list[tuple[str, str]] = []
    with connect(daemon, notices) as c, c.cursor() as cur:
        cur.execute("INSERT INTO files (external_id, name) VALUES ('n-1', 'a'), ('n-2', 'b')")
        assert notices == [NOTICE]
        cur.execute("INSERT INTO files (external_id, name, content) VALUES"
                    " ('n-3', 'c', '\\x01'), ('n-4', 'd', NULL)")
        assert notices == [NOTICE] * 2
        cur.execute("INSERT INTO files (external_id, name, content) VALUES ('n-5', 'e', '\\x02')")
        cur.execute("INSERT INTO assets (external_id, name) VALUES ('n-asset', 'x')")
        assert notices == [NOTICE] * 2
        cur.executemany("INSERT INTO files (external_id, name) VALUES (%s, %s)",
                        [(f"n-many-{i}", "m") for i in range(6)])
        assert notices == [NOTICE] * 3  # one for the whole executemany, not one per row
        with cur.copy("COPY files (external_id, name) FROM STDIN") as cp:
            for i in range(3):
                cp.write_row((f"n-copy-{i}", "c"))
        assert notices == [NOTICE] * 4
        cur.execute("INSERT INTO files (external_id, name) VALUES ('n-1', 'a')"
                    " ON CONFLICT (external_id) DO NOTHING")
        assert notices == [NOTICE] * 5
        cur.execute("UPDATE files SET source = 's' WHERE external_id = 'n-2'")
        assert notices == [NOTICE] * 5  # an update creates no file
    drained(daemon)
    assert dead_letters(daemon) == []
    got = {f.external_id: f.uploaded for f in cdf.files.list(external_id_prefix="n-", limit=None)}
    assert got["n-1"] is False and got["n-3"] is True and got["n-4"] is False
    assert len(got) == 14


def test_notice_fields_as_psql_shows_them(daemon: Daemon) -> None:
    got: list[tuple[str | None, ...]] = []
    with connect(daemon) as c:
        c.add_notice_handler(lambda n: got.append(
            (n.severity, n.sqlstate, n.message_detail, n.message_hint)))
        c.execute("INSERT INTO files (external_id, name) VALUES ('n-fields', 'f')")
    ((severity, sqlstate, detail, hint),) = got
    assert (severity, sqlstate) == ("NOTICE", "01000")
    assert detail is not None and "within one week" in detail
    assert hint is not None and "content column (bytea)" in hint


def test_content_over_the_limit_is_refused_with_54000(daemon: Daemon) -> None:
    with connect(daemon) as c:
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as e:
            c.execute("INSERT INTO files (external_id, name, content) VALUES (%s, %s, %b)",
                      ("too-big", "x", b"\x00" * (64 * 2**20 + 1)))
        assert e.value.diag.sqlstate == "54000"
        assert "67108864" in (e.value.diag.message_detail or "")
        assert c.execute("SELECT 1").fetchone() == (1,)  # the session goes on
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            c.execute("INSERT INTO files (external_id, name, content) VALUES ('x', 'x', '\\xzz')")


def test_catalog_shows_content_as_bytea(daemon: Daemon) -> None:
    with connect(daemon) as c:
        row = c.execute("SELECT data_type, is_nullable, character_maximum_length"
                        " FROM information_schema.columns"
                        " WHERE table_name = 'files' AND column_name = 'content'").fetchone()
        assert row == ("bytea", "YES", None)
        row = c.execute("SELECT a.atttypid, format_type(a.atttypid, a.atttypmod)"
                        " FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid"
                        " WHERE r.relname = 'files' AND a.attname = 'content'").fetchone()
        assert row == (17, "bytea")


def test_upload_url_failures_are_retried_without_recreating_the_file(
        daemon: Daemon, url: str, cdf: CogniteClient) -> None:
    before = upload_latency_counts(daemon)
    faults(url, [{"path": "/_emulator/files/*", "method": "PUT", "status": 503, "count": 2},
                 {"path": "/_emulator/files/*", "method": "PUT", "status": 404, "count": 1}])
    with connect(daemon) as c:
        c.execute("INSERT INTO files (external_id, name, content) VALUES (%s, %s, %b)",
                  ("r-retry", "r", BIG))
    drained(daemon, timeout=90)
    assert [r["fired"] for r in fault_rules(url)] == [2, 1]
    after = upload_latency_counts(daemon)
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    assert delta == {"server_error": 2, "client_error": 1, "success": 1}
    assert content(cdf, "r-retry") == BIG
    assert [f.external_id for f in cdf.files.list(external_id_prefix="r-", limit=None)] == [
        "r-retry"]
    assert dead_letters(daemon) == []


def test_unknown_outcome_of_the_create_still_uploads_once(daemon: Daemon, url: str,
                                                          cdf: CogniteClient) -> None:
    faults(url, [{"path": "/api/v1/projects/demo/files", "method": "POST", "status": 502,
                  "mode": "apply-then-fail", "count": 1}])
    with connect(daemon) as c:
        c.execute("INSERT INTO files (external_id, name, source, content)"
                  " VALUES (%s, %s, %s, %b)", ("u-once", "u", "src", ALL))
    drained(daemon, timeout=60)
    assert [r["fired"] for r in fault_rules(url)] == [1]
    assert content(cdf, "u-once") == ALL
    assert len(cdf.files.list(external_id_prefix="u-", limit=None)) == 1
    assert dead_letters(daemon) == []
