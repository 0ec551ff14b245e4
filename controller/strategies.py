"""The control strategies: pure functions ``decide(snapshot, state, site, now) -> actions``.

``now`` is monotonic seconds. Strategies run in the fixed priority order of :data:`STRATEGIES`
and their actions are merged by :func:`merge`:

1. battery protection, 2. aeration, 3. motor starts, 4. generator, 5. load shedding,
6. deferrable loads, 7. the water pump (:mod:`controller.pumping`), 8. operator overrides.

Merge rule for each load unit: the first *hard* claim in priority order wins (strategies 1 and
2 claim hard: protection's disconnects, aeration's aerators that must run); otherwise an
operator override; otherwise the first soft claim. So overrides beat 4–6 but never 1 and 2.
Motor starts (3) do not switch anything: they grant a :class:`StartBudget`, and
:func:`admit_starts` lets at most one motor start per cycle, spaced by
``control.motor_start_spacing_s`` and only when its surge plus the running load fits within
the inverter's surge rating. The water pump's drive command (:class:`RunPump`) is the first
one given in priority order: battery protection and load shedding stop it before the pumping
strategy is heard. Before that, each load's switching timers (``min_on_s``,
``min_off_s``, a compressor's ``restart_delay_s``) hold units that switched too recently
(:func:`controller.switching.hold_timers`); battery protection's switch-offs are never held.

Safe states when a value is unknown (stale, frozen, invalid or missing):
SOC and battery voltage unknown → non-critical loads off; DO unknown → all aerators on at night;
SOC unknown → generator per ``control.gen_on_comm_loss``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import time
from typing import Any

from controller.model import (
    Action,
    AerationMemory,
    Condition,
    DeferrableMemory,
    GeneratorMemory,
    GeneratorSetMemory,
    Memory,
    Plan,
    ProtectionMemory,
    PumpDay,
    PumpingMemory,
    Remember,
    ResetInverter,
    RunGenerator,
    RunPump,
    SheddingMemory,
    Snapshot,
    StartBudget,
    State,
    Switch,
    UnitMemory,
    in_window,
    motor_surge_kw,
    unit_kw,
)
from controller.pumping import pumping, stopped_by
from controller.switching import hold_timers
from sitefile import AeratorLoad, PumpLoad, Site, WaterPumpLoad

Decide = Callable[[Snapshot, State, Site, float], list[Action]]
QUARTER_H = 0.25


# --------------------------------------------------------------------------- helpers


def _hours(t: time) -> float:
    return t.hour + t.minute / 60 + t.second / 3600


def is_night(snap: Snapshot, site: Site) -> bool:
    """True between ``control.night_start`` and ``control.night_end`` (local time)."""
    c = site.control
    return in_window(snap.local_h, _hours(c.night_start), _hours(c.night_end))


def latch(prev: bool, x: float | None, *, on_below: float, off_above: float) -> bool:
    """A hysteresis latch: set below ``on_below``, reset above ``off_above``; unknown x holds."""
    if x is None:
        return prev
    if x < on_below:
        return True
    if x > off_above:
        return False
    return prev


def _n_units(load: Any) -> int:
    """Units (relay channels) of a load; 0 when it has no switch."""
    return len(load.switch.channels) if load.switch is not None else 0


def _switch_all(site: Site, load: str, on: bool, hard: bool) -> list[Action]:
    n = next(_n_units(ld) for ld in site.loads if ld.name == load)
    return [Switch(load, u, on, hard) for u in range(n)]


def _controllable(site: Site) -> list[Any]:
    """Loads with a ``switch`` (typed Any: every caller reads ``switch.channels``)."""
    return [ld for ld in site.loads if ld.switch is not None]


# --------------------------------------------------------------------------- 1. protection


def battery_protection(snap: Snapshot, state: State, site: Site, now: float) -> list[Action]:
    """Disconnect loads on low SOC, low voltage or over-temperature, with hysteresis.

    Below ``battery.min_soc_pct`` every load is off except the aerators at night; below
    ``control.hard_floor_soc_pct`` the aerators too. Low voltage, over-temperature or an
    unknown battery state disconnect the non-critical loads. An inverter trip opens every
    motor's relay, then resets the inverter (see :func:`_trip_recovery`). A site without a
    battery has no battery state to know: only a trip acts there. The water pump's
    drive is stopped on the same rules as a load's relays, and on an inverter trip.
    """
    c = site.control
    soc = snap.value("soc_pct")
    volts = snap.value("battery_v")
    temp = snap.value("battery_temp_c")
    hyst = c.protect_hysteresis_pct
    min_soc = site.battery.min_soc_pct if site.battery else 0.0
    mem = state.protection
    low = latch(mem.low_soc, soc, on_below=min_soc,
                off_above=min_soc + hyst)
    floor = latch(mem.floor, soc, on_below=c.hard_floor_soc_pct,
                  off_above=c.hard_floor_soc_pct + hyst)
    low_v = False
    if c.low_battery_v is not None:
        reconnect = c.reconnect_battery_v or c.low_battery_v
        low_v = latch(mem.low_v, volts, on_below=c.low_battery_v,
                      off_above=reconnect)
    max_temp = c.max_battery_temp_c or (site.battery.max_temp_c if site.battery else None)
    hot = False
    if max_temp is not None:
        hot = not latch(not mem.hot, temp, on_below=max_temp - 5,
                        off_above=max_temp)
    unknown = site.battery is not None and soc is None and volts is None  # none: nothing to know
    actions, since, resets = _trip_recovery(snap, mem, site, now)
    actions += [
        Remember(ProtectionMemory(low, floor, low_v, hot, since, resets)),
        Condition("low_soc", "battery", low, f"SOC below {min_soc:g} %"),
    ]
    night = is_night(snap, site)
    for load in _controllable(site):
        aerator = isinstance(load, AeratorLoad)
        below_min = low and not (aerator and night)
        if floor or below_min or ((low_v or hot or unknown) and not load.critical):
            actions += _switch_all(site, load.name, False, hard=True)
    tripped = snap.inverter_fault.ok and snap.inverter_fault.value is True
    battery = site.battery is not None  # without one, only a trip stops the pump's drive
    for wp in site.water_pumps:
        why = ("inverter tripped" if tripped else "" if not battery else
               "battery below its hard floor" if floor else
               f"SOC below {min_soc:g} %" if low else
               "battery voltage low, hot or unknown" if (low_v or hot or unknown)
               and not wp.critical else "")
        if why:
            actions.append(RunPump(False, 0.0, f"battery protection: {why}"))
    return actions


def _trip_recovery(snap: Snapshot, mem: ProtectionMemory, site: Site, now: float
                   ) -> tuple[list[Action], float | None, tuple[float, ...]]:
    """After an inverter trip, open every motor relay (so that motors restart one by one), and
    once they are open and ``inverter_reset_delay_s`` has passed, reset the inverter, at most
    ``inverter_max_resets_per_h`` times an hour. Also returns the trip's start and the resets
    of the last hour [s, monotonic]."""
    c = site.control
    fault = snap.inverter_fault
    tripped = fault.ok and fault.value is True
    since = mem.trip_since_mono if tripped else None
    if tripped and since is None:
        since = now
    resets = [t for t in mem.trip_resets_mono if now - t < 3600.0]
    actions: list[Action] = []
    if tripped:
        motors = [ld for ld in _controllable(site) if isinstance(ld, AeratorLoad | PumpLoad)]
        for load in motors:
            actions += _switch_all(site, load.name, False, hard=True)
        assert since is not None
        all_open = not any(_output(snap, (ld.name, u)) for ld in motors
                           for u in range(_n_units(ld)))
        if (all_open and now - since >= c.inverter_reset_delay_s
                and len(resets) < c.inverter_max_resets_per_h):
            actions.append(ResetInverter("motor relays open"))
            resets.append(now)
    return actions, since, tuple(resets)


# --------------------------------------------------------------------------- 2. aeration


def aeration(snap: Snapshot, state: State, site: Site, now: float) -> list[Action]:
    """Aerators: the day or night minimum always runs; a DO band adds the rest.

    DO below ``do_on_mg_l`` latches every unit on until DO rises above ``do_off_mg_l``. Units
    above the minimum respect ``aerator_min_on_s`` and ``aerator_min_off_s``. With DO unknown
    every unit runs at night. A unit whose start was not seen in the load
    (``state.failed_units``) is left off, and the next one takes its place.
    """
    c = site.control
    do = snap.value("do_mg_l")
    night = is_night(snap, site)
    actions: list[Action] = []
    demands: dict[str, bool] = {}
    if do is not None:
        actions.append(Condition("low_do", "pond", do < c.do_low_alarm_mg_l,
                                 f"DO {do:.2f} mg/L below {c.do_low_alarm_mg_l:g}"))
    for load in _controllable(site):
        if not isinstance(load, AeratorLoad):
            continue
        n = _n_units(load)
        frac = load.night_fraction if night else load.day_fraction
        base = min(n, math.ceil(frac * n - 1e-9))
        demand = latch(state.aeration.demand.get(load.name, False), do, on_below=c.do_on_mg_l,
                       off_above=c.do_off_mg_l)
        demands[load.name] = demand
        if do is None and night:
            base = n
        target = n if demand else base
        outputs = snap.outputs.get(load.name, (None,) * n)
        usable = [u for u in range(n) if (load.name, u) not in state.failed_units]
        on_now = [u for u in usable if outputs[u]]
        order = on_now + [u for u in usable if u not in on_now]
        chosen = set(order[:base])
        for u in order[base:]:
            since = state.switched_mono.get((load.name, u), -math.inf)
            if len(chosen) < target:
                if u in on_now or now - since >= c.aerator_min_off_s:
                    chosen.add(u)
            elif u in on_now and now - since < c.aerator_min_on_s:
                chosen.add(u)
        for u in range(n):
            actions.append(Switch(load.name, u, u in chosen, hard=u in chosen))
    return [*actions, Remember(AerationMemory(demands))]


# --------------------------------------------------------------------------- 3. motor starts


def motor_starts(snap: Snapshot, state: State, site: Site, now: float) -> list[Action]:
    """Grant the surge headroom for one motor start, once ``motor_start_spacing_s`` passed
    and the last start has been seen in the load (or failed: :mod:`controller.switching`).

    Headroom = inverter surge rating − running load (measured, else nominal from the relays).
    """
    if site.inverter is None:
        return [StartBudget(math.inf, True)]
    load_w = snap.value("load_w")
    if load_w is None:
        running_kw = sum(unit_kw(site, name) for name, outs in snap.outputs.items()
                         for on in outs if on)
    else:
        running_kw = load_w / 1000.0
    last = state.last_start_mono
    ready = (last is None or now - last >= site.control.motor_start_spacing_s) and not (
        state.switch_checks)
    return [StartBudget(site.inverter.surge_kw - running_kw, ready)]


def admit_starts(plan: Plan, snap: Snapshot, site: Site, budget: StartBudget) -> Plan:
    """Hold back motor starts beyond the budget: they stay off this cycle (listed deferred)."""
    prio = {ld.name: ld.priority for ld in site.loads}
    starts = sorted(
        (key for key, on in plan.units.items()
         if on and motor_surge_kw(site, key[0]) > 0
         and not _output(snap, key)),
        key=lambda k: (prio.get(k[0], 99), k))
    admitted = False
    deferred = []
    for key in starts:
        if budget.ready and not admitted and motor_surge_kw(site, key[0]) <= budget.surge_kw:
            admitted = True
        else:
            deferred.append(key)
    if not deferred:
        return plan
    units = dict(plan.units)
    for key in deferred:
        units[key] = False
    return replace(plan, units=units, deferred=tuple(deferred))


def _output(snap: Snapshot, key: tuple[str, int]) -> bool:
    outs = snap.outputs.get(key[0], ())
    return key[1] < len(outs) and bool(outs[key[1]])


# --------------------------------------------------------------------------- 4. generator




def generator(snap: Snapshot, state: State, site: Site, now: float) -> list[Action]:
    """The generator (:func:`generator_set`), and with several units each unit
    (:func:`generator_units`): unit 1 runs on the set's rules, the others on the load."""
    actions = generator_set(snap, state, site, now)
    if len(site.generators) < 2:
        return actions
    want = next(a for a in actions if isinstance(a, RunGenerator))
    # Each unit raises its own failure to start (the set's would say the same, once).
    return [*(a for a in actions if not (isinstance(a, Condition)
                                         and a.kind == "generator_failed_to_start")),
            *generator_units(snap, state, site, now, want)]


