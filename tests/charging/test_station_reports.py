"""What stations report about themselves lands in their record, and reservations follow the
charger: an end it reports is kept on the booking, an offline one is reserved when it is back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from flask import Flask
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from sqlalchemy import select

from app.charging import services
from app.charging.commands import NoGateway
from app.charging.enums import NoticeKind
from app.charging.models import BookingDispatch, Notice, StationEvent
from app.charging.port import DbStationPort
from app.core.clock import utcnow
from app.extensions import db
from app.gateway.bus import LocalBus
from app.gateway.ports import OcppVersion
from app.gateway.server import Gateway, GatewayConfig, run_gateway
from app.gateway.simulator import SimulatorConfig, connected
from app.inventory.models import ChargeStation
from tests.charging.support import Site, add_booking, count, db_gateway, eventually, read
from tests.gateway.support import PASSWORD, charger, run

NOW = "2026-11-21T10:00:00Z"


def station_row(app: Flask, station_id: str) -> ChargeStation:
    """Return a station, detached."""

    def query() -> ChargeStation:
        row = db.session.scalars(
            select(ChargeStation).where(ChargeStation.station_id == station_id)
        ).one()
        db.session.expunge(row)
        return row

    return read(app, query)


def dispatch_of(app: Flask, booking_id: int) -> BookingDispatch:
    """Return a booking's dispatch row, detached."""

    def query() -> BookingDispatch:
        row = db.session.scalars(
            select(BookingDispatch).where(BookingDispatch.booking_id == booking_id)
        ).one()
        db.session.expunge(row)
        return row

    return read(app, query)


def boot201() -> call201.BootNotification:
    """Return a power-up BootNotification."""
    station = {"vendor_name": "PlugPool", "model": "Home"}
    return call201.BootNotification(charging_station=station, reason="PowerUp")


def fault_event() -> call201.NotifyEvent:
    """Return a NotifyEvent with one connector fault."""
    data = {
        "event_id": 7,
        "timestamp": NOW,
        "trigger": "Delta",
        "actual_value": "Faulted",
        "tech_info": "ground fault",
        "event_notification_type": "HardWiredNotification",
        "component": {"name": "Connector", "evse": {"id": 1, "connector_id": 1}},
        "variable": {"name": "AvailabilityState"},
    }
    return call201.NotifyEvent(generated_at=NOW, seq_no=0, event_data=[data])


def test_firmware_log_status_and_events_are_kept_in_the_station_record(
    app: Flask, site: Site
) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway:
            async with charger(gateway, site.station_id, OcppVersion.V201) as cp:
                await cp.call(boot201())
                await cp.call(call201.FirmwareStatusNotification("Installing", request_id=3))
                await cp.call(call201.LogStatusNotification("Uploaded", request_id=4))
                await cp.call(fault_event())
                await cp.call(fault_event())  # resent after a lost answer
                limit = {"charging_limit_source": "SO", "is_grid_critical": True}
                await cp.call(call201.NotifyChargingLimit(charging_limit=limit, evse_id=1))
                reply = await cp.call(call201.DataTransfer(vendor_id="com.acme", data={"a": 1}))
                assert reply.status == "UnknownVendorId"
            async with charger(gateway, site.legacy_station_id, OcppVersion.V16) as cp16:
                await cp16.call(call16.BootNotification("Acme", "Box"))
                await cp16.call(call16.FirmwareStatusNotification("DownloadFailed"))
                await cp16.call(call16.DiagnosticsStatusNotification("Uploading"))

    run(scenario)
    station = station_row(app, site.station_id)
    assert (station.firmware_status, station.log_status) == ("Installing", "Uploaded")
    assert station.firmware_status_at is not None and station.log_status_at is not None
    legacy = station_row(app, site.legacy_station_id)
    assert (legacy.firmware_status, legacy.log_status) == ("DownloadFailed", "Uploading")
    assert count(app, StationEvent, station_id=site.station_id, kind="NotifyEvent") == 1

    def events() -> list[tuple[Any, ...]]:
        rows = db.session.scalars(select(StationEvent).order_by(StationEvent.id))
        return [(e.kind, e.component, e.variable, e.actual_value, e.tech_info) for e in rows]

    assert read(app, events) == [
        ("NotifyEvent", "Connector@EVSE1", "AvailabilityState", "Faulted", "ground fault"),
        ("NotifyChargingLimit", "EVSE1", None, "SO", "grid critical"),
    ]


