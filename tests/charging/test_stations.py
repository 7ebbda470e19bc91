"""Station identity on the DB-backed port: handshakes, boot, status, heartbeats, audit."""

from __future__ import annotations

import asyncio

import pytest
from flask import Flask
from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from app.charging.models import EvseStatusReport, StationSecurityEvent
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.gateway.ports import OcppVersion
from app.inventory.models import ChargeStation, Evse
from app.ocpi.push import EVSE_STATUS_CHANGED
from tests.charging.support import Site, count, db_gateway, read
from tests.gateway.support import PASSWORD, charger, exchange, open_socket, run

V16 = ["ocpp1.6"]


def refused_status(app: Flask, station_id: str, **kwargs: object) -> int:
    """Try to connect and return the HTTP status of the refusal."""
    status = 0

    async def scenario() -> None:
        nonlocal status
        async with db_gateway(app) as gateway:
            with pytest.raises(InvalidStatus) as refused:
                await open_socket(gateway, station_id, **kwargs)  # type: ignore[arg-type]
            status = refused.value.response.status_code

    run(scenario)
    return status


def station(app: Flask, station_id: str) -> ChargeStation:
    """Return a detached station row."""

    def query() -> ChargeStation:
        row = db.session.scalars(db.select(ChargeStation).filter_by(station_id=station_id)).one()
        db.session.expunge(row)
        return row

    return read(app, query)


def test_unknown_station_is_refused_with_404(app: Flask, site: Site) -> None:
    assert refused_status(app, "NOT-A-STATION", subprotocols=V16) == 404


def test_wrong_password_is_refused_with_401(app: Flask, site: Site) -> None:
    assert refused_status(app, site.station_id, subprotocols=V16, password="wrong-password") == 401


def test_missing_password_is_refused_with_401(app: Flask, site: Site) -> None:
    assert refused_status(app, site.station_id, subprotocols=V16, password=None) == 401


def test_missing_subprotocol_is_refused_with_400(app: Flask, site: Site) -> None:
    assert refused_status(app, site.station_id, subprotocols=None) == 400


def test_station_allowed_without_subprotocol_is_accepted_as_16(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway:
            socket = await open_socket(gateway, site.legacy_station_id, subprotocols=None)
            boot = [
                2,
                "b1",
                "BootNotification",
                {"chargePointVendor": "V", "chargePointModel": "M"},
            ]
            reply = await exchange(socket, boot)
            assert reply[2]["status"] == "Accepted"
            await socket.close()

    run(scenario)
    assert station(app, site.legacy_station_id).protocol == "ocpp1.6"


def test_unapproved_station_boots_pending_and_is_refused_until_accepted(
    app: Flask, site: Site
) -> None:
    async def scenario() -> None:
        async with (
            db_gateway(app) as gateway,
            charger(gateway, site.pending_station_id, OcppVersion.V16) as cp,
        ):
            boot = await cp.call(
                call.BootNotification(
                    charge_point_vendor="Acme",
                    charge_point_model="Wallbox",
                    firmware_version="9",
                )
            )
            assert boot.status == "Pending"
            assert boot.interval == 60
            with pytest.raises(OCPPError) as refused:
                await cp.call(call.Heartbeat(), suppress=False)
            assert refused.value.code == "SecurityError"

    run(scenario)
    pending = station(app, site.pending_station_id)
    assert (pending.vendor, pending.model, pending.firmware_version) == ("Acme", "Wallbox", "9")
    assert pending.violation_count == 1


def test_boot_heartbeat_and_connection_are_recorded(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway:
            async with charger(gateway, site.station_id, OcppVersion.V16) as cp:
                await cp.call(
                    call.BootNotification("PlugPool", "Home", charge_point_serial_number="S1")
                )
                await cp.call(call.Heartbeat())
                online = station(app, site.station_id)
                assert online.connected and online.protocol == "ocpp1.6"
            await asyncio.sleep(0.2)  # the gateway records the close in a port thread

    run(scenario)
    offline = station(app, site.station_id)
    assert not offline.connected
    assert offline.serial_number == "S1" and offline.last_seen_at is not None


def test_status_changes_the_evse_and_writes_one_outbox_event(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with (
            db_gateway(app) as gateway,
            charger(gateway, site.station_id, OcppVersion.V16) as cp,
        ):
            await cp.call(call.BootNotification("PlugPool", "Home"))
            await cp.call(
                call.StatusNotification(1, "NoError", "Faulted", timestamp="2026-11-21T10:00:00Z")
            )
            # A resend of an older report must not win over the newer one.
            await cp.call(
                call.StatusNotification(1, "NoError", "Available", timestamp="2026-11-21T09:00:00Z")
            )
            await cp.call(
                call.StatusNotification(1, "NoError", "Faulted", timestamp="2026-11-21T10:00:00Z")
            )
            await cp.call(
                call.StatusNotification(0, "NoError", "Available", timestamp="2026-11-21T10:00:00Z")
            )

    run(scenario)
    assert read(app, lambda: db.session.get(Evse, site.evse_pk).status) == "OUTOFORDER"
    assert (
        read(app, lambda: db.session.get(EvseStatusReport, site.evse_pk).ocpp_status) == "Faulted"
    )
    assert count(app, OutboxEvent, topic=EVSE_STATUS_CHANGED) == 1


def test_security_event_is_stored(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with (
            db_gateway(app) as gateway,
            charger(gateway, site.station_id, OcppVersion.V16) as cp,
        ):
            await cp.call(call.BootNotification("PlugPool", "Home"))
            await cp.call(
                call.SecurityEventNotification(
                    type="TamperDetectionActivated",
                    timestamp="2026-11-21T10:00:00Z",
                    tech_info="lid",
                )
            )

    run(scenario)
    assert count(app, StationSecurityEvent, type="TamperDetectionActivated") == 1


def test_schema_violations_are_counted_on_the_station(app: Flask, site: Site) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway:
            socket = await open_socket(gateway, site.station_id, V16, password=PASSWORD)
            boot = [
                2,
                "b1",
                "BootNotification",
                {"chargePointVendor": "V", "chargePointModel": "M"},
            ]
            await exchange(socket, boot)
            reply = await exchange(socket, [2, "s1", "StatusNotification", {"connectorId": 1}])
            assert reply[0] == 4
            reply = await exchange(socket, "not json")
            assert reply[0] == 4
            await socket.close()

    run(scenario)
    assert station(app, site.station_id).violation_count == 2
