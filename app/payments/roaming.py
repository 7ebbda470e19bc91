"""Money of PlugPool drivers on partner networks: the hold before the start, the CDR's charge.

As for bookings, every Stripe call goes through StripeGateway (kind "roaming", the charge's
id in the idempotency key) and happens outside a database transaction: the row that decides
is committed first, so a job can repeat a failed step with the same key.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User
from app.bookings.errors import PaymentRequired
from app.charging.models import Cdr, ChargingSession
from app.core.clock import utcnow
from app.core.errors import NotFound
from app.extensions import db
from app.payments import services
from app.payments.errors import PaymentError
from app.payments.models import RoamingCharge, RoamingState

log = logging.getLogger(__name__)
KIND = "roaming"


@dataclass(frozen=True)
class RoamingTerms:
    """What a driver is told before starting on a partner charger."""

    currency: str
    hold_minor: int
    fee_minor: int


def roaming_terms(currency: str) -> RoamingTerms:
    """The hold and PlugPool's roaming fee, from the settings."""
    config = current_app.config
    return RoamingTerms(
        currency=currency.upper(),
        hold_minor=int(config["EMSP_HOLD_MINOR"]),
        fee_minor=int(config["EMSP_ROAMING_FEE_MINOR"]),
    )


def new_reference() -> str:
    """A fresh authorization_reference (ours, for one start)."""
    return "PPR" + secrets.token_hex(12).upper()


def hold_for_start(driver: User, terms: RoamingTerms) -> RoamingCharge:
    """Authorise the estimate on the driver's card; raise PaymentRequired when it is refused.

    The row is committed before Stripe is asked, and again with the outcome.
    """
    card = services.card_of(driver.id)
    charge = RoamingCharge(
        driver_id=driver.id,
        authorization_reference=new_reference(),
        currency=terms.currency,
        estimate_minor=terms.hold_minor,
        fee_minor=terms.fee_minor,
    )
    db.session.add(charge)
    db.session.commit()
    try:
        hold = services.gateway().authorise(
            charge.id,
            customer_id=card.customer_id,
            payment_method_id=card.payment_method_id or "",
            amount=terms.hold_minor,
            currency=terms.currency,
            kind=KIND,
        )
    except PaymentError as error:
        charge.state = RoamingState.AUTH_FAILED.value
        charge.last_error = f"{type(error).__name__}: {error.code or error.message}"
        db.session.commit()
        raise services._stripe_failure(error) from error
    charge.state = RoamingState.AUTHORISED.value
    charge.payment_intent_id = hold.id
    charge.authorised_minor = hold.amount
    db.session.commit()
    return charge


def release_hold(reference: str) -> RoamingCharge | None:
    """Give the hold back when the session never started (refused, failed, timed out)."""
    charge = _by_reference(reference)
    if charge is None or charge.state != RoamingState.AUTHORISED or charge.session_pk:
        return charge
    try:
        if charge.payment_intent_id:
            services.gateway().cancel_authorisation(charge.id, charge.payment_intent_id, kind=KIND)
    except PaymentError as error:
        # Holds lapse by themselves within days; the operator can release it sooner.
        charge.last_error = f"release failed: {error.code or error.message}"
        db.session.commit()
        return charge
    charge.state = RoamingState.RELEASED.value
    db.session.commit()
    return charge


def _by_reference(reference: str) -> RoamingCharge | None:
    query = select(RoamingCharge).where(RoamingCharge.authorization_reference == reference)
    return db.session.scalars(query).first()


def takes_cdr(charge: RoamingCharge | None) -> bool:
    """Whether a CDR may be billed against this charge (not billed yet, its hold not given back)."""
    return (
        charge is not None
        and charge.cdr_pk is None
        and charge.cdr_cost_minor is None
        and charge.state not in (RoamingState.RELEASED, RoamingState.AUTH_FAILED)
    )


def release_stale_holds(now: datetime | None = None) -> list[int]:
    """Give back holds whose start was accepted but no session ever came (job).

    A partner may accept START_SESSION and then never start nor say so. A hold is kept while a
    session that may be its own exists (ours by reference, or the driver's on any partner since
    the hold); a CDR that comes after the release is billed as a charge of its own.
    """
    cutoff = (now or utcnow()) - timedelta(
        minutes=int(current_app.config["EMSP_HOLD_STALE_MINUTES"])
    )
    query = select(RoamingCharge).where(
        RoamingCharge.state == RoamingState.AUTHORISED.value,
        RoamingCharge.cdr_pk.is_(None),
        RoamingCharge.session_pk.is_(None),
        RoamingCharge.created_at <= cutoff,
    )
    stale = [c for c in db.session.scalars(query) if not _may_have_session(c)]
    references = [c.authorization_reference for c in stale]
    db.session.commit()
    released = []
    for reference in references:
        charge = release_hold(reference)
        if charge is not None and charge.state == RoamingState.RELEASED:
            released.append(charge.id)
    return released


def _may_have_session(charge: RoamingCharge) -> bool:
    from app.oicp.models import OicpSession

    by_reference = select(ChargingSession.id).where(
        ChargingSession.authorization_reference == charge.authorization_reference
    )
    # Not every CPO carries our reference into its Session: any partner session received since
    # the hold (received, not started: partners' clocks and backdated start times differ).
    by_driver = select(ChargingSession.id).where(
        ChargingSession.driver_id == charge.driver_id,
        ChargingSession.partner_id.is_not(None),
        ChargingSession.created_at >= charge.created_at,
    )
    on_hubject = select(OicpSession.id).where(
        OicpSession.charge_reference == charge.authorization_reference,
        OicpSession.status.in_(("started", "stopped", "ended")),
    )
    return any(
        db.session.scalars(q.limit(1)).first() is not None
        for q in (by_reference, by_driver, on_hubject)
    )


