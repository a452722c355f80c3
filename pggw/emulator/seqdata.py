"""Sequence rows: insert (overwrite by row number), list, delete."""

from __future__ import annotations

import json
from typing import Any

from pggw.emulator.errors import bad_request
from pggw.emulator.http import Ctx, Reply, Route, decode_cursor, encode_cursor, identifier, items_of
from pggw.emulator.kinds import SEQUENCES
from pggw.emulator.resources import resolve
from pggw.emulator.store import dumps

ACL = "sequencesAcl"
MAX_ROWS = 10_000
MAX_VALUES = 100_000
MAX_COLUMNS = 200
MAX_STRING = 256


def _ident(item: dict[str, Any]) -> dict[str, Any]:
    return identifier({k: item[k] for k in ("id", "externalId") if k in item})


def _check(column: dict[str, Any], value: Any, row: int) -> Any:
    if value is None:
        return None
    kind = column["valueType"]
    label = f"row {row}, column {column['externalId']!r}"
    if kind == "STRING":
        if not isinstance(value, str):
            raise bad_request(f"{label}: expected a string")
        if len(value) > MAX_STRING:
            raise bad_request(f"{label}: strings may be at most {MAX_STRING} characters")
    elif kind == "LONG":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f"{label}: expected an integer")
    else:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"{label}: expected a number")
        if not -1e100 <= value <= 1e100:
            raise bad_request(f"{label}: value outside [-1e100, 1e100]")
    return value


def insert(ctx: Ctx) -> Reply:
    items = items_of(ctx.body(), 1000)
    sequences = resolve(ctx, SEQUENCES, [_ident(i) for i in items])
    total_rows = total_values = 0
    writes: list[tuple[int, int, dict[str, Any]]] = []
    for item, seq in zip(items, sequences, strict=True):
        columns = item.get("columns")
        rows = item.get("rows")
        if not isinstance(columns, list) or not columns or not isinstance(rows, list):
            raise bad_request("Each item needs columns (column externalIds) and rows")
        if len(columns) > MAX_COLUMNS:
            raise bad_request(f"At most {MAX_COLUMNS} columns per item")
        by_xid = {c["externalId"]: c for c in seq["columns"]}
        unknown = [c for c in columns if c not in by_xid]
        if unknown:
            raise bad_request(f"Unknown column(s) in sequence {seq['id']}: {unknown}")
        total_rows += len(rows)
        total_values += len(rows) * len(columns)
        for row in rows:
            number = row.get("rowNumber") if isinstance(row, dict) else None
            values = row.get("values") if isinstance(row, dict) else None
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise bad_request("rowNumber must be a non-negative integer")
            if not isinstance(values, list) or len(values) != len(columns):
                raise bad_request(f"Row {number}: expected {len(columns)} values")
            checked = {
                c: _check(by_xid[c], v, number) for c, v in zip(columns, values, strict=True)
            }
            writes.append((seq["id"], number, checked))
    if total_rows > MAX_ROWS:
        raise bad_request(f"At most {MAX_ROWS} rows per request")
    if total_values > MAX_VALUES:
        raise bad_request(f"At most {MAX_VALUES} values per request")
    store = ctx.app.store
    with store.transaction():
        for seq_id, number, values in writes:
            old = store.db.execute(
                "SELECT vals FROM sequence_rows WHERE seq_id = ? AND row_number = ?",
                (seq_id, number),
            ).fetchone()
            merged = {**(json.loads(old[0]) if old else {}), **values}
            store.db.execute(
                "INSERT OR REPLACE INTO sequence_rows(seq_id, row_number, vals) VALUES (?, ?, ?)",
                (seq_id, number, dumps(merged)),
            )
    return Reply(200, {})


def list_rows(ctx: Ctx) -> Reply:
    body = ctx.body()
    seq = resolve(ctx, SEQUENCES, [_ident(body)])[0]
    start = body.get("start", 0)
    end = body.get("end")
    limit = body.get("limit", 100)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_ROWS:
        raise bad_request(f"limit must be between 1 and {MAX_ROWS}")
    cursor = decode_cursor(body.get("cursor"))
    if cursor is not None:
        start = max(start, int(cursor))
    wanted = body.get("columns") or [c["externalId"] for c in seq["columns"]]
    by_xid = {c["externalId"]: c for c in seq["columns"]}
    unknown = [c for c in wanted if c not in by_xid]
    if unknown:
        raise bad_request(f"Unknown column(s): {unknown}")
    rows = ctx.app.store.db.execute(
        "SELECT row_number, vals FROM sequence_rows WHERE seq_id = ? AND row_number >= ? "
        "AND row_number < ? ORDER BY row_number LIMIT ?",
        (seq["id"], start, end if end is not None else 1 << 62, limit + 1),
    ).fetchall()
    out: dict[str, Any] = {
        "id": seq["id"],
        "columns": [
            {k: by_xid[c][k] for k in ("externalId", "name", "valueType") if k in by_xid[c]}
            for c in wanted
        ],
        "rows": [],
    }
    if seq.get("externalId") is not None:
        out["externalId"] = seq["externalId"]
    for number, vals in rows[:limit]:
        data = json.loads(vals)
        out["rows"].append({"rowNumber": number, "values": [data.get(c) for c in wanted]})
    if len(rows) > limit:
        out["nextCursor"] = encode_cursor(rows[limit][0])
    return Reply(200, out)


def delete(ctx: Ctx) -> Reply:
    items = items_of(ctx.body(), 1000)
    sequences = resolve(ctx, SEQUENCES, [_ident(i) for i in items])
    pairs: list[tuple[int, int]] = []
    for item, seq in zip(items, sequences, strict=True):
        rows = item.get("rows")
        if not isinstance(rows, list) or any(
            isinstance(r, bool) or not isinstance(r, int) for r in rows
        ):
            raise bad_request("rows must be a list of row numbers")
        pairs.extend((seq["id"], r) for r in rows)
    if len(pairs) > MAX_ROWS:
        raise bad_request(f"At most {MAX_ROWS} rows per request")
    store = ctx.app.store
    with store.transaction():
        store.db.executemany("DELETE FROM sequence_rows WHERE seq_id = ? AND row_number = ?", pairs)
    return Reply(200, {})


def routes() -> list[Route]:
    return [
        Route("POST", "/sequences/data", insert, ((ACL, "WRITE"),)),
        Route("POST", "/sequences/data/list", list_rows, ((ACL, "READ"),)),
        Route("POST", "/sequences/data/delete", delete, ((ACL, "WRITE"),)),
    ]
