"""OCPI jobs. Celery is not wired into the app yet: `flask ocpi push` runs them."""

from __future__ import annotations

from app.ocpi import push
from app.ocpi.commands import jobs as commands_jobs
from app.ocpi.commands.ports import CommandSender, command_sender


def deliver_outbox(batch: int = 100) -> int:
    """Deliver pending location/EVSE changes to registered eMSPs; return the events handled."""
    return push.deliver_events(batch)


def run_commands(batch: int = 20, sender: CommandSender | None = None) -> int:
    """Execute queued partner commands through the gateway; return how many ran."""
    return commands_jobs.run_queued(batch, sender or command_sender())
