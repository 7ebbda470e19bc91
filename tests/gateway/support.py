"""Helpers for gateway tests: a gateway on a free port, raw sockets, `ocpp` library clients."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePointV16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePointV201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import ClientConnection

from app.gateway.bus import LocalBus
from app.gateway.memory import MemoryStation, MemoryStationPort
from app.gateway.ports import AuthorizationStatus, OcppVersion
from app.gateway.server import Gateway, GatewayConfig, run_gateway

T = TypeVar("T")
PASSWORD = "s3cret-password-16+"
ACCEPTED_TOKEN = "DRIVER1"
# How long a test waits for what should happen at once. CI runs everything on two loaded
# cores, where a process can wait seconds for a CPU: deadlines are generous, never a sleep.
DEADLINE = 30.0
ROOT = Path(__file__).resolve().parents[2]


def start_gateway_process(env: Mapping[str, str], log: Path) -> tuple[subprocess.Popen[str], int]:
    """Start `python -m app.gateway` with `env` (stderr to `log`); return it and its port."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.gateway"],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the process prints READY or exits (then the line is empty)
    if not line.startswith("READY"):
        stop_process(proc)
        raise AssertionError(log.read_text())
    return proc, int(line.split()[1])


def stop_process(proc: subprocess.Popen[str]) -> None:
    """Terminate a process, killing it if it does not end within DEADLINE."""
    proc.terminate()
    try:
        proc.wait(DEADLINE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run(scenario: Callable[[], Awaitable[T]], timeout: float = 4 * DEADLINE) -> T:
    """Run an async test scenario on a fresh event loop, bounded in time, and return its value."""
    return asyncio.run(asyncio.wait_for(scenario(), timeout))  # type: ignore[arg-type]


async def wait_until(
    condition: Callable[[], Awaitable[bool] | bool], what: str, deadline: float = DEADLINE
) -> None:
    """Poll `condition` until it holds; fail naming `what` after `deadline` seconds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    while True:
        outcome = condition()
        if outcome if isinstance(outcome, bool) else await outcome:
            return
        if loop.time() > give_up:
            raise AssertionError(f"{what}: still not true after {deadline}s")
        await asyncio.sleep(0.02)


def seeded_port() -> MemoryStationPort:
    """Return an in-memory port with approved, pending and legacy stations and one token."""
    memory = MemoryStationPort(
        [
            MemoryStation("CP16", PASSWORD, protocols=(OcppVersion.V16,)),
            MemoryStation("CP201", PASSWORD),
            MemoryStation("PENDING", PASSWORD, approved=False),
            MemoryStation("LEGACY", PASSWORD, allow_missing_subprotocol=True),
        ]
    )
    memory.tokens[ACCEPTED_TOKEN] = AuthorizationStatus.ACCEPTED
    return memory


@contextlib.asynccontextmanager
async def serving(port: MemoryStationPort, **config: Any) -> AsyncIterator[Gateway]:
    """Run a gateway with a LocalBus on a free loopback port."""
    settings = GatewayConfig(host="127.0.0.1", port=0, **config)
    async with run_gateway(port, LocalBus(), settings) as gateway:
        yield gateway


def auth_header(username: str, password: str) -> dict[str, str]:
    """Return a Basic Authorization header."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def url(gateway: Gateway, station_id: str) -> str:
    """Return the gateway URL of a station."""
    return f"ws://127.0.0.1:{gateway.bound_port}/ocpp/{station_id}"


async def open_socket(
    gateway: Gateway,
    station_id: str,
    subprotocols: list[str] | None,
    password: str | None = PASSWORD,
    username: str | None = None,
) -> ClientConnection:
    """Open a raw WebSocket to the gateway as a station."""
    headers = {} if password is None else auth_header(username or station_id, password)
    return await websockets.connect(
        url(gateway, station_id),
        subprotocols=subprotocols,  # type: ignore[arg-type]
        additional_headers=headers,
        open_timeout=DEADLINE,
    )


class Charger16(ChargePointV16):
    """A 1.6 test charger that accepts every command and records what it got."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict[str, Any]]] = []

    @on("RemoteStartTransaction")
    def on_remote_start(self, **payload: Any) -> result16.RemoteStartTransaction:
        """Accept a remote start."""
        self.received.append(("RemoteStartTransaction", payload))
        return result16.RemoteStartTransaction(status="Accepted")

    @on("ChangeConfiguration")
    def on_change_configuration(self, **payload: Any) -> result16.ChangeConfiguration:
        """Accept a configuration change."""
        self.received.append(("ChangeConfiguration", payload))
        return result16.ChangeConfiguration(status="Accepted")

    @on("SetChargingProfile")
    def on_set_charging_profile(self, **payload: Any) -> result16.SetChargingProfile:
        """Accept a charging profile."""
        self.received.append(("SetChargingProfile", payload))
        return result16.SetChargingProfile(status="Accepted")


class Charger201(ChargePointV201):
    """A 2.0.1 test station that accepts every command and records what it got."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict[str, Any]]] = []

    @on("RequestStartTransaction")
    def on_request_start(self, **payload: Any) -> result201.RequestStartTransaction:
        """Accept a remote start."""
        self.received.append(("RequestStartTransaction", payload))
        return result201.RequestStartTransaction(status="Accepted", transaction_id="tx-remote")

    @on("SetVariables")
    def on_set_variables(self, set_variable_data: list[dict[str, Any]]) -> Any:
        """Accept every variable."""
        self.received.append(("SetVariables", {"set_variable_data": set_variable_data}))
        results = [
            {"attribute_status": "Accepted", "component": d["component"], "variable": d["variable"]}
            for d in set_variable_data
        ]
        return result201.SetVariables(set_variable_result=results)

    @on("TriggerMessage")
    def on_trigger_message(self, **payload: Any) -> result201.TriggerMessage:
        """Accept a trigger."""
        self.received.append(("TriggerMessage", payload))
        return result201.TriggerMessage(status="Accepted")


@contextlib.asynccontextmanager
async def charger(
    gateway: Gateway, station_id: str, version: OcppVersion, cls: type | None = None
) -> AsyncIterator[Any]:
    """Connect an `ocpp` library ChargePoint as a client and run its receive loop."""
    socket = await open_socket(gateway, station_id, [version.value])
    client_cls = cls or (Charger16 if version is OcppVersion.V16 else Charger201)
    client = client_cls(station_id, socket, response_timeout=DEADLINE)
    task = asyncio.create_task(client.start())
    try:
        yield client
    finally:
        task.cancel()
        await socket.close()
        with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
            await task


async def exchange(socket: ClientConnection, frame: Any) -> list[Any]:
    """Send one raw frame (a string is sent as is) and return the decoded reply."""
    await socket.send(frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(await asyncio.wait_for(socket.recv(), DEADLINE))  # type: ignore[no-any-return]


BOOT16 = {"chargePointVendor": "PlugPool", "chargePointModel": "Test"}
BOOT201 = {"reason": "PowerUp", "chargingStation": {"vendorName": "PlugPool", "model": "Test"}}
