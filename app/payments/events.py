"""Stripe webhook handling: verify, record the event id once, apply it; no Stripe calls here."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.payments import queries
from app.payments.models import LedgerEntry, LedgerKind, PaymentState, StripeEvent
from app.payments.services import sync_owner_account
from app.payments.stripe_objects import ConnectAccount
from app.payments.webhooks import WebhookEvent, verify_event

SETTLED = (PaymentState.CAPTURED, PaymentState.REFUNDED)


def process_webhook(payload: bytes, signature: str | None) -> str:
    """Verify a webhook on its raw body and apply it once; return processed or duplicate."""
    event = verify_event(payload, signature, current_app.config["STRIPE_WEBHOOK_SECRET"])
    db.session.add(StripeEvent(event_id=event.id, type=event.type))
    try:
        db.session.flush()
        handler = HANDLERS.get(event.type)
        if handler is not None:
            handler(event)
        db.session.commit()
    except IntegrityError:
        # The unique event_id: Stripe delivered this event before (or concurrently).
        db.session.rollback()
        return "duplicate"
    return "processed"


def _ledger(payment, kind: LedgerKind, amount: int, ref: str | None) -> None:
    db.session.add(
        LedgerEntry(
            booking_id=payment.booking_id,
            kind=kind,
            amount_minor=amount,
            currency=payment.currency,
            stripe_ref=ref,
        )
    )


def _capturable(event: WebhookEvent) -> None:
    """A hold was placed (also when the driver confirmed in the browser)."""
    payment = queries.payment_by_intent(event.object_id or "")
    if payment is None or payment.state not in (
        PaymentState.NONE,
        PaymentState.SCHEDULED,
        PaymentState.AUTH_FAILED,
    ):
        return
    amount = int(event.data.get("amount_capturable") or event.data.get("amount") or 0)
    payment.state = PaymentState.AUTHORISED
    payment.authorised_minor = amount
    _ledger(payment, LedgerKind.AUTHORISED, amount, event.object_id)


def _succeeded(event: WebhookEvent) -> None:
    """A capture we recorded as failed went through after all: stop retrying it."""
    payment = queries.payment_by_intent(event.object_id or "")
    if payment is None or payment.state != PaymentState.CAPTURE_FAILED:
        return
    if event.object_id == payment.payment_intent_id and payment.captured_minor == 0:
        received = int(event.data.get("amount_received") or payment.to_capture_minor or 0)
        payment.captured_minor = min(received, payment.authorised_minor)
        _ledger(payment, LedgerKind.CAPTURED, payment.captured_minor, event.object_id)


def _failed(event: WebhookEvent) -> None:
    """An authorisation or off-session charge failed."""
    payment = queries.payment_by_intent(event.object_id or "")
    if payment is None or payment.state in SETTLED:
        return
    error = event.data.get("last_payment_error") or {}
    payment.last_error = f"payment_failed: {error.get('code') or 'unknown'}"
    if payment.state in (PaymentState.NONE, PaymentState.SCHEDULED, PaymentState.AUTHORISED):
        payment.state = PaymentState.AUTH_FAILED


def _canceled(event: WebhookEvent) -> None:
    """A hold was released (by us, or it lapsed after about seven days)."""
    payment = queries.payment_by_intent(event.object_id or "")
    if payment is None or payment.state != PaymentState.AUTHORISED:
        return
    # A lapsed hold on a booking still ahead is placed again by the authorise job.
    payment.state = PaymentState.SCHEDULED
    payment.payment_intent_id = None
    _ledger(payment, LedgerKind.RELEASED, payment.authorised_minor, event.object_id)
    payment.authorised_minor = 0


def _refunded(event: WebhookEvent) -> None:
    """Record refunds made outside PlugPool (dashboard): the ledger follows Stripe's total."""
    payment = queries.payment_by_charge(event.object_id or "")
    if payment is None:
        return
    total = int(event.data.get("amount_refunded") or 0)
    if total > payment.refunded_minor:
        _ledger(payment, LedgerKind.REFUNDED, total - payment.refunded_minor, event.object_id)
        payment.refunded_minor = total


def _disputed(event: WebhookEvent) -> None:
    """A chargeback: hold the owner's payout until an operator settles it."""
    charge_id = event.data.get("charge")
    payment = queries.payment_by_charge(charge_id if isinstance(charge_id, str) else "")
    if payment is None:
        return
    payment.disputed = True
    _ledger(payment, LedgerKind.DISPUTED, int(event.data.get("amount") or 0), event.object_id)


def _account_updated(event: WebhookEvent) -> None:
    sync_owner_account(ConnectAccount.from_stripe(event.data))


HANDLERS: dict[str, Callable[[WebhookEvent], None]] = {
    "payment_intent.amount_capturable_updated": _capturable,
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "payment_intent.canceled": _canceled,
    "charge.refunded": _refunded,
    "charge.dispute.created": _disputed,
    "account.updated": _account_updated,
}
