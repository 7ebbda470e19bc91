"""Parse OCPI 2.2.1 / 2.3.0 Tariff JSON (already decoded to dicts) into the typed model.

Numbers go through Decimal(str(x)) so a JSON float like 0.1 stays 0.1. Unknown fields
are ignored (2.3.0 allows custom fields). Every error is a TariffError naming the
field by its JSON path, e.g. ``elements[1].price_components[0].price``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from app.core.money import is_iso4217
from app.tariffs.engine.model import (
    DayOfWeek,
    Dimension,
    DisplayText,
    PriceComponent,
    PriceLimit,
    ReservationRestriction,
    Restrictions,
    Tariff,
    TariffElement,
    TariffError,
    TariffType,
    TaxIncluded,
)

SUPPORTED_VERSIONS = ("2.2.1", "2.3.0")
_TIME = re.compile(r"([0-1][0-9]|2[0-3]):[0-5][0-9]")
_DATE = re.compile(r"[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
# 2.2.1 Price uses excl_vat/incl_vat; 2.3.0 PriceLimit uses before_taxes/after_taxes.
_LIMIT_FIELDS = {"2.2.1": ("excl_vat", "incl_vat"), "2.3.0": ("before_taxes", "after_taxes")}

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


def parse_tariff(
    data: Mapping[str, Any],
    version: str = "2.2.1",
    *,
    default_tax_included: TaxIncluded | None = None,
) -> Tariff:
    """Parse one OCPI Tariff object of the given OCPI version, or raise TariffError.

    2.3.0 requires tax_included; default_tax_included lets a caller accept partners'
    objects that omit it (the spec's own 2.3.0 CDR example does).
    """
    if version not in SUPPORTED_VERSIONS:
        raise TariffError(f"version: unsupported OCPI version {version!r}")
    if not isinstance(data, Mapping):
        raise TariffError("tariff: expected a JSON object")
    return Tariff(
        country_code=_string(data, "country_code"),
        party_id=_string(data, "party_id"),
        id=_string(data, "id"),
        currency=_currency(data),
        elements=_elements(data),
        last_updated=_optional(data, "last_updated", _datetime),
        version=version,
        type=_optional(data, "type", lambda v, p: _enum(TariffType, v, p)),
        tax_included=_tax_included(data, version, default_tax_included),
        min_price=_optional(data, "min_price", lambda v, p: _limit(v, p, version)),
        max_price=_optional(data, "max_price", lambda v, p: _limit(v, p, version)),
        start_date_time=_optional(data, "start_date_time", _datetime),
        end_date_time=_optional(data, "end_date_time", _datetime),
        tariff_alt_url=_optional(data, "tariff_alt_url", _text),
        tariff_alt_text=_alt_texts(data.get("tariff_alt_text") or [], "tariff_alt_text"),
    )


def _optional(data: Mapping[str, Any], key: str, parse: Callable[[Any, str], T]) -> T | None:
    """Parse data[key] with parse, or return None when it is absent or null."""
    value = data.get(key)
    return None if value is None else parse(value, key)


def _string(data: Mapping[str, Any], key: str, path: str | None = None) -> str:
    """Return the required non-empty string data[key]."""
    return _text(data.get(key), path or key)


def _text(value: Any, path: str) -> str:
    """Check that value is a non-empty string."""
    if value is None:
        raise TariffError(f"{path}: required field is missing")
    if not isinstance(value, str) or not value:
        raise TariffError(f"{path}: expected a non-empty string, got {value!r}")
    return value


def _currency(data: Mapping[str, Any]) -> str:
    """Return the tariff's ISO 4217 currency code."""
    code = _string(data, "currency")
    if not is_iso4217(code):
        raise TariffError(f"currency: not an ISO 4217 currency code: {code!r}")
    return code


def _decimal(value: Any, path: str, *, negative_ok: bool = False) -> Decimal:
    """Convert a JSON number to Decimal via str(), refusing bools, NaN and negatives."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TariffError(f"{path}: expected a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:  # pragma: no cover - str() of a number always parses
        raise TariffError(f"{path}: not a number: {value!r}") from exc
    if not number.is_finite():
        raise TariffError(f"{path}: expected a finite number, got {value!r}")
    if number < 0 and not negative_ok:
        raise TariffError(f"{path}: must not be negative, got {value!r}")
    return number


def _integer(value: Any, path: str) -> int:
    """Return a non-negative JSON integer (1.0 is accepted, 1.5 is not)."""
    number = _decimal(value, path)
    if number != number.to_integral_value():
        raise TariffError(f"{path}: expected an integer, got {value!r}")
    return int(number)


def _enum(kind: type[E], value: Any, path: str) -> E:
    """Return the member of kind whose value is value."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise TariffError(f"{path}: unknown value {value!r} (expected one of {allowed})") from None


def _datetime(value: Any, path: str) -> datetime:
    """Parse an OCPI DateTime; a value without offset is UTC, as OCPI prescribes."""
    text = _text(value, path)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise TariffError(f"{path}: not an RFC 3339 date-time: {text!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _list(value: Any, path: str, *, non_empty: bool = False) -> Sequence[Any]:
    """Check that value is a JSON array (with at least one item when non_empty)."""
    if not isinstance(value, list | tuple):
        raise TariffError(f"{path}: expected a list, got {value!r}")
    if non_empty and not value:
        raise TariffError(f"{path}: must contain at least one item")
    return value


def _object(value: Any, path: str) -> Mapping[str, Any]:
    """Check that value is a JSON object."""
    if not isinstance(value, Mapping):
        raise TariffError(f"{path}: expected an object, got {value!r}")
    return value


def _elements(data: Mapping[str, Any]) -> tuple[TariffElement, ...]:
    """Parse the required, non-empty list of tariff elements."""
    if data.get("elements") is None:
        raise TariffError("elements: required field is missing")
    items = _list(data["elements"], "elements", non_empty=True)
    return tuple(_element(item, f"elements[{i}]") for i, item in enumerate(items))


def _element(value: Any, path: str) -> TariffElement:
    """Parse one TariffElement."""
    data = _object(value, path)
    raw = data.get("price_components")
    if raw is None:
        raise TariffError(f"{path}.price_components: required field is missing")
    items = _list(raw, f"{path}.price_components", non_empty=True)
    components = tuple(
        _component(item, f"{path}.price_components[{i}]") for i, item in enumerate(items)
    )
    restrictions = data.get("restrictions")
    if restrictions is None:
        return TariffElement(components)
    return TariffElement(components, _restrictions(restrictions, f"{path}.restrictions"))


def _component(value: Any, path: str) -> PriceComponent:
    """Parse one PriceComponent."""
    data = _object(value, path)
    for key in ("type", "price", "step_size"):
        if data.get(key) is None:
            raise TariffError(f"{path}.{key}: required field is missing")
    vat = data.get("vat")
    return PriceComponent(
        type=_enum(Dimension, data["type"], f"{path}.type"),
        price=_decimal(data["price"], f"{path}.price"),
        step_size=_integer(data["step_size"], f"{path}.step_size"),
        vat=None if vat is None else _decimal(vat, f"{path}.vat"),
    )


def _restrictions(value: Any, path: str) -> Restrictions:
    """Parse TariffRestrictions."""
    data = _object(value, path)

    def get(key: str, parse: Callable[[Any, str], T]) -> T | None:
        raw = data.get(key)
        return None if raw is None else parse(raw, f"{path}.{key}")

    return Restrictions(
        start_time=get("start_time", _time),
        end_time=get("end_time", _time),
        start_date=get("start_date", _date),
        end_date=get("end_date", _date),
        min_kwh=get("min_kwh", _decimal),
        max_kwh=get("max_kwh", _decimal),
        min_current=get("min_current", _decimal),
        max_current=get("max_current", _decimal),
        min_power=get("min_power", _decimal),
        max_power=get("max_power", _decimal),
        min_duration=get("min_duration", _integer),
        max_duration=get("max_duration", _integer),
        day_of_week=get("day_of_week", _days) or frozenset(),
        reservation=get("reservation", lambda v, p: _enum(ReservationRestriction, v, p)),
    )


def _time(value: Any, path: str) -> time:
    """Parse a local time of day 'HH:MM' (24h, leading zeros)."""
    text = _text(value, path)
    if not _TIME.fullmatch(text):
        raise TariffError(f"{path}: expected a time as HH:MM, got {text!r}")
    return time(int(text[:2]), int(text[3:]))


def _date(value: Any, path: str) -> date:
    """Parse a local date 'YYYY-MM-DD'."""
    text = _text(value, path)
    if not _DATE.fullmatch(text):
        raise TariffError(f"{path}: expected a date as YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TariffError(f"{path}: not a calendar date: {text!r}") from None


def _days(value: Any, path: str) -> frozenset[DayOfWeek]:
    """Parse a list of DayOfWeek values."""
    items = _list(value, path)
    return frozenset(_enum(DayOfWeek, item, f"{path}[{i}]") for i, item in enumerate(items))


def _limit(value: Any, path: str, version: str) -> PriceLimit:
    """Parse min_price / max_price with the field names of the version."""
    data = _object(value, path)
    excl_key, incl_key = _LIMIT_FIELDS[version]
    if data.get(excl_key) is None:
        raise TariffError(f"{path}.{excl_key}: required field is missing")
    incl = data.get(incl_key)
    return PriceLimit(
        excl_tax=_decimal(data[excl_key], f"{path}.{excl_key}"),
        incl_tax=None if incl is None else _decimal(incl, f"{path}.{incl_key}"),
    )


def _tax_included(
    data: Mapping[str, Any], version: str, default: TaxIncluded | None
) -> TaxIncluded:
    """Return tax_included: required in 2.3.0; 2.2.1 prices are always excluding VAT."""
    if version == "2.2.1":
        return TaxIncluded.NO
    if data.get("tax_included") is None:
        if default is not None:
            return default
        raise TariffError("tax_included: required field is missing (OCPI 2.3.0)")
    return _enum(TaxIncluded, data["tax_included"], "tax_included")


def _alt_texts(value: Any, path: str) -> tuple[DisplayText, ...]:
    """Parse tariff_alt_text, a list of DisplayText."""
    items = _list(value, path)
    return tuple(_display_text(item, f"{path}[{i}]") for i, item in enumerate(items))


def _display_text(value: Any, path: str) -> DisplayText:
    """Parse one DisplayText."""
    data = _object(value, path)
    return DisplayText(_string(data, "language", f"{path}.language"), _text_or_empty(data, path))


def _text_or_empty(data: Mapping[str, Any], path: str) -> str:
    """Return DisplayText.text, which may legitimately be an empty string."""
    text = data.get("text")
    if not isinstance(text, str):
        raise TariffError(f"{path}.text: expected a string, got {text!r}")
    return text
