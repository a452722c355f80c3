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
    """Opens the WAL before the listeners start and closes it last."""

    def __init__(self, wal: Any) -> None:
        self.wal = wal

    def startService(self) -> None:  # noqa: N802
        super().startService()
        self.wal.open()

    def stopService(self) -> Deferred[None]:  # noqa: N802
        super().stopService()
        return self.wal.close()  # type: ignore[no-any-return]


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
        writer = Writer(registry=self.registry, wal=self.wal, user=user, settings=settings)
        return Engine(user=user, database=database, catalog=catalog, settings=settings,
                      writer=writer)

    def tls_context(self) -> Any:
        from pggw.server.tls import ensure_self_signed, server_context

        if self.config.tls_cert and self.config.tls_key:
            return server_context(self.config.tls_cert, self.config.tls_key)
        return server_context(*ensure_self_signed(self.data_dir))

    def service(self) -> MultiService:
        top = MultiService()
        WalService(self.wal).setServiceParent(top)
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
