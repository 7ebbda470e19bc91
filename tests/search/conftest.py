"""Search fixtures: places around Amsterdam, schedules, tariffs, and a query helper."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.extensions import db
from app.inventory.models import AvailabilityWindow, Blackout, Location

# Central Amsterdam; 0.01 degree of latitude is about 1.11 km.
CENTER = (52.370000, 4.895000)


def north(km: float) -> str:
    """The latitude km kilometres north of CENTER, as the factory wants it."""
    return f"{CENTER[0] + km / 111.2:.6f}"


@pytest.fixture
def search(client: FlaskClient) -> Callable[..., Any]:
    """GET /api/v1/chargers with query params; return the response."""

    def get(**params: Any) -> Any:
        return client.get("/api/v1/chargers", query_string=params)

    return get


@pytest.fixture
def found(search: Callable[..., Any]) -> Callable[..., list[str]]:
    """Search around CENTER and return the EVSE uids in result order (asserting 200)."""

    def uids(**params: Any) -> list[str]:
        params.setdefault("lat", CENTER[0])
        params.setdefault("lon", CENTER[1])
        if "nearest" not in params and "bbox" not in params:
            params.setdefault("radius_m", 50_000)
        params.setdefault("limit", 100)
        response = search(**params)
        assert response.status_code == 200, response.get_json()
        return [result["evse"]["uid"] for result in response.get_json()["results"]]

    return uids


@pytest.fixture
def place(make_location: Callable[..., Location]) -> Callable[..., Location]:
    """A one-EVSE location km north of CENTER."""

    def make(km: float, **overrides: Any) -> Location:
        return make_location(lat=north(km), lon=f"{CENTER[1]:.6f}", **overrides)

    return make


def uid(location: Location) -> str:
    """The first EVSE uid of a location."""
    return location.evses[0].uid


def add_slots(location: Location, *slots: tuple[int, str, str]) -> None:
    """Give a location weekly availability slots (ISO weekday, "HH:MM", "HH:MM")."""
    for weekday, start, end in slots:
        db.session.add(
            AvailabilityWindow(
                location_id=location.id,
                weekday=weekday,
                start_time=time.fromisoformat(start),
                end_time=time.fromisoformat(end),
            )
        )
    db.session.flush()


def add_blackout(location: Location, start: date, end: date) -> None:
    """Give a location a blackout over local dates start..end inclusive."""
    db.session.add(Blackout(location_id=location.id, start_date=start, end_date=end))
    db.session.flush()


def energy_tariff(make_tariff: Callable[..., Any], per_kwh: str, **overrides: Any) -> Any:
    """A tariff with one ENERGY component of per_kwh EUR."""
    component = {"type": "ENERGY", "price": Decimal(per_kwh), "step_size": 1}
    return make_tariff(elements=[{"price_components": [component]}], **overrides)
