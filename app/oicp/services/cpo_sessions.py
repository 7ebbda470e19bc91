"""PlugPool as CPO: Hubject's remote start/stop and reservations at our chargers, cards unknown
to PlugPool authorised through Hubject, and the CDR and charging notifications of each session.

Remote commands are answered synchronously (OICP gives 10 seconds, network included): we wait
at most OICP_REMOTE_START_TIMEOUT for the charger through the gateway's command bus.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.charging.commands import CommandSender, command_sender
from app.charging.enums import AuthMethod
from app.charging.models import Cdr, ChargingSession
from app.charging.tokens import Decision
from app.core.clock import utcnow
from app.extensions import db
from app.gateway import commands as ocpp
from app.gateway.errors import CommandTimeout, GatewayError, StationOffline
from app.gateway.ports import AuthorizationStatus
from app.inventory.models import ChargeStation, Evse, Location
from app.oicp import mapping
from app.oicp.client import HubjectClient
from app.oicp.errors import Code, HubjectCallFailed, OicpError
from app.oicp.models import OicpSession
from app.oicp.queries import own_published_filter, session_by_hubject_id
from app.oicp.schemas.charging import Authorization
from app.oicp.services.cpo_push import operator

log = logging.getLogger("plugpool.oicp.cpo")
PENDING_WINDOW = timedelta(minutes=10)  # a remote start's token is honoured this long
OPEN = ("pending", "accepted", "authorized", "started")
UNUSABLE = {"OUTOFORDER": Code.EVSE_OUT_OF_SERVICE, "INOPERATIVE": Code.EVSE_OUT_OF_SERVICE}
BUSY = {"CHARGING", "BLOCKED"}


def find_own_evse(evse_id: str) -> Evse:
    """The own published EVSE an EvseID names (018 when another operator's, 603 unknown)."""
    if not mapping.evse_belongs(evse_id, operator()):
        raise OicpError(Code.INCONSISTENT_EVSE_ID, f"{evse_id} is not an EVSE of {operator()}")
    wanted = mapping.compact(evse_id)
    by_id = func.upper(func.replace(Evse.evse_id, "*", ""))
    tail = wanted[len(mapping.compact(operator())) + 1 :]
    by_uid = func.upper(func.replace(func.replace(Evse.uid, "-", ""), "_", ""))
    query = (
        select(Evse)
        .join(Location, Location.id == Evse.location_id)
        .where(*own_published_filter(), Evse.status != "REMOVED")
        .where((by_id == wanted) | (Evse.evse_id.is_(None) & (by_uid == tail)))
    )
    evse = db.session.scalars(query).first()
    if evse is None:
        raise OicpError(Code.UNKNOWN_EVSE_ID, f"no EVSE {evse_id}")
    return evse


def _usable(evse: Evse) -> ChargeStation:
    """The EVSE's connected station, or the OICP code that says why it cannot start."""
    if evse.status in UNUSABLE:
        raise OicpError(UNUSABLE[evse.status])
    if evse.status in BUSY:
        raise OicpError(Code.EVSE_IN_USE)
    station = evse.station
    if station is None or evse.ocpp_evse_id is None or not station.connected:
        raise OicpError(Code.EVSE_COMMUNICATION_FAILED, "the charger is not connected")
    return station


def remote_start(data: dict[str, Any], sender: CommandSender | None = None) -> OicpSession:
    """Carry out Hubject's AuthorizeRemoteStart at our charger; the session answers it."""
    evse = find_own_evse(data["EvseID"])
    station = _usable(evse)
    evco = data["Identification"]["RemoteIdentification"]["EvcoID"].upper()
    record = _new_session(data, evse, evco, "remote")
    db.session.commit()  # the charger's Authorize, on another connection, must find it
    token = evco if len(evco) <= 20 else mapping.compact(evco)[:20]  # OCPP 1.6 idTag: 20 chars
    command = ocpp.RemoteStart(token, evse_id=evse.ocpp_evse_id, remote_start_id=record.id)
    _run(record, station.station_id, command, sender)
    return record


def _new_session(data: dict[str, Any], evse: Evse, token: str, kind: str) -> OicpSession:
    record = OicpSession(
        role="CPO",
        session_id=data.get("SessionID") or str(uuid.uuid4()),
        emp_partner_session_id=data.get("EMPPartnerSessionID"),
        provider_id=mapping.provider_id(data["ProviderID"]),
        operator_id=operator(),
        evse_id=data["EvseID"].upper(),
        evse_pk=evse.id,
        token_uid=token if len(token) <= 20 else mapping.compact(token)[:20],
        identification=data["Identification"],
        kind=kind,
        status="pending",
    )
    db.session.add(record)
    db.session.flush()
    record.cpo_partner_session_id = f"PLG-{record.id}"
    return record


def _run(record: OicpSession, station_id: str, command: Any, sender: CommandSender | None) -> None:
    """Send a command; the record's status says how it went (committed either way)."""
    timeout = float(current_app.config["OICP_REMOTE_START_TIMEOUT"])
    try:
        answer = (sender or command_sender()).send_command(station_id, command, timeout)
    except (StationOffline, CommandTimeout) as error:
        _fail(record, Code.EVSE_COMMUNICATION_FAILED, str(error))
    except GatewayError as error:
        _fail(record, Code.EVSE_COMMUNICATION_FAILED, str(error))
    else:
        if answer.status == "Accepted":
            record.status = "accepted"
            db.session.commit()
            return
        _fail(record, Code.EVSE_IN_USE, f"the charger answered {answer.status}")


def _fail(record: OicpSession, code: Code, info: str) -> None:
    record.status, record.last_error = "failed", f"{code.value} {info}"[:255]
    db.session.commit()
    raise OicpError(code, info)


def remote_stop(data: dict[str, Any], sender: CommandSender | None = None) -> OicpSession:
    """Carry out Hubject's AuthorizeRemoteStop of a session it started (400 when unknown)."""
    record = _known_session(data)
    session = _charging_session(record)
    if session is None or not session.is_open or session.transaction_id is None:
        raise OicpError(Code.SESSION_INVALID, "no charging in progress for this SessionID")
    _run(record, session.station_id, ocpp.RemoteStop(session.transaction_id), sender)
    record.status = "stopping"
    db.session.commit()
    return record


def _charging_session(record: OicpSession) -> ChargingSession | None:
    """The charging session a Hubject session started (linked here if the job has not yet)."""
    if record.charging_session_pk is not None:
        return db.session.get(ChargingSession, record.charging_session_pk)
    query = (
        select(ChargingSession)
        .where(
            ChargingSession.evse_pk == record.evse_pk,
            ChargingSession.token_uid == record.token_uid,
            ChargingSession.end_date_time.is_(None),
        )
        .order_by(ChargingSession.id.desc())
    )
    session = db.session.scalars(query).first()
    if session is not None:
        session_of(session)
    return session


def _known_session(data: dict[str, Any]) -> OicpSession:
    record = session_by_hubject_id(data["SessionID"])
    if (
        record is None
        or record.role != "CPO"
        or mapping.compact(record.evse_id) != mapping.compact(data["EvseID"])
        or mapping.compact(record.provider_id or "") != mapping.compact(data["ProviderID"])
    ):
        raise OicpError(Code.SESSION_INVALID, "unknown SessionID for this EVSE and provider")
    return record


def reserve(data: dict[str, Any], sender: CommandSender | None = None) -> OicpSession:
    """AuthorizeRemoteReservationStart: OCPP ReserveNow for Duration minutes (default 15)."""
    evse = find_own_evse(data["EvseID"])
    if "RESERVABLE" not in (evse.capabilities or []):
        raise OicpError(Code.SERVICE_NOT_AVAILABLE, "this EVSE takes no reservations")
    station = _usable(evse)
    evco = data["Identification"]["RemoteIdentification"]["EvcoID"].upper()
    record = _new_session(data, evse, evco, "reservation")
    record.reservation_number = zlib.crc32(record.session_id.encode()) & 0x7FFFFFFF
    db.session.commit()
    until = utcnow() + timedelta(minutes=int(data.get("Duration") or 15))
    command = ocpp.ReserveNow(
        record.reservation_number, record.token_uid or evco, until, evse.ocpp_evse_id
    )
    _run(record, station.station_id, command, sender)
    return record


def cancel_reservation(data: dict[str, Any], sender: CommandSender | None = None) -> OicpSession:
    """AuthorizeRemoteReservationStop: OCPP CancelReservation."""
    record = _known_session(data)
    if record.kind != "reservation" or record.reservation_number is None:
        raise OicpError(Code.SESSION_INVALID, "not a reservation")
    evse = db.session.get(Evse, record.evse_pk) if record.evse_pk else None
    if evse is None or evse.station is None:
        raise OicpError(Code.EVSE_COMMUNICATION_FAILED)
    command = ocpp.CancelReservation(record.reservation_number)
    _run(record, evse.station.station_id, command, sender)
    record.status = "ended"
    db.session.commit()
    return record


# Authorisation at our chargers of tokens PlugPool does not know


def authorize_at_hub(station: ChargeStation, evse: Evse | None, uid: str) -> Decision | None:
    """Decide a token unknown to PlugPool and its OCPI partners through Hubject (None: no)."""
    if not current_app.config.get("OICP_ENABLED"):
        return None
    record = _pending_for(station, evse, uid)
    if record is None and mapping.is_card_uid(uid):
        record = _authorize_start(station, evse, uid)
    if record is None:
        return None
    country, party = mapping.party_of(record.provider_id or "XX-XXX")
    method = (
        AuthMethod.COMMAND if record.kind in ("remote", "reservation") else AuthMethod.AUTH_REQUEST
    )
    evco = record.identification.get("RemoteIdentification", {}).get("EvcoID")
    return Decision(
        status=AuthorizationStatus.ACCEPTED,
        uid=uid,
        token_type="APP_USER" if evco else "RFID",
        country_code=country,
        party_id=party,
        contract_id=mapping.contract_of(evco) if evco else None,
        auth_method=method,
        authorization_reference=(record.session_id or "")[:36],
    )


def _pending_for(station: ChargeStation, evse: Evse | None, uid: str) -> OicpSession | None:
    """A Hubject session at this station that already vouches for the token."""
    evse_pks = [evse.id] if evse is not None else [e.id for e in station.evses]
    query = (
        select(OicpSession)
        .where(
            OicpSession.role == "CPO",
            OicpSession.token_uid == uid.upper(),
            OicpSession.evse_pk.in_(evse_pks),
            OicpSession.status.in_(OPEN),
            OicpSession.created_at >= utcnow() - PENDING_WINDOW,
        )
        .order_by(OicpSession.id.desc())
    )
    return db.session.scalars(query).first()


def _authorize_start(station: ChargeStation, evse: Evse | None, uid: str) -> OicpSession | None:
    """Ask Hubject (AuthorizeStart 2.1); keep the session when it says Authorized."""
    target = evse or (station.evses[0] if len(station.evses) == 1 else None)
    evse_id = mapping.own_evse_id(target.evse_id, target.uid, operator()) if target else None
    partner_id = str(uuid.uuid4())
    body: dict[str, Any] = {
        "CPOPartnerSessionID": partner_id,
        "OperatorID": operator(),
        "Identification": mapping.card_identification(uid),
    }
    if evse_id:
        body["EvseID"] = evse_id
    path = f"charging/v21/operators/{operator()}/authorize/start"
    try:
        answer = HubjectClient().post(path, body, Authorization)
    except HubjectCallFailed as error:
        log.warning("AuthorizeStart at Hubject failed: %s", error)
        return None
    if answer["AuthorizationStatus"] != "Authorized" or not answer.get("SessionID"):
        return None
    record = OicpSession(
        role="CPO",
        session_id=answer["SessionID"],
        cpo_partner_session_id=partner_id,
        emp_partner_session_id=answer.get("EMPPartnerSessionID"),
        provider_id=mapping.provider_id(answer["ProviderID"]) if answer.get("ProviderID") else None,
        operator_id=operator(),
        evse_id=evse_id or "",
        evse_pk=target.id if target else None,
        token_uid=uid.upper(),
        identification=body["Identification"],
        kind="authorize",
        status="authorized",
    )
    db.session.add(record)
    db.session.flush()
    return record


# Session progress: link, notifications, CDR


def session_of(session: ChargingSession) -> OicpSession | None:
    """The Hubject session a charging session belongs to (linking it on first sight)."""
    query = select(OicpSession).where(
        OicpSession.role == "CPO", OicpSession.charging_session_pk == session.id
    )
    record = db.session.scalars(query).first()
    if record is not None or session.token_uid is None or session.evse_pk is None:
        return record
    query = (
        select(OicpSession)
        .where(
            OicpSession.role == "CPO",
            OicpSession.charging_session_pk.is_(None),
            OicpSession.token_uid == session.token_uid.upper(),
            OicpSession.evse_pk == session.evse_pk,
            OicpSession.status.in_(OPEN),
        )
        .order_by(OicpSession.id.desc())
    )
    record = db.session.scalars(query).first()
    if record is not None:
        record.charging_session_pk, record.status = session.id, "started"
        record.cpo_partner_session_id = session.ocpi_id
    return record


def notify(record: OicpSession, session: ChargingSession, client: HubjectClient) -> None:
    """Send the charging notifications (Start, End, Error) not sent yet for this session."""
    kinds = []
    if session.status in ("ACTIVE", "COMPLETED") and "Start" not in record.notified:
        kinds.append("Start")
    if session.end_date_time is not None and "End" not in record.notified:
        kinds.append("Error" if session.status == "INVALID" else "End")
    for kind in kinds:
        client.acknowledged(
            "notificationmgmt/v11/charging-notifications", _notification(kind, record, session)
        )
        record.notified = [*record.notified, kind]


def _notification(kind: str, record: OicpSession, session: ChargingSession) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Type": kind,
        "SessionID": record.session_id,
        "CPOPartnerSessionID": record.cpo_partner_session_id,
        "EMPPartnerSessionID": record.emp_partner_session_id,
        "Identification": record.identification,
        "EvseID": record.evse_id,
        "OperatorID": operator(),
    }
    if kind == "Start":
        body["ChargingStart"] = mapping.iso(session.start_date_time)
        body["SessionStart"] = mapping.iso(session.start_date_time)
        body["MeterValueStart"] = mapping.kwh((session.meter_start_wh or 0) / 1000)
    elif kind == "End":
        body["ChargingStart"] = mapping.iso(session.start_date_time)
        body["ChargingEnd"] = mapping.iso(session.end_date_time or utcnow())
        body["SessionEnd"] = body["ChargingEnd"]
        body["ConsumedEnergy"] = mapping.kwh(session.kwh)
    else:
        body["ErrorType"] = "Critical Error"
        body["ErrorAdditionalInfo"] = (session.invalid_reason or "session not billed")[:250]
    return {key: value for key, value in body.items() if value is not None}


