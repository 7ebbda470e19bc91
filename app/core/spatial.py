"""Every difference between PostGIS and SpatiaLite lives here."""

from __future__ import annotations

import math
import os
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geography, Geometry
from geoalchemy2.elements import WKTElement
from sqlalchemy import and_, cast, event, func, literal_column, select
from sqlalchemy import table as table_clause
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

SRID = 4326
_METRES_PER_DEGREE = 111_320.0


def point_type() -> TypeEngine[Any]:
    """Geography point on PostgreSQL (metres, GiST), geometry point on SpatiaLite."""
    geography = Geography(geometry_type="POINT", srid=SRID, spatial_index=False)
    geometry = Geometry(geometry_type="POINT", srid=SRID, spatial_index=False)
    return geography.with_variant(geometry, "sqlite")


def engine_options(database_url: str) -> dict[str, Any]:
    """SQLAlchemy engine options for the database URL."""
    if database_url.startswith("sqlite"):
        # The stock pyenv sqlite cannot load extensions; pysqlite3 bundles one that can.
        import pysqlite3.dbapi2 as sqlite_module

        return {"module": sqlite_module, "connect_args": {"check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def install_spatialite(engine: Engine, library_path: str) -> None:
    """Load SpatiaLite into every new SQLite connection of the engine."""
    if engine.dialect.name != "sqlite":
        return
    os.environ.setdefault("SPATIALITE_LIBRARY_PATH", library_path)

    @event.listens_for(engine, "connect")
    def _load(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.enable_load_extension(True)
        dbapi_connection.load_extension(library_path)
        dbapi_connection.enable_load_extension(False)
        # Foreign keys are off by default in SQLite; the model relies on them.
        dbapi_connection.execute("PRAGMA foreign_keys=ON")


def point_value(lat: Decimal | float | str, lon: Decimal | float | str) -> WKTElement:
    """A WGS84 point for a geog column, on either database."""
    return WKTElement(f"POINT({lon} {lat})", srid=SRID)


def within_radius(
    geog: Any, pk: Any, table: str, lat: float, lon: float, metres: float, dialect: str
) -> ColumnElement[bool]:
    """A WHERE clause: the point in geog lies within metres of (lat, lon)."""
    if dialect == "postgresql":
        return func.ST_DWithin(geog, _geography(lat, lon), metres)
    # SpatiaLite never uses its R*Tree on its own: ask the SpatialIndex table for candidates.
    dlat = metres / _METRES_PER_DEGREE
    dlon = metres / (_METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    candidates = (
        select(literal_column("ROWID"))
        .select_from(table_clause("SpatialIndex"))
        .where(
            literal_column("f_table_name") == table,
            literal_column("f_geometry_column") == geog.key,
            literal_column("search_frame")
            == func.BuildMbr(lon - dlon, lat - dlat, lon + dlon, lat + dlat, SRID),
        )
    )
    return and_(
        pk.in_(candidates),
        func.PtDistWithin(geog, func.MakePoint(lon, lat, SRID), metres, 1) == 1,
    )


def distance_metres(geog: Any, lat: float, lon: float, dialect: str) -> ColumnElement[float]:
    """The distance in metres from geog to (lat, lon), on the ellipsoid."""
    if dialect == "postgresql":
        return func.ST_Distance(geog, _geography(lat, lon))
    return func.ST_Distance(geog, func.MakePoint(lon, lat, SRID), 1)


def _geography(lat: float, lon: float) -> ColumnElement[Any]:
    return cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID), Geography(srid=SRID))
