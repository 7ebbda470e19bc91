"""The heap keeper: one collect-and-freeze after a connection storm has settled."""

from __future__ import annotations

import asyncio
import base64
import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from app.gateway.heap import HeapKeeper, HeapPolicy
from tests.gateway.support import PASSWORD, run, start_gateway_process, stop_process, wait_until

STATIONS = 250


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def keeper_with(
    churn: list[int], connections: list[int], heap: list[int] | None = None
) -> tuple[HeapKeeper, Clock]:
    clock = Clock()
    policy = HeapPolicy(churn_share=0.1, churn_min=200, growth=0.25, settle_seconds=5.0)
    heap = heap if heap is not None else [1000]
    keeper = HeapKeeper(lambda: churn[0], lambda: connections[0], policy, clock, lambda: heap[0])
    return keeper, clock


def test_no_full_collection_for_churn_below_the_threshold() -> None:
    churn, connections = [0], [5000]
    keeper, clock = keeper_with(churn, connections)
    for second in range(30):
        clock.now = second
        churn[0] += 10  # 300 in all: under 10% of 5,000
        assert not keeper.full_due()


def test_full_collection_waits_until_a_storm_has_settled() -> None:
    churn, connections = [0], [0]
    keeper, clock = keeper_with(churn, connections)
    for second in range(10):  # a storm: 1,000 stations a second
        clock.now = second
        churn[0] += 1000
        connections[0] += 1000
        assert not keeper.full_due()
    for second in range(10, 14):  # quiet, but not for a whole settle window yet
        clock.now = second
        churn[0] += 5
        assert not keeper.full_due()
    clock.now = 15
    assert keeper.full_due()


def test_growth_of_the_heap_makes_a_full_collection_due() -> None:
    churn, connections, heap = [0], [5000], [100_000]
    keeper, clock = keeper_with(churn, connections, heap)
    keeper.full_heap = 100_000
    for second in range(10):
        clock.now = second
        heap[0] += 2000  # cycles that died after being frozen, no churn at all
        assert keeper.full_due() == (heap[0] > 125_000 and second >= 5)
    clock.now = 20
    heap[0] = 126_000
    assert keeper.full_due()


def test_unsettled_churn_cannot_grow_the_heap_without_end() -> None:
    churn, connections, heap = [0], [10_000], [100_000]
    keeper, clock = keeper_with(churn, connections, heap)
    keeper.full_heap = 100_000
    for second in range(60):  # 500 reconnects every second: never settled
        clock.now = second
        churn[0] += 500
        heap[0] += 1000
        assert keeper.full_due() == (heap[0] > 150_000), second


def test_ticks_freeze_survivors_and_a_full_collection_resets_the_baselines() -> None:
    churn, connections = [500], [500]
    keeper = HeapKeeper(lambda: churn[0], lambda: connections[0], HeapPolicy())
    try:
        young = [object() for _ in range(10)]  # not tracked; lists are
        young_lists = [[n] for n in range(1000)]
        before = gc.get_freeze_count()
        keeper.tick()  # not due: churn since start is 0
        assert gc.get_freeze_count() >= before + len(young_lists)
        keeper.full_churn = 0
        keeper.collect_fully()
        assert keeper.full_churn == 500
        assert keeper.full_heap > 0
        assert gc.get_freeze_count() > 0
        assert keeper.full_collections == 1
        del young, young_lists
    finally:
        gc.unfreeze()


class Readings:
    """Heap sizes read in turn; the last one stays."""

    def __init__(self, *values: int) -> None:
        self.values = list(values)

    def __call__(self) -> int:
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]


