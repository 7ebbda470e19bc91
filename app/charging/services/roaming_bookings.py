"""A PlugPool driver books a partner CPO's charger through its OCPI 2.3.0 Bookings module.

The driver sees the partner's free timeslots (read live from its calendar), books one, and
sees each status change the CPO pushes.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User
from app.charging.errors import NotStartable
from app.charging.services.roaming_commands import _driver_token, roaming_place
from app.core.clock import iso_utc
from app.core.errors import NotFound
from app.extensions import db
from app.ocpi.bookings import emsp as ocpi
from app.ocpi.errors import PartnerCallFailed
from app.ocpi.models import EmspBooking
from app.payments.roaming import new_reference


def free_slots(evse_pk: int) -> list[dict[str, datetime]]:
    """The partner's free timeslots for this EVSE (or its location), soonest first."""
    location, evse, partner = roaming_place(evse_pk)
    if ocpi.sender_url(partner) is None:
        raise NotFound("This network takes no bookings")
    party = (location.country_code, location.party_id)
    try:
        offers = ocpi.booking_locations(partner, party)
    except PartnerCallFailed as error:
        raise NotStartable(f"The network's calendar cannot be read: {error}") from error
    slots = []
    for offer in offers:
        if offer["location_id"].upper() != location.ocpi_id.upper():
            continue
        if offer.get("evse_uid") and offer["evse_uid"].upper() != evse.uid.upper():
            continue
        for calendar in offer.get("calendars") or []:
            slots += [
                {"start": s["start_date_time"], "end": s["end_date_time"]}
                for s in calendar["available_timeslots"]
            ]
    return sorted(slots, key=lambda slot: slot["start"])


def book_roaming(driver: User, evse_pk: int, start: datetime, end: datetime) -> EmspBooking:
    """Send a BookingRequest for the window; record the CPO's answer."""
    if end <= start:
        raise NotStartable("A booking must end after it starts")
    location, evse, partner = roaming_place(evse_pk)
    if ocpi.sender_url(partner) is None:
        raise NotFound("This network takes no bookings")
    token = _driver_token(driver)
    config = current_app.config
    record = EmspBooking(
        driver_id=driver.id,
        partner_id=partner.id,
        country_code=location.country_code,
        party_id=location.party_id,
        request_id=secrets.token_hex(12),
        location_id=location.ocpi_id,
        evse_uid=evse.uid,
        starts_at=start,
        ends_at=end,
        authorization_reference=new_reference(),
        reservation_status="PENDING",
    )
    db.session.add(record)
    db.session.commit()
    body = {
        "country_code": config["OWN_COUNTRY_CODE"],
        "party_id": config["OWN_PARTY_ID"],
        "request_id": record.request_id,
        "location_id": location.ocpi_id,
        "evse_uid": evse.uid,
        "tokens": [_booking_token(token)],
        "period": {"start_date_time": iso_utc(start), "end_date_time": iso_utc(end)},
        "authorization_reference": record.authorization_reference,
    }
    party = (location.country_code, location.party_id)
    try:
        booking, message = ocpi.request_booking(partner, party, body)
    except PartnerCallFailed as error:
        booking, message = None, str(error)[:255]
    _apply(record, booking, message)
    db.session.commit()
    return record


def _booking_token(token: Any) -> dict[str, Any]:
    return {
        "country_code": token.country_code,
        "party_id": token.party_id,
        "uid": token.uid,
        "type": token.type,
        "contract_id": token.contract_id,
    }


def _apply(record: EmspBooking, booking: dict[str, Any] | None, message: str | None) -> None:
    record.message = message
    if booking is None:
        record.reservation_status = "FAILED"
        return
    record.booking_id = booking["id"]
    record.reservation_status = booking["reservation_status"]


def record_booking_push(
    partner_id: int, request_id: str, raw: dict[str, Any], data: dict[str, Any]
) -> bool:
    """Keep the Booking a CPO pushed for one of our requests; False when we made none."""
    record = db.session.scalars(
        select(EmspBooking).where(EmspBooking.request_id == request_id)
    ).first()
    if record is None or record.partner_id != partner_id:
        return False
    record.booking = raw
    record.booking_id = data["id"]
    record.reservation_status = data["reservation_status"]
    db.session.commit()
    return True


def driver_bookings(driver: User) -> list[EmspBooking]:
    """The driver's bookings on partner networks, newest first."""
    query = (
        select(EmspBooking)
        .where(EmspBooking.driver_id == driver.id)
        .order_by(EmspBooking.id.desc())
    )
    return list(db.session.scalars(query))
