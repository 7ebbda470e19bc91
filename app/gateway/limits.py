"""Token buckets that bound how often one client address or one station id may connect."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class KeyedTokenBucket:
    """One token bucket per key: `burst` attempts at once, then `rate` a second.

    A rate of 0 turns the limit off. Memory stays bounded: once more than
    `max_keys` keys are tracked, buckets that have refilled completely (they
    hold no information) are dropped.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        """Tell whether this limit is on."""
        return self.rate > 0

    def take(self, key: str) -> float:
        """Spend one token of `key`; return 0 when allowed, else seconds until a token is back."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled to `burst`; then the oldest half if need be."""
        refill = self.burst / self.rate
        self._buckets = {
            key: bucket for key, bucket in self._buckets.items() if now - bucket.updated < refill
        }
        if len(self._buckets) >= self.max_keys:  # a flood from many addresses: stay bounded
            for key in list(islice(self._buckets, len(self._buckets) // 2)):
                del self._buckets[key]


def retry_after(wait: float) -> str:
    """Return a Retry-After header value (whole seconds, at least 1)."""
    return str(max(1, math.ceil(wait)))
