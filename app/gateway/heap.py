"""Keep CPython's collector from stalling a gateway that holds thousands of connections.

Each connection keeps ~140 tracked objects alive (socket, transport, protocol, tasks,
the ChargePoint). A full collection walks them all: with 10,000 stations ~1.4M objects,
a stall of 0.6-1.6 s (measured with gc.callbacks), and the collector runs one whenever
the objects promoted since the last one pass a quarter of the old ones, i.e. at a moment
set by load, in the middle of traffic. After the set of connections has changed a lot (a
restart, a reconnect storm) and then settled, the keeper runs that one collection itself
and freezes what survived (`gc.freeze`): later collections skip those objects, so they
stay short. The collection before each freeze starts with `gc.unfreeze`, so cycles of
connections that closed since the last one are still freed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeapPolicy:
    """When to collect-and-freeze: enough churn since the last time, and quiet now."""

    churn_share: float = 0.1  # connections opened+closed since the last freeze, share of open
    churn_min: int = 200  # ... and at least this many
    settle_seconds: float = 5.0  # how long churn must have (nearly) stopped
    check_seconds: float = 1.0


class HeapKeeper:
    """Watch connection churn; collect and freeze once a storm has settled."""

    def __init__(
        self,
        churn: Callable[[], int],
        connections: Callable[[], int],
        policy: HeapPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.churn = churn  # a running count of connections opened and closed
        self.connections = connections
        self.policy = policy or HeapPolicy()
        self.clock = clock
        self.frozen_churn = churn()
        self.samples: list[tuple[float, int]] = []  # (time, churn) over the settle window
        self.freezes = 0

    def due(self) -> bool:
        """Record a sample; tell whether a collect-and-freeze is due now."""
        now, churn = self.clock(), self.churn()
        self.samples.append((now, churn))
        # Keep the newest sample at or before the window's start, as its baseline.
        while len(self.samples) > 1 and self.samples[1][0] <= now - self.policy.settle_seconds:
            self.samples.pop(0)
        since_freeze = churn - self.frozen_churn
        needed = max(self.policy.churn_min, self.policy.churn_share * self.connections())
        if since_freeze < needed:
            return False
        window_start = self.samples[0]
        if now - window_start[0] < self.policy.settle_seconds:
            return False  # not watched long enough to call it settled
        # Settled: the last window saw under a tenth of what triggers a freeze.
        return churn - window_start[1] < needed / 10

    def collect_and_freeze(self) -> float:
        """Run one full collection and freeze the survivors; return the seconds it took."""
        started = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        took = time.perf_counter() - started
        self.frozen_churn = self.churn()
        self.freezes += 1
        log.info(
            "heap: collected %d, froze %d objects in %.0f ms (%d connections)",
            collected,
            gc.get_freeze_count(),
            took * 1000,
            self.connections(),
        )
        return took

    async def run(self) -> None:
        """Check every `check_seconds` until cancelled."""
        while True:
            await asyncio.sleep(min(self.policy.check_seconds, self.policy.settle_seconds / 4))
            if self.due():
                self.collect_and_freeze()
