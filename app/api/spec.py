"""How the OpenAPI document is generated: numbers as numbers, limits taken from the settings.

apispec writes a Range of a Decimal field through the field's own serialiser, so limits came
out as strings ("maximum": "90.000000"), which code generators and validators reject; and a
Decimal sent as a string on the wire was documented as a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from marshmallow import fields

# Field metadata naming the setting that holds a string field's minimum length.
MIN_LENGTH_SETTING = "min_length_setting"


def number(value: Any) -> Any:
    """A limit as a JSON number: an int when whole, else a float (Decimal is not a number)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class PlugPoolConverter(OpenAPIConverter):
    """apispec's converter with numeric limits as numbers and setting-driven lengths."""

    settings: Mapping[str, Any] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_attribute_function(_decimal_strings_and_setting_limits)

    def field2range(self, field: fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
        """Range limits as JSON numbers, whatever the field's own serialisation."""
        limits: dict[str, Any] = {}
        kind = {"number", "integer"} & set(_types(ret.get("type")))
        low, high = ("minimum", "maximum") if kind else ("x-minimum", "x-maximum")
        for validator in field.validators:
            if not (hasattr(validator, "min") and hasattr(validator, "max")):
                continue
            if hasattr(validator, "equal"):
                continue
            if validator.min is not None:
                limits[low] = max(number(validator.min), limits.get(low, number(validator.min)))
            if validator.max is not None:
                limits[high] = min(number(validator.max), limits.get(high, number(validator.max)))
        return limits


def _types(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _decimal_strings_and_setting_limits(
    self: PlugPoolConverter, field: fields.Field, ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if isinstance(field, fields.Decimal) and field.as_string:
        # Sent and answered as a string ("52.375218"); numbers are accepted on input too.
        extra["type"] = "string"
        extra["format"] = "decimal"
        for bound in ("minimum", "maximum"):
            if bound in ret:
                extra[f"x-{bound}"] = ret.pop(bound)
    elif isinstance(field, fields.Decimal) and isinstance(ret.get("default"), Decimal | str):
        extra["default"] = number(Decimal(ret["default"]))  # JSON would write a Decimal as text
    setting = field.metadata.get(MIN_LENGTH_SETTING)
    if setting and setting in self.settings:
        extra["minLength"] = self.settings[setting]
    return extra


def marshmallow_plugin(settings: Mapping[str, Any]) -> MarshmallowPlugin:
    """The marshmallow plugin of the /api/v1 document, reading limits from these settings."""
    converter = type("Converter", (PlugPoolConverter,), {"settings": dict(settings)})
    plugin = MarshmallowPlugin()
    plugin.Converter = converter  # type: ignore[misc]
    return plugin
