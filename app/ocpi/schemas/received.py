"""Objects partners send us, read the way real peers write them.

Peers built on pydantic or Jackson send `null` for every unset field and add fields of their
own or of a later version: a null on an optional field counts as absent, unknown fields are
dropped, and only then does the strict schema judge what is left. (The schemas stay strict
for what we produce: our own tests validate our output with them.)
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields

from app.ocpi import errors
from app.ocpi.schemas.fastload import Loader, Unsure, compile_schema


def prune(schema: Schema, data: Any) -> Any:
    """Drop nulls and the keys the schema does not declare, through nested objects and lists."""
    if not isinstance(data, dict):
        return data
    declared = {field.data_key or name: field for name, field in schema.fields.items()}
    return {
        key: _prune_value(declared[key], value)
        for key, value in data.items()
        if value is not None and key in declared
    }


def _prune_value(field: fields.Field, value: Any) -> Any:
    if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
        if isinstance(value, list):
            return [prune(field.schema, item) for item in value]
        return prune(field.schema, value)
    if isinstance(field, fields.List) and isinstance(value, list):
        return [
            item for item in (_prune_value(field.inner, item) for item in value) if item is not None
        ]
    return value


def load_received(schema: Schema, data: Any, partial: bool = False) -> Any:
    """Validate a received object (nulls and unknown fields left out); 2001 when invalid."""
    if not isinstance(data, dict):
        raise errors.InvalidParameters("The body must be a JSON object")
    try:
        return _fast(schema, partial)(data)  # prunes as it goes
    except Unsure:
        pass  # marshmallow decides, and words the error
    try:
        return schema.load(prune(schema, data), partial=partial)
    except ValidationError as error:
        raise errors.InvalidParameters(f"Invalid object: {error.messages}") from error


_FAST: dict[tuple[int, bool], tuple[Schema, Loader]] = {}


def _fast(schema: Schema, partial: bool) -> Loader:
    """The schema's compiled loader (schemas are long-lived module instances)."""
    key = (id(schema), partial)
    found = _FAST.get(key)
    if found is None or found[0] is not schema:
        found = _FAST[key] = (schema, compile_schema(schema, partial))
    return found[1]
