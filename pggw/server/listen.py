"""Listening on a configured endpoint, with a one-line error when that fails."""

from __future__ import annotations

import sys
from typing import Any

from twisted.application.service import Service
from twisted.internet import endpoints
from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory
from twisted.logger import Logger

log = Logger()


class ListenError(SystemExit):
    """Raised at start-up when a listener cannot be opened: twistd prints it and exits 1."""


class Listener(Service):
    """Like ``StreamServerEndpointService``, but says which option was at fault."""

    def __init__(self, option: str, description: str, factory: Factory, reactor: Any = None
                 ) -> None:
        self.option = option
        self.description = description
        self.factory = factory
        self.reactor = reactor
        self.port: IListeningPort | None = None

    def privilegedStartService(self) -> None:  # noqa: N802
        from twisted.internet import reactor as default_reactor

        reactor = self.reactor or default_reactor
        try:
            endpoint = endpoints.serverFromString(  # type: ignore[no-untyped-call]
                reactor, self.description)
        except (ValueError, KeyError) as e:
            raise ListenError(f"pggw: --{self.option} {self.description!r} is not a valid "
                              f"endpoint: {e}") from None
        d = endpoint.listen(self.factory)
        result: list[Any] = []
        d.addBoth(result.append)
        if not result:
            raise ListenError(f"pggw: --{self.option} {self.description}: listen did not finish")
        if isinstance(result[0], IListeningPort) or hasattr(result[0], "getHost"):
            self.port = result[0]
            host = self.port.getHost()
            log.info("listening for {option} on {host}", option=self.option, host=host)
            return
        failure = result[0]
        err = failure.value
        if isinstance(err, CannotListenError):
            reason = err.socketError.strerror if err.socketError is not None and hasattr(
                err.socketError, "strerror") else str(err.socketError)
            msg = f"pggw: --{self.option} {self.description}: cannot listen ({reason})"
        else:
            msg = f"pggw: --{self.option} {self.description}: cannot listen ({err})"
        print(msg, file=sys.stderr)
        raise ListenError(msg)

    def startService(self) -> None:  # noqa: N802
        super().startService()  # type: ignore[no-untyped-call]
        if self.port is None:
            self.privilegedStartService()

    def stopService(self) -> Deferred[None] | None:  # noqa: N802
        super().stopService()  # type: ignore[no-untyped-call]
        if self.port is not None:
            port, self.port = self.port, None
            return port.stopListening()
        return None
