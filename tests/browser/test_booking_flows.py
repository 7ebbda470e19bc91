"""Bookings in a real browser: cancel with the policy's fee, an owner accepts a request,
a review after a completed booking."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.bookings import services as bookings
from app.bookings.models import Booking
from app.extensions import db
from app.payments import services as payments
from app.payments.models import BookingPayment
from tests.browser.conftest import log_in

pytestmark = pytest.mark.slow


def _driver_with_card(live, email: str) -> int:
    driver_id = live.users(driver=email)["driver"]

    def save():
        from app.accounts.models import User

        payments.save_card(db.session.get(User, driver_id), "pm_card_visa")

    live.query(save)
    return driver_id


def _book_first_slot(page, live, listing_id: int) -> int:
    """Open the charger page, take the first free slot, hold it and pay; the booking id."""
    page.goto(f"{live.url}/chargers/{listing_id}")
    page.locator("ol.calendar a.slot").first.click()
    page.wait_for_url(re.compile(r"from="))
    page.click("button:has-text('Hold this slot')")
    page.wait_for_url(re.compile(r"/bookings(#|$)"))
    page.click("button:has-text('and confirm')")
    page.wait_for_load_state()
    return live.query(lambda: db.session.scalars(select(Booking.id)).all()[-1])


def test_cancelling_inside_the_cutoff_shows_the_fee_asks_and_charges_it(live, browser_page, shot):
    owner = live.users(owner="olga@plugpool.test")["owner"]
    live.ready_owner(owner)
    listing_id = live.listing(owner, spec=0, cancellation_policy="moderate")
    _driver_with_card(live, "dana@plugpool.test")
    page = browser_page
    log_in(page, live.url, "dana@plugpool.test")
    booking_id = _book_first_slot(page, live, listing_id)
    held = live.query(lambda: db.session.get(Booking, booking_id).amount_minor)

    page.click(f"#booking-{booking_id} a:has-text('Cancel booking')")
    fee_text = page.locator("#cancel-fee").inner_text()
    fee = held // 2 + held % 2  # moderate: 50 % inside 12 hours, rounded half up
    assert f"{fee // 100}.{fee % 100:02d} EUR" in fee_text
    shot(page, "cancel-asks")
    page.click("button:has-text('Yes, cancel')")
    page.wait_for_url(re.compile(r"/bookings(#|$)"))
    assert "Booking cancelled." in page.content()
    shot(page, "cancelled")

    def money():
        booking = db.session.get(Booking, booking_id)
        payment = db.session.scalars(
            select(BookingPayment).where(BookingPayment.booking_id == booking_id)
        ).one()
        return booking.status, payment.captured_minor

    assert live.query(money) == ("cancelled", fee)


def test_owner_accepts_a_request_and_the_driver_then_sees_the_access_notes(
    live, chromium, browser_page, shot
):
    owner = live.users(owner="olga@plugpool.test")["owner"]
    live.ready_owner(owner)
    listing_id = live.listing(owner, spec=0, instant_book=False)
    _driver_with_card(live, "dana@plugpool.test")
    page = browser_page
    log_in(page, live.url, "dana@plugpool.test")
    booking_id = _book_first_slot(page, live, listing_id)
    assert "Waiting for the owner to accept" in page.content()
    shot(page, "requested")

    owner_context = chromium.new_context(viewport={"width": 1280, "height": 800})
    owner_page = owner_context.new_page()
    log_in(owner_page, live.url, "olga@plugpool.test")
    owner_page.goto(f"{live.url}/owner/bookings")
    shot(owner_page, "owner-sees-request")
    owner_page.click("button:has-text('Accept')")
    owner_page.wait_for_load_state()
    assert "Request accepted." in owner_page.content()
    owner_context.close()

    page.reload()
    assert page.locator(f"#booking-{booking_id} .access").count() == 1
    assert "the cable is in the box" in page.content()
    shot(page, "accepted")


def test_driver_reviews_a_completed_booking_and_the_charger_page_shows_it(live, browser_page, shot):
    owner = live.users(owner="olga@plugpool.test")["owner"]
    live.ready_owner(owner)
    listing_id = live.listing(owner, spec=0)
    _driver_with_card(live, "dana@plugpool.test")
    page = browser_page
    log_in(page, live.url, "dana@plugpool.test")
    booking_id = _book_first_slot(page, live, listing_id)

    def charge_and_finish():
        # What the charger's session does at the booking's end (charging domain services).
        bookings.start_booking(booking_id)
        booking = db.session.get(Booking, booking_id)
        return bookings.complete_booking(booking_id, ended_at=booking.ends_at).status

    assert live.query(charge_and_finish) == "completed"
    page.goto(f"{live.url}/bookings")
    page.select_option(f"#rating-{booking_id}", "4")
    page.fill(f"#text-{booking_id}", "Easy to find, cable in the box as promised.")
    shot(page, "review-form")
    page.click("button:has-text('Send review')")
    page.wait_for_url(re.compile(r"/bookings(#|$)"))
    assert "You reviewed this charger" in page.content()
    page.goto(f"{live.url}/chargers/{listing_id}")
    assert "4.0 of 5" in page.content() and "cable in the box as promised" in page.content()
    shot(page, "charger-with-review")
