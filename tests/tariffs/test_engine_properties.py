"""Properties of the engine that must hold for any tariff and session (hypothesis)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.money import from_minor_units
from app.tariffs.engine import (
    Cost,
    PeriodState,
    PriceResult,
    SessionPeriod,
    Tariff,
    TaxIncluded,
    parse_tariff,
    price_session,
    quote_amount,
    quote_window,
)
from app.tariffs.engine.pricing import built_session_amount
from app.tariffs.quotes import price_window, window_amount

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
START = datetime(2026, 3, 28, 20, tzinfo=UTC)  # the night before a DST change
CHARGING, PARKING = PeriodState.CHARGING, PeriodState.PARKING
# Engine precision is 50 digits; a cut computed along another path may differ far below.
NOISE = Decimal("1e-30")
PRECISION = 60  # the tests' own sums must not round before the engine's do

prices = st.decimals(min_value=0, max_value=10, places=2)
vats = st.none() | st.sampled_from([0, 5.5, 10, 20, 21])
steps = st.sampled_from([0, 1, 60, 300, 900, 1800])
hours = st.sampled_from(["00:00", "06:00", "08:30", "17:00", "20:00", "23:00"])


@st.composite
def components(draw: st.DrawFn, dimensions: list[str]) -> list[dict[str, Any]]:
    """Draw a price component for some of the given dimensions."""
    chosen = draw(st.lists(st.sampled_from(dimensions), min_size=1, unique=True))
    return [
        {"type": d, "price": draw(prices), "step_size": draw(steps), "vat": draw(vats)}
        for d in chosen
    ]


@st.composite
def restrictions(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a few restrictions of any kind."""
    options = {
        "start_time": hours,
        "end_time": hours,
        "day_of_week": st.lists(st.sampled_from(["SATURDAY", "SUNDAY", "MONDAY"]), min_size=1),
        "min_kwh": st.integers(0, 40),
        "max_kwh": st.integers(1, 40),
        "min_duration": st.integers(0, 4).map(lambda h: h * 1800),
        "max_duration": st.integers(1, 8).map(lambda h: h * 1800),
        "min_power": st.integers(0, 22),
        "max_power": st.integers(1, 50),
    }
    keys = draw(st.lists(st.sampled_from(sorted(options)), max_size=3, unique=True))
    return {key: draw(options[key]) for key in keys}


@st.composite
def limits(draw: st.DrawFn) -> dict[str, Any]:
    """Draw min_price and/or max_price with both amounts, min below max."""
    low = draw(st.decimals(min_value=0, max_value=5, places=2))
    high = low + draw(st.decimals(min_value=0, max_value=20, places=2))
    chosen: dict[str, Any] = {}
    if draw(st.booleans()):
        chosen["min_price"] = {"excl_vat": low, "incl_vat": low * Decimal("1.2")}
    if draw(st.booleans()):
        chosen["max_price"] = {"excl_vat": high, "incl_vat": high * Decimal("1.2")}
    return chosen


def build(elements: list[dict[str, Any]], extra: dict[str, Any]) -> Tariff:
    data = {"country_code": "NL", "party_id": "PPL", "id": "p", "currency": "EUR"}
    return parse_tariff(data | {"elements": elements} | extra)


@st.composite
def plain_tariffs(draw: st.DrawFn) -> Tariff:
    """Tariffs without restrictions: one element, any dimensions, maybe price limits."""
    dims = ["ENERGY", "FLAT", "TIME", "PARKING_TIME"]
    return build([{"price_components": draw(components(dims))}], draw(limits()))


@st.composite
def any_tariffs(draw: st.DrawFn) -> Tariff:
    """Tariffs with restricted elements and a fallback, maybe price limits."""
    dims = ["ENERGY", "FLAT", "TIME", "PARKING_TIME"]
    restricted = [
        {"price_components": draw(components(dims)), "restrictions": draw(restrictions())}
        for _ in range(draw(st.integers(1, 3)))
    ]
    fallback = [{"price_components": draw(components(dims))}] if draw(st.booleans()) else []
    return build(restricted + fallback, draw(limits()))


@st.composite
def sessions(draw: st.DrawFn) -> list[SessionPeriod]:
    """Draw back-to-back charging and parking periods (whole seconds, whole Wh)."""
    periods, start = [], START + timedelta(minutes=draw(st.integers(0, 600)))
    for _ in range(draw(st.integers(1, 4))):
        state = draw(st.sampled_from([CHARGING, CHARGING, PARKING]))
        end = start + timedelta(seconds=draw(st.integers(0, 4 * 3600)))
        wh = draw(st.integers(0, 30_000)) if state is CHARGING else 0
        periods.append(SessionPeriod(start, end, Decimal(wh) / 1000, state))
        start = end
    return periods


