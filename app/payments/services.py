"""Payment use cases: saved cards, booking holds and captures, refunds, owner payouts.

Every Stripe POST goes through StripeGateway, which derives the idempotency key from the
booking and the operation. Stripe calls happen outside database transactions; the row
that decides what to do is committed first, so a crash between the two is retried by a
job with the same key instead of charging twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User
from app.bookings.errors import PaymentRequired, PaymentUnavailable
from app.bookings.models import Booking
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.core.outbox import emit
from app.extensions import db
from app.inventory.events import LOCATION_CHANGED
from app.inventory.models import Location
from app.payments import queries
from app.payments.errors import (
    CardDeclined,
    PaymentError,
    PaymentProviderUnavailable,
    PaymentsOff,
)
from app.payments.models import (
    BookingPayment,
    LedgerEntry,
    LedgerKind,
    OwnerAccount,
    PaymentState,
    StripeCustomer,
)
from app.payments.stripe_gateway import StripeGateway
from app.payments.stripe_objects import (
    CardSetup,
    ConnectAccount,
    OnboardingLink,
    Payment,
    SavedCard,
)

log = logging.getLogger(__name__)


def gateway() -> StripeGateway:
    """Return the app's Stripe gateway, built once per configuration."""
    config = current_app.config
    if not config.get("STRIPE_SECRET_KEY"):
        raise PaymentsOff("Payments are off on this server (no Stripe key is set)")
    key = (config.get("STRIPE_SECRET_KEY"), config.get("STRIPE_API_BASE"))
    cache = current_app.extensions.setdefault("stripe_gateways", {})
    if key not in cache:
        cache[key] = StripeGateway.from_config(config)
    return cache[key]


def _ledger(booking_id: int, kind: LedgerKind, amount: int, currency: str, ref: str | None) -> None:
    db.session.add(
        LedgerEntry(
            booking_id=booking_id, kind=kind, amount_minor=amount, currency=currency, stripe_ref=ref
        )
    )


def _stripe_failure(error: PaymentError) -> Exception:
    """Return the domain error a driver sees for a failed Stripe call."""
    if isinstance(error, CardDeclined):
        return PaymentRequired(error.message, code=error.code or "card_declined")
    if isinstance(error, PaymentProviderUnavailable | PaymentsOff):
        return PaymentUnavailable(error.message)
    return PaymentRequired(error.message, code=error.code or "payment_failed")


def save_card(user: User, payment_method_id: str) -> StripeCustomer:
    """Create the driver's Stripe Customer if needed and save the card for bookings."""
    customer = _customer_of(user.id)
    try:
        if customer is None:
            customer_id = gateway().create_customer(user.id, email=user.email, name=user.name)
            customer = StripeCustomer(user_id=user.id, customer_id=customer_id)
            db.session.add(customer)
        card = gateway().attach_payment_method(payment_method_id, customer.customer_id)
    except PaymentError as error:
        db.session.rollback()
        raise _stripe_failure(error) from error
    customer.payment_method_id = card.id
    db.session.commit()
    return customer


def start_card_setup(user: User) -> CardSetup:
    """Create the driver's Customer if needed and a SetupIntent the app confirms with Stripe.js."""
    customer = _customer_of(user.id)
    try:
        if customer is None:
            customer_id = gateway().create_customer(user.id, email=user.email, name=user.name)
            customer = StripeCustomer(user_id=user.id, customer_id=customer_id)
            db.session.add(customer)
            db.session.commit()
        return gateway().start_card_setup(user.id, customer.customer_id)
    except PaymentError as error:
        db.session.rollback()
        raise _stripe_failure(error) from error


def saved_cards(user: User) -> list[SavedCard]:
    """The driver's saved cards, the one bookings use first."""
    customer = _customer_of(user.id)
    if customer is None:
        return []
    try:
        cards = gateway().list_cards(customer.customer_id)
    except PaymentError as error:
        raise _stripe_failure(error) from error
    return sorted(cards, key=lambda card: card.id != customer.payment_method_id)


def remove_card(user: User, payment_method_id: str) -> None:
    """Remove one of the driver's saved cards; bookings then use another saved card, if any."""
    customer = _customer_of(user.id)
    cards = saved_cards(user)
    if customer is None or payment_method_id not in {card.id for card in cards}:
        raise NotFound("no such saved card")
    try:
        gateway().detach_payment_method(payment_method_id)
    except PaymentError as error:
        raise _stripe_failure(error) from error
    if customer.payment_method_id == payment_method_id:
        others = [card.id for card in cards if card.id != payment_method_id]
        customer.payment_method_id = others[0] if others else None
    db.session.commit()


