"""What the engine returns: costs with their taxes, priced periods, session totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from app.core.money import to_minor_units
from app.tariffs.engine.model import Dimension, PriceComponent
from app.tariffs.engine.periods import ZERO, PeriodState, to_seconds


@dataclass(frozen=True, slots=True)
class TaxAmount:
    """One tax on a cost (2.3.0 TaxAmount); percentage is the component's vat."""

    name: str
    amount: Decimal
    percentage: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Cost:
    """An amount before and after taxes (2.2.1 excl_vat/incl_vat, 2.3.0 Price)."""

    excl_tax: Decimal = ZERO
    incl_tax: Decimal = ZERO
    taxes: tuple[TaxAmount, ...] = ()

    def as_ocpi(self, version: str, places: int = 4) -> dict[str, Any]:
        """Return the OCPI Price of the version, amounts rounded half-up to places decimals."""
        if version not in ("2.2.1", "2.3.0"):
            raise ValueError(f"unsupported OCPI version {version!r}")
        if version == "2.2.1":
            return {
                "excl_vat": _round(self.excl_tax, places),
                "incl_vat": _round(self.incl_tax, places),
            }
        taxes = [_tax_json(tax, places) for tax in self.taxes]
        return {"before_taxes": _round(self.excl_tax, places), "taxes": taxes}

    def __add__(self, other: Cost) -> Cost:
        """Add two costs, merging taxes of the same name and percentage."""
        if not isinstance(other, Cost):
            return NotImplemented
        # Most costs carry no tax: nothing to merge then (merging nothing gives nothing).
        taxes = _merge_taxes(self.taxes + other.taxes) if self.taxes or other.taxes else ()
        return Cost(self.excl_tax + other.excl_tax, self.incl_tax + other.incl_tax, taxes)


def _round(amount: Decimal, places: int) -> Decimal:
    """Round half-up to places decimals (OCPI numbers carry 4)."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _tax_json(tax: TaxAmount, places: int) -> dict[str, Any]:
    """Return a 2.3.0 TaxAmount object."""
    data: dict[str, Any] = {"name": tax.name, "amount": _round(tax.amount, places)}
    if tax.percentage is not None:
        data["percentage"] = tax.percentage
    return data


def _merge_taxes(taxes: tuple[TaxAmount, ...]) -> tuple[TaxAmount, ...]:
    """Sum taxes that share a name and percentage, in order of first appearance."""
    sums: dict[tuple[str, Decimal | None], Decimal] = {}
    for tax in taxes:
        key = (tax.name, tax.percentage)
        sums[key] = sums.get(key, ZERO) + tax.amount
    return tuple(TaxAmount(name, amount, percentage) for (name, percentage), amount in sums.items())


def total(costs: list[Cost]) -> Cost:
    """Return the sum of costs (zero for none)."""
    return sum(costs, Cost())


@dataclass(frozen=True, slots=True)
class PricedDimension:
    """One dimension of one period: what was used, what was billed, at which price."""

    type: Dimension
    volume: Decimal  # kWh for ENERGY, hours for TIME and PARKING_TIME, 1 for FLAT
    billed_volume: Decimal  # volume after step_size rounding (only on the last period)
    component: PriceComponent
    element_index: int  # position of the tariff element the component came from
    cost: Cost


@dataclass(frozen=True, slots=True)
class PricedPeriod:
    """A charging period as priced; a CDR's charging_periods are built from these."""

    start: datetime
    end: datetime
    state: PeriodState
    energy_kwh: Decimal
    dimensions: tuple[PricedDimension, ...]

    @property
    def cdr_dimensions(self) -> tuple[tuple[str, Decimal], ...]:
        """Return the period's OCPI CdrDimensions as (type, volume): kWh and hours."""
        hours = (to_seconds(self.end) - to_seconds(self.start)) / 3600
        match self.state:
            case PeriodState.CHARGING:
                return (("ENERGY", self.energy_kwh), ("TIME", hours))
            case PeriodState.PARKING:
                return (("PARKING_TIME", hours),)
        return (("RESERVATION_TIME", hours),)

    @property
    def cost(self) -> Cost:
        """Return the cost of all dimensions of this period."""
        return total([dimension.cost for dimension in self.dimensions])


@dataclass(frozen=True, slots=True)
class PriceResult:
    """A priced session; total_* fields mirror the OCPI CDR fields of the same name.

    total_cost is after min_price/max_price; the per-dimension costs are before, so
    when price_limit is set they do not add up to total_cost.
    """

    currency: str
    total_cost: Cost
    total_fixed_cost: Cost
    total_energy_cost: Cost
    total_time_cost: Cost
    total_parking_cost: Cost
    total_reservation_cost: Cost
    total_energy: Decimal  # kWh delivered
    total_time: Decimal  # hours, charging plus parking (as in the CDR)
    total_parking_time: Decimal  # hours not charging
    billed_energy: Decimal  # kWh billed, after step_size
    billed_time: Decimal  # hours of charging time billed, after step_size
    billed_parking_time: Decimal  # hours of parking billed, after step_size
    billed_reservation_time: Decimal  # hours of reservation billed, after step_size
    periods: tuple[PricedPeriod, ...]
    price_limit: Literal["min_price", "max_price"] | None = None

    @property
    def total_excl_tax(self) -> Decimal:
        """Return the total before taxes."""
        return self.total_cost.excl_tax

    @property
    def total_incl_tax(self) -> Decimal:
        """Return the total after taxes."""
        return self.total_cost.incl_tax

    def minor_units(self, incl_tax: bool = True) -> int:
        """Return the total in integer minor units, rounded half-up (what we charge)."""
        amount = self.total_incl_tax if incl_tax else self.total_excl_tax
        return to_minor_units(amount, self.currency)
