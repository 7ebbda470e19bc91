"""Charging sessions and CDRs as OCPI 2.2.1 objects (for the OCPI Sessions and CDRs senders)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from app.charging.models import Cdr, ChargingSession
from app.core.clock import iso_utc


def session_to_ocpi(session: ChargingSession, cdr: Cdr | None = None) -> dict[str, Any]:
    """Return an OCPI Session; the cost is the CDR's once there is one."""
    data: dict[str, Any] = {
        "country_code": session.country_code,
        "party_id": session.party_id,
        "id": session.ocpi_id,
        "start_date_time": _iso(session.start_date_time),
        "end_date_time": _iso(session.end_date_time),
        "kwh": session.kwh,
        "cdr_token": {
            "country_code": session.token_country_code,
            "party_id": session.token_party_id,
            "uid": session.token_uid,
            "type": session.token_type,
            "contract_id": session.contract_id or session.token_uid,
        },
        "auth_method": session.auth_method or "WHITELIST",
        "authorization_reference": session.authorization_reference,
        "location_id": (cdr.cdr_location.get("id") if cdr else None),
        "currency": session.currency or (cdr.currency if cdr else None),
        "status": session.status,
        "last_updated": _iso(session.last_updated),
    }
    if cdr is not None:
        data["total_cost"] = _price(cdr.total_cost_excl, cdr.total_cost_incl)
        data["charging_periods"] = cdr.charging_periods
    return {key: value for key, value in data.items() if value is not None}


def cdr_to_ocpi(cdr: Cdr) -> dict[str, Any]:
    """Return an OCPI CDR."""
    breakdown = cdr.cost_breakdown or {}
    data: dict[str, Any] = {
        "country_code": cdr.country_code,
        "party_id": cdr.party_id,
        "id": cdr.ocpi_id,
        "start_date_time": _iso(cdr.start_date_time),
        "end_date_time": _iso(cdr.end_date_time),
        "session_id": cdr.session_id,
        "cdr_token": cdr.cdr_token,
        "auth_method": cdr.auth_method,
        "authorization_reference": cdr.authorization_reference,
        "cdr_location": cdr.cdr_location,
        "currency": cdr.currency,
        "tariffs": cdr.tariffs or None,
        "charging_periods": cdr.charging_periods,
        "signed_data": cdr.signed_data,
        "total_cost": _price(cdr.total_cost_excl, cdr.total_cost_incl),
        "total_energy": cdr.total_energy,
        "total_time": cdr.total_time,
        "total_parking_time": cdr.total_parking_time,
        "last_updated": _iso(cdr.last_updated),
    }
    for name in ("total_fixed_cost", "total_energy_cost", "total_time_cost", "total_parking_cost"):
        cost = breakdown.get(name)
        if cost and Decimal(cost["excl_vat"]) != 0:
            data[name] = _price(Decimal(cost["excl_vat"]), Decimal(cost["incl_vat"]))
    return {key: value for key, value in data.items() if value is not None}


def _price(excl: Decimal, incl: Decimal | None) -> dict[str, Decimal]:
    """Return an OCPI Price."""
    price = {"excl_vat": excl}
    if incl is not None:
        price["incl_vat"] = incl
    return price


def _iso(value: datetime | None) -> str | None:
    """Return an OCPI DateTime (UTC, Z)."""
    return None if value is None else iso_utc(value)
