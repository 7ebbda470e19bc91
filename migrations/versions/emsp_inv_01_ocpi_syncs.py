"""OCPI eMSP: where each pull of a partner CPO's locations and tariffs stands; CPOs registered
before this revision get their parties in the inventory and a first full pull.

Revision ID: emsp_inv_01
Revises: peers_ocpp_01
Create Date: 2026-12-07

"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

UTC_TIMESTAMP = sa.DateTime(timezone=True)

revision = "emsp_inv_01"
down_revision = "peers_ocpp_01"
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

    _partner_parties()
    # Partner CPOs registered before this revision get their first full pull at the next round.
    op.execute(
        "INSERT INTO ocpi_syncs (partner_id, module, status, full_due, failures, done)"
        " SELECT DISTINCT p.id, e.identifier, 'NEVER', true, 0, 0"
        " FROM ocpi_partners p"
        " JOIN ocpi_partner_endpoints e ON e.partner_id = p.id AND e.version = p.version"
        " JOIN ocpi_partner_roles r ON r.partner_id = p.id AND r.role = 'CPO'"
        " WHERE p.status = 'REGISTERED' AND e.role = 'SENDER'"
        " AND e.identifier IN ('locations', 'tariffs')"
    )


def _partner_parties():
    """A party row for each CPO role of a registered partner that has none yet."""
    bind = op.get_bind()
    roles = bind.execute(
        sa.text(
            "SELECT r.country_code, r.party_id, r.business_details FROM ocpi_partner_roles r"
            " WHERE r.role = 'CPO' AND NOT EXISTS (SELECT 1 FROM parties p"
            " WHERE p.country_code = r.country_code AND p.party_id = r.party_id)"
        )
    ).all()
    parties = sa.table(
        "parties",
        sa.column("country_code"),
        sa.column("party_id"),
        sa.column("name"),
        sa.column("roles", sa.JSON()),
        sa.column("is_own", sa.Boolean()),
        sa.column("created_at", UTC_TIMESTAMP),
        sa.column("last_updated", UTC_TIMESTAMP),
    )
    now = datetime.now(UTC)
    seen = set()
    for country_code, party_id, details in roles:
        if (country_code, party_id) in seen:
            continue
        seen.add((country_code, party_id))
        if isinstance(details, str):
            details = json.loads(details)
        name = (details or {}).get("name") or f"{country_code}*{party_id}"
        op.bulk_insert(
            parties,
            [
                {
                    "country_code": country_code,
                    "party_id": party_id,
                    "name": name[:100],
                    "roles": ["CPO"],
                    "is_own": False,
                    "created_at": now,
                    "last_updated": now,
                }
            ],
        )


def downgrade():
    op.drop_table("ocpi_syncs")
