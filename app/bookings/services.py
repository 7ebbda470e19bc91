"""Booking use cases: quote, hold, pay, accept/decline, cancel, extend, start, complete, review."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, User
from app.bookings import queries, rules
from app.bookings.enums import (
    HOLDING_STATUSES,
    POLICIES,
    BookingStatus,
    Party,
)
from app.bookings.errors import InvalidTransition, PaymentRequired, SlotTaken
from app.bookings.models import Booking, ProblemReport, Review
from app.bookings.pricing import Quote, price_window, quote_evse
from app.bookings.rules import access_visible as access_visible  # views read it from here
from app.core.clock import as_utc, utcnow
from app.core.db import DriverStatement
from app.core.errors import Forbidden, ValidationFailed
from app.core.metrics import BOOKING_OUTCOMES, count_on_commit
from app.core.outbox import emit
from app.extensions import db
from app.payments import services as payments

# First key of the two-key advisory lock on an EVSE's booking schedule.
SCHEDULE_LOCK_SPACE = 7301
_SCHEDULE_LOCK_SQL = "SELECT pg_advisory_xact_lock(%(space)s, %(evse_id)s)"


def _commit_slot() -> None:
    """Commit, turning a lost race on the slot into SlotTaken."""
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if rules.is_overlap_violation(error):
            BOOKING_OUTCOMES.labels(outcome="slot_taken").inc()
            raise SlotTaken(
                "Someone else booked this charger for that time a moment ago",
                reason="overlap",
            ) from error
        raise


def _schedule_lock(evse_id: int) -> DriverStatement | None:
    """The statement that takes an EVSE's schedule lock; None where none is needed.

    The exclusion constraint is the guard; this lock keeps two of its checks from waiting
    on each other (an insert overlapping a row whose status is being moved, pending ->
    confirmed, would wait for that update, which would wait for the insert), and lets the
    attempts that passed the first check in a rush on one slot be refused by a second
    cheap check instead of pricing and inserting first. Taken after the first check, so
    the bulk of a rush never queues for it. SQLite serialises writers by itself.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    return _SCHEDULE_LOCK_SQL, {"space": SCHEDULE_LOCK_SPACE, "evse_id": evse_id}


def _lock_schedule(evse_id: int) -> None:
    """Serialise changes to one EVSE's holding bookings until this transaction ends."""
    lock = _schedule_lock(evse_id)
    if lock is not None:
        db.session.connection().exec_driver_sql(*lock)


def _lock_and_check_again(
    evse_id: int, starts_at: datetime, ends_at: datetime, now: datetime
) -> None:
    """Take the schedule lock and check the window again under it, in one round trip.

    Whoever held the lock before us may just have taken the slot. In a rush on one slot the
    other attempts queue for the lock one by one: a refusal ends the transaction at once, so
    the next one need not wait for this one's caller to close its session.
    """
    try:
        rules.ensure_free(evse_id, starts_at, ends_at, now, under=_schedule_lock(evse_id))
    except SlotTaken:
        db.session.rollback()
        raise


def quote_booking(driver: User, evse_id: int, starts_at: datetime, ends_at: datetime) -> Quote:
    """Price a window on an EVSE after checking that it could be booked now."""
    starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
    now = utcnow()
    evse = rules.validated_evse(driver, evse_id, starts_at, ends_at, now)
    rules.ensure_free(evse.id, starts_at, ends_at, now)
    return quote_evse(evse, starts_at, ends_at)


def _expire_stale_holds_on(evse_id: int, now: datetime) -> None:
    """Turn this EVSE's timed-out holds into expired ones, so they free their slot."""
    for booking_id in queries.stale_holds(now, evse_id):
        booking = db.session.get(Booking, booking_id)
        if booking is not None:
            booking.status = BookingStatus.EXPIRED


