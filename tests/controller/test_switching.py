"""Switching verified (pure functions, virtual time): a motor switched on must show in the
load within its window, or the unit fails, is left off, and is tried again an hour later."""

from __future__ import annotations

from controller import strategies as S
from controller import switching
from controller.model import Plan, State, Switch
from tests.controller.test_strategies import SITE, all_outputs, snap

UNIT = ("aerators", 2)


def started(state: State, load_w: float, now: float) -> State:
    """Unit 2 written on at ``now`` with the load at ``load_w``."""
    s = snap(load_w=load_w, outputs=all_outputs(True, aerators=2), now=now)
    return switching.switched(state, Plan(units={UNIT: True}), s, SITE, now)


def test_a_start_seen_in_the_load_passes() -> None:
    state = started(State(), 3000.0, 0.0)
    assert state.switch_checks[0].step_w == 1500.0
    state, conds = switching.check(state, snap(load_w=3900.0, now=5.0,
                                               outputs=all_outputs(True, aerators=3)),
                                   SITE, 5.0)
    assert state.switch_checks == () and dict(state.failed_units) == {} and conds == []


def test_a_start_not_seen_fails_after_its_window_and_is_retried_an_hour_later() -> None:
    window = switching.verify_window_s(SITE)
    state = started(State(), 3000.0, 0.0)
    on = all_outputs(True, aerators=3)  # the coil reads back on: only the load tells
    t = 5.0
    while t < window:
        state, conds = switching.check(state, snap(load_w=3100.0, now=t, outputs=on), SITE, t)
        assert conds == [] and state.switch_checks, t
        t += 5.0
    state, conds = switching.check(state, snap(load_w=3100.0, now=t, outputs=on), SITE, t)
    assert dict(state.failed_units) == {UNIT: t}
    assert [(c.kind, c.source, c.active) for c in conds] == [
        ("switch_failed", "aerators/2", True)]
    later = t + switching.RETRY_AFTER_S
    state, conds = switching.check(state, snap(now=later), SITE, later)
    assert dict(state.failed_units) == {}
    assert [(c.source, c.active) for c in conds] == [("aerators/2", False)]


def test_no_load_check_when_a_motor_stopped_in_the_same_cycle() -> None:
    s = snap(load_w=3000.0, outputs=all_outputs(True, aerators=2))
    plan = Plan(units={UNIT: True, ("aerators", 0): False})
    assert switching.expect(plan, s, SITE, 0.0) == ()


def test_aeration_leaves_a_failed_unit_off_and_runs_the_next() -> None:
    state = State(failed_units={("aerators", 0): 0.0})
    acts = S.aeration(snap(h=12.0, do=5.0, outputs=all_outputs(False)), state, SITE, 1.0)
    on = sorted(a.unit for a in acts if isinstance(a, Switch) and a.on)
    assert on == [1, 2, 3]  # half of six by day, unit 0 skipped


def test_an_acknowledged_switch_failed_makes_the_unit_available_again() -> None:
    state = State(failed_units={UNIT: 0.0, ("aerators", 4): 0.0})
    after = switching.acknowledged(state, "switch_failed:aerators/2")
    assert dict(after.failed_units) == {("aerators", 4): 0.0}
    assert switching.acknowledged(state, "low_do:pond") is state
