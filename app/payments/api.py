"""Payments edges: the Stripe webhook (raw body) and the JSON API for cards and payouts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

from app.accounts.auth import api_auth, current_user
from app.core.errors import problem
from app.payments import services
from app.payments.errors import InvalidWebhook
from app.payments.events import process_webhook
from app.payments.schemas import (
    CardSetupSchema,
    OnboardingInSchema,
    OnboardingLinkSchema,
    SaveCardInSchema,
    SavedCardSchema,
)
from app.payments.stripe_objects import CardSetup, OnboardingLink

webhooks_blp = Blueprint("stripe_webhooks", __name__)
blp = ApiBlueprint("payments", __name__, description="Drivers' cards and owners' payouts")


@webhooks_blp.post("/webhooks/stripe")
def stripe_webhook() -> Response:
    """Receive one Stripe event."""
    try:
        outcome = process_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except InvalidWebhook as error:
        return problem(400, "Invalid webhook", error.message)
    return jsonify({"received": True, "outcome": outcome})


@blp.route("/cards/setup")
class CardSetupResource(MethodView):
    @blp.response(201, CardSetupSchema)
    @api_auth(blp)
    def post(self) -> CardSetup:
        """Start saving a card: confirm the returned SetupIntent with Stripe.js."""
        return services.start_card_setup(current_user())


@blp.route("/cards")
class CardsResource(MethodView):
    @blp.response(200, SavedCardSchema)
    @api_auth(blp)
    @blp.arguments(SaveCardInSchema)
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Use this card for my bookings."""
        customer = services.save_card(current_user(), args["payment_method_id"])
        return {"payment_method_id": customer.payment_method_id}


@blp.route("/payouts/onboarding")
class OnboardingResource(MethodView):
    @blp.response(201, OnboardingLinkSchema)
    @api_auth(blp, "owner")
    @blp.arguments(OnboardingInSchema)
    def post(self, args: dict[str, Any]) -> OnboardingLink:
        """Get a single-use Stripe onboarding link for my payouts (owner)."""
        return services.onboard_owner(current_user(), **args)
