"""Bookings Receiver (eMSP, OCPI 2.3.0): a partner CPO pushes the state of our drivers' bookings."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.ocpi.models import EmspBooking
from tests.ocpi.conftest import token_header

URL = "/ocpi/emsp/2.3.0/bookings/BE/BEC/B1"


def _booking(**changes):
    body = {
        "id": "B1",
        "country_code": "NL",
        "party_id": "PLG",
        "request_id": "REQ1",
        "location_id": "LOC1",
        "evse_uid": "3256",
        "period": {
            "start_date_time": "2026-12-08T10:00:00Z",
            "end_date_time": "2026-12-08T11:00:00Z",
        },
        "reservation_status": "CANCELED",
        "authorization_reference": "PPR1",
        "booking_terms": {"change_until_minutes": 60, "cancel_until_minutes": 60},
        "booking_requests": [
            {
                "request_status": "ACCEPTED",
                "request_received": "2026-12-07T10:00:00Z",
                "booking_request": {
                    "country_code": "NL",
                    "party_id": "PLG",
                    "request_id": "REQ1",
                    "location_id": "LOC1",
                    "period": {
                        "start_date_time": "2026-12-08T10:00:00Z",
                        "end_date_time": "2026-12-08T11:00:00Z",
                    },
                    "authorization_reference": "PPR1",
                },
            }
        ],
        "last_updated": "2026-12-07T10:05:00Z",
    }
    body.update(changes)
    return body


def _ours(partner, driver):
    record = EmspBooking(
        driver_id=driver.id,
        partner_id=partner.id,
        country_code="BE",
        party_id="BEC",
        request_id="REQ1",
        booking_id="B1",
        location_id="LOC1",
        evse_uid="3256",
        starts_at=datetime(2026, 12, 8, 10, tzinfo=UTC),
        ends_at=datetime(2026, 12, 8, 11, tzinfo=UTC),
        authorization_reference="PPR1",
        reservation_status="RESERVED",
    )
    db.session.add(record)
    db.session.flush()
    return record


def test_a_pushed_booking_change_reaches_the_driver(client, make_partner, make_user):
    partner, token = make_partner(roles=(("CPO", "BE", "BEC"),), version="2.3.0")
    record = _ours(partner, make_user())
    reply = client.put(URL, json=_booking(), headers=token_header(token))
    assert (reply.status_code, reply.get_json()["status_code"]) == (200, 1000)
    db.session.refresh(record)
    assert record.reservation_status == "CANCELED" and record.booking["id"] == "B1"


def test_bad_pushes_are_refused_and_change_nothing(client, make_partner, make_user):
    partner, token = make_partner(roles=(("CPO", "BE", "BEC"),), version="2.3.0")
    _, other = make_partner(roles=(("CPO", "FR", "OTH"),), version="2.3.0")
    record = _ours(partner, make_user())
    headers = token_header(token)
    unknown = client.put(URL, json=_booking(request_id="NOT-OURS"), headers=headers)
    assert (unknown.status_code, unknown.get_json()["status_code"]) == (404, 2003)
    assert client.put(URL, json=_booking(id="B2"), headers=headers).get_json()["status_code"] == (
        2001
    )
    bad = _booking(reservation_status="MAYBE")
    assert client.put(URL, json=bad, headers=headers).get_json()["status_code"] == 2001
    foreign = client.put(URL, json=_booking(), headers=token_header(other))
    assert foreign.get_json()["status_code"] == 2001
    not_json = client.put(URL, data="{", headers=headers, content_type="application/json")
    assert not_json.status_code == 400
    assert db.session.scalars(select(EmspBooking.reservation_status)).one() == "RESERVED"
    assert record.reservation_status == "RESERVED"
