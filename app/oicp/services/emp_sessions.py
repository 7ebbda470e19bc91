"""PlugPool as EMP: our drivers on Hubject's chargers.

Served: AuthorizeStart / AuthorizeStop for our drivers' cards (an own, valid token linked to a
driver, with a saved card when payments are on: the rule our chargers apply too); CDRs and
charging notifications Hubject forwards. Sent: AuthorizeRemoteStart / Stop when a driver
starts from the app, GetChargeDetailRecords as the safety net, PushAuthenticationData.
A CDR is priced by the one engine with the EVSE's tariff (PullEVSEPricing) and charged to the
driver's saved card by a job, once per Hubject SessionID.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.charging import queries as charging_queries
from app.charging.models import DriverToken
from app.charging.services.roaming import account_decision
from app.core.clock import utcnow
from app.core.errors import Conflict
from app.core.outbox import emit
from app.extensions import db
from app.inventory.models import Connector, Evse, Location
from app.ocpi.models import Token
from app.oicp import mapping
from app.oicp.client import HubjectClient
from app.oicp.errors import Code, HubjectCallFailed, OicpError, status_code
from app.oicp.models import OicpCdr, OicpOperator, OicpSession
from app.oicp.queries import session_by_hubject_id
from app.oicp.schemas.charging import ChargeDetailRecords
from app.payments import roaming
from app.payments.models import RoamingCharge, RoamingState
from app.tariffs.engine import parse_tariff
from app.tariffs.engine.quote import quote_window
from app.tariffs.models import Tariff

log = logging.getLogger("plugpool.oicp.emp")
CDR_RECEIVED = "oicp.cdr_received"
DEFAULT_POWER_KW = Decimal(11)


class HubjectRefused(Conflict):
    """Hubject (or its CPO) refused a driver's request; the message says why (409)."""


def provider() -> str:
    """PlugPool's ProviderID, normalised."""
    return mapping.provider_id(current_app.config["OICP_PROVIDER_ID"])


# Tokens


def _own_token(identification: dict[str, Any]) -> tuple[Token, DriverToken]:
    """The own driver token an Identification names (OicpError with the refusal code)."""
    uid, kind = mapping.identification_token(identification)
    config = current_app.config
    query = select(Token).where(
        Token.country_code == config["OWN_COUNTRY_CODE"], Token.party_id == config["OWN_PARTY_ID"]
    )
    if kind == "RFID":
        token = db.session.scalars(query.where(Token.uid == uid)).first()
        missing = Code.RFID_INVALID_UID
    else:
        if mapping.compact(uid)[:5] != mapping.compact(provider()):
            raise OicpError(Code.INCONSISTENT_EVCO_ID, "not an EvcoID of this provider")
        contract = mapping.contract_of(uid)
        token = db.session.scalars(query.where(Token.contract_id == contract)).first()
        missing = Code.PLC_INVALID_EVCO_ID
    if token is None:
        raise OicpError(missing)
    link = charging_queries.driver_token(token.uid)
    if link is None:
        raise OicpError(Code.NO_VALID_CONTRACT, "the token belongs to no driver")
    allowed = account_decision(token, db.session.get(User, link.user_id))
    if allowed != "ALLOWED":
        raise OicpError(Code(mapping.REFUSAL_CODES[allowed]), allowed.replace("_", " ").lower())
    return token, link


def _payments_on() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def evco_of_driver(user_id: int) -> str:
    """The EvcoID of a driver's own token (issued on first use)."""
    from app.charging.services import driver_token_uid

    uid = driver_token_uid(user_id)
    token = db.session.scalars(select(Token).where(Token.uid == uid)).first()
    if token is None or not token.contract_id:
        raise HubjectRefused("the driver has no contract id")
    return mapping.evco_id(token.contract_id)


# Served: authorisation of our drivers' cards


