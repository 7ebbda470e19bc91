"""Hubject jobs (Celery under beat, or `flask oicp ...`); each does nothing while disabled."""

from __future__ import annotations

import logging
from datetime import timedelta

from app.core.celery import celery_app
from app.core.clock import utcnow
from app.oicp import enabled
from app.oicp.errors import HubjectCallFailed
from app.oicp.services import delivery, emp_pull, emp_sessions

log = logging.getLogger("plugpool.oicp.tasks")
SAFETY_NET = timedelta(days=2)  # GetChargeDetailRecords looks this far back


@celery_app.task(name="app.oicp.tasks.deliver_task")
def deliver_task() -> int:
    """Push pending EVSE data / status changes, notifications and CDRs to Hubject."""
    return delivery.deliver() if enabled() else 0


@celery_app.task(name="app.oicp.tasks.bill_cdrs_task")
def bill_cdrs_task() -> int:
    """Charge our drivers for the Hubject CDRs received."""
    return emp_sessions.bill_due_cdrs() if enabled() else 0


@celery_app.task(name="app.oicp.tasks.pull_status_task")
def pull_status_task() -> int:
    """PullEvseStatus into the inventory."""
    return _guarded(emp_pull.pull_evse_status)


@celery_app.task(name="app.oicp.tasks.pull_data_task")
def pull_data_task() -> int:
    """PullEvseData (deltas since the last call) and the pricing into the inventory."""
    return _guarded(emp_pull.pull_evse_data) + _guarded(emp_pull.pull_pricing)


@celery_app.task(name="app.oicp.tasks.fetch_cdrs_task")
def fetch_cdrs_task() -> int:
    """GetChargeDetailRecords of the last days: CDRs Hubject could not forward."""
    return _guarded(lambda: emp_sessions.fetch_cdrs(utcnow() - SAFETY_NET))


def _guarded(job: object) -> int:
    if not enabled():
        return 0
    try:
        return int(job())  # type: ignore[operator]
    except HubjectCallFailed as error:
        log.warning("Hubject job failed: %s", error)
        return 0
