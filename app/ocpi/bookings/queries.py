"""Read-only selects for the Bookings module: bookable listings and partner bookings."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Subquery, and_, false, or_, select

from app.bookings.models import Booking
from app.extensions import db
from app.inventory.models import Location
from app.ocpi.locations.queries import published_filters, published_locations
from app.ocpi.models import OcpiBooking, OcpiPartner


def booking_location_filters() -> list[ColumnElement[bool]]:
    """Published own listings that have an owner (the ones PlugPool bookings can hold)."""
    return [*published_filters(), Location.owner_id.is_not(None)]


def bookable_locations_in(page: Subquery) -> list[Location]:
    """The listings of a page, in page order, with EVSEs and schedules."""
    query = published_locations().join(page, Location.id == page.c.id)
    return list(db.session.scalars(query.order_by(page.c.last_updated, page.c.id)))


def bookable_location(ocpi_id: str) -> Location | None:
    """One bookable listing by its OCPI id."""
    query = published_locations().where(Location.ocpi_id == ocpi_id, Location.owner_id.is_not(None))
    return db.session.scalars(query).first()


def partner_booking_filters(partner: OcpiPartner) -> list[ColumnElement[bool]]:
    """PlugPool bookings made through OCPI by one of the partner's eMSP parties."""
    parties = [(r.country_code, r.party_id) for r in partner.roles if r.role == "EMSP"]
    if not parties:
        return [false()]
    held = or_(
        *(and_(OcpiBooking.country_code == cc, OcpiBooking.party_id == pid) for cc, pid in parties)
    )
    return [Booking.id.in_(select(OcpiBooking.booking_id).where(held))]


def partner_bookings_in(page: Subquery) -> list[tuple[Booking, OcpiBooking]]:
    """The bookings of a page with their OCPI records, in page order."""
    query = (
        select(Booking, OcpiBooking)
        .join(OcpiBooking, OcpiBooking.booking_id == Booking.id)
        .join(page, Booking.id == page.c.id)
        .order_by(page.c.last_updated, page.c.id)
    )
    return [(row[0], row[1]) for row in db.session.execute(query)]


def ocpi_booking_by_request(
    country_code: str, party_id: str, request_id: str
) -> OcpiBooking | None:
    """The OCPI record of a partner's request id."""
    query = select(OcpiBooking).where(
        OcpiBooking.country_code == country_code.upper(),
        OcpiBooking.party_id == party_id.upper(),
        OcpiBooking.request_id == request_id,
    )
    return db.session.scalars(query).first()


def ocpi_booking_of(booking_id: int) -> OcpiBooking | None:
    """The OCPI record of a PlugPool booking, if a partner made it."""
    query = select(OcpiBooking).where(OcpiBooking.booking_id == booking_id)
    return db.session.scalars(query).first()
