"""Connect rate limits, the violation limit, and a slow port call that must not hold others up."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from app.gateway.limits import KeyedTokenBucket
from app.gateway.memory import MemoryStationPort
from app.gateway.ports import StationAuth
from app.gateway.protocol import VIOLATION_LIMIT_EVENT
from app.gateway.server import client_address
from tests.gateway.support import (
    BOOT16,
    BOOT201,
    DEADLINE,
    PASSWORD,
    auth_header,
    exchange,
    open_socket,
    run,
    serving,
    url,
    wait_until,
)

NO_REFILL = 1e-6  # tokens a second: the burst is all a test gets


class CountingPort(MemoryStationPort):
    """The seeded port, counting password checks."""

    def __init__(self, memory: MemoryStationPort) -> None:
        super().__init__(list(memory.stations.values()))
        self.tokens.update(memory.tokens)
        self.checks = 0

    def authenticate(
        self, station_id: str, password: str | None, certified: bool = False
    ) -> StationAuth:
        """Count, then check."""
        self.checks += 1
        return super().authenticate(station_id, password, certified)


async def refusal(gateway: Any, station_id: str, **headers: str) -> InvalidStatus:
    """Try to connect as `station_id` and return the refusal."""
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(
            url(gateway, station_id),
            subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
            additional_headers={**auth_header(station_id, PASSWORD), **headers},
            open_timeout=DEADLINE,
        )
    return refused.value


def test_address_past_its_burst_gets_429_before_any_password_check(
    port: MemoryStationPort,
) -> None:
    counting = CountingPort(port)

    async def scenario() -> None:
        async with serving(counting, ip_connect_rate=NO_REFILL, ip_connect_burst=2) as gateway:
            for station_id, version in (("CP16", "ocpp1.6"), ("CP201", "ocpp2.0.1")):
                await (await open_socket(gateway, station_id, [version])).close()
            refused = await refusal(gateway, "CP201")
            assert refused.response.status_code == 429
            assert int(refused.response.headers["Retry-After"]) >= 1
            assert counting.checks == 2  # the refused handshake cost no password check

    run(scenario)


def test_station_past_its_burst_gets_429_and_others_still_connect(
    port: MemoryStationPort,
) -> None:
    async def scenario() -> None:
        config = {"station_connect_rate": NO_REFILL, "station_connect_burst": 1}
        async with serving(port, **config) as gateway:
            await (await open_socket(gateway, "CP16", ["ocpp1.6"])).close()
            assert (await refusal(gateway, "CP16")).response.status_code == 429
            await (await open_socket(gateway, "CP201", ["ocpp2.0.1"])).close()

    run(scenario)


def test_trusted_proxy_limits_each_forwarded_client(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        config = {
            "ip_connect_rate": NO_REFILL,
            "ip_connect_burst": 1,
            "trusted_proxies": frozenset({"127.0.0.1"}),
        }
        async with serving(port, **config) as gateway:
            first = await websockets.connect(
                url(gateway, "CP16"),
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers={
                    **auth_header("CP16", PASSWORD),
                    "X-Forwarded-For": "198.51.100.7",
                },
                open_timeout=DEADLINE,
            )
            await first.close()
            again = await refusal(gateway, "CP16", **{"X-Forwarded-For": "198.51.100.7"})
            assert again.response.status_code == 429
            other = await refusal(gateway, "NOPE", **{"X-Forwarded-For": "198.51.100.8"})
            assert other.response.status_code == 404  # its own bucket: on to the checks

    run(scenario)


def test_forwarded_address_counts_only_from_a_trusted_proxy() -> None:
    class Peer:
        remote_address = ("203.0.113.5", 40000)

    headers = websockets.Headers({"X-Forwarded-For": "10.9.9.9, 198.51.100.7"})
    assert client_address(Peer(), headers, frozenset()) == "203.0.113.5"  # type: ignore[arg-type]
    trusted = frozenset({"203.0.113.5"})
    assert client_address(Peer(), headers, trusted) == "198.51.100.7"  # type: ignore[arg-type]


def test_token_bucket_refills_at_its_rate_and_stays_bounded() -> None:
    now = [0.0]
    bucket = KeyedTokenBucket(rate=2, burst=2, max_keys=3, clock=lambda: now[0])
    assert [bucket.take("a") for _ in range(2)] == [0, 0]
    assert bucket.take("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert bucket.take("a") == 0
    for key in "bcdefg":
        bucket.take(key)
    assert len(bucket._buckets) <= 3
    assert KeyedTokenBucket(rate=0, burst=1).take("x") == 0  # off


@pytest.mark.parametrize("disconnect", [False, True])
def test_violation_limit_raises_a_security_event_and_may_disconnect(
    port: MemoryStationPort, disconnect: bool
) -> None:
    async def scenario() -> None:
        config = {"violation_limit": 3, "disconnect_on_violations": disconnect}
        async with serving(port, **config) as gateway:
            socket = await open_socket(gateway, "CP201", ["ocpp2.0.1"])
            await exchange(socket, [2, "boot", "BootNotification", BOOT201])
            for n in range(3):
                reply = await exchange(socket, "not json")
                assert reply[:2] == [4, "-1"], n
            if disconnect:
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(socket.recv(), DEADLINE)
                assert socket.close_code == 1008
            else:
                assert (await exchange(socket, [2, "hb", "Heartbeat", {}]))[0] == 3
                await socket.close()

    run(scenario)
    events = [e for station, e in port.security_events if station == "CP201"]
    assert [e.type for e in events] == [VIOLATION_LIMIT_EVENT]
    assert "3 messages refused" in (events[0].tech_info or "")


class SlowHeartbeatPort(MemoryStationPort):
    """The seeded port whose heartbeat for CP16 blocks until released (a slow database)."""

    nonblocking = frozenset()  # type: ignore[assignment]  # every call may block, as a DB's

    def __init__(self, memory: MemoryStationPort) -> None:
        super().__init__(list(memory.stations.values()))
        self.entered = threading.Event()
        self.release = threading.Event()

    def heartbeat(self, station_id: str) -> None:
        """Block for CP16 until the test releases it."""
        if station_id == "CP16":
            self.entered.set()
            self.release.wait(2 * DEADLINE)
        super().heartbeat(station_id)


def test_slow_port_call_for_one_station_does_not_delay_another(port: MemoryStationPort) -> None:
    slow = SlowHeartbeatPort(port)

    async def scenario() -> None:
        async with serving(slow, port_threads=2) as gateway:
            stuck = await open_socket(gateway, "CP16", ["ocpp1.6"])
            other = await open_socket(gateway, "CP201", ["ocpp2.0.1"])
            await exchange(stuck, [2, "boot", "BootNotification", BOOT16])
            await exchange(other, [2, "boot", "BootNotification", BOOT201])
            await stuck.send('[2, "hb-slow", "Heartbeat", {}]')
            assert await asyncio.to_thread(slow.entered.wait, DEADLINE)
            # CP16's port call is still blocked, and CP201 is answered all the same.
            assert (await exchange(other, [2, "hb", "Heartbeat", {}]))[:2] == [3, "hb"]
            assert not slow.release.is_set()
            slow.release.set()
            reply = await asyncio.wait_for(stuck.recv(), DEADLINE)
            assert '"hb-slow"' in str(reply)
            await stuck.close()
            await other.close()

    try:
        run(scenario)
    finally:
        slow.release.set()
    assert slow.heartbeats == {"CP16": 1, "CP201": 1}


class ThreadNotingPort(MemoryStationPort):
    """The seeded port noting which thread ran each heartbeat."""

    def __init__(self, memory: MemoryStationPort, blocking: bool) -> None:
        super().__init__(list(memory.stations.values()))
        if blocking:
            self.nonblocking = frozenset()  # type: ignore[misc]
        self.threads: list[str] = []

    def heartbeat(self, station_id: str) -> None:
        self.threads.append(threading.current_thread().name)
        super().heartbeat(station_id)


@pytest.mark.parametrize("blocking", [False, True])
def test_port_calls_run_on_the_loop_only_when_the_port_says_they_never_block(
    port: MemoryStationPort, blocking: bool
) -> None:
    noting = ThreadNotingPort(port, blocking)

    async def scenario() -> None:
        async with serving(noting) as gateway:
            socket = await open_socket(gateway, "CP16", ["ocpp1.6"])
            await exchange(socket, [2, "boot", "BootNotification", BOOT16])
            assert (await exchange(socket, [2, "hb", "Heartbeat", {}]))[:2] == [3, "hb"]
            await socket.close()
        noting.threads.append(threading.current_thread().name)  # the loop's own thread

    run(scenario)
    ran_in, loop_thread = noting.threads
    assert ran_in.startswith("gateway-port") if blocking else ran_in == loop_thread


class SlowPasswordPort(MemoryStationPort):
    """The seeded port whose password check for CP16 blocks until released."""

    def __init__(self, memory: MemoryStationPort) -> None:
        super().__init__(list(memory.stations.values()))
        self.entered = threading.Event()
        self.release = threading.Event()

    def authenticate(
        self, station_id: str, password: str | None, certified: bool = False
    ) -> StationAuth:
        """Block for CP16 until the test releases it."""
        if station_id == "CP16":
            self.entered.set()
            self.release.wait(2 * DEADLINE)
        return super().authenticate(station_id, password, certified)


def test_slow_handshakes_do_not_delay_connected_stations(port: MemoryStationPort) -> None:
    slow = SlowPasswordPort(port)

    async def scenario() -> None:
        async with serving(slow, port_threads=1, handshake_threads=1) as gateway:
            other = await open_socket(gateway, "CP201", ["ocpp2.0.1"])
            await exchange(other, [2, "boot", "BootNotification", BOOT201])
            connecting = asyncio.create_task(open_socket(gateway, "CP16", ["ocpp1.6"]))
            assert await asyncio.to_thread(slow.entered.wait, DEADLINE)
            # The only handshake thread is stuck in CP16's password check; CP201's messages
            # use the port pool and are answered all the same.
            assert (await exchange(other, [2, "hb", "Heartbeat", {}]))[:2] == [3, "hb"]
            assert not connecting.done()
            slow.release.set()
            await (await connecting).close()
            await other.close()

    try:
        run(scenario)
    finally:
        slow.release.set()


class HeldPort(CountingPort):
    """Counts password checks; the first one waits until released."""

    def __init__(self, memory: MemoryStationPort) -> None:
        super().__init__(memory)
        self.release = threading.Event()

    def authenticate(
        self, station_id: str, password: str | None, certified: bool = False
    ) -> StationAuth:
        """Hold the first check (a reconnect storm keeping the handshake pool busy)."""
        if self.checks == 0:
            self.checks += 1
            self.release.wait(DEADLINE)
            return MemoryStationPort.authenticate(self, station_id, password, certified)
        return super().authenticate(station_id, password, certified)


def test_handshakes_past_the_backlog_get_503_at_once_not_a_timeout(
    port: MemoryStationPort,
) -> None:
    held = HeldPort(port)

    async def scenario() -> None:
        async with serving(held, handshake_threads=1, handshake_backlog=1) as gateway:
            first = asyncio.create_task(open_socket(gateway, "CP16", ["ocpp1.6"]))
            await wait_until(lambda: held.checks == 1, "the first check held")
            refused = await refusal(gateway, "CP201")
            assert refused.response.status_code == 503  # an answer: a proxy keeps the node
            assert 1 <= int(refused.response.headers["Retry-After"]) <= 5
            assert held.checks == 1  # the refused handshake cost no password check
            held.release.set()
            await (await first).close()  # the waiting one goes through

    run(scenario)
