"""Free timeslots of a listing's EVSEs: sharing hours less blackout days and holding bookings.

The one calendar: the driver's charger page and the OCPI 2.3.0 Calendars both read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.bookings.enums import HOLDING_STATUSES
from app.bookings.models import Booking
from app.bookings.schedule import local_instant
from app.extensions import db
from app.inventory.models import Evse, Location

Interval = tuple[datetime, datetime]
_MIDNIGHT = datetime.min.time()
_DAY = timedelta(days=1)
UNBOOKABLE = ("REMOVED", "OUTOFORDER", "PLANNED")


def bookable_evses(location: Location) -> list[Evse]:
    """The EVSEs of a listing that a calendar lists."""
    return [evse for evse in location.evses if evse.status not in UNBOOKABLE]


def free_timeslots(location: Location, begin: datetime, end: datetime) -> dict[int, list[Interval]]:
    """Free intervals in [begin, end) per bookable EVSE (by primary key), in order."""
    evses = bookable_evses(location)
    taken: dict[int, list[Interval]] = {evse.id: [] for evse in evses}
    for evse_id, starts_at, ends_at in holding_windows(list(taken), begin, end):
        taken[evse_id].append((starts_at, ends_at))
    shared = _shared(location, begin, end)
    return {evse_id: _subtract(shared, holes) for evse_id, holes in taken.items()}


def holding_windows(evse_ids: list[int], since: datetime, until: datetime) -> list[Any]:
    """(evse_id, starts_at, ends_at) of bookings holding a slot in [since, until)."""
    query = select(Booking.evse_id, Booking.starts_at, Booking.ends_at).where(
        Booking.evse_id.in_(evse_ids),
        Booking.status.in_(HOLDING_STATUSES),
        Booking.starts_at < until,
        Booking.ends_at > since,
    )
    return list(db.session.execute(query.order_by(Booking.starts_at)))


def _shared(location: Location, begin: datetime, end: datetime) -> list[Interval]:
    """The owner's sharing hours in [begin, end), without blackout days (no windows: always)."""
    zone = ZoneInfo(location.time_zone)
    days = _days(begin - timedelta(days=1), end, zone)
    if not location.availability:
        intervals = [
            (local_instant(day, _MIDNIGHT, zone), local_instant(day + _DAY, _MIDNIGHT, zone))
            for day in days
        ]
    else:
        intervals = []
        for day in days:
            for window in location.availability:
                if window.weekday != day.isoweekday():
                    continue
                end_day = day + _DAY if window.end_time <= window.start_time else day
                start = local_instant(day, window.start_time, zone)
                intervals.append((start, local_instant(end_day, window.end_time, zone)))
    closed = [
        (
            local_instant(b.start_date, _MIDNIGHT, zone),
            local_instant(b.end_date + _DAY, _MIDNIGHT, zone),
        )
        for b in location.blackouts
    ]
    clipped = [(max(s, begin), min(e, end)) for s, e in sorted(intervals) if e > begin and s < end]
    return _subtract(_merge(clipped), closed)


def _days(begin: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    day, last = begin.astimezone(zone).date(), end.astimezone(zone).date()
    days = []
    while day <= last:
        days.append(day)
        day += _DAY
    return days


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    """Intervals less every hole, in order; empty remainders dropped."""
    result = []
    for start, end in intervals:
        pieces = [(start, end)]
        for hole_start, hole_end in holes:
            next_pieces = []
            for s, e in pieces:
                if hole_end <= s or hole_start >= e:
                    next_pieces.append((s, e))
                    continue
                if s < hole_start:
                    next_pieces.append((s, hole_start))
                if hole_end < e:
                    next_pieces.append((hole_end, e))
            pieces = next_pieces
        result.extend(pieces)
    return result


@dataclass(frozen=True, slots=True)
class SlotDay:
    """One local day of a charger's calendar: its free intervals and bookable starts."""

    day: date
    free: list[Interval]  # local (aware) times
    starts: list[datetime]  # local starts of a free slot of the given length


def slot_days(
    free: list[Interval], zone: ZoneInfo, earliest: datetime, length: timedelta, days: int
) -> list[SlotDay]:
    """The next `days` local days from earliest, with free intervals and slot starts on the hour."""
    first = earliest.astimezone(zone).date()
    by_day: dict[date, SlotDay] = {
        first + timedelta(days=n): SlotDay(first + timedelta(days=n), [], []) for n in range(days)
    }
    for start, end in free:
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        day = by_day.get(local_start.date())
        if day is not None:
            day.free.append((local_start, local_end))
        # Starts on the full hour (local), from the earliest bookable moment.
        at = max(start, earliest).astimezone(zone)
        if at.minute or at.second or at.microsecond:
            at = at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        at = at.replace(tzinfo=None)
        while True:
            moment = at.replace(tzinfo=zone)
            if moment + length > local_end:
                break
            found = by_day.get(moment.date())
            if found is not None:
                found.starts.append(moment)
            at += timedelta(hours=1)
    return list(by_day.values())
