"""The Stripe gateway with the real stripe SDK against localstripe 1.15.10 (driver side).

Where localstripe and the real API differ, each test asserts what is true of both and says
what the real API adds.
"""

from __future__ import annotations

import logging
import secrets

import pytest

from app.payments.errors import (
    AuthenticationRequired,
    CardDeclined,
    InvalidAmount,
    PaymentRejected,
)
from app.payments.stripe_gateway import StripeGateway
from tests.support.localstripe import LocalStripe


def booking_id() -> str:
    """Return a fresh booking id, so idempotency keys never collide between tests."""
    return "bk" + secrets.token_hex(6)


def hold(gateway: StripeGateway, driver, amount: int = 3000, booking: str | None = None):
    """Authorise amount for a new booking on the driver's saved card."""
    return gateway.authorise(
        booking or booking_id(),
        customer_id=driver.customer_id,
        payment_method_id=driver.payment_method_id,
        amount=amount,
        currency="eur",
    )


def charge_of(localstripe: LocalStripe, charge_id: str) -> dict:
    """Return a Charge as a dict, read with the SDK straight from the server."""
    client = localstripe.gateway()._stripe
    return client.v1.charges.retrieve(charge_id).to_dict()


def test_customer_is_created_and_returns_its_id(stripe_gateway):
    customer_id = stripe_gateway.create_customer("d1", email="d1@example.test", name="Ada")

    assert customer_id.startswith("cus_")


def test_card_setup_confirmed_with_a_test_card_succeeds(stripe_gateway):
    customer_id = stripe_gateway.create_customer(booking_id(), email="s@example.test")

    setup = stripe_gateway.start_card_setup("d2", customer_id)
    confirmed = stripe_gateway.confirm_card_setup(setup.id, "pm_card_visa")

    assert setup.status == "requires_payment_method"
    assert setup.client_secret.startswith(setup.id)
    assert "client_secret" not in repr(setup)
    assert confirmed.status == "succeeded"
    assert confirmed.payment_method_id.startswith("pm_")


def test_card_setup_client_secret_stays_out_of_logs_even_at_debug(stripe_gateway, caplog):
    """The SDK logs whole response bodies at DEBUG; the gateway filters them out."""
    caplog.set_level(logging.DEBUG)
    customer_id = stripe_gateway.create_customer(booking_id(), email="log@example.test")

    setup = stripe_gateway.start_card_setup("d4", customer_id)

    assert setup.client_secret not in caplog.text
    assert "log@example.test" not in caplog.text
    assert "plugpool:driver:d4:setup_intent:" in caplog.text


def test_attached_card_is_listed_on_the_customer(stripe_gateway):
    """The real API attaches a SetupIntent's card to its customer on confirm; localstripe
    does not, so the card is attached explicitly here (a no-op on the real API)."""
    customer_id = stripe_gateway.create_customer(booking_id(), email="l@example.test")
    setup = stripe_gateway.confirm_card_setup(
        stripe_gateway.start_card_setup("d3", customer_id).id, "pm_card_visa"
    )

    stripe_gateway.attach_payment_method(setup.payment_method_id, customer_id)
    cards = stripe_gateway.list_cards(customer_id)

    assert [(c.id, c.last4, c.customer_id) for c in cards] == [
        (setup.payment_method_id, "4242", customer_id)
    ]


def test_authorisation_places_a_hold_that_requires_capture(stripe_gateway, make_driver):
    payment = hold(stripe_gateway, make_driver(), amount=3000)

    assert payment.requires_capture
    assert (payment.amount, payment.currency) == (3000, "eur")
    assert payment.charge_id.startswith("ch_")


def test_partial_capture_keeps_only_the_captured_amount(stripe_gateway, make_driver, localstripe):
    """Real API: amount_received=1850 and the charge shows amount_captured=1850 with the
    released 1150 as amount_refunded. localstripe models it as a capture of 3000 plus an
    automatic 1150 refund and reports no amount_received. Both keep 3000 - 1150 = 1850."""
    payment = hold(stripe_gateway, make_driver(), amount=3000)

    captured = stripe_gateway.capture("b-partial", payment.id, 1850)
    charge = charge_of(localstripe, captured.charge_id)

    assert captured.status == "succeeded"
    assert captured.amount_received in (None, 1850)
    assert charge["amount"] - charge["amount_refunded"] == 1850


