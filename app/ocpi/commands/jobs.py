"""Pick queued commands from the outbox and execute them, one outbox event per command."""

from __future__ import annotations

from app.charging.commands import CommandSender
from app.core.outbox import claim_once
from app.extensions import db
from app.ocpi.commands.services import COMMAND_QUEUED, execute_command
from app.ocpi.models import OcpiCommand


def run_queued(batch: int, sender: CommandSender) -> int:
    """Execute up to `batch` queued commands; each is tried once (its result says how it went)."""
    payloads = claim_once(db.session, COMMAND_QUEUED, batch)
    for payload in payloads:
        record = db.session.get(OcpiCommand, payload["command_id"])
        if record is not None:
            execute_command(record, sender)
    return len(payloads)
