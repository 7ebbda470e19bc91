"""CDRs name their Session (OCPI CDR.session_id), so an eMSP can link the two.

Revision ID: peers_ocpi_01
Revises: sec_01
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "peers_ocpi_01"
down_revision = "sec_01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.String(length=36), nullable=True))
    op.execute(
        "UPDATE cdrs SET session_id = "
        "(SELECT ocpi_id FROM charging_sessions WHERE charging_sessions.id = cdrs.session_pk)"
    )


def downgrade():
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_column("session_id")
