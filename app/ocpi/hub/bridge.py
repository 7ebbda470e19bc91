"""Version bridge: objects between a 2.2.1 party and a 2.3.0 party, converted in this one place.

| object | 2.2.1 -> 2.3.0 | 2.3.0 -> 2.2.1 |
| --- | --- | --- |
| Tariff `tax_included` | added: `"NO"` (2.2.1 prices exclude VAT) | removed; see (1) |
| Tariff `min_price`, `max_price` | Price -> PriceLimit (2) | PriceLimit -> Price (2) |
| Connector | unchanged | `capabilities` removed |
| EVSE | unchanged | `parking`, `accepted_service_providers` removed |
| Location | unchanged | `parking_places`, `help_phone` removed |
| Session, CDR costs (4) | Price `{excl_vat, incl_vat}` -> `{before_taxes, taxes}` | back |
| CDR | its `tariffs` as Tariffs | its `tariffs` as Tariffs |
| Credentials (3) | hub = role `HUB` | hub = `hub_party_id`, reachable parties in `roles` |

(1) With `tax_included: "YES"` each price that has a `vat` becomes the price excluding VAT,
price / (1 + vat/100) to 4 decimals; a price without `vat` passes as given.
(2) `{excl_vat, incl_vat}` <-> `{before_taxes, after_taxes}`.
(3) Built per version by app.ocpi.hub.identity.hub_credentials, not converted.
(4) `total_cost` and the CDR's `total_*_cost`: `taxes` = one TaxAmount "VAT" of
incl_vat - excl_vat (none without incl_vat); back, incl_vat = before_taxes + the taxes.

Objects are recognised by their shape (a Tariff has `elements` and `currency`, a Location
`coordinates`, an EVSE `connectors`, a Connector `standard`), so a list, a single object and a
PATCH fragment are all handled; `last_updated` is never touched.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ONLY_230 = {
    "connector": ("capabilities",),
    "evse": ("parking", "accepted_service_providers"),
    "location": ("parking_places", "help_phone"),
}
PRICE_230 = {"excl_vat": "before_taxes", "incl_vat": "after_taxes"}
PRICE_221 = {value: key for key, value in PRICE_230.items()}
COSTS = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)


def convert(data: Any, source: str, target: str) -> Any:
    """Return data (an object, a list of objects, or None) in the target version's shape."""
    if source == target or data is None:
        return data
    if isinstance(data, list):
        return [convert(item, source, target) for item in data]
    if not isinstance(data, dict):
        return data
    return _object(dict(data), target)


def _object(obj: dict[str, Any], target: str) -> dict[str, Any]:
    if "elements" in obj and "currency" in obj:
        return _tariff(obj, target)
    for key in COSTS:
        if isinstance(obj.get(key), dict):
            obj[key] = _price(obj[key], target)
    if isinstance(obj.get("tariffs"), list):
        obj["tariffs"] = [_object(dict(t), target) for t in obj["tariffs"] if isinstance(t, dict)]
    if "coordinates" in obj and "country_code" in obj and "address" in obj:
        obj = _drop(obj, "location", target)
    if isinstance(obj.get("evses"), list):
        obj["evses"] = [_object(dict(e), target) for e in obj["evses"] if isinstance(e, dict)]
    if isinstance(obj.get("connectors"), list):
        obj = _drop(obj, "evse", target)
        obj["connectors"] = [
            _object(dict(c), target) for c in obj["connectors"] if isinstance(c, dict)
        ]
    if "standard" in obj and "power_type" in obj:
        obj = _drop(obj, "connector", target)
    return obj


def _drop(obj: dict[str, Any], kind: str, target: str) -> dict[str, Any]:
    if target == "2.2.1":
        for key in ONLY_230[kind]:
            obj.pop(key, None)
    return obj


def _tariff(tariff: dict[str, Any], target: str) -> dict[str, Any]:
    names = PRICE_230 if target == "2.3.0" else PRICE_221
    for key in ("min_price", "max_price"):
        if isinstance(tariff.get(key), dict):
            tariff[key] = {names.get(k, k): v for k, v in tariff[key].items()}
    if target == "2.3.0":
        tariff.setdefault("tax_included", "NO")
        return tariff
    if tariff.pop("tax_included", None) == "YES":
        tariff["elements"] = [_without_tax(element) for element in tariff["elements"]]
    return tariff


def _without_tax(element: dict[str, Any]) -> dict[str, Any]:
    components = []
    for component in element.get("price_components") or []:
        vat = component.get("vat")
        if vat is not None and component.get("price") is not None:
            price = Decimal(str(component["price"])) / (1 + Decimal(str(vat)) / 100)
            component = {**component, "price": price.quantize(Decimal("0.0001"))}
        components.append(component)
    return {**element, "price_components": components}


def _price(price: dict[str, Any], target: str) -> dict[str, Any]:
    """A Session/CDR Price in the target version's shape."""
    if target == "2.3.0" and "excl_vat" in price:
        converted: dict[str, Any] = {"before_taxes": price["excl_vat"]}
        if price.get("incl_vat") is not None:
            tax = Decimal(str(price["incl_vat"])) - Decimal(str(price["excl_vat"]))
            converted["taxes"] = [{"name": "VAT", "amount": tax}]
        return converted
    if target == "2.2.1" and "before_taxes" in price:
        converted = {"excl_vat": price["before_taxes"]}
        taxes = [t.get("amount") for t in price.get("taxes") or [] if isinstance(t, dict)]
        if taxes:
            total = sum((Decimal(str(a)) for a in taxes if a is not None), Decimal(0))
            converted["incl_vat"] = Decimal(str(price["before_taxes"])) + total
        return converted
    return price
