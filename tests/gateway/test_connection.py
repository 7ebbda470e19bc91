"""The station connection: messages handled at once and in order, and keepalive for quiet ones."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.frames import Close, Frame, Opcode

from app.gateway import eager
from app.gateway.connection import QUEUE_HIGH
from app.gateway.memory import MemoryStationPort
from app.gateway.server import Gateway
from tests.gateway.support import (
    BOOT16,
    DEADLINE,
    exchange,
    open_socket,
    run,
    serving,
    wait_until,
)

# The eager step.


def test_a_coroutine_that_never_waits_finishes_in_the_first_step() -> None:
    done: list[int] = []

    async def quick() -> None:
        done.append(1)

    async def scenario() -> None:
        assert eager.step(quick()) is None
        assert done == [1]

    run(scenario)


def test_a_coroutine_that_waits_is_finished_by_a_task_with_its_result() -> None:
    steps: list[str] = []

    async def slow(gate: asyncio.Future[int]) -> int:
        steps.append("before")
        value = await gate
        steps.append("after")
        return value * 2

    async def scenario() -> None:
        gate = asyncio.get_running_loop().create_future()
        task = eager.step(slow(gate))
        assert task is not None and steps == ["before"]  # ran up to the wait, in this call
        gate.set_result(21)
        assert await task == 42
        assert steps == ["before", "after"]

    run(scenario)


def test_errors_before_the_first_wait_reach_the_caller_and_later_ones_the_task() -> None:
    async def broken_at_once() -> None:
        raise ValueError("at once")

    async def broken_later() -> None:
        await asyncio.sleep(0)
        raise KeyError("later")

    async def scenario() -> None:
        with pytest.raises(ValueError, match="at once"):
            eager.step(broken_at_once())
        task = eager.step(broken_later())
        assert task is not None
        with pytest.raises(KeyError):
            await task

    run(scenario)


def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    cleaned: list[bool] = []

    async def waiting(gate: asyncio.Future[None]) -> None:
        try:
            await gate
        finally:
            cleaned.append(True)

    async def scenario() -> None:
        gate = asyncio.get_running_loop().create_future()
        task = eager.step(waiting(gate))
        assert task is not None
        await asyncio.sleep(0)  # the task's first step: it now waits on the gate
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleaned == [True]

    run(scenario)


# Messages over a real WebSocket.


async def booted(gateway: Gateway) -> ClientConnection:
    """CP16's socket, after an accepted BootNotification."""
    socket = await open_socket(gateway, "CP16", ["ocpp1.6"])
    await exchange(socket, [2, "boot", "BootNotification", BOOT16])
    return socket


class GatedHeartbeatPort(MemoryStationPort):
    """Every call may block (as a database's); CP16's first heartbeat waits for the test."""

    nonblocking = frozenset()  # type: ignore[assignment]

    def __init__(self, memory: MemoryStationPort) -> None:
        super().__init__(list(memory.stations.values()))
        self.entered = threading.Event()
        self.release = threading.Event()
        self.order: list[str] = []

    def heartbeat(self, station_id: str) -> None:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(2 * DEADLINE)
        self.order.append("heartbeat")
        super().heartbeat(station_id)

    def connection_changed(self, station_id: str, online: bool, version: Any = None) -> None:
        self.order.append("online" if online else "offline")
        super().connection_changed(station_id, online, version)


async def heartbeats_held(socket: ClientConnection, gated: GatedHeartbeatPort, count: int) -> None:
    """Send `count` heartbeats; return once the first is held in the port."""
    for n in range(count):
        await socket.send(json.dumps([2, f"hb{n}", "Heartbeat", {}]))
    assert await asyncio.to_thread(gated.entered.wait, DEADLINE)


def test_messages_behind_one_that_waits_are_answered_after_it_in_order(
    port: MemoryStationPort,
) -> None:
    gated = GatedHeartbeatPort(port)

    async def scenario() -> None:
        async with serving(gated) as gateway:
            socket = await booted(gateway)
            await heartbeats_held(socket, gated, 40)  # more than the queue holds
            connection = gateway.links["CP16"]._connection  # type: ignore[attr-defined]
            await wait_until(lambda: connection._reading_paused, "the gateway stops reading")
            # One read may carry them all (the queue then passes QUEUE_HIGH); no more reads.
            assert len(connection._queue) >= QUEUE_HIGH
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(socket.recv(), 0.2)  # nothing overtakes hb0
            gated.release.set()
            replies = [
                json.loads(await asyncio.wait_for(socket.recv(), DEADLINE)) for _ in range(40)
            ]
            assert [reply[1] for reply in replies] == [f"hb{n}" for n in range(40)]
            await socket.close()

    try:
        run(scenario)
    finally:
        gated.release.set()
    assert gated.heartbeats["CP16"] == 40


def test_messages_sent_just_before_a_close_are_all_handled_before_offline(
    port: MemoryStationPort,
) -> None:
    gated = GatedHeartbeatPort(port)

    async def scenario() -> None:
        async with serving(gated) as gateway:
            socket = await booted(gateway)
            await heartbeats_held(socket, gated, 5)
            await socket.close()
            await asyncio.sleep(0.1)  # the close is in while hb0 still waits
            gated.release.set()
            await wait_until(lambda: "CP16" not in gateway.links, "CP16 gone")

    try:
        run(scenario)
    finally:
        gated.release.set()
    assert gated.order == ["online"] + ["heartbeat"] * 5 + ["offline"]


