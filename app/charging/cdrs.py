"""A finished session becomes an OCPI CDR priced by the one tariff engine (app/tariffs/engine)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.charging import queries
from app.charging.enums import CdrDimension
from app.charging.models import Cdr, ChargingSession, MeterValue
from app.core.clock import iso_utc
from app.core.money import to_minor_units
from app.core.outbox import emit
from app.extensions import db
from app.inventory.models import Connector, Evse, Location
from app.tariffs.engine import PeriodState, PriceResult, SessionPeriod, parse_tariff, price_session
from app.tariffs.models import Tariff

log = logging.getLogger(__name__)

SECONDS_PER_HOUR = Decimal(3600)
FALLBACK_CURRENCY = "EUR"


def create_cdr(session: ChargingSession, periods: Sequence[SessionPeriod]) -> Cdr:
    """Price a completed session and add its CDR plus a "cdr.created" outbox event (no commit)."""
    location = db.session.get(Location, session.location_pk) if session.location_pk else None
    evse = db.session.get(Evse, session.evse_pk) if session.evse_pk else None
    connector = db.session.get(Connector, session.connector_pk) if session.connector_pk else None
    tariff = queries.tariff_for(connector, session.country_code, session.party_id)
    result = _price(tariff, periods, location)
    currency = result.currency if result else (tariff.currency if tariff else FALLBACK_CURRENCY)
    session.currency = currency
    cdr = Cdr(
        country_code=session.country_code,
        party_id=session.party_id,
        ocpi_id=f"CDR-{session.ocpi_id}"[:39],
        session_pk=session.id,
        session_id=session.ocpi_id,
        booking_id=session.booking_id,
        start_date_time=session.start_date_time,
        end_date_time=session.end_date_time,
        cdr_token=cdr_token(session),
        auth_method=session.auth_method or "WHITELIST",
        authorization_reference=session.authorization_reference,
        cdr_location=cdr_location(location, evse, connector),
        currency=currency,
        tariffs=[tariff.to_ocpi()] if tariff else [],
        charging_periods=ocpi_periods(periods, tariff),
        signed_data=signed_data(session),
        **_totals(result, periods, currency),
    )
    db.session.add(cdr)
    db.session.flush()
    emit(db.session, "cdr.created", "cdr", cdr.ocpi_id, _event(cdr, session))
    return cdr


def _price(
    tariff: Tariff | None, periods: Sequence[SessionPeriod], location: Location | None
) -> PriceResult | None:
    """Price the periods with the connector's tariff; None when the connector has no price."""
    if tariff is None:
        log.warning("no tariff for a session's connector; its CDR costs nothing")
        return None
    zone = ZoneInfo(location.time_zone if location else "UTC")
    return price_session(parse_tariff(tariff.to_ocpi()), periods, zone)


def _totals(
    result: PriceResult | None, periods: Sequence[SessionPeriod], currency: str
) -> dict[str, Any]:
    """Return the CDR's total fields, from the engine's result (or zero cost without a tariff)."""
    energy = sum((p.energy_kwh for p in periods), Decimal(0))
    hours = sum((_hours(p) for p in periods), Decimal(0))
    parking = sum((_hours(p) for p in periods if p.state is PeriodState.PARKING), Decimal(0))
    if result is None:
        zero = Decimal(0)
        return {
            "total_cost_excl": zero,
            "total_cost_incl": zero,
            "total_cost_minor": 0,
            "total_cost_excl_minor": 0,
            "cost_breakdown": {},
            "total_energy": energy,
            "total_time": hours,
            "total_parking_time": parking,
        }
    return {
        "total_cost_excl": result.total_excl_tax,
        "total_cost_incl": result.total_incl_tax,
        "total_cost_minor": result.minor_units(incl_tax=True),
        "total_cost_excl_minor": to_minor_units(result.total_excl_tax, currency),
        "cost_breakdown": breakdown(result),
        "total_energy": result.total_energy,
        "total_time": result.total_time,
        "total_parking_time": result.total_parking_time,
    }


def _hours(period: SessionPeriod) -> Decimal:
    """Return a period's length in hours."""
    return Decimal(str((period.end - period.start).total_seconds())) / SECONDS_PER_HOUR


