"""The outbox's once-only claim: each event handed out once, other topics left alone."""

from __future__ import annotations

from sqlalchemy import select

from app.core.outbox import OutboxEvent, claim_once, emit
from app.extensions import db as _db


def test_claim_once_hands_each_event_out_once_in_order_and_only_of_its_topic(db):
    session = _db.session
    for n in range(3):
        emit(session, "test.once", "thing", str(n), {"n": n})
    emit(session, "test.other", "thing", "x", {"n": 99})
    session.commit()
    assert claim_once(session, "test.once", 2) == [{"n": 0}, {"n": 1}]
    assert claim_once(session, "test.once", 5) == [{"n": 2}]
    assert claim_once(session, "test.once", 5) == []
    other = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "test.other")).one()
    assert other.delivered_at is None and other.attempts == 0
    claimed = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "test.once"))
    assert all(e.delivered_at is not None and e.attempts == 1 for e in claimed)
