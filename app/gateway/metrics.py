"""Prometheus metrics of one gateway process, on its own HTTP port (GATEWAY_METRICS_PORT).

Connected stations are counted at scrape time from the live links; messages are counted
per OCPP action as they arrive (Prometheus' rate() turns that into messages per second).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from app.gateway.server import Gateway

# Calls received from stations in this process, by action. A plain Counter: the event loop
# is the only writer, so the hot path costs one dict update and no lock.
MESSAGES: Counter[str] = Counter()


class GatewayCollector(Collector):
    """Read the gateway's state when Prometheus scrapes."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def collect(self) -> Iterator[Any]:
        stations = GaugeMetricFamily(
            "plugpool_gateway_connected_stations", "Stations connected to this gateway process."
        )
        stations.add_metric([], len(self.gateway.links))
        yield stations
        messages = CounterMetricFamily(
            "plugpool_gateway_messages",
            "OCPP calls received from stations, by action.",
            labels=["action"],
        )
        for action, count in sorted(MESSAGES.copy().items()):
            messages.add_metric([action], count)
        yield messages


def serve_metrics(gateway: Gateway, host: str, port: int) -> tuple[Any, int]:
    """Serve /metrics for `gateway` on host:port (0: a free port); return (server, port)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatewayCollector(gateway))
    server, _thread = start_http_server(port, host, registry=registry)
    return server, server.server_address[1]
