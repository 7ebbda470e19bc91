"""Verify and parse Stripe webhooks; the Flask route and the handlers live elsewhere."""

from __future__ import annotations

import hashlib
import hmac
import json
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
    def from_dict(cls, event: Any) -> WebhookEvent:
        """Build from a decoded event body; a body of another shape raises InvalidWebhook."""
        if not isinstance(event, dict):
            raise InvalidWebhook("Webhook body is not an event object")
        data = event.get("data", {})
        obj = (data.get("object") if isinstance(data, dict) else None) or {}
        created = event.get("created") or 0
        if not (
            isinstance(data, dict)
            and _is_text(event.get("id"))
            and _is_text(event.get("type"))
            and isinstance(obj, dict)
            and _is_text(obj.get("id"), optional=True)
            and _is_text(obj.get("object"), optional=True)
            and _is_text(event.get("account"), optional=True)
            and isinstance(created, int)
            and not isinstance(created, bool)
        ):
            raise InvalidWebhook("Webhook body lacks an event id or type, or has bad fields")
        return cls(
            id=event["id"],
            type=event["type"],
            object_id=obj.get("id"),
            object_type=obj.get("object"),
            data=obj,
            created=created,
            account=event.get("account"),
        )


def _is_text(value: Any, optional: bool = False) -> bool:
    if value is None:
        return optional
    return isinstance(value, str) and 0 < len(value) <= 255


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
        stripe.WebhookSignature.verify_header(payload, sig_header, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook("Webhook signature or timestamp rejected") from exc
    except ValueError as exc:  # not UTF-8
        raise InvalidWebhook("Webhook body is not a Stripe event") from exc
    # The SDK checks only the past; a timestamp far ahead would stay replayable for that long.
    if _signed_at(sig_header or "") > time.time() + tolerance:
        raise InvalidWebhook("Webhook signature or timestamp rejected")
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise InvalidWebhook("Webhook body is not a Stripe event") from exc
    return WebhookEvent.from_dict(body)


def _signed_at(sig_header: str) -> int:
    """The t= timestamp of a Stripe-Signature header the SDK has already accepted."""
    for item in sig_header.split(","):
        key, _, value = item.partition("=")
        if key.strip() == "t":
            return int(value)
    raise InvalidWebhook("Webhook signature or timestamp rejected")


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Return a Stripe-Signature header for payload (tests, local demo): t=<ts>,v1=<hmac>."""
    ts = int(time.time()) if timestamp is None else timestamp
    signed = str(ts).encode() + b"." + bytes(payload)
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"
