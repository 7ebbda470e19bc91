"""Transactional outbox: events written in the same transaction as the change they announce."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Index,
    Integer,
    Row,
    String,
    Text,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.clock import utcnow
from app.core.db import Base, JSONType, UTCDateTime
from app.core.metrics import BOOKING_OUTCOMES, count_on_commit


class OutboxEvent(Base):
    """One fact another process or a partner must hear about; delivered by a job with retries."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(String(64))
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Workers scan only undelivered rows in order; the partial index stays small.
        Index(
            "ix_outbox_events_pending",
            "available_at",
            "id",
            postgresql_where=text("delivered_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL"),
        ),
    )


# Further consumers of a topic (e.g. the Hubject bridge): each gets its own copy of the event,
# written in the same transaction, so one consumer marking its row delivered hides nothing
# from the others. Registered at app start: {topic: [(copy topic, is the consumer on?)]}.
_copies: dict[str, list[tuple[str, Callable[[], bool]]]] = {}


def copy_topic(topic: str, copy: str, enabled: Callable[[], bool]) -> None:
    """Write a copy of every `topic` event under topic `copy` while `enabled()` says so."""
    targets = _copies.setdefault(topic, [])
    if all(existing != copy for existing, _ in targets):
        targets.append((copy, enabled))


def emit(
    session: Session, topic: str, aggregate_type: str, aggregate_id: str, payload: dict[str, Any]
) -> OutboxEvent:
    """Add an event to the caller's transaction; it is committed or rolled back with it."""
    event = OutboxEvent(
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        payload=payload,
    )
    session.add(event)
    if topic.startswith("booking."):  # booking outcomes are the events the service emits
        count_on_commit(session, BOOKING_OUTCOMES, topic.removeprefix("booking."))
    for copy, enabled in _copies.get(topic, ()):
        if enabled():
            session.add(
                OutboxEvent(
                    topic=copy,
                    aggregate_type=aggregate_type,
                    aggregate_id=str(aggregate_id),
                    payload=dict(payload),
                )
            )
    return event


def pending(session: Session, limit: int = 100, now: datetime | None = None) -> list[OutboxEvent]:
    """Return undelivered events that are due, oldest first."""
    due = now or utcnow()
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.delivered_at.is_(None), OutboxEvent.available_at <= due)
        .order_by(OutboxEvent.available_at, OutboxEvent.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim_once(session: Session, topic: str, batch: int) -> list[dict[str, Any]]:
    """Take up to `batch` undelivered events of `topic`, mark them delivered, commit; payloads.

    For work tried exactly once whatever its outcome (the work records how it went): concurrent
    workers skip each other's rows, and a crash after the commit loses no more than that try.
    """
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.topic == topic, OutboxEvent.delivered_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    events = list(session.scalars(query))
    now = utcnow()
    for event in events:
        event.attempts += 1
        event.delivered_at = now
    session.commit()
    return [event.payload for event in events]


IN_FLIGHT = "being sent: a round took this attempt and has not recorded its outcome"
INTERRUPTED = "the push was cut off (its worker stopped): delivered or not, it is not sent again"


def lease_attempts(
    session: Session, which: ColumnElement[bool], batch: int, lease_seconds: float
) -> list[Row[Any]]:
    """Take the next attempt of up to `batch` due events matching `which`, and commit, before
    anything is sent; return (id, topic, payload, attempts) rows, attempts counting this one.

    One UPDATE leases the batch: attempts + 1, last_error IN_FLIGHT, available_at at the end
    of the lease (other rounds skip it meanwhile, and skip rows locked by a round taking its
    own batch). The round records each outcome after sending. A row still IN_FLIGHT when its
    lease ran out belonged to a round that stopped, after sending or not: it is closed as
    INTERRUPTED, never sent again (at most once; the caller's retries are for known failures).
    """
    now = utcnow()
    pending = OutboxEvent.delivered_at.is_(None)
    session.execute(
        update(OutboxEvent)
        .where(which, pending, OutboxEvent.available_at <= now, OutboxEvent.last_error == IN_FLIGHT)
        .values(delivered_at=now, last_error=INTERRUPTED)
        .execution_options(synchronize_session=False)
    )
    due = (
        select(OutboxEvent.id)
        .where(which, pending, OutboxEvent.available_at <= now)
        .order_by(OutboxEvent.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    leased = session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(due.scalar_subquery()))
        .values(
            attempts=OutboxEvent.attempts + 1,
            last_error=IN_FLIGHT,
            available_at=now + timedelta(seconds=lease_seconds),
        )
        .returning(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.payload, OutboxEvent.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted(leased, key=lambda row: row.id)
