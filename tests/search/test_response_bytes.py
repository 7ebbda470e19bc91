"""The search answers, byte for byte, the plain serialisation of its page.

The route writes parts of the page from caches (connectors and networks as orjson Fragments);
a reference here builds every part afresh, as the page_json of old did, and the bytes must
be the same: same keys in the same order, same numbers and texts, the same cursor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from app.extensions import db
from app.inventory.models import Connector
from app.search import services
from app.search.criteria import SearchCriteria
from app.search.cursor import encode_cursor
from app.search.fastargs import criteria as fast_criteria
from tests.search.conftest import CENTER, add_slots, energy_tariff

WINDOW = {"available_from": "2026-11-23T10:00:00Z", "available_to": "2026-11-23T12:15:00Z"}
AREA = {"lat": f"{CENTER[0]}", "lon": f"{CENTER[1]}", "radius_m": "50000"}


def _seed(place: Any, make_tariff: Any, make_party: Any) -> None:
    partner = make_party(country_code="DE", party_id="ION", name='Ionic "Roam" é', is_own=False)
    make_party(country_code="FR", party_id="ELC", name="Electra Voie", is_own=False)
    night = {"start_time": "22:00", "end_time": "07:00"}
    day_and_night = make_tariff(
        elements=[
            {
                "price_components": [
                    {"type": "ENERGY", "price": Decimal("0.21"), "step_size": 1, "vat": 21}
                ],
                "restrictions": night,
            },
            {
                "price_components": [
                    {"type": "ENERGY", "price": Decimal("0.37"), "step_size": 1, "vat": 21},
                    {"type": "TIME", "price": Decimal("1.20"), "step_size": 60},
                ]
            },
        ]
    )
    plain = energy_tariff(make_tariff, "0.30")
    for km in (0.4, 1.7, 2.5, 3.1, 4.25):
        place(km, connector={"tariff_ids": [day_and_night.ocpi_id]})
    two = place(5.5, connector={"tariff_ids": [plain.ocpi_id]}, postal_code=None, name=None)
    two.evses[0].connectors.append(
        Connector(
            ocpi_id="2",
            standard="IEC_62196_T2_COMBO",
            format="CABLE",
            power_type="DC",
            max_voltage=920,
            max_amperage=400,
            max_electric_power=150000,
            tariff_ids=[day_and_night.ocpi_id],
        )
    )
    add_slots(place(6.75, connector={"max_electric_power": 7400}), (1, "07:00", "22:00"))
    place(8.0, country_code="DE", party_id="ION", connector={"max_electric_power": 22000})
    place(8.5, country_code="FR", party_id="ELC")
    place(9.5, evses=2)
    assert partner.is_own is False
    db.session.flush()


def _reference(page: services.SearchPage, criteria: SearchCriteria) -> bytes:
    """The page as the plain serialisation writes it: every dict built afresh."""
    body: dict[str, Any] = {
        "results": [_result(result) for result in page.results],
        "next_cursor": encode_cursor(page.next_key, criteria) if page.next_key else None,
    }
    if page.count is not None:
        body["count"] = page.count
    return orjson.dumps(body, option=orjson.OPT_UTC_Z)


def _result(result: services.SearchResult) -> dict[str, Any]:
    row, quote = result.row, result.quote
    return {
        "location": {
            "id": row.location_id,
            "name": row.name,
            "address": row.address,
            "city": row.city,
            "postal_code": row.postal_code,
            "country": row.country,
            "time_zone": row.time_zone,
            "coordinates": {"latitude": str(row.latitude), "longitude": str(row.longitude)},
        },
        "evse": {"id": row.evse_pk, "uid": row.uid, "evse_id": row.evse_id, "status": row.status},
        "connectors": [
            {
                "id": connector.ocpi_id,
                "standard": connector.standard,
                "format": connector.format,
                "power_type": connector.power_type,
                "power_kw": str(Decimal(connector.power_w) / 1000),
            }
            for connector in result.connectors or ()
        ],
        "distance_m": round(float(row.distance), 1),
        "status": row.status,
        "quote": None
        if quote is None
        else {
            "amount_minor": quote.amount_minor,
            "currency": quote.currency,
            "tariff_id": quote.tariff_id,
            "start": quote.start,
            "end": quote.end,
            "energy_kwh": str(quote.energy_kwh),
            "power_kw": str(quote.power_kw),
        },
        "network": {"name": row.network_name, "own": bool(row.is_own)},
    }


def _criteria(params: dict[str, str]) -> SearchCriteria:
    from werkzeug.datastructures import MultiDict

    found = fast_criteria(MultiDict(params))
    assert found is not None
    return found


def _fields(criteria: SearchCriteria) -> dict[str, Any]:
    return {name: getattr(criteria, name) for name in criteria.__slots__}


def test_the_answer_is_the_plain_serialisation_of_its_page(
    place, make_tariff, make_party, search, monkeypatch
):
    # Without a window the quotes are for the hour from this minute: one minute for both.
    now = datetime(2026, 11, 23, 9, 41, 7, tzinfo=UTC)
    monkeypatch.setattr(services, "utcnow", lambda: now)
    _seed(place, make_tariff, make_party)
    queries = [
        {**AREA, **WINDOW, "limit": "4"},
        {**AREA, **WINDOW, "limit": "4"},  # again: every part from the caches now
        {**AREA, **WINDOW, "connector": "IEC_62196_T2_COMBO"},
        {**AREA, **WINDOW, "min_power_kw": "11", "limit": "100"},
        {**AREA, "limit": "3"},  # no window: the reference hour
    ]
    for params in queries:
        response = search(**params)
        assert response.status_code == 200
        criteria = _criteria(params)
        page = services.search_chargers(criteria)
        assert response.data == _reference(page, criteria)
        body = response.get_json()
        assert body["results"], params
        if body["next_cursor"]:
            more = search(**params, cursor=body["next_cursor"])
            after = criteria.__class__(**{**_fields(criteria), "after": page.next_key})
            assert more.data == _reference(services.search_chargers(after), after)


def test_a_cached_part_is_the_part_written_in_place(place, make_tariff, make_party, search):
    # The same connectors and networks in two searches, and a window of each kind of quote.
    _seed(place, make_tariff, make_party)
    first = search(**AREA, **WINDOW, limit="100")
    second = search(**AREA, **{**WINDOW, "available_to": "2026-11-23T11:00:00Z"}, limit="100")
    for response, to in ((first, "2026-11-23T12:15:00Z"), (second, "2026-11-23T11:00:00Z")):
        params = {**AREA, **WINDOW, "available_to": to, "limit": "100"}
        criteria = _criteria(params)
        assert response.data == _reference(services.search_chargers(criteria), criteria)
    text = first.data.decode()
    assert '"network":{"name":"Ionic \\"Roam\\" é","own":false}' in text
    assert '"power_kw":"150"' in text and '"power_kw":"7.4"' in text
    assert ',"postal_code":null,' in text and '"name":null' in text


def test_the_window_of_the_quotes_is_written_in_utc_with_z(place, make_tariff, search):
    place(1, connector={"tariff_ids": [energy_tariff(make_tariff, "0.30").ocpi_id]})
    body = search(**AREA, **WINDOW).data.decode()
    assert '"start":"2026-11-23T10:00:00Z","end":"2026-11-23T12:15:00Z"' in body
