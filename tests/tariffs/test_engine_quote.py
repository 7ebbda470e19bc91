"""quote_window: charge at a power until the energy is in, park for the rest of the window."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.tariffs.engine import (
    PeriodError,
    PeriodState,
    SessionPeriod,
    Tariff,
    parse_tariff,
    price_session,
    quote_window,
)
from tests.support.ocpi_examples import OCPI_EXAMPLES

EXAMPLES = OCPI_EXAMPLES
BERLIN = ZoneInfo("Europe/Berlin")
NOON = datetime(2026, 6, 1, 12, tzinfo=BERLIN)


def tariff(name: str, version: str = "2.2.1") -> Tariff:
    return parse_tariff(json.loads((EXAMPLES / version / f"{name}.json").read_text()), version)


def test_quote_charges_then_parks_for_the_rest_of_the_window() -> None:
    # 20 kWh at 11 kW take 1 h 49 min 5.45 s; the remaining 10 min 54.55 s of parking
    # are billed as 15 min at 2.00/h: 0.50 + 5.00 + 0.50 = 6.00 / 0.60 + 5.50 + 0.60.
    quote = quote_window(
        tariff("tariff_10_025kwh_parking_start"),
        NOON,
        NOON + timedelta(hours=2),
        BERLIN,
        energy_kwh=Decimal(20),
        power_kw=Decimal(11),
    )
    assert (quote.total_excl_tax, quote.total_incl_tax) == (Decimal("6.00"), Decimal("6.70"))
    assert quote.minor_units() == 670
    charging, parking = quote.periods
    assert (charging.state, parking.state) == (PeriodState.CHARGING, PeriodState.PARKING)
    assert charging.energy_kwh == 20
    assert parking.end == NOON + timedelta(hours=2)
    assert quote.billed_parking_time == Decimal("0.25")


def test_quote_delivers_only_what_fits_in_the_window() -> None:
    # 7 kW for one hour is 7 kWh, not the 20 kWh asked for: 7 * 0.25 = 1.75.
    quote = quote_window(
        tariff("tariff_8_simple_025kwh"),
        NOON,
        NOON + timedelta(hours=1),
        BERLIN,
        energy_kwh=Decimal(20),
        power_kw=Decimal(7),
    )
    assert quote.total_energy == 7
    assert quote.total_excl_tax == Decimal("1.75")
    assert quote.total_parking_time == 0


def test_quote_without_energy_is_all_parking() -> None:
    quote = quote_window(
        tariff("tariff_13_simple_3hour_5parking"),
        NOON,
        NOON + timedelta(minutes=42),
        BERLIN,
        energy_kwh=Decimal(0),
        power_kw=Decimal(11),
    )
    assert [p.state for p in quote.periods] == [PeriodState.PARKING]
    assert quote.total_excl_tax == Decimal("3.75")  # 42 min billed as 45 at 5.00/h


def test_quote_uses_the_power_for_power_restrictions() -> None:
    restricted = tariff("tariffrestriction_example_max_power")
    end = NOON + timedelta(hours=3)
    slow = quote_window(restricted, NOON, end, BERLIN, Decimal(10), power_kw=Decimal(11))
    fast = quote_window(restricted, NOON, end, BERLIN, Decimal(10), power_kw=Decimal(50))
    assert slow.total_excl_tax == Decimal("2.0")  # below 16 kW: 0.20/kWh
    assert fast.total_excl_tax == Decimal("5.0")  # fallback: 0.50/kWh


def test_quote_passes_the_current_for_current_restrictions() -> None:
    complex_tariff = tariff("tariff_4_complex")
    end = NOON + timedelta(hours=1)
    quote = quote_window(
        complex_tariff, NOON, end, BERLIN, Decimal(50), Decimal(11), current_a=Decimal(16)
    )
    assert quote.total_time_cost.excl_tax == 1  # 1 h at 1.00/h (below 32 A)


def test_quote_window_counts_real_hours_across_dst() -> None:
    # 00:00 to 05:00 local on the spring-forward night is 4 real hours of charging.
    night = datetime(2026, 3, 29, 0, tzinfo=BERLIN)
    quote = quote_window(
        tariff("tariff_1_simple_2hour"),
        night,
        night.replace(hour=5),
        BERLIN,
        energy_kwh=Decimal(100),
        power_kw=Decimal(11),
    )
    assert quote.total_time == 4
    assert quote.total_excl_tax == 8


def test_quote_is_priced_like_the_same_session() -> None:
    t = tariff("tariff_4_complex")
    start, end = NOON, NOON + timedelta(hours=3)
    quote = quote_window(t, start, end, BERLIN, Decimal(22), Decimal(11), current_a=Decimal(48))
    stop = start.astimezone(UTC) + timedelta(hours=2)
    session = [
        SessionPeriod(start, stop, Decimal(22), PeriodState.CHARGING, Decimal(11), Decimal(48)),
        SessionPeriod(stop, end, Decimal(0), PeriodState.PARKING),
    ]
    assert quote == price_session(t, session, BERLIN)


@pytest.mark.parametrize(
    ("hours", "energy", "power", "message"),
    [
        (1, "10", "0", "power_kw"),
        (1, "-1", "11", "energy_kwh"),
        (0, "10", "11", "end"),
        (-1, "10", "11", "end"),
    ],
)
def test_impossible_quotes_are_refused(hours: int, energy: str, power: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        quote_window(
            tariff("tariff_1_simple_2hour"),
            NOON,
            NOON + timedelta(hours=hours),
            BERLIN,
            Decimal(energy),
            Decimal(power),
        )


def test_quote_refuses_floats_and_naive_datetimes() -> None:
    one_hour = tariff("tariff_1_simple_2hour")
    with pytest.raises(PeriodError, match="power_kw"):
        quote_window(one_hour, NOON, NOON + timedelta(hours=1), BERLIN, Decimal(1), 11.0)  # type: ignore[arg-type]
    naive = NOON.replace(tzinfo=None)
    with pytest.raises(PeriodError, match="timezone-aware"):
        quote_window(one_hour, naive, naive + timedelta(hours=1), BERLIN, Decimal(1), Decimal(1))


def test_pricing_needs_a_time_zone() -> None:
    with pytest.raises(PeriodError, match="tz"):
        quote_window(
            tariff("tariff_1_simple_2hour"),
            NOON,
            NOON + timedelta(hours=1),
            "Europe/Berlin",  # type: ignore[arg-type]
            Decimal(1),
            Decimal(1),
        )
