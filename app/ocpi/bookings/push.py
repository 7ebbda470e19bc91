"""Push status changes of partner bookings to the eMSP that made them (PUT the Booking)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, and_, cast, select

from app.bookings.models import Booking
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.ocpi.bookings import queries
from app.ocpi.bookings.serialise import booking_to_ocpi
from app.ocpi.client import OcpiClient, endpoint_url
from app.ocpi.credentials.queries import party_holder
from app.ocpi.models import OcpiBooking, OcpiPartner, PartnerStatus

TOPICS = (
    "booking.requested",
    "booking.confirmed",
    "booking.declined",
    "booking.cancelled",
    "booking.started",
    "booking.no_show",
    "booking.completed",
)
# The 2.3.0 module identifier is literally "Booking"; some peers publish "bookings".
IDENTIFIERS = ("Booking", "bookings")


def claimable() -> ColumnElement[bool]:
    """Booking events of partner bookings only: PlugPool's own ones are not OCPI's to take."""
    partner_bookings = select(cast(OcpiBooking.booking_id, String))
    return and_(OutboxEvent.topic.in_(TOPICS), OutboxEvent.aggregate_id.in_(partner_bookings))


def receiver_url(partner: OcpiPartner) -> str | None:
    """The partner's Bookings receiver URL."""
    for identifier in IDENTIFIERS:
        url = partner.endpoint(identifier, "RECEIVER")
        if url:
            return url
    return None


def recipients(event: OutboxEvent) -> list[OcpiPartner]:
    """The registered eMSP that made the booking, if it has a Bookings receiver."""
    record = queries.ocpi_booking_of(int(event.aggregate_id))
    if record is None:
        return []
    partner = db.session.get(OcpiPartner, record.partner_id) if record.partner_id else None
    partner = partner or party_holder(record.country_code, record.party_id, "EMSP")
    if (
        partner is None
        or partner.status != PartnerStatus.REGISTERED
        or not partner.token_out
        or receiver_url(partner) is None
    ):
        return []
    return [partner]


def addressed(event: OutboxEvent) -> tuple[str, str] | None:
    """The party the push is addressed to (OCPI-to): the eMSP party that made the booking."""
    record = queries.ocpi_booking_of(int(event.aggregate_id))
    return (record.country_code, record.party_id) if record is not None else None


def push(partner: OcpiPartner, event: OutboxEvent) -> None:
    """PUT the booking as it is now."""
    booking = db.session.get(Booking, int(event.aggregate_id))
    record = queries.ocpi_booking_of(int(event.aggregate_id))
    if booking is None or record is None:
        return
    client = OcpiClient(
        partner.token_out or "",
        raw_token=partner.raw_tokens,
        to_party=(record.country_code, record.party_id),
    )
    location = booking.location
    target = endpoint_url(
        receiver_url(partner) or "", location.country_code, location.party_id, str(booking.id)
    )
    client.put(target, booking_to_ocpi(booking, record))
