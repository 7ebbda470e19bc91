"""Station use cases: identity, boot, liveness, EVSE status, audit, tokens."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select, update

from app.charging import queries
from app.charging.keycache import verify_station_key
from app.charging.models import (
    DriverToken,
    EvseStatusReport,
    StationEvent,
    StationSecurityEvent,
)
from app.charging.tokens import (
    APP_TOKEN_TYPE,
    authorize_at,
    new_driver_token,
    own_token,
    set_token_valid,
)
from app.core.clock import utcnow
from app.core.errors import NotFound
from app.extensions import db
from app.gateway.ports import (
    AuthorizationResult,
    AuthOutcome,
    BootDecision,
    BootInfo,
    OcppVersion,
    ProgressKind,
    ProgressReport,
    RegistrationStatus,
    SecurityEvent,
    StationAuth,
    StationEventReport,
    StatusReport,
    ViolationKind,
)
from app.inventory.enums import EvseStatus
from app.inventory.models import ChargeStation
from app.inventory.services import ensure_own_party, set_evse_status
from app.ocpi.models import Token

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 300
PENDING_RETRY_INTERVAL = 60


class UnknownStation(LookupError):
    """A port call named a station that does not exist (it was removed while connected)."""


# Stations


def authenticate_station(
    station_id: str, password: str | None, certified: bool = False
) -> StationAuth:
    """Check a station's identity and Basic-auth password against its stored hash; a client
    certificate of the operator's CA naming the station (`certified`) stands for the password."""
    station = queries.station_credentials(station_id)
    if station is None:
        return StationAuth(AuthOutcome.UNKNOWN)
    if not certified and (
        password is None or not verify_station_key(station_id, station.password_hash, password)
    ):
        return StationAuth(AuthOutcome.BAD_PASSWORD)
    return StationAuth(
        AuthOutcome.OK,
        approved=station.approved,
        allow_missing_subprotocol=station.allow_missing_subprotocol,
        accepted_before=station.approved and station.accepted_at is not None,
    )


def boot_station(station_id: str, info: BootInfo) -> BootDecision:
    """Record what the charger says about itself; Accepted only for approved stations."""
    station = queries.station(station_id)
    if station is None:
        return BootDecision(RegistrationStatus.REJECTED, PENDING_RETRY_INTERVAL)
    station.vendor = info.vendor[:50]
    station.model = info.model[:50]
    station.serial_number = (info.serial_number or "")[:50] or None
    station.firmware_version = (info.firmware_version or "")[:50] or None
    station.last_seen_at = utcnow()
    approved = station.approved
    station.accepted_at = station.last_seen_at if approved else None
    db.session.commit()
    if approved:
        return BootDecision(RegistrationStatus.ACCEPTED, HEARTBEAT_INTERVAL)
    return BootDecision(RegistrationStatus.PENDING, PENDING_RETRY_INTERVAL)


def note_heartbeat(station_id: str) -> None:
    """Note that the station is alive."""
    db.session.execute(
        update(ChargeStation)
        .where(ChargeStation.station_id == station_id)
        .values(last_seen_at=utcnow())
    )
    db.session.commit()


@dataclass(frozen=True, slots=True)
class ConnectionChange:
    """One station going online (with its protocol) or offline."""

    station_id: str
    online: bool
    protocol: OcppVersion | None


def set_connections(changes: list[ConnectionChange]) -> None:
    """Record many stations going online or offline in one transaction (a station's last
    change in the list wins): one UPDATE per kind of change, not one per station."""
    latest = {change.station_id: change for change in changes}
    groups: dict[tuple[bool, OcppVersion | None], list[str]] = {}
    for change in latest.values():
        protocol = change.protocol if change.online else None
        groups.setdefault((change.online, protocol), []).append(change.station_id)
    now = utcnow()
    for (online, protocol), station_ids in groups.items():
        values: dict[str, object] = {"connected": online, "last_seen_at": now}
        if protocol is not None:
            values["protocol"] = protocol.value
        # Rows locked in one order: two nodes' batches sharing stations cannot deadlock.
        locked = (
            select(ChargeStation.id)
            .where(ChargeStation.station_id.in_(station_ids))
            .order_by(ChargeStation.id)
            .with_for_update()
        )
        db.session.execute(
            update(ChargeStation).where(ChargeStation.id.in_(locked)).values(**values)
        )
    db.session.commit()


