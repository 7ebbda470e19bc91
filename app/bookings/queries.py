"""Read-only selects of the bookings domain."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import defer, joinedload

from app.bookings.enums import HOLDING_SQL, HOLDING_STATUSES, BookingStatus
from app.bookings.models import Booking, ProblemReport, Review
from app.core.clock import as_utc
from app.core.db import DriverStatement, UTCDateTime, run_alone, run_together
from app.core.errors import NotFound
from app.extensions import db
from app.inventory.models import Connector, Evse, Location
from app.tariffs.models import Tariff


def get_booking(booking_id: int, *, for_update: bool = False) -> Booking:
    """Return the booking, or raise NotFound."""
    statement = select(Booking).where(Booking.id == booking_id)
    if for_update:
        # Re-read the row: a value loaded earlier in this session may be stale by now.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    booking = db.session.scalars(statement).one_or_none()
    if booking is None:
        raise NotFound(f"booking {booking_id} not found")
    return booking


# What the booking rules and the quote read of an EVSE, loaded with it in two round trips:
# joined, the weekly schedule and the connectors are a few rows; a listing's blackouts pile
# up over the years, and joined to those they would multiply. Not the point on the map: the
# first geography a database connection reads loads PostGIS into it (~9 ms).
_BOOKABLE = (
    joinedload(Evse.location).options(defer(Location.geog), joinedload(Location.availability)),
    joinedload(Evse.connectors),
    joinedload(Evse.station),
)


def get_evse(evse_id: int) -> Evse:
    """Return the EVSE with its listing, schedule, connectors and station, or raise NotFound."""
    evse = db.session.get(Evse, evse_id, options=_BOOKABLE)
    if evse is None:
        raise NotFound(f"EVSE {evse_id} not found")
    return evse


# The overlap check as one statement with typed parameters (SQLite keeps timestamps as text).
# Unpaid holds whose time ran out do not count: the next hold expires them first.
_OVERLAP_SQL = f"""
SELECT starts_at, ends_at FROM bookings
WHERE evse_id = :evse_id AND status IN ({HOLDING_SQL})
  AND starts_at < :ends_at AND ends_at > :starts_at
  AND NOT (status = '{BookingStatus.PENDING.value}' AND expires_at <= :now)
  AND id <> :exclude_id