def hold_slot(driver: User, evse_id: int, starts_at: datetime, ends_at: datetime) -> Booking:
    """Hold the slot for the driver as a pending booking until it is paid or expires."""
    now = utcnow()
    starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
    # The cheap checks first: most refusals in a rush on one slot end here, after one query.
    rules.check_window(starts_at, ends_at, now=now)
    rules.ensure_free(evse_id, starts_at, ends_at, now)
    _lock_and_check_again(evse_id, starts_at, ends_at, now)
    evse = rules.validated_evse(driver, evse_id, starts_at, ends_at, now)
    quote = quote_evse(evse, starts_at, ends_at)
    _expire_stale_holds_on(evse.id, now)
    location = evse.location
    booking = Booking(
        driver_id=driver.id,
        location_id=location.id,
        evse_id=evse.id,
        starts_at=starts_at,
        ends_at=ends_at,
        status=BookingStatus.PENDING,
        expires_at=now + timedelta(minutes=rules.setting("BOOKING_HOLD_MINUTES")),
        instant_book=location.instant_book,
        amount_minor=quote.amount_minor,
        currency=quote.currency,
        policy=POLICIES[location.cancellation_policy].snapshot(),
    )
    db.session.add(booking)
    payments.open_payment(booking)
    count_on_commit(db.session, BOOKING_OUTCOMES, "held")
    _commit_slot()
    return booking


def _expire_if_stale(booking: Booking, now: datetime) -> None:
    """Expire an unpaid hold whose time ran out, and say so."""
    if booking.status == BookingStatus.PENDING and booking.expires_at <= now:
        booking.status = BookingStatus.EXPIRED
        db.session.commit()
        raise InvalidTransition("the hold on this slot has expired", status_now="expired")


def _mark_paid(booking: Booking, now: datetime) -> None:
    """Move a paid hold on: confirmed for instant book, otherwise a request to the owner."""
    booking.expires_at = None
    if booking.instant_book:
        _confirm(booking, now)
    else:
        booking.status = BookingStatus.REQUESTED
        emit(db.session, "booking.requested", "booking", str(booking.id), {"id": booking.id})


def _confirm(booking: Booking, now: datetime) -> None:
    booking.status = BookingStatus.CONFIRMED
    booking.confirmed_at = now
    booking.access_code = f"{secrets.randbelow(10**6):06d}"
    emit(db.session, "booking.confirmed", "booking", str(booking.id), {"id": booking.id})


def _authorise_now(booking: Booking, now: datetime) -> bool:
    """Tell whether the card hold should be placed now (it would lapse before the end)."""
    ahead = timedelta(days=rules.setting("BOOKING_AUTHORISE_AHEAD_DAYS"))
    return booking.starts_at - now <= ahead