def record_status(station_id: str, report: StatusReport) -> None:
    """Set an EVSE's status from a newer report; announce a change through the outbox."""
    station = require_station(station_id)
    evse = queries.evse_of(station.id, report.evse_id)
    if evse is None:
        return  # connector 0 (the whole station) or an EVSE the listing does not have
    kept = queries.status_report(evse.id)
    if kept is not None and kept.reported_at > report.timestamp:
        return  # an older report resent after a newer one
    if kept is None:
        kept = EvseStatusReport(evse_pk=evse.id)
        db.session.add(kept)
    kept.ocpp_status, kept.error_code = report.ocpp_status, report.error_code
    kept.reported_at = report.timestamp
    if evse.status != EvseStatus.REMOVED:
        # The inventory service writes the outbox event the OCPI push job delivers, and
        # commits this whole change with it.
        set_evse_status(evse, report.status.value)
    db.session.commit()


def record_security_event(station_id: str, event: SecurityEvent) -> None:
    """Keep a security event and log its type (tech info may be sensitive: not logged)."""
    log.warning("security event from %s: %s", station_id, event.type)
    db.session.add(
        StationSecurityEvent(
            station_id=station_id,
            type=event.type[:50],
            timestamp=event.timestamp,
            tech_info=(event.tech_info or "")[:255] or None,
        )
    )
    db.session.commit()


def record_progress(station_id: str, report: ProgressReport) -> None:
    """Keep the latest firmware or log-upload status in the station's record."""
    station = require_station(station_id)
    now = utcnow()
    if report.kind is ProgressKind.FIRMWARE:
        station.firmware_status, station.firmware_status_at = report.status[:32], now
    else:
        station.log_status, station.log_status_at = report.status[:32], now
    db.session.commit()


def record_station_events(station_id: str, events: tuple[StationEventReport, ...]) -> None:
    """Keep what a station reported about itself; a resent NotifyEvent entry is kept once."""
    for event in events:
        if event.event_id is not None and queries.station_event(
            station_id, event.event_id, event.timestamp
        ):
            continue
        if event.kind == "NotifyEvent" and event.trigger in {"Alerting", "Delta"}:
            log.info("%s: event %s %s", station_id, event.component, event.variable)
        db.session.add(
            StationEvent(
                station_id=station_id,
                kind=event.kind[:32],
                event_id=event.event_id,
                timestamp=event.timestamp,
                trigger=(event.trigger or "")[:16] or None,
                component=event.component,
                variable=event.variable,
                actual_value=(event.actual_value or "")[:2500] or None,
                cleared=event.cleared,
                tech_info=(event.tech_info or "")[:500] or None,
            )
        )
    db.session.commit()


def count_violation(station_id: str, kind: ViolationKind) -> None:
    """Count a protocol violation against the station."""
    log.info("protocol violation by %s: %s", station_id, kind.value)
    db.session.execute(
        update(ChargeStation)
        .where(ChargeStation.station_id == station_id)
        .values(violation_count=ChargeStation.violation_count + 1)
    )
    db.session.commit()


def require_station(station_id: str) -> ChargeStation:
    """Return a station or raise (the gateway answers InternalError)."""
    station = queries.station(station_id)
    if station is None:
        raise UnknownStation(station_id)
    return station


# Tokens


def authorize_token(station_id: str, uid: str, token_type: str) -> AuthorizationResult:
    """Decide whether a token may charge at this station."""
    station = require_station(station_id)
    decision = authorize_at(station, uid, token_type, None, utcnow())
    db.session.commit()
    return AuthorizationResult(decision.status)


def issue_driver_token(user_id: int, uid: str | None = None) -> DriverToken:
    """Give a PlugPool driver a token under the own party (idTag for chargers)."""
    with _one_transaction():
        link = new_driver_token(user_id, ensure_own_party(), uid)
    return link


def driver_token_uid(user_id: int) -> str:
    """Return the driver's token uid, issuing one on first use."""
    tokens = [t for t in queries.tokens_of_driver(user_id) if t.type == APP_TOKEN_TYPE]
    return tokens[0].uid if tokens else issue_driver_token(user_id).uid


@contextmanager
def _one_transaction() -> Iterator[None]:
    """Commit the block's changes, or roll all of them back."""
    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def set_driver_token_valid(
    uid: str,
    valid: bool,
    token_type: str = "APP_USER",  # noqa: S107 -- an OCPI TokenType, not a secret
) -> Token:
    """Block (valid false) or unblock a driver's token; partners hear it through the outbox."""
    with _one_transaction():
        token = own_token(uid, token_type)
        if token is None:
            raise NotFound(f"No driver token {uid}")
        set_token_valid(token, valid)
    return token