def test_capturing_more_than_authorised_is_rejected(stripe_gateway, make_driver):
    payment = hold(stripe_gateway, make_driver(), amount=3000)

    with pytest.raises(PaymentRejected):
        stripe_gateway.capture(booking_id(), payment.id, 3001)
    assert stripe_gateway.retrieve_payment(payment.id).requires_capture


def test_cancelling_a_hold_releases_it(stripe_gateway, make_driver):
    payment = hold(stripe_gateway, make_driver())

    cancelled = stripe_gateway.cancel_authorisation(booking_id(), payment.id)

    assert cancelled.status == "canceled"
    assert stripe_gateway.retrieve_payment(payment.id).status == "canceled"


def test_partial_refund_returns_the_refunded_amount(stripe_gateway, make_driver, localstripe):
    booking = booking_id()
    payment = hold(stripe_gateway, make_driver(), amount=3000, booking=booking)
    stripe_gateway.capture(booking, payment.id, 3000)

    refund = stripe_gateway.refund(booking, payment.id, reason_ref="owner_cancelled", amount=500)

    assert (refund.amount, refund.status, refund.payment_intent_id) == (
        500,
        "succeeded",
        payment.id,
    )
    assert charge_of(localstripe, payment.charge_id)["amount_refunded"] == 500


def test_full_refund_refunds_everything_captured(stripe_gateway, make_driver):
    booking = booking_id()
    payment = hold(stripe_gateway, make_driver(), amount=2500, booking=booking)
    stripe_gateway.capture(booking, payment.id, 2500)

    refund = stripe_gateway.refund(booking, payment.id, reason_ref="problem-1")

    assert refund.amount == 2500


def test_declined_card_raises_card_declined(stripe_gateway, make_driver):
    """pm_card_chargeCustomerFail attaches fine and is declined when charged, on both."""
    driver = make_driver(card="pm_card_chargeCustomerFail")

    with pytest.raises(CardDeclined) as caught:
        hold(stripe_gateway, driver)

    assert caught.value.code == "card_declined"
    assert not caught.value.retryable


def test_difference_above_the_hold_is_charged_as_a_second_payment(stripe_gateway, make_driver):
    driver = make_driver()
    booking = booking_id()
    first = hold(stripe_gateway, driver, amount=3000, booking=booking)
    stripe_gateway.capture(booking, first.id, 3000)

    extra = stripe_gateway.charge_difference(
        booking,
        customer_id=driver.customer_id,
        payment_method_id=driver.payment_method_id,
        amount=700,
        currency="EUR",
    )

    assert extra.id != first.id
    assert (extra.status, extra.amount, extra.currency) == ("succeeded", 700, "eur")


@pytest.mark.parametrize("amount", [30.0, 0, -5, True, "3000"])
def test_bad_amounts_are_refused_before_calling_stripe(stripe_gateway, make_driver, amount):
    driver = make_driver()

    with pytest.raises(InvalidAmount):
        hold(stripe_gateway, driver, amount=amount)


def test_card_that_needs_3ds_raises_authentication_required(stripe_gateway, localstripe):
    """localstripe answers requires_action for 3-D Secure test cards; the real API answers
    an off-session confirm with a card_error authentication_required. Both become
    AuthenticationRequired naming the PaymentIntent. The raw card number is sent only to
    localstripe: the real API refuses raw numbers from a server."""
    client = localstripe.gateway()._stripe
    card = {"number": "4000002500003155", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    pm_id = client.v1.payment_methods.create(params={"type": "card", "card": card}).id
    customer_id = stripe_gateway.create_customer(booking_id(), email="3ds@example.test")
    stripe_gateway.attach_payment_method(pm_id, customer_id)

    with pytest.raises(AuthenticationRequired) as caught:
        stripe_gateway.authorise(
            booking_id(),
            customer_id=customer_id,
            payment_method_id=pm_id,
            amount=1000,
            currency="eur",
        )

    assert stripe_gateway.retrieve_payment(caught.value.payment_intent_id).status == (
        "requires_action"
    )
