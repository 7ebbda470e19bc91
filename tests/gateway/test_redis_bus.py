"""Two gateway processes share stations through Redis; a third party reaches either one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
import websockets
from ocpp.v201 import call

from app.gateway import commands as cmd
from app.gateway.bus import RedisBus, RedisCommandClient, RedisKeys
from app.gateway.errors import StationOffline
from tests.gateway.support import (
    DEADLINE,
    PASSWORD,
    Charger201,
    auth_header,
    run,
    start_gateway_process,
    stop_process,
    wait_until,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


@dataclass(frozen=True)
class Nodes:
    """Two running gateway processes and the Redis namespace they share."""

    ports: tuple[int, int]
    keys: RedisKeys


def start_node(prefix: str, log: Path, **settings: str) -> tuple[subprocess.Popen[str], int]:
    """Start `python -m app.gateway` on a free port and wait for its READY line."""
    env = {
        **os.environ,
        "GATEWAY_PORT": "0",
        "GATEWAY_BUS": "redis",
        "REDIS_URL": REDIS_URL,
        "GATEWAY_REDIS_PREFIX": prefix,
        "GATEWAY_PORT_IMPL": "memory",
        "GATEWAY_SEED_STATIONS": f"CP201:{PASSWORD},CP16:{PASSWORD}",
        **settings,
    }
    return start_gateway_process(env, log)


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
            stop_process(proc)


async def connect_201(port: int) -> tuple[Charger201, asyncio.Task[None]]:
    """Connect and boot a 2.0.1 station CP201 on the node listening on `port`."""
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/ocpp/CP201",
        subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
        additional_headers=auth_header("CP201", PASSWORD),
        open_timeout=DEADLINE,
    )
    station = Charger201("CP201", socket, response_timeout=DEADLINE)
    task = asyncio.create_task(station.start())
    boot = call.BootNotification(
        charging_station={"vendor_name": "PlugPool", "model": "Home"}, reason="PowerUp"
    )
    assert (await station.call(boot)).status == "Accepted"
    return station, task


async def disconnect(station: Charger201, task: asyncio.Task[None], keys: RedisKeys) -> None:
    """Close a station's socket, end its receive loop and wait until no node claims it.

    The node notices the close a moment later; the next test must not find the station
    still claimed (its connection would then be evicted by that stale claim's node).
    """
    await station._connection.close()
    with contextlib.suppress(websockets.ConnectionClosed):
        await asyncio.wait_for(task, DEADLINE)
    presence = aioredis.Redis.from_url(REDIS_URL)
    try:
        key = keys.presence("CP201")
        await wait_until(lambda: _absent(presence, key), "node released CP201")
    finally:
        await presence.aclose()


async def _absent(presence: aioredis.Redis, key: str) -> bool:
    """Tell whether a Redis key is gone."""
    return not await presence.exists(key)


def test_command_from_third_party_reaches_station_on_other_node(nodes: Nodes) -> None:
    client = RedisCommandClient(REDIS_URL, keys=nodes.keys)

    async def scenario() -> None:
        station, task = await connect_201(nodes.ports[1])
        command = cmd.RemoteStart("DRIVER1", evse_id=1, remote_start_id=7)
        result = await asyncio.to_thread(client.send_command, "CP201", command, DEADLINE)
        assert result.accepted
        assert station.received[0][0] == "RequestStartTransaction"
        await disconnect(station, task, nodes.keys)

    run(scenario)
    client.close()


def test_station_moving_to_another_node_is_reached_there(nodes: Nodes) -> None:
    client = RedisCommandClient(REDIS_URL, keys=nodes.keys)

    async def scenario() -> None:
        old, old_task = await connect_201(nodes.ports[0])
        new, new_task = await connect_201(nodes.ports[1])
        with pytest.raises(websockets.ConnectionClosed):  # node 0 was told to drop it
            await asyncio.wait_for(old_task, DEADLINE)
        assert old._connection.close_reason == "connected to another gateway node"
        trigger = cmd.TriggerMessage(cmd.TriggerableMessage.STATUS_NOTIFICATION, evse_id=1)
        result = await asyncio.to_thread(client.send_command, "CP201", trigger, DEADLINE)
        assert result.accepted
        assert new.received[0][0] == "TriggerMessage"
        await disconnect(new, new_task, nodes.keys)  # waits until node 1 released it
        with pytest.raises(StationOffline):
            await asyncio.to_thread(client.send_command, "CP201", trigger, DEADLINE)

    run(scenario)
    client.close()


def test_late_eviction_from_an_older_claim_leaves_the_newer_connection(nodes: Nodes) -> None:
    client = RedisCommandClient(REDIS_URL, keys=nodes.keys)
    trigger = cmd.TriggerMessage(cmd.TriggerableMessage.HEARTBEAT)

    async def scenario() -> None:
        _, first_task = await connect_201(nodes.ports[1])
        _, moved_task = await connect_201(nodes.ports[0])  # node 1 is told to drop it
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(first_task, DEADLINE)
        back, back_task = await connect_201(nodes.ports[1])  # and back: node 0 drops it
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(moved_task, DEADLINE)
        # The eviction node 0's claim sent to node 1, arriving only now (a loaded node 1,
        # or the previous connection's close still in flight) must not close `back`.
        store = redis.Redis.from_url(REDIS_URL, decode_responses=True)
        node_1 = store.get(nodes.keys.presence("CP201"))
        newest = int(store.get(nodes.keys.claim("CP201")) or 0)
        late = {"kind": "evict", "station_id": "CP201", "claim": newest - 1}
        store.rpush(nodes.keys.queue(str(node_1)), json.dumps(late))
        await wait_until(lambda: store.llen(nodes.keys.queue(str(node_1))) == 0, "node 1 popped")
        result = await asyncio.to_thread(client.send_command, "CP201", trigger, DEADLINE)
        assert result.accepted  # served after the eviction request: the socket stayed
        assert back._connection.close_code is None
        store.close()
        await disconnect(back, back_task, nodes.keys)

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

    async def evict(self, station_id: str, claim: int | None) -> None:
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
        trigger = cmd.TriggerMessage(cmd.TriggerableMessage.HEARTBEAT)
        result = await caller.send("CP201", trigger, DEADLINE)
        assert result.accepted
        await caller.close()
        await disconnect(station, task, nodes.keys)

    run(scenario)


# A command timeout the tests never reach: failing fast shows in the error's type (a bus that
# did not know the node was dead gave CommandTimeout once it ran out).
NEVER = 2 * DEADLINE


def test_command_to_a_station_of_a_killed_node_fails_at_once_and_reaches_it_elsewhere(
    nodes: Nodes, tmp_path: Path
) -> None:
    doomed, port = start_node(nodes.keys.prefix, tmp_path / "doomed.log", GATEWAY_NODE_TTL="2")
    client = RedisCommandClient(REDIS_URL, keys=nodes.keys)
    store = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    trigger = cmd.TriggerMessage(cmd.TriggerableMessage.HEARTBEAT)

    async def scenario() -> None:
        station, task = await connect_201(port)
        node = store.get(nodes.keys.presence("CP201"))
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        await wait_until(lambda: not store.exists(nodes.keys.alive(str(node))), "liveness gone")
        assert store.get(nodes.keys.presence("CP201")) == node  # its presence key lives on
        with pytest.raises(StationOffline, match="down"):
            await asyncio.to_thread(client.send_command, "CP201", trigger, NEVER)
        with contextlib.suppress(websockets.ConnectionClosed, asyncio.TimeoutError):
            await asyncio.wait_for(task, DEADLINE)  # the socket died with its node
        moved, moved_task = await connect_201(nodes.ports[0])  # the charger reconnects
        result = await asyncio.to_thread(client.send_command, "CP201", trigger, NEVER)
        assert result.accepted
        assert moved.received[-1][0] == "TriggerMessage"
        assert station.received == []
        await disconnect(moved, moved_task, nodes.keys)

    try:
        run(scenario)
    finally:
        client.close()
        store.close()
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()


@pytest.mark.parametrize("caller", ["sync", "async"])
def test_command_queued_at_a_node_that_dies_is_withdrawn_and_reported_offline(
    nodes: Nodes, caller: str
) -> None:
    # A node that stopped popping its list and then died: its keys as a node writes them,
    # its liveness running out while the command waits in its list.
    store = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    store.set(nodes.keys.presence("CP-GHOST"), "ghost", ex=30)
    store.set(nodes.keys.alive("ghost"), "1", px=1500)
    try:
        with pytest.raises(StationOffline, match="nothing sent"):
            send_from(caller, nodes.keys, "CP-GHOST", cmd.UnlockConnector(1))
        assert store.llen(nodes.keys.queue("ghost")) == 0  # withdrawn: no node will run it
    finally:
        store.delete(nodes.keys.presence("CP-GHOST"))
        store.close()


def send_from(caller: str, keys: RedisKeys, station_id: str, command: cmd.Command) -> None:
    """Send a command with the sync client or an async caller-only bus."""
    if caller == "sync":
        client = RedisCommandClient(REDIS_URL, keys=keys)
        try:
            client.send_command(station_id, command, NEVER)
        finally:
            client.close()
        return

    async def scenario() -> None:
        bus = RedisBus(REDIS_URL, keys=keys)  # not started: a caller only
        try:
            await bus.send(station_id, command, NEVER)
        finally:
            await bus.close()

    run(scenario)
