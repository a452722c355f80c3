"""Server-side password authentication (sans-IO): SCRAM-SHA-256, MD5 and cleartext.

SCRAM follows RFC 5802/7677 as PostgreSQL implements it (``auth-scram.c``):

* the user name in client-first is ignored; the startup packet's user is used
  (libpq sends ``n=``, pgjdbc ``n=*``);
* only ``SCRAM-SHA-256`` is advertised, so the GS2 flags ``n`` and ``y`` are
  accepted and ``p=`` (channel binding) is refused with 28000;
* an unknown user runs the same exchange against a fake verifier derived from the
  user name and a per-process secret (same salt on every attempt, like PostgreSQL's
  mock authentication) and then fails like a wrong password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from scramp.utils import saslprep

from pggw.wire.errors import INVALID_AUTHORIZATION, INVALID_PASSWORD, PROTOCOL_VIOLATION, PgError

__all__ = [
    "DEFAULT_ITERATIONS", "SCRAM_MECHANISM", "ScramServer", "ScramVerifier", "check_cleartext",
    "check_md5", "make_verifier", "md5_hash", "mock_verifier", "password_failed",
]

SCRAM_MECHANISM = "SCRAM-SHA-256"
DEFAULT_ITERATIONS = 4096
_NONCE_BYTES = 18  # PostgreSQL's SCRAM_RAW_NONCE_LEN
_SALT_BYTES = 16

# Secret for fake verifiers of unknown users; new per process.
_MOCK_SECRET = os.urandom(32)


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode("ascii"), validate=True)


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.digest(key, msg, "sha256")


def _sha256(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _prep(password: str) -> bytes:
    """SASLprep the password; like PostgreSQL, fall back to the raw bytes if that fails."""
    try:
        return str(saslprep(password)).encode("utf-8")
    except Exception:
        return password.encode("utf-8")


@dataclass(frozen=True)
class ScramVerifier:
    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    def to_string(self) -> str:
        """PostgreSQL's ``pg_authid.rolpassword`` format."""
        return (f"SCRAM-SHA-256${self.iterations}:{_b64(self.salt)}"
                f"${_b64(self.stored_key)}:{_b64(self.server_key)}")

    @classmethod
    def from_string(cls, s: str) -> ScramVerifier:
        try:
            mech, rest = s.split("$", 1)
            iter_salt, keys = rest.split("$", 1)
            iters, salt = iter_salt.split(":", 1)
            stored, server = keys.split(":", 1)
            if mech != "SCRAM-SHA-256":
                raise ValueError(mech)
            v = cls(_unb64(salt), int(iters), _unb64(stored), _unb64(server))
        except (ValueError, TypeError) as e:
            raise ValueError(f"not a SCRAM-SHA-256 verifier: {s[:20]!r}…") from e
        if v.iterations < 1 or len(v.stored_key) != 32 or len(v.server_key) != 32:
            raise ValueError("not a SCRAM-SHA-256 verifier")
        return v


def _keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    salted = hashlib.pbkdf2_hmac("sha256", _prep(password), salt, iterations)
    stored_key = _sha256(_hmac(salted, b"Client Key"))
    server_key = _hmac(salted, b"Server Key")
    return stored_key, server_key


def make_verifier(password: str, iterations: int = DEFAULT_ITERATIONS,
                  salt: bytes | None = None) -> ScramVerifier:
    salt = os.urandom(_SALT_BYTES) if salt is None else salt
    stored, server = _keys(password, salt, iterations)
    return ScramVerifier(salt, iterations, stored, server)


def md5_hash(user: str, password: str) -> str:
    """``'md5' + md5(password + user)``, as PostgreSQL stores MD5 passwords."""
    return "md5" + hashlib.md5((password + user).encode("utf-8")).hexdigest()


def check_md5(stored_md5: str, user: str, salt: bytes, response: str) -> bool:
    """Verify an MD5 PasswordMessage: ``'md5' + md5(md5hex(password + user) + salt)``."""
    if not stored_md5.startswith("md5") or len(stored_md5) != 35:
        return False
    expected = "md5" + hashlib.md5(stored_md5[3:].encode("ascii") + salt).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), response.encode("utf-8"))


def check_cleartext(verifier: ScramVerifier, password: str) -> bool:
    """Verify a cleartext password by recomputing the SCRAM keys."""
    stored, server = _keys(password, verifier.salt, verifier.iterations)
    return hmac.compare_digest(stored, verifier.stored_key) and hmac.compare_digest(
        server, verifier.server_key)


def password_failed(user: str) -> PgError:
    return PgError(INVALID_PASSWORD, f'password authentication failed for user "{user}"',
                   severity="FATAL")


