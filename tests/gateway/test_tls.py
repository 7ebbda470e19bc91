"""TLS in the gateway itself: security profile 2 (TLS + Basic auth) and profile 3 (client
certificates of the operator's CA, naming the station). Certificates are made at test time."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from ocpp.v201 import call
from websockets.exceptions import InvalidStatus

from app.gateway.memory import MemoryStationPort
from app.gateway.server import Gateway
from tests.gateway.support import (
    DEADLINE,
    PASSWORD,
    Charger201,
    auth_header,
    run,
    serving,
)
from tests.support.certificates import Authority, client_context


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Any]:
    """An operator CA with the gateway's certificate and stations' client certificates."""
    operator = Authority(tmp_path, "operator")
    stranger = Authority(tmp_path, "stranger")
    return {
        "ca": operator.path,
        "server": operator.issue("gateway", server=True),
        "CP201": operator.issue("CP201"),
        "CP201-san": operator.issue("Station 7", san=("CP201",)),
        "CP16": operator.issue("CP16"),
        "forged": stranger.issue("CP201"),
    }


def tls_settings(pki: dict[str, Any], **more: Any) -> dict[str, Any]:
    """Gateway settings with TLS and the operator CA for client certificates."""
    server = pki["server"]
    return {
        "tls_cert": str(server.cert), "tls_key": str(server.key),
        "tls_client_ca": str(pki["ca"]), **more,
    }  # fmt: skip


@contextlib.asynccontextmanager
async def station(
    gateway: Gateway, station_id: str, context: ssl.SSLContext, password: str | None = None
) -> AsyncIterator[Charger201]:
    """Connect an `ocpp` ChargePoint over wss:// and run its receive loop."""
    socket = await websockets.connect(
        f"wss://127.0.0.1:{gateway.bound_port}/ocpp/{station_id}",
        subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
        additional_headers=auth_header(station_id, password) if password else {},
        ssl=context,
        open_timeout=DEADLINE,
    )
    client = Charger201(station_id, socket, response_timeout=DEADLINE)
    task = asyncio.create_task(client.start())
    try:
        yield client
    finally:
        task.cancel()
        await socket.close()
        with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
            await task


def boot() -> call.BootNotification:
    """Return a power-up BootNotification."""
    station_info = {"vendor_name": "PlugPool", "model": "Home"}
    return call.BootNotification(charging_station=station_info, reason="PowerUp")


async def refused(gateway: Gateway, station_id: str, context: ssl.SSLContext, **auth: Any) -> Any:
    """Try to connect and return the HTTP refusal (or the TLS failure)."""
    failures = (InvalidStatus, websockets.InvalidMessage, ssl.SSLError, OSError)
    with pytest.raises(failures) as error:
        async with station(gateway, station_id, context, **auth):
            pass
    return error.value


def test_profile_2_tls_with_basic_auth(port: MemoryStationPort, pki: dict[str, Any]) -> None:
    async def scenario() -> tuple[str, int]:
        server = pki["server"]
        async with serving(port, tls_cert=str(server.cert), tls_key=str(server.key)) as gateway:
            async with station(gateway, "CP201", client_context(pki["ca"]), PASSWORD) as cp:
                accepted = (await cp.call(boot())).status
            bad = await refused(gateway, "CP201", client_context(pki["ca"]), password="wrong-" * 3)
            return accepted, bad.response.status_code

    assert run(scenario) == ("Accepted", 401)
    assert "CP201" in port.boots


def test_profile_2_plain_ws_is_not_served_when_tls_is_on(
    port: MemoryStationPort, pki: dict[str, Any]
) -> None:
    async def scenario() -> None:
        async with serving(port, **tls_settings(pki)) as gateway:
            with pytest.raises((InvalidStatus, OSError, websockets.InvalidMessage, EOFError)):
                await websockets.connect(
                    f"ws://127.0.0.1:{gateway.bound_port}/ocpp/CP201",
                    subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
                    additional_headers=auth_header("CP201", PASSWORD),
                    open_timeout=5,
                )

    run(scenario)
    assert port.online == {}


@pytest.mark.parametrize("certificate", ["CP201", "CP201-san"])
def test_profile_3_client_certificate_naming_the_station_needs_no_password(
    port: MemoryStationPort, pki: dict[str, Any], certificate: str
) -> None:
    async def scenario() -> str:
        async with serving(port, **tls_settings(pki)) as gateway:
            context = client_context(pki["ca"], pki[certificate])
            async with station(gateway, "CP201", context) as cp:
                return str((await cp.call(boot())).status)

    assert run(scenario) == "Accepted"


def test_profile_3_certificate_of_another_station_is_refused(
    port: MemoryStationPort, pki: dict[str, Any]
) -> None:
    async def scenario() -> int:
        async with serving(port, **tls_settings(pki)) as gateway:
            context = client_context(pki["ca"], pki["CP16"])
            # Its own certificate does not open another station, even with that one's password.
            error = await refused(gateway, "CP201", context, password=PASSWORD)
            return int(error.response.status_code)

    assert run(scenario) == 403
    assert port.online == {}


def test_profile_3_certificate_of_an_unknown_ca_fails_the_tls_handshake(
    port: MemoryStationPort, pki: dict[str, Any]
) -> None:
    async def scenario() -> Any:
        async with serving(port, **tls_settings(pki)) as gateway:
            return await refused(gateway, "CP201", client_context(pki["ca"], pki["forged"]))

    assert not isinstance(run(scenario), InvalidStatus)  # never reached HTTP
    assert port.online == {}


def test_profile_3_only_refuses_stations_without_a_certificate(
    port: MemoryStationPort, pki: dict[str, Any]
) -> None:
    async def scenario() -> tuple[Any, str]:
        async with serving(port, **tls_settings(pki, tls_require_client_cert=True)) as gateway:
            error = await refused(gateway, "CP201", client_context(pki["ca"]), password=PASSWORD)
            context = client_context(pki["ca"], pki["CP201"])
            async with station(gateway, "CP201", context) as cp:
                return error, str((await cp.call(boot())).status)

    error, status = run(scenario)
    assert not isinstance(error, InvalidStatus) and status == "Accepted"
