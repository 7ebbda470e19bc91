"""PlugPool behind another OCPI hub: the operator's settings per hub partner; why a
CommandResult through a hub is held or was not delivered.

Revision ID: hubparty_02
Revises: hubparty_01
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "hubparty_02"
down_revision = "hubparty_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ocpi_hub_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("offer_roles", JSON_TYPE, nullable=False),
        sa.Column("offer_parties", JSON_TYPE, nullable=False),
        sa.Column("allow", JSON_TYPE, nullable=False),
        sa.Column("deny", JSON_TYPE, nullable=False),
        sa.Column("push", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["ocpi_partners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner_id"),
    )
    with op.batch_alter_table("ocpi_commands", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result_error", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("ocpi_commands", schema=None) as batch_op:
        batch_op.drop_column("result_error")
    op.drop_table("ocpi_hub_settings")
