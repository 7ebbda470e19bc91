"""The owner's listing form: flat HTML fields to the API's listing body, and back.

Field names follow the API body's dotted error paths ("price.per_kwh",
"evses.0.connectors.0.standard"), so ValidationFailed errors land next to their field.
Validation itself is the API's: the same marshmallow schemas load what the form built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from app.core.errors import ValidationFailed, flatten_errors
from app.inventory.enums import Capability, ConnectorFormat, ConnectorType, ParkingType, PowerType
from app.inventory.schemas import ListingInSchema, ListingUpdateSchema

LOCATION_FIELDS = (
    "name", "address", "city", "postal_code", "state", "country", "latitude", "longitude",
    "time_zone", "parking_type", "access_instructions", "description",
)  # fmt: skip
PRICE_FIELDS = ("currency", "per_kwh", "per_hour", "per_session", "vat")
CONNECTOR_FIELDS = ("standard", "format", "power_type", "max_voltage", "max_amperage")
EVSE_FIELDS = ("physical_reference", "floor_level")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SLOTS_PER_DAY = 2
SPARE_ROWS = 1  # empty charger rows offered beyond the ones in use
SPARE_BLACKOUTS = 2
# The form asks owners for kW; the API body carries W.
POWER_KW = "max_power_kw"

_ALWAYS_SET = ("capabilities", "format")

Paths = dict[str, str]  # body path prefix -> form field prefix


def listing_from_form(form: Mapping[str, Any], *, update: bool = False) -> dict[str, Any]:
    """Validate a submitted listing form exactly as the API validates its body."""
    body, paths = _body(form, update)
    schema = ListingUpdateSchema() if update else ListingInSchema()
    try:
        return dict(schema.load(body))
    except ValidationError as error:
        raise ValidationFailed(_form_errors(error.normalized_messages(), paths, form)) from None


def form_from_listing(view: Mapping[str, Any]) -> MultiDict[str, str]:
    """The form fields of an existing listing (queries.listing_view), for the edit page."""
    values: MultiDict[str, str] = MultiDict()
    for name in LOCATION_FIELDS:
        _put(values, name, view.get(name))
    values["booking_mode"] = "instant" if view.get("instant_book", True) else "approval"
    _put(values, "cancellation_policy", view.get("cancellation_policy"))
    for name in PRICE_FIELDS:
        _put(values, f"price.{name}", (view.get("price") or {}).get(name))
    live = [evse for evse in view["evses"] if evse.status != "REMOVED"]
    for index, evse in enumerate(live):
        for number, connector in enumerate(evse.connectors):
            _connector_values(values, f"evses.{index}.connectors.{number}.", connector)
        for name in EVSE_FIELDS:
            _put(values, f"evses.{index}.{name}", getattr(evse, name))
        for capability in evse.capabilities or ():
            values.add(f"evses.{index}.capabilities", capability)
    _schedule_values(values, view["availability"])
    for index, blackout in enumerate(view["blackouts"]):
        for name in ("start_date", "end_date", "reason"):
            _put(values, f"blackouts.{index}.{name}", getattr(blackout, name))
    return values


def _connector_values(values: MultiDict[str, str], prefix: str, connector: Any) -> None:
    for name in CONNECTOR_FIELDS:
        _put(values, f"{prefix}{name}", getattr(connector, name))
    if connector.max_electric_power:
        kw = Decimal(connector.max_electric_power) / 1000
        _put(values, f"{prefix}{POWER_KW}", _plain(kw))


def connector_rows(values: Mapping[str, Any], evse_row: int) -> range:
    """How many connector blocks a charger row shows: one, or as many as it has."""
    pattern = re.compile(rf"^evses\.{evse_row}\.connectors\.(\d+)\.")
    numbers = [int(m.group(1)) for key in values if (m := pattern.match(key)) and values[key]]
    return range(max(numbers, default=0) + 1)


def evse_rows(values: Mapping[str, Any]) -> range:
    """How many charger rows the form shows: those filled in plus a spare one."""
    return range(len(_indices(values, "evses")) + SPARE_ROWS)


def blackout_rows(values: Mapping[str, Any]) -> range:
    """How many blackout rows the form shows: those filled in plus spare ones."""
    return range(len(_indices(values, "blackouts")) + SPARE_BLACKOUTS)


def describe(name: str) -> str:
    """A form field's name in the owner's words, for the list of errors atop the form."""
    parts = name.split(".")
    if parts[0] == "price" and len(parts) == 2:
        return f"Price: {_LABELS.get(parts[1], parts[1])}"
    if parts[0] == "evses" and len(parts) > 2:
        return f"Charger {int(parts[1]) + 1}: {_LABELS.get(parts[-1], parts[-1])}"
    if parts[0] == "week" and len(parts) == 4:
        day, slot = WEEKDAYS[int(parts[1]) - 1], int(parts[2]) + 1
        return f"{day}, window {slot}: {_LABELS.get(parts[3], parts[3])}"
    if parts[0] == "blackouts" and len(parts) == 3:
        return f"Blackout {int(parts[1]) + 1}: {_LABELS.get(parts[2], parts[2])}"
    return _LABELS.get(name, name.replace("_", " ").capitalize())


_LABELS = {
    "evses": "Chargers",
    "address": "Street and number",
    "country": "Country",
    "time_zone": "Time zone",
    "access_instructions": "Access instructions",
    "per_kwh": "per kWh",
    "per_hour": "per hour",
    "per_session": "per session",
    "vat": "VAT %",
    "standard": "connector",
    "power_type": "current",
    "max_voltage": "voltage",
    "max_amperage": "current (A)",
    POWER_KW: "max power",
    "format": "socket or cable",
    "start": "from",
    "end": "until",
    "start_date": "from",
    "end_date": "until",
}


@cache
def choices() -> dict[str, list[str]]:
    """The options of the form's select fields."""
    return {
        "standard": [member.value for member in ConnectorType],
        "format": [member.value for member in ConnectorFormat],
        "power_type": [member.value for member in PowerType],
        "parking_type": [member.value for member in ParkingType],
        "capabilities": [member.value for member in Capability],
        "time_zone": sorted(available_timezones()),
    }


