"""Every difference between PostGIS and SpatiaLite lives here."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geography, Geometry
from geoalchemy2.elements import WKTElement
from sqlalchemy import Boolean, Float, and_, cast, column, event, func, select, table
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

SRID = 4326


def point_type() -> TypeEngine[Any]:
    """Geography point on PostgreSQL (metres, GiST), geometry point on SpatiaLite."""
    geography = Geography(geometry_type="POINT", srid=SRID, spatial_index=False)
    geometry = Geometry(geometry_type="POINT", srid=SRID, spatial_index=False)
    return geography.with_variant(geometry, "sqlite")


def engine_options(
    database_url: str, pool_size: int = 10, max_overflow: int = 20
) -> dict[str, Any]:
    """SQLAlchemy engine options for the database URL."""
    if database_url.startswith("sqlite"):
        # The stock pyenv sqlite cannot load extensions; pysqlite3 bundles one that can.
        import pysqlite3.dbapi2 as sqlite_module

        return {"module": sqlite_module, "connect_args": {"check_same_thread": False}}
    # Liveness is checked on checkout after idling (app.core.db.install_idle_ping).
    return {"pool_size": pool_size, "max_overflow": max_overflow}


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


@dataclass(frozen=True, slots=True)
class BBox:
    """A WGS84 rectangle in degrees (min_lon <= max_lon: no antimeridian crossing)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @property
    def center(self) -> tuple[float, float]:
        """Return (lat, lon) of the rectangle's middle."""
        return (self.min_lat + self.max_lat) / 2, (self.min_lon + self.max_lon) / 2


class SpatialSql:
    """SQL expressions for distance, radius, rectangle and nearest-first on point columns."""

    def distance_m(self, geog: Any, lat: float, lon: float) -> ColumnElement[float]:
        """Distance in metres from the point (lat, lon)."""
        raise NotImplementedError

    def within_radius(
        self, geog: Any, row_id: Any, lat: float, lon: float, radius_m: float
    ) -> ColumnElement[bool]:
        """True for rows within radius_m metres of (lat, lon), through the spatial index."""
        raise NotImplementedError

    def within_bbox(self, geog: Any, row_id: Any, bbox: BBox) -> ColumnElement[bool]:
        """True for rows whose point lies in the rectangle, through the spatial index."""
        raise NotImplementedError

    def nearest_first(self, geog: Any, lat: float, lon: float) -> ColumnElement[Any]:
        """An ORDER BY key that walks the spatial index nearest-first (KNN) where it can."""
        raise NotImplementedError

    def json_has_string(self, array: Any, value: Any) -> ColumnElement[bool]:
        """True where the JSON array column (of a table in an enclosing query) holds value."""
        raise NotImplementedError


_GEOGRAPHY_POINT = Geography(geometry_type="POINT", srid=SRID)
_GEOGRAPHY = Geography(srid=SRID)


class PostGISSql(SpatialSql):
    """PostGIS geography: ST_DWithin and the `<->` KNN operator use the GiST index.

    Distances are on the sphere (use_spheroid false): several times cheaper than the
    spheroid, within 0.3 % of it, and exactly what `<->` returns, so the radius, the
    order, the keyset and the distance shown always agree.
    """

    def _point(self, lat: float, lon: float) -> ColumnElement[Any]:
        point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)
        return cast(point, _GEOGRAPHY_POINT)

    def distance_m(self, geog: Any, lat: float, lon: float) -> ColumnElement[float]:
        return func.ST_Distance(geog, self._point(lat, lon), False, type_=Float)

    def within_radius(
        self, geog: Any, row_id: Any, lat: float, lon: float, radius_m: float
    ) -> ColumnElement[bool]:
        return func.ST_DWithin(geog, self._point(lat, lon), radius_m, False, type_=Boolean)

    def within_bbox(self, geog: Any, row_id: Any, bbox: BBox) -> ColumnElement[bool]:
        # Geography polygons have great-circle edges; densify the rectangle so its edges
        # follow the parallels, and allow a few metres so the index prefilter never misses
        # a point the exact latitude/longitude test (done by the caller) keeps.
        envelope = func.ST_Segmentize(
            func.ST_MakeEnvelope(bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat, SRID),
            0.05,
        )
        polygon = cast(envelope, _GEOGRAPHY)
        return func.ST_DWithin(geog, polygon, 50.0, False, type_=Boolean)

    def nearest_first(self, geog: Any, lat: float, lon: float) -> ColumnElement[Any]:
        return geog.op("<->")(self._point(lat, lon))

    def json_has_string(self, array: Any, value: Any) -> ColumnElement[bool]:
        return array.op("?", return_type=Boolean)(value)


class SpatiaLiteSql(SpatialSql):
    """SpatiaLite: its R*Tree is only used when queried through the SpatialIndex table."""

    def _point(self, lat: float, lon: float) -> ColumnElement[Any]:
        return func.MakePoint(lon, lat, SRID)

    def distance_m(self, geog: Any, lat: float, lon: float) -> ColumnElement[float]:
        return func.ST_Distance(geog, self._point(lat, lon), 1, type_=Float)

    def within_radius(
        self, geog: Any, row_id: Any, lat: float, lon: float, radius_m: float
    ) -> ColumnElement[bool]:
        frame = _frame_around(lat, lon, radius_m)
        within = func.PtDistWithin(geog, self._point(lat, lon), radius_m, 1, type_=Boolean)
        return and_(self._indexed(geog, row_id, frame), within == 1)

    def within_bbox(self, geog: Any, row_id: Any, bbox: BBox) -> ColumnElement[bool]:
        return self._indexed(geog, row_id, bbox)

    def nearest_first(self, geog: Any, lat: float, lon: float) -> ColumnElement[Any]:
        # SpatiaLite 5.0.1 has no KNN2, and its KNN table returns nothing on the bundled
        # sqlite; the embedded default orders by exact distance instead.
        return self.distance_m(geog, lat, lon)

    def json_has_string(self, array: Any, value: Any) -> ColumnElement[bool]:
        items = select(column("value")).select_from(func.json_each(array))
        return value.in_(items.correlate(array.table))

    def _indexed(self, geog: Any, row_id: Any, frame: BBox) -> ColumnElement[bool]:
        index = table(
            "SpatialIndex",
            column("ROWID"),
            column("f_table_name"),
            column("f_geometry_column"),
            column("search_frame"),
        )
        mbr = func.BuildMbr(frame.min_lon, frame.min_lat, frame.max_lon, frame.max_lat, SRID)
        hits = select(index.c.ROWID).where(
            index.c.f_table_name == geog.table.name,
            index.c.f_geometry_column == geog.name,
            index.c.search_frame == mbr,
        )
        return row_id.in_(hits)


_METRES_PER_DEGREE = 111_320.0


def _frame_around(lat: float, lon: float, radius_m: float) -> BBox:
    """A rectangle in degrees that surely contains the circle (slightly generous)."""
    dlat = radius_m / _METRES_PER_DEGREE * 1.01
    cos_lat = math.cos(math.radians(min(abs(lat) + dlat, 89.9)))
    dlon = min(radius_m / (_METRES_PER_DEGREE * cos_lat) * 1.01, 180.0)
    return BBox(lon - dlon, max(lat - dlat, -90.0), lon + dlon, min(lat + dlat, 90.0))


_POSTGIS = PostGISSql()
_SPATIALITE = SpatiaLiteSql()


def spatial_sql(dialect_name: str) -> SpatialSql:
    """Pick the spatial SQL for a database dialect: the one place that decides."""
    return _SPATIALITE if dialect_name == "sqlite" else _POSTGIS
