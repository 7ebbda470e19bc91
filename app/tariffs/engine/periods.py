"""Session periods (the engine's input) and the segments they are cut into.

A period is a stretch of a session in one state with the energy delivered in it,
the shape of an OCPI CDR charging period made concrete. Before pricing, periods are
cut into segments at every instant where a restriction may flip (local midnight,
start_time/end_time, DST transitions, min/max_duration) and at every energy level
where min_kwh/max_kwh flip, so that each segment matches one element per dimension
throughout. Energy is assumed to flow at a constant rate within a period.

Instants are kept as exact Decimal POSIX seconds, so a cut at a kWh threshold does
not have to land on a whole microsecond.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from itertools import pairwise
from typing import NamedTuple

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ZERO = Decimal(0)


class PeriodError(ValueError):
    """The periods handed to the engine do not describe a session."""


class PeriodState(StrEnum):
    """What the EVSE was doing for the driver during a period."""

    CHARGING = "CHARGING"
    PARKING = "PARKING"  # connected, not charging
    RESERVATION = "RESERVATION"  # reserved, driver not yet charging


# Members bound once for the hot functions below: on Python 3.11 every Enum.MEMBER lookup
# goes through EnumType.__getattr__'s slot, several times slower than a global.
_CHARGING, _RESERVATION = PeriodState.CHARGING, PeriodState.RESERVATION


@dataclass(frozen=True, slots=True)
class SessionPeriod:
    """A stretch of a session in one state; start/end are timezone-aware."""

    start: datetime
    end: datetime
    energy_kwh: Decimal = ZERO
    state: PeriodState = PeriodState.CHARGING
    power_kw: Decimal | None = None
    current_a: Decimal | None = None


class Segment(NamedTuple):
    """A piece of a period over which every restriction is constant.

    A named tuple: immutable, and built cheaply (a quote cuts and merges several).
    """

    source: int  # index of the SessionPeriod it was cut from
    state: PeriodState
    start: Decimal  # POSIX seconds
    end: Decimal
    energy: Decimal  # kWh delivered in this segment
    energy_before: Decimal  # kWh delivered in the phase before this segment
    origin: Decimal  # start of the phase (reservation, or charging session)
    power_kw: Decimal | None
    current_a: Decimal | None

    @property
    def seconds(self) -> Decimal:
        """Return the segment's duration in seconds."""
        return self.end - self.start

    @property
    def is_reservation(self) -> bool:
        """Tell whether the segment belongs to the reservation phase."""
        return self.state is _RESERVATION


def to_seconds(instant: datetime) -> Decimal:
    """Return the exact POSIX timestamp of an aware datetime as Decimal."""
    delta = instant - EPOCH
    whole = Decimal(delta.days * 86_400 + delta.seconds)
    return whole + Decimal(delta.microseconds).scaleb(-6)


def to_datetime(seconds: Decimal, rounding: str = ROUND_HALF_EVEN) -> datetime:
    """Return the UTC datetime of a Decimal POSIX timestamp, to the microsecond."""
    micros = seconds.scaleb(6).to_integral_value(rounding=rounding)
    return EPOCH + timedelta(microseconds=int(micros))


def validate(periods: Sequence[SessionPeriod]) -> None:
    """Raise PeriodError unless periods are ordered, non-overlapping and well-formed."""
    if not periods:
        raise PeriodError("periods: at least one period is required")
    for index, period in enumerate(periods):
        _validate_one(period, f"periods[{index}]")
    for index, (before, after) in enumerate(pairwise(periods), 1):
        # Compare as POSIX seconds: aware datetimes sharing a tzinfo compare by wall clock.
        if to_seconds(after.start) < to_seconds(before.end):
            raise PeriodError(f"periods[{index}]: starts before the previous period ends")
        if before.state is not PeriodState.RESERVATION and after.state is PeriodState.RESERVATION:
            raise PeriodError(f"periods[{index}]: a reservation cannot follow charging")


def _validate_one(period: SessionPeriod, path: str) -> None:
    """Check one period's state, instants, energy and measurements."""
    if not isinstance(period.state, PeriodState):
        raise PeriodError(f"{path}.state: expected a PeriodState, got {period.state!r}")
    if not all(isinstance(instant, datetime) for instant in (period.start, period.end)):
        raise PeriodError(f"{path}: start and end must be datetimes")
    if period.start.tzinfo is None or period.end.tzinfo is None:
        raise PeriodError(f"{path}: start and end must be timezone-aware")
    if to_seconds(period.end) < to_seconds(period.start):
        raise PeriodError(f"{path}: ends before it starts")
    require_decimal(period.energy_kwh, f"{path}.energy_kwh")
    if period.state is not PeriodState.CHARGING and period.energy_kwh != 0:
        raise PeriodError(f"{path}.energy_kwh: only charging periods deliver energy")
    for name in ("power_kw", "current_a"):
        value = getattr(period, name)
        if value is not None:
            require_decimal(value, f"{path}.{name}")


