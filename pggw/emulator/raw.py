"""RAW: databases, tables and rows (insert is an upsert by key, with ``ensureParent``)."""

from __future__ import annotations

import json
from typing import Any

from pggw.emulator.errors import ApiError, bad_request
from pggw.emulator.http import Ctx, Reply, Route, decode_cursor, encode_cursor, items_of, limit_of
from pggw.emulator.store import dumps, now_ms

ACL = "rawAcl"
MAX_ROWS = 10_000
MAX_KEY = 1024
MAX_ROW_BYTES = 5 * 1024 * 1024


def _name(value: Any, limit: int, what: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise bad_request(f"{what} name must be a string of 1 to {limit} characters")
    return value


def _not_found(what: str, names: list[dict[str, Any]]) -> ApiError:
    listed = ", ".join(n["name"] for n in names)
    return ApiError(404, f"Following {what} not found: {listed}", missing=names)


def db_exists(ctx: Ctx, db: str) -> bool:
    return (
        ctx.app.store.db.execute(
            "SELECT 1 FROM raw_dbs WHERE project = ? AND name = ?", (ctx.project, db)
        ).fetchone()
        is not None
    )


def table_exists(ctx: Ctx, db: str, table: str) -> bool:
    return (
        ctx.app.store.db.execute(
            "SELECT 1 FROM raw_tables WHERE project = ? AND db = ? AND name = ?",
            (ctx.project, db, table),
        ).fetchone()
        is not None
    )


def _ensure(ctx: Ctx, db: str, table: str | None, ensure_parent: bool) -> None:
    store = ctx.app.store
    if not db_exists(ctx, db):
        if not ensure_parent:
            raise _not_found("databases", [{"name": db}])
        store.db.execute(
            "INSERT INTO raw_dbs(project, name, created) VALUES (?, ?, ?)",
            (ctx.project, db, now_ms()),
        )
    if table is not None and not table_exists(ctx, db, table):
        if not ensure_parent:
            raise _not_found("tables", [{"name": table}])
        store.db.execute(
            "INSERT INTO raw_tables(project, db, name, created) VALUES (?, ?, ?, ?)",
            (ctx.project, db, table, now_ms()),
        )


def _page(rows: list[tuple[Any, ...]], limit: int, render: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"items": [render(r) for r in rows[:limit]]}
    if len(rows) > limit:
        out["nextCursor"] = encode_cursor(rows[limit - 1][0])
    return out


def create_dbs(ctx: Ctx) -> Reply:
    items = items_of(ctx.body(), 1000)
    names = [_name(i.get("name"), 32, "Database") for i in items]
    dups = [n for n in set(names) if names.count(n) > 1] + [n for n in names if db_exists(ctx, n)]
    if dups:
        raise ApiError(
            400, "Databases already exist or are duplicated", duplicated=[{"name": n} for n in dups]
        )
    store = ctx.app.store
    now = now_ms()
    with store.transaction():
        store.db.executemany(
            "INSERT INTO raw_dbs(project, name, created) VALUES (?, ?, ?)",
            [(ctx.project, n, now) for n in names],
        )
    return Reply(201, {"items": [{"name": n, "createdTime": now} for n in names]})


def list_dbs(ctx: Ctx) -> Reply:
    limit = limit_of(ctx.int_arg("limit"), 25, 1000)
    after = decode_cursor(ctx.arg("cursor")) or ""
    rows = ctx.app.store.db.execute(
        "SELECT name, created FROM raw_dbs WHERE project = ? AND name > ? ORDER BY name LIMIT ?",
        (ctx.project, after, limit + 1),
    ).fetchall()
    return Reply(200, _page(rows, limit, lambda r: {"name": r[0], "createdTime": r[1]}))


def delete_dbs(ctx: Ctx) -> Reply:
    body = ctx.body()
    items = items_of(body, 1000)
    names = [_name(i.get("name"), 32, "Database") for i in items]
    lost = [{"name": n} for n in names if not db_exists(ctx, n)]
    if lost:
        raise _not_found("databases", lost)
    store = ctx.app.store
    recursive = bool(body.get("recursive", False))
    with store.transaction():
        for name in names:
            has_tables = store.db.execute(
                "SELECT 1 FROM raw_tables WHERE project = ? AND db = ? LIMIT 1", (ctx.project, name)
            ).fetchone()
            if has_tables and not recursive:
                raise bad_request(f"Database {name} is not empty; set recursive=true to delete it")
            for sql in (
                "DELETE FROM raw_rows WHERE project = ? AND db = ?",
                "DELETE FROM raw_tables WHERE project = ? AND db = ?",
                "DELETE FROM raw_dbs WHERE project = ? AND name = ?",
            ):
                store.db.execute(sql, (ctx.project, name))
    return Reply(200, {})


def create_tables(ctx: Ctx) -> Reply:
    db = _name(ctx.params["db"], 32, "Database")
    items = items_of(ctx.body(), 1000)
    names = [_name(i.get("name"), 64, "Table") for i in items]
    store = ctx.app.store
    with store.transaction():
        _ensure(ctx, db, None, ctx.bool_arg("ensureParent"))
        dups = [n for n in set(names) if names.count(n) > 1] + [
            n for n in names if table_exists(ctx, db, n)
        ]
        if dups:
            raise ApiError(
                400,
                "Tables already exist or are duplicated",
                duplicated=[{"name": n} for n in dups],
            )
        now = now_ms()
        store.db.executemany(
            "INSERT INTO raw_tables(project, db, name, created) VALUES (?, ?, ?, ?)",
            [(ctx.project, db, n, now) for n in names],
        )
    return Reply(201, {"items": [{"name": n, "createdTime": now} for n in names]})


def list_tables(ctx: Ctx) -> Reply:
    db = ctx.params["db"]
    if not db_exists(ctx, db):
        raise _not_found("databases", [{"name": db}])
    limit = limit_of(ctx.int_arg("limit"), 25, 1000)
    after = decode_cursor(ctx.arg("cursor")) or ""
    rows = ctx.app.store.db.execute(
        "SELECT name, created FROM raw_tables WHERE project = ? AND db = ? AND name > ? "
        "ORDER BY name LIMIT ?",
        (ctx.project, db, after, limit + 1),
    ).fetchall()
    return Reply(200, _page(rows, limit, lambda r: {"name": r[0], "createdTime": r[1]}))


def delete_tables(ctx: Ctx) -> Reply:
    db = ctx.params["db"]
    names = [_name(i.get("name"), 64, "Table") for i in items_of(ctx.body(), 1000)]
    if not db_exists(ctx, db):
        raise _not_found("databases", [{"name": db}])
    lost = [{"name": n} for n in names if not table_exists(ctx, db, n)]
    if lost:
        raise _not_found("tables", lost)
    store = ctx.app.store
    with store.transaction():
        for name in names:
            store.db.execute(
                "DELETE FROM raw_rows WHERE project = ? AND db = ? AND tbl = ?",
                (ctx.project, db, name),
            )
            store.db.execute(
                "DELETE FROM raw_tables WHERE project = ? AND db = ? AND name = ?",
                (ctx.project, db, name),
            )
    return Reply(200, {})


def insert_rows(ctx: Ctx) -> Reply:
    db = _name(ctx.params["db"], 32, "Database")
    table = _name(ctx.params["table"], 64, "Table")
    items = items_of(ctx.body(), MAX_ROWS)
    now = now_ms()
    latest: dict[str, str] = {}
    for item in items:
        key = item.get("key")
        if not isinstance(key, str) or not key:
            raise bad_request("Each row needs a non-empty string key")
        if len(key) > MAX_KEY:
            raise bad_request(f"Row keys may be at most {MAX_KEY} characters")
        columns = item.get("columns")
        if not isinstance(columns, dict):
            raise bad_request(f"Row {key!r}: columns must be an object")
        encoded = dumps(columns)
        if len(encoded.encode()) > MAX_ROW_BYTES:
            raise bad_request(f"Row {key!r} is larger than 5 MiB")
        latest[key] = encoded  # the last write of a key in one request wins
    store = ctx.app.store
    with store.transaction():
        _ensure(ctx, db, table, ctx.bool_arg("ensureParent"))
        # lastUpdatedTime changes only when the content changes.
        store.db.executemany(
            "INSERT INTO raw_rows(project, db, tbl, key, columns, updated) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(project, db, tbl, key) DO UPDATE SET columns = excluded.columns, "
            "updated = excluded.updated WHERE raw_rows.columns IS NOT excluded.columns",
            [(ctx.project, db, table, k, v, now) for k, v in latest.items()],
        )
    return Reply(200, {})


def _row(row: tuple[Any, ...], columns: list[str] | None = None) -> dict[str, Any]:
    data = json.loads(row[1])
    if columns is not None:
        data = {k: v for k, v in data.items() if k in columns}
    return {"key": row[0], "columns": data, "lastUpdatedTime": row[2]}


def list_rows(ctx: Ctx) -> Reply:
    db, table = ctx.params["db"], ctx.params["table"]
    if not db_exists(ctx, db):
        raise _not_found("databases", [{"name": db}])
    if not table_exists(ctx, db, table):
        raise _not_found("tables", [{"name": table}])
    limit = limit_of(ctx.int_arg("limit"), 25, MAX_ROWS)
    # A cursor is the last key returned, or (from /cursors) a key range {"a": after, "u": until}.
    cursor = decode_cursor(ctx.arg("cursor"))
    after, until = (
        (cursor.get("a", ""), cursor.get("u")) if isinstance(cursor, dict) else (cursor or "", None)
    )
    low = ctx.int_arg("minLastUpdatedTime", 0)
    high = ctx.int_arg("maxLastUpdatedTime", 1 << 62)
    wanted = ctx.arg("columns")
    columns = None if wanted is None else [c for c in wanted.split(",") if c]
    bound = "" if until is None else "AND key <= ?"
    rows = ctx.app.store.db.execute(
        "SELECT key, columns, updated FROM raw_rows WHERE project = ? AND db = ? AND tbl = ? "
        f"AND key > ? {bound} AND updated >= ? AND updated <= ? ORDER BY key LIMIT ?",
        (ctx.project, db, table, after, *([] if until is None else [until]), low, high, limit + 1),
    ).fetchall()
    page = _page(rows, limit, lambda r: _row(r, columns))
    if until is not None and "nextCursor" in page:
        page["nextCursor"] = encode_cursor({"a": rows[limit - 1][0], "u": until})
    return Reply(200, page)


def cursors(ctx: Ctx) -> Reply:
    """Cursors that split a table into ``numberOfCursors`` key ranges, for parallel reads."""
    db, table = ctx.params["db"], ctx.params["table"]
    if not table_exists(ctx, db, table):
        raise _not_found("tables", [{"name": table}])
    count = ctx.int_arg("numberOfCursors", 10) or 10
    if not 1 <= count <= 10_000:
        raise bad_request("numberOfCursors must be between 1 and 10000")
    keys = [
        r[0]
        for r in ctx.app.store.db.execute(
            "SELECT key FROM raw_rows WHERE project = ? AND db = ? AND tbl = ? ORDER BY key",
            (ctx.project, db, table),
        )
    ]
    step = max(1, -(-len(keys) // count))
    bounds = keys[step - 1 :: step][: count - 1] if keys else []
    starts = ["", *bounds]
    ends: list[str | None] = [*bounds, None]
    items = [
        encode_cursor({"a": a, "u": u} if u is not None else {"a": a})
        for a, u in zip(starts, ends, strict=True)
    ]
    return Reply(200, {"items": items})


def get_row(ctx: Ctx) -> Reply:
    db, table, key = ctx.params["db"], ctx.params["table"], ctx.params["key"]
    if not db_exists(ctx, db):
        raise _not_found("databases", [{"name": db}])
    if not table_exists(ctx, db, table):
        raise _not_found("tables", [{"name": table}])
    row = ctx.app.store.db.execute(
        "SELECT key, columns, updated FROM raw_rows "
        "WHERE project = ? AND db = ? AND tbl = ? AND key = ?",
        (ctx.project, db, table, key),
    ).fetchone()
    if row is None:
        raise ApiError(404, f"Row {key!r} not found", missing=[{"key": key}])
    return Reply(200, _row(row))


def delete_rows(ctx: Ctx) -> Reply:
    db, table = ctx.params["db"], ctx.params["table"]
    items = items_of(ctx.body(), MAX_ROWS)
    keys = []
    for item in items:
        if not isinstance(item.get("key"), str):
            raise bad_request("Each item needs a string key")
        keys.append(item["key"])
    if not db_exists(ctx, db):
        raise _not_found("databases", [{"name": db}])
    if not table_exists(ctx, db, table):
        raise _not_found("tables", [{"name": table}])
    store = ctx.app.store
    with store.transaction():
        store.db.executemany(
            "DELETE FROM raw_rows WHERE project = ? AND db = ? AND tbl = ? AND key = ?",
            [(ctx.project, db, table, k) for k in keys],
        )
    return Reply(200, {})


def routes() -> list[Route]:
    read, write, lst = ((ACL, "READ"),), ((ACL, "WRITE"),), ((ACL, "LIST"),)
    rows = "/raw/dbs/{db}/tables/{table}/rows"
    return [
        Route("POST", "/raw/dbs", create_dbs, write),
        Route("GET", "/raw/dbs", list_dbs, lst),
        Route("POST", "/raw/dbs/delete", delete_dbs, write),
        Route("POST", "/raw/dbs/{db}/tables", create_tables, write),
        Route("GET", "/raw/dbs/{db}/tables", list_tables, lst),
        Route("POST", "/raw/dbs/{db}/tables/delete", delete_tables, write),
        Route("POST", rows, insert_rows, write),
        Route("GET", rows, list_rows, read),
        Route("POST", rows + "/delete", delete_rows, write),
        Route("GET", rows + "/{key}", get_row, read),
        Route("GET", "/raw/dbs/{db}/tables/{table}/cursors", cursors, read),
    ]