LIMIT 1
"""  # noqa: S608 (constant statuses)
_OVERLAP = (
    text(_OVERLAP_SQL)
    .bindparams(
        bindparam("starts_at", type_=UTCDateTime),
        bindparam("ends_at", type_=UTCDateTime),
        bindparam("now", type_=UTCDateTime),
    )
    .columns(starts_at=UTCDateTime, ends_at=UTCDateTime)
)
NO_BOOKING = 0  # an id no booking has (ids start at 1): exclude nothing


def overlapping_window(
    evse_id: int,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    exclude_id: int | None = None,
    *,
    under: DriverStatement | None = None,
) -> tuple[datetime, datetime] | None:
    """Return the window of a booking holding part of [starts_at, ends_at) on the EVSE.

    Made first in a request (a hold's first check), it runs alone: one round trip, no BEGIN
    and no ROLLBACK, which is all most refusals in a rush on one slot cost the database.
    `under` (PostgreSQL: a lock, the driver's SQL) is taken first, in the same round trip.
    """
    params = {
        "evse_id": evse_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "now": now,
        "exclude_id": NO_BOOKING if exclude_id is None else exclude_id,
    }
    session = db.session()
    if session.autoflush:
        session.flush()  # as an ORM select would: what this transaction added counts
    connection = session.connection()
    check = _driver_sql(connection.dialect)
    if under is None:
        rows = run_alone(connection, check, params)
    else:
        together = run_together(connection, [under, (check, params)])
        rows = None if together is None else together[-1]
    if rows is None:
        rows = session.execute(_OVERLAP, params).all()
    return (as_utc(rows[0][0]), as_utc(rows[0][1])) if rows else None


@functools.cache
def _driver_sql(dialect: Dialect) -> str:
    """The overlap check in the driver's parameter style."""
    return str(_OVERLAP.compile(dialect=dialect))


def tariffs_of(location: Location, connector: Connector) -> list[Tariff]:
    """The live (not deleted) tariffs a connector names, in its order."""
    if not connector.tariff_ids:
        return []
    rows = db.session.scalars(
        select(Tariff).where(
            Tariff.country_code == location.country_code,
            Tariff.party_id == location.party_id,
            Tariff.ocpi_id.in_(connector.tariff_ids),
            Tariff.deleted_at.is_(None),
        )
    ).all()
    by_id = {row.ocpi_id: row for row in rows}
    return [by_id[ocpi_id] for ocpi_id in connector.tariff_ids if ocpi_id in by_id]


def tariff_of(evse: Evse) -> Tariff | None:
    """Return the tariff of the EVSE's first connector that names one."""
    location = evse.location
    for connector in evse.connectors:
        for ocpi_id in connector.tariff_ids:
            tariff = db.session.scalars(
                select(Tariff).where(
                    Tariff.country_code == location.country_code,
                    Tariff.party_id == location.party_id,
                    Tariff.ocpi_id == ocpi_id,
                    Tariff.deleted_at.is_(None),
                )
            ).first()
            if tariff is not None:
                return tariff
    return None


def bookings_of_driver(driver_id: int) -> list[Booking]:
    """Return the driver's bookings, latest start first."""
    statement = (
        select(Booking).where(Booking.driver_id == driver_id).order_by(Booking.starts_at.desc())
    )
    return list(db.session.scalars(statement))


def bookings_of_owner(owner_id: int, location_id: int | None = None) -> list[Booking]:
    """Return the bookings of the owner's listings, latest start first."""
    statement = (
        select(Booking)
        .join(Location, Location.id == Booking.location_id)
        .where(Location.owner_id == owner_id)
        .order_by(Booking.starts_at.desc())
    )
    if location_id is not None:
        statement = statement.where(Booking.location_id == location_id)
    return list(db.session.scalars(statement))


def stale_holds(now: datetime, evse_id: int | None = None) -> list[int]:
    """Return the ids of unpaid holds whose time ran out (on one EVSE if given)."""
    statement = select(Booking.id).where(
        Booking.status == BookingStatus.PENDING, Booking.expires_at <= now
    )
    if evse_id is not None:
        statement = statement.where(Booking.evse_id == evse_id)
    return list(db.session.scalars(statement))


def due_no_shows(cutoff: datetime) -> list[int]:
    """Return confirmed bookings that should have started before cutoff."""
    statement = select(Booking.id).where(
        Booking.status == BookingStatus.CONFIRMED, Booking.starts_at <= cutoff
    )
    return list(db.session.scalars(statement))


def unanswered_requests(now: datetime) -> list[int]:
    """Return booking requests the owner left unanswered until their start."""
    statement = select(Booking.id).where(
        Booking.status == BookingStatus.REQUESTED, Booking.starts_at <= now
    )
    return list(db.session.scalars(statement))


def due_completions(cutoff: datetime) -> list[int]:
    """Return active bookings that ended before cutoff."""
    statement = select(Booking.id).where(
        Booking.status == BookingStatus.ACTIVE, Booking.ends_at <= cutoff
    )
    return list(db.session.scalars(statement))


def reviews_of(booking_id: int) -> list[Review]:
    """Return the booking's reviews."""
    return list(db.session.scalars(select(Review).where(Review.booking_id == booking_id)))


def has_open_problem(booking_id: int) -> bool:
    """Tell whether a problem report on the booking is still unresolved."""
    statement = select(ProblemReport.id).where(
        ProblemReport.booking_id == booking_id, ProblemReport.resolved_at.is_(None)
    )
    return db.session.scalars(statement.limit(1)).first() is not None


def get_problem_report(report_id: int) -> ProblemReport:
    """Return the problem report, or raise NotFound."""
    report = db.session.get(ProblemReport, report_id)
    if report is None:
        raise NotFound(f"problem report {report_id} not found")
    return report


def taken_evses(window: Any) -> Select[Any]:
    """EVSEs held by a booking overlapping [window.start, window.end) (search excludes them).

    Search compiles this once with bind parameters for the window, so the clock is read by
    the database (now()), never frozen into the statement.
    """
    live_hold = or_(
        Booking.status != BookingStatus.PENDING.value,
        Booking.expires_at.is_(None),
        Booking.expires_at > func.now(),
    )
    return select(Booking.evse_id).where(
        Booking.status.in_([status.value for status in HOLDING_STATUSES]),
        Booking.starts_at < window.end,
        Booking.ends_at > window.start,
        live_hold,
    )


def charger_reviews(location_id: int, limit: int = 20) -> tuple[list[Review], float | None, int]:
    """Drivers' reviews of a listing, newest first, with the average rating and their count."""
    statement = (
        select(Review)
        .join(Booking, Booking.id == Review.booking_id)
        .where(Booking.location_id == location_id, Review.author_role == "driver")
    )
    reviews = list(db.session.scalars(statement.order_by(Review.created_at.desc())))
    if not reviews:
        return [], None, 0
    average = sum(review.rating for review in reviews) / len(reviews)
    return reviews[:limit], round(average, 1), len(reviews)
