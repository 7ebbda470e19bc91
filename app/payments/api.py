"""Stripe webhooks endpoint: raw body in, 2xx fast; verification failures are 400."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.core.errors import problem
from app.payments.errors import InvalidWebhook
from app.payments.events import process_webhook

webhooks_blp = Blueprint("stripe_webhooks", __name__)


@webhooks_blp.post("/webhooks/stripe")
def stripe_webhook() -> Response:
    """Receive one Stripe event."""
    try:
        outcome = process_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except InvalidWebhook as error:
        return problem(400, "Invalid webhook", error.message)
    return jsonify({"received": True, "outcome": outcome})
