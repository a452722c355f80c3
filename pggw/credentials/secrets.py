"""CDF secrets at rest: AES-256-GCM under one key.

The key comes from ``PGGW_SECRET_KEY`` (base64 or hex of 32 bytes), else from
``--secret-key-file`` (32 raw bytes, or that text), else from ``<data-dir>/secret.key``,
which is generated with mode 0600 on first start. Each sealed value is bound to what it
belongs to (the associated data, e.g. ``b"identity:alice"``), so a value copied to another
user's row does not decrypt.

Sealed format: ``b"PG1" | key id (4 bytes) | nonce (12 bytes) | ciphertext+tag``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["KEY_FILE_NAME", "SecretBox", "SecretKeyError", "load_key"]

KEY_FILE_NAME = "secret.key"
KEY_ENV = "PGGW_SECRET_KEY"
_MAGIC = b"PG1"
_NONCE = 12
_KEY_BYTES = 32


class SecretKeyError(Exception):
    """The key is missing, malformed, or not the one a value was sealed with."""


def _decode_key(raw: bytes, where: str) -> bytes:
    if len(raw) == _KEY_BYTES:
        return raw
    text = raw.strip()
    if len(text) == 2 * _KEY_BYTES:
        try:
            return binascii.unhexlify(text)
        except binascii.Error:
            pass
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            key = decode(text + b"=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(key) == _KEY_BYTES:
            return key
    raise SecretKeyError(
        f"{where}: expected a 32-byte key (raw, 64 hex digits, or base64); "
        "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
    )


def load_key(
    data_dir: Path, key_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> bytes:
    """The secret key, creating ``<data-dir>/secret.key`` (0600) when nothing is configured."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return _decode_key(env[KEY_ENV].encode(), KEY_ENV)
    if key_file is not None:
        try:
            return _decode_key(Path(key_file).read_bytes(), str(key_file))
        except OSError as e:
            raise SecretKeyError(f"cannot read --secret-key-file {key_file}: {e}") from e
    path = Path(data_dir) / KEY_FILE_NAME
    if path.exists():
        return _decode_key(path.read_bytes(), str(path))
    key = secrets.token_bytes(_KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return key


class SecretBox:
    """Seals and opens small secrets (JSON documents) with AES-GCM."""

    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_BYTES:
            raise SecretKeyError("the secret key must be 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"pggw-secret-key-id\0" + key).digest()[:4]

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return _MAGIC + self.key_id + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        if not sealed.startswith(_MAGIC) or len(sealed) < len(_MAGIC) + 4 + _NONCE + 16:
            raise SecretKeyError("not a sealed value")
        key_id = sealed[3:7]
        if key_id != self.key_id:
            raise SecretKeyError(
                "sealed with another secret key (was --secret-key-file / PGGW_SECRET_KEY changed?)"
            )
        nonce, body = sealed[7 : 7 + _NONCE], sealed[7 + _NONCE :]
        try:
            return self._aead.decrypt(nonce, body, aad)
        except InvalidTag:
            raise SecretKeyError("the sealed value is corrupt or belongs elsewhere") from None
