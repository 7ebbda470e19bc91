"""Idempotency keys for Stripe POSTs, derived from a domain object and the operation."""

from __future__ import annotations

import re

IDEMPOTENCY_PREFIX = "plugpool"
# Stripe caps idempotency keys at 255 characters.
MAX_IDEMPOTENCY_KEY_LENGTH = 255

_KEY_PART = re.compile(r"[A-Za-z0-9_.-]+")


def idempotency_key(kind: str, domain_id: str | int, operation: str, *qualifiers: str | int) -> str:
    """Return the Stripe idempotency key of one operation on one domain object."""
    parts = [str(p) for p in (kind, domain_id, operation, *qualifiers)]
    for part in parts:
        # A colon inside a part would let two different operations share a key.
        if not _KEY_PART.fullmatch(part):
            raise ValueError(f"idempotency key part {part!r} must match {_KEY_PART.pattern}")
    key = ":".join([IDEMPOTENCY_PREFIX, *parts])
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValueError("idempotency key longer than Stripe's 255 characters")
    return key
