"""Charging jobs: dispatch bookings that start, retry completing bookings from their CDRs."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from app.charging import services
from app.charging.commands import CommandSender, command_sender

log = logging.getLogger(__name__)

DISPATCH_INTERVAL = 30.0  # seconds between two looks for bookings that start


def start_due_bookings(sender: CommandSender | None = None) -> list[int]:
    """Dispatch confirmed bookings whose window has begun; return their ids (job)."""
    return services.start_due_bookings(sender or command_sender())


def settle_cdr_bookings() -> int:
    """Retry completing bookings from their CDRs (capture of the CDR amount) (job)."""
    return services.settle_cdr_bookings()


def run_booking_dispatcher(
    app: Flask, sender: CommandSender, stop: threading.Event, interval: float = DISPATCH_INTERVAL
) -> None:
    """Run start_due_bookings every `interval` seconds until `stop` is set (gateway thread)."""
    while not stop.wait(interval):
        try:
            with app.app_context():
                started = start_due_bookings(sender)
                services.release_reservations(sender)
                settle_cdr_bookings()
            if started:
                log.info("dispatched bookings %s", started)
        except Exception:  # a failed round is retried at the next interval
            log.exception("booking dispatch failed")
