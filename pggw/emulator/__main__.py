"""``python -m pggw.emulator --endpoint tcp:8900:interface=127.0.0.1 --data-dir DIR``.

Prints ``pggw-emulator listening on URL`` on stdout once listening, then serves until
SIGTERM/SIGINT.
"""

from __future__ import annotations

import sys

from twisted.python import usage


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
    service.startService()
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
