"""Price a session (or a quote for a window) with one tariff.

The steps: cut the periods into segments over which no restriction flips; for each
segment and dimension pick the first element (in tariff order) that has a component
for that dimension and whose restrictions match; merge neighbouring segments of one
period that picked the same; apply step_size once per session to the totals; charge
FLAT once per phase; add taxes per component; clamp to min_price/max_price.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import NamedTuple

from app.tariffs.engine import restrictions as rules
from app.tariffs.engine.model import (
    Dimension,
    PriceComponent,
    ReservationRestriction,
    Tariff,
    TariffElement,
)
from app.tariffs.engine.periods import (
    ZERO,
    PeriodError,
    PeriodState,
    Segment,
    SessionPeriod,
    cut_at_energy,
    cut_at_instants,
    to_datetime,
    to_segments,
    validate,
)
from app.tariffs.engine.result import Cost, PricedDimension, PricedPeriod, PriceResult
from app.tariffs.engine.taxes import amounts_of, cost_of, limit_total

# Enough digits that hours (seconds / 3600) and pro-rata energy never lose a cent.
PRECISION = 50
RESOLUTION = Decimal("1e-20")  # finer than any meter: 1e-20 kWh, 1e-20 s
HOUR = Decimal(3600)
WH_PER_KWH = Decimal(1000)
_CONSUMED = {
    PeriodState.CHARGING: (Dimension.ENERGY, Dimension.TIME),
    PeriodState.PARKING: (Dimension.PARKING_TIME,),
    PeriodState.RESERVATION: (Dimension.TIME,),
}

TIMED = (Dimension.TIME, Dimension.PARKING_TIME)
# Members bound once for the hot functions below: on Python 3.11 every Enum.MEMBER lookup
# goes through EnumType.__getattr__'s slot, several times slower than a global.
_ENERGY, _FLAT, _TIME = Dimension.ENERGY, Dimension.FLAT, Dimension.TIME

Picks = tuple[tuple[Dimension, int], ...]


class _Group(NamedTuple):
    """Consecutive segments of one period that picked the same elements."""

    segment: Segment  # the merged segment
    picks: Picks


class _Line(NamedTuple):
    """One dimension billed in one group; volume in kWh, seconds, or 1 for FLAT."""

    group: int
    dimension: Dimension
    element_index: int
    component: PriceComponent
    volume: Decimal
    billed: Decimal
    reservation: bool


def price_session(
    tariff: Tariff,
    periods: Sequence[SessionPeriod],
    tz: tzinfo,
    *,
    reservation_expired: bool | None = None,
) -> PriceResult:
    """Price a session's periods with tariff, evaluating restrictions in local time tz.

    reservation_expired defaults to "the session is only a reservation".
    """
    expired = _checked(periods, tz, reservation_expired)
    with localcontext() as context:
        context.prec = PRECISION
        groups, lines = _billed_lines(tariff, periods, tz, expired)
        return _result(tariff, groups, lines)


def built_session_amount(tariff: Tariff, periods: Sequence[SessionPeriod], tz: tzinfo) -> Decimal:
    """session_total(...).incl_tax of periods the engine built itself (a quote's).

    Valid by construction, so they are not validated again (charging and parking only, no
    reservation). The lines are added up by kind and then the kinds, in _costs_by_kind's
    order, as bare amounts: the same additions without a Cost and its taxes for each.
    """
    if not isinstance(tz, tzinfo):
        raise PeriodError(f"tz: expected a time zone (zoneinfo.ZoneInfo), got {tz!r}")
    with localcontext() as context:
        context.prec = PRECISION
        _, lines = _billed_lines(tariff, periods, tz, False)
        excl = dict.fromkeys(_KINDS, ZERO)
        incl = dict.fromkeys(_KINDS, ZERO)
        for line in lines:
            kind = "reservation" if line.reservation else _KIND[line.dimension]
            line_excl, line_incl = amounts_of(_line_base(line), line.component.vat, tariff)
            excl[kind] = excl[kind] + line_excl
            incl[kind] = incl[kind] + line_incl
        total = Cost(sum(excl.values(), ZERO), sum(incl.values(), ZERO))
        return limit_total(total, tariff)[0].incl_tax


def _checked(periods: Sequence[SessionPeriod], tz: tzinfo, expired: bool | None) -> bool:
    """Refuse a bad zone or periods; return whether an only-reservation session expired."""
    if not isinstance(tz, tzinfo):
        raise PeriodError(f"tz: expected a time zone (zoneinfo.ZoneInfo), got {tz!r}")
    validate(periods)
    if expired is None:
        return all(p.state is PeriodState.RESERVATION for p in periods)
    return expired


def _billed_lines(
    tariff: Tariff, periods: Sequence[SessionPeriod], tz: tzinfo, expired: bool
) -> tuple[list[_Group], list[_Line]]:
    """Cut, pick and bill: the groups and their step-rounded lines (in the engine's context)."""
    groups = _groups(tariff, _cut(tariff, periods, tz), tz, expired)
    return groups, _round_steps(_lines(tariff, groups))


def _cut(tariff: Tariff, periods: Sequence[SessionPeriod], tz: tzinfo) -> list[Segment]:
    """Cut the periods wherever a restriction of tariff may flip."""
    segments = to_segments(periods)
    first, last = segments[0].start, segments[-1].end
    instants = rules.flip_instants(tariff, tz, first, last)
    instants |= rules.duration_instants(tariff, {s.origin for s in segments})
    segments = cut_at_instants(segments, instants)
    return cut_at_energy(segments, rules.energy_levels(tariff))


def _groups(tariff: Tariff, segments: list[Segment], tz: tzinfo, expired: bool) -> list[_Group]:
    """Pick elements per segment and merge neighbours of one period with equal picks."""
    groups: list[_Group] = []
    # The elements tried in each phase, worked out once rather than for every segment.
    phases = {
        reservation: _candidates(tariff, reservation, expired)
        for reservation in {segment.is_reservation for segment in segments}
    }
    for segment in segments:
        picks = _picks(segment, tz, phases[segment.is_reservation])
        previous = groups[-1] if groups else None
        if previous and previous.picks == picks and previous.segment.source == segment.source:
            groups[-1] = _Group(_merge(previous.segment, segment), picks)
        else:
            groups.append(_Group(segment, picks))
    return groups


def _merge(first: Segment, second: Segment) -> Segment:
    """Join two adjacent segments of one period."""
    return first._replace(end=second.end, energy=first.energy + second.energy)


def _picks(segment: Segment, tz: tzinfo, candidates: list[tuple[int, TariffElement]]) -> Picks:
    """Return, per dimension, the index of the candidate element that prices it in segment."""
    moment = rules.moment_of(segment, tz)
    picks = []
    for dimension in (*_CONSUMED[segment.state], _FLAT):
        index = _first_match(candidates, dimension, moment)
        if index is not None:
            picks.append((dimension, index))
    return tuple(picks)


def _candidates(
    tariff: Tariff, reservation: bool, expired: bool
) -> list[tuple[int, TariffElement]]:
    """Return the elements that may apply in a phase, in the order they are tried.

    Elements without a reservation restriction price the charging session only;
    for an expired reservation RESERVATION_EXPIRES elements go before RESERVATION ones.
    """
    indexed = list(enumerate(tariff.elements))
    if not reservation:
        return [(i, e) for i, e in indexed if e.restrictions.reservation is None]
    kinds = [ReservationRestriction.RESERVATION]
    if expired:
        kinds.insert(0, ReservationRestriction.RESERVATION_EXPIRES)
    return [(i, e) for kind in kinds for i, e in indexed if e.restrictions.reservation is kind]


def _first_match(
    candidates: list[tuple[int, TariffElement]], dimension: Dimension, moment: rules.Moment
) -> int | None:
    """Return the first element with a component for dimension whose restrictions hold."""
    for index, element in candidates:
        if element.component(dimension) and rules.matches(element.restrictions, moment):
            return index
    return None


def _lines(tariff: Tariff, groups: list[_Group]) -> list[_Line]:
    """Turn groups into billing lines: consumed dimensions, plus FLAT once per phase."""
    flats = {_flat_group(groups, reservation) for reservation in (False, True)}
    lines: list[_Line] = []
    for number, group in enumerate(groups):
        for dimension, index in group.picks:
            volume = _volume(group.segment, dimension)
            if dimension is _FLAT and number not in flats:
                continue
            if volume == 0:
                continue  # nothing used: must not decide which step_size applies
            component = tariff.elements[index].component(dimension)
            assert component is not None  # picked because the element has one
            reservation = group.segment.is_reservation
            lines.append(_Line(number, dimension, index, component, volume, volume, reservation))
    return lines


def _flat_group(groups: list[_Group], reservation: bool) -> int | None:
    """Return the group whose FLAT component is charged for a phase, if any.

    The first FLAT that applies in the phase; periods in which nothing happened (no
    time, no energy) only count when the phase has nothing else, so that cutting a
    period at its very start or end cannot change the fee.
    """
    phase = [(n, g) for n, g in enumerate(groups) if g.segment.is_reservation is reservation]
    used = [(n, g) for n, g in phase if g.segment.seconds or g.segment.energy] or phase
    flat = (n for n, g in used if any(d is _FLAT for d, _ in g.picks))
    return next(flat, None)


def _volume(segment: Segment, dimension: Dimension) -> Decimal:
    """Return what segment consumed of dimension: kWh, seconds, or 1 for FLAT."""
    if dimension is _ENERGY:
        return segment.energy
    if dimension is _FLAT:
        return Decimal(1)
    return segment.seconds


def _round_steps(lines: list[_Line]) -> list[_Line]:
    """Apply step_size once per session: to energy, to time or parking, to reservation.

    The step_size is that of the last line of the dimension, and the extra volume is
    billed on that line. Time and parking form one group: only the dimension used
    last is rounded (a charging time followed by parking is billed as measured).
    """
    rounded = list(lines)
    for group in _step_groups(lines):
        if group:
            rounded[group[-1]] = _round_last([lines[i] for i in group])
    return rounded


def _step_groups(lines: list[_Line]) -> tuple[list[int], list[int], list[int]]:
    """Return the line numbers of the energy, the last-used time and the reservation group."""
    numbered = list(enumerate(lines))
    energy = [i for i, ln in numbered if not ln.reservation and ln.dimension is _ENERGY]
    timed = [i for i, ln in numbered if not ln.reservation and ln.dimension in TIMED]
    reserved = [i for i, ln in numbered if ln.reservation and ln.dimension is _TIME]
    if timed:
        last = lines[timed[-1]].dimension
        timed = [i for i in timed if lines[i].dimension is last]
    return energy, timed, reserved


def _round_last(lines: list[_Line]) -> _Line:
    """Return the last line with the group total rounded up to its step_size added."""
    last = lines[-1]
    step = Decimal(last.component.step_size)
    if last.dimension is _ENERGY:
        step /= WH_PER_KWH  # ENERGY steps are in Wh, volumes in kWh
    used = sum((line.volume for line in lines), ZERO)
    # Pro-rata cuts leave noise in the 50th digit; it must not cost a whole extra step.
    billed = _ceil_to(used.quantize(RESOLUTION), step)
    return last._replace(billed=last.billed + billed - used)


def _ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """Round value up to a whole number of steps (a zero step leaves it as is)."""
    if step == 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def _result(tariff: Tariff, groups: list[_Group], lines: list[_Line]) -> PriceResult:
    """Add up lines into the session's costs, quantities and priced periods."""
    priced = [_priced(tariff, line) for line in lines]
    costs = _costs_by_kind(lines, [item.cost for item in priced])
    total, limit = limit_total(sum(costs.values(), start=Cost()), tariff)
    segments = [group.segment for group in groups]
    return PriceResult(
        currency=tariff.currency,
        total_cost=total,
        total_fixed_cost=costs["fixed"],
        total_energy_cost=costs["energy"],
        total_time_cost=costs["time"],
        total_parking_cost=costs["parking"],
        total_reservation_cost=costs["reservation"],
        total_energy=sum((s.energy for s in segments), ZERO),
        total_time=_hours(segments, PeriodState.CHARGING, PeriodState.PARKING),
        total_parking_time=_hours(segments, PeriodState.PARKING),
        billed_energy=_billed(lines, Dimension.ENERGY, reservation=False),
        billed_time=_billed(lines, Dimension.TIME, reservation=False) / HOUR,
        billed_parking_time=_billed(lines, Dimension.PARKING_TIME, reservation=False) / HOUR,
        billed_reservation_time=_billed(lines, Dimension.TIME, reservation=True) / HOUR,
        periods=_periods(groups, lines, priced),
        price_limit=limit,
    )


def _priced(tariff: Tariff, line: _Line) -> PricedDimension:
    """Price one line: its cost, with its volumes in kWh, hours or 1."""
    is_time = line.dimension in TIMED
    return PricedDimension(
        type=line.dimension,
        volume=line.volume / HOUR if is_time else line.volume,
        billed_volume=line.billed / HOUR if is_time else line.billed,
        component=line.component,
        element_index=line.element_index,
        cost=_line_cost(tariff, line),
    )


def _line_cost(tariff: Tariff, line: _Line) -> Cost:
    """Billed volume times price, taxed per the tariff's rules."""
    return cost_of(_line_base(line), line.component.vat, tariff)


def _line_base(line: _Line) -> Decimal:
    """Billed volume times price, before taxes."""
    return line.component.price * line.billed / (HOUR if line.dimension in TIMED else 1)


# The CDR's cost buckets, in the order their totals are added up.
_KIND = {
    Dimension.FLAT: "fixed",
    Dimension.ENERGY: "energy",
    Dimension.TIME: "time",
    Dimension.PARKING_TIME: "parking",
}
_KINDS = (*_KIND.values(), "reservation")


def _costs_by_kind(lines: list[_Line], costs_of_lines: list[Cost]) -> dict[str, Cost]:
    """Sum line costs into the CDR's fixed/energy/time/parking/reservation buckets."""
    costs = {kind: Cost() for kind in _KINDS}
    for line, cost in zip(lines, costs_of_lines, strict=True):
        kind = "reservation" if line.reservation else _KIND[line.dimension]
        costs[kind] = costs[kind] + cost
    return costs


def _hours(segments: list[Segment], *states: PeriodState) -> Decimal:
    """Return the hours spent in the given states."""
    return sum((s.seconds for s in segments if s.state in states), ZERO) / HOUR


def _billed(lines: list[_Line], dimension: Dimension, *, reservation: bool) -> Decimal:
    """Return the billed volume of a dimension in one phase."""
    chosen = (ln for ln in lines if ln.dimension is dimension and ln.reservation is reservation)
    return sum((ln.billed for ln in chosen), ZERO)


def _periods(
    groups: list[_Group], lines: list[_Line], priced: list[PricedDimension]
) -> tuple[PricedPeriod, ...]:
    """Return one priced period per group, carrying its priced dimensions."""
    return tuple(
        PricedPeriod(
            start=to_datetime(group.segment.start),
            end=to_datetime(group.segment.end),
            state=group.segment.state,
            energy_kwh=group.segment.energy,
            dimensions=tuple(p for ln, p in zip(lines, priced, strict=True) if ln.group == number),
        )
        for number, group in enumerate(groups)
    )
