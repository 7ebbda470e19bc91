"""OCPI hub: the routing data's version, so every process sees a change at once.

Revision ID: hub_02
Revises: hubparty_02
Create Date: 2026-12-07

"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "hub_02"
down_revision = "hubparty_02"
branch_labels = None
depends_on = None


def upgrade():
    state = op.create_table(
        "hub_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("routing_version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Random, not a counter: a version written by a rolled-back change is never seen again.
    op.bulk_insert(state, [{"id": 1, "routing_version": uuid.uuid4().hex}])


def downgrade():
    op.drop_table("hub_state")
