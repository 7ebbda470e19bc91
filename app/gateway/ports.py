"""The one port through which the OCPP gateway talks to the rest of PlugPool.

The gateway is protocol code: it translates OCPP 1.6J / 2.0.1 messages into
calls on `StationPort` and translates the answers back. Every business
decision (is this station known, approved, is this token allowed, which
transaction id) is taken by the implementation of this port.

Contract for implementations (the DB-backed one lives outside `app/gateway`):

- Methods are synchronous and may block (database I/O). The gateway calls them
  through a bounded thread pool, never on the event loop, so they must be
  thread-safe: open one DB session/transaction per call and commit it there.
  A port may name in a `nonblocking` class attribute (a frozenset of method
  names) the methods that never wait on I/O (the in-memory port: all of them);
  the gateway runs those on the event loop and saves a thread hand-off per
  message (measured: ~45% of the gateway's CPU per message with that port).
- Calls for one station arrive in order (one message at a time per
  connection), calls for different stations arrive concurrently.
- Methods that record charging data are idempotent on the natural keys given
  in their docstrings: chargers resend queued messages after a reconnect
  (with new message ids), and a resend must change nothing twice and return
  the same answer as the first time.
- Never log or store `password` in clear; compare a stored hash in constant time.
- Raise nothing for ordinary outcomes (unknown token, unknown transaction):
  answer with a status. An exception becomes an OCPP `InternalError` CallError.
- Timestamps are timezone-aware UTC `datetime`s; energy is in Wh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class OcppVersion(StrEnum):
    """WebSocket subprotocol names of the OCPP versions the gateway speaks."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"


class AuthOutcome(StrEnum):
    """Result of checking a station's identity and Basic-auth password."""

    UNKNOWN = "unknown"
    BAD_PASSWORD = "bad_password"  # noqa: S105 - an outcome name, not a secret
    OK = "ok"


@dataclass(frozen=True, slots=True)
class StationAuth:
    """What the gateway needs to know about a station before the WebSocket upgrade."""

    outcome: AuthOutcome
    approved: bool = False
    #: Accept a connection that offers no subprotocol, and speak 1.6 to it.
    allow_missing_subprotocol: bool = False
    #: Versions this station may use, most preferred first.
    protocols: tuple[OcppVersion, ...] = (OcppVersion.V201, OcppVersion.V16)
    #: Accepted at an earlier boot and still approved: served on reconnect without a new
    #: BootNotification (a charger boots only when it boots; OCPP 1.6 section 4.2).
    accepted_before: bool = False


class RegistrationStatus(StrEnum):
    """BootNotification answer; the same names in 1.6 and 2.0.1."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a charger tells about itself in BootNotification."""

    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None
    reason: str | None = None  # 2.0.1 only (PowerUp, RemoteReset, ...)


@dataclass(frozen=True, slots=True)
class BootDecision:
    """Accepted only for approved stations; `interval` is heartbeat (or retry) seconds."""

    status: RegistrationStatus
    interval: int


class EvseStatus(StrEnum):
    """OCPI-like EVSE status the gateway maps OCPP connector statuses to."""

    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class StatusReport:
    """One StatusNotification; 1.6 has no EVSE, so `evse_id` equals `connector_id` there."""

    evse_id: int
    connector_id: int
    status: EvseStatus
    ocpp_status: str  # the raw OCPP value, e.g. "SuspendedEV" or "Faulted"
    error_code: str | None
    timestamp: datetime


class AuthorizationStatus(StrEnum):
    """Token authorisation outcome shared by both versions (mapped per version on the wire)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


@dataclass(frozen=True, slots=True)
class AuthorizationResult:
    """Answer to an authorisation question about one token."""

    status: AuthorizationStatus
    expires_at: datetime | None = None
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value; `value` keeps the charger's decimal string exactly."""

    timestamp: datetime
    value: Decimal
    measurand: str = "Energy.Active.Import.Register"
    unit: str | None = None
    phase: str | None = None
    context: str | None = None
    #: 2.0.1 signedMeterValue as JSON (signedMeterData, signingMethod, encodingMethod, publicKey)
    signed_data: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionStart:
    """1.6 StartTransaction; natural key (station, connector, id_tag, meter_start_wh, timestamp)."""

    connector_id: int
    id_tag: str
    meter_start_wh: int
    timestamp: datetime
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionStarted:
    """The transaction id the CSMS assigns (1.6) plus the token's authorisation."""

    transaction_id: int
    authorization: AuthorizationResult


@dataclass(frozen=True, slots=True)
class MeterReport:
    """MeterValues; a sample's key is (station, transaction_id or else connector_id,
    timestamp, measurand, phase, context). In 2.0.1 (outside transactions) connector_id
    carries the EVSE id and transaction_id is None."""

    connector_id: int
    transaction_id: int | None
    samples: tuple[MeterSample, ...]


@dataclass(frozen=True, slots=True)
class TransactionStop:
    """1.6 StopTransaction; natural key (station, transaction_id)."""

    transaction_id: int
    meter_stop_wh: int
    timestamp: datetime
    id_tag: str | None = None
    reason: str | None = None
    samples: tuple[MeterSample, ...] = ()


class TransactionEventType(StrEnum):
    """2.0.1 TransactionEvent eventType."""

    STARTED = "Started"
    UPDATED = "Updated"
    ENDED = "Ended"


