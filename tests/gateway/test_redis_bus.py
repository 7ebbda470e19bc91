"""Two gateway processes share stations through Redis; a third party reaches either one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import websockets
from ocpp.v201 import call

from app.gateway import commands as cmd
from app.gateway.bus import RedisBus, RedisCommandClient, RedisKeys
from app.gateway.errors import StationOffline
from tests.gateway.support import PASSWORD, Charger201, auth_header, run

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Nodes:
    """Two running gateway processes and the Redis namespace they share."""

    ports: tuple[int, int]
    keys: RedisKeys


def start_node(prefix: str, log: Path) -> tuple[subprocess.Popen[str], int]:
    """Start `python -m app.gateway` on a free port and wait for its READY line."""
    env = {
        **os.environ,
        "GATEWAY_PORT": "0",
        "GATEWAY_BUS": "redis",
        "REDIS_URL": REDIS_URL,
        "GATEWAY_REDIS_PREFIX": prefix,
        "GATEWAY_PORT_IMPL": "memory",
        "GATEWAY_SEED_STATIONS": f"CP201:{PASSWORD},CP16:{PASSWORD}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.gateway"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the process prints READY or exits (then the line is empty)
    assert line.startswith("READY"), log.read_text()
    return proc, int(line.split()[1])


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    """Run two gateway nodes on one Redis namespace unique to this test run."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"test:{uuid.uuid4().hex[:8]}:"
    logs = tmp_path_factory.mktemp("nodes")
    started = [start_node(prefix, logs / f"node{i}.log") for i in range(2)]
    try:
        yield Nodes((started[0][1], started[1][1]), RedisKeys(prefix))
    finally:
        for proc, _ in started:
            proc.terminate()
            proc.wait(10)


async def connect_201(port: int) -> tuple[Charger201, asyncio.Task[None]]:
    """Connect and boot a 2.0.1 station CP201 on the node listening on `port`."""
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/ocpp/CP201",
        subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
        additional_headers=auth_header("CP201", PASSWORD),
    )
    station = Charger201("CP201", socket, response_timeout=5)
    task = asyncio.create_task(station.start())
    boot = call.BootNotification(
        charging_station={"vendor_name": "PlugPool", "model": "Home"}, reason="PowerUp"
    )
    assert (await station.call(boot)).status == "Accepted"
    return station, task


def test_command_from_third_party_reaches_station_on_other_node(nodes: Nodes) -> None:
    client = RedisCommandClient(REDIS_URL, keys=nodes.keys)

    async def scenario() -> None:
        station, task = await connect_201(nodes.ports[1])
        command = cmd.RemoteStart("DRIVER1", evse_id=1, remote_start_id=7)
        result = await asyncio.to_thread(client.send_command, "CP201", command, 5)
        assert result.accepted
        assert station.received[0][0] == "RequestStartTransaction"
        await station._connection.close()
        task.cancel()

    run(scenario)
    client.close()


def test_station_moving_to_another_node_is_reached_there(nodes: Nodes) -> None:
    client = RedisCommandClient(REDIS_URL, keys=nodes.keys)

    async def scenario() -> None:
        old, old_task = await connect_201(nodes.ports[0])
        new, new_task = await connect_201(nodes.ports[1])
        with pytest.raises(websockets.ConnectionClosed):  # node 0 was told to drop it
            await asyncio.wait_for(old_task, 5)
        assert old._connection.close_reason == "connected to another gateway node"
        trigger = cmd.TriggerMessage(cmd.TriggerableMessage.STATUS_NOTIFICATION, evse_id=1)
        result = await asyncio.to_thread(client.send_command, "CP201", trigger, 5)
        assert result.accepted
        assert new.received[0][0] == "TriggerMessage"
        await new._connection.close()
        new_task.cancel()
        await asyncio.sleep(0.3)  # let node 1 release its presence key
        with pytest.raises(StationOffline):
            await asyncio.to_thread(client.send_command, "CP201", trigger, 2)

    run(scenario)
    client.close()


def test_offline_station_is_reported_without_waiting(nodes: Nodes) -> None:
    client = RedisCommandClient(REDIS_URL, keys=nodes.keys)
    with pytest.raises(StationOffline):
        client.send_command("CP16", cmd.UnlockConnector(1), 5)
    client.close()


class NoStations:
    """A gateway stand-in that holds no station."""

    async def execute(self, station_id: str, command: cmd.Command, timeout: float) -> None:
        """Fail like a gateway that lost the station."""
        raise StationOffline(station_id)

    async def evict(self, station_id: str) -> None:
        """Nothing to close."""


def test_presence_is_refreshed_and_only_released_by_its_owner(nodes: Nodes) -> None:
    async def scenario() -> None:
        first = RedisBus(REDIS_URL, keys=nodes.keys, node_id="first", presence_ttl=30)
        second = RedisBus(REDIS_URL, keys=nodes.keys, node_id="second", presence_ttl=30)
        await first.start(NoStations())
        await second.start(NoStations())
        key = nodes.keys.presence("CP-MOVING")
        await first.attach("CP-MOVING")
        await first._redis.expire(key, 5)
        await first._refresh_all()
        assert await first._redis.ttl(key) > 5  # refreshed while held
        await second.attach("CP-MOVING")  # the station reconnected to the second node
        await first.detach("CP-MOVING")  # the first node notices its socket closed later
        assert await first._redis.get(key) == "second"
        await first.close()
        await second.close()
        assert await RedisBus(REDIS_URL, keys=nodes.keys)._redis.get(key) is None

    run(scenario)


def test_async_send_from_another_process_reaches_the_station(nodes: Nodes) -> None:
    async def scenario() -> None:
        station, task = await connect_201(nodes.ports[0])
        caller = RedisBus(REDIS_URL, keys=nodes.keys)  # not started: a caller only
        result = await caller.send("CP201", cmd.TriggerMessage(cmd.TriggerableMessage.HEARTBEAT), 5)
        assert result.accepted
        await station._connection.close()
        task.cancel()

    run(scenario)
