"""Charging: sessions, meter values, 2.0.1 events seen, CDRs, station audit, driver tokens,
booking dispatches and notices.

Revision ID: charging_01
Revises: payments_01 (depends on bookings_01 for the booking foreign keys)
Create Date: 2026-11-21

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "charging_01"
down_revision = "payments_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "station_security_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("timestamp", UTC_TIMESTAMP, nullable=False),
        sa.Column("tech_info", sa.String(length=255), nullable=True),
        sa.Column("received_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_security_events")),
    )
    with op.batch_alter_table("station_security_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_station_security_events_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "transaction_events_seen",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("auth_status", sa.String(length=16), nullable=True),
        sa.Column("received_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_events_seen")),
        sa.UniqueConstraint(
            "station_id",
            "transaction_id",
            "seq_no",
            name=op.f("uq_transaction_events_seen_station_id_transaction_id_seq_no"),
        ),
    )
    op.create_table(
        "driver_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_driver_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_driver_tokens")),
        sa.UniqueConstraint("uid", name=op.f("uq_driver_tokens_uid")),
    )
    with op.batch_alter_table("driver_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_driver_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "evse_status_reports",
        sa.Column("evse_pk", sa.Integer(), nullable=False),
        sa.Column("ocpp_status", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.String(length=50), nullable=True),
        sa.Column("reported_at", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["evse_pk"],
            ["evses.id"],
            name=op.f("fk_evse_status_reports_evse_pk_evses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("evse_pk", name=op.f("pk_evse_status_reports")),
    )
    op.create_table(
        "booking_dispatches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("station_offline", sa.Boolean(), nullable=False),
        sa.Column("reservation_status", sa.String(length=24), nullable=True),
        sa.Column("remote_start_status", sa.String(length=24), nullable=True),
        sa.Column("remote_started_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_dispatches_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_dispatches")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_booking_dispatches_booking_id")),
    )
    with op.batch_alter_table("booking_dispatches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_dispatches_last_updated"), ["last_updated"], unique=False
        )

    op.create_table(
        "charging_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("read_at", UTC_TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_charging_notices_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_charging_notices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charging_notices")),
    )
    with op.batch_alter_table("charging_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charging_notices_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_charging_notices_user_id"), ["user_id"], unique=False)

    op.create_table(
        "charging_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("ocpi_id", sa.String(length=36), nullable=False),
        sa.Column("station_pk", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("ocpp_version", sa.String(length=16), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=True),
        sa.Column("start_key", sa.String(length=255), nullable=True),
        sa.Column("location_pk", sa.Integer(), nullable=True),
        sa.Column("evse_pk", sa.Integer(), nullable=True),
        sa.Column("connector_pk", sa.Integer(), nullable=True),
        sa.Column("ocpp_evse_id", sa.Integer(), nullable=True),
        sa.Column("ocpp_connector_id", sa.Integer(), nullable=True),
        sa.Column("token_uid", sa.String(length=36), nullable=True),
        sa.Column("token_type", sa.String(length=16), nullable=True),
        sa.Column("token_country_code", sa.String(length=2), nullable=True),
        sa.Column("token_party_id", sa.String(length=3), nullable=True),
        sa.Column("contract_id", sa.String(length=36), nullable=True),
        sa.Column("auth_method", sa.String(length=16), nullable=True),
        sa.Column("auth_status", sa.String(length=16), nullable=True),
        sa.Column("authorization_reference", sa.String(length=36), nullable=True),
        sa.Column("remote_start_id", sa.Integer(), nullable=True),
        sa.Column("start_date_time", UTC_TIMESTAMP, nullable=False),
        sa.Column("end_date_time", UTC_TIMESTAMP, nullable=True),
        sa.Column("kwh", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("meter_start_wh", sa.Numeric(precision=16, scale=3), nullable=True),
        sa.Column("meter_stop_wh", sa.Numeric(precision=16, scale=3), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stop_reason", sa.String(length=32), nullable=True),
        sa.Column("invalid_reason", sa.String(length=255), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_charging_sessions_booking_id_bookings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["connector_pk"],
            ["connectors.id"],
            name=op.f("fk_charging_sessions_connector_pk_connectors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["evse_pk"],
            ["evses.id"],
            name=op.f("fk_charging_sessions_evse_pk_evses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["location_pk"],
            ["locations.id"],
            name=op.f("fk_charging_sessions_location_pk_locations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["station_pk"],
            ["charge_stations.id"],
            name=op.f("fk_charging_sessions_station_pk_charge_stations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charging_sessions")),
        sa.UniqueConstraint(
            "country_code",
            "party_id",
            "ocpi_id",
            name=op.f("uq_charging_sessions_country_code_party_id_ocpi_id"),
        ),
        sa.UniqueConstraint("start_key", name=op.f("uq_charging_sessions_start_key")),
        sa.UniqueConstraint(
            "station_id",
            "transaction_id",
            name=op.f("uq_charging_sessions_station_id_transaction_id"),
        ),
    )
    with op.batch_alter_table("charging_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charging_sessions_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_charging_sessions_evse_pk"), ["evse_pk"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_charging_sessions_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_charging_sessions_location_pk"), ["location_pk"], unique=False
        )
        batch_op.create_index(
            "ix_charging_sessions_party_updated",
            ["country_code", "party_id", "last_updated"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_charging_sessions_station_pk"), ["station_pk"], unique=False
        )

    op.create_table(
        "cdrs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("ocpi_id", sa.String(length=39), nullable=False),
        sa.Column("session_pk", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("start_date_time", UTC_TIMESTAMP, nullable=False),
        sa.Column("end_date_time", UTC_TIMESTAMP, nullable=False),
        sa.Column("cdr_token", JSON_TYPE, nullable=False),
        sa.Column("auth_method", sa.String(length=16), nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=True),
        sa.Column("cdr_location", JSON_TYPE, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tariffs", JSON_TYPE, nullable=False),
        sa.Column("charging_periods", JSON_TYPE, nullable=False),
        sa.Column("signed_data", JSON_TYPE, nullable=True),
        sa.Column("total_cost_excl", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("total_cost_incl", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("total_cost_minor", sa.Integer(), nullable=False),
        sa.Column("total_cost_excl_minor", sa.Integer(), nullable=False),
        sa.Column("cost_breakdown", JSON_TYPE, nullable=False),
        sa.Column("total_energy", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("total_time", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("total_parking_time", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_cdrs_booking_id_bookings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_pk"],
            ["charging_sessions.id"],
            name=op.f("fk_cdrs_session_pk_charging_sessions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdrs")),
        sa.UniqueConstraint(
            "country_code",
            "party_id",
            "ocpi_id",
            name=op.f("uq_cdrs_country_code_party_id_ocpi_id"),
        ),
        sa.UniqueConstraint("session_pk", name=op.f("uq_cdrs_session_pk")),
    )
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cdrs_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cdrs_last_updated"), ["last_updated"], unique=False)
        batch_op.create_index(
            "ix_cdrs_party_updated", ["country_code", "party_id", "last_updated"], unique=False
        )

    op.create_table(
        "meter_values",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("session_pk", sa.Integer(), nullable=True),
        sa.Column("timestamp", UTC_TIMESTAMP, nullable=False),
        sa.Column("measurand", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False),
        sa.Column("context", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("signed_data", sa.Text(), nullable=True),
        sa.Column("received_at", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["session_pk"],
            ["charging_sessions.id"],
            name=op.f("fk_meter_values_session_pk_charging_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_values")),
        sa.UniqueConstraint(
            "station_id",
            "owner",
            "timestamp",
            "measurand",
            "phase",
            "context",
            name=op.f("uq_meter_values_station_id_owner_timestamp_measurand_phase_context"),
        ),
    )
    with op.batch_alter_table("meter_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meter_values_session_pk"), ["session_pk"], unique=False
        )


def downgrade():
    with op.batch_alter_table("meter_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meter_values_session_pk"))

    op.drop_table("meter_values")
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_index("ix_cdrs_party_updated")
        batch_op.drop_index(batch_op.f("ix_cdrs_last_updated"))
        batch_op.drop_index(batch_op.f("ix_cdrs_booking_id"))

    op.drop_table("cdrs")
    with op.batch_alter_table("charging_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charging_sessions_station_pk"))
        batch_op.drop_index("ix_charging_sessions_party_updated")
        batch_op.drop_index(batch_op.f("ix_charging_sessions_location_pk"))
        batch_op.drop_index(batch_op.f("ix_charging_sessions_last_updated"))
        batch_op.drop_index(batch_op.f("ix_charging_sessions_evse_pk"))
        batch_op.drop_index(batch_op.f("ix_charging_sessions_booking_id"))

    op.drop_table("charging_sessions")
    with op.batch_alter_table("charging_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charging_notices_user_id"))
        batch_op.drop_index(batch_op.f("ix_charging_notices_booking_id"))

    op.drop_table("charging_notices")
    with op.batch_alter_table("booking_dispatches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_dispatches_last_updated"))

    op.drop_table("booking_dispatches")
    op.drop_table("evse_status_reports")
    with op.batch_alter_table("driver_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_driver_tokens_user_id"))

    op.drop_table("driver_tokens")
    op.drop_table("transaction_events_seen")
    with op.batch_alter_table("station_security_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_security_events_station_id"))

    op.drop_table("station_security_events")