def cdr_body(record: OicpSession, session: ChargingSession, cdr: Cdr) -> dict[str, Any]:
    """The OICP ChargeDetailRecord 2.2 of a finished Hubject session at our charger."""
    body: dict[str, Any] = {
        "SessionID": record.session_id,
        "CPOPartnerSessionID": session.ocpi_id,
        "EMPPartnerSessionID": record.emp_partner_session_id,
        "EvseID": record.evse_id,
        "Identification": record.identification,
        "SessionStart": mapping.iso(cdr.start_date_time),
        "SessionEnd": mapping.iso(cdr.end_date_time),
        "ChargingStart": mapping.iso(cdr.start_date_time),
        "ChargingEnd": mapping.iso(cdr.end_date_time),
        "MeterValueStart": mapping.kwh((session.meter_start_wh or 0) / 1000),
        "MeterValueEnd": mapping.kwh((session.meter_stop_wh or 0) / 1000),
        "ConsumedEnergy": mapping.kwh(cdr.total_energy),
    }
    signed = mapping.signed_metering_values(cdr.signed_data)
    if signed:
        body["SignedMeteringValues"] = signed
        body["CalibrationLawVerificationInfo"] = mapping.calibration_info(cdr.signed_data)
    return {key: value for key, value in body.items() if value is not None}


def send_cdr(
    record: OicpSession, session: ChargingSession, cdr: Cdr, client: HubjectClient
) -> None:
    """POST the ChargeDetailRecord once (a repeat after a lost answer is the same record)."""
    if record.cdr_sent_at is not None:
        return
    path = f"cdrmgmt/v22/operators/{operator()}/charge-detail-record"
    client.acknowledged(path, cdr_body(record, session, cdr))
    record.cdr_sent_at, record.status = utcnow(), "ended"


def session_by_ocpi_id(country_code: str, party_id: str, ocpi_id: str) -> ChargingSession | None:
    """A charging session by its OCPI key."""
    query = select(ChargingSession).where(
        ChargingSession.country_code == country_code,
        ChargingSession.party_id == party_id,
        ChargingSession.ocpi_id == ocpi_id,
    )
    return db.session.scalars(query).first()