def _body(form: Mapping[str, Any], update: bool) -> tuple[dict[str, Any], Paths]:
    """The API body the form describes, and where each list item came from in the form."""
    body: dict[str, Any] = {name: _text(form, name) for name in LOCATION_FIELDS}
    body["price"] = {name: _text(form, f"price.{name}") for name in PRICE_FIELDS}
    paths: Paths = {}
    body["evses"] = _rows(form, "evses", _evse, paths)
    body["availability"] = _windows(form, paths)
    body["blackouts"] = _rows(form, "blackouts", _blackout, paths)
    body["instant_book"] = form.get("booking_mode", "instant") != "approval"
    body["cancellation_policy"] = _text(form, "cancellation_policy") or "moderate"
    if not update:
        body["publish"] = form.get("publish") == "on"
    return body, paths


def _text(form: Mapping[str, Any], name: str) -> str | None:
    value = str(form.get(name, "")).strip()
    return value or None


def _rows(form: Mapping[str, Any], kind: str, build: Any, paths: Paths) -> list[dict[str, Any]]:
    """Build list items from numbered rows, skipping empty ones and noting their form index."""
    items: list[dict[str, Any]] = []
    for index in _indices(form, kind):
        item = build(form, f"{kind}.{index}.")
        if item is not None:
            paths[f"{kind}.{len(items)}."] = f"{kind}.{index}."
            items.append(item)
    return items


def _indices(form: Mapping[str, Any], kind: str) -> list[int]:
    """Row numbers with at least one non-blank field (options that always have a value,
    the socket/cable select and capability boxes, do not make a row count)."""
    pattern = re.compile(rf"^{kind}\.(\d+)\.(.+)$")
    found = set()
    for key in form:
        match = pattern.match(key)
        if match and not match.group(2).endswith(_ALWAYS_SET) and _text(form, key):
            found.add(int(match.group(1)))
    return sorted(found)


