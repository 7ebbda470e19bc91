"""The gateway's own /metrics: connected stations, calls by action and commands' round trips,
from real chargers."""

from __future__ import annotations

import asyncio

import pytest
import requests
from ocpp.v16 import call

from app.gateway import commands as cmd
from app.gateway.errors import CommandFailed, CommandTimeout
from app.gateway.memory import MemoryStationPort
from app.gateway.metrics import CommandTimes
from app.gateway.ports import OcppVersion
from tests.gateway.support import (
    BOOT201,
    DEADLINE,
    charger,
    exchange,
    open_socket,
    run,
    serving,
)
from tests.support.metrics import sample

MESSAGES = "plugpool_gateway_messages_total"
STATIONS = "plugpool_gateway_connected_stations"
COMMAND_COUNT = "plugpool_gateway_command_seconds_count"
COMMAND_SUM = "plugpool_gateway_command_seconds_sum"
COMMAND_BUCKET = "plugpool_gateway_command_seconds_bucket"


async def scrape(metrics_port: int) -> str:
    response = await asyncio.to_thread(
        requests.get, f"http://127.0.0.1:{metrics_port}/metrics", timeout=5
    )
    assert response.status_code == 200
    return response.text


def test_gateway_metrics_count_connected_stations_and_calls_by_action(
    port: MemoryStationPort,
) -> None:
    async def scenario() -> tuple[str, str, str]:
        async with serving(port, metrics_port=0) as gateway:
            before = await scrape(gateway.metrics_port)
            async with charger(gateway, "CP16", OcppVersion.V16) as cp:
                await cp.call(call.BootNotification("PlugPool", "Home"))
                await cp.call(call.Heartbeat())
                await cp.call(call.Heartbeat())
                during = await scrape(gateway.metrics_port)
            await asyncio.sleep(0.2)  # the server notices the close
            after = await scrape(gateway.metrics_port)
        return before, during, after

    before, during, after = run(scenario)

    assert sample(before, STATIONS) == 0
    assert sample(during, STATIONS) == 1
    assert sample(after, STATIONS) == 0
    assert sample(during, MESSAGES, action="Heartbeat") == (
        sample(before, MESSAGES, action="Heartbeat") + 2
    )
    assert sample(during, MESSAGES, action="BootNotification") == (
        sample(before, MESSAGES, action="BootNotification") + 1
    )


def test_gateway_serves_no_metrics_port_by_default(port: MemoryStationPort) -> None:
    async def scenario() -> int | None:
        async with serving(port) as gateway:
            return gateway.metrics_port

    assert run(scenario) is None


def test_command_round_trips_are_counted_by_command_and_outcome(port: MemoryStationPort) -> None:
    async def scenario() -> tuple[str, str]:
        async with serving(port, metrics_port=0, response_timeout=0.3) as gateway:
            before = await scrape(gateway.metrics_port)
            async with charger(gateway, "CP16", OcppVersion.V16) as cp:
                await cp.call(call.BootNotification("PlugPool", "Home"))
                result = await gateway.bus.send("CP16", cmd.RemoteStart("D1", evse_id=1), DEADLINE)
                assert result.accepted
                with pytest.raises(CommandFailed):  # the test charger has no handler for it
                    await gateway.bus.send("CP16", cmd.UnlockConnector(1), DEADLINE)
            silent = await open_socket(gateway, "CP201", ["ocpp2.0.1"])  # never answers a CALL
            await exchange(silent, [2, "boot", "BootNotification", BOOT201])
            with pytest.raises(CommandTimeout):
                await gateway.bus.send("CP201", cmd.CancelReservation(3), DEADLINE)
            await silent.close()
            return before, await scrape(gateway.metrics_port)

    before, after = run(scenario)

    def added(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert added(COMMAND_COUNT, command="RemoteStart", outcome="Accepted") == 1
    assert added(COMMAND_COUNT, command="UnlockConnector", outcome="CallError") == 1
    assert added(COMMAND_COUNT, command="CancelReservation", outcome="Timeout") == 1
    # The station's own response_timeout (0.3 s) ended the wait: its round trip says so.
    assert 0.3 <= added(COMMAND_SUM, command="CancelReservation", outcome="Timeout") < 5
    assert added(COMMAND_BUCKET, command="CancelReservation", outcome="Timeout", le="0.25") == 0
    assert added(COMMAND_BUCKET, command="CancelReservation", outcome="Timeout", le="0.5") == 1


def test_command_histogram_buckets_are_cumulative_with_inclusive_bounds() -> None:
    times = CommandTimes(buckets=(0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 2.0):
        times.observe("RemoteStop", "Accepted", seconds)
    samples = times.family().samples
    buckets = {s.labels["le"]: s.value for s in samples if s.name.endswith("_bucket")}
    assert buckets == {"0.1": 2, "1.0": 3, "+Inf": 4}
    assert [s.value for s in samples if s.name.endswith("_count")] == [4]
    assert [s.value for s in samples if s.name.endswith("_sum")] == [pytest.approx(2.65)]
