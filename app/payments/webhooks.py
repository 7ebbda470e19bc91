"""Verify and parse Stripe webhooks; the Flask route and the handlers live elsewhere."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

import stripe

from app.payments.errors import InvalidWebhook

DEFAULT_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class WebhookEvent:
    """The parts of a Stripe event that PlugPool's handlers read."""

    id: str
    type: str
    object_id: str | None
    object_type: str | None
    data: dict[str, Any]
    created: int
    # Set on events about a connected account (account.updated, payouts).
    account: str | None = None

    @classmethod
    def from_dict(cls, event: dict[str, Any]) -> WebhookEvent:
        """Build from a decoded event body."""
        obj = (event.get("data") or {}).get("object") or {}
        return cls(
            id=event["id"],
            type=event["type"],
            object_id=obj.get("id"),
            object_type=obj.get("object"),
            data=obj,
            created=int(event.get("created") or 0),
            account=event.get("account"),
        )


def verify_event(
    payload: bytes,
    sig_header: str | None,
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> WebhookEvent:
    """Check the Stripe-Signature of the raw body and return the event, or raise InvalidWebhook."""
    if not isinstance(payload, bytes | bytearray):
        # A decoded or re-serialised body no longer matches what Stripe signed.
        raise TypeError("verify_event needs the raw request bytes (Flask: request.get_data())")
    if tolerance <= 0:
        # The SDK treats a falsy tolerance as "no timestamp check": replays would pass.
        raise ValueError("tolerance must be a positive number of seconds")
    try:
        event = stripe.Webhook.construct_event(payload, sig_header, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook("Webhook signature or timestamp rejected") from exc
    except ValueError as exc:
        raise InvalidWebhook("Webhook body is not a Stripe event") from exc
    try:
        return WebhookEvent.from_dict(event.to_dict())
    except (KeyError, AttributeError, TypeError) as exc:
        raise InvalidWebhook("Webhook body lacks an event id or type") from exc


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Return a Stripe-Signature header for payload (tests, local demo): t=<ts>,v1=<hmac>."""
    ts = int(time.time()) if timestamp is None else timestamp
    signed = str(ts).encode() + b"." + bytes(payload)
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"
