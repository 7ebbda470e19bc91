"""Read-only selects of the locations PlugPool publishes to partners.

A page is loaded with four plain column queries (locations, EVSEs, connectors, schedules)
into light views with the models' attribute names, so `serialise` works on both; ORM
identity-map loading was three quarters of a page's time.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, Subquery, Text, bindparam, cast, select
from sqlalchemy.orm import selectinload

from app.core.db import json_loads
from app.extensions import db
from app.inventory.models import AvailabilityWindow, Blackout, Connector, Evse, Location


def published_filters() -> list[ColumnElement[bool]]:
    """Own, published, not deleted (the own party is read from the app at execution)."""
    return list(_published_filters())


@functools.cache
def _published_filters() -> tuple[ColumnElement[bool], ...]:
    # Built once: a statement made of constant parts can be cached whole by its callers.
    return (
        Location.country_code == bindparam("own_country_code", callable_=_own_country_code),
        Location.party_id == bindparam("own_party_id", callable_=_own_party_id),
        Location.publish.is_(True),
        Location.deleted_at.is_(None),
    )


def _own_country_code() -> str:
    return current_app.config["OWN_COUNTRY_CODE"]


def _own_party_id() -> str:
    return current_app.config["OWN_PARTY_ID"]


def published_locations() -> Select[Any]:
    """Published locations as ORM objects, with what a Location object needs."""
    return (
        select(Location)
        .where(*published_filters())
        .options(
            selectinload(Location.evses).selectinload(Evse.connectors),
            selectinload(Location.availability),
            selectinload(Location.blackouts),
        )
    )


def published_location(ocpi_id: str) -> Location | None:
    """One published own location by its OCPI id."""
    return db.session.scalars(published_locations().where(Location.ocpi_id == ocpi_id)).first()


def location_views(page: Subquery) -> list[SimpleNamespace]:
    """The page's locations with EVSEs, connectors, windows and blackouts, in page order.

    One joined query (location x EVSE x connector rows) instead of one per level: a round
    trip and a statement per level cost more than the repeated location columns.
    """
    query = (
        select(*_LOCATION_COLUMNS, *_EVSE_COLUMNS, *_CONNECTOR_COLUMNS)
        .select_from(Location)
        .join(page, Location.id == page.c.id)
        .outerjoin(Evse, Evse.location_id == Location.id)
        .outerjoin(Connector, Connector.evse_pk == Evse.id)
        .order_by(page.c.last_updated, page.c.id, Evse.id, Connector.id)
    )
    locations: dict[int, SimpleNamespace] = {}
    evses: dict[int, SimpleNamespace] = {}
    split_evse = len(_LOCATION_COLUMNS)
    split_connector = split_evse + len(_EVSE_COLUMNS)
    for row in db.session.execute(query):
        location = locations.get(row[0])
        if location is None:
            location = locations[row[0]] = _view(_LOCATION_NAMES, row[:split_evse])
            location.evses, location.availability, location.blackouts = [], [], []
        evse_id = row[split_evse]
        if evse_id is None:
            continue
        evse = evses.get(evse_id)
        if evse is None:
            evse = evses[evse_id] = _view(_EVSE_NAMES, row[split_evse:split_connector])
            evse.connectors = []
            location.evses.append(evse)
        if row[split_connector] is not None:
            evse.connectors.append(_view(_CONNECTOR_NAMES, row[split_connector:]))
    _add_schedules(page, locations)
    return list(locations.values())


def _add_schedules(page: Subquery, locations: dict[int, SimpleNamespace]) -> None:
    windows = select(AvailabilityWindow).join(page, AvailabilityWindow.location_id == page.c.id)
    for window in db.session.scalars(windows.order_by(AvailabilityWindow.id)):
        locations[window.location_id].availability.append(window)
    blackouts = select(Blackout).join(page, Blackout.location_id == page.c.id)
    for blackout in db.session.scalars(blackouts.order_by(Blackout.id)):
        locations[blackout.location_id].blackouts.append(blackout)


def _view(names: tuple[tuple[str, bool], ...], values: Any) -> SimpleNamespace:
    """Row values as an attribute view; JSON (selected as text) parsed unless trivially empty."""
    fields = {}
    for (name, is_json), value in zip(names, values, strict=True):
        if is_json and value is not None:
            value = [] if value == "[]" else json_loads(value)
        fields[name] = value
    return SimpleNamespace(**fields)


def _names(columns: tuple[Any, ...]) -> tuple[tuple[str, bool], ...]:
    """(attribute name, is JSON text) per selected column; labels are <prefix>_<name>."""
    names = []
    for column in columns:
        name = column.key.split("_", 1)[1]
        names.append((name.removesuffix("__json"), name.endswith("__json")))
    return tuple(names)


def _json_text(column: Any) -> Any:
    # As text: most rows hold "[]", which is cheaper to recognise than to parse.
    return cast(column, Text).label(f"{column.key}__json")


def _labelled(prefix: str, columns: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(column.label(f"{prefix}_{column.key}") for column in columns)


_LOCATION_COLUMNS = _labelled(
    "l",
    (
        Location.id,
        Location.country_code,
        Location.party_id,
        Location.ocpi_id,
        Location.publish,
        Location.name,
        Location.address,
        Location.city,
        Location.postal_code,
        Location.state,
        Location.country,
        Location.latitude,
        Location.longitude,
        Location.time_zone,
        Location.parking_type,
        _json_text(Location.facilities),
        _json_text(Location.directions),
        _json_text(Location.images),
        _json_text(Location.opening_times),
        Location.charging_when_closed,
        Location.last_updated,
    ),
)
_EVSE_COLUMNS = _labelled(
    "e",
    (
        Evse.id,
        Evse.location_id,
        Evse.uid,
        Evse.evse_id,
        Evse.status,
        _json_text(Evse.capabilities),
        Evse.floor_level,
        Evse.physical_reference,
        _json_text(Evse.parking_restrictions),
        Evse.last_updated,
    ),
)
_CONNECTOR_COLUMNS = _labelled(
    "c",
    (
        Connector.evse_pk,
        Connector.ocpi_id,
        Connector.standard,
        Connector.format,
        Connector.power_type,
        Connector.max_voltage,
        Connector.max_amperage,
        Connector.max_electric_power,
        _json_text(Connector.tariff_ids),
        Connector.terms_and_conditions,
        Connector.last_updated,
    ),
)
_LOCATION_NAMES = _names(_LOCATION_COLUMNS)
_EVSE_NAMES = _names(_EVSE_COLUMNS)
_CONNECTOR_NAMES = _names(_CONNECTOR_COLUMNS)