def confirm_booking(driver: User, booking_id: int) -> Booking:
    """Pay for a held slot: place the card hold now or schedule it, then confirm or request."""
    now = utcnow()
    booking = queries.get_booking(booking_id)
    rules.require_driver(booking, driver)
    rules.require_status(booking, BookingStatus.PENDING)
    _expire_if_stale(booking, now)
    card = payments.card_of(booking.driver_id)
    # The row is committed and holds the slot: only now may money be reserved.
    hold = None
    if _authorise_now(booking, now):
        try:
            hold = payments.place_hold(booking, card)
        except PaymentRequired as error:
            payments.record_declined(booking.id, error)
            raise
    try:
        _lock_schedule(booking.evse_id)
        booking = queries.get_booking(booking_id, for_update=True)
        rules.require_status(booking, BookingStatus.PENDING)
        payments.record_hold(booking, hold)
        _mark_paid(booking, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        if hold is not None:
            payments.release_orphan_hold(booking_id, hold.id)
        raise
    return booking


def book_slot(driver: User, evse_id: int, starts_at: datetime, ends_at: datetime) -> Booking:
    """Hold the slot and pay for it at once (one-tap booking with the saved card)."""
    booking = hold_slot(driver, evse_id, starts_at, ends_at)
    return confirm_booking(driver, booking.id)


def accept_booking(owner: User, booking_id: int) -> Booking:
    """Accept a booking request on the owner's listing."""
    booking = queries.get_booking(booking_id)
    rules.require_owner(booking, owner)
    _lock_schedule(booking.evse_id)
    booking = queries.get_booking(booking_id, for_update=True)
    rules.require_status(booking, BookingStatus.REQUESTED)
    _confirm(booking, utcnow())
    db.session.commit()
    return booking


def decline_booking(owner: User, booking_id: int) -> Booking:
    """Decline a booking request; the driver's hold is released in full."""
    booking = queries.get_booking(booking_id, for_update=True)
    rules.require_owner(booking, owner)
    return _decline(booking)


def decline_unanswered_requests() -> list[int]:
    """Decline requests still unanswered at their start, releasing the holds (job)."""
    ids = queries.unanswered_requests(utcnow())
    for booking_id in ids:
        _decline(queries.get_booking(booking_id, for_update=True))
    return ids


def _decline(booking: Booking) -> Booking:
    rules.require_status(booking, BookingStatus.REQUESTED)
    booking.status = BookingStatus.DECLINED
    payments.set_amount_due(booking, 0)
    emit(db.session, "booking.declined", "booking", str(booking.id), {"id": booking.id})
    db.session.commit()
    payments.settle_payment(booking.id)
    return booking


def cancel_booking(user: User, booking_id: int) -> Booking:
    """Cancel as the driver (policy fee within the cutoff) or the owner (full release)."""
    now = utcnow()
    booking = queries.get_booking(booking_id, for_update=True)
    by = Party.OWNER if booking.location.owner_id == user.id else Party.DRIVER
    if by is Party.DRIVER:
        rules.require_driver(booking, user)
    rules.require_status(
        booking, BookingStatus.PENDING, BookingStatus.REQUESTED, BookingStatus.CONFIRMED
    )
    payments.set_amount_due(booking, rules.cancellation_fee(booking, by, now))
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = by
    emit(db.session, "booking.cancelled", "booking", str(booking.id), {"id": booking.id})
    db.session.commit()
    payments.settle_payment(booking.id)
    return booking


def cancellation_terms(user: User, booking_id: int) -> tuple[Booking, int]:
    """The booking and what cancelling it now would cost the driver (to ask before cancelling)."""
    booking = queries.get_booking(booking_id)
    by = Party.OWNER if booking.location.owner_id == user.id else Party.DRIVER
    if by is Party.DRIVER:
        rules.require_driver(booking, user)
    rules.require_status(
        booking, BookingStatus.PENDING, BookingStatus.REQUESTED, BookingStatus.CONFIRMED
    )
    return booking, rules.cancellation_fee(booking, by, utcnow())


def live_charge(booking: Booking) -> dict[str, Any] | None:
    """The booking's charging so far: energy, duration and running cost (same engine)."""
    from app.charging import queries as charging_queries  # charging builds on bookings
    from app.charging.meters import owner_of, readings

    sessions = charging_queries.sessions_of_booking(booking.id)
    if not sessions:
        return None
    session = sessions[-1]
    until = session.end_date_time or utcnow()
    energy = Decimal(session.kwh or 0)
    if session.end_date_time is None and session.meter_start_wh is not None:
        # While charging, the energy is the last register sample less the start reading.
        rows = charging_queries.energy_registers(
            session.station_id, owner_of(session.transaction_id, None)
        )
        latest = readings(rows)[-1:] if rows else []
        if latest:
            energy = max(Decimal(0), (latest[0].wh - session.meter_start_wh) / 1000)
    cost = None
    if until > session.start_date_time:
        tariff = queries.tariff_of(booking.evse)
        if tariff is not None:
            cost = price_window(booking.evse, tariff, session.start_date_time, until, energy)
    return {
        "energy_kwh": energy,
        "minutes": int((until - session.start_date_time).total_seconds() // 60),
        "cost_minor": cost.amount_minor if cost else None,
        "currency": booking.currency,
        "charging": session.end_date_time is None,
        "updated_at": utcnow(),
    }


def extend_booking(driver: User, booking_id: int, ends_at: datetime) -> Booking:
    """Move the end later while the next slot is free; the price follows."""
    ends_at = as_utc(ends_at)
    _lock_schedule(queries.get_booking(booking_id).evse_id)
    booking = queries.get_booking(booking_id, for_update=True)
    rules.require_driver(booking, driver)
    rules.require_status(booking, BookingStatus.CONFIRMED, BookingStatus.ACTIVE)
    if ends_at <= booking.ends_at:
        raise ValidationFailed({"ends_at": ["an extension ends later than the booking"]})
    if ends_at - booking.starts_at > timedelta(hours=rules.setting("BOOKING_MAX_HOURS")):
        raise ValidationFailed(
            {"ends_at": [f"a booking lasts at most {rules.setting('BOOKING_MAX_HOURS')} hours"]}
        )
    now = utcnow()
    if now >= booking.ends_at:
        raise InvalidTransition("the booking has already ended", status_now=booking.status)
    rules.check_availability(booking.evse, booking.starts_at, ends_at)
    rules.ensure_free(booking.evse_id, booking.ends_at, ends_at, now, booking.id)
    quote = quote_evse(booking.evse, booking.starts_at, ends_at)
    booking.ends_at = ends_at
    booking.amount_minor = quote.amount_minor
    _commit_slot()
    return booking


def start_booking(booking_id: int) -> Booking:
    """Mark a confirmed booking active: charging has started."""
    _lock_schedule(queries.get_booking(booking_id).evse_id)
    booking = queries.get_booking(booking_id, for_update=True)
    rules.require_status(booking, BookingStatus.CONFIRMED)
    booking.status = BookingStatus.ACTIVE
    booking.started_at = utcnow()
    emit(db.session, "booking.started", "booking", str(booking.id), {"id": booking.id})
    db.session.commit()
    return booking


def complete_booking(
    booking_id: int,
    energy_kwh: Decimal | None = None,
    ended_at: datetime | None = None,
    *,
    amount_minor: int | None = None,
) -> Booking:
    """Complete an active booking and capture the price of what was used.

    `amount_minor` is the price already set by the session's CDR (charging side); without
    it the window is priced here.
    """
    booking = queries.get_booking(booking_id, for_update=True)
    rules.require_status(booking, BookingStatus.ACTIVE)
    ended_at = min(as_utc(ended_at or utcnow()), booking.ends_at)
    started_at = booking.started_at or booking.starts_at
    if amount_minor is not None:
        amount = amount_minor
    elif energy_kwh is None:
        amount = booking.amount_minor
    else:
        tariff = queries.tariff_of(booking.evse)
        amount = price_window(booking.evse, tariff, started_at, ended_at, energy_kwh).amount_minor
    booking.status = BookingStatus.COMPLETED
    booking.completed_at = utcnow()
    booking.final_amount_minor = amount
    payments.set_amount_due(booking, amount)
    emit(db.session, "booking.completed", "booking", str(booking.id), {"id": booking.id})
    db.session.commit()
    payments.settle_payment(booking.id)
    return booking


def mark_no_show(booking_id: int) -> Booking:
    """Mark a confirmed booking that never started as a no-show and charge the policy fee."""
    now = utcnow()
    booking = queries.get_booking(booking_id, for_update=True)
    rules.require_status(booking, BookingStatus.CONFIRMED)
    grace = timedelta(minutes=rules.setting("BOOKING_NO_SHOW_GRACE_MINUTES"))
    if now < booking.starts_at + grace:
        raise InvalidTransition("the grace period has not passed yet", status_now=booking.status)
    booking.status = BookingStatus.NO_SHOW
    payments.set_amount_due(
        booking, rules.percent_of(booking.amount_minor, booking.policy["fee_percent"])
    )
    emit(db.session, "booking.no_show", "booking", str(booking.id), {"id": booking.id})
    db.session.commit()
    payments.settle_payment(booking.id)
    return booking


def expire_holds() -> int:
    """Expire every unpaid hold whose time ran out; return how many."""
    ids = queries.stale_holds(utcnow())
    for booking_id in ids:
        booking = queries.get_booking(booking_id, for_update=True)
        if booking.status == BookingStatus.PENDING:
            booking.status = BookingStatus.EXPIRED
    db.session.commit()
    return len(ids)


def review_booking(user: User, booking_id: int, rating: int, text: str) -> Review:
    """Review a completed booking: the driver rates the charger, the owner rates the driver."""
    booking = queries.get_booking(booking_id)
    if booking.driver_id == user.id:
        role = Party.DRIVER
    elif booking.location.owner_id == user.id:
        role = Party.OWNER
    else:
        raise Forbidden("only the driver and the owner review a booking")
    rules.require_status(booking, BookingStatus.COMPLETED)
    if not 1 <= rating <= 5:
        raise ValidationFailed({"rating": ["a rating is 1 to 5"]})
    if any(review.author_role == role for review in queries.reviews_of(booking.id)):
        raise InvalidTransition("you have already reviewed this booking", status_now=booking.status)
    review = Review(
        booking_id=booking.id,
        author_id=user.id,
        author_role=role,
        rating=rating,
        text=text,
        created_at=utcnow(),
    )
    db.session.add(review)
    db.session.commit()
    return review


def report_problem(user: User, booking_id: int, description: str) -> ProblemReport:
    """Report a problem with a booking; the owner's payout waits until it is resolved."""
    booking = queries.get_booking(booking_id)
    if user.id not in (booking.driver_id, booking.location.owner_id):
        raise Forbidden("only the driver and the owner report a problem")
    if booking.status not in (
        *HOLDING_STATUSES,
        BookingStatus.COMPLETED,
        BookingStatus.NO_SHOW,
    ):
        raise InvalidTransition("this booking can no longer be reported", status_now=booking.status)
    if not description.strip():
        raise ValidationFailed({"description": ["describe the problem"]})
    report = ProblemReport(
        booking_id=booking.id, reporter_id=user.id, description=description, created_at=utcnow()
    )
    db.session.add(report)
    emit(db.session, "booking.problem_reported", "booking", str(booking.id), {"id": booking.id})
    db.session.commit()
    return report


def resolve_problem(
    admin: User, report_id: int, resolution: str, refund_minor: int = 0
) -> ProblemReport:
    """Close a problem report (operators only), refunding the driver if decided."""
    if not admin.has_role(Role.ADMIN):
        raise Forbidden("only operators resolve problem reports")
    report = queries.get_problem_report(report_id)
    if report.resolved_at is not None:
        raise InvalidTransition("already resolved", status_now="resolved")
    report.resolved_at = utcnow()
    report.resolution = resolution
    db.session.commit()
    if refund_minor:
        payments.refund_booking(report.booking_id, refund_minor, reason_ref=f"problem{report.id}")
    return report


def mark_due_no_shows() -> list[int]:
    """Mark every confirmed booking past its grace period as a no-show (job)."""
    grace = timedelta(minutes=rules.setting("BOOKING_NO_SHOW_GRACE_MINUTES"))
    ids = queries.due_no_shows(utcnow() - grace)
    for booking_id in ids:
        mark_no_show(booking_id)
    return ids


def complete_due_bookings() -> list[int]:
    """Complete active bookings well past their end, at the quoted price (job)."""
    late = timedelta(minutes=rules.setting("BOOKING_AUTO_COMPLETE_MINUTES"))
    ids = queries.due_completions(utcnow() - late)
    for booking_id in ids:
        complete_booking(booking_id)
    return ids


def book_for_partner(driver: User, evse_id: int, starts_at: datetime, ends_at: datetime) -> Booking:
    """Book a slot for a roaming partner's driver: no card, the partner eMSP pays by CDR.

    The same rules and overlap guard as a driver's booking; confirmed at once for an
    instant-book listing, otherwise a request for the owner to accept.
    """
    booking = hold_slot(driver, evse_id, starts_at, ends_at)
    _lock_schedule(booking.evse_id)
    booking = queries.get_booking(booking.id, for_update=True)
    payments.mark_paid_elsewhere(booking)
    _mark_paid(booking, utcnow())
    db.session.commit()
    return booking
