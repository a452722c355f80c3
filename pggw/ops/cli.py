"""``pggw-admin status`` and ``pggw-admin drain``: read a running gateway's ``/status``.

Plain stdlib HTTP (no reactor): these are short-lived commands an operator types.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["ADMIN_TOKEN_ENV", "ADMIN_TOKEN_FILE", "default_http_url", "drain", "fetch_status",
           "format_status", "progress_line", "read_admin_token", "status", "watch"]

DEFAULT_URL = "http://127.0.0.1:8080"
#: the gateway's admin token (shows every user in /status): set in the daemon's environment,
#: else generated into <data-dir>/admin.token on its first start (see pggw.ops.access)
ADMIN_TOKEN_ENV = "PGGW_ADMIN_TOKEN"
ADMIN_TOKEN_FILE = "admin.token"


def read_admin_token(data_dir: Path) -> str | None:
    """The token in ``<data_dir>/admin.token``; None when it is missing or unreadable."""
    try:
        token = (data_dir / ADMIN_TOKEN_FILE).read_text().strip()
    except OSError:
        return None
    return token or None


def default_http_url(env: dict[str, str] | None = None) -> str:
    """``PGGW_HTTP_URL``, else derived from ``PGGW_HTTP_ENDPOINT`` (``tcp:PORT:interface=IP``),
    else ``http://127.0.0.1:8080``."""
    env = dict(os.environ) if env is None else env
    if env.get("PGGW_HTTP_URL"):
        return env["PGGW_HTTP_URL"].rstrip("/")
    endpoint = env.get("PGGW_HTTP_ENDPOINT", "")
    parts = endpoint.split(":")
    if len(parts) >= 2 and parts[0] == "tcp" and parts[1].isdigit():
        host = "127.0.0.1"
        for p in parts[2:]:
            if p.startswith("interface="):
                iface = p.split("=", 1)[1]
                if iface not in ("", "0.0.0.0", "::"):
                    host = iface
        return f"http://{host}:{parts[1]}"
    return DEFAULT_URL


class GatewayUnreachable(Exception):
    pass


