"""Dynamic pricing 1.0 both ways: own OCPI tariffs as OICP pricing products (CPO), Hubject
products as OCPI tariffs (EMP).

What OICP can carry, per OCPI tariff element: one main price per kWh (ENERGY ->
KILOWATT_HOUR) or per hour (TIME -> HOUR), plus a FLAT (START FEE) and PARKING_TIME (PARKING
FEE, per hour); restrictions on day_of_week and start/end_time (ProductAvailabilityTimes).
What it cannot, so such a tariff is not pushed (its EVSEs keep Hubject's default price):
- ENERGY and TIME in one element (OICP prices one reference unit per product);
- restrictions on kWh, current, power, duration, dates or reservations;
- tariff-wide min_price / max_price (OICP's MINIMUM/MAXIMUM FEE needs a reference unit that
  a session total does not have);
- step_size (OICP has no rounding steps: prices are taken as continuous).
Prices are pushed without VAT, as Hubject asks.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.inventory.models import Connector, Evse, Location
from app.oicp import mapping
from app.oicp.client import HubjectClient
from app.oicp.queries import own_published_filter
from app.oicp.services.cpo_push import operator
from app.tariffs.models import Tariff

log = logging.getLogger("plugpool.oicp.pricing")
DAYS = {
    "MONDAY": "Monday",
    "TUESDAY": "Tuesday",
    "WEDNESDAY": "Wednesday",
    "THURSDAY": "Thursday",
    "FRIDAY": "Friday",
    "SATURDAY": "Saturday",
    "SUNDAY": "Sunday",
}
UNEXPRESSIBLE = (
    "min_kwh",
    "max_kwh",
    "min_current",
    "max_current",
    "min_power",
    "max_power",
    "min_duration",
    "max_duration",
    "start_date",
    "end_date",
    "reservation",
)


class NotExpressible(ValueError):
    """An OCPI tariff OICP cannot carry (the reason is the message)."""


def product_ids(tariff: Tariff) -> list[str]:
    """The OICP ProductIDs of a tariff's elements."""
    return [f"{tariff.ocpi_id}-{n}"[:50] for n in range(1, len(tariff.elements) + 1)]


def products_of_tariff(tariff: Tariff, max_power_kw: Decimal) -> list[dict[str, Any]]:
    """The PricingProductDataRecords of a tariff, one per element (NotExpressible if not)."""
    if tariff.min_price or tariff.max_price:
        raise NotExpressible("min_price / max_price")
    return [
        _product(product_id, element, tariff.currency, max_power_kw)
        for product_id, element in zip(product_ids(tariff), tariff.elements, strict=True)
    ]


def _product(
    product_id: str, element: dict[str, Any], currency: str, max_power_kw: Decimal
) -> dict[str, Any]:
    components = {c["type"]: Decimal(str(c["price"])) for c in element.get("price_components", [])}
    if "ENERGY" in components and "TIME" in components:
        raise NotExpressible("ENERGY and TIME in one element")
    restrictions = element.get("restrictions") or {}
    bad = [name for name in UNEXPRESSIBLE if restrictions.get(name) is not None]
    if bad:
        raise NotExpressible(f"restrictions {', '.join(bad)}")
    unit, price = (
        ("HOUR", components["TIME"])
        if "TIME" in components
        else ("KILOWATT_HOUR", components.get("ENERGY", Decimal(0)))
    )
    additional = []
    if "FLAT" in components:
        additional.append(_additional("START FEE", "KILOWATT_HOUR", components["FLAT"]))
    if "PARKING_TIME" in components:
        additional.append(_additional("PARKING FEE", "HOUR", components["PARKING_TIME"]))
    times = _availability(restrictions)
    record: dict[str, Any] = {
        "ProductID": product_id,
        "ReferenceUnit": unit,
        "ProductPriceCurrency": currency,
        "PricePerReferenceUnit": price,
        "MaximumProductChargingPower": max_power_kw,
        "IsValid24hours": times is None,
        "ProductAvailabilityTimes": times
        or [{"Periods": [{"begin": "00:00", "end": "23:59"}], "on": "Everyday"}],
    }
    if additional:
        record["AdditionalReferences"] = additional
    return record


def _additional(kind: str, unit: str, price: Decimal) -> dict[str, Any]:
    return {
        "AdditionalReference": kind,
        "AdditionalReferenceUnit": unit,
        "PricePerAdditionalReferenceUnit": price,
    }


def _availability(restrictions: dict[str, Any]) -> list[dict[str, Any]] | None:
    days = restrictions.get("day_of_week") or []
    begin, end = restrictions.get("start_time"), restrictions.get("end_time")
    if not days and not begin and not end:
        return None
    period = {"begin": (begin or "00:00")[:5], "end": (end or "23:59")[:5]}
    if not days:
        return [{"Periods": [period], "on": "Everyday"}]
    return [{"Periods": [period], "on": DAYS[day]} for day in days]


