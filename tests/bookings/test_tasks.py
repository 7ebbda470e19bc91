"""Jobs: expiry, no-shows, auto-completion, authorisation near the start; one on a real worker."""

from __future__ import annotations

import uuid
from datetime import timedelta

from celery.contrib.testing.worker import start_worker
from sqlalchemy import select, update

from app.bookings import services, tasks
from app.bookings.models import Booking
from app.core.celery import celery_app, init_celery
from app.extensions import db as ext
from app.payments import queries as payment_queries
from app.payments import services as payments
from tests.support.booking_race import make_drivers, make_slot_listing, slot_tomorrow


def test_expire_holds_frees_only_timed_out_holds(
    db, driver, make_driver_with_card, evse_id, tomorrow_at, clock
):
    stale = services.hold_slot(driver, evse_id, tomorrow_at(8), tomorrow_at(9))
    fresh = services.book_slot(make_driver_with_card(), evse_id, tomorrow_at(10), tomorrow_at(11))
    clock(stale.expires_at + timedelta(minutes=1))
    # The job reads the clock through the services module.
    assert services.expire_holds() == 1
    assert (stale.status, fresh.status) == ("expired", "confirmed")


def test_no_show_job_marks_only_bookings_past_their_grace(
    db, driver, make_driver_with_card, evse_id, tomorrow_at, clock
):
    late = services.book_slot(driver, evse_id, tomorrow_at(8), tomorrow_at(9))
    later = services.book_slot(make_driver_with_card(), evse_id, tomorrow_at(10), tomorrow_at(11))
    clock(tomorrow_at(8, 20))

    assert services.mark_due_no_shows() == [late.id]
    assert (late.status, later.status) == ("no_show", "confirmed")


def test_auto_complete_captures_the_quote(db, driver, evse_id, tomorrow_at, clock):
    booking = services.book_slot(driver, evse_id, tomorrow_at(8), tomorrow_at(9))
    clock(tomorrow_at(8))
    services.start_booking(booking.id)
    clock(tomorrow_at(9, 31))

    assert services.complete_due_bookings() == [booking.id]
    assert payment_queries.payment_of(booking.id).captured_minor == 330


def test_far_booking_is_authorised_by_the_job_when_its_start_nears(
    db, driver, evse_id, tomorrow_at, monkeypatch
):
    start = tomorrow_at(10, days=9)
    booking = services.book_slot(driver, evse_id, start, start + timedelta(hours=1))
    assert payments.authorise_upcoming() == []

    monkeypatch.setattr("app.payments.services.utcnow", lambda: start - timedelta(days=5))
    assert payments.authorise_upcoming() == [booking.id]

    payment = payment_queries.payment_of(booking.id)
    assert (payment.state, payment.authorised_minor) == ("authorised", 330)
    assert payments.gateway().retrieve_payment(payment.payment_intent_id).requires_capture


def test_a_real_celery_worker_on_redis_expires_a_stale_hold(app, committed_db):
    """Start a Celery worker thread on Redis and send it the expiry job through the broker."""
    evse_id = make_slot_listing(app, "worker")
    (driver_id,) = make_drivers(app, "worker", 1)
    with app.app_context():
        from app.accounts.models import User

        booking = services.hold_slot(ext.session.get(User, driver_id), evse_id, *slot_tomorrow())
        booking_id = booking.id
        ext.session.execute(
            update(Booking)
            .where(Booking.id == booking_id)
            .values(expires_at=booking.starts_at - timedelta(days=2))
        )
        ext.session.commit()

    init_celery(app)
    saved = dict(celery_app.conf)
    queue = f"plugpool-bookings-test-{uuid.uuid4().hex[:8]}"
    celery_app.conf.update(
        task_always_eager=False,
        broker_url="redis://127.0.0.1:6379/13",
        result_backend="redis://127.0.0.1:6379/13",
        task_default_queue=queue,
    )
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue]):
            result = tasks.expire_holds.delay()
            assert result.get(timeout=30) == 1
    finally:
        celery_app.conf.update(
            {
                k: saved[k]
                for k in ("task_always_eager", "broker_url", "result_backend", "task_default_queue")
            }
        )

    with app.app_context():
        status = ext.session.scalar(select(Booking.status).where(Booking.id == booking_id))
        assert status == "expired"


def test_cli_runs_every_job_once(runner, driver, evse_id, tomorrow_at, clock):
    stale = services.hold_slot(driver, evse_id, tomorrow_at(8), tomorrow_at(9))
    clock(stale.expires_at + timedelta(minutes=1))

    result = runner.invoke(args=["bookings", "run-jobs"])

    assert result.exit_code == 0, result.output
    assert "expire_holds: 1" in result.output
    assert "pay_out_owners: []" in result.output
    assert stale.status == "expired"


def test_requests_unanswered_at_their_start_are_declined_and_released(
    db, driver, make_listing, tomorrow_at, clock
):
    location = make_listing(instant_book=False)
    booking = services.book_slot(driver, location.evses[0].id, tomorrow_at(10), tomorrow_at(11))
    clock(tomorrow_at(9, 59))
    assert services.decline_unanswered_requests() == []
    clock(tomorrow_at(10))

    assert services.decline_unanswered_requests() == [booking.id]

    payment = payment_queries.payment_of(booking.id)
    assert (booking.status, payment.state) == ("declined", "released")
