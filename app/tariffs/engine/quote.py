"""Quotes for a window: what search, booking quotes and live estimates call.

A quote is a synthetic session priced by the same engine as a CDR: charging at a
constant power until the energy is delivered (or the window ends), then parking
until the end of the window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_CEILING, Decimal, localcontext

from app.tariffs.engine.model import Tariff
from app.tariffs.engine.periods import (
    ZERO,
    PeriodError,
    PeriodState,
    SessionPeriod,
    require_decimal,
    to_seconds,
)
from app.tariffs.engine.pricing import HOUR, PRECISION, built_session_amount, price_session
from app.tariffs.engine.result import PriceResult


def quote_window(
    tariff: Tariff,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    energy_kwh: Decimal,
    power_kw: Decimal,
    *,
    current_a: Decimal | None = None,
) -> PriceResult:
    """Quote charging at power_kw from start until energy_kwh is in (or end), then parking."""
    return price_session(tariff, _checked_periods(start, end, energy_kwh, power_kw, current_a), tz)


def quote_amount(
    tariff: Tariff,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    energy_kwh: Decimal,
    power_kw: Decimal,
) -> Decimal:
    """Return quote_window(...).total_incl_tax alone (what a search shows), priced the same way."""
    periods = _checked_periods(start, end, energy_kwh, power_kw, None)
    return built_session_amount(tariff, periods, tz)


def _checked_periods(
    start: datetime,
    end: datetime,
    energy_kwh: Decimal,
    power_kw: Decimal,
    current_a: Decimal | None,
) -> list[SessionPeriod]:
    """Refuse what cannot be quoted, then synthesise the quote's periods."""
    _check_quote(start, end, energy_kwh, power_kw)
    with localcontext() as context:
        context.prec = PRECISION
        return _quote_periods(start, end, energy_kwh, power_kw, current_a)


def _quote_periods(
    start: datetime,
    end: datetime,
    energy_kwh: Decimal,
    power_kw: Decimal,
    current_a: Decimal | None,
) -> list[SessionPeriod]:
    """Synthesise a charging period then, if time is left, a parking period."""
    window = to_seconds(end) - to_seconds(start)
    charging = min(energy_kwh * HOUR / power_kw, window)
    delivered = min(energy_kwh, power_kw * window / HOUR)
    # In UTC: adding a timedelta to a local aware datetime adds wall-clock time.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    micros = charging.scaleb(6).to_integral_value(rounding=ROUND_CEILING)
    stop = min(start + timedelta(microseconds=int(micros)), end)
    periods: list[SessionPeriod] = []
    if stop > start:
        charge = SessionPeriod(start, stop, delivered, PeriodState.CHARGING, power_kw, current_a)
        periods.append(charge)
    if stop < end:
        periods.append(SessionPeriod(stop, end, ZERO, PeriodState.PARKING))
    return periods


def _check_quote(start: datetime, end: datetime, energy_kwh: Decimal, power_kw: Decimal) -> None:
    """Refuse a window or a charge that cannot be quoted."""
    if start.tzinfo is None or end.tzinfo is None:
        raise PeriodError("start, end: must be timezone-aware")
    if to_seconds(end) <= to_seconds(start):
        raise PeriodError("end: must be after start")
    require_decimal(energy_kwh, "energy_kwh")
    require_decimal(power_kw, "power_kw")
    if power_kw == 0:
        raise PeriodError("power_kw: must be positive")
