"""Bad input is a 422 problem JSON naming the field."""

from __future__ import annotations

import pytest

GOOD = {"lat": 52.37, "lon": 4.895, "radius_m": 5000}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 52.37, "radius_m": 5000}, "lon"),
        ({"lon": 4.895, "radius_m": 5000}, "lat"),
        ({}, "lat"),
        ({"lat": 52.37, "lon": 4.895}, "radius_m"),
        ({**GOOD, "radius_m": 200_001}, "radius_m"),
        ({**GOOD, "radius_m": 0}, "radius_m"),
        ({**GOOD, "lat": 91}, "lat"),
        (
            {
                **GOOD,
                "available_from": "2026-11-23T12:00:00Z",
                "available_to": "2026-11-23T10:00:00Z",
            },
            "available_to",
        ),
        ({**GOOD, "available_from": "2026-11-23T12:00:00Z"}, "available_to"),
        ({**GOOD, "available_to": "2026-11-23T12:00:00Z"}, "available_from"),
        (
            {
                **GOOD,
                "available_from": "2026-11-23T12:00:00",
                "available_to": "2026-11-23T14:00:00Z",
            },
            "available_from",
        ),
        ({**GOOD, "connector": "TYPE2"}, "connector"),
        ({**GOOD, "connector": "IEC_62196_T2,SCHUKO"}, "connector"),
        ({"bbox": "4.8,52.3,4.9"}, "bbox"),
        ({"bbox": "4.8,52.3,a,52.4"}, "bbox"),
        ({"bbox": "4.9,52.3,4.8,52.4"}, "bbox"),
        ({"bbox": "4.8,52.3,4.9,95"}, "bbox"),
        ({"lat": 52.37, "lon": 4.895, "nearest": 0}, "nearest"),
        ({"lat": 52.37, "lon": 4.895, "nearest": 101}, "nearest"),
        ({**GOOD, "current": "3PHASE"}, "current"),
        ({**GOOD, "min_power_kw": "-1"}, "min_power_kw"),
        ({**GOOD, "network": "theirs"}, "network"),
        ({**GOOD, "limit": 0}, "limit"),
        ({**GOOD, "currency": "XYZ"}, "currency"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(search, params, field):
    response = search(**params)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 422
    assert field in body["errors"], body


def test_several_mistakes_are_reported_together(search):
    response = search(lat=52.37, radius_m=300_000, connector="NOPE")
    assert set(response.get_json()["errors"]) >= {"lon", "radius_m", "connector"}


def test_good_input_is_accepted(search):
    assert search(**GOOD).status_code == 200
    assert search(bbox="4.8,52.3,4.9,52.4").status_code == 200
    assert search(lat=52.37, lon=4.895, nearest=100).status_code == 200


@pytest.mark.parametrize("query", ["connector=IEC%00", "connector=IEC\x00", "tariff=%00"])
def test_a_nul_in_the_query_string_is_a_400(client, query):
    response = client.get(f"/api/v1/chargers?lat=52.37&lon=4.895&radius_m=5000&{query}")
    assert response.status_code == 400


def test_an_anonymous_search_opens_and_sets_no_session(client):
    response = client.get("/api/v1/chargers", query_string=GOOD)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    # flask-login looked into the (empty) session, so caches must still key on the cookie.
    assert response.headers.getlist("Vary") == ["Cookie"]
