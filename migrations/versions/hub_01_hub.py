"""OCPI hub: parties' connection status, routing rules, proxied URLs, the message log.

Revision ID: hub_01
Revises: emsp_drv_02
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

UTC_TIMESTAMP = sa.DateTime(timezone=True)

revision = "hub_01"
down_revision = "emsp_drv_02"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hub_members",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("status_changed_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_hub_members_partner_id_ocpi_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_hub_members")),
    )
    op.create_table(
        "hub_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=7), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("sender_partner_id", sa.Integer(), nullable=True),
        sa.Column("receiver_partner_id", sa.Integer(), nullable=True),
        sa.Column("from_party", sa.String(length=5), nullable=True),
        sa.Column("to_party", sa.String(length=5), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("forwarded_request_id", sa.String(length=64), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["receiver_partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_hub_messages_receiver_partner_id_ocpi_partners"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sender_partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_hub_messages_sender_partner_id_ocpi_partners"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_messages")),
    )
    with op.batch_alter_table("hub_messages", schema=None) as batch_op:
        batch_op.create_index("ix_hub_messages_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_hub_messages_receiver", ["receiver_partner_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_hub_messages_sender", ["sender_partner_id", "created_at"], unique=False
        )

    op.create_table(
        "hub_proxies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("owner_partner_id", sa.Integer(), nullable=False),
        sa.Column("target_partner_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_hub_proxies_owner_partner_id_ocpi_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_hub_proxies_target_partner_id_ocpi_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_proxies")),
    )
    with op.batch_alter_table("hub_proxies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_proxies_created_at"), ["created_at"], unique=False)

    op.create_table(
        "hub_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=5), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_hub_rules_partner_id_ocpi_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_rules")),
    )
    with op.batch_alter_table("hub_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_rules_partner_id"), ["partner_id"], unique=False)

    with op.batch_alter_table("ocpi_partners", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hub_member", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("ocpi_partners", schema=None) as batch_op:
        batch_op.drop_column("hub_member")

    with op.batch_alter_table("hub_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_rules_partner_id"))

    op.drop_table("hub_rules")
    with op.batch_alter_table("hub_proxies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_proxies_created_at"))

    op.drop_table("hub_proxies")
    with op.batch_alter_table("hub_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_messages_sender")
        batch_op.drop_index("ix_hub_messages_receiver")
        batch_op.drop_index("ix_hub_messages_created_at")

    op.drop_table("hub_messages")
    op.drop_table("hub_members")
