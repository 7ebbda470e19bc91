"""Read-only selects of stations, sessions, meter values, tokens and bookings for charging."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.bookings.enums import BookingStatus
from app.bookings.models import Booking
from app.charging.enums import ENERGY_REGISTER
from app.charging.models import (
    BookingDispatch,
    Cdr,
    ChargingSession,
    DriverToken,
    EvseStatusReport,
    MeterValue,
    Notice,
    StationEvent,
    TransactionEventSeen,
)
from app.extensions import db
from app.inventory.models import ChargeStation, Connector, Evse, Location
from app.tariffs.models import Tariff

# A driver may plug in a little before the booked start.
EARLY_START = timedelta(minutes=15)
BOOKED_STATUSES = (BookingStatus.CONFIRMED.value, BookingStatus.ACTIVE.value)
# A booking in these states will not charge: its reservation on the charger must go.
RELEASED_STATUSES = (
    BookingStatus.CANCELLED.value,
    BookingStatus.NO_SHOW.value,
    BookingStatus.EXPIRED.value,
    BookingStatus.DECLINED.value,
)


def station(station_id: str, *, for_update: bool = False) -> ChargeStation | None:
    """Return a station by its OCPP identity."""
    query = select(ChargeStation).where(ChargeStation.station_id == station_id)
    if for_update:
        query = query.with_for_update()
    return db.session.scalars(query).first()


@dataclass(frozen=True, slots=True)
class StationCredentials:
    """What a handshake needs of a station (read without loading the whole row)."""

    password_hash: str
    approved: bool
    allow_missing_subprotocol: bool
    accepted_at: datetime | None


def station_credentials(station_id: str) -> StationCredentials | None:
    """Return a station's key hash and handshake flags: a reconnect storm reads these
    thousands of times, so only four columns and no ORM object."""
    row = db.session.execute(
        select(
            ChargeStation.password_hash,
            ChargeStation.approved,
            ChargeStation.allow_missing_subprotocol,
            ChargeStation.accepted_at,
        ).where(ChargeStation.station_id == station_id)
    ).first()
    return None if row is None else StationCredentials(*row)


def evse_of(station_pk: int, ocpp_evse_id: int | None) -> Evse | None:
    """Return the EVSE a station numbers `ocpp_evse_id` (the 1.6 connector id)."""
    if ocpp_evse_id is None:
        return None
    query = select(Evse).where(Evse.station_id == station_pk, Evse.ocpp_evse_id == ocpp_evse_id)
    return db.session.scalars(query).first()


def evses_of_station(station_pk: int) -> list[Evse]:
    """Return a station's EVSEs in their station order."""
    query = select(Evse).where(Evse.station_id == station_pk).order_by(Evse.ocpp_evse_id)
    return list(db.session.scalars(query))


def connector_of(evse: Evse | None, connector_id: int | None) -> Connector | None:
    """Return the EVSE's connector by its 1-based position (OCPP connectorId), else its first."""
    if evse is None or not evse.connectors:
        return None
    if connector_id and 0 < connector_id <= len(evse.connectors):
        return evse.connectors[connector_id - 1]
    return evse.connectors[0]


def status_report(evse_pk: int) -> EvseStatusReport | None:
    """Return the newest status report kept for an EVSE."""
    return db.session.get(EvseStatusReport, evse_pk)


def session_by_transaction(station_id: str, transaction_id: str) -> ChargingSession | None:
    """Return the session of an OCPP transaction at a station."""
    query = select(ChargingSession).where(
        ChargingSession.station_id == station_id,
        ChargingSession.transaction_id == transaction_id,
    )
    return db.session.scalars(query.with_for_update()).first()


def session_by_start_key(start_key: str) -> ChargingSession | None:
    """Return the 1.6 session opened by a StartTransaction with this natural key."""
    query = select(ChargingSession).where(ChargingSession.start_key == start_key)
    return db.session.scalars(query).first()


def event_seen(station_id: str, transaction_id: str, seq_no: int) -> TransactionEventSeen | None:
    """Return the record of a 2.0.1 TransactionEvent already applied."""
    query = select(TransactionEventSeen).where(
        TransactionEventSeen.station_id == station_id,
        TransactionEventSeen.transaction_id == transaction_id,
        TransactionEventSeen.seq_no == seq_no,
    )
    return db.session.scalars(query).first()


def energy_registers(station_id: str, owner: str) -> list[MeterValue]:
    """Return a transaction's total energy register samples, oldest first."""
    query = (
        select(MeterValue)
        .where(
            MeterValue.station_id == station_id,
            MeterValue.owner == owner,
            MeterValue.measurand == ENERGY_REGISTER,
            MeterValue.phase == "",
        )
        .order_by(MeterValue.timestamp, MeterValue.id)
    )
    return list(db.session.scalars(query))


