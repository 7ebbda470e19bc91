"""A charger that answers a command and closes the connection at once: the answer wins."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from flask import Flask
from ocpp.routing import after, on
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from app.accounts.models import User
from app.charging import services
from app.charging.models import BookingDispatch
from app.core.clock import utcnow
from app.extensions import db
from app.gateway import commands as cmd
from app.gateway.ports import OcppVersion
from tests.charging.support import Site, add_booking, db_gateway, eventually, read
from tests.gateway.support import Charger16, Charger201, charger, run


class HangsUpAfterStart(Charger201):
    """Answers RequestStartTransaction Accepted, then drops the connection at once."""

    @on("RequestStartTransaction")
    def on_request_start(self, **payload: Any) -> result201.RequestStartTransaction:
        """Accept."""
        return result201.RequestStartTransaction(status="Accepted")

    @after("RequestStartTransaction")
    async def hang_up(self, **payload: Any) -> None:
        """Close right behind the answer (a charger rebooting into its session)."""
        await self._connection.close()


class HangsUpAfterUnlock(Charger16):
    """Answers UnlockConnector Unlocked, then drops the connection at once."""

    @on("UnlockConnector")
    def on_unlock(self, connector_id: int) -> result16.UnlockConnector:
        """Unlock."""
        return result16.UnlockConnector(status="Unlocked")

    @after("UnlockConnector")
    async def hang_up(self, connector_id: int) -> None:
        """Close right behind the answer."""
        await self._connection.close()


def boot201() -> call201.BootNotification:
    """Return a power-up BootNotification."""
    station = {"vendor_name": "PlugPool", "model": "Home"}
    return call201.BootNotification(charging_station=station, reason="PowerUp")


def online(app: Flask, station_id: str) -> bool:
    """Tell whether the station is recorded online."""
    from app.charging import queries

    return read(app, lambda: bool(queries.station(station_id).connected))


def test_201_remote_start_answered_accepted_then_closed_is_accepted(app: Flask, site: Site) -> None:
    now = utcnow()
    booking_id = add_booking(app, site, now - timedelta(minutes=1), now + timedelta(hours=1))

    def start(bus: Any) -> str:
        with app.app_context():
            driver = db.session.get(User, site.driver_id)
            return services.remote_start_booking(driver, booking_id, bus)

    async def scenario() -> str:
        async with db_gateway(app) as gateway:
            async with charger(gateway, site.station_id, OcppVersion.V201, HangsUpAfterStart) as cp:
                assert (await cp.call(boot201())).status == "Accepted"
                await eventually(lambda: online(app, site.station_id))
                status = await asyncio.to_thread(start, gateway.bus)
            await eventually(lambda: not online(app, site.station_id))
            return status

    assert run(scenario) == "Accepted"  # not StationUnavailable (409 "charger is offline")

    def dispatch() -> BookingDispatch:
        row = db.session.query(BookingDispatch).filter_by(booking_id=booking_id).one()
        db.session.expunge(row)
        return row

    row = read(app, dispatch)
    assert row.remote_start_status == "Accepted"
    assert row.remote_started_at is not None and not row.station_offline


def test_16_unlock_answered_then_closed_returns_the_answer(app: Flask, site: Site) -> None:
    async def scenario() -> cmd.CommandResult:
        async with (
            db_gateway(app) as gateway,
            charger(gateway, site.station_id, OcppVersion.V16, HangsUpAfterUnlock),
        ):
            await eventually(lambda: online(app, site.station_id))
            return await gateway.execute(site.station_id, cmd.UnlockConnector(1, 1), 10)

    result = run(scenario)
    assert result.status == "Unlocked" and result.accepted
