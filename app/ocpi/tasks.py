"""OCPI jobs: Celery tasks (beat runs the outbox delivery), also run by `flask ocpi push`."""

from __future__ import annotations

from app.charging.commands import CommandSender, command_sender
from app.core.celery import celery_app
from app.ocpi import push
from app.ocpi.chargingprofiles import jobs as profile_jobs
from app.ocpi.commands import jobs as commands_jobs


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


def run_emsp_jobs() -> dict[str, list[int]]:
    """Our drivers on partner networks: time out unanswered commands, bill new partner CDRs."""
    from app.charging.services import roaming_commands
    from app.payments import roaming

    return {
        "expired_commands": roaming_commands.expire_commands(),
        "billed_charges": roaming.bill_roaming_cdrs(),
        "retried_captures": roaming.retry_roaming_captures(),
    }


@celery_app.task(name="app.ocpi.tasks.emsp_jobs_task")
def emsp_jobs_task() -> dict[str, list[int]]:
    """Run the eMSP jobs (command timeouts, roaming charges)."""
    return run_emsp_jobs()
