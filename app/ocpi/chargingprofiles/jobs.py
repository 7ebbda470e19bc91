"""Pick queued charging profile requests from the outbox and execute them, once each."""

from __future__ import annotations

from app.charging.commands import CommandSender
from app.core.outbox import claim_once
from app.extensions import db
from app.ocpi.chargingprofiles.services import PROFILE_QUEUED, execute_profile_request
from app.ocpi.models import OcpiChargingProfile


def run_queued(batch: int, sender: CommandSender) -> int:
    """Execute up to `batch` queued requests; each is tried once (its result says how it went)."""
    payloads = claim_once(db.session, PROFILE_QUEUED, batch)
    for payload in payloads:
        record = db.session.get(OcpiChargingProfile, payload["id"])
        if record is not None:
            execute_profile_request(record, sender)
    return len(payloads)
