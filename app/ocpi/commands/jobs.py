"""Pick queued commands from the outbox and execute them, one outbox event per command."""

from __future__ import annotations

from sqlalchemy import select

from app.charging.commands import CommandSender
from app.core.clock import utcnow
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.ocpi.commands.services import COMMAND_QUEUED, execute_command
from app.ocpi.models import OcpiCommand


def run_queued(batch: int, sender: CommandSender) -> int:
    """Execute up to `batch` queued commands; each is tried once (its result says how it went)."""
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.topic == COMMAND_QUEUED, OutboxEvent.delivered_at.is_(None))
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
        record = db.session.get(OcpiCommand, event.payload["command_id"])
        if record is not None:
            execute_command(record, sender)
    return len(events)