def assert_not_cheaper(before: PriceResult, after: PriceResult) -> None:
    """Check after >= before; after taxes only when no limit scaled the taxes.

    A clamped total keeps its session's tax ratio, and a bigger session may have a
    lower one (more 10% energy next to a 20% fee), so after taxes may dip by a hair.
    """
    assert after.total_excl_tax >= before.total_excl_tax
    if before.price_limit is None and after.price_limit is None:
        assert after.total_incl_tax >= before.total_incl_tax


def totals(result: PriceResult) -> tuple[Decimal, Decimal]:
    return result.total_excl_tax, result.total_incl_tax


def close(a: PriceResult, b: PriceResult) -> bool:
    return all(abs(x - y) <= NOISE for x, y in zip(totals(a), totals(b), strict=True))


def with_period(periods: list[SessionPeriod], index: int, **changes: Any) -> list[SessionPeriod]:
    """Return periods with one period changed, later ones shifted to stay back-to-back."""
    old = periods[index]
    new = SessionPeriod(**{**_fields(old), **changes})
    shift = (new.end - new.start) - (old.end - old.start)
    later = [
        SessionPeriod(**{**_fields(p), "start": p.start + shift, "end": p.end + shift})
        for p in periods[index + 1 :]
    ]
    return [*periods[:index], new, *later]


def _fields(period: SessionPeriod) -> dict[str, Any]:
    return {name: getattr(period, name) for name in SessionPeriod.__slots__}


@settings(max_examples=150, deadline=None)
@given(tariff=plain_tariffs(), periods=sessions(), extra_wh=st.integers(1, 20_000), data=st.data())
def test_more_energy_never_costs_less(
    tariff: Tariff, periods: list[SessionPeriod], extra_wh: int, data: st.DataObject
) -> None:
    # Without restrictions nothing can switch to a cheaper element or a smaller step, and
    # the min/max clamp is monotonic. With restrictions more energy can legitimately cost
    # less: a cheaper tier past 20 kWh, a faster (cheaper) power band, or energy in a
    # later period whose component has a smaller step_size than the earlier one's.
    charging = [i for i, p in enumerate(periods) if p.state is CHARGING]
    if not charging:
        return
    index = data.draw(st.sampled_from(charging))
    more = with_period(
        periods, index, energy_kwh=periods[index].energy_kwh + Decimal(extra_wh) / 1000
    )
    before, after = (
        price_session(tariff, periods, AMSTERDAM),
        price_session(tariff, more, AMSTERDAM),
    )
    assert_not_cheaper(before, after)


@settings(max_examples=150, deadline=None)
@given(tariff=plain_tariffs(), periods=sessions(), extra=st.integers(1, 7200))
def test_a_longer_last_period_never_costs_less(
    tariff: Tariff, periods: list[SessionPeriod], extra: int
) -> None:
    # Only for a last period that already lasts: a zero-length parking period that grows
    # makes parking the time dimension used last, and then, by the spec's step_size rule,
    # the charging time before it is no longer rounded up, which can cost less.
    last = periods[-1]
    if last.end == last.start:
        return
    longer = with_period(periods, len(periods) - 1, end=last.end + timedelta(seconds=extra))
    before, after = (
        price_session(tariff, periods, AMSTERDAM),
        price_session(tariff, longer, AMSTERDAM),
    )
    assert_not_cheaper(before, after)


@settings(max_examples=150, deadline=None)
@given(tariff=any_tariffs(), periods=sessions())
def test_total_stays_within_min_and_max_price(tariff: Tariff, periods: list[SessionPeriod]) -> None:
    result = price_session(tariff, periods, AMSTERDAM)
    for limit, inside in (
        (tariff.min_price, lambda a, b: a >= b),
        (tariff.max_price, lambda a, b: a <= b),
    ):
        if limit is not None:
            assert inside(result.total_excl_tax, limit.excl_tax)
            assert limit.incl_tax is None or inside(result.total_incl_tax, limit.incl_tax)


