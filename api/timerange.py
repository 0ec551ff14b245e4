"""Bounded time ranges from ``from`` and ``to`` query parameters (ISO 8601; naive means UTC)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from api.errors import BadInput

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def to_epoch(dt: datetime) -> float:
    """Aware (or naive UTC) datetime → epoch [s], within 2000–2100."""
    aware = dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    if not EARLIEST <= aware <= LATEST:
        raise BadInput(f"{dt.isoformat()} is outside 2000-01-01 .. 2100-01-01")
    return aware.timestamp()


def span(from_: datetime | None, to: datetime | None, default_s: float, max_s: float,
         now_s: float | None = None) -> tuple[float, float]:
    """``(from_ts, to_ts)``: ``to`` defaults to now, ``from`` to ``to - default_s``.

    Raises :class:`BadInput` when ``from >= to`` or the span exceeds ``max_s``.
    """
    hi = to_epoch(to) if to is not None else (time.time() if now_s is None else now_s)
    lo = to_epoch(from_) if from_ is not None else hi - default_s
    if lo >= hi:
        raise BadInput("'from' must be before 'to'")
    if hi - lo > max_s:
        raise BadInput(f"the range is {(hi - lo) / 86400:.1f} days; at most "
                       f"{max_s / 86400:g} days at this resolution")
    return lo, hi
