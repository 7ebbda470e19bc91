"""Sessions and CDRs as OCPI objects, 2.2.1 and 2.3.0 shapes.

Built on app.charging.serialise (2.2.1 CDR); a Session also names its EVSE and connector,
and 2.3.0 writes prices as {before_taxes, taxes} and tariffs with tax_included.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.charging.cdrs import FALLBACK_CURRENCY
from app.charging.models import Cdr, ChargingSession
from app.charging.serialise import cdr_to_ocpi as cdr_221
from app.ocpi.locations.serialise import timestamp

PRICE_FIELDS = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)


def session_to_ocpi(
    session: ChargingSession,
    version: str,
    location_id: str | None,
    evse_uid: str | None,
    connector_id: str | None,
    cdr: Cdr | None = None,
) -> dict[str, Any]:
    """One Session; its cost and charging periods are the CDR's once there is one."""
    data: dict[str, Any] = {
        "country_code": session.country_code,
        "party_id": session.party_id,
        "id": session.ocpi_id,
        "start_date_time": timestamp(session.start_date_time),
        "kwh": session.kwh,
        "cdr_token": _cdr_token(session),
        "auth_method": session.auth_method or "WHITELIST",
        "location_id": location_id or "#NA",
        "evse_uid": evse_uid or "#NA",
        "connector_id": connector_id or "#NA",
        "currency": session.currency or (cdr.currency if cdr else FALLBACK_CURRENCY),
        "status": session.status,
        "last_updated": timestamp(session.last_updated),
    }
    if session.end_date_time is not None:
        data["end_date_time"] = timestamp(session.end_date_time)
    if session.authorization_reference:
        data["authorization_reference"] = session.authorization_reference
    if cdr is not None:
        data["charging_periods"] = cdr.charging_periods
        data["total_cost"] = _price(cdr.total_cost_excl, cdr.total_cost_incl, version)
    return data


def cdr_to_ocpi(cdr: Cdr, version: str) -> dict[str, Any]:
    """One CDR, signed meter data included when the charger gave it."""
    data = cdr_221(cdr)
    data["cdr_token"] = {k: v for k, v in data["cdr_token"].items() if v is not None}
    data["last_updated"] = timestamp(cdr.last_updated)
    if version == "2.2.1":
        return data
    for name in PRICE_FIELDS:
        if name in data:
            price = data[name]
            data[name] = _price(price["excl_vat"], price.get("incl_vat"), version)
    if "tariffs" in data:
        data["tariffs"] = [_tariff_230(tariff) for tariff in data["tariffs"]]
    return data


def _cdr_token(session: ChargingSession) -> dict[str, Any]:
    token = {
        "country_code": session.token_country_code,
        "party_id": session.token_party_id,
        "uid": session.token_uid or "#NA",
        "type": session.token_type or "OTHER",
        "contract_id": session.contract_id or session.token_uid or "#NA",
    }
    return {key: value for key, value in token.items() if value is not None}


def _price(excl: Decimal, incl: Decimal | None, version: str) -> dict[str, Any]:
    """An OCPI Price: {excl_vat, incl_vat} in 2.2.1, {before_taxes, taxes} in 2.3.0."""
    if version == "2.2.1":
        price: dict[str, Any] = {"excl_vat": excl}
        if incl is not None:
            price["incl_vat"] = incl
        return price
    price = {"before_taxes": excl}
    if incl is not None and Decimal(incl) != Decimal(excl):
        price["taxes"] = [{"name": "VAT", "amount": Decimal(incl) - Decimal(excl)}]
    return price


def _tariff_230(tariff: dict[str, Any]) -> dict[str, Any]:
    """A tariff snapshot kept in 2.2.1 shape, written the 2.3.0 way."""
    data = dict(tariff)
    for key in ("min_price", "max_price"):
        if key in data:
            limit = {"before_taxes": data[key]["excl_vat"]}
            if data[key].get("incl_vat") is not None:
                limit["after_taxes"] = data[key]["incl_vat"]
            data[key] = limit
    data.setdefault("tax_included", "N/A")
    return data
