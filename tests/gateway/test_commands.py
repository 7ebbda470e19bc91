"""Commands sent through the in-process bus reach the station and its answer comes back."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import websockets
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from app.gateway import commands as cmd
from app.gateway.bus import LocalBus
from app.gateway.errors import CommandTimeout, InvalidCommand, StationOffline
from app.gateway.memory import MemoryStationPort
from app.gateway.ports import OcppVersion
from tests.gateway.support import (
    BOOT201,
    PASSWORD,
    charger,
    exchange,
    open_socket,
    run,
    serving,
)

NEW_PASSWORD = "rotated-password-0123456789"


def boot16() -> call16.BootNotification:
    """Return a 1.6 BootNotification."""
    return call16.BootNotification("PlugPool", "Home")


def boot201() -> call201.BootNotification:
    """Return a 2.0.1 BootNotification."""
    return call201.BootNotification(
        charging_station={"vendor_name": "PlugPool", "model": "Home"}, reason="PowerUp"
    )


def test_remote_start_reaches_16_charger_and_answer_returns(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, "CP16", OcppVersion.V16) as cp:
            await cp.call(boot16())
            result = await gateway.bus.send("CP16", cmd.RemoteStart("DRIVER1", evse_id=1), 5)
            assert result.accepted
            assert cp.received == [
                ("RemoteStartTransaction", {"id_tag": "DRIVER1", "connector_id": 1})
            ]

    run(scenario)


def test_remote_start_reaches_201_station_and_answer_returns(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, "CP201", OcppVersion.V201) as cp:
            await cp.call(boot201())
            command = cmd.RemoteStart("DRIVER1", evse_id=1, remote_start_id=42)
            result = await gateway.bus.send("CP201", command, 5)
            assert result.status == "Accepted"
            assert result.payload["transaction_id"] == "tx-remote"
            action, payload = cp.received[0]
            assert action == "RequestStartTransaction"
            assert payload["remote_start_id"] == 42

    run(scenario)


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
def test_password_rotation_uses_each_versions_key(
    port: MemoryStationPort, version: OcppVersion
) -> None:
    station = "CP16" if version is OcppVersion.V16 else "CP201"

    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, station, version) as cp:
            await cp.call(boot16() if version is OcppVersion.V16 else boot201())
            result = await gateway.bus.send(station, cmd.RotatePassword(NEW_PASSWORD), 5)
            assert result.accepted
            action, payload = cp.received[0]
            if version is OcppVersion.V16:
                assert action == "ChangeConfiguration"
                assert payload == {"key": "AuthorizationKey", "value": NEW_PASSWORD}
            else:
                assert action == "SetVariables"
                (data,) = payload["set_variable_data"]
                assert data["variable"]["name"] == "BasicAuthPassword"
                assert data["attribute_value"] == NEW_PASSWORD

    run(scenario)


def test_too_short_password_is_refused_before_sending() -> None:
    with pytest.raises(InvalidCommand):
        cmd.RotatePassword("short")


def test_charging_profile_is_translated_to_a_valid_16_call(port: MemoryStationPort) -> None:
    profile = cmd.ChargingProfile(
        profile_id=7,
        stack_level=1,
        purpose=cmd.ProfilePurpose.TX_DEFAULT,
        unit="A",
        periods=((0, Decimal("16")), (3600, Decimal("8.5"))),
    )

    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, "CP16", OcppVersion.V16) as cp:
            await cp.call(boot16())
            result = await gateway.bus.send("CP16", cmd.SetChargingProfile(1, profile), 5)
            assert result.accepted
            sent = cp.received[0][1]["cs_charging_profiles"]
            periods = sent["charging_schedule"]["charging_schedule_period"]
            assert [p["limit"] for p in periods] == [16, Decimal("8.5")]

    run(scenario)


def test_command_to_offline_station_fails_fast(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway:
            with pytest.raises(StationOffline):
                await gateway.bus.send("CP16", cmd.RemoteStop("1"), 5)

    run(scenario)


def test_station_that_does_not_answer_times_out(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port, response_timeout=0.5) as gateway:
            silent = await open_socket(gateway, "CP201", ["ocpp2.0.1"])  # never answers a CALL
            await exchange(silent, [2, "boot", "BootNotification", BOOT201])
            with pytest.raises(CommandTimeout):  # the caller's own, shorter wait
                await gateway.bus.send("CP201", cmd.CancelReservation(3), 0.2)
            with pytest.raises(CommandTimeout):  # the gateway's response_timeout
                await gateway.bus.send("CP201", cmd.CancelReservation(4), 5)
            await silent.close()

    run(scenario)


def test_disconnect_while_waiting_fails_the_command_as_offline(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway:
            silent = await open_socket(gateway, "CP201", ["ocpp2.0.1"])
            await exchange(silent, [2, "boot", "BootNotification", BOOT201])
            pending = asyncio.create_task(gateway.bus.send("CP201", cmd.CancelReservation(3), 5))
            await asyncio.sleep(0.1)
            await silent.close()
            with pytest.raises(StationOffline):
                await pending

    run(scenario)


def test_second_connection_replaces_the_first(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway:
            first = await open_socket(gateway, "CP201", ["ocpp2.0.1"])
            async with charger(gateway, "CP201", OcppVersion.V201) as cp:
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(first.recv(), 2)
                assert first.close_reason == "replaced by a newer connection"
                await cp.call(boot201())
                trigger = cmd.TriggerMessage(cmd.TriggerableMessage.HEARTBEAT)
                assert (await gateway.bus.send("CP201", trigger, 5)).accepted
                assert port.online["CP201"] is OcppVersion.V201  # the old close left it online

    run(scenario)


def test_sync_facade_sends_from_another_thread(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway, charger(gateway, "CP16", OcppVersion.V16) as cp:
            await cp.call(boot16())
            bus = gateway.bus
            assert isinstance(bus, LocalBus)
            command = cmd.RemoteStart("DRIVER1", evse_id=1)
            result = await asyncio.to_thread(bus.send_command, "CP16", command, 5)
            assert result.accepted
            with pytest.raises(StationOffline):
                await asyncio.to_thread(bus.send_command, "NOBODY", command, 5)

    run(scenario)


def test_command_wire_format_round_trips() -> None:
    commands = [
        cmd.ReserveNow(5, "DRIVER1", datetime(2026, 11, 21, 12, tzinfo=UTC) + timedelta(hours=1)),
        cmd.SetChargingProfile(
            0,
            cmd.ChargingProfile(1, 0, cmd.ProfilePurpose.STATION_MAX, "W", ((0, Decimal("7400")),)),
        ),
        cmd.ClearChargingProfile(purpose=cmd.ProfilePurpose.TX_DEFAULT),
        cmd.ChangeAvailability(operative=False, evse_id=1),
        cmd.RotatePassword(PASSWORD + "-more"),
    ]
    for command in commands:
        assert cmd.from_wire(cmd.to_wire(command)) == command


def test_late_reply_after_timeout_does_not_answer_the_next_command(
    port: MemoryStationPort,
) -> None:
    async def answer_next_call(socket: websockets.ClientConnection, status: str) -> str:
        """Read the next CALL from the gateway and answer it; return its message id."""
        frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
        await socket.send(json.dumps([3, frame[1], {"status": status}]))
        return str(frame[1])

    async def scenario() -> None:
        async with serving(port, response_timeout=0.3) as gateway:
            station = await open_socket(gateway, "CP201", ["ocpp2.0.1"])
            await exchange(station, [2, "boot", "BootNotification", BOOT201])
            await station.send(json.dumps([3, "made-up", {"status": "Accepted"}]))
            await exchange(station, [2, "hb", "Heartbeat", {}])  # the made-up reply is handled
            assert gateway.links["CP201"]._response_queue.qsize() == 0  # type: ignore[attr-defined]
            with pytest.raises(CommandTimeout):
                await gateway.bus.send("CP201", cmd.CancelReservation(1), 5)
            late = json.loads(await station.recv())
            await station.send(json.dumps([3, late[1], {"status": "Accepted"}]))  # too late
            pending = asyncio.create_task(gateway.bus.send("CP201", cmd.CancelReservation(2), 5))
            await answer_next_call(station, "Rejected")
            assert (await pending).status == "Rejected"
            await station.close()

    run(scenario)
