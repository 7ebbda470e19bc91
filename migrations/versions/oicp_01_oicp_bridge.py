"""Hubject (OICP 2.3) bridge: state watermarks, operators, pushed EVSEs, sessions, CDRs.

Revision ID: oicp_01
Revises: hub_01
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "oicp_01"
down_revision = "hub_01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("evses", schema=None) as batch_op:
        batch_op.create_index("ix_evses_uid", ["uid"], unique=False)
    op.create_table(
        "oicp_operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oicp_operators")),
        sa.UniqueConstraint("operator_id", name=op.f("uq_oicp_operators_operator_id")),
    )
    op.create_table(
        "oicp_pushed_evses",
        sa.Column("evse_id", sa.String(length=48), nullable=False),
        sa.Column("location_pk", sa.Integer(), nullable=True),
        sa.Column("pushed_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("evse_id", name=op.f("pk_oicp_pushed_evses")),
    )
    with op.batch_alter_table("oicp_pushed_evses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oicp_pushed_evses_location_pk"), ["location_pk"], unique=False
        )
    op.create_table(
        "oicp_state",
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("value", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_oicp_state")),
    )
    op.create_table(
        "oicp_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=3), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("cpo_partner_session_id", sa.String(length=250), nullable=True),
        sa.Column("emp_partner_session_id", sa.String(length=250), nullable=True),
        sa.Column("provider_id", sa.String(length=8), nullable=True),
        sa.Column("operator_id", sa.String(length=16), nullable=True),
        sa.Column("evse_id", sa.String(length=48), nullable=False),
        sa.Column("evse_pk", sa.Integer(), nullable=True),
        sa.Column("token_uid", sa.String(length=36), nullable=True),
        sa.Column("identification", JSON_TYPE, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("charging_session_pk", sa.Integer(), nullable=True),
        sa.Column("reservation_number", sa.Integer(), nullable=True),
        sa.Column("charge_reference", sa.String(length=36), nullable=True),
        sa.Column("notified", JSON_TYPE, nullable=False),
        sa.Column("cdr_sent_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["charging_session_pk"],
            ["charging_sessions.id"],
            name=op.f("fk_oicp_sessions_charging_session_pk_charging_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["evse_pk"],
            ["evses.id"],
            name=op.f("fk_oicp_sessions_evse_pk_evses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oicp_sessions_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oicp_sessions")),
        sa.UniqueConstraint("session_id", name=op.f("uq_oicp_sessions_session_id")),
    )
    with op.batch_alter_table("oicp_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oicp_sessions_charging_session_pk"),
            ["charging_session_pk"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_oicp_sessions_evse_id"), ["evse_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_oicp_sessions_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oicp_sessions_token_uid"), ["token_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_oicp_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "oicp_cdrs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("oicp_session_pk", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("evse_id", sa.String(length=48), nullable=False),
        sa.Column("record", JSON_TYPE, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_cost_minor", sa.Integer(), nullable=False),
        sa.Column("billing_status", sa.String(length=16), nullable=False),
        sa.Column("roaming_charge_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["oicp_session_pk"],
            ["oicp_sessions.id"],
            name=op.f("fk_oicp_cdrs_oicp_session_pk_oicp_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oicp_cdrs_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["roaming_charge_pk"],
            ["roaming_charges.id"],
            name=op.f("fk_oicp_cdrs_roaming_charge_pk_roaming_charges"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oicp_cdrs")),
        sa.UniqueConstraint("roaming_charge_pk", name=op.f("uq_oicp_cdrs_roaming_charge_pk")),
        sa.UniqueConstraint("session_id", name=op.f("uq_oicp_cdrs_session_id")),
    )
    with op.batch_alter_table("oicp_cdrs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oicp_cdrs_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oicp_cdrs_oicp_session_pk"), ["oicp_session_pk"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oicp_cdrs_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("oicp_cdrs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oicp_cdrs_user_id"))
        batch_op.drop_index(batch_op.f("ix_oicp_cdrs_oicp_session_pk"))
        batch_op.drop_index(batch_op.f("ix_oicp_cdrs_last_updated"))

    op.drop_table("oicp_cdrs")
    with op.batch_alter_table("oicp_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oicp_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_oicp_sessions_token_uid"))
        batch_op.drop_index(batch_op.f("ix_oicp_sessions_last_updated"))
        batch_op.drop_index(batch_op.f("ix_oicp_sessions_evse_id"))
        batch_op.drop_index(batch_op.f("ix_oicp_sessions_charging_session_pk"))

    op.drop_table("oicp_sessions")
    op.drop_table("oicp_state")
    op.drop_table("oicp_pushed_evses")
    op.drop_table("oicp_operators")
    with op.batch_alter_table("evses", schema=None) as batch_op:
        batch_op.drop_index("ix_evses_uid")
