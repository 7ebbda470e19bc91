"""The gateway's own /metrics: connected stations and calls by action, from a real charger."""

from __future__ import annotations

import asyncio

import requests
from ocpp.v16 import call

from app.gateway.memory import MemoryStationPort
from app.gateway.ports import OcppVersion
from tests.gateway.support import charger, run, serving
from tests.support.metrics import sample

MESSAGES = "plugpool_gateway_messages_total"
STATIONS = "plugpool_gateway_connected_stations"


def test_gateway_metrics_count_connected_stations_and_calls_by_action(
    port: MemoryStationPort,
) -> None:
    async def scrape(metrics_port: int) -> str:
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        response = await asyncio.to_thread(requests.get, url, timeout=5)
        assert response.status_code == 200
        return response.text

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
