"""Loading OICP messages: each schema compiled to a fast path, marshmallow for the rest.

A pull page holds 2,000 EVSE records and a push batch 10,000; marshmallow's machinery reads
about 1,000 a second per core. app.ocpi.schemas.fastload compiles the same schema classes
into plain checks; whatever it is unsure of (an error, an unusual input) is loaded by
marshmallow, which words the error. The schemas stay the one definition of each message.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from app.ocpi.schemas.fastload import Loader, Unsure, compile_schema

_COMPILED: dict[type[Schema], tuple[Schema, Loader | None]] = {}


def compiled(schema: type[Schema]) -> tuple[Schema, Loader | None]:
    """The schema's shared instance and its compiled loader (None: marshmallow only)."""
    found = _COMPILED.get(schema)
    if found is None:
        instance = schema()
        try:
            loader: Loader | None = compile_schema(instance)
        except TypeError:  # hooks the compiler does not reproduce (pre_load spellings)
            loader = None
        found = _COMPILED[schema] = (instance, loader)
    return found


def load(schema: type[Schema], data: Any) -> Any:
    """schema().load(data): the same result, or the same ValidationError."""
    instance, loader = compiled(schema)
    if loader is not None:
        try:
            return loader(data)
        except Unsure:
            pass  # marshmallow decides, and words the error
    return instance.load(data)
