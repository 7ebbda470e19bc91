"""Owner payouts (Connect Express) and request hygiene, against the Connect stand-in.

localstripe 1.15.10 has no accounts, account links, transfers or reversals, and ignores
idempotency keys. These tests run the real stripe SDK against tests/support/connect_standin,
an HTTP server at the network edge that checks each request's path, form parameters, bearer
key and PlugPool idempotency key, and answers JSON shaped like Stripe's. They show that we
send what the real API requires; they cannot show how the real API would then behave.
"""

from __future__ import annotations

import logging

import pytest

from app.payments.errors import (
    IdempotencyConflict,
    InvalidAmount,
    PaymentMisconfigured,
    PaymentProviderUnavailable,
    PaymentRejected,
)
from app.payments.stripe_gateway import StripeGateway
from tests.support.http_server import free_port


def onboarded_account(gateway: StripeGateway, standin, owner_id: str = "o1") -> str:
    """Create an owner's account and mark it onboarded in the stand-in."""
    account = gateway.create_owner_account(owner_id, email=f"{owner_id}@example.test", country="fr")
    standin.complete_onboarding(account.id)
    return account.id


def pay_owner(gateway: StripeGateway, account_id: str, amount: int = 2550):
    """Transfer the owner's share of booking 42's charge."""
    return gateway.transfer_to_owner(
        42, account_id=account_id, amount=amount, currency="eur", source_charge_id="ch_abc"
    )


def test_express_account_is_created_with_transfers_requested(connect_gateway, connect_standin):
    account = connect_gateway.create_owner_account(7, email="owner7@example.test", country="fr")

    request = connect_standin.posts[-1]
    assert request.path == "/v1/accounts"
    assert request.params["type"] == "express"
    assert request.params["country"] == "FR"
    assert request.params["capabilities[transfers][requested]"] == "true"
    assert request.params["metadata[owner_id]"] == "7"
    assert request.headers["idempotency-key"] == "plugpool:owner:7:create_account"
    assert account.id.startswith("acct_")
    assert not account.can_receive_transfers


def test_account_state_follows_onboarding(connect_gateway, connect_standin):
    account = connect_gateway.create_owner_account(8, email="o8@example.test", country="FR")
    connect_standin.complete_onboarding(account.id)

    state = connect_gateway.retrieve_account(account.id)

    assert (state.charges_enabled, state.payouts_enabled, state.details_submitted) == (
        True,
        True,
        True,
    )
    assert state.can_receive_transfers
    assert connect_standin.requests[-1].method == "GET"


def test_onboarding_link_is_returned_but_never_logged(connect_gateway, connect_standin, caplog):
    account = connect_gateway.create_owner_account(9, email="o9@example.test", country="FR")
    caplog.set_level(logging.DEBUG)

    link = connect_gateway.create_onboarding_link(
        account.id,
        refresh_url="https://plugpool.test/owner/payouts/refresh",
        return_url="https://plugpool.test/owner/payouts/done",
    )

    request = connect_standin.posts[-1]
    assert request.path == "/v1/account_links"
    assert request.params["type"] == "account_onboarding"
    assert request.headers["idempotency-key"].startswith(
        f"plugpool:account:{account.id}:onboarding_link:"
    )
    assert link.url.startswith("https://connect.stripe.com/")
    assert link.url not in repr(link)
    assert link.url not in caplog.text


def test_each_onboarding_link_is_a_new_one(connect_gateway, connect_standin):
    account = connect_gateway.create_owner_account(10, email="o10@example.test", country="FR")
    urls = dict(refresh_url="https://plugpool.test/r", return_url="https://plugpool.test/d")

    first = connect_gateway.create_onboarding_link(account.id, **urls)
    second = connect_gateway.create_onboarding_link(account.id, **urls)

    assert first.url != second.url


