"""Datapoints: insert (overwrite on timestamp), list (JSON or protobuf), latest, delete."""

from __future__ import annotations

import math
import re
import struct
import time
from typing import Any

from pggw.emulator.errors import bad_request, missing
from pggw.emulator.http import (
    Ctx,
    Reply,
    Route,
    decode_cursor,
    encode_cursor,
    identifier,
    items_of,
)
from pggw.emulator.kinds import TIMESERIES
from pggw.emulator.resources import find_by_instance_id, raise_if_repeated

MIN_TS = -2208988800000
MAX_TS = 4102444799999
MAX_VALUE = 1e100
MAX_DPS_PER_REQUEST = 100_000
MAX_SERIES_PER_REQUEST = 10_000
MAX_STRING = 255

GOOD, UNCERTAIN, BAD = 0, 0x40000000, 0x80000000
SYMBOLS = {"good": GOOD, "uncertain": UNCERTAIN, "bad": BAD}
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
ACL = "timeSeriesAcl"


def lookup_series(
    ctx: Ctx,
    idents: list[dict[str, Any]],
    ignore_unknown: bool = False,
    allow_repeats: bool = False,
) -> list[dict[str, Any] | None]:
    """Time series per identifier, in order; 400 ``missing`` for unknown ones unless ignored."""
    store = ctx.app.store
    out: list[dict[str, Any] | None] = []
    lost: list[dict[str, Any]] = []
    for ident in idents:
        if "id" in ident:
            ts = store.get_by_id(ctx.project, "timeseries", ident["id"])
        elif "externalId" in ident:
            ts = store.get_by_external_id(ctx.project, "timeseries", ident["externalId"])
        else:
            ts = find_by_instance_id(ctx, TIMESERIES, ident["instanceId"])
        if ts is None:
            lost.append(ident)
        out.append(ts)
    if lost and not ignore_unknown:
        raise missing(lost, "Time series not found.")
    if not allow_repeats:
        raise_if_repeated(idents, out)
    return out


def status_code(raw: Any) -> int:
    if not isinstance(raw, dict):
        raise bad_request("status must be an object with code and/or symbol")
    code = raw.get("code")
    symbol = raw.get("symbol")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int) or code < 0):
        raise bad_request("status.code must be a non-negative integer")
    if symbol is not None:
        if not isinstance(symbol, str):
            raise bad_request("status.symbol must be a string")
        known = SYMBOLS.get(symbol.lower())
        if code is None:
            if known is None:
                raise bad_request(f"Unknown status symbol {symbol!r}; give its code too")
            code = known
        elif known is not None and known != code:
            raise bad_request(f"status code {code} does not match symbol {symbol!r}")
    if code is None:
        return GOOD
    if code >> 30 > 2:
        raise bad_request(f"Invalid status code {code}")
    return int(code)


def insert(ctx: Ctx) -> Reply:
    items = items_of(ctx.body(), MAX_SERIES_PER_REQUEST)
    idents = []
    total = 0
    for item in items:
        extra = set(item) - {"id", "externalId", "instanceId", "datapoints"}
        if extra:
            raise bad_request(f"Unrecognized field(s) in datapoints item: {sorted(extra)}")
        idents.append(
            identifier({k: v for k, v in item.items() if k != "datapoints"}, allow_instance=True)
        )
        dps = item.get("datapoints")
        if not isinstance(dps, list):
            raise bad_request("Each item needs a datapoints list")
        total += len(dps)
    if total > MAX_DPS_PER_REQUEST:
        raise bad_request(
            f"Too many datapoints in one request: {total} (at most {MAX_DPS_PER_REQUEST})"
        )
    series = lookup_series(ctx, idents)
    ctx.who.require_data_sets(ACL, "WRITE", [ts for ts in series if ts is not None])
    rows: list[tuple[int, int, Any, int]] = []
    for item, ts in zip(items, series, strict=True):
        assert ts is not None
        rows.extend(_rows(ts, item["datapoints"]))
    store = ctx.app.store
    with store.transaction():
        store.insert_datapoints(rows)
    return Reply(200, {})


