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
    """Opens the WAL before anything writes to it, and closes it last.

    Opening takes milliseconds but is asynchronous: sessions that authenticate
    before it finishes wait for :meth:`when_open`; a WAL that cannot be opened
    stops the gateway.
    """

    def __init__(self, wal: Any) -> None:
        self.wal = wal
        self.opened = False
        self._waiting: list[Deferred[None]] = []

    def when_open(self) -> Deferred[None] | None:
        """None once the WAL is open, else a Deferred that fires when it is."""
        if self.opened:
            return None
        d: Deferred[None] = Deferred()
        self._waiting.append(d)
        return d

    def startService(self) -> None:  # noqa: N802
        super().startService()  # type: ignore[no-untyped-call]
        from twisted.internet import reactor

        def opened(_: object) -> None:
            self.opened = True
            waiting, self._waiting = self._waiting, []
            for d in waiting:
                d.callback(None)

        def failed(f: Any) -> None:
            log.failure("cannot open the WAL at {path}", f, path=self.wal.path)
            reactor.callWhenRunning(reactor.stop)

        self.wal.open().addCallbacks(opened, failed)

    def stopService(self) -> Deferred[None]:  # noqa: N802
        super().stopService()  # type: ignore[no-untyped-call]
        return self.wal.close()  # type: ignore[no-any-return]