def authorize_start(data: dict[str, Any]) -> dict[str, Any]:
    """Answer AuthorizeStart for a card of ours; an Authorized answer opens an EMP session."""
    if data.get("EvseID") and not mapping.evse_belongs(data["EvseID"], data["OperatorID"]):
        raise OicpError(Code.INCONSISTENT_EVSE_ID)
    token, link = _own_token(data["Identification"])
    record = OicpSession(
        role="EMP",
        session_id=data.get("SessionID") or str(uuid.uuid4()),
        cpo_partner_session_id=data.get("CPOPartnerSessionID"),
        provider_id=provider(),
        operator_id=mapping.operator_id(data["OperatorID"]),
        evse_id=(data.get("EvseID") or "").upper(),
        token_uid=token.uid,
        identification=data["Identification"],
        kind="authorize",
        status="authorized",
        user_id=link.user_id,
    )
    db.session.add(record)
    db.session.flush()
    record.emp_partner_session_id = f"PLG-{record.id}"
    db.session.commit()
    return {
        "SessionID": record.session_id,
        "CPOPartnerSessionID": record.cpo_partner_session_id,
        "EMPPartnerSessionID": record.emp_partner_session_id,
        "ProviderID": provider(),
        "AuthorizationStatus": "Authorized",
        "StatusCode": status_code(Code.SUCCESS),
        "AuthorizationStopIdentifications": [data["Identification"]],
    }


def authorize_stop(data: dict[str, Any]) -> dict[str, Any]:
    """Answer AuthorizeStop: the card that started the session (or its driver's) may stop it."""
    record = session_by_hubject_id(data["SessionID"])
    if record is None or record.role != "EMP":
        raise OicpError(Code.SESSION_INVALID)
    _token, link = _own_token(data["Identification"])
    if link.user_id != record.user_id:
        raise OicpError(Code.NO_POSITIVE_RESPONSE, "another driver's session")
    return {
        "SessionID": record.session_id,
        "CPOPartnerSessionID": data.get("CPOPartnerSessionID"),
        "EMPPartnerSessionID": record.emp_partner_session_id,
        "ProviderID": provider(),
        "AuthorizationStatus": "Authorized",
        "StatusCode": status_code(Code.SUCCESS),
    }


# Sent: remote start and stop from the app


def hubject_evse(evse_pk: int) -> tuple[Evse, str]:
    """A pulled Hubject EVSE and its EvseID (HubjectRefused when it is not one)."""
    evse = db.session.get(Evse, evse_pk)
    location = evse.location if evse is not None else None
    operator = (
        db.session.scalars(
            select(OicpOperator).where(
                OicpOperator.country_code == location.country_code,
                OicpOperator.party_id == location.party_id,
            )
        ).first()
        if location is not None
        else None
    )
    if evse is None or operator is None or not evse.evse_id:
        raise HubjectRefused("not a Hubject charger")
    if evse.status in ("OUTOFORDER", "INOPERATIVE", "REMOVED"):
        raise HubjectRefused("the charger is out of service")
    return evse, evse.evse_id


def start_remote(user_id: int, evse_pk: int, client: HubjectClient | None = None) -> OicpSession:
    """AuthorizeRemoteStart at a Hubject charger for a driver; return the accepted session."""
    evse, evse_id = hubject_evse(evse_pk)
    evco = evco_of_driver(user_id)
    reference = _hold(user_id, evse)
    record = OicpSession(
        role="EMP",
        provider_id=provider(),
        evse_id=evse_id,
        evse_pk=evse.id,
        token_uid=evco,
        identification=mapping.remote_identification(evco),
        kind="remote",
        status="pending",
        user_id=user_id,
        charge_reference=reference,
    )
    db.session.add(record)
    db.session.flush()
    record.emp_partner_session_id = f"PLG-{record.id}"
    body = {
        "EMPPartnerSessionID": record.emp_partner_session_id,
        "ProviderID": provider(),
        "EvseID": evse_id,
        "Identification": record.identification,
    }
    path = f"charging/v21/providers/{provider()}/authorize-remote/start"
    db.session.commit()
    try:
        ack = (client or HubjectClient()).acknowledged(path, body)
    except HubjectCallFailed as error:
        record.status, record.last_error = "failed", str(error)[:255]
        db.session.commit()
        if reference:
            roaming.release_hold(reference)
        raise HubjectRefused(str(error)) from error
    record.session_id, record.status = ack.get("SessionID"), "accepted"
    record.cpo_partner_session_id = ack.get("CPOPartnerSessionID")
    db.session.commit()
    return record


def _hold(user_id: int, evse: Evse) -> str | None:
    """Place the roaming hold (as for OCPI partners) when payments are on; its reference."""
    if not _payments_on():
        return None
    from app.accounts.models import User

    connector = evse.connectors[0] if evse.connectors else None
    tariff = _tariff(connector, evse.location)
    terms = roaming.roaming_terms(tariff.currency if tariff else "EUR")
    try:
        return roaming.hold_for_start(db.session.get(User, user_id), terms).authorization_reference
    except Exception as error:  # no card, or the card refused the hold
        raise HubjectRefused(f"payment: {error}") from error