def require_decimal(value: object, path: str) -> None:
    """Refuse floats, NaN and negative numbers among the measurements."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise PeriodError(f"{path}: expected a finite Decimal, got {value!r}")
    if value < 0:
        raise PeriodError(f"{path}: must not be negative")


def to_segments(periods: Sequence[SessionPeriod]) -> list[Segment]:
    """Turn validated periods into one segment each, with phase origin and energy so far."""
    segments: list[Segment] = []
    origins = _phase_origins(periods)
    energy_before = ZERO
    for index, period in enumerate(periods):
        segment = _segment(index, period, origins, energy_before)
        segments.append(segment)
        energy_before += segment.energy
    return segments


def _phase_origins(periods: Sequence[SessionPeriod]) -> dict[bool, Decimal]:
    """Map is-reservation to the start of that phase (durations count from there)."""
    origins: dict[bool, Decimal] = {}
    for period in periods:
        origins.setdefault(period.state is _RESERVATION, to_seconds(period.start))
    return origins


def _segment(
    index: int, period: SessionPeriod, origins: dict[bool, Decimal], energy_before: Decimal
) -> Segment:
    """Build the segment of one whole period."""
    start, end = to_seconds(period.start), to_seconds(period.end)
    return Segment(
        source=index,
        state=period.state,
        start=start,
        end=end,
        energy=period.energy_kwh,
        energy_before=energy_before,
        origin=origins[period.state is _RESERVATION],
        power_kw=_power(period, end - start),
        current_a=_idle_zero(period, period.current_a),
    )


def _power(period: SessionPeriod, seconds: Decimal) -> Decimal | None:
    """Return the period's power: measured, else the average over the period if known."""
    if period.power_kw is not None or period.state is not _CHARGING:
        return _idle_zero(period, period.power_kw)
    return period.energy_kwh * 3600 / seconds if seconds > 0 else None


def _idle_zero(period: SessionPeriod, value: Decimal | None) -> Decimal | None:
    """Return value, or zero for a period that is not charging and has no measurement."""
    if value is None and period.state is not _CHARGING:
        return ZERO
    return value


def cut_at_instants(segments: Iterable[Segment], instants: Iterable[Decimal]) -> list[Segment]:
    """Cut segments at every instant strictly inside them, sharing energy by time."""
    cuts = sorted(set(instants))
    return [piece for segment in segments for piece in _cut_by_time(segment, cuts)]


def _cut_by_time(segment: Segment, cuts: list[Decimal]) -> list[Segment]:
    """Cut one segment at the instants strictly inside it."""
    pieces: list[Segment] = []
    rest = segment
    for instant in cuts:
        if rest.start < instant < rest.end:
            energy = rest.energy * (instant - rest.start) / rest.seconds
            pieces.append(rest._replace(end=instant, energy=energy))
            rest = _after(rest, instant, energy)
    return [*pieces, rest]


def cut_at_energy(segments: Iterable[Segment], levels: Iterable[Decimal]) -> list[Segment]:
    """Cut segments where the energy delivered so far crosses one of levels."""
    marks = sorted(set(levels))
    return [piece for segment in segments for piece in _cut_by_energy(segment, marks)]


def _cut_by_energy(segment: Segment, marks: list[Decimal]) -> list[Segment]:
    """Cut one segment at the energy levels strictly inside it."""
    pieces: list[Segment] = []
    rest = segment
    for mark in marks:
        if rest.energy_before < mark < rest.energy_before + rest.energy:
            energy = mark - rest.energy_before
            instant = rest.start + rest.seconds * energy / rest.energy
            pieces.append(rest._replace(end=instant, energy=energy))
            rest = _after(rest, instant, energy)
    return [*pieces, rest]


def _after(segment: Segment, instant: Decimal, energy_taken: Decimal) -> Segment:
    """Return what remains of segment after a cut at instant that took energy_taken."""
    return segment._replace(
        start=instant,
        energy=segment.energy - energy_taken,
        energy_before=segment.energy_before + energy_taken,
    )
