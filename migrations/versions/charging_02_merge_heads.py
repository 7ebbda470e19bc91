"""Merge point of the branches this work sits on (no schema change).

The integrator re-chains heads when merging; this file can then go.

Revision ID: charging_02
Revises: charging_01, ocpi_01, payments_01
Create Date: 2026-11-21

"""

revision = "charging_02"
down_revision = ("charging_01", "ocpi_01", "payments_01")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
