"""One price: the search quote, the booking quote and the amount held on the card agree."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.inventory.models import Connector
from app.payments import queries as payment_queries
from app.search import pricing as search_pricing
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


NIGHT_AND_DAY = [
    {
        "price_components": [{"type": "ENERGY", "price": Decimal("0.12"), "step_size": 1}],
        "restrictions": {"start_time": "22:00", "end_time": "07:00"},
    },
    {"price_components": MIXED},
]


def test_a_price_search_shares_between_days_is_what_the_booking_quotes_and_holds(
    client, make_listing, make_tariff, driver, token_for, tomorrow_at
):
    tariff = make_tariff(elements=NIGHT_AND_DAY)
    listing = make_listing(connector={"tariff_ids": [tariff.ocpi_id]})
    evse_id, auth = listing.evses[0].id, token_for(driver)
    # 22:00 falls an hour into both windows: the second is priced from the first's entry.
    first = _searched_quote(client, listing, tomorrow_at(21), tomorrow_at(23))
    shared = len(search_pricing._SHARED_QUOTES)
    start, end = tomorrow_at(21, days=1), tomorrow_at(23, days=1)
    searched = _searched_quote(client, listing, start, end)
    assert len(search_pricing._SHARED_QUOTES) == shared  # served by the shared entry

    quoted = client.post("/api/v1/bookings/quote", json=window(evse_id, start, end), headers=auth)
    held = client.post("/api/v1/bookings", json=window(evse_id, start, end), headers=auth)

    assert held.status_code == 201, held.json
    assert first["amount_minor"] == searched["amount_minor"]
    assert searched["amount_minor"] == quoted.json["amount_minor"] == held.json["amount_minor"]


def test_a_tariff_edit_reaches_the_next_search_and_the_booking_alike(
    client, make_listing, make_tariff, driver, token_for, tomorrow_at
):
    tariff = make_tariff(elements=NIGHT_AND_DAY)
    listing = make_listing(connector={"tariff_ids": [tariff.ocpi_id]})
    start, end = tomorrow_at(21), tomorrow_at(23)
    before = _searched_quote(client, listing, start, end)["amount_minor"]
    # Night energy from 0.12 to 0.52 a kWh: the cached quotes of the old version must not serve.
    tariff.elements = [
        {**NIGHT_AND_DAY[0], "price_components": [{**MIXED[0], "price": Decimal("0.52")}]},
        NIGHT_AND_DAY[1],
    ]
    db.session.flush()

    after = _searched_quote(client, listing, start, end)["amount_minor"]
    quoted = client.post(
        "/api/v1/bookings/quote",
        json=window(listing.evses[0].id, start, end),
        headers=token_for(driver),
    )
    # An hour at 11 kW in the night element: 11 kWh x 0.40 more, VAT-free energy.
    assert after - before == 440
    assert quoted.json["amount_minor"] == after
