"""Bad listings get 422 problem JSON naming each bad field, and nothing is written."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.inventory.conftest import LISTING


def _with(path: str, value: Any) -> dict[str, Any]:
    """LISTING with the dotted path set to value."""
    body = copy.deepcopy(LISTING)
    *parents, last = path.split(".")
    target: Any = body
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return body


CASES = [
    ("latitude", "90.5", "latitude"),
    ("latitude", "-91", "latitude"),
    ("longitude", "180.1", "longitude"),
    ("evses.0.connectors.0.standard", "TYPE_9", "evses.0.connectors.0.standard"),
    ("evses.0.connectors.0.max_electric_power", -11000, "evses.0.connectors.0.max_electric_power"),
    ("evses.0.connectors.0.max_electric_power", 0, "evses.0.connectors.0.max_electric_power"),
    ("evses.0.connectors.0.max_voltage", 0, "evses.0.connectors.0.max_voltage"),
    ("evses.0.connectors.0.max_amperage", -16, "evses.0.connectors.0.max_amperage"),
    ("evses.0.connectors.0.power_type", "AC_4_PHASE", "evses.0.connectors.0.power_type"),
    ("evses.0.capabilities", ["TELEPORT"], "evses.0.capabilities.0"),
    ("price.currency", "EUX", "price.currency"),
    ("price.currency", "eur", "price.currency"),
    ("price.per_kwh", "-0.10", "price.per_kwh"),
    ("time_zone", "Europe/Atlantis", "time_zone"),
    ("availability.0.end", "07:00", "availability.0.end"),
    ("availability.0.end", "08:00", "availability.0.end"),
    ("availability.0.weekday", 8, "availability.0.weekday"),
    ("availability.0.weekday", 0, "availability.0.weekday"),
    ("blackouts.0.end_date", "2026-12-23", "blackouts.0.end_date"),
    ("evses", [], "evses"),
    ("evses.0.connectors", [], "evses.0.connectors"),
    ("country", "Netherlands", "country"),
]


@pytest.mark.parametrize(("path", "value", "field"), CASES)
def test_bad_listing_is_refused_and_nothing_is_written(
    client, owner_headers, own_party, row_counts, path, value, field
):
    before = row_counts()
    response = client.post("/api/v1/listings", json=_with(path, value), headers=owner_headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 422
    assert body["title"] == "Unprocessable content"
    assert list(body["errors"]) == [field]
    assert row_counts() == before


def test_every_bad_field_is_named_at_once(client, owner_headers, own_party, row_counts):
    body = _with("latitude", "100")
    body["price"]["currency"] = "XXY"
    body["evses"][0]["connectors"][0]["standard"] = "NOPE"
    before = row_counts()
    response = client.post("/api/v1/listings", json=body, headers=owner_headers)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {
        "latitude",
        "price.currency",
        "evses.0.connectors.0.standard",
    }
    assert row_counts() == before


def test_price_needs_at_least_one_amount(client, owner_headers, own_party):
    response = client.post(
        "/api/v1/listings", json=_with("price", {"currency": "EUR"}), headers=owner_headers
    )
    assert response.status_code == 422
    assert "price.per_kwh" in response.get_json()["errors"]


def test_midnight_ends_a_window_at_the_end_of_the_day(client, owner_headers, own_party):
    body = _with("availability", [{"weekday": 7, "start": "18:00", "end": "00:00"}])
    assert client.post("/api/v1/listings", json=body, headers=owner_headers).status_code == 201


def test_bad_patch_is_refused_and_changes_nothing(
    client, create_listing, owner_headers, row_counts
):
    created = create_listing()
    url = f"/api/v1/listings/{created['id']}"
    before = row_counts()
    response = client.patch(
        url,
        json={
            "name": "Renamed",
            "availability": [{"weekday": 2, "start": "10:00", "end": "09:00"}],
        },
        headers=owner_headers,
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["availability.0.end"]
    assert row_counts() == before
    assert client.get(url, headers=owner_headers).get_json()["name"] == created["name"]


def test_unknown_fields_are_refused(client, owner_headers, own_party):
    response = client.post("/api/v1/listings", json=_with("colour", "green"), headers=owner_headers)
    assert response.status_code == 422
    assert "colour" in response.get_json()["errors"]


def test_service_validation_and_webargs_validation_look_the_same(
    app, client, owner_headers, own_party
):
    from app.core.errors import ValidationFailed
    from app.inventory.services import parse_listing

    with pytest.raises(ValidationFailed) as raised:
        parse_listing(_with("latitude", "91"))
    api_body = client.post(
        "/api/v1/listings", json=_with("latitude", "91"), headers=owner_headers
    ).get_json()
    assert raised.value.extra["errors"] == api_body["errors"]
    assert raised.value.title == api_body["title"]
