"""Import every model so the metadata (and Alembic) sees the whole schema."""

from app.accounts.models import ApiToken, LoginAttempt, User
from app.bookings.models import Booking, ProblemReport, Review
from app.charging.models import (
    BookingDispatch,
    Cdr,
    ChargingSession,
    DriverToken,
    EvseStatusReport,
    MeterValue,
    Notice,
    StationSecurityEvent,
    TransactionEventSeen,
)
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
from app.ocpi.hub.models import HubMember, HubMessage, HubProxy, HubRule, HubState
from app.ocpi.hubparty.models import HubParty, HubSettings
from app.ocpi.models import (
    EmspBooking,
    EmspCommand,
    OcpiBooking,
    OcpiChargingProfile,
    OcpiCommand,
    OcpiPartner,
    OcpiSync,
    PartnerEndpoint,
    PartnerRole,
    Token,
)
from app.oicp.models import OicpCdr, OicpOperator, OicpPushedEvse, OicpSession, OicpState
from app.payments.models import (
    BookingPayment,
    LedgerEntry,
    OwnerAccount,
    RoamingCharge,
    StripeCustomer,
    StripeEvent,
)
from app.tariffs.models import Tariff

__all__ = [
    "ApiToken",
    "AvailabilityWindow",
    "Blackout",
    "Booking",
    "BookingDispatch",
    "BookingPayment",
    "Cdr",
    "ChargeStation",
    "ChargingSession",
    "Connector",
    "DriverToken",
    "EmspBooking",
    "EmspCommand",
    "Evse",
    "EvseStatusReport",
    "HubMember",
    "HubMessage",
    "HubParty",
    "HubProxy",
    "HubRule",
    "HubSettings",
    "HubState",
    "LedgerEntry",
    "Location",
    "LoginAttempt",
    "MeterValue",
    "Notice",
    "OcpiBooking",
    "OcpiChargingProfile",
    "OcpiCommand",
    "OcpiPartner",
    "OcpiSync",
    "OicpCdr",
    "OicpOperator",
    "OicpPushedEvse",
    "OicpSession",
    "OicpState",
    "OutboxEvent",
    "OwnerAccount",
    "PartnerEndpoint",
    "PartnerRole",
    "Party",
    "ProblemReport",
    "Review",
    "RoamingCharge",
    "StationSecurityEvent",
    "StripeCustomer",
    "StripeEvent",
    "Tariff",
    "Token",
    "TransactionEventSeen",
    "User",
]
