"""The booking lifecycle through the services, with the real SDK against localstripe."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.bookings import services
from app.bookings.errors import InvalidTransition, PaymentRequired, SlotTaken
from app.bookings.schemas import BookingSchema
from app.core.errors import Forbidden, ValidationFailed
from app.extensions import db as ext
from app.payments import queries as payment_queries
from app.payments.services import gateway


def kinds(booking_id):
    return [(row.kind, row.amount_minor) for row in payment_queries.ledger_of(booking_id)]


def stripe_status(payment_intent_id):
    return gateway().retrieve_payment(payment_intent_id).status


def test_instant_booking_is_confirmed_with_a_card_hold(db, driver, evse_id, tomorrow_at):
    booking = services.hold_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    assert booking.status == "pending"
    assert booking.expires_at is not None

    booking = services.confirm_booking(driver, booking.id)

    payment = payment_queries.payment_of(booking.id)
    assert booking.status == "confirmed"
    assert len(booking.access_code) == 6
    assert payment.state == "authorised"
    assert stripe_status(payment.payment_intent_id) == "requires_capture"
    assert kinds(booking.id) == [("authorised", 660)]


def test_booking_far_ahead_is_confirmed_and_its_hold_scheduled(db, driver, evse_id, tomorrow_at):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10, days=9), tomorrow_at(11, days=9))

    payment = payment_queries.payment_of(booking.id)
    assert booking.status == "confirmed"
    assert (payment.state, payment.payment_intent_id) == ("scheduled", None)
    assert kinds(booking.id) == []


def test_declined_card_keeps_the_hold_pending_and_unpaid(
    db, make_driver_with_card, evse_id, tomorrow_at
):
    driver = make_driver_with_card(card="pm_card_chargeCustomerFail")
    booking = services.hold_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(11))

    with pytest.raises(PaymentRequired):
        services.confirm_booking(driver, booking.id)

    payment = payment_queries.payment_of(booking.id)
    assert booking.status == "pending"
    assert payment.payment_intent_id is None
    assert payment.auth_attempts == 1


def test_request_waits_for_the_owner_who_accepts(db, driver, make_listing, tomorrow_at):
    location = make_listing(instant_book=False)
    owner_id = location.owner_id
    booking = services.book_slot(driver, location.evses[0].id, tomorrow_at(10), tomorrow_at(11))
    assert booking.status == "requested"
    assert BookingSchema().dump(booking)["access"] is None

    from app.accounts.models import User

    owner = ext.session.get(User, owner_id)
    booking = services.accept_booking(owner, booking.id)

    assert booking.status == "confirmed"
    assert BookingSchema().dump(booking)["access"]["code"] == booking.access_code


def test_owner_decline_releases_the_hold(db, driver, make_listing, tomorrow_at):
    from app.accounts.models import User

    location = make_listing(instant_book=False)
    booking = services.book_slot(driver, location.evses[0].id, tomorrow_at(10), tomorrow_at(11))
    owner = ext.session.get(User, location.owner_id)

    booking = services.decline_booking(owner, booking.id)

    payment = payment_queries.payment_of(booking.id)
    assert (booking.status, payment.state) == ("declined", "released")
    assert stripe_status(payment.payment_intent_id) == "canceled"
    assert kinds(booking.id) == [("authorised", 330), ("released", 330)]


def test_only_the_owner_accepts(db, driver, make_user, make_listing, tomorrow_at):
    location = make_listing(instant_book=False)
    booking = services.book_slot(driver, location.evses[0].id, tomorrow_at(10), tomorrow_at(11))

    with pytest.raises(Forbidden):
        services.accept_booking(make_user(role="owner"), booking.id)


def test_access_instructions_are_hidden_until_confirmed(db, driver, evse_id, tomorrow_at):
    booking = services.hold_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(11))
    assert BookingSchema().dump(booking)["access"] is None

    booking = services.confirm_booking(driver, booking.id)
    access = BookingSchema().dump(booking)["access"]

    assert access["instructions"] == "Gate code 4711, charger on the left"
    services.cancel_booking(driver, booking.id)
    assert BookingSchema().dump(booking)["access"] is None


def test_driver_cancelling_before_the_cutoff_pays_nothing(db, driver, evse_id, tomorrow_at, clock):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    clock(tomorrow_at(10) - timedelta(hours=13))  # moderate: free until 12 h before

    booking = services.cancel_booking(driver, booking.id)

    payment = payment_queries.payment_of(booking.id)
    assert (booking.status, booking.cancelled_by, payment.state) == (
        "cancelled",
        "driver",
        "released",
    )
    assert kinds(booking.id) == [("authorised", 660), ("released", 660)]


@pytest.mark.parametrize(
    ("policy", "hours_before", "fee"),
    [("flexible", 1, 165), ("moderate", 11, 330), ("strict", 47, 660), ("strict", 49, 0)],
)
def test_driver_cancelling_late_pays_the_policy_fee(
    db, driver, make_listing, tomorrow_at, clock, policy, hours_before, fee
):
    location = make_listing(cancellation_policy=policy)
    start = tomorrow_at(10, days=2)
    booking = services.book_slot(driver, location.evses[0].id, start, start + timedelta(hours=2))
    clock(start - timedelta(hours=hours_before))

    booking = services.cancel_booking(driver, booking.id)

    payment = payment_queries.payment_of(booking.id)
    assert booking.policy["name"] == policy
    if fee:
        assert (payment.state, payment.captured_minor) == ("captured", fee)
        assert ("captured", fee) in kinds(booking.id)
    else:
        assert payment.state == "released"


def test_owner_cancelling_late_refunds_in_full(db, driver, owner, evse_id, tomorrow_at, clock):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    clock(tomorrow_at(9, 30))

    booking = services.cancel_booking(owner, booking.id)

    payment = payment_queries.payment_of(booking.id)
    assert (booking.cancelled_by, payment.state, payment.captured_minor) == ("owner", "released", 0)


def test_extension_while_the_next_slot_is_free(db, driver, make_user, evse_id, tomorrow_at):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(11))
    services.hold_slot(make_user(), evse_id, tomorrow_at(12), tomorrow_at(13))

    booking = services.extend_booking(driver, booking.id, tomorrow_at(12))
    assert (booking.ends_at, booking.amount_minor) == (tomorrow_at(12), 660)
    with pytest.raises(SlotTaken):
        services.extend_booking(driver, booking.id, tomorrow_at(12, 30))
    assert booking.ends_at == tomorrow_at(12)


def test_extension_beyond_the_maximum_length_is_refused(db, driver, evse_id, tomorrow_at):
    booking = services.book_slot(driver, evse_id, tomorrow_at(8), tomorrow_at(10))

    with pytest.raises(ValidationFailed):
        services.extend_booking(driver, booking.id, tomorrow_at(21))


def test_completion_captures_the_engine_price_of_what_was_used(
    db, driver, evse_id, tomorrow_at, clock
):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    clock(tomorrow_at(10, 5))
    services.start_booking(booking.id)

    booking = services.complete_booking(booking.id, Decimal("7.5"), tomorrow_at(11))

    payment = payment_queries.payment_of(booking.id)
    assert (booking.status, booking.final_amount_minor) == ("completed", 225)  # 7.5 kWh x 0.30
    assert (payment.state, payment.captured_minor) == ("captured", 225)
    assert stripe_status(payment.payment_intent_id) == "succeeded"
    assert kinds(booking.id) == [("authorised", 660), ("captured", 225), ("fee", 34)]


def test_usage_above_the_hold_is_charged_separately(db, driver, evse_id, tomorrow_at, clock):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(11))
    clock(tomorrow_at(10))
    services.start_booking(booking.id)
    # Extended after the hold of 330 was placed: the price becomes 660.
    services.extend_booking(driver, booking.id, tomorrow_at(12))

    booking = services.complete_booking(booking.id, Decimal("20"), tomorrow_at(12))

    payment = payment_queries.payment_of(booking.id)
    assert (payment.authorised_minor, payment.captured_minor) == (330, 600)
    assert payment.state == "captured"
    assert stripe_status(payment.payment_intent_id) == "succeeded"
    assert stripe_status(payment.extra_payment_intent_id) == "succeeded"
    assert [k for k in kinds(booking.id) if k[0] == "captured"] == [
        ("captured", 330),
        ("captured", 270),
    ]


def test_no_show_after_the_grace_period_pays_the_policy_fee(
    db, driver, evse_id, tomorrow_at, clock
):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    clock(tomorrow_at(10, 10))
    with pytest.raises(InvalidTransition):
        services.mark_no_show(booking.id)
    clock(tomorrow_at(10, 16))

    booking = services.mark_no_show(booking.id)

    payment = payment_queries.payment_of(booking.id)
    assert (booking.status, payment.captured_minor) == ("no_show", 330)  # moderate: 50 %


def test_reviews_once_each_way_after_completion(db, driver, owner, evse_id, tomorrow_at, clock):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(11))
    with pytest.raises(InvalidTransition):
        services.review_booking(driver, booking.id, 5, "too early")
    clock(tomorrow_at(10))
    services.start_booking(booking.id)
    services.complete_booking(booking.id)

    services.review_booking(driver, booking.id, 5, "Easy to find")
    services.review_booking(owner, booking.id, 4, "Left on time")

    with pytest.raises(InvalidTransition):
        services.review_booking(driver, booking.id, 1, "again")
    with pytest.raises(ValidationFailed):
        services.review_booking(owner, booking.id, 6, "")


def test_problem_report_holds_the_payout_until_resolved(
    db, driver, owner, admin, evse_id, tomorrow_at, clock
):
    from app.bookings.queries import has_open_problem

    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(11))
    report = services.report_problem(driver, booking.id, "Cable was missing")
    assert has_open_problem(booking.id)

    services.resolve_problem(admin, report.id, "Owner put a cable back")

    assert not has_open_problem(booking.id)
    with pytest.raises(Forbidden):
        services.resolve_problem(driver, report.id, "me too")


def test_paying_an_expired_hold_is_refused(db, driver, evse_id, tomorrow_at, clock):
    booking = services.hold_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(11))
    clock(booking.expires_at + timedelta(seconds=1))

    with pytest.raises(InvalidTransition):
        services.confirm_booking(driver, booking.id)
    assert booking.status == "expired"
    assert payment_queries.payment_of(booking.id).payment_intent_id is None


def test_hold_placed_for_a_booking_that_expired_meanwhile_is_released(
    db, driver, evse_id, tomorrow_at, monkeypatch
):
    from sqlalchemy import update

    from app.bookings.models import Booking
    from app.payments import services as payments

    booking = services.hold_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(11))
    placed = []
    real_place_hold = payments.place_hold

    def place_hold_then_expire(booking, card):
        hold = real_place_hold(booking, card)
        placed.append(hold.id)
        # The expiry job wins the race while Stripe was answering.
        ext.session.execute(
            update(Booking).where(Booking.id == booking.id).values(status="expired")
        )
        return hold

    monkeypatch.setattr(payments, "place_hold", place_hold_then_expire)

    with pytest.raises(InvalidTransition):
        services.confirm_booking(driver, booking.id)

    assert stripe_status(placed[0]) == "canceled"
    assert payment_queries.payment_of(booking.id).payment_intent_id is None
