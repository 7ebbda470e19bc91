"""Bookings of an EVSE for a window, their reviews and problem reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DDL,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import TSTZRANGE, ExcludeConstraint
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from app.accounts.models import User
from app.bookings.enums import HOLDING_SQL, HOLDING_STATUSES, BookingStatus
from app.core.db import Base, JSONType, Timestamped, UTCDateTime
from app.inventory.models import Evse, Location

# The slot as one value: a half-open tstzrange on PostgreSQL (for the exclusion
# constraint); on SQLite the column only mirrors the bounds, the trigger does the work.
DURING_PG = "tstzrange(starts_at, ends_at, '[)')"
DURING_SQLITE = "starts_at || '/' || ends_at"


class _During(ColumnElement[Any]):
    """The generated `during` expression, rendered per dialect."""

    inherit_cache = True


@compiles(_During)
def _during_default(element: _During, compiler: Any, **kw: Any) -> str:
    return DURING_SQLITE


@compiles(_During, "postgresql")
def _during_postgresql(element: _During, compiler: Any, **kw: Any) -> str:
    return DURING_PG


class Booking(Timestamped, Base):
    """A driver's booking of one EVSE for [starts_at, ends_at)."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    evse_id: Mapped[int] = mapped_column(ForeignKey("evses.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    during: Mapped[Any] = mapped_column(
        TSTZRANGE().with_variant(String(64), "sqlite"),
        Computed(_During(), persisted=True),
        deferred=True,
    )
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.PENDING.value)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instant_book: Mapped[bool] = mapped_column(default=True)
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    final_amount_minor: Mapped[int | None] = mapped_column(Integer)
    policy: Mapped[dict[str, Any]] = mapped_column(JSONType)
    access_code: Mapped[str | None] = mapped_column(String(12))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(8))

    driver: Mapped[User] = relationship(foreign_keys=[driver_id])
    location: Mapped[Location] = relationship()
    evse: Mapped[Evse] = relationship()

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window_not_empty"),
        Index("ix_bookings_evse_id_starts_at", "evse_id", "starts_at"),
        Index("ix_bookings_status_starts_at", "status", "starts_at"),
        ExcludeConstraint(
            ("evse_id", "="),
            ("during", "&&"),
            name="bookings_no_overlap",
            using="gist",
            where=text(f"status IN ({HOLDING_SQL})"),
        ).ddl_if(dialect="postgresql"),
    )

    @property
    def holds_slot(self) -> bool:
        """Tell whether the booking occupies its slot."""
        return self.status in HOLDING_STATUSES


def _overlap_trigger(name: str, timing: str) -> DDL:
    """Return the SQLite trigger that refuses an overlapping holding booking."""
    return DDL(sqlite_overlap_trigger(name, timing))


def sqlite_overlap_trigger(name: str, timing: str) -> str:
    """Return the CREATE TRIGGER statement (also used verbatim by the migration)."""
    return (
        f"CREATE TRIGGER {name} {timing} ON bookings "  # noqa: S608 -- constants only
        f"WHEN NEW.status IN ({HOLDING_SQL}) AND EXISTS ("
        "SELECT 1 FROM bookings b WHERE b.evse_id = NEW.evse_id AND b.id IS NOT NEW.id "
        f"AND b.status IN ({HOLDING_SQL}) "
        "AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at) "
        "BEGIN SELECT RAISE(ABORT, 'booking_overlap'); END"
    )


SQLITE_TRIGGERS = {
    "bookings_no_overlap_insert": "BEFORE INSERT",
    "bookings_no_overlap_update": "BEFORE UPDATE OF starts_at, ends_at, status, evse_id",
}
for _name, _timing in SQLITE_TRIGGERS.items():
    event.listen(
        Booking.__table__,
        "after_create",
        _overlap_trigger(_name, _timing).execute_if(dialect="sqlite"),
    )


class Review(Base):
    """A review of a completed booking: the driver rates the charger, the owner the driver."""

    __tablename__ = "booking_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(8))
    rating: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("booking_id", "author_role"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )


class ProblemReport(Base):
    """A driver's or owner's report of a problem; while open it holds the owner's payout."""

    __tablename__ = "booking_problem_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)
