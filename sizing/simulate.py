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
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ieee1366 import ACC_KEYS, LOSSES_TARGET_PCT, indices_from, losses_pct
from sitefile import (
    CHEMISTRY_PRESETS,
    DEFAULT_C_RATE,
    AeratorLoad,
    ApplianceLoad,
    PumpLoad,
    PumpModel,
    Search,
    Site,
    WaterPumpLoad,
)
from sizing import bom
from sizing.dispatch import UNIT_KEYS, DispatchConfig, DispatchInputs, DispatchResult, dispatch
from sizing.economics import (
    Designs,
    Operation,
    Plant,
    pv_degradation_pct_per_year,
    pv_used_kwh,
    water_vnd_per_m3,
)
from sizing.errors import SizingError
from sizing.inputs import SiteInputs
from sizing.loads import (
    appliance_minutes_kw,
    appliance_start_others_kw,
    appliance_starts,
    in_window,
    load_step_kw,
    local_hour_mid,
    per_minute,
    pump_steps_left,
    scaled_for_year,
    schedule_mask,
    step_minutes,
)
from sizing.outages import generator_failure_probs, year_outages
from sizing.pv import pv_kw_per_kwp
from sizing.reliability import battery_life_years, motor_start_check, p50_p90
from sizing.water import (
    WATER_FIGURES,
    candidate_pumps,
    config_fields,
    fill_steps,
    monthly_m3,
    water_demand_m3,
    water_json,
    water_pump,
    water_setup,
)
from sizing.wind import capacity_factor, rated_kw, wind_kw_per_turbine

HOURS_PER_YEAR = 8760.0

# The keys of ``size simulate --json`` (DESIGN.md §2), then the extra figures.
JSON_KEYS = (
    "pv_ac_kwh", "load_kwh", "served_kwh", "unmet_kwh", "unmet_load_fraction",
    "critical_unmet_fraction", "loss_of_load_hours", "curtailed_kwh", "battery_throughput_kwh",
    "battery_equivalent_cycles", "generator_hours", "generator_fuel_l", "renewable_fraction",
    "saidi_minutes", "saifi_count",
    "maifi_count", "saidi_planned_minutes", "saifi_planned_count", "saidi_forced_minutes",
    "saifi_forced_count", "load_curtailed_kwh", "load_curtailed_hours", "outage_hours",
    "generator_kwh", "generator_starts", "generator_failures", "shed_hours", "losses_kwh",
    "losses_pct", "battery_life_years", "wind_kwh", "wind_curtailed_kwh", "wind_capacity_factor",
)
"""``losses_pct``: conversion losses as a share of the energy delivered to loads (the
programme's definition, :func:`ieee1366.losses_pct`); ``curtailed_kwh`` is PV left unused and
``load_curtailed_*`` flexible loads' shortfalls, each on its own line. ``saidi_forced_*``: the
part of the figures from interruptions that began while a component was failed.
``wind_kwh``: the turbines' output at their bus (after their availability), of which
``wind_curtailed_kwh`` was left unused (part of ``curtailed_kwh``); ``wind_capacity_factor``:
``wind_kwh`` over the turbines' rating × hours; ``renewable_fraction``: the share of the served
energy not from the generators (PV and wind); ``generator_hours``: summed over the units."""


@dataclass(frozen=True)
class Design:
    """The sizes that the optimizer varies: ``generator_kw`` is the lead unit's rating (the
    other units keep their ratio to it, :func:`units_kw`), ``turbines`` the count of the wind
    series' turbines (:func:`wind_series`), ``tank_m3`` the water tank's volume [m³] and
    ``pump`` the water pump: -1 the site's own, k ≥ 0 the k-th of
    :func:`sizing.water.candidate_pumps` (the optimiser's index)."""

    kwp: float
    kwh: float
    inverter_kw: float
    generator_kw: float
    turbines: float = 0.0
    tank_m3: float = 0.0
    pump: float = -1.0


def design_pump(site: Site, design: Design) -> PumpModel | None:
    """The water pump of ``design`` (:attr:`Design.pump`), or None without a water pump."""
    load = water_pump(site)
    if load is None:
        return None
    if design.pump < 0:
        return load.pump
    return candidate_pumps(site)[round(design.pump)]


