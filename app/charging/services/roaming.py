"""Sessions and CDRs of PlugPool drivers at partner CPOs' chargers (PlugPool as eMSP).

The OCPI receivers translate the partner's objects into `PartnerSession` / `PartnerCdr` and
call these use cases; they land in the same charging tables as our own sessions and CDRs,
under the partner's party. Each function is one transaction and commits it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.accounts.models import User
from app.charging import queries
from app.charging.enums import CdrDimension
from app.charging.models import Cdr, ChargingSession
from app.charging.tokens import own_token
from app.core.money import to_minor_units
from app.extensions import db
from app.inventory.enums import EvseStatus
from app.inventory.models import Connector, Evse, Location
from app.ocpi.models import Token
from app.payments import queries as payments
from app.tariffs.engine import (
    PeriodError,
    PeriodState,
    SessionPeriod,
    TariffError,
    parse_tariff,
    price_session,
)

log = logging.getLogger(__name__)

# Flags of a partner CDR that an operator must look at (never a reason to drop it).
NO_SESSION = "no_session"
UNKNOWN_TOKEN = "unknown_token"  # noqa: S105 -- a flag name, not a secret
PRICE_MISMATCH = "price_mismatch"
SECOND_CDR = "second_cdr_of_session"  # a credit or corrected CDR: kept apart from the session
UNPRICED = "unpriced"
AUDIT_TOLERANCE_MINOR = 1  # a difference over one cent is flagged


@dataclass(frozen=True)
class DriverAuthorization:
    """What a partner CPO's real-time authorisation of one of our drivers' tokens gets."""

    allowed: str  # OCPI AllowedType
    token: Token
    authorization_reference: str | None = None


@dataclass(frozen=True)
class PartnerSession:
    """A partner's OCPI Session, as the receiver read it (the whole object after a PATCH)."""

    country_code: str
    party_id: str
    ocpi_id: str
    start_date_time: datetime
    end_date_time: datetime | None
    kwh: Decimal
    status: str
    currency: str
    token_uid: str
    token_type: str
    token_country_code: str | None
    token_party_id: str | None
    contract_id: str
    auth_method: str
    authorization_reference: str | None
    location_id: str
    evse_uid: str
    connector_id: str
    total_cost_incl: Decimal | None
    last_updated: datetime
    received: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PartnerCdr:
    """A partner's OCPI CDR, as the receiver read it."""

    country_code: str
    party_id: str
    ocpi_id: str
    session_id: str | None
    start_date_time: datetime
    end_date_time: datetime
    cdr_token: dict[str, Any]
    auth_method: str
    authorization_reference: str | None
    cdr_location: dict[str, Any]
    currency: str
    tariffs: list[dict[str, Any]]
    charging_periods: list[dict[str, Any]]
    signed_data: dict[str, Any] | None
    total_cost_excl: Decimal
    total_cost_incl: Decimal
    cost_breakdown: dict[str, Any]
    total_energy: Decimal
    total_time: Decimal
    total_parking_time: Decimal
    last_updated: datetime
    periods: list[SessionPeriod] = field(default_factory=list)  # charging_periods, for pricing
    version: str = "2.2.1"


def record_partner_session(partner_id: int, data: PartnerSession) -> ChargingSession:
    """Create or replace a partner's session; link it to our driver and their inventory."""
    key = (data.country_code, data.party_id, data.ocpi_id)
    session = queries.session_by_key(*key)
    if session is None:
        session = ChargingSession(
            country_code=data.country_code,
            party_id=data.party_id,
            ocpi_id=data.ocpi_id,
            station_id="",
            ocpp_version="",
        )
        db.session.add(session)
    session.partner_id = partner_id
    _apply_session(session, data)
    db.session.commit()
    return session


def _apply_session(session: ChargingSession, data: PartnerSession) -> None:
    """Copy the partner's fields; place the session in the inventory and find our driver."""
    session.start_date_time, session.end_date_time = data.start_date_time, data.end_date_time
    session.kwh, session.status, session.currency = data.kwh, data.status, data.currency
    session.token_uid, session.token_type = data.token_uid, data.token_type
    session.token_country_code = data.token_country_code
    session.token_party_id = data.token_party_id
    session.contract_id, session.auth_method = data.contract_id, data.auth_method
    session.authorization_reference = data.authorization_reference
    session.total_cost_minor = (
        None
        if data.total_cost_incl is None
        else to_minor_units(data.total_cost_incl, data.currency)
    )
    session.received = data.received
    with db.session.no_autoflush:
        location, evse, connector = inventory_place(
            data.country_code, data.party_id, data.location_id, data.evse_uid, data.connector_id
        )
        link = queries.driver_token(data.token_uid)
    session.location_pk = location.id if location else None
    session.evse_pk = evse.id if evse else None
    session.connector_pk = connector.id if connector else None
    session.driver_id = link.user_id if link else None
    # The CPO owns last_updated: kept as sent (set last, in the same UPDATE as the rest).
    session.last_updated = data.last_updated


