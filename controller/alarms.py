"""Alarm hysteresis: a condition raises its alarm after holding for a while, and clears it
after being false for a while, both timed on the monotonic clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from controller.model import Condition

RAISE_AFTER_S: dict[str, float] = {
    "low_soc": 60.0,
    "low_do": 60.0,
    "device_offline": 0.0,  # the link already waited stale_after_s before calling it offline
    "inverter_trip": 0.0,
    "generator_failed_to_start": 0.0,
    "strategy_failed": 0.0,
    "invalid_value": 0.0,
}
CLEAR_AFTER_S: dict[str, float] = {"low_soc": 300.0, "low_do": 300.0}
"""Delays per alarm kind [s]; kinds not listed clear as soon as the condition is false."""


@dataclass
class AlarmTracker:
    """Which alarms are active, and since when each condition has held or not held."""

    active: set[tuple[str, str]] = field(default_factory=set)
    _true_since: dict[tuple[str, str], float] = field(default_factory=dict)
    _false_since: dict[tuple[str, str], float] = field(default_factory=dict)

    def update(self, conditions: Iterable[Condition], now: float
               ) -> tuple[list[Condition], list[Condition]]:
        """Fold in this cycle's conditions; returns (newly raised, newly cleared).

        An active alarm whose condition is no longer reported counts as false.
        """
        seen: dict[tuple[str, str], Condition] = {}
        for c in conditions:
            key = (c.kind, c.source)
            seen[key] = c if c.active or key not in seen else seen[key]
        for key in self.active - set(seen):
            seen[key] = Condition(key[0], key[1], False)
        raised, cleared = [], []
        for key, c in seen.items():
            if c.active:
                self._false_since.pop(key, None)
                since = self._true_since.setdefault(key, now)
                if key not in self.active and now - since >= RAISE_AFTER_S.get(c.kind, 0.0):
                    self.active.add(key)
                    raised.append(c)
            else:
                self._true_since.pop(key, None)
                since = self._false_since.setdefault(key, now)
                if key in self.active and now - since >= CLEAR_AFTER_S.get(c.kind, 0.0):
                    self.active.discard(key)
                    cleared.append(c)
        return raised, cleared
