"""Session use cases: 1.6 start/meter/stop and 2.0.1 events, billed as CDRs."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.bookings import services as bookings
from app.bookings.enums import BookingStatus
from app.bookings.models import Booking
from app.charging import queries
from app.charging.cdrs import create_cdr
from app.charging.enums import AuthMethod, NoticeKind, SessionStatus
from app.charging.meters import (
    Reading,
    charging_periods,
    implausibility,
    owner_of,
    readings,
    session_readings,
    store_samples,
)
from app.charging.models import (
    Cdr,
    ChargingSession,
    Notice,
    TransactionEventSeen,
)
from app.charging.services.stations import authorize_token, require_station
from app.charging.tokens import Decision, authorize_at
from app.core.clock import utcnow
from app.core.outbox import emit
from app.extensions import db
from app.gateway.ports import (
    AuthorizationResult,
    AuthorizationStatus,
    MeterReport,
    OcppVersion,
    TransactionEvent,
    TransactionEventResult,
    TransactionEventType,
    TransactionStart,
    TransactionStarted,
    TransactionStop,
)
from app.inventory.models import ChargeStation, Evse, Location
from app.ocpi.commands.queries import mark_started

log = logging.getLogger(__name__)

REMOTE_START_WINDOW = timedelta(minutes=5)  # a start this soon after our RemoteStart is ours

# Sessions (1.6)


def start_transaction(station_id: str, start: TransactionStart) -> TransactionStarted:
    """Open a 1.6 session once per natural key; a resend gets the same id and answer."""
    key = _start_key(station_id, start)
    existing = queries.session_by_start_key(key)
    if existing is None:
        existing = _open_16_session(station_id, start, key)
    status = AuthorizationStatus(existing.auth_status or "Invalid")
    return TransactionStarted(int(existing.transaction_id or 0), AuthorizationResult(status))


def _start_key(station_id: str, start: TransactionStart) -> str:
    """Return the natural key of a 1.6 StartTransaction."""
    stamp = start.timestamp.isoformat()
    return f"{station_id}|{start.connector_id}|{start.id_tag}|{start.meter_start_wh}|{stamp}"[:255]


def _open_16_session(station_id: str, start: TransactionStart, key: str) -> ChargingSession:
    """Create the session of a new 1.6 transaction (its id is the row id)."""
    station = require_station(station_id)
    evse = queries.evse_of(station.id, start.connector_id)
    decision = authorize_at(station, start.id_tag, None, evse, start.timestamp)
    session = _new_session(station, OcppVersion.V16, evse, start.connector_id, start.timestamp)
    session.start_key = key
    session.meter_start_wh = Decimal(start.meter_start_wh)
    _apply_decision(session, decision)
    _link_booking(session, decision, None)  # 1.6 RemoteStart carries no correlation id
    try:
        db.session.flush()
    except IntegrityError:  # the same start raced in on another connection
        db.session.rollback()
        return _require(queries.session_by_start_key(key))
    session.transaction_id = str(session.id)
    _emit_session(session)
    db.session.commit()
    _start_booking(session.booking_id)
    return session


def record_meter_values(station_id: str, report: MeterReport) -> None:
    """Store meter samples once each (a resend is ignored)."""
    tx = None if report.transaction_id is None else str(report.transaction_id)
    session = queries.session_by_transaction(station_id, tx) if tx is not None else None
    owner = owner_of(tx, report.connector_id)
    store_samples(station_id, owner, session.id if session else None, report.samples)
    db.session.commit()


def stop_transaction(station_id: str, stop: TransactionStop) -> AuthorizationResult | None:
    """Close a 1.6 session once and bill it; a resend changes nothing and gets the same answer."""
    tx = str(stop.transaction_id)
    session = queries.session_by_transaction(station_id, tx)
    if session is None:
        log.warning("%s: StopTransaction for unknown transaction %s", station_id, tx)
        db.session.rollback()
        return None if stop.id_tag is None else authorize_token(station_id, stop.id_tag, "")
    cdr = None
    if session.is_open:
        store_samples(station_id, owner_of(tx, None), session.id, stop.samples)
        session.meter_stop_wh = Decimal(stop.meter_stop_wh)
        begin = Reading(session.start_date_time, session.meter_start_wh or Decimal(0))
        cdr = _finish(session, begin, Reading(stop.timestamp, session.meter_stop_wh), stop.reason)
    answer = _stop_answer(station_id, session, stop.id_tag)
    db.session.commit()
    _settle_booking(cdr)
    return answer


def _stop_answer(
    station_id: str, session: ChargingSession, id_tag: str | None
) -> AuthorizationResult | None:
    """Answer a StopTransaction's idTag: the session's own token keeps its start answer."""
    if id_tag is None:
        return None
    if id_tag == session.token_uid:
        return AuthorizationResult(AuthorizationStatus(session.auth_status or "Invalid"))
    station = require_station(station_id)
    return AuthorizationResult(authorize_at(station, id_tag, None, None, utcnow()).status)


# Sessions (2.0.1)


def apply_transaction_event(station_id: str, event: TransactionEvent) -> TransactionEventResult:
    """Apply a 2.0.1 TransactionEvent once per (transaction, seqNo); resends get the same answer."""
    seen = queries.event_seen(station_id, event.transaction_id, event.seq_no)
    if seen is not None:
        return _event_result(seen.auth_status)
    station = require_station(station_id)
    session = queries.session_by_transaction(station_id, event.transaction_id)
    if session is None:
        session = _open_201_session(station, event)
    decision = _event_decision(station, session, event)
    store_samples(station_id, owner_of(event.transaction_id, None), session.id, event.samples)
    if (
        event.event_type is TransactionEventType.STARTED
        and event.timestamp < session.start_date_time
    ):
        session.start_date_time = event.timestamp  # a delayed Started after an offline Updated
    cdr = None
    if event.event_type is TransactionEventType.ENDED and session.is_open:
        cdr = _finish_201(session, event)
    status = decision.status.value if decision else None
    if not _mark_seen(station_id, event, status):
        return _event_result(
            _require(queries.event_seen(station_id, event.transaction_id, event.seq_no)).auth_status
        )
    booking_to_start = session.booking_id if decision and decision.accepted else None
    _settle_booking(cdr)
    _start_booking(booking_to_start)
    return _event_result(status)


def _event_result(status: str | None) -> TransactionEventResult:
    """Return the answer to a TransactionEvent from the stored authorisation status."""
    if status is None:
        return TransactionEventResult()
    return TransactionEventResult(AuthorizationResult(AuthorizationStatus(status)))


def _open_201_session(station: ChargeStation, event: TransactionEvent) -> ChargingSession:
    """Create the session of a 2.0.1 transaction the station just told us about."""
    evse = queries.evse_of(station.id, event.evse_id)
    session = _new_session(station, OcppVersion.V201, evse, event.connector_id, event.timestamp)
    session.transaction_id = event.transaction_id
    session.remote_start_id = event.remote_start_id
    session.status = SessionStatus.PENDING.value  # until a token is authorised
    db.session.add(session)
    db.session.flush()
    _emit_session(session)
    return session


def _event_decision(
    station: ChargeStation, session: ChargingSession, event: TransactionEvent
) -> Decision | None:
    """Authorise the event's token; the session's first token becomes its own."""
    if event.evse_id is not None and session.evse_pk is None:
        _place(session, queries.evse_of(station.id, event.evse_id), event.connector_id)
    if event.id_token is None:
        return None
    if session.auth_method == AuthMethod.COMMAND.value and event.id_token == session.token_uid:
        return _commanded_decision(session)  # a remote start's token is not checked again
    evse = db.session.get(Evse, session.evse_pk) if session.evse_pk else None
    decision = authorize_at(station, event.id_token, event.token_type, evse, event.timestamp)
    if session.token_uid is None:
        _apply_decision(session, decision)
        _link_booking(session, decision, event.remote_start_id)
        _emit_session(session)
    elif event.id_token == session.token_uid and not decision.accepted:
        session.status = SessionStatus.INVALID.value
    return decision


def _commanded_decision(session: ChargingSession) -> Decision:
    """The decision a session started by command keeps for its own token."""
    return Decision(
        status=AuthorizationStatus.ACCEPTED,
        uid=session.token_uid or "",
        token_type=session.token_type or "OTHER",
        country_code=session.token_country_code,
        party_id=session.token_party_id,
        contract_id=session.contract_id,
        auth_method=AuthMethod.COMMAND,
        authorization_reference=session.authorization_reference,
    )


def _finish_201(session: ChargingSession, event: TransactionEvent) -> Cdr | None:
    """End a 2.0.1 session at the Ended event, from its energy register samples."""
    rows = [
        r
        for r in queries.energy_registers(
            session.station_id, owner_of(session.transaction_id, None)
        )
        if r.timestamp <= event.timestamp
    ]
    found = readings(rows)
    first = found[0].wh if found else Decimal(0)
    last = found[-1].wh if found else first
    session.meter_start_wh, session.meter_stop_wh = first, last
    begin = Reading(session.start_date_time, first)
    return _finish(session, begin, Reading(event.timestamp, last), event.stopped_reason, found)


def _mark_seen(station_id: str, event: TransactionEvent, status: str | None) -> bool:
    """Record the event as applied and commit; False when a concurrent copy won."""
    db.session.add(
        TransactionEventSeen(
            station_id=station_id,
            transaction_id=event.transaction_id,
            seq_no=event.seq_no,
            event_type=event.event_type.value,
            auth_status=status,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


# Shared session steps


def _new_session(
    station: ChargeStation,
    version: OcppVersion,
    evse: Evse | None,
    connector_id: int | None,
    at: datetime,
) -> ChargingSession:
    """Return a new session at a station (party of its location, else PlugPool's own)."""
    location = station.location
    own = current_app.config
    session = ChargingSession(
        country_code=location.country_code if location else own["OWN_COUNTRY_CODE"],
        party_id=location.party_id if location else own["OWN_PARTY_ID"],
        ocpi_id=str(uuid.uuid4()),
        station_pk=station.id,
        station_id=station.station_id,
        ocpp_version=version.value,
        location_pk=location.id if location else None,
        start_date_time=at,
        kwh=Decimal(0),
        status=SessionStatus.ACTIVE.value,
    )
    _place(session, evse, connector_id)
    db.session.add(session)
    return session


def _place(session: ChargingSession, evse: Evse | None, connector_id: int | None) -> None:
    """Set the session's EVSE and connector."""
    if evse is None:
        return
    connector = queries.connector_of(evse, connector_id)
    session.evse_pk, session.ocpp_evse_id = evse.id, evse.ocpp_evse_id
    session.connector_pk = connector.id if connector else None
    session.ocpp_connector_id = connector_id
    session.location_pk = session.location_pk or evse.location_id


def _apply_decision(session: ChargingSession, decision: Decision) -> None:
    """Record the session's token and what we answered about it."""
    session.token_uid, session.token_type = decision.uid, decision.token_type
    session.token_country_code, session.token_party_id = decision.country_code, decision.party_id
    session.contract_id = decision.contract_id
    session.auth_method = decision.auth_method.value
    session.authorization_reference = decision.authorization_reference
    session.auth_status = decision.status.value
    accepted = SessionStatus.ACTIVE if decision.accepted else SessionStatus.INVALID
    session.status = accepted.value
    if decision.command_id is not None:
        mark_started(decision.command_id, session.ocpi_id)


def _link_booking(session: ChargingSession, decision: Decision, correlation_id: int | None) -> None:
    """Attach the session to the driver's booking of this EVSE covering its start."""
    if not decision.accepted or decision.driver_id is None or session.evse_pk is None:
        return
    booking = queries.booking_in_window(
        session.evse_pk, decision.driver_id, session.start_date_time
    )
    if booking is None:
        return
    session.booking_id = booking.id
    dispatch = queries.dispatch_of(booking.id)
    remote = dispatch and dispatch.remote_started_at
    if correlation_id == booking.id or (remote and utcnow() - remote < REMOTE_START_WINDOW):
        session.auth_method = AuthMethod.COMMAND.value


def _finish(
    session: ChargingSession,
    begin: Reading,
    end: Reading,
    reason: str | None,
    inner: list[Reading] | None = None,
) -> Cdr | None:
    """End a session; bill it with a CDR unless it is invalid or its meter makes no sense."""
    session.end_date_time, session.stop_reason = end.at, (reason or None)
    problem = None if session.status == SessionStatus.INVALID else _problem(session, begin, end)
    if session.status == SessionStatus.INVALID or problem:
        session.status = SessionStatus.INVALID.value
        session.invalid_reason = problem or session.invalid_reason or "token not accepted"
        log.warning("session %s is not billed: %s", session.ocpi_id, session.invalid_reason)
        if problem:
            _flag(session, problem)
        _emit_session(session)
        return None
    if inner is None:
        rows = queries.energy_registers(session.station_id, owner_of(session.transaction_id, None))
        inner = readings(rows)
    session.kwh = (end.wh - begin.wh) / 1000
    session.status = SessionStatus.COMPLETED.value
    db.session.flush()
    cdr = create_cdr(session, charging_periods(session_readings(begin, inner, end)))
    _emit_session(session)
    return cdr


def _flag(session: ChargingSession, problem: str) -> None:
    """Hold an implausible session for review: the owner and the admin see it, unbilled."""
    session.flagged_at = utcnow()
    location = db.session.get(Location, session.location_pk) if session.location_pk else None
    if location is not None and location.owner_id is not None:
        db.session.add(
            Notice(
                user_id=location.owner_id,
                booking_id=session.booking_id,
                kind=NoticeKind.SESSION_FLAGGED.value,
                body=f"A session at {session.station_id} was not billed: {problem}.",
            )
        )


def _problem(session: ChargingSession, begin: Reading, end: Reading) -> str | None:
    """Return why the meter readings cannot be billed (plausibility), or None."""
    evse = db.session.get(Evse, session.evse_pk) if session.evse_pk else None
    connector = queries.connector_of(evse, session.ocpp_connector_id)
    return implausibility(begin, end, connector.power_kw if connector else None)


def _emit_session(session: ChargingSession) -> None:
    """Write a "session.changed" outbox event (OCPI Sessions push)."""
    emit(
        db.session,
        "session.changed",
        "session",
        session.ocpi_id,
        {
            "country_code": session.country_code,
            "party_id": session.party_id,
            "session_id": session.ocpi_id,
            "status": session.status,
        },
    )


def _require(session: ChargingSession | None) -> ChargingSession:
    """Return a row that must exist by now."""
    if session is None:
        raise LookupError("the row a concurrent transaction wrote has disappeared")
    return session


# Bookings


def _start_booking(booking_id: int | None) -> None:
    """Mark the booking active once charging started (the bookings service commits)."""
    if booking_id is None:
        return
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.status != BookingStatus.CONFIRMED:
        return
    bookings.start_booking(booking_id)


def _settle_booking(cdr: Cdr | None) -> None:
    """Hand a booked session's CDR to bookings/payments: capture the CDR's amount."""
    if cdr is None or cdr.booking_id is None:
        return
    booking_id, amount, end = cdr.booking_id, cdr.total_cost_minor, cdr.end_date_time
    energy = cdr.total_energy
    try:
        _start_booking(booking_id)
        booking = db.session.get(Booking, booking_id)
        if booking is not None and booking.status == BookingStatus.ACTIVE:
            bookings.complete_booking(booking_id, energy, end, amount_minor=amount)
    except Exception:  # the CDR stands; the bookings jobs retry completion and capture
        db.session.rollback()
        log.exception("booking %s could not be completed from its CDR", booking_id)


def settle_cdr_bookings() -> int:
    """Complete bookings whose CDR exists but whose completion failed (job); return how many."""
    settled = 0
    for cdr_id in queries.cdrs_awaiting_booking():
        cdr = db.session.get(Cdr, cdr_id)
        _settle_booking(cdr)
        booking = db.session.get(Booking, cdr.booking_id) if cdr and cdr.booking_id else None
        settled += int(booking is not None and booking.status == BookingStatus.COMPLETED)
    db.session.commit()
    return settled