def test_a_fragmented_message_is_put_together_and_answered(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port) as gateway:
            socket = await booted(gateway)
            frame = json.dumps([2, "hb-frag", "Heartbeat", {}])
            await socket.send([frame[:5], frame[5:12], frame[12:]])
            reply = json.loads(await asyncio.wait_for(socket.recv(), DEADLINE))
            assert reply[:2] == [3, "hb-frag"]
            await socket.close()

    run(scenario)
    assert port.heartbeats["CP16"] == 1


def _wire(message: str) -> bytes:
    """A station's masked text frame as it goes on the wire."""
    return Frame(Opcode.TEXT, message.encode()).serialize(mask=True, extensions=[])


def test_frames_coalesced_split_or_large_are_all_answered_in_order(
    port: MemoryStationPort,
) -> None:
    """What a TCP stream does to frames: several in one read, one over two reads, one that
    needs the 64-bit length; the fast path takes none of them, the general one all."""
    big = json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "y" * 70_000}])

    async def scenario() -> list[str]:
        async with serving(port) as gateway:
            socket = await booted(gateway)
            heartbeat = [_wire(json.dumps([2, f"hb{n}", "Heartbeat", {}])) for n in range(4)]
            connection = gateway.links["CP16"]._connection  # type: ignore[attr-defined]
            assert connection._one_text_frame(heartbeat[0]) == b'[2, "hb0", "Heartbeat", {}]'
            for general in (heartbeat[0] + heartbeat[1], heartbeat[0][:3], _wire(big)):
                assert connection._one_text_frame(general) is None
            socket.transport.write(heartbeat[0] + heartbeat[1])
            socket.transport.write(heartbeat[2][:3])
            await asyncio.sleep(0.05)
            socket.transport.write(heartbeat[2][3:])
            socket.transport.write(_wire(big))
            socket.transport.write(heartbeat[3])
            replies = [await asyncio.wait_for(socket.recv(), DEADLINE) for _ in range(5)]
            await socket.close()
            return [json.loads(reply)[1] for reply in replies]

    assert run(scenario) == ["hb0", "hb1", "hb2", "big", "hb3"]
    assert port.heartbeats["CP16"] == 4


def test_a_message_read_together_with_the_close_is_handled_without_an_error(
    port: MemoryStationPort, caplog: pytest.LogCaptureFixture
) -> None:
    """Its reply meets a closing connection (websockets' send then waits under a timeout,
    which needs a task, while the message was handled eagerly, outside any)."""

    async def scenario() -> None:
        async with serving(port) as gateway:
            socket = await booted(gateway)
            heartbeat = _wire(json.dumps([2, "hb-last", "Heartbeat", {}]))
            close = Frame(Opcode.CLOSE, Close(1000, "bye").serialize())
            socket.transport.write(heartbeat + close.serialize(mask=True, extensions=[]))
            await wait_until(lambda: "CP16" not in gateway.links, "CP16 gone")

    with caplog.at_level(logging.ERROR):
        run(scenario)
    assert port.heartbeats["CP16"] == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_text_that_is_not_utf8_closes_the_connection_with_1007(port: MemoryStationPort) -> None:
    async def scenario() -> int | None:
        async with serving(port) as gateway:
            socket = await booted(gateway)
            socket.protocol.send_frame(Frame(Opcode.TEXT, b'[2, "x\xff", "Heartbeat", {}]'))
            socket.send_data()
            await asyncio.wait_for(socket.wait_closed(), DEADLINE)
            return socket.close_code

    assert run(scenario) == 1007


# Keepalive.

FAST_KEEPALIVE = {"ping_interval": 0.3, "ping_timeout": 0.3, "close_timeout": 0.5}


def test_a_quiet_station_that_answers_pings_stays_and_is_heard(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port, **FAST_KEEPALIVE) as gateway:
            socket = await booted(gateway)
            connection = gateway.links["CP16"]._connection  # type: ignore[attr-defined]
            heard_at_boot = connection.last_heard
            await asyncio.sleep(2.0)
            assert "CP16" in gateway.links
            assert connection.last_heard > heard_at_boot  # pongs to the gateway's pings
            await socket.close()

    run(scenario)


def test_a_quiet_station_that_does_not_answer_pings_is_closed(port: MemoryStationPort) -> None:
    async def scenario() -> None:
        async with serving(port, **FAST_KEEPALIVE) as gateway:
            socket = await booted(gateway)
            socket.transport.pause_reading()  # the client reads nothing: pings go unanswered
            await wait_until(lambda: "CP16" not in gateway.links, "the silent station closed")

    run(scenario)


def test_a_station_that_keeps_sending_is_not_pinged(port: MemoryStationPort) -> None:
    """It does not answer pings (it reads nothing), yet it stays: it was never asked."""

    async def scenario() -> None:
        async with serving(port, **FAST_KEEPALIVE) as gateway:
            socket = await booted(gateway)
            socket.transport.pause_reading()
            for n in range(30):  # 1.5 s, five times the ping interval plus its timeout
                await socket.send(json.dumps([2, f"hb{n}", "Heartbeat", {}]))
                await asyncio.sleep(0.05)
            assert "CP16" in gateway.links
            await wait_until(lambda: "CP16" not in gateway.links, "closed once it went quiet")

    run(scenario)
