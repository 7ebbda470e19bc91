"""The owner's weekly schedule and blackout dates, evaluated in the location's time zone."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.inventory.models import AvailabilityWindow, Blackout

Interval = tuple[datetime, datetime]


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of a local wall-clock time on day (PEP 495 rules in DST gaps)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _local_days(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Yield every local date that [starts_at, ends_at) touches."""
    day = starts_at.astimezone(zone).date()
    last = (ends_at - timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _open_intervals(
    windows: Iterable[AvailabilityWindow], days: Iterable[date], zone: ZoneInfo
) -> list[Interval]:
    """Return the schedule's open intervals on the given local days, in UTC, sorted."""
    intervals = []
    for day in days:
        for window in windows:
            if window.weekday != day.isoweekday():
                continue
            start = local_instant(day, window.start_time, zone)
            # An end of 00:00 (or before the start) means midnight at the end of the day.
            end_day = day + timedelta(days=1) if window.end_time <= window.start_time else day
            intervals.append((start, local_instant(end_day, window.end_time, zone)))
    return sorted(intervals)


def _covered(intervals: list[Interval], starts_at: datetime, ends_at: datetime) -> bool:
    """Tell whether the sorted intervals cover [starts_at, ends_at) without a gap."""
    reached = starts_at
    for start, end in intervals:
        if start > reached:
            break
        reached = max(reached, end)
        if reached >= ends_at:
            return True
    return False


def within_schedule(
    windows: list[AvailabilityWindow], starts_at: datetime, ends_at: datetime, time_zone: str
) -> bool:
    """Tell whether the owner shares the charger for the whole window (no windows: always)."""
    if not windows:
        return True
    zone = ZoneInfo(time_zone)
    # Windows that end after midnight reach into the next day: look one day back too.
    first = starts_at.astimezone(zone).date() - timedelta(days=1)
    days = [first, *_local_days(starts_at, ends_at, zone)]
    return _covered(_open_intervals(windows, days, zone), starts_at, ends_at)


def blacked_out(
    blackouts: list[Blackout], starts_at: datetime, ends_at: datetime, time_zone: str
) -> Blackout | None:
    """Return the blackout that the window touches on a local date, if any."""
    days = list(_local_days(starts_at, ends_at, ZoneInfo(time_zone)))
    for blackout in blackouts:
        if any(blackout.start_date <= day <= blackout.end_date for day in days):
            return blackout
    return None
