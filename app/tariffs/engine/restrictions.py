"""When a tariff element applies: restriction matching and the instants where it may flip.

Rules (OCPI 2.2.1 and 2.3.0 agree):
- every set restriction must hold; minima are inclusive, maxima exclusive;
- start_time/end_time are local wall-clock times; end_time < start_time wraps past
  midnight, end_time 00:00 means the end of the day, and equal times mean all day;
- start_date is inclusive, end_date exclusive; day_of_week is the local weekday;
- min/max_kwh count the energy of the charging session so far, min/max_duration the
  seconds since the phase (reservation, or charging session) started.

A restriction on a quantity the engine was not told (current, or power in a
zero-length period) does not match: we do not guess which element applies.

Segments are cut at every instant and energy level where a judgement can flip, so
one point stands for a whole segment: its start for calendar restrictions, its
midpoint for energy and duration (which also works for zero-length segments).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import NamedTuple

from app.tariffs.engine.model import DayOfWeek, Restrictions, Tariff
from app.tariffs.engine.periods import Segment, to_datetime, to_seconds

MIDNIGHT = time(0, 0)
_WEEK = tuple(DayOfWeek)


class Moment(NamedTuple):
    """What the restrictions are checked against, at one point of a session."""

    local: datetime
    elapsed: Decimal  # seconds since the phase started
    energy: Decimal  # kWh delivered in the session so far
    power_kw: Decimal | None
    current_a: Decimal | None


def moment_of(segment: Segment, tz: tzinfo) -> Moment:
    """Return the moment that stands for all of segment, in the location's time zone."""
    middle = (segment.start + segment.end) / 2
    return Moment(
        # Calendar flips fall on whole seconds, so flooring the start to the microsecond
        # never crosses one; a midpoint rounded to the microsecond could, by a hair.
        local=to_datetime(segment.start, ROUND_FLOOR).astimezone(tz),
        elapsed=middle - segment.origin,
        energy=segment.energy_before + segment.energy / 2,
        power_kw=segment.power_kw,
        current_a=segment.current_a,
    )


def matches(restrictions: Restrictions, moment: Moment) -> bool:
    """Tell whether every restriction holds at moment."""
    r = restrictions
    return (
        time_of_day_ok(r.start_time, r.end_time, moment.local.time())
        and _date_ok(r.start_date, r.end_date, moment.local.date())
        and (not r.day_of_week or _WEEK[moment.local.weekday()] in r.day_of_week)
        and _within(moment.energy, r.min_kwh, r.max_kwh)
        and _within(moment.elapsed, _dec(r.min_duration), _dec(r.max_duration))
        and _within(moment.power_kw, r.min_power, r.max_power)
        and _within(moment.current_a, r.min_current, r.max_current)
    )


def _dec(value: int | None) -> Decimal | None:
    """Return value as Decimal, keeping None."""
    return None if value is None else Decimal(value)


def _within(value: Decimal | None, low: Decimal | None, high: Decimal | None) -> bool:
    """Tell whether low <= value < high, where a missing bound does not restrict."""
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value < high)


def time_of_day_ok(start: time | None, end: time | None, now: time) -> bool:
    """Tell whether the local time of day now lies in [start, end), wrapping midnight."""
    if start is None and end is None:
        return True
    start = start or MIDNIGHT
    if end is None or end == MIDNIGHT:
        return now >= start  # valid until the end of the day
    if start < end:
        return start <= now < end
    if start > end:
        return now >= start or now < end
    return True  # start == end: the whole day


def _date_ok(start: date | None, end: date | None, today: date) -> bool:
    """Tell whether today lies in [start, end)."""
    return (start is None or today >= start) and (end is None or today < end)


def flip_instants(tariff: Tariff, tz: tzinfo, start: Decimal, end: Decimal) -> set[Decimal]:
    """Return the instants in (start, end) where a calendar restriction may flip."""
    walls = _wall_times(tariff)
    if not walls:
        return set()
    instants = set(_offset_changes(tz, start, end))
    frozen = frozenset(walls)
    for day in _local_days(tz, start, end):
        instants.update(_day_instants(day, frozen, tz))
    return {instant for instant in instants if start < instant < end}


def duration_instants(tariff: Tariff, origins: set[Decimal]) -> set[Decimal]:
    """Return the instants where min/max_duration flip, for each phase origin."""
    limits = {
        limit
        for element in tariff.elements
        for limit in (element.restrictions.min_duration, element.restrictions.max_duration)
        if limit is not None
    }
    return {origin + limit for origin in origins for limit in limits}


def energy_levels(tariff: Tariff) -> set[Decimal]:
    """Return the energy levels (kWh) where min/max_kwh flip."""
    return {
        level
        for element in tariff.elements
        for level in (element.restrictions.min_kwh, element.restrictions.max_kwh)
        if level is not None
    }


def _wall_times(tariff: Tariff) -> set[time]:
    """Return the local times of day at which some restriction may flip."""
    walls: set[time] = set()
    for element in tariff.elements:
        r = element.restrictions
        times = {t for t in (r.start_time, r.end_time) if t is not None}
        walls |= times
        # Days, dates and "until the end of the day" all turn over at local midnight.
        if times or r.day_of_week or r.start_date is not None or r.end_date is not None:
            walls.add(MIDNIGHT)
    return walls


def _local_days(tz: tzinfo, start: Decimal, end: Decimal) -> Iterator[date]:
    """Yield every local date touching [start, end], with a day of margin each side."""
    day = to_datetime(start).astimezone(tz).date() - timedelta(days=1)
    last = to_datetime(end).astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


@lru_cache(maxsize=4096)
def _day_instants(day: date, walls: frozenset[time], tz: tzinfo) -> tuple[Decimal, ...]:
    """The instants of walls on day; searches ask the same few days again and again."""
    return tuple(_wall_instants(day, walls, tz))


def _wall_instants(day: date, walls: frozenset[time], tz: tzinfo) -> Iterator[Decimal]:
    """Yield the instants of each wall time on day, both sides of a DST fold."""
    for wall in walls:
        for fold in (0, 1):
            yield to_seconds(datetime.combine(day, wall, tzinfo=tz).replace(fold=fold))


def _offset_changes(tz: tzinfo, start: Decimal, end: Decimal) -> Iterator[Decimal]:
    """Yield the DST transitions in [start, end], found hour by hour then by bisection."""
    low = int(start)
    while low < end:
        high = min(low + 3600, int(end) + 1)
        if _offset(tz, low) != _offset(tz, high):
            yield Decimal(_first_change(tz, low, high))
        low = high


def _first_change(tz: tzinfo, low: int, high: int) -> int:
    """Return the first second in (low, high] whose UTC offset differs from low's."""
    before = _offset(tz, low)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(tz, middle) == before:
            low = middle
        else:
            high = middle
    return high


def _offset(tz: tzinfo, second: int) -> timedelta | None:
    """Return the UTC offset of tz at a POSIX second (a whole one: fromtimestamp is exact)."""
    return datetime.fromtimestamp(second, tz).utcoffset()