UPLOAD_PAGE_ROWS = 100_000
# Small transactions make small records: a page takes up to this many (and UPLOAD_PAGE_ROWS
# rows), so that a trickle of single-row commits is uploaded in few requests.
UPLOAD_PAGE_RECORDS = 1000
# … and stops once its records made this many items (1000-row INSERTs over 1000 series
# make an item per row: far heavier than a COPY's rows, a few series per 20k-row chunk).
UPLOAD_PAGE_ITEMS = 50_000
# After a page that reached the end of the WAL, wait this long for more commits.
UPLOAD_LINGER = 0.05
# While clients are committing, the uploader takes at most this share of the time (more as
# the WAL fills up: all of it from half the quota on).
UPLOAD_INGEST_SHARE = 0.25
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
        # Temporary (staging) tables spill here; leftovers of a crash are removed at start.
        self.staging_dir = self.data_dir / "tmp"
        if self.staging_dir.exists():
            for stale in self.staging_dir.glob("pggw-staging-*"):
                stale.unlink(missing_ok=True)
        self.staging_dir.mkdir(exist_ok=True)
        self._init_credentials()
        from pggw.sql.status import STATUS_TABLES

        self.registry: Registry = builtin_registry().with_tables(STATUS_TABLES)
        # Import and build per-connection machinery now, not on the first connection.
        from pggw.sql import catalog, engine, settings, write, writes  # noqa: F401
        from pggw.tables import coerce  # noqa: F401
        from pggw.wire import copy  # noqa: F401

        catalog.Catalog(self.registry, user="pggw", database="pggw",
                        settings=settings.Settings())
        from pggw.gc_tuning import tune_gc

        tune_gc()
        from pggw.wal.log import WriteAheadLog

        self.emulator: Any = None
        self.uploader: Any = None
        self.cdf: Any = None  # the daemon's own CdfClient, once CDF's address is known
        self.wal = WriteAheadLog(self.data_dir / "wal.sqlite3", reactor=reactor,
                                 max_bytes=config.wal_max_bytes)
        # Operations: metrics hooks (self.metrics.rows_accepted(...) etc.), /status, drain.
        from pggw.ops.metrics import Metrics
        from pggw.ops.service import Operations

        self.metrics = Metrics()
        self.ops = Operations(self, self.metrics, reactor)
        self.wal_service: WalService | None = None
        self.pg_listener: Listener | None = None
        self.http_listener: Listener | None = None
        self.context: GatewayContext | None = None

    # -- authentication --------------------------------------------------------
    def lookup(self, username: str) -> AuthInfo | None:
        user = self.users.get(username)
        if user is None or (user.kind == "local" and not self.config.local_users):
            return None
        if user.kind == "cdf":
            # 28000 when CDF positively refused the user's identity; else a background
            # re-check when the cached capabilities are old. Never waits for CDF.
            self.identities.login_check(username)
        return AuthInfo(scram=ScramVerifier.from_string(user.scram), md5=user.md5)

    def database_ok(self, user: str, database: str) -> bool:
        return database in (user, "postgres")

    # -- per connection --------------------------------------------------------
    def make_engine(self, user: str, database: str, params: dict[str, str]) -> Any:
        from pggw.sql.catalog import Catalog
        from pggw.sql.engine import Engine
        from pggw.sql.settings import Settings
        from pggw.sql.writes import Writer

        database = user  # "postgres" is an alias of the user's own database
        settings = Settings()
        settings.apply_startup({**params, "session_authorization": user})
        if self.config.ack != "wal":
            settings.set("pggw.ack", self.config.ack)
        registry = self.registry_for(user)
        catalog = Catalog(registry, user=user, database=database, settings=settings)
        writer = Writer(registry=registry, wal=self.wal, user=user, settings=settings,
                        on_commit=lambda seq: self.committed(seq, user),
                        staging_dir=self.staging_dir,
                        check_write=self.check_write, metrics=self.metrics)
        return Engine(user=user, database=database, catalog=catalog, settings=settings,
                      writer=writer, services=self)

    def committed(self, seq: int, user: str | None = None) -> None:
        """A transaction of ``user`` reached the WAL: let the uploader look at once."""
        if self.uploader is not None:
            self.uploader.wake(user)

    # -- CDF -------------------------------------------------------------------
    def connect_cdf(self, url: str, project: str, token_url: str, client_id: str,
                    client_secret: str, scopes: tuple[str, ...]) -> None:
        from pggw.cdf import CdfClient, ClientCredentialsProvider

        tokens = ClientCredentialsProvider(token_url, client_id, client_secret, scopes,
                                           reactor=self.reactor)
        self.cdf = CdfClient(url, project, tokens, reactor=self.reactor)
        log.info("uploading to CDF project {project} at {url}", project=project, url=url)

    def client_for(self, user: str) -> Any:
        """The CdfClient that uploads ``user``'s rows: its own identity for users created by
        the credentials API, the daemon's for local users; None (the user's uploads wait)
        for an unknown user or one whose credentials cannot be opened."""
        kind = self.identities.kind(user)
        if kind == "cdf":
            return self.identities.client_for(user)
        if kind == "local":
            return self.cdf
        return None

    # -- credentials API: identities, capabilities, custom tables, login throttling ---------
    def _init_credentials(self) -> None:
        from pggw.credentials.identities import IdentityManager
        from pggw.credentials.ratelimit import LoginThrottle
        from pggw.credentials.secrets import SecretBox, SecretKeyError, load_key

        try:
            self._secret_box = SecretBox(load_key(self.data_dir, self.config.secret_key_file))
        except SecretKeyError as e:
            raise SystemExit(f"pggw: {e}") from None
        self.identities = IdentityManager(
            self.users, self.secret_box, self.reactor,
            lambda: str(self.cdf.base_url) if self.cdf is not None else None)
        self.login_throttle = LoginThrottle(self.reactor)
        self._custom_tables: dict[str, list[Any]] = {}
        self._user_registries: dict[str, Registry] = {}

    def secret_box(self) -> Any:
        """The AES-GCM box that seals CDF secrets (key: --secret-key-file, PGGW_SECRET_KEY,
        or <data-dir>/secret.key)."""
        return self._secret_box

    def public_host(self) -> str:
        """The host the credentials API hands out: --public-host, else the pgwire listener's
        interface (with ":port" unless it is 5432)."""
        if self.config.public_host:
            return self.config.public_host
        import socket

        parts = self.config.pg_endpoint.split(":")
        port = parts[1] if len(parts) > 1 and parts[1].isdigit() else "5432"
        host = ""
        for p in parts[2:]:
            if p.startswith("interface="):
                host = p.split("=", 1)[1].replace("\\", "")
        if host in ("", "0.0.0.0", "::"):
            host = socket.getfqdn()
        return host if port == "5432" else f"{host}:{port}"

    def check_write(self, user: str, table_name: str) -> None:
        """Raise ``PgError("42501")`` when ``user``'s CDF identity cannot write the table's
        resource at all (from the capabilities cached at creation / the last re-check).
        Call before acknowledging any INSERT/COPY/UPDATE/DELETE on ``table_name``."""
        table = self.table_for(user, table_name)
        if table is not None:
            self.identities.check_write(user, table)

    def write_data_sets(self, user: str, table_name: str) -> frozenset[int] | None:
        """The data set ids ``user`` may write rows of ``table_name`` into when all its write
        grants are data-set scoped (check each row's ``data_set_id`` against it; 42501);
        None when not limited or unknown."""
        table = self.table_for(user, table_name)
        return self.identities.write_data_sets(user, table) if table is not None else None

    def tables_for(self, user: str) -> list[Any]:
        """``user``'s custom tables (``Table`` with kind "raw" or "view"), cached."""
        tables = self._custom_tables.get(user)
        if tables is None:
            from pggw.credentials.tables import table_of

            tables = [table_of(t) for t in self.users.tables(user)]
            self._custom_tables[user] = tables
        return tables

    def table_for(self, user: str, name: str) -> Any:
        """A table ``user`` sees by ``name``: built-in, else one of its custom tables."""
        table = self.registry.get(name)
        if table is not None:
            return table
        for t in self.tables_for(user):
            if t.name == name:
                return t
        return None

    def registry_for(self, user: str) -> Registry:
        """The built-in tables plus ``user``'s custom ones, built once per change (the
        catalog keeps one SQLite catalog per registry object)."""
        tables = self.tables_for(user)
        if not tables:
            return self.registry
        registry = self._user_registries.get(user)
        if registry is None:
            registry = self._user_registries[user] = self.registry.with_tables(tables)
        return registry

    def custom_tables_changed(self, user: str) -> None:
        """Called by the credentials API after it created or deleted ``user``'s tables."""
        self._custom_tables.pop(user, None)
        self._user_registries.pop(user, None)

    def login_refused(self, host: str) -> bool:
        """Refuse a connection from ``host`` outright (too many failed logins)."""
        return self.login_throttle.refused(host)

    def login_delay(self, host: str, user: str) -> float:
        """Seconds to hold a login attempt before checking its password."""
        return self.login_throttle.delay(host, user)

    def login_failed(self, host: str, user: str) -> None:
        self.login_throttle.failed(host, user)

    def login_succeeded(self, host: str, user: str) -> None:
        self.login_throttle.succeeded(host, user)

    def tls_context(self) -> Any:
        from pggw.server.tls import ensure_self_signed, server_context

        if self.config.tls_cert and self.config.tls_key:
            return server_context(self.config.tls_cert, self.config.tls_key)
        return server_context(*ensure_self_signed(self.data_dir))

    def greet(self) -> None:
        """Provision the demo user on a first start and print how to connect."""
        if not self.config.local_users:
            return
        from pggw.demo import TOUR, dashboard_url, provision_demo_user, status_command

        line = provision_demo_user(self.users, self.data_dir, self.config.pg_endpoint)
        if line is not None:
            http = self.config.http_endpoint
            text = TOUR.format(line=line, dashboard=dashboard_url(http),
                               status=status_command(self.data_dir, http))
            for row in text.splitlines():
                log.info("{text}", text=row)

    def service(self) -> MultiService:
        from pggw.ops.shutdown import GatewayService

        # Children start in this order; GatewayService stops them in a safe order
        # (listener, sessions, uploader, the rest, WAL last), bounded in time.
        top = GatewayService(self)
        self.wal_service = WalService(self.wal)
        self.wal_service.setServiceParent(top)  # type: ignore[no-untyped-call]
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

        # One page is about one full datapoint request: enough to keep CDF busy while the
        # rows in memory stay bounded when a client streams millions of rows.
        self.uploader = Uploader(self.wal, self.registry, self.client_for, self.reactor,
                                 table_for=self.table_for, page_rows=UPLOAD_PAGE_ROWS,
                                 page_records=UPLOAD_PAGE_RECORDS,
                                 page_items=UPLOAD_PAGE_ITEMS, linger=UPLOAD_LINGER,
                                 ingest_share=UPLOAD_INGEST_SHARE)
        self.uploader.setServiceParent(top)
        self.metrics.register(self.uploader.metrics.collector())
        ctx = GatewayContext(
            auth_method=self.config.auth,
            require_tls=self.config.require_tls,
            allow_cleartext_without_tls=self.config.allow_cleartext_without_tls,
            tls_context=self.tls_context(),
            lookup=self.lookup,
            make_engine=self.make_engine,
            database_ok=self.database_ok,
            when_ready=self.wal_service.when_open,
            login_throttle=self.login_throttle,
            metrics=self.metrics,
            reactor=self.reactor,
            max_message_size=self.config.max_message_size,
        )
        self.context = ctx
        self.metrics.track_connections(lambda: len(ctx.connections))
        self.pg_listener = Listener("pg-endpoint", self.config.pg_endpoint,
                                    PgServerFactory(ctx), self.reactor)
        self.pg_listener.setServiceParent(top)  # type: ignore[no-untyped-call]
        from pggw.http import make_site

        self.http_listener = Listener("http-endpoint", self.config.http_endpoint,
                                      make_site(self), self.reactor)  # type: ignore[arg-type]
        self.http_listener.setServiceParent(top)  # type: ignore[no-untyped-call]
        self.ops.setServiceParent(top)  # type: ignore[no-untyped-call]
        self.reactor.callWhenRunning(self.greet)
        return top
