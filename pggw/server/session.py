"""The extended-query state machine of one authenticated connection (sans-IO).

Feed it frontend messages with :meth:`Session.receive`; it writes backend
messages through ``write`` and returns a Deferred when the caller must wait
before feeding the next message (a commit waiting for fsync, a COPY chunk
waiting for the WAL).  Rules from PostgreSQL's protocol docs that clients
depend on:

* after an error in an extended-query message, discard everything up to Sync,
  then send exactly one ReadyForQuery per Sync;
* Describe never executes; Execute never sends RowDescription;
* a simple Query destroys the unnamed statement and portal and runs its
  statements in one implicit transaction;
* Flush and Sync are ignored inside copy-in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from pggw.sql.engine import Engine, Outcome, Prepared
from pggw.sql.result import ResultColumn
from pggw.wire import backend as B
from pggw.wire import codecs
from pggw.wire import errors as E
from pggw.wire import frontend as F
from pggw.wire.errors import PgError
from pggw.wire.types import TYPES_BY_OID

log = Logger()


@dataclass
class Portal:
    statement: Prepared
    params: list[Any]
    result_formats: tuple[int, ...]
    param_formats: tuple[int, ...] = ()
    pending_rows: list[Sequence[Any]] | None = None  # rows left after PortalSuspended
    tag: str = ""
    done: bool = False


@dataclass
class _CopyState:
    sink: Any
    extended: bool
    failed: bool = False  # an error was sent: drop copy messages until CopyDone/Fail


_BIND_COMPLETE = B.bind_complete()
# Tags repeat (INSERT 0 1 for every row of an executemany): encode each once.
_command_complete = functools.lru_cache(maxsize=1024)(B.command_complete)


def _formats(codes: tuple[int, ...], n: int) -> list[int]:
    if not codes:
        return [0] * n
    if len(codes) == 1:
        return [codes[0]] * n
    if len(codes) != n:
        raise PgError(E.PROTOCOL_VIOLATION,
                      f"bind message has {len(codes)} result formats but query has {n} columns")
    return list(codes)


def row_description(columns: Sequence[ResultColumn], formats: Sequence[int]) -> bytes:
    fields = []
    for c, f in zip(columns, formats, strict=True):
        size = c.type_size
        if size == -1 and c.type_oid in TYPES_BY_OID:
            size = TYPES_BY_OID[c.type_oid].typlen
        fields.append(B.FieldDesc(name=c.name, table_oid=c.table_oid, column_attnum=c.column_attnum,
                                  type_oid=c.type_oid, type_size=size,
                                  type_modifier=c.type_modifier, format=f))
    return B.row_description(fields)


def encode_rows(columns: Sequence[ResultColumn], formats: Sequence[int],
                rows: Sequence[Sequence[Any]]) -> list[bytes]:
    encoders: list[Callable[[Any], bytes]] = [
        codecs.binary_encoder(c.type_oid) if f else codecs.text_encoder(c.type_oid)
        for c, f in zip(columns, formats, strict=True)]
    out = []
    for row in rows:
        out.append(B.data_row([None if v is None else enc(v)
                               for enc, v in zip(encoders, row, strict=True)]))
    return out


class Session:
    """Everything after authentication: simple and extended query, COPY, transactions."""

    def __init__(self, engine: Engine, write: Callable[[bytes], None],
                 flush: Callable[[], None] = lambda: None) -> None:
        self.engine = engine
        self._out = write
        self._flush = flush
        # While Executes of a batched INSERT await validation (Outcome.batched), replies are
        # held here, with the position of each batched row's CommandComplete in ``_marks``.
        self._held: list[bytes] | None = None
        self._marks: list[int] = []
        self.statements: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}
        self.skipping = False  # error seen in extended mode: discard until Sync
        self.copy: _CopyState | None = None
        self.closed = False
        self.canceled = False
        # Waiting for the transaction's commit (Sync or the end of a simple Query): the
        # replies so far can wait for its ReadyForQuery (PostgreSQL flushes at Sync too).
        self.committing = False
        self._pending: list[str] = []  # statements left of a simple Query

    # -- entry point ---------------------------------------------------------
    def receive(self, mtype: int, body: memoryview) -> Deferred[None] | None:
        """Handle one message; a returned Deferred must fire before the next is fed."""
        if self.copy is not None:
            return self._copy_message(mtype, body)
        if mtype == F.SYNC:
            return self._sync()
        if mtype == F.TERMINATE:
            self.closed = True
            return None
        if self.skipping:
            return None
        try:
            if mtype == F.QUERY:
                try:
                    sql = F.decode_query(body)
                except PgError as e:
                    if e.severity == "FATAL":
                        raise
                    if not self._settle():  # the pending batch's error is the one reported
                        self.skipping = False
                        self.ready()
                        return None
                    return self._simple_failed(e)
                return self._query(sql)
            handler = self._extended.get(mtype)
            if handler is None:
                raise PgError(E.PROTOCOL_VIOLATION, f"invalid frontend message type {mtype}",
                              severity="FATAL")
            d: Deferred[None] | None = handler(self, body)
            if d is not None:
                d.addErrback(self._extended_failure)
            return d
        except PgError as e:
            if e.severity == "FATAL":
                raise
            self._error(e)
            self.skipping = True
            return None
        except Exception:  # noqa: BLE001 - PostgreSQL's elog(ERROR): this statement, not the session
            self._error(_as_pg_error(Failure()))  # type: ignore[no-untyped-call]
            self.skipping = True
            return None

    def _write(self, data: bytes) -> None:
        if self._held is not None:
            self._held.append(data)
        else:
            self._out(data)

    def _release(self, upto: int | None = None) -> None:
        """Send held replies (the first ``upto`` of them; None: all) and stop holding."""
        held, self._held, self._marks = self._held, None, []
        if held:
            for data in held[:upto]:
                self._out(data)

    def _settle(self) -> bool:
        """Validate a pending batch; on a bad row, answer for the rows before it, then fail."""
        if self._held is None:
            return True
        try:
            self.engine.settle()
        except PgError as e:
            self._error(e)
            self.skipping = True
            return False
        self._release()
        return True

    def _extended_failure(self, failure: Any) -> None:
        self._error(_as_pg_error(failure))
        self.skipping = True

    def _error(self, err: PgError) -> None:
        if self._held is not None:
            row = getattr(err, "batch_row", None)
            marks = self._marks
            self._release(marks[row] if row is not None and row < len(marks) else None)
        self._write(B.error_response(err))
        metrics = getattr(self.engine.services, "metrics", None)
        if metrics is not None:
            metrics.statement_error(err.sqlstate)
        if err.severity != "FATAL":
            self.engine.fail()

    def ready(self) -> None:
        self._write(B.ready_for_query(self.engine.status))

    # -- extended query ------------------------------------------------------
    def _parse(self, body: memoryview) -> None:
        msg = F.decode_parse(body)
        if msg.name and msg.name in self.statements:
            raise PgError(E.DUPLICATE_PREPARED_STATEMENT,
                          f'prepared statement "{msg.name}" already exists')
        prep = self.engine.prepare(msg.query, msg.param_oids)
        self.statements[msg.name] = prep
        self._write(B.parse_complete())

    def _bind(self, body: memoryview) -> None:
        msg = F.decode_bind(body)
        prep = self._statement(msg.statement)
        n = len(msg.params)
        if n != len(prep.param_oids):
            raise PgError(E.PROTOCOL_VIOLATION,
                          f'bind message supplies {n} parameters, but prepared statement '
                          f'"{msg.statement}" requires {len(prep.param_oids)}')
        if prep.kind == "write":
            # Writes coerce raw parameters column-wise against the target table.
            params = msg.params
        else:
            params = self._decode_params(prep, msg.params, _formats(msg.param_formats, n))
        if msg.portal and msg.portal in self.portals and not self.portals[msg.portal].done:
            raise PgError("42P03", f'cursor "{msg.portal}" already exists')
        self.portals[msg.portal] = Portal(prep, params, msg.result_formats, msg.param_formats)
        self._write(_BIND_COMPLETE)

    def _decode_params(self, prep: Prepared, raw: list[bytes | None],
                       formats: list[int]) -> list[Any]:
        out: list[Any] = []
        for v, f, oid in zip(raw, formats, prep.param_oids, strict=True):
            if v is None:
                out.append(None)
            elif f:
                out.append(codecs.decode_binary(oid, v))
            else:
                b = bytes(v)
                try:
                    text = b.decode()
                except UnicodeDecodeError as e:
                    raise F.invalid_utf8(b, e.start) from None
                out.append(codecs.decode_text(oid or 25, text))
        return out

    def _describe(self, body: memoryview) -> None:
        msg = F.decode_describe(body)
        if msg.kind == "S":
            prep = self._statement(msg.name)
            self._write(B.parameter_description([o or 25 for o in prep.param_oids]))
            cols = prep.columns
            formats: list[int] = [0] * len(cols or ())
        else:
            portal = self._portal(msg.name)
            cols = portal.statement.columns
            formats = _formats(portal.result_formats, len(cols or ()))
        if cols:
            self._write(row_description(cols, formats))
        else:
            self._write(B.no_data())

    def _execute(self, body: memoryview) -> Deferred[None] | None:
        msg = F.decode_execute(body)
        portal = self._portal(msg.portal)
        if portal.pending_rows is not None:
            self._send_rows(portal, msg.max_rows)
            return None
        if portal.done:
            # Re-executing a completed portal returns no more rows.
            self._write(B.command_complete(portal.tag))
            return None
        if self._held is not None and portal.statement.kind != "write" and not self._settle():
            return None
        result = self.engine.execute(portal.statement, portal.params, portal.param_formats)
        if isinstance(result, Deferred):
            return result.addCallback(self._executed, portal, msg.max_rows)
        self._executed(result, portal, msg.max_rows)
        return None

    def _executed(self, out: Outcome, portal: Portal, max_rows: int) -> None:
        if out.batched:
            if self._held is None:
                self._held = []
            self._marks.append(len(self._held))
            self._held.append(_command_complete(out.tag))
            portal.done = True
            portal.tag = out.tag
            return
        if self._held is not None:
            # The writer validated the pending batch on its way to this statement.
            self._release()
        self._notices(out)
        if out.empty:
            portal.done = True
            self._write(B.empty_query_response())
            return
        if out.copy is not None:
            self._start_copy(out, extended=True)
            return
        portal.tag = out.tag
        if out.columns:
            portal.pending_rows = list(out.rows)
            self._send_rows(portal, max_rows)
        else:
            portal.done = True
            self._write(_command_complete(out.tag))

    def _send_rows(self, portal: Portal, max_rows: int) -> None:
        rows = portal.pending_rows or []
        cols = portal.statement.columns or []
        formats = _formats(portal.result_formats, len(cols))
        if max_rows and len(rows) > max_rows:
            batch, portal.pending_rows = rows[:max_rows], rows[max_rows:]
            for m in encode_rows(cols, formats, batch):
                self._write(m)
            self._write(B.portal_suspended())
            return
        for m in encode_rows(cols, formats, rows):
            self._write(m)
        portal.pending_rows = None
        portal.done = True
        self._write(B.command_complete(portal.tag))

    def _close(self, body: memoryview) -> None:
        msg = F.decode_close(body)
        if msg.kind == "S":
            prep = self.statements.pop(msg.name, None)
            if prep is not None:
                for name in [n for n, p in self.portals.items() if p.statement is prep]:
                    del self.portals[name]
        else:
            self.portals.pop(msg.name, None)
        self._write(B.close_complete())

    def _flush_msg(self, body: memoryview) -> None:
        self._settle()
        self._flush()

    _extended: dict[int, Callable[[Session, memoryview], Deferred[None] | None]] = {
        F.PARSE: _parse, F.BIND: _bind, F.DESCRIBE: _describe,
        F.EXECUTE: _execute, F.CLOSE: _close, F.FLUSH: _flush_msg,
    }

    def _statement(self, name: str) -> Prepared:
        try:
            return self.statements[name]
        except KeyError:
            raise PgError(E.INVALID_SQL_STATEMENT_NAME,
                          f'prepared statement "{name}" does not exist') from None

    def _portal(self, name: str) -> Portal:
        try:
            return self.portals[name]
        except KeyError:
            raise PgError(E.INVALID_CURSOR_NAME, f'portal "{name}" does not exist') from None

    def _sync(self) -> Deferred[None] | None:
        if not self.skipping:
            self._settle()
        self._held, self._marks = None, []
        self.skipping = False
        return self._end_transaction(self._after_transaction)

    def _end_transaction(self, then: Callable[[], None]) -> Deferred[None] | None:
        """Close the implicit transaction, then call ``then`` (at once, or once the commit
        is durable: the Deferred returned); an fsync failure becomes an ErrorResponse."""
        try:
            d = self.engine.end_implicit()
        except PgError as e:
            self._error(e)
            then()
            return None
        if d is None:
            then()
            return None
        self.committing = True

        def done(_: object) -> None:
            self.committing = False
            then()

        def failed(failure: Any) -> None:
            self.committing = False
            err = failure.value
            if not isinstance(err, PgError):
                log.failure("commit failed", failure)
                err = PgError(E.IO_ERROR, f"could not make the transaction durable: {err}")
            self._error(err)
            then()

        return d.addCallbacks(done, failed)

    def _after_transaction(self) -> None:
        if not self.engine.in_block:
            # Unnamed and named portals live until the transaction ends.
            self.portals.clear()
        self.ready()

    # -- simple query --------------------------------------------------------
    def _query(self, sql: str) -> Deferred[None] | None:
        from pggw.sql.lexer import split_statements

        if not self._settle():
            self.skipping = False
            self.ready()
            return None

        self.statements.pop("", None)
        self.portals.pop("", None)
        try:
            parts = split_statements(sql)
        except PgError as e:
            self._error(e)
            self.engine.fail()
            self.ready()
            return None
        if not parts:
            self._write(B.empty_query_response())
            self.ready()
            return None
        self._pending = list(parts)
        return self._run_pending()

    def _run_pending(self) -> Deferred[None] | None:
        """Run the simple Query's statements in order; stop at an async step or a COPY."""
        while self._pending:
            sql = self._pending.pop(0)
            try:
                prep = self.engine.prepare(sql)
                out = self.engine.execute(prep, ())
            except PgError as e:
                return self._simple_failed(e)
            if isinstance(out, Deferred):
                # Continue with the rest of the Query once this statement is done.
                return out.addCallbacks(functools.partial(self._simple_result, prep),
                                        self._simple_error)
            if out.copy is not None:
                self._notices(out)
                self._start_copy(out, extended=False)
                return None
            self._emit_simple(prep, out)
        return self._finish_simple()

    def _simple_error(self, failure: Any) -> Deferred[None] | None:
        return self._simple_failed(_as_pg_error(failure))

    def _simple_result(self, prep: Prepared, out: Outcome) -> Deferred[None] | None:
        if out.copy is not None:
            self._notices(out)
            self._start_copy(out, extended=False)
            return None
        self._emit_simple(prep, out)
        return self._run_pending()

    def _emit_simple(self, prep: Prepared, out: Outcome) -> None:
        self._notices(out)
        if out.empty:
            self._write(B.empty_query_response())
            return
        if out.columns:
            formats = [0] * len(out.columns)
            self._write(row_description(out.columns, formats))
            for m in encode_rows(out.columns, formats, out.rows):
                self._write(m)
        self._write(B.command_complete(out.tag))

    def _simple_failed(self, err: PgError) -> Deferred[None] | None:
        if err.severity == "FATAL":
            raise err
        self._pending = []
        self._error(err)
        self.ready()
        return None

    def _finish_simple(self) -> Deferred[None] | None:
        return self._end_transaction(self.ready)

    def _notices(self, out: Outcome) -> None:
        for n in out.notices:
            self._write(B.notice_response(n))
        for k, v in out.parameter_status:
            self._write(B.parameter_status(k, v))

    # -- COPY ----------------------------------------------------------------
    def _start_copy(self, out: Outcome, *, extended: bool) -> None:
        assert out.copy is not None
        self.copy = _CopyState(out.copy.sink, extended)
        self._write(B.copy_in_response(out.copy.binary, out.copy.ncols))
        self._flush()

    def _copy_message(self, mtype: int, body: memoryview) -> Deferred[None] | None:
        state = self.copy
        assert state is not None
        if mtype in (F.FLUSH, F.SYNC):
            return None
        if state.failed:
            if mtype in (F.COPY_DONE, F.COPY_FAIL):
                self._copy_ended(state)
            elif mtype != F.COPY_DATA:
                self._copy_ended(state)
                return self.receive(mtype, body)
            return None
        try:
            if self.canceled:
                self.canceled = False
                raise PgError(E.QUERY_CANCELED, "canceling statement due to user request")
            if mtype == F.COPY_DATA:
                return self._copy_chain(state.sink.feed(body))
            if mtype == F.COPY_DONE:
                result = state.sink.done()
                if isinstance(result, Deferred):
                    return self._copy_chain(result.addCallback(self._copy_done, state))
                return self._copy_done(result, state)
            if mtype == F.COPY_FAIL:
                reason = F.decode_copy_fail(body)
                state.sink.abort()
                raise PgError(E.QUERY_CANCELED, f"COPY from stdin failed: {reason}")
            raise PgError(E.PROTOCOL_VIOLATION,
                          f"unexpected message type {chr(mtype)!r} during COPY from stdin")
        except PgError as e:
            self._copy_error(state, e)
            return None

    def _copy_chain(self, d: Deferred[Any] | None) -> Deferred[None] | None:
        if d is None:
            return None
        state = self.copy

        def failed(f: Any) -> None:
            err = f.value if isinstance(f.value, PgError) else PgError(
                E.INTERNAL_ERROR, f"internal error: {f.value}")
            if state is not None and self.copy is state:
                self._copy_error(state, err)

        return d.addCallbacks(lambda _: None, failed)

    def _copy_done(self, out: Outcome, state: _CopyState) -> Deferred[None] | None:
        self.copy = None
        self._notices(out)
        self._write(B.command_complete(out.tag))
        if state.extended:
            return None
        # The rest of the simple Query, then its implicit commit and ReadyForQuery.
        return self._run_pending()

    def _copy_error(self, state: _CopyState, err: PgError) -> None:
        try:
            state.sink.abort()
        except Exception:  # noqa: BLE001 - aborting must not mask the error
            log.failure("aborting COPY")
        self._error(err)
        if state.extended:
            # Discard until Sync, which ends copy mode too.
            self.copy = None
            self.skipping = True
        else:
            state.failed = True
            self._pending = []
            self.ready()

    def _copy_ended(self, state: _CopyState) -> None:
        self.copy = None


def _as_pg_error(failure: Any) -> PgError:
    """The ErrorResponse for a failed statement: its PgError, or what PostgreSQL would say."""
    err = failure.value
    if isinstance(err, PgError):
        return err
    if isinstance(err, RecursionError):  # a pathological nesting somewhere below the parser
        return PgError(E.STATEMENT_TOO_COMPLEX, "stack depth limit exceeded")
    log.failure("statement failed", failure)
    return PgError(E.INTERNAL_ERROR, f"internal error: {err}")
