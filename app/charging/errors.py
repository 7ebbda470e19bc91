"""Charging errors the JSON API maps to problem responses."""

from __future__ import annotations

from app.core.errors import Conflict, DomainError


class StationUnavailable(Conflict):
    """The booked charger is offline or did not answer."""


class NotStartable(Conflict):
    """The booking cannot be started now (state or time window)."""


class CommandRefused(Conflict):
    """The charger answered the command with a refusal (Rejected)."""

    title = "Charger refused"


class CommandNotAnswered(DomainError):
    """The charger (or the gateway node holding it) did not answer in time; it may still act."""

    status = 504
    title = "Charger did not answer"


class CommandNotDelivered(DomainError):
    """The gateway could not carry the command (a CallError, a command the charger lacks)."""

    status = 502
    title = "Charger command failed"
