"""A fast path for loading received objects: the schema's own rules, compiled to plain checks.

A pulled page holds 1,000 Locations; marshmallow's general machinery spends most of a pull's
time on them. compile_schema() turns a schema into nested closures that apply the same field
types and validators to what real peers send (str, int, bool, JSON numbers, lists, objects).
Whatever it is not sure about (a missing required field, a number sent as text, a failing
validator) raises Unsure, and the caller loads with marshmallow itself: the schema stays the
one definition, and marshmallow has the last word on every error and unusual input.

Nulls follow the schema: with OcpiSchema's `_nulls_are_absent` hook an optional null is
absent; without it (OICP's schemas) a null is kept where the field allows none, as marshmallow
does. `@validates_schema` methods run on the loaded object (OICP's exactly-one-of rules).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from marshmallow.utils import missing

Loader = Callable[[Any], Any]
_KEEP, _SKIP, _UNSURE = "keep", "skip", "unsure"  # what a null does


class Unsure(Exception):
    """The fast path cannot decide: load with marshmallow."""


# Hooks whose effect the compiled loader reproduces: OcpiSchema's nulls-are-absent.
KNOWN_HOOKS = frozenset({"_nulls_are_absent"})


def compile_schema(schema: Schema, partial: bool = False) -> Loader:
    """A loader equivalent to schema.load() (unknown fields excluded; nulls as the schema
    takes them) or raising Unsure; TypeError for a schema it cannot reproduce (other hooks).

    partial: top-level required fields may be missing (a PATCH); nested objects stay whole.
    """
    hooks = {entry[0] for entries in schema._hooks.values() for entry in entries}
    checks = _schema_checks(schema, partial)
    if hooks - KNOWN_HOOKS - {name for name, _ in checks}:
        raise TypeError(f"{type(schema).__name__} has hooks: load with marshmallow")
    if schema.unknown != EXCLUDE:
        raise TypeError("only unknown=EXCLUDE is compiled: load with marshmallow")
    nulls_absent = "_nulls_are_absent" in hooks
    steps = []
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        if field.data_key is not None or field.attribute is not None:
            raise TypeError("data_key / attribute are not compiled: load with marshmallow")
        if field.load_default is not missing:
            raise TypeError("load_default is not compiled: load with marshmallow")
        required = field.required and not partial
        # With the hook, an optional null is dropped before marshmallow sees it.
        on_null = _SKIP if nulls_absent and not required else _KEEP if field.allow_none else _UNSURE
        steps.append((name, required, on_null, _compile_field(field, nulls_absent)))
    validators = [check for _, check in checks]

    def load(data: Any) -> dict[str, Any]:
        # Keys the schema does not declare are never looked at.
        if type(data) is not dict:
            raise Unsure
        loaded = {}
        for name, required, on_null, convert in steps:
            value = data.get(name, missing)
            if value is None:
                if on_null is _UNSURE:
                    raise Unsure
                if on_null is _KEEP:
                    loaded[name] = None
            elif value is not missing:
                loaded[name] = convert(value)
            elif required:
                raise Unsure
        for check in validators:
            check(loaded)
        return loaded

    return load


def _schema_checks(schema: Schema, partial: bool) -> list[tuple[str, Loader]]:
    """The schema's single-object @validates_schema methods, as (name, check raising Unsure)."""
    found = []
    for tag, entries in schema._hooks.items():
        for name, pass_many, options in entries:
            if tag != "validates_schema" or pass_many or options.get("pass_original"):
                continue
            method = getattr(schema, name)

            def check(loaded: dict[str, Any], method: Any = method) -> None:
                try:
                    method(loaded, partial=partial, many=False, unknown=schema.unknown)
                except ValidationError:
                    raise Unsure from None

            found.append((name, check))
    return found


def _compile_field(field: fields.Field, nulls_absent: bool = True) -> Loader:
    convert, validated = _converter(field, nulls_absent)
    if validated or not field.validators:
        return convert
    validators = [_compile_validator(v) for v in field.validators]
    if all(v is not None for v in validators):
        checks = validators

        def fast_checked(value: Any) -> Any:
            result = convert(value)
            for check in checks:
                if not check(result):
                    raise Unsure
            return result

        return fast_checked
    validators = list(field.validators)

    def checked(value: Any) -> Any:
        result = convert(value)
        try:
            for validator in validators:
                validator(result)
        except ValidationError:
            raise Unsure from None
        return result

    return checked


def _compile_validator(validator: Any) -> Callable[[Any], bool] | None:
    """A plain predicate for marshmallow's common validators (None: call the validator)."""
    kind = type(validator)
    if kind is validate.OneOf and all(isinstance(c, str) for c in validator.choices):
        choices = frozenset(validator.choices)
        return lambda value: type(value) is str and value in choices
    if kind is validate.Length and validator.equal is None:
        low, high = validator.min, validator.max
        return lambda value: (
            (low is None or len(value) >= low) and (high is None or len(value) <= high)
        )
    return None


def _converter(field: fields.Field, nulls_absent: bool = True) -> tuple[Loader, bool]:
    """(converter, True when it already ran the field's validators)."""
    kind = type(field)
    if field.pre_load or field.post_load:
        return _delegate(field), True
    if kind is fields.Nested and isinstance(field.schema, Schema) and not field.many:
        return compile_schema(field.schema), False
    if kind is fields.List and nulls_absent:
        inner = _compile_field(field.inner, nulls_absent)
        return (lambda value: [inner(item) for item in _list(value) if item is not None]), False
    if kind is fields.List:
        inner = _compile_field(field.inner, nulls_absent)
        if field.inner.allow_none:
            return (
                lambda value: [None if item is None else inner(item) for item in _list(value)]
            ), False
        return (lambda value: [inner(item) for item in _list(value)]), False
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
