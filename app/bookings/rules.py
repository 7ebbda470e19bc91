"""Booking rules: checks that raise domain errors and never write."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, User
from app.bookings import queries
from app.bookings.enums import BookingStatus, Party
from app.bookings.errors import InvalidTransition, SlotTaken
from app.bookings.models import Booking
from app.bookings.schedule import blacked_out, within_schedule
from app.core.db import DriverStatement
from app.core.errors import Forbidden, ValidationFailed
from app.core.metrics import BOOKING_OUTCOMES
from app.inventory.models import Evse

# EVSE states in which a charger cannot be booked at all.
UNUSABLE_EVSE_STATUSES = frozenset({"INOPERATIVE", "OUTOFORDER", "REMOVED", "PLANNED"})
OVERLAP_SQLSTATE = "23P01"
OVERLAP_SQLITE_MESSAGE = "booking_overlap"


def setting(name: str) -> int:
    """Return an integer booking setting."""
    return int(current_app.config[name])


def ensure_free(
    evse_id: int,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    exclude_id: int | None = None,
    *,
    under: DriverStatement | None = None,
) -> None:
    """Raise SlotTaken with the reason when another booking holds part of the window.

    `under`: a lock to take first, in the same round trip (queries.overlapping_window).
    """
    other = queries.overlapping_window(evse_id, starts_at, ends_at, now, exclude_id, under=under)
    if other is not None:
        BOOKING_OUTCOMES.labels(outcome="slot_taken").inc()
        raise SlotTaken(
            "This charger is already booked for part of that time",
            reason="overlap",
            taken_from=other[0].isoformat(),
            taken_until=other[1].isoformat(),
        )


def is_overlap_violation(error: IntegrityError) -> bool:
    """Tell whether an IntegrityError comes from the no-overlap constraint or trigger."""
    if getattr(error.orig, "sqlstate", None) == OVERLAP_SQLSTATE:
        return True
    return OVERLAP_SQLITE_MESSAGE in str(error.orig)


def check_window(starts_at: datetime, ends_at: datetime, *, now: datetime) -> None:
    """Refuse windows that are empty, too short, too long or too soon."""
    errors: dict[str, list[str]] = {}
    length = ends_at - starts_at
    if length < timedelta(minutes=setting("BOOKING_MIN_MINUTES")):
        errors["ends_at"] = [f"a booking lasts at least {setting('BOOKING_MIN_MINUTES')} minutes"]
    elif length > timedelta(hours=setting("BOOKING_MAX_HOURS")):
        errors["ends_at"] = [f"a booking lasts at most {setting('BOOKING_MAX_HOURS')} hours"]
    lead = timedelta(minutes=setting("BOOKING_MIN_LEAD_MINUTES"))
    if starts_at < now + lead:
        errors["starts_at"] = [
            f"bookings start at least {setting('BOOKING_MIN_LEAD_MINUTES')} minutes from now"
        ]
    if errors:
        raise ValidationFailed(errors)


def check_listing(evse: Evse, driver: User) -> None:
    """Refuse EVSEs that are not an open, usable listing of someone else."""
    location = evse.location
    if not location.publish or location.deleted_at is not None or location.owner_id is None:
        raise ValidationFailed({"evse_id": ["this charger is not listed for booking"]})
    if location.owner_id == driver.id:
        raise ValidationFailed({"evse_id": ["you cannot book your own charger"]})
    if evse.status in UNUSABLE_EVSE_STATUSES:
        raise ValidationFailed({"evse_id": [f"this charger is {evse.status.lower()}"]})
    if evse.station is not None and evse.station.last_seen_at is None:
        # Nobody could charge there: the owner has not connected the charger yet.
        raise ValidationFailed({"evse_id": ["this charger has not connected to PlugPool yet"]})


def check_availability(evse: Evse, starts_at: datetime, ends_at: datetime) -> None:
    """Refuse windows outside the owner's weekly schedule or on a blackout date."""
    location = evse.location
    if not within_schedule(location.availability, starts_at, ends_at, location.time_zone):
        raise ValidationFailed({"starts_at": ["outside the owner's sharing hours"]})
    blackout = blacked_out(location.blackouts, starts_at, ends_at, location.time_zone)
    if blackout is not None:
        raise ValidationFailed(
            {
                "starts_at": [
                    f"the charger is unavailable from {blackout.start_date} to {blackout.end_date}"
                ]
            }
        )


def validated_evse(
    driver: User, evse_id: int, starts_at: datetime, ends_at: datetime, now: datetime
) -> Evse:
    """Return the EVSE after checking every booking rule except the overlap."""
    check_window(starts_at, ends_at, now=now)
    evse = queries.get_evse(evse_id)
    check_listing(evse, driver)
    check_availability(evse, starts_at, ends_at)
    return evse


def require_driver(booking: Booking, user: User) -> None:
    if booking.driver_id != user.id and not user.has_role(Role.ADMIN):
        raise Forbidden("not your booking")


def require_owner(booking: Booking, user: User) -> None:
    if booking.location.owner_id != user.id and not user.has_role(Role.ADMIN):
        raise Forbidden("not your listing")


def require_status(booking: Booking, *allowed: BookingStatus) -> None:
    if booking.status not in allowed:
        raise InvalidTransition(
            f"a {booking.status} booking cannot do this", status_now=booking.status
        )


def cancellation_fee(booking: Booking, by: Party, now: datetime) -> int:
    """Return what cancelling now costs the driver, in minor units (owners never charge)."""
    if by is Party.OWNER or booking.status in (BookingStatus.PENDING, BookingStatus.REQUESTED):
        return 0
    cutoff = booking.starts_at - timedelta(hours=booking.policy["cutoff_hours"])
    if now < cutoff:
        return 0
    return percent_of(booking.amount_minor, booking.policy["fee_percent"])


def percent_of(amount_minor: int, percent: int | Decimal) -> int:
    """Return percent of an amount in minor units, rounded half up."""
    return int((Decimal(amount_minor) * Decimal(percent) / 100).to_integral_value("ROUND_HALF_UP"))


def access_visible(booking: Booking) -> bool:
    """Tell whether the driver may see the access instructions and code."""
    return booking.status in (BookingStatus.CONFIRMED, BookingStatus.ACTIVE)
