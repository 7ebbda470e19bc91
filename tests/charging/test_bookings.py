"""Bookings meet chargers: reservation at start, offline flags, remote start, CDR to payment."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.accounts.models import User
from app.bookings import services as bookings
from app.bookings.models import Booking
from app.charging import services
from app.charging.commands import NoGateway
from app.charging.enums import AuthMethod, NoticeKind, SessionStatus
from app.charging.errors import StationUnavailable
from app.charging.models import BookingDispatch, Notice
from app.core.clock import utcnow
from app.core.money import to_minor_units
from app.extensions import db
from app.gateway.ports import OcppVersion
from app.gateway.simulator import SimulatorConfig, connected
from app.inventory.models import ChargeStation
from app.payments import queries as payment_queries
from app.payments import services as payments
from tests.charging.support import (
    Site,
    add_booking,
    cdrs,
    count,
    db_gateway,
    eventually,
    read,
    seed_site,
    sessions,
)
from tests.gateway.support import PASSWORD, run
from tests.support.stripe_fixtures import localstripe  # noqa: F401 (a fixture, found by name)

PRICE = Decimal("20.00")  # per kWh: a short simulated session still costs whole euros


def simulator(gateway: Any, station_id: str, version: OcppVersion) -> SimulatorConfig:
    """Return a fast simulated charger for a station of this gateway."""
    return SimulatorConfig(
        station_id=station_id,
        password=PASSWORD,
        url=f"ws://127.0.0.1:{gateway.bound_port}/ocpp",
        protocol=version,
        meter_interval=0.2,
        power_w=150_000,  # within the plausibility slack over a second or two
    )


def dispatch_of(app: Flask, booking_id: int) -> BookingDispatch | None:
    """Return a booking's dispatch row, detached."""

    def query() -> BookingDispatch | None:
        row = db.session.scalars(
            select(BookingDispatch).where(BookingDispatch.booking_id == booking_id)
        ).first()
        db.session.expunge_all()
        return row

    return read(app, query)


def in_app(app: Flask, work: Any) -> Any:
    """Run work() inside a fresh app context (what a job or a request does)."""
    with app.app_context():
        return work()


@pytest.fixture
def on_localstripe(app: Flask, localstripe: Any) -> Iterator[None]:  # noqa: F811
    """Point the app's Stripe gateway at the session's localstripe."""
    saved = {key: app.config.get(key) for key in localstripe.config}
    app.config.update(localstripe.config)
    yield
    app.config.update(saved)


def test_booking_start_reserves_the_connector_and_a_cancellation_releases_it(
    app: Flask, site: Site
) -> None:
    now = utcnow()
    booking_id = add_booking(app, site, now - timedelta(minutes=1), now + timedelta(hours=1))

    async def scenario() -> list[str]:
        async with db_gateway(app) as gateway:
            config = simulator(gateway, site.station_id, OcppVersion.V16)
            async with connected(config) as charger:
                await eventually(lambda: read(app, lambda: _connected(site.station_id)))
                due = await asyncio.to_thread(
                    in_app, app, lambda: services.start_due_bookings(gateway.bus)
                )
                assert due == [booking_id]
                again = await asyncio.to_thread(
                    in_app, app, lambda: services.start_due_bookings(gateway.bus)
                )
                assert again == []  # dispatched once
                in_app(app, lambda: _cancel(booking_id))
                released = await asyncio.to_thread(
                    in_app, app, lambda: services.release_reservations(gateway.bus)
                )
                assert released == [booking_id]
                return list(charger.commands)

    commands = run(scenario)
    assert commands == ["ReserveNow", "CancelReservation"]
    dispatch = dispatch_of(app, booking_id)
    assert dispatch is not None
    assert (dispatch.reservation_status, dispatch.station_offline) == ("Released:Accepted", False)
    assert in_app(app, lambda: services.release_reservations(NoGateway())) == []


