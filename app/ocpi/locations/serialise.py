"""Inventory rows as OCPI Location / EVSE / Connector objects (2.2.1 and 2.3.0 shapes).

Hand-written rather than marshmallow dumps: a page of 1,000 locations is built in milliseconds.
The schemas in app.ocpi.schemas.locations validate what these functions produce (tests).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.core.clock import iso_utc
from app.inventory.models import AvailabilityWindow, Blackout, Connector, Evse, Location


def timestamp(value: datetime) -> str:
    """OCPI DateTime text of an aware datetime."""
    return iso_utc(value)


def location_to_ocpi(location: Location, version: str) -> dict[str, Any]:
    """One Location with its EVSEs and connectors."""
    data: dict[str, Any] = {
        "country_code": location.country_code,
        "party_id": location.party_id,
        "id": location.ocpi_id,
        "publish": location.publish,
        "address": location.address,
        "city": location.city,
        "country": location.country,
        "coordinates": {
            "latitude": f"{location.latitude:.6f}",
            "longitude": f"{location.longitude:.6f}",
        },
        "evses": [evse_to_ocpi(evse, version) for evse in location.evses],
        "time_zone": location.time_zone,
        "last_updated": timestamp(location.last_updated),
    }
    optional = {
        "name": location.name,
        "postal_code": location.postal_code,
        "state": location.state,
        "parking_type": location.parking_type,
        "facilities": location.facilities or None,
        "directions": location.directions or None,
        "images": location.images or None,
        "opening_times": _opening_times(location),
        "charging_when_closed": location.charging_when_closed,
    }
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


def evse_to_ocpi(evse: Evse, version: str) -> dict[str, Any]:
    """One EVSE with its connectors."""
    data: dict[str, Any] = {
        "uid": evse.uid,
        "status": evse.status,
        "connectors": [connector_to_ocpi(c, version) for c in evse.connectors],
        "last_updated": timestamp(evse.last_updated),
    }
    optional = {
        "evse_id": evse.evse_id,
        "capabilities": evse.capabilities or None,
        "floor_level": evse.floor_level,
        "physical_reference": evse.physical_reference,
        "parking_restrictions": evse.parking_restrictions or None,
    }
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


def connector_to_ocpi(connector: Connector, version: str) -> dict[str, Any]:
    """One Connector."""
    data: dict[str, Any] = {
        "id": connector.ocpi_id,
        "standard": connector.standard,
        "format": connector.format,
        "power_type": connector.power_type,
        "max_voltage": connector.max_voltage,
        "max_amperage": connector.max_amperage,
        "last_updated": timestamp(connector.last_updated),
    }
    if connector.max_electric_power is not None:
        data["max_electric_power"] = connector.max_electric_power
    if connector.tariff_ids:
        data["tariff_ids"] = list(connector.tariff_ids)
    if connector.terms_and_conditions:
        data["terms_and_conditions"] = connector.terms_and_conditions
    return data


def _opening_times(location: Location) -> dict[str, Any] | None:
    """Sharing windows and blackouts of an own listing, else the stored OCPI Hours."""
    if not location.availability:
        return location.opening_times
    zone = ZoneInfo(location.time_zone)
    return {
        "twentyfourseven": False,
        "regular_hours": [_regular(window) for window in location.availability],
        "exceptional_closings": [_closing(b, zone) for b in location.blackouts],
    }


def _regular(window: AvailabilityWindow) -> dict[str, Any]:
    end = "24:00" if window.end_time == time(0) else window.end_time.strftime("%H:%M")
    return {
        "weekday": window.weekday,
        "period_begin": window.start_time.strftime("%H:%M"),
        "period_end": end,
    }


def _closing(blackout: Blackout, zone: ZoneInfo) -> dict[str, str]:
    return {
        "period_begin": timestamp(_local_midnight(blackout.start_date, zone)),
        "period_end": timestamp(_local_midnight(blackout.end_date + timedelta(days=1), zone)),
    }


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
