"""Initial schema: parties, locations, EVSEs, connectors, tariffs, stations, accounts, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _is_postgresql():
    return op.get_bind().dialect.name == "postgresql"


def _point_columns():
    """The geography column on PostgreSQL; SpatiaLite adds its geometry column afterwards."""
    if not _is_postgresql():
        return []
    point = Geography(geometry_type="POINT", srid=4326, spatial_index=False)
    return [sa.Column("geog", point, nullable=False)]


def _create_extensions():
    if _is_postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    else:
        has_metadata = (
            op.get_bind()
            .execute(sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'spatial_ref_sys'"))
            .scalar()
        )
        if not has_metadata:
            op.execute("SELECT InitSpatialMetadata(1)")


def _create_location_point():
    if _is_postgresql():
        op.execute("CREATE INDEX ix_locations_geog ON locations USING gist (geog)")
    else:
        # SpatiaLite registers geometry columns itself; its R*Tree must be queried explicitly.
        op.execute("SELECT AddGeometryColumn('locations', 'geog', 4326, 'POINT', 'XY', 1)")
        op.execute("SELECT CreateSpatialIndex('locations', 'geog')")


def _drop_location_point():
    if not _is_postgresql():
        op.execute("SELECT DisableSpatialIndex('locations', 'geog')")
        op.execute("DROP TABLE IF EXISTS idx_locations_geog")


def upgrade():
    _create_extensions()
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_login_attempts_addr_at", ["remote_addr", "attempted_at"], unique=False
        )
        batch_op.create_index("ix_login_attempts_email_at", ["email", "attempted_at"], unique=False)

    op.create_table(
        "outbox_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("aggregate_type", sa.String(length=32), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("payload", JSON_TYPE, nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("available_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_events_pending",
            ["available_at", "id"],
            unique=False,
            postgresql_where=sa.text("delivered_at IS NULL"),
            sqlite_where=sa.text("delivered_at IS NULL"),
        )

    op.create_table(
        "parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("roles", JSON_TYPE, nullable=False),
        sa.Column("is_own", sa.Boolean(), nullable=False),
        sa.Column("website", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
        sa.UniqueConstraint(
            "country_code", "party_id", name=op.f("uq_parties_country_code_party_id")
        ),
    )
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parties_last_updated"), ["last_updated"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("last_used_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("revoked_at", UTC_TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_tokens_digest")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("ocpi_id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("publish", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("city", sa.String(length=45), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=False),
        *_point_columns(),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("parking_type", sa.String(length=32), nullable=True),
        sa.Column("facilities", JSON_TYPE, nullable=False),
        sa.Column("directions", JSON_TYPE, nullable=False),
        sa.Column("images", JSON_TYPE, nullable=False),
        sa.Column("opening_times", JSON_TYPE, nullable=True),
        sa.Column("charging_when_closed", sa.Boolean(), nullable=False),
        sa.Column("access_instructions", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("deleted_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["country_code", "party_id"],
            ["parties.country_code", "parties.party_id"],
            name=op.f("fk_locations_country_code_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_locations_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint(
            "country_code",
            "party_id",
            "ocpi_id",
            name=op.f("uq_locations_country_code_party_id_ocpi_id"),
        ),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_locations_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_locations_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            "ix_locations_party_updated",
            ["country_code", "party_id", "last_updated", "id"],
            unique=False,
        )

    _create_location_point()

    op.create_table(
        "tariffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("ocpi_id", sa.String(length=36), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=True),
        sa.Column("tariff_alt_text", JSON_TYPE, nullable=False),
        sa.Column("tariff_alt_url", sa.String(length=255), nullable=True),
        sa.Column("min_price", JSON_TYPE, nullable=True),
        sa.Column("max_price", JSON_TYPE, nullable=True),
        sa.Column("elements", JSON_TYPE, nullable=False),
        sa.Column("energy_mix", JSON_TYPE, nullable=True),
        sa.Column("tax_included", sa.Boolean(), nullable=True),
        sa.Column("start_date_time", UTC_TIMESTAMP, nullable=True),
        sa.Column("end_date_time", UTC_TIMESTAMP, nullable=True),
        sa.Column("deleted_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["country_code", "party_id"],
            ["parties.country_code", "parties.party_id"],
            name=op.f("fk_tariffs_country_code_party_id_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariffs")),
        sa.UniqueConstraint(
            "country_code",
            "party_id",
            "ocpi_id",
            name=op.f("uq_tariffs_country_code_party_id_ocpi_id"),
        ),
    )
    with op.batch_alter_table("tariffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tariffs_last_updated"), ["last_updated"], unique=False)
        batch_op.create_index(
            "ix_tariffs_party_updated",
            ["country_code", "party_id", "last_updated", "id"],
            unique=False,
        )

    op.create_table(
        "availability_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_availability_windows_location_id_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_windows")),
    )
    with op.batch_alter_table("availability_windows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_availability_windows_location_id"), ["location_id"], unique=False
        )

    op.create_table(
        "blackouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_blackouts_location_id_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blackouts")),
    )
    with op.batch_alter_table("blackouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blackouts_location_id"), ["location_id"], unique=False)

    op.create_table(
        "charge_stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("allow_missing_subprotocol", sa.Boolean(), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=True),
        sa.Column("vendor", sa.String(length=50), nullable=True),
        sa.Column("model", sa.String(length=50), nullable=True),
        sa.Column("serial_number", sa.String(length=50), nullable=True),
        sa.Column("firmware_version", sa.String(length=50), nullable=True),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("violation_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_charge_stations_location_id_locations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charge_stations")),
        sa.UniqueConstraint("station_id", name=op.f("uq_charge_stations_station_id")),
    )
    with op.batch_alter_table("charge_stations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charge_stations_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_charge_stations_location_id"), ["location_id"], unique=False
        )

    op.create_table(
        "evses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("evse_id", sa.String(length=48), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("capabilities", JSON_TYPE, nullable=False),
        sa.Column("floor_level", sa.String(length=4), nullable=True),
        sa.Column("physical_reference", sa.String(length=16), nullable=True),
        sa.Column("parking_restrictions", JSON_TYPE, nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("ocpp_evse_id", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_evses_location_id_locations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["charge_stations.id"],
            name=op.f("fk_evses_station_id_charge_stations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evses")),
        sa.UniqueConstraint("location_id", "uid", name=op.f("uq_evses_location_id_uid")),
        sa.UniqueConstraint(
            "station_id", "ocpp_evse_id", name=op.f("uq_evses_station_id_ocpp_evse_id")
        ),
    )
    with op.batch_alter_table("evses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evses_last_updated"), ["last_updated"], unique=False)
        batch_op.create_index(batch_op.f("ix_evses_station_id"), ["station_id"], unique=False)

    op.create_table(
        "connectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evse_pk", sa.Integer(), nullable=False),
        sa.Column("ocpi_id", sa.String(length=36), nullable=False),
        sa.Column("standard", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("power_type", sa.String(length=20), nullable=False),
        sa.Column("max_voltage", sa.Integer(), nullable=False),
        sa.Column("max_amperage", sa.Integer(), nullable=False),
        sa.Column("max_electric_power", sa.Integer(), nullable=True),
        sa.Column("tariff_ids", JSON_TYPE, nullable=False),
        sa.Column("terms_and_conditions", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["evse_pk"], ["evses.id"], name=op.f("fk_connectors_evse_pk_evses"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connectors")),
        sa.UniqueConstraint("evse_pk", "ocpi_id", name=op.f("uq_connectors_evse_pk_ocpi_id")),
    )
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connectors_evse_pk"), ["evse_pk"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_connectors_last_updated"), ["last_updated"], unique=False
        )


def downgrade():
    _drop_location_point()
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connectors_last_updated"))
        batch_op.drop_index(batch_op.f("ix_connectors_evse_pk"))

    op.drop_table("connectors")
    with op.batch_alter_table("evses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evses_station_id"))
        batch_op.drop_index(batch_op.f("ix_evses_last_updated"))

    op.drop_table("evses")
    with op.batch_alter_table("charge_stations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charge_stations_location_id"))
        batch_op.drop_index(batch_op.f("ix_charge_stations_last_updated"))

    op.drop_table("charge_stations")
    with op.batch_alter_table("blackouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blackouts_location_id"))

    op.drop_table("blackouts")
    with op.batch_alter_table("availability_windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_windows_location_id"))

    op.drop_table("availability_windows")
    with op.batch_alter_table("tariffs", schema=None) as batch_op:
        batch_op.drop_index("ix_tariffs_party_updated")
        batch_op.drop_index(batch_op.f("ix_tariffs_last_updated"))

    op.drop_table("tariffs")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index("ix_locations_party_updated")
        batch_op.drop_index(batch_op.f("ix_locations_owner_id"))
        batch_op.drop_index(batch_op.f("ix_locations_last_updated"))

    op.drop_table("locations")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parties_last_updated"))

    op.drop_table("parties")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_events_pending",
            postgresql_where=sa.text("delivered_at IS NULL"),
            sqlite_where=sa.text("delivered_at IS NULL"),
        )

    op.drop_table("outbox_events")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_email_at")
        batch_op.drop_index("ix_login_attempts_addr_at")

    op.drop_table("login_attempts")
