"""The one booking-window price: what search, the charger page and the booking hold all show.

A window on a connector is priced as charging at the connector's power for the whole
window (the most it can deliver, so the hold covers any session that fits the window),
unless the driver says how much energy they want, which is then capped by that most.
Search and booking pick the same connector: the cheapest quote among the EVSE's usable
connectors, each priced with its first live tariff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.core.money import to_minor_units
from app.tariffs.engine import PriceResult, Tariff, quote_amount, quote_window

SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A quote in parts that add up to its amount (minor units): before VAT, then VAT."""

    energy_minor: int
    time_minor: int
    fee_minor: int
    adjustment_minor: int  # a tariff's minimum or maximum price, when it applies
    vat_minor: int


@dataclass(frozen=True, slots=True)
class WindowPrice:
    """The price of charging over a window on one connector."""

    amount_minor: int
    currency: str
    energy_kwh: Decimal
    power_kw: Decimal
    hours: Decimal
    breakdown: Breakdown


def window_hours(start: datetime, end: datetime) -> Decimal:
    """The length of a window in hours (whole seconds), as a Decimal."""
    return Decimal(int((end - start).total_seconds())) / SECONDS_PER_HOUR


def estimated_energy(
    power_kw: Decimal, start: datetime, end: datetime, wanted_kwh: Decimal | None = None
) -> Decimal:
    """Energy a quote assumes: what the connector can deliver in the window, or less if asked."""
    most = power_kw * window_hours(start, end)
    return most if wanted_kwh is None else min(wanted_kwh, most)


def price_window(
    tariff: Tariff,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    power_kw: Decimal,
    wanted_kwh: Decimal | None = None,
) -> WindowPrice:
    """Price charging at power_kw over [start, end) with the engine; the one quote rule."""
    energy = estimated_energy(power_kw, start, end, wanted_kwh)
    result = quote_window(tariff, start, end, zone, energy, power_kw)
    return WindowPrice(
        amount_minor=result.minor_units(),
        currency=result.currency,
        energy_kwh=energy,
        power_kw=power_kw,
        hours=window_hours(start, end),
        breakdown=breakdown_of(result),
    )


def window_amount(
    tariff: Tariff,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    power_kw: Decimal,
    wanted_kwh: Decimal | None = None,
) -> int:
    """price_window(...).amount_minor alone: the same rule and engine, no breakdown (search)."""
    energy = estimated_energy(power_kw, start, end, wanted_kwh)
    return to_minor_units(quote_amount(tariff, start, end, zone, energy, power_kw), tariff.currency)


def breakdown_of(result: PriceResult) -> Breakdown:
    """Split a priced result into energy, time, session fee and VAT that sum to its total."""
    currency = result.currency
    energy = to_minor_units(result.total_energy_cost.excl_tax, currency)
    time_part = result.total_time_cost.excl_tax + result.total_parking_cost.excl_tax
    time_minor = to_minor_units(time_part, currency)
    fee = to_minor_units(
        result.total_fixed_cost.excl_tax + result.total_reservation_cost.excl_tax, currency
    )
    excl = to_minor_units(result.total_cost.excl_tax, currency)
    total = result.minor_units()
    return Breakdown(
        energy_minor=energy,
        time_minor=time_minor,
        fee_minor=fee,
        adjustment_minor=excl - energy - time_minor - fee,
        vat_minor=total - excl,
    )
