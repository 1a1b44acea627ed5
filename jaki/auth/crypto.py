"""Field encryption (AES-GCM) and blind indexes (HMAC-SHA256) for personal data, and password hashing."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from jaki.settings import setting

VERSION = "v1"


class InvalidKey(ValueError):
    """A configured key that cannot work; the message completes "JAKI_NIK_ENCRYPTION_KEY ..."."""


def decode_aes_key(value: str) -> bytes:
    """The AES key in NIK_ENCRYPTION_KEY: standard or URL-safe base64 of 16, 24 or 32 bytes (AES-128/192/256)."""
    text = (value or "").strip()
    altchars = b"-_" if ("-" in text or "_" in text) else None
    try:
        key = base64.b64decode(text, altchars=altchars, validate=True)
    except ValueError:
        raise InvalidKey("is not valid base64") from None
    if len(key) not in (16, 24, 32):
        raise InvalidKey(f"decodes to {len(key)} bytes; an AES key has 16, 24 or 32")
    return key


class FieldCipher:
    """Encrypts one personal-data field; `purpose` is bound as associated data so ciphertexts can't be swapped."""

    def __init__(self, key_b64: str, hmac_key: str):
        self._aead = AESGCM(decode_aes_key(key_b64))
        self._hmac_key = hmac_key.encode()

    def encrypt(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return f"{VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, purpose: str) -> str:
        version, _, payload = token.partition(":")
        if version != VERSION:
            raise ValueError("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(payload.encode())
        return self._aead.decrypt(raw[:12], raw[12:], purpose.encode()).decode()

    def blind_index(self, value: str, purpose: str) -> str:
        return hmac.new(self._hmac_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def cipher() -> FieldCipher:
    existing = current_app.extensions.get("jaki.cipher")
    if existing is None:
        existing = FieldCipher(setting("NIK_ENCRYPTION_KEY"), setting("NIK_HMAC_KEY"))
        current_app.extensions["jaki.cipher"] = existing
    return existing


def nik_index(nik: str) -> str:
    return cipher().blind_index(nik, "nik")


def password_hasher() -> PasswordHasher:
    existing = current_app.extensions.get("jaki.password_hasher")
    if existing is None:
        cfg = current_app.config
        existing = PasswordHasher(
            time_cost=cfg["ARGON2_TIME_COST"],
            memory_cost=cfg["ARGON2_MEMORY_COST"],
            parallelism=cfg["ARGON2_PARALLELISM"],
        )
        current_app.extensions["jaki.password_hasher"] = existing
    return existing


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


# Verified against when the NIK is unknown, so that both answers take the same time.
_DUMMY_HASH: dict[tuple, str] = {}


def verify_password(stored_hash: str | None, password: str) -> bool:
    hasher = password_hasher()
    if stored_hash is None:
        params = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        if params not in _DUMMY_HASH:
            _DUMMY_HASH[params] = hasher.hash("jaki-dummy-password-for-timing")
        stored_hash = _DUMMY_HASH[params]
        with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
            hasher.verify(stored_hash, password)
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return password_hasher().check_needs_rehash(stored_hash)


def hash_secret(value: str) -> str:
    """Short-lived secrets (OTP codes): keyed SHA-256 is enough; they expire in minutes and are attempt-capped."""
    return hmac.new(setting("SECRET_KEY").encode(), value.encode(), hashlib.sha256).hexdigest()
