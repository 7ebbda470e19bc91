"""A charger back from a network drop: served without a new boot, its queue stored once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from flask import Flask

from app.charging.enums import SessionStatus
from app.charging.models import TransactionEventSeen
from app.gateway.ports import OcppVersion
from app.gateway.simulator import Simulated, SimulatorConfig, connected, reconnected
from tests.charging.support import (
    Site,
    cdrs,
    count,
    db_gateway,
    eventually,
    meter_rows,
    sessions,
)
from tests.gateway.support import PASSWORD, run


def config(gateway: object, station_id: str, version: OcppVersion) -> SimulatorConfig:
    """Return a simulated charger with a fast meter."""
    return SimulatorConfig(
        station_id=station_id,
        password=PASSWORD,
        url=f"ws://127.0.0.1:{gateway.bound_port}/ocpp",  # type: ignore[attr-defined]
        protocol=version,
        meter_interval=0.05,
        power_w=150_000,  # within the plausibility slack over a second or two
    )


async def charge_then_drop(app: Flask, site: Site, charger: Simulated) -> None:
    """Start charging, wait for the session, lose the network, then stop while offline."""
    charger.meter.wh = Decimal(1000)
    await charger.start_charging(site.driver_token)
    await eventually(lambda: sessions(app, site.station_id))
    await asyncio.sleep(0.5)  # some energy flows and meter values go out
    await charger.drop()
    await charger.stop_charging("Local")  # queued: the charger is offline


def test_16_charger_resends_its_stop_after_reconnect_without_booting(
    app: Flask, site: Site
) -> None:
    async def scenario() -> tuple[int, int]:
        async with db_gateway(app) as gateway:
            settings = config(gateway, site.station_id, OcppVersion.V16)
            async with connected(settings) as charger:
                await charge_then_drop(app, site, charger)
                queued = list(charger.queue)
                assert "StopTransaction" in [type(q).__name__ for q in queued]
                async with reconnected(charger):  # no BootNotification: it sends the queue
                    assert not charger.queue
                stored = await asyncio.to_thread(meter_rows, app, site.station_id)
                # The answer got lost: the charger sends the same messages once more.
                charger.queue.extend(queued)
                async with reconnected(charger):
                    assert not charger.queue
                again = await asyncio.to_thread(meter_rows, app, site.station_id)
                assert again == stored  # each queued sample stored once
                stop = next(q for q in queued if type(q).__name__ == "StopTransaction")
                return stop.meter_stop, stop.transaction_id

    meter_stop, tx = run(scenario)
    [session] = sessions(app, site.station_id)
    assert session.transaction_id == str(tx)
    assert session.status == SessionStatus.COMPLETED
    assert session.meter_stop_wh == meter_stop
    assert session.kwh == (Decimal(meter_stop) - 1000) / 1000
    [cdr] = cdrs(app)
    assert cdr.session_pk == session.id and cdr.total_energy == session.kwh


def test_201_charger_resends_offline_events_after_reconnect_without_booting(
    app: Flask, site: Site
) -> None:
    async def scenario() -> int:
        async with db_gateway(app) as gateway:
            settings = config(gateway, site.station_id, OcppVersion.V201)
            async with connected(settings) as charger:
                await charge_then_drop(app, site, charger)
                queued = list(charger.queue)
                ended = [q for q in queued if q.event_type == "Ended"]
                assert ended and all(q.offline for q in queued)
                async with reconnected(charger):
                    assert not charger.queue
                charger.queue.extend(queued)
                async with reconnected(charger):
                    assert not charger.queue
                return len(queued)

    queued = run(scenario)
    [session] = sessions(app, site.station_id)
    assert session.status == SessionStatus.COMPLETED
    assert session.end_date_time is not None
    [cdr] = cdrs(app)
    assert cdr.session_pk == session.id
    assert cdr.total_energy == session.kwh > 0
    assert queued >= 1
    assert count(app, TransactionEventSeen, station_id=site.station_id, event_type="Ended") == 1
