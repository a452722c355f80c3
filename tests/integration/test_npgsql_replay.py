"""Npgsql (and so Azure Data Factory) sends one multi-statement Query on its first
connection; replay it byte for byte, with Unix and Windows line endings."""

from __future__ import annotations

import pytest

from pggw.wire.types import TYPES_BY_OID
from tests.conftest import Daemon
from tests.rawpg import RawClient
from tests.unit.sql.test_catalog_clients import npgsql_batch


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_npgsql_type_loading_batch(gateway: Daemon, newline: str) -> None:
    c = RawClient("127.0.0.1", gateway.port)
    try:
        params = c.startup(gateway.user, gateway.password, client_encoding="UTF8")
        assert params["integer_datetimes"] == "on"
        reply = c.query(npgsql_batch(newline))
        assert not reply.errors, reply.errors
        assert reply.status == "I"
        version, types, composites, enums = reply.results
        # 1. SELECT version(): one non-null string.
        assert version.rows[0][0] and version.rows[0][0].startswith(b"PostgreSQL 15")
        # 2. The type-loading query: (nspname, oid, typname, typtype, typnotnull, elemtypoid).
        assert [name for name, _ in types.columns][:3] == ["nspname", "oid", "typname"]
        by_oid = {int(r[1]): r for r in types.rows}  # type: ignore[arg-type]
        for oid in (16, 20, 23, 25, 701, 1043, 1184, 114, 3802, 1016, 1009):
            assert oid in by_oid, oid
        seen: set[int] = set()
        for row in types.rows:
            oid, typtype = int(row[1]), row[3]  # type: ignore[arg-type]
            assert typtype in (b"b", b"a", b"r", b"m", b"e", b"d", b"p", b"c"), row
            if typtype == b"a":
                elem = int(row[5])  # type: ignore[arg-type]
                assert elem in seen, row  # Npgsql needs element types before their arrays
                if oid in TYPES_BY_OID:
                    assert TYPES_BY_OID[oid].element_oid == elem
            seen.add(oid)
        # 3. and 4.: no composite types, no enums.
        assert composites.rows == [] and enums.rows == []
        # The connection stays usable afterwards.
        assert c.query("SELECT 1").results[0].rows == [[b"1"]]
    finally:
        c.close()