def stop_remote(user_id: int, session_pk: int, client: HubjectClient | None = None) -> OicpSession:
    """AuthorizeRemoteStop of the driver's Hubject session."""
    record = db.session.get(OicpSession, session_pk)
    if record is None or record.user_id != user_id or record.role != "EMP" or not record.session_id:
        raise HubjectRefused("no such session")
    body = {
        "SessionID": record.session_id,
        "CPOPartnerSessionID": record.cpo_partner_session_id,
        "EMPPartnerSessionID": record.emp_partner_session_id,
        "ProviderID": provider(),
        "EvseID": record.evse_id,
    }
    path = f"charging/v21/providers/{provider()}/authorize-remote/stop"
    try:
        (client or HubjectClient()).acknowledged(path, {k: v for k, v in body.items() if v})
    except HubjectCallFailed as error:
        raise HubjectRefused(str(error)) from error
    record.status = "stopping"
    db.session.commit()
    return record


# Notifications and CDRs


def receive_notification(data: dict[str, Any]) -> OicpSession:
    """Note a charging notification on our driver's session (400 when unknown)."""
    record = session_by_hubject_id(data["SessionID"])
    if record is None or record.role != "EMP":
        raise OicpError(Code.SESSION_INVALID)
    if mapping.compact(record.evse_id or data["EvseID"]) != mapping.compact(data["EvseID"]):
        raise OicpError(Code.INCONSISTENT_EVSE_ID)
    record.notified = [*record.notified, data["Type"]]
    record.status = {"Start": "started", "End": "stopped", "Error": "failed"}.get(
        data["Type"], record.status
    )
    db.session.commit()
    return record


def receive_cdr(data: dict[str, Any]) -> OicpSession | OicpCdr:
    """Store a Hubject CDR of our driver once and queue its billing (a repeat is acknowledged)."""
    existing = db.session.scalars(
        select(OicpCdr).where(OicpCdr.session_id == data["SessionID"])
    ).first()
    if existing is not None:
        return existing
    record = session_by_hubject_id(data["SessionID"])
    if record is not None and record.role != "EMP":
        raise OicpError(Code.SESSION_INVALID)
    user_id = record.user_id if record else _own_token(data["Identification"])[1].user_id
    currency, amount = price_cdr(data)
    cdr = OicpCdr(
        session_id=data["SessionID"],
        oicp_session_pk=record.id if record else None,
        user_id=user_id,
        evse_id=data["EvseID"].upper(),
        record=_jsonable(data),
        currency=currency,
        total_cost_minor=amount,
        billing_status="due",
    )
    db.session.add(cdr)
    if record is not None:
        record.status = "ended"
    try:
        db.session.flush()
    except IntegrityError:  # the same CDR raced in (Hubject retried): the first one stands
        db.session.rollback()
        return _require_cdr(data["SessionID"])
    emit(db.session, CDR_RECEIVED, "oicp_cdr", str(cdr.id), {"cdr_pk": cdr.id})
    db.session.commit()
    return record or cdr


