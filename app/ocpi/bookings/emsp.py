"""Bookings as the eMSP (OCPI 2.3.0): read a partner CPO's calendars, send booking requests,
and receive the Booking status changes it pushes.

Translation only: app.charging.services.roaming_bookings decides.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from app.ocpi import errors
from app.ocpi.client import OcpiClient, endpoint_url
from app.ocpi.models import OcpiPartner
from app.ocpi.schemas.bookings import Booking, BookingLocation
from app.ocpi.sessions.receiver import check_cpo_party
from app.ocpi.transport import current_partner, envelope, json_body, ocpi_endpoint

blp = Blueprint("ocpi_emsp_bookings", __name__, url_prefix="/ocpi/emsp/2.3.0/bookings")
IDENTIFIERS = ("Booking", "bookings")


def sender_url(partner: OcpiPartner) -> str | None:
    """The partner's Bookings sender (the CPO's bookings endpoint), if it offers the module."""
    for identifier in IDENTIFIERS:
        url = partner.endpoint(identifier, "SENDER")
        if url:
            return url
    return None


def _client(partner: OcpiPartner, party: tuple[str, str]) -> OcpiClient:
    return OcpiClient(partner.token_out or "", raw_token=partner.raw_tokens, to_party=party)


def booking_locations(partner: OcpiPartner, party: tuple[str, str]) -> list[dict[str, Any]]:
    """The partner's BookingLocations with their calendars (every page)."""
    url: str | None = endpoint_url(sender_url(partner) or "", "booking_locations")
    found: list[dict[str, Any]] = []
    client = _client(partner, party)
    while url:
        reply = client.get(url)
        for item in reply.data or []:
            try:
                found.append(BookingLocation().load(item))
            except ValidationError:
                continue  # one bad object does not hide the others
        link = reply.headers.get("Link") or ""
        url = link.split(";")[0].strip().strip("<>") if 'rel="next"' in link else None
    return found


def request_booking(
    partner: OcpiPartner, party: tuple[str, str], body: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    """POST a BookingRequest; return the Booking answered (or None) and the CPO's message."""
    reply = _client(partner, party).post(sender_url(partner) or "", body)
    try:
        return Booking().load(reply.data or {}), reply.status_message
    except ValidationError as error:
        return None, f"unreadable Booking: {error.messages}"[:255]


@blp.put("/<country_code>/<party_id>/<booking_id>", strict_slashes=False)
@ocpi_endpoint("Booking")
def put_booking(country_code: str, party_id: str, booking_id: str) -> ResponseReturnValue:
    """Receive a Booking's new state from the CPO that holds it."""
    from app.charging.services import roaming_bookings

    check_cpo_party(current_partner(), country_code, party_id)
    body = json_body()
    try:
        data = Booking().load(body)
    except ValidationError as error:
        raise errors.InvalidParameters(f"Invalid Booking: {error.messages}") from error
    if data["id"] != booking_id:
        raise errors.InvalidParameters("id in the body differs from the URL")
    if not roaming_bookings.record_booking_push(g.ocpi_partner_id, data["request_id"], body, data):
        raise errors.UnknownObject2003(f"No booking request {data['request_id']} of ours")
    return envelope()