def inventory_place(
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None,
    connector_id: str | None,
) -> tuple[Location | None, Evse | None, Connector | None]:
    """Return the partner's location, EVSE and connector as held in our inventory (if synced)."""
    location = queries.location_by_key(country_code, party_id, location_id)
    evse = next((e for e in location.evses if e.uid == evse_uid), None) if location else None
    connector = (
        next((c for c in evse.connectors if c.ocpi_id == connector_id), None) if evse else None
    )
    return location, evse, connector


def record_partner_cdr(partner_id: int, data: PartnerCdr) -> tuple[Cdr, bool]:
    """Store a partner's CDR once (a resend returns the stored one); flag what does not add up.

    Returns the CDR and whether it was created now.
    """
    existing = queries.cdr_by_key(data.country_code, data.party_id, data.ocpi_id)
    if existing is not None:
        db.session.commit()
        return existing, False
    session = (
        queries.session_by_key(data.country_code, data.party_id, data.session_id)
        if data.session_id
        else _session_like(partner_id, data)
    )
    second = session is not None and queries.cdr_of_session(session.id) is not None
    link = queries.driver_token(str(data.cdr_token.get("uid", "")))
    driver_id = session.driver_id if session and session.driver_id else None
    driver_id = driver_id or (link.user_id if link else None)
    audit = audit_price(data)
    cdr = _new_cdr(partner_id, data, None if second else session, driver_id, audit)
    if second:
        cdr.flags = [SECOND_CDR, *[f for f in cdr.flags if f != NO_SESSION]]
    db.session.add(cdr)
    db.session.commit()
    if cdr.flags:
        log.warning("partner CDR %s flagged: %s", cdr.ocpi_id, ", ".join(cdr.flags))
    return cdr, True


def _session_like(partner_id: int, data: PartnerCdr) -> ChargingSession | None:
    """The partner's session a CDR without session_id is of: same token, location and start."""
    return queries.partner_session_like(
        partner_id,
        str(data.cdr_token.get("uid", "")),
        str(data.cdr_location.get("id", "")),
        data.start_date_time,
    )


def _new_cdr(
    partner_id: int,
    data: PartnerCdr,
    session: ChargingSession | None,
    driver_id: int | None,
    audit: int | None,
) -> Cdr:
    """Build the CDR row of a partner's CDR with its audit result and flags."""
    total_minor = to_minor_units(data.total_cost_incl, data.currency)
    flags = []
    if session is None:
        flags.append(NO_SESSION)
    if driver_id is None:
        flags.append(UNKNOWN_TOKEN)
    if audit is None:
        flags.append(UNPRICED)
    elif abs(audit - total_minor) > AUDIT_TOLERANCE_MINOR:
        flags.append(PRICE_MISMATCH)
    return Cdr(
        country_code=data.country_code,
        party_id=data.party_id,
        ocpi_id=data.ocpi_id,
        session_pk=session.id if session else None,
        session_id=data.session_id,
        start_date_time=data.start_date_time,
        end_date_time=data.end_date_time,
        cdr_token=data.cdr_token,
        auth_method=data.auth_method,
        authorization_reference=data.authorization_reference,
        cdr_location=data.cdr_location,
        currency=data.currency,
        tariffs=data.tariffs,
        charging_periods=data.charging_periods,
        signed_data=data.signed_data,
        total_cost_excl=data.total_cost_excl,
        total_cost_incl=data.total_cost_incl,
        total_cost_minor=total_minor,
        total_cost_excl_minor=to_minor_units(data.total_cost_excl, data.currency),
        cost_breakdown=data.cost_breakdown,
        total_energy=data.total_energy,
        total_time=data.total_time,
        total_parking_time=data.total_parking_time,
        partner_id=partner_id,
        driver_id=driver_id,
        audit_total_minor=audit,
        flags=flags,
        last_updated=data.last_updated,
    )


