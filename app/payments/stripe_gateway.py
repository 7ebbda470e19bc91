"""The Stripe edge: every call PlugPool makes to Stripe, through one configured StripeClient.

Money model: the driver is charged on the platform account (PaymentIntent, manual capture
for the booking's hold) and the owner's share is sent afterwards with a separate Transfer
to their Connect Express account (separate charges and transfers).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import stripe

from app.payments.amounts import require_amount, require_currency
from app.payments.errors import AuthenticationRequired, stripe_errors_as_domain_errors
from app.payments.idempotency import idempotency_key
from app.payments.stripe_client import StripeSettings, make_client
from app.payments.stripe_objects import (
    CardSetup,
    ConnectAccount,
    OnboardingLink,
    Payment,
    Refund,
    SavedCard,
    Transfer,
    TransferReversal,
)

log = logging.getLogger(__name__)


def transfer_group(booking_id: str | int) -> str:
    """Return the transfer_group that ties a booking's charges and transfers together."""
    return f"booking_{booking_id}"


def _attempt(attempt: int) -> tuple[str, ...]:
    """Return the key qualifier of a retry after a definitive failure (none for the first)."""
    # Stripe stores the answer of a key for 24 h, declines and 500s included, so a new
    # attempt (another card, a re-authorisation) needs a new key. A timeout is not a new
    # attempt: the same key then makes the retry safe.
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    return () if attempt == 1 else (str(attempt),)


def _metadata(**ids: str | int) -> dict[str, str]:
    """Return Stripe metadata naming our domain objects, so the dashboard links back to us."""
    return {name: str(value) for name, value in ids.items()}