def units_kw(site: Site, lead_kw: float | np.ndarray) -> np.ndarray:
    """Each generator unit's rating [kW] for a lead unit of ``lead_kw`` [kW] ([n] → [n, G]):
    the site's units in order, scaled together (identical units: each ``lead_kw``). A site
    without a generator has one unit."""
    ratings = np.array([g.kw for g in site.generators] or [1.0])
    ratio = ratings / ratings[0] if ratings[0] > 0 else np.ones_like(ratings)
    return np.multiply.outer(np.asarray(lead_kw, dtype=float), ratio)


def generator_units(site: Site) -> float:
    """Installed generator kW per kW of the lead unit [-] (the units' count when identical)."""
    return float(units_kw(site, 1.0).sum())


def wind_series(site: Site, weather: pd.DataFrame) -> tuple[np.ndarray, float]:
    """The kernel's wind: ``(kW per turbine [T], turbines)`` (:func:`sizing.wind.
    wind_kw_per_turbine`). One ``[[wind]]`` entry: its turbine's output and its ``count``;
    several: their sum, count × per turbine, as one series of 1 turbine. No wind: an empty
    series."""
    if not site.wind:
        return np.zeros(0), 0.0
    per_turbine = wind_kw_per_turbine(site, weather)
    if len(site.wind) == 1:
        return per_turbine[0], float(site.wind[0].count)
    counts = np.array([w.count for w in site.wind], dtype=float)
    return counts @ per_turbine, 1.0


def wind_rated_kw(site: Site, turbines: float) -> float:
    """The rating of ``turbines`` of the wind series [kW] (see :func:`wind_series`)."""
    if len(site.wind) == 1:
        return turbines * rated_kw(site.wind[0])
    return sum(w.count * rated_kw(w) for w in site.wind) * min(turbines, 1.0)


def site_design(site: Site) -> Design:
    """The design written in the site file."""
    if site.pv is None or site.inverter is None:
        raise SizingError("simulation needs [pv] and [inverter]")
    return Design(
        kwp=site.pv.kwp,
        kwh=site.battery.kwh if site.battery else 0.0,
        inverter_kw=site.inverter.kw,
        generator_kw=site.generator.kw if site.generator else 0.0,
        turbines=site_turbines(site),
        tank_m3=site.tank.m3 if site.tank is not None and site.water_pumps else 0.0,
    )


def site_turbines(site: Site) -> float:
    """The site file's turbines as the kernel counts them (:func:`wind_series`): the single
    entry's ``count``, 1 for the summed series of several entries, 0 without wind."""
    if len(site.wind) == 1:
        return float(site.wind[0].count)
    return 1.0 if site.wind else 0.0


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
    couplings = {w.coupling for w in site.wind}
    if len(couplings) > 1:
        raise SizingError("the [[wind]] entries are coupled differently (ac and dc); the "
                          "simulation sums them into one series: give them one coupling")
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
        gen_next_start_frac=c.gen_next_start_pct / 100.0,
        gen_next_stop_frac=c.gen_next_stop_pct / 100.0,
        wind_dc_coupled=couplings == {"dc"},
        **config_fields(site, dt_h),
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
    c = site.control
    continuous: list[tuple[int, int, str, np.ndarray, bool, int, bool]] = []
    pumps: list[PumpLoad] = []
    for order, load in enumerate(site.loads):
        if isinstance(load, PumpLoad):
            pumps.append(load)
            continue
        if isinstance(load, WaterPumpLoad):  # its own slot: sizing.water
            continue
        kw = load_step_kw(load, index, profiles_kw, c.night_start, c.night_end)
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
                    outages: dict[str, np.ndarray],
                    wind_per_turbine: np.ndarray | None = None) -> DispatchInputs:
    """The kernel's time series (``outages``: :func:`sizing.outages.year_outages`;
    ``wind_per_turbine``: :func:`wind_series`, [kW])."""
    return DispatchInputs(
        wind_kw_per_turbine=(np.zeros(0) if wind_per_turbine is None
                             else np.ascontiguousarray(wind_per_turbine, dtype=np.float64)),
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
                   pv_per_kwp: np.ndarray | None = None, *,
                   pumps: Sequence[PumpModel] | None = None
                   ) -> tuple[DispatchInputs, DispatchConfig]:
    """Everything the kernel needs for simulated year ``year`` (its forced outages are drawn
    from ``[reliability] seed`` and ``year``) over ``weather``, ``loads`` built over its index;
    ``pv_per_kwp`` when the caller already modelled this weather's PV [kW/kWp]; ``pumps``:
    the water pump's candidates, the rows of its tables (default
    :func:`sizing.water.candidate_pumps`)."""
    index = pd.DatetimeIndex(weather.index)
    dt_h = _dt_h(index)
    pv = pv_kw_per_kwp(site, weather) if pv_per_kwp is None else pv_per_kwp
    outages = year_outages(site.reliability, site.maintenance, index, dt_h, year,
                           n_units=max(len(site.generators), 1))
    wind, _ = wind_series(site, weather)
    inp = dispatch_inputs(loads, pv, outages, wind)
    water = water_setup(site, index, pumps)
    if water is not None:
        inp = inp._replace(water_demand_m3=water.demand_m3, water_fill=water.fill,
                           water_pump_kw=water.tables.electric_kw,
                           water_pump_m3_h=water.tables.flow_m3_h,
                           water_pump_hydraulic_kw=water.tables.hydraulic_kw)
    return inp, dispatch_config(site, dt_h)