def test_offline_station_at_booking_start_flags_driver_and_owner(app: Flask, site: Site) -> None:
    now = utcnow()
    booking_id = add_booking(app, site, now - timedelta(minutes=1), now + timedelta(hours=1))

    assert in_app(app, lambda: services.start_due_bookings(NoGateway())) == [booking_id]
    assert in_app(app, lambda: services.start_due_bookings(NoGateway())) == []

    dispatch = dispatch_of(app, booking_id)
    assert dispatch is not None and dispatch.station_offline
    assert dispatch.reservation_status == "Offline"
    for user_id in (site.driver_id, site.owner_id):
        assert count(app, Notice, user_id=user_id, kind=NoticeKind.STATION_OFFLINE.value) == 1


def test_remote_start_of_a_booking_at_an_offline_station_is_refused(app: Flask, site: Site) -> None:
    now = utcnow()
    booking_id = add_booking(app, site, now - timedelta(minutes=1), now + timedelta(hours=1))

    def start() -> None:
        driver = db.session.get(User, site.driver_id)
        services.remote_start_booking(driver, booking_id, NoGateway())

    with pytest.raises(StationUnavailable):
        in_app(app, start)
    dispatch = dispatch_of(app, booking_id)
    assert dispatch is not None and dispatch.station_offline


def test_the_booking_drivers_token_is_accepted_but_a_blocked_card_is_refused_even_then(
    app: Flask, site: Site
) -> None:
    now = utcnow()
    add_booking(app, site, now - timedelta(minutes=1), now + timedelta(hours=1))

    answer = in_app(
        app, lambda: services.authorize_token(site.station_id, site.driver_token, "Central")
    )
    assert answer.status == "Accepted"
    # A card its driver blocked (lost, lent) opens nothing, not even the driver's own booking.
    in_app(app, lambda: _block_token(site.driver_token))
    answer = in_app(
        app, lambda: services.authorize_token(site.station_id, site.driver_token, "Central")
    )
    assert answer.status == "Blocked"


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
def test_remote_start_from_a_booking_charges_and_captures_the_cdr_amount(
    app: Flask, committed_db: Any, on_localstripe: None, version: OcppVersion
) -> None:
    site = seed_site(app, prefix="BK", price=PRICE)
    booking_id = in_app(app, lambda: _paid_booking_now(site))

    async def scenario() -> list[str]:
        async with db_gateway(app) as gateway:
            config = simulator(gateway, site.station_id, version)
            async with connected(config) as charger:
                await eventually(lambda: read(app, lambda: _connected(site.station_id)))
                status = await asyncio.to_thread(
                    in_app, app, lambda: services.remote_start_booking(
                        db.session.get(User, site.driver_id), booking_id, gateway.bus
                    )
                )  # fmt: skip
                assert status == "Accepted"
                await eventually(lambda: _booking_status(app, booking_id) == "active")
                await asyncio.sleep(0.5)  # a few meter values
                stopped = await asyncio.to_thread(
                    in_app, app, lambda: services.remote_stop_booking(
                        db.session.get(User, site.driver_id), booking_id, gateway.bus
                    )
                )  # fmt: skip
                assert stopped == "Accepted"
                await eventually(lambda: _booking_status(app, booking_id) == "completed")
                return list(charger.commands)

    commands = run(scenario)
    start_name = (
        "RemoteStartTransaction" if version is OcppVersion.V16 else "RequestStartTransaction"
    )
    assert commands[0] == start_name
    [session] = sessions(app, site.station_id)
    assert session.booking_id == booking_id
    assert session.status == SessionStatus.COMPLETED and session.kwh > 0
    assert session.auth_method == AuthMethod.COMMAND
    [cdr] = cdrs(app)
    assert cdr.booking_id == booking_id
    assert cdr.total_cost_minor == to_minor_units(session.kwh * PRICE, "EUR") > 0
    booking, captured = read(app, lambda: _booking_and_capture(booking_id))
    assert booking.final_amount_minor == cdr.total_cost_minor
    assert captured == cdr.total_cost_minor


def _connected(station_id: str) -> bool:
    """Tell whether the station is recorded online."""
    from app.inventory.models import ChargeStation

    query = select(ChargeStation.connected).where(ChargeStation.station_id == station_id)
    return bool(db.session.scalar(query))


