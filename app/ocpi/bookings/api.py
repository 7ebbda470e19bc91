"""Bookings Sender interface (CPO, OCPI 2.3.0): booking locations, calendars and bookings."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app.bookings.models import Booking
from app.inventory.models import Location
from app.ocpi import errors
from app.ocpi.bookings import queries, services
from app.ocpi.bookings.serialise import booking_location_to_ocpi, booking_to_ocpi, calendar_of
from app.ocpi.pagination import page_query, page_request, page_response
from app.ocpi.transport import current_partner, envelope, json_body, ocpi_endpoint

blp = Blueprint("ocpi_bookings", __name__, url_prefix="/ocpi/cpo/2.3.0/bookings")


@blp.get("/booking_locations")
@ocpi_endpoint("Booking")
def list_booking_locations() -> ResponseReturnValue:
    """List bookable listings with their calendars, oldest change first."""
    page = page_request()
    keys, total = page_query(Location, queries.booking_location_filters(), page)
    locations = queries.bookable_locations_in(keys)
    items = [booking_location_to_ocpi(location) for location in locations]
    return page_response(items, locations, total, page)


@blp.get("/booking_locations/<booking_location_id>")
@blp.get("/booking_locations/<booking_location_id>/<calendar_id>")
@ocpi_endpoint("Booking")
def get_booking_location(
    booking_location_id: str, calendar_id: str | None = None
) -> ResponseReturnValue:
    """One BookingLocation, or one of its Calendars."""
    location = queries.bookable_location(booking_location_id)
    if location is None:
        raise errors.UnknownLocation(f"Unknown booking location {booking_location_id}")
    if calendar_id is None:
        return envelope(booking_location_to_ocpi(location))
    calendar = calendar_of(location, calendar_id)
    if calendar is None:
        raise errors.UnknownObject(f"Unknown calendar {calendar_id}")
    return envelope(calendar)


@blp.get("")
@ocpi_endpoint("Booking")
def list_bookings() -> ResponseReturnValue:
    """List the bookings the partner made, oldest change first."""
    page = page_request()
    keys, total = page_query(Booking, queries.partner_booking_filters(current_partner()), page)
    rows = queries.partner_bookings_in(keys)
    items = [booking_to_ocpi(booking, record) for booking, record in rows]
    return page_response(items, [booking for booking, _ in rows], total, page)


@blp.post("")
@ocpi_endpoint("Booking")
def post_booking() -> ResponseReturnValue:
    """Request a booking (or change or cancel the booking of the same request_id)."""
    booking, refusal = services.request_booking(current_partner(), json_body())
    return envelope(booking, message=refusal)