def signed_samples(station_id: str, owner: str) -> list[MeterValue]:
    """Return a transaction's samples that came with signed meter data."""
    query = (
        select(MeterValue)
        .where(
            MeterValue.station_id == station_id,
            MeterValue.owner == owner,
            MeterValue.signed_data.is_not(None),
        )
        .order_by(MeterValue.timestamp, MeterValue.id)
    )
    return list(db.session.scalars(query))


def tariff_for(connector: Connector | None, country_code: str, party_id: str) -> Tariff | None:
    """Return the first live tariff the connector names (OCPI tariff_ids, in order)."""
    if connector is None:
        return None
    for ocpi_id in connector.tariff_ids or []:
        tariff = db.session.scalars(
            select(Tariff).where(
                Tariff.country_code == country_code,
                Tariff.party_id == party_id,
                Tariff.ocpi_id == ocpi_id,
                Tariff.deleted_at.is_(None),
            )
        ).first()
        if tariff is not None:
            return tariff
    return None


def driver_token(uid: str) -> DriverToken | None:
    """Return the driver link of an own token uid."""
    return db.session.scalars(select(DriverToken).where(DriverToken.uid == uid)).first()


def tokens_of_driver(user_id: int) -> list[DriverToken]:
    """Return a driver's tokens, oldest first."""
    query = select(DriverToken).where(DriverToken.user_id == user_id).order_by(DriverToken.id)
    return list(db.session.scalars(query))


def booking_in_window(evse_pk: int, driver_id: int, at: datetime) -> Booking | None:
    """Return the driver's confirmed or active booking of the EVSE whose window covers `at`."""
    query = select(Booking).where(
        Booking.evse_id == evse_pk,
        Booking.driver_id == driver_id,
        Booking.status.in_(BOOKED_STATUSES),
        Booking.starts_at <= at + EARLY_START,
        Booking.ends_at > at,
    )
    return db.session.scalars(query.order_by(Booking.starts_at)).first()


def booked_driver_at_station(station_pk: int, driver_id: int, at: datetime) -> Booking | None:
    """Return the driver's booking covering `at` of any EVSE of a station."""
    query = (
        select(Booking)
        .join(Evse, Evse.id == Booking.evse_id)
        .where(
            Evse.station_id == station_pk,
            Booking.driver_id == driver_id,
            Booking.status.in_(BOOKED_STATUSES),
            Booking.starts_at <= at + EARLY_START,
            Booking.ends_at > at,
        )
    )
    return db.session.scalars(query).first()


def due_bookings(now: datetime) -> list[int]:
    """Return confirmed bookings that have started (or start within EARLY_START), not dispatched."""
    query = (
        select(Booking.id)
        .outerjoin(BookingDispatch, BookingDispatch.booking_id == Booking.id)
        .where(
            Booking.status == BookingStatus.CONFIRMED.value,
            Booking.starts_at <= now + EARLY_START,
            Booking.ends_at > now,
            BookingDispatch.id.is_(None),
        )
        .order_by(Booking.starts_at)
    )
    return list(db.session.scalars(query))


def dispatch_of(booking_id: int) -> BookingDispatch | None:
    """Return what the charging side did for a booking."""
    query = select(BookingDispatch).where(BookingDispatch.booking_id == booking_id)
    return db.session.scalars(query).first()


def cdr_of_session(session_pk: int) -> Cdr | None:
    """Return the CDR of a session, if it has one."""
    return db.session.scalars(select(Cdr).where(Cdr.session_pk == session_pk)).first()


def sessions_of_booking(booking_id: int) -> list[ChargingSession]:
    """Return the charging sessions of a booking, oldest first."""
    query = (
        select(ChargingSession)
        .where(ChargingSession.booking_id == booking_id)
        .order_by(ChargingSession.start_date_time)
    )
    return list(db.session.scalars(query))


def notices_of(user_id: int) -> list[Notice]:
    """Return a user's notices, newest first."""
    query = select(Notice).where(Notice.user_id == user_id).order_by(Notice.id.desc())
    return list(db.session.scalars(query.limit(100)))


def cdrs_awaiting_booking() -> list[int]:
    """Return CDRs whose booking is still open (its completion from the CDR failed before)."""
    query = (
        select(Cdr.id)
        .join(Booking, Booking.id == Cdr.booking_id)
        .where(Booking.status.in_(BOOKED_STATUSES))
        .order_by(Cdr.id)
    )
    return list(db.session.scalars(query))


def reservations_to_release() -> list[int]:
    """Return bookings whose charger still holds our reservation though the booking is off."""
    query = (
        select(BookingDispatch.booking_id)
        .join(Booking, Booking.id == BookingDispatch.booking_id)
        .where(
            BookingDispatch.reservation_status == "Accepted",
            Booking.status.in_(RELEASED_STATUSES),
        )
        .order_by(BookingDispatch.booking_id)
    )
    return list(db.session.scalars(query))


def station_event(station_id: str, event_id: int, timestamp: datetime) -> StationEvent | None:
    """Return a NotifyEvent entry kept before (its natural key)."""
    query = select(StationEvent).where(
        StationEvent.station_id == station_id,
        StationEvent.event_id == event_id,
        StationEvent.timestamp == timestamp,
    )
    return db.session.scalars(query).first()


