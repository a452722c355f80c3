from __future__ import annotations

import pytest
from twisted.python import usage

from pggw.config import Options


def parse(argv: list[str], monkeypatch: pytest.MonkeyPatch, **env: str):  # type: ignore[no-untyped-def]
    for k in list(__import__("os").environ):
        if k.startswith("PGGW_"):
            monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    o = Options()
    o.parseOptions(argv)
    return o.config()


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    c = parse([], monkeypatch)
    assert c.pg_endpoint == "tcp:5432:interface=127.0.0.1"
    assert c.http_endpoint == "tcp:8080:interface=127.0.0.1"
    assert str(c.data_dir) == "pggw-data"
    assert c.auth == "scram" and not c.require_tls and c.local_users


def test_environment_and_flag_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    c = parse([], monkeypatch, PGGW_PG_ENDPOINT="tcp:6000", PGGW_REQUIRE_TLS="true",
              PGGW_AUTH="md5")
    assert c.pg_endpoint == "tcp:6000" and c.require_tls and c.auth == "md5"
    c = parse(["--pg-endpoint", "tcp:7000"], monkeypatch, PGGW_PG_ENDPOINT="tcp:6000")
    assert c.pg_endpoint == "tcp:7000"
    c = parse(["--pg-endpoint=tcp:7001"], monkeypatch, PGGW_PG_ENDPOINT="tcp:6000")
    assert c.pg_endpoint == "tcp:7001"


def test_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(usage.UsageError, match="--auth"):
        parse(["--auth", "trust"], monkeypatch)
    with pytest.raises(usage.UsageError, match="go together"):
        parse(["--tls-cert", "x.pem"], monkeypatch)
