"""`flask bookings ...`: run the booking and payment jobs without a Celery worker."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from app.bookings import tasks
from app.ocpi.tasks import emsp_jobs_task

bookings_cli = AppGroup("bookings", help="Booking and payment jobs.")

JOBS = (
    tasks.expire_holds,
    tasks.mark_no_shows,
    tasks.decline_unanswered,
    tasks.auto_complete,
    tasks.authorise_upcoming,
    tasks.retry_failed_captures,
    tasks.pay_out_owners,
)


@bookings_cli.command("run-jobs")
@click.option("--every", type=int, default=0, help="Repeat every N seconds (0: run once).")
def run_jobs(every: int) -> None:
    """Run every booking job once, or every N seconds (embedded mode has no beat)."""
    while True:
        for job in JOBS:
            click.echo(f"{job.name.rsplit('.', 1)[-1]}: {job.run()}")
        click.echo(f"emsp_jobs: {emsp_jobs_task.run()}")
        if not every:
            return
        time.sleep(every)
