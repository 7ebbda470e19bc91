"""Listing fixtures: a valid listing body and an owner with a bearer token."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.extensions import db
from app.models import (
    AvailabilityWindow,
    Blackout,
    ChargeStation,
    Connector,
    Evse,
    Location,
    OutboxEvent,
    Tariff,
)
from tests.factories import with_payouts

LISTING: dict[str, Any] = {
    "name": "Driveway charger",
    "address": "Prinsengracht 263",
    "city": "Amsterdam",
    "postal_code": "1016GV",
    "country": "NLD",
    "latitude": "52.375218",
    "longitude": "4.883977",
    "time_zone": "Europe/Amsterdam",
    "parking_type": "ON_DRIVEWAY",
    "access_instructions": "Gate code is in the app after booking.",
    "evses": [
        {
            "connectors": [
                {
                    "standard": "IEC_62196_T2",
                    "format": "SOCKET",
                    "power_type": "AC_3_PHASE",
                    "max_voltage": 230,
                    "max_amperage": 16,
                    "max_electric_power": 11000,
                }
            ],
            "capabilities": ["REMOTE_START_STOP_CAPABLE", "RESERVABLE"],
        }
    ],
    "price": {"currency": "EUR", "per_kwh": "0.30", "per_hour": "1.00", "per_session": "0.50"},
    "availability": [
        {"weekday": 1, "start": "08:00", "end": "18:00"},
        {"weekday": 6, "start": "20:00", "end": "00:00"},
    ],
    "blackouts": [{"start_date": "2026-12-24", "end_date": "2026-12-26", "reason": "Family"}],
}

COUNTED = (
    Location,
    Evse,
    Connector,
    ChargeStation,
    Tariff,
    AvailabilityWindow,
    Blackout,
    OutboxEvent,
)


@pytest.fixture
def listing_body() -> Callable[..., dict[str, Any]]:
    """A fresh, valid listing body; keyword overrides replace top-level fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        body = copy.deepcopy(LISTING)
        body.update(overrides)
        return body

    return make


@pytest.fixture
def owner(make_user: Callable[..., User]) -> User:
    return with_payouts(make_user(role=Role.OWNER.value))


@pytest.fixture
def owner_headers(owner: User, bearer: Callable[[User], dict[str, str]]) -> dict[str, str]:
    return bearer(owner)


@pytest.fixture
def row_counts() -> Callable[[], dict[str, int]]:
    """Count the rows of every table a listing writes to."""

    def count() -> dict[str, int]:
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in COUNTED
        }

    return count


@pytest.fixture
def create_listing(client, owner_headers, listing_body, own_party) -> Callable[..., dict[str, Any]]:
    """POST a valid listing as the owner and return the response body."""

    def make(headers: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
        response = client.post(
            "/api/v1/listings", json=listing_body(**overrides), headers=headers or owner_headers
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make