def _rows(ts: dict[str, Any], dps: list[Any]) -> list[tuple[int, int, Any, int]]:
    ts_id = ts["id"]
    is_string = bool(ts.get("isString"))
    rows: list[tuple[int, int, Any, int]] = []
    append = rows.append
    for dp in dps:
        try:
            t = dp["timestamp"]
        except (TypeError, KeyError):
            raise bad_request("Each datapoint must be an object with a timestamp") from None
        if type(t) is not int:
            if isinstance(t, float) and t.is_integer():
                t = int(t)
            else:
                raise bad_request(f"Datapoint timestamp must be an integer, got {t!r}")
        if not MIN_TS <= t <= MAX_TS:
            raise bad_request(
                f"Datapoint timestamp {t} is outside the valid range [{MIN_TS}, {MAX_TS}]"
            )
        code = status_code(dp["status"]) if "status" in dp else GOOD
        value = dp.get("value")
        if is_string:
            if value is None:
                if code < BAD:
                    raise bad_request(f"Datapoint at {t} has no value")
            elif type(value) is not str:
                raise bad_request(
                    f"Time series {_name(ts)} is a string time series; "
                    f"value {value!r} is not a string"
                )
            elif len(value) > MAX_STRING:
                raise bad_request(f"String datapoint values may be at most {MAX_STRING} characters")
        else:
            vt = type(value)
            if vt is float or vt is int:
                if not -MAX_VALUE <= value <= MAX_VALUE:
                    if code < BAD or not math.isinf(value):
                        raise bad_request(
                            f"Datapoint value {value!r} is outside the valid range [-1e100, 1e100]"
                        )
                    value = "Infinity" if value > 0 else "-Infinity"
                elif value != value:  # NaN
                    if code < BAD:
                        raise bad_request("NaN is only allowed for datapoints with a bad status")
                    value = "NaN"
            elif value is None:
                if code < BAD:
                    raise bad_request(f"Datapoint at {t} has no value")
            elif vt is str and value in NON_FINITE:
                if code < BAD:
                    raise bad_request(f"{value} is only allowed for datapoints with a bad status")
            else:
                raise bad_request(
                    f"Time series {_name(ts)} is numeric; value {value!r} is not a number"
                )
        append((ts_id, t, value, code))
    return rows


def _name(ts: dict[str, Any]) -> str:
    return repr(ts.get("externalId") or ts["id"])


UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
AGO = re.compile(r"^(\d+)(ms|s|m|h|d|w)-(ago|ahead)$")


def parse_time(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool):
        raise bad_request("Invalid time")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        now = int(time.time() * 1000)
        if value == "now":
            return now
        found = AGO.match(value)
        if found:
            delta = int(found.group(1)) * UNITS_MS[found.group(2)]
            return now - delta if found.group(3) == "ago" else now + delta
        try:
            return int(value)
        except ValueError:
            pass
    raise bad_request(f"Invalid time: {value!r}")


def list_datapoints(ctx: Ctx) -> Reply:
    body = ctx.body()
    items = items_of(body, 100)
    if body.get("aggregates") or any(i.get("aggregates") for i in items):
        raise bad_request("Aggregates are not supported by the pggw emulator")
    idents = [identifier(_ident_part(i), allow_instance=True) for i in items]
    series = lookup_series(
        ctx, idents, bool(body.get("ignoreUnknownIds", False)), allow_repeats=True
    )
    total_limit = 0
    out: list[dict[str, Any]] = []
    store = ctx.app.store
    for item, ts in zip(items, series, strict=True):
        if ts is None:
            continue
        q = {**{k: v for k, v in body.items() if k != "items"}, **item}
        start = parse_time(q.get("start"), 0)
        end = parse_time(q.get("end"), int(time.time() * 1000) + 1)
        limit = q.get("limit", 100)
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int)
            or not -1 <= limit <= MAX_DPS_PER_REQUEST
        ):
            raise bad_request(f"limit must be between 0 and {MAX_DPS_PER_REQUEST}")
        if limit == -1:
            limit = MAX_DPS_PER_REQUEST
        total_limit += limit
        if total_limit > MAX_DPS_PER_REQUEST:
            raise bad_request(f"The sum of limits may be at most {MAX_DPS_PER_REQUEST}")
        cursor = decode_cursor(q.get("cursor"))
        if cursor is not None:
            start = max(start, int(cursor))
        include_status = bool(q.get("includeStatus", False))
        ignore_bad = bool(q.get("ignoreBadDataPoints", True))
        uncertain_bad = bool(q.get("treatUncertainAsBad", True))
        max_status = None
        if ignore_bad:
            max_status = UNCERTAIN if uncertain_bad else BAD
        dps = store.datapoints(ts["id"], start, end, limit + 1, max_status=max_status)
        next_cursor = None
        if len(dps) > limit:
            next_cursor = encode_cursor(dps[limit][0])
            dps = dps[:limit]
        if q.get("includeOutsidePoints"):
            before = store.datapoints(ts["id"], MIN_TS, start, 1, descending=True)
            after = store.datapoints(ts["id"], end, MAX_TS + 1, 1)
            dps = before + dps + after
        out.append(_series_result(ts, dps, include_status, next_cursor))
    if "application/protobuf" in ctx.headers.get("accept", ""):
        return Reply(200, raw=encode_list_response(out), content_type="application/protobuf")
    return Reply(200, {"items": [_json_result(r) for r in out]})


def _ident_part(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in ("id", "externalId", "instanceId") if k in item}


def _series_result(
    ts: dict[str, Any],
    dps: list[tuple[int, Any, int]],
    include_status: bool,
    next_cursor: str | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": ts["id"],
        "isString": bool(ts.get("isString")),
        "isStep": bool(ts.get("isStep")),
        # Not in the June 2025 spec, but newer CDF sends it and cognite-sdk 8 reads it.
        "type": "string" if ts.get("isString") else "numeric",
        "dps": dps,
        "includeStatus": include_status,
    }
    for key in ("externalId", "instanceId", "unit", "unitExternalId"):
        if ts.get(key) is not None:
            result[key] = ts[key]
    if next_cursor is not None:
        result["nextCursor"] = next_cursor
    return result


