"""`flask station simulate`: a separate process that charges when remotely started."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from flask import Flask

from app.charging.enums import SessionStatus
from app.core.money import to_minor_units
from app.gateway import commands as cmd
from tests.charging.support import (
    ENERGY_PRICE,
    Site,
    cdrs,
    db_gateway,
    eventually,
    read,
    sessions,
)
from tests.charging.test_bookings import _connected
from tests.gateway.support import PASSWORD, run

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
def test_simulator_cli_charges_when_remotely_started(
    app: Flask, site: Site, database_url: str, protocol: str
) -> None:
    async def scenario() -> None:
        async with db_gateway(app) as gateway:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "flask", "station", "simulate", site.station_id,
                "--password", PASSWORD, "--protocol", protocol,
                "--url", f"ws://127.0.0.1:{gateway.bound_port}/ocpp",
                "--meter-interval", "0.2", "--power", "150000",
                cwd=ROOT,
                env={**os.environ, "FLASK_APP": "wsgi:app", "DATABASE_URL": database_url},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            try:
                await eventually(lambda: read(app, lambda: _connected(site.station_id)), 30)
                start = cmd.RemoteStart(id_token=site.driver_token, evse_id=1, remote_start_id=7)
                assert (await gateway.bus.send(site.station_id, start, 10)).status == "Accepted"
                session = await eventually(lambda: _open_session(app, site.station_id))
                await asyncio.sleep(0.5)
                stop = cmd.RemoteStop(transaction_id=str(session.transaction_id))
                assert (await gateway.bus.send(site.station_id, stop, 10)).status == "Accepted"
                await eventually(lambda: cdrs(app))
            finally:
                process.terminate()
                await process.wait()

    run(scenario, timeout=60)
    [session] = sessions(app, site.station_id)
    assert session.status == SessionStatus.COMPLETED and session.kwh > 0
    assert session.token_uid == site.driver_token
    [cdr] = cdrs(app)
    assert cdr.total_cost_minor == to_minor_units(session.kwh * ENERGY_PRICE, "EUR")


def _open_session(app: Flask, station_id: str) -> object:
    """Return the station's running session, if any."""
    running = [s for s in sessions(app, station_id) if s.status == SessionStatus.ACTIVE]
    return running[0] if running else None
