"""OCPI 2.3.0 Bookings: a partner eMSP's driver books a home charger as a PlugPool booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.bookings import services as bookings
from app.bookings.errors import SlotTaken
from app.bookings.models import Booking
from app.extensions import db as _db
from app.ocpi.models import OcpiBooking
from app.ocpi.schemas.bookings import Booking as BookingSchema
from app.ocpi.schemas.bookings import BookingLocation
from app.ocpi.tasks import deliver_outbox
from tests.ocpi.conformance import assert_exact
from tests.ocpi.conftest import token_header

BOOKINGS = "/ocpi/cpo/2.3.0/bookings"


def _window(hours_ahead: int = 3, length: int = 1) -> tuple[datetime, datetime]:
    start = (datetime.now(UTC) + timedelta(hours=hours_ahead)).replace(
        minute=0, second=0, microsecond=0
    )
    return start, start + timedelta(hours=length)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def booking_request(location, request_id="RQ1", window=None, party=("DE", "EMS"), **extra):
    start, end = window or _window()
    body = {
        "country_code": party[0],
        "party_id": party[1],
        "request_id": request_id,
        "location_id": location.ocpi_id,
        "tokens": [
            {
                "country_code": party[0],
                "party_id": party[1],
                "uid": "RFID-1",
                "type": "RFID",
                "contract_id": "DE-EMS-C1",
            }
        ],
        "period": {"start_date_time": _iso(start), "end_date_time": _iso(end)},
        "authorization_reference": f"AUTH-{request_id}",
    }
    body.update(extra)
    return body


@pytest.fixture
def listing(make_location, make_tariff):
    """A priced home charger (a listing without a price cannot be booked)."""
    tariff = make_tariff()

    def make(**overrides):
        return make_location(connector={"tariff_ids": [tariff.ocpi_id]}, **overrides)

    return make


@pytest.fixture
def emsp(make_partner, peer):
    partner, token = make_partner(
        version="2.3.0",
        endpoints=(("Booking", "RECEIVER", f"{peer.state.base}/emsp/2.3.0/bookings"),),
    )
    peer.state.tokens_accepted.add(partner.token_out)
    return partner, token


def _post(client, token, body):
    reply = client.post(BOOKINGS, json=body, headers=token_header(token))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def test_a_partner_booking_becomes_a_plugpool_booking_and_blocks_the_slot(
    client, emsp, listing, make_user
):
    _, token = emsp
    location = listing()
    window = _window()
    answer = _post(client, token, booking_request(location, window=window))
    assert answer["status_code"] == 1000
    data = answer["data"]
    assert_exact(BookingSchema(), data)
    assert data["reservation_status"] == "RESERVED"
    assert data["booking_requests"][0]["request_status"] == "ACCEPTED"
    assert data["access_methods"][0]["location_access"] == "ACCESS_CODE"
    booking = _db.session.get(Booking, int(data["id"]))
    assert (booking.status, booking.evse_id) == ("confirmed", location.evses[0].id)
    assert (booking.starts_at, booking.ends_at) == window
    driver = _db.session.get(User, booking.driver_id)
    assert driver.email.startswith("ocpi-de-ems@") and not driver.active

    # A PlugPool driver can no longer have that slot.
    someone = make_user()
    with pytest.raises(SlotTaken):
        bookings.hold_slot(someone, location.evses[0].id, window[0], window[1])

    # The calendar no longer offers it; the partner lists its booking.
    calendar = client.get(
        f"{BOOKINGS}/booking_locations/{location.ocpi_id}/{location.evses[0].uid}",
        headers=token_header(token),
    ).get_json()["data"]
    slots = [(s["start_date_time"], s["end_date_time"]) for s in calendar["available_timeslots"]]
    assert any(end == _iso(window[0]) for _, end in slots)
    assert any(start == _iso(window[1]) for start, _ in slots)
    assert not any(start < _iso(window[1]) and end > _iso(window[0]) for start, end in slots)
    listed = client.get(BOOKINGS, headers=token_header(token)).get_json()["data"]
    assert [item["request_id"] for item in listed] == ["RQ1"]


def test_an_overlapping_ocpi_booking_is_rejected_and_nothing_is_written(client, emsp, listing):
    _, token = emsp
    location = listing()
    start, end = _window()
    _post(client, token, booking_request(location, "RQ1", (start, end)))
    overlapping = (start + timedelta(minutes=30), end + timedelta(minutes=30))
    answer = _post(client, token, booking_request(location, "RQ2", overlapping))
    data = answer["data"]
    assert answer["status_code"] == 1000
    assert data["reservation_status"] == "REJECTED"
    assert data["booking_requests"][0]["request_status"] == "DECLINED"
    assert _db.session.scalar(select(func.count()).select_from(Booking)) == 1
    assert _db.session.scalar(select(func.count()).select_from(OcpiBooking)) == 1


def test_booking_locations_list_bookable_listings_with_a_calendar_per_evse(client, emsp, listing):
    _, token = emsp
    location = listing(evses=2)
    reply = client.get(f"{BOOKINGS}/booking_locations", headers=token_header(token))
    assert reply.status_code == 200 and reply.headers["X-Total-Count"] == "1"
    (item,) = reply.get_json()["data"]
    assert_exact(BookingLocation(), item)
    assert item["location_id"] == location.ocpi_id
    assert [c["id"] for c in item["calendars"]] == [e.uid for e in location.evses]
    assert item["booking_terms"]["cancel_until_minutes"] > 0


def test_bookings_are_2_3_0_only_and_refuse_foreign_parties(client, emsp, listing):
    _, token = emsp
    location = listing()
    assert client.get("/ocpi/cpo/2.2.1/bookings", headers=token_header(token)).status_code == 404
    foreign = booking_request(location, party=("NL", "OTH"))
    reply = client.post(BOOKINGS, json=foreign, headers=token_header(token))
    assert reply.status_code == 404
    unknown = client.post(
        BOOKINGS,
        json={**booking_request(location), "location_id": "NOPE"},
        headers=token_header(token),
    )
    assert unknown.get_json()["status_code"] == 2003
    invalid = client.post(BOOKINGS, json={"request_id": "X"}, headers=token_header(token))
    assert invalid.get_json()["status_code"] == 2001
    assert _db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_a_cancellation_request_cancels_and_the_status_is_pushed(client, emsp, listing, peer):
    _, token = emsp
    location = listing()
    window = _window(hours_ahead=48)
    created = _post(client, token, booking_request(location, window=window))["data"]
    cancel = booking_request(
        location,
        window=window,
        canceled={"cancellation_reason": "TRAFFIC", "who_canceled": "EMSP"},
    )
    data = _post(client, token, cancel)["data"]
    assert data["id"] == created["id"]
    assert data["reservation_status"] == "CANCELED"
    assert [r["request_status"] for r in data["booking_requests"]] == ["ACCEPTED", "ACCEPTED"]
    assert _db.session.get(Booking, int(data["id"])).status == "cancelled"
    deliver_outbox(10)
    pushed = peer.received("bookings", "PUT")
    assert [p.body["reservation_status"] for p in pushed] == ["CANCELED", "CANCELED"]
    assert pushed[-1].path == f"/ocpi/emsp/2.3.0/bookings/NL/PLG/{data['id']}"
    assert pushed[-1].headers["OCPI-to-party-id"] == "EMS"


def test_charging_start_and_an_owners_decline_are_pushed(client, emsp, listing, peer):
    _, token = emsp
    instant = listing()
    booked = _post(client, token, booking_request(instant, "RQ1"))["data"]
    bookings.start_booking(int(booked["id"]))
    on_request = listing(instant_book=False)
    asked = _post(client, token, booking_request(on_request, "RQ2"))["data"]
    assert asked["reservation_status"] == "PENDING"
    assert asked["booking_requests"][0]["request_status"] == "PENDING"
    owner = _db.session.get(User, on_request.owner_id)
    bookings.decline_booking(owner, int(asked["id"]))
    deliver_outbox(10)
    last = {p.path.rsplit("/", 1)[1]: p.body for p in peer.received("bookings", "PUT")}
    assert last[booked["id"]]["reservation_status"] == "FULFILLED"
    assert last[asked["id"]]["reservation_status"] == "REJECTED"
    assert last[asked["id"]]["booking_requests"][0]["request_status"] == "DECLINED"


def test_a_partner_no_show_is_pushed_and_never_touches_stripe(client, emsp, listing, peer):
    from sqlalchemy import update

    from app.payments.models import BookingPayment

    _, token = emsp
    booked = _post(client, token, booking_request(listing(), "RQ1"))["data"]
    booking_id = int(booked["id"])
    past = datetime.now(UTC) - timedelta(hours=2)
    _db.session.execute(
        update(Booking)
        .where(Booking.id == booking_id)
        .values(starts_at=past, ends_at=past + timedelta(hours=1))
    )
    _db.session.expire_all()
    assert bookings.mark_due_no_shows() == [booking_id]
    payment = _db.session.scalars(
        select(BookingPayment).where(BookingPayment.booking_id == booking_id)
    ).one()
    assert payment.payment_intent_id is None and payment.extra_payment_intent_id is None
    assert payment.state == "released" and payment.last_error is None
    deliver_outbox(10)
    # The confirmation and the no-show events: both PUT the booking as it is now.
    pushed = peer.received("bookings", "PUT")
    assert [p.body["reservation_status"] for p in pushed] == ["NO_SHOW", "NO_SHOW"]
