"""Import every model so the metadata (and Alembic) sees the whole schema."""

from app.accounts.models import ApiToken, LoginAttempt, User
from app.bookings.models import Booking, ProblemReport, Review
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
from app.payments.models import (
    BookingPayment,
    LedgerEntry,
    OwnerAccount,
    StripeCustomer,
    StripeEvent,
)
from app.tariffs.models import Tariff

__all__ = [
    "ApiToken",
    "AvailabilityWindow",
    "Blackout",
    "Booking",
    "BookingPayment",
    "ChargeStation",
    "Connector",
    "Evse",
    "LedgerEntry",
    "Location",
    "LoginAttempt",
    "OcpiCommand",
    "OcpiPartner",
    "OutboxEvent",
    "OwnerAccount",
    "PartnerEndpoint",
    "PartnerRole",
    "Party",
    "ProblemReport",
    "Review",
    "StripeCustomer",
    "StripeEvent",
    "Tariff",
    "Token",
    "User",
]
