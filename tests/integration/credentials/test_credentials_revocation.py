"""Identities over time: a revoked session cannot log in (28000), while an unreachable CDF
never blocks logins or ingestion, and rows written meanwhile arrive once CDF is back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from credharness import (
    Emulator,
    GatewayApi,
    asset_in_cdf,
    connect,
    create_cc,
    start_gateway,
    wait_for,
)

from tests.conftest import Daemon

# Re-check identities at every login (the default is every few minutes).
RECHECK_NOW = {"PGGW_IDENTITY_RECHECK_SECONDS": "0"}


@pytest.fixture
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    e = Emulator(tmp_path_factory.mktemp("revemu") / "emulator")
    e.start()
    yield e
    e.stop()


@pytest.fixture
def daemon(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_gateway(tmp_path_factory.mktemp("revgw"), emu, env=RECHECK_NOW)
    yield d
    d.stop()


def create_nonce_user(api: GatewayApi, emu: Emulator) -> tuple[int, dict[str, Any]]:
    session_id, nonce = emu.nonce("plant-admin", "plant-writer")
    a = api.call("POST", api.gw("plant"), {"items": [{"credentials": {"nonce": nonce}}]},
                 token=emu.token("plant-admin"))
    assert a.status == 200, a.body
    return session_id, a.body["items"][0]


def login_error(daemon: Daemon, user: str, password: str) -> str | None:
    try:
        with connect(daemon, user, password) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as e:
        return str(e)
    return None


def test_revoked_session_cannot_log_in(emu: Emulator, daemon: Daemon) -> None:
    api = GatewayApi(daemon)
    session_id, user = create_nonce_user(api, emu)
    assert login_error(daemon, user["username"], user["password"]) is None
    r = emu.call("POST", "/sessions/revoke", emu.token("plant-admin"),
                 {"items": [{"id": session_id}]})
    assert r.status_code == 200, r.text
    # the next login's background re-check learns of it; logins fail from then on
    error = wait_for(lambda: login_error(daemon, user["username"], user["password"]),
                     timeout=20)
    assert "no longer accepts the credentials" in error
    assert login_error(daemon, user["username"], user["password"]) == error
    # rotating the credentials brings the user back, with the same password
    _, nonce = emu.nonce("plant-admin", "plant-writer")
    a = api.call("POST", api.gw("plant", "/update"), {"items": [{
        "username": user["username"], "update": {"credentials": {"set": {"nonce": nonce}}}}]},
        token=emu.token("plant-admin"))
    assert a.status == 200, a.body
    assert login_error(daemon, user["username"], user["password"]) is None


def test_cdf_down_never_blocks_login_or_ingestion(emu: Emulator, daemon: Daemon) -> None:
    api = GatewayApi(daemon)
    _, session_user = create_nonce_user(api, emu)
    cc_user = create_cc(api, emu)
    emu.stop()
    xids = []
    for user in (session_user, cc_user):
        for _ in range(3):  # each login re-checks in the background, and fails to reach CDF
            assert login_error(daemon, user["username"], user["password"]) is None
        xid = f"offline-{uuid.uuid4().hex[:8]}"
        with connect(daemon, user["username"], user["password"]) as conn:
            cur = conn.execute("INSERT INTO assets (external_id, name) VALUES (%s, 'x')",
                               (xid,))
            assert cur.statusmessage == "INSERT 0 1"
        xids.append(xid)
    # the API cannot verify anything meanwhile: 503, not a wrong answer
    a = api.call("GET", api.gw("plant"), token="whatever")
    assert a.status == 503
    emu.start(emu.port)
    for xid in xids:
        assert wait_for(lambda x=xid: asset_in_cdf(emu, x), timeout=60)
    for user in (session_user, cc_user):
        assert login_error(daemon, user["username"], user["password"]) is None