def last_year_loads(site: Site, loads: LoadSet, dt_h: float) -> LoadSet:
    """``loads`` as they are in the project's last year (``[economics] lifetime_years``): each
    load × its own growth (:func:`sizing.loads.scaled_for_year`); a pump's daily energy is
    capped by what its window can deliver."""
    year = site.economics.lifetime_years
    by_name = {ld.name: ld for ld in site.loads}
    n = loads.load_kw.shape[0]
    load_kw = np.ascontiguousarray(np.array(
        [scaled_for_year(loads.load_kw[k], by_name[loads.names[k]], year) for k in range(n)]
    ).reshape(loads.load_kw.shape))
    window_kwh = loads.pump_kw * loads.pump_steps_left.max(axis=1, initial=0) * dt_h
    daily = np.array([float(scaled_for_year(loads.pump_daily_kwh[j],
                                            by_name[loads.names[n + j]], year))
                      for j in range(loads.pump_kw.size)])
    return replace(loads, load_kw=load_kw, pump_daily_kwh=np.minimum(daily, window_kwh))


@dataclass(frozen=True)
class YearResult:
    """One weather year of one design."""

    figures: dict[str, float]
    unmet_by_load_kwh: dict[str, float]
    run: DispatchResult
    index: pd.DatetimeIndex
    planned_cut: np.ndarray
    """[T] bool: the steps of a planned cut."""


def year_figures(site: Site, run: DispatchResult, years_fraction: float = 1.0,
                 wind_kw: float = 0.0) -> dict[str, float]:
    """The reported figures of one simulated year from the kernel's summary (SAIDI, SAIFI and
    MAIFI from its interruption accumulators by :func:`ieee1366.indices_from`, over the site's
    ``customers_served``); ``wind_kw``: the turbines' rating [kW], for their capacity
    factor."""
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
        "wind_kwh": s["wind_kwh"],
        "wind_curtailed_kwh": s["wind_curtailed_kwh"],
        "wind_capacity_factor": capacity_factor(s["wind_kwh"], wind_kw,
                                                years_fraction * HOURS_PER_YEAR),
        **{k: s[k] for k in WATER_FIGURES},
        "unmet_water_fraction": (s["water_unmet_m3"] / s["water_demand_m3"]
                                 if s["water_demand_m3"] > 0 else 0.0),
    }


def simulate_year(site: Site, weather: pd.DataFrame, loads: LoadSet, year: int = 0,
                  design: Design | None = None) -> YearResult:
    """Simulated year ``year`` of ``design`` (default: the site file's) over ``weather``;
    ``loads`` over its index (:func:`build_loads`)."""
    design = design or site_design(site)
    pump = design_pump(site, design)
    inp, cfg = dispatch_setup(site, weather, loads, year,
                              pumps=None if pump is None else [pump])
    run = dispatch(inp, cfg, design.kwp, design.kwh, inverter_kw=design.inverter_kw,
                   generator_kw=units_kw(site, design.generator_kw),
                   turbines=design.turbines, tank_m3=design.tank_m3, pump=0)
    index = pd.DatetimeIndex(weather.index)
    fraction = len(index) * cfg.dt_h / HOURS_PER_YEAR
    unmet = dict(zip(loads.names, run.unmet_by_load_kwh.tolist(), strict=True))
    figures = year_figures(site, run, fraction, wind_rated_kw(site, design.turbines))
    return YearResult(figures, unmet, run, index, inp.planned_cut)