def _customer_of(user_id: int) -> StripeCustomer | None:
    statement = select(StripeCustomer).where(StripeCustomer.user_id == user_id)
    return db.session.scalars(statement).one_or_none()


def card_of(driver_id: int) -> StripeCustomer:
    """Return the driver's customer with a saved card, or raise PaymentRequired."""
    customer = _customer_of(driver_id)
    if customer is None or not customer.payment_method_id:
        raise PaymentRequired("save a card before booking", code="no_card")
    return customer


def open_payment(booking: Booking) -> BookingPayment:
    """Add the payment row of a new booking (committed with the booking)."""
    payment = BookingPayment(booking=booking, currency=booking.currency)
    db.session.add(payment)
    return payment


def mark_paid_elsewhere(booking: Booking) -> None:
    """Record that a roaming partner pays the booking through its CDR: Stripe is never asked.

    The payment row is closed (nothing held, nothing to capture or release), so settling the
    booking later, a no-show fee included, leaves the partner's account alone. No commit.
    """
    payment = _payment(booking.id)
    payment.state = PaymentState.RELEASED
    payment.last_error = None


def place_hold(booking: Booking, card: StripeCustomer) -> Payment:
    """Authorise the booking's quote on the driver's card (manual capture); no DB write."""
    attempt = _payment(booking.id).auth_attempts + 1
    try:
        return gateway().authorise(
            booking.id,
            customer_id=card.customer_id,
            payment_method_id=card.payment_method_id or "",
            amount=booking.amount_minor,
            currency=booking.currency,
            attempt=attempt,
        )
    except PaymentError as error:
        raise _stripe_failure(error) from error


def record_declined(booking_id: int, error: PaymentRequired) -> None:
    """Count a declined authorisation, so the next one is a new attempt (new key)."""
    payment = _payment(booking_id, for_update=True)
    payment.auth_attempts += 1
    payment.last_error = f"declined: {error.extra.get('code', 'card_declined')}"
    db.session.commit()


def record_hold(booking: Booking, hold: Payment | None) -> None:
    """Record a placed hold, or that the hold is scheduled for later (no commit)."""
    payment = _payment(booking.id)
    if hold is None:
        payment.state = PaymentState.SCHEDULED
        return
    payment.state = PaymentState.AUTHORISED
    payment.auth_attempts += 1
    payment.payment_intent_id = hold.id
    payment.charge_id = hold.charge_id
    payment.authorised_minor = hold.amount
    _ledger(booking.id, LedgerKind.AUTHORISED, hold.amount, booking.currency, hold.id)


def release_orphan_hold(booking_id: int, payment_intent_id: str) -> None:
    """Cancel a hold whose booking could not be recorded, so no money stays blocked."""
    try:
        gateway().cancel_authorisation(booking_id, payment_intent_id)
    except PaymentError:
        # Holds lapse by themselves within days; log so an operator can release it sooner.
        log.exception("could not release hold %s of booking %s", payment_intent_id, booking_id)


def _payment(booking_id: int, *, for_update: bool = False) -> BookingPayment:
    payment = queries.payment_of(booking_id, for_update=for_update)
    if payment is None:
        raise NotFound(f"no payment for booking {booking_id}")
    return payment


def set_amount_due(booking: Booking, amount: int) -> None:
    """Record what the driver owes for the booking in the end (no commit)."""
    _payment(booking.id).to_capture_minor = amount


def authorise_booking(booking_id: int) -> BookingPayment:
    """Place the scheduled hold of a booking whose start is near (job)."""
    booking = db.session.get(Booking, booking_id)
    payment = _payment(booking_id)
    if payment.state not in (PaymentState.SCHEDULED, PaymentState.AUTH_FAILED):
        return payment
    card = card_of(booking.driver_id)
    try:
        hold = place_hold(booking, card)
    except PaymentUnavailable as error:
        payment.last_error = error.detail
        db.session.commit()
        return payment
    except PaymentRequired as error:
        payment.state = PaymentState.AUTH_FAILED
        db.session.commit()
        record_declined(booking_id, error)
        return payment
    payment = _payment(booking_id, for_update=True)
    record_hold(booking, hold)
    db.session.commit()
    return payment


def settle_payment(booking_id: int) -> BookingPayment:
    """Capture what is due (release the rest), or release the hold when nothing is due.

    Failures leave state capture_failed with the amount due kept, for retry_settlements.
    """
    payment = _payment(booking_id, for_update=True)
    if payment.state in (PaymentState.CAPTURED, PaymentState.RELEASED, PaymentState.REFUNDED):
        db.session.commit()
        return payment
    due = payment.to_capture_minor or 0
    try:
        if due == 0:
            _release(payment)
        else:
            _capture(payment, due)
    except PaymentError as error:
        payment.state = PaymentState.CAPTURE_FAILED
        payment.capture_attempts += 1
        payment.last_error = f"{type(error).__name__}: {error.code or error.message}"
    db.session.commit()
    return payment


