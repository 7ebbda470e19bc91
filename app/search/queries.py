"""Read-only SQL of the search: candidate EVSEs, their connectors, schedules and tariffs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    SmallInteger,
    Time,
    and_,
    case,
    cast,
    exists,
    func,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import aliased, selectinload

from app.core.spatial import SpatialSql, spatial_sql
from app.extensions import db
from app.inventory.enums import UNUSABLE_STATUSES, EvseStatus
from app.inventory.models import AvailabilityWindow, Blackout, Connector, Evse, Location, Party
from app.search.criteria import SearchCriteria, Window
from app.tariffs.models import Tariff

# A hook returns a SELECT of evses.id that cannot be used in the window (bookings, holds).
UnavailabilityHook = Callable[[Window], Select[Any]]
_UNAVAILABILITY_HOOKS: list[UnavailabilityHook] = []


# Aliases built once (aliased() is costly per call). The connector alias keeps the filter's
# EXISTS correlated to the EVSE even in statements that also join connectors.
_MATCHING_CONNECTOR = aliased(Connector)
_NETWORK_PARTY = aliased(Party)


def register_unavailability(hook: UnavailabilityHook) -> None:
    """Let another domain (bookings) exclude EVSEs taken in a window, inside the search SQL."""
    if hook not in _UNAVAILABILITY_HOOKS:
        _UNAVAILABILITY_HOOKS.append(hook)


def unregister_unavailability(hook: UnavailabilityHook) -> None:
    """Remove a hook added by register_unavailability."""
    if hook in _UNAVAILABILITY_HOOKS:
        _UNAVAILABILITY_HOOKS.remove(hook)


def unavailable_evses(window: Window) -> list[ColumnElement[bool]]:
    """Conditions that drop EVSEs some registered domain reports as taken in the window."""
    return [Evse.id.not_in(hook(window)) for hook in _UNAVAILABILITY_HOOKS]


def _execute(stmt: Any) -> Any:
    """Run a read-only Core select on the session's connection, skipping the ORM layer."""
    return db.session.connection().execute(stmt)


def spatial() -> SpatialSql:
    """The spatial SQL for the session's database."""
    return spatial_sql(db.session.get_bind().dialect.name)


def power_w(connector: Any = Connector) -> ColumnElement[int]:
    """A connector's maximum power in W: declared, or volts x amps x phases."""
    if connector is Connector:
        return _POWER_W
    if connector is _MATCHING_CONNECTOR:
        return _MATCHING_POWER_W
    return _power_w(connector)


def _power_w(connector: Any) -> ColumnElement[int]:
    phases = case((connector.power_type == "AC_3_PHASE", 3), else_=1)
    return func.coalesce(
        connector.max_electric_power, connector.max_voltage * connector.max_amperage * phases
    )


# SQL expressions are immutable: the parameterless ones are built once, not per search.
_POWER_W = _power_w(Connector)
_MATCHING_POWER_W = _power_w(_MATCHING_CONNECTOR)


def connector_conditions(
    criteria: SearchCriteria, connector: Any = Connector
) -> list[ColumnElement[bool]]:
    """Conditions one connector must meet for the EVSE to match the connector filters."""
    conditions: list[ColumnElement[bool]] = []
    if criteria.standards:
        conditions.append(connector.standard.in_(criteria.standards))
    if criteria.min_power_kw is not None:
        conditions.append(power_w(connector) >= criteria.min_power_kw * 1000)
    if criteria.current == "DC":
        conditions.append(connector.power_type == "DC")
    elif criteria.current == "AC":
        conditions.append(connector.power_type.startswith("AC"))
    return conditions


def _location_conditions(criteria: SearchCriteria) -> list[ColumnElement[bool]]:
    conditions = [Location.publish.is_(True), Location.deleted_at.is_(None)]
    if criteria.network is not None:
        party = _NETWORK_PARTY
        conditions.append(
            exists().where(
                party.country_code == Location.country_code,
                party.party_id == Location.party_id,
                party.is_own.is_(criteria.network == "own"),
            )
        )
    return conditions


def _area_conditions(criteria: SearchCriteria, sql: SpatialSql) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if criteria.radius_m is not None:
        conditions.append(
            sql.within_radius(
                Location.geog, Location.id, criteria.lat, criteria.lon, criteria.radius_m
            )
        )
    if criteria.bbox is not None:
        box = criteria.bbox
        conditions += [
            sql.within_bbox(Location.geog, Location.id, box),
            Location.latitude.between(box.min_lat, box.max_lat),
            Location.longitude.between(box.min_lon, box.max_lon),
        ]
    return conditions


