"""Read-only selects of the payments domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from app.bookings.enums import BookingStatus
from app.bookings.models import Booking
from app.extensions import db
from app.inventory.models import Location
from app.payments.models import (
    BookingPayment,
    LedgerEntry,
    OwnerAccount,
    PaymentState,
    RoamingCharge,
    RoamingState,
    StripeCustomer,
)


def payment_of(booking_id: int, *, for_update: bool = False) -> BookingPayment | None:
    """Return the booking's payment row."""
    statement = select(BookingPayment).where(BookingPayment.booking_id == booking_id)
    if for_update:
        # Re-read the row: a value loaded earlier in this session may be stale by now.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(statement).one_or_none()


def payment_by_intent(payment_intent_id: str) -> BookingPayment | None:
    """Return the payment whose hold or extra charge is this PaymentIntent, locked.

    Locked because a webhook often arrives while the service that caused it still holds
    the row: reading before that commits would act on a stale state.
    """
    statement = select(BookingPayment).where(
        (BookingPayment.payment_intent_id == payment_intent_id)
        | (BookingPayment.extra_payment_intent_id == payment_intent_id)
    )
    return db.session.scalars(
        statement.with_for_update().execution_options(populate_existing=True)
    ).first()


def payment_by_charge(charge_id: str) -> BookingPayment | None:
    """Return the payment that made this charge, locked (see payment_by_intent)."""
    statement = select(BookingPayment).where(
        (BookingPayment.charge_id == charge_id) | (BookingPayment.extra_charge_id == charge_id)
    )
    return db.session.scalars(
        statement.with_for_update().execution_options(populate_existing=True)
    ).first()


def owner_account(user_id: int) -> OwnerAccount | None:
    """Return the owner's Connect account record."""
    statement = select(OwnerAccount).where(OwnerAccount.user_id == user_id)
    return db.session.scalars(statement).one_or_none()


def owner_account_by_stripe_id(account_id: str) -> OwnerAccount | None:
    """Return the owner account with this Stripe id."""
    statement = select(OwnerAccount).where(OwnerAccount.account_id == account_id)
    return db.session.scalars(statement).one_or_none()


def holds_due(until: datetime) -> list[int]:
    """Return booking ids whose card hold is still to be placed and whose start is near."""
    statement = (
        select(Booking.id)
        .join(BookingPayment, BookingPayment.booking_id == Booking.id)
        .where(
            Booking.status.in_([BookingStatus.REQUESTED, BookingStatus.CONFIRMED]),
            BookingPayment.state.in_([PaymentState.SCHEDULED, PaymentState.AUTH_FAILED]),
            Booking.starts_at <= until,
        )
    )
    return list(db.session.scalars(statement))


def settlements_to_retry(max_attempts: int) -> list[int]:
    """Return booking ids whose capture or release failed and may be tried again."""
    statement = select(BookingPayment.booking_id).where(
        BookingPayment.state == PaymentState.CAPTURE_FAILED,
        BookingPayment.capture_attempts < max_attempts,
    )
    return list(db.session.scalars(statement))


def payouts_due(ended_before: datetime) -> list[int]:
    """Return captured, untransferred bookings that ended before the problem window closed."""
    statement = (
        select(Booking.id)
        .join(BookingPayment, BookingPayment.booking_id == Booking.id)
        .where(
            BookingPayment.state == PaymentState.CAPTURED,
            BookingPayment.transfer_id.is_(None),
            BookingPayment.disputed.is_(False),
            Booking.ends_at <= ended_before,
        )
    )
    return list(db.session.scalars(statement))


def ledger_of(booking_id: int) -> list[LedgerEntry]:
    """Return the booking's ledger rows, oldest first."""
    statement = (
        select(LedgerEntry).where(LedgerEntry.booking_id == booking_id).order_by(LedgerEntry.id)
    )
    return list(db.session.scalars(statement))


def owner_earnings(owner_id: int) -> list[tuple[str, int, int]]:
    """(currency, earned, paid out) of the owner's listings: captured less refunds and fees."""
    earned = func.sum(
        BookingPayment.captured_minor - BookingPayment.refunded_minor - BookingPayment.fee_minor
    )
    statement = (
        select(BookingPayment.currency, earned, func.sum(BookingPayment.transferred_minor))
        .join(Booking, Booking.id == BookingPayment.booking_id)
        .join(Location, Location.id == Booking.location_id)
        .where(Location.owner_id == owner_id, BookingPayment.captured_minor > 0)
        .group_by(BookingPayment.currency)
        .order_by(BookingPayment.currency)
    )
    return [
        (currency, int(e or 0), int(p or 0)) for currency, e, p in db.session.execute(statement)
    ]


def has_usable_card(driver_id: int) -> bool:
    """Tell whether the driver saved a card we can charge."""
    query = select(StripeCustomer.id).where(
        StripeCustomer.user_id == driver_id, StripeCustomer.payment_method_id.is_not(None)
    )
    return db.session.scalars(query).first() is not None


def unpaid_roaming_charges(driver_id: int) -> list[RoamingCharge]:
    """Return the driver's roaming charges whose capture failed (they block new starts)."""
    query = select(RoamingCharge).where(
        RoamingCharge.driver_id == driver_id,
        RoamingCharge.state == RoamingState.CAPTURE_FAILED.value,
    )
    return list(db.session.scalars(query))


def owner_shares(owner_id: int) -> list[tuple[Booking, int, int, str]]:
    """(booking, owner's share, paid out, currency) per captured booking, newest first.

    The share is what was captured less refunds and the platform fee.
    """
    share = BookingPayment.captured_minor - BookingPayment.refunded_minor - BookingPayment.fee_minor
    statement = (
        select(Booking, share, BookingPayment.transferred_minor, BookingPayment.currency)
        .join(BookingPayment, BookingPayment.booking_id == Booking.id)
        .join(Location, Location.id == Booking.location_id)
        .where(Location.owner_id == owner_id, BookingPayment.captured_minor > 0)
        .order_by(Booking.ends_at.desc())
    )
    return [(b, int(s or 0), int(p or 0), c) for b, s, p, c in db.session.execute(statement)]
