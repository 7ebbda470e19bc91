"""Radius helpers of app.core.spatial on PostGIS (SpatiaLite: see the embedded smoke test)."""

from sqlalchemy import select

from app.core.spatial import spatial_sql
from app.extensions import db
from app.models import Location


def _near(lat, lon, metres):
    query = (
        select(Location.name)
        .where(
            spatial_sql("postgresql").within_radius(Location.geog, Location.id, lat, lon, metres)
        )
        .order_by(spatial_sql("postgresql").distance_m(Location.geog, lat, lon))
    )
    return list(db.session.scalars(query))


def test_radius_query_finds_nearby_locations_nearest_first(make_location):
    make_location(lat="52.3702", lon="4.8952", name="Dam")
    make_location(lat="52.3600", lon="4.9270", name="Oost")
    make_location(lat="52.0907", lon="5.1214", name="Utrecht")
    assert _near(52.3702, 4.8952, 5_000) == ["Dam", "Oost"]
    assert _near(52.3600, 4.9270, 100) == ["Oost"]
    assert _near(52.3702, 4.8952, 60_000) == ["Dam", "Oost", "Utrecht"]
