"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.core.schema import include_object
from app.extensions import db as _db


def test_models_and_migrations_agree(db):
    context = MigrationContext.configure(
        db, opts={"include_object": include_object, "compare_type": True}
    )
    assert compare_metadata(context, _db.metadata) == []


def test_postgis_and_btree_gist_are_installed(db):
    names = set(db.execute(text("SELECT extname FROM pg_extension")).scalars())
    assert {"postgis", "btree_gist"} <= names


def test_location_points_have_a_gist_index(db):
    indexdef = db.execute(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_locations_geog'")
    ).scalar_one()
    assert "USING gist (geog)" in indexdef


def test_factory_location_is_found_by_a_radius_query(db, make_location):
    near = make_location(lat="52.37", lon="4.89")
    make_location(lat="48.85", lon="2.35")  # Paris: far away
    found = db.execute(
        text(
            "SELECT id FROM locations WHERE ST_DWithin(geog, "
            "ST_SetSRID(ST_MakePoint(4.90, 52.37), 4326)::geography, 5000)"
        )
    ).scalars()
    assert list(found) == [near.id]