def test_owner_share_is_transferred_from_the_booking_charge(connect_gateway, connect_standin):
    account_id = onboarded_account(connect_gateway, connect_standin)

    transfer = pay_owner(connect_gateway, account_id, amount=2550)

    request = connect_standin.posts[-1]
    assert request.path == "/v1/transfers"
    assert request.params == {
        "amount": "2550",
        "currency": "eur",
        "destination": account_id,
        "source_transaction": "ch_abc",
        "transfer_group": "booking_42",
        "metadata[booking_id]": "42",
    }
    assert request.headers["idempotency-key"] == "plugpool:booking:42:transfer:ch_abc"
    assert (transfer.amount, transfer.destination, transfer.transfer_group) == (
        2550,
        account_id,
        "booking_42",
    )


def test_transfer_to_an_account_not_onboarded_is_rejected(connect_gateway):
    account = connect_gateway.create_owner_account(11, email="o11@example.test", country="FR")

    with pytest.raises(PaymentRejected, match="transfers"):
        pay_owner(connect_gateway, account.id)


def test_transfer_is_reversed_in_part_then_in_full(connect_gateway, connect_standin):
    transfer = pay_owner(connect_gateway, onboarded_account(connect_gateway, connect_standin), 2550)

    part = connect_gateway.reverse_transfer(42, transfer.id, reason_ref="re_1", amount=1000)
    rest = connect_gateway.reverse_transfer(42, transfer.id, reason_ref="re_2")

    assert (part.amount, rest.amount) == (1000, 1550)
    assert part.transfer_id == transfer.id
    assert connect_standin.posts[-2].path == f"/v1/transfers/{transfer.id}/reversals"
    assert connect_standin.posts[-2].headers["idempotency-key"] == (
        f"plugpool:booking:42:reverse_transfer:{transfer.id}:re_1"
    )
    assert connect_standin.transfers[transfer.id]["reversed"] is True


def test_retried_transfer_is_answered_once(connect_gateway, connect_standin):
    """Same key, same parameters: Stripe replays the first answer instead of paying twice."""
    account_id = onboarded_account(connect_gateway, connect_standin)

    first = pay_owner(connect_gateway, account_id)
    again = pay_owner(connect_gateway, account_id)

    assert again.id == first.id
    assert len(connect_standin.transfers) == 1


def test_key_reused_with_other_parameters_is_an_idempotency_conflict(
    connect_gateway, connect_standin
):
    account_id = onboarded_account(connect_gateway, connect_standin)
    pay_owner(connect_gateway, account_id, amount=2550)

    with pytest.raises(IdempotencyConflict):
        pay_owner(connect_gateway, account_id, amount=2600)


def test_float_transfer_amount_is_refused_before_any_request(connect_gateway, connect_standin):
    with pytest.raises(InvalidAmount):
        pay_owner(connect_gateway, "acct_x", amount=25.5)

    assert connect_standin.requests == []


def test_every_post_carries_its_derived_idempotency_key(connect_gateway, connect_standin):
    """Drive every POST of the gateway at the stand-in, which records headers. Driver-side
    calls get a 404 there (localstripe serves them in the other tests); the header is what
    counts here."""
    gw = connect_gateway
    account_id = onboarded_account(gw, connect_standin, owner_id="o5")
    transfer = pay_owner(gw, account_id)
    gw.reverse_transfer(42, transfer.id, reason_ref="re_9")
    gw.create_onboarding_link(
        account_id, refresh_url="https://a.test/r", return_url="https://a.test/d"
    )
    driver_calls = [
        lambda: gw.create_customer(5, email="d5@example.test"),
        lambda: gw.start_card_setup(5, "cus_1"),
        lambda: gw.confirm_card_setup("seti_1", "pm_card_visa"),
        lambda: gw.attach_payment_method("pm_1", "cus_1"),
        lambda: gw.authorise(
            42, customer_id="cus_1", payment_method_id="pm_1", amount=3000, currency="eur"
        ),
        lambda: gw.capture(42, "pi_1", 1850),
        lambda: gw.cancel_authorisation(42, "pi_1"),
        lambda: gw.refund(42, "pi_1", reason_ref="driver_cancelled", amount=500),
        lambda: gw.charge_difference(
            42, customer_id="cus_1", payment_method_id="pm_1", amount=700, currency="eur"
        ),
    ]
    for call in driver_calls:
        with pytest.raises(PaymentRejected):
            call()

    keys = [r.headers.get("idempotency-key", "") for r in connect_standin.posts]
    assert len(keys) == 13
    assert keys[:3] == [
        "plugpool:owner:o5:create_account",
        "plugpool:booking:42:transfer:ch_abc",
        f"plugpool:booking:42:reverse_transfer:{transfer.id}:re_9",
    ]
    assert keys[3].startswith(f"plugpool:account:{account_id}:onboarding_link:")
    assert keys[4] == "plugpool:driver:5:create_customer"
    assert keys[5].startswith("plugpool:driver:5:setup_intent:")
    assert keys[6:] == [
        "plugpool:setup_intent:seti_1:confirm",
        "plugpool:payment_method:pm_1:attach:cus_1",
        "plugpool:booking:42:authorise",
        "plugpool:booking:42:capture",
        "plugpool:booking:42:cancel",
        "plugpool:booking:42:refund:driver_cancelled",
        "plugpool:booking:42:charge_difference",
    ]
    assert all(
        r.headers["authorization"].startswith("Bearer sk_") for r in connect_standin.requests
    )


