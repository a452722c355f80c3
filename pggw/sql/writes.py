"""Running write statements: bind, coerce, buffer per transaction, and hand chunks to the WAL.

A transaction's rows are kept column-wise per (table, operation, columns)
group.  Small transactions reach the WAL in one commit (one group-committed
fsync); large ones are staged in chunks as they grow, so that neither RAM nor
the WAL's write lock is held for long, and made visible by the commit marker.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, FirstError, gatherResults

from pggw.sql import write as W
from pggw.sql.engine import CopyIn, Outcome
from pggw.sql.staging import StagingArea
from pggw.sql.write import decode_params, plan_for
from pggw.tables.coerce import check_duplicate_keys, check_required, coerce_columns
from pggw.tables.model import Op, Table
from pggw.tables.registry import Registry
from pggw.wal.codec import encode_chunk
from pggw.wire import copy as C
from pggw.wire import errors as E
from pggw.wire.errors import PgError

# Stage a group to the WAL once it holds this many rows …
CHUNK_ROWS = 20_000
# … and keep at most this many staging writes in flight before making the client wait.
MAX_IN_FLIGHT = 2

GroupKey = tuple[str, str, tuple[str, ...]]


class Transaction:
    """Rows of one open transaction, on their way into the WAL.

    Rows reach the WAL in the order they were written wherever it matters: a
    statement's rows join the previous group of the same (table, operation,
    columns) only when no other group of that table came in between (so a DELETE
    between two INSERTs of the same key stays between them), and staging a group
    first stages every group opened before it.
    """

    def __init__(self, wal: Any, user: str) -> None:
        self.wal = wal
        self.user = user
        self.txid: int | None = None
        self.rows: dict[str, int] = {}  # rows accepted per table, for metrics
        # Group id (opening order) -> (key, column lists, [row count]).
        self.groups: dict[int, tuple[GroupKey, list[list[Any]], list[int]]] = {}
        self._last: dict[str, int] = {}  # table -> its latest group id
        self._next_id = 0
        self.in_flight: list[Deferred[None]] = []
        self.staged = False
        self.error: BaseException | None = None

    @property
    def empty(self) -> bool:
        return not self.groups and not self.staged

    def add(self, table: str, op: Op, columns: dict[str, list[Any]], nrows: int
            ) -> Deferred[None] | None:
        """Buffer coerced rows; returns a Deferred when the client should wait (backpressure)."""
        if not nrows:
            return None
        self.rows[table] = self.rows.get(table, 0) + nrows
        key: GroupKey = (table, op.value, tuple(columns))
        gid = self._last.get(table)
        group = self.groups.get(gid) if gid is not None else None
        if group is None or group[0] != key:
            gid = self._next_id
            self._next_id += 1
            group = (key, [[] for _ in columns], [0])
            self.groups[gid] = group
            self._last[table] = gid
        _, lists, count = group
        for target, values in zip(lists, columns.values(), strict=True):
            target.extend(values)
        count[0] += nrows
        if count[0] >= CHUNK_ROWS:
            return self._stage(gid)  # type: ignore[arg-type]
        return None

    def _chunk(self, gid: int) -> tuple[str, str, bytes, int]:
        key, lists, count = self.groups.pop(gid)
        table, op, names = key
        return table, op, encode_chunk(dict(zip(names, lists, strict=True))), count[0]

    def _stage(self, gid: int) -> Deferred[None] | None:
        if self.txid is None:
            self.txid = self.wal.new_txid()
        for earlier in [g for g in self.groups if g <= gid]:
            self._stage_one(earlier)
        if len(self.in_flight) > MAX_IN_FLIGHT:
            return self.in_flight[0]
        return None

    def _stage_one(self, gid: int) -> None:
        assert self.txid is not None
        table, op, chunk, nrows = self._chunk(gid)
        self.staged = True
        d: Deferred[None] = self.wal.stage(self.txid, self.user, table, op, chunk, nrows)
        self.in_flight.append(d)

        def done(result: Any) -> Any:
            if d in self.in_flight:
                self.in_flight.remove(d)
            return result

        d.addBoth(done)

    def commit(self) -> Deferred[None] | None:
        if self.empty:
            return None
        if self.txid is None:
            self.txid = self.wal.new_txid()
        txid = self.txid
        chunks = [self._chunk(k) for k in list(self.groups)]
        pending = list(self.in_flight)
        if not pending:  # the common case: one commit request, no callback chain
            return self.wal.commit(txid, self.user, chunks)  # type: ignore[no-any-return]

        def write(_: object) -> Deferred[Any]:
            return self.wal.commit(txid, self.user, chunks)  # type: ignore[no-any-return]

        d = gatherResults(pending, consumeErrors=True)
        d.addCallback(write)

        def unwrap(f: Any) -> Any:
            # gatherResults wraps the first failure; surface the PgError inside.
            if f.check(FirstError):
                return f.value.subFailure
            return f

        d.addErrback(unwrap)
        return d  # type: ignore[return-value]

    def rollback(self) -> None:
        self.groups.clear()
        self._last.clear()
        if self.staged and self.txid is not None:
            self.wal.rollback(self.txid)
        self.txid = None
        self.staged = False


class Writer:
    """The write half of a connection: parses write statements and runs their plans."""

    def __init__(self, *, registry: Registry, wal: Any, user: str, settings: Any,
                 on_commit: Any = None, staging_dir: Path | None = None,
                 check_write: Any = None, metrics: Any = None) -> None:
        self.metrics = metrics  # pggw.ops.metrics.Metrics: rows accepted per table
        # (user, table name) -> None, or PgError 42501 when the user's CDF identity
        # cannot write that resource (from its cached capabilities).
        self.check_write = check_write
        self.on_commit = on_commit
        self.registry = registry
        self.wal = wal
        self.user = user
        self.settings = settings
        self.temp_tables: dict[str, Table] = {}
        self.staging = StagingArea(staging_dir)
        self.tx = Transaction(wal, user)
        self.batch: _Batch | None = None
        self.last_seq = 0  # the WAL seq of this session's last commit
        # id(plan), formats, parse OIDs -> (plan, sources, OIDs): see _sources_of
        self._sources_cache: dict[tuple[int, tuple[int, ...], tuple[int, ...]],
                                  tuple[Any, tuple[str, ...], tuple[int, ...]]] = {}
        # the prepared INSERT whose files-without-content NOTICE this transaction got
        self._content_noticed: Any = None

    @property
    def timezone(self) -> str:
        try:
            return str(self.settings.get("TimeZone"))
        except PgError:
            return "UTC"

    def parse(self, sql: str) -> Any:
        return plan_for(sql, self.registry, self.temp_tables)

    def commit(self) -> Deferred[None] | None:
        """Commit the transaction; raises PgError if rows of a pending batch are invalid."""
        wait = self.flush()
        if wait is not None:
            # Rare: the last batch filled a staging chunk; commit once it is staged.
            return wait.addCallback(lambda _: self.commit())
        tx = self.tx
        self.tx = Transaction(self.wal, self.user)
        self._content_noticed = None
        d = tx.commit()
        if d is not None and (self.metrics is not None or self.on_commit is not None):
            d.addCallback(self._committed, tx.rows)  # type: ignore[call-overload]
        return d

    def _committed(self, seq: int, rows: dict[str, int]) -> int:
        """A transaction is durable: count it, remember its seq, tell the uploader."""
        metrics = self.metrics
        if metrics is not None:
            for table, n in rows.items():
                metrics.rows_accepted(table, n)
            metrics.transaction_committed()
        if self.on_commit is not None:
            self.last_seq = max(self.last_seq, seq or 0)
            self.on_commit(seq)
        return seq

    def rollback(self) -> None:
        self.batch = None
        self._content_noticed = None
        self.tx.rollback()
        self.tx = Transaction(self.wal, self.user)

    def close(self) -> None:
        """The connection is gone: roll back and drop its temporary tables."""
        self.rollback()
        self.staging.close()
        self.temp_tables.clear()

    def store(self, table: Table, op: Op, values: dict[str, list[Any]], nrows: int
              ) -> Deferred[None] | None:
        """Coerced rows go to a temporary table, or into the transaction for the WAL."""
        if table.kind == "temp":
            self.staging.insert(table.name, table, values, nrows)
            return None
        if self.check_write is not None:
            self.check_write(self.user, table.name)
        return self.tx.add(table.name, op, values, nrows)

    def flush(self) -> Deferred[None] | None:
        """Validate and buffer the pending batch of single-row Executes (see :class:`_Batch`)."""
        batch, self.batch = self.batch, None
        if batch is None or not batch.params:
            return None
        plan = batch.plan
        cols = plan.bind_many(batch.params)
        nrows = len(batch.params)
        try:
            values, notices = self._coerce(plan, cols, batch.formats, batch.parse_oids, nrows)
        except PgError as err:
            err.batch_row = self._first_bad_row(batch)  # type: ignore[attr-defined]
            raise
        return self.store(plan.table, plan.op, values, len(next(iter(values.values())))
                          if values else nrows)

    def _first_bad_row(self, batch: _Batch) -> int:
        """Which Execute of a failed batch was at fault (rows checked one by one)."""
        plan = batch.plan
        for i in range(len(batch.params)):
            try:
                self._coerce(plan, plan.bind_many(batch.params[: i + 1]), batch.formats,
                             batch.parse_oids, i + 1)
            except PgError:
                return i
        return len(batch.params) - 1

    def execute(self, plan: Any, params: Sequence[Any], formats: Sequence[int] = (),
                parse_oids: Sequence[int] = ()) -> Outcome | Deferred[Outcome]:
        if type(plan) is W.InsertPlan and plan._single is not None and plan.param_types:
            # The hot path: one Execute of a prepared INSERT (executemany, JDBC batches).
            return self._insert_one(plan, params, formats, parse_oids)
        if isinstance(plan, _TEMP_DDL):
            return self._temp_ddl(plan)
        if isinstance(plan, W.InsertSelectPlan):
            wait = self.flush()
            if wait is not None:
                return wait.addCallback(lambda _: self._insert_select(plan))
            return self._insert_select(plan)
        if isinstance(plan, W.DeletePlan) and plan.where is None:
            return Outcome(tag=f"DELETE {self.staging.truncate(plan.table.name)}")
        if isinstance(plan, W.InsertPlan):
            wait = self.flush()
            if wait is not None:
                return wait.addCallback(lambda _: self._insert(plan, params, formats,
                                                               parse_oids))
            return self._insert(plan, params, formats, parse_oids)
        if isinstance(plan, W.CopyPlan):
            wait = self.flush()
            if wait is not None:
                return wait.addCallback(lambda _: self._copy(plan))
            return self._copy(plan)
        if isinstance(plan, _KEYED):
            wait = self.flush()
            if wait is not None:
                return wait.addCallback(lambda _: self._keyed(plan, params, formats,
                                                              parse_oids))
            return self._keyed(plan, params, formats, parse_oids)
        raise PgError(E.FEATURE_NOT_SUPPORTED, f"{type(plan).__name__} is not supported yet")

    @staticmethod
    def _texts(params: Sequence[Any], formats: Sequence[int]) -> list[Any]:
        """Text-format parameters as str (binary ones stay bytes for column-wise decoding)."""
        n = len(params)
        if not n:
            return []
        fmts = list(formats) if len(formats) == n else [formats[0] if formats else 0] * n
        return [v if v is None or f else bytes(v).decode()
                for v, f in zip(params, fmts, strict=True)]

    # -- INSERT ----------------------------------------------------------------
    def _insert_one(self, plan: Any, params: Sequence[Any], formats: Sequence[int],
                    parse_oids: Sequence[int]) -> Outcome | Deferred[Outcome]:
        """One Execute of a prepared single-row INSERT: batched until the next Sync."""
        batch = self.batch
        fmts, oids = tuple(formats), tuple(parse_oids)
        if batch is None or batch.plan is not plan or batch.formats != fmts \
                or batch.parse_oids != oids:
            wait = self.flush()
            if wait is not None:
                return wait.addCallback(
                    lambda _: self._insert_one(plan, params, formats, parse_oids))
            check_required(plan.table, plan.columns)
            batch = self.batch = _Batch(plan, fmts, oids)
        # Text-format values stay bytes: coerce_columns reads them column-wise.
        batch.params.append(params)
        if self._content_noticed is not plan and _execute_without_content(plan, params):
            # One NOTICE per prepared INSERT and transaction, not one per Execute; a batched
            # reply cannot carry it, so the batch is validated here.
            self._content_noticed = plan
            return _after(self.flush(), Outcome(tag="INSERT 0 1", notices=[_no_content()]))
        if len(batch.params) >= BATCH_ROWS:
            return _after(self.flush(), Outcome(tag="INSERT 0 1"))
        return _INSERTED_ONE

    def _coerce(self, plan: Any, cols: list[list[Any]], formats: Sequence[int],
                parse_oids: Sequence[int], nrows: int, where: str = ""
                ) -> tuple[dict[str, list[Any]], list[str]]:
        srcs, oids = self._sources_of(plan, formats, parse_oids)
        for j, src in enumerate(srcs):
            if src == "mixed":
                # A batch repeats the plan's template once per Execute.
                cols[j] = decode_params(cols[j], plan.values[j] * (nrows // max(plan.nrows, 1)),
                                        plan.param_types, formats, parse_oids)
                srcs[j] = "python"
        loc = (lambda r, c: f"{where.format(row=r)}, column {c}") if where else None
        values, notices = coerce_columns(plan.table, plan.columns, cols, source=srcs,
                                         oids=oids, timezone=self.timezone, where=loc)
        drop = check_duplicate_keys(plan.table, values, plan.op, where=loc)
        if drop:
            keep = sorted(set(range(nrows)) - set(drop))
            values = {k: [v[i] for i in keep] for k, v in values.items()}
        return values, notices

    def _sources_of(self, plan: Any, formats: Sequence[int], parse_oids: Sequence[int]
                    ) -> tuple[list[str], list[int]]:
        """``plan.sources(formats, parse_oids)``, worked out once per prepared statement and
        parameter formats (every Execute of an autocommit INSERT asks again); a copy."""
        key = (id(plan), tuple(formats), tuple(parse_oids))
        hit = self._sources_cache.get(key)
        if hit is None or hit[0] is not plan:
            if len(self._sources_cache) >= 64:
                self._sources_cache.clear()
            srcs, oids = plan.sources(formats, parse_oids)
            hit = self._sources_cache[key] = (plan, tuple(srcs), tuple(oids))
        return list(hit[1]), list(hit[2])

    def _insert(self, plan: Any, params: Sequence[Any], formats: Sequence[int],
                parse_oids: Sequence[int]) -> Outcome | Deferred[Outcome]:
        check_required(plan.table, plan.columns)
        cols = plan.bind(self._texts(params, formats))
        values, notices = self._coerce(plan, cols, formats, parse_oids, plan.nrows)
        nrows = len(next(iter(values.values()))) if values else plan.nrows
        wait = self.store(plan.table, plan.op, values, nrows)
        return _after(wait, Outcome(tag=f"INSERT 0 {nrows}", notices=_notices(notices) + (
            [_no_content()] if _without_content(plan.table, plan.op, values, nrows) else [])))

    # -- temporary staging tables ----------------------------------------------
    def _temp_ddl(self, plan: Any) -> Outcome:
        if isinstance(plan, W.CreateTempTablePlan):
            if plan.name in self.temp_tables:
                if plan.if_not_exists:
                    return Outcome(tag="CREATE TABLE", notices=[PgError(
                        "42P07", f'relation "{plan.name}" already exists, skipping',
                        severity="NOTICE")])
                raise PgError(E.DUPLICATE_TABLE, f'relation "{plan.name}" already exists')
            self.staging.create(plan.name)
            self.temp_tables[plan.name] = plan.table
            return Outcome(tag="CREATE TABLE")
        if isinstance(plan, W.DropTablePlan):
            for name in plan.names:
                self.staging.drop(name)
                self.temp_tables.pop(name, None)
            return Outcome(tag="DROP TABLE", notices=[PgError(
                "00000", f'table "{n}" does not exist, skipping', severity="NOTICE")
                for n in plan.missing])
        for name in plan.names:
            self.staging.truncate(name)
        return Outcome(tag="TRUNCATE TABLE")

    def _insert_select(self, plan: Any) -> Outcome | Deferred[Outcome]:
        """``INSERT INTO t SELECT ... FROM staging``: the staged rows, validated for ``t``."""
        if not plan.source_temp:
            raise PgError(E.FEATURE_NOT_SUPPORTED,
                          "INSERT ... SELECT reads only from temporary tables in pggw")
        if plan.table.kind != "temp":
            check_required(plan.table, plan.columns)
        total, notes = 0, set()
        no_content = False
        waits: list[Deferred[None]] = []
        for chunk in self.staging.read(plan.source.name, plan.source, plan.source_columns):
            n = len(chunk[0]) if chunk else 0
            values, notices = coerce_columns(
                plan.table, plan.columns, chunk, source="python", timezone=self.timezone,
                first_row=total + 1)
            notes.update(notices)
            drop = check_duplicate_keys(plan.table, values, plan.op, first_row=total + 1)
            if drop:
                keep = sorted(set(range(n)) - set(drop))
                values = {k: [v[i] for i in keep] for k, v in values.items()}
                n = len(keep)
            no_content = no_content or _without_content(plan.table, plan.op, values, n)
            wait = self.store(plan.table, plan.op, values, n)
            if wait is not None:
                waits.append(wait)
            total += n
        out = Outcome(tag=f"INSERT 0 {total}", notices=_notices(sorted(notes)) + (
            [_no_content()] if no_content else []))
        if not waits:
            return out
        return gatherResults(waits, consumeErrors=True).addCallback(lambda _: out)

    # -- UPDATE / DELETE ---------------------------------------------------------
    def _keyed(self, plan: Any, params: Sequence[Any], formats: Sequence[int],
               parse_oids: Sequence[int]) -> Outcome | Deferred[Outcome]:
        texts = self._texts(params, formats)
        sources = plan.sources(formats, parse_oids)
        if isinstance(plan, W.UpdatePlan):
            raw = plan.bind(texts)
            lower = upper = None
        else:
            assert plan.where is not None
            raw, lower, upper = plan.where.bind(texts)
            rng = plan.where.range_column
            if rng is not None:
                raw[f"{rng}"] = [lower, upper]
        names = list(raw)
        bounds: dict[str, list[Any]] = {}
        if isinstance(plan, W.DeletePlan) and plan.where is not None and plan.where.range_column:
            # The range bounds are coerced as values of the range column, then kept apart.
            rng = plan.where.range_column
            b, _ = coerce_columns(plan.table, [rng], [raw.pop(rng)],
                                  source=[sources.get(rng, ("python", 0))[0]],
                                  oids=[sources.get(rng, ("python", 0))[1]],
                                  timezone=self.timezone, partial=True)
            bounds = b
            names = list(raw)
        # Key columns of the predicate may be read-only (``id``): they select rows, they
        # are not written, so they are coerced against the key view of the table.
        keys = set(plan.where.key_columns) if plan.where is not None else set()
        values: dict[str, list[Any]] = {}
        notices: list[str] = []
        for table, part in ((_key_view(plan.table), [n for n in names if n in keys]),
                            (plan.table, [n for n in names if n not in keys])):
            if not part:
                continue
            psrcs = [sources.get(n, ("python", 0)) for n in part]
            vals, notes = coerce_columns(
                table, part, [raw[n] for n in part], source=[s for s, _ in psrcs],
                oids=[o for _, o in psrcs], timezone=self.timezone, partial=True)
            values.update(vals)
            notices.extend(notes)
        values = {n: values[n] for n in names if n in values}
        nrows = len(next(iter(values.values()))) if values else 0
        if bounds:
            lo, hi = bounds[plan.where.range_column]
            w = plan.where
            # Half-open [start, end) in milliseconds, as CDF's datapoint delete takes it.
            start = None if lo is None else lo + (0 if w.lower_inclusive else 1)
            end = None if hi is None else hi + (1 if w.upper_inclusive else 0)
            values["_range_begin"] = [start] * nrows
            values["_range_end"] = [end] * nrows
        wait = self.tx.add(plan.table.name, plan.op, values, nrows)
        verb = "UPDATE" if isinstance(plan, W.UpdatePlan) else "DELETE"
        return _after(wait, Outcome(tag=f"{verb} {nrows}", notices=_notices(notices)))

    # -- COPY ------------------------------------------------------------------
    def _copy(self, plan: Any) -> Outcome:
        if plan.table.kind != "temp":
            check_required(plan.table, plan.columns)
        sink = CopySink(self, plan)
        return Outcome(copy=CopyIn(binary=plan.format == "binary", ncols=len(plan.columns),
                                   sink=sink))


_KEY_VIEWS: dict[int, tuple[Table, Table]] = {}


def _key_view(table: Table) -> Table:
    """``table`` with its read-only columns writable, for coercing key predicates."""
    hit = _KEY_VIEWS.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    from dataclasses import replace

    view = replace(table, columns=tuple(replace(c, read_only=False) if c.read_only else c
                                        for c in table.columns))
    _KEY_VIEWS[id(table)] = (table, view)
    return view


_TEMP_DDL = (W.CreateTempTablePlan, W.DropTablePlan, W.TruncatePlan)
_KEYED = (W.UpdatePlan, W.DeletePlan)

# Executes of one prepared single-row INSERT are validated together, at the next Sync
# or every this many rows: one column-wise pass instead of one per row.
BATCH_ROWS = 5000
_INSERTED_ONE = Outcome(tag="INSERT 0 1", batched=True)  # shared: nobody mutates it


class _Batch:
    """Bind parameters of consecutive Executes of one prepared single-row INSERT.

    psycopg's executemany, JDBC batches and asyncpg's executemany send one
    Bind/Execute per row and one Sync.  Each Execute is answered at once
    (``INSERT 0 1``); the rows are coerced together when the batch is flushed,
    so a bad value fails the implicit transaction at Sync (or the statement
    that follows), naming its row in the batch.  Nothing of it is kept.
    """

    __slots__ = ("plan", "formats", "parse_oids", "params")

    def __init__(self, plan: Any, formats: tuple[int, ...], parse_oids: tuple[int, ...]) -> None:
        self.plan = plan
        self.formats = formats
        self.parse_oids = parse_oids
        self.params: list[Sequence[Any]] = []


def _notices(texts: Sequence[str]) -> list[PgError]:
    return [PgError("00000", t, severity="NOTICE") for t in texts]


def _no_content() -> PgError:
    """Sent once per statement that inserts files without content: SQLSTATE 01000 (a
    warning-class code) with NOTICE severity. The rule is the CDF files API's (POST /files)."""
    return PgError(
        "01000", "file(s) inserted without content: CDF deletes a file whose content is not "
        "uploaded within one week", severity="NOTICE",
        detail='CDF: "Any file info entry that does not have the actual file uploaded within '
        'one week will be automatically deleted."',
        hint="Give the file's bytes in the content column (bytea), or upload the content to "
        "CDF within one week.")


