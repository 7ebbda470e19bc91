"""Two PlugPools over real HTTP: one, in its own process and database, is the partner CPO
(DE*CPX, pages of 3); the other, on the test database, is the eMSP that pulls and receives.

Handshake by `flask ocpi connect`, a first full pull over several pages (tariffs, locations),
an incremental pull that fetches only what changed, and an EVSE status change the CPO
pushes, visible in the eMSP's search next to the eMSP's own chargers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from geoalchemy2.elements import WKTElement
from sqlalchemy import func, select, update

from app import create_app
from app.accounts.models import User
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import Connector, Evse, Location, Party
from app.ocpi.models import OcpiSync
from app.ocpi.tasks import deliver_outbox
from app.tariffs.models import Tariff
from tests.support.plugpool_process import plugpool_process, scratch_database

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CPO_SETTINGS = {
    "OWN_COUNTRY_CODE": "DE",
    "OWN_PARTY_ID": "CPX",
    "OWN_PARTY_NAME": "ChargeX",
    "OCPI_PAGE_LIMIT": "3",
}
LAT, LON = Decimal("52.090737"), Decimal("5.121420")

pytestmark = pytest.mark.slow


def _location(party: tuple[str, str], n: int, owner_id: int, tariff_id: str | None) -> Location:
    lat = LAT + Decimal(n) / 10000
    location = Location(
        country_code=party[0],
        party_id=party[1],
        ocpi_id=f"{party[1]}-LOC{n:03d}",
        owner_id=owner_id,
        publish=True,
        name=f"{party[1]} site {n}",
        address=f"Street {n}",
        city="Utrecht",
        country="NLD",
        latitude=lat,
        longitude=LON,
        geog=WKTElement(f"POINT({LON} {lat})", srid=4326),
        time_zone="Europe/Amsterdam",
    )
    evse = Evse(uid=f"{party[1]}-E{n:03d}", evse_id=f"{party[0]}*{party[1]}*E{n:03d}")
    evse.status = "AVAILABLE"
    evse.connectors.append(
        Connector(
            ocpi_id="1",
            standard="IEC_62196_T2",
            format="SOCKET",
            power_type="AC_3_PHASE",
            max_voltage=230,
            max_amperage=16,
            max_electric_power=11000,
            tariff_ids=[tariff_id] if tariff_id else [],
        )
    )
    location.evses.append(evse)
    return location


def _seed(app: Flask, party: tuple[str, str], name: str, count: int, tariff: bool) -> None:
    """Own locations (back-dated to T0 + n hours), and an energy tariff they name."""
    with app.app_context():
        db.session.add(Party(country_code=party[0], party_id=party[1], name=name, is_own=True))
        owner = User(
            email=f"owner@{party[1].lower()}.test", password_hash="x", name="Owner", role="owner"
        )
        db.session.add(owner)
        db.session.flush()
        if tariff:
            db.session.add(
                Tariff(
                    country_code=party[0],
                    party_id=party[1],
                    ocpi_id="T-AC",
                    currency="EUR",
                    elements=[
                        {"price_components": [{"type": "ENERGY", "price": 0.5, "step_size": 1}]}
                    ],
                )
            )
        for n in range(count):
            db.session.add(_location(party, n, owner.id, "T-AC" if tariff else None))
        db.session.flush()
        for n in range(count):
            where = Location.ocpi_id == f"{party[1]}-LOC{n:03d}"
            stamp = T0 + timedelta(hours=n)
            db.session.execute(update(Location).where(where).values(last_updated=stamp))
        db.session.execute(update(Tariff).values(last_updated=T0))
        db.session.commit()


@pytest.fixture
def cpo() -> Iterator[tuple[Flask, str]]:
    """The partner CPO: its own database and process; the Flask app is its operator's CLI."""
    with scratch_database() as url:
        app = create_app("testing", {"DATABASE_URL": url, **CPO_SETTINGS})
        _seed(app, ("DE", "CPX"), "ChargeX", 7, tariff=True)
        with plugpool_process(url, **CPO_SETTINGS) as base:
            app.config["PUBLIC_BASE_URL"] = base
            try:
                yield app, base
            finally:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()


def _read(app: Flask, work: Any) -> Any:
    with app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def _search(app: Flask) -> list[dict[str, Any]]:
    client = app.test_client()
    params = {"lat": str(LAT), "lon": str(LON), "radius_m": 5000, "limit": 100}
    reply = client.get("/api/v1/chargers", query_string=params)
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["results"]