def generator_units(snap: Snapshot, state: State, site: Site, now: float,
                    want: RunGenerator) -> list[Action]:
    """Several generators, started in the order of ``[[generators]]`` and stopped in reverse.

    While the set is wanted (``want``, :func:`generator_set`), the first unit that has not
    failed runs; the next starts when the measured load exceeds
    ``control.gen_next_start_pct`` of the running units' rating for ``gen_start_delay_s``;
    the last started stops when the others would carry the load below ``control.gen_next_stop_pct``
    of their rating for
    ``gen_stop_delay_s`` and its own ``min_run_min`` has passed. With the load unknown the
    running units stay as they are. A unit asked to run that its controller still reports
    stopped after ``gen_start_timeout_s`` has failed: it raises ``generator_failed_to_start``
    (source: the unit's name), is left off, and the next unit takes its place, until the set
    stops (then each unit is tried again at the next start).
    """
    c = site.control
    mem = state.generator_set
    units = site.generators
    m = {u.name: mem.units.get(u.name, UnitMemory()) for u in units}
    reasons: dict[str, str] = {}
    for u in units:
        um = m[u.name]
        if (um.on and um.on_since_mono is not None
                and now - um.on_since_mono >= c.gen_start_timeout_s
                and snap.gen_running.get(u.name) is False):
            m[u.name] = UnitMemory(failed=True)
    up = down = None
    if not want.run:
        on: list[str] = []
        m = {name: UnitMemory() for name in m}
    else:
        usable = [u for u in units if not m[u.name].failed]
        on = [u.name for u in usable if m[u.name].on]
        if not on and usable:
            on = [usable[0].name]
            failed = [u.name for u in units if m[u.name].failed]
            reasons[usable[0].name] = (f"{', '.join(failed)} did not start" if failed
                                       else want.reason)
        kw = {u.name: u.kw for u in units}
        cap_kw = sum(kw[n] for n in on)
        load_w = snap.value("load_w")
        idle = [u.name for u in usable if u.name not in on]
        if load_w is not None and idle and load_w / 1000 > c.gen_next_start_pct / 100 * cap_kw:
            up = mem.up_since_mono if mem.up_since_mono is not None else now
        rest_kw = cap_kw - kw[on[-1]] if on else 0.0
        if (load_w is not None and len(on) >= 2
                and load_w / 1000 < c.gen_next_stop_pct / 100 * rest_kw):
            down = mem.down_since_mono if mem.down_since_mono is not None else now
        if up is not None and now - up >= c.gen_start_delay_s:
            reasons[idle[0]] = (f"load {load_w or 0:.0f} W > {c.gen_next_start_pct:g} % of "
                                f"{cap_kw:g} kW running")
            on.append(idle[0])
            up = None
        elif down is not None and now - down >= c.gen_stop_delay_s:
            last = next(u for u in units if u.name == on[-1])
            since = m[last.name].on_since_mono
            if since is None or now - since >= last.min_run_min * 60:
                reasons[last.name] = (f"load {load_w or 0:.0f} W < {c.gen_next_stop_pct:g} % "
                                      f"of {rest_kw:g} kW without {last.name}")
                on.pop()
                down = None
    new = {u.name: (UnitMemory(True, m[u.name].on_since_mono if m[u.name].on else now)
                    if u.name in on else UnitMemory(failed=m[u.name].failed)) for u in units}
    actions: list[Action] = [Remember(GeneratorSetMemory(new, up, down))]
    for u in units:
        actions.append(RunGenerator(u.name in on, reasons.get(
            u.name, want.reason if u.name in on else ""), unit=u.name))
        actions.append(Condition("generator_failed_to_start", u.name, new[u.name].failed,
                                 f"{u.name} did not start"))
    return actions


