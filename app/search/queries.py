"""Read-only SQL of the search: candidate EVSEs, their connectors, schedules and tariffs."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any, NamedTuple

import orjson
import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased, selectinload

from app.core.spatial import BBox, SpatialSql, spatial_sql
from app.extensions import db
from app.inventory.enums import UNUSABLE_STATUSES, EvseStatus
from app.inventory.models import AvailabilityWindow, Blackout, Connector, Evse, Location, Party
from app.search.criteria import SearchCriteria, Window
from app.tariffs.models import Tariff

# A hook returns a SELECT of evses.id that cannot be used in the window (bookings, holds).
# It is compiled once with window.start/end as bind parameters: build the SQL from those and
# from database functions only, never from values computed in Python at call time.
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


# The connector's tariff ids as JSON text: orjson reads it several times faster than the
# driver's JSON loader would.
_TARIFF_IDS = cast(Connector.tariff_ids, String).label("tariff_ids")


@lru_cache(maxsize=4096)
def tariff_ids(text: str | None) -> tuple[str, ...]:
    """The tariff ids of a connector from the JSON text the search SQL returns.

    Cached: connectors name the same few tariffs, in the same few texts.
    """
    return tuple(orjson.loads(text)) if text else ()


# Separators of the text the SQL aggregates: OCPI ids and times are printable, one line each.
_FIELD, _RECORD = "|", "\n"


def _schedule_columns(criteria: SearchCriteria, first_day: Any, last_day: Any) -> list[Any]:
    """A location's weekly slots and the blackouts near the window, as text (window only)."""
    if criteria.window is None:
        return []
    slot = AvailabilityWindow
    slots = select(
        func.aggregate_strings(
            cast(slot.weekday, String)
            + _FIELD
            + cast(slot.start_time, String)
            + _FIELD
            + cast(slot.end_time, String),
            _RECORD,
        )
    ).where(slot.location_id == Location.id)
    dates = select(
        func.aggregate_strings(
            cast(Blackout.start_date, String) + _FIELD + cast(Blackout.end_date, String), _RECORD
        )
    ).where(
        Blackout.location_id == Location.id,
        Blackout.end_date >= first_day,
        Blackout.start_date <= last_day,
    )
    return [slots.scalar_subquery().label("slots"), dates.scalar_subquery().label("blackouts")]


def tariffs_column(sql: SpatialSql, connector: Any = Connector) -> Any:
    """The live tariffs a connector names, as text lines "row id|last_updated|OCPI id"."""
    line = cast(Tariff.id, String) + _FIELD + cast(Tariff.last_updated, String) + _FIELD
    return (
        select(func.aggregate_strings(line + Tariff.ocpi_id, _RECORD))
        .where(
            Tariff.country_code == Location.country_code,
            Tariff.party_id == Location.party_id,
            sql.json_has_string(connector.tariff_ids, Tariff.ocpi_id),
            Tariff.deleted_at.is_(None),
        )
        .scalar_subquery()
        .label("tariffs")
    )


def _row_columns(
    criteria: SearchCriteria, distance: ColumnElement[float], days: tuple[Any, Any]
) -> list[Any]:
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
        *_schedule_columns(criteria, *days),
    ]


def _window_days(criteria: SearchCriteria) -> tuple[Any, Any]:
    """UTC dates a day either side of the window: they cover every zone's local dates."""
    if criteria.window is None:
        return None, None
    return (
        criteria.window.start.date() - timedelta(days=1),
        criteria.window.end.date() + timedelta(days=1),
    )


