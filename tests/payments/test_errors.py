"""How Stripe SDK errors become PlugPool payment errors."""

from __future__ import annotations

import pytest
import stripe

from app.payments.errors import (
    AuthenticationRequired,
    CardDeclined,
    IdempotencyConflict,
    PaymentError,
    PaymentMisconfigured,
    PaymentProviderUnavailable,
    PaymentRejected,
    map_stripe_error,
    stripe_errors_as_domain_errors,
)


def card_error(code: str, **error: object) -> stripe.CardError:
    """Return a CardError as the SDK builds it from a 402 answer."""
    body = {"error": {"type": "card_error", "code": code, "message": "Declined", **error}}
    return stripe.CardError("Declined", None, code, http_status=402, json_body=body)


def test_card_decline_keeps_the_decline_code():
    mapped = map_stripe_error(card_error("card_declined", decline_code="insufficient_funds"))

    assert type(mapped) is CardDeclined
    assert (mapped.code, mapped.decline_code) == ("card_declined", "insufficient_funds")
    assert not mapped.retryable


def test_authentication_required_names_the_payment_intent():
    error = card_error("authentication_required", payment_intent={"id": "pi_9", "object": "x"})

    mapped = map_stripe_error(error)

    assert isinstance(mapped, AuthenticationRequired)
    assert isinstance(mapped, CardDeclined)
    assert mapped.payment_intent_id == "pi_9"


@pytest.mark.parametrize(
    ("error", "expected", "retryable"),
    [
        (
            stripe.InvalidRequestError("No such charge", "id", http_status=404),
            PaymentRejected,
            False,
        ),
        (stripe.IdempotencyError("Keys reused", http_status=400), IdempotencyConflict, False),
        (
            stripe.AuthenticationError("Invalid API Key", http_status=401),
            PaymentMisconfigured,
            False,
        ),
        (stripe.PermissionError("Not allowed", http_status=403), PaymentMisconfigured, False),
        (stripe.RateLimitError("Too many", http_status=429), PaymentProviderUnavailable, True),
        (stripe.APIConnectionError("Network down"), PaymentProviderUnavailable, True),
        (stripe.APIError("Server error", http_status=500), PaymentProviderUnavailable, True),
    ],
)
def test_stripe_errors_map_to_domain_errors(error, expected, retryable):
    mapped = map_stripe_error(error)

    assert type(mapped) is expected
    assert mapped.retryable is retryable


def test_misconfiguration_does_not_repeat_stripes_message():
    error = stripe.AuthenticationError("Invalid API Key provided: sk_live_****1234")

    assert "sk_live" not in str(map_stripe_error(error))


def test_context_manager_chains_the_sdk_error():
    original = stripe.APIError("boom", http_status=502)

    with pytest.raises(PaymentError) as caught, stripe_errors_as_domain_errors():
        raise original

    assert caught.value.__cause__ is original