@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """2.0.1 TransactionEvent; natural key (station, transaction_id, seq_no)."""

    event_type: TransactionEventType
    transaction_id: str
    seq_no: int
    timestamp: datetime
    trigger_reason: str
    offline: bool = False
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    token_type: str | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    samples: tuple[MeterSample, ...] = ()


@dataclass(frozen=True, slots=True)
class TransactionEventResult:
    """Authorisation of the event's id token, when the event carried one."""

    authorization: AuthorizationResult | None = None


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """SecurityEventNotification (2.0.1, and 1.6 with the security whitepaper)."""

    type: str
    timestamp: datetime
    tech_info: str | None = None


class ProgressKind(StrEnum):
    """What a progress notification is about."""

    FIRMWARE = "firmware"  # FirmwareStatusNotification
    LOG = "log"  # 1.6 DiagnosticsStatusNotification, 2.0.1 LogStatusNotification


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """A firmware update's or a log upload's progress, as the station reports it."""

    kind: ProgressKind
    status: str
    request_id: int | None = None


@dataclass(frozen=True, slots=True)
class StationEventReport:
    """One thing a 2.0.1 station reported about itself: a NotifyEvent eventData entry, or a
    charging limit set (NotifyChargingLimit) or cleared (ClearedChargingLimit) by its source.
    Natural key of a NotifyEvent entry: (station, event_id, timestamp)."""

    kind: str  # the action: NotifyEvent, NotifyChargingLimit, ClearedChargingLimit
    timestamp: datetime
    event_id: int | None = None
    trigger: str | None = None
    component: str | None = None
    variable: str | None = None
    actual_value: str | None = None
    cleared: bool | None = None
    tech_info: str | None = None


@dataclass(frozen=True, slots=True)
class ReservationUpdate:
    """2.0.1 ReservationStatusUpdate: a reservation expired or was removed at the station."""

    reservation_id: int
    status: str  # Expired | Removed


class ViolationKind(StrEnum):
    """Why a station's message was refused at the protocol level."""

    INVALID_FRAME = "invalid_frame"  # not JSON, or not an OCPP-J array
    SCHEMA = "schema"  # payload violates the action's JSON schema
    DUPLICATE_ID = "duplicate_id"  # a CALL id reused on one connection
    NOT_ACCEPTED = "not_accepted"  # a CALL other than BootNotification before Accepted


class StationPort(Protocol):
    """Business side of the gateway; see the module docstring for the contract."""

    def authenticate(
        self, station_id: str, password: str | None, certified: bool = False
    ) -> StationAuth:
        """Check identity and password (hash, constant-time); never auto-register.

        `certified`: the station presented a client certificate of the operator's CA naming
        it (security profile 3), which authenticates it without a password.
        """
        ...

    def boot(self, station_id: str, info: BootInfo) -> BootDecision:
        """Record boot details; Accepted only for approved stations, else Pending."""
        ...

    def heartbeat(self, station_id: str) -> None:
        """Note that the station is alive (last-seen timestamp)."""
        ...

    def connection_changed(
        self, station_id: str, online: bool, protocol: OcppVersion | None
    ) -> None:
        """Record the station going online (with its protocol) or offline."""
        ...

    def station_ready(self, station_id: str) -> None:
        """The station is accepted and reachable for commands (boot Accepted, or a reconnect
        of a station accepted before): a chance to send what waited for it. Must not block."""
        ...

    def status(self, station_id: str, report: StatusReport) -> None:
        """Store an EVSE/connector status; idempotent (last report by timestamp wins)."""
        ...

    def authorize(
        self, station_id: str, id_token: str, token_type: str | None
    ) -> AuthorizationResult:
        """Decide whether a token may charge here; 2.0.1 gives its type ("ISO14443"), 1.6 None."""
        ...

    def start_transaction(self, station_id: str, start: TransactionStart) -> TransactionStarted:
        """Open a 1.6 session; a resend with the same natural key returns the same id."""
        ...

    def meter_values(self, station_id: str, report: MeterReport) -> None:
        """Store 1.6 meter samples; a resent sample is stored once."""
        ...

    def stop_transaction(
        self, station_id: str, stop: TransactionStop
    ) -> AuthorizationResult | None:
        """Close a 1.6 session once (a resend changes nothing); authorise `id_tag` if given."""
        ...

    def transaction_event(self, station_id: str, event: TransactionEvent) -> TransactionEventResult:
        """Apply a 2.0.1 event once per (transaction_id, seq_no); a resend changes nothing."""
        ...

    def security_event(self, station_id: str, event: SecurityEvent) -> None:
        """Keep a security event for the audit trail."""
        ...

    def record_violation(self, station_id: str, kind: ViolationKind) -> None:
        """Count a protocol violation against the station (for alerting or throttling)."""
        ...

    def progress(self, station_id: str, report: ProgressReport) -> None:
        """Keep the latest firmware or log-upload status in the station's record."""
        ...

    def station_events(self, station_id: str, events: tuple[StationEventReport, ...]) -> None:
        """Keep what the station reported about itself; a resent event is stored once."""
        ...

    def reservation_update(self, station_id: str, update: ReservationUpdate) -> None:
        """Record that the station ended a reservation (on the booking it reserved)."""
        ...
