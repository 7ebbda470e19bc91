"""Small typed views of the Stripe objects the rest of PlugPool needs, built from plain dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def object_id(value: Any) -> str | None:
    """Return the id of a field that Stripe sends either as an id or as an expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value


@dataclass(frozen=True)
class Payment:
    """A PaymentIntent: an authorisation hold, or a charge captured at once."""

    id: str
    status: str
    amount: int
    currency: str
    charge_id: str | None
    # Real Stripe reports these; localstripe 1.15.10 does not, hence None.
    amount_capturable: int | None = None
    amount_received: int | None = None

    @property
    def requires_capture(self) -> bool:
        """Tell whether the hold is placed and waits for a capture."""
        return self.status == "requires_capture"

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> Payment:
        """Build from a PaymentIntent dict."""
        return cls(
            id=data["id"],
            status=data["status"],
            amount=data["amount"],
            currency=data["currency"],
            charge_id=object_id(data.get("latest_charge")),
            amount_capturable=data.get("amount_capturable"),
            amount_received=data.get("amount_received"),
        )


@dataclass(frozen=True)
class Refund:
    """A refund of all or part of a captured payment."""

    id: str
    amount: int
    currency: str
    status: str
    payment_intent_id: str | None
    charge_id: str | None

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> Refund:
        """Build from a Refund dict."""
        return cls(
            id=data["id"],
            amount=data["amount"],
            currency=data["currency"],
            status=data["status"],
            payment_intent_id=object_id(data.get("payment_intent")),
            charge_id=object_id(data.get("charge")),
        )


@dataclass(frozen=True)
class CardSetup:
    """A SetupIntent that saves a driver's card for later off-session payments."""

    id: str
    status: str
    payment_method_id: str | None
    # The browser needs it to confirm with Stripe.js; it must not end up in logs.
    client_secret: str = field(repr=False)

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> CardSetup:
        """Build from a SetupIntent dict."""
        return cls(
            id=data["id"],
            status=data["status"],
            payment_method_id=object_id(data.get("payment_method")),
            client_secret=data["client_secret"],
        )


@dataclass(frozen=True)
class SavedCard:
    """A card PaymentMethod, as shown to its driver."""

    id: str
    customer_id: str | None
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> SavedCard:
        """Build from a PaymentMethod dict."""
        card = data.get("card") or {}
        return cls(
            id=data["id"],
            customer_id=object_id(data.get("customer")),
            brand=card.get("brand"),
            last4=card.get("last4"),
            exp_month=card.get("exp_month"),
            exp_year=card.get("exp_year"),
        )


@dataclass(frozen=True)
class ConnectAccount:
    """An owner's Connect Express account and what it may do yet."""

    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    transfers_capability: str | None

    @property
    def can_receive_transfers(self) -> bool:
        """Tell whether the owner's share can be transferred and paid out."""
        return (
            self.details_submitted
            and self.payouts_enabled
            and self.transfers_capability == "active"
        )

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> ConnectAccount:
        """Build from an Account dict."""
        capabilities = data.get("capabilities") or {}
        return cls(
            id=data["id"],
            charges_enabled=bool(data.get("charges_enabled")),
            payouts_enabled=bool(data.get("payouts_enabled")),
            details_submitted=bool(data.get("details_submitted")),
            transfers_capability=capabilities.get("transfers"),
        )


@dataclass(frozen=True)
class OnboardingLink:
    """A single-use Connect onboarding URL; it is a bearer secret, so repr hides it."""

    url: str = field(repr=False)
    expires_at: int

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> OnboardingLink:
        """Build from an AccountLink dict."""
        return cls(url=data["url"], expires_at=data["expires_at"])


@dataclass(frozen=True)
class Transfer:
    """Money moved from the platform balance to an owner's Connect account."""

    id: str
    amount: int
    currency: str
    destination: str
    amount_reversed: int
    source_transaction: str | None
    transfer_group: str | None

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> Transfer:
        """Build from a Transfer dict."""
        return cls(
            id=data["id"],
            amount=data["amount"],
            currency=data["currency"],
            destination=object_id(data["destination"]) or "",
            amount_reversed=data.get("amount_reversed", 0),
            source_transaction=object_id(data.get("source_transaction")),
            transfer_group=data.get("transfer_group"),
        )


@dataclass(frozen=True)
class TransferReversal:
    """Money pulled back from an owner's account, after a refund."""

    id: str
    amount: int
    currency: str
    transfer_id: str

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> TransferReversal:
        """Build from a TransferReversal dict."""
        return cls(
            id=data["id"],
            amount=data["amount"],
            currency=data["currency"],
            transfer_id=object_id(data["transfer"]) or "",
        )