def test_collections_that_free_little_make_the_next_wait_for_more_growth() -> None:
    clock, churn = Clock(), [0]
    policy = HeapPolicy(growth=0.25, settle_seconds=5.0, reclaim_share=0.1, max_growth_scale=4)
    heap = Readings(100_000)
    keeper = HeapKeeper(lambda: churn[0], lambda: 5000, policy, clock, heap)
    keeper.samples = [(0.0, 0)]  # churn watched since 0: settled from 5 s on
    try:
        clock.now = 10
        heap.values = [126_000]
        assert keeper.full_due()
        heap.values = [126_000, 125_000]  # before, after: 1,000 freed of 26,000 grown
        keeper.collect_fully()
        assert keeper.growth_scale == 2 and keeper.full_heap == 125_000
        heap.values = [185_000]  # +48%: was due at +25%, now waits for +50%
        assert not keeper.full_due()
        heap.values = [188_000]
        assert keeper.full_due()
        heap.values = [188_000, 187_000]  # little again: 4x
        keeper.collect_fully()
        assert keeper.growth_scale == 4
        heap.values = [187_000, 186_000]  # no growth since (churn alone): the scale stays
        keeper.collect_fully()
        assert keeper.growth_scale == 4 and keeper.full_heap == 186_000
        heap.values = [190_000, 189_900]  # little of a little growth: 4x is the cap
        keeper.collect_fully()
        assert keeper.growth_scale == 4
        heap.values = [376_000]  # +98.9%
        assert not keeper.full_due()
        heap.values = [380_000, 200_000]  # frees most of the growth: back to 1x
        keeper.collect_fully()
        assert keeper.growth_scale == 1
        heap.values = [251_000]  # +25.5%
        assert keeper.full_due()
    finally:
        gc.unfreeze()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """`python -m app.gateway` with STATIONS seeded stations and a 1 s settle window."""
    log = tmp_path / "gateway.log"
    seed = tmp_path / "stations.seed"
    seed.write_text("\n".join(f"HEAP{i:04d}:{PASSWORD}" for i in range(STATIONS)))
    env = {
        **os.environ,
        "GATEWAY_PORT": "0",
        "GATEWAY_PORT_IMPL": "memory",
        "GATEWAY_SEED_FILE": str(seed),
        "GATEWAY_IP_CONNECT_RATE": "0",
        "GATEWAY_HEAP_SETTLE_SECONDS": "1",
        "GATEWAY_LOG_LEVEL": "INFO",
    }
    proc, port = start_gateway_process(env, log)
    try:
        yield port, log
    finally:
        stop_process(proc)


def test_gateway_freezes_after_a_storm_and_again_after_the_stations_leave(
    gateway: tuple[int, Path],
) -> None:
    port, log = gateway

    def freezes() -> list[str]:
        return [line for line in log.read_text().splitlines() if "heap: collected" in line]

    async def scenario() -> None:
        async def connect(index: int) -> websockets.ClientConnection:
            token = base64.b64encode(f"HEAP{index:04d}:{PASSWORD}".encode()).decode()
            socket = await websockets.connect(
                f"ws://127.0.0.1:{port}/ocpp/HEAP{index:04d}",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers={"Authorization": f"Basic {token}"},
            )
            await socket.send(
                '[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
            )
            assert (await socket.recv()).startswith('[3,"b"')
            return socket

        gate = asyncio.Semaphore(32)  # under the gateway's handshake backlog (64)

        async def connect_gated(index: int) -> websockets.ClientConnection:
            async with gate:
                return await connect(index)

        sockets = await asyncio.gather(*(connect_gated(i) for i in range(STATIONS)))
        await wait_until(lambda: len(freezes()) == 1, "a freeze after the storm")
        assert f"({STATIONS} connections)" in freezes()[0]
        await sockets[0].send('[2,"h","Heartbeat",{}]')  # still serving after the freeze
        assert (await sockets[0].recv()).startswith('[3,"h"')
        await asyncio.gather(*(s.close() for s in sockets))
        await wait_until(
            lambda: len(freezes()) == 2, "a freeze after they left"
        )  # the closed ones' cycles are freed
        assert "(0 connections)" in freezes()[1]

    run(scenario)
