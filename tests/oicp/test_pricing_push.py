"""Own tariffs as Hubject pricing products and EVSE pricing (dynamic pricing 1.0)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.accounts.models import User
from app.extensions import db
from app.oicp.services import pricing
from app.tariffs.models import Tariff
from tests.charging.support import _evse, _location, _own_party, _station
from tests.support.hubject_standin import StandIn


def _listing(app: Flask, prefix: str, elements: list[dict[str, Any]]) -> None:
    party = _own_party(app)
    owner = User(email=f"{prefix}@example.test", password_hash="x", name="Owner")
    tariff = Tariff(
        country_code=party.country_code,
        party_id=party.party_id,
        ocpi_id=f"{prefix}-T",
        currency="EUR",
        elements=elements,
    )
    db.session.add_all([owner, tariff])
    db.session.flush()
    location = _location(party, owner, prefix)
    location.ocpi_id = f"{prefix}-LOC"
    station = _station(f"{prefix}-1", location)
    db.session.add_all([location, station, _evse(location, station, tariff, prefix, [])])
    db.session.flush()


def test_expressible_tariffs_are_pushed_and_the_others_named(
    bridge: Flask, standin: StandIn, db: Any
) -> None:
    _listing(
        bridge, "PA", [{"price_components": [{"type": "ENERGY", "price": "0.31", "step_size": 1}]}]
    )
    _listing(
        bridge,
        "PB",
        [
            {
                "price_components": [
                    {"type": "ENERGY", "price": "0.30", "step_size": 1},
                    {"type": "TIME", "price": "1.00", "step_size": 60},
                ]
            }
        ],
    )
    priced, skipped = pricing.push_pricing()
    state = standin.state()
    assert state["errors"] == []
    assert (priced, skipped) == (1, ["PB-T"])
    [data] = state["pricing_products"]
    assert data["ProviderID"] == "*"
    [product] = data["PricingProductDataRecords"]
    assert (product["ProductID"], product["PricePerReferenceUnit"]) == ("PA-T-1", 0.31)
    assert state["evse_pricing"] == [
        {
            "EvseID": "NL*PLG*EPA*1",
            "ProviderID": "*",
            "EvseIDProductList": [{"ProductID": "PA-T-1"}],
        }
    ]