_CREATES = (Op.INSERT, Op.UPSERT, Op.INSERT_IGNORE)


def _without_content(table: Table, op: Op, values: dict[str, list[Any]], nrows: int) -> bool:
    """Whether these coerced rows create files without content."""
    if table.name != "files" or table.kind != "builtin" or op not in _CREATES or not nrows:
        return False
    content = values.get("content")
    return content is None or None in content


def _execute_without_content(plan: Any, params: Sequence[Any]) -> bool:
    """Whether one Execute of a prepared INSERT creates a file without content."""
    table = plan.table
    if table.name != "files" or table.kind != "builtin" or plan.op not in _CREATES:
        return False
    if "content" not in plan.columns:
        return True
    cols = plan.bind_many([params])
    return bool(cols[list(plan.columns).index("content")][0] is None)


def _after(wait: Deferred[None] | None, out: Outcome) -> Outcome | Deferred[Outcome]:
    if wait is None:
        return out
    return wait.addCallback(lambda _: out)


class CopySink:
    """Receives CopyData for one COPY FROM STDIN and feeds coerced rows to the transaction."""

    def __init__(self, writer: Writer, plan: Any) -> None:
        self.writer = writer
        self.plan = plan
        self.table: Table = plan.table
        n = len(plan.columns)
        names = list(plan.columns)
        index = {c: i for i, c in enumerate(names)}
        if plan.format == "binary":
            self.decoder: Any = C.BinaryCopyDecoder(n, columns=names, table=self.table.name)
            self.source = "binary"
        elif plan.format == "csv":
            self.decoder = C.CsvCopyDecoder(
                n, delimiter=plan.delimiter, quote=plan.quote, escape=plan.escape,
                null=plan.null, header=plan.header,
                force_null={index[c] for c in plan.force_null},
                force_not_null={index[c] for c in plan.force_not_null},
                columns=names, table=self.table.name)
            self.source = "text"
        else:
            self.decoder = C.TextCopyDecoder(n, delimiter=plan.delimiter, null=plan.null,
                                             header=plan.header, columns=names,
                                             table=self.table.name)
            self.source = "text"
        self.rows = 0
        self.notices: set[str] = set()
        self.no_content = False  # rows creating files without content were seen

    def _where(self, line: int, column: str) -> str:
        return f"COPY {self.table.name}, line {line}, column {column}"

    def _take(self, rows: list[Any]) -> Deferred[None] | None:
        if not rows:
            return None
        first = self.rows + 1 + (1 if getattr(self.plan, "header", False) else 0)
        columns = [list(c) for c in zip(*rows, strict=True)]
        values, notices = coerce_columns(
            self.table, self.plan.columns, columns, source=self.source,
            timezone=self.writer.timezone, first_row=first, where=self._where)
        self.notices.update(notices)
        self.rows += len(rows)
        self.no_content = self.no_content or _without_content(
            self.table, self.plan.op, values, len(rows))
        return self.writer.store(self.table, self.plan.op, values, len(rows))

    def feed(self, data: memoryview) -> Deferred[None] | None:
        return self._take(self.decoder.feed(data))

    def done(self) -> Outcome | Deferred[Outcome]:
        wait = self._take(self.decoder.finish())
        return _after(wait, Outcome(tag=f"COPY {self.rows}",
                                    notices=_notices(sorted(self.notices)) + (
                                        [_no_content()] if self.no_content else [])))

    def abort(self) -> None:
        """CopyFail or an error: the session's failure handling rolls the transaction back."""
