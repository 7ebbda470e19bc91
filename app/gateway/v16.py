"""OCPP 1.6J: handlers that translate charger messages into port calls, and commands into CALLs."""

from __future__ import annotations

from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from app.gateway import commands as cmd
from app.gateway.commands import Command
from app.gateway.errors import UnsupportedCommand
from app.gateway.ports import (
    AuthorizationResult,
    BootInfo,
    EvseStatus,
    MeterReport,
    OcppVersion,
    ProgressKind,
    ProgressReport,
    StatusReport,
    TransactionStart,
    TransactionStop,
)
from app.gateway.protocol import (
    StationLink,
    charging_schedule,
    now_iso,
    parse_samples,
    parse_time,
)

STATUS_MAP: dict[str, EvseStatus] = {
    "Available": EvseStatus.AVAILABLE,
    "Preparing": EvseStatus.CHARGING,  # a cable is plugged in: the EVSE is taken
    "Charging": EvseStatus.CHARGING,
    "SuspendedEV": EvseStatus.CHARGING,
    "SuspendedEVSE": EvseStatus.CHARGING,
    "Finishing": EvseStatus.CHARGING,
    "Reserved": EvseStatus.RESERVED,
    "Unavailable": EvseStatus.INOPERATIVE,
    "Faulted": EvseStatus.OUTOFORDER,
}

AUTHORIZATION_KEY = "AuthorizationKey"


def id_tag_info(result: AuthorizationResult) -> dict[str, Any]:
    """Return a 1.6 idTagInfo for an authorisation result."""
    info: dict[str, Any] = {"status": result.status.value, "parent_id_tag": result.parent_id}
    if result.expires_at is not None:
        info["expiry_date"] = result.expires_at.isoformat()
    return info


