"""Secrets: hashing, verification in constant time, and token generation."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Argon2id with the library's RFC 9106 "low memory" profile: strong, and fast enough per log-in.
_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    """Hash a password or charger key with Argon2id."""
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, candidate: str) -> bool:
    """Check a secret against its hash; the comparison inside argon2 is constant time."""
    try:
        return _hasher.verify(stored_hash, candidate)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


def new_token(nbytes: int = 32) -> str:
    """A random URL-safe token."""
    return secrets.token_urlsafe(nbytes)


def new_password(length: int = 24) -> str:
    """A random password of letters and digits (OCPP keys must be 16-40 printable chars)."""
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def digest_token(token: str) -> str:
    """SHA-256 hex digest of a high-entropy token, for lookup without storing the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(left: str, right: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(left.encode(), right.encode())
