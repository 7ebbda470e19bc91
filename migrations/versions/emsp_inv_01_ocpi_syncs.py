"""OCPI eMSP: where each pull of a partner CPO's locations and tariffs stands.

Revision ID: emsp_inv_01
Revises: ocpi_02
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

UTC_TIMESTAMP = sa.DateTime(timezone=True)

revision = "emsp_inv_01"
down_revision = "ocpi_02"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ocpi_syncs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("full_due", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("finished_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("synced_until", UTC_TIMESTAMP, nullable=True),
        sa.Column("next_attempt_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_ocpi_syncs_partner_id_ocpi_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_syncs")),
        sa.UniqueConstraint("partner_id", "module", name=op.f("uq_ocpi_syncs_partner_id_module")),
    )


def downgrade():
    op.drop_table("ocpi_syncs")
