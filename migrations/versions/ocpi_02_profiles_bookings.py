"""OCPI: charging profile requests, partner bookings, sessions paged by the token's party.

Revision ID: ocpi_02
Revises: charging_01
Create Date: 2026-11-21

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "ocpi_02"
down_revision = "charging_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ocpi_charging_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("response_url", sa.String(length=255), nullable=False),
        sa.Column("request", JSON_TYPE, nullable=False),
        sa.Column("result", sa.String(length=24), nullable=True),
        sa.Column("result_sent_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_ocpi_charging_profiles_partner_id_ocpi_partners"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_charging_profiles")),
    )
    with op.batch_alter_table("ocpi_charging_profiles", schema=None) as batch_op:
        for column in ("last_updated", "partner_id", "session_id"):
            batch_op.create_index(
                batch_op.f(f"ix_ocpi_charging_profiles_{column}"), [column], unique=False
            )

    op.create_table(
        "ocpi_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=False),
        sa.Column("tokens", JSON_TYPE, nullable=False),
        sa.Column("requests", JSON_TYPE, nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_ocpi_bookings_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_ocpi_bookings_partner_id_ocpi_partners"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_bookings")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_ocpi_bookings_booking_id")),
        sa.UniqueConstraint(
            "country_code",
            "party_id",
            "request_id",
            name=op.f("uq_ocpi_bookings_country_code_party_id_request_id"),
        ),
    )
    with op.batch_alter_table("ocpi_bookings", schema=None) as batch_op:
        for column in ("last_updated", "partner_id"):
            batch_op.create_index(batch_op.f(f"ix_ocpi_bookings_{column}"), [column], unique=False)

    with op.batch_alter_table("charging_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_charging_sessions_token_party_updated",
            ["token_country_code", "token_party_id", "last_updated", "id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("charging_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_charging_sessions_token_party_updated")
    op.drop_table("ocpi_bookings")
    op.drop_table("ocpi_charging_profiles")
