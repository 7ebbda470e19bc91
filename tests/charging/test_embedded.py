"""Charging on the embedded default (SQLite + SpatiaLite), migrated by the real migrations."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from ocpp.v16 import call

from app import create_app
from app.charging.models import MeterValue
from app.extensions import db
from app.gateway.ports import OcppVersion
from tests.charging.support import cdrs, count, db_gateway, seed_site, sessions
from tests.gateway.support import charger, run

REGISTER = {"value": "2500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}


@pytest.fixture
def embedded_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a fresh SQLite file, migrated."""
    app = create_app("testing", {"DATABASE_URL": f"sqlite:///{tmp_path / 'plugpool.sqlite'}"})
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_16_session_is_billed_on_sqlite(embedded_app: Flask) -> None:
    site = seed_site(embedded_app)

    async def scenario() -> None:
        async with (
            db_gateway(embedded_app) as gateway,
            charger(gateway, site.station_id, OcppVersion.V16) as cp,
        ):
            await cp.call(call.BootNotification("Home", "PlugPool"))
            start = await cp.call(
                call.StartTransaction(1, site.driver_token, 1000, "2026-11-21T10:00:00Z")
            )
            sample = {"timestamp": "2026-11-21T10:30:00Z", "sampled_value": [REGISTER]}
            values = call.MeterValues(1, [sample], transaction_id=start.transaction_id)
            await cp.call(values)
            await cp.call(values)  # a resend
            await cp.call(call.StopTransaction(4000, "2026-11-21T11:00:00Z", start.transaction_id))

    run(scenario)
    [session] = sessions(embedded_app, site.station_id)
    assert session.kwh == Decimal(3)
    assert count(embedded_app, MeterValue, station_id=site.station_id) == 1
    [cdr] = cdrs(embedded_app)
    assert cdr.total_cost_minor == 90
    assert cdr.charging_periods[0]["dimensions"][0] == {"type": "ENERGY", "volume": Decimal(3)}
