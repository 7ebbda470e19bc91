"""Booking from the charger page, the driver's bookings, and the owner's bookings page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.bookings.models import Booking
from app.extensions import db
from app.payments import services as payments
from tests.support.stripe_fixtures import localstripe  # noqa: F401 (a fixture, found by name)
from tests.web.conftest import CSRF


@pytest.fixture
def listing(make_location, make_tariff, owner):
    tariff = make_tariff(
        elements=[
            {"price_components": [{"type": "TIME", "price": Decimal("2.00"), "step_size": 60}]}
        ]
    )
    return make_location(
        owner=owner.id,
        name="Bookable",
        time_zone="UTC",
        access_instructions="Gate code 4711, charger on the left",
        connector={"tariff_ids": [tariff.ocpi_id]},
    )


@pytest.fixture
def stripe_on(app: Any, localstripe: Any) -> Iterator[None]:  # noqa: F811
    """Point the app's Stripe gateway at the session's localstripe for one test."""
    saved = {key: app.config.get(key) for key in localstripe.config}
    app.config.update(localstripe.config)
    yield
    app.config.update(saved)


def _tomorrow(hour: int) -> datetime:
    day = (datetime.now(UTC) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _book(client, listing, start: datetime, end: datetime, tz: str = "UTC"):
    local, local_end = start.astimezone(ZoneInfo(tz)), end.astimezone(ZoneInfo(tz))
    return client.post(
        f"/chargers/{listing.id}/evses/{listing.evses[0].id}/book",
        data={
            "csrf_token": CSRF,
            "from": local.strftime("%Y-%m-%dT%H:%M"),
            "to": local_end.strftime("%Y-%m-%dT%H:%M"),
            "tz": tz,
        },
    )


def _bookings_of(user) -> list[Booking]:
    return list(db.session.scalars(select(Booking).where(Booking.driver_id == user.id)))


def test_charger_page_offers_a_booking_form_to_a_driver(client, log_in, driver, listing):
    log_in(driver)
    page = client.get(f"/chargers/{listing.id}").get_data(as_text=True)
    assert "Hold this slot" in page
    assert f'action="/chargers/{listing.id}/evses/{listing.evses[0].id}/book"' in page


def test_driver_holds_a_slot_in_their_time_zone(client, log_in, driver, listing):
    log_in(driver)
    start, end = _tomorrow(10), _tomorrow(12)
    response = _book(client, listing, start, end, tz="America/New_York")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/bookings#booking-")
    [booking] = _bookings_of(driver)
    assert (booking.starts_at, booking.ends_at) == (start, end)
    assert booking.status == "pending"
    assert booking.amount_minor == 400  # 2 h at 2.00 by the same engine as the API
    page = client.get("/bookings").get_data(as_text=True)
    assert "Slot held." in page and "4.00 EUR" in page and "Add a card" in page
    assert "Gate code 4711" not in page  # not before it is confirmed


def test_a_refused_booking_says_why_and_writes_nothing(client, log_in, driver, listing):
    log_in(driver)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    response = _book(client, listing, soon, soon + timedelta(hours=1))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/chargers/{listing.id}?")
    assert _bookings_of(driver) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "bookings start at least 30 minutes from now" in page
    assert 'value="' + soon.strftime("%Y-%m-%dT%H:%M") + '"' in page  # the window is kept


def test_a_taken_slot_is_refused(client, log_in, driver, make_user, listing):
    log_in(driver)
    _book(client, listing, _tomorrow(10), _tomorrow(12))
    other = make_user(role="driver")
    log_in(other)
    response = _book(client, listing, _tomorrow(11), _tomorrow(13))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already booked for part of that time" in page
    assert _bookings_of(other) == []


def test_owners_cannot_book_and_booking_needs_csrf(client, log_in, owner, driver, listing):
    log_in(owner)
    assert _book(client, listing, _tomorrow(10), _tomorrow(11)).status_code == 403
    log_in(driver)
    response = client.post(
        f"/chargers/{listing.id}/evses/{listing.evses[0].id}/book",
        data={"from": "2030-01-01T10:00", "to": "2030-01-01T11:00"},
    )
    assert response.status_code == 400
    assert _bookings_of(driver) == []


def test_paying_without_a_saved_card_is_explained(client, log_in, driver, listing):
    log_in(driver)
    _book(client, listing, _tomorrow(10), _tomorrow(11))
    [booking] = _bookings_of(driver)
    response = client.post(f"/bookings/{booking.id}/confirm", data={"csrf_token": CSRF})
    assert response.status_code == 302
    assert "save a card before booking" in client.get("/bookings").get_data(as_text=True)
    assert booking.status == "pending"


def test_pay_with_saved_card_confirms_and_shows_access(client, log_in, driver, listing, stripe_on):
    payments.save_card(driver, "pm_card_visa")
    log_in(driver)
    _book(client, listing, _tomorrow(10), _tomorrow(11))
    [booking] = _bookings_of(driver)
    client.post(f"/bookings/{booking.id}/confirm", data={"csrf_token": CSRF})
    db.session.refresh(booking)
    assert booking.status == "confirmed"
    page = client.get("/bookings").get_data(as_text=True)
    assert "Booking paid." in page
    assert booking.access_code in page and "Gate code 4711" in page


def test_driver_cancels_a_held_slot(client, log_in, driver, listing):
    log_in(driver)
    _book(client, listing, _tomorrow(10), _tomorrow(11))
    [booking] = _bookings_of(driver)
    client.post(f"/bookings/{booking.id}/cancel", data={"csrf_token": CSRF})
    db.session.refresh(booking)
    assert booking.status == "cancelled"
    assert "Booking cancelled." in client.get("/bookings").get_data(as_text=True)


def test_someone_elses_booking_cannot_be_cancelled(client, log_in, driver, make_user, listing):
    log_in(driver)
    _book(client, listing, _tomorrow(10), _tomorrow(11))
    [booking] = _bookings_of(driver)
    log_in(make_user(role="driver"))
    client.post(f"/bookings/{booking.id}/cancel", data={"csrf_token": CSRF})
    db.session.refresh(booking)
    assert booking.status == "pending"
    assert "not your booking" in client.get("/bookings").get_data(as_text=True)


def test_owner_sees_bookings_on_the_schedule_and_bookings_pages(
    client, log_in, driver, owner, listing
):
    log_in(driver)
    _book(client, listing, _tomorrow(10), _tomorrow(11))
    log_in(owner)
    for path in (f"/owner/listings/{listing.id}/schedule", "/owner/bookings"):
        page = client.get(path).get_data(as_text=True)
        assert "Dan Driver" in page and "pending" in page and "2.00 EUR" in page
    assert "Nothing earned yet." in client.get("/owner/bookings").get_data(as_text=True)


def test_owner_accepts_a_paid_request_from_the_bookings_page(
    client, log_in, driver, owner, listing, stripe_on
):
    listing.instant_book = False
    db.session.flush()
    payments.save_card(driver, "pm_card_visa")
    log_in(driver)
    _book(client, listing, _tomorrow(10), _tomorrow(11))
    [booking] = _bookings_of(driver)
    client.post(f"/bookings/{booking.id}/confirm", data={"csrf_token": CSRF})
    db.session.refresh(booking)
    assert booking.status == "requested"
    assert "Waiting for the owner to accept." in client.get("/bookings").get_data(as_text=True)

    log_in(owner)
    page = client.get("/owner/bookings").get_data(as_text=True)
    assert f'action="/owner/bookings/{booking.id}/accept"' in page
    client.post(f"/owner/bookings/{booking.id}/accept", data={"csrf_token": CSRF})
    db.session.refresh(booking)
    assert booking.status == "confirmed"
    assert "Request accepted." in client.get("/owner/bookings").get_data(as_text=True)


def test_another_owner_cannot_answer_a_request(client, log_in, driver, make_user, listing):
    log_in(driver)
    _book(client, listing, _tomorrow(10), _tomorrow(11))
    [booking] = _bookings_of(driver)
    log_in(make_user(role="owner"))
    client.post(f"/owner/bookings/{booking.id}/decline", data={"csrf_token": CSRF})
    db.session.refresh(booking)
    assert booking.status == "pending"
    assert "not your listing" in client.get("/owner/bookings").get_data(as_text=True)


def test_start_charging_before_the_window_is_explained(client, log_in, driver, listing, stripe_on):
    payments.save_card(driver, "pm_card_visa")
    log_in(driver)
    _book(client, listing, _tomorrow(10), _tomorrow(11))
    [booking] = _bookings_of(driver)
    client.post(f"/bookings/{booking.id}/confirm", data={"csrf_token": CSRF})
    page = client.get("/bookings").get_data(as_text=True)
    # The button shows only inside the window; before it, the page says when it appears.
    assert f'action="/bookings/{booking.id}/start"' not in page
    assert "“Start charging” appears 15 minutes before the start." in page
    client.post(f"/bookings/{booking.id}/start", data={"csrf_token": CSRF})
    page = client.get("/bookings").get_data(as_text=True)
    assert "window has not begun" in page
    db.session.refresh(booking)
    assert booking.status == "confirmed"


def test_owners_see_no_booking_form_on_other_chargers(client, log_in, make_user, listing):
    log_in(make_user(role="owner"))
    page = client.get(f"/chargers/{listing.id}").get_data(as_text=True)
    assert "Hold this slot" not in page and "Booking needs a driver account" in page
