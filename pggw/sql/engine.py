"""Statement routing for one connection: what each SQL statement is, and running it.

The engine knows SQL and transactions, not bytes: the session
(:mod:`pggw.server.session`) turns protocol messages into calls here and
results into messages.  Writes are buffered in the connection's
:class:`~pggw.sql.transaction.Transaction` and reach the WAL at commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred

from pggw.sql.result import Result, ResultColumn
from pggw.wire import errors as E
from pggw.wire.errors import PgError

# First keyword of a statement, past comments and parentheses.
_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*\n?|/\*.*?\*/|\()*([A-Za-z_]+)", re.S)


_TIME = re.compile(r"\s*([\d.]+)\s*(us|ms|s|min|h|d)?\s*$", re.I)
_UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def _seconds(value: str) -> float:
    """A time setting as PostgreSQL shows it (``5s``, ``250ms``, ``0``) in seconds."""
    m = _TIME.match(value)
    if m is None:
        return 0.0
    return float(m.group(1)) * _UNIT_S[(m.group(2) or "ms").lower()]


def first_keyword(sql: str) -> str:
    m = _FIRST_WORD.match(sql)
    return m.group(1).upper() if m else ""


@dataclass
class Prepared:
    """A parsed statement: what Describe reports and what Execute runs."""

    sql: str
    kind: str  # empty, query, settings, tx, noop, write, copy, unsupported
    param_oids: list[int] = field(default_factory=list)
    columns: list[ResultColumn] | None = None  # None: no rows (NoData)
    plan: Any = None
    tag: str = ""
    parse_oids: tuple[int, ...] = ()  # the types the client gave in Parse (0 = infer)


@dataclass
class CopyIn:
    """Copy-in is starting: the session answers CopyInResponse and feeds data to ``sink``."""

    binary: bool
    ncols: int
    sink: Any  # pggw.sql.copyin.CopySink


@dataclass
class Outcome:
    """What executing one statement produced."""

    tag: str = ""
    columns: list[ResultColumn] | None = None
    rows: Sequence[Sequence[Any]] = ()
    notices: list[PgError] = field(default_factory=list)
    parameter_status: list[tuple[str, str]] = field(default_factory=list)
    copy: CopyIn | None = None
    empty: bool = False  # EmptyQueryResponse
    # The row was only queued for validation with the rows after it (see writes._Batch):
    # its CommandComplete must be held until the batch is settled.
    batched: bool = False


# SQLSTATEs of our own (class "PG" is not used by PostgreSQL) for --ack cdf and wait_uploaded.
ACK_TIMEOUT = "PGW01"
ACK_REJECTED = "PGW02"

_TX_TAGS = {
    "BEGIN": "BEGIN", "START": "BEGIN", "COMMIT": "COMMIT", "END": "COMMIT",
    "ROLLBACK": "ROLLBACK", "ABORT": "ROLLBACK", "SAVEPOINT": "SAVEPOINT", "RELEASE": "RELEASE",
}
_NOOP_TAGS = {"DISCARD": "DISCARD ALL", "UNLISTEN": "UNLISTEN", "CLOSE": "CLOSE CURSOR",
              "DEALLOCATE": "DEALLOCATE", "LISTEN": "LISTEN", "ANALYZE": "ANALYZE",
              "VACUUM": "VACUUM", "CHECKPOINT": "CHECKPOINT", "LOCK": "LOCK TABLE"}
_WRITE_WORDS = {"INSERT", "COPY", "UPDATE", "DELETE", "TRUNCATE", "CREATE", "DROP", "MERGE",
                "ALTER"}
_QUERY_WORDS = {"SELECT", "WITH", "VALUES", "TABLE"}
_SETTINGS_WORDS = {"SET", "SHOW", "RESET"}


class Engine:
    """Runs the statements of one authenticated connection."""

    def __init__(
        self,
        *,
        user: str,
        database: str,
        catalog: Any,  # pggw.sql.catalog.Catalog
        settings: Any,  # pggw.sql.settings.Settings
        writer: Any,  # pggw.sql.writes.Writer (write plans + transaction)
        on_discard: Callable[[], None] = lambda: None,
        services: Any = None,  # the Gateway: uploader and WAL, for schema pggw
    ) -> None:
        self.services = services
        self.user = user
        self.database = database
        self.catalog = catalog
        self.settings = settings
        self.writer = writer
        self.on_discard = on_discard
        self.in_block = False  # inside BEGIN ... COMMIT
        self._barrier = 0  # pggw.wait_uploaded() reports rejections after this commit seq
        self.failed = False  # the transaction block failed: 25P02 until it ends

    # -- transaction status -------------------------------------------------
    @property
    def status(self) -> str:
        if self.failed and self.in_block:
            return "E"
        return "T" if self.in_block else "I"

    def fail(self) -> None:
        """A statement failed: an explicit block turns 'E'; an implicit one is dropped."""
        if self.in_block:
            self.failed = True
        else:
            self.writer.rollback()

    def end_implicit(self) -> Deferred[None] | None:
        """Sync or end of a simple Query: commit the implicit transaction if there is one."""
        if self.in_block:
            return None
        return self._acknowledged(self.writer.commit())

    def _acknowledged(self, commit: Deferred[Any] | None) -> Deferred[Any] | None:
        """With ``pggw.ack = cdf``, a commit is acknowledged once CDF accepted its rows."""
        if commit is None or self.settings.get("pggw.ack") != "cdf":
            return commit
        timeout = _seconds(self.settings.get("pggw.ack_timeout")) or None
        return commit.addCallback(
            lambda seq: Deferred.fromCoroutine(self.wait_uploaded(timeout, seq or None)))

    def settle(self) -> None:
        """Validate queued batch rows now; a PgError carries ``batch_row``, the bad row."""
        self.writer.flush()

    def close(self) -> None:
        """The connection is gone: whatever was not committed never happened."""
        self.writer.close()

    # -- prepare -------------------------------------------------------------
    def prepare(self, sql: str, param_oids: Sequence[int] = ()) -> Prepared:
        word = first_keyword(sql)
        if not word:
            if sql.strip(" \t\r\n;"):
                raise PgError(E.SYNTAX_ERROR, f'syntax error at or near "{sql.strip()[:20]}"')
            return Prepared(sql, "empty")
        if word in _TX_TAGS:
            return self._prepare_tx(sql, word)
        if word in _NOOP_TAGS:
            tag = _NOOP_TAGS[word]
            if word == "CLOSE" and "ALL" in sql.upper():
                tag = "CLOSE CURSOR ALL"
            return Prepared(sql, "noop", tag=tag)
        if word in _SETTINGS_WORDS:
            return self._prepare_settings(sql, word)
        if word in _WRITE_WORDS:
            plan = self.writer.parse(sql)
            if plan is not None:
                types = list(getattr(plan, "param_types", ()))
                given = tuple(param_oids) + (0,) * (len(types) - len(param_oids))
                reported = [g or t for g, t in zip(given, types, strict=False)]
                return Prepared(sql, "write", param_oids=reported, plan=plan,
                                parse_oids=given)
        if word == "SELECT":
            from pggw.sql.status import CALL

            call = CALL.match(sql)
            if call is not None:
                return self._prepare_call(sql, call.group(1).lower(), call.group(2))
        if word in _QUERY_WORDS:
            oids, cols = self.catalog.describe(sql, list(param_oids))
            return Prepared(sql, "query", param_oids=list(oids), columns=cols)
        raise PgError(E.FEATURE_NOT_SUPPORTED, f"{word} statements are not supported by pggw")

    def _prepare_call(self, sql: str, fn: str, arg: str) -> Prepared:
        """``SELECT pggw.retry_rejected(id)`` and friends: one function, one row."""
        if arg.startswith("$"):
            oids = [701 if fn == "wait_uploaded" else 20]
        else:
            oids = []
            if arg and arg.upper() != "NULL":
                try:
                    float(arg)
                except ValueError:
                    raise PgError(E.INVALID_TEXT_REPRESENTATION,
                                  f"pggw.{fn}() takes a number, not {arg!r}") from None
        rtype = 16 if fn == "wait_uploaded" else 20
        return Prepared(sql, "call", param_oids=oids, columns=[ResultColumn(fn, rtype)],
                        plan=(fn, arg))

    def _prepare_tx(self, sql: str, word: str) -> Prepared:
        upper = " ".join(sql.upper().split())
        if word == "ROLLBACK" and " TO " in f" {upper} ":
            return Prepared(sql, "tx", plan="ROLLBACK TO", tag="ROLLBACK")
        return Prepared(sql, "tx", plan=_TX_TAGS[word], tag=_TX_TAGS[word])

    def _prepare_settings(self, sql: str, word: str) -> Prepared:
        if word == "SHOW":
            # Describe SHOW without running it: the column is named after the parameter.
            name = sql.split(None, 1)[1].strip().rstrip(";").strip() if len(sql.split()) > 1 else ""
            col = name.lower().replace('"', "")
            if col.upper() == "ALL":
                cols = [ResultColumn("name", 25), ResultColumn("setting", 25),
                        ResultColumn("description", 25)]
            else:
                cols = [ResultColumn(col.split(".")[-1] if col else "setting", 25)]
            return Prepared(sql, "settings", columns=cols)
        return Prepared(sql, "settings")

    # -- execute -------------------------------------------------------------
    def execute(self, prep: Prepared, params: Sequence[Any] = (),
                formats: Sequence[int] = ()) -> Outcome | Deferred[Outcome]:
        """Run a prepared statement.

        Parameters are decoded Python values, except for writes, which get the
        raw Bind values and their ``formats`` and coerce them column-wise.
        """
        if self.failed and self.in_block and not (prep.kind == "tx" and prep.plan in (
                "COMMIT", "ROLLBACK", "ROLLBACK TO")):
            raise PgError(
                E.IN_FAILED_SQL_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            )
        kind = prep.kind
        metrics = getattr(self.services, "metrics", None)
        if metrics is not None:
            metrics.statement(kind)
        if kind == "empty":
            return Outcome(empty=True)
        if kind == "noop":
            if prep.tag == "DISCARD ALL":
                self.settings.reset_all()
                self.on_discard()
            return Outcome(tag=prep.tag)
        if kind == "tx":
            return self._execute_tx(prep)
        if kind == "settings":
            return self._execute_settings(prep)
        if kind == "query":
            from pggw.sql.status import views_read

            views = views_read(prep.sql)
            if views and self.services is not None:
                return Deferred.fromCoroutine(self._query_status(prep, list(params), views))
            res: Result = self.catalog.query(prep.sql, list(params))
            return Outcome(tag=res.tag, columns=res.columns, rows=res.rows)
        if kind == "call":
            return Deferred.fromCoroutine(self._call(prep, list(params)))
        if kind == "write":
            return self.writer.execute(  # type: ignore[no-any-return]
                prep.plan, params, formats, prep.parse_oids)
        raise PgError(E.FEATURE_NOT_SUPPORTED, f"cannot execute {prep.sql[:40]!r}")

    async def _query_status(self, prep: Prepared, params: list[Any], views: set[str]
                            ) -> Outcome:
        from pggw.sql.status import fetch_rows

        rows = await fetch_rows(self.services, self.user, views)
        self.catalog.row_sources = {name: (lambda r=r: r) for name, r in rows.items()}
        try:
            res: Result = self.catalog.query(prep.sql, params)
        finally:
            self.catalog.row_sources = {}
        return Outcome(tag=res.tag, columns=res.columns, rows=res.rows)

    async def _call(self, prep: Prepared, params: list[Any]) -> Outcome:
        from pggw.ops import views

        fn, arg = prep.plan
        value: Any = params[0] if arg.startswith("$") else (
            None if not arg or arg.upper() == "NULL" else float(arg))
        if self.services is None:
            raise PgError(E.FEATURE_NOT_SUPPORTED, f"pggw.{fn}() needs the gateway")
        if fn == "wait_uploaded":
            await self.wait_uploaded(None if value is None else float(value))
            result: Any = True
        else:
            target = None if value is None else int(value)
            action = views.retry_rejected if fn == "retry_rejected" else views.discard_rejected
            result = await action(self.services, self.user, target)
            if fn == "retry_rejected" and self.services.uploader is not None:
                self.services.uploader.wake()
        return Outcome(tag="SELECT 1", columns=prep.columns, rows=[(result,)])

    async def wait_uploaded(self, timeout: float | None, seq: int | None = None) -> None:
        """Until CDF has taken this user's committed rows: those of commit ``seq`` (for
        ``--ack cdf``), or all of them (``pggw.wait_uploaded``).

        Raises PgError ``PGW01`` on timeout (the rows stay safely queued) and
        ``PGW02`` when CDF rejected some of them (see ``pggw.rejected``).
        """
        from pggw.upload.uploader import UploadRejected

        uploader = getattr(self.services, "uploader", None)
        if uploader is None:
            raise PgError(E.FEATURE_NOT_SUPPORTED, "no uploader is running in this gateway")
        after = seq - 1 if seq is not None else self._barrier
        try:
            await uploader.wait_uploaded(self.user, seq, timeout, after_seq=after)
        except TimeoutError:
            raise PgError(ACK_TIMEOUT, f"rows not yet accepted by CDF after {timeout:g} s; they "
                          "are safely queued in the gateway and will still be uploaded",
                          hint="SELECT * FROM pggw.backlog shows where they are") from None
        except UploadRejected as e:
            first = e.errors[0] if e.errors else {}
            raise PgError(ACK_REJECTED, f"CDF rejected {len(e.errors)} part(s) of your rows; "
                          "the rows CDF accepted stay in CDF",
                          detail=str(first.get("error") or first)[:500] if first else None,
                          hint="SELECT * FROM pggw.rejected shows CDF's errors") from None
        finally:
            if seq is None:
                self._barrier = max(self._barrier, self.writer.last_seq)

    def _execute_tx(self, prep: Prepared) -> Outcome | Deferred[Outcome]:
        what = prep.plan
        if what == "BEGIN":
            notices = []
            if self.in_block:
                notices.append(PgError(E.ACTIVE_SQL_TRANSACTION,
                                       "there is already a transaction in progress",
                                       severity="WARNING"))
            else:
                self.settings.begin_transaction()
            self.in_block = True
            return Outcome(tag="BEGIN", notices=notices)
        if what in ("SAVEPOINT", "RELEASE"):
            if not self.in_block:
                raise PgError(E.NO_ACTIVE_SQL_TRANSACTION,
                              f"{what} can only be used in transaction blocks")
            return Outcome(tag=what)
        if what == "ROLLBACK TO":
            raise PgError(E.FEATURE_NOT_SUPPORTED,
                          "ROLLBACK TO SAVEPOINT is not supported by pggw: roll back the whole "
                          "transaction instead")
        if what == "ROLLBACK":
            notices = []
            if not self.in_block:
                notices.append(PgError(E.NO_ACTIVE_SQL_TRANSACTION,
                                       "there is no transaction in progress", severity="WARNING"))
            self.writer.rollback()
            if self.in_block:
                self.settings.end_transaction(False)
            self.in_block = self.failed = False
            return Outcome(tag="ROLLBACK", notices=notices)
        # COMMIT
        if not self.in_block:
            return Outcome(tag="COMMIT", notices=[PgError(
                E.NO_ACTIVE_SQL_TRANSACTION, "there is no transaction in progress",
                severity="WARNING")])
        if self.failed:
            self.writer.rollback()
            self.settings.end_transaction(False)
            self.in_block = self.failed = False
            return Outcome(tag="ROLLBACK")
        self.in_block = False
        self.settings.end_transaction(True)
        d = self._acknowledged(self.writer.commit())
        if d is None:
            return Outcome(tag="COMMIT")

        def done(_: object) -> Outcome:
            return Outcome(tag="COMMIT")

        return d.addCallback(done)

    def _execute_settings(self, prep: Prepared) -> Outcome:
        from pggw.sql.settings import execute_settings_statement

        before = dict(self.settings.startup_parameter_status())
        res = execute_settings_statement(self.settings, prep.sql)
        if res is None:
            raise PgError(E.FEATURE_NOT_SUPPORTED, f"not supported: {prep.sql[:60]}")
        after = self.settings.startup_parameter_status()
        changed = [(k, v) for k, v in after if before.get(k) != v]
        return Outcome(tag=res.tag, columns=res.columns or None, rows=res.rows,
                       parameter_status=changed)
