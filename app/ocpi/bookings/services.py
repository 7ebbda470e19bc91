"""OCPI 2.3.0 booking requests from partner eMSPs, carried out as PlugPool bookings.

Each eMSP party books through one PlugPool account of its own (a driver that cannot log in);
the partner pays through the session's CDR, so no card is involved. A refused request (slot
taken, outside the owner's hours, too short...) is answered with a REJECTED Booking and
leaves nothing behind.
"""

from __future__ import annotations

import logging
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, User
from app.bookings import services as bookings
from app.bookings.errors import InvalidTransition, SlotTaken
from app.bookings.models import Booking
from app.core.clock import utcnow
from app.core.errors import ValidationFailed
from app.core.security import hash_secret, new_token
from app.extensions import db
from app.inventory.models import Evse, Location
from app.ocpi import errors
from app.ocpi.bookings import queries
from app.ocpi.bookings.serialise import booking_terms, booking_to_ocpi
from app.ocpi.locations.serialise import timestamp
from app.ocpi.models import OcpiBooking, OcpiPartner
from app.ocpi.schemas.bookings import BookingRequest
from app.ocpi.tokens.services import check_party

log = logging.getLogger("plugpool.ocpi.bookings")


def request_booking(partner: OcpiPartner, body: Any) -> tuple[dict[str, Any], str | None]:
    """POST a BookingRequest: book the slot, or change/cancel the booking of its request_id.

    Returns the Booking and, for a refused request, why (the envelope's status_message).
    """
    schema = BookingRequest()
    try:
        data = schema.load(body)
    except ValidationError as error:
        raise errors.InvalidParameters(f"Invalid BookingRequest: {error.messages}") from error
    check_party(partner, data["country_code"], data["party_id"])
    existing = queries.ocpi_booking_by_request(
        data["country_code"], data["party_id"], data["request_id"]
    )
    if existing is not None:
        return _edit(existing, data, schema.dump(data)), None
    location = queries.bookable_location(data["location_id"])
    if location is None:
        raise errors.UnknownLocation(f"Unknown location {data['location_id']}")
    return _book(partner, location, data, schema.dump(data))


def _book(
    partner: OcpiPartner, location: Location, data: dict[str, Any], request: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    driver = _partner_driver(data["country_code"], data["party_id"])
    period = data["period"]
    refusal = "no bookable EVSE at this location"
    for evse in _candidate_evses(location, data):
        try:
            booking = bookings.book_for_partner(
                driver, evse.id, period["start_date_time"], period["end_date_time"]
            )
        except (SlotTaken, ValidationFailed) as error:
            db.session.rollback()
            refusal = _reason(error)
            continue
        return _record(partner, booking, data, request), None
    log.info("booking request %s refused: %s", data["request_id"], refusal)
    return _rejected(location, data, request), refusal


def _candidate_evses(location: Location, data: dict[str, Any]) -> list[Evse]:
    """The EVSE the request names, else every EVSE of the listing in turn."""
    wanted = data.get("evse_uid") or (data.get("booking_option") or {}).get("evse_uid")
    if wanted and wanted != "#NA":
        return [evse for evse in location.evses if evse.uid == wanted]
    return list(location.evses)


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationFailed):
        fields = error.extra.get("errors", {})
        return "; ".join(f"{name}: {', '.join(msgs)}" for name, msgs in fields.items())
    return str(error)


def _record(
    partner: OcpiPartner, booking: Booking, data: dict[str, Any], request: dict[str, Any]
) -> dict[str, Any]:
    """Keep the OCPI side of a new booking: request id, tokens, the request and its answer."""
    status = "ACCEPTED" if booking.status == "confirmed" else "PENDING"
    record = OcpiBooking(
        booking_id=booking.id,
        partner_id=partner.id,
        country_code=data["country_code"].upper(),
        party_id=data["party_id"].upper(),
        request_id=data["request_id"],
        authorization_reference=data["authorization_reference"],
        tokens=request.get("tokens", []),
        requests=[_request_status(status, request)],
    )
    db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:  # the same request id raced in: keep the first booking only
        db.session.rollback()
        bookings.cancel_booking(booking.driver, booking.id)
        raise errors.InvalidParameters("request_id already used") from None
    return booking_to_ocpi(booking, record)


def _edit(record: OcpiBooking, data: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """A request for an existing booking: cancel it when asked; other changes are declined."""
    booking = db.session.get(Booking, record.booking_id)
    if booking is None:
        raise errors.UnknownObject("booking gone")
    status = "DECLINED"
    if data.get("canceled"):
        try:
            booking = bookings.cancel_booking(booking.driver, booking.id)
            status = "ACCEPTED"
        except InvalidTransition:
            status = "DECLINED"
    record = db.session.get(OcpiBooking, record.id) or record
    record.requests = [*record.requests, _request_status(status, request)]
    db.session.commit()
    return booking_to_ocpi(booking, record)


def _rejected(location: Location, data: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The answer to a refused request: no PlugPool booking exists, so nothing is stored."""
    return {
        "id": data["request_id"],
        "country_code": location.country_code,
        "party_id": location.party_id,
        "request_id": data["request_id"],
        "location_id": location.ocpi_id,
        "booking_tokens": request.get("tokens", []),
        "period": request["period"],
        "reservation_status": "REJECTED",
        "authorization_reference": data["authorization_reference"],
        "booking_terms": booking_terms(location),
        "booking_requests": [_request_status("DECLINED", request)],
        "last_updated": timestamp(utcnow()),
    }


def _request_status(status: str, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "request_status": status,
        "booking_request": request,
        "request_received": timestamp(utcnow()),
    }


def _partner_driver(country_code: str, party_id: str) -> User:
    """The PlugPool account an eMSP party's bookings belong to (created on first use)."""
    email = f"ocpi-{country_code}-{party_id}@partners.plugpool.invalid".lower()
    user = db.session.scalars(select(User).where(User.email == email)).first()
    if user is None:
        user = User(
            email=email,
            # A random secret nobody knows, on an inactive account: it can never log in.
            password_hash=hash_secret(new_token()),
            name=f"Roaming {country_code.upper()}*{party_id.upper()}",
            role=Role.DRIVER.value,
            active=False,
        )
        db.session.add(user)
    return user