def _cancel(booking_id: int) -> None:
    """Mark a booking cancelled (the bookings service's refund path is not the point here)."""
    db.session.execute(update(Booking).where(Booking.id == booking_id).values(status="cancelled"))
    db.session.commit()


def _block_token(uid: str) -> None:
    """Mark an OCPI token invalid."""
    from app.ocpi.models import Token

    db.session.execute(update(Token).where(Token.uid == uid).values(valid=False))
    db.session.commit()


def _end_bookings() -> None:
    """Move every booking into the past."""
    past = utcnow() - timedelta(hours=3)
    db.session.execute(update(Booking).values(starts_at=past, ends_at=past + timedelta(hours=1)))
    db.session.commit()


def _paid_booking_now(site: Site) -> int:
    """Book tomorrow with a card hold (localstripe), then let time pass until it starts."""
    driver = db.session.get(User, site.driver_id)
    payments.save_card(driver, "pm_card_visa")
    # The owner's charger has connected before (a never-connected one cannot be booked).
    db.session.execute(
        update(ChargeStation)
        .where(ChargeStation.station_id == site.station_id)
        .values(last_seen_at=utcnow())
    )
    day = utcnow() + timedelta(days=1)
    start = day.replace(hour=10, minute=0, second=0, microsecond=0)
    booking = bookings.book_slot(driver, site.evse_pk, start, start + timedelta(hours=2))
    assert booking.status == "confirmed"
    now = utcnow()
    db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id)
        .values(starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=2))
    )
    db.session.commit()
    return booking.id


def _booking_status(app: Flask, booking_id: int) -> str:
    """Return a booking's status."""
    return read(app, lambda: db.session.get(Booking, booking_id).status)


def _booking_and_capture(booking_id: int) -> tuple[Booking, int]:
    """Return the booking (detached) and the amount captured for it."""
    booking = db.session.get(Booking, booking_id)
    captured = payment_queries.payment_of(booking_id).captured_minor
    db.session.expunge_all()
    return booking, captured


def test_the_job_completes_a_booking_whose_cdr_was_not_handed_over(
    app: Flask, committed_db: Any, on_localstripe: None
) -> None:
    site = seed_site(app, prefix="RT", price=PRICE)
    booking_id = in_app(app, lambda: _paid_booking_now(site))
    in_app(app, lambda: bookings.start_booking(booking_id))
    amount = in_app(app, lambda: _cdr_without_hand_over(site, booking_id))
    assert amount == 1000  # 0.5 kWh at 20.00

    assert in_app(app, services.settle_cdr_bookings) == 1
    assert in_app(app, services.settle_cdr_bookings) == 0
    booking, captured = read(app, lambda: _booking_and_capture(booking_id))
    assert (booking.status, booking.final_amount_minor, captured) == ("completed", 1000, 1000)


def _cdr_without_hand_over(site: Site, booking_id: int) -> int:
    """Write a completed session of the booking and its CDR, as if completion had failed."""
    from app.charging.cdrs import create_cdr
    from app.charging.models import ChargingSession
    from app.inventory.models import Evse
    from app.tariffs.engine import SessionPeriod

    evse = db.session.get(Evse, site.evse_pk)
    start = utcnow() - timedelta(minutes=30)
    session = ChargingSession(
        country_code="NL", party_id="PLG", ocpi_id=f"S-{booking_id}", station_id=site.station_id,
        ocpp_version="ocpp1.6", transaction_id="99", location_pk=site.location_pk,
        evse_pk=evse.id, connector_pk=evse.connectors[0].id, start_date_time=start,
        end_date_time=start + timedelta(minutes=30), kwh=Decimal("0.5"), status="COMPLETED",
        token_uid=site.driver_token, token_type="APP_USER", auth_method="COMMAND",
        booking_id=booking_id,
    )  # fmt: skip
    db.session.add(session)
    db.session.flush()
    period = SessionPeriod(start, start + timedelta(minutes=30), Decimal("0.5"))
    cdr = create_cdr(session, [period])
    db.session.commit()
    return cdr.total_cost_minor
