"""Build the emulator as a Twisted service: for ``twistd pggw-emulator``, ``python -m
pggw.emulator``, the gateway's embedded mode, and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twisted.application.service import IService, MultiService
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort
from twisted.logger import Logger
from twisted.web.server import Site

from pggw.emulator import auth
from pggw.emulator.app import Emulator, EmulatorResource

log = Logger()


class EmulatorService(MultiService):
    """Listens on one endpoint and serves the emulator from ``data_dir``."""

    def __init__(
        self,
        endpoint: str,
        data_dir: Path,
        project: str = "demo",
        clients_file: Path | None = None,
        max_concurrent: int | None = None,
        reactor: Any = None,
        access_log: bool = False,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.access_log = access_log
        self.endpoint = endpoint
        self.data_dir = Path(data_dir)
        self.project = project
        self.clients = auth.load_clients(clients_file) if clients_file is not None else None
        self.max_concurrent = max_concurrent
        self._reactor = reactor
        self.app: Emulator | None = None
        self.port: IListeningPort | None = None
        self.url: str | None = None
        self._waiting: list[Deferred[str]] = []

    @property
    def reactor(self) -> Any:
        if self._reactor is None:
            from twisted.internet import reactor

            self._reactor = reactor
        return self._reactor

    def when_listening(self) -> Deferred[str]:
        """Fires with the base URL once the emulator listens."""
        if self.url is not None:
            return Deferred.fromCoroutine(_value(self.url))
        waiting: Deferred[str] = Deferred()
        self._waiting.append(waiting)
        return waiting

    def startService(self) -> None:
        super().startService()  # type: ignore[no-untyped-call]
        self.app = Emulator(
            self.data_dir,
            self.reactor,
            project=self.project,
            clients=self.clients,
            max_concurrent=self.max_concurrent,
        )
        site_class = Site if self.access_log else _QuietSite
        site = site_class(EmulatorResource(self.app))  # type: ignore[no-untyped-call]
        site.displayTracebacks = False
        site.noisy = False
        listening = serverFromString(self.reactor, self.endpoint).listen(site)  # type: ignore[no-untyped-call]
        listening.addCallbacks(self._listening, self._failed)

    def _listening(self, port: IListeningPort) -> None:
        self.port = port
        address = port.getHost()
        host = getattr(address, "host", "127.0.0.1")
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        self.url = f"http://{host}:{address.port}"  # type: ignore[attr-defined]
        log.info("pggw-emulator listening on {url}", url=self.url)
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(self.url)

    def _failed(self, failure: Any) -> None:
        log.failure("pggw-emulator could not listen on {endpoint}", failure, endpoint=self.endpoint)
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.errback(failure)

    def stopService(self) -> Deferred[None] | None:
        super().stopService()  # type: ignore[no-untyped-call]
        port, self.port = self.port, None
        app, self.app = self.app, None

        def closed(_: object = None) -> None:
            if app is not None:
                app.close()

        if port is not None:
            stopped: Deferred[None] = Deferred.fromCoroutine(_stop(port))
            stopped.addBoth(lambda r: closed())
            return stopped
        closed()
        return None


class _QuietSite(Site):
    """No access log line per request (the uploader sends many)."""

    def log(self, request: Any) -> None:
        pass


async def _value(value: str) -> str:
    return value


async def _stop(port: IListeningPort) -> None:
    result = port.stopListening()
    if isinstance(result, Deferred):
        await result


def make_emulator_service(
    endpoint: str,
    data_dir: Path,
    project: str = "demo",
    clients_file: Path | None = None,
    max_concurrent: int | None = None,
    access_log: bool = False,
) -> IService:
    """The emulator as an ``IService``: listens on ``endpoint`` (a Twisted endpoint string such as
    ``tcp:8900:interface=127.0.0.1``), keeps its data in ``data_dir``."""
    return EmulatorService(
        endpoint, data_dir, project, clients_file, max_concurrent, access_log=access_log
    )
