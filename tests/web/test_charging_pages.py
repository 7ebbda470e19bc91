"""Charging pages: a driver's RFID cards, sessions held for review for the owner and the admin."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.charging.models import ChargingSession
from app.core.clock import utcnow
from app.extensions import db
from app.ocpi.models import Token
from tests.web.conftest import CSRF


@pytest.fixture
def listing(make_location, owner):
    return make_location(owner=owner.id, name="Olga's driveway")


def _flagged_session(listing, station_id="PP-FLAG0001"):
    now = utcnow()
    session = ChargingSession(
        country_code="NL",
        party_id="PLG",
        ocpi_id="flagged-1",
        station_id=station_id,
        ocpp_version="ocpp1.6",
        location_pk=listing.id,
        start_date_time=now - timedelta(minutes=10),
        end_date_time=now,
        meter_start_wh=Decimal(0),
        meter_stop_wh=Decimal(50000),
        kwh=Decimal(0),
        status="INVALID",
        invalid_reason="50000 Wh is more than the connector can deliver in that time",
        flagged_at=now,
    )
    db.session.add(session)
    db.session.flush()
    return session


def test_driver_registers_blocks_and_removes_a_card_on_the_cards_page(
    client, log_in, driver, own_party
):
    log_in(driver)
    assert "No cards yet." in client.get("/cards").get_data(as_text=True)
    added = client.post(
        "/cards", data={"csrf_token": CSRF, "uid": "04 A2 B3 C4", "label": "Key fob"}
    )
    assert added.status_code == 302
    page = client.get("/cards").get_data(as_text=True)
    assert "Card 04A2B3C4 registered" in page and "Key fob" in page and ">valid<" in page
    client.post("/cards/04A2B3C4/block", data={"csrf_token": CSRF})
    assert ">blocked<" in client.get("/cards").get_data(as_text=True)
    client.post("/cards/04A2B3C4/remove", data={"csrf_token": CSRF})
    assert "No cards yet." in client.get("/cards").get_data(as_text=True)
    token = db.session.scalars(select(Token).where(Token.uid == "04A2B3C4")).one()
    assert token.valid is False


def test_a_bad_card_uid_is_shown_on_the_form(client, log_in, driver, own_party):
    log_in(driver)
    reply = client.post("/cards", data={"csrf_token": CSRF, "uid": "nope", "label": ""})
    assert reply.status_code == 422
    page = reply.get_data(as_text=True)
    assert 'aria-invalid="true"' in page and "hexadecimal" in page and 'value="nope"' in page


def test_owner_sees_the_sessions_of_their_chargers_held_for_review(
    client, log_in, owner, listing, make_user, make_location
):
    mine = _flagged_session(listing)
    log_in(owner)
    page = client.get("/owner/bookings").get_data(as_text=True)
    assert "Sessions not billed" in page and f'id="session-{mine.id}"' in page
    assert "more than the connector can deliver" in page and "0 → 50000" in page
    log_in(make_user(role="owner"))
    assert "Sessions not billed" not in client.get("/owner/bookings").get_data(as_text=True)


def test_admin_lists_every_session_held_for_review(client, log_in, admin, owner, listing, driver):
    session = _flagged_session(listing)
    log_in(admin)
    page = client.get("/admin/sessions/flagged").get_data(as_text=True)
    assert f'id="session-{session.id}"' in page
    assert "Olga&#39;s driveway" in page and "Olga Owner" in page and "PP-FLAG0001" in page
    log_in(driver)
    assert client.get("/admin/sessions/flagged").status_code == 403
    log_in(owner)
    assert client.get("/admin/sessions/flagged").status_code == 403


def test_listing_page_shows_firmware_state_and_reported_events(client, log_in, owner, listing):
    from app.charging.models import StationEvent
    from app.inventory.models import ChargeStation

    station = ChargeStation(
        station_id="PP-FW000001",
        password_hash="x",
        location=listing,
        firmware_version="1.4.2",
        firmware_status="Installed",
        firmware_status_at=utcnow(),
    )
    db.session.add_all(
        [
            station,
            StationEvent(
                station_id="PP-FW000001",
                kind="NotifyEvent",
                event_id=3,
                timestamp=utcnow(),
                component="Connector@EVSE1",
                variable="AvailabilityState",
                actual_value="Faulted",
                tech_info="ground fault",
            ),
        ]
    )
    db.session.flush()
    log_in(owner)
    page = client.get(f"/owner/listings/{listing.id}").get_data(as_text=True)
    assert "firmware 1.4.2" in page and "firmware update: Installed" in page
    assert "Connector@EVSE1.AvailabilityState: Faulted (ground fault)" in page