def generator_set(snap: Snapshot, state: State, site: Site, now: float) -> list[Action]:
    """Start and stop the generator on SOC, voltage and load, each condition with a timer.

    Start when a condition holds for ``gen_start_delay_s``; stop when SOC has stayed at or
    above the stop threshold for ``gen_stop_delay_s`` and ``generator.min_run_min`` has passed
    since the start command. Quiet hours use their own SOC thresholds. With the SOC unknown,
    ``gen_on_comm_loss`` decides: keep, start or stop. A generator started only because the
    SOC was unknown stops as soon as the SOC is known again and no start condition holds,
    without waiting for its minimum run (it was not started to charge); one that also had a
    reason to run keeps its minimum run. A start not confirmed as running within
    ``gen_start_timeout_s`` raises ``generator_failed_to_start``; fuel below
    ``generator.low_fuel_pct`` raises ``low_fuel``.
    """
    if site.generator is None:
        return []
    c = site.control
    mem = state.generator
    on, since = mem.on, mem.on_since_mono

    fuel = snap.value("fuel_pct")
    low_fuel = site.generator.low_fuel_pct
    fuel_cond = Condition("low_fuel", "generator", fuel is not None and fuel < low_fuel,
                          f"fuel {fuel or 0:.0f} % below {low_fuel:g} %")

    def run(want: bool, reason: str, start_since: float | None = mem.start_cond_since_mono,
            stop_since: float | None = mem.stop_cond_since_mono,
            comm_loss: bool = False) -> list[Action]:
        started = since if (want and on and since is not None) else (now if want else None)
        out: list[Action] = [RunGenerator(want, reason), fuel_cond,
                             Remember(GeneratorMemory(want, started, start_since, stop_since,
                                                      want and comm_loss))]
        running = snap.generator_running
        failed = bool(want and started is not None and now - started >= c.gen_start_timeout_s
                      and running.ok and running.value is False)
        out.append(Condition("generator_failed_to_start", "generator", failed,
                             "generator did not start"))
        return out

    if state.gen_mode != "auto":
        return run(state.gen_mode == "start", f"operator {state.gen_mode}")
    soc = snap.value("soc_pct")
    if soc is None:
        policy = c.gen_on_comm_loss
        want = on if policy == "keep" else policy == "start"
        return run(want, f"SOC unknown: {policy}",
                   comm_loss=want and (mem.comm_loss or not on))
    start_soc, stop_soc = c.gen_start_soc_pct, c.gen_stop_soc_pct
    qh = c.quiet_hours
    if qh is not None and in_window(snap.local_h, qh.window.start_h, qh.window.end_h):
        start_soc, stop_soc = qh.gen_start_soc_pct, qh.gen_stop_soc_pct
    volts, load_w = snap.value("battery_v"), snap.value("load_w")
    reasons = []
    if soc < start_soc:
        reasons.append(f"SOC {soc:.0f} % < {start_soc:g} %")
    if c.low_battery_v is not None and volts is not None and volts < c.low_battery_v:
        reasons.append(f"battery {volts:.1f} V < {c.low_battery_v:g} V")
    if c.gen_start_load_kw is not None and load_w is not None and (
            load_w / 1000 > c.gen_start_load_kw):
        reasons.append(f"load {load_w / 1000:.1f} kW > {c.gen_start_load_kw:g} kW")
    start_since = mem.start_cond_since_mono if reasons else None
    if reasons and start_since is None:
        start_since = now
    stop_ok = soc >= stop_soc and not reasons
    stop_since = mem.stop_cond_since_mono if stop_ok else None
    if stop_ok and stop_since is None:
        stop_since = now
    if not on:
        if start_since is not None and now - start_since >= c.gen_start_delay_s:
            return run(True, "; ".join(reasons), start_since, stop_since)
        return run(False, "", start_since, stop_since)
    if mem.comm_loss and not reasons:
        # Started only because the SOC was unknown: the level rules again at once.
        return run(False, f"SOC known again: {soc:.0f} % ≥ {start_soc:g} %", start_since,
                   stop_since)
    ran_s = now - since if since is not None else math.inf
    if (stop_since is not None and now - stop_since >= c.gen_stop_delay_s
            and ran_s >= site.generator.min_run_min * 60):
        return run(False, f"SOC {soc:.0f} % ≥ {stop_soc:g} %", start_since, stop_since)
    return run(True, "running", start_since, stop_since)