def station_events(station_id: str, limit: int = 50) -> list[StationEvent]:
    """Return a station's newest reported events."""
    query = (
        select(StationEvent)
        .where(StationEvent.station_id == station_id)
        .order_by(StationEvent.timestamp.desc(), StationEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def reservations_to_retry(station_ids: Collection[str] | None, now: datetime) -> list[int]:
    """Return bookings whose ReserveNow found the station offline, window not over yet.

    With `station_ids` (OCPP ids), only those stations'; the station must be connected now.
    """
    query = (
        select(Booking.id)
        .join(BookingDispatch, BookingDispatch.booking_id == Booking.id)
        .join(Evse, Evse.id == Booking.evse_id)
        .join(ChargeStation, ChargeStation.id == Evse.station_id)
        .where(
            BookingDispatch.reservation_status == "Offline",
            Booking.status == BookingStatus.CONFIRMED.value,
            Booking.ends_at > now,
            ChargeStation.connected.is_(True),
        )
        .order_by(Booking.starts_at)
    )
    if station_ids is not None:
        query = query.where(ChargeStation.station_id.in_(list(station_ids)))
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class FlaggedSession:
    """A session held for review, with what the pages show beside it."""

    session: ChargingSession
    listing: str | None
    owner: str | None


def flagged_session_rows(owner_id: int | None = None, limit: int = 200) -> list[FlaggedSession]:
    """Return sessions that failed the plausibility check, newest first (an owner's, or all)."""
    query = (
        select(ChargingSession, Location.name, Location.address, User.name, User.email)
        .outerjoin(Location, Location.id == ChargingSession.location_pk)
        .outerjoin(User, User.id == Location.owner_id)
        .where(ChargingSession.flagged_at.is_not(None))
    )
    if owner_id is not None:
        query = query.where(Location.owner_id == owner_id)
    query = query.order_by(ChargingSession.flagged_at.desc(), ChargingSession.id.desc())
    return [
        FlaggedSession(session, name or address, owner or email)
        for session, name, address, owner, email in db.session.execute(query.limit(limit))
    ]


def session_by_key(country_code: str, party_id: str, ocpi_id: str) -> ChargingSession | None:
    """Return a session by its OCPI key (party and id)."""
    query = select(ChargingSession).where(
        ChargingSession.country_code == country_code.upper(),
        ChargingSession.party_id == party_id.upper(),
        ChargingSession.ocpi_id == ocpi_id,
    )
    return db.session.scalars(query).first()


def cdr_by_key(country_code: str, party_id: str, ocpi_id: str) -> Cdr | None:
    """Return a CDR by its OCPI key (party and id)."""
    query = select(Cdr).where(
        Cdr.country_code == country_code.upper(),
        Cdr.party_id == party_id.upper(),
        Cdr.ocpi_id == ocpi_id,
    )
    return db.session.scalars(query).first()


def location_by_key(country_code: str, party_id: str, ocpi_id: str) -> Location | None:
    """Return an inventory location by its OCPI key (a partner's, once synced)."""
    query = select(Location).where(
        Location.country_code == country_code.upper(),
        Location.party_id == party_id.upper(),
        Location.ocpi_id == ocpi_id,
    )
    return db.session.scalars(query).first()


def driver_sessions(driver_id: int, limit: int = 50) -> list[ChargingSession]:
    """Return a driver's sessions at partner chargers, newest first."""
    query = (
        select(ChargingSession)
        .where(ChargingSession.driver_id == driver_id)
        .order_by(ChargingSession.start_date_time.desc(), ChargingSession.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def cdr_by_pk(cdr_pk: int) -> Cdr | None:
    """Return a CDR by its row id."""
    return db.session.get(Cdr, cdr_pk)


def flagged_cdrs(limit: int = 200) -> list[Cdr]:
    """Return partner CDRs with a flag (price mismatch, no session, unknown token), newest first."""
    from sqlalchemy import func

    # JSONB on PostgreSQL, JSON text on SQLite: each has its own array length function.
    length = func.jsonb_array_length if db.engine.dialect.name == "postgresql" else None
    flagged = (length or func.json_array_length)(Cdr.flags) > 0
    query = (
        select(Cdr).where(Cdr.partner_id.is_not(None), flagged).order_by(Cdr.id.desc()).limit(limit)
    )
    return list(db.session.scalars(query))


def partner_session_like(
    partner_id: int, token_uid: str, location_id: str, start: datetime
) -> ChargingSession | None:
    """Return a partner's session of this token and location that started at `start`."""
    query = select(ChargingSession).where(
        ChargingSession.partner_id == partner_id,
        ChargingSession.token_uid == token_uid,
        ChargingSession.start_date_time == start,
        ChargingSession.received["location_id"].as_string() == location_id,
    )
    return db.session.scalars(query).first()
