"""Charging jobs: dispatch bookings that start, retry completing bookings from their CDRs."""

from __future__ import annotations

import logging
import threading
import time

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


class Wakeups:
    """Stations that became ready for commands, handed from the gateway to the dispatcher."""

    def __init__(self) -> None:
        self._ready: set[str | None] = set()
        self._changed = threading.Condition()

    def add(self, station_id: str | None) -> None:
        """Note a station (None only wakes the dispatcher, e.g. to stop)."""
        with self._changed:
            self._ready.add(station_id)
            self._changed.notify()

    def wait(self, timeout: float) -> set[str]:
        """Wait up to `timeout` seconds for stations; return (and forget) those noted."""
        with self._changed:
            if not self._ready:
                self._changed.wait(timeout)
            ready, self._ready = self._ready, set()
        return {s for s in ready if s is not None}


def run_booking_dispatcher(
    app: Flask,
    sender: CommandSender,
    stop: threading.Event,
    interval: float = DISPATCH_INTERVAL,
    wakeups: Wakeups | None = None,
) -> None:
    """Run the booking jobs every `interval` seconds until `stop` is set (gateway thread);
    a station that comes back gets its waiting reservations at once."""
    wakeups = wakeups or Wakeups()
    clock = time.monotonic
    next_round = clock() + interval
    while not stop.is_set():
        ready = wakeups.wait(max(0.0, next_round - clock()))
        if stop.is_set():
            return
        try:
            with app.app_context():
                if ready:  # one query for all stations back since the last pass (a storm)
                    retried = services.retry_reservations(sender, sorted(ready))
                    if retried:
                        log.info("reserved again for bookings %s", retried)
                if clock() < next_round:
                    continue
                next_round = clock() + interval
                started = start_due_bookings(sender)
                services.retry_reservations(sender)
                services.release_reservations(sender)
                settle_cdr_bookings()
            if started:
                log.info("dispatched bookings %s", started)
        except Exception:  # a failed round is retried at the next interval
            log.exception("booking dispatch failed")