def _filtered(criteria: SearchCriteria, sql: SpatialSql, nearest_k: int | None) -> Select[Any]:
    distance = sql.distance_m(Location.geog, criteria.lat, criteria.lon)
    stmt = (
        select(*_row_columns(criteria, distance, _window_days(criteria)))
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

    Only locations with at least one EVSE passing the SQL filters count (nearest first
    through the spatial index); they come joined to those EVSEs, their connectors, the tariff
    versions the connectors name and, for a window, the schedules: one round trip. Rows are
    ordered by (distance, location id, evse id); the caller drops EVSEs at or before the keyset.
    """
    bind = _read_bind()
    # SpatiaLite's index frame is computed from the centre: its statements are built per search.
    if bind.dialect.name != "postgresql":
        return list(db.session.connection().execute(near_statement(criteria, after, locations)))
    if isinstance(bind, Engine):
        return _run_pooled(bind, criteria, after, locations)
    # Bound to a connection already (an outer transaction): read through it.
    connection = db.session.connection()
    driver = connection.connection.driver_connection
    return _run_prepared(driver, connection.dialect, criteria, after, locations)


def _read_bind() -> Any:
    """Where db.session reads, without making a session for a request that has none yet.

    Only an open session can route elsewhere (the replica marks the one it opens); a fresh
    one would read from its factory's bind, else the app's engine. The pooled read needs
    no session, so the request skips building one and closing it at teardown.
    """
    if db.session.registry.has():
        return db.session.get_bind()
    return db.session.session_factory.kw.get("bind") or db.engine


def near_statement(
    criteria: SearchCriteria,
    after: tuple[float, int, int] | None,
    locations: int,
    days: tuple[Any, Any] | None = None,
) -> Select[Any]:
    """The statement of evses_near (values inline, or bind parameters: see _symbolic)."""
    sql = spatial()
    distance = sql.distance_m(Location.geog, criteria.lat, criteria.lon)
    matching = _evse_conditions(criteria)
    ranked = select(Location.id.label("id"), distance.label("distance")).where(
        *_location_conditions(criteria), *_area_conditions(criteria, sql)
    )
    if after is not None:
        ranked = ranked.where(
            or_(distance > after[0], and_(distance == after[0], Location.id >= after[1]))
        )
    # Sort the area's locations first (OFFSET 0 keeps the planner from merging the two
    # steps), then test for a usable EVSE in that order only until the batch is full:
    # a few index probes instead of one per location in the area.
    in_order = ranked.order_by(distance, Location.id).offset(0).subquery("ranked")
    usable = exists().where(Evse.location_id == in_order.c.id, *matching)
    near = (
        select(in_order.c.id, in_order.c.distance)
        .where(usable)
        .order_by(in_order.c.distance, in_order.c.id)
        .limit(locations)
        .subquery("near")
    )
    connector_columns = [
        Connector.ocpi_id.label("connector_ocpi_id"),
        Connector.standard,
        Connector.format,
        Connector.power_type,
        power_w().label("power_w"),
        _TARIFF_IDS,
        tariffs_column(sql),
    ]
    return (
        select(
            *_row_columns(criteria, near.c.distance, days or _window_days(criteria)),
            *connector_columns,
        )
        .select_from(near)
        .join(Location, Location.id == near.c.id)
        .outerjoin(Evse, and_(Evse.location_id == near.c.id, *matching))
        .outerjoin(Connector, Connector.evse_pk == Evse.id)
        .order_by(near.c.distance, near.c.id, Evse.id, Connector.id)
    )


# Compiled SQL of evses_near by statement shape (dialect, which filters): built once.
_PREPARED: dict[tuple[Any, ...], tuple[str, tuple[str, ...]]] = {}


def _shape(criteria: SearchCriteria, after: Any, dialect: str) -> tuple[Any, ...]:
    return (
        dialect,
        criteria.radius_m is None,
        criteria.bbox is None,
        after is None,
        len(criteria.standards),
        criteria.min_power_kw is None,
        criteria.current,
        criteria.window is None,
        criteria.network,
        # Hooks are part of the statement (compiled with the window as bind parameters).
        tuple(_UNAVAILABILITY_HOOKS) if criteria.window is not None else (),
    )


def _bind(name: str, type_: Any) -> Any:
    """A named parameter whose value comes at execution (None until then)."""
    return bindparam(name, None, type_=type_, required=False)


def _symbolic(criteria: SearchCriteria, after: Any) -> tuple[SearchCriteria, Any, Any]:
    """The criteria with bind parameters in place of values: one statement per shape."""
    box = criteria.bbox
    window = criteria.window
    return (
        replace(
            criteria,
            lat=_bind("p_lat", type_=Float),
            lon=_bind("p_lon", type_=Float),
            radius_m=None if criteria.radius_m is None else _bind("p_radius", type_=Float),
            bbox=None
            if box is None
            else BBox(*(_bind(f"p_box{i}", type_=Float) for i in range(4))),
            standards=tuple(
                _bind(f"p_standard{i}", type_=String) for i in range(len(criteria.standards))
            ),
            min_power_kw=None
            if criteria.min_power_kw is None
            else _bind("p_min_kw", type_=Numeric),
            window=None
            if window is None
            else Window(
                _bind("p_from", type_=DateTime(timezone=True)),
                _bind("p_to", type_=DateTime(timezone=True)),
            ),
        ),
        None
        if after is None
        else (_bind("p_after_m", type_=Float), _bind("p_after_id", type_=Integer), 0),
        None if window is None else (_bind("p_first_day", Date), _bind("p_last_day", Date)),
    )


def _values(
    criteria: SearchCriteria, after: tuple[float, int, int] | None, locations: int
) -> dict[str, Any]:
    values: dict[str, Any] = {"p_lat": criteria.lat, "p_lon": criteria.lon, "p_limit": locations}
    if criteria.radius_m is not None:
        values["p_radius"] = float(criteria.radius_m)
    if criteria.bbox is not None:
        box = criteria.bbox
        for i, value in enumerate((box.min_lon, box.min_lat, box.max_lon, box.max_lat)):
            values[f"p_box{i}"] = value
    for i, standard in enumerate(criteria.standards):
        values[f"p_standard{i}"] = standard
    if criteria.min_power_kw is not None:
        values["p_min_kw"] = criteria.min_power_kw
    if criteria.window is not None:
        values["p_from"], values["p_to"] = criteria.window.start, criteria.window.end
        values["p_first_day"], values["p_last_day"] = _window_days(criteria)
    if after is not None:
        values["p_after_m"], values["p_after_id"] = after[0], after[1]
    return values


def _compiled(criteria: SearchCriteria, after: Any, dialect: Any) -> tuple[str, tuple[str, ...]]:
    """The statement for this shape with $n placeholders, and the parameter names in order."""
    key = _shape(criteria, after, dialect.name)
    found = _PREPARED.get(key)
    if found is None:
        symbolic, symbolic_after, days = _symbolic(criteria, after)
        stmt = near_statement(symbolic, symbolic_after, _bind("p_limit", Integer), days)  # type: ignore[arg-type]
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        sql = compiled.string
        for name, value in compiled.params.items():
            if name.startswith("p_"):
                continue
            # The statement's own constants go inline: values the planner sees.
            sql = sql.replace(f"%({name})s", _literal(value))
        found = _PREPARED[key] = _numbered(sql)
    return found


def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """Turn %(name)s placeholders into PostgreSQL's own $n, so psycopg sends the text as is.

    psycopg rewrites a %(name)s query on every execute (it caches that only for short
    texts); a RawCursor takes $n and a sequence, with no rewriting at all.
    """
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "%"  # %% is a literal percent sign in the pyformat text
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"%(?:\((\w+)\)s|%)", number, sql), tuple(names)


def _literal(value: Any) -> str:
    """A constant of the search SQL (never user input) as an SQL literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no literal for {value!r}")


def _run_pooled(
    engine: Engine,
    criteria: SearchCriteria,
    after: tuple[float, int, int] | None,
    locations: int,
) -> list[Any]:
    """Run the statement on a pooled connection (no Session needed for a read).

    Checkout pings only connections that idled (app.core.db.install_idle_ping), so one the
    server dropped meanwhile (a restart drops them all) fails here: the pool's connections
    are discarded and the read, safe to repeat, runs once more on a fresh one.
    """
    for attempt in (1, 2):
        raw = engine.raw_connection()
        try:
            return _run_prepared(raw.driver_connection, engine.dialect, criteria, after, locations)
        except psycopg.OperationalError:
            if attempt == 2 or not raw.driver_connection.closed:
                raise
            raw.invalidate()
            engine.dispose()
        finally:
            raw.close()
    raise AssertionError("unreachable")


def _run_prepared(
    raw: Any,
    dialect: Any,
    criteria: SearchCriteria,
    after: tuple[float, int, int] | None,
    locations: int,
) -> list[Any]:
    """Run evses_near's statement for this shape, compiled once, straight on psycopg.

    A server-side prepared statement; on an idle connection (a request's first query) in
    autocommit: one SELECT needs no BEGIN and no ROLLBACK round trip, and sees the same
    snapshot it would in READ COMMITTED.
    """
    sql, names = _compiled(criteria, after, dialect)
    values = _values(criteria, after, locations)
    params = [values[name] for name in names]
    idle = raw.info.transaction_status == TransactionStatus.IDLE
    if idle:
        raw.autocommit = True
    try:
        with psycopg.RawCursor(raw, row_factory=partial(_named_rows, sql)) as cursor:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchall()
    finally:
        if idle and not raw.closed:  # a lost connection keeps its own error, not this one
            raw.autocommit = False


# Row makers by statement: psycopg's namedtuple_row reads the column names on every execute and
# builds each row through the class's Python-level _make; here the class (the very one
# namedtuple_row makes) is looked up once per statement and rows are built by tuple.__new__
# itself (C, no Python frame per row).
_ROW_MAKERS: dict[str, Callable[[Any], Any]] = {}


def _named_rows(sql: str, cursor: Any) -> Callable[[Any], Any]:
    """Row factory (bound to its statement): the named tuples namedtuple_row gives."""
    make = _ROW_MAKERS.get(sql)
    if make is None:
        row_type = namedtuple_row(cursor).__self__  # type: ignore[attr-defined]
        make = _ROW_MAKERS[sql] = partial(tuple.__new__, row_type)
    return make


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
    tariff_ids: tuple[str, ...]
    tariffs: str | None  # live tariff versions, as tariffs_column gives them


def connectors_of(evse_pks: Iterable[int]) -> dict[int, list[ConnectorRow]]:
    """Connectors of the EVSEs (with power in W and tariff versions), grouped by EVSE."""
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
            _TARIFF_IDS,
            tariffs_column(spatial()),
        )
        .join(Evse, Evse.id == Connector.evse_pk)
        .join(Location, Location.id == Evse.location_id)
        .where(Connector.evse_pk.in_(ids))
        .order_by(Connector.evse_pk, Connector.id)
    )
    for evse_pk, ocpi_id, standard, format_, power_type, watts, ids, tariffs in _execute(stmt):
        row = ConnectorRow(ocpi_id, standard, format_, power_type, watts, tariff_ids(ids), tariffs)
        grouped[evse_pk].append(row)
    return grouped


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
