"""An owner's simple price (per kWh, per hour, per session) as OCPI tariff elements, and back.

The OCPI Tariff is the source of truth; the simple price is only a view of it for owners.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.core.money import currency_exponent

# OCPI dimension -> (simple price field, step size). ENERGY steps are Wh, TIME steps seconds:
# home chargers are billed by the minute.
COMPONENTS = {"ENERGY": ("per_kwh", 1), "TIME": ("per_hour", 60), "FLAT": ("per_session", 1)}
FIELDS = tuple(field for field, _ in COMPONENTS.values())


def elements_from_price(price: dict[str, Any]) -> list[dict[str, Any]]:
    """Build OCPI elements with one price component per priced dimension."""
    components = []
    for dimension, (field, step_size) in COMPONENTS.items():
        amount = price.get(field)
        if amount is None:
            continue
        component: dict[str, Any] = {
            "type": dimension,
            "price": Decimal(amount),
            "step_size": step_size,
        }
        if price.get("vat") is not None:
            component["vat"] = Decimal(price["vat"])
        components.append(component)
    return [{"price_components": components}]


def price_from_elements(currency: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    """Read the simple price back from the first unrestricted component of each dimension."""
    price: dict[str, Any] = dict.fromkeys(FIELDS)
    price["currency"] = currency
    price["vat"] = None
    for element in elements:
        if element.get("restrictions"):
            continue
        for component in element.get("price_components", []):
            field = COMPONENTS.get(component.get("type"), (None, 0))[0]
            if field and price[field] is None:
                price[field] = _at_least_minor_units(Decimal(str(component["price"])), currency)
                if component.get("vat") is not None:
                    price["vat"] = _plain(Decimal(str(component["vat"])))
    return price


def _at_least_minor_units(amount: Decimal, currency: str) -> Decimal:
    """Show 0.3 EUR as 0.30 (JSON storage drops trailing zeros) but never round 0.295 away."""
    places = currency_exponent(currency)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent < places:
        return amount.quantize(Decimal(1).scaleb(-places))
    return amount


def _plain(value: Decimal) -> Decimal:
    """20.0 -> 20, 20.50 -> 20.5 (never the exponent form that normalize() gives 20)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
