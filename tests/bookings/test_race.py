"""200 concurrent attempts on one slot, real threads on a real PostgreSQL with real commits."""

from __future__ import annotations

import threading

import psycopg
from sqlalchemy import func, select

from app.accounts.models import User
from app.bookings import services
from app.bookings.errors import SlotTaken
from app.bookings.models import Booking
from app.extensions import db
from app.payments.models import BookingPayment, StripeCustomer
from app.payments.services import gateway
from tests.support.booking_race import make_drivers, make_slot_listing, race, slot_tomorrow
from tests.support.locks import wait_for_a_waiter

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


HOLD_BEHIND_THE_LOCK = """
    INSERT INTO bookings (driver_id, location_id, evse_id, starts_at, ends_at, status,
                          expires_at, instant_book, amount_minor, currency, policy,
                          created_at, last_updated)
    SELECT %(driver)s, location_id, id, %(starts)s, %(ends)s, 'pending',
           now() + interval '15 minutes', true, 660, 'EUR', '{}'::json, now(), now()
    FROM evses WHERE id = %(evse)s
"""


def test_a_hold_queued_for_the_lock_is_refused_by_the_check_under_it_and_frees_the_lock(
    app, committed_db, database_url
):
    """The first check passes (the other hold is not committed yet); the one made with the lock,
    once granted, sees it: the friendly refusal, not the constraint's, and the lock let go."""
    evse_id = make_slot_listing(app, "queue")
    first, second = make_drivers(app, "queue", 2)
    starts, ends = slot_tomorrow()
    plain = database_url.replace("+psycopg", "")
    lock = (services.SCHEDULE_LOCK_SPACE, evse_id)
    outcome: dict[str, object] = {}

    def hold() -> None:
        with app.app_context():
            try:
                services.hold_slot(db.session.get(User, second), evse_id, starts, ends)
            except SlotTaken as refused:
                outcome["refused"] = refused.extra
                # Before this session is closed: the lock must be free already.
                with psycopg.connect(plain) as other:
                    free = "SELECT pg_try_advisory_xact_lock(%s, %s)"
                    outcome["lock_free"] = other.execute(free, lock).fetchone()[0]
            finally:
                db.session.remove()

    with psycopg.connect(plain) as holder, psycopg.connect(plain, autocommit=True) as admin:
        holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", lock)
        params = {"driver": first, "starts": starts, "ends": ends, "evse": evse_id}
        holder.execute(HOLD_BEHIND_THE_LOCK, params)
        attempt = threading.Thread(target=hold)
        attempt.start()
        wait_for_a_waiter(admin, *lock)
        holder.commit()
        attempt.join(timeout=30)

    assert outcome == {
        "refused": {
            "reason": "overlap",
            "taken_from": starts.isoformat(),
            "taken_until": ends.isoformat(),
        },
        "lock_free": True,
    }
