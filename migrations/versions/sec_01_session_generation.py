"""Accounts: a per-user session generation, so log-out ends page sessions on the server.

Revision ID: sec_01
Revises: ocpi_02
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "sec_01"
down_revision = "ocpi_02"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
