"""The water pump: fill the tank on the renewables' surplus, keep its reserve, never run dry.

A pure strategy, ``pumping(snapshot, state, site, now) -> actions`` (:mod:`controller.strategies`
registers it), deciding one :class:`~controller.model.RunPump` for the site's one water pump
(``site.water_pumps``, at most one) and its tank (``site.tank``). Its memory is
:class:`~controller.model.PumpingMemory`. The devices it reads and drives are, each, the first
device of ``[[devices]]`` whose driver gives the nature (:mod:`controller.snapshot`): the
``pump_drive`` (:class:`~controller.devices.natures.PumpDrive`: run/stop and the frequency
setpoint are written to it), the ``tank_level`` transmitter and the ``flow_meter``.

The rules, first match wins, re-evaluated every cycle (level-triggered, never one-shot):

1. **Dry run** (``pump_dry_run``, critical): the drive runs at or above the pump's lowest speed
   and the flow stays below ``control.dry_run_flow_pct`` % of the pump's rated-point flow (its
   best-efficiency point) for ``control.dry_run_s``; without a good flow reading, its output
   power stays below :data:`DRY_POWER_FRACTION` of ``pump.affinity_kw(hz)``. The pump stops and
   stays stopped (latched) until an operator acknowledges the alarm (:func:`acknowledged`).
2. **Level unknown** (the tank level missing, stale, frozen or invalid): stop. The safe state:
   no overflow, no run on an empty well unseen.
3. **High level**: stop at ``tank.max_level_pct``; start again only below it by
   :data:`HIGH_BAND_PCT` points.
4. **Evening fill**: in the ``control.tank_fill_before_night_h`` hours before
   ``control.night_start``, a tank below ``tank.min_level_pct`` is filled to it (and
   :data:`FILL_BAND_PCT` above) at the rated frequency, from any source: on a battery site while
   the SOC is above ``control.shed_soc_pct`` (the sizing dispatch's shed floor).
5. **No battery**: run whenever the PV is up (``pv_w`` ≥ ``control.pump_start_surplus_w``, or
   unknown: the drive sees its own PV) at the rated frequency, and let the drive follow its power.
6. **Surplus** (a battery site): the power the pump may take is
   ``pv_w + wind_w − (load_w − pump_w) − battery_take``, where ``battery_take`` is 0 once the
   SOC has reached ``control.reconnect_soc_pct`` (the pump comes before the battery) and the
   battery's ``max_charge_kw`` below it (the battery is served first), as in the sizing
   dispatch. The pump (an AC load: ``load_w`` includes it) starts when that covers its lowest
   speed and ``control.pump_start_surplus_w``; running, its frequency moves toward the speed
   whose affinity power is that surplus, by at most :data:`STEP_HZ` a cycle, steps down while
   the battery discharges, and steps up while the battery is full or charging at its limit (the
   charge controllers may be holding PV back). Short of the lowest speed for :data:`SHORT_S`,
   it stops. SOC, PV or load unknown: stop.

Battery protection and load shedding stop the pump before this strategy is heard (the merge's
first ``RunPump`` wins): the pump is a non-critical load unless the site file says critical.
A stopped pump starts again only :data:`RESTART_S` after it stopped.

The pump's lowest speed is the site file's ``pump.lowest_hz(head_m)`` (the drive's minimum, or
just above the speed at which the pump lifts the static head; a fixed-speed pump: its rated).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from controller.devices.values import Quality, Reading
from controller.model import (
    Action,
    Condition,
    PumpingMemory,
    PumpMode,
    Remember,
    RunPump,
    Snapshot,
    State,
    WaterDay,
    in_window,
)
from sitefile import PumpModel, Site

STEP_HZ = 2.0
"""[Hz] the largest change of the frequency setpoint in one cycle."""
DISCHARGE_DEADBAND_W = 50.0
"""[W] battery power below −this is the battery discharging (not measurement noise)."""
SHORT_S = 60.0
"""[s] the surplus must stay short of the pump's lowest speed this long before it stops."""
RESTART_S = 120.0
"""[s] a stopped pump waits this long before it starts again (no short cycling)."""
HIGH_BAND_PCT = 5.0
"""[% points] below ``max_level_pct`` by this much, a pump stopped at the high level restarts."""
FILL_BAND_PCT = 1.0
"""[% points] the evening fill goes this far above ``min_level_pct`` (sensor noise)."""
FULL_SOC_MARGIN_PCT = 2.0
"""[% points] a battery within this of its ``max_soc_pct`` is full."""
SATURATED_CHARGE = 0.9
"""A battery charging at this fraction of its ``max_charge_kw`` takes all it can."""
DRY_POWER_FRACTION = 0.5
"""Without a flow reading: a running pump drawing less than this fraction of its affinity-law
power at its frequency is dry (a dry pump draws about 30 %)."""
HZ_TOLERANCE = 0.5
"""[Hz] a drive within this below a frequency counts as at it."""


