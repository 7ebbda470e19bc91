"""The driver's search page and charger page, on real PostGIS data and the real pricing."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from app.core.web import format_money
from app.extensions import db
from app.inventory.models import Location

CENTRE = {"lat": "52.370216", "lon": "4.895168"}


@pytest.fixture
def priced(make_location, make_tariff):
    """Return make(**overrides): a published listing priced 0.30/kWh + 2.00/hour."""

    def make(**overrides):
        tariff = make_tariff(
            elements=[
                {
                    "price_components": [
                        {"type": "ENERGY", "price": Decimal("0.30"), "step_size": 1},
                        {"type": "TIME", "price": Decimal("2.00"), "step_size": 60},
                    ]
                }
            ]
        )
        connector = {"tariff_ids": [tariff.ocpi_id], **overrides.pop("connector", {})}
        return make_location(connector=connector, **overrides)

    return make


def _results(page: str) -> list[str]:
    return re.findall(r"<h3><a href=\"[^\"]+\">([^<]+)</a></h3>", page)


def test_empty_search_page_asks_where(client):
    page = client.get("/chargers").get_data(as_text=True)
    assert '<label for="f-lat">Latitude</label>' in page
    assert "found" not in page
    assert 'id="use-location"' in page and "leaflet" in page


def test_search_lists_nearby_chargers_nearest_first_with_api_quotes(client, priced):
    priced(lat="52.371000", lon="4.896000", name="Near")
    priced(lat="52.380000", lon="4.900000", name="Further")
    priced(lat="52.600000", lon="4.700000", name="Out of range")
    priced(lat="52.372000", lon="4.896000", name="Hidden", publish=False)

    response = client.get("/chargers", query_string={**CENTRE, "radius_km": "5"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _results(page) == ["Near", "Further"]
    assert "2 chargers found" in page

    api = client.get("/api/v1/chargers", query_string={**CENTRE, "radius_m": 5000}).get_json()
    for result in api["results"]:
        quote = result["quote"]
        assert format_money(quote["amount_minor"], quote["currency"]) in page
        assert f"{result['distance_m'] / 1000:.1f} km" in page
    # An 11 kW connector gives 11 kWh in the reference hour: 11 * 0.30 + 1 h * 2.00.
    assert api["results"][0]["quote"]["amount_minor"] == 530


def test_search_filters_by_connector_and_power(client, priced):
    priced(name="Type 2 at 11 kW")
    ccs = {"standard": "IEC_62196_T2_COMBO", "power_type": "DC", "max_electric_power": 50000}
    priced(name="CCS at 50 kW", connector=ccs)
    query = {**CENTRE, "radius_km": "2"}
    combo = client.get("/chargers", query_string={**query, "connector": "IEC_62196_T2_COMBO"})
    assert _results(combo.get_data(as_text=True)) == ["CCS at 50 kW"]
    fast = client.get("/chargers", query_string={**query, "min_kw": "22"})
    assert _results(fast.get_data(as_text=True)) == ["CCS at 50 kW"]


def test_search_map_data_has_one_marker_per_location(client, priced):
    location = priced(name="Mapped", evses=2)
    page = client.get("/chargers", query_string=CENTRE).get_data(as_text=True)
    data = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page, re.S)
    parsed = json.loads(data.group(1))
    assert parsed["center"] == [52.370216, 4.895168]
    assert parsed["markers"] == [
        {
            "lat": float(location.latitude),
            "lon": float(location.longitude),
            "name": "Mapped",
            "url": f"/chargers/{location.id}",
            "status": "AVAILABLE",
            "id": location.id,
            "own": True,
            "network": "PlugPool",
        }
    ]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"radius_km": "far"}, "radius_km", "Not a valid number."),
        ({"radius_km": "500"}, "radius_km", "less than or equal to 200000"),
        ({"lat": "95"}, "lat", "less than or equal to 90"),
        ({"lon": ""}, "lon", "lon is required with lat"),
        ({"connector": "PLUG"}, "connector", "unknown connector standard"),
        ({"from": "2030-01-01T10:00"}, "to", "available_to is required"),
        ({"from": "2030-01-01T10:00", "to": "2030-01-01T09:00"}, "to", "must be after"),
        ({"from": "2030-01-01T10:00", "to": "2030-01-01T11:00", "tz": "Nowhere/X"}, "tz", "zone"),
    ],
)
def test_bad_search_shows_the_error_by_its_field(client, query, field, message):
    response = client.get("/chargers", query_string={**CENTRE, **query})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = page.split(f'id="f-{field}-error">')[1].split("</span>")[0]
    assert message in error


def test_window_search_uses_the_drivers_time_zone(client, priced, make_location):
    from datetime import time

    from app.inventory.models import AvailabilityWindow

    evenings = priced(name="Evenings only")
    evenings.availability.append(
        AvailabilityWindow(weekday=3, start_time=time(18, 0), end_time=time(23, 0))
    )
    db.session.flush()
    # Wednesday 2030-01-02, 19:00-20:00 in Amsterdam (UTC+1) is inside the evening window;
    # read as UTC it would be 20:00-21:00 local, also inside; 17:30 local is outside.
    inside = {"from": "2030-01-02T19:00", "to": "2030-01-02T20:00", "tz": "Europe/Amsterdam"}
    outside = {"from": "2030-01-02T17:30", "to": "2030-01-02T18:30", "tz": "Europe/Amsterdam"}
    as_utc = {"from": "2030-01-02T17:30", "to": "2030-01-02T18:30", "tz": "UTC"}
    assert _results(client.get("/chargers", query_string={**CENTRE, **inside}).text) == [
        "Evenings only"
    ]
    assert _results(client.get("/chargers", query_string={**CENTRE, **outside}).text) == []
    assert _results(client.get("/chargers", query_string={**CENTRE, **as_utc}).text) == [
        "Evenings only"
    ]


def test_charger_page_shows_price_quote_and_schedule(client, priced):
    location = priced(name="Detail charger", access_instructions="Secret gate 4711")
    page = client.get(f"/chargers/{location.id}").get_data(as_text=True)
    assert "<h1>Detail charger</h1>" in page
    assert "<dt>per kWh</dt><dd>0.30 EUR</dd>" in page
    assert "5.30 EUR" in page  # the reference quote, as on the search page
    assert "At all times." in page
    assert "Secret gate 4711" not in page  # only after a confirmed booking
    assert "Log in</a> or" in page


def test_charger_page_of_an_unpublished_or_removed_listing_is_404(client, priced):
    hidden = priced(publish=False)
    assert client.get(f"/chargers/{hidden.id}").status_code == 404
    assert client.get("/chargers/987654").status_code == 404


def test_partner_charger_page_says_it_cannot_be_booked(client, make_party, make_location):
    partner = make_party(name="Other CPO")
    location: Location = make_location(
        owner=None, country_code=partner.country_code, party_id=partner.party_id
    )
    location.owner_id = None
    db.session.flush()
    page = client.get(f"/chargers/{location.id}").get_data(as_text=True)
    assert "belongs to a partner network" in page
    assert "Hold this slot" not in page


def test_more_results_follow_the_apis_cursor(client, priced):
    for index in range(3):
        priced(lat=f"52.37{index + 1}000", lon="4.895168", name=f"Charger {index}")
    from app.search import forms

    forms_limit = forms.RESULTS_PER_PAGE
    forms.RESULTS_PER_PAGE = 2
    try:
        first = client.get("/chargers", query_string=CENTRE).get_data(as_text=True)
        assert _results(first) == ["Charger 0", "Charger 1"]
        next_url = re.search(r'<a class="button" href="([^"]+)" rel="next">', first).group(1)
        second = client.get(next_url.replace("&amp;", "&")).get_data(as_text=True)
        assert _results(second) == ["Charger 2"]
        assert 'rel="next"' not in second
    finally:
        forms.RESULTS_PER_PAGE = forms_limit


def test_charger_page_quotes_the_drivers_window(client, priced):
    location = priced(name="Windowed")
    window = {"from": "2030-01-02T10:00", "to": "2030-01-02T12:00", "tz": "Europe/Amsterdam"}
    page = client.get(f"/chargers/{location.id}", query_string=window).get_data(as_text=True)
    api = client.get(
        "/api/v1/chargers",
        query_string={
            **CENTRE,
            "radius_m": 1000,
            "available_from": "2030-01-02T09:00:00Z",
            "available_to": "2030-01-02T11:00:00Z",
        },
    ).get_json()
    quote = api["results"][0]["quote"]
    # Two hours at 11 kW: 22 kWh at 0.30 plus 2 hours at 2.00/hour.
    assert quote["amount_minor"] == 1060
    assert "10.60 EUR" in page
    assert "Wed 02 Jan, 10:00" in page  # the window shown in the charger's time zone
    assert 'id="q-from" name="from" type="datetime-local" value="2030-01-02T10:00"' in page
