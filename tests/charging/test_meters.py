"""Meter readings to charging periods, and the plausibility of what a charger reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.charging.meters import (
    Reading,
    charging_periods,
    energy_wh,
    implausibility,
    session_readings,
)
from app.tariffs.engine import PeriodState

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def at(minutes: int, wh: int) -> Reading:
    """Return a reading `minutes` after T0."""
    return Reading(T0 + timedelta(minutes=minutes), Decimal(wh))


def test_energy_in_kwh_is_converted_to_wh() -> None:
    assert energy_wh(Decimal("1.5"), "kWh") == Decimal("1500.0")
    assert energy_wh(Decimal(1500), None) == Decimal(1500)


def test_rising_meter_is_charging_and_a_flat_one_parking() -> None:
    points = [at(0, 1000), at(20, 2500), at(40, 4000), at(60, 4000)]
    periods = charging_periods(points)
    assert [(p.state, p.energy_kwh) for p in periods] == [
        (PeriodState.CHARGING, Decimal(3)),
        (PeriodState.PARKING, Decimal(0)),
    ]
    assert (periods[0].start, periods[0].end, periods[1].end) == (
        T0,
        T0 + timedelta(minutes=40),
        T0 + timedelta(minutes=60),
    )


def test_samples_that_run_backwards_or_outside_the_session_are_left_out() -> None:
    begin, end = at(0, 1000), at(60, 4000)
    samples = [at(-5, 900), at(10, 2000), at(20, 1500), at(30, 5000), at(70, 4100)]
    assert session_readings(begin, samples, end) == [begin, at(10, 2000), end]


def test_a_session_without_duration_is_one_period() -> None:
    [period] = charging_periods([at(0, 1000), at(0, 1000)])
    assert period.energy_kwh == 0 and period.start == period.end


def test_meter_stop_below_meter_start_is_implausible() -> None:
    assert "below meter start" in (implausibility(at(0, 5000), at(60, 4000), None) or "")


def test_energy_beyond_the_connectors_power_is_implausible() -> None:
    power = Decimal(11)
    assert implausibility(at(0, 0), at(60, 11000), power) is None
    assert implausibility(at(0, 0), at(60, 20000), power) is not None


def test_a_stop_before_the_start_is_implausible() -> None:
    assert implausibility(at(10, 0), at(0, 0), None) == "the session ends before it starts"