@dataclass(frozen=True)
class PumpConfig:
    """What the strategy needs of the site file, resolved once per call (pure data).

    ``lo_hz``/``hi_hz`` the speeds it runs between [Hz]; ``rated_flow_m3_h`` the pump's
    rated-point flow [m³/h]; levels in [%]; powers in [W]; ``night_start_h`` local [h];
    ``battery``: the site has one (then its SOC thresholds [%] and ``max_charge_w`` apply).
    """

    load: str
    critical: bool
    pump: PumpModel
    lo_hz: float
    hi_hz: float
    rated_flow_m3_h: float
    min_level_pct: float
    max_level_pct: float
    start_surplus_w: float
    dry_run_s: float
    dry_run_flow_pct: float
    fill_h: float
    night_start_h: float
    battery: bool
    reconnect_soc_pct: float
    shed_soc_pct: float
    full_soc_pct: float
    max_charge_w: float

    def pump_w(self, hz: float) -> float:
        """The pump's expected power at ``hz`` (``pump.affinity_kw``) [W]."""
        return self.pump.affinity_kw(hz) * 1000.0

    def hz_for(self, w: float) -> float:
        """The frequency whose affinity power is ``w`` [W] (``pump.affinity_hz``) [Hz]."""
        return self.pump.affinity_hz(w / 1000.0)


def config(site: Site) -> PumpConfig | None:
    """The site's water pump and tank as the strategy sees them; None without both."""
    pumps = site.water_pumps
    if not pumps or site.tank is None:
        return None
    load = pumps[0]
    pump = load.pump
    c = site.control
    lo = pump.lowest_hz(load.head_m)
    bat = site.battery
    night = c.night_start
    return PumpConfig(
        load=load.name, critical=load.critical, pump=pump, lo_hz=round(lo, 1),
        hi_hz=pump.rated_hz, rated_flow_m3_h=pump.rated_flow_m3_h,
        min_level_pct=site.tank.min_level_pct, max_level_pct=site.tank.max_level_pct,
        start_surplus_w=c.pump_start_surplus_w, dry_run_s=c.dry_run_s,
        dry_run_flow_pct=c.dry_run_flow_pct, fill_h=c.tank_fill_before_night_h,
        night_start_h=night.hour + night.minute / 60 + night.second / 3600,
        battery=bat is not None, reconnect_soc_pct=c.reconnect_soc_pct,
        shed_soc_pct=c.shed_soc_pct,
        full_soc_pct=(bat.max_soc_pct if bat else 100.0) - FULL_SOC_MARGIN_PCT,
        max_charge_w=(bat.max_charge_kw if bat else 0.0) * 1000.0)


# --------------------------------------------------------------------------- the rules


def dry_condition(snap: Snapshot, cfg: PumpConfig) -> tuple[bool, str]:
    """Whether the drive runs at or above the lowest speed with no water coming, and why."""
    hz = snap.pump.hz
    if not (hz.ok and isinstance(hz.value, int | float)) or hz.value < cfg.lo_hz - HZ_TOLERANCE:
        return False, ""
    f = float(hz.value)
    flow = snap.value("water_m3_h")
    if flow is not None:
        limit = cfg.dry_run_flow_pct / 100.0 * cfg.rated_flow_m3_h
        return flow < limit, (f"flow {flow:.2f} m³/h < {limit:.2f} m³/h at {f:.1f} Hz "
                              f"for {cfg.dry_run_s:g} s")
    pump_w = snap.value("pump_w")
    if pump_w is not None:
        limit = DRY_POWER_FRACTION * cfg.pump_w(f)
        return pump_w < limit, (f"pump {pump_w:.0f} W < {limit:.0f} W at {f:.1f} Hz "
                                f"for {cfg.dry_run_s:g} s (no flow reading)")
    return False, ""


def available_w(snap: Snapshot, mem: PumpingMemory, cfg: PumpConfig) -> float | None:
    """The power the pump may take now [W] (rule 6 of the module doc); None when SOC, PV or
    load is unknown."""
    pv, load, soc = snap.value("pv_w"), snap.value("load_w"), snap.value("soc_pct")
    if pv is None or load is None or soc is None:
        return None
    pump_now = snap.value("pump_w")
    if pump_now is None:
        pump_now = cfg.pump_w(mem.hz) if mem.run else 0.0
    take = 0.0 if soc >= cfg.reconnect_soc_pct else cfg.max_charge_w
    return pv + (snap.value("wind_w") or 0.0) - (load - pump_now) - take


