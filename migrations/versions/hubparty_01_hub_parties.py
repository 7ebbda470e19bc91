"""PlugPool behind another OCPI hub: the parties a hub partner reports (hubclientinfo).

Revision ID: hubparty_01
Revises: oicp_01
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

UTC_TIMESTAMP = sa.DateTime(timezone=True)

revision = "hubparty_01"
down_revision = "oicp_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ocpi_hub_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["ocpi_partners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner_id", "country_code", "party_id", "role"),
    )
    with op.batch_alter_table("ocpi_hub_parties", schema=None) as batch_op:
        batch_op.create_index("ix_ocpi_hub_parties_partner_id", ["partner_id"], unique=False)


def downgrade():
    with op.batch_alter_table("ocpi_hub_parties", schema=None) as batch_op:
        batch_op.drop_index("ix_ocpi_hub_parties_partner_id")
    op.drop_table("ocpi_hub_parties")
