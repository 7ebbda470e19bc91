"""JSON API /api/v1/charging: a driver starts a booked charger; notices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from app.accounts.models import Role, User
from app.bookings.models import Booking
from app.charging.models import BookingDispatch
from app.core.clock import utcnow
from app.core.security import hash_secret
from app.extensions import db
from app.inventory.models import ChargeStation, Location


@pytest.fixture
def booking(make_location: Callable[..., Location], make_user: Callable[..., User]) -> Booking:
    """A confirmed booking that has begun, at a listing whose charger is offline."""
    location = make_location()
    station = ChargeStation(station_id="API-1", password_hash=hash_secret("x" * 16))
    station.location = location
    location.evses[0].station = station
    location.evses[0].ocpp_evse_id = 1
    now = utcnow()
    row = Booking(
        driver_id=make_user(role=Role.DRIVER.value).id,
        location_id=location.id,
        evse_id=location.evses[0].id,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        status="confirmed",
        amount_minor=660,
        currency="EUR",
        policy={"name": "moderate", "cutoff_hours": 12, "fee_percent": 50},
    )
    db.session.add_all([station, row])
    db.session.flush()
    return row


def test_starting_a_booking_at_an_offline_charger_is_a_conflict_with_notices(
    client: Any, booking: Booking, bearer: Callable[[User], dict[str, str]]
) -> None:
    driver = db.session.get(User, booking.driver_id)
    reply = client.post(f"/api/v1/charging/bookings/{booking.id}/start", headers=bearer(driver))
    assert reply.status_code == 409
    assert reply.get_json()["detail"] == "The charger is offline"
    dispatch = db.session.scalars(db.select(BookingDispatch).filter_by(booking_id=booking.id)).one()
    assert dispatch.station_offline and dispatch.remote_start_status == "Offline"
    notices = client.get("/api/v1/charging/notices", headers=bearer(driver)).get_json()
    assert [n["kind"] for n in notices] == ["station_offline"]
    assert notices[0]["booking_id"] == booking.id


def test_another_drivers_booking_cannot_be_started(
    client: Any, booking: Booking, make_user: Callable[..., User], bearer: Any
) -> None:
    stranger = make_user()
    reply = client.post(f"/api/v1/charging/bookings/{booking.id}/start", headers=bearer(stranger))
    assert reply.status_code == 404


def test_starting_needs_a_bearer_token(client: Any, booking: Booking) -> None:
    assert client.post(f"/api/v1/charging/bookings/{booking.id}/start").status_code == 401


def test_stopping_without_a_running_session_is_a_conflict(
    client: Any, booking: Booking, bearer: Any
) -> None:
    driver = db.session.get(User, booking.driver_id)
    reply = client.post(f"/api/v1/charging/bookings/{booking.id}/stop", headers=bearer(driver))
    assert reply.status_code == 409
