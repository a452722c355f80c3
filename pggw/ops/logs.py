"""``--log-format json``: one JSON object per line, from :mod:`twisted.logger` events.

Each line carries ``ts`` (ISO 8601 UTC), ``level``, ``namespace``, ``msg`` (the formatted
message) and the event's own fields that are plain values (``user``, ``pid``, ``table``,
``n``, …), plus ``error``/``traceback`` for failures. Fields whose name looks like a
secret (password, secret, token, key, authorization, nonce, credential) are replaced by
``"[redacted]"``, and so are such values in the message; nothing in pggw logs secrets in
the first place, this is a second line of defence.

Where the lines go follows twistd's own rules: ``--logfile PATH`` (``-`` for stdout), or
stdout with ``--nodaemon`` and no ``--logfile``, else ``twistd.log``.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

from twisted.logger import ILogObserver, LogLevel, formatEvent
from zope.interface import implementer

__all__ = ["JsonLinesObserver", "install_observer", "redact"]

_SECRET_NAME = re.compile(r"pass(word)?|secret|token|(^|_)key$|authorization|nonce|credential",
                          re.I)
_SECRET_IN_TEXT = re.compile(
    r"((?:password|secret|token|nonce|client_secret)\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)", re.I)
_SKIP = {"log_format", "log_level", "log_namespace", "log_logger", "log_source", "log_time",
         "log_failure", "log_text", "log_io", "log_system", "log_legacy", "log_trace",
         "message", "format", "isError", "system", "time", "why", "failure"}
REDACTED = "[redacted]"
#: Twisted's chatter about every HTTP client connection pool factory.
_NOISE = frozenset({"Starting factory {factory!r}", "Stopping factory {factory!r}"})


def redact(text: str) -> str:
    """Mask ``password=…``-like fragments in free text."""
    return _SECRET_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple) and len(value) <= 20:
        return [_plain(v) for v in value]
    return redact(str(value))[:500]


@implementer(ILogObserver)
class JsonLinesObserver:
    """Writes each event as one JSON line to ``stream`` (flushed per line)."""

    def __init__(self, stream: IO[str] | Callable[[], IO[str]]) -> None:
        self._stream = stream

    @property
    def stream(self) -> IO[str]:
        if callable(self._stream) and not hasattr(self._stream, "write"):
            self._stream = self._stream()
        return self._stream  # type: ignore[return-value]

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("log_format") in _NOISE:
            return
        try:
            line = json.dumps(self.record(event), ensure_ascii=False, allow_nan=True)
        except Exception:  # noqa: BLE001 - a log line must never break the caller
            line = json.dumps({"msg": "unserialisable log event", "level": "error"})
        out = self.stream
        out.write(line + "\n")
        out.flush()

    @staticmethod
    def record(event: dict[str, Any]) -> dict[str, Any]:
        level = event.get("log_level")
        ts = event.get("log_time")
        rec: dict[str, Any] = {
            "ts": datetime.fromtimestamp(ts if ts is not None else 0, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": level.name if isinstance(level, type(LogLevel.info)) else "info",
            "namespace": event.get("log_namespace", "-"),
        }
        msg = formatEvent(event) if event.get("log_format") is not None else ""
        if not msg and "message" in event:  # legacy twisted.python.log
            msg = " ".join(str(m) for m in event["message"])
        rec["msg"] = redact(msg)
        for k, v in event.items():
            if k in _SKIP or k.startswith("log_") or k in rec:
                continue
            rec[k] = REDACTED if _SECRET_NAME.search(k) else _plain(v)
        failure = event.get("log_failure")
        if failure is not None:
            rec["level"] = "error" if rec["level"] in ("info", "debug") else rec["level"]
            rec["error"] = redact(f"{failure.type.__name__}: {failure.value}")
            with contextlib.suppress(Exception):
                rec["traceback"] = redact(failure.getTraceback())
        return rec


def _twistd_options() -> dict[str, Any]:
    """twistd's own ``--logfile``/``--nodaemon``. The server options are not handed to
    services, so the command line is parsed again with twistd's parser."""
    try:
        from twisted.scripts._twistd_unix import ServerOptions

        options = ServerOptions()  # type: ignore[no-untyped-call]
        options.parseOptions(sys.argv[1:])  # type: ignore[no-untyped-call]
        return {"logfile": options.get("logfile") or None,
                "nodaemon": bool(options.get("nodaemon"))}
    except BaseException:  # noqa: BLE001 - not run by twistd (tests): stdout
        return {"logfile": None, "nodaemon": True}


def _destination(logfile: str | None, nodaemon: bool) -> Callable[[], IO[str]]:
    def open_stream() -> IO[str]:
        if logfile == "-" or (not logfile and nodaemon):
            return sys.stdout
        return open(logfile or "twistd.log", "a", encoding="utf-8")  # noqa: SIM115

    return open_stream


def install_observer(application: Any, config: Any) -> None:
    """With ``log_format == "json"``, make ``application`` (twistd's, before logging starts)
    log JSON lines; otherwise leave twistd's text logging alone."""
    if getattr(config, "log_format", "text") != "json":
        return
    set_component = getattr(application, "setComponent", None)
    if set_component is None:
        return
    opts = _twistd_options()
    set_component(ILogObserver, JsonLinesObserver(_destination(opts["logfile"],
                                                               opts["nodaemon"])))
