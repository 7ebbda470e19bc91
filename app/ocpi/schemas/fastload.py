"""A fast path for loading received objects: the schema's own rules, compiled to plain checks.

A pulled page holds 1,000 Locations; marshmallow's general machinery spends most of a pull's
time on them. compile_schema() turns a schema into nested closures that apply the same field
types and validators to what real peers send (str, int, bool, JSON numbers, lists, objects).
Whatever it is not sure about (a missing required field, a number sent as text, a failing
validator) raises Unsure, and the caller loads with marshmallow itself: the schema stays the
one definition, and marshmallow has the last word on every error and unusual input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields

Loader = Callable[[Any], Any]


class Unsure(Exception):
    """The fast path cannot decide: load with marshmallow."""


# Hooks whose effect the compiled loader reproduces: OcpiSchema's nulls-are-absent.
KNOWN_HOOKS = frozenset({"_nulls_are_absent"})


def compile_schema(schema: Schema, partial: bool = False) -> Loader:
    """A loader equivalent to schema.load() (OcpiSchema: unknown fields ignored, null as
    absent) or raising Unsure; TypeError for a schema it cannot reproduce (other hooks).

    partial: top-level required fields may be missing (a PATCH); nested objects stay whole.
    """
    hooks = {entry[0] for entries in schema._hooks.values() for entry in entries}
    if hooks - KNOWN_HOOKS:
        raise TypeError(f"{type(schema).__name__} has hooks: load with marshmallow")
    steps = [
        (name, field.required and not partial, _compile_field(field))
        for name, field in schema.fields.items()
        if not field.dump_only and field.data_key is None and field.attribute is None
    ]
    if len(steps) != len([f for f in schema.fields.values() if not f.dump_only]):
        raise TypeError("data_key / attribute are not compiled: load with marshmallow")

    def load(data: Any) -> dict[str, Any]:
        # Keys the schema does not declare are never looked at; a null counts as absent.
        if type(data) is not dict:
            raise Unsure
        loaded = {}
        for name, required, convert in steps:
            value = data.get(name)
            if value is not None:
                loaded[name] = convert(value)
            elif required:
                raise Unsure
        return loaded

    return load


def _compile_field(field: fields.Field) -> Loader:
    convert, validated = _converter(field)
    validators = list(field.validators)
    if validated or not validators:
        return convert

    def checked(value: Any) -> Any:
        result = convert(value)
        try:
            for validator in validators:
                validator(result)
        except ValidationError:
            raise Unsure from None
        return result

    return checked


def _converter(field: fields.Field) -> tuple[Loader, bool]:
    """(converter, True when it already ran the field's validators)."""
    kind = type(field)
    if kind is fields.Nested and isinstance(field.schema, Schema) and not field.many:
        return compile_schema(field.schema), False
    if kind is fields.List:
        inner = _compile_field(field.inner)
        return (lambda value: [inner(item) for item in _list(value) if item is not None]), False
    if kind is fields.String:
        return _string, False
    if kind is fields.Integer and not field.strict:
        return _integer, False
    if kind is fields.Boolean and field.truthy == {True} and field.falsy == {False}:
        return _boolean, False
    if kind is fields.Decimal and field.places is None and not field.allow_nan:
        return _decimal, False
    return _delegate(field), True


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise Unsure
    return value


def _string(value: Any) -> str:
    if type(value) is not str:
        raise Unsure
    return value


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise Unsure
    return value


def _boolean(value: Any) -> bool:
    if value is not True and value is not False:
        raise Unsure
    return value


def _decimal(value: Any) -> Decimal:
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return Decimal(str(value))
    raise Unsure


def _delegate(field: fields.Field) -> Loader:
    """Any other field type: marshmallow's own field (with its validators)."""

    def load(value: Any) -> Any:
        try:
            return field.deserialize(value)
        except ValidationError:
            raise Unsure from None

    return load