def _saturated(snap: Snapshot, cfg: PumpConfig) -> bool:
    """The battery takes all it can (full, or charging at its limit), and does not discharge:
    the measured PV may be held back, so the pump may try a step up."""
    soc, bat_w = snap.value("soc_pct"), snap.value("battery_w")
    if soc is None or (bat_w is not None and bat_w < -DISCHARGE_DEADBAND_W):
        return False
    return soc >= cfg.full_soc_pct or (bat_w is not None and cfg.max_charge_w > 0
                                       and bat_w >= SATURATED_CHARGE * cfg.max_charge_w)


def decide(snap: Snapshot, mem: PumpingMemory, cfg: PumpConfig, now: float
           ) -> tuple[RunPump, PumpingMemory, list[Condition]]:
    """The pump's command, the strategy's next memory and its alarm conditions (pure)."""
    level = snap.value("tank_level_pct")
    conds: list[Condition] = []
    if level is not None:
        conds.append(Condition("tank_low", "tank", level < cfg.min_level_pct,
                               f"tank {level:.0f} % below its reserve {cfg.min_level_pct:g} %"))
    dry_now, why = dry_condition(snap, cfg)
    dry_since = (mem.dry_since_mono if mem.dry_since_mono is not None else now) if (
        dry_now and not mem.dry) else None
    dry = mem.dry or (dry_since is not None and now - dry_since >= cfg.dry_run_s)
    conds.append(Condition("pump_dry_run", cfg.load, dry,
                           f"{cfg.load}: dry run ({why}): stopped until acknowledged"
                           if dry and why else ""))
    full = mem.full
    if level is not None:
        full = level >= cfg.max_level_pct or (full and level >= cfg.max_level_pct
                                              - HIGH_BAND_PCT)
    fill_window = cfg.fill_h > 0 and in_window(
        snap.local_h, (cfg.night_start_h - cfg.fill_h) % 24, cfg.night_start_h)
    fill = fill_window and level is not None and (
        level < cfg.min_level_pct or (mem.fill and level < cfg.min_level_pct + FILL_BAND_PCT))
    may_start = mem.run or mem.changed_mono is None or now - mem.changed_mono >= RESTART_S

    def out(run: bool, hz: float, mode: PumpMode, reason: str,
            short_since: float | None = None) -> tuple[RunPump, PumpingMemory, list[Condition]]:
        if run and not mem.run and not may_start:
            run, hz, mode = False, 0.0, "stopped"
            reason = f"{reason}; waiting {RESTART_S:g} s after the last stop"
        hz = round(hz, 1) if run else mem.hz
        changed = mem.changed_mono if run == mem.run else now
        new = PumpingMemory(run, hz, changed, full, fill, dry, dry_since if not dry else None,
                            short_since if run else None, mode)
        return RunPump(run, hz if run else 0.0, reason), new, conds

    if dry:
        return out(False, 0.0, "dry_run", "dry run: stopped until an operator acknowledges")
    if level is None:
        return out(False, 0.0, "level_unknown", "tank level unknown: stopped (safe state)")
    if full:
        return out(False, 0.0, "full", f"tank {level:.0f} % ≥ {cfg.max_level_pct:g} % (restart "
                                       f"below {cfg.max_level_pct - HIGH_BAND_PCT:g} %)")
    soc = snap.value("soc_pct")
    if fill and (not cfg.battery or (soc is not None and soc > cfg.shed_soc_pct)):
        return out(True, cfg.hi_hz, "fill", f"tank {level:.0f} % < {cfg.min_level_pct:g} % "
                                            f"before night: filling from any source")
    pv = snap.value("pv_w")
    if not cfg.battery:
        if pv is None or pv >= cfg.start_surplus_w:
            return out(True, cfg.hi_hz, "follow_pv", "PV up: the drive follows its power")
        return out(False, 0.0, "off", f"PV {pv:.0f} W < {cfg.start_surplus_w:g} W")
    avail = available_w(snap, mem, cfg)
    if avail is None:
        return out(False, 0.0, "power_unknown", "SOC, PV or load unknown: stopped")
    bat_w = snap.value("battery_w")
    discharging = bat_w is not None and bat_w < -DISCHARGE_DEADBAND_W
    saturated = _saturated(snap, cfg)
    if not mem.run or mem.mode == "fill":  # a fill just over runs on only on a surplus
        need = max(cfg.start_surplus_w, cfg.pump_w(cfg.lo_hz))
        if avail >= need:
            return out(True, min(max(cfg.hz_for(avail), cfg.lo_hz), cfg.hi_hz), "surplus",
                       f"surplus {avail:.0f} W ≥ {need:.0f} W")
        if saturated and pv is not None and pv >= cfg.start_surplus_w:
            return out(True, cfg.lo_hz, "surplus", "battery full: trying the lowest speed")
        return out(False, 0.0, "off", f"surplus {avail:.0f} W < {need:.0f} W")
    hz = mem.hz if mem.hz > 0 else cfg.lo_hz
    target = cfg.hz_for(avail)
    if discharging:
        new = hz - STEP_HZ
    else:
        new = min(max(target, hz - STEP_HZ), hz + STEP_HZ)
        if saturated:
            new = max(new, hz + STEP_HZ)
    short = new < cfg.lo_hz - 1e-9 or (discharging and hz <= cfg.lo_hz + 1e-9)
    short_since = (mem.short_since_mono if mem.short_since_mono is not None else now
                   ) if short else None
    if short_since is not None and now - short_since >= SHORT_S:
        return out(False, 0.0, "no_surplus", f"surplus {avail:.0f} W short of the lowest speed "
                                             f"({cfg.pump_w(cfg.lo_hz):.0f} W) for "
                                             f"{SHORT_S:g} s")
    new = min(max(new, cfg.lo_hz), cfg.hi_hz)
    return out(True, new, "surplus", f"surplus {avail:.0f} W"
               + (", battery discharging" if discharging else ""), short_since)


