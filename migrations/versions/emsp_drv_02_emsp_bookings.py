"""eMSP bookings: what our drivers booked through partner CPOs' OCPI 2.3.0 Bookings module.

Revision ID: emsp_drv_02
Revises: emsp_drv_01
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "emsp_drv_02"
down_revision = "emsp_drv_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "emsp_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=True),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("evse_uid", sa.String(length=36), nullable=True),
        sa.Column("starts_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("ends_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=False),
        sa.Column("reservation_status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=255), nullable=True),
        sa.Column("booking", JSON_TYPE, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["users.id"],
            name=op.f("fk_emsp_bookings_driver_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_emsp_bookings_partner_id_ocpi_partners"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emsp_bookings")),
        sa.UniqueConstraint("request_id", name=op.f("uq_emsp_bookings_request_id")),
    )
    with op.batch_alter_table("emsp_bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emsp_bookings_driver_id"), ["driver_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_emsp_bookings_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emsp_bookings_partner_id"), ["partner_id"], unique=False
        )


def downgrade():
    op.drop_table("emsp_bookings")