def _running_kw(loads: LoadSet, year: YearResult) -> np.ndarray:
    """Power drawn by every load while running [kW]: continuous loads as demanded, pumps as
    they actually ran (their unmet energy is booked when the window closes, not drawn)."""
    n = loads.load_kw.shape[0]
    return (loads.load_kw.sum(axis=0) + year.run.served_by_load_kw[n:].sum(axis=0)
            + year.run.series["pump_kw"])


def start_others_kw(site: Site, loads: Sequence[LoadSet],
                    weathers: Sequence[pd.DataFrame]) -> dict[str, float]:
    """Per motor, the highest load of everything else that may be running when it starts, over
    every year [kW]: the one figure behind the optimiser's constraint, the engine's check and
    the report's words (:func:`sizing.reliability.motor_start_check`).

    Taken from the demand, not from a dispatch, so that it is the same for every design of a
    search: the continuous loads as demanded, each deferrable pump at its power throughout its
    window, the site's water pump at its rated power in daylight and in the tank's fill hours
    (where the dispatch may run them). A motor may start whenever it may run (when it switches
    on, and again after a cut), so its figure is the peak of the others over those steps:

    - an aerator: the steps its load runs, less one unit (the last unit to start);
    - a deferrable pump: the steps of its window;
    - the water pump: daylight (GHI above 0) and the fill hours;
    - an appliance's compressor: minute by minute, its load's other appliances and units
      included (:func:`sizing.loads.appliance_start_others_kw`).
    """
    water = water_pump(site)
    peaks: dict[str, float] = {}

    def keep(name: str, kw: float) -> None:
        peaks[name] = max(peaks.get(name, 0.0), kw)

    for ls, weather in zip(loads, weathers, strict=True):
        index = pd.DatetimeIndex(weather.index)
        n = ls.load_kw.shape[0]
        in_window = ls.pump_steps_left > 0
        running = ls.load_kw.sum(axis=0) + (ls.pump_kw[:, None] * in_window).sum(axis=0)
        water_on = np.zeros(len(index), dtype=bool)
        if water is not None:
            water_on = (weather["ghi"].to_numpy() > 0) | fill_steps(site, index)
            running = running + water.pump.rated_kw * water_on
        for load in site.loads:
            if isinstance(load, WaterPumpLoad):
                keep(load.name, float(np.max(running[water_on] - load.pump.rated_kw,
                                             initial=0.0)))
                continue
            k = ls.names.index(load.name)
            if isinstance(load, PumpLoad):
                keep(load.name, float(np.max(running[in_window[k - n]] - load.kw, initial=0.0)))
            elif isinstance(load, AeratorLoad):
                on = ls.load_kw[k] > 0
                keep(load.name, float(np.max(running[on] - load.kw_per_unit, initial=0.0)))
            elif isinstance(load, ApplianceLoad) and appliance_starts(load):
                others = per_minute(running - ls.load_kw[k], index)
                for name, kw in appliance_start_others_kw(load, others).items():
                    keep(name, kw)
    return peaks


