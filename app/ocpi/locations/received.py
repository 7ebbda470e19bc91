"""Locations a partner CPO sends us (pulled or pushed), translated into inventory rows.

Translation only: validation through the version's schemas (nulls and unknown fields left
out), the party scope of the partner's credentials, and the mapping of OCPI fields to the
inventory's columns. What is stored, and when a row is newer, is app.inventory.roaming's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from app.core.clock import iso_utc
from app.core.spatial import point_value
from app.inventory.roaming import EvseRow, LocationRow
from app.ocpi import errors
from app.ocpi.models import OcpiPartner
from app.ocpi.schemas.locations import CONNECTOR, EVSE, LOCATION
from app.ocpi.schemas.received import load_received

_SCHEMAS: dict[tuple[str, str], Any] = {}
_LOCATION_PLAIN = (
    "publish", "name", "address", "city", "postal_code", "state", "country", "time_zone",
    "parking_type", "charging_when_closed", "last_updated",
)  # fmt: skip


def _schema(kind: str, version: str) -> Any:
    """One schema instance per kind and version (building one costs more than a load)."""
    key = (kind, version)
    if key not in _SCHEMAS:
        _SCHEMAS[key] = {"location": LOCATION, "evse": EVSE, "connector": CONNECTOR}[kind][
            version
        ]()
    return _SCHEMAS[key]


def check_party(partner: OcpiPartner, country_code: str, party_id: str) -> tuple[str, str]:
    """The party, upper-cased, when the partner holds it as a CPO; else 2001."""
    if not partner.holds(country_code, party_id, frozenset({"CPO"})):
        raise errors.InvalidParameters(
            f"Party {country_code}*{party_id} is not a CPO of these credentials"
        )
    return country_code.upper(), party_id.upper()


def load(kind: str, version: str, body: Any, partial: bool = False) -> dict[str, Any]:
    """Validate a received Location, EVSE or Connector (partial: a PATCH); 2001 if invalid."""
    data = load_received(_schema(kind, version), body, partial=partial)
    if "last_updated" not in data:
        raise errors.InvalidParameters("last_updated is required")
    return data


def same_id(url_value: str, body_value: Any, name: str) -> None:
    """An id in the body must be the URL's (CiString: case-insensitive); else 2001."""
    if body_value is not None and str(body_value).upper() != url_value.upper():
        raise errors.InvalidParameters(f"{name} in the body differs from the URL")


def location_row(data: dict[str, Any]) -> LocationRow:
    """A validated whole Location as an inventory row."""
    return LocationRow(
        country_code=data["country_code"].upper(),
        party_id=data["party_id"].upper(),
        ocpi_id=data["id"],
        values=whole_location_values(data),
        evses=[evse_row(evse) for evse in data.get("evses", ())],
    )


def location_values(data: dict[str, Any]) -> dict[str, Any]:
    """Columns of a (whole or partial) Location; absent optional fields of a whole one: empty."""
    values: dict[str, Any] = {name: data[name] for name in _LOCATION_PLAIN if name in data}
    for name in ("facilities", "directions", "images"):
        if name in data:
            values[name] = to_json(data[name])
    if "opening_times" in data:
        values["opening_times"] = to_json(data["opening_times"])
    if "coordinates" in data:
        lat, lon = data["coordinates"]["latitude"], data["coordinates"]["longitude"]
        values.update(latitude=Decimal(lat), longitude=Decimal(lon), geog=point_value(lat, lon))
    return values


def whole_location_values(data: dict[str, Any]) -> dict[str, Any]:
    """Columns of a whole Location: optional fields it leaves out are cleared."""
    cleared = {
        "name": None, "postal_code": None, "state": None, "parking_type": None,
        "facilities": [], "directions": [], "images": [], "opening_times": None,
        "charging_when_closed": True,
    }  # fmt: skip
    return {**cleared, **location_values(data)}


def evse_row(data: dict[str, Any]) -> EvseRow:
    """A validated whole EVSE with its connectors."""
    values = {
        "evse_id": None, "capabilities": [], "floor_level": None, "physical_reference": None,
        "parking_restrictions": [],
    }  # fmt: skip
    values.update(evse_values(data))
    return EvseRow(
        uid=data["uid"],
        values=values,
        connectors=[connector_values(c, whole=True) for c in data.get("connectors", ())],
    )


def evse_values(data: dict[str, Any]) -> dict[str, Any]:
    """Columns of a (whole or partial) EVSE."""
    names = (
        "evse_id", "status", "capabilities", "floor_level", "physical_reference",
        "parking_restrictions", "last_updated",
    )  # fmt: skip
    return {name: data[name] for name in names if name in data}


def connector_values(data: dict[str, Any], whole: bool = False) -> dict[str, Any]:
    """Columns of a (whole or partial) Connector."""
    names = (
        "standard", "format", "power_type", "max_voltage", "max_amperage",
        "max_electric_power", "tariff_ids", "terms_and_conditions", "last_updated",
    )  # fmt: skip
    values: dict[str, Any] = (
        {"max_electric_power": None, "tariff_ids": [], "terms_and_conditions": None}
        if whole
        else {}
    )
    values.update({name: data[name] for name in names if name in data})
    if "id" in data:
        values["ocpi_id"] = data["id"]
    return values


def to_json(value: Any) -> Any:
    """A loaded value as JSON-ready data (DateTimes back to OCPI text)."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value