# --------------------------------------------------------------------------- 5. load shedding


def load_shedding(snap: Snapshot, state: State, site: Site, now: float) -> list[Action]:
    """Shed non-critical loads by priority as SOC falls; reconnect with hysteresis.

    The load shed first (largest priority number) goes at ``shed_soc_pct``, the next
    ``shed_step_pct`` lower, and so on (never below ``battery.min_soc_pct``); each reconnects
    ``reconnect_soc_pct − shed_soc_pct`` above its shed threshold. Loads that are neither
    aerators nor pumps are otherwise supplied (switched on). The water pump (its drive) takes
    its place in the order like a switched load, and is stopped when shed.
    """
    del now
    c = site.control
    soc = snap.value("soc_pct")
    floor = site.battery.min_soc_pct if site.battery else 0.0
    band = c.reconnect_soc_pct - c.shed_soc_pct
    controllable = {ld.name for ld in _controllable(site)}
    loads = [ld for ld in site.shedding_order
             if ld.name in controllable or isinstance(ld, WaterPumpLoad)]
    latches = dict(state.shedding.shed)
    actions: list[Action] = []
    for k, load in enumerate(loads):
        at = max(c.shed_soc_pct - k * c.shed_step_pct, floor)
        shed = latch(latches.get(load.name, False), soc, on_below=at, off_above=at + band)
        latches[load.name] = shed
        if shed:
            actions += _switch_all(site, load.name, False, hard=False)
            if isinstance(load, WaterPumpLoad):
                actions.append(RunPump(False, 0.0, f"load shedding: SOC below {at:g} %"))
    for load in _controllable(site):
        if not isinstance(load, AeratorLoad | PumpLoad):
            actions += _switch_all(site, load.name, True, hard=False)
    return [*actions, Remember(SheddingMemory(latches))]


