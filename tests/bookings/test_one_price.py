"""One price: the search quote, the booking quote and the amount held on the card agree."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.inventory.models import Connector
from app.payments import queries as payment_queries
from tests.bookings.test_api import window

MIXED = [
    {"type": "ENERGY", "price": Decimal("0.31"), "step_size": 1},
    {"type": "TIME", "price": Decimal("1.15"), "step_size": 60},
    {"type": "FLAT", "price": Decimal("0.45"), "step_size": 1, "vat": Decimal("21")},
]


def _searched_quote(client, listing, start, end) -> dict:
    found = client.get(
        "/api/v1/chargers",
        query_string={
            "lat": str(listing.latitude),
            "lon": str(listing.longitude),
            "radius_m": 100,
            "available_from": start.isoformat(),
            "available_to": end.isoformat(),
        },
    ).get_json()
    (result,) = [r for r in found["results"] if r["evse"]["id"] == listing.evses[0].id]
    return result["quote"]


@pytest.mark.parametrize(("power_w", "minutes"), [(22_000, 120), (3_700, 45), (11_000, 200)])
def test_search_quote_booking_quote_and_card_hold_are_one_amount(
    client, make_listing, make_tariff, driver, token_for, tomorrow_at, power_w, minutes
):
    tariff = make_tariff(elements=[{"price_components": MIXED}])
    listing = make_listing(
        connector={"tariff_ids": [tariff.ocpi_id], "max_electric_power": power_w}
    )
    evse_id = listing.evses[0].id
    start = tomorrow_at(9)
    end = start.replace(hour=9 + minutes // 60, minute=minutes % 60)
    auth = token_for(driver)

    searched = _searched_quote(client, listing, start, end)
    quoted = client.post("/api/v1/bookings/quote", json=window(evse_id, start, end), headers=auth)
    held = client.post("/api/v1/bookings", json=window(evse_id, start, end), headers=auth)
    paid = client.post(f"/api/v1/bookings/{held.json['id']}/confirm", headers=auth)

    assert paid.status_code == 200, paid.json
    authorised = payment_queries.payment_of(held.json["id"]).authorised_minor
    # Charging at full power for the whole window, as the hold must cover it.
    expected_kwh = Decimal(power_w) * minutes / 60_000
    assert round(Decimal(searched["energy_kwh"]), 6) == round(expected_kwh, 6)
    assert searched["amount_minor"] == quoted.json["amount_minor"]
    assert quoted.json["amount_minor"] == held.json["amount_minor"] == authorised


def test_booking_takes_the_connector_search_quoted(
    client, make_listing, make_tariff, driver, token_for, tomorrow_at
):
    dear = make_tariff()  # 0.30 per kWh on the 11 kW Type 2
    cheap = make_tariff(
        elements=[{"price_components": [{"type": "FLAT", "price": Decimal("2"), "step_size": 1}]}]
    )
    listing = make_listing(connector={"tariff_ids": [dear.ocpi_id]})
    listing.evses[0].connectors.append(
        Connector(
            ocpi_id="2",
            standard="CHADEMO",
            format="CABLE",
            power_type="DC",
            max_voltage=500,
            max_amperage=100,
            max_electric_power=50000,
            tariff_ids=[cheap.ocpi_id],
        )
    )
    db.session.flush()
    start, end = tomorrow_at(10), tomorrow_at(12)
    searched = _searched_quote(client, listing, start, end)
    quoted = client.post(
        "/api/v1/bookings/quote",
        json=window(listing.evses[0].id, start, end),
        headers=token_for(driver),
    )
    assert searched["tariff_id"] == cheap.ocpi_id
    assert searched["amount_minor"] == quoted.json["amount_minor"] == 200
