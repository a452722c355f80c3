"""The gateway: wires configuration to the pgwire listener, the WAL and the HTTP endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twisted.application.service import MultiService, Service
from twisted.internet.defer import Deferred
from twisted.logger import Logger

from pggw.config import Config
from pggw.credentials.users import UserStore
from pggw.server.listen import Listener
from pggw.server.protocol import GatewayContext, PgServerFactory
from pggw.tables.registry import Registry, builtin_registry
from pggw.wire.auth import ScramVerifier
from pggw.wire.startup import AuthInfo

log = Logger()


class WalService(Service):
    """Opens the WAL before anything can write to it, and closes it last.

    Opening is quick (milliseconds) and happens before the reactor runs, so the
    listeners that start next never see an unopened WAL; a WAL that cannot be
    opened stops the gateway.
    """

    def __init__(self, wal: Any) -> None:
        self.wal = wal

    def startService(self) -> None:  # noqa: N802
        super().startService()
        from twisted.internet import reactor

        def failed(f: Any) -> None:
            log.failure("cannot open the WAL at {path}", f, path=self.wal.path)
            reactor.callWhenRunning(reactor.stop)

        self.wal.open().addErrback(failed)

    def stopService(self) -> Deferred[None]:  # noqa: N802
        super().stopService()
        return self.wal.close()  # type: ignore[no-any-return]


EMULATOR_PROJECT = "demo"
EMULATOR_CLIENT = ("demo-client", "demo-secret")


class Gateway:
    """Everything one ``twistd pggw`` runs, built from a :class:`Config`."""

    def __init__(self, config: Config, reactor: Any = None) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.config = config
        self.reactor = reactor
        self.data_dir = Path(config.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.users = UserStore(self.data_dir)
        self.registry: Registry = builtin_registry()
        from pggw.wal.log import WriteAheadLog

        self.emulator: Any = None
        self.uploader: Any = None
        self.cdf: Any = None  # the daemon's own CdfClient, once CDF's address is known
        self.wal = WriteAheadLog(self.data_dir / "wal.sqlite3", reactor=reactor,
                                 max_bytes=config.wal_max_bytes)

    # -- authentication --------------------------------------------------------
    def lookup(self, username: str) -> AuthInfo | None:
        user = self.users.get(username)
        if user is None or (user.kind == "local" and not self.config.local_users):
            return None
        return AuthInfo(scram=ScramVerifier.from_string(user.scram), md5=user.md5)

    def database_ok(self, user: str, database: str) -> bool:
        return database in (user, "postgres")

    # -- per connection --------------------------------------------------------
    def make_engine(self, user: str, database: str, params: dict[str, str]) -> Any:
        from pggw.sql.catalog import Catalog
        from pggw.sql.engine import Engine
        from pggw.sql.settings import Settings
        from pggw.sql.writes import Writer

        settings = Settings()
        settings.apply_startup({**params, "session_authorization": user})
        catalog = Catalog(self.registry, user=user, database=database, settings=settings)
        writer = Writer(registry=self.registry, wal=self.wal, user=user, settings=settings,
                        on_commit=self.committed)
        return Engine(user=user, database=database, catalog=catalog, settings=settings,
                      writer=writer)

    def committed(self, seq: int) -> None:
        """A transaction reached the WAL: let the uploader look at once."""
        if self.uploader is not None:
            self.uploader.wake()

    # -- CDF -------------------------------------------------------------------
    def connect_cdf(self, url: str, project: str, token_url: str, client_id: str,
                    client_secret: str, scopes: tuple[str, ...]) -> None:
        from pggw.cdf import CdfClient, ClientCredentialsProvider

        tokens = ClientCredentialsProvider(token_url, client_id, client_secret, scopes,
                                           reactor=self.reactor)
        self.cdf = CdfClient(url, project, tokens, reactor=self.reactor)
        log.info("uploading to CDF project {project} at {url}", project=project, url=url)

    def client_for(self, user: str) -> Any:
        # Until users have their own identities, everyone uploads as the daemon.
        return self.cdf

    def tls_context(self) -> Any:
        from pggw.server.tls import ensure_self_signed, server_context

        if self.config.tls_cert and self.config.tls_key:
            return server_context(self.config.tls_cert, self.config.tls_key)
        return server_context(*ensure_self_signed(self.data_dir))

    def service(self) -> MultiService:
        top = MultiService()
        WalService(self.wal).setServiceParent(top)
        c = self.config
        if c.cdf_url is None:
            from pggw.embedded import EmbeddedEmulator

            self.emulator = EmbeddedEmulator(c.emulator_endpoint, self.data_dir / "emulator",
                                             project=EMULATOR_PROJECT, reactor=self.reactor)
            self.emulator.setServiceParent(top)
            self.emulator.when_ready().addCallback(
                lambda url: self.connect_cdf(url, EMULATOR_PROJECT, f"{url}/oauth2/token",
                                             *EMULATOR_CLIENT, ("user_impersonation",)))
        else:
            missing = [n for n, v in (("--cdf-project", c.cdf_project),
                                      ("--cdf-token-url", c.cdf_token_url),
                                      ("--cdf-client-id", c.cdf_client_id),
                                      ("--cdf-client-secret", c.cdf_client_secret)) if not v]
            if missing:
                raise SystemExit(f"pggw: --cdf-url needs {', '.join(missing)} too")
            self.connect_cdf(c.cdf_url, c.cdf_project or "", c.cdf_token_url or "",
                             c.cdf_client_id or "", c.cdf_client_secret or "", c.cdf_scopes)
        from pggw.upload import Uploader

        self.uploader = Uploader(self.wal, self.registry, self.client_for, self.reactor)
        self.uploader.setServiceParent(top)
        ctx = GatewayContext(
            auth_method=self.config.auth,
            require_tls=self.config.require_tls,
            allow_cleartext_without_tls=self.config.allow_cleartext_without_tls,
            tls_context=self.tls_context(),
            lookup=self.lookup,
            make_engine=self.make_engine,
            database_ok=self.database_ok,
            max_message_size=self.config.max_message_size,
        )
        Listener("pg-endpoint", self.config.pg_endpoint, PgServerFactory(ctx),
                 self.reactor).setServiceParent(top)
        from pggw.http import make_site

        Listener("http-endpoint", self.config.http_endpoint, make_site(self),
                 self.reactor).setServiceParent(top)
        return top
