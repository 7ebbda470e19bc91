"""Booking dispatch: reserve the connector when a booking starts, remote start from the app."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.bookings.models import Booking
from app.charging import queries
from app.charging.commands import CommandSender
from app.charging.enums import NoticeKind
from app.charging.errors import (
    CommandNotAnswered,
    CommandNotDelivered,
    CommandRefused,
    NotStartable,
    StationUnavailable,
)
from app.charging.models import (
    BookingDispatch,
    Notice,
)
from app.charging.services.stations import driver_token_uid
from app.core.clock import utcnow
from app.core.errors import NotFound
from app.extensions import db
from app.gateway import commands as cmd
from app.gateway.errors import CommandTimeout, GatewayError, StationOffline

log = logging.getLogger(__name__)
T = TypeVar("T")


# Booking dispatch: reserve the connector at start, remote start from the app

RESERVATION_REFUSED = frozenset({"Rejected", "Occupied", "Faulted", "Unavailable"})
OFFLINE = "Offline"
ACCEPTED = "Accepted"
# What `_send_status` returns when the gateway, not the charger, failed the command.
GATEWAY_FAILURES = frozenset(
    {"CommandFailed", "UnsupportedCommand", "InvalidCommand", "GatewayError"}
)


@dataclass(frozen=True)
class StationPlan:
    """What a command to a booking's station needs, read before any network call."""

    booking_id: int
    station_id: str
    online: bool
    reservable: bool
    evse_number: int | None
    token_uid: str
    ends_at: datetime


def start_due_bookings(sender: CommandSender, now: datetime | None = None) -> list[int]:
    """Dispatch every confirmed booking whose window has begun (job); return their ids."""
    due = queries.due_bookings(now or utcnow())
    db.session.commit()
    for booking_id in due:
        dispatch_booking(booking_id, sender)
    return due


def dispatch_booking(booking_id: int, sender: CommandSender) -> BookingDispatch:
    """Reserve the booked EVSE (ReserveNow where RESERVABLE); flag an offline station."""
    plan = _claim_dispatch(booking_id)
    if plan is None:
        return _require(queries.dispatch_of(booking_id))
    status = None
    if not plan.online:
        status = OFFLINE
    elif plan.reservable:
        status = _send_status(sender, plan.station_id, _reserve(plan))
    return _record_reservation(booking_id, status)


def retry_reservations(
    sender: CommandSender, station_ids: Collection[str] | None = None, now: datetime | None = None
) -> list[int]:
    """Send ReserveNow again for bookings dispatched while their station was offline (job,
    and on stations' reconnects: `station_ids`); only while the booking's window is not over."""
    retry = queries.reservations_to_retry(station_ids, now or utcnow())
    db.session.commit()
    done = []
    for booking_id in retry:
        booking = db.session.get(Booking, booking_id)
        if booking is None:
            continue
        plan = _plan(booking)
        db.session.commit()
        status = _send_status(sender, plan.station_id, _reserve(plan)) if plan.reservable else None
        if status == OFFLINE:
            continue  # gone again: the next reconnect or round tries once more
        dispatch = _record_reservation(booking_id, status)  # None: nothing to reserve there
        if dispatch.station_offline:
            dispatch.station_offline = False  # reachable again: the booking is not at risk
            db.session.commit()
        done.append(booking_id)
    return done


def record_reservation_update(station_id: str, reservation_id: int, status: str) -> None:
    """Keep on the booking that its station ended the reservation (2.0.1 Expired / Removed)."""
    dispatch = queries.dispatch_of(reservation_id)  # the reservation id is the booking id
    booking = db.session.get(Booking, reservation_id) if dispatch else None
    station = booking.evse.station if booking is not None else None
    if dispatch is None or station is None or station.station_id != station_id:
        log.info("%s: status update of an unknown reservation %s", station_id, reservation_id)
        db.session.rollback()
        return
    if dispatch.reservation_status == status:
        db.session.rollback()
        return  # a resend
    dispatch.reservation_status = status[:24]
    if booking.status in queries.BOOKED_STATUSES and booking.ends_at > utcnow():
        _notify(
            reservation_id,
            NoticeKind.RESERVATION_ENDED,
            f"The charger ended the reservation of this booking ({status}).",
        )
    db.session.commit()


def _claim_dispatch(booking_id: int) -> StationPlan | None:
    """Create the booking's dispatch row (once) and return its plan; None when done before."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or queries.dispatch_of(booking_id) is not None:
        db.session.rollback()
        return None
    plan = _plan(booking)
    db.session.add(BookingDispatch(booking_id=booking_id))
    try:
        db.session.commit()
    except IntegrityError:  # another worker claimed it
        db.session.rollback()
        return None
    return plan


def _plan(booking: Booking) -> StationPlan:
    """Read what commands to the booking's station need."""
    evse = booking.evse
    station = evse.station
    return StationPlan(
        booking_id=booking.id,
        station_id=station.station_id if station else "",
        online=bool(station and station.connected),
        reservable="RESERVABLE" in (evse.capabilities or []),
        evse_number=evse.ocpp_evse_id,
        token_uid=driver_token_uid(booking.driver_id),
        ends_at=booking.ends_at,
    )


def _reserve(plan: StationPlan) -> cmd.ReserveNow:
    """Return the ReserveNow of a booking; the reservation id is the booking id."""
    return cmd.ReserveNow(
        reservation_id=plan.booking_id,
        id_token=plan.token_uid,
        expires_at=plan.ends_at,
        evse_id=plan.evse_number,
    )


