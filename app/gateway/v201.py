"""OCPP 2.0.1: handlers that translate charger messages into port calls, and commands into CALLs."""

from __future__ import annotations

from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from app.gateway import commands as cmd
from app.gateway.commands import Command, CommandResult
from app.gateway.errors import UnsupportedCommand
from app.gateway.ports import (
    AuthorizationResult,
    BootInfo,
    EvseStatus,
    MeterReport,
    OcppVersion,
    ProgressKind,
    ProgressReport,
    ReservationUpdate,
    StationEventReport,
    StatusReport,
    TransactionEvent,
    TransactionEventType,
)
from app.gateway.protocol import (
    StationLink,
    charging_schedule,
    now_iso,
    parse_samples,
    parse_time,
    response_payload,
)

STATUS_MAP: dict[str, EvseStatus] = {
    "Available": EvseStatus.AVAILABLE,
    "Occupied": EvseStatus.CHARGING,
    "Reserved": EvseStatus.RESERVED,
    "Unavailable": EvseStatus.INOPERATIVE,
    "Faulted": EvseStatus.OUTOFORDER,
}

# Names of an OCPP device-model variable, not secrets.
PASSWORD_COMPONENT = "SecurityCtrlr"  # noqa: S105
PASSWORD_VARIABLE = "BasicAuthPassword"  # noqa: S105


def id_token_info(result: AuthorizationResult) -> dict[str, Any]:
    """Return a 2.0.1 idTokenInfo for an authorisation result."""
    info: dict[str, Any] = {"status": result.status.value}
    if result.expires_at is not None:
        info["cache_expiry_date_time"] = result.expires_at.isoformat()
    if result.parent_id is not None:
        info["group_id_token"] = {"id_token": result.parent_id, "type": "Central"}
    return info


