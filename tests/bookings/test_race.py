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


def test_concurrent_raw_inserts_are_refused_by_the_database_alone(app, committed_db):
    """Without the service's checks or lock: the exclusion constraint alone lets one through."""
    import threading

    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from app.bookings.rules import is_overlap_violation

    evse_id = make_slot_listing(app, "raw")
    driver_ids = make_drivers(app, "raw", 50)
    starts, ends = slot_tomorrow()
    with app.app_context():
        location_id = db.session.get(Booking.evse.property.mapper.class_, evse_id).location_id
    results: list[str] = []
    gate = threading.Barrier(len(driver_ids))

    def insert_one(driver_id: int) -> None:
        gate.wait()
        # Connect after the gate: the pool has fewer connections than there are threads.
        with app.app_context(), db.engine.connect() as connection:
            try:
                with connection.begin():
                    connection.execute(
                        insert(Booking).values(
                            driver_id=driver_id,
                            location_id=location_id,
                            evse_id=evse_id,
                            starts_at=starts,
                            ends_at=ends,
                            status="pending",
                            instant_book=True,
                            amount_minor=660,
                            currency="EUR",
                            policy={},
                            created_at=starts,
                            last_updated=starts,
                        )
                    )
                results.append("inserted")
            except IntegrityError as error:
                results.append("overlap" if is_overlap_violation(error) else repr(error))

    threads = [threading.Thread(target=insert_one, args=(d,)) for d in driver_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(set(results)) == ["inserted", "overlap"]
    assert results.count("inserted") == 1
