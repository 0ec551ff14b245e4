"""Per-key rate limiting: one token bucket per key, on a monotonic clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at_s: float


class RateLimiter:
    """``rate_per_min`` requests a minute per key, with bursts of up to ``burst`` requests."""

    def __init__(self, rate_per_min: float, burst: int) -> None:
        self.rate_per_s = rate_per_min / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key_id: str, now_s: float) -> float:
        """Spend one token for ``key_id``; returns 0 when allowed, else the wait [s]."""
        b = self._buckets.get(key_id)
        if b is None:
            b = self._buckets[key_id] = _Bucket(self.burst, now_s)
        b.tokens = min(self.burst, b.tokens + max(0.0, now_s - b.at_s) * self.rate_per_s)
        b.at_s = now_s
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return 0.0
        return (1.0 - b.tokens) / self.rate_per_s
