"""Helpers for charging tests: committed demo data, a gateway on the DB-backed port, DB reads."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.bookings.enums import BookingStatus
from app.bookings.models import Booking
from app.charging.models import Cdr, ChargingSession, DriverToken, MeterValue
from app.charging.port import DbStationPort
from app.charging.tokens import new_driver_token
from app.core.clock import utcnow
from app.core.outbox import OutboxEvent
from app.core.security import hash_secret
from app.extensions import db
from app.gateway.bus import LocalBus
from app.gateway.server import Gateway, GatewayConfig, run_gateway
from app.inventory.models import ChargeStation, Connector, Evse, Location, Party
from app.tariffs.models import Tariff
from tests.factories import point
from tests.gateway.support import DEADLINE, PASSWORD

T = TypeVar("T")
_HASH = hash_secret(PASSWORD)
ENERGY_PRICE = Decimal("0.30")
ENERGY_COMPONENT = {"type": "ENERGY", "price": ENERGY_PRICE, "step_size": 1}


@dataclass(frozen=True)
class Site:
    """Committed demo data: one approved station with one EVSE, a pending one, a driver."""

    station_id: str
    pending_station_id: str
    legacy_station_id: str
    evse_pk: int
    location_pk: int
    owner_id: int
    driver_id: int
    driver_token: str
    tariff_id: str


def seed_site(
    app: Flask,
    prefix: str = "CS",
    capabilities: list[str] | None = None,
    price: Decimal = ENERGY_PRICE,
) -> Site:
    """Create and commit a listing with its station, a tariff (per kWh) and a driver."""
    with app.app_context():
        party = _own_party(app)
        owner, driver, tariff = _owner_driver_tariff(party, prefix, price)
        location = _location(party, owner, prefix)
        # The charger has connected once, so its listing may be booked (bookings.rules).
        station = _station(f"{prefix}-1", location, last_seen_at=utcnow())
        pending = _station(f"{prefix}-PENDING", location, approved=False)
        legacy = _station(f"{prefix}-LEGACY", location, allow_missing_subprotocol=True)
        evse = _evse(location, station, tariff, prefix, capabilities or ["RESERVABLE"])
        db.session.add_all([location, station, pending, legacy, evse])
        db.session.flush()
        link = new_driver_token(driver.id, party, uid=f"{prefix}-DRIVER")
        db.session.commit()
        return Site(
            station.station_id,
            pending.station_id,
            legacy.station_id,
            evse.id,
            location.id,
            owner.id,
            driver.id,
            link.uid,
            tariff.ocpi_id,
        )


def _owner_driver_tariff(party: Party, prefix: str, price: Decimal) -> tuple[User, User, Tariff]:
    """An owner, a driver and a per-kWh tariff at `price` under our party (flushed)."""
    owner = User(email=f"{prefix}-owner@example.test", password_hash=_HASH, name="Owner")
    owner.role = Role.OWNER.value
    driver = User(email=f"{prefix}-driver@example.test", password_hash=_HASH, name="Driver")
    db.session.add_all([owner, driver])
    tariff = Tariff(
        country_code=party.country_code,
        party_id=party.party_id,
        ocpi_id=f"{prefix}-T1",
        currency="EUR",
        elements=[{"price_components": [{**ENERGY_COMPONENT, "price": price}]}],
    )
    db.session.add(tariff)
    db.session.flush()
    return owner, driver, tariff


def _own_party(app: Flask) -> Party:
    """Return the own party, creating it."""
    party = db.session.scalars(select(Party).where(Party.is_own.is_(True))).first()
    if party is None:
        party = Party(
            country_code=app.config["OWN_COUNTRY_CODE"],
            party_id=app.config["OWN_PARTY_ID"],
            name="PlugPool",
            roles=["CPO", "EMSP"],
            is_own=True,
        )
        db.session.add(party)
        db.session.flush()
    return party


def _location(party: Party, owner: User, prefix: str) -> Location:
    """Return a location in Amsterdam (UTC time zone keeps the arithmetic obvious)."""
    return Location(
        country_code=party.country_code,
        party_id=party.party_id,
        ocpi_id=f"{prefix}-LOC",
        owner_id=owner.id,
        publish=True,
        name="Home charger",
        address="Street 1",
        city="Amsterdam",
        postal_code="1011AB",
        country="NLD",
        latitude=Decimal("52.370216"),
        longitude=Decimal("4.895168"),
        geog=point("52.370216", "4.895168"),
        time_zone="UTC",
    )


def _station(station_id: str, location: Location, **flags: Any) -> ChargeStation:
    """Return a charge station whose password is tests.gateway.support.PASSWORD."""
    return ChargeStation(station_id=station_id, password_hash=_HASH, location=location, **flags)


def _evse(
    location: Location, station: ChargeStation, tariff: Tariff, prefix: str, capabilities: list[str]
) -> Evse:
    """Return EVSE 1 of the station with an 11 kW Type 2 socket priced by the tariff."""
    evse = Evse(
        uid=f"{prefix}-EVSE-1",
        evse_id=f"NL*PLG*E{prefix}*1",
        status="AVAILABLE",
        capabilities=capabilities,
        station=station,
        ocpp_evse_id=1,
        location=location,
    )
    evse.connectors.append(
        Connector(
            ocpi_id="1",
            standard="IEC_62196_T2",
            format="SOCKET",
            power_type="AC_3_PHASE",
            max_voltage=230,
            max_amperage=16,
            max_electric_power=11000,
            tariff_ids=[tariff.ocpi_id],
        )
    )
    return evse


@contextlib.asynccontextmanager
async def db_gateway(app: Flask, **config: Any) -> AsyncIterator[Gateway]:
    """Run a gateway on a free loopback port with the DB-backed port and a LocalBus."""
    settings = GatewayConfig(host="127.0.0.1", port=0, **config)
    async with run_gateway(DbStationPort(app), LocalBus(), settings) as gateway:
        yield gateway


def read(app: Flask, query: Callable[[], T]) -> T:
    """Run a read in a fresh app context (the gateway's threads committed the data)."""
    with app.app_context():
        return query()


def sessions(app: Flask, station_id: str) -> list[ChargingSession]:
    """Return the sessions of a station, detached, oldest first."""

    def query() -> list[ChargingSession]:
        rows = db.session.scalars(
            select(ChargingSession)
            .where(ChargingSession.station_id == station_id)
            .order_by(ChargingSession.id)
        )
        result = list(rows)
        db.session.expunge_all()
        return result

    return read(app, query)


def cdrs(app: Flask) -> list[Cdr]:
    """Return every CDR, detached."""

    def query() -> list[Cdr]:
        result = list(db.session.scalars(select(Cdr).order_by(Cdr.id)))
        db.session.expunge_all()
        return result

    return read(app, query)


def count(app: Flask, model: type, **where: Any) -> int:
    """Count rows of a model matching equality filters."""

    def query() -> int:
        statement = select(func.count()).select_from(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return int(db.session.scalar(statement) or 0)

    return read(app, query)


def meter_rows(app: Flask, station_id: str) -> int:
    """Count a station's stored meter values."""
    return count(app, MeterValue, station_id=station_id)


def outbox_topics(app: Flask) -> list[str]:
    """Return the topics of every outbox event, oldest first."""
    return read(
        app, lambda: list(db.session.scalars(select(OutboxEvent.topic).order_by(OutboxEvent.id)))
    )


def driver_tokens(app: Flask, user_id: int) -> list[str]:
    """Return a driver's token uids."""
    return read(
        app,
        lambda: list(
            db.session.scalars(select(DriverToken.uid).where(DriverToken.user_id == user_id))
        ),
    )


def add_booking(app: Flask, site: Site, starts_at: datetime, ends_at: datetime) -> int:
    """Commit a confirmed booking of the site's EVSE by its driver (no payment behind it)."""
    with app.app_context():
        booking = Booking(
            driver_id=site.driver_id,
            location_id=site.location_pk,
            evse_id=site.evse_pk,
            starts_at=starts_at,
            ends_at=ends_at,
            status=BookingStatus.CONFIRMED.value,
            amount_minor=660,
            currency="EUR",
            policy={"name": "moderate", "cutoff_hours": 12, "fee_percent": 50},
        )
        db.session.add(booking)
        db.session.commit()
        return booking.id


async def eventually(check: Callable[[], T], timeout: float = DEADLINE) -> T:
    """Poll a (blocking) check in a thread until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Fleet:
    """Committed demo data for many chargers: listings, stations with one EVSE each, a driver."""

    station_ids: list[str]
    evse_pks: list[int]
    driver_token: str


def seed_fleet(
    app: Flask,
    count: int,
    prefix: str = "FL",
    password_hash: str = _HASH,
    per_location: int | None = None,
) -> Fleet:
    """Create and commit `count` approved stations (one EVSE each), `per_location` a listing
    (all at one by default; listings spread over a few km of Amsterdam), and a driver."""
    with app.app_context():
        party = _own_party(app)
        owner, driver, tariff = _owner_driver_tariff(party, prefix, ENERGY_PRICE)
        ids = [f"{prefix}{index:05d}" for index in range(count)]
        evses = []
        location = None
        for index, station_id in enumerate(ids):
            if location is None or (per_location and index % per_location == 0):
                location = _location(party, owner, f"{prefix}{index:05d}")
                offset = index // (per_location or count)
                lat = Decimal("52.370216") + Decimal(offset % 40) * Decimal("0.002")
                lon = Decimal("4.895168") + Decimal(offset // 40) * Decimal("0.003")
                location.latitude, location.longitude = lat, lon
                location.geog = point(str(lat), str(lon))
                db.session.add(location)
            station = ChargeStation(
                station_id=station_id,
                password_hash=password_hash,
                location=location,
                last_seen_at=utcnow(),  # connected once: its listing may be booked
            )
            evses.append(_evse(location, station, tariff, station_id, ["RESERVABLE"]))
            db.session.add(evses[-1])
        db.session.flush()
        link = new_driver_token(driver.id, party, uid=f"{prefix}-DRIVER")
        db.session.commit()
        return Fleet(ids, [evse.id for evse in evses], link.uid)
