"""In-memory `StationPort` for the embedded demo, the benchmark and the gateway tests.

It keeps the same idempotency promises the DB-backed port must keep, so the
transport tests prove the gateway passes the right natural keys.
"""

from __future__ import annotations

import hmac
import itertools
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar

from app.gateway.ports import (
    AuthorizationResult,
    AuthorizationStatus,
    AuthOutcome,
    BootDecision,
    BootInfo,
    MeterReport,
    MeterSample,
    OcppVersion,
    ProgressReport,
    RegistrationStatus,
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

HEARTBEAT_INTERVAL = 300
PENDING_RETRY_INTERVAL = 60


@dataclass
class MemoryStation:
    """A seeded station; the password is kept in clear only because this is a fake."""

    station_id: str
    password: str
    approved: bool = True
    allow_missing_subprotocol: bool = False
    protocols: tuple[OcppVersion, ...] = (OcppVersion.V201, OcppVersion.V16)


@dataclass
class MemorySession:
    """A charging session as the fake records it."""

    station_id: str
    transaction_id: str
    id_token: str | None
    meter_start_wh: int | None = None
    meter_stop_wh: int | None = None
    stopped_at: datetime | None = None
    events: list[int] = field(default_factory=list)


SampleKey = tuple[str, str, datetime, str, str | None, str | None]


class MemoryStationPort:
    """Dict-backed, thread-safe implementation of `StationPort`."""

    # Each call holds the lock for a dict update only: the gateway may run them on its loop.
    nonblocking: ClassVar[frozenset[str]] = frozenset(
        {
            "boot",
            "heartbeat",
            "progress",
            "station_events",
            "reservation_update",
            "status",
            "authorize",
            "start_transaction",
            "meter_values",
            "stop_transaction",
            "transaction_event",
            "security_event",
            "record_violation",
        }
    )

    def __init__(self, stations: list[MemoryStation] | None = None) -> None:
        self._lock = threading.Lock()
        self.stations: dict[str, MemoryStation] = {s.station_id: s for s in stations or []}
        self.tokens: dict[str, AuthorizationStatus] = {}
        self.boots: dict[str, BootInfo] = {}
        self.online: dict[str, OcppVersion | None] = {}
        self.heartbeats: Counter[str] = Counter()
        self.statuses: dict[tuple[str, int, int], StatusReport] = {}
        self.sessions: dict[tuple[str, str], MemorySession] = {}
        self.samples: dict[SampleKey, MeterSample] = {}
        self.security_events: list[tuple[str, SecurityEvent]] = []
        self.violations: Counter[tuple[str, ViolationKind]] = Counter()
        self._starts: dict[tuple[str, int, str, int, datetime], int] = {}
        self._events: set[tuple[str, str, int]] = set()
        self._next_tx = itertools.count(1)
        self.accepted: set[str] = set()  # stations whose boot was Accepted
        self.ready: Counter[str] = Counter()
        self.progress_reports: list[tuple[str, ProgressReport]] = []
        self.station_event_reports: dict[
            tuple[str, str, int | None, datetime], StationEventReport
        ] = {}
        self.reservation_updates: list[tuple[str, ReservationUpdate]] = []

    def add_station(self, station: MemoryStation) -> None:
        """Seed or replace one station."""
        with self._lock:
            self.stations[station.station_id] = station

    def approve(self, station_id: str) -> None:
        """Mark a station approved, so its next boot is Accepted."""
        with self._lock:
            self.stations[station_id] = replace(self.stations[station_id], approved=True)

    def authenticate(
        self, station_id: str, password: str | None, certified: bool = False
    ) -> StationAuth:
        """Check the seeded password in constant time (a certified station needs none)."""
        station = self.stations.get(station_id)
        if station is None:
            return StationAuth(AuthOutcome.UNKNOWN)
        if not certified and (
            password is None
            or not hmac.compare_digest(password.encode(), station.password.encode())
        ):
            return StationAuth(AuthOutcome.BAD_PASSWORD)
        return StationAuth(
            AuthOutcome.OK,
            approved=station.approved,
            allow_missing_subprotocol=station.allow_missing_subprotocol,
            protocols=station.protocols,
            accepted_before=station.approved and station_id in self.accepted,
        )

    def boot(self, station_id: str, info: BootInfo) -> BootDecision:
        """Accept approved stations, keep the others pending."""
        with self._lock:
            self.boots[station_id] = info
            approved = self.stations[station_id].approved
            if approved:
                self.accepted.add(station_id)
            else:
                self.accepted.discard(station_id)
        if approved:
            return BootDecision(RegistrationStatus.ACCEPTED, HEARTBEAT_INTERVAL)
        return BootDecision(RegistrationStatus.PENDING, PENDING_RETRY_INTERVAL)

    def heartbeat(self, station_id: str) -> None:
        """Count heartbeats."""
        with self._lock:
            self.heartbeats[station_id] += 1

    def connection_changed(
        self, station_id: str, online: bool, protocol: OcppVersion | None
    ) -> None:
        """Track which stations are online."""
        with self._lock:
            if online:
                self.online[station_id] = protocol
            else:
                self.online.pop(station_id, None)

    def station_ready(self, station_id: str) -> None:
        """Count the moments a station became ready for commands."""
        with self._lock:
            self.ready[station_id] += 1

    def progress(self, station_id: str, report: ProgressReport) -> None:
        """Keep the report."""
        with self._lock:
            self.progress_reports.append((station_id, report))

    def station_events(self, station_id: str, events: tuple[StationEventReport, ...]) -> None:
        """Keep each event once under its natural key."""
        with self._lock:
            for event in events:
                key = (station_id, event.kind, event.event_id, event.timestamp)
                self.station_event_reports.setdefault(key, event)

    def reservation_update(self, station_id: str, update: ReservationUpdate) -> None:
        """Keep the update."""
        with self._lock:
            self.reservation_updates.append((station_id, update))

    def status(self, station_id: str, report: StatusReport) -> None:
        """Keep the newest report per connector."""
        key = (station_id, report.evse_id, report.connector_id)
        with self._lock:
            current = self.statuses.get(key)
            if current is None or current.timestamp <= report.timestamp:
                self.statuses[key] = report

    def authorize(
        self, station_id: str, id_token: str, token_type: str | None
    ) -> AuthorizationResult:
        """Accept tokens seeded in `tokens`, refuse the rest as Invalid."""
        status = self.tokens.get(id_token, AuthorizationStatus.INVALID)
        return AuthorizationResult(status)

    def start_transaction(self, station_id: str, start: TransactionStart) -> TransactionStarted:
        """Open a session once per natural key."""
        key = (station_id, start.connector_id, start.id_tag, start.meter_start_wh, start.timestamp)
        with self._lock:
            tx_id = self._starts.get(key)
            if tx_id is None:
                tx_id = self._starts[key] = next(self._next_tx)
                self.sessions[(station_id, str(tx_id))] = MemorySession(
                    station_id, str(tx_id), start.id_tag, meter_start_wh=start.meter_start_wh
                )
        return TransactionStarted(tx_id, self.authorize(station_id, start.id_tag, None))

    def meter_values(self, station_id: str, report: MeterReport) -> None:
        """Store each sample once."""
        tx = None if report.transaction_id is None else str(report.transaction_id)
        with self._lock:
            for sample in report.samples:
                self._store_sample(station_id, report.connector_id, tx, sample)

    def stop_transaction(
        self, station_id: str, stop: TransactionStop
    ) -> AuthorizationResult | None:
        """Close the session the first time only."""
        with self._lock:
            session = self.sessions.get((station_id, str(stop.transaction_id)))
            if session is not None and session.stopped_at is None:
                session.meter_stop_wh = stop.meter_stop_wh
                session.stopped_at = stop.timestamp
            for sample in stop.samples:
                self._store_sample(station_id, None, str(stop.transaction_id), sample)
        if stop.id_tag is None:
            return None
        return self.authorize(station_id, stop.id_tag, None)

    def transaction_event(self, station_id: str, event: TransactionEvent) -> TransactionEventResult:
        """Apply each (transaction_id, seq_no) once."""
        key = (station_id, event.transaction_id, event.seq_no)
        with self._lock:
            if key not in self._events:
                self._events.add(key)
                self._apply_event(station_id, event)
        if event.id_token is None:
            return TransactionEventResult()
        return TransactionEventResult(self.authorize(station_id, event.id_token, event.token_type))

    def security_event(self, station_id: str, event: SecurityEvent) -> None:
        """Keep the event."""
        with self._lock:
            self.security_events.append((station_id, event))

    def record_violation(self, station_id: str, kind: ViolationKind) -> None:
        """Count the violation."""
        with self._lock:
            self.violations[(station_id, kind)] += 1

    def energy_wh(self, station_id: str, transaction_id: str) -> int:
        """Return the energy of a session from its start/stop or its register samples."""
        session = self.sessions[(station_id, transaction_id)]
        if session.meter_start_wh is not None and session.meter_stop_wh is not None:
            return session.meter_stop_wh - session.meter_start_wh
        registers = [
            s.value
            for k, s in self.samples.items()
            if k[0] == station_id
            and k[1] == transaction_id
            and s.measurand == "Energy.Active.Import.Register"
        ]
        return int(max(registers) - min(registers)) if registers else 0

    def _apply_event(self, station_id: str, event: TransactionEvent) -> None:
        """Record an event (caller holds the lock)."""
        key = (station_id, event.transaction_id)
        session = self.sessions.setdefault(
            key, MemorySession(station_id, event.transaction_id, event.id_token)
        )
        session.events.append(event.seq_no)
        if event.event_type == "Ended" and session.stopped_at is None:
            session.stopped_at = event.timestamp
        for sample in event.samples:
            self._store_sample(station_id, event.evse_id, event.transaction_id, sample)

    def _store_sample(
        self, station_id: str, connector: int | None, tx: str | None, sample: MeterSample
    ) -> None:
        """Store a sample under its natural key (caller holds the lock)."""
        # A sample belongs to its transaction when it has one, so the copy resent
        # inside StopTransaction's transactionData is the same sample.
        owner = tx if tx is not None else f"connector:{connector}"
        key = (station_id, owner, sample.timestamp, sample.measurand, sample.phase, sample.context)
        self.samples.setdefault(key, sample)


def parse_seed(spec: str) -> list[MemoryStation]:
    """Parse "id:password[:flags],..." where flags may hold `pending` and `nosubproto`."""
    stations = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        station_id, password, *flags = item.split(":")
        stations.append(
            MemoryStation(
                station_id,
                password,
                approved="pending" not in flags,
                allow_missing_subprotocol="nosubproto" in flags,
            )
        )
    return stations