# --------------------------------------------------------------------------- 6. deferrable


def forecast_surplus_kwh(snap: Snapshot, from_h: float, to_h: float, base_w: float,
                         cap_w: float) -> float:
    """Clear-sky PV surplus over a base load from ``from_h`` to ``to_h`` today [kWh]."""
    total = 0.0
    for q, pv_w in enumerate(snap.clearsky_w):
        h = q * QUARTER_H
        if from_h <= h < to_h:
            total += min(max(pv_w - base_w, 0.0), cap_w) * QUARTER_H / 1000.0
    return total


def deferrable(snap: Snapshot, state: State, site: Site, now: float) -> list[Action]:
    """Pumps with a daily energy: run on PV surplus, or when the rest of the window's
    clear-sky surplus (or its remaining time) would no longer deliver the daily energy."""
    actions: list[Action] = []
    pumps = dict(state.deferrable.pumps)
    pv_w, load_w = snap.value("pv_w"), snap.value("load_w")
    for load in _controllable(site):
        if not isinstance(load, PumpLoad):
            continue
        n = _n_units(load)
        on_now = all(_output(snap, (load.name, u)) for u in range(n))
        mem = pumps.get(load.name) or PumpDay(snap.local_day, 0.0, now)
        kwh = mem.kwh if mem.day == snap.local_day else 0.0
        if on_now:
            kwh += load.kw * max(now - mem.t_mono, 0.0) / 3600.0
        pumps[load.name] = PumpDay(snap.local_day, kwh, now)
        remaining = load.daily_kwh - kwh
        w = load.window
        if remaining <= 1e-6 or not in_window(snap.local_h, w.start_h, w.end_h):
            actions += _switch_all(site, load.name, False, hard=False)
            continue
        end_h = w.end_h if w.end_h > snap.local_h else w.end_h + 24
        hours_left = end_h - snap.local_h
        pump_w = load.kw * 1000.0
        base_w = (load_w or 0.0) - (pump_w if on_now else 0.0)
        forecast = forecast_surplus_kwh(snap, snap.local_h, end_h, base_w, pump_w)
        must = remaining >= load.kw * hours_left * 0.95 or forecast < remaining
        surplus = None if pv_w is None else pv_w - base_w
        on_surplus = surplus is not None and surplus >= pump_w * (0.5 if on_now else 1.0)
        actions += _switch_all(site, load.name, must or on_surplus, hard=False)
    return [*actions, Remember(DeferrableMemory(pumps))]


