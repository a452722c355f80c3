"""--log-format json: one JSON object per line, fields kept, secrets masked."""

from __future__ import annotations

import io
import json

from twisted.logger import ILogObserver, Logger, LogPublisher

from pggw.ops.logs import REDACTED, JsonLinesObserver, install_observer, redact


def emit(**kw: object) -> list[dict[str, object]]:
    out = io.StringIO()
    pub = LogPublisher(JsonLinesObserver(out))
    log = Logger(namespace="pggw.test", observer=pub)
    fmt = kw.pop("fmt")
    level = kw.pop("level", "info")
    getattr(log, str(level))(str(fmt), **kw)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_object_per_line_with_fields() -> None:
    (rec,) = emit(fmt="connection {pid}: {user} connected to {database}", pid=7,
                  user="alice", database="alice")
    assert rec["msg"] == "connection 7: alice connected to alice"
    assert rec["level"] == "info" and rec["namespace"] == "pggw.test"
    assert rec["pid"] == 7 and rec["user"] == "alice"
    assert rec["ts"].endswith("Z")


def test_secrets_never_reach_the_line() -> None:
    (rec,) = emit(fmt="login {user} with password={password}", user="bob",
                  password="hunter2", client_secret="s3cr3t-x", token="tok-9f8e", api_key="k-7d6c")
    line = json.dumps(rec)
    for secret in ("hunter2", "s3cr3t-x", "tok-9f8e", "k-7d6c"):
        assert secret not in line.replace(REDACTED, "")
    assert rec["password"] == REDACTED and rec["client_secret"] == REDACTED
    assert redact("dsn host=x password=abc user=y") == f"dsn host=x password={REDACTED} user=y"


def test_failures_carry_error_and_traceback() -> None:
    out = io.StringIO()
    log = Logger(namespace="pggw.test", observer=LogPublisher(JsonLinesObserver(out)))
    try:
        raise ValueError("boom")
    except ValueError:
        log.failure("upload of {table} failed", table="assets")
    rec = json.loads(out.getvalue())
    assert rec["level"] == "critical" and rec["table"] == "assets"
    assert rec["error"] == "ValueError: boom" and "Traceback" in rec["traceback"]


def test_noise_is_dropped() -> None:
    assert emit(fmt="Starting factory {factory!r}", factory=object()) == []


class _App:
    def __init__(self) -> None:
        self.components: dict[object, object] = {}

    def setComponent(self, iface: object, obj: object) -> None:  # noqa: N802
        self.components[iface] = obj


def test_installed_only_for_json() -> None:
    from pggw.config import Config

    app = _App()
    install_observer(app, Config(log_format="text"))
    assert app.components == {}
    install_observer(app, Config(log_format="json"))
    assert isinstance(app.components[ILogObserver], JsonLinesObserver)
