"""Who sees which users in /status, against a real daemon and an emulator with several CDF
identities in two projects (the credentials tests' emulator): no token → totals; a CDF
token → only the gateway users of its own identity (or of its project, with
postgresGatewayAcl:READ); a token of another project → totals; the admin token → all; a
token CDF refuses → 401. And `pggw-admin status --token` shows the same table."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from ops_testlib import admin_token, http, status

from tests.conftest import Daemon
from tests.integration.credentials.credharness import (
    Emulator,
    GatewayApi,
    create_cc,
    start_gateway,
)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    e = Emulator(tmp_path_factory.mktemp("accessemu") / "emulator")
    e.start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def daemon(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_gateway(tmp_path_factory.mktemp("accessgw"), emu)  # local user alice
    yield d
    d.stop()


@pytest.fixture(scope="module")
def users(daemon: Daemon, emu: Emulator) -> dict[str, set[str]]:
    """Gateway users in project plant: two bound to plant-writer ("A"), one to
    plant-noassets ("B")."""
    api = GatewayApi(daemon)
    a = {create_cc(api, emu, "plant-writer")["username"] for _ in range(2)}
    b = {create_cc(api, emu, "plant-noassets")["username"]}
    return {"A": a, "B": b}


def names(st: dict[str, Any]) -> set[str]:
    return {u["username"] for u in st["users"]}


def test_no_token_gives_totals(daemon: Daemon, users: dict[str, set[str]]) -> None:
    st = status(daemon)
    assert "users" not in st and st["detail"] is False
    assert st["totals"]["users"] == 4  # alice, A's two, B's one
    assert st["access"] == {"viewer": "anonymous"}


def test_a_token_sees_only_its_own_identitys_users(daemon: Daemon, emu: Emulator,
                                                   users: dict[str, set[str]]) -> None:
    st = status(daemon, token=emu.token("plant-writer"))
    assert names(st) == users["A"]
    assert st["access"] == {"viewer": "cdf", "subject": "plant-writer", "projects": ["plant"]}
    assert st["totals"]["users"] == 4  # totals stay the gateway's
    assert names(status(daemon, token=emu.token("plant-noassets"))) == users["B"]


def test_gateway_reader_sees_its_projects_users(daemon: Daemon, emu: Emulator,
                                                users: dict[str, set[str]]) -> None:
    # postgresGatewayAcl:READ in plant: every gateway user of plant, not the local ones
    assert names(status(daemon, token=emu.token("plant-reader"))) == users["A"] | users["B"]


def test_foreign_project_token_gives_totals(daemon: Daemon, emu: Emulator,
                                            users: dict[str, set[str]]) -> None:
    # the daemon's own identity, administrator of project demo: nothing of plant's
    st = status(daemon, token=emu.token("daemon"))
    assert "users" not in st and st["detail"] is False and st["totals"]["users"] == 4
    assert st["access"]["viewer"] == "cdf" and "projects: demo" in st["access"]["note"]


def test_admin_token_sees_all(daemon: Daemon, users: dict[str, set[str]]) -> None:
    st = status(daemon, token=admin_token(daemon))
    assert names(st) == {"alice"} | users["A"] | users["B"]
    assert st["access"] == {"viewer": "admin"}


def test_refused_token_gets_401(daemon: Daemon, emu: Emulator) -> None:
    forged = emu.token("plant-writer")[:-4] + "AAAA"  # a bad signature
    code, headers, body = http(daemon, "/status", token=forged)
    assert code == 401, body
    assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert b"CDF does not accept the token" in body
    assert forged not in daemon.log()


def test_pggw_admin_status_with_a_cdf_token(daemon: Daemon, emu: Emulator,
                                            users: dict[str, set[str]], tmp_path: Any) -> None:
    def run(*args: str, env: dict[str, str] | None = None) -> str:
        environ = {k: v for k, v in os.environ.items()
                   if k not in ("PGGW_TOKEN", "PGGW_ADMIN_TOKEN")}
        return subprocess.run(
            [sys.executable, "-m", "pggw.admin", "--data-dir", str(tmp_path), "status",
             "--http-url", f"http://127.0.0.1:{daemon.http_port}", *args],
            capture_output=True, text=True, timeout=30, check=True,
            env={**environ, **(env or {})}).stdout

    token = emu.token("plant-writer")
    for out in (run("--token", token), run(env={"PGGW_TOKEN": token})):
        assert "USERS your CDF token may see (2 of 4; projects: plant)" in out, out
        rows = [line.split()[0] for line in out.splitlines()
                if line.startswith("pggw_") and "your CDF token" not in line]
        assert set(rows) == users["A"], out
    out = run("--token", emu.token("daemon"))
    assert "USERS 0 with rows waiting" in out and "projects: demo" in out
