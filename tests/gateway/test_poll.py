"""The batching selector: plain epoll when quiet, a short pause before blocking when busy."""

from __future__ import annotations

import asyncio
import selectors
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from app.gateway.poll import WINDOW, BatchingSelector, new_event_loop

PAUSE = 0.001


class Scripted(BatchingSelector):
    """A BatchingSelector on a fake clock: each blocking poll 'waits' `idle` seconds."""

    def __init__(self) -> None:
        self.now = 0.0
        self.idle = 0.0
        self.sleeps: list[float] = []
        self.blocking_timeouts: list[float | None] = []
        super().__init__(PAUSE, clock=lambda: self.now, sleep=self._sleep)

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def _blocking(self, timeout: float | None) -> list[tuple[Any, int]]:
        self.blocking_timeouts.append(timeout)
        self.now += self.idle
        self._idle += self.idle
        return selectors.EpollSelector.select(self, 0)

    def turns(self, work: float, idle: float, count: int) -> None:
        """Run `count` loop turns: `work` seconds of handlers, then a poll idle for `idle`."""
        self.idle = idle
        for _ in range(count):
            self.now += work
            self.select(None)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    yield left, right
    left.close()
    right.close()


@pytest.fixture
def selector(pair: tuple[socket.socket, socket.socket]) -> Iterator[Scripted]:
    scripted = Scripted()
    scripted.register(pair[0], selectors.EVENT_READ)
    yield scripted
    scripted.close()


def test_a_quiet_loop_polls_as_plain_epoll(selector: Scripted) -> None:
    selector.turns(work=0.001, idle=0.009, count=10)  # 10% busy over several windows
    assert not selector.busy
    assert selector.sleeps == []
    assert selector.blocking_timeouts == [None] * 10


def test_a_busy_loop_pauses_before_a_blocking_poll(selector: Scripted) -> None:
    selector.turns(work=0.009, idle=0.001, count=5)  # 90% busy: past one window
    assert selector.busy
    selector.sleeps.clear()
    selector.select(None)
    assert selector.sleeps == [PAUSE]


def test_a_busy_loop_with_a_socket_ready_does_not_pause(
    selector: Scripted, pair: tuple[socket.socket, socket.socket]
) -> None:
    selector.turns(work=0.009, idle=0.001, count=5)
    assert selector.busy
    selector.sleeps.clear()
    pair[1].send(b"x")
    ready = selector.select(None)
    assert [key.fileobj for key, _ in ready] == [pair[0]]
    assert selector.sleeps == []


def test_the_pause_never_outlasts_a_timer(selector: Scripted) -> None:
    selector.turns(work=0.009, idle=0.001, count=5)
    selector.sleeps.clear()
    selector.blocking_timeouts.clear()
    selector.select(0.0002)  # the loop's next timer is due in 0.2 ms
    assert selector.sleeps == [0.0002]
    assert selector.blocking_timeouts == [0.0]
    selector.select(0)  # a non-blocking poll never pauses
    assert selector.sleeps == [0.0002]


def test_batching_holds_while_the_work_share_stays_above_the_quiet_share(
    selector: Scripted,
) -> None:
    selector.turns(work=0.009, idle=0.001, count=5)
    assert selector.busy
    # Batched turns are cheaper: 45% working is below busy_share, above quiet_share.
    selector.turns(work=0.00045 * 2, idle=0.0011 - PAUSE, count=int(3 * WINDOW / 0.002))
    assert selector.busy


def test_a_loop_that_mostly_pauses_stops_batching(selector: Scripted) -> None:
    selector.turns(work=0.009, idle=0.001, count=5)
    assert selector.busy
    # A few peers in turn: each pause brings one answer, handled in 0.1 ms.
    selector.turns(work=0.0001, idle=0.0, count=int(3 * WINDOW / (0.0001 + PAUSE)))
    assert not selector.busy


def test_busy_ends_when_the_load_does(selector: Scripted) -> None:
    selector.turns(work=0.009, idle=0.001, count=5)
    assert selector.busy
    selector.turns(work=0.0001, idle=0.01, count=5)
    assert not selector.busy


def test_new_event_loop_serves_sockets_and_timers() -> None:
    async def scenario() -> tuple[bytes, bool]:
        fired = asyncio.Event()
        asyncio.get_running_loop().call_later(0.01, fired.set)

        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello\n")
        answer = await reader.readline()
        writer.close()
        server.close()
        await asyncio.wait_for(fired.wait(), 5)
        return answer, fired.is_set()

    loop = new_event_loop(PAUSE)
    try:
        assert isinstance(loop._selector, BatchingSelector)  # type: ignore[attr-defined]
        assert loop.run_until_complete(scenario()) == (b"hello\n", True)
    finally:
        loop.close()


def test_no_pause_gives_the_default_loop() -> None:
    loop = new_event_loop(0)
    try:
        assert not isinstance(getattr(loop, "_selector", None), BatchingSelector)
    finally:
        loop.close()
