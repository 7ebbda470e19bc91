"""Taxes on a cost, and the min_price/max_price clamp.

- 2.2.1, and 2.3.0 with tax_included NO: prices exclude VAT; a component's vat
  percentage is added on top. A missing vat means no VAT applies (the field's
  definition), even where an example says totals incl. VAT cannot be computed.
- 2.3.0 tax_included YES: prices include taxes; with vat we take the VAT out
  (price * 100 / (100 + vat)); without vat the tax share is unknown and both
  amounts equal the price (North American style, tariff 20).
- 2.3.0 tax_included N/A: no taxes at all, vat is ignored.

min_price and max_price bind the totals before and after taxes separately, as
both notes in the spec say. When the before-taxes total is clamped, the taxes are
scaled with it first (a 13.00 + 1.35 session capped at 10.00 keeps its tax ratio),
then the after-taxes limits apply. Otherwise a cap on the before-taxes amount alone
would leave the full taxes of the uncapped session on top of it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from app.tariffs.engine.model import PriceLimit, Tariff, TaxIncluded
from app.tariffs.engine.periods import ZERO
from app.tariffs.engine.result import Cost, TaxAmount

HUNDRED = Decimal(100)
# Members bound once: on Python 3.11 every Enum.MEMBER lookup goes through
# EnumType.__getattr__'s slot, several times slower than a global.
_YES, _NOT_APPLICABLE = TaxIncluded.YES, TaxIncluded.NOT_APPLICABLE
Limit = Literal["min_price", "max_price"]


def cost_of(amount: Decimal, vat: Decimal | None, tariff: Tariff) -> Cost:
    """Return the cost of amount, priced with a component's vat under tariff's tax rules."""
    if vat is None or tariff.tax_included is TaxIncluded.NOT_APPLICABLE:
        return Cost(amount, amount)
    if tariff.tax_included is TaxIncluded.YES:
        excl = amount * HUNDRED / (HUNDRED + vat)
        return Cost(excl, amount, (TaxAmount("VAT", amount - excl, vat),))
    tax = amount * vat / HUNDRED
    return Cost(amount, amount + tax, (TaxAmount("VAT", tax, vat),))


def amounts_of(amount: Decimal, vat: Decimal | None, tariff: Tariff) -> tuple[Decimal, Decimal]:
    """Return cost_of(amount, vat, tariff)'s amounts before and after taxes, by the same
    operations, without building the Cost and its taxes (a quote's total needs no more)."""
    if vat is None or tariff.tax_included is _NOT_APPLICABLE:
        return amount, amount
    if tariff.tax_included is _YES:
        return amount * HUNDRED / (HUNDRED + vat), amount
    return amount, amount + amount * vat / HUNDRED


def limit_total(total: Cost, tariff: Tariff) -> tuple[Cost, Limit | None]:
    """Clamp total to the tariff's min_price and max_price; say which one applied."""
    low, high = tariff.min_price, tariff.max_price
    excl = _clamp(total.excl_tax, _amount(low, False), _amount(high, False))
    incl = _clamp(_scaled_incl(total, excl), _amount(low, True), _amount(high, True))
    if (excl, incl) == (total.excl_tax, total.incl_tax):
        return total, None
    raised = excl > total.excl_tax or incl > total.incl_tax
    taxes = (TaxAmount("VAT", incl - excl),) if incl != excl else ()
    return Cost(excl, incl, taxes), "min_price" if raised else "max_price"


def _scaled_incl(total: Cost, excl: Decimal) -> Decimal:
    """Return the after-taxes total that goes with a clamped before-taxes total."""
    if excl == total.excl_tax:
        return total.incl_tax
    tax = total.incl_tax - total.excl_tax
    if total.excl_tax == ZERO or tax == ZERO:
        return excl + tax  # no ratio to keep (and no division noise on a tax-free total)
    return excl + tax * excl / total.excl_tax


def _clamp(value: Decimal, low: Decimal | None, high: Decimal | None) -> Decimal:
    """Return value raised to low and lowered to high, where given."""
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    return value


def _amount(limit: PriceLimit | None, incl_tax: bool) -> Decimal | None:
    """Return a limit's amount after or before taxes, if it has one."""
    if limit is None:
        return None
    return limit.incl_tax if incl_tax else limit.excl_tax
