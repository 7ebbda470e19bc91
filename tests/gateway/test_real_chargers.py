"""What real chargers do that our own once did not: reconnect without booting, report progress,
events and reservation ends, ask for vendor extensions. Each is answered as the spec says."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from app.gateway.memory import MemoryStationPort
from app.gateway.ports import OcppVersion, ProgressKind, ProgressReport, ReservationUpdate
from app.gateway.simulator import SimulatorConfig, simulate
from tests.gateway.support import (
    BOOT16,
    BOOT201,
    PASSWORD,
    exchange,
    open_socket,
    run,
    serving,
    wait_until,
)

NOW = "2026-11-21T10:00:00Z"


def exchanges(
    port: MemoryStationPort, station_id: str, version: str, frames: list[Any], boot: bool = True
) -> list[Any]:
    """Connect (booting first unless told not to), send frames, return the replies."""

    async def scenario() -> list[Any]:
        async with serving(port) as gateway:
            socket = await open_socket(gateway, station_id, [version])
            if boot:
                payload = BOOT16 if version == "ocpp1.6" else BOOT201
                assert (await exchange(socket, [2, "boot", "BootNotification", payload]))[0] == 3
            answers = [await exchange(socket, frame) for frame in frames]
            await socket.close()
            return answers

    return run(scenario)


def test_station_accepted_before_is_served_on_reconnect_without_booting(
    port: MemoryStationPort,
) -> None:
    exchanges(port, "CP16", "ocpp1.6", [])  # boots, Accepted, then the network drops
    frames = [[2, "hb", "Heartbeat", {}], [2, "st", "StopTransaction", stop16()]]
    heartbeat, stop = exchanges(port, "CP16", "ocpp1.6", frames, boot=False)
    assert heartbeat[:2] == [3, "hb"] and "currentTime" in heartbeat[2]
    assert stop[:2] == [3, "st"]
    assert port.heartbeats["CP16"] == 1


def test_reconnect_without_booting_tells_the_port_the_station_is_ready(
    port: MemoryStationPort,
) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway:
            socket = await open_socket(gateway, "CP201", ["ocpp2.0.1"])
            await exchange(socket, [2, "boot", "BootNotification", BOOT201])
            await wait_until(lambda: port.ready["CP201"] == 1, "ready after boot")
            await socket.close()
            socket = await open_socket(gateway, "CP201", ["ocpp2.0.1"])
            await wait_until(lambda: port.ready["CP201"] == 2, "ready on reconnect")
            await socket.close()

    run(scenario)


def test_never_accepted_or_since_unapproved_station_must_boot_first(
    port: MemoryStationPort,
) -> None:
    (never,) = exchanges(port, "CP201", "ocpp2.0.1", [[2, "h1", "Heartbeat", {}]], boot=False)
    assert never[:3] == [4, "h1", "SecurityError"]
    exchanges(port, "CP201", "ocpp2.0.1", [])  # accepted once
    port.add_station(replace(port.stations["CP201"], approved=False))
    (refused,) = exchanges(port, "CP201", "ocpp2.0.1", [[2, "h2", "Heartbeat", {}]], boot=False)
    assert refused[:3] == [4, "h2", "SecurityError"]
    assert port.ready["CP201"] == 1


def stop16() -> dict[str, Any]:
    """Return a StopTransaction payload of a transaction the port does not know."""
    return {"meterStop": 10, "timestamp": NOW, "transactionId": 99}


def test_data_transfer_is_answered_unknown_vendor_in_both_versions(
    port: MemoryStationPort,
) -> None:
    frame = [2, "d1", "DataTransfer", {"vendorId": "com.acme", "messageId": "x", "data": "1"}]
    (v16,) = exchanges(port, "CP16", "ocpp1.6", [frame])
    (v201,) = exchanges(port, "CP201", "ocpp2.0.1", [frame])
    assert v16 == [3, "d1", {"status": "UnknownVendorId"}]
    assert v201 == [3, "d1", {"status": "UnknownVendorId"}]


def test_firmware_and_diagnostics_progress_reach_the_port_16(port: MemoryStationPort) -> None:
    frames = [
        [2, "f1", "FirmwareStatusNotification", {"status": "Downloading"}],
        [2, "g1", "DiagnosticsStatusNotification", {"status": "Uploaded"}],
    ]
    assert exchanges(port, "CP16", "ocpp1.6", frames) == [[3, "f1", {}], [3, "g1", {}]]
    assert port.progress_reports == [
        ("CP16", ProgressReport(ProgressKind.FIRMWARE, "Downloading")),
        ("CP16", ProgressReport(ProgressKind.LOG, "Uploaded")),
    ]


def test_firmware_and_log_progress_reach_the_port_201(port: MemoryStationPort) -> None:
    frames = [
        [2, "f1", "FirmwareStatusNotification", {"status": "Installed", "requestId": 7}],
        [2, "l1", "LogStatusNotification", {"status": "Uploading", "requestId": 8}],
    ]
    assert exchanges(port, "CP201", "ocpp2.0.1", frames) == [[3, "f1", {}], [3, "l1", {}]]
    assert port.progress_reports == [
        ("CP201", ProgressReport(ProgressKind.FIRMWARE, "Installed", 7)),
        ("CP201", ProgressReport(ProgressKind.LOG, "Uploading", 8)),
    ]


def notify_event(seq_no: int) -> list[Any]:
    """Return a NotifyEvent frame with one fault event of EVSE 1."""
    data = {
        "eventId": 41,
        "timestamp": NOW,
        "trigger": "Alerting",
        "actualValue": "Faulted",
        "techCode": "E12",
        "eventNotificationType": "HardWiredNotification",
        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
        "variable": {"name": "AvailabilityState"},
    }
    payload = {"generatedAt": NOW, "seqNo": seq_no, "eventData": [data]}
    return [2, f"e{seq_no}", "NotifyEvent", payload]


def test_station_reports_are_answered_and_events_kept_once(port: MemoryStationPort) -> None:
    frames = [
        notify_event(0),
        notify_event(1),  # the same event resent
        [2, "r1", "NotifyReport", {"requestId": 1, "generatedAt": NOW, "seqNo": 0}],
        [2, "m1", "NotifyMonitoringReport", {"requestId": 2, "seqNo": 0, "generatedAt": NOW}],
        [2, "c1", "NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "SO"}}],
        [2, "c2", "ClearedChargingLimit", {"chargingLimitSource": "SO", "evseId": 1}],
        [2, "u1", "ReservationStatusUpdate",
         {"reservationId": 12, "reservationUpdateStatus": "Expired"}],
    ]  # fmt: skip
    answers = exchanges(port, "CP201", "ocpp2.0.1", frames)
    assert [a[0] for a in answers] == [3] * len(frames)
    assert all(a[2] == {} for a in answers)
    events = list(port.station_event_reports.values())
    kinds = sorted(e.kind for e in events)
    assert kinds == ["ClearedChargingLimit", "NotifyChargingLimit", "NotifyEvent"]
    [fault] = [e for e in events if e.kind == "NotifyEvent"]
    assert (fault.event_id, fault.component, fault.variable) == (41, "Connector@EVSE1",
                                                                   "AvailabilityState")  # fmt: skip
    assert (fault.actual_value, fault.tech_info, fault.trigger) == ("Faulted", "E12", "Alerting")
    assert port.reservation_updates == [("CP201", ReservationUpdate(12, "Expired"))]


def test_malformed_reservation_status_update_gets_a_schema_error(
    port: MemoryStationPort,
) -> None:
    frame = [2, "u1", "ReservationStatusUpdate", {"reservationId": 12}]
    (reply,) = exchanges(port, "CP201", "ocpp2.0.1", [frame])
    assert reply[:3] == [4, "u1", "OccurrenceConstraintViolation"]
    assert port.reservation_updates == []


class BootCounting(MemoryStationPort):
    """The seeded port, counting BootNotifications."""

    def __init__(self, memory: MemoryStationPort) -> None:
        super().__init__(list(memory.stations.values()))
        self.boot_count = 0

    def boot(self, station_id: str, info: Any) -> Any:
        """Count, then decide."""
        self.boot_count += 1
        return super().boot(station_id, info)


def test_simulator_reconnects_after_a_drop_without_booting_again(
    port: MemoryStationPort,
) -> None:
    counting = BootCounting(port)

    async def scenario() -> None:
        async with serving(counting) as gateway:
            config = SimulatorConfig(
                station_id="CP201",
                password=PASSWORD,
                url=f"ws://127.0.0.1:{gateway.bound_port}/ocpp",
                protocol=OcppVersion.V201,
                heartbeat_interval=0.05,
            )
            stop = asyncio.Event()
            running = asyncio.create_task(simulate(config, stop))
            await wait_until(lambda: counting.heartbeats["CP201"] >= 1, "first heartbeat")
            await gateway.links["CP201"].close(1001, "gateway node going away")
            beats = counting.heartbeats["CP201"]
            await wait_until(lambda: counting.ready["CP201"] >= 2, "back without booting")
            await wait_until(lambda: counting.heartbeats["CP201"] > beats, "heartbeats again")
            stop.set()
            await running

    run(scenario)
    assert counting.boot_count == 1
