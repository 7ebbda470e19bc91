"""200 concurrent attempts on one slot, real threads on a real PostgreSQL with real commits."""

from __future__ import annotations

from sqlalchemy import func, select

from app.bookings.models import Booking
from app.extensions import db
from app.payments.models import BookingPayment, StripeCustomer
from app.payments.services import gateway
from tests.support.booking_race import make_drivers, make_slot_listing, race, slot_tomorrow

ATTEMPTS = 200


def save_cards(app, driver_ids):
    """Give every driver a real localstripe customer with a card (committed)."""
    from app.accounts.models import User
    from app.payments.services import save_card

    with app.app_context():
        for driver_id in driver_ids:
            save_card(db.session.get(User, driver_id), "pm_card_visa")
        return list(db.session.scalars(select(StripeCustomer.customer_id)))


def test_two_hundred_concurrent_bookings_give_one_booking_and_no_orphan_holds(app, committed_db):
    evse_id = make_slot_listing(app, "race")
    driver_ids = make_drivers(app, "race", ATTEMPTS)
    customers = save_cards(app, driver_ids)

    outcome = race(app, driver_ids, evse_id, slot_tomorrow(), pay=True)

    assert outcome.errors == []
    assert (len(outcome.booked), outcome.conflicts) == (1, ATTEMPTS - 1)
    with app.app_context():
        holding = db.session.scalar(
            select(func.count()).where(Booking.evse_id == evse_id, Booking.status == "confirmed")
        )
        assert holding == 1
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
        intents = list(db.session.scalars(select(BookingPayment.payment_intent_id)))
        assert len(intents) == 1 and intents[0].startswith("pi_")
        # Stripe's side: only the winner's card carries a hold.
        # (localstripe cannot filter intents by customer: page through all of them.)
        listing = gateway()._stripe.v1.payment_intents.list({"limit": 100})
        ours = set(customers)
        held = [pi.id for pi in listing.auto_paging_iter() if pi.customer in ours]
        assert held == intents
