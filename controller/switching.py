"""Switching verified: a motor switched on must show in the AC load (pure functions).

A relay board reads back the coil it was told to set, whether or not the contactor behind it
closed: a stuck-open contactor shows only in the power. So after a motor unit (an aerator or
a pump, whose running kW the site file gives) is switched on, the site's load must rise by at
least ``STEP_FRACTION`` of the unit's kW, and its relay read back on, within
``verify_window_s(site)`` (``VERIFY_CYCLES`` cycles, at least ``VERIFY_MIN_S``). Otherwise the
unit has failed: ``switch_failed`` is raised (source ``<load>/<unit>``), and the unit is
unavailable to the strategies (aeration starts another unit instead) until an operator
acknowledges the alarm, or for ``RETRY_AFTER_S`` at most, after which it may be tried, and
verified, again.

Switching off is verified by the read-back only: a load that falls may be any load.
Each start has its own step: motor starts come one per cycle, and the next only once the
last one has been seen in the load or has failed (:func:`controller.strategies.motor_starts`
waits while ``State.switch_checks`` is not empty); a start in a cycle where another motor
stopped is not load-checked. The checks run on each cycle's snapshot before the strategies
decide (:func:`check`), so a start seen at once lets the next one go in the same cycle.

Switching timers (:func:`hold_timers`): a load's ``min_on_s``, ``min_off_s`` and a
compressor's ``restart_delay_s`` hold its units where they are after a switch; only a safety
rule's switch-off goes through at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from controller.model import Condition, Plan, Snapshot, State, SwitchCheck, Unit, unit_kw
from sitefile import LoadBase, Site

STEP_FRACTION = 0.5
"""The load must rise by at least half the unit's running power (other loads move too)."""
VERIFY_CYCLES = 3
VERIFY_MIN_S = 10.0
"""[s] a direct-on-line start is over in about a second; the inverter is polled every 2 s."""
RETRY_AFTER_S = 3600.0
"""[s] a failed unit is left alone this long before it is tried again."""

def verify_window_s(site: Site) -> float:
    """How long a switched-on motor has to show in the load [s]."""
    return max(VERIFY_CYCLES * site.control.cycle_s, VERIFY_MIN_S)


def _readback(snap: Snapshot, unit: Unit) -> bool | None:
    outs = snap.outputs.get(unit[0], ())
    return outs[unit[1]] if unit[1] < len(outs) else None


def verify(checks: tuple[SwitchCheck, ...], failed: Mapping[Unit, float], snap: Snapshot,
           site: Site, now: float) -> tuple[tuple[SwitchCheck, ...], dict[Unit, float]]:
    """Fold this cycle's snapshot into the pending checks: those still waiting, and the failed
    units (unit → since when [s, monotonic]; failures older than ``RETRY_AFTER_S`` dropped)."""
    load_w = snap.value("load_w")
    out: dict[Unit, float] = {u: t for u, t in failed.items() if now - t < RETRY_AFTER_S}
    waiting = []
    for c in checks:
        seen = (load_w is not None and load_w - c.before_w >= STEP_FRACTION * c.step_w
                and _readback(snap, c.unit) is not False)
        if seen:
            continue
        if now - c.since_mono >= verify_window_s(site):
            out[c.unit] = now
        else:
            waiting.append(c)
    return tuple(waiting), out


def expect(plan: Plan, snap: Snapshot, site: Site, now: float) -> tuple[SwitchCheck, ...]:
    """The checks for the motor units ``plan`` (what was written) switched on this cycle;
    none when the load is unknown or a motor was switched off in the same cycle."""
    load_w = snap.value("load_w")
    changed = {u: on for u, on in plan.units.items() if on is not bool(_readback(snap, u))}
    if load_w is None or any(not on and unit_kw(site, u[0]) > 0 for u, on in changed.items()):
        return ()
    return tuple(SwitchCheck(u, now, load_w, unit_kw(site, u[0]) * 1000.0)
                 for u, on in changed.items() if on and unit_kw(site, u[0]) > 0)


