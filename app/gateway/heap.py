"""Keep CPython's collector from stalling a gateway that holds thousands of connections.

Each connection keeps ~140 tracked objects alive (socket, transport, protocol, tasks, the
ChargePoint) and renews a few dozen on every message and keepalive ping; they live for
seconds, long enough to outlive a young collection. With 10,000 stations the collector
then walks ~200,000 such objects in a "young" collection and ~1.4M in a full one: stalls of
100-300 ms and 0.6-1.6 s (measured with gc.callbacks), at moments set by load.

The keeper instead freezes (`gc.freeze`, a list splice: no walk) everything that survived
each `check_seconds`, so automatic collections only ever see what was allocated since;
cycles among young objects are still found by them. What the freeze keeps from the
collector are cycles that become garbage later (chiefly closed connections): a full
collection (`gc.unfreeze`, `gc.collect`, `gc.freeze`) reclaims them once the heap (memory
blocks in use) has grown by `growth` since the last one, or connections opened+closed passed
`churn_share` of those open, and then only after churn has been quiet for
`settle_seconds` (so a reconnect storm pays one pause at its end, not one per wave), or
at once when the heap has grown by twice `growth` (churn that never settles). A full
collection that frees little of what the heap had grown by says the growth was live data
(new stations, filled buffers): the next one then waits for twice the growth, up to
`max_growth_scale` times; one that frees much sets it back.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeapPolicy:
    """When to freeze, and when a full collection is due."""

    churn_share: float = 0.1  # connections opened+closed since the last full collection
    churn_min: int = 200  # ... and at least this many
    growth: float = 0.25  # heap grown by this share since the last full collection
    settle_seconds: float = 5.0  # how long churn must have (nearly) stopped
    check_seconds: float = 0.5
    reclaim_share: float = 0.1  # a collection freeing less of the growth than this was idle
    max_growth_scale: int = 4


class HeapKeeper:
    """Freeze survivors often; collect fully when churn or growth call for it and all is quiet."""

    def __init__(
        self,
        churn: Callable[[], int],
        connections: Callable[[], int],
        policy: HeapPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        heap_size: Callable[[], int] = sys.getallocatedblocks,
    ) -> None:
        self.churn = churn  # a running count of connections opened and closed
        self.connections = connections
        self.policy = policy or HeapPolicy()
        self.clock = clock
        # Not gc.get_freeze_count(): it walks the frozen list, 10-150 ms at 1.4M objects.
        self.heap_size = heap_size
        self.full_churn = churn()
        self.full_heap = heap_size()
        self.samples: list[tuple[float, int]] = []  # (time, churn) over the settle window
        self.full_collections = 0
        self.growth_scale = 1  # doubled after each collection that found the growth live

    def settled(self, now: float, churn: int, needed: float) -> bool:
        """Record a churn sample; tell whether churn stayed under a tenth of `needed` lately."""
        self.samples.append((now, churn))
        # Keep the newest sample at or before the window's start, as its baseline.
        while len(self.samples) > 1 and self.samples[1][0] <= now - self.policy.settle_seconds:
            self.samples.pop(0)
        start_time, start_churn = self.samples[0]
        if now - start_time < self.policy.settle_seconds:
            return False  # not watched long enough to call it settled
        return churn - start_churn < needed / 10

    def full_due(self) -> bool:
        """Tell whether a full collection is due now (and record a churn sample)."""
        now, churn = self.clock(), self.churn()
        needed = max(self.policy.churn_min, self.policy.churn_share * self.connections())
        settled = self.settled(now, churn, needed)
        churned = churn - self.full_churn >= needed
        size = self.heap_size()
        growth = self.policy.growth * self.growth_scale
        grown = size > self.full_heap * (1 + growth)
        # Churn that never settles (a big network always has some station reconnecting)
        # must not let frozen garbage grow without end: past twice the growth, collect anyway.
        overgrown = size > self.full_heap * (1 + 2 * growth)
        return (settled and (churned or grown)) or overgrown

    def collect_fully(self) -> float:
        """Run one full collection over everything and freeze the survivors; return seconds."""
        started = time.perf_counter()
        before = self.heap_size()
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        took = time.perf_counter() - started
        after = self.heap_size()
        grown = before - self.full_heap
        # Seen at 10,000 stations: a 531 ms collection after 25% growth freed 1,188 objects.
        if grown > 0:  # (a collection for churn alone tells nothing of the growth)
            if before - after < grown * self.policy.reclaim_share:
                self.growth_scale = min(self.growth_scale * 2, self.policy.max_growth_scale)
            else:
                self.growth_scale = 1
        self.full_churn = self.churn()
        self.full_heap = after
        self.full_collections += 1
        # Not gc.get_freeze_count() here: it walks the frozen list, lengthening the pause.
        log.info(
            "heap: collected %d objects in %.0f ms, %d memory blocks in use (%d connections)",
            collected,
            took * 1000,
            self.full_heap,
            self.connections(),
        )
        return took

    def tick(self) -> None:
        """One check: a full collection when due, else freeze what survived since the last."""
        if self.full_due():
            self.collect_fully()
        else:
            gc.freeze()

    async def run(self) -> None:
        """Check every `check_seconds` until cancelled."""
        while True:
            await asyncio.sleep(self.policy.check_seconds)
            self.tick()
