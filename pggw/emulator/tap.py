"""``twistd pggw-emulator``: command-line options and the service they build."""

from __future__ import annotations

from pathlib import Path

from twisted.application.service import IService
from twisted.python import usage

from pggw.emulator.service import make_emulator_service


class Options(usage.Options):
    synopsis = (
        "--endpoint ENDPOINT --data-dir DIR [--project P] [--clients FILE] [--max-concurrent N]"
    )
    longdesc = "A local CDF-compatible REST API (assets, time series, RAW, ...) stored in SQLite."
    optFlags = [["access-log", None, "Log one line per request"]]
    optParameters = [
        ["endpoint", None, "tcp:8900:interface=127.0.0.1", "Twisted endpoint to listen on"],
        ["data-dir", None, "pggw-data/emulator", "Directory for the emulator's database and key"],
        ["project", None, "demo", "CDF project served to the default client"],
        ["parent-pid", None, None,
         "Exit when this process is gone (the gateway that embeds the emulator)", int],
        [
            "clients",
            None,
            None,
            "JSON file of clients: [{clientId, clientSecret, project, capabilities}]",
        ],
        [
            "max-concurrent",
            None,
            None,
            "Concurrent requests per identity before answering 429",
            int,
        ],
    ]

    def postOptions(self) -> None:
        limit = self["max-concurrent"]
        if limit is not None and limit < 1:
            raise usage.UsageError("--max-concurrent must be at least 1")


def makeService(config: Options) -> IService:
    return make_emulator_service(
        endpoint=config["endpoint"],
        data_dir=Path(config["data-dir"]),
        project=config["project"],
        clients_file=Path(config["clients"]) if config["clients"] else None,
        max_concurrent=config["max-concurrent"],
        access_log=bool(config["access-log"]),
    )