def check(state: State, snap: Snapshot, site: Site, now: float
          ) -> tuple[State, list[Condition]]:
    """Before deciding: the pending checks against this snapshot, and the ``switch_failed``
    conditions (one per failed unit; a unit no longer failed clears its alarm)."""
    checks, failed = verify(state.switch_checks, state.failed_units, snap, site, now)
    conds = [Condition("switch_failed", f"{load}/{unit}", True,
                       f"{load} unit {unit + 1}: switched on, but the load did not rise by "
                       f"{STEP_FRACTION * unit_kw(site, load):g} kW within "
                       f"{verify_window_s(site):g} s")
             for load, unit in sorted(failed)]
    conds += [Condition("switch_failed", f"{load}/{unit}", False)
              for load, unit in sorted(set(state.failed_units) - set(failed))]
    return state.evolve(switch_checks=checks, failed_units=failed), conds


def switched(state: State, plan: Plan, snap: Snapshot, site: Site, now: float) -> State:
    """After writing: the state with a check for each motor unit switched on."""
    return state.evolve(switch_checks=state.switch_checks + expect(plan, snap, site, now))


SAFETY_OFF_BY = frozenset({"battery_protection"})
"""Strategies whose switch-off is a safety rule: it is written at once, ``min_on_s`` or not."""
TIMERS_BY = "switching_timers"
"""``Plan.by`` of a unit that its load's timers held where it was."""


def hold_s(load: LoadBase, on: bool) -> float:
    """How long a unit of ``load`` must stay as it is after it was switched [s]: ``min_on_s``
    after a switch-on; after a switch-off the longer of ``min_off_s`` and the compressor's
    ``restart_delay_s``."""
    return load.min_on_s if on else max(load.min_off_s, load.restart_delay_s)


def hold_timers(plan: Plan, snap: Snapshot, state: State, site: Site, now: float) -> Plan:
    """The plan with each load's switching timers enforced (pure; ``now`` monotonic [s]).

    A unit switched off is switched on again only once ``min_off_s`` and ``restart_delay_s``
    (a compressor's anti-short-cycle delay) have passed since it went off, whoever switched it
    off and whoever wants it on. A unit switched on is switched off voluntarily (load shedding,
    deferrable loads, an operator) only once ``min_on_s`` has passed; a safety rule
    (:data:`SAFETY_OFF_BY`: battery protection, an inverter trip) switches it off at once. A
    unit held stays as it is (nothing is written for it), with ``Plan.by`` = :data:`TIMERS_BY`.
    Times are those of ``state.switched_mono``; a unit never switched since the controller
    started is not held, and neither is one whose relay state is unknown.
    """
    loads = {ld.name: ld for ld in site.loads}
    units = dict(plan.units)
    by = dict(plan.by)
    for key, on in plan.units.items():
        load = loads.get(key[0])
        outs = snap.outputs.get(key[0], ())
        current = outs[key[1]] if key[1] < len(outs) else None
        if load is None or current is None or on is bool(current):
            continue
        since = state.switched_mono.get(key)
        if since is None or now - since >= hold_s(load, bool(current)):
            continue
        if not on and plan.by.get(key) in SAFETY_OFF_BY:
            continue
        units[key] = bool(current)
        by[key] = TIMERS_BY
    if units == dict(plan.units):
        return plan
    return replace(plan, units=units, by=by)


def acknowledged(state: State, alarm_key: str) -> State:
    """The state after an operator acknowledged alarm ``alarm_key``: a ``switch_failed`` unit
    is available again at once (the operator fixed or checked it), and checked at its next
    start."""
    kind, _, source = alarm_key.partition(":")
    load, _, unit = source.rpartition("/")
    if kind != "switch_failed" or not unit.isdigit():
        return state
    return state.evolve(failed_units={u: t for u, t in state.failed_units.items()
                                      if u != (load, int(unit))})
