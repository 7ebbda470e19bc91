"""The Celery app: broker REDIS_URL (or CELERY_BROKER_URL); tasks run inside a Flask app context."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

celery_app = Celery("plugpool", include=["app.bookings.tasks", "app.ocpi.tasks", "app.oicp.tasks"])

# Every minute is enough: holds last minutes, grace periods a quarter of an hour.
BEAT_SCHEDULE = {
    name: {"task": f"app.bookings.tasks.{name}", "schedule": 60.0}
    for name in (
        "expire_holds",
        "mark_no_shows",
        "decline_unanswered",
        "auto_complete",
        "authorise_upcoming",
        "retry_failed_captures",
        "pay_out_owners",
    )
}
# OCPI pushes and partner commands go out within seconds (push interval: OCPI_PUSH_INTERVAL).
BEAT_SCHEDULE["ocpi_deliver_outbox"] = {
    "task": "app.ocpi.tasks.deliver_outbox_task",
    "schedule": 10.0,
}
BEAT_SCHEDULE["ocpi_run_commands"] = {"task": "app.ocpi.tasks.run_commands_task", "schedule": 5.0}
# The hub: broadcast and ClientInfo deliveries within seconds, still-alive checks every minute
# (each party at most every HUB_CHECK_INTERVAL), the message log's retention once an hour.
BEAT_SCHEDULE["hub_deliver"] = {"task": "app.ocpi.tasks.hub_deliver_task", "schedule": 2.0}
BEAT_SCHEDULE["hub_check"] = {"task": "app.ocpi.tasks.hub_check_task", "schedule": 60.0}
BEAT_SCHEDULE["hub_purge"] = {"task": "app.ocpi.tasks.hub_purge_task", "schedule": 3600.0}
BEAT_SCHEDULE["ocpi_emsp_jobs"] = {"task": "app.ocpi.tasks.emsp_jobs_task", "schedule": 10.0}
# Partner CPOs' pulls: each partner is due on its own clock (OCPI_SYNC_INTERVAL, or its
# backoff), so the round looks often and dispatches one job per due partner.
BEAT_SCHEDULE["ocpi_sync_partners"] = {
    "task": "app.ocpi.tasks.sync_partners_task",
    "schedule": 30.0,
}
# Hub partners' hubclientinfo lists (PlugPool behind a hub): OCPI_HUB_PARTY_PULL_INTERVAL.
BEAT_SCHEDULE["ocpi_hub_parties"] = {
    "task": "app.ocpi.tasks.pull_hub_parties_task",
    "schedule": 900.0,
}
# Hubject (no-ops unless OICP_ENABLED): pushes and CDR billing often, status every 5 minutes
# (Hubject's advice: 1-5), EVSE data deltas and the CDR safety net hourly.
BEAT_SCHEDULE.update(
    {
        f"oicp_{name}": {"task": f"app.oicp.tasks.{name}_task", "schedule": every}
        for name, every in (
            ("deliver", 10.0),
            ("bill_cdrs", 60.0),
            ("pull_status", 300.0),
            ("pull_data", 3600.0),
            ("fetch_cdrs", 3600.0),
        )
    }
)


def _beat_schedule(app: Flask) -> dict[str, Any]:
    """The schedule, with the OCPI push, sync and hub-party intervals from the settings."""
    schedule = {name: dict(entry) for name, entry in BEAT_SCHEDULE.items()}
    schedule["ocpi_deliver_outbox"]["schedule"] = float(app.config["OCPI_PUSH_INTERVAL"])
    sync_round = min(30.0, float(app.config["OCPI_SYNC_INTERVAL"]))
    schedule["ocpi_sync_partners"]["schedule"] = sync_round
    schedule["ocpi_hub_parties"]["schedule"] = float(app.config["OCPI_HUB_PARTY_PULL_INTERVAL"])
    return schedule


def init_celery(app: Flask) -> Celery:
    """Bind the Celery app to a Flask app: settings, and an app context around each task."""
    broker = app.config.get("CELERY_BROKER_URL") or app.config["REDIS_URL"]

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app.Task = FlaskTask
    celery_app.conf.update(
        broker_url=broker,
        result_backend=broker,
        task_always_eager=bool(app.config.get("CELERY_ALWAYS_EAGER")),
        task_ignore_result=False,
        beat_schedule=_beat_schedule(app),
        broker_connection_retry_on_startup=True,
    )
    app.extensions["celery"] = celery_app
    return celery_app