def test_reservation_status_update_is_kept_on_the_booking_and_told(app: Flask, site: Site) -> None:
    now = utcnow()
    booking_id = add_booking(app, site, now - timedelta(minutes=1), now + timedelta(hours=1))
    assert read(app, lambda: services.start_due_bookings(NoGateway())) == [booking_id]

    async def scenario() -> None:
        async with db_gateway(app) as gateway:
            async with charger(gateway, site.legacy_station_id, OcppVersion.V201) as other:
                await other.call(boot201())  # another station cannot touch this booking
                await other.call(call201.ReservationStatusUpdate(booking_id, "Removed"))
            async with charger(gateway, site.station_id, OcppVersion.V201) as cp:
                await cp.call(boot201())
                await cp.call(call201.ReservationStatusUpdate(booking_id, "Expired"))
                await cp.call(call201.ReservationStatusUpdate(booking_id, "Expired"))  # resent

    run(scenario)
    assert dispatch_of(app, booking_id).reservation_status == "Expired"
    for user_id in (site.driver_id, site.owner_id):
        kind = NoticeKind.RESERVATION_ENDED.value
        assert count(app, Notice, user_id=user_id, kind=kind) == 1


@contextlib.asynccontextmanager
async def gateway_with_jobs(app: Flask) -> AsyncIterator[Gateway]:
    """Run a gateway on the DB port with its booking dispatcher (as `python -m app.gateway`)."""
    port = DbStationPort(app)
    saved = app.config.get("BOOKING_DISPATCH_INTERVAL")
    app.config["BOOKING_DISPATCH_INTERVAL"] = 3600.0  # no periodic round: only the reconnect
    settings = GatewayConfig(host="127.0.0.1", port=0)
    try:
        async with run_gateway(port, LocalBus(), settings) as gateway:
            halt = port.start_jobs(gateway.bus)  # type: ignore[arg-type]
            try:
                yield gateway
            finally:
                halt()
    finally:
        app.config["BOOKING_DISPATCH_INTERVAL"] = saved


def simulator(gateway: Gateway, station_id: str) -> SimulatorConfig:
    """Return a simulated 1.6 charger of this gateway."""
    return SimulatorConfig(
        station_id=station_id,
        password=PASSWORD,
        url=f"ws://127.0.0.1:{gateway.bound_port}/ocpp",
        protocol=OcppVersion.V16,
    )


def test_booking_dispatched_offline_is_reserved_when_the_charger_is_back(
    app: Flask, site: Site
) -> None:
    now = utcnow()
    over = add_booking(app, site, now - timedelta(minutes=1), now + timedelta(minutes=5))
    assert read(app, lambda: services.start_due_bookings(NoGateway())) == [over]
    move(app, over, now - timedelta(hours=2), now - timedelta(hours=1))  # its window passed
    booking_id = add_booking(app, site, now - timedelta(minutes=1), now + timedelta(hours=1))
    assert read(app, lambda: services.start_due_bookings(NoGateway())) == [booking_id]
    assert dispatch_of(app, booking_id).reservation_status == "Offline"

    async def scenario() -> list[str]:
        async with (
            gateway_with_jobs(app) as gateway,
            connected(simulator(gateway, site.station_id)) as sim,
        ):
            await eventually(lambda: dispatch_of(app, booking_id).reservation_status == "Accepted")
            return list(sim.commands)

    assert run(scenario) == ["ReserveNow"]  # once, for the booking still ahead
    dispatch = dispatch_of(app, booking_id)
    assert dispatch.reservation_status == "Accepted" and not dispatch.station_offline
    assert dispatch_of(app, over).reservation_status == "Offline"


def move(app: Flask, booking_id: int, starts_at: Any, ends_at: Any) -> None:
    """Move a booking's window."""
    from app.bookings.models import Booking

    def change() -> None:
        booking = db.session.get(Booking, booking_id)
        booking.starts_at, booking.ends_at = starts_at, ends_at
        db.session.commit()

    read(app, change)
