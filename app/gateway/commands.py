"""Version-neutral commands the rest of PlugPool sends to stations through the bus.

Each command is a frozen dataclass; `v16.py` and `v201.py` translate it into
that version's CALL. Commands and results travel over Redis as JSON via
`to_wire` / `from_wire`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.gateway.errors import InvalidCommand


@dataclass(frozen=True, slots=True)
class RemoteStart:
    """Start charging for a token (1.6 RemoteStartTransaction, 2.0.1 RequestStartTransaction)."""

    id_token: str
    evse_id: int | None = None  # the connector id in 1.6
    remote_start_id: int = 0  # 2.0.1 correlates the later TransactionEvent with it
    token_type: str = "Central"  # noqa: S105 - an OCPP IdToken type, not a secret


@dataclass(frozen=True, slots=True)
class RemoteStop:
    """Stop a transaction (the id is an int in 1.6 and a string in 2.0.1)."""

    transaction_id: str


@dataclass(frozen=True, slots=True)
class ReserveNow:
    """Reserve an EVSE (1.6: a connector; 0 or None means any) for a token until `expires_at`."""

    reservation_id: int
    id_token: str
    expires_at: datetime
    evse_id: int | None = None
    token_type: str = "Central"  # noqa: S105 - an OCPP IdToken type, not a secret


@dataclass(frozen=True, slots=True)
class CancelReservation:
    """Cancel a reservation made with ReserveNow."""

    reservation_id: int


@dataclass(frozen=True, slots=True)
class UnlockConnector:
    """Unlock a connector (1.6 knows only `connector_id`, numbered per station)."""

    evse_id: int
    connector_id: int = 1


class ProfilePurpose(StrEnum):
    """Charging profile purpose; 1.6 calls the station one ChargePointMaxProfile."""

    STATION_MAX = "ChargingStationMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """A single-schedule absolute or relative charging profile; limits in `unit` (A or W)."""

    profile_id: int
    stack_level: int
    purpose: ProfilePurpose
    unit: str  # "A" or "W"
    periods: tuple[tuple[int, Decimal], ...]  # (start seconds, limit)
    kind: str = "Relative"  # Absolute | Relative (Recurring is not offered)
    start_schedule: datetime | None = None
    duration: int | None = None
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class SetChargingProfile:
    """Install a charging profile on an EVSE (0 = the whole station)."""

    evse_id: int
    profile: ChargingProfile


@dataclass(frozen=True, slots=True)
class ClearChargingProfile:
    """Clear profiles by id, or by the criteria given."""

    profile_id: int | None = None
    evse_id: int | None = None
    purpose: ProfilePurpose | None = None
    stack_level: int | None = None


@dataclass(frozen=True, slots=True)
class ChangeAvailability:
    """Make an EVSE (None = the station) operative or inoperative."""

    operative: bool
    evse_id: int | None = None


class TriggerableMessage(StrEnum):
    """Messages both versions can be asked to send with TriggerMessage."""

    BOOT_NOTIFICATION = "BootNotification"
    HEARTBEAT = "Heartbeat"
    METER_VALUES = "MeterValues"
    STATUS_NOTIFICATION = "StatusNotification"


@dataclass(frozen=True, slots=True)
class TriggerMessage:
    """Ask the station to send a message now."""

    message: TriggerableMessage
    evse_id: int | None = None


@dataclass(frozen=True, slots=True)
class RotatePassword:
    """Set a new Basic-auth password (1.6 AuthorizationKey, 2.0.1 BasicAuthPassword)."""

    new_password: str = field(repr=False)  # never in logs

    def __post_init__(self) -> None:
        """Refuse passwords outside the 16-40 printable characters OCPP allows."""
        if not 16 <= len(self.new_password) <= 40 or not self.new_password.isprintable():
            raise InvalidCommand("password must be 16 to 40 printable characters")


Command = (
    RemoteStart
    | RemoteStop
    | ReserveNow
    | CancelReservation
    | UnlockConnector
    | SetChargingProfile
    | ClearChargingProfile
    | ChangeAvailability
    | TriggerMessage
    | RotatePassword
)

COMMAND_TYPES: dict[str, type] = {cls.__name__: cls for cls in typing.get_args(Command)}


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The station's answer: its status word (Accepted, Rejected, ...) and the raw payload."""

    status: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """Tell whether the station accepted (or scheduled) the command."""
        return self.status in {"Accepted", "Unlocked", "Scheduled"}


def to_wire(command: Command) -> dict[str, Any]:
    """Serialise a command to a JSON-ready dict tagged with its type."""
    return {"type": type(command).__name__, "fields": _encode(command)}


def from_wire(data: dict[str, Any]) -> Command:
    """Rebuild a command serialised by `to_wire`."""
    cls = COMMAND_TYPES[data["type"]]
    return _decode(cls, data["fields"])


def _encode(value: Any) -> Any:
    """Encode dataclasses, datetimes, decimals and tuples as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(tp: Any, value: Any) -> Any:
    """Decode a JSON value into the annotated type `tp`."""
    if value is None:
        return None
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{name: _decode(hints[name], v) for name, v in value.items()})
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value, strict=True))
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(inner[0], value)
    if tp is datetime:
        return datetime.fromisoformat(value)
    return tp(value) if isinstance(tp, type) else value