# --------------------------------------------------------------------------- 7. overrides


def overrides(snap: Snapshot, state: State, site: Site, now: float) -> list[Action]:
    """Operator overrides that have not expired."""
    del snap
    names = {ld.name for ld in _controllable(site)}
    actions: list[Action] = []
    for load, (on, expires) in sorted(state.overrides.items()):
        if expires > now and load in names:
            actions += _switch_all(site, load, on, hard=False)
    return actions


STRATEGIES: tuple[tuple[str, Decide], ...] = (
    ("battery_protection", battery_protection),
    ("aeration", aeration),
    ("motor_starts", motor_starts),
    ("generator", generator),
    ("load_shedding", load_shedding),
    ("deferrable", deferrable),
    ("pumping", pumping),
    ("overrides", overrides),
)


# --------------------------------------------------------------------------- merge


def merge(results: Sequence[tuple[str, list[Action]]]) -> tuple[Plan, StartBudget | None]:
    """Merge the strategies' actions (in priority order) into one plan; see module doc."""
    hard: dict[tuple[str, int], tuple[bool, str]] = {}
    forced: dict[tuple[str, int], tuple[bool, str]] = {}
    soft: dict[tuple[str, int], tuple[bool, str]] = {}
    memory: list[Memory] = []
    conditions: list[Condition] = []
    gen: RunGenerator | None = None
    units_gen: dict[str, tuple[bool, str]] = {}
    budget: StartBudget | None = None
    pump: RunPump | None = None
    pump_by = ""
    reset = False
    for name, actions in results:
        for a in actions:
            if isinstance(a, Switch):
                key = (a.load, a.unit)
                table = hard if a.hard else forced if name == "overrides" else soft
                table.setdefault(key, (a.on, name))
            elif isinstance(a, Remember):
                memory.append(a.memory)
            elif isinstance(a, Condition):
                conditions.append(a)
            elif isinstance(a, RunGenerator) and a.unit:
                units_gen.setdefault(a.unit, (a.run, a.reason))
            elif isinstance(a, RunGenerator):
                gen = gen or a
            elif isinstance(a, RunPump):
                if pump is None:
                    pump, pump_by = a, name
            elif isinstance(a, ResetInverter):
                reset = True
            else:
                budget = budget or a
    units: dict[tuple[str, int], bool] = {}
    by: dict[tuple[str, int], str] = {}
    for table in (soft, forced, hard):
        for key, (on, name) in table.items():
            units[key] = on
            by[key] = name
    plan = Plan(units=units, generator=None if gen is None else gen.run,
                generator_reason="" if gen is None else gen.reason, generators=units_gen,
                reset_inverter=reset,
                memory=tuple(memory), conditions=tuple(conditions), by=by,
                pump=pump, pump_by=pump_by)
    return plan, budget


