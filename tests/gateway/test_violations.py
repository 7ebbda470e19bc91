"""Broken, duplicate and unwelcome frames get the right CallError and the connection stays."""

from __future__ import annotations

from typing import Any

import pytest

from app.gateway.memory import MemoryStationPort
from app.gateway.ports import ViolationKind
from tests.gateway.support import BOOT16, BOOT201, exchange, open_socket, run, serving

HEARTBEAT = [2, "hb-after", "Heartbeat", {}]


def replies(port: MemoryStationPort, station_id: str, version: str, frames: list[Any]) -> list[Any]:
    """Boot a station over a raw socket, send frames, check the link still works; return replies."""

    async def scenario() -> list[Any]:
        async with serving(port) as gateway:
            socket = await open_socket(gateway, station_id, [version])
            boot = BOOT16 if version == "ocpp1.6" else BOOT201
            assert (await exchange(socket, [2, "boot", "BootNotification", boot]))[0] == 3
            answers = [await exchange(socket, frame) for frame in frames]
            assert (await exchange(socket, HEARTBEAT))[0] == 3  # connection kept
            await socket.close()
            return answers

    return run(scenario)


def test_duplicate_message_id_gets_protocol_error(port: MemoryStationPort) -> None:
    first, second = replies(port, "CP201", "ocpp2.0.1", [[2, "m1", "Heartbeat", {}]] * 2)
    assert first[:2] == [3, "m1"]
    assert second[:3] == [4, "m1", "ProtocolError"]
    assert port.violations[("CP201", ViolationKind.DUPLICATE_ID)] == 1
    assert port.heartbeats["CP201"] == 2  # the first one and the check after, not the duplicate


@pytest.mark.parametrize(
    ("version", "code"), [("ocpp2.0.1", "RpcFrameworkError"), ("ocpp1.6", "FormationViolation")]
)
def test_invalid_json_gets_call_error_with_id_minus_one(
    port: MemoryStationPort, version: str, code: str
) -> None:
    station = "CP201" if version == "ocpp2.0.1" else "CP16"
    (reply,) = replies(port, station, version, ['[2, "x", "Heartbeat", {'])
    assert reply[:3] == [4, "-1", code]
    assert port.violations[(station, ViolationKind.INVALID_FRAME)] == 1


def test_unknown_message_type_gets_message_type_not_supported(port: MemoryStationPort) -> None:
    (reply,) = replies(port, "CP201", "ocpp2.0.1", [[7, "m7", "Heartbeat", {}]])
    assert reply[:3] == [4, "m7", "MessageTypeNotSupported"]


def status201(**override: Any) -> list[Any]:
    """Return a 2.0.1 StatusNotification frame with fields overridden (None removes one)."""
    payload = {
        "timestamp": "2026-11-21T10:00:00Z",
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    }
    payload.update(override)
    return [2, "s1", "StatusNotification", {k: v for k, v in payload.items() if v is not None}]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (status201(evseId=None), "OccurrenceConstraintViolation"),
        (status201(evseId="one"), "TypeConstraintViolation"),
        (status201(connectorStatus="Sleeping"), "PropertyConstraintViolation"),
        (status201(colour="blue"), "FormatViolation"),
    ],
    ids=["missing-field", "wrong-type", "bad-enum", "extra-field"],
)
def test_201_schema_violation_gets_matching_call_error(
    port: MemoryStationPort, frame: list[Any], code: str
) -> None:
    (reply,) = replies(port, "CP201", "ocpp2.0.1", [frame])
    assert reply[:3] == [4, "s1", code]
    assert port.violations[("CP201", ViolationKind.SCHEMA)] == 1
    assert port.statuses == {}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"connectorId": 1, "errorCode": "NoError"}, "OccurenceConstraintViolation"),
        (
            {"connectorId": 1, "errorCode": "NoError", "status": "Dozing"},
            "PropertyConstraintViolation",
        ),
        (
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "x": 1},
            "FormationViolation",
        ),
    ],
    ids=["missing-field", "bad-enum", "extra-field"],
)
def test_16_schema_violation_uses_16_error_spelling(
    port: MemoryStationPort, payload: dict[str, Any], code: str
) -> None:
    (reply,) = replies(port, "CP16", "ocpp1.6", [[2, "s1", "StatusNotification", payload]])
    assert reply[:3] == [4, "s1", code]


def test_unhandled_action_gets_not_implemented(port: MemoryStationPort) -> None:
    frame = [2, "d1", "NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {}}]
    (reply,) = replies(port, "CP201", "ocpp2.0.1", [frame])
    assert reply[:3] == [4, "d1", "NotImplemented"]


def test_message_before_boot_gets_security_error(port: MemoryStationPort) -> None:
    async def scenario() -> list[Any]:
        async with serving(port) as gateway:
            socket = await open_socket(gateway, "CP201", ["ocpp2.0.1"])
            reply = await exchange(socket, [2, "h0", "Heartbeat", {}])
            await socket.close()
            return reply

    assert run(scenario)[:3] == [4, "h0", "SecurityError"]
    assert port.heartbeats["CP201"] == 0
