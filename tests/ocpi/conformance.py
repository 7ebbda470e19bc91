"""Check documents PlugPool sends: valid, with no field the schema lacks and no null.

The schemas are lenient on input (unknown fields ignored, null = absent, as real peers need);
what we send must be exact, so a test compares what the schema kept with what was sent.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema


def assert_exact(schema: Schema, document: Any) -> Any:
    """Load `document` with `schema` and fail on any field it dropped (unknown, or null)."""
    loaded = schema.load(document)
    _compare(document, loaded, "$")
    return loaded


def _compare(sent: Any, kept: Any, path: str) -> None:
    if isinstance(sent, dict) and isinstance(kept, dict):
        dropped = sorted(set(sent) - set(kept))
        assert not dropped, f"{path}: not in the schema or null: {dropped}"
        for key in sent:
            _compare(sent[key], kept[key], f"{path}.{key}")
    elif isinstance(sent, list) and isinstance(kept, list):
        for index, (one, other) in enumerate(zip(sent, kept, strict=True)):
            _compare(one, other, f"{path}[{index}]")
