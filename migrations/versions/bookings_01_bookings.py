"""Bookings with a guaranteed slot, reviews, problem reports; listing terms on locations.

Revision ID: bookings_01
Revises: ocpi_01
Create Date: 2026-11-21

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "bookings_01"
down_revision = "ocpi_01"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
HOLDING = "'pending', 'requested', 'confirmed', 'active'"
SQLITE_TRIGGERS = {
    "bookings_no_overlap_insert": "BEFORE INSERT",
    "bookings_no_overlap_update": "BEFORE UPDATE OF starts_at, ends_at, status, evse_id",
}


def _is_postgresql():
    return op.get_bind().dialect.name == "postgresql"


def _during_column():
    """A generated tstzrange on PostgreSQL; on SQLite a mirror of the bounds."""
    if _is_postgresql():
        computed = sa.Computed("tstzrange(starts_at, ends_at, '[)')", persisted=True)
        return sa.Column("during", postgresql.TSTZRANGE(), computed, nullable=False)
    computed = sa.Computed("starts_at || '/' || ends_at", persisted=True)
    return sa.Column("during", sa.String(length=64), computed, nullable=False)


def _sqlite_trigger(name, timing):
    return (
        f"CREATE TRIGGER {name} {timing} ON bookings "  # noqa: S608 -- constants only
        f"WHEN NEW.status IN ({HOLDING}) AND EXISTS ("
        "SELECT 1 FROM bookings b WHERE b.evse_id = NEW.evse_id AND b.id IS NOT NEW.id "
        f"AND b.status IN ({HOLDING}) "
        "AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at) "
        "BEGIN SELECT RAISE(ABORT, 'booking_overlap'); END"
    )


def _create_overlap_guard():
    if _is_postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.create_exclude_constraint(
            "bookings_no_overlap",
            "bookings",
            ("evse_id", "="),
            ("during", "&&"),
            using="gist",
            where=f"status IN ({HOLDING})",
        )
    else:
        for name, timing in SQLITE_TRIGGERS.items():
            op.execute(_sqlite_trigger(name, timing))


def upgrade():
    # Plain ADD COLUMN with constant defaults: a batch rebuild of locations on SQLite would
    # drop SpatiaLite's registration and spatial index of its geometry column.
    op.add_column(
        "locations",
        sa.Column("instant_book", sa.Boolean(), server_default="1", nullable=False),
    )
    op.add_column(
        "locations",
        sa.Column(
            "cancellation_policy", sa.String(length=16), server_default="moderate", nullable=False
        ),
    )

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("ends_at", UTC_TIMESTAMP, nullable=False),
        _during_column(),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("instant_book", sa.Boolean(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("final_amount_minor", sa.Integer(), nullable=True),
        sa.Column("policy", JSON_TYPE, nullable=False),
        sa.Column("access_code", sa.String(length=12), nullable=True),
        sa.Column("confirmed_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("started_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("completed_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("cancelled_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("cancelled_by", sa.String(length=8), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_updated", UTC_TIMESTAMP, nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_bookings_window_not_empty")),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["users.id"], name=op.f("fk_bookings_driver_id_users")
        ),
        sa.ForeignKeyConstraint(["evse_id"], ["evses.id"], name=op.f("fk_bookings_evse_id_evses")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_bookings_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_driver_id"), ["driver_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_location_id"), ["location_id"], unique=False)
        batch_op.create_index(
            "ix_bookings_evse_id_starts_at", ["evse_id", "starts_at"], unique=False
        )
        batch_op.create_index("ix_bookings_status_starts_at", ["status", "starts_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bookings_last_updated"), ["last_updated"], unique=False
        )
    _create_overlap_guard()

    op.create_table(
        "booking_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_role", sa.String(length=8), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_booking_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_booking_reviews_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_reviews_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_reviews")),
        sa.UniqueConstraint(
            "booking_id", "author_role", name=op.f("uq_booking_reviews_booking_id_author_role")
        ),
    )
    op.create_table(
        "booking_problem_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("resolved_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_problem_reports_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_booking_problem_reports_reporter_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_problem_reports")),
    )
    with op.batch_alter_table("booking_problem_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_problem_reports_booking_id"), ["booking_id"], unique=False
        )


def downgrade():
    op.drop_table("booking_problem_reports")
    op.drop_table("booking_reviews")
    op.drop_table("bookings")
    op.drop_column("locations", "cancellation_policy")
    op.drop_column("locations", "instant_book")
