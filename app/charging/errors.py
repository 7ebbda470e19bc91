"""Charging errors the JSON API maps to problem responses."""

from __future__ import annotations

from app.core.errors import Conflict


class StationUnavailable(Conflict):
    """The booked charger is offline or did not answer."""


class NotStartable(Conflict):
    """The booking cannot be started now (state or time window)."""
