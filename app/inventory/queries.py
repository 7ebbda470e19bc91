"""Read-only inventory selects."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import inspect, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.extensions import db
from app.inventory.models import ChargeStation, Evse, Location, Party
from app.tariffs import queries as tariff_queries
from app.tariffs.models import Tariff
from app.tariffs.simple_price import price_from_elements

_LISTING_LOAD = (
    selectinload(Location.evses).selectinload(Evse.connectors),
    selectinload(Location.availability),
    selectinload(Location.blackouts),
    selectinload(Location.stations),
)


def own_party(country_code: str, party_id: str) -> Party | None:
    """Return PlugPool's own party row, or None before it is created."""
    query = select(Party).where(Party.country_code == country_code, Party.party_id == party_id)
    return db.session.scalars(query).one_or_none()


def listing(location_id: int) -> Location | None:
    """Return an owner listing (removed ones too), with its EVSEs and schedule, or None."""
    query = select(Location).where(Location.id == location_id, Location.owner_id.is_not(None))
    return db.session.scalars(query.options(*_LISTING_LOAD)).one_or_none()


def listings_of(user: User | None) -> list[Location]:
    """Return the live listings of one owner (or of every owner when user is None), newest first."""
    query = select(Location).where(Location.owner_id.is_not(None), Location.deleted_at.is_(None))
    if user is not None:
        query = query.where(Location.owner_id == user.id)
    query = query.options(*_LISTING_LOAD).order_by(Location.id.desc())
    return list(db.session.scalars(query))


def station_by_station_id(station_id: str) -> ChargeStation | None:
    """Return a charge station by its OCPP identity, or None."""
    query = select(ChargeStation).where(ChargeStation.station_id == station_id)
    return db.session.scalars(query).one_or_none()


def location_by_id(location_id: int) -> Location | None:
    """Return any location by primary key, or None."""
    return db.session.get(Location, location_id)


def listing_tariff(location: Location) -> Tariff | None:
    """The OCPI tariff behind a listing's price (all its connectors share it)."""
    for evse in location.evses:
        for connector in evse.connectors:
            for tariff_id in connector.tariff_ids:
                tariff = tariff_queries.tariff_by_ocpi_id(
                    location.country_code, location.party_id, tariff_id
                )
                if tariff is not None:
                    return tariff
    return None


def listing_view(location: Location, new_password: str | None = None) -> dict[str, Any]:
    """A listing as the API shows it: the OCPI rows plus the owner's price and stations."""
    tariff = listing_tariff(location)
    price = None
    if tariff is not None:
        price = {
            **price_from_elements(tariff.currency, tariff.elements),
            "tariff_id": tariff.ocpi_id,
        }
    view = {attr.key: getattr(location, attr.key) for attr in inspect(Location).column_attrs}
    view.update(
        evses=location.evses,
        availability=location.availability,
        blackouts=location.blackouts,
        price=price,
        stations=[station_view(station) for station in location.stations],
    )
    if new_password is not None:
        view["stations"][-1]["ocpp_password"] = new_password
    return view


def station_view(station: ChargeStation) -> dict[str, Any]:
    """A charge station as the API shows it (never its password hash)."""
    base = current_app.config["GATEWAY_PUBLIC_URL"].rstrip("/")
    return {
        "station_id": station.station_id,
        "ocpp_url": f"{base}/{station.station_id}",
        "protocol": station.protocol,
        "connected": station.connected,
        "last_seen_at": station.last_seen_at,
        "firmware_version": station.firmware_version,
        "firmware_status": station.firmware_status,
        "firmware_status_at": station.firmware_status_at,
        "log_status": station.log_status,
    }