def breakdown(result: PriceResult) -> dict[str, Any]:
    """Return the OCPI total_*_cost fields (excl/incl VAT) of a priced session."""
    costs = {
        "total_fixed_cost": result.total_fixed_cost,
        "total_energy_cost": result.total_energy_cost,
        "total_time_cost": result.total_time_cost,
        "total_parking_cost": result.total_parking_cost,
        "total_reservation_cost": result.total_reservation_cost,
    }
    data: dict[str, Any] = {
        name: {"excl_vat": str(cost.excl_tax), "incl_vat": str(cost.incl_tax)}
        for name, cost in costs.items()
    }
    data["price_limit"] = result.price_limit
    return data


def ocpi_periods(periods: Sequence[SessionPeriod], tariff: Tariff | None) -> list[dict[str, Any]]:
    """Return OCPI CdrChargingPeriods: energy and time while charging, parking time otherwise."""
    return [_ocpi_period(period, tariff) for period in periods]


def _ocpi_period(period: SessionPeriod, tariff: Tariff | None) -> dict[str, Any]:
    """Return one OCPI CdrChargingPeriod."""
    if period.state is PeriodState.CHARGING:
        dimensions = [
            {"type": CdrDimension.ENERGY.value, "volume": period.energy_kwh},
            {"type": CdrDimension.TIME.value, "volume": _hours(period)},
        ]
    else:
        dimensions = [{"type": CdrDimension.PARKING_TIME.value, "volume": _hours(period)}]
    data: dict[str, Any] = {"start_date_time": _iso(period.start), "dimensions": dimensions}
    if tariff is not None:
        data["tariff_id"] = tariff.ocpi_id
    return data


def cdr_token(session: ChargingSession) -> dict[str, Any]:
    """Return the OCPI CdrToken of a session."""
    return {
        "country_code": session.token_country_code,
        "party_id": session.token_party_id,
        "uid": session.token_uid,
        "type": session.token_type,
        "contract_id": session.contract_id or session.token_uid,
    }


def cdr_location(
    location: Location | None, evse: Evse | None, connector: Connector | None
) -> dict[str, Any]:
    """Return the OCPI CdrLocation snapshot (the listing may change later, the CDR must not)."""
    data: dict[str, Any] = {}
    if location is not None:
        data.update(
            id=location.ocpi_id,
            name=location.name,
            address=location.address,
            city=location.city,
            postal_code=location.postal_code,
            country=location.country,
            coordinates={"latitude": str(location.latitude), "longitude": str(location.longitude)},
        )
    if evse is not None:
        data.update(evse_uid=evse.uid, evse_id=evse.evse_id)
    if connector is not None:
        data.update(
            connector_id=connector.ocpi_id,
            connector_standard=connector.standard,
            connector_format=connector.format,
            connector_power_type=connector.power_type,
        )
    return data


def signed_data(session: ChargingSession) -> dict[str, Any] | None:
    """Return OCPI SignedData when the station signed its meter values (German Eichrecht)."""
    owner = f"tx:{session.transaction_id}"
    rows: list[MeterValue] = queries.signed_samples(session.station_id, owner)
    if not rows:
        return None
    first = json.loads(rows[0].signed_data or "{}")
    data: dict[str, Any] = {
        "encoding_method": first.get("encoding_method") or "OCPP",
        "signed_values": [_signed_value(row) for row in rows],
    }
    if first.get("public_key"):
        data["public_key"] = first["public_key"]
    return data


def _signed_value(row: MeterValue) -> dict[str, Any]:
    """Return one OCPI SignedValue from a stored signed sample."""
    signed = json.loads(row.signed_data or "{}")
    return {
        "nature": row.context or "Sample.Periodic",
        "plain_data": str(row.value),
        "signed_data": signed.get("signed_meter_data", ""),
    }


def _event(cdr: Cdr, session: ChargingSession) -> dict[str, Any]:
    """Return the "cdr.created" payload the bookings/payments and OCPI sides consume."""
    return {
        "cdr_id": cdr.ocpi_id,
        "cdr_pk": cdr.id,
        "session_id": session.ocpi_id,
        "booking_id": cdr.booking_id,
        "country_code": cdr.country_code,
        "party_id": cdr.party_id,
        "total_cost_minor": cdr.total_cost_minor,
        "currency": cdr.currency,
        "kwh": str(session.kwh),
    }


def _iso(value: Any) -> str:
    """Return an OCPI timestamp."""
    return iso_utc(value)
