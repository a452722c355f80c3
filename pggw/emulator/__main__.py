"""``python -m pggw.emulator --endpoint tcp:8900:interface=127.0.0.1 --data-dir DIR``.

Prints ``pggw-emulator listening on URL`` on stdout once listening, then serves until
SIGTERM/SIGINT.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from twisted.python import usage

PARENT_CHECK_SECONDS = 0.5


def main(argv: list[str] | None = None) -> int:
    from pggw.emulator.service import EmulatorService
    from pggw.emulator.tap import Options, makeService

    options = Options()  # type: ignore[no-untyped-call]
    try:
        options.parseOptions(sys.argv[1:] if argv is None else argv)  # type: ignore[no-untyped-call]
    except usage.UsageError as exc:
        print(f"{exc}\n\n{options}", file=sys.stderr)
        return 2

    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    service = makeService(options)
    assert isinstance(service, EmulatorService)

    def announce(url: str) -> None:
        print(f"pggw-emulator listening on {url}", flush=True)

    def failed(failure: object) -> None:
        print(f"pggw-emulator could not listen: {failure}", file=sys.stderr, flush=True)
        reactor.stop()

    service.when_listening().addCallbacks(announce, failed)
    if options["parent-pid"]:
        _exit_with_parent(reactor, options["parent-pid"])
    service.startService()
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()
    return 0


def _exit_with_parent(reactor: Any, pid: int) -> None:
    """A SIGKILLed gateway cannot stop its emulator: notice the parent is gone (we were
    re-parented) and stop, so that the restarted gateway's emulator gets the port."""
    from twisted.internet.task import LoopingCall

    def check() -> None:
        if os.getppid() != pid:  # nothing to print to: the pipes went with the gateway
            watch.stop()
            reactor.stop()

    watch = LoopingCall(check)
    watch.clock = reactor
    reactor.callWhenRunning(watch.start, PARENT_CHECK_SECONDS, now=True)


if __name__ == "__main__":
    sys.exit(main())
