"""Which readings to trust: values that cannot stay still, and redundant sources (pure).

**Frozen devices.** A device that hangs on its last registers keeps answering with the same
values, each "good". Some values cannot stay still (:data:`FREEZE_RULES`):

- ``do_mg_l``: a dissolved-oxygen probe's reading moves within ``DO_STILL_S`` (20 min);
- ``pv_w``: PV power while the array produces (> 0) moves within ``PV_STILL_S`` (10 min);
- ``battery_v``: the bank's voltage while it discharges (battery current < 0, or an
  inverter's DC power > 0) moves within ``BATTERY_STILL_S`` (15 min), even at 10 mV resolution.

When one of them has stayed bit-identical for its time, and every other value of the same
device too (a hung device, not a regulated voltage), every reading of that device becomes
FROZEN (its value kept, for display; decisions treat it as unknown) until the value moves
again, and the ``frozen_value`` alarm names the point. A frozen charge controller is thus
flagged within 10 min by day and 15 min at night.

**Redundant sources.** The battery's state of charge comes from several devices: the
inverter's battery monitor (SunSpec model 124, coulomb counting) before the charge controllers
(a voltage-based estimate, whole percent). :func:`trusted` takes the good readings in that
priority, finds the largest group within ``SOC_AGREE_PCT`` of each other (the first in
priority on a tie) and trusts its first source; sources further apart than that raise
``sources_disagree``. One hung device cannot then decide shedding, the generator and
protection against the two others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from controller.devices.values import Quality, Reading

DO_STILL_S = 1200.0
PV_STILL_S = 600.0
BATTERY_STILL_S = 900.0
SOC_AGREE_PCT = 10.0
"""[%] SOC sources further apart than this disagree (EPEver SOC is a whole percent from the
voltage; a coulomb counter drifts a few percent between full charges)."""
DISCHARGE_W = 50.0
"""[W] an inverter drawing more than this from the battery bus discharges the bank."""

Points = Mapping[str, Reading]


def _number(points: Points, name: str) -> float | None:
    r = points.get(name)
    if r is None or not r.ok or isinstance(r.value, bool | str) or r.value is None:
        return None
    return float(r.value)


def _producing(points: Points) -> bool:
    return (_number(points, "pv_w") or 0.0) > 0.0


def _discharging(points: Points) -> bool:
    amps = _number(points, "battery_a")
    dc_w = _number(points, "dc_w")
    return (amps is not None and amps < 0.0) or (dc_w is not None and dc_w > DISCHARGE_W)


def _always(points: Points) -> bool:
    del points
    return True


@dataclass(frozen=True)
class FreezeRule:
    """``point`` may not stay unchanged for ``still_s`` while ``moving(points)`` holds."""

    point: str
    still_s: float
    moving: Callable[[Points], bool]


FREEZE_RULES: tuple[FreezeRule, ...] = (
    FreezeRule("do_mg_l", DO_STILL_S, _always),
    FreezeRule("pv_w", PV_STILL_S, _producing),
    FreezeRule("battery_v", BATTERY_STILL_S, _discharging),
)


@dataclass(frozen=True)
class Still:
    """A device's numeric values, seen unchanged since ``since_mono`` [s, monotonic]."""

    values: tuple[tuple[str, object], ...]
    since_mono: float


@dataclass(frozen=True)
class FreezeState:
    """The values of every device watched, by device."""

    still: Mapping[str, Still] = field(default_factory=lambda: MappingProxyType({}))


def _signature(points: Points) -> tuple[tuple[str, object], ...]:
    """The device's good numeric values (in its points' order, which decode keeps)."""
    return tuple((p, r.value) for p, r in points.items()
                 if r.quality is Quality.GOOD and type(r.value) in (int, float))


def watch(state: FreezeState, per_dev: Mapping[str, Points], now_mono: float
          ) -> tuple[FreezeState, dict[str, str]]:
    """Fold in this cycle's readings; the new state and the frozen devices (device → the
    point that gave it away).

    A device is frozen when a watched point (:data:`FREEZE_RULES`) that must move has not
    moved for its time, and neither has any other of the device's values: a live device
    whose voltage a charger regulates (float, absorption) still shows its PV, currents and
    counters moving; a hung one shows nothing moving at all.
    """
    still: dict[str, Still] = {}
    frozen: dict[str, str] = {}
    for device, points in per_dev.items():
        rules = [r for r in FREEZE_RULES if _number(points, r.point) is not None
                 and r.moving(points)]
        if not rules:
            continue
        sig = _signature(points)
        prev = state.still.get(device)
        mark = prev if prev is not None and prev.values == sig else Still(sig, now_mono)
        still[device] = mark
        for rule in rules:
            if now_mono - mark.since_mono >= rule.still_s:
                frozen[device] = rule.point
                break
    return FreezeState(MappingProxyType(still)), frozen


def mark_frozen(points: Points) -> dict[str, Reading]:
    """A frozen device's readings: every good value becomes FROZEN (its value kept)."""
    return {p: Reading(r.value, r.ts, Quality.FROZEN) if r.ok else r for p, r in points.items()}


def trusted(sources: list[tuple[str, Reading]], tolerance: float
            ) -> tuple[str | None, list[str]]:
    """The source to trust among ``sources`` (name, reading), listed by priority, and the
    good sources that disagree with it (further than ``tolerance``).

    None when no source is good. Among the good ones, the largest group within ``tolerance``
    of a source wins; on a tie, the source first in priority.
    """
    good = [(name, float(r.value)) for name, r in sources
            if r.ok and isinstance(r.value, int | float) and not isinstance(r.value, bool)]
    if not good:
        return None, []

    def agreeing(v: float) -> int:
        return sum(abs(v - w) <= tolerance for _, w in good)

    best_name, best_v = max(good, key=lambda nv: (agreeing(nv[1]), -good.index(nv)))
    return best_name, [name for name, v in good if abs(v - best_v) > tolerance]
