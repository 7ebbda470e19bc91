"""Stripe customers, owner Connect accounts, booking payments, the ledger and webhook events.

Revision ID: payments_01
Revises: bookings_01
Create Date: 2026-11-21

"""

import sqlalchemy as sa
from alembic import op

revision = "payments_01"
down_revision = "bookings_01"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def _index(table, columns, unique=False):
    with op.batch_alter_table(table, schema=None) as batch_op:
        name = f"ix_{table}_{'_'.join(columns)}"
        batch_op.create_index(name, columns, unique=unique)


def upgrade():
    op.create_table(
        "stripe_customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("payment_method_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_stripe_customers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_customers")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_stripe_customers_customer_id")),
        sa.UniqueConstraint("user_id", name=op.f("uq_stripe_customers_user_id")),
    )
    op.create_table(
        "owner_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("charges_enabled", sa.Boolean(), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("details_submitted", sa.Boolean(), nullable=False),
        sa.Column("payable", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_owner_accounts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_accounts")),
        sa.UniqueConstraint("account_id", name=op.f("uq_owner_accounts_account_id")),
        sa.UniqueConstraint("user_id", name=op.f("uq_owner_accounts_user_id")),
    )
    _index("owner_accounts", ["last_updated"])
    op.create_table(
        "booking_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=64), nullable=True),
        sa.Column("charge_id", sa.String(length=64), nullable=True),
        sa.Column("extra_payment_intent_id", sa.String(length=64), nullable=True),
        sa.Column("extra_charge_id", sa.String(length=64), nullable=True),
        sa.Column("authorised_minor", sa.Integer(), nullable=False),
        sa.Column("to_capture_minor", sa.Integer(), nullable=True),
        sa.Column("captured_minor", sa.Integer(), nullable=False),
        sa.Column("refunded_minor", sa.Integer(), nullable=False),
        sa.Column("fee_minor", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.String(length=64), nullable=True),
        sa.Column("transferred_minor", sa.Integer(), nullable=False),
        sa.Column("auth_attempts", sa.Integer(), nullable=False),
        sa.Column("capture_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_payments_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_payments")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_booking_payments_booking_id")),
        sa.UniqueConstraint(
            "payment_intent_id", name=op.f("uq_booking_payments_payment_intent_id")
        ),
    )
    _index("booking_payments", ["state"])
    _index("booking_payments", ["last_updated"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stripe_ref", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_ledger_entries_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    _index("ledger_entries", ["booking_id"])
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_stripe_events_event_id")),
    )


def downgrade():
    op.drop_table("stripe_events")
    op.drop_table("ledger_entries")
    op.drop_table("booking_payments")
    op.drop_table("owner_accounts")
    op.drop_table("stripe_customers")
