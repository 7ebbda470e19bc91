"""Owner schedules and blackouts: does a UTC window fit, in the location's own time zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.search.criteria import Window

# (weekday ISO 1-7, start_time, end_time), local to the location.
WeeklySlot = tuple[int, time, time]


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def fits_schedule(slots: Iterable[WeeklySlot], time_zone: str, window: Window) -> bool:
    """Tell whether the weekly slots, laid out in local time, cover the whole window.

    Each occurrence is converted to UTC on its own date, so DST days are exact, and
    slots that touch (Mon 22:00-24:00, Tue 00:00-06:00) join into one span.
    """
    first, last = _local_days(time_zone, window)
    return _covers(sorted(_occurrences(list(slots), _zone(time_zone), first, last)), window)


def fits_weekly(text: str, time_zone: str, window: Window) -> bool:
    """fits_schedule for slots as the search SQL gives them (parse_slots' text)."""
    return _covers(_laid_out(text, time_zone, *_local_days(time_zone, window)), window)


Spans = tuple[tuple[datetime, datetime], ...]


@lru_cache(maxsize=8192)
def _laid_out(text: str, time_zone: str, first: date, last: date) -> Spans:
    """The UTC spans of a schedule's occurrences on local dates first..last, in order.

    Locations share a few schedules and searches a few weeks of dates: each is laid out
    once, not once per search.
    """
    return tuple(sorted(_occurrences(parse_slots(text), _zone(time_zone), first, last)))


def _local_days(time_zone: str, window: Window) -> tuple[date, date]:
    """The local dates whose slots may cover the window (a slot may run past midnight)."""
    zone = _zone(time_zone)
    first = window.start.astimezone(zone).date() - timedelta(days=1)
    return first, window.end.astimezone(zone).date()


def _covers(spans: Iterable[tuple[datetime, datetime]], window: Window) -> bool:
    """Tell whether spans, in order, join up to cover the whole window."""
    reached = window.start
    for start, end in spans:
        if start > reached:
            break
        reached = max(reached, end)
        if reached >= window.end:
            return True
    return False


def _occurrences(
    slots: list[WeeklySlot], zone: ZoneInfo, first: date, last: date
) -> Iterable[tuple[datetime, datetime]]:
    day = first
    while day <= last:
        for weekday, start, end in slots:
            if weekday == day.isoweekday():
                # An end at or before the start (00:00 included) means the next day.
                end_day = day + timedelta(days=1) if end <= start else day
                yield _utc(day, start, zone), _utc(end_day, end, zone)
        day += timedelta(days=1)


def _utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def hits_blackout(blackouts: Iterable[tuple[date, date]], time_zone: str, window: Window) -> bool:
    """Tell whether any local date the window touches lies in an (inclusive) blackout."""
    zone = _zone(time_zone)
    first = window.start.astimezone(zone).date()
    last = (window.end - timedelta(microseconds=1)).astimezone(zone).date()
    return any(start <= last and end >= first for start, end in blackouts)


def parse_slots(text: str) -> list[WeeklySlot]:
    """Weekly slots from the search SQL's text: one "weekday|start|end" a line."""
    slots = []
    for line in text.splitlines():
        weekday, start, end = line.split("|")
        slots.append((int(weekday), time.fromisoformat(start), time.fromisoformat(end)))
    return slots


@lru_cache(maxsize=4096)
def parse_blackouts(text: str) -> tuple[tuple[date, date], ...]:
    """Blackouts from the search SQL's text: one "start|end" (ISO dates) a line (cached)."""
    return tuple(
        (date.fromisoformat(start), date.fromisoformat(end))
        for start, end in (line.split("|") for line in text.splitlines())
    )
