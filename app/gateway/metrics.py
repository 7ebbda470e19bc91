"""Prometheus metrics of one gateway process, on its own HTTP port (GATEWAY_METRICS_PORT).

Connected stations are counted at scrape time from the live links; messages are counted
per OCPP action as they arrive (Prometheus' rate() turns that into messages per second);
commands' round trips to the stations (CALL sent to answer or timeout) by command and
outcome.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from app.gateway.server import Gateway

# Calls received from stations in this process, by action. A plain Counter: the event loop
# is the only writer, so the hot path costs one dict update and no lock.
MESSAGES: Counter[str] = Counter()
COMMAND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)  # seconds


class CommandTimes:
    """Commands' round trips to stations as one Prometheus histogram per (command, outcome).

    The loop records and the metrics server's thread reads, hence the lock; commands are
    rare next to messages, so a lock per command costs nothing that matters.
    """

    def __init__(self, buckets: tuple[float, ...] = COMMAND_BUCKETS) -> None:
        self.buckets = buckets
        # Per series: a count per bucket (not cumulative), one for +Inf, then the sum.
        self._series: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def observe(self, command: str, outcome: str, seconds: float) -> None:
        """Count one round trip."""
        index = bisect.bisect_left(self.buckets, seconds)  # the first bound >= seconds
        with self._lock:
            series = self._series.get((command, outcome))
            if series is None:
                series = self._series[(command, outcome)] = [0] * (len(self.buckets) + 2)
            series[index] += 1
            series[-1] += seconds

    def family(self) -> HistogramMetricFamily:
        """Return the histogram as Prometheus reads it (cumulative buckets)."""
        with self._lock:
            snapshot = {key: list(series) for key, series in self._series.items()}
        family = HistogramMetricFamily(
            "plugpool_gateway_command_seconds",
            "Round trip of commands sent to stations, by command and outcome.",
            labels=["command", "outcome"],
        )
        bounds = [*map(str, self.buckets), "+Inf"]
        for labels, series in sorted(snapshot.items()):
            total, buckets = 0, []
            for bound, count in zip(bounds, series[:-1], strict=True):
                total += int(count)
                buckets.append((bound, total))
            family.add_metric(list(labels), buckets, sum_value=series[-1])
        return family


COMMANDS = CommandTimes()


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
        yield COMMANDS.family()


def serve_metrics(gateway: Gateway, host: str, port: int) -> tuple[Any, int]:
    """Serve /metrics for `gateway` on host:port (0: a free port); return (server, port)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatewayCollector(gateway))
    server, _thread = start_http_server(port, host, registry=registry)
    return server, server.server_address[1]
