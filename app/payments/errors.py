"""Domain errors of the payments package, and the one place Stripe errors become them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import stripe


class PaymentError(Exception):
    """Base class: something about a payment could not be done."""

    retryable: bool = False

    def __init__(self, message: str, *, code: str | None = None, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id


class InvalidAmount(PaymentError, ValueError):
    """An amount was not a positive integer of minor units; nothing was sent to Stripe."""


class CardDeclined(PaymentError):
    """The card issuer refused the payment; the driver must use another card."""

    def __init__(self, message: str, *, decline_code: str | None = None, **kwargs: str | None):
        super().__init__(message, **kwargs)
        self.decline_code = decline_code


class AuthenticationRequired(CardDeclined):
    """The bank wants the driver present (3-D Secure); an off-session charge cannot go on."""

    def __init__(self, message: str, *, payment_intent_id: str | None = None, **kwargs: str | None):
        super().__init__(message, **kwargs)
        self.payment_intent_id = payment_intent_id


class PaymentRejected(PaymentError):
    """Stripe refused the request as invalid (wrong state, amount too high, unknown object)."""


class IdempotencyConflict(PaymentRejected):
    """An idempotency key was reused with different parameters: a bug in the caller."""


class PaymentProviderUnavailable(PaymentError):
    """Stripe could not be reached or failed (network, 5xx, rate limit); retry later, same key."""

    retryable = True


class PaymentMisconfigured(PaymentError):
    """Stripe refused our credentials or permissions: an operator must fix the settings."""


class PaymentsOff(PaymentMisconfigured):
    """No STRIPE_SECRET_KEY: this server takes no payments (the embedded mode's default)."""


class InvalidWebhook(PaymentError):
    """A webhook's signature, timestamp or body is not acceptable; answer 400, change nothing."""


def _details(exc: stripe.StripeError) -> dict[str, str | None]:
    """Return the code and request id Stripe attached to an error."""
    return {"code": exc.code, "request_id": exc.request_id}


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    """Return the plain `error` object of Stripe's JSON answer, or {}."""
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    return error if isinstance(error, dict) else {}


def _from_card_error(exc: stripe.CardError) -> CardDeclined:
    """Turn a card error into a decline, or into the 3-D Secure case."""
    message = exc.user_message or "The card was declined."
    body = _error_body(exc)
    if exc.code == "authentication_required":
        intent_id = (body.get("payment_intent") or {}).get("id")
        return AuthenticationRequired(message, payment_intent_id=intent_id, **_details(exc))
    return CardDeclined(message, decline_code=body.get("decline_code"), **_details(exc))


def map_stripe_error(exc: stripe.StripeError) -> PaymentError:
    """Return the domain error for a Stripe SDK error."""
    # Order matters: IdempotencyError is not an InvalidRequestError in the SDK.
    if isinstance(exc, stripe.CardError):
        return _from_card_error(exc)
    if isinstance(exc, stripe.IdempotencyError):
        return IdempotencyConflict(exc.user_message or "Idempotency key reused", **_details(exc))
    if isinstance(exc, stripe.InvalidRequestError):
        return PaymentRejected(exc.user_message or "Request refused by Stripe", **_details(exc))
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        # Stripe masks the key in these messages, but we do not repeat them anyway.
        return PaymentMisconfigured("Stripe refused our credentials", **_details(exc))
    if isinstance(exc, stripe.RateLimitError | stripe.APIConnectionError | stripe.APIError):
        return PaymentProviderUnavailable("Stripe is unavailable, retry later", **_details(exc))
    return PaymentError(exc.user_message or "Stripe error", **_details(exc))


@contextmanager
def stripe_errors_as_domain_errors() -> Iterator[None]:
    """Re-raise any Stripe SDK error inside the block as a PaymentError."""
    try:
        yield
    except stripe.StripeError as exc:
        raise map_stripe_error(exc) from exc