def _peak_kw(site: Site, loads: LoadSet, results: list[YearResult]) -> float:
    """The highest running load [kW]: appliance loads minute by minute (a cycling compressor
    at its full power, not its hourly mean), the others as simulated."""
    rows = [(loads.names.index(ld.name), ld) for ld in site.loads
            if isinstance(ld, ApplianceLoad)]
    if not rows:
        return max(float(_running_kw(loads, y).max()) for y in results)
    minutes = [(appliance_minutes_kw(ld, np.random.default_rng(ld.seed)), ld.schedule)
               for _, ld in rows]
    hourly = sum(loads.load_kw[k] for k, _ in rows)

    def year_peak_kw(y: YearResult) -> float:
        own = sum(kw * per_minute(schedule_mask(sched, y.index), y.index)
                  for kw, sched in minutes)
        return float((per_minute(_running_kw(loads, y) - hourly, y.index) + own).max())

    return max(year_peak_kw(y) for y in results)


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
    generator_units: list[dict[str, Any]]
    """Each generator unit: ``name``, ``kw`` and the median year's :data:`UNIT_KEYS`."""
    last_year: dict[str, Any] | None
    """The design in the project's last year (loads grown): ``year``, ``growth``, the
    median year's ``unmet_load_fraction`` and ``saidi_minutes`` (None: no load grows)."""
    water: dict[str, Any] | None = None
    """The water pump's figures, P50 (:func:`sizing.water.water_json`; None without one)."""
    pump: str | None = None
    """The water pump's id (None without one)."""

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
                       "generator_kw": self.design.generator_kw,
                       "turbines": self.design.turbines,
                       "tank_m3": self.design.tank_m3, "pump": self.pump},
            "water": self.water,
            "generator_units": self.generator_units,
            "last_year": self.last_year,
            "motor_start": self.motor_start,
            "warnings": self.warnings,
            "per_year": [{k: y.figures[k] for k in JSON_KEYS} for y in self.years],
        }


