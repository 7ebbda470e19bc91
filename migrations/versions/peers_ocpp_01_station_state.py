"""OCPP peers: accepted stations, firmware/log status, station events, flagged sessions, cards.

Revision ID: peers_ocpp_01
Revises: peers_ocpi_01
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

UTC_TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "peers_ocpp_01"
down_revision = "peers_ocpi_01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("charge_stations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accepted_at", UTC_TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("firmware_status", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("firmware_status_at", UTC_TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("log_status", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("log_status_at", UTC_TIMESTAMP, nullable=True))
    # Stations that booted before this revision were accepted if they are approved.
    op.execute(
        "UPDATE charge_stations SET accepted_at = last_seen_at "
        "WHERE approved AND vendor IS NOT NULL AND last_seen_at IS NOT NULL"
    )
    with op.batch_alter_table("charging_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flagged_at", UTC_TIMESTAMP, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_charging_sessions_flagged_at"), ["flagged_at"], unique=False
        )
    with op.batch_alter_table("driver_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("removed_at", UTC_TIMESTAMP, nullable=True))
    op.create_table(
        "station_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("timestamp", UTC_TIMESTAMP, nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=True),
        sa.Column("component", sa.String(length=50), nullable=True),
        sa.Column("variable", sa.String(length=50), nullable=True),
        sa.Column("actual_value", sa.String(length=2500), nullable=True),
        sa.Column("cleared", sa.Boolean(), nullable=True),
        sa.Column("tech_info", sa.String(length=500), nullable=True),
        sa.Column("received_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_events")),
    )
    with op.batch_alter_table("station_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_station_events_station_id"), ["station_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("station_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_events_station_id"))
    op.drop_table("station_events")
    with op.batch_alter_table("driver_tokens", schema=None) as batch_op:
        batch_op.drop_column("removed_at")
        batch_op.drop_column("label")
    with op.batch_alter_table("charging_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charging_sessions_flagged_at"))
        batch_op.drop_column("flagged_at")
    with op.batch_alter_table("charge_stations", schema=None) as batch_op:
        for column in ("log_status_at", "log_status", "firmware_status_at", "firmware_status"):
            batch_op.drop_column(column)
        batch_op.drop_column("accepted_at")