class StationV201(StationLink, ChargePoint):
    """One OCPP 2.0.1 charging station connected to the gateway.

    Messages that read the same in both versions (Heartbeat, SecurityEventNotification,
    DataTransfer, FirmwareStatusNotification) are handled in StationLink.
    """

    version = OcppVersion.V201

    @on(Action.boot_notification)
    async def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **extra: Any
    ) -> call_result.BootNotification:
        """Ask the port whether this station is accepted."""
        info = BootInfo(
            vendor=charging_station["vendor_name"],
            model=charging_station["model"],
            serial_number=charging_station.get("serial_number"),
            firmware_version=charging_station.get("firmware_version"),
            reason=reason,
        )
        decision = await self.accept_boot(info)
        return call_result.BootNotification(now_iso(), decision.interval, decision.status.value)

    @on(Action.status_notification)
    async def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **extra: Any
    ) -> call_result.StatusNotification:
        """Report a connector status."""
        report = StatusReport(
            evse_id=evse_id,
            connector_id=connector_id,
            status=STATUS_MAP.get(connector_status, EvseStatus.UNKNOWN),
            ocpp_status=connector_status,
            error_code=None,
            timestamp=parse_time(timestamp),
        )
        await self.call_port(self.port.status, report)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **extra: Any) -> call_result.Authorize:
        """Ask the port about a token."""
        result = await self.call_port(self.port.authorize, id_token["id_token"], id_token["type"])
        return call_result.Authorize(id_token_info=id_token_info(result))

    @on(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        **extra: Any,
    ) -> call_result.TransactionEvent:
        """Apply a transaction event (idempotent in the port on transaction id and seqNo)."""
        evse = extra.get("evse") or {}
        token = extra.get("id_token") or {}
        event = TransactionEvent(
            event_type=TransactionEventType(event_type),
            transaction_id=transaction_info["transaction_id"],
            seq_no=seq_no,
            timestamp=parse_time(timestamp),
            trigger_reason=trigger_reason,
            offline=bool(extra.get("offline", False)),
            evse_id=evse.get("id"),
            connector_id=evse.get("connector_id"),
            id_token=token.get("id_token"),
            token_type=token.get("type"),
            charging_state=transaction_info.get("charging_state"),
            stopped_reason=transaction_info.get("stopped_reason"),
            remote_start_id=transaction_info.get("remote_start_id"),
            samples=parse_samples(extra.get("meter_value")),
        )
        result = await self.call_port(self.port.transaction_event, event)
        auth = result.authorization
        return call_result.TransactionEvent(id_token_info=auth and id_token_info(auth))

    @on(Action.meter_values)
    async def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **extra: Any
    ) -> call_result.MeterValues:
        """Store meter samples sent outside a transaction."""
        await self.call_port(
            self.port.meter_values, MeterReport(evse_id, None, parse_samples(meter_value))
        )
        return call_result.MeterValues()

    @on(Action.log_status_notification)
    async def on_log_status_notification(
        self, status: str, **extra: Any
    ) -> call_result.LogStatusNotification:
        """Keep the log upload's progress in the station's record."""
        report = ProgressReport(ProgressKind.LOG, status, extra.get("request_id"))
        await self.call_port(self.port.progress, report)
        return call_result.LogStatusNotification()

    @on(Action.notify_event)
    async def on_notify_event(
        self, generated_at: str, seq_no: int, event_data: list[dict[str, Any]], **extra: Any
    ) -> call_result.NotifyEvent:
        """Keep the station's events (faults, alerts, monitor triggers)."""
        events = tuple(notify_event(data) for data in event_data)
        await self.call_port(self.port.station_events, events)
        return call_result.NotifyEvent()

    @on(Action.notify_charging_limit)
    async def on_notify_charging_limit(
        self, charging_limit: dict[str, Any], **extra: Any
    ) -> call_result.NotifyChargingLimit:
        """Keep that an external source (grid operator, EMS) limits the station."""
        critical = charging_limit.get("is_grid_critical")
        event = StationEventReport(
            kind="NotifyChargingLimit",
            timestamp=parse_time(None),
            component=evse_component(extra.get("evse_id")),
            actual_value=str(charging_limit["charging_limit_source"]),
            tech_info="grid critical" if critical else None,
        )
        await self.call_port(self.port.station_events, (event,))
        return call_result.NotifyChargingLimit()

    @on(Action.cleared_charging_limit)
    async def on_cleared_charging_limit(
        self, charging_limit_source: str, **extra: Any
    ) -> call_result.ClearedChargingLimit:
        """Keep that an external charging limit was lifted."""
        event = StationEventReport(
            kind="ClearedChargingLimit",
            timestamp=parse_time(None),
            component=evse_component(extra.get("evse_id")),
            actual_value=charging_limit_source,
            cleared=True,
        )
        await self.call_port(self.port.station_events, (event,))
        return call_result.ClearedChargingLimit()

    @on(Action.notify_report)
    async def on_notify_report(self, request_id: int, **extra: Any) -> call_result.NotifyReport:
        """Acknowledge a device-model report (PlugPool requests none, so nothing is kept)."""
        return call_result.NotifyReport()

    @on(Action.notify_monitoring_report)
    async def on_notify_monitoring_report(
        self, request_id: int, **extra: Any
    ) -> call_result.NotifyMonitoringReport:
        """Acknowledge a monitoring report (PlugPool requests none, so nothing is kept)."""
        return call_result.NotifyMonitoringReport()

    @on(Action.reservation_status_update)
    async def on_reservation_status_update(
        self, reservation_id: int, reservation_update_status: str, **extra: Any
    ) -> call_result.ReservationStatusUpdate:
        """Record that the station ended a reservation (Expired or Removed)."""
        update = ReservationUpdate(reservation_id, reservation_update_status)
        await self.call_port(self.port.reservation_update, update)
        return call_result.ReservationStatusUpdate()

    def to_call(self, command: Command) -> Any:
        """Translate a command into a 2.0.1 CALL."""
        match command:
            case cmd.RemoteStart():
                return call.RequestStartTransaction(
                    id_token={"id_token": command.id_token, "type": command.token_type},
                    remote_start_id=command.remote_start_id,
                    evse_id=command.evse_id,
                )
            case cmd.RemoteStop():
                return call.RequestStopTransaction(transaction_id=command.transaction_id)
            case cmd.ReserveNow():
                return call.ReserveNow(
                    id=command.reservation_id,
                    expiry_date_time=command.expires_at.isoformat(),
                    id_token={"id_token": command.id_token, "type": command.token_type},
                    evse_id=command.evse_id,
                )
            case cmd.CancelReservation():
                return call.CancelReservation(reservation_id=command.reservation_id)
            case cmd.UnlockConnector():
                return call.UnlockConnector(
                    evse_id=command.evse_id, connector_id=command.connector_id
                )
            case cmd.SetChargingProfile():
                return call.SetChargingProfile(
                    evse_id=command.evse_id, charging_profile=profile(command.profile)
                )
            case cmd.ClearChargingProfile():
                return clear_profile(command)
            case cmd.ChangeAvailability():
                status = "Operative" if command.operative else "Inoperative"
                evse = None if command.evse_id is None else {"id": command.evse_id}
                return call.ChangeAvailability(operational_status=status, evse=evse)
            case cmd.TriggerMessage():
                evse = None if command.evse_id is None else {"id": command.evse_id}
                return call.TriggerMessage(requested_message=command.message.value, evse=evse)
            case cmd.RotatePassword():
                return call.SetVariables(set_variable_data=[password_variable(command)])
        raise UnsupportedCommand(f"{type(command).__name__} has no OCPP 2.0.1 equivalent")

    def to_result(self, command: Command, response: Any) -> CommandResult:
        """Use the response's `status`; SetVariables reports one per variable."""
        if isinstance(response, call_result.SetVariables):
            status = str(response.set_variable_result[0]["attribute_status"])
            return CommandResult(status, response_payload(response))
        return super().to_result(command, response)


