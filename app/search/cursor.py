"""Opaque keyset cursors: (distance, location id, evse id), bound to their search."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import fields, replace

from app.search.criteria import SearchCriteria


class BadCursor(ValueError):
    """The cursor is not one this search issued."""


def fingerprint(criteria: SearchCriteria) -> str:
    """A short digest of everything but the paging, so a cursor only fits its own search."""
    paging = {"after": None, "limit": criteria.limit, "with_count": False}
    stable = replace(criteria, **paging)
    text = repr([getattr(stable, field.name) for field in fields(stable)])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def encode_cursor(key: tuple[float, int, int], criteria: SearchCriteria) -> str:
    """Encode the last key of a page for the next request."""
    raw = json.dumps([*key, fingerprint(criteria)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[tuple[float, int, int], str]:
    """Return (key, fingerprint) from a cursor, or raise BadCursor."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        distance, location_id, evse_pk, digest = json.loads(raw)
    except (ValueError, TypeError) as error:
        raise BadCursor("not a cursor issued by this API") from error
    ids_ok = all(type(value) is int for value in (location_id, evse_pk))
    if not ids_ok or type(distance) not in (int, float):
        raise BadCursor("not a cursor issued by this API")
    return (float(distance), location_id, evse_pk), str(digest)