def series_frame(sim: Simulation) -> pd.DataFrame:
    """The step series the figures come from, every simulated year one after the other:
    ``year``, local ``time`` (start of step), ``pv_kw``, ``wind_kw``, ``generator_kw``,
    ``battery_kw``
    (positive charging), ``soc_pct``, ``planned_cut`` (0/1), with a water pump ``pump_kw``
    [kW], ``tank_m3`` [m³] and ``water_pumped_m3_h``, ``water_delivered_m3_h`` [m³/h], then
    for each load
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
            "wind_kw": run.series["wind_kw"],
            "generator_kw": run.series["generator_kw"],
            "battery_kw": run.series["battery_kw"],
            "soc_pct": 100.0 * run.series["soc_kwh"] / kwh if kwh > 0 else 0.0,
            "planned_cut": y.planned_cut.astype(int),
        }
        if sim.water is not None:  # the water pump: its power, and the tank at the step's end
            cols["pump_kw"] = run.series["pump_kw"]
            cols["tank_m3"] = run.series["tank_m3"]
            cols["water_pumped_m3_h"] = run.series["water_pumped_m3_h"]
            cols["water_delivered_m3_h"] = run.series["water_delivered_m3_h"]
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
    motor = motor_start_check(site, start_others_kw(site, all_loads, weathers))
    warnings = list(inputs.warnings)
    if motor is not None and not motor.ok:
        warnings.append("motor start: " + motor.advice)
    if peak > design.inverter_kw:
        warnings.append(f"peak load {peak:.1f} kW exceeds the inverter's {design.inverter_kw:g} kW")
    if p50["losses_pct"] > LOSSES_TARGET_PCT:
        warnings.append(f"conversion losses {p50['losses_pct']:.1f} % of the energy delivered "
                        f"exceed the {LOSSES_TARGET_PCT:g} % target")
    last = last_year_check(site, weathers, all_loads, design)
    if last is not None:
        warnings.extend(last.pop("warnings"))
    pump = design_pump(site, design)
    return Simulation(design, results, p50, p90, warnings,
                      motor.as_dict() if motor is not None else None, site.customers_served,
                      _unit_figures(site, design, results), last,
                      _water(site, design, results, p50), None if pump is None else pump.id)


def _water(site: Site, design: Design, results: list[YearResult],
           p50: Mapping[str, float]) -> dict[str, Any] | None:
    """The ``water`` object of the simulation (P50 figures, each month's median year, the
    cost of water from the design's economics), or None without a water pump."""
    pump = design_pump(site, design)
    load = water_pump(site)
    if pump is None or load is None:
        return None
    months = []
    for y in results:
        dt_h = _dt_h(y.index)
        months.append(monthly_m3(y.index, water_demand_m3(load, y.index) / dt_h,
                                 y.run.series["water_delivered_m3_h"], dt_h))
    monthly = [{"month": m + 1, **{k: float(np.median([ys[m][k] for ys in months]))
                                    for k in ("demand_m3", "delivered_m3", "unmet_m3")}}
               for m in range(12)]
    return water_json(site, p50, tank_m3=design.tank_m3, pump=pump.id, monthly=monthly,
                      vnd_per_m3=design_water_vnd_per_m3(site, design, p50, pump))


def design_water_vnd_per_m3(site: Site, design: Design, figures: Mapping[str, float],
                            pump: PumpModel) -> float:
    """The cost of water of ``design`` from its (P50) figures [VND/m³]
    (:func:`sizing.economics.water_vnd_per_m3`), priced on its bill of materials as the
    optimiser prices it (:func:`sizing.bom.priced`)."""
    d = Designs(np.array([design.kwp]), np.array([design.kwh]),
                np.array([design.inverter_kw]), np.array([design.generator_kw]),
                np.array([design.turbines]), np.array([design.tank_m3]), np.zeros(1))
    life = figures["battery_life_years"] if design.kwh > 0 else np.inf
    op = Operation(np.array([figures["served_kwh"]]), np.array([figures["generator_fuel_l"]]),
                   np.array([figures["generator_hours"]]), np.array([life], dtype=float),
                   pv_used_kwh(np.array([figures["pv_ac_kwh"]]), figures["curtailed_kwh"],
                               figures["wind_curtailed_kwh"]))
    plant = Plant(generator_units=generator_units(site),
                  turbine_kw=wind_rated_kw(site, 1.0) if site.wind else 0.0,
                  pump_vnd=np.array([pump.price_vnd]),
                  pump_life_years=np.array([pump.life_years]),
                  pv_degradation_pct_per_year=pv_degradation_pct_per_year(site))
    bill = bom.priced([(site, asdict(design), pump)], bom.site_prices(site),
                      generator_units=plant.generator_units, turbine_kw=plant.turbine_kw)
    return float(water_vnd_per_m3(site.economics, d, op, site.generator, plant=plant,
                                  priced=bill, pump_kwh=np.array([figures["pump_kwh"]]),
                                  delivered_m3=np.array([figures["water_delivered_m3"]]))[0])


def _unit_figures(site: Site, design: Design, results: list[YearResult]) -> list[dict[str, Any]]:
    """Each generator unit's name, rating and median-year figures (:data:`UNIT_KEYS`)."""
    ratings = units_kw(site, design.generator_kw)
    if design.generator_kw <= 0:
        return []
    per_year = np.array([y.run.generator_units for y in results])  # [years, G, 4]
    median = np.median(per_year, axis=0)
    return [{"name": g.name, "kw": float(kw),
             **{k: float(median[j, i]) for i, k in enumerate(UNIT_KEYS)}}
            for j, (g, kw) in enumerate(zip(site.generators, ratings, strict=True))]


def last_year_check(site: Site, weathers: Sequence[pd.DataFrame], all_loads: list[LoadSet],
                    design: Design) -> dict[str, Any] | None:
    """The design with every load grown to the project's last year (:func:`last_year_loads`),
    over the same weather and outage years: its median unmet fraction and SAIDI, and a
    warning for each ``[search]`` limit (or programme target) it breaks. None when no load
    grows."""
    if not any(ld.load_growth_pct_per_year for ld in site.loads):
        return None
    figures = []
    for k, (weather, loads) in enumerate(zip(weathers, all_loads, strict=True)):
        dt_h = _dt_h(pd.DatetimeIndex(weather.index))
        figures.append(simulate_year(site, weather, last_year_loads(site, loads, dt_h), k,
                                     design).figures)
    p50, _ = p50_p90(figures)
    year = site.economics.lifetime_years
    search = site.search
    max_unmet = search.max_unmet_fraction if search else Search().max_unmet_fraction
    max_saidi = search.max_saidi_minutes if search else Search().max_saidi_minutes
    warnings = []
    if p50["unmet_load_fraction"] > max_unmet + 1e-12:
        warnings.append(f"in project year {year}, with the loads grown, "
                        f"{100 * p50['unmet_load_fraction']:.1f} % of the demand is unmet "
                        f"(limit {100 * max_unmet:g} %): plan to extend the system")
    if p50["saidi_minutes"] > max_saidi + 1e-9:
        warnings.append(f"in project year {year}, with the loads grown, SAIDI reaches "
                        f"{p50['saidi_minutes']:.0f} min/year (limit {max_saidi:g})")
    return {"year": year, "unmet_load_fraction": p50["unmet_load_fraction"],
            "saidi_minutes": p50["saidi_minutes"], "warnings": warnings}
