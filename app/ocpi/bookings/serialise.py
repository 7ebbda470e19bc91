"""PlugPool listings and bookings as OCPI 2.3.0 BookingLocations, Calendars and Bookings.

One BookingLocation per listing (its id is the Location id) and one Calendar per EVSE (its
id is the EVSE uid): the free timeslots are the owner's sharing hours over the next
BOOKING_CALENDAR_DAYS, less blackout days and the bookings that hold a slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from app.bookings.calendar import Interval, bookable_evses, free_timeslots
from app.bookings.enums import POLICIES, BookingStatus
from app.bookings.models import Booking
from app.charging.queries import EARLY_START
from app.core.clock import utcnow
from app.inventory.models import Evse, Location
from app.ocpi.locations.serialise import timestamp
from app.ocpi.models import OcpiBooking

STATUS = {
    BookingStatus.PENDING: "PENDING",
    BookingStatus.REQUESTED: "PENDING",
    BookingStatus.CONFIRMED: "RESERVED",
    BookingStatus.ACTIVE: "FULFILLED",
    BookingStatus.COMPLETED: "FULFILLED",
    BookingStatus.CANCELLED: "CANCELED",
    BookingStatus.EXPIRED: "CANCELED",
    BookingStatus.NO_SHOW: "NO_SHOW",
    BookingStatus.DECLINED: "REJECTED",
}


def booking_terms(location: Location) -> dict[str, Any]:
    """The listing's BookingTerms: its cancellation policy, our no-show grace and early start."""
    policy = POLICIES[location.cancellation_policy]
    config = current_app.config
    return {
        "rfid_auth_required": False,
        "token_groups_supported": False,
        "remote_auth_supported": True,
        "supported_access_methods": ["ACCESS_CODE"],
        "change_until_minutes": 0,
        "cancel_until_minutes": policy.cutoff_hours * 60,
        "change_not_allowed": True,
        "early_start_allowed": True,
        "early_start_time": int(EARLY_START.total_seconds() // 60),
        "noshow_timeout": int(config["BOOKING_NO_SHOW_GRACE_MINUTES"]),
        "noshow_fee": policy.fee_percent > 0,
        "late_stop_allowed": False,
        "overlapping_bookings_allowed": False,
    }


def booking_location_to_ocpi(location: Location) -> dict[str, Any]:
    """One BookingLocation with a Calendar per EVSE."""
    tariff_ids = sorted(
        {t for evse in location.evses for c in evse.connectors for t in c.tariff_ids or []}
    )
    data: dict[str, Any] = {
        "country_code": location.country_code,
        "party_id": location.party_id,
        "id": location.ocpi_id,
        "location_id": location.ocpi_id,
        "booking_terms": booking_terms(location),
        "calendars": calendars(location),
        "last_updated": timestamp(location.last_updated),
    }
    if len(location.evses) == 1:
        data["evse_uid"] = location.evses[0].uid
    if tariff_ids:
        data["tariff_ids"] = tariff_ids
    return data


def calendars(location: Location) -> list[dict[str, Any]]:
    """A Calendar of free timeslots for each EVSE that can be booked."""
    begin = utcnow().replace(second=0, microsecond=0)
    end = begin + timedelta(days=int(current_app.config["OCPI_BOOKING_CALENDAR_DAYS"]))
    free = free_timeslots(location, begin, end)
    return [
        _calendar(evse, location, begin, end, free[evse.id]) for evse in bookable_evses(location)
    ]


def calendar_of(location: Location, calendar_id: str) -> dict[str, Any] | None:
    """One Calendar of a BookingLocation by its id (the EVSE uid)."""
    return next((c for c in calendars(location) if c["id"] == calendar_id), None)


def _calendar(
    evse: Evse,
    location: Location,
    begin: datetime,
    end: datetime,
    free: list[Interval],
) -> dict[str, Any]:
    return {
        "id": evse.uid,
        "begin_from": timestamp(begin),
        "end_before": timestamp(end),
        "step_size": int(current_app.config["BOOKING_MIN_MINUTES"]),
        "available_timeslots": [
            {"start_date_time": timestamp(start), "end_date_time": timestamp(stop)}
            for start, stop in free
        ],
        "last_updated": timestamp(max(location.last_updated, evse.last_updated)),
    }


def _requests(booking: Booking, record: OcpiBooking) -> list[dict[str, Any]]:
    """The requests, a PENDING one answered once the owner accepted or declined."""
    answer = {BookingStatus.CONFIRMED: "ACCEPTED", BookingStatus.DECLINED: "DECLINED"}
    decided = answer.get(BookingStatus(booking.status))
    return [
        {**r, "request_status": decided} if decided and r["request_status"] == "PENDING" else r
        for r in record.requests
    ]


def booking_to_ocpi(booking: Booking, record: OcpiBooking) -> dict[str, Any]:
    """A partner's booking as an OCPI Booking."""
    location = booking.location
    data: dict[str, Any] = {
        "id": str(booking.id),
        "country_code": location.country_code,
        "party_id": location.party_id,
        "request_id": record.request_id,
        "location_id": location.ocpi_id,
        "evse_uid": booking.evse.uid,
        "booking_tokens": record.tokens,
        "period": {
            "start_date_time": timestamp(booking.starts_at),
            "end_date_time": timestamp(booking.ends_at),
        },
        "reservation_status": STATUS[BookingStatus(booking.status)],
        "authorization_reference": record.authorization_reference,
        "booking_terms": booking_terms(location),
        "booking_requests": _requests(booking, record),
        "last_updated": timestamp(max(booking.last_updated, record.last_updated)),
    }
    if booking.access_code and booking.status in (BookingStatus.CONFIRMED, BookingStatus.ACTIVE):
        data["access_methods"] = [{"location_access": "ACCESS_CODE", "value": booking.access_code}]
    if booking.status == BookingStatus.CANCELLED:
        who = "CPO" if booking.cancelled_by == "owner" else "EMSP"
        data["canceled"] = {"cancellation_reason": "UNKNOWN", "who_canceled": who}
    return data
