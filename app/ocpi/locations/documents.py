"""Locations serialised by PostgreSQL: the list page's JSON built in one query, no Python per row.

Same shape as `serialise.location_to_ocpi` (2.2.1 and 2.3.0 coincide for the fields we hold);
tests/ocpi/test_location_documents.py compares both on varied rows so they cannot drift.
Only for PostgreSQL; other databases use the Python serialiser.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, literal_column, select

from app.extensions import db
from app.inventory.models import Location
from app.ocpi.locations.queries import published_filters


def available() -> bool:
    """True when the database can build the documents (PostgreSQL)."""
    return db.session.get_bind().dialect.name == "postgresql"


def document_columns() -> tuple[Any, ...]:
    """Columns to select from `locations`: id, last_updated and the Location JSON text."""
    return (Location.id, Location.last_updated, literal_column(_LOCATION_SQL).label("doc"))


def location_documents(query: Select[Any]) -> list[tuple[int, datetime, str]]:
    """Run a page select of `document_columns()`; (id, last_updated, JSON) in page order."""
    return [tuple(row) for row in db.session.execute(query)]  # type: ignore[misc]


def location_document(ocpi_id: str) -> str | None:
    """The JSON of one published own Location by its OCPI id; None when there is none."""
    # Past the ORM's execute: one text column, no entity to load.
    return db.session.connection().execute(_one_location(), {"ocpi_id": ocpi_id}).scalar()


@functools.cache
def _one_location() -> Select[Any]:
    # Built once: every GET of a Location runs it, and a constant statement's key is memoised.
    return (
        select(literal_column(_LOCATION_SQL))
        .where(*published_filters(), Location.ocpi_id == bindparam("ocpi_id"))
        .limit(1)
    )


def _ts(column: str) -> str:
    """OCPI DateTime text: seconds, or milliseconds when there is a fraction; Z suffix."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN (extract(microseconds FROM {column})::bigint % 1000000) <> 0 "
        f"THEN '.' || to_char({utc}, 'MS') ELSE '' END || 'Z')"
    )


def _omit_empty(column: str) -> str:
    return f"NULLIF({column}, '[]'::jsonb)"


_CONNECTOR_SQL = f"""json_build_object(
    'id', c.ocpi_id, 'standard', c.standard, 'format', c.format, 'power_type', c.power_type,
    'max_voltage', c.max_voltage, 'max_amperage', c.max_amperage,
    'max_electric_power', c.max_electric_power,
    'tariff_ids', {_omit_empty("c.tariff_ids")},
    'terms_and_conditions', NULLIF(c.terms_and_conditions, ''),
    'last_updated', {_ts("c.last_updated")})"""

_EVSE_SQL = f"""json_build_object(
    'uid', e.uid, 'evse_id', e.evse_id, 'status', e.status,
    'capabilities', {_omit_empty("e.capabilities")},
    'connectors', COALESCE((SELECT json_agg({_CONNECTOR_SQL} ORDER BY c.id)
                            FROM connectors c WHERE c.evse_pk = e.id), '[]'::json),
    'floor_level', e.floor_level, 'physical_reference', e.physical_reference,
    'parking_restrictions', {_omit_empty("e.parking_restrictions")},
    'last_updated', {_ts("e.last_updated")})"""

_WINDOW_SQL = """json_build_object(
    'weekday', w.weekday,
    'period_begin', to_char(w.start_time, 'HH24:MI'),
    'period_end', CASE WHEN w.end_time = time '00:00' THEN '24:00'
                       ELSE to_char(w.end_time, 'HH24:MI') END)"""

_CLOSING_SQL = f"""json_build_object(
    'period_begin', {_ts("(b.start_date::timestamp AT TIME ZONE locations.time_zone)")},
    'period_end', {_ts("((b.end_date + 1)::timestamp AT TIME ZONE locations.time_zone)")})"""

# Sharing windows and blackouts of an own listing, else the stored OCPI Hours.
_HOURS_SQL = f"""CASE WHEN EXISTS (SELECT 1 FROM availability_windows w
                                   WHERE w.location_id = locations.id)
    THEN json_build_object(
        'twentyfourseven', false,
        'regular_hours', (SELECT json_agg({_WINDOW_SQL} ORDER BY w.id)
                          FROM availability_windows w WHERE w.location_id = locations.id),
        'exceptional_closings', COALESCE((SELECT json_agg({_CLOSING_SQL} ORDER BY b.id)
                                          FROM blackouts b WHERE b.location_id = locations.id),
                                         '[]'::json))
    ELSE locations.opening_times::json END"""

# json_strip_nulls drops the optional fields we do not have, as the Python serialiser does.
_LOCATION_SQL = f"""json_strip_nulls(json_build_object(
    'country_code', locations.country_code, 'party_id', locations.party_id,
    'id', locations.ocpi_id, 'publish', locations.publish, 'name', locations.name,
    'address', locations.address, 'city', locations.city,
    'postal_code', locations.postal_code, 'state', locations.state,
    'country', locations.country,
    'coordinates', json_build_object('latitude', locations.latitude::text,
                                     'longitude', locations.longitude::text),
    'parking_type', locations.parking_type,
    'evses', COALESCE((SELECT json_agg({_EVSE_SQL} ORDER BY e.id)
                       FROM evses e WHERE e.location_id = locations.id), '[]'::json),
    'directions', {_omit_empty("locations.directions")},
    'facilities', {_omit_empty("locations.facilities")},
    'time_zone', locations.time_zone,
    'opening_times', {_HOURS_SQL},
    'charging_when_closed', locations.charging_when_closed,
    'images', {_omit_empty("locations.images")},
    'last_updated', {_ts("locations.last_updated")}))::text"""
