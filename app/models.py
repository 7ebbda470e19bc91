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
from app.ocpi.models import OcpiCommand, OcpiPartner, PartnerEndpoint, PartnerRole, Token
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
    "OcpiCommand",
    "OcpiPartner",
    "OutboxEvent",
    "PartnerEndpoint",
    "PartnerRole",
    "Party",
    "Tariff",
    "Token",
    "User",
]