def _require_cdr(session_id: str) -> OicpCdr:
    found = db.session.scalars(select(OicpCdr).where(OicpCdr.session_id == session_id)).first()
    if found is None:
        raise OicpError(Code.DATA_TRANSACTION_ERROR)
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return mapping.iso(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def price_cdr(data: dict[str, Any]) -> tuple[str, int]:
    """Price a Hubject CDR with the EVSE's pulled tariff (no tariff: free, logged)."""
    evse = db.session.scalars(
        select(Evse).where(Evse.uid == mapping.compact(data["EvseID"])[:36])
    ).first()
    connector = evse.connectors[0] if evse is not None and evse.connectors else None
    location = evse.location if evse is not None else None
    tariff = _tariff(connector, location)
    if tariff is None:
        log.warning("no tariff for Hubject EVSE %s: CDR priced 0", data["EvseID"])
        return "EUR", 0
    energy = Decimal(data["ConsumedEnergy"])
    start, end = data["ChargingStart"], max(data["ChargingEnd"], data["SessionEnd"])
    power = connector.power_kw if connector is not None and connector.power_kw else DEFAULT_POWER_KW
    hours = Decimal(str(max((data["ChargingEnd"] - start).total_seconds(), 1) / 3600))
    power = max(min(power, energy / hours if energy else power), Decimal("0.001"))
    if end <= start:
        end = start + timedelta(seconds=1)
    parsed = parse_tariff(tariff.to_ocpi(), version="2.2.1")
    zone = ZoneInfo(location.time_zone if location is not None else "UTC")
    result = quote_window(
        parsed, start, end, zone, energy_kwh=max(energy, Decimal("0.001")), power_kw=power
    )
    return result.currency, result.minor_units()


def _tariff(connector: Connector | None, location: Location | None) -> Tariff | None:
    if connector is None or location is None:
        return None
    return charging_queries.tariff_for(connector, location.country_code, location.party_id)


def bill_due_cdrs(limit: int = 50) -> int:
    """Bill drivers for Hubject CDRs as for OCPI ones (app.payments.roaming): the CDR's cost plus
    PlugPool's roaming fee, captured from the start's hold, the rest charged; return billed."""
    rows = db.session.scalars(
        select(OicpCdr).where(OicpCdr.billing_status == "due").order_by(OicpCdr.id).limit(limit)
    ).all()
    billed = 0
    for cdr in rows:
        if cdr.user_id is None:
            cdr.billing_status = "no_driver"
            db.session.commit()
            continue
        charge = _charge_for(cdr)
        cdr.roaming_charge_pk, cdr.billing_status = charge.id, "billed"
        db.session.commit()
        roaming.settle_roaming_charge(charge.id)
        billed += 1
    return billed


def _charge_for(cdr: OicpCdr) -> RoamingCharge:
    """The hold of the session's start (by reference), else a new charge; with what is due."""
    record = db.session.get(OicpSession, cdr.oicp_session_pk) if cdr.oicp_session_pk else None
    reference = record.charge_reference if record is not None else None
    charge = roaming._by_reference(reference) if reference else None
    if not roaming.takes_cdr(charge):
        terms = roaming.roaming_terms(cdr.currency)
        charge = RoamingCharge(
            driver_id=cdr.user_id,
            authorization_reference=roaming.new_reference(),
            currency=cdr.currency,
            fee_minor=terms.fee_minor,
        )
        db.session.add(charge)
    charge.cdr_cost_minor = cdr.total_cost_minor
    charge.due_minor = cdr.total_cost_minor + charge.fee_minor
    charge.state = RoamingState.DUE.value
    db.session.flush()
    return charge


def fetch_cdrs(since: datetime, client: HubjectClient | None = None) -> int:
    """GetChargeDetailRecords 2.2 since `since` (safety net); store the ones we missed."""
    client = client or HubjectClient()
    path = f"cdrmgmt/v22/providers/{provider()}/get-charge-detail-records-request"
    body = {"ProviderID": provider(), "From": mapping.iso(since), "To": mapping.iso(utcnow())}
    size = int(current_app.config["OICP_PULL_PAGE_SIZE"])
    page, stored = 0, 0
    while True:
        answer = client.post(path, body, ChargeDetailRecords, params={"page": page, "size": size})
        for record in answer["content"]:
            known = db.session.scalars(
                select(OicpCdr.id).where(OicpCdr.session_id == record["SessionID"])
            ).first()
            if known is None:
                try:
                    receive_cdr(record)
                    stored += 1
                except OicpError as error:
                    db.session.rollback()
                    log.warning("CDR %s not taken: %s", record["SessionID"], error)
        if answer["last"] or not answer["content"]:
            return stored
        page += 1


def push_authentication_data(client: HubjectClient | None = None) -> int:
    """PushAuthenticationData 2.1 fullLoad of our drivers' valid RFID cards; return how many."""
    config = current_app.config
    query = (
        select(Token.uid)
        .join(DriverToken, DriverToken.uid == Token.uid)
        .where(
            Token.country_code == config["OWN_COUNTRY_CODE"],
            Token.party_id == config["OWN_PARTY_ID"],
            Token.valid.is_(True),
        )
        .order_by(Token.uid)
    )
    # Only cards OICP can name (hex UIDs); app tokens authorise through RemoteStart instead.
    uids = [uid for uid in db.session.scalars(query) if mapping.is_card_uid(uid)]
    body = {
        "ActionType": "fullLoad",
        "ProviderAuthenticationData": {
            "ProviderID": provider(),
            "AuthenticationDataRecord": [
                {"Identification": mapping.card_identification(uid)} for uid in uids
            ],
        },
    }
    (client or HubjectClient()).acknowledged(
        f"authdata/v21/providers/{provider()}/push-request", body
    )
    return len(uids)