def _release(payment: BookingPayment) -> None:
    if payment.payment_intent_id and payment.captured_minor == 0:
        gateway().cancel_authorisation(payment.booking_id, payment.payment_intent_id)
        _ledger(
            payment.booking_id,
            LedgerKind.RELEASED,
            payment.authorised_minor,
            payment.currency,
            payment.payment_intent_id,
        )
    payment.state = PaymentState.RELEASED


def _capture(payment: BookingPayment, due: int) -> None:
    """Capture up to the hold, charge any rest separately, and book the platform fee."""
    if payment.payment_intent_id and payment.captured_minor == 0:
        amount = min(due, payment.authorised_minor)
        captured = gateway().capture(payment.booking_id, payment.payment_intent_id, amount)
        payment.captured_minor = amount
        payment.charge_id = captured.charge_id or payment.charge_id
        _ledger(payment.booking_id, LedgerKind.CAPTURED, amount, payment.currency, captured.id)
        # Keep the capture even if the extra charge below fails: a retry must not redo it.
        db.session.flush()
    rest = due - payment.captured_minor
    if rest > 0 and payment.extra_payment_intent_id is None:
        _charge_rest(payment, rest)
    payment.fee_minor = platform_fee(payment.captured_minor)
    _ledger(payment.booking_id, LedgerKind.FEE, payment.fee_minor, payment.currency, None)
    payment.state = PaymentState.CAPTURED
    payment.last_error = None


def _charge_rest(payment: BookingPayment, rest: int) -> None:
    booking = db.session.get(Booking, payment.booking_id)
    card = card_of(booking.driver_id)
    extra = gateway().charge_difference(
        payment.booking_id,
        customer_id=card.customer_id,
        payment_method_id=card.payment_method_id or "",
        amount=rest,
        currency=payment.currency,
    )
    payment.extra_payment_intent_id = extra.id
    payment.extra_charge_id = extra.charge_id
    payment.captured_minor += rest
    _ledger(payment.booking_id, LedgerKind.CAPTURED, rest, payment.currency, extra.id)


def platform_fee(amount_minor: int) -> int:
    """Return the platform's part of an amount (PLATFORM_FEE_PERCENT), rounded half up."""
    percent = Decimal(str(current_app.config["PLATFORM_FEE_PERCENT"]))
    return int((Decimal(amount_minor) * percent / 100).to_integral_value("ROUND_HALF_UP"))


def refund_booking(booking_id: int, amount: int, *, reason_ref: str) -> BookingPayment:
    """Refund part of a captured booking and pull the owner's share back if already paid."""
    payment = _payment(booking_id, for_update=True)
    refundable = payment.captured_minor - payment.refunded_minor
    if payment.state not in (PaymentState.CAPTURED, PaymentState.REFUNDED) or amount > refundable:
        raise Conflict(f"at most {max(refundable, 0)} can be refunded", refundable=refundable)
    intent = payment.payment_intent_id or payment.extra_payment_intent_id or ""
    try:
        refund = gateway().refund(booking_id, intent, reason_ref=reason_ref, amount=amount)
        _ledger(booking_id, LedgerKind.REFUNDED, amount, payment.currency, refund.id)
        payment.refunded_minor += amount
        if payment.transfer_id:
            _reverse_share(payment, amount, reason_ref)
    except PaymentError as error:
        db.session.rollback()
        raise _stripe_failure(error) from error
    if payment.refunded_minor == payment.captured_minor:
        payment.state = PaymentState.REFUNDED
    db.session.commit()
    return payment


def _reverse_share(payment: BookingPayment, refunded: int, reason_ref: str) -> None:
    share = min(refunded - platform_fee(refunded), payment.transferred_minor)
    if share <= 0:
        return
    reversal = gateway().reverse_transfer(
        payment.booking_id, payment.transfer_id or "", reason_ref=reason_ref, amount=share
    )
    payment.transferred_minor -= share
    _ledger(payment.booking_id, LedgerKind.REVERSED, share, payment.currency, reversal.id)


def pay_out_booking(booking_id: int) -> BookingPayment | None:
    """Transfer the owner's share (captured minus refunds minus fee) once nothing holds it."""
    from app.bookings.queries import has_open_problem

    payment = _payment(booking_id, for_update=True)
    booking = db.session.get(Booking, booking_id)
    account = queries.owner_account(booking.location.owner_id or 0)
    share = payment.captured_minor - payment.refunded_minor - payment.fee_minor
    blocked = (
        payment.state != PaymentState.CAPTURED
        or payment.transfer_id is not None
        or payment.disputed
        or has_open_problem(booking_id)
        or account is None
        or not account.payable
    )
    if blocked or share <= 0:
        db.session.commit()
        return None
    transfer = gateway().transfer_to_owner(
        booking_id,
        account_id=account.account_id,
        amount=share,
        currency=payment.currency,
        source_charge_id=payment.charge_id or "",
    )
    payment.transfer_id = transfer.id
    payment.transferred_minor = share
    _ledger(booking_id, LedgerKind.TRANSFERRED, share, payment.currency, transfer.id)
    db.session.commit()
    return payment