def decide_all(snap: Snapshot, state: State, site: Site, now: float,
               strategies: Sequence[tuple[str, Decide]] = STRATEGIES
               ) -> tuple[Plan, dict[str, str]]:
    """Run every strategy in order, merge, hold units by their loads' switching timers
    (:func:`controller.switching.hold_timers`), and admit motor starts.

    A strategy that raises is skipped and reported in the returned ``{name: error}``.
    """
    results: list[tuple[str, list[Action]]] = []
    failed: dict[str, str] = {}
    for name, decide in strategies:
        try:
            results.append((name, decide(snap, state, site, now)))
        except Exception as e:  # noqa: BLE001 - one failing strategy must not stop the others
            failed[name] = f"{type(e).__name__}: {e}"
    plan, budget = merge(results)
    if plan.pump is not None and plan.pump_by != "pumping":
        plan = replace(plan, memory=tuple(
            stopped_by(m, state.pumping, now) if isinstance(m, PumpingMemory) else m
            for m in plan.memory))
    if budget is None:
        budget = StartBudget(0.0, False) if "motor_starts" in failed else StartBudget(
            math.inf, True)
    return admit_starts(hold_timers(plan, snap, state, site, now), snap, site, budget), failed


def next_state(state: State, plan: Plan, snap: Snapshot, site: Site, now: float) -> State:
    """The state after ``plan`` was applied: memory, switch times, last motor start; expired
    overrides dropped. ``plan.units`` must hold only what was actually written."""
    switched = dict(state.switched_mono)
    last_start = state.last_start_mono
    for key, on in plan.units.items():
        if on != _output(snap, key):
            switched[key] = now
            if on and motor_surge_kw(site, key[0]) > 0:
                last_start = now
    live = {k: v for k, v in state.overrides.items() if v[1] > now}
    return state.remember(plan.memory).evolve(switched_mono=switched,
                                              last_start_mono=last_start, overrides=live)
