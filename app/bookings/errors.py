"""Booking errors, mapped to problem JSON by app/core/errors.py."""

from __future__ import annotations

from app.core.errors import Conflict, DomainError


class SlotTaken(Conflict):
    """Another booking holds an overlapping part of the window on this EVSE."""

    title = "Slot taken"


class InvalidTransition(Conflict):
    """The booking is not in a state that allows this action."""

    title = "Booking state conflict"


class PaymentRequired(DomainError):
    """The card was declined or is missing; the slot stays held until the hold expires."""

    status = 402
    title = "Payment required"


class PaymentUnavailable(DomainError):
    """Stripe could not be reached; nothing was charged, the same request can be retried."""

    status = 503
    title = "Payment service unavailable"
