"""Objects partners send us, read the way real peers write them.

OcpiSchema (app.ocpi.schemas.common) ignores unknown fields and takes `null` as absent. A pulled
page holds 1,000 Locations, so the schema is also compiled into a fast path
(app.ocpi.schemas.fastload) that loads the usual object the same way and defers everything
else to marshmallow, which words every error.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError

from app.ocpi import errors
from app.ocpi.schemas.fastload import Loader, Unsure, compile_schema


def load_received(schema: Schema, data: Any, partial: bool = False) -> Any:
    """Validate a received object; 2001 when invalid."""
    if not isinstance(data, dict):
        raise errors.InvalidParameters("The body must be a JSON object")
    fast = _fast(schema, partial)
    if fast is not None:
        try:
            return fast(data)
        except Unsure:
            pass  # marshmallow decides, and words the error
    try:
        return schema.load(data, partial=partial)
    except ValidationError as error:
        raise errors.InvalidParameters(f"Invalid object: {error.messages}") from error


_FAST: dict[tuple[int, bool], tuple[Schema, Loader | None]] = {}


def _fast(schema: Schema, partial: bool) -> Loader | None:
    """The schema's compiled loader, None when it has no fast path (long-lived instances)."""
    key = (id(schema), partial)
    found = _FAST.get(key)
    if found is None or found[0] is not schema:
        try:
            loader: Loader | None = compile_schema(schema, partial)
        except TypeError:
            loader = None
        found = _FAST[key] = (schema, loader)
    return found[1]