def _evse(form: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    connectors = [
        connector
        for number in connector_rows(form, int(prefix.split(".")[1]))
        if (connector := _connector(form, f"{prefix}connectors.{number}.", number)) is not None
    ]
    capabilities = form.getlist(f"{prefix}capabilities") if hasattr(form, "getlist") else []
    evse: dict[str, Any] = {"connectors": connectors, "capabilities": list(capabilities)}
    evse.update({name: _text(form, f"{prefix}{name}") for name in EVSE_FIELDS})
    return evse


def _connector(form: Mapping[str, Any], prefix: str, number: int) -> dict[str, Any] | None:
    """A connector block; blocks after the first may be left empty."""
    connector: dict[str, Any] = {name: _text(form, f"{prefix}{name}") for name in CONNECTOR_FIELDS}
    connector["max_electric_power"] = _watts(_text(form, f"{prefix}{POWER_KW}"))
    if connector["format"] is None:
        del connector["format"]  # the schema's default (SOCKET)
    filled = [value for name, value in connector.items() if name != "format" and value]
    return connector if filled or number == 0 else None


def _watts(kw: str | None) -> int | str | None:
    """kW as typed to whole W; anything else goes on for the schema to refuse."""
    if kw is None:
        return None
    try:
        return int(Decimal(kw.replace(",", ".")) * 1000)
    except (InvalidOperation, ValueError):
        return kw


def _blackout(form: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {name: _text(form, f"{prefix}{name}") for name in ("start_date", "end_date", "reason")}


def _windows(form: Mapping[str, Any], paths: Paths) -> list[dict[str, Any]]:
    """Weekly windows from the grid of weekdays (1-7) by slots."""
    windows: list[dict[str, Any]] = []
    for weekday in range(1, 8):
        for slot in range(SLOTS_PER_DAY):
            prefix = f"week.{weekday}.{slot}."
            start, end = _text(form, f"{prefix}start"), _text(form, f"{prefix}end")
            if start is None and end is None:
                continue
            paths[f"availability.{len(windows)}."] = prefix
            windows.append({"weekday": weekday, "start": start, "end": end})
    return windows


def _schedule_values(values: MultiDict[str, str], windows: Iterable[Any]) -> None:
    used: dict[int, int] = {}
    for window in sorted(windows, key=lambda w: (w.weekday, w.start_time)):
        slot = used.get(window.weekday, 0)
        if slot >= SLOTS_PER_DAY:
            continue
        used[window.weekday] = slot + 1
        prefix = f"week.{window.weekday}.{slot}."
        values[f"{prefix}start"] = window.start_time.strftime("%H:%M")
        values[f"{prefix}end"] = window.end_time.strftime("%H:%M")


def _form_errors(messages: Any, paths: Paths, form: Mapping[str, Any]) -> dict[str, list[str]]:
    """Re-key the schema's errors by form field, in words an owner understands."""
    errors: dict[str, list[str]] = {}
    for path, texts in flatten_errors(messages).items():
        name = _form_name(path, paths)
        if _text(form, name) is None and _says_missing(texts):
            texts = ["Required."]
        errors.setdefault(name, []).extend(texts)
    return errors


def _form_name(path: str, paths: Paths) -> str:
    for body_prefix, form_prefix in paths.items():
        if path.startswith(body_prefix):
            path = form_prefix + path[len(body_prefix) :]
            break
    return path.replace(".max_electric_power", f".{POWER_KW}")


def _says_missing(texts: list[str]) -> bool:
    return any("null" in text or "Missing data" in text for text in texts)


def _put(values: MultiDict[str, str], name: str, value: Any) -> None:
    if value is not None:
        values[name] = str(value)


def _plain(value: Decimal) -> str:
    return str(value.quantize(Decimal(1)) if value == value.to_integral_value() else value)
