"""Import every model so the metadata (and Alembic) sees the whole schema."""

from app.accounts.models import ApiToken, LoginAttempt, User
from app.core.outbox import OutboxEvent
from app.inventory.models import (
    AvailabilityWindow,
    Blackout,
    ChargeStation,
    Connector,
    Evse,
    Location,
    Party,
)
from app.tariffs.models import Tariff

__all__ = [
    "ApiToken",
    "AvailabilityWindow",
    "Blackout",
    "ChargeStation",
    "Connector",
    "Evse",
    "Location",
    "LoginAttempt",
    "OutboxEvent",
    "Party",
    "Tariff",
    "User",
]