def push_pricing(client: HubjectClient | None = None) -> tuple[int, list[str]]:
    """Push own pricing products and EVSE pricing; return (EVSEs priced, tariffs left out)."""
    client = client or HubjectClient()
    tariffs, assignments = _own_tariffs_and_evses()
    records, skipped, pushed_ids = [], [], set()
    for tariff, power in tariffs.values():
        try:
            records += products_of_tariff(tariff, power)
            pushed_ids.add(tariff.ocpi_id)
        except NotExpressible as reason:
            log.info("tariff %s cannot be expressed in OICP: %s", tariff.ocpi_id, reason)
            skipped.append(tariff.ocpi_id)
    if not records:
        return 0, skipped
    first = records[0]
    client.acknowledged(
        f"dynamicpricing/v10/operators/{operator()}/pricing-products",
        {
            "ActionType": "fullLoad",
            "PricingProductData": {
                "OperatorID": operator(),
                "OperatorName": current_app.config["OICP_OPERATOR_NAME"][:100],
                "ProviderID": "*",
                "PricingDefaultPrice": first["PricePerReferenceUnit"],
                "PricingDefaultPriceCurrency": first["ProductPriceCurrency"],
                "PricingDefaultReferenceUnit": first["ReferenceUnit"],
                "PricingProductDataRecords": records,
            },
        },
    )
    pricing = [
        {
            "EvseID": evse_id,
            "ProviderID": "*",
            "EvseIDProductList": [{"ProductID": p} for p in product_ids(tariffs[tid][0])],
        }
        for evse_id, tid in assignments
        if tid in pushed_ids
    ]
    size = int(current_app.config["OICP_PUSH_BATCH"])
    for start in range(0, len(pricing), size):
        client.acknowledged(
            f"dynamicpricing/v10/operators/{operator()}/evse-pricing",
            {
                "ActionType": "fullLoad" if start == 0 else "insert",
                "EVSEPricing": pricing[start : start + size],
            },
        )
    return len(pricing), skipped


def _own_tariffs_and_evses() -> tuple[dict[str, tuple[Tariff, Decimal]], list[tuple[str, str]]]:
    """Own live tariffs named by published connectors (with the largest power), and for each
    EVSE its EvseID and first tariff id."""
    config = current_app.config
    rows = db.session.execute(
        select(Evse.uid, Evse.evse_id, Connector)
        .join(Location, Location.id == Evse.location_id)
        .join(Connector, Connector.evse_pk == Evse.id)
        .where(*own_published_filter(), Evse.status != "REMOVED")
        .order_by(Evse.id, Connector.id)
    ).all()
    power: dict[str, Decimal] = {}
    assignments: dict[str, str] = {}
    for uid, evse_id, connector in rows:
        for tariff_id in connector.tariff_ids[:1]:
            power[tariff_id] = max(power.get(tariff_id, Decimal(0)), connector.power_kw)
            assignments.setdefault(mapping.own_evse_id(evse_id, uid, operator()), tariff_id)
    tariffs = {
        t.ocpi_id: (t, power[t.ocpi_id].quantize(Decimal("0.1")))
        for t in db.session.scalars(
            select(Tariff).where(
                Tariff.country_code == config["OWN_COUNTRY_CODE"],
                Tariff.party_id == config["OWN_PARTY_ID"],
                Tariff.ocpi_id.in_(list(power)),
                Tariff.deleted_at.is_(None),
            )
        )
    }
    return tariffs, list(assignments.items())


# EMP side: Hubject products as OCPI tariff elements


def tariff_id_of(product_id: str) -> str:
    """An OCPI tariff id (36 characters, no spaces) for a Hubject ProductID."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", product_id)[:36]


def elements_of_product(product: dict[str, Any]) -> list[dict[str, Any]]:
    """OCPI tariff elements of an OICP pricing product (one per availability period)."""
    unit, price = product["ReferenceUnit"], Decimal(str(product["PricePerReferenceUnit"]))
    components = [_main_component(unit, price)]
    for extra in product.get("AdditionalReferences") or []:
        component = _extra_component(extra)
        if component is not None:
            components.append(component)
    if product.get("IsValid24hours") or not product.get("ProductAvailabilityTimes"):
        return [{"price_components": components}]
    elements = []
    for window in product["ProductAvailabilityTimes"]:
        days = _days(window["on"])
        for period in window["Periods"]:
            restrictions: dict[str, Any] = {
                "start_time": period["begin"],
                "end_time": period["end"],
            }
            if days:
                restrictions["day_of_week"] = days
            elements.append({"price_components": components, "restrictions": restrictions})
    return elements


def _main_component(unit: str, price: Decimal) -> dict[str, Any]:
    if unit == "KILOWATT_HOUR":
        return {"type": "ENERGY", "price": price, "step_size": 1}
    hourly = price * 60 if unit == "MINUTE" else price
    return {"type": "TIME", "price": hourly, "step_size": 60 if unit == "MINUTE" else 1}


def _extra_component(extra: dict[str, Any]) -> dict[str, Any] | None:
    price = Decimal(str(extra["PricePerAdditionalReferenceUnit"]))
    kind = extra["AdditionalReference"]
    if kind in ("START FEE", "FIXED FEE"):
        return {"type": "FLAT", "price": price, "step_size": 1}
    if kind == "PARKING FEE":
        hourly = price * 60 if extra["AdditionalReferenceUnit"] == "MINUTE" else price
        return {"type": "PARKING_TIME", "price": hourly, "step_size": 1}
    return None  # MINIMUM / MAXIMUM FEE have no per-element form in OCPI


def _days(on: str) -> list[str]:
    names = {v: k for k, v in DAYS.items()}
    if on == "Everyday":
        return []
    if on == "Workdays":
        return ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
    if on == "Weekend":
        return ["SATURDAY", "SUNDAY"]
    return [names[on]]