def test_emsp_pulls_a_partner_cpo_and_shows_its_pushes_in_search(plugpool, cpo):
    cpo_app, cpo_base = cpo
    emsp = plugpool.app
    _seed(emsp, ("NL", "PLG"), "PlugPool", 2, tariff=False)

    # The CPO's operator issues a TOKEN_A; ours connects, then pulls everything in pages of 3.
    added = cpo_app.test_cli_runner().invoke(args=["ocpi", "partner-add", "plugpool-emsp"])
    token_a = added.output.split("TOKEN_A: ")[1].strip()
    connected = emsp.test_cli_runner().invoke(
        args=["ocpi", "connect", "--name", "chargex", "--", f"{cpo_base}/ocpi/versions", token_a]
    )
    assert connected.exit_code == 0, connected.output
    assert "tariffs: ok; 1 received, 1 stored, 0 refused" in connected.output
    assert "locations: ok; 7 received, 7 stored, 0 refused" in connected.output

    def pulled() -> dict[str, Any]:
        syncs = db.session.scalars(select(OcpiSync).order_by(OcpiSync.module)).all()
        return {
            "locations": db.session.scalar(
                select(func.count()).select_from(Location).where(Location.party_id == "CPX")
            ),
            "syncs": [(s.module, s.status, s.done, s.total, s.full_due) for s in syncs],
            "synced_until": [s.synced_until for s in syncs],
        }

    # The other direction: we registered with the CPO, and we are a CPO too, so the CPO took
    # our party into its inventory and scheduled its own first full pull of ours.
    def theirs() -> tuple[Any, ...]:
        party = db.session.scalars(select(Party).where(Party.party_id == "PLG")).one()
        syncs = db.session.scalars(select(OcpiSync).order_by(OcpiSync.module)).all()
        return party.name, party.is_own, [(s.module, s.status, s.full_due) for s in syncs]

    assert _read(cpo_app, theirs) == (
        "PlugPool",
        False,
        [("locations", "NEVER", True), ("tariffs", "NEVER", True)],
    )

    state = _read(emsp, pulled)
    assert state["locations"] == 7
    assert state["syncs"] == [("locations", "OK", 7, 7, False), ("tariffs", "OK", 1, 1, False)]
    assert all(state["synced_until"])

    results = _search(emsp)
    networks = {r["evse"]["uid"]: (r["network"]["name"], r["network"]["own"]) for r in results}
    assert networks["CPX-E000"] == ("ChargeX", False)
    assert networks["PLG-E000"] == ("PlugPool", True)
    assert len(networks) == 9
    partner_result = next(r for r in results if r["evse"]["uid"] == "CPX-E003")
    # The reference hour on 11 kW at the partner's 0.50 EUR/kWh (no VAT given): 5.50 EUR.
    assert partner_result["quote"]["amount_minor"] == 550
    assert partner_result["quote"]["tariff_id"] == "T-AC"

    # One change at the CPO; the incremental pull (date_from) fetches just that location.
    def rename() -> None:
        location = db.session.scalars(
            select(Location).where(Location.ocpi_id == "CPX-LOC005")
        ).one()
        inventory.update_listing(
            db.session.get(User, location.owner_id), location.id, {"name": "New"}
        )

    _read(cpo_app, rename)
    again = emsp.test_cli_runner().invoke(args=["ocpi", "sync", "chargex"])
    assert again.exit_code == 0, again.output
    assert "locations: ok; 1 received, 1 stored, 0 refused" in again.output
    assert "tariffs: ok; 0 received" in again.output
    names = _read(
        emsp,
        lambda: db.session.scalar(select(Location.name).where(Location.ocpi_id == "CPX-LOC005")),
    )
    assert names == "New"

    # A status change at the CPO is pushed to our receiver and shows in our search.
    def charging() -> int:
        evse = db.session.scalars(select(Evse).where(Evse.uid == "CPX-E002")).one()
        inventory.set_evse_status(evse, "CHARGING")
        return deliver_outbox(10)

    assert _read(cpo_app, charging) >= 1
    statuses = {r["evse"]["uid"]: r["status"] for r in _search(emsp)}
    assert statuses["CPX-E002"] == "CHARGING" and statuses["CPX-E001"] == "AVAILABLE"

    # A full pull on demand re-reads every page and keeps the pushed status (newer).
    full = emsp.test_cli_runner().invoke(args=["ocpi", "sync", "chargex", "--full"])
    assert "locations: ok; 7 received" in full.output
    statuses = {r["evse"]["uid"]: r["status"] for r in _search(emsp)}
    assert statuses["CPX-E002"] == "CHARGING"
