"""A driver in a real browser: search, charger page, free slot, card, pay, access notes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.bookings.models import Booking
from app.extensions import db
from app.payments.models import BookingPayment
from tests.browser.conftest import log_in

pytestmark = pytest.mark.slow


def _booking(live):
    def read():
        booking = db.session.scalars(select(Booking)).one()
        payment = db.session.scalars(
            select(BookingPayment).where(BookingPayment.booking_id == booking.id)
        ).one()
        return booking.status, booking.amount_minor, payment.authorised_minor

    return live.query(read)


def test_driver_books_a_free_slot_pays_with_a_new_card_and_sees_the_access_notes(
    live, browser_page, shot
):
    users = live.users(owner="olga@plugpool.test", driver="dana@plugpool.test")
    live.ready_owner(users["owner"])
    listing_id = live.listing(users["owner"], spec=2)  # Oosterpark garage, 22 kW, 0.35/kWh
    page = browser_page

    log_in(page, live.url, "dana@plugpool.test")
    page.goto(f"{live.url}/chargers?lat=52.36&lon=4.927&radius_km=5")
    page.wait_for_selector("ol.results li")
    # No internet: the map says its background could not load, the list is there.
    page.wait_for_selector("#map-notice:not([hidden])")
    assert page.locator(".leaflet-container").count() == 1
    shot(page, "search")

    page.click("ol.results li h3 a")
    page.wait_for_selector("ol.calendar a.slot")
    shot(page, "charger")
    slot = page.locator("ol.calendar li:nth-child(2) a.slot").first
    picked = slot.inner_text()
    slot.click()
    page.wait_for_url(re.compile(r"from="))
    assert page.input_value(f"#from-{_evse(live, listing_id)}").endswith("T" + picked)
    quoted = int(page.locator(".quote-amount").first.get_attribute("data-amount-minor"))
    total = page.locator("dl.breakdown dd").last.inner_text()
    assert total == page.locator(".quote-amount").first.inner_text()
    shot(page, "slot-picked")

    page.click("button:has-text('Hold this slot')")
    page.wait_for_url(re.compile(r"/bookings"))
    page.click("a:has-text('Add a card')")
    page.wait_for_selector("#card-element input[placeholder=number]")
    page.fill("#card-element input[placeholder=number]", "4242424242424242")
    page.fill("#card-element input[placeholder=exp_month]", "12")
    page.fill("#card-element input[placeholder=exp_year]", "34")
    page.fill("#card-element input[placeholder=cvc]", "123")
    page.fill("#card-element input[placeholder=postal_code]", "1092")
    shot(page, "card-form")
    page.click("#card-submit")
    page.wait_for_url(re.compile(r"/bookings(#|$)"))
    pay = page.locator("button:has-text('and confirm')")
    assert "Visa .... 4242" in page.content()
    shot(page, "held")
    pay.click()
    page.wait_for_selector("text=Access code")
    assert "the cable is in the box" in page.content()
    shot(page, "paid")

    status, held, authorised = _booking(live)
    assert status == "confirmed"
    assert quoted == held == authorised  # the price shown is the price held on the card

    page.goto(f"{live.url}/payment-cards")
    assert page.locator(".card-name").inner_text() == "Visa .... 4242"
    shot(page, "cards")


def _evse(live, listing_id: int) -> int:
    from app.inventory.models import Location

    return live.query(lambda: db.session.get(Location, listing_id).evses[0].id)