def bill_roaming_cdrs() -> list[int]:
    """Turn every new partner CDR of a driver into the driver's charge and settle it (job)."""
    billed = []
    for cdr_pk in _unbilled_cdrs():
        charge = _attach_cdr(cdr_pk)
        settle_roaming_charge(charge.id)
        billed.append(charge.id)
    return billed


def retry_roaming_captures() -> list[int]:
    """Retry charges whose capture failed, with the same idempotency keys (job)."""
    limit = int(current_app.config["BOOKING_MAX_CAPTURE_ATTEMPTS"])
    query = select(RoamingCharge.id).where(
        RoamingCharge.state == RoamingState.CAPTURE_FAILED.value,
        RoamingCharge.capture_attempts < limit,
    )
    ids = list(db.session.scalars(query))
    for charge_id in ids:
        settle_roaming_charge(charge_id)
    return ids


def _unbilled_cdrs() -> list[int]:
    taken = select(RoamingCharge.cdr_pk).where(RoamingCharge.cdr_pk.is_not(None))
    query = (
        select(Cdr.id)
        .where(Cdr.driver_id.is_not(None), Cdr.partner_id.is_not(None), Cdr.id.not_in(taken))
        .order_by(Cdr.id)
    )
    ids = list(db.session.scalars(query))
    db.session.commit()
    return ids


def _attach_cdr(cdr_pk: int) -> RoamingCharge:
    """Find the charge of the CDR's session (by our authorization_reference), or open one.

    A driver may also start by RFID after real-time authorisation: that charge has no hold.
    """
    cdr = db.session.get(Cdr, cdr_pk)
    session = db.session.get(ChargingSession, cdr.session_pk) if cdr.session_pk else None
    references = {cdr.authorization_reference, session.authorization_reference if session else None}
    charge = next(
        (c for ref in references - {None} if (c := _by_reference(ref or "")) is not None), None
    )
    if charge is None:
        # Not every CPO carries our START_SESSION's reference into its Session and CDR.
        charge = _open_hold_of(cdr.driver_id)
    if not takes_cdr(charge) or charge.driver_id != cdr.driver_id:
        terms = roaming_terms(cdr.currency)
        charge = RoamingCharge(
            driver_id=cdr.driver_id,
            authorization_reference=new_reference(),
            currency=cdr.currency,
            fee_minor=terms.fee_minor,
        )
        db.session.add(charge)
    charge.cdr_pk = cdr.id
    charge.session_pk = cdr.session_pk
    charge.cdr_cost_minor = cdr.total_cost_minor
    charge.due_minor = cdr.total_cost_minor + charge.fee_minor
    charge.state = RoamingState.DUE.value
    db.session.commit()
    return charge


def _open_hold_of(driver_id: int | None) -> RoamingCharge | None:
    """The driver's oldest hold still waiting for its session's CDR."""
    query = (
        select(RoamingCharge)
        .where(
            RoamingCharge.driver_id == driver_id,
            RoamingCharge.state == RoamingState.AUTHORISED.value,
            RoamingCharge.cdr_pk.is_(None),
        )
        .order_by(RoamingCharge.id)
    )
    return db.session.scalars(query).first()


def settle_roaming_charge(charge_id: int) -> RoamingCharge:
    """Capture what is due from the hold (the rest released); above the hold, a second charge."""
    charge = db.session.get(RoamingCharge, charge_id)
    if charge is None:
        raise NotFound(f"no roaming charge {charge_id}")
    if charge.state not in (RoamingState.DUE, RoamingState.CAPTURE_FAILED):
        return charge
    try:
        _capture(charge, charge.due_minor or 0)
    except (PaymentError, PaymentRequired) as error:
        charge.state = RoamingState.CAPTURE_FAILED.value
        charge.capture_attempts += 1
        charge.last_error = f"{type(error).__name__}: {error}"
        log.warning("roaming charge %s not captured: %s", charge.id, charge.last_error)
    db.session.commit()
    return charge


def _capture(charge: RoamingCharge, due: int) -> None:
    gateway = services.gateway()
    if charge.payment_intent_id and charge.captured_minor == 0:
        amount = min(due, charge.authorised_minor)
        if amount > 0:
            gateway.capture(charge.id, charge.payment_intent_id, amount, kind=KIND)
        else:
            gateway.cancel_authorisation(charge.id, charge.payment_intent_id, kind=KIND)
        charge.captured_minor = amount
        # Keep the capture even if the extra charge fails: a retry must not redo it.
        db.session.flush()
    rest = due - charge.captured_minor
    if rest > 0 and charge.extra_payment_intent_id is None:
        card = services.card_of(charge.driver_id)
        extra = gateway.charge_difference(
            charge.id,
            customer_id=card.customer_id,
            payment_method_id=card.payment_method_id or "",
            amount=rest,
            currency=charge.currency,
            kind=KIND,
        )
        charge.extra_payment_intent_id = extra.id
        charge.captured_minor += rest
    charge.state = RoamingState.CAPTURED.value
    charge.last_error = None
