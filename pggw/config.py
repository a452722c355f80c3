"""The gateway's configuration: command-line options, each also settable as ``PGGW_<OPTION>``.

A flag on the command line beats the environment variable, which beats the default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twisted.python import usage

AUTH_METHODS = ("scram", "md5", "password")
ACK_MODES = ("wal", "cdf")


def env_name(option: str) -> str:
    return "PGGW_" + option.upper().replace("-", "_")


@dataclass(frozen=True)
class Config:
    pg_endpoint: str = "tcp:5432:interface=127.0.0.1"
    http_endpoint: str = "tcp:8080:interface=127.0.0.1"
    data_dir: Path = Path("pggw-data")
    tls_cert: Path | None = None
    tls_key: Path | None = None
    require_tls: bool = False
    auth: str = "scram"
    allow_cleartext_without_tls: bool = False
    local_users: bool = True
    max_message_size: int = 256 * 2**20
    wal_max_bytes: int | None = None
    ack: str = "wal"
    public_host: str | None = None
    log_format: str = "text"
    # CDF: without cdf_url the embedded emulator is started.
    cdf_url: str | None = None
    cdf_project: str | None = None
    cdf_token_url: str | None = None
    cdf_client_id: str | None = None
    cdf_client_secret: str | None = None
    cdf_scopes: tuple[str, ...] = ()
    emulator_endpoint: str = "tcp:8900:interface=127.0.0.1"
    secret_key_file: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Options(usage.Options):
    """``twistd pggw`` options."""

    optFlags = [
        ["require-tls", None, "Refuse connections that do not negotiate TLS."],
        ["no-local-users", None, "Disable users created with pggw-admin (production)."],
        ["allow-cleartext-without-tls", None, "Allow --auth password over plaintext connections."],
    ]
    optParameters = [
        ["pg-endpoint", None, Config.pg_endpoint, "PostgreSQL listener (Twisted endpoint string)."],
        ["http-endpoint", None, Config.http_endpoint, "HTTP listener: API, metrics, health."],
        ["data-dir", None, str(Config.data_dir), "Directory for the WAL, users and certificates."],
        ["tls-cert", None, None, "PEM certificate (default: self-signed, in the data dir)."],
        ["tls-key", None, None, "PEM private key for --tls-cert."],
        ["auth", None, Config.auth, "Password authentication: scram, md5 or password."],
        ["max-message-size", None, str(Config.max_message_size),
         "Largest protocol message in bytes."],
        ["wal-max-bytes", None, None, "WAL quota in bytes (default: a fraction of free disk)."],
        ["ack", None, Config.ack, "Ack at 'wal' (fsynced locally) or 'cdf' (in CDF)."],
        ["public-host", None, None, "Host name handed out by the credentials API."],
        ["log-format", None, Config.log_format, "Log format: text or json."],
        ["cdf-url", None, None, "CDF base URL (default: start the embedded emulator)."],
        ["cdf-project", None, None, "CDF project."],
        ["cdf-token-url", None, None, "OIDC token URL for the daemon's own identity."],
        ["cdf-client-id", None, None, "OIDC client id."],
        ["cdf-client-secret", None, None, "OIDC client secret (prefer PGGW_CDF_CLIENT_SECRET)."],
        ["cdf-scopes", None, None, "OIDC scopes, space- or comma-separated."],
        ["emulator-endpoint", None, Config.emulator_endpoint, "Endpoint of the embedded emulator."],
        ["secret-key-file", None, None, "Key that encrypts CDF secrets at rest."],
    ]

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._given: set[str] = set()

    def opt_version(self) -> None:
        from pggw import __version__

        print(f"pggw {__version__}")
        raise SystemExit(0)

    def parseArgs(self, *args: str) -> None:  # noqa: N802 - Twisted's name
        if args:
            raise usage.UsageError(f"unexpected arguments: {' '.join(args)}")

    def _flags_given(self, argv: list[str]) -> set[str]:
        given = set()
        for a in argv:
            if a.startswith("--"):
                given.add(a[2:].split("=", 1)[0])
        return given

    def parseOptions(self, options: list[str] | None = None) -> None:  # noqa: N802
        import sys

        argv = list(sys.argv[1:] if options is None else options)
        self._given = self._flags_given(argv)
        super().parseOptions(argv)  # type: ignore[no-untyped-call]

    def postOptions(self) -> None:  # noqa: N802
        for name, *_ in self.optParameters:
            if name and name not in self._given and env_name(name) in os.environ:
                self[name] = os.environ[env_name(name)]
        for name, *_ in self.optFlags:
            if name and name not in self._given and env_name(name) in os.environ:
                self[name] = os.environ[env_name(name)].lower() in ("1", "true", "yes", "on")
        if self["auth"] not in AUTH_METHODS:
            raise usage.UsageError(f"--auth must be one of {', '.join(AUTH_METHODS)}")
        if self["ack"] not in ACK_MODES:
            raise usage.UsageError(f"--ack must be one of {', '.join(ACK_MODES)}")
        if bool(self["tls-cert"]) != bool(self["tls-key"]):
            raise usage.UsageError("--tls-cert and --tls-key go together")
        for n in ("max-message-size", "wal-max-bytes"):
            if self[n] is not None:
                try:
                    int(self[n])
                except ValueError:
                    raise usage.UsageError(f"--{n} must be a number of bytes") from None

    def config(self) -> Config:
        scopes = tuple(s for s in (self["cdf-scopes"] or "").replace(",", " ").split() if s)
        return Config(
            pg_endpoint=self["pg-endpoint"],
            http_endpoint=self["http-endpoint"],
            data_dir=Path(self["data-dir"]),
            tls_cert=Path(self["tls-cert"]) if self["tls-cert"] else None,
            tls_key=Path(self["tls-key"]) if self["tls-key"] else None,
            require_tls=bool(self["require-tls"]),
            auth=self["auth"],
            allow_cleartext_without_tls=bool(self["allow-cleartext-without-tls"]),
            local_users=not self["no-local-users"],
            max_message_size=int(self["max-message-size"]),
            wal_max_bytes=int(self["wal-max-bytes"]) if self["wal-max-bytes"] else None,
            ack=self["ack"],
            public_host=self["public-host"],
            log_format=self["log-format"],
            cdf_url=self["cdf-url"],
            cdf_project=self["cdf-project"],
            cdf_token_url=self["cdf-token-url"],
            cdf_client_id=self["cdf-client-id"],
            cdf_client_secret=self["cdf-client-secret"],
            cdf_scopes=scopes,
            emulator_endpoint=self["emulator-endpoint"],
            secret_key_file=Path(self["secret-key-file"]) if self["secret-key-file"] else None,
        )
