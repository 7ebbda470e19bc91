"""Stripe-side records: driver customers, owner accounts, booking payments, ledger, events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.bookings.models import Booking
from app.core.clock import utcnow
from app.core.db import Base, Timestamped, UTCDateTime


class PaymentState(StrEnum):
    NONE = "none"  # nothing asked of Stripe yet (unpaid hold)
    SCHEDULED = "scheduled"  # card saved, the hold is placed by a job near the start
    AUTHORISED = "authorised"  # manual-capture PaymentIntent in requires_capture
    AUTH_FAILED = "auth_failed"
    CAPTURE_FAILED = "capture_failed"  # a job retries with the same idempotency key
    CAPTURED = "captured"
    RELEASED = "released"  # hold cancelled, nothing charged
    REFUNDED = "refunded"


class LedgerKind(StrEnum):
    AUTHORISED = "authorised"
    RELEASED = "released"
    CAPTURED = "captured"
    REFUNDED = "refunded"
    FEE = "fee"  # the platform's part of the captured amount
    TRANSFERRED = "transferred"  # the owner's part, sent to their Connect account
    REVERSED = "reversed"  # pulled back from the owner after a refund
    DISPUTED = "disputed"


class StripeCustomer(Base):
    """A driver's Stripe Customer and the card used for bookings."""

    __tablename__ = "stripe_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[str] = mapped_column(String(64), unique=True)
    payment_method_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OwnerAccount(Timestamped, Base):
    """An owner's Connect Express account and whether it can be paid yet."""

    __tablename__ = "owner_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[str] = mapped_column(String(64), unique=True)
    charges_enabled: Mapped[bool] = mapped_column(default=False)
    payouts_enabled: Mapped[bool] = mapped_column(default=False)
    details_submitted: Mapped[bool] = mapped_column(default=False)
    payable: Mapped[bool] = mapped_column(default=False)


class BookingPayment(Timestamped, Base):
    """The money side of one booking: its hold, capture, refunds and the owner's transfer."""

    __tablename__ = "booking_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16), default=PaymentState.NONE.value, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    payment_intent_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    charge_id: Mapped[str | None] = mapped_column(String(64))
    extra_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    extra_charge_id: Mapped[str | None] = mapped_column(String(64))
    authorised_minor: Mapped[int] = mapped_column(Integer, default=0)
    to_capture_minor: Mapped[int | None] = mapped_column(Integer)
    captured_minor: Mapped[int] = mapped_column(Integer, default=0)
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    fee_minor: Mapped[int] = mapped_column(Integer, default=0)
    transfer_id: Mapped[str | None] = mapped_column(String(64))
    transferred_minor: Mapped[int] = mapped_column(Integer, default=0)
    # A declined authorisation is retried under a new idempotency key (attempt + 1).
    auth_attempts: Mapped[int] = mapped_column(Integer, default=0)
    capture_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    disputed: Mapped[bool] = mapped_column(default=False)

    booking: Mapped[Booking] = relationship()


class LedgerEntry(Base):
    """One money movement of a booking, in integer minor units; rows are never changed."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    stripe_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StripeEvent(Base):
    """A webhook event id, stored once: a replayed delivery finds it and changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoamingState(StrEnum):
    PENDING = "pending"  # row written, hold not placed yet
    AUTHORISED = "authorised"  # manual-capture hold placed for the estimate
    AUTH_FAILED = "auth_failed"  # the card refused the hold: nothing was started
    DUE = "due"  # the CDR arrived: amount_due is set, capture is the job's
    CAPTURED = "captured"
    CAPTURE_FAILED = "capture_failed"  # retried by the job; blocks new starts (NO_CREDIT)
    RELEASED = "released"  # the session never started: the hold went back


class RoamingCharge(Timestamped, Base):
    """What a PlugPool driver pays for one session on a partner network (PlugPool as eMSP).

    The hold for the estimate comes before START_SESSION; the partner's CDR sets what is due:
    its total incl. VAT plus PlugPool's roaming fee. One charge, one receipt per CDR.
    """

    __tablename__ = "roaming_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    authorization_reference: Mapped[str] = mapped_column(String(36), unique=True)
    session_pk: Mapped[int | None] = mapped_column(
        ForeignKey("charging_sessions.id", ondelete="SET NULL"), unique=True
    )
    cdr_pk: Mapped[int | None] = mapped_column(
        ForeignKey("cdrs.id", ondelete="SET NULL"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16), default=RoamingState.PENDING.value, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    estimate_minor: Mapped[int] = mapped_column(Integer, default=0)
    fee_minor: Mapped[int] = mapped_column(Integer, default=0)  # PlugPool's roaming fee
    authorised_minor: Mapped[int] = mapped_column(Integer, default=0)
    cdr_cost_minor: Mapped[int | None] = mapped_column(Integer)  # the CDR's total incl. VAT
    due_minor: Mapped[int | None] = mapped_column(Integer)
    captured_minor: Mapped[int] = mapped_column(Integer, default=0)
    payment_intent_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    extra_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    capture_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