def _send_status(sender: CommandSender, station_id: str, command: cmd.Command) -> str:
    """Send a command; return the station's status word, "Offline", or the failure's name."""
    timeout = float(current_app.config.get("GATEWAY_COMMAND_TIMEOUT", 30))
    try:
        return sender.send_command(station_id, command, timeout).status
    except StationOffline:
        return OFFLINE
    except GatewayError as error:
        log.warning("%s: %s failed: %s", station_id, type(command).__name__, error)
        return type(error).__name__[:24]


def _record_reservation(booking_id: int, status: str | None) -> BookingDispatch:
    """Keep the reservation outcome; tell driver and owner when the station was offline."""
    dispatch = _require(queries.dispatch_of(booking_id))
    dispatch.reservation_status = status
    if status == OFFLINE:
        _flag_offline(dispatch)
    elif status in RESERVATION_REFUSED:
        _notify(
            booking_id,
            NoticeKind.RESERVATION_FAILED,
            f"The charger refused the reservation ({status}).",
        )
    db.session.commit()
    return dispatch


def _flag_offline(dispatch: BookingDispatch) -> None:
    """Flag the booking: its station is offline; the driver and the owner are told."""
    if dispatch.station_offline:
        return
    dispatch.station_offline = True
    _notify(
        dispatch.booking_id,
        NoticeKind.STATION_OFFLINE,
        "The charger of this booking is offline; it cannot be reserved or started remotely.",
    )


def _notify(booking_id: int, kind: NoticeKind, body: str) -> None:
    """Add a notice about a booking for its driver and its owner."""
    booking = _require(db.session.get(Booking, booking_id))
    for user_id in {booking.driver_id, booking.location.owner_id}:
        if user_id is not None:
            db.session.add(
                Notice(user_id=user_id, booking_id=booking_id, kind=kind.value, body=body)
            )


def remote_start_booking(driver: User, booking_id: int, sender: CommandSender) -> str:
    """Start charging for the driver's booking now (RemoteStart); return "Accepted" or raise
    why not (offline, refused, not answered: the outcome is kept on the booking's dispatch)."""
    plan = _startable(driver, booking_id)
    command = cmd.RemoteStart(
        id_token=plan.token_uid, evse_id=plan.evse_number, remote_start_id=booking_id
    )
    _note_remote_start(booking_id)  # before sending: the station's start may arrive first
    status = _send_status(sender, plan.station_id, command) if plan.online else OFFLINE
    dispatch = _require(queries.dispatch_of(booking_id))
    dispatch.remote_start_status = status
    if status == OFFLINE:
        dispatch.remote_started_at = None
        _flag_offline(dispatch)
    db.session.commit()
    return _accepted_or_raise(status, "start charging")


def _accepted_or_raise(status: str, action: str) -> str:
    """Return an Accepted answer; raise the error a driver is shown for any other outcome."""
    if status == ACCEPTED:
        return status
    if status == OFFLINE:
        raise StationUnavailable("The charger is offline")
    if status == CommandTimeout.__name__:  # the charger may have acted: not a refusal
        raise CommandNotAnswered(
            f"The charger did not answer in time; it may still {action}", charger_status=status
        )
    if status in GATEWAY_FAILURES:
        detail = f"The charger could not {action} ({status})"
        raise CommandNotDelivered(detail, charger_status=status)
    raise CommandRefused(f"The charger refused to {action} ({status})", charger_status=status)


def _note_remote_start(booking_id: int) -> None:
    """Record that we are asking the station to start, so its session counts as COMMAND."""
    dispatch = queries.dispatch_of(booking_id) or BookingDispatch(booking_id=booking_id)
    db.session.add(dispatch)
    dispatch.remote_started_at = utcnow()
    db.session.commit()


def _startable(driver: User, booking_id: int) -> StationPlan:
    """Return the plan of a booking the driver may start now, or raise why not."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.driver_id != driver.id:
        raise NotFound(f"No booking {booking_id}")
    now = utcnow()
    if booking.status not in queries.BOOKED_STATUSES:
        raise NotStartable(f"A {booking.status} booking cannot be started")
    if not booking.starts_at - queries.EARLY_START <= now < booking.ends_at:
        raise NotStartable("The booking's window has not begun or is over")
    plan = _plan(booking)
    db.session.commit()  # _plan may have issued the driver's token
    return plan


def _require(row: T | None) -> T:
    """Return a row that must exist by now."""
    if row is None:
        raise LookupError("a row this use case relies on has disappeared")
    return row


def remote_stop_booking(driver: User, booking_id: int, sender: CommandSender) -> str:
    """Stop the charging session of the driver's booking (RemoteStop); return "Accepted" or
    raise why not."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.driver_id != driver.id:
        raise NotFound(f"No booking {booking_id}")
    running = [s for s in queries.sessions_of_booking(booking_id) if s.is_open]
    db.session.commit()
    if not running or running[-1].transaction_id is None:
        raise NotStartable("No charging session of this booking is running")
    session = running[-1]
    command = cmd.RemoteStop(transaction_id=session.transaction_id)
    return _accepted_or_raise(_send_status(sender, session.station_id, command), "stop charging")


def release_reservations(sender: CommandSender) -> list[int]:
    """Cancel the charger reservations of bookings that were called off (job); return them."""
    released = queries.reservations_to_release()
    db.session.commit()
    for booking_id in released:
        station = _require(db.session.get(Booking, booking_id)).evse.station
        db.session.commit()
        status = OFFLINE
        if station is not None:
            command = cmd.CancelReservation(reservation_id=booking_id)
            status = _send_status(sender, station.station_id, command)
        if status != OFFLINE:  # an offline charger is asked again at the next round
            dispatch = _require(queries.dispatch_of(booking_id))
            dispatch.reservation_status = f"Released:{status}"[:24]
            db.session.commit()
    return released