def _evse_conditions(criteria: SearchCriteria) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Evse.status != EvseStatus.REMOVED.value]
    if criteria.window is not None:
        # One comparison each rather than NOT IN: a stable statement without expanding lists.
        conditions += [Evse.status != status.value for status in sorted(UNUSABLE_STATUSES)]
        conditions += unavailable_evses(criteria.window)
    connector = _MATCHING_CONNECTOR
    wanted = connector_conditions(criteria, connector)
    if wanted:
        conditions.append(exists().where(connector.evse_pk == Evse.id, *wanted))
    return conditions


def _nearest_locations(criteria: SearchCriteria, sql: SpatialSql, k: int) -> Select[Any]:
    """The k nearest usable locations, walking the spatial index nearest-first."""
    order = sql.nearest_first(Location.geog, criteria.lat, criteria.lon)
    where = _location_conditions(criteria) + _area_conditions(criteria, sql)
    return select(Location.id).where(*where).order_by(order).limit(k)


def _party_column(column: Any) -> Any:
    """A party attribute as a per-row lookup: joining the tiny parties table instead lets
    the planner drive the search from it and skip the spatial index."""
    return (
        select(column)
        .where(Party.country_code == Location.country_code, Party.party_id == Location.party_id)
        .scalar_subquery()
    )


_NETWORK_NAME = _party_column(Party.name).label("network_name")
_NETWORK_IS_OWN = _party_column(Party.is_own).label("is_own")


def _row_columns(distance: ColumnElement[float]) -> list[Any]:
    return [
        Evse.id.label("evse_pk"),
        Evse.uid,
        Evse.evse_id,
        Evse.status,
        Location.id.label("location_id"),
        Location.name,
        Location.address,
        Location.city,
        Location.postal_code,
        Location.country,
        Location.latitude,
        Location.longitude,
        Location.time_zone,
        Location.country_code,
        Location.party_id,
        _NETWORK_NAME,
        _NETWORK_IS_OWN,
        distance.label("distance"),
    ]


def _filtered(criteria: SearchCriteria, sql: SpatialSql, nearest_k: int | None) -> Select[Any]:
    distance = sql.distance_m(Location.geog, criteria.lat, criteria.lon)
    stmt = (
        select(*_row_columns(distance))
        .join_from(Evse, Location, Evse.location_id == Location.id)
        .where(*_evse_conditions(criteria))
    )
    if nearest_k is not None:
        return stmt.where(Location.id.in_(_nearest_locations(criteria, sql, nearest_k)))
    return stmt.where(*_location_conditions(criteria), *_area_conditions(criteria, sql))


def nearest_evses(criteria: SearchCriteria, k: int) -> list[Any]:
    """EVSEs passing the SQL filters at the k nearest usable locations (KNN on the index)."""
    stmt = _filtered(criteria, spatial(), k)
    return list(_execute(stmt.order_by(stmt.selected_columns.distance, Evse.id)))


def all_evses(criteria: SearchCriteria) -> list[Any]:
    """Every EVSE in the area passing the SQL filters, nearest first (for counting)."""
    stmt = _filtered(criteria, spatial(), None)
    return list(_execute(stmt.order_by(stmt.selected_columns.distance, Evse.id)))


def evses_near(
    criteria: SearchCriteria, after: tuple[float, int, int] | None, locations: int
) -> list[Any]:
    """The next `locations` locations in the area from the keyset, each with its matching EVSEs.

    Locations are ranked first (a cheap indexed scan over the area), and only those are
    joined to EVSEs and connectors. A location with no matching EVSE still comes back once,
    with evse_pk NULL, so the caller knows how far the batch reached. Rows are ordered by
    (distance, location id, evse id); the caller drops EVSEs at or before the keyset.
    """
    return list(_execute(near_statement(criteria, after, locations)))


def near_statement(
    criteria: SearchCriteria, after: tuple[float, int, int] | None, locations: int
) -> Select[Any]:
    """The statement of evses_near."""
    sql = spatial()
    distance = sql.distance_m(Location.geog, criteria.lat, criteria.lon)
    ranked = select(Location.id.label("id"), distance.label("distance")).where(
        *_location_conditions(criteria), *_area_conditions(criteria, sql)
    )
    if after is not None:
        ranked = ranked.where(
            or_(distance > after[0], and_(distance == after[0], Location.id >= after[1]))
        )
    near = ranked.order_by(distance, Location.id).limit(locations).subquery("near")
    connector_columns = [
        Connector.ocpi_id.label("connector_ocpi_id"),
        Connector.standard,
        Connector.format,
        Connector.power_type,
        power_w().label("power_w"),
        Connector.tariff_ids,
    ]
    return (
        select(*_row_columns(near.c.distance), *connector_columns)
        .select_from(near)
        .join(Location, Location.id == near.c.id)
        .outerjoin(Evse, and_(Evse.location_id == near.c.id, *_evse_conditions(criteria)))
        .outerjoin(Connector, Connector.evse_pk == Evse.id)
        .order_by(near.c.distance, near.c.id, Evse.id, Connector.id)
    )