@settings(max_examples=150, deadline=None)
@given(tariff=any_tariffs(), periods=sessions(), data=st.data())
def test_splitting_a_period_in_two_never_changes_the_price(
    tariff: Tariff, periods: list[SessionPeriod], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(periods) - 1))
    period = periods[index]
    seconds = int((period.end - period.start).total_seconds())
    cut = data.draw(st.integers(0, seconds))
    # Energy shared in proportion to time, as a meter would have read it.
    with localcontext(prec=PRECISION):
        first_kwh = period.energy_kwh * cut / seconds if seconds else period.energy_kwh
        second_kwh = period.energy_kwh - first_kwh
    middle = period.start + timedelta(seconds=cut)
    halves = [
        SessionPeriod(**{**_fields(period), "end": middle, "energy_kwh": first_kwh}),
        SessionPeriod(**{**_fields(period), "start": middle, "energy_kwh": second_kwh}),
    ]
    split = [*periods[:index], *halves, *periods[index + 1 :]]
    whole, parts = (
        price_session(tariff, periods, AMSTERDAM),
        price_session(tariff, split, AMSTERDAM),
    )
    assert close(whole, parts)
    assert abs(whole.billed_energy - parts.billed_energy) <= NOISE
    assert whole.billed_time == parts.billed_time
    assert whole.billed_parking_time == parts.billed_parking_time


@settings(max_examples=100, deadline=None)
@given(tariff=any_tariffs(), periods=sessions())
def test_per_dimension_costs_add_up_unless_a_limit_applied(
    tariff: Tariff, periods: list[SessionPeriod]
) -> None:
    result = price_session(tariff, periods, AMSTERDAM)
    with localcontext(prec=PRECISION):
        parts, by_period = _parts(result)
    assert abs(by_period - parts.excl_tax) <= NOISE
    if result.price_limit is None:
        assert abs(parts.excl_tax - result.total_excl_tax) <= NOISE
        assert abs(parts.incl_tax - result.total_incl_tax) <= NOISE


def _parts(result: PriceResult) -> tuple[Cost, Decimal]:
    """Return the sum of the CDR cost fields and the sum of the periods' costs."""
    parts = (
        result.total_fixed_cost
        + result.total_energy_cost
        + result.total_time_cost
        + result.total_parking_cost
        + result.total_reservation_cost
    )
    return parts, sum((p.cost.excl_tax for p in result.periods), Decimal(0))


@settings(max_examples=100, deadline=None)
@given(tariff=any_tariffs(), periods=sessions())
def test_minor_units_are_the_total_rounded_half_up(
    tariff: Tariff, periods: list[SessionPeriod]
) -> None:
    result = price_session(tariff, periods, AMSTERDAM)
    for incl in (True, False):
        amount = result.total_incl_tax if incl else result.total_excl_tax
        assert abs(from_minor_units(result.minor_units(incl), "EUR") - amount) <= Decimal("0.005")


@st.composite
def taxed_tariffs(draw: st.DrawFn) -> Tariff:
    """any_tariffs, and the same as OCPI 2.3.0 tariffs whose prices include taxes or not."""
    tariff = draw(any_tariffs())
    included = draw(st.sampled_from([None, *TaxIncluded]))
    if included is None:
        return tariff
    return replace(tariff, version="2.3.0", tax_included=included)


@settings(max_examples=300, deadline=None)
@given(tariff=taxed_tariffs(), periods=sessions())
def test_the_amount_alone_is_the_amount_of_the_whole_result(
    tariff: Tariff, periods: list[SessionPeriod]
) -> None:
    # A quote asks for the amount after taxes alone: the very same Decimal, to the last digit.
    expected = price_session(tariff, periods, AMSTERDAM).total_incl_tax
    assert built_session_amount(tariff, periods, AMSTERDAM) == expected


@settings(max_examples=200, deadline=None)
@given(
    tariff=taxed_tariffs(),
    minutes=st.integers(1, 3000),
    power=st.sampled_from([Decimal("2.3"), Decimal(11), Decimal("7.4"), Decimal(150)]),
    wanted=st.none() | st.decimals(min_value=Decimal("0.1"), max_value=200, places=1),
)
def test_a_window_amount_is_the_price_windows_amount(
    tariff: Tariff, minutes: int, power: Decimal, wanted: Decimal | None
) -> None:
    end = START + timedelta(minutes=minutes)
    full = price_window(tariff, START, end, AMSTERDAM, power, wanted)
    assert window_amount(tariff, START, end, AMSTERDAM, power, wanted) == full.amount_minor
    energy = full.energy_kwh
    amount = quote_amount(tariff, START, end, AMSTERDAM, energy, power)
    assert amount == quote_window(tariff, START, end, AMSTERDAM, energy, power).total_incl_tax
