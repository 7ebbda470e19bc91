"""Opaque keyset cursors: (distance, location id, evse id), bound to their search."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import fields

from app.search.criteria import SearchCriteria


class BadCursor(ValueError):
    """The cursor is not one this search issued."""


def fingerprint(criteria: SearchCriteria) -> str:
    """A short digest of everything but the paging, so a cursor only fits its own search."""
    # The repr of the field values with after=None and with_count=False (what a replace()
    # would give, without building a second criteria on every page).
    values = [getattr(criteria, name) for name in _FIELDS]
    values[_AFTER], values[_WITH_COUNT] = None, False
    return hashlib.sha256(repr(values).encode()).hexdigest()[:12]


_FIELDS = tuple(field.name for field in fields(SearchCriteria))
_AFTER, _WITH_COUNT = _FIELDS.index("after"), _FIELDS.index("with_count")


# json.dumps with separators builds a new encoder on every call; this is the same one, kept.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def encode_cursor(key: tuple[float, int, int], criteria: SearchCriteria) -> str:
    """Encode the last key of a page for the next request."""
    raw = _COMPACT.encode([*key, fingerprint(criteria)])
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
