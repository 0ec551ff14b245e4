"""Strategies: table-driven (input snapshot → expected actions), stepping virtual time."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller import strategies as S
from controller.devices.values import Quality, Reading
from controller.model import (
    AerationMemory,
    Condition,
    DeferrableMemory,
    GeneratorMemory,
    Plan,
    ProtectionMemory,
    PumpDay,
    RunGenerator,
    SheddingMemory,
    Snapshot,
    State,
    Switch,
)
from sitefile import Site, load_site, parse_site
from tests.conftest import SHRIMP

TS = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
SITE = load_site(SHRIMP)
N_AER = 6


def edited(edit: Callable[[dict[str, Any]], Any]) -> Site:
    """The shrimp site with ``edit`` applied to its data, validated again (sites are frozen)."""
    data = SITE.model_dump()
    edit(data)
    return parse_site(data, file=SITE.source)


def r(value: Any, quality: Quality = Quality.GOOD) -> Reading:
    return Reading(value if quality in (Quality.GOOD, Quality.STALE) else None, TS, quality)


UNKNOWN = r(None, Quality.MISSING)


def snap(*, h: float = 12.0, soc: float | None = 70.0, do: float | None = 5.0,
         outputs: Mapping[str, tuple[bool | None, ...]] | None = None, now: float = 0.0,
         load_w: float | None = 3000.0, pv_w: float | None = 0.0, volts: float | None = 52.0,
         temp: float | None = 30.0, gen_running: bool | None = False,
         clearsky: tuple[float, ...] = (), day: str = "2026-03-01",
         fuel: float | None = None) -> Snapshot:
    def opt(v: Any) -> Reading:
        return UNKNOWN if v is None else r(v)

    return Snapshot(
        mono_s=now, wall_ts=TS.timestamp() + now, local_h=h, local_day=day,
        soc_pct=opt(soc), battery_v=opt(volts), battery_w=UNKNOWN, battery_temp_c=opt(temp),
        pv_w=opt(pv_w), wind_w=UNKNOWN, load_w=opt(load_w), do_mg_l=opt(do),
        water_temp_c=UNKNOWN,
        inverter_fault=r(False), generator_running=opt(gen_running), fuel_pct=opt(fuel),
        outputs=outputs if outputs is not None else all_outputs(False),
        clearsky_w=clearsky)


def all_outputs(on: bool, aerators: int | None = None) -> dict[str, tuple[bool | None, ...]]:
    n_on = N_AER if aerators is None else aerators
    return {"aerators": tuple(u < n_on for u in range(N_AER)) if on or aerators else
            (False,) * N_AER,
            "farmhouse": (on,), "exchange-pump": (on,)}


def offs(actions: list[Any]) -> set[str]:
    return {a.load for a in actions if isinstance(a, Switch) and not a.on}


def on_units(actions: list[Any], load: str) -> set[int]:
    return {a.unit for a in actions if isinstance(a, Switch) and a.load == load and a.on}


def remembered(actions: list[Any], state: State | None = None) -> State:
    """``state`` (a fresh one by default) with the memories the actions remember."""
    return (state or State()).remember(a.memory for a in actions if isinstance(a, S.Remember))


# --------------------------------------------------------------------------- 1. protection


@pytest.mark.parametrize(
    ("soc", "volts", "h", "prev", "expect_off"),
    [
        (70, 52, 12, {}, set()),
        (9, 52, 12, {}, {"aerators", "farmhouse", "exchange-pump"}),  # below min 10 %, day
        (9, 52, 22, {}, {"farmhouse", "exchange-pump"}),  # night: aerators keep running
        (12, 52, 12, {"low_soc": True}, {"aerators", "farmhouse", "exchange-pump"}),
        (16, 52, 12, {"low_soc": True}, set()),  # above min + 5 % hysteresis
        (4, 52, 22, {}, {"aerators", "farmhouse", "exchange-pump"}),  # hard floor, night
        (8, 52, 22, {"floor": True}, {"aerators", "farmhouse", "exchange-pump"}),
        (None, None, 12, {}, {"farmhouse", "exchange-pump"}),  # unknown: non-critical off
        (None, 52, 12, {}, set()),
    ],
)
def test_battery_protection(soc: float | None, volts: float | None, h: float,
                            prev: dict[str, Any], expect_off: set[str]) -> None:
    acts = S.battery_protection(snap(soc=soc, volts=volts, h=h),
                                State(protection=ProtectionMemory(**prev)), SITE, 0.0)
    assert offs(acts) == expect_off
    assert all(a.hard for a in acts if isinstance(a, Switch))


def test_battery_over_temperature_with_hysteresis() -> None:
    site = SITE.model_copy(update={"control": SITE.control.model_copy(
        update={"max_battery_temp_c": 45})})
    hot = S.battery_protection(snap(temp=47), State(), site, 0)
    assert offs(hot) == {"farmhouse", "exchange-pump"}
    state = remembered(hot)
    assert offs(S.battery_protection(snap(temp=42), state, site, 5)) == offs(hot)
    assert offs(S.battery_protection(snap(temp=39), state, site, 10)) == set()


def test_low_voltage_sheds_non_critical() -> None:
    site = SITE.model_copy(update={"control": SITE.control.model_copy(
        update={"low_battery_v": 46.0, "reconnect_battery_v": 50.0})})
    low = S.battery_protection(snap(volts=45.5), State(), site, 0)
    assert offs(low) == {"farmhouse", "exchange-pump"}
    mid = S.battery_protection(snap(volts=48.0), remembered(low), site, 5)
    assert offs(mid) == {"farmhouse", "exchange-pump"}
    assert offs(S.battery_protection(snap(volts=50.5), remembered(low), site, 9)) \
        == set()


# --------------------------------------------------------------------------- 2. aeration


@pytest.mark.parametrize(
    ("h", "do", "prev_demand", "expect_on"),
    [
        (12, 5.0, False, 3),  # day: half of six
        (12, 3.5, False, 6),  # DO below 4: all
        (12, 5.0, True, 6),  # inside the band, demand latched
        (12, 6.5, True, 3),  # above 6: back to the day minimum
        (22, 7.0, False, 6),  # night: all, whatever the DO
        (22, None, False, 6),  # night, DO unknown: fail safe
        (12, None, False, 3),  # day, DO unknown: the day minimum
    ],
)
def test_aeration_table(h: float, do: float | None, prev_demand: bool, expect_on: int) -> None:
    state = State(aeration=AerationMemory({"aerators": prev_demand}))
    acts = S.aeration(snap(h=h, do=do), state, SITE, 10_000.0)
    assert len(on_units(acts, "aerators")) == expect_on
    assert all(a.hard == a.on for a in acts if isinstance(a, Switch))


def test_aeration_stale_do_is_unknown() -> None:
    s = replace(snap(h=23), do_mg_l=r(7.0, Quality.STALE))
    assert len(on_units(S.aeration(s, State(), SITE, 0), "aerators")) == 6


def test_aeration_min_on_and_min_off_times() -> None:
    c = SITE.control  # min on 900 s, min off 600 s
    # Unit 3 was switched on at t=0 (DO demand); at t=300 DO recovers: it must stay on.
    outs = {"aerators": (True, True, True, True, False, False)}
    switched = {("aerators", 3): 0.0}
    st_ = State(aeration=AerationMemory({"aerators": True}), switched_mono=switched)
    acts = S.aeration(snap(do=6.5, outputs=outs), st_, SITE, 300.0)
    assert on_units(acts, "aerators") == {0, 1, 2, 3}
    acts = S.aeration(snap(do=6.5, outputs=outs), st_, SITE, c.aerator_min_on_s + 1)
    assert on_units(acts, "aerators") == {0, 1, 2}
    # Units 4 and 5 were switched off 100 s ago: DO demand cannot start them before 600 s.
    outs = {"aerators": (True, True, True, False, False, False)}
    switched = {("aerators", u): 0.0 for u in (3, 4, 5)}
    st_ = State(switched_mono=switched)
    assert on_units(S.aeration(snap(do=3.0, outputs=outs), st_, SITE, 100.0), "aerators") \
        == {0, 1, 2}
    assert on_units(S.aeration(snap(do=3.0, outputs=outs), st_, SITE, 601.0), "aerators") \
        == set(range(6))


def test_low_do_condition() -> None:
    acts = S.aeration(snap(do=2.5), State(), SITE, 0)
    assert Condition("low_do", "pond", True, "DO 2.50 mg/L below 3") in acts


# --------------------------------------------------------------------------- 3. motor starts


def run_cycles(site: Site, snaps: list[Snapshot], state: State | None = None,
               outputs: dict[str, tuple[bool | None, ...]] | None = None,
               step_s: float = 5.0) -> tuple[list[Plan], State]:
    """Drive decide_all cycle by cycle, applying each plan to the relay outputs."""
    state = state or State()
    outs = dict(outputs or all_outputs(False))
    plans = []
    for i, given_snap in enumerate(snaps):
        now = i * step_s
        s = replace(given_snap, outputs=dict(outs), mono_s=now)
        plan, failed = S.decide_all(s, state, site, now)
        assert failed == {}
        state = S.next_state(state, plan, s, site, now)
        for (load, unit), on in plan.units.items():
            cur = list(outs[load])
            cur[unit] = on
            outs[load] = tuple(cur)
        plans.append(plan)
    return plans, state


def test_four_aerators_start_one_per_cycle_within_surge() -> None:
    aerators = SITE.loads[0]
    assert aerators.switch is not None
    four = aerators.model_copy(update={
        "units": 4, "switch": aerators.switch.model_copy(update={"channels": [0, 1, 2, 3]})})
    site = SITE.model_copy(update={"loads": [four, *SITE.loads[1:]]})
    night = [snap(h=20, load_w=1000.0) for _ in range(6)]
    plans, _ = run_cycles(site, night, outputs={"aerators": (False,) * 4, "farmhouse": (True,),
                                                "exchange-pump": (False,)})
    started = [sum(p.units[("aerators", u)] for u in range(4)) for p in plans]
    assert started == [1, 2, 3, 4, 4, 4]
    assert len(plans[0].deferred) == 3


def test_motor_start_waits_for_surge_headroom() -> None:
    # 30 kW surge: running 20 kW leaves 10 kW < one aerator's 10.5 kW start surge.
    plans, _ = run_cycles(SITE, [snap(h=20, load_w=20_000.0)] * 3)
    assert not any(p.units["aerators", u] for p in plans for u in range(6))
    plans, _ = run_cycles(SITE, [snap(h=20, load_w=19_000.0)])
    assert sum(plans[0].units["aerators", u] for u in range(6)) == 1


def test_unknown_load_uses_nominal_running_power() -> None:
    acts = S.motor_starts(snap(load_w=None, outputs=all_outputs(True)), State(), SITE, 0)
    assert acts[0].surge_kw == pytest.approx(30 - 6 * 1.5 - 3.0)


# --------------------------------------------------------------------------- 4. generator


def gen_run(site: Site, socs: list[float], step_s: float = 60.0, h: float = 12.0,
            running: bool | None = None) -> list[bool]:
    state = State()
    out = []
    for i, soc in enumerate(socs):
        now = i * step_s
        s = snap(soc=soc, h=h, now=now, gen_running=state.generator.on if running is None
                 else running)
        acts = S.generator(s, state, site, now)
        state = S.next_state(state, S.merge([("generator", acts)])[0], s, site, now)
        out.append(next(a.run for a in acts if isinstance(a, RunGenerator)))
    return out


def test_generator_start_delay_min_run_and_stop_delay() -> None:
    # Start below gen_start_soc_pct after gen_start_delay_s; stop at or above gen_stop_soc_pct
    # after gen_stop_delay_s and generator.min_run_min; one step per minute.
    c, gen = SITE.control, SITE.generator
    assert gen is not None
    start, stop = c.gen_start_soc_pct, c.gen_stop_soc_pct
    delay_steps = math.ceil(c.gen_start_delay_s / 60)
    assert delay_steps >= 1  # otherwise there is no delay to wait through
    low, between, high = start - 1, (start + stop) / 2, min(100.0, stop + 5)
    socs = ([start + 5] + [low] * (delay_steps + 1) + [between] * 2
            + [high] * (math.ceil(gen.min_run_min) + math.ceil(c.gen_stop_delay_s / 60) + 10))
    runs = gen_run(SITE, socs)
    first_on = 1 + delay_steps  # below the threshold since step 1
    assert runs[:first_on] == [False] * first_on  # below for less than the delay: waiting
    assert runs[first_on] is True  # gen_start_delay_s below the threshold
    assert all(runs[first_on:first_on + 3])  # between the thresholds it keeps running
    last_on = max(i for i, v in enumerate(runs) if v)
    assert last_on - first_on + 1 >= gen.min_run_min  # minimum run time, one step a minute
    assert runs[-1] is False


def test_generator_brief_dip_does_not_start() -> None:
    start = SITE.control.gen_start_soc_pct
    dip, back = start - 1, start + 5
    assert not any(gen_run(SITE, [dip, back, dip, back, dip, back]))


def test_generator_quiet_hours_use_own_thresholds() -> None:
    # 23:00 is quiet: start only below the quiet hours' own gen_start_soc_pct.
    c = SITE.control
    qh = c.quiet_hours
    assert qh is not None and qh.gen_start_soc_pct < c.gen_start_soc_pct
    w = qh.window
    assert S.in_window(23, w.start_h, w.end_h) and not S.in_window(12, w.start_h, w.end_h)
    between = (qh.gen_start_soc_pct + c.gen_start_soc_pct) / 2
    assert any(gen_run(SITE, [between] * 5, h=12))  # by day this SOC starts it
    assert not any(gen_run(SITE, [between] * 5, h=23))
    assert any(gen_run(SITE, [qh.gen_start_soc_pct - 1] * 5, h=23))


@pytest.mark.parametrize(("policy", "expect"), [("start", True), ("stop", False),
                                                ("keep", False)])
def test_generator_comm_loss_policy(policy: str, expect: bool) -> None:
    site = SITE.model_copy(update={"control": SITE.control.model_copy(
        update={"gen_on_comm_loss": policy})})
    acts = S.generator(snap(soc=None), State(), site, 0)
    assert next(a.run for a in acts if isinstance(a, RunGenerator)) is expect


def test_generator_started_for_comm_loss_follows_the_level_again() -> None:
    """SOC lost for 90 s starts the generator (policy "start"); SOC back at 77 %: above the
    start threshold (45 %), so it stops at once, without its 60 min minimum run. Had it had a
    reason to run (SOC 30 %), it keeps running for its minimum run."""
    site = SITE.model_copy(update={"control": SITE.control.model_copy(
        update={"gen_on_comm_loss": "start"})})
    for back, runs in ((77.0, [True, True, False, False]), (30.0, [True, True, True, True])):
        state = State()
        out = []
        for i, soc in enumerate([None, None, back, back]):
            now = 45.0 * i
            s = snap(soc=soc, now=now, gen_running=state.generator.on)
            acts = S.generator(s, state, site, now)
            state = S.next_state(state, S.merge([("generator", acts)])[0], s, site, now)
            out.append(next(a.run for a in acts if isinstance(a, RunGenerator)))
        assert out == runs, back
    # Running for a real reason when the SOC goes missing: keeps its minimum run after.
    state = State(generator=GeneratorMemory(on=True, on_since_mono=0.0))
    for i, soc in enumerate([None, 77.0]):
        acts = S.generator(snap(soc=soc, now=60.0 * i), state, site, 60.0 * i)
        state = S.next_state(state, S.merge([("generator", acts)])[0], snap(soc=soc), site,
                             60.0 * i)
    assert state.generator.on


@pytest.mark.parametrize(("fuel", "low"), [(14.0, True), (15.0, False), (80.0, False),
                                           (None, False)])
def test_low_fuel_alarm_from_the_site_file_threshold(fuel: float | None, low: bool) -> None:
    assert SITE.generator is not None and SITE.generator.low_fuel_pct == 15
    acts = S.generator(snap(fuel=fuel), State(), SITE, 0.0)
    assert next(a.active for a in acts if isinstance(a, Condition)
                and a.kind == "low_fuel") is low


def test_generator_failed_to_start_condition() -> None:
    state = State(generator=GeneratorMemory(on=True, on_since_mono=0.0))
    early = S.generator(snap(soc=20, gen_running=False), state, SITE, 60.0)
    late = S.generator(snap(soc=20, gen_running=False), state, SITE, 121.0)
    fine = S.generator(snap(soc=20, gen_running=True), state, SITE, 121.0)

    def failed(acts: list[Any]) -> bool:
        return next(a.active for a in acts if isinstance(a, Condition)
                    and a.kind == "generator_failed_to_start")

    assert (failed(early), failed(late), failed(fine)) == (False, True, False)


def test_generator_operator_mode() -> None:
    acts = S.generator(snap(soc=90), State(gen_mode="start"), SITE, 0)
    assert next(a for a in acts if isinstance(a, RunGenerator)).run is True


# --------------------------------------------------------------------------- 5. shedding


@pytest.mark.parametrize(
    ("soc", "prev", "expect_off"),
    [
        (60, {}, set()),
        (34, {}, {"exchange-pump"}),  # priority 11 goes first at 35 %
        (29, {}, {"exchange-pump", "farmhouse"}),  # priority 10 at 30 %
        (45, {"exchange-pump": True}, {"exchange-pump"}),  # reconnect above 50 %
        (51, {"exchange-pump": True}, set()),
        (None, {"farmhouse": True}, {"farmhouse"}),  # unknown SOC holds
    ],
)
def test_load_shedding(soc: float | None, prev: dict[str, Any], expect_off: set[str]) -> None:
    acts = S.load_shedding(snap(soc=soc), State(shedding=SheddingMemory(prev)), SITE, 0)
    assert offs(acts) == expect_off


def test_low_battery_sheds_non_critical_first_and_aerators_last() -> None:
    order: list[tuple[float, set[str]]] = []
    state = State()
    for soc in (40, 34, 29, 9, 4):
        s = snap(soc=soc, h=22, outputs=all_outputs(True))
        plan, _ = S.decide_all(s, state, SITE, 0)
        state = S.next_state(state, plan, s, SITE, 0)
        off = {load for (load, u), on in plan.units.items()
               if not on and plan.by[load, u] in ("battery_protection", "load_shedding")}
        order.append((soc, off))
    assert order == [(40, set()), (34, {"exchange-pump"}),
                     (29, {"exchange-pump", "farmhouse"}),
                     (9, {"exchange-pump", "farmhouse"}),
                     (4, {"exchange-pump", "farmhouse", "aerators"})]


# --------------------------------------------------------------------------- 6. deferrable


def bell(peak_w: float) -> tuple[float, ...]:
    """A clear-sky day: 06:00–18:00 half-sine, quarter-hourly."""
    return tuple(max(0.0, peak_w * math.sin(math.pi * (q / 4 - 6) / 12)) for q in range(96))


@pytest.mark.parametrize(
    ("h", "pv_w", "load_w", "kwh", "clear_peak", "on"),
    [
        (8.0, 20_000, 3000, 0, 50_000, False),  # before the 9–16 window
        (10.0, 20_000, 3000, 0, 50_000, True),  # surplus 17 kW ≥ 3 kW
        (10.0, 4000, 3000, 0, 50_000, False),  # no surplus, forecast ample
        (10.0, 4000, 3000, 0, 3000, True),  # forecast too small: run now
        (15.2, 4000, 3000, 6.2, 50_000, True),  # 2.8 kWh left, 0.8 h × 3 kW: deadline
        (12.0, 20_000, 3000, 9.0, 50_000, False),  # daily energy met
    ],
)
def test_deferrable_table(h: float, pv_w: float, load_w: float, kwh: float, clear_peak: float,
                          on: bool) -> None:
    state = State(deferrable=DeferrableMemory({"exchange-pump": PumpDay("2026-03-01", kwh, 0.0)}))
    s = snap(h=h, pv_w=pv_w, load_w=load_w, clearsky=bell(clear_peak))
    acts = S.deferrable(s, state, SITE, 0.0)
    assert bool(on_units(acts, "exchange-pump")) is on


def test_deferrable_counts_energy_and_resets_daily() -> None:
    state = State(deferrable=DeferrableMemory({"exchange-pump": PumpDay("2026-03-01", 1.0, 0.0)}))
    on = all_outputs(True)
    acts = S.deferrable(snap(h=10, outputs=on, pv_w=20_000), state, SITE, 1200.0)
    # +3 kW × 20 min
    assert remembered(acts).deferrable.pumps["exchange-pump"].kwh == pytest.approx(2.0)
    acts = S.deferrable(snap(h=10, day="2026-03-02", outputs=on, pv_w=20_000), state, SITE,
                        1200.0)
    assert remembered(acts).deferrable.pumps["exchange-pump"].kwh == pytest.approx(1.0)


# --------------------------------------------------------------------------- 7. overrides


def test_overrides_beat_shedding_but_not_protection_or_aeration() -> None:
    overrides = {"exchange-pump": (True, 100.0), "aerators": (False, 100.0)}
    state = State(overrides=overrides)
    plan, _ = S.decide_all(snap(soc=30, h=22, outputs=all_outputs(True)), state, SITE, 0)
    assert plan.units[("exchange-pump", 0)] is True  # shedding overridden
    assert plan.by[("exchange-pump", 0)] == "overrides"
    assert all(plan.units[("aerators", u)] for u in range(6))  # aeration holds at night
    plan, _ = S.decide_all(snap(soc=9, outputs=all_outputs(True)), state, SITE, 0)
    assert plan.units[("exchange-pump", 0)] is False  # protection holds
    plan, _ = S.decide_all(snap(soc=30, outputs=all_outputs(True)), state, SITE, 101.0)
    assert plan.units[("exchange-pump", 0)] is False  # expired


def test_failing_strategy_is_recorded_and_others_run() -> None:
    def broken(*_: Any) -> list[Any]:
        raise ZeroDivisionError("boom")

    strategies = tuple((n, broken if n == "generator" else f) for n, f in S.STRATEGIES)
    plan, failed = S.decide_all(snap(h=22), State(), SITE, 0, strategies)
    assert failed == {"generator": "ZeroDivisionError: boom"}
    assert plan.generator is None
    assert sum(plan.units[("aerators", u)] for u in range(6)) == 1  # one start per cycle


@settings(max_examples=200, deadline=None)
@given(soc=st.one_of(st.none(), st.floats(0, 100)), do=st.one_of(st.none(), st.floats(0, 15)),
       h=st.floats(0, 23.99), load_w=st.floats(0, 40_000))
def test_invariants(soc: float | None, do: float | None, h: float, load_w: float) -> None:
    """Whatever the input: at night with SOC above the hard floor no aerator is switched off,
    at most one motor starts per cycle, and below min SOC by day nothing is switched on."""
    s = snap(soc=soc, do=do, h=h, load_w=load_w, outputs=all_outputs(False, aerators=2))
    plan, failed = S.decide_all(s, State(), SITE, 0.0)
    assert failed == {}
    starts = [k for k, on in plan.units.items()
              if on and not S._output(s, k) and k[0] != "farmhouse"]
    assert len(starts) <= 1  # motor starts: aerators and the pump
    night = S.is_night(s, SITE)
    if night and (soc is None or soc > SITE.control.hard_floor_soc_pct):
        assert all(plan.units[("aerators", u)] for u in (0, 1))
    if soc is not None and soc < SITE.battery.min_soc_pct and not night:
        assert not any(plan.units.values())


def tripped(s: Snapshot) -> Snapshot:
    return replace(s, inverter_fault=r(True))


@pytest.mark.parametrize(
    ("outputs_on", "since", "resets", "expect_reset"),
    [
        (True, 0.0, [], False),  # relays still closed: open them first
        (False, 995.0, [], False),  # open, but the 10 s delay has not passed
        (False, 0.0, [], True),
        (False, 0.0, [10.0, 20.0, 30.0], False),  # three resets within the hour: give up
        (False, 0.0, [-5000.0, 20.0, 30.0], True),  # one of them is older than an hour
    ],
)
def test_trip_recovery(outputs_on: bool, since: float, resets: list[float],
                       expect_reset: bool) -> None:
    state = State(protection=ProtectionMemory(trip_since_mono=since,
                                              trip_resets_mono=tuple(resets)))
    s = tripped(snap(h=22, outputs=all_outputs(outputs_on)))
    acts = S.battery_protection(s, state, SITE, 1000.0)
    assert offs(acts) == {"aerators", "exchange-pump"}  # the farmhouse is no motor
    assert any(isinstance(a, S.ResetInverter) for a in acts) is expect_reset
    plan, _ = S.decide_all(s, state, SITE, 1000.0)
    assert not any(on for (load, _), on in plan.units.items() if load == "aerators")
    assert plan.reset_inverter is expect_reset
