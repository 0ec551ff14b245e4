"""Values as they travel: every value carries its time (UTC) and its quality (DESIGN.md §1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

Value = bool | int | float | str
"""A decoded point value: a number, a flag, or text (SunSpec common-model strings)."""


class Quality(StrEnum):
    """How far a value can be trusted."""

    GOOD = "good"  # read this cycle, within range
    STALE = "stale"  # last good value, older than the stale limit
    FROZEN = "frozen"  # read, but stuck where it cannot stay still: treated as unknown
    INVALID = "invalid"  # the device answered with an invalid sentinel or out-of-range value
    MISSING = "missing"  # never read, or the device did not answer


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one point at one time. ``value`` is None unless the quality says otherwise."""

    value: Value | None
    ts: datetime
    quality: Quality = Quality.GOOD

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None or self.ts.utcoffset() != timedelta(0):
            raise ValueError(f"Reading.ts must be an aware UTC datetime, got {self.ts!r}")
        if self.quality in (Quality.GOOD, Quality.STALE, Quality.FROZEN) and self.value is None:
            raise ValueError(f"a {self.quality} reading needs a value")

    @classmethod
    def of(cls, value: Value | None, ts: datetime) -> Reading:
        """A freshly decoded value: good, or invalid when the device sent a sentinel (None)."""
        return cls(value, ts, Quality.GOOD if value is not None else Quality.INVALID)

    @classmethod
    def missing(cls, ts: datetime) -> Reading:
        """No value for this point at ``ts``."""
        return cls(None, ts, Quality.MISSING)

    @property
    def ok(self) -> bool:
        """True when the value is good (fresh and valid)."""
        return self.quality is Quality.GOOD

    def aged(self, now: datetime, stale_after_s: float) -> Reading:
        """This reading as seen at ``now``: a good value older than ``stale_after_s`` is stale."""
        if self.quality is Quality.GOOD and (now - self.ts).total_seconds() > stale_after_s:
            return Reading(self.value, self.ts, Quality.STALE)
        return self