def onboard_owner(
    owner: User, *, country: str, refresh_url: str, return_url: str
) -> OnboardingLink:
    """Create the owner's Connect Express account if needed and return an onboarding link."""
    account = queries.owner_account(owner.id)
    try:
        if account is None:
            created = gateway().create_owner_account(owner.id, email=owner.email, country=country)
            account = OwnerAccount(user_id=owner.id, account_id=created.id)
            _apply_account_state(account, created)
            db.session.add(account)
            db.session.commit()
        return gateway().create_onboarding_link(
            account.account_id, refresh_url=refresh_url, return_url=return_url
        )
    except PaymentError as error:
        db.session.rollback()
        raise _stripe_failure(error) from error


def refresh_owner_account(owner: User) -> OwnerAccount | None:
    """Read the owner's account state from Stripe (back from onboarding) and keep it."""
    account = queries.owner_account(owner.id)
    if account is None:
        return None
    try:
        state = gateway().retrieve_account(account.account_id)
    except PaymentError as error:
        raise _stripe_failure(error) from error
    sync_owner_account(state)
    db.session.commit()
    return account


def _apply_account_state(account: OwnerAccount, state: ConnectAccount) -> None:
    account.charges_enabled = state.charges_enabled
    account.payouts_enabled = state.payouts_enabled
    account.details_submitted = state.details_submitted
    account.payable = state.can_receive_transfers


def sync_owner_account(state: ConnectAccount) -> OwnerAccount | None:
    """Apply an account.updated state; an owner who cannot be paid loses published listings."""
    account = queries.owner_account_by_stripe_id(state.id)
    if account is None:
        return None
    _apply_account_state(account, state)
    if not account.payable:
        _unpublish_listings_of(account.user_id)
    return account


def _unpublish_listings_of(owner_id: int) -> None:
    """Take an unpayable owner's listings off; partners hear it through the outbox."""
    now = utcnow()
    listings = db.session.scalars(
        select(Location).where(Location.owner_id == owner_id, Location.publish.is_(True))
    )
    for location in listings:
        location.publish = False
        location.last_updated = now
        # The same shape as the inventory's own location events (app/inventory/services.py).
        emit(
            db.session,
            LOCATION_CHANGED,
            "location",
            location.ocpi_id,
            {
                "country_code": location.country_code,
                "party_id": location.party_id,
                "location_id": location.ocpi_id,
                "pk": location.id,
                "change": "unpublished",
                "publish": False,
            },
        )


def publish_listing(owner: User, location_id: int) -> Location:
    """Publish the owner's listing; paid listings need a Connect account that can be paid."""
    location = db.session.get(Location, location_id)
    if location is None or location.owner_id != owner.id:
        raise NotFound(f"listing {location_id} not found")
    account = queries.owner_account(owner.id)
    if account is None or not account.payable:
        raise Conflict("finish payout onboarding before publishing", reason="owner_not_payable")
    location.publish = True
    db.session.commit()
    return location


def authorise_upcoming() -> list[int]:
    """Place the card holds of bookings that start within the authorisation window (job)."""
    ahead = timedelta(days=int(current_app.config["BOOKING_AUTHORISE_AHEAD_DAYS"]))
    ids = queries.holds_due(utcnow() + ahead)
    for booking_id in ids:
        authorise_booking(booking_id)
    return ids


def retry_settlements() -> list[int]:
    """Retry captures and releases that failed, with the same idempotency keys (job)."""
    ids = queries.settlements_to_retry(int(current_app.config["BOOKING_MAX_CAPTURE_ATTEMPTS"]))
    for booking_id in ids:
        settle_payment(booking_id)
    return ids


def pay_out_due() -> list[int]:
    """Transfer owners' shares once the problem-report window has passed (job)."""
    window = timedelta(hours=int(current_app.config["BOOKING_PROBLEM_WINDOW_HOURS"]))
    paid = []
    for booking_id in queries.payouts_due(utcnow() - window):
        try:
            if pay_out_booking(booking_id) is not None:
                paid.append(booking_id)
        except PaymentError:
            db.session.rollback()
            log.warning("payout of booking %s failed; retried on the next run", booking_id)
    return paid