def mock_verifier(user: str) -> ScramVerifier:
    """A stable fake verifier for an unknown user (no password ever matches it)."""
    digest = _hmac(_MOCK_SECRET, b"salt\0" + user.encode("utf-8"))
    return ScramVerifier(
        salt=digest[:_SALT_BYTES],
        iterations=DEFAULT_ITERATIONS,
        stored_key=_hmac(_MOCK_SECRET, b"stored\0" + user.encode("utf-8")),
        server_key=_hmac(_MOCK_SECRET, b"server\0" + user.encode("utf-8")),
    )


def _malformed(detail: str) -> PgError:
    return PgError(PROTOCOL_VIOLATION, "malformed SCRAM message", detail=detail, severity="FATAL")


class ScramServer:
    """One SCRAM-SHA-256 exchange: ``first(client_first)`` then ``final(client_final)``."""

    def __init__(self, user: str, verifier: ScramVerifier | None,
                 nonce: bytes | None = None) -> None:
        self.user = user
        self._known = verifier is not None
        self.verifier = verifier if verifier is not None else mock_verifier(user)
        self._snonce = _b64(nonce if nonce is not None else os.urandom(_NONCE_BYTES))
        self._client_first_bare = ""
        self._server_first = ""
        self._nonce = ""
        self._gs2 = ""
        self._stage = 0

    def first(self, client_first: bytes) -> bytes:
        if self._stage != 0:
            raise _malformed("unexpected SCRAM client-first message")
        self._stage = 1
        try:
            msg = client_first.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("client-first message is not valid UTF-8") from None
        # gs2-header: cbind-flag "," [authzid] ","
        if msg.startswith("p="):
            raise PgError(INVALID_AUTHORIZATION,
                          "channel binding is not supported by this server",
                          hint="Connect with channel_binding=disable or prefer.",
                          severity="FATAL")
        if not (msg.startswith("n,") or msg.startswith("y,")):
            raise _malformed(f'Unexpected channel-binding flag "{msg[:1]}".')
        comma = msg.find(",", 2)
        if comma < 0:
            raise _malformed("Comma expected after the authorization identity.")
        if comma != 2:
            raise PgError(PROTOCOL_VIOLATION,
                          "client uses authorization identity, but it is not supported",
                          severity="FATAL")
        self._gs2 = msg[:comma + 1]
        bare = msg[comma + 1:]
        if bare.startswith("m="):
            raise PgError("0A000", "client requires an unsupported SCRAM extension",
                          severity="FATAL")
        attrs = bare.split(",")
        if len(attrs) < 2 or not attrs[0].startswith("n=") or not attrs[1].startswith("r="):
            raise _malformed("Expected attributes n= and r= in client-first message.")
        cnonce = attrs[1][2:]
        if not cnonce or not all(33 <= ord(c) <= 126 and c != "," for c in cnonce):
            raise _malformed("The client nonce contains invalid characters.")
        self._client_first_bare = bare
        self._nonce = cnonce + self._snonce
        v = self.verifier
        self._server_first = f"r={self._nonce},s={_b64(v.salt)},i={v.iterations}"
        return self._server_first.encode("ascii")

    def final(self, client_final: bytes) -> bytes:
        if self._stage != 1:
            raise _malformed("unexpected SCRAM client-final message")
        self._stage = 2
        try:
            msg = client_final.decode("ascii")
        except UnicodeDecodeError:
            raise _malformed("client-final message is not ASCII") from None
        idx = msg.rfind(",p=")
        if idx < 0:
            raise _malformed("Proof expected at the end of client-final message.")
        without_proof = msg[:idx]
        attrs = without_proof.split(",")
        if len(attrs) < 2 or not attrs[0].startswith("c=") or not attrs[1].startswith("r="):
            raise _malformed("Expected attributes c= and r= in client-final message.")
        try:
            cbind = _unb64(attrs[0][2:])
            proof = _unb64(msg[idx + 3:])
        except ValueError:
            raise _malformed("Invalid base64 in client-final message.") from None
        if cbind != self._gs2.encode("ascii"):
            raise PgError(PROTOCOL_VIOLATION,
                          "SCRAM channel binding check failed", severity="FATAL")
        if attrs[1][2:] != self._nonce:
            raise _malformed("Nonce does not match.")
        if len(proof) != 32:
            raise _malformed("Malformed proof in client-final message.")
        v = self.verifier
        auth_message = ",".join(
            (self._client_first_bare, self._server_first, without_proof)).encode("utf-8")
        client_signature = _hmac(v.stored_key, auth_message)
        client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
        ok = hmac.compare_digest(_sha256(client_key), v.stored_key)
        if not ok or not self._known:
            raise password_failed(self.user)
        server_signature = _hmac(v.server_key, auth_message)
        return ("v=" + _b64(server_signature)).encode("ascii")
