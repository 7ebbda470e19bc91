"""Handshake checks happen before the WebSocket upgrade."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from app.gateway.memory import MemoryStationPort
from tests.gateway.support import PASSWORD, open_socket, run, serving

V16 = ["ocpp1.6"]


def refused_status(port: MemoryStationPort, station_id: str, **kwargs: object) -> int:
    """Try to connect and return the HTTP status of the refusal."""
    status = 0

    async def scenario() -> None:
        nonlocal status
        async with serving(port) as gateway:
            with pytest.raises(InvalidStatus) as refused:
                await open_socket(gateway, station_id, **kwargs)  # type: ignore[arg-type]
            status = refused.value.response.status_code

    run(scenario)
    return status


def test_unknown_station_is_refused_with_404(port: MemoryStationPort) -> None:
    assert refused_status(port, "NOPE", subprotocols=V16) == 404


def test_other_paths_are_refused_with_404(port: MemoryStationPort) -> None:
    assert refused_status(port, "CP16/extra", subprotocols=V16) == 404


def test_station_id_with_forbidden_characters_is_refused_with_400(
    port: MemoryStationPort,
) -> None:
    assert refused_status(port, "CP%2016", subprotocols=V16) == 400


def test_missing_password_is_refused_with_401(port: MemoryStationPort) -> None:
    assert refused_status(port, "CP16", subprotocols=V16, password=None) == 401


def test_wrong_password_is_refused_with_401(port: MemoryStationPort) -> None:
    assert refused_status(port, "CP16", subprotocols=V16, password="wrong-password-123") == 401


def test_username_other_than_station_id_is_refused_with_401(port: MemoryStationPort) -> None:
    status = refused_status(port, "CP16", subprotocols=V16, username="CP201", password=PASSWORD)
    assert status == 401


def test_unsupported_subprotocol_is_refused_with_400(port: MemoryStationPort) -> None:
    assert refused_status(port, "CP16", subprotocols=["ocpp1.5"]) == 400


def test_missing_subprotocol_is_refused_with_400(port: MemoryStationPort) -> None:
    assert refused_status(port, "CP16", subprotocols=None) == 400


def test_version_the_station_may_not_use_is_refused_with_400(port: MemoryStationPort) -> None:
    assert refused_status(port, "CP16", subprotocols=["ocpp2.0.1"]) == 400


def test_legacy_station_without_subprotocol_is_accepted_as_16(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway:
            socket = await open_socket(gateway, "LEGACY", subprotocols=None)
            assert socket.subprotocol is None
            await socket.send(
                '[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
            )
            reply = await socket.recv()
            assert '"Accepted"' in str(reply)
            await socket.close()
            assert port.boots["LEGACY"].vendor == "V"

    run(scenario)


def test_station_preference_picks_the_version_among_offered(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway:
            socket = await open_socket(gateway, "CP201", subprotocols=["ocpp1.6", "ocpp2.0.1"])
            assert socket.subprotocol == "ocpp2.0.1"
            await socket.close()

    run(scenario)