def audit_price(data: PartnerCdr) -> int | None:
    """Re-price a CDR's charging periods with its tariff through app/tariffs (None: cannot)."""
    tariff_data = _cdr_tariff(data)
    periods = data.periods
    if tariff_data is None or not periods:
        return None
    location = queries.location_by_key(
        data.country_code, data.party_id, str(data.cdr_location.get("id", ""))
    )
    zone = ZoneInfo(location.time_zone if location else "UTC")
    try:
        tariff = parse_tariff(tariff_data, data.version)
        result = price_session(tariff, periods, zone)
    except (TariffError, PeriodError, ValueError, KeyError) as error:
        log.warning("CDR %s cannot be re-priced: %s", data.ocpi_id, error)
        return None
    return result.minor_units(incl_tax=True)


def _cdr_tariff(data: PartnerCdr) -> dict[str, Any] | None:
    """The tariff to re-price with: the CDR's own, else the connector's from our inventory."""
    if data.tariffs:
        return data.tariffs[0]
    _, _, connector = inventory_place(
        data.country_code,
        data.party_id,
        str(data.cdr_location.get("id", "")),
        data.cdr_location.get("evse_uid"),
        data.cdr_location.get("connector_id"),
    )
    tariff = queries.tariff_for(connector, data.country_code, data.party_id)
    return tariff.to_ocpi() if tariff else None


def cdr_periods(raw: Sequence[dict[str, Any]], end: datetime) -> list[SessionPeriod]:
    """Turn OCPI CdrChargingPeriods (parsed) into the engine's periods; each ends at the next."""
    starts = [period["start_date_time"] for period in raw]
    periods = []
    for index, period in enumerate(raw):
        until = starts[index + 1] if index + 1 < len(raw) else end
        volumes = {d["type"]: Decimal(str(d["volume"])) for d in period["dimensions"]}
        parking = CdrDimension.PARKING_TIME.value in volumes and not volumes.get("ENERGY")
        state = PeriodState.PARKING if parking else PeriodState.CHARGING
        energy = volumes.get(CdrDimension.ENERGY.value, Decimal(0))
        if until <= starts[index]:
            until = starts[index] + timedelta(microseconds=1)
        periods.append(SessionPeriod(starts[index], until, energy, state))
    return periods


def authorize_driver(
    uid: str,
    token_type: str,
    parties: Sequence[tuple[str, str]],
    location_id: str | None = None,
    evse_uids: Sequence[str] = (),
) -> DriverAuthorization | None:
    """Decide, from the driver's account, whether a partner CPO may let this token charge.

    parties: the CPO parties of the asking partner (where `location_id` is looked up).
    None when the token is not one of our drivers'.
    """
    token = own_token(uid, token_type)
    link = queries.driver_token(uid) if token else None
    if token is None or link is None:
        return None
    driver = db.session.get(User, link.user_id)
    allowed = account_decision(token, driver, parties, location_id, evse_uids)
    reference = "PPA" + secrets.token_hex(12).upper() if allowed == "ALLOWED" else None
    db.session.commit()
    return DriverAuthorization(allowed, token, reference)


def account_decision(
    token: Token,
    driver: User | None,
    parties: Sequence[tuple[str, str]] = (),
    location_id: str | None = None,
    evse_uids: Sequence[str] = (),
) -> str:
    """The OCPI AllowedType the driver's account gives: one rule for OCPI and Hubject."""
    if driver is None or not driver.active:
        return "EXPIRED"
    if not token.valid:
        return "BLOCKED"
    if not payments.has_usable_card(driver.id) or payments.unpaid_roaming_charges(driver.id):
        return "NO_CREDIT"
    if location_id and not _may_charge_at(parties, location_id, evse_uids):
        return "NOT_ALLOWED"
    return "ALLOWED"


def _may_charge_at(
    parties: Sequence[tuple[str, str]], location_id: str, evse_uids: Sequence[str]
) -> bool:
    """False for a location we hold as hidden or removed, or EVSEs it does not have (any more).

    A location not in our inventory yet (not synced) is the CPO's to judge.
    """
    for country_code, party_id in parties:
        location = queries.location_by_key(country_code, party_id, location_id)
        if location is None:
            continue
        if not location.publish or location.deleted_at is not None:
            return False
        usable = {e.uid for e in location.evses if e.status != EvseStatus.REMOVED.value}
        return all(uid in usable for uid in evse_uids)
    return True