class StripeGateway:
    """Every Stripe call PlugPool makes: drivers, booking payments, owner payouts."""

    def __init__(self, client: stripe.StripeClient):
        self._stripe = client

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeGateway:
        """Build a gateway from the app config (see StripeSettings.from_config)."""
        return cls(make_client(StripeSettings.from_config(config)))

    def _post(
        self, call: Callable[..., Any], *args: str, params: dict[str, Any], key: str
    ) -> dict[str, Any]:
        """POST through the SDK with an idempotency key and return the answer as a dict."""
        log.info("stripe POST %s", key)
        with stripe_errors_as_domain_errors():
            result = call(*args, params=params, options={"idempotency_key": key})
        return result.to_dict()

    def _get(
        self, call: Callable[..., Any], *args: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """GET through the SDK and return the answer as a dict."""
        with stripe_errors_as_domain_errors():
            return call(*args, params=params or {}).to_dict()

    # Drivers

    def create_customer(self, driver_id: str | int, *, email: str, name: str | None = None) -> str:
        """Create the driver's Stripe Customer and return its id."""
        params: dict[str, Any] = {"email": email, "metadata": _metadata(driver_id=driver_id)}
        if name:
            params["name"] = name
        key = idempotency_key("driver", driver_id, "create_customer")
        return self._post(self._stripe.v1.customers.create, params=params, key=key)["id"]

    def start_card_setup(self, driver_id: str | int, customer_id: str) -> CardSetup:
        """Create a SetupIntent that saves a card for off-session booking payments."""
        params = {
            "customer": customer_id,
            "usage": "off_session",
            "payment_method_types": ["card"],
            "metadata": _metadata(driver_id=driver_id),
        }
        # A driver may add several cards: each setup is its own operation.
        key = idempotency_key("driver", driver_id, "setup_intent", secrets.token_hex(8))
        return CardSetup.from_stripe(
            self._post(self._stripe.v1.setup_intents.create, params=params, key=key)
        )

    def confirm_card_setup(self, setup_intent_id: str, payment_method_id: str) -> CardSetup:
        """Confirm a SetupIntent server-side (tests, demo; browsers confirm with Stripe.js)."""
        key = idempotency_key("setup_intent", setup_intent_id, "confirm")
        params = {"payment_method": payment_method_id}
        return CardSetup.from_stripe(
            self._post(
                self._stripe.v1.setup_intents.confirm, setup_intent_id, params=params, key=key
            )
        )

    def attach_payment_method(self, payment_method_id: str, customer_id: str) -> SavedCard:
        """Attach a PaymentMethod to the driver's Customer."""
        key = idempotency_key("payment_method", payment_method_id, "attach", customer_id)
        data = self._post(
            self._stripe.v1.payment_methods.attach,
            payment_method_id,
            params={"customer": customer_id},
            key=key,
        )
        return SavedCard.from_stripe(data)

    def list_cards(self, customer_id: str) -> list[SavedCard]:
        """Return the cards saved on the driver's Customer."""
        params = {"customer": customer_id, "type": "card", "limit": 100}
        data = self._get(self._stripe.v1.payment_methods.list, params=params)
        return [SavedCard.from_stripe(item) for item in data["data"]]

    def detach_payment_method(self, payment_method_id: str) -> None:
        """Remove a saved card from its Customer (Stripe: detach)."""
        key = idempotency_key("payment_method", payment_method_id, "detach")
        self._post(self._stripe.v1.payment_methods.detach, payment_method_id, params={}, key=key)

    # Booking payments

    def authorise(
        self,
        booking_id: str | int,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: int,
        currency: str,
        off_session: bool = True,
        attempt: int = 1,
        kind: str = "booking",
    ) -> Payment:
        """Place a hold of amount on the driver's saved card (manual-capture PaymentIntent).

        kind: what booking_id names ("booking", or "roaming" for a roaming charge's id).
        """
        params = self._intent_params(
            booking_id, customer_id, payment_method_id, amount, currency, kind
        )
        params["capture_method"] = "manual"
        if off_session:
            params["off_session"] = True
        key = idempotency_key(kind, booking_id, "authorise", *_attempt(attempt))
        return self._confirmed(
            self._post(self._stripe.v1.payment_intents.create, params=params, key=key)
        )

    def capture(
        self,
        booking_id: str | int,
        payment_intent_id: str,
        amount: int,
        *,
        attempt: int = 1,
        kind: str = "booking",
    ) -> Payment:
        """Capture amount (at most the hold; the caller decides) and release the rest."""
        params = {"amount_to_capture": require_amount(amount, "amount_to_capture")}
        key = idempotency_key(kind, booking_id, "capture", *_attempt(attempt))
        return Payment.from_stripe(
            self._post(
                self._stripe.v1.payment_intents.capture, payment_intent_id, params=params, key=key
            )
        )

    def cancel_authorisation(
        self, booking_id: str | int, payment_intent_id: str, *, kind: str = "booking"
    ) -> Payment:
        """Release the hold of an uncaptured PaymentIntent."""
        key = idempotency_key(kind, booking_id, "cancel")
        # No cancellation_reason: localstripe refuses any parameter it does not model.
        return Payment.from_stripe(
            self._post(
                self._stripe.v1.payment_intents.cancel, payment_intent_id, params={}, key=key
            )
        )

    def refund(
        self,
        booking_id: str | int,
        payment_intent_id: str,
        *,
        reason_ref: str,
        amount: int | None = None,
    ) -> Refund:
        """Refund amount (all if None) of a captured payment; reason_ref names this refund."""
        params: dict[str, Any] = {
            "payment_intent": payment_intent_id,
            "metadata": _metadata(booking_id=booking_id, reason=reason_ref),
        }
        if amount is not None:
            params["amount"] = require_amount(amount)
        key = idempotency_key("booking", booking_id, "refund", reason_ref)
        return Refund.from_stripe(
            self._post(self._stripe.v1.refunds.create, params=params, key=key)
        )

    def charge_difference(
        self,
        booking_id: str | int,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: int,
        currency: str,
        attempt: int = 1,
        kind: str = "booking",
    ) -> Payment:
        """Charge the part of the final price above the hold, as a second, captured payment."""
        params = self._intent_params(
            booking_id, customer_id, payment_method_id, amount, currency, kind
        )
        params["capture_method"] = "automatic"
        params["off_session"] = True
        key = idempotency_key(kind, booking_id, "charge_difference", *_attempt(attempt))
        return self._confirmed(
            self._post(self._stripe.v1.payment_intents.create, params=params, key=key)
        )

    def retrieve_payment(self, payment_intent_id: str) -> Payment:
        """Return the current state of a PaymentIntent (for jobs that reconcile)."""
        return Payment.from_stripe(
            self._get(self._stripe.v1.payment_intents.retrieve, payment_intent_id)
        )

    def _intent_params(
        self,
        booking_id: str | int,
        customer_id: str,
        payment_method_id: str,
        amount: int,
        currency: str,
        kind: str = "booking",
    ) -> dict[str, Any]:
        """Return the PaymentIntent parameters shared by the hold and the difference charge."""
        return {
            "amount": require_amount(amount),
            "currency": require_currency(currency),
            "customer": customer_id,
            "payment_method": payment_method_id,
            # Cards only: no redirect-based methods, so no return_url is needed to confirm.
            "payment_method_types": ["card"],
            "confirm": True,
            "metadata": _metadata(**{f"{kind}_id": booking_id}),
        }

    @staticmethod
    def _confirmed(data: dict[str, Any]) -> Payment:
        """Return the payment, or raise if the bank asks for the driver (3-D Secure)."""
        payment = Payment.from_stripe(data)
        if payment.status == "requires_action":
            raise AuthenticationRequired(
                "The bank asks the driver to authenticate this payment",
                payment_intent_id=payment.id,
                code="authentication_required",
            )
        return payment

    # Owners (Connect Express)

    def create_owner_account(
        self, owner_id: str | int, *, email: str, country: str
    ) -> ConnectAccount:
        """Create the owner's Express account, able to receive transfers."""
        params = {
            "type": "express",
            "country": country.upper(),
            "email": email,
            # Only transfers: the platform is the merchant of record (separate charges
            # and transfers), so owners need not pass card-acceptance checks.
            "capabilities": {"transfers": {"requested": True}},
            "metadata": _metadata(owner_id=owner_id),
        }
        key = idempotency_key("owner", owner_id, "create_account")
        return ConnectAccount.from_stripe(
            self._post(self._stripe.v1.accounts.create, params=params, key=key)
        )

    def create_onboarding_link(
        self, account_id: str, *, refresh_url: str, return_url: str
    ) -> OnboardingLink:
        """Create a single-use onboarding URL for the owner; never log it, it is a bearer secret."""
        params = {
            "account": account_id,
            "type": "account_onboarding",
            "refresh_url": refresh_url,
            "return_url": return_url,
        }
        # Links expire after minutes: a fixed key would replay a dead link for 24 hours.
        key = idempotency_key("account", account_id, "onboarding_link", secrets.token_hex(8))
        return OnboardingLink.from_stripe(
            self._post(self._stripe.v1.account_links.create, params=params, key=key)
        )

    def retrieve_account(self, account_id: str) -> ConnectAccount:
        """Return the owner's account state (charges, payouts, details submitted)."""
        return ConnectAccount.from_stripe(self._get(self._stripe.v1.accounts.retrieve, account_id))

    def transfer_to_owner(
        self,
        booking_id: str | int,
        *,
        account_id: str,
        amount: int,
        currency: str,
        source_charge_id: str,
    ) -> Transfer:
        """Transfer the owner's share of one charge of the booking to their account."""
        params = {
            "amount": require_amount(amount),
            "currency": require_currency(currency),
            "destination": account_id,
            # Ties the transfer to the charge's funds, so it waits for them to settle.
            "source_transaction": source_charge_id,
            "transfer_group": transfer_group(booking_id),
            "metadata": _metadata(booking_id=booking_id),
        }
        key = idempotency_key("booking", booking_id, "transfer", source_charge_id)
        return Transfer.from_stripe(
            self._post(self._stripe.v1.transfers.create, params=params, key=key)
        )

    def reverse_transfer(
        self, booking_id: str | int, transfer_id: str, *, reason_ref: str, amount: int | None = None
    ) -> TransferReversal:
        """Pull back amount (all if None) of a transfer, after a refund named by reason_ref."""
        params: dict[str, Any] = {"metadata": _metadata(booking_id=booking_id, reason=reason_ref)}
        if amount is not None:
            params["amount"] = require_amount(amount)
        key = idempotency_key("booking", booking_id, "reverse_transfer", transfer_id, reason_ref)
        data = self._post(
            self._stripe.v1.transfers.reversals.create, transfer_id, params=params, key=key
        )
        return TransferReversal.from_stripe(data)
