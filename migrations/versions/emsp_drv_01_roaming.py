"""eMSP drivers: roaming sessions, partner CDRs, commands sent, roaming charges.

Revision ID: emsp_drv_01
Revises: emsp_inv_01
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "emsp_drv_01"
down_revision = "emsp_inv_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "emsp_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("command", sa.String(length=24), nullable=False),
        sa.Column("request", JSON_TYPE, nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=True),
        sa.Column("response", sa.String(length=24), nullable=True),
        sa.Column("result", sa.String(length=24), nullable=True),
        sa.Column("message", sa.String(length=255), nullable=True),
        sa.Column("deadline", UTC_TIMESTAMP, nullable=True),
        sa.Column("session_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["users.id"],
            name=op.f("fk_emsp_commands_driver_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_emsp_commands_partner_id_ocpi_partners"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_pk"],
            ["charging_sessions.id"],
            name=op.f("fk_emsp_commands_session_pk_charging_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emsp_commands")),
        sa.UniqueConstraint("uid", name=op.f("uq_emsp_commands_uid")),
    )
    with op.batch_alter_table("emsp_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emsp_commands_authorization_reference"),
            ["authorization_reference"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_emsp_commands_deadline"), ["deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_emsp_commands_driver_id"), ["driver_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_emsp_commands_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emsp_commands_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "roaming_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=False),
        sa.Column("session_pk", sa.Integer(), nullable=True),
        sa.Column("cdr_pk", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("estimate_minor", sa.Integer(), nullable=False),
        sa.Column("fee_minor", sa.Integer(), nullable=False),
        sa.Column("authorised_minor", sa.Integer(), nullable=False),
        sa.Column("cdr_cost_minor", sa.Integer(), nullable=True),
        sa.Column("due_minor", sa.Integer(), nullable=True),
        sa.Column("captured_minor", sa.Integer(), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=64), nullable=True),
        sa.Column("extra_payment_intent_id", sa.String(length=64), nullable=True),
        sa.Column("capture_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["cdr_pk"],
            ["cdrs.id"],
            name=op.f("fk_roaming_charges_cdr_pk_cdrs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["users.id"],
            name=op.f("fk_roaming_charges_driver_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_pk"],
            ["charging_sessions.id"],
            name=op.f("fk_roaming_charges_session_pk_charging_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_charges")),
        sa.UniqueConstraint(
            "authorization_reference", name=op.f("uq_roaming_charges_authorization_reference")
        ),
        sa.UniqueConstraint("cdr_pk", name=op.f("uq_roaming_charges_cdr_pk")),
        sa.UniqueConstraint("payment_intent_id", name=op.f("uq_roaming_charges_payment_intent_id")),
        sa.UniqueConstraint("session_pk", name=op.f("uq_roaming_charges_session_pk")),
    )
    with op.batch_alter_table("roaming_charges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_roaming_charges_driver_id"), ["driver_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_roaming_charges_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_roaming_charges_state"), ["state"], unique=False)

    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("driver_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("audit_total_minor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("flags", JSON_TYPE, nullable=False, server_default="[]"))
        batch_op.alter_column("session_pk", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f("ix_cdrs_driver_id"), ["driver_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cdrs_partner_id"), ["partner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_cdrs_partner_id_ocpi_partners"),
            "ocpi_partners",
            ["partner_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cdrs_driver_id_users"),
            "users",
            ["driver_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("charging_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("driver_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("total_cost_minor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("received", JSON_TYPE, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_charging_sessions_driver_id"), ["driver_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_charging_sessions_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_charging_sessions_driver_id_users"),
            "users",
            ["driver_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_charging_sessions_partner_id_ocpi_partners"),
            "ocpi_partners",
            ["partner_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("charging_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_charging_sessions_partner_id_ocpi_partners"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_charging_sessions_driver_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_charging_sessions_partner_id"))
        batch_op.drop_index(batch_op.f("ix_charging_sessions_driver_id"))
        batch_op.drop_column("received")
        batch_op.drop_column("total_cost_minor")
        batch_op.drop_column("partner_id")
        batch_op.drop_column("driver_id")

    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cdrs_driver_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_cdrs_partner_id_ocpi_partners"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_cdrs_partner_id"))
        batch_op.drop_index(batch_op.f("ix_cdrs_driver_id"))
        batch_op.alter_column("session_pk", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("flags")
        batch_op.drop_column("audit_total_minor")
        batch_op.drop_column("driver_id")
        batch_op.drop_column("partner_id")

    with op.batch_alter_table("roaming_charges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roaming_charges_state"))
        batch_op.drop_index(batch_op.f("ix_roaming_charges_last_updated"))
        batch_op.drop_index(batch_op.f("ix_roaming_charges_driver_id"))

    op.drop_table("roaming_charges")
    with op.batch_alter_table("emsp_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emsp_commands_partner_id"))
        batch_op.drop_index(batch_op.f("ix_emsp_commands_last_updated"))
        batch_op.drop_index(batch_op.f("ix_emsp_commands_driver_id"))
        batch_op.drop_index(batch_op.f("ix_emsp_commands_deadline"))
        batch_op.drop_index(batch_op.f("ix_emsp_commands_authorization_reference"))

    op.drop_table("emsp_commands")
