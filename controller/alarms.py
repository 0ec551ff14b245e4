"""Alarm hysteresis: a condition raises its alarm after holding for its kind's
``raise_after_s``, and clears it after being false for ``clear_after_s``, both timed on the
monotonic clock. The delays and severities are the one table ``store.contract.ALARMS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from controller.model import Condition
from store.contract import ALARMS


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
                if key not in self.active and now - since >= ALARMS[c.kind].raise_after_s:
                    self.active.add(key)
                    raised.append(c)
            else:
                self._true_since.pop(key, None)
                since = self._false_since.setdefault(key, now)
                if key in self.active and now - since >= ALARMS[c.kind].clear_after_s:
                    self.active.discard(key)
                    cleared.append(c)
        return raised, cleared
