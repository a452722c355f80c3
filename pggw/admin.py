"""``pggw-admin``: manage local users, and look at or drain a running gateway."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from pggw.config import Config, env_name


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
    else:
        pw = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Again: ") != pw:
            raise SystemExit("pggw-admin: passwords do not match")
    if not pw:
        raise SystemExit("pggw-admin: empty password")
    return pw


def cmd_adduser(args: argparse.Namespace) -> int:
    from pggw.credentials.users import UserStore
    from pggw.wire.auth import make_verifier, md5_hash

    password = _read_password(args)
    store = UserStore(args.data_dir)
    try:
        store.add(
            args.name,
            scram=make_verifier(password).to_string(),
            md5=md5_hash(args.name, password) if args.md5 else None,
            replace=args.replace,
        )
    except ValueError as e:
        print(f"pggw-admin: {e}", file=sys.stderr)
        return 1
    print(f"user {args.name} added")
    return 0


def cmd_deluser(args: argparse.Namespace) -> int:
    from pggw.credentials.users import UserStore

    if not UserStore(args.data_dir).delete(args.name):
        print(f"pggw-admin: no user {args.name!r}", file=sys.stderr)
        return 1
    print(f"user {args.name} deleted")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from pggw.credentials.users import UserStore

    users = UserStore(args.data_dir).list()
    print(f"{'username':<24} {'kind':<6} {'auth':<12} {'project':<16} created")
    for u in users:
        auth = "scram+md5" if u.md5 else "scram"
        created = datetime.fromtimestamp(u.created_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        print(f"{u.username:<24} {u.kind:<6} {auth:<12} {u.project or '-':<16} {created}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from pggw.ops import cli

    fallback = None
    if args.token is None:  # the admin token, as on the gateway's host
        fallback = os.environ.get(cli.ADMIN_TOKEN_ENV) or cli.read_admin_token(args.data_dir)
    return cli.status(args.http_url.rstrip("/"), token=args.token, watch_mode=args.watch,
                      as_json=args.json, interval=args.interval, fallback_token=fallback)


def cmd_drain(args: argparse.Namespace) -> int:
    from pggw.ops import cli

    return cli.drain(args.http_url.rstrip("/"), token=args.token, wait=not args.no_wait,
                     timeout=args.timeout, interval=args.interval)


def _http_options(p: argparse.ArgumentParser) -> None:
    from pggw.ops.cli import default_http_url

    p.add_argument("--http-url", default=default_http_url(),
                   help="the gateway's HTTP endpoint (default: $PGGW_HTTP_URL, else derived "
                        "from $PGGW_HTTP_ENDPOINT, else http://127.0.0.1:8080)")
    p.add_argument("--token", default=os.environ.get("PGGW_TOKEN") or None,
                   help="bearer token for per-user detail: a CDF access token (shows the "
                        "gateway users of its identity and project) or the gateway's admin "
                        "token (shows all); default $PGGW_TOKEN, else the admin token from "
                        "$PGGW_ADMIN_TOKEN or <data-dir>/admin.token when readable")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between polls")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pggw-admin", description=__doc__)
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get(env_name("data-dir"), str(Config.data_dir))),
        help="the gateway's data directory (default: $PGGW_DATA_DIR or ./pggw-data)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("adduser", help="add a local user")
    a.add_argument("name")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    a.add_argument("--md5", action="store_true",
                   help="also store an md5 hash (weaker; for --auth md5)")
    a.add_argument("--replace", action="store_true", help="replace an existing user's password")
    a.set_defaults(func=cmd_adduser)
    d = sub.add_parser("deluser", help="delete a user")
    d.add_argument("name")
    d.set_defaults(func=cmd_deluser)
    u = sub.add_parser("users", help="list users (never their secrets)")
    u.set_defaults(func=cmd_users)
    s = sub.add_parser("status", help="backlog and uploader state of a running gateway")
    _http_options(s)
    s.add_argument("--watch", action="store_true",
                   help="live progress of the drain: rows/s, rows left, ETA (Ctrl-C stops)")
    s.add_argument("--json", action="store_true", help="print /status as JSON")
    s.set_defaults(func=cmd_status)
    dr = sub.add_parser(
        "drain", help="stop accepting connections and wait until the WAL is empty",
        description="Ask the gateway (POST /admin/drain, loopback only) to stop accepting "
                    "connections and close sessions as their transactions end, then wait "
                    "until every acknowledged row has left the WAL. Run it on the gateway's "
                    "host (kubectl exec) before removing a replica or its volume.")
    _http_options(dr)
    dr.add_argument("--timeout", type=float, default=None,
                    help="give up after this many seconds (exit status 2)")
    dr.add_argument("--no-wait", action="store_true", help="start draining and return")
    dr.set_defaults(func=cmd_drain)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
