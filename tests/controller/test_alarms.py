"""The alarm tracker follows the one alarm table, ``store.contract.ALARMS``, stepping virtual
monotonic time."""

from __future__ import annotations

import pytest

from controller.alarms import AlarmTracker
from controller.model import Condition
from store.contract import ALARMS


def test_low_soc_waits_its_raise_and_clear_delays() -> None:
    kind = ALARMS["low_soc"]
    assert (kind.raise_after_s, kind.clear_after_s) == (60.0, 300.0)
    t = AlarmTracker()
    low, ok = Condition("low_soc", "battery", True), Condition("low_soc", "battery", False)
    assert t.update([low], 0.0) == ([], [])
    assert t.update([low], 59.0) == ([], [])
    raised, _ = t.update([low], 60.0)
    assert raised == [low]
    assert t.update([ok], 100.0) == ([], [])
    assert t.update([low], 150.0) == ([], [])  # back before the clear delay: still active
    assert t.update([ok], 200.0) == ([], [])
    assert t.update([ok], 499.0) == ([], [])
    _, cleared = t.update([ok], 500.0)
    assert cleared == [ok] and t.active == set()


@pytest.mark.parametrize("kind", ["write_failed", "device_offline", "strategy_failed"])
def test_immediate_kinds_raise_and_clear_at_once(kind: str) -> None:
    t = AlarmTracker()
    on, off = Condition(kind, "x", True), Condition(kind, "x", False)
    assert t.update([on], 0.0)[0] == [on]
    assert t.update([off], 0.0)[1] == [off]


def test_an_unknown_kind_is_an_error_not_a_silent_default() -> None:
    with pytest.raises(KeyError):
        AlarmTracker().update([Condition("melted", "x", True)], 0.0)
