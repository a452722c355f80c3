"""Run the CDF emulator as a child process of the gateway (the default without ``--cdf-url``).

The emulator is its own Python process so its work never competes with the
gateway's reactor.  Its URL is known once it prints its listening line.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

from twisted.application.service import Service
from twisted.internet import protocol
from twisted.internet.defer import Deferred
from twisted.logger import Logger

log = Logger()

_LISTENING = re.compile(rb"listening on (http://\S+)")


class _ChildProtocol(protocol.ProcessProtocol):
    def __init__(self, service: EmbeddedEmulator) -> None:
        self.service = service
        self.buffer = b""

    def outReceived(self, data: bytes) -> None:  # noqa: N802
        self._lines(data)

    def errReceived(self, data: bytes) -> None:  # noqa: N802
        self._lines(data)

    def _lines(self, data: bytes) -> None:
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            m = _LISTENING.search(line)
            if m and self.service.url is None:
                self.service.listening(m.group(1).decode())
            elif line.strip():
                log.debug("emulator: {line}", line=line.decode(errors="replace"))

    def processEnded(self, reason: Any) -> None:  # noqa: N802
        self.service.ended(reason)


class EmbeddedEmulator(Service):
    """Starts ``python -m pggw.emulator`` and stops it with the gateway."""

    def __init__(self, endpoint: str, data_dir: Path, project: str = "demo",
                 reactor: Any = None) -> None:
        self.endpoint = endpoint
        self.data_dir = data_dir
        self.project = project
        self.reactor = reactor
        self.url: str | None = None
        self.process: Any = None
        self._ready: list[Deferred[str]] = []
        self._stopped: Deferred[None] | None = None

    def when_ready(self) -> Deferred[str]:
        d: Deferred[str] = Deferred()
        if self.url is not None:
            d.callback(self.url)
        else:
            self._ready.append(d)
        return d

    def listening(self, url: str) -> None:
        self.url = url
        log.info("embedded CDF emulator listening on {url} (project {project})", url=url,
                 project=self.project)
        ready, self._ready = self._ready, []
        for d in ready:
            d.callback(url)

    def ended(self, reason: Any) -> None:
        self.process = None
        if self._stopped is not None:
            d, self._stopped = self._stopped, None
            d.callback(None)
        elif self.running:
            log.error("embedded CDF emulator exited: {reason}", reason=reason.value)

    def startService(self) -> None:  # noqa: N802
        super().startService()  # type: ignore[no-untyped-call]
        from twisted.internet import reactor as default_reactor

        reactor = self.reactor or default_reactor
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "pggw.emulator", "--endpoint", self.endpoint,
                "--data-dir", str(self.data_dir), "--project", self.project,
                "--parent-pid", str(os.getpid())]
        self.process = reactor.spawnProcess(_ChildProtocol(self), sys.executable, args,
                                            env=dict(os.environ))

    def stopService(self) -> Deferred[None] | None:  # noqa: N802
        super().stopService()  # type: ignore[no-untyped-call]
        if self.process is None:
            return None
        self._stopped = Deferred()
        try:
            self.process.signalProcess(signal.SIGTERM)
        except Exception:  # noqa: BLE001 - already gone
            return None
        return self._stopped