class StationV16(StationLink, ChargePoint):
    """One OCPP 1.6J charger connected to the gateway.

    Messages that read the same in both versions (Heartbeat, SecurityEventNotification,
    DataTransfer, FirmwareStatusNotification) are handled in StationLink.
    """

    version = OcppVersion.V16

    @on(Action.boot_notification)
    async def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **extra: Any
    ) -> call_result.BootNotification:
        """Ask the port whether this station is accepted."""
        info = BootInfo(
            vendor=charge_point_vendor,
            model=charge_point_model,
            serial_number=extra.get("charge_point_serial_number"),
            firmware_version=extra.get("firmware_version"),
        )
        decision = await self.accept_boot(info)
        return call_result.BootNotification(now_iso(), decision.interval, decision.status.value)

    @on(Action.status_notification)
    async def on_status_notification(
        self, connector_id: int, error_code: str, status: str, **extra: Any
    ) -> call_result.StatusNotification:
        """Report a connector status (connector 0 is the whole charge point)."""
        report = StatusReport(
            evse_id=connector_id,
            connector_id=connector_id,
            status=STATUS_MAP.get(status, EvseStatus.UNKNOWN),
            ocpp_status=status,
            error_code=None if error_code == "NoError" else error_code,
            timestamp=parse_time(extra.get("timestamp")),
        )
        await self.call_port(self.port.status, report)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        """Ask the port about a token."""
        result = await self.call_port(self.port.authorize, id_tag, None)
        return call_result.Authorize(id_tag_info=id_tag_info(result))

    @on(Action.start_transaction)
    async def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **extra: Any
    ) -> call_result.StartTransaction:
        """Open a session (idempotent in the port on its natural key)."""
        start = TransactionStart(
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start_wh=meter_start,
            timestamp=parse_time(timestamp),
            reservation_id=extra.get("reservation_id"),
        )
        started = await self.call_port(self.port.start_transaction, start)
        return call_result.StartTransaction(
            transaction_id=started.transaction_id,
            id_tag_info=id_tag_info(started.authorization),
        )

    @on(Action.meter_values)
    async def on_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **extra: Any
    ) -> call_result.MeterValues:
        """Store meter samples."""
        report = MeterReport(connector_id, extra.get("transaction_id"), parse_samples(meter_value))
        await self.call_port(self.port.meter_values, report)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, **extra: Any
    ) -> call_result.StopTransaction:
        """Close a session (idempotent in the port on the transaction id)."""
        stop = TransactionStop(
            transaction_id=transaction_id,
            meter_stop_wh=meter_stop,
            timestamp=parse_time(timestamp),
            id_tag=extra.get("id_tag"),
            reason=extra.get("reason"),
            samples=parse_samples(extra.get("transaction_data")),
        )
        result = await self.call_port(self.port.stop_transaction, stop)
        info = None if result is None else id_tag_info(result)
        return call_result.StopTransaction(id_tag_info=info)

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(
        self, status: str
    ) -> call_result.DiagnosticsStatusNotification:
        """Keep the diagnostics upload's progress in the station's record."""
        await self.call_port(self.port.progress, ProgressReport(ProgressKind.LOG, status))
        return call_result.DiagnosticsStatusNotification()

    def to_call(self, command: Command) -> Any:
        """Translate a command into a 1.6 CALL."""
        match command:
            case cmd.RemoteStart():
                return call.RemoteStartTransaction(
                    id_tag=command.id_token, connector_id=command.evse_id
                )
            case cmd.RemoteStop():
                return call.RemoteStopTransaction(transaction_id=int(command.transaction_id))
            case cmd.ReserveNow():
                return call.ReserveNow(
                    connector_id=command.evse_id or 0,
                    expiry_date=command.expires_at.isoformat(),
                    id_tag=command.id_token,
                    reservation_id=command.reservation_id,
                )
            case cmd.CancelReservation():
                return call.CancelReservation(reservation_id=command.reservation_id)
            case cmd.UnlockConnector():
                return call.UnlockConnector(connector_id=command.connector_id)
            case cmd.SetChargingProfile():
                return call.SetChargingProfile(
                    connector_id=command.evse_id, cs_charging_profiles=profile(command.profile)
                )
            case cmd.ClearChargingProfile():
                return clear_profile(command)
            case cmd.ChangeAvailability():
                kind = "Operative" if command.operative else "Inoperative"
                return call.ChangeAvailability(connector_id=command.evse_id or 0, type=kind)
            case cmd.TriggerMessage():
                return call.TriggerMessage(
                    requested_message=command.message.value, connector_id=command.evse_id
                )
            case cmd.RotatePassword():
                return call.ChangeConfiguration(key=AUTHORIZATION_KEY, value=command.new_password)
        raise UnsupportedCommand(f"{type(command).__name__} has no OCPP 1.6 equivalent")


def profile(spec: cmd.ChargingProfile) -> dict[str, Any]:
    """Build a 1.6 csChargingProfiles object (snake_case; the library camel-cases it)."""
    purpose = (
        "ChargePointMaxProfile"
        if spec.purpose is cmd.ProfilePurpose.STATION_MAX
        else spec.purpose.value
    )
    result: dict[str, Any] = {
        "charging_profile_id": spec.profile_id,
        "stack_level": spec.stack_level,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": spec.kind,
        "charging_schedule": charging_schedule(spec),
    }
    if spec.transaction_id is not None:
        result["transaction_id"] = int(spec.transaction_id)
    return result


def clear_profile(command: cmd.ClearChargingProfile) -> call.ClearChargingProfile:
    """Build a 1.6 ClearChargingProfile from version-neutral criteria."""
    purpose = command.purpose
    if purpose is cmd.ProfilePurpose.STATION_MAX:
        purpose_value: str | None = "ChargePointMaxProfile"
    else:
        purpose_value = None if purpose is None else purpose.value
    return call.ClearChargingProfile(
        id=command.profile_id,
        connector_id=command.evse_id,
        charging_profile_purpose=purpose_value,
        stack_level=command.stack_level,
    )
