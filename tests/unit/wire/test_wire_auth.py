from __future__ import annotations

import base64
import hashlib

import pytest
from scramp import ScramClient

from pggw.wire.auth import (
    ScramServer,
    ScramVerifier,
    check_cleartext,
    check_md5,
    make_verifier,
    md5_hash,
)
from pggw.wire.errors import PgError

VERIFIER = make_verifier("s3cret", iterations=4096)


def exchange(server: ScramServer, password: str, username: str = "alice") -> ScramClient:
    client = ScramClient(["SCRAM-SHA-256"], username, password)
    first = server.first(client.get_client_first().encode())
    client.set_server_first(first.decode())
    final = server.final(client.get_client_final().encode())
    client.set_server_final(final.decode())  # verifies the server signature
    return client


def test_success_with_scramp_client() -> None:
    exchange(ScramServer("alice", VERIFIER), "s3cret")


def test_client_first_username_ignored() -> None:
    exchange(ScramServer("alice", VERIFIER), "s3cret", username="*")
    exchange(ScramServer("alice", VERIFIER), "s3cret", username="somebody-else")


def libpq_style(server: ScramServer, password: str) -> bytes:
    """A hand-rolled client sending an empty user name (n=), as libpq does."""
    import hmac
    bare = "n=,r=fyko+d2lbbFgONRv9qkxdawL"
    sf = server.first(("n,," + bare).encode()).decode()
    attrs = dict(a.split("=", 1) for a in sf.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    ck = hmac.digest(salted, b"Client Key", "sha256")
    without_proof = f"c=biws,r={attrs['r']}"
    auth = f"{bare},{sf},{without_proof}".encode()
    sig = hmac.digest(hashlib.sha256(ck).digest(), auth, "sha256")
    proof = bytes(a ^ b for a, b in zip(ck, sig, strict=True))
    final = server.final(f"{without_proof},p={base64.b64encode(proof).decode()}".encode())
    sk = hmac.digest(salted, b"Server Key", "sha256")
    assert final == b"v=" + base64.b64encode(hmac.digest(sk, auth, "sha256"))
    return final


def test_libpq_empty_username() -> None:
    libpq_style(ScramServer("alice", VERIFIER), "s3cret")
    with pytest.raises(PgError):
        libpq_style(ScramServer("alice", VERIFIER), "nope")


def test_wrong_password() -> None:
    with pytest.raises(PgError) as ei:
        exchange(ScramServer("alice", VERIFIER), "wrong")
    e = ei.value
    assert (e.sqlstate, e.severity) == ("28P01", "FATAL")
    assert e.message == 'password authentication failed for user "alice"'


def test_unknown_user_same_shape_and_stable_salt() -> None:
    s1 = ScramServer("ghost", None)
    c = ScramClient(["SCRAM-SHA-256"], "ghost", "anything")
    first = s1.first(c.get_client_first().encode()).decode()
    attrs = dict(a.split("=", 1) for a in first.split(","))
    assert attrs["i"] == "4096" and len(base64.b64decode(attrs["s"])) == 16
    c.set_server_first(first)
    with pytest.raises(PgError) as ei:
        s1.final(c.get_client_final().encode())
    assert ei.value.sqlstate == "28P01"
    assert ei.value.message == 'password authentication failed for user "ghost"'
    # the fake salt is the same on every attempt (so probing does not reveal existence)
    s2 = ScramServer("ghost", None)
    c2 = ScramClient(["SCRAM-SHA-256"], "ghost", "x")
    first2 = s2.first(c2.get_client_first().encode()).decode()
    assert dict(a.split("=", 1) for a in first2.split(","))["s"] == attrs["s"]


def test_gs2_flags() -> None:
    server = ScramServer("alice", VERIFIER)
    out = server.first(b"y,,n=,r=abcdefgh")
    assert out.startswith(b"r=abcdefgh")
    with pytest.raises(PgError) as ei:
        ScramServer("alice", VERIFIER).first(b"p=tls-server-end-point,,n=,r=abc")
    assert ei.value.sqlstate == "28000"
    with pytest.raises(PgError) as ei:
        ScramServer("alice", VERIFIER).first(b"n,a=bob,n=,r=abc")
    assert ei.value.sqlstate == "08P01"
    with pytest.raises(PgError):
        ScramServer("alice", VERIFIER).first(b"garbage")


def test_final_malformed_and_nonce_mismatch() -> None:
    server = ScramServer("alice", VERIFIER)
    server.first(b"n,,n=,r=abc")
    with pytest.raises(PgError) as ei:
        server.final(b"c=biws,r=wrongnonce,p=" + base64.b64encode(bytes(32)))
    assert ei.value.sqlstate == "08P01"
    s2 = ScramServer("alice", VERIFIER)
    s2.first(b"n,,n=,r=abc")
    with pytest.raises(PgError):
        s2.final(b"no proof here")


def test_channel_binding_data_must_match_header() -> None:
    server = ScramServer("alice", VERIFIER, nonce=b"x" * 18)
    first = server.first(b"y,,n=,r=abc").decode()
    nonce = first.split(",")[0][2:]
    # client claims 'n' in c= while it sent 'y' in client-first: downgrade tampering
    with pytest.raises(PgError):
        server.final(f"c=biws,r={nonce},p=".encode() + base64.b64encode(bytes(32)))


def test_verifier_string_format() -> None:
    v = make_verifier("pw", iterations=4096, salt=b"0123456789abcdef")
    s = v.to_string()
    assert s.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")
    assert ScramVerifier.from_string(s) == v
    with pytest.raises(ValueError):
        ScramVerifier.from_string("md5abcdef")


def test_verifier_matches_postgres_algorithm() -> None:
    # StoredKey = H(HMAC(SaltedPassword, "Client Key")) computed independently
    import hmac
    salt = b"saltsaltsaltsalt"
    v = make_verifier("pencil", iterations=4096, salt=salt)
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", salt, 4096)
    ck = hmac.digest(salted, b"Client Key", "sha256")
    assert v.stored_key == hashlib.sha256(ck).digest()
    assert v.server_key == hmac.digest(salted, b"Server Key", "sha256")


def test_md5() -> None:
    stored = md5_hash("alice", "pw")
    assert stored == "md5" + hashlib.md5(b"pwalice").hexdigest()
    salt = b"\x01\x02\x03\x04"
    response = "md5" + hashlib.md5(stored[3:].encode() + salt).hexdigest()
    assert check_md5(stored, "alice", salt, response)
    assert not check_md5(stored, "alice", b"\0\0\0\0", response)
    assert not check_md5("garbage", "alice", salt, response)


def test_cleartext() -> None:
    assert check_cleartext(VERIFIER, "s3cret")
    assert not check_cleartext(VERIFIER, "s3cret ")
