"""The orchestrator: one design of a site over one or several weather years.

``simulate(site, inputs)`` takes the weather years and load profiles read once at the edge
(:func:`sizing.inputs.read_inputs`), models PV (:mod:`sizing.pv`), builds the loads
(:mod:`sizing.loads`), runs the dispatch kernel (:mod:`sizing.dispatch`) and derives the
reliability and wear figures (:mod:`sizing.reliability`). It reads no file. ``dispatch_setup``
gives another caller (the optimizer) the kernel's inputs for a weather year.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ieee1366 import ACC_KEYS, LOSSES_TARGET_PCT, indices_from, losses_pct
from sitefile import (
    CHEMISTRY_PRESETS,
    DEFAULT_C_RATE,
    AeratorLoad,
    ApplianceLoad,
    ProfileLoad,
    PumpLoad,
    Site,
)
from sizing.dispatch import DispatchConfig, DispatchInputs, DispatchResult, dispatch
from sizing.errors import SizingError
from sizing.inputs import SiteInputs
from sizing.loads import (
    aerator_kw,
    appliance_minutes_kw,
    appliance_start_others_kw,
    appliance_starts,
    in_window,
    local_hour_mid,
    per_minute,
    profile_kw,
    pump_steps_left,
    step_mean,
    step_minutes,
)
from sizing.outages import generator_failure_probs, year_outages
from sizing.pv import pv_kw_per_kwp
from sizing.reliability import battery_life_years, motor_start_check, p50_p90

# The keys of ``size simulate --json`` (DESIGN.md §2), then the extra figures.
JSON_KEYS = (
    "pv_ac_kwh", "load_kwh", "served_kwh", "unmet_kwh", "unmet_load_fraction",
    "critical_unmet_fraction", "loss_of_load_hours", "curtailed_kwh", "battery_throughput_kwh",
    "battery_equivalent_cycles", "generator_hours", "generator_fuel_l", "renewable_fraction",
    "saidi_minutes", "saifi_count",
    "maifi_count", "saidi_planned_minutes", "saifi_planned_count", "saidi_forced_minutes",
    "saifi_forced_count", "load_curtailed_kwh", "load_curtailed_hours", "outage_hours",
    "generator_kwh", "generator_starts", "generator_failures", "shed_hours", "losses_kwh",
    "losses_pct", "battery_life_years",
)
"""``losses_pct``: conversion losses as a share of the energy delivered to loads (the
programme's definition, :func:`ieee1366.losses_pct`); ``curtailed_kwh`` is PV left unused and
``load_curtailed_*`` flexible loads' shortfalls, each on its own line. ``saidi_forced_*``: the
part of the figures from interruptions that began while a component was failed."""


@dataclass(frozen=True)
class Design:
    """The sizes that the optimizer varies."""

    kwp: float
    kwh: float
    inverter_kw: float
    generator_kw: float


def site_design(site: Site) -> Design:
    """The design written in the site file."""
    if site.pv is None or site.inverter is None:
        raise SizingError("simulation needs [pv] and [inverter]")
    return Design(
        kwp=site.pv.kwp,
        kwh=site.battery.kwh if site.battery else 0.0,
        inverter_kw=site.inverter.kw,
        generator_kw=site.generator.kw if site.generator else 0.0,
    )


def dispatch_config(site: Site, dt_h: float) -> DispatchConfig:
    """The kernel's scalars from the site's ``[battery]``, ``[inverter]``, ``[generator]`` and
    ``[control]`` (the controller's own thresholds)."""
    if site.pv is None or site.inverter is None:
        raise SizingError("simulation needs [pv] and [inverter]")
    b = site.battery
    c = site.control
    g = site.generator
    preset = CHEMISTRY_PRESETS["lfp"]  # without a battery only its SOC limits are read
    min_soc = b.min_soc_pct if b else preset["min_soc_pct"]
    max_soc = b.max_soc_pct if b else preset["max_soc_pct"]
    init_soc = b.initial_soc_pct if b else max_soc
    kwh = b.kwh if b else 0.0
    quiet = c.quiet_hours
    start_fail, run_fail, repair_steps = generator_failure_probs(site.reliability, dt_h)
    return DispatchConfig(
        dt_h=dt_h,
        dc_coupled=site.pv.coupling == "dc",
        inverter_eff=site.inverter.efficiency_pct / 100.0,
        min_soc_frac=min_soc / 100.0,
        max_soc_frac=max_soc / 100.0,
        initial_soc_frac=init_soc / 100.0,
        charge_eff=b.charge_efficiency_pct / 100.0 if b else 1.0,
        discharge_eff=b.discharge_efficiency_pct / 100.0 if b else 1.0,
        charge_c_rate=b.max_charge_kw / kwh if b and kwh > 0 else DEFAULT_C_RATE,
        discharge_c_rate=b.max_discharge_kw / kwh if b and kwh > 0 else DEFAULT_C_RATE,
        shed_soc_frac=c.shed_soc_pct / 100.0,
        reconnect_soc_frac=c.reconnect_soc_pct / 100.0,
        gen_start_soc_frac=c.gen_start_soc_pct / 100.0,
        gen_stop_soc_frac=c.gen_stop_soc_pct / 100.0,
        quiet_start_soc_frac=(quiet.gen_start_soc_pct if quiet else c.gen_start_soc_pct) / 100.0,
        quiet_stop_soc_frac=(quiet.gen_stop_soc_pct if quiet else c.gen_stop_soc_pct) / 100.0,
        gen_min_run_steps=math.ceil(g.min_run_min / (dt_h * 60.0)) if g else 0,
        gen_min_load_frac=g.min_load_pct / 100.0 if g else 0.0,
        gen_cycle_charging=bool(g and g.strategy == "cycle_charging"),
        fuel_l_per_kwh=g.fuel_l_per_kwh if g else 0.0,
        fuel_idle_l_per_h_per_kw=g.fuel_l_per_h_idle / g.kw if g and g.kw > 0 else 0.0,
        cycle_life=b.cycle_life if b else preset["cycle_life"],
        cycle_life_dod_frac=(b.cycle_life_dod_pct if b else preset["cycle_life_dod_pct"]) / 100.0,
        cycle_life_exponent=b.cycle_life_exponent if b else preset["cycle_life_exponent"],
        gen_start_fail_prob=start_fail,
        gen_run_fail_prob=run_fail,
        repair_steps=repair_steps,
    )


@dataclass(frozen=True)
class LoadSet:
    """The site's loads over one time index, in the kernel's layout."""

    names: list[str]
    """Continuous loads in serving order, then the pumps."""
    load_kw: np.ndarray
    critical: np.ndarray
    customers: np.ndarray
    flexible: np.ndarray
    pump_kw: np.ndarray
    pump_daily_kwh: np.ndarray
    pump_steps_left: np.ndarray
    pump_critical: np.ndarray
    pump_customers: np.ndarray
    pump_flexible: np.ndarray
    quiet: np.ndarray


def build_loads(site: Site, index: pd.DatetimeIndex,
                profiles_kw: Mapping[str, np.ndarray]) -> LoadSet:
    """Every load of the site over ``index`` (appliance loads seeded by their ``seed``).

    ``profiles_kw``: each profile load's year as read by :func:`sizing.inputs.read_profiles`
    [kW]. Raises :class:`SizingError` when a profile load has none."""
    step = step_minutes(index)
    c = site.control
    continuous: list[tuple[int, int, str, np.ndarray, bool, int, bool]] = []
    pumps: list[PumpLoad] = []
    for order, load in enumerate(site.loads):
        if isinstance(load, PumpLoad):
            pumps.append(load)
            continue
        if isinstance(load, ProfileLoad):
            if load.name not in profiles_kw:
                raise SizingError(f"load {load.name!r}: its profile {load.profile} was not read")
            kw = profile_kw(profiles_kw[load.name], load.scale, index)
        elif isinstance(load, ApplianceLoad):
            minutes = appliance_minutes_kw(load, np.random.default_rng(load.seed))
            kw = step_mean(minutes, index, step)
        elif isinstance(load, AeratorLoad):
            kw = aerator_kw(load, index, c.night_start, c.night_end)
        else:  # pragma: no cover - the site model admits no other kinds
            raise SizingError(f"unknown load kind {load.kind}")
        rank = 0 if load.critical else load.priority
        continuous.append((rank, order, load.name, kw, load.critical, load.customers,
                           load.flexible))
    continuous.sort(key=lambda row: (row[0], row[1]))
    n = len(index)
    hour = local_hour_mid(index)
    quiet = (in_window(hour, c.quiet_hours.window.start_h, c.quiet_hours.window.hours)
             if c.quiet_hours else np.zeros(n, dtype=bool))
    return LoadSet(
        names=[r[2] for r in continuous] + [p.name for p in pumps],
        load_kw=np.ascontiguousarray(np.array([r[3] for r in continuous]).reshape(-1, n)),
        critical=np.array([r[4] for r in continuous], dtype=bool),
        customers=np.array([r[5] for r in continuous], dtype=float),
        flexible=np.array([r[6] for r in continuous], dtype=bool),
        pump_kw=np.array([p.kw for p in pumps], dtype=float),
        pump_daily_kwh=np.array([p.daily_kwh for p in pumps], dtype=float),
        pump_steps_left=np.ascontiguousarray(
            np.array([pump_steps_left(p, index) for p in pumps], dtype=np.int64).reshape(-1, n)),
        pump_critical=np.array([p.critical for p in pumps], dtype=bool),
        pump_customers=np.array([p.customers for p in pumps], dtype=float),
        pump_flexible=np.array([p.flexible for p in pumps], dtype=bool),
        quiet=np.ascontiguousarray(quiet, dtype=bool),
    )


def dispatch_inputs(loads: LoadSet, pv_per_kwp: np.ndarray,
                    outages: dict[str, np.ndarray]) -> DispatchInputs:
    """The kernel's time series (``outages``: :func:`sizing.outages.year_outages`)."""
    return DispatchInputs(
        pv_kw_per_kwp=np.ascontiguousarray(pv_per_kwp, dtype=np.float64),
        load_kw=loads.load_kw, load_critical=loads.critical, load_customers=loads.customers,
        load_flexible=loads.flexible,
        pump_kw=loads.pump_kw, pump_daily_kwh=loads.pump_daily_kwh,
        pump_steps_left=loads.pump_steps_left, pump_critical=loads.pump_critical,
        pump_customers=loads.pump_customers, pump_flexible=loads.pump_flexible,
        quiet=loads.quiet, **outages,
    )


def _dt_h(index: pd.DatetimeIndex) -> float:
    return step_minutes(index) / 60.0


def year_loads(site: Site, weather: Sequence[pd.DataFrame],
               profiles_kw: Mapping[str, np.ndarray]) -> list[LoadSet]:
    """The loads of each weather year, built once per distinct time index (synthetic years
    share one calendar)."""
    built: list[tuple[pd.DatetimeIndex, LoadSet]] = []
    out = []
    for frame in weather:
        index = pd.DatetimeIndex(frame.index)
        same = [loads for seen, loads in built if seen.equals(index)]
        if not same:
            same = [build_loads(site, index, profiles_kw)]
            built.append((index, same[0]))
        out.append(same[0])
    return out


def dispatch_setup(site: Site, weather: pd.DataFrame, loads: LoadSet, year: int,
                   pv_per_kwp: np.ndarray | None = None
                   ) -> tuple[DispatchInputs, DispatchConfig]:
    """Everything the kernel needs for simulated year ``year`` (its forced outages are drawn
    from ``[reliability] seed`` and ``year``) over ``weather``, ``loads`` built over its index;
    ``pv_per_kwp`` when the caller already modelled this weather's PV [kW/kWp]."""
    index = pd.DatetimeIndex(weather.index)
    dt_h = _dt_h(index)
    pv = pv_kw_per_kwp(site, weather) if pv_per_kwp is None else pv_per_kwp
    outages = year_outages(site.reliability, site.maintenance, index, dt_h, year)
    return dispatch_inputs(loads, pv, outages), dispatch_config(site, dt_h)


@dataclass(frozen=True)
class YearResult:
    """One weather year of one design."""

    figures: dict[str, float]
    unmet_by_load_kwh: dict[str, float]
    run: DispatchResult
    index: pd.DatetimeIndex
    planned_cut: np.ndarray
    """[T] bool: the steps of a planned cut."""


def year_figures(site: Site, run: DispatchResult, years_fraction: float = 1.0) -> dict[str, float]:
    """The reported figures of one simulated year from the kernel's summary (SAIDI, SAIFI and
    MAIFI from its interruption accumulators by :func:`ieee1366.indices_from`, over the site's
    ``customers_served``)."""
    s = run.summary
    customers = site.customers_served
    every = indices_from([s[k] for k in ACC_KEYS], customers, years_fraction)
    forced = indices_from([s["forced_" + k] for k in ACC_KEYS], customers, years_fraction)
    load = s["load_kwh"]
    crit = s["critical_load_kwh"]
    served = s["served_kwh"]
    b = site.battery
    if b is not None and b.kwh > 0:
        life = float(battery_life_years(s["battery_cycle_damage"] / years_fraction,
                                        b.calendar_life_years))
    else:
        life = 0.0
    return {
        "pv_ac_kwh": s["pv_kwh"],
        "load_kwh": load,
        "served_kwh": served,
        "unmet_kwh": s["unmet_kwh"],
        "unmet_load_fraction": s["unmet_kwh"] / load if load > 0 else 0.0,
        "critical_unmet_fraction": s["critical_unmet_kwh"] / crit if crit > 0 else 0.0,
        "loss_of_load_hours": s["loss_of_load_hours"],
        "curtailed_kwh": s["curtailed_kwh"],
        "battery_throughput_kwh": s["battery_throughput_kwh"],
        "battery_equivalent_cycles": s["battery_equivalent_cycles"],
        "generator_hours": s["generator_hours"],
        "generator_fuel_l": s["generator_fuel_l"],
        "renewable_fraction": (min(max(1.0 - s["generator_kwh"] / served, 0.0), 1.0)
                               if served > 0 else 0.0),
        "saidi_minutes": every.saidi_minutes,
        "saifi_count": every.saifi_count,
        "maifi_count": every.maifi_count,
        "saidi_planned_minutes": every.saidi_planned_minutes,
        "saifi_planned_count": every.saifi_planned_count,
        "saidi_forced_minutes": forced.saidi_minutes,
        "saifi_forced_count": forced.saifi_count,
        "load_curtailed_kwh": s["load_curtailed_kwh"],
        "load_curtailed_hours": s["load_curtailed_hours"],
        "outage_hours": s["outage_hours"],
        "generator_kwh": s["generator_kwh"],
        "generator_starts": s["generator_starts"],
        "generator_failures": s["generator_failures"],
        "shed_hours": s["shed_hours"],
        "losses_kwh": s["losses_kwh"],
        "losses_pct": losses_pct(s["losses_kwh"], served),
        "battery_life_years": life,
    }


def simulate_year(site: Site, weather: pd.DataFrame, loads: LoadSet, year: int = 0,
                  design: Design | None = None) -> YearResult:
    """Simulated year ``year`` of ``design`` (default: the site file's) over ``weather``;
    ``loads`` over its index (:func:`build_loads`)."""
    design = design or site_design(site)
    inp, cfg = dispatch_setup(site, weather, loads, year)
    run = dispatch(inp, cfg, design.kwp, design.kwh, inverter_kw=design.inverter_kw,
                   generator_kw=design.generator_kw)
    index = pd.DatetimeIndex(weather.index)
    fraction = len(index) * cfg.dt_h / 8760.0
    unmet = dict(zip(loads.names, run.unmet_by_load_kwh.tolist(), strict=True))
    return YearResult(year_figures(site, run, fraction), unmet, run, index, inp.planned_cut)


def _running_kw(loads: LoadSet, year: YearResult) -> np.ndarray:
    """Power drawn by every load while running [kW]: continuous loads as demanded, pumps as
    they actually ran (their unmet energy is booked when the window closes, not drawn)."""
    n = loads.load_kw.shape[0]
    return loads.load_kw.sum(axis=0) + year.run.served_by_load_kw[n:].sum(axis=0)


def _others_peak_kw(site: Site, loads: LoadSet, results: list[YearResult]) -> dict[str, float]:
    """Per motor load, the highest running load when one of its motors starts [kW].

    An aerator unit starts with every other load and its sibling units running (the peak
    minus one unit); a pump starts with every other load running; an appliance's compressor
    (``start_multiplier`` > 1) starts with the other loads as run and its own load's other
    appliances and units at the minute (:func:`sizing.loads.appliance_start_others_kw`: a
    cycling compressor's minute peak, not its hourly mean).
    """
    peaks: dict[str, float] = {}
    for load in site.loads:
        k = loads.names.index(load.name)
        if isinstance(load, ApplianceLoad) and appliance_starts(load):
            for y in results:
                others = per_minute(_running_kw(loads, y) - loads.load_kw[k], y.index)
                for name, kw in appliance_start_others_kw(load, others).items():
                    peaks[name] = max(peaks.get(name, 0.0), kw)
        elif isinstance(load, AeratorLoad):
            peaks[load.name] = max(float(_running_kw(loads, y).max()) for y in results) \
                - load.kw_per_unit
        elif isinstance(load, PumpLoad):
            peaks[load.name] = max(
                float(np.max(_running_kw(loads, y) - y.run.served_by_load_kw[k]))
                for y in results)
    return peaks


def _peak_kw(site: Site, loads: LoadSet, results: list[YearResult]) -> float:
    """The highest running load [kW]: appliance loads minute by minute (a cycling compressor
    at its full power, not its hourly mean), the others as simulated."""
    rows = [(loads.names.index(ld.name), ld) for ld in site.loads
            if isinstance(ld, ApplianceLoad)]
    if not rows:
        return max(float(_running_kw(loads, y).max()) for y in results)
    minutes = sum(appliance_minutes_kw(ld, np.random.default_rng(ld.seed)) for _, ld in rows)
    hourly = sum(loads.load_kw[k] for k, _ in rows)
    return max(float((per_minute(_running_kw(loads, y) - hourly, y.index) + minutes).max())
               for y in results)


@dataclass(frozen=True)
class Simulation:
    """One design over N weather years: P50 and P90 of each figure."""

    design: Design
    years: list[YearResult]
    p50: dict[str, float]
    p90: dict[str, float]
    warnings: list[str]
    motor_start: dict[str, Any] | None
    customers_served: int

    def to_json(self) -> dict[str, Any]:
        """The ``size simulate --json`` object (DESIGN.md §2 keys, P50 with ``p90``)."""
        names = list(self.years[0].unmet_by_load_kwh)
        unmet_by_load = {
            n: float(np.median([y.unmet_by_load_kwh[n] for y in self.years])) for n in names
        }
        return {
            **{k: self.p50[k] for k in JSON_KEYS},
            "p90": {k: self.p90[k] for k in JSON_KEYS},
            "unmet_by_load_kwh": unmet_by_load,
            "losses_target_pct": LOSSES_TARGET_PCT,
            "customers_served": self.customers_served,
            "years": len(self.years),
            "design": {"kwp": self.design.kwp, "kwh": self.design.kwh,
                       "inverter_kw": self.design.inverter_kw,
                       "generator_kw": self.design.generator_kw},
            "motor_start": self.motor_start,
            "warnings": self.warnings,
            "per_year": [{k: y.figures[k] for k in JSON_KEYS} for y in self.years],
        }


def series_frame(sim: Simulation) -> pd.DataFrame:
    """The step series the figures come from, every simulated year one after the other:
    ``year``, local ``time`` (start of step), ``pv_kw``, ``generator_kw``, ``battery_kw``
    (positive charging), ``soc_pct``, ``planned_cut`` (0/1), then for each load
    ``<name>_demand_kw`` and ``<name>_served_kw`` (a pump's demand is what it ran, plus in the
    step its window closes what it still owed) [kW]."""
    frames = []
    kwh = sim.design.kwh
    for k, y in enumerate(sim.years):
        run = y.run
        cols: dict[str, Any] = {
            "year": k + 1,
            "time": y.index.strftime("%Y-%m-%dT%H:%M%z"),
            "pv_kw": run.series["pv_kw"],
            "generator_kw": run.series["generator_kw"],
            "battery_kw": run.series["battery_kw"],
            "soc_pct": 100.0 * run.series["soc_kwh"] / kwh if kwh > 0 else 0.0,
            "planned_cut": y.planned_cut.astype(int),
        }
        for i, name in enumerate(y.unmet_by_load_kwh):
            cols[f"{name}_demand_kw"] = run.demand_by_load_kw[i]
            cols[f"{name}_served_kw"] = run.served_by_load_kw[i]
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)


def simulate(site: Site, inputs: SiteInputs, design: Design | None = None,
             on_year: Callable[[int, int], None] | None = None) -> Simulation:
    """Simulate the site's design (or ``design``) over the weather years of ``inputs``.

    ``on_year(done, total)`` is called after each year (for a progress bar).
    """
    design = design or site_design(site)
    weathers = inputs.weather
    if not weathers:
        raise SizingError("no weather year to simulate")
    all_loads = year_loads(site, weathers, inputs.profiles_kw)
    results: list[YearResult] = []
    for k, (weather, loads) in enumerate(zip(weathers, all_loads, strict=True)):
        results.append(simulate_year(site, weather, loads, k, design))
        if on_year is not None:
            on_year(k + 1, len(weathers))
    p50, p90 = p50_p90([y.figures for y in results])
    loads = all_loads[0]
    peak = _peak_kw(site, loads, results)
    motor = motor_start_check(site, _others_peak_kw(site, loads, results))
    warnings = list(inputs.warnings)
    if motor is not None and not motor.ok:
        warnings.append("motor start: " + motor.advice)
    if peak > design.inverter_kw:
        warnings.append(f"peak load {peak:.1f} kW exceeds the inverter's {design.inverter_kw:g} kW")
    if p50["losses_pct"] > LOSSES_TARGET_PCT:
        warnings.append(f"conversion losses {p50['losses_pct']:.1f} % of the energy delivered "
                        f"exceed the {LOSSES_TARGET_PCT:g} % target")
    return Simulation(design, results, p50, p90, warnings,
                      motor.as_dict() if motor is not None else None, site.customers_served)