def _json_result(result: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in result.items() if k not in ("dps", "includeStatus")}
    include_status = result["includeStatus"]
    points = []
    for t, v, code in result["dps"]:
        point: dict[str, Any] = {"timestamp": t}
        if v is not None:
            point["value"] = v
        if include_status and code:
            point["status"] = _status(code)
        points.append(point)
    out["datapoints"] = points
    return out


def _status(code: int) -> dict[str, Any]:
    status: dict[str, Any] = {"code": code}
    for name, value in SYMBOLS.items():
        if value == code:
            status["symbol"] = name.capitalize()
    return status


def latest(ctx: Ctx) -> Reply:
    body = ctx.body()
    items = items_of(body, 100)
    idents = [identifier(_ident_part(i), allow_instance=True) for i in items]
    series = lookup_series(
        ctx, idents, bool(body.get("ignoreUnknownIds", False)), allow_repeats=True
    )
    out = []
    store = ctx.app.store
    for item, ts in zip(items, series, strict=True):
        if ts is None:
            continue
        before = parse_time(item.get("before"), int(time.time() * 1000) + 1)
        include_status = bool(item.get("includeStatus", body.get("includeStatus", False)))
        ignore_bad = bool(item.get("ignoreBadDataPoints", body.get("ignoreBadDataPoints", True)))
        max_status = UNCERTAIN if ignore_bad else None
        rows = store.datapoints(ts["id"], MIN_TS, before, 1, descending=True, max_status=max_status)
        out.append(_json_result(_series_result(ts, rows, include_status, None)))
    return Reply(200, {"items": out})


def delete(ctx: Ctx) -> Reply:
    items = items_of(ctx.body(), MAX_SERIES_PER_REQUEST)
    idents = []
    for item in items:
        idents.append(identifier(_ident_part(item), allow_instance=True))
        begin, end = item.get("inclusiveBegin"), item.get("exclusiveEnd")
        if not isinstance(begin, int) or isinstance(begin, bool):
            raise bad_request("inclusiveBegin is required and must be an integer")
        if end is not None and (not isinstance(end, int) or isinstance(end, bool)):
            raise bad_request("exclusiveEnd must be an integer")
    series = lookup_series(ctx, idents, allow_repeats=True)
    store = ctx.app.store
    with store.transaction():
        for item, ts in zip(items, series, strict=True):
            assert ts is not None
            end = item.get("exclusiveEnd")
            store.delete_datapoints(
                ts["id"], item["inclusiveBegin"], MAX_TS + 1 if end is None else end
            )
    return Reply(200, {})


# -- protobuf (the cognite-sdk asks for ``accept: application/protobuf``) ------------------


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _field_double(number: int, value: float) -> bytes:
    return _varint(number << 3 | 1) + struct.pack("<d", value)


def _proto_status(code: int) -> bytes:
    return _field_varint(1, code)


def encode_list_response(results: list[dict[str, Any]]) -> bytes:
    """``DataPointListResponse`` from cognite-sdk's ``data_point_list_response.proto``."""
    out = bytearray()
    for result in results:
        item = bytearray(_field_varint(1, result["id"]))
        if "externalId" in result:
            item += _field_bytes(2, result["externalId"].encode())
        if "instanceId" in result:
            iid = result["instanceId"]
            item += _field_bytes(
                11,
                _field_bytes(1, iid["space"].encode())
                + _field_bytes(2, iid["externalId"].encode()),
            )
        item += _field_varint(6, int(result["isString"]))
        item += _field_varint(7, int(result["isStep"]))
        if "unit" in result:
            item += _field_bytes(8, result["unit"].encode())
        if "nextCursor" in result:
            item += _field_bytes(9, result["nextCursor"].encode())
        if "unitExternalId" in result:
            item += _field_bytes(10, result["unitExternalId"].encode())
        points = bytearray()
        is_string = result["isString"]
        for t, v, code in result["dps"]:
            point = bytearray(_field_varint(1, t))
            if v is None:
                point += _field_varint(4, 1)
            elif is_string:
                point += _field_bytes(2, v.encode())
            else:
                point += _field_double(2, NON_FINITE[v] if isinstance(v, str) else float(v))
            if code:
                point += _field_bytes(3, _proto_status(code))
            points += _field_bytes(1, bytes(point))
        item += _field_bytes(4 if is_string else 3, bytes(points))
        out += _field_bytes(1, bytes(item))
    return bytes(out)


def routes() -> list[Route]:
    return [
        Route("POST", "/timeseries/data", insert, ((ACL, "WRITE"),)),
        Route("POST", "/timeseries/data/list", list_datapoints, ((ACL, "READ"),)),
        Route("POST", "/timeseries/data/latest", latest, ((ACL, "READ"),)),
        Route("POST", "/timeseries/data/delete", delete, ((ACL, "WRITE"),)),
    ]
