"""Restrictions flip at the right instant: local time (DST), dates, kWh, duration, power."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.tariffs.engine import (
    Dimension,
    PeriodError,
    PeriodState,
    SessionPeriod,
    parse_tariff,
    price_session,
)
from app.tariffs.engine.model import Tariff

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CHARGING, PARKING = PeriodState.CHARGING, PeriodState.PARKING
NAIVE_NOON = datetime(2026, 6, 1, 12, tzinfo=UTC).replace(tzinfo=None)


def tariff(*elements: dict[str, Any], **extra: Any) -> Tariff:
    """Build a EUR tariff from element dicts."""
    data = {"country_code": "NL", "party_id": "PPL", "id": "t", "currency": "EUR"}
    return parse_tariff(data | {"elements": list(elements)} | extra)


def priced(dimension: str, price: float, step: int = 1, **restrictions: Any) -> dict[str, Any]:
    """One element with one component and the given restrictions."""
    element: dict[str, Any] = {
        "price_components": [{"type": dimension, "price": price, "step_size": step}]
    }
    return element | ({"restrictions": restrictions} if restrictions else {})


def charging(start: datetime, hours: float, kwh: str = "0", **extra: Any) -> SessionPeriod:
    # Real hours: adding a timedelta to a local aware datetime would add wall-clock time.
    end = start.astimezone(UTC) + timedelta(hours=hours)
    return SessionPeriod(start, end, Decimal(kwh), CHARGING, **extra)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)


def test_time_of_day_window_wrapping_midnight_is_priced_only_at_night() -> None:
    # 1.00/h from 22:00 to 06:00, free otherwise; 20:00 -> 08:00 has 8 night hours.
    night = tariff(priced("TIME", 1, start_time="22:00", end_time="06:00"), priced("TIME", 0))
    result = price_session(night, [charging(local(2026, 6, 1, 20), 12)], AMSTERDAM)
    assert result.total_excl_tax == 8
    assert [p.dimensions[0].component.price for p in result.periods] == [0, 1, 0]
    assert [p.start.astimezone(AMSTERDAM).hour for p in result.periods] == [20, 22, 6]


def test_end_time_midnight_means_until_the_end_of_the_day() -> None:
    evening = tariff(priced("TIME", 1, start_time="20:00", end_time="00:00"))
    result = price_session(evening, [charging(local(2026, 6, 1, 19), 6)], AMSTERDAM)
    assert result.total_excl_tax == 4  # 20:00 - 24:00


def test_spring_forward_shortens_a_local_time_window() -> None:
    # On 2026-03-29 clocks jump 02:00 -> 03:00: 02:00-04:00 local lasts one real hour.
    window = tariff(priced("TIME", 1, start_time="02:00", end_time="04:00"))
    result = price_session(window, [charging(local(2026, 3, 29, 0), 6)], AMSTERDAM)
    assert result.total_excl_tax == 1


def test_fall_back_lengthens_a_local_time_window() -> None:
    # On 2026-10-25 clocks go 03:00 -> 02:00: 02:00-04:00 local lasts three real hours.
    window = tariff(priced("TIME", 1, start_time="02:00", end_time="04:00"))
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)  # 00:00 local (CEST)
    result = price_session(window, [charging(start, 6)], AMSTERDAM)
    assert result.total_excl_tax == 3


def test_a_window_starting_in_the_spring_gap_starts_when_the_clock_jumps() -> None:
    # 02:30 does not exist on 2026-03-29; local time passes 02:30 at the jump to 03:00.
    window = tariff(priced("TIME", 1, start_time="02:30"))
    result = price_session(window, [charging(local(2026, 3, 29, 0), 4)], AMSTERDAM)
    # 00:00 CET to 05:00 CEST (4 real hours): priced from 03:00 CEST to 05:00 = 2 h.
    assert result.total_excl_tax == 2


def test_restrictions_use_the_location_time_zone() -> None:
    day = tariff(priced("TIME", 1, start_time="09:00", end_time="17:00"))
    start = datetime(2026, 6, 1, 7, tzinfo=UTC)  # 09:00 in Amsterdam, 03:00 in Toronto
    assert price_session(day, [charging(start, 2)], AMSTERDAM).total_excl_tax == 2
    assert price_session(day, [charging(start, 2)], ZoneInfo("America/Toronto")).total_excl_tax == 0


def test_day_of_week_flips_at_local_midnight() -> None:
    weekend = tariff(priced("TIME", 1, day_of_week=["SATURDAY", "SUNDAY"]))
    friday_evening = local(2026, 6, 5, 22)
    assert price_session(weekend, [charging(friday_evening, 4)], AMSTERDAM).total_excl_tax == 2


def test_start_date_inclusive_end_date_exclusive() -> None:
    june = tariff(priced("TIME", 1, start_date="2026-06-02", end_date="2026-06-03"))
    result = price_session(june, [charging(local(2026, 6, 1, 12), 48)], AMSTERDAM)
    assert result.total_excl_tax == 24


def test_kwh_threshold_splits_a_period_at_the_crossing() -> None:
    # First 10 kWh at 0.30, the rest at 0.50: one 30 kWh period is cut at 10 kWh.
    tiers = tariff(priced("ENERGY", 0.30, max_kwh=10), priced("ENERGY", 0.50, min_kwh=10))
    result = price_session(tiers, [charging(local(2026, 6, 1, 12), 3, "30")], AMSTERDAM)
    assert result.total_excl_tax == Decimal("13.00")
    first, second = result.periods
    assert first.end == local(2026, 6, 1, 13)  # constant power: 10 kWh after one hour
    assert (first.energy_kwh, second.energy_kwh) == (10, 20)


def test_kwh_threshold_counts_energy_of_earlier_periods() -> None:
    tiers = tariff(priced("ENERGY", 0.30, max_kwh=10), priced("ENERGY", 0.50))
    start = local(2026, 6, 1, 12)
    periods = [charging(start, 1, "8"), charging(start + timedelta(hours=1), 1, "8")]
    result = price_session(tiers, periods, AMSTERDAM)
    assert result.total_excl_tax == Decimal("8") * Decimal("0.30") + 2 * Decimal(
        "0.30"
    ) + 6 * Decimal("0.50")


def test_duration_threshold_splits_a_period_at_the_crossing() -> None:
    # Free for 30 minutes of session time, 0.25/kWh afterwards: 1 h at 10 kW.
    first_half_free = tariff(priced("ENERGY", 0, max_duration=1800), priced("ENERGY", 0.25))
    result = price_session(first_half_free, [charging(local(2026, 6, 1, 12), 1, "10")], AMSTERDAM)
    assert result.total_excl_tax == Decimal("1.25")


def test_min_power_is_inclusive_and_max_power_exclusive() -> None:
    fast = tariff(priced("ENERGY", 0.50, min_power=22), priced("ENERGY", 0.30, max_power=22))
    at_limit = charging(local(2026, 6, 1, 12), 1, "22")  # average power exactly 22 kW
    assert price_session(fast, [at_limit], AMSTERDAM).total_excl_tax == Decimal("11")


def test_measured_power_wins_over_average_power() -> None:
    fast = tariff(priced("ENERGY", 0.50, min_power=50), priced("ENERGY", 0.30))
    period = charging(local(2026, 6, 1, 12), 1, "10", power_kw=Decimal(60))
    assert price_session(fast, [period], AMSTERDAM).total_excl_tax == 5


def test_unknown_current_does_not_match_a_current_restriction() -> None:
    low = tariff(priced("TIME", 1, max_current=32), priced("TIME", 2))
    unknown = charging(local(2026, 6, 1, 12), 1)
    known = charging(local(2026, 6, 1, 12), 1, current_a=Decimal(16))
    assert price_session(low, [unknown], AMSTERDAM).total_excl_tax == 2
    assert price_session(low, [known], AMSTERDAM).total_excl_tax == 1


def test_first_matching_element_wins_per_dimension() -> None:
    # ENERGY from element 0, TIME from element 1: dimensions are looked up separately.
    mixed = tariff(
        {"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1}]},
        {
            "price_components": [
                {"type": "ENERGY", "price": 9, "step_size": 1},
                {"type": "TIME", "price": 1, "step_size": 1},
            ]
        },
    )
    result = price_session(mixed, [charging(local(2026, 6, 1, 12), 2, "10")], AMSTERDAM)
    assert result.total_energy_cost.excl_tax == Decimal("2.50")
    assert result.total_time_cost.excl_tax == 2
    assert {d.type: d.element_index for d in result.periods[0].dimensions} == {
        Dimension.ENERGY: 0,
        Dimension.TIME: 1,
    }


def test_no_matching_element_means_the_dimension_is_free() -> None:
    daytime = tariff(priced("PARKING_TIME", 6, start_time="09:00", end_time="18:00"))
    period = SessionPeriod(local(2026, 6, 1, 19), local(2026, 6, 1, 21), Decimal(0), PARKING)
    assert price_session(daytime, [period], AMSTERDAM).total_excl_tax == 0


def test_flat_is_charged_once_even_across_many_periods() -> None:
    start_fee = tariff(priced("FLAT", 0.5))
    start = local(2026, 6, 1, 12)
    periods = [charging(start + timedelta(hours=i), 1, "5") for i in range(4)]
    assert price_session(start_fee, periods, AMSTERDAM).total_fixed_cost.excl_tax == Decimal("0.5")


def test_flat_is_the_first_that_applies_during_the_session() -> None:
    # No FLAT before 18:00; the evening fee applies once the session reaches 18:00.
    evening_fee = tariff(priced("FLAT", 2, start_time="18:00"), priced("TIME", 0))
    result = price_session(evening_fee, [charging(local(2026, 6, 1, 17), 2)], AMSTERDAM)
    assert result.total_excl_tax == 2


def test_a_cut_period_is_reported_as_one_priced_period_when_nothing_changes() -> None:
    # The time-of-day boundary of another dimension must not split the energy line.
    flat_energy = tariff(priced("ENERGY", 0.3), priced("PARKING_TIME", 1, start_time="18:00"))
    result = price_session(flat_energy, [charging(local(2026, 6, 1, 17), 2, "20")], AMSTERDAM)
    assert len(result.periods) == 1
    assert result.periods[0].dimensions[0].volume == 20


def test_priced_periods_carry_billed_volume_and_cost() -> None:
    hourly = tariff(priced("TIME", 2, 900))
    result = price_session(hourly, [charging(local(2026, 6, 1, 12), 0.5 + 1 / 60)], AMSTERDAM)
    (dimension,) = result.periods[0].dimensions
    assert dimension.volume * 60 == 31
    assert dimension.billed_volume == Decimal("0.75")
    assert dimension.cost.excl_tax == Decimal("1.5")
    assert result.periods[0].cost == dimension.cost


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ([], "at least one period"),
        ([SessionPeriod(NAIVE_NOON, NAIVE_NOON + timedelta(hours=1))], "timezone-aware"),
        ([charging(local(2026, 6, 1, 12), -1)], "ends before it starts"),
        (
            [charging(local(2026, 6, 1, 12), 2), charging(local(2026, 6, 1, 13), 1)],
            "previous period",
        ),
        (
            [SessionPeriod(local(2026, 6, 1, 12), local(2026, 6, 1, 13), Decimal(1), PARKING)],
            "only charging periods deliver energy",
        ),
        ([SessionPeriod(local(2026, 6, 1, 12), local(2026, 6, 1, 13), 1.5)], "finite Decimal"),  # type: ignore[arg-type]
        ([charging(local(2026, 6, 1, 12), 1, "-1")], "must not be negative"),
        (
            [SessionPeriod(local(2026, 6, 1, 12), local(2026, 6, 1, 13), state="CHARGING")],  # type: ignore[arg-type]
            "expected a PeriodState",
        ),
        (
            [
                charging(local(2026, 6, 1, 12), 1),
                SessionPeriod(
                    local(2026, 6, 1, 13), local(2026, 6, 1, 14), state=PeriodState.RESERVATION
                ),
            ],
            "reservation cannot follow",
        ),
    ],
)
def test_malformed_periods_are_refused(periods: list[SessionPeriod], message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        price_session(tariff(priced("TIME", 1)), periods, AMSTERDAM)


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe"])
def test_utc_offsets_are_read_as_from_the_exact_instant(zone: str) -> None:
    # The DST scan reads offsets through fromtimestamp: the same as converting the exact
    # instant, on every second around both changes of the year (and a half-hour one).
    from app.tariffs.engine.periods import to_datetime
    from app.tariffs.engine.restrictions import _offset

    tz = ZoneInfo(zone)
    days = [datetime(2026, month, day, tzinfo=UTC) for month, day in ((3, 8), (3, 29), (4, 5))]
    for day in days:
        for day2 in (day, day.replace(month=day.month + 7)):
            base = int(day2.timestamp())
            for second in range(base - 3 * 3600, base + 27 * 3600, 599):
                expected = to_datetime(Decimal(second)).astimezone(tz).utcoffset()
                assert _offset(tz, second) == expected
