"""The DB-backed `StationPort`: the gateway's calls mapped onto charging services.

Every call runs in its own Flask app context, so it gets its own scoped database session
(thread-safe from the gateway's port thread pool) that is removed when the call ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask

from app.charging import services
from app.charging.commands import CommandSender, use_local_bus
from app.charging.tasks import DISPATCH_INTERVAL, Wakeups, run_booking_dispatcher
from app.gateway.ports import (
    AuthorizationResult,
    BootDecision,
    BootInfo,
    MeterReport,
    OcppVersion,
    ProgressReport,
    ReservationUpdate,
    SecurityEvent,
    StationAuth,
    StationEventReport,
    StatusReport,
    TransactionEvent,
    TransactionEventResult,
    TransactionStart,
    TransactionStarted,
    TransactionStop,
    ViolationKind,
)

T = TypeVar("T")


class DbStationPort:
    """`StationPort` on the application's database (see app/gateway/ports.py for the contract)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wakeups = Wakeups()  # stations that became ready, for the booking dispatcher
        self.connections = GroupWriter(lambda changes: self._run(services.set_connections, changes))

    def _run(self, service: Callable[..., T], *args: Any) -> T:
        """Run one service call in a fresh app context (one session, one transaction)."""
        with self.app.app_context():
            return service(*args)

    def authenticate(
        self, station_id: str, password: str | None, certified: bool = False
    ) -> StationAuth:
        """Check identity and password against the stored hash (or a client certificate)."""
        return self._run(services.authenticate_station, station_id, password, certified)

    def boot(self, station_id: str, info: BootInfo) -> BootDecision:
        """Record boot details; Accepted only for approved stations."""
        return self._run(services.boot_station, station_id, info)

    def heartbeat(self, station_id: str) -> None:
        """Note that the station is alive."""
        self._run(services.note_heartbeat, station_id)

    def connection_changed(
        self, station_id: str, online: bool, protocol: OcppVersion | None
    ) -> None:
        """Record the station going online or offline (written with others' in one batch)."""
        self.connections.write(services.ConnectionChange(station_id, online, protocol))

    def station_ready(self, station_id: str) -> None:
        """Wake the booking dispatcher: reservations that found the station offline go now."""
        self.wakeups.add(station_id)

    def progress(self, station_id: str, report: ProgressReport) -> None:
        """Keep a firmware or log-upload status in the station's record."""
        self._run(services.record_progress, station_id, report)

    def station_events(self, station_id: str, events: tuple[StationEventReport, ...]) -> None:
        """Keep what the station reported about itself."""
        self._run(services.record_station_events, station_id, events)

    def reservation_update(self, station_id: str, update: ReservationUpdate) -> None:
        """Keep the reservation's end on its booking."""
        self._run(
            services.record_reservation_update, station_id, update.reservation_id, update.status
        )

    def status(self, station_id: str, report: StatusReport) -> None:
        """Store an EVSE status (newest report wins)."""
        self._run(services.record_status, station_id, report)

    def authorize(self, station_id: str, id_token: str, token_type: str) -> AuthorizationResult:
        """Decide whether a token may charge here."""
        return self._run(services.authorize_token, station_id, id_token, token_type)

    def start_transaction(self, station_id: str, start: TransactionStart) -> TransactionStarted:
        """Open a 1.6 session (idempotent)."""
        return self._run(services.start_transaction, station_id, start)

    def meter_values(self, station_id: str, report: MeterReport) -> None:
        """Store meter samples (idempotent)."""
        self._run(services.record_meter_values, station_id, report)

    def stop_transaction(
        self, station_id: str, stop: TransactionStop
    ) -> AuthorizationResult | None:
        """Close a 1.6 session and bill it (idempotent)."""
        return self._run(services.stop_transaction, station_id, stop)

    def transaction_event(self, station_id: str, event: TransactionEvent) -> TransactionEventResult:
        """Apply a 2.0.1 transaction event (idempotent)."""
        return self._run(services.apply_transaction_event, station_id, event)

    def security_event(self, station_id: str, event: SecurityEvent) -> None:
        """Keep a security event."""
        self._run(services.record_security_event, station_id, event)

    def record_violation(self, station_id: str, kind: ViolationKind) -> None:
        """Count a protocol violation."""
        self._run(services.count_violation, station_id, kind)

    def start_jobs(self, sender: CommandSender) -> Callable[[], None]:
        """Start the booking dispatcher beside the gateway; return a function that stops it."""
        use_local_bus(sender)
        stop = threading.Event()
        interval = float(self.app.config.get("BOOKING_DISPATCH_INTERVAL", DISPATCH_INTERVAL))
        thread = threading.Thread(
            target=run_booking_dispatcher,
            args=(self.app, sender, stop, interval, self.wakeups),
            name="booking-dispatcher",
            daemon=True,
        )
        thread.start()

        def halt() -> None:
            stop.set()
            self.wakeups.add(None)
            use_local_bus(None)

        return halt


class _Pending:
    """One change waiting in a `GroupWriter`, and how its batch ended."""

    __slots__ = ("change", "done", "error")

    def __init__(self, change: Any) -> None:
        self.change = change
        self.done = False
        self.error: BaseException | None = None


class GroupWriter:
    """Group commit: each caller blocks until its change is written, but while one batch is
    being written the changes arriving meanwhile wait and go together in the next one.

    In a reconnect storm thousands of stations go online within seconds; one transaction
    per station was most of a reconnect's CPU. No timer: an idle writer writes at once.
    """

    def __init__(self, write_batch: Callable[[list[Any]], None]) -> None:
        self._write_batch = write_batch
        self._cond = threading.Condition()
        self._pending: list[_Pending] = []
        self._writing = False

    def write(self, change: Any) -> None:
        """Write `change` (with whatever else is waiting); raise what its batch raised."""
        item = _Pending(change)
        with self._cond:
            self._pending.append(item)
            while self._writing and not item.done:
                self._cond.wait()
            if not item.done:  # nobody is writing: this thread writes everyone's batch
                self._writing = True
                batch, self._pending = self._pending, []
        if not item.done:
            error: BaseException | None = None
            try:
                self._write_batch([pending.change for pending in batch])
            except BaseException as failure:  # every caller of the batch learns it
                error = failure
            with self._cond:
                for pending in batch:
                    pending.done, pending.error = True, error
                self._writing = False
                self._cond.notify_all()
        if item.error is not None:
            raise item.error


def create_port() -> DbStationPort:
    """Build the DB-backed port on an app made from the environment (GATEWAY_PORT_IMPL)."""
    import config
    from app import create_app

    # Keep every connection the pool may open: the port's threads (port + handshake) use
    # them in bursts, and one opened and closed per call (overflow) costs more than the call.
    settings = config.load()
    ceiling = int(settings["DATABASE_POOL_SIZE"]) + int(settings["DATABASE_MAX_OVERFLOW"])
    return DbStationPort(
        create_app(overrides={"DATABASE_POOL_SIZE": ceiling, "DATABASE_MAX_OVERFLOW": 0})
    )
