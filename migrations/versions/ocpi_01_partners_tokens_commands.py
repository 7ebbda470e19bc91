"""OCPI: partners, their parties and endpoints, pushed tokens, received commands.

Revision ID: ocpi_01
Revises: 0001
Create Date: 2026-11-21

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "ocpi_01"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ocpi_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("token_a_digest", sa.String(length=64), nullable=True),
        sa.Column("token_in_digest", sa.String(length=64), nullable=True),
        sa.Column("token_out", sa.Text(), nullable=True),
        sa.Column("versions_url", sa.String(length=255), nullable=True),
        sa.Column("version", sa.String(length=8), nullable=True),
        sa.Column("raw_tokens", sa.Boolean(), nullable=False),
        sa.Column("registered_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_ocpi_partners_name")),
        sa.UniqueConstraint("token_a_digest", name=op.f("uq_ocpi_partners_token_a_digest")),
        sa.UniqueConstraint("token_in_digest", name=op.f("uq_ocpi_partners_token_in_digest")),
    )
    with op.batch_alter_table("ocpi_partners", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_partners_last_updated"), ["last_updated"], unique=False
        )

    op.create_table(
        "ocpi_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("command", sa.String(length=24), nullable=False),
        sa.Column("response_url", sa.String(length=255), nullable=False),
        sa.Column("request", JSON_TYPE, nullable=False),
        sa.Column("response", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=24), nullable=True),
        sa.Column("result_sent_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_ocpi_commands_partner_id_ocpi_partners"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_commands")),
    )
    with op.batch_alter_table("ocpi_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_commands_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ocpi_commands_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "ocpi_partner_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=8), nullable=False),
        sa.Column("identifier", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_ocpi_partner_endpoints_partner_id_ocpi_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_partner_endpoints")),
        sa.UniqueConstraint(
            "partner_id",
            "version",
            "identifier",
            "role",
            name=op.f("uq_ocpi_partner_endpoints_partner_id_version_identifier_role"),
        ),
    )
    with op.batch_alter_table("ocpi_partner_endpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_partner_endpoints_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "ocpi_partner_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("business_details", JSON_TYPE, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_ocpi_partner_roles_partner_id_ocpi_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_partner_roles")),
        sa.UniqueConstraint(
            "country_code",
            "party_id",
            "role",
            name=op.f("uq_ocpi_partner_roles_country_code_party_id_role"),
        ),
    )
    with op.batch_alter_table("ocpi_partner_roles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_partner_roles_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "ocpi_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("visual_number", sa.String(length=64), nullable=True),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("whitelist", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("default_profile_type", sa.String(length=16), nullable=True),
        sa.Column("energy_contract", JSON_TYPE, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["ocpi_partners.id"],
            name=op.f("fk_ocpi_tokens_partner_id_ocpi_partners"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_tokens")),
        sa.UniqueConstraint(
            "country_code",
            "party_id",
            "uid",
            "type",
            name=op.f("uq_ocpi_tokens_country_code_party_id_uid_type"),
        ),
    )
    with op.batch_alter_table("ocpi_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_tokens_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ocpi_tokens_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ocpi_tokens_uid"), ["uid"], unique=False)


def downgrade():
    with op.batch_alter_table("ocpi_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_tokens_uid"))
        batch_op.drop_index(batch_op.f("ix_ocpi_tokens_partner_id"))
        batch_op.drop_index(batch_op.f("ix_ocpi_tokens_last_updated"))

    op.drop_table("ocpi_tokens")
    with op.batch_alter_table("ocpi_partner_roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_partner_roles_partner_id"))

    op.drop_table("ocpi_partner_roles")
    with op.batch_alter_table("ocpi_partner_endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_partner_endpoints_partner_id"))

    op.drop_table("ocpi_partner_endpoints")
    with op.batch_alter_table("ocpi_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_commands_partner_id"))
        batch_op.drop_index(batch_op.f("ix_ocpi_commands_last_updated"))

    op.drop_table("ocpi_commands")
    with op.batch_alter_table("ocpi_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_partners_last_updated"))

    op.drop_table("ocpi_partners")
