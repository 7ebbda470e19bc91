"""Pick queued charging profile requests from the outbox and execute them, once each."""

from __future__ import annotations

from sqlalchemy import select

from app.charging.commands import CommandSender
from app.core.clock import utcnow
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.ocpi.chargingprofiles.services import PROFILE_QUEUED, execute_profile_request
from app.ocpi.models import OcpiChargingProfile


def run_queued(batch: int, sender: CommandSender) -> int:
    """Execute up to `batch` queued requests; each is tried once (its result says how it went)."""
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.topic == PROFILE_QUEUED, OutboxEvent.delivered_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    events = list(db.session.scalars(query))
    for event in events:
        event.attempts += 1
        event.delivered_at = utcnow()
    db.session.commit()
    for event in events:
        record = db.session.get(OcpiChargingProfile, event.payload["id"])
        if record is not None:
            execute_profile_request(record, sender)
    return len(events)
