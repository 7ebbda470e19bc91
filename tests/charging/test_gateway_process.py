"""`python -m app.gateway` runs on the database by default and dispatches bookings that start."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.core.clock import utcnow
from app.gateway.ports import OcppVersion
from app.gateway.simulator import SimulatorConfig, connected
from tests.charging.support import Site, add_booking, eventually, read
from tests.charging.test_bookings import _connected, dispatch_of
from tests.gateway.support import PASSWORD, run, start_gateway_process, stop_process


@pytest.fixture
def gateway_process(app: Flask, site: Site, database_url: str, tmp_path: Path) -> Iterator[int]:
    """Start the gateway process with only DATABASE_URL set; yield its port."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_PORT": "0",
        "BOOKING_DISPATCH_INTERVAL": "0.3",
    }
    env.pop("GATEWAY_PORT_IMPL", None)
    process, port = start_gateway_process(env, tmp_path / "gateway.log")
    try:
        yield port
    finally:
        stop_process(process)


def test_gateway_process_uses_the_database_and_reserves_a_starting_booking(
    app: Flask, site: Site, gateway_process: int
) -> None:
    config = SimulatorConfig(
        station_id=site.station_id,
        password=PASSWORD,
        url=f"ws://127.0.0.1:{gateway_process}/ocpp",
        protocol=OcppVersion.V201,
    )

    async def scenario() -> Any:
        async with connected(config) as charger:
            assert charger.transaction is None
            await eventually(lambda: read(app, lambda: _connected(site.station_id)))
            now = utcnow()
            booking_id = add_booking(app, site, now, now + timedelta(hours=1))
            dispatch = await eventually(
                lambda: (d := dispatch_of(app, booking_id)) and d.reservation_status and d
            )
            return dispatch, list(charger.commands)

    dispatch, commands = run(scenario)
    assert dispatch.reservation_status == "Accepted"
    assert commands == ["ReserveNow"]
