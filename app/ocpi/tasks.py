"""OCPI jobs: Celery tasks (beat runs the outbox delivery), also run by `flask ocpi push`."""

from __future__ import annotations

import logging

from app.charging.commands import CommandSender, command_sender
from app.core.celery import celery_app
from app.ocpi import pull, push
from app.ocpi.chargingprofiles import jobs as profile_jobs
from app.ocpi.commands import jobs as commands_jobs
from app.ocpi.errors import PartnerCallFailed
from app.ocpi.hubparty import services as hubparty
from app.ocpi.models import OcpiPartner

log = logging.getLogger("plugpool.ocpi")


def deliver_outbox(batch: int = 100) -> int:
    """Deliver pending OCPI pushes to the partners concerned; return the events handled."""
    return push.deliver_events(batch)


def run_commands(batch: int = 20, sender: CommandSender | None = None) -> int:
    """Execute queued partner commands and charging profiles; return how many ran."""
    from app.ocpi.commands.services import send_held_results

    sender = sender or command_sender()
    ran = commands_jobs.run_queued(batch, sender) + profile_jobs.run_queued(batch, sender)
    send_held_results()
    return ran


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


def run_emsp_jobs() -> dict[str, list[int]]:
    """Our drivers on partner networks: time out unanswered commands, bill new partner CDRs."""
    from app.charging.services import roaming_commands
    from app.payments import roaming

    return {
        "expired_commands": roaming_commands.expire_commands(),
        "billed_charges": roaming.bill_roaming_cdrs(),
        "retried_captures": roaming.retry_roaming_captures(),
        "released_holds": roaming.release_stale_holds(),
    }


@celery_app.task(name="app.ocpi.tasks.emsp_jobs_task")
def emsp_jobs_task() -> dict[str, list[int]]:
    """Run the eMSP jobs (command timeouts, roaming charges)."""
    return run_emsp_jobs()


def sync_partners(dispatch: bool = False) -> int:
    """Start the due pulls of partner CPOs (one job each when dispatching); return how many."""
    due = pull.due_partner_ids()
    for partner_id in due:
        if dispatch:
            sync_partner_task.delay(partner_id)
        else:
            sync_partner(partner_id)
    return len(due)


def sync_partner(partner_id: int) -> list[pull.PullResult]:
    """Pull one partner's locations and tariffs (full when due, else changes)."""
    from app.extensions import db

    partner = db.session.get(OcpiPartner, partner_id)
    if partner is None:
        return []
    if partner.is_hub:
        _refresh_hub_parties(partner)
    return pull.sync_partner(partner)


def _refresh_hub_parties(partner: OcpiPartner) -> None:
    """A hub's ClientInfo list first: what it accepts and pushes depends on who is CONNECTED."""
    from app.extensions import db

    try:
        hubparty.pull_client_info(partner)
    except PartnerCallFailed:
        db.session.rollback()
        log.warning("hub partner %s: hubclientinfo pull failed", partner.id)


@celery_app.task(name="app.ocpi.tasks.pull_hub_parties_task")
def pull_hub_parties_task() -> int:
    """Refresh every hub partner's hubclientinfo list; return the ClientInfo entries stored."""
    return hubparty.pull_all_hubs()


@celery_app.task(name="app.ocpi.tasks.sync_partners_task")
def sync_partners_task() -> int:
    """Beat round: one job per partner whose pull is due, so a slow partner blocks no other."""
    return sync_partners(dispatch=True)


@celery_app.task(name="app.ocpi.tasks.sync_partner_task")
def sync_partner_task(partner_id: int) -> int:
    """Pull one partner CPO; return the objects received."""
    return sum(result.received for result in sync_partner(partner_id))