def notify_event(data: dict[str, Any]) -> StationEventReport:
    """Translate one NotifyEvent eventData entry (snake_case keys)."""
    component = data.get("component") or {}
    evse = component.get("evse") or {}
    name = component.get("name")
    if name and evse.get("id") is not None:
        name = f"{name}@EVSE{evse['id']}"
    return StationEventReport(
        kind="NotifyEvent",
        timestamp=parse_time(data["timestamp"]),
        event_id=data["event_id"],
        trigger=data.get("trigger"),
        component=(name or "")[:50] or None,
        variable=((data.get("variable") or {}).get("name") or "")[:50] or None,
        actual_value=data.get("actual_value"),
        cleared=data.get("cleared"),
        tech_info=data.get("tech_info") or data.get("tech_code"),
    )


def evse_component(evse_id: int | None) -> str | None:
    """Name the EVSE a charging limit applies to (None: the whole station)."""
    return None if evse_id is None else f"EVSE{evse_id}"


def password_variable(command: cmd.RotatePassword) -> dict[str, Any]:
    """Build the SetVariables entry for SecurityCtrlr.BasicAuthPassword."""
    return {
        "attribute_value": command.new_password,
        "component": {"name": PASSWORD_COMPONENT},
        "variable": {"name": PASSWORD_VARIABLE},
    }


def profile(spec: cmd.ChargingProfile) -> dict[str, Any]:
    """Build a 2.0.1 chargingProfile object (snake_case; the library camel-cases it)."""
    schedule = {"id": spec.profile_id, **charging_schedule(spec)}
    result: dict[str, Any] = {
        "id": spec.profile_id,
        "stack_level": spec.stack_level,
        "charging_profile_purpose": spec.purpose.value,
        "charging_profile_kind": spec.kind,
        "charging_schedule": [schedule],
    }
    if spec.transaction_id is not None:
        result["transaction_id"] = spec.transaction_id
    return result


def clear_profile(command: cmd.ClearChargingProfile) -> call.ClearChargingProfile:
    """Build a 2.0.1 ClearChargingProfile from version-neutral criteria."""
    criteria = {
        "evse_id": command.evse_id,
        "charging_profile_purpose": None if command.purpose is None else command.purpose.value,
        "stack_level": command.stack_level,
    }
    criteria = {k: v for k, v in criteria.items() if v is not None}
    return call.ClearChargingProfile(
        charging_profile_id=command.profile_id, charging_profile_criteria=criteria or None
    )
