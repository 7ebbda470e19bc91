"""Every difference between PostGIS and SpatiaLite lives here."""

from __future__ import annotations

import os
from typing import Any

from geoalchemy2 import Geography, Geometry
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeEngine

SRID = 4326


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
