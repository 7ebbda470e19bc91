"""OCPI jobs: Celery tasks (beat runs the outbox delivery), also run by `flask ocpi push`."""

from __future__ import annotations

from app.core.celery import celery_app
from app.ocpi import push
from app.ocpi.chargingprofiles import jobs as profile_jobs
from app.ocpi.commands import jobs as commands_jobs
from app.ocpi.commands.ports import CommandSender, command_sender


def deliver_outbox(batch: int = 100) -> int:
    """Deliver pending OCPI pushes to the partners concerned; return the events handled."""
    return push.deliver_events(batch)


def run_commands(batch: int = 20, sender: CommandSender | None = None) -> int:
    """Execute queued partner commands and charging profiles; return how many ran."""
    sender = sender or command_sender()
    return commands_jobs.run_queued(batch, sender) + profile_jobs.run_queued(batch, sender)


@celery_app.task(name="app.ocpi.tasks.deliver_outbox_task")
def deliver_outbox_task(batch: int = 100) -> int:
    """Deliver pending OCPI pushes until none is left (one round per beat tick)."""
    handled = 0
    while (done := deliver_outbox(batch)) > 0:
        handled += done
    return handled


@celery_app.task(name="app.ocpi.tasks.run_commands_task")
def run_commands_task(batch: int = 20) -> int:
    """Execute queued partner commands and charging profiles through the gateway."""
    return run_commands(batch)


@celery_app.task(name="app.ocpi.tasks.hub_deliver_task")
def hub_deliver_task() -> int:
    """Send the hub's due broadcast and ClientInfo deliveries."""
    from app.ocpi.hub.delivery import deliver_all

    return deliver_all()


@celery_app.task(name="app.ocpi.tasks.hub_check_task")
def hub_check_task() -> dict[str, int]:
    """Still-alive check of the hub's quiet parties."""
    from app.ocpi.hub.clientinfo import check_members

    return check_members()


@celery_app.task(name="app.ocpi.tasks.hub_purge_task")
def hub_purge_task() -> int:
    """Drop hub log rows past HUB_MESSAGE_RETENTION_DAYS."""
    from app.ocpi.hub.messages import purge

    return purge()