def count_candidates(criteria: SearchCriteria) -> int:
    """How many EVSEs pass the SQL filters."""
    stmt = _filtered(criteria, spatial(), None).subquery()
    return _execute(select(func.count()).select_from(stmt)).scalar_one()


class ConnectorRow(NamedTuple):
    """A connector as the search shows and prices it."""

    ocpi_id: str
    standard: str
    format: str
    power_type: str
    power_w: int
    tariff_ids: list[str]


def connectors_of(evse_pks: Iterable[int]) -> dict[int, list[ConnectorRow]]:
    """Connectors of the EVSEs (with power in W), grouped by EVSE, in one query."""
    ids = list(evse_pks)
    grouped: dict[int, list[ConnectorRow]] = defaultdict(list)
    if not ids:
        return grouped
    stmt = (
        select(
            Connector.evse_pk,
            Connector.ocpi_id,
            Connector.standard,
            Connector.format,
            Connector.power_type,
            power_w().label("power_w"),
            Connector.tariff_ids,
        )
        .where(Connector.evse_pk.in_(ids))
        .order_by(Connector.evse_pk, Connector.id)
    )
    for evse_pk, *fields in _execute(stmt):
        grouped[evse_pk].append(ConnectorRow(*fields))
    return grouped


def availability_of(
    location_ids: Iterable[int], window: Window
) -> tuple[dict[int, list[tuple[int, time, time]]], dict[int, list[tuple[date, date]]]]:
    """Weekly slots and nearby blackouts of the locations, in one round trip."""
    ids = list(location_ids)
    slots: dict[int, list[tuple[int, time, time]]] = defaultdict(list)
    blackouts: dict[int, list[tuple[date, date]]] = defaultdict(list)
    if not ids:
        return slots, blackouts
    # A day either side of the UTC dates covers every time zone's local dates.
    first = window.start.date() - timedelta(days=1)
    last = window.end.date() + timedelta(days=1)
    weekly = select(
        AvailabilityWindow.location_id,
        AvailabilityWindow.weekday,
        AvailabilityWindow.start_time,
        AvailabilityWindow.end_time,
        cast(null(), Date).label("start_date"),
        cast(null(), Date).label("end_date"),
    ).where(AvailabilityWindow.location_id.in_(ids))
    dates = select(
        Blackout.location_id,
        cast(null(), SmallInteger),
        cast(null(), Time),
        cast(null(), Time),
        Blackout.start_date,
        Blackout.end_date,
    ).where(Blackout.location_id.in_(ids), Blackout.end_date >= first, Blackout.start_date <= last)
    for location_id, weekday, start, end, first_day, last_day in _execute(union_all(weekly, dates)):
        if weekday is None:
            blackouts[location_id].append((first_day, last_day))
        else:
            slots[location_id].append((weekday, start, end))
    return slots, blackouts


def tariff_versions(keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], Any]:
    """(row id, last_updated) of each live tariff, by (country_code, party_id, OCPI id)."""
    stmt = select(
        Tariff.country_code, Tariff.party_id, Tariff.ocpi_id, Tariff.id, Tariff.last_updated
    ).where(
        tuple_(Tariff.country_code, Tariff.party_id, Tariff.ocpi_id).in_(list(keys)),
        Tariff.deleted_at.is_(None),
    )
    return {(cc, pid, oid): (pk, updated) for cc, pid, oid, pk, updated in _execute(stmt)}


def tariffs_by_id(ids: Iterable[int]) -> list[Tariff]:
    """Full tariff rows by primary key."""
    return list(db.session.scalars(select(Tariff).where(Tariff.id.in_(list(ids)))))


def public_location(location_id: int) -> Location | None:
    """A published, live location with its EVSEs, connectors and schedule, or None."""
    query = (
        select(Location)
        .where(Location.id == location_id, Location.publish.is_(True))
        .where(Location.deleted_at.is_(None))
        .options(
            selectinload(Location.evses).selectinload(Evse.connectors),
            selectinload(Location.availability),
            selectinload(Location.blackouts),
        )
    )
    return db.session.scalars(query).one_or_none()