def pumping(snap: Snapshot, state: State, site: Site, now: float) -> list[Action]:
    """The strategy: the water pump's command, memory and conditions (nothing without a water
    pump and a tank)."""
    cfg = config(site)
    if cfg is None:
        return []
    cmd, mem, conds = decide(snap, state.pumping, cfg, now)
    return [cmd, Remember(mem), *conds]


def stopped_by(mem: PumpingMemory, before: PumpingMemory, now: float) -> PumpingMemory:
    """The strategy's memory ``mem`` when another strategy stopped the pump this cycle
    (battery protection, load shedding): not running, stopped now if it ran before."""
    if not mem.run:
        return mem
    return replace(mem, run=False, changed_mono=now if before.run else before.changed_mono,
                   short_since_mono=None, mode="stopped")


def acknowledged(state: State, alarm_key: str) -> State:
    """The state after an operator acknowledged ``alarm_key``: a ``pump_dry_run`` alarm
    releases the dry-run latch (the pump may start again, and is watched again)."""
    if not alarm_key.startswith("pump_dry_run:"):
        return state
    return state.remember([replace(state.pumping, dry=False, dry_since_mono=None)])


def restored(state: State, active_alarm_keys: set[str] | list[str]) -> State:
    """At start-up: a ``pump_dry_run`` alarm still active keeps the pump latched off."""
    if any(k.startswith("pump_dry_run:") for k in active_alarm_keys):
        return state.remember([replace(state.pumping, dry=True)])
    return state


# --------------------------------------------------------------------------- water today


def water_today(prev: WaterDay | None, snap: Snapshot, now: float, max_dt_s: float
                ) -> tuple[WaterDay, Reading]:
    """Water pumped since the local day began [m³], and the day's account.

    From the flow meter's totaliser (its rise since the last good value; a totaliser that
    went back, a meter reset, adds nothing), else the flow integrated over the time since the
    last cycle (at most ``max_dt_s`` [s]). The day's count starts at 0 at local midnight (what
    the totaliser counted while unseen across midnight goes to the new day). The
    reading is good when one of them was good this cycle, stale while neither is (missing
    before any).
    """
    day = snap.local_day
    m3 = prev.m3 if prev is not None and prev.day == day else 0.0
    last_total = prev.total_m3 if prev is not None else None
    total = snap.pump.flow_total_m3
    flow = snap.value("water_m3_h")
    good = False
    if total.ok and isinstance(total.value, int | float):
        t = float(total.value)
        if last_total is not None and t >= last_total:
            m3 += t - last_total
        last_total, good = t, True
    elif flow is not None:
        if prev is not None:
            m3 += max(flow, 0.0) * min(max(now - prev.t_mono, 0.0), max_dt_s) / 3600.0
        good = True
    ts = datetime.fromtimestamp(snap.wall_ts, UTC)
    quality = Quality.GOOD if good else Quality.STALE if prev is not None else Quality.MISSING
    reading = Reading(m3 if quality is not Quality.MISSING else None, ts, quality)
    return WaterDay(day, m3, last_total, now), reading


def saved(day: WaterDay | None) -> dict[str, Any] | None:
    """The day's account as the store's state keeps it (restored by :func:`from_saved`)."""
    return None if day is None else {"day": day.day, "m3": day.m3, "total_m3": day.total_m3}


def from_saved(data: Any, now: float) -> WaterDay | None:
    """The day's account saved by :func:`saved` (None when there is none or it is garbled)."""
    if not isinstance(data, dict):
        return None
    try:
        total = data.get("total_m3")
        return WaterDay(str(data["day"]), float(data["m3"]),
                        None if total is None else float(total), now)
    except (KeyError, TypeError, ValueError):
        return None
