"""Each result carries the engine's quote for the window, and max_price filters on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.extensions import db
from app.tariffs.engine import parse_tariff, quote_window
from tests.search.conftest import energy_tariff, uid

TWO_HOURS = {"available_from": "2026-11-23T10:00:00Z", "available_to": "2026-11-23T12:00:00Z"}


def engine_quote(tariff, start, end, energy, power) -> int:
    parsed = parse_tariff(tariff.to_ocpi())
    zone = ZoneInfo("Europe/Amsterdam")
    return quote_window(parsed, start, end, zone, Decimal(energy), Decimal(power)).minor_units()


def test_quote_for_the_window_equals_the_engine(place, make_tariff, search):
    tariff = make_tariff(
        elements=[
            {
                "price_components": [
                    {"type": "ENERGY", "price": Decimal("0.25"), "step_size": 1},
                    {"type": "TIME", "price": Decimal("1.20"), "step_size": 60},
                    {"type": "FLAT", "price": Decimal("0.50"), "step_size": 1},
                ]
            }
        ]
    )
    place(1, connector={"tariff_ids": [tariff.ocpi_id]})
    body = search(lat=52.37, lon=4.895, radius_m=5_000, **TWO_HOURS).get_json()
    quote = body["results"][0]["quote"]
    start = datetime(2026, 11, 23, 10, tzinfo=UTC)
    expected = engine_quote(tariff, start, start + timedelta(hours=2), 22, 11)
    assert quote["amount_minor"] == expected
    # All the window at 11 kW: 22 kWh x 0.25 + 2 h x 1.20 + 0.50.
    assert expected == 840
    assert quote == {
        "amount_minor": expected,
        "currency": "EUR",
        "tariff_id": tariff.ocpi_id,
        "start": "2026-11-23T10:00:00Z",
        "end": "2026-11-23T12:00:00Z",
        "energy_kwh": "22",
        "power_kw": "11",
    }


def test_energy_is_capped_by_what_the_connector_can_deliver(place, make_tariff, search):
    tariff = energy_tariff(make_tariff, "0.30")
    place(1, connector={"tariff_ids": [tariff.ocpi_id], "max_electric_power": 3700})
    body = search(lat=52.37, lon=4.895, radius_m=5_000, **TWO_HOURS).get_json()
    quote = body["results"][0]["quote"]
    assert quote["energy_kwh"] == "7.4"
    assert quote["amount_minor"] == 222  # 7.4 kWh x 0.30


def test_reference_quote_is_one_hour_at_full_power_without_a_window(place, make_tariff, search):
    tariff = energy_tariff(make_tariff, "0.30")
    place(1, connector={"tariff_ids": [tariff.ocpi_id], "max_electric_power": 22000})
    quote = search(lat=52.37, lon=4.895, radius_m=5_000).get_json()["results"][0]["quote"]
    start = datetime.fromisoformat(quote["start"])
    assert datetime.fromisoformat(quote["end"]) - start == timedelta(hours=1)
    assert quote["energy_kwh"] == "22"
    assert quote["amount_minor"] == 660


def test_energy_asked_for_is_quoted_up_to_what_the_window_allows(place, make_tariff, search):
    tariff = energy_tariff(make_tariff, "0.30")
    place(1, connector={"tariff_ids": [tariff.ocpi_id], "max_electric_power": 22000})
    area = {"lat": 52.37, "lon": 4.895, "radius_m": 5_000, **TWO_HOURS}
    assert search(**area, energy_kwh="10").get_json()["results"][0]["quote"]["amount_minor"] == 300
    capped = search(**area, energy_kwh="100").get_json()["results"][0]["quote"]
    assert capped["energy_kwh"] == "44"
    assert capped["amount_minor"] == 1320


def test_charger_without_tariff_has_no_quote(place, search):
    place(1)
    result = search(lat=52.37, lon=4.895, radius_m=5_000).get_json()["results"][0]
    assert result["quote"] is None


def test_cheapest_matching_connector_is_quoted(place, make_tariff, search):
    dear = energy_tariff(make_tariff, "0.60")
    cheap = energy_tariff(make_tariff, "0.20")
    location = place(1, connector={"tariff_ids": [dear.ocpi_id]})
    from app.inventory.models import Connector

    location.evses[0].connectors.append(
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
    params = {"lat": 52.37, "lon": 4.895, "radius_m": 5_000, "energy_kwh": "20", **TWO_HOURS}
    assert search(**params).get_json()["results"][0]["quote"]["tariff_id"] == cheap.ocpi_id
    only_type2 = search(connector="IEC_62196_T2", **params).get_json()["results"][0]
    assert only_type2["quote"]["tariff_id"] == dear.ocpi_id
    # Every connector of the EVSE is shown, also the one the filter did not ask for.
    assert [c["standard"] for c in only_type2["connectors"]] == ["IEC_62196_T2", "CHADEMO"]


def test_max_price_drops_dearer_and_unpriced_chargers(place, make_tariff, found):
    cheap = place(1, connector={"tariff_ids": [energy_tariff(make_tariff, "0.30").ocpi_id]})
    dear = place(2, connector={"tariff_ids": [energy_tariff(make_tariff, "0.60").ocpi_id]})
    place(3)  # no tariff: no price to compare
    # 22 kWh in two hours at 11 kW: 6.60 EUR vs 13.20 EUR.
    assert found(max_price="8", **TWO_HOURS) == [uid(cheap)]
    assert found(max_price="13.20", **TWO_HOURS) == [uid(cheap), uid(dear)]
    assert found(max_price="6.59", **TWO_HOURS) == []
    assert found(max_price="100", currency="SEK", **TWO_HOURS) == []


def test_deleted_tariff_is_not_quoted(place, make_tariff, search):
    tariff = energy_tariff(make_tariff, "0.30", deleted_at=datetime(2026, 1, 1, tzinfo=UTC))
    place(1, connector={"tariff_ids": [tariff.ocpi_id]})
    result = search(lat=52.37, lon=4.895, radius_m=5_000).get_json()["results"][0]
    assert result["quote"] is None


def test_edited_tariff_is_repriced(place, make_tariff, search):
    tariff = energy_tariff(make_tariff, "0.30")
    place(1, connector={"tariff_ids": [tariff.ocpi_id]})
    params = {"lat": 52.37, "lon": 4.895, "radius_m": 5_000, **TWO_HOURS}
    assert search(**params).get_json()["results"][0]["quote"]["amount_minor"] == 660
    tariff.elements = [
        {"price_components": [{"type": "ENERGY", "price": Decimal("0.40"), "step_size": 1}]}
    ]
    db.session.flush()
    assert search(**params).get_json()["results"][0]["quote"]["amount_minor"] == 880


def test_time_of_day_tariff_is_quoted_for_the_window_asked(place, make_tariff, search):
    night = {"start_time": "22:00", "end_time": "07:00"}
    tariff = make_tariff(
        elements=[
            {
                "price_components": [{"type": "ENERGY", "price": Decimal("0.20"), "step_size": 1}],
                "restrictions": night,
            },
            {"price_components": [{"type": "ENERGY", "price": Decimal("0.50"), "step_size": 1}]},
        ]
    )
    place(1, connector={"tariff_ids": [tariff.ocpi_id]})
    area = {"lat": 52.37, "lon": 4.895, "radius_m": 5_000}
    # 23:00-01:00 and 10:00-12:00 Amsterdam time (UTC+1 in November).
    for start_utc, per_kwh in ((datetime(2026, 11, 23, 22, tzinfo=UTC), 20), (None, 50)):
        start = start_utc or datetime(2026, 11, 24, 9, tzinfo=UTC)
        end = start + timedelta(hours=2)
        window = {"available_from": start.isoformat(), "available_to": end.isoformat()}
        quote = search(**area, **window).get_json()["results"][0]["quote"]
        assert quote["amount_minor"] == engine_quote(tariff, start, end, 22, 11)
        assert quote["amount_minor"] == 22 * per_kwh


def test_clock_free_tariff_prices_every_window_of_a_length_like_the_engine(
    place, make_tariff, search
):
    tariff = make_tariff(
        elements=[
            {
                "price_components": [
                    {"type": "ENERGY", "price": Decimal("0.31"), "step_size": 1},
                    {"type": "TIME", "price": Decimal("2.00"), "step_size": 60},
                ],
                "restrictions": {"max_duration": 3600},
            },
            {"price_components": [{"type": "ENERGY", "price": Decimal("0.45"), "step_size": 1}]},
        ]
    )
    place(1, connector={"tariff_ids": [tariff.ocpi_id], "max_electric_power": 7400})
    area = {"lat": 52.37, "lon": 4.895, "radius_m": 5_000}
    for day, hours in ((23, 2), (25, 2), (26, 3), (28, 2)):
        start = datetime(2026, 11, day, 13, tzinfo=UTC)
        end = start + timedelta(hours=hours)
        window = {"available_from": start.isoformat(), "available_to": end.isoformat()}
        quote = search(**area, **window).get_json()["results"][0]["quote"]
        energy = Decimal("7.4") * hours
        assert quote["amount_minor"] == engine_quote(tariff, start, end, energy, "7.4")