def test_server_error_is_retryable_unavailability(connect_gateway, connect_standin):
    connect_standin.fail_next(503)

    with pytest.raises(PaymentProviderUnavailable) as caught:
        connect_gateway.create_owner_account(12, email="o12@example.test", country="FR")

    assert caught.value.retryable


def test_sdk_retries_a_server_error_with_the_same_key(connect_standin):
    gateway = StripeGateway.from_config(
        {
            "STRIPE_SECRET_KEY": "sk_test_retry",
            "STRIPE_API_BASE": connect_standin.url,
            "STRIPE_MAX_NETWORK_RETRIES": 1,
        }
    )
    connect_standin.fail_next(500)

    gateway.create_owner_account(13, email="o13@example.test", country="FR")

    keys = [r.headers["idempotency-key"] for r in connect_standin.posts]
    assert keys == ["plugpool:owner:13:create_account"] * 2
    assert len(connect_standin.accounts) == 1


def test_unreachable_stripe_is_retryable_unavailability():
    gateway = StripeGateway.from_config(
        {
            "STRIPE_SECRET_KEY": "sk_test_nowhere",
            "STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}",
            "STRIPE_MAX_NETWORK_RETRIES": 0,
        }
    )

    with pytest.raises(PaymentProviderUnavailable) as caught:
        gateway.retrieve_account("acct_1")

    assert caught.value.retryable


def test_refused_credentials_are_a_misconfiguration_without_the_key(connect_standin, caplog):
    secret = "sk_bad key"
    gateway = StripeGateway.from_config(
        {"STRIPE_SECRET_KEY": secret, "STRIPE_API_BASE": connect_standin.url}
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(PaymentMisconfigured) as caught:
        gateway.retrieve_account("acct_1")

    assert not caught.value.retryable
    assert secret not in str(caught.value)
    assert secret not in caplog.text
    assert secret not in repr(gateway)


def test_a_new_attempt_gets_a_new_key_and_the_first_keeps_the_plain_one(
    connect_gateway, connect_standin
):
    """Stripe keeps a key's answer (a decline too) for 24 h: a retry with another card is
    a new attempt and needs a new key. The stand-in 404s the PaymentIntent; keys count."""
    for attempt in (1, 2):
        with pytest.raises(PaymentRejected):
            connect_gateway.authorise(
                42,
                customer_id="cus_1",
                payment_method_id=f"pm_{attempt}",
                amount=3000,
                currency="eur",
                attempt=attempt,
            )

    assert [r.headers["idempotency-key"] for r in connect_standin.posts] == [
        "plugpool:booking:42:authorise",
        "plugpool:booking:42:authorise:2",
    ]


def test_attempts_count_from_one(connect_gateway, connect_standin):
    with pytest.raises(ValueError, match="attempt"):
        connect_gateway.capture(42, "pi_1", 100, attempt=0)

    assert connect_standin.requests == []
