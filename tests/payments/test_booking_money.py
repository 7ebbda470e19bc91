"""The booking money path: captures that fail and are retried, refunds, owner payouts.

Driver-side calls use the real SDK against localstripe. Connect calls (accounts, account
links, transfers, reversals) go to the Connect stand-in of tests/support, because
localstripe has no Connect: it checks the request shape at the network edge.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bookings import services
from app.core.errors import Conflict
from app.core.outbox import OutboxEvent
from app.extensions import db as ext
from app.inventory.models import Location
from app.payments import queries as payment_queries
from app.payments import services as payments
from app.payments.events import process_webhook
from app.payments.webhooks import sign_payload
from tests.bookings.conftest import WEBHOOK_SECRET

UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing listens, the connection is refused


def ledger(booking_id):
    return [(row.kind, row.amount_minor) for row in payment_queries.ledger_of(booking_id)]


@pytest.fixture
def completed(db, driver, evse_id, tomorrow_at, clock):
    """Return a function that books and completes a 10:00-12:00 booking (660 quoted)."""

    def complete():
        booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
        clock(tomorrow_at(10))
        services.start_booking(booking.id)
        return services.complete_booking(booking.id)

    return complete


@pytest.fixture
def stripe_down(app):
    """Point the gateway at an address where nothing listens, then back."""

    def down():
        app.config["STRIPE_API_BASE"] = UNREACHABLE

    saved = app.config["STRIPE_API_BASE"]
    yield down
    app.config["STRIPE_API_BASE"] = saved


@pytest.fixture
def stripe_at(app):
    """Point the gateway at another Stripe-compatible server (the Connect stand-in), then back."""
    saved = app.config["STRIPE_API_BASE"]

    def point(url):
        app.config["STRIPE_API_BASE"] = url

    yield point
    app.config["STRIPE_API_BASE"] = saved


def test_failed_capture_is_kept_for_retry_and_the_job_captures_it(
    app, db, driver, evse_id, tomorrow_at, clock, stripe_down
):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    clock(tomorrow_at(10))
    services.start_booking(booking.id)
    stripe_down()

    booking = services.complete_booking(booking.id)

    payment = payment_queries.payment_of(booking.id)
    assert booking.status == "completed"
    assert (payment.state, payment.to_capture_minor, payment.capture_attempts) == (
        "capture_failed",
        660,
        1,
    )
    assert "PaymentProviderUnavailable" in payment.last_error
    assert ledger(booking.id) == [("authorised", 660)]


def test_retry_job_captures_after_stripe_is_back(
    app, db, driver, evse_id, tomorrow_at, clock, localstripe
):
    booking = services.book_slot(driver, evse_id, tomorrow_at(10), tomorrow_at(12))
    clock(tomorrow_at(10))
    services.start_booking(booking.id)
    app.config["STRIPE_API_BASE"] = UNREACHABLE
    try:
        services.complete_booking(booking.id)
    finally:
        app.config["STRIPE_API_BASE"] = localstripe.url
    assert payment_queries.payment_of(booking.id).state == "capture_failed"

    retried = payments.retry_settlements()

    payment = payment_queries.payment_of(booking.id)
    assert booking.id in retried
    assert (payment.state, payment.captured_minor, payment.last_error) == ("captured", 660, None)
    assert ledger(booking.id) == [("authorised", 660), ("captured", 660), ("fee", 99)]
    assert payments.gateway().retrieve_payment(payment.payment_intent_id).status == "succeeded"


def test_refund_is_limited_to_what_was_captured(db, completed):
    booking = completed()

    payments.refund_booking(booking.id, 200, reason_ref="goodwill")
    with pytest.raises(Conflict):
        payments.refund_booking(booking.id, 461, reason_ref="toomuch")

    payment = payment_queries.payment_of(booking.id)
    assert payment.refunded_minor == 200
    assert ("refunded", 200) in ledger(booking.id)


def test_owner_onboarding_and_account_updated_gate_publishing(
    db, owner, listing, connect_standin, stripe_at
):
    stripe_at(connect_standin.url)
    link = payments.onboard_owner(
        owner, country="NL", refresh_url="https://x.test/r", return_url="https://x.test/ok"
    )
    account = payment_queries.owner_account(owner.id)
    assert link.url and account.account_id.startswith("acct_")
    assert account.payable is False
    with pytest.raises(Conflict):
        payments.publish_listing(owner, listing.id)

    connect_standin.complete_onboarding(account.account_id)
    state = payments.gateway()._stripe.v1.accounts.retrieve(account.account_id).to_dict()
    apply_account_updated(state)
    assert payment_queries.owner_account(owner.id).payable is True
    assert payments.publish_listing(owner, listing.id).publish is True

    connect_standin.set_account_state(account.account_id, payouts_enabled=False)
    state = payments.gateway()._stripe.v1.accounts.retrieve(account.account_id).to_dict()
    apply_account_updated(state)
    assert ext.session.get(Location, listing.id).publish is False
    topics = ext.session.scalars(
        select(OutboxEvent.payload).where(OutboxEvent.aggregate_id == listing.ocpi_id)
    ).all()
    assert {"change": "unpublished", "publish": False}.items() <= topics[-1].items()
    posts = [r.path for r in connect_standin.posts]
    assert posts == ["/v1/accounts", "/v1/account_links"]
    assert all(
        r.headers.get("idempotency-key", "").startswith("plugpool:") for r in connect_standin.posts
    )


def apply_account_updated(account):
    """Deliver a signed account.updated event through the webhook processor."""
    import json
    import time

    body = json.dumps(
        {
            "id": f"evt_{time.monotonic_ns()}",
            "type": "account.updated",
            "created": int(time.time()),
            "account": account["id"],
            "data": {"object": account},
        }
    ).encode()
    assert process_webhook(body, sign_payload(body, WEBHOOK_SECRET)) == "processed"


def onboarded(owner, connect_standin, stripe_at, localstripe):
    """Onboard the owner on the stand-in and mark the account payable."""
    stripe_at(connect_standin.url)
    payments.onboard_owner(
        owner, country="NL", refresh_url="https://x/r", return_url="https://x/ok"
    )
    account = payment_queries.owner_account(owner.id)
    connect_standin.complete_onboarding(account.account_id)
    apply_account_updated(
        payments.gateway()._stripe.v1.accounts.retrieve(account.account_id).to_dict()
    )
    stripe_at(localstripe.url)
    return account


def test_owner_is_paid_after_the_problem_window_and_a_refund_reverses_their_share(
    db, owner, completed, connect_standin, stripe_at, localstripe, clock, tomorrow_at, monkeypatch
):
    account = onboarded(owner, connect_standin, stripe_at, localstripe)
    booking = completed()
    payment = payment_queries.payment_of(booking.id)
    stripe_at(connect_standin.url)

    assert payments.pay_out_due() == []  # the problem-report window is still open
    monkeypatch.setattr(
        "app.payments.services.utcnow", lambda: tomorrow_at(12) + timedelta(hours=25)
    )
    assert payments.pay_out_due() == [booking.id]

    assert (payment.transferred_minor, payment.fee_minor) == (561, 99)  # 660 - 15 %
    transfer = connect_standin.transfers[payment.transfer_id]
    assert (transfer["amount"], transfer["destination"]) == (561, account.account_id)
    assert transfer["transfer_group"] == f"booking_{booking.id}"
    assert payments.pay_out_due() == []  # paid once

    stripe_at(localstripe.url)
    # One Stripe serves both calls in production; here the refund goes to localstripe and
    # the transfer reversal to the Connect stand-in, so route that one method there.
    monkeypatch.setattr(
        payments.gateway(),
        "reverse_transfer",
        connect_gateway_for(connect_standin).reverse_transfer,
    )
    payments.refund_booking(booking.id, 100, reason_ref="late")

    assert ("reversed", 85) in ledger(booking.id)
    assert connect_standin.transfers[payment.transfer_id]["amount_reversed"] == 85


def connect_gateway_for(standin):
    from app.payments.localserver import LOCAL_SECRET_KEY
    from app.payments.stripe_gateway import StripeGateway

    return StripeGateway.from_config(
        {"STRIPE_SECRET_KEY": LOCAL_SECRET_KEY, "STRIPE_API_BASE": standin.url}
    )


def test_open_problem_report_holds_the_payout(
    db, owner, driver, completed, connect_standin, stripe_at, localstripe, tomorrow_at, monkeypatch
):
    onboarded(owner, connect_standin, stripe_at, localstripe)
    booking = completed()
    services.report_problem(driver, booking.id, "Charged for energy I did not get")
    stripe_at(connect_standin.url)
    monkeypatch.setattr("app.payments.services.utcnow", lambda: tomorrow_at(12) + timedelta(days=3))

    assert payments.pay_out_due() == []
    assert payment_queries.payment_of(booking.id).transfer_id is None
    assert connect_standin.transfers == {}
