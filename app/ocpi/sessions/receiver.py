"""Sessions and CDRs Receiver (eMSP): translate what partner CPOs push for our drivers.

The rules are OCPI's: the object's party must be one the partner registered as CPO, ids in
the body must match the URL, a PATCH needs last_updated and a session we hold (else 2003, so
the CPO sends the whole object), and an older last_updated than ours is ignored (1000).
What the objects mean for drivers and money is app.charging's (services.roaming).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError

from app.charging import queries
from app.charging.models import Cdr, ChargingSession
from app.charging.services import roaming
from app.ocpi import errors
from app.ocpi.models import OcpiPartner
from app.ocpi.schemas.sessions import CDR, SESSION, session_patch_schema
from app.ocpi.sessions.serialise import PRICE_FIELDS

CPO_ROLES = frozenset({"CPO"})


def check_cpo_party(partner: OcpiPartner, country_code: str, party_id: str) -> None:
    """Refuse an object of a party the partner did not register as CPO (2001, nothing written)."""
    if not partner.holds(country_code, party_id, CPO_ROLES):
        raise errors.InvalidParameters(f"{country_code}*{party_id} is not a CPO party of yours")


def put_session(
    partner: OcpiPartner, version: str, key: tuple[str, str, str], body: Any
) -> ChargingSession | None:
    """PUT a whole Session; None when ours is newer (ignored)."""
    check_cpo_party(partner, key[0], key[1])
    data = _load(SESSION[version](), body, "Session")
    _check_ids(data, key)
    stored = queries.session_by_key(*key)
    if stored is not None and _stale(stored, partner, data["last_updated"]):
        return None
    return roaming.record_partner_session(partner.id, _session(data, body, version))


def patch_session(
    partner: OcpiPartner, version: str, key: tuple[str, str, str], body: Any
) -> ChargingSession | None:
    """PATCH some fields of a Session we hold (2003 if we do not); None when ignored."""
    check_cpo_party(partner, key[0], key[1])
    data = _load(session_patch_schema(version), body, "Session")
    _check_ids(data, key)
    stored = queries.session_by_key(*key)
    if stored is None or stored.partner_id != partner.id or not stored.received:
        raise errors.UnknownObject2003(f"Unknown session {key[2]}: send the whole object")
    if _stale(stored, partner, data["last_updated"]):
        return None
    merged = {**stored.received, **body}
    full = _load(SESSION[version](), merged, "Session")
    return roaming.record_partner_session(partner.id, _session(full, merged, version))


def get_session(partner: OcpiPartner, key: tuple[str, str, str]) -> dict[str, Any]:
    """Return a session the partner pushed, as we hold it."""
    check_cpo_party(partner, key[0], key[1])
    stored = queries.session_by_key(*key)
    if stored is None or stored.partner_id != partner.id or not stored.received:
        raise errors.UnknownObject(f"Unknown session {key[2]}")
    return stored.received


def post_cdr(partner: OcpiPartner, version: str, body: Any) -> Cdr:
    """Store a CDR (once; a resend finds the stored one)."""
    data = _load(CDR[version](), body, "CDR")
    check_cpo_party(partner, data["country_code"], data["party_id"])
    cdr, _ = roaming.record_partner_cdr(partner.id, _cdr(data, body, version))
    if cdr.partner_id != partner.id:
        raise errors.InvalidParameters("This CDR id belongs to another partner")
    return cdr


def get_cdr(partner: OcpiPartner, cdr_pk: int) -> Cdr:
    """A CDR the partner posted (404 for anyone else's)."""
    cdr = queries.cdr_by_pk(cdr_pk)
    if cdr is None or cdr.partner_id != partner.id:
        raise errors.UnknownObject(f"Unknown CDR {cdr_pk}")
    return cdr


def _load(schema: Any, body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise errors.InvalidParameters(f"A {what} must be a JSON object")
    try:
        return schema.load(body)
    except ValidationError as error:
        raise errors.InvalidParameters(f"Invalid {what}: {error.messages}") from error


def _check_ids(data: dict[str, Any], key: tuple[str, str, str]) -> None:
    for name, expected, upper in (
        ("country_code", key[0], True),
        ("party_id", key[1], True),
        ("id", key[2], False),
    ):
        given = data.get(name)
        if given is not None and (given.upper() if upper else given) != (
            expected.upper() if upper else expected
        ):
            raise errors.InvalidParameters(f"{name} in the body differs from the URL")


def _stale(stored: ChargingSession, partner: OcpiPartner, last_updated: datetime) -> bool:
    """Whether the pushed object is older than ours (ignored, answered 1000)."""
    if stored.partner_id != partner.id:
        raise errors.InvalidParameters("This session belongs to another partner")
    return last_updated < stored.last_updated


def price_totals(price: dict[str, Any] | None, version: str) -> tuple[Decimal, Decimal] | None:
    """(excl. taxes, incl. taxes) of an OCPI Price of either version."""
    if not price:
        return None
    if version == "2.2.1":
        excl = Decimal(price["excl_vat"])
        incl = price.get("incl_vat")
        return excl, Decimal(incl) if incl is not None else excl
    excl = Decimal(price["before_taxes"])
    taxes = sum((Decimal(t["amount"]) for t in price.get("taxes") or []), Decimal(0))
    return excl, excl + taxes


def _session(data: dict[str, Any], raw: dict[str, Any], version: str) -> roaming.PartnerSession:
    token = data["cdr_token"]
    totals = price_totals(data.get("total_cost"), version)
    return roaming.PartnerSession(
        country_code=data["country_code"].upper(),
        party_id=data["party_id"].upper(),
        ocpi_id=data["id"],
        start_date_time=data["start_date_time"],
        end_date_time=data.get("end_date_time"),
        kwh=data["kwh"],
        status=data["status"],
        currency=data["currency"].upper(),
        token_uid=token["uid"],
        token_type=token["type"],
        token_country_code=token.get("country_code"),
        token_party_id=token.get("party_id"),
        contract_id=token["contract_id"],
        auth_method=data["auth_method"],
        authorization_reference=data.get("authorization_reference"),
        location_id=data["location_id"],
        evse_uid=data["evse_uid"],
        connector_id=data["connector_id"],
        total_cost_incl=totals[1] if totals else None,
        last_updated=data["last_updated"],
        received=raw,
    )


def _cdr(data: dict[str, Any], raw: dict[str, Any], version: str) -> roaming.PartnerCdr:
    excl, incl = price_totals(data["total_cost"], version) or (Decimal(0), Decimal(0))
    breakdown = {}
    for name in PRICE_FIELDS[1:]:
        totals = price_totals(data.get(name), version)
        if totals:
            breakdown[name] = {"excl_vat": str(totals[0]), "incl_vat": str(totals[1])}
    return roaming.PartnerCdr(
        country_code=data["country_code"].upper(),
        party_id=data["party_id"].upper(),
        ocpi_id=data["id"],
        session_id=data.get("session_id"),
        start_date_time=data["start_date_time"],
        end_date_time=data["end_date_time"],
        cdr_token=raw["cdr_token"],
        auth_method=data["auth_method"],
        authorization_reference=data.get("authorization_reference"),
        cdr_location=raw["cdr_location"],
        currency=data["currency"].upper(),
        tariffs=raw.get("tariffs") or [],
        charging_periods=raw["charging_periods"],
        periods=roaming.cdr_periods(data["charging_periods"], data["end_date_time"]),
        signed_data=raw.get("signed_data"),
        total_cost_excl=excl,
        total_cost_incl=incl,
        cost_breakdown=breakdown,
        total_energy=data["total_energy"],
        total_time=data["total_time"],
        total_parking_time=data.get("total_parking_time") or Decimal(0),
        last_updated=data["last_updated"],
        version=version,
    )