def _request(url: str, *, method: str = "GET", token: str | None = None,
             timeout: float = 10.0) -> tuple[int, Any]:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    req.add_header("accept", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - operator URL
            return int(resp.status), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            body = json.loads(e.read() or b"null")
        except ValueError:
            body = None
        return int(e.code), body
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise GatewayUnreachable(f"cannot reach the gateway at {url}: {e}") from None


class TokenRefused(GatewayUnreachable):
    pass


def fetch_status(base: str, token: str | None = None) -> dict[str, Any]:
    code, body = _request(f"{base}/status", token=token)
    if code == 401:
        err = body.get("error") if isinstance(body, dict) else None
        msg = err.get("message") if isinstance(err, dict) else None
        raise TokenRefused(f"{base}/status refused the token: {msg or code} (pass the "
                           "gateway's admin token or a valid CDF access token, or none "
                           "for totals)")
    if code != 200 or not isinstance(body, dict):
        raise GatewayUnreachable(f"{base}/status answered {code}")
    return body


# -- formatting ---------------------------------------------------------------------------


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def duration(s: float | None) -> str:
    if s is None:
        return "-"
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _state(u: dict[str, Any]) -> str:
    if u["state"] == "paused":
        return f"paused: {u.get('paused_reason') or '?'}"
    if u["state"] == "backing_off":
        until = u.get("backing_off_until") or ""
        return f"backing off until {until[11:19]}" if until else "backing off"
    return str(u["state"])


def format_status(st: dict[str, Any]) -> str:
    """The readable table ``pggw-admin status`` prints."""
    w = st["wal"]
    up = st.get("uploads", {})
    lines = [
        f"pggw {st['version']} on replica {st['replica']} · {st['state']} · "
        f"{'ready' if st.get('ready') else 'not ready'} · up {duration(st['uptime_s'])} · "
        f"{st.get('connections', 0)} connection(s)",
        f"WAL   {_n(w['rows'])} rows in {_n(w['records'])} records "
        f"({human_bytes(w['bytes'])}) waiting for CDF"
        + (f" · oldest {duration(w['oldest_pending_age_s'])}" if w["rows"] else "")
        + f" · {_n(w['dead_letter_rows'])} rows rejected",
        f"      {_n(up.get('rows_uploaded', 0))} rows uploaded since start · "
        f"{up.get('rows_per_s', 0):,.1f} rows/s",
    ]
    users = st.get("users")
    t = st.get("totals", {})
    access = st.get("access") or {}
    if users is None:
        lines.append(f"USERS {t.get('users_with_backlog', 0)} with rows waiting · "
                     f"{t.get('paused', 0)} paused · {t.get('backing_off', 0)} backing off")
        if access.get("note"):
            lines.append(f"      {access['note']}")
        else:
            lines.append("      per-user detail: --token with a CDF access token or the admin "
                         "token (<data-dir>/admin.token)")
        return "\n".join(lines)
    lines.append("")
    if access.get("viewer") == "cdf":
        lines.append(f"USERS your CDF token may see ({len(users)} of {t.get('users', '?')}; "
                     f"projects: {', '.join(access.get('projects') or []) or '-'})")
    rows = [("USER", "STATE", "WAITING", "OLDEST", "REJECTED", "TABLES")]
    for u in users:
        tables = ", ".join(f"{t} ({_n(b['rows'])})" for t, b in sorted(u["backlog"].items()))
        rows.append((u["username"], _state(u), _n(u["backlog_rows"]),
                     duration(u.get("oldest_pending_age_s")), _n(u.get("rejected", 0)),
                     tables or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].rjust(widths[2]),
                 r[3].rjust(widths[3]), r[4].rjust(widths[4]), r[5]]
        lines.append("  ".join(cells).rstrip())
    errors = [(u["username"], u["last_error"]) for u in users if u.get("last_error")]
    for name, err in errors:
        lines.append(f"  {name}: last error: {err}")
    return "\n".join(lines)


class Progress:
    """Drain progress between successive ``/status`` answers: rows/s (smoothed), ETA."""

    def __init__(self) -> None:
        self.peak = 0
        self.rate: float | None = None
        self.last: tuple[float, int] | None = None

    def update(self, st: dict[str, Any], now: float) -> tuple[int, float | None]:
        remaining = int(st["wal"]["rows"])
        uploaded = int(st.get("uploads", {}).get("rows_uploaded", 0))
        self.peak = max(self.peak, remaining)
        if self.last is not None and now > self.last[0]:
            inst = max(0.0, (uploaded - self.last[1]) / (now - self.last[0]))
            self.rate = inst if self.rate is None else 0.3 * inst + 0.7 * self.rate
        self.last = (now, uploaded)
        return remaining, self.rate


def progress_line(remaining: int, peak: int, rate: float | None, width: int = 30) -> str:
    done = 1.0 if peak == 0 else max(0.0, min(1.0, 1 - remaining / peak))
    filled = int(round(done * width))
    bar = "#" * filled + "-" * (width - filled)
    eta = "-"
    if remaining == 0:
        eta = "0s"
    elif rate:
        eta = duration(remaining / rate)
    rate_s = f"{rate:,.0f}" if rate is not None else "-"
    return (f"[{bar}] {done * 100:3.0f}%  {_n(remaining)} rows left  {rate_s} rows/s  "
            f"ETA {eta}")


def watch(base: str, *, token: str | None, interval: float, until_empty: bool,
          out: IO[str], timeout: float | None = None,
          sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic,
          empty: Callable[[dict[str, Any]], bool] | None = None) -> int:
    """Print a live progress line until interrupted (or until the WAL is empty with
    ``until_empty``); 0 when done, 2 on ``timeout``."""
    is_empty = empty or (lambda st: st["wal"]["rows"] == 0 and st["wal"]["records"] == 0)
    tty = out.isatty()
    progress = Progress()
    start = clock()
    try:
        while True:
            st = fetch_status(base, token)
            remaining, rate = progress.update(st, clock())
            line = progress_line(remaining, progress.peak, rate)
            extra = f"  · {st['state']} · {st.get('connections', 0)} connection(s)"
            if tty:
                out.write("\r\x1b[2K" + line + extra)
            else:
                out.write(line + extra + "\n")
            out.flush()
            if until_empty and is_empty(st):
                if tty:
                    out.write("\n")
                return 0
            if timeout is not None and clock() - start > timeout:
                if tty:
                    out.write("\n")
                out.write(f"timed out after {duration(timeout)}; {_n(remaining)} rows still "
                          "waiting\n")
                return 2
            sleep(interval)
    except KeyboardInterrupt:
        if tty:
            out.write("\n")
        return 0


# -- commands -----------------------------------------------------------------------------


def status(base: str, *, token: str | None = None, watch_mode: bool = False,
           as_json: bool = False, interval: float = 2.0, out: IO[str] | None = None,
           fallback_token: str | None = None) -> int:
    """Print ``/status``. ``token`` (given by the operator) must be accepted;
    ``fallback_token`` (found on this host: the admin token) is used when no ``token`` is
    given, and dropped for totals if this gateway refuses it."""
    out = out or sys.stdout
    try:
        if token is None and fallback_token is not None:
            try:
                st = fetch_status(base, fallback_token)
                token = fallback_token
            except TokenRefused:
                st = fetch_status(base, None)
        else:
            st = fetch_status(base, token)
        if watch_mode:
            out.write(format_status(st) + "\n\n")
            return watch(base, token=token, interval=interval, until_empty=False, out=out)
    except GatewayUnreachable as e:
        print(f"pggw-admin: {e}", file=sys.stderr)
        return 1
    out.write((json.dumps(st, indent=2) if as_json else format_status(st)) + "\n")
    return 0


def drain(base: str, *, token: str | None = None, wait: bool = True,
          timeout: float | None = None, interval: float = 2.0,
          out: IO[str] | None = None) -> int:
    """POST /admin/drain, then wait until no session is left and the WAL is empty."""
    out = out or sys.stdout
    try:
        code, body = _request(f"{base}/admin/drain", method="POST", token=token)
        if code != 202:
            msg = body.get("error") if isinstance(body, dict) else None
            print(f"pggw-admin: drain refused ({code}): {msg or body}", file=sys.stderr)
            return 1
        out.write("draining: the gateway accepts no new connections; sessions close as their "
                  "transactions end\n")
        if not wait:
            return 0

        def empty(st: dict[str, Any]) -> bool:
            w = st["wal"]
            return bool(w["rows"] == 0 and w["records"] == 0 and w["staged_records"] == 0
                        and st.get("connections", 0) == 0)

        rc = watch(base, token=token, interval=interval, until_empty=True, out=out,
                   timeout=timeout, empty=empty)
        if rc != 0:
            return rc
        st = fetch_status(base, token)
    except GatewayUnreachable as e:
        print(f"pggw-admin: {e}", file=sys.stderr)
        return 1
    dead = st["wal"]["dead_letter_rows"]
    out.write(f"drained: the WAL of replica {st['replica']} is empty; it is safe to stop it\n")
    if dead:
        out.write(f"note: {_n(dead)} rejected row(s) stay in this replica's dead letters; "
                  "retry or discard them (pggw.retry_rejected / pggw.discard_rejected) before "
                  "deleting its volume\n")
    return 0
