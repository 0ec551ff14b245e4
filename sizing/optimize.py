"""The design optimiser: every candidate of the ``[search]`` grid, dispatched and costed.

Candidates are kWp × battery kWh × inverter kW × generator kW (the lead unit's; 0 = none) ×
wind turbines (the count of the single ``[[wind]]`` entry) × water tank m³ × water pump (the
``[search] pumps``' catalogue models, :func:`sizing.water.candidate_pumps`). A site without
``[battery]`` is searched with none (kWh fixed at 0). All of them run
through the sizing engine's compiled dispatch kernel (:func:`sizing.dispatch.dispatch_many`) for
each simulated year (weather and forced outages); the winner is the feasible design of lowest
net present cost. Feasible means every constraint of ``[search]`` holds at its
``reliability_level``: the median year (P50) or the year not exceeded in 90 % of years (P90,
the default). SAIDI and SAIFI come from :mod:`ieee1366`, as everywhere else.

Besides the winner the result explains itself (unlike HOMER): the constraint that binds, the
nearest rivals, the Pareto front of NPC against unmet energy, and a warning when the winner sits
on the edge of a search range.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ieee1366 import ACC_KEYS, SAIDI_TARGET_MINUTES, SAIFI_TARGET_COUNT, indices_from
from sitefile import (
    CHEMISTRY_PRESETS,
    DEFAULT_C_RATE,
    SURGE_RATIO,
    Generator,
    Range,
    Site,
)
from sitefile.presets import PUMP_START_MULTIPLIER
from sizing import bom, simulate
from sizing.dispatch import DispatchConfig, DispatchInputs, ManyResult, dispatch_many
from sizing.economics import (
    Costs,
    Designs,
    DieselOnly,
    Operation,
    Plant,
    Priced,
    costs,
    diesel_only,
    diesel_only_kw,
    pv_degradation_pct_per_year,
    pv_used_kwh,
    water_vnd_per_m3,
)
from sizing.errors import SizingError
from sizing.inputs import SiteInputs
from sizing.loads import load_growth_factors
from sizing.prices import PriceTable
from sizing.pv import pv_kw_per_kwp
from sizing.reliability import battery_life_years, motor_start_check
from sizing.water import candidate_pumps, water_json, water_pump
from sizing.wind import capacity_factor

DIMENSIONS = ("kwp", "kwh", "inverter_kw", "generator_kw", "turbines", "tank_m3", "pump")
LABELS = {"kwp": "PV kWp", "kwh": "battery kWh", "inverter_kw": "inverter kW",
          "generator_kw": "generator kW", "turbines": "wind turbines", "tank_m3": "tank m³",
          "pump": "water pump"}
WATER_DIMENSIONS = ("tank_m3", "pump")
"""Searched only on a site with a water pump (its designs have none: tank 0, pump 0)."""
CATEGORICAL = frozenset({"pump"})
"""Dimensions whose values are choices (an index into a list), not sizes."""
WATER_KEYS = ("water_demand_m3", "water_delivered_m3", "water_unmet_m3", "water_pumped_m3",
              "pump_kwh", "pump_hours", "hydraulic_kwh", "tank_min_m3")
# Memory per candidate while searching (design arrays, per-year summaries, costs) [bytes].
BYTES_PER_CANDIDATE = 3000
MAX_SEARCH_BYTES = 1_500_000_000


class SearchError(SizingError):
    """A ``[search]`` section that cannot be searched (no range, empty, or too many candidates)."""


# --------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class Grid:
    """The candidate designs, and the values searched along each dimension."""

    designs: Designs
    axes: dict[str, np.ndarray]
    searched: dict[str, bool]  # True where the dimension comes from a [search] range
    pump_ids: tuple[str, ...] = ()  # the water pump candidates' ids, by index (``pump``)


def _range_values(r: Range) -> np.ndarray:
    """The values of a search range, rounded to shed float noise."""
    return np.round(r.min + r.step * np.arange(r.count), 9)


def _fixed_value(site: Site, dim: str) -> float | None:
    """The site's own size along ``dim``, used when ``[search]`` has no range for it."""
    if dim == "kwp":
        return site.pv.kwp if site.pv else None
    if dim == "kwh":
        return site.battery.kwh if site.battery else 0.0
    if dim == "inverter_kw":
        return site.inverter.kw if site.inverter else None
    if dim == "turbines":
        return simulate.site_turbines(site)
    if dim == "tank_m3":
        return site.tank.m3 if site.tank is not None and site.water_pumps else 0.0
    if dim == "pump":
        return 0.0  # the first candidate: the site's own pump without [search] pumps
    return site.generator.kw if site.generator else 0.0


def _search_axis(site: Site, dim: str) -> np.ndarray | None:
    """The values ``[search]`` gives along ``dim`` (None: the site's own size): a range; for
    ``pump`` the candidates' indices; nothing for ``kwh`` without ``[battery]`` and for
    ``tank_m3`` and ``pump`` without a water pump."""
    search = site.search
    assert search is not None
    if dim == "pump":
        return (np.arange(len(search.pumps), dtype=float)
                if search.pumps and site.water_pumps else None)
    if (dim == "kwh" and site.battery is None) or (dim == "tank_m3" and not site.water_pumps):
        return None
    rng: Range | None = getattr(search, dim)
    return None if rng is None else _range_values(rng)


def site_dimensions(site: Site) -> tuple[str, ...]:
    """The dimensions of ``site``'s search: :data:`DIMENSIONS`, less the water pump's
    (:data:`WATER_DIMENSIONS`) on a site without one."""
    if site.water_pumps:
        return DIMENSIONS
    return tuple(d for d in DIMENSIONS if d not in WATER_DIMENSIONS)


def build_grid(site: Site) -> Grid:
    """All candidate designs of ``site``'s ``[search]`` ranges (full factorial).

    Raises :class:`SearchError` when there is no ``[search]``, when a dimension has neither a
    range nor a size in the site, when no candidate could supply energy, or when the grid holds
    more candidates than memory allows (the site file already refused more than
    ``search.max_candidates``: ``sitefile.checks.search_grid_within_max_candidates``).
    """
    search = site.search
    if search is None:
        raise SearchError("section [search] is required: give ranges such as "
                          "kwp = { min = 1, max = 10, step = 1 }")
    axes: dict[str, np.ndarray] = {}
    searched: dict[str, bool] = {}
    dims = site_dimensions(site)
    for dim in dims:
        values = _search_axis(site, dim)
        if values is not None:
            axes[dim] = values
            searched[dim] = True
            continue
        fixed = _fixed_value(site, dim)
        if fixed is None:
            raise SearchError(f"search.{dim}: no range given and the site has no size for it; "
                              f"add {dim} = {{ min = …, max = …, step = … }} to [search]")
        axes[dim] = np.array([float(fixed)])
        searched[dim] = False
    if not any(searched.values()):
        raise SearchError("[search] has no range: give at least one of "
                          + ", ".join(f"search.{d}" for d in dims))
    if axes["inverter_kw"].max() <= 0:
        raise SearchError("search.inverter_kw: every candidate has a 0 kW inverter, so no load "
                          "can be served; raise its max")
    if axes["kwp"].max() <= 0 and axes["generator_kw"].max() <= 0 and axes["turbines"].max() <= 0:
        raise SearchError("search.kwp, search.generator_kw and search.turbines are all 0 for "
                          "every candidate: nothing would produce energy")
    counts = {d: len(v) for d, v in axes.items()}
    total = int(np.prod(list(counts.values())))
    detail = " × ".join(f"{counts[d]} {d}" for d in dims)
    if total * BYTES_PER_CANDIDATE > MAX_SEARCH_BYTES:
        raise SearchError(
            f"[search] holds {total:,} candidates ({detail}): about "
            f"{total * BYTES_PER_CANDIDATE / 1e9:.1f} GB, too much for memory; use larger steps")
    mesh = np.meshgrid(*(axes[d] for d in dims), indexing="ij")
    designs = Designs(**{d: m.ravel().astype(float) for d, m in zip(dims, mesh, strict=True)})
    return Grid(designs, axes, searched, tuple(p.id for p in candidate_pumps(site)))


# --------------------------------------------------------------------------- evaluation


Level = Literal["p50", "p90"]


@dataclass(frozen=True)
class Performance:
    """What each design does over the simulated years: reliability at the search's level (P50
    or P90 over the years), energy and costs in the mean year."""

    level: Level
    unmet_fraction: np.ndarray  # at the level [0-1]
    critical_unmet_fraction: np.ndarray  # at the level [0-1]
    saidi_minutes: np.ndarray  # at the level [min/year]
    saifi_count: np.ndarray  # at the level [1/year]
    saidi_forced_minutes: np.ndarray  # at the level: interruptions begun in a forced outage
    unmet_kwh: np.ndarray  # mean year [kWh/year]
    operation: Operation  # mean year, for the economics
    motor_start_ratio: np.ndarray  # largest DOL start / inverter surge rating [-]
    wind_kwh: np.ndarray  # mean year: the turbines' output [kWh/year]
    wind_curtailed_kwh: np.ndarray  # mean year: of it left unused [kWh/year]
    saidi_by_level: dict[str, np.ndarray]  # "p50", "p90" → [min/year]
    saifi_by_level: dict[str, np.ndarray]  # "p50", "p90" → [1/year]
    unmet_water_fraction: np.ndarray  # at the level: of the field's water need [0-1]
    water: dict[str, np.ndarray]  # mean year: the kernel's water figures (WATER_KEYS)


def constraint_values(site: Site, perf: Performance) -> dict[str, tuple[np.ndarray, float]]:
    """Each active constraint: the designs' values and the limit they must not exceed."""
    search = site.search
    assert search is not None
    out = {
        "max_unmet_fraction": (perf.unmet_fraction, search.max_unmet_fraction),
        "max_critical_unmet_fraction": (perf.critical_unmet_fraction,
                                        search.max_critical_unmet_fraction),
    }
    out["max_saidi_minutes"] = (perf.saidi_minutes, search.max_saidi_minutes)
    out["max_saifi_count"] = (perf.saifi_count, search.max_saifi_count)
    if site.water_pumps:
        out["max_unmet_water_fraction"] = (perf.unmet_water_fraction,
                                           search.max_unmet_water_fraction)
    if perf.motor_start_ratio.max(initial=0.0) > 0:
        out["motor_start_surge"] = (perf.motor_start_ratio, 1.0)
    return out


def start_others(site: Site, weather: Sequence[pd.DataFrame],
                 profiles_kw: Mapping[str, np.ndarray]) -> list[dict[str, float]]:
    """:func:`sizing.simulate.start_others_kw` of the search's years, for each candidate water
    pump (one entry on a site without a water pump): the load running when each motor starts,
    which depends on the loads and the weather, not on the sizes."""
    engine = engine_site(site)
    loads = simulate.year_loads(engine, weather, profiles_kw)
    pumps = range(len(candidate_pumps(site))) if site.water_pumps else [-1]
    assert engine.inverter is not None
    return [simulate.start_others_kw(_motor_site(engine, engine.inverter.kw, p), loads, weather)
            for p in pumps]


def _motor_site(site: Site, inverter_kw: float, pump: float) -> Site:
    """``site`` with an inverter of ``inverter_kw`` and the ``pump``-th candidate water pump
    (-1: its own): all the motor-start check reads of a design."""
    return apply_design(site, {"kwp": 0.0, "kwh": 0.0, "inverter_kw": float(inverter_kw),
                               "generator_kw": 0.0, "turbines": 0.0,
                               "pump": float(pump) if site.water_pumps else -1.0})


def motor_start_ratio(site: Site, designs: Designs,
                      others_kw: Sequence[Mapping[str, float]]) -> np.ndarray:
    """Each design's largest direct-on-line motor start, plus what runs with it when it
    starts, over its inverter's surge rating [-]: the engine's
    :func:`sizing.reliability.motor_start_check` on ``others_kw`` (:func:`start_others`, by
    the design's water pump)."""
    pairs = np.stack([designs.inverter_kw, designs.pump], axis=1)
    values, where = np.unique(pairs, axis=0, return_inverse=True)
    ratios = np.zeros(len(values))
    for k, (kw, pump) in enumerate(values):
        # the design's water pump: a fixed-speed candidate starts direct on line
        check = motor_start_check(_motor_site(site, kw, pump), others_kw[max(round(pump), 0)])
        if check is not None:
            ratios[k] = ((check.start_kw + check.running_kw) / check.surge_kw
                         if check.surge_kw > 0 else np.inf)
    return ratios[np.ravel(where)]


def feasible_mask(site: Site, perf: Performance) -> np.ndarray:
    """True for the designs that meet every constraint."""
    ok = np.ones(len(perf.unmet_fraction), dtype=bool)
    for values, limit in constraint_values(site, perf).values():
        ok &= values <= limit + 1e-12
    return ok


def pareto_front(npc: np.ndarray, unmet: np.ndarray) -> np.ndarray:
    """Indices of the designs not beaten on both NPC and unmet energy, by rising NPC."""
    order = np.lexsort((unmet, npc))
    best = np.minimum.accumulate(unmet[order])
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = unmet[order][1:] < best[:-1] - 1e-12
    return order[keep]


@dataclass(frozen=True)
class Edge:
    """A winner's size on the edge of its search range."""

    dimension: str
    value: float
    side: Literal["top", "bottom"]

    def message(self) -> str:
        """The warning, in English."""
        if self.side == "top":
            return (f"the best {LABELS[self.dimension]} ({self.value:g}) is the top of its search "
                    f"range: widen search.{self.dimension}.max, a larger size may be cheaper")
        return (f"the best {LABELS[self.dimension]} ({self.value:g}) is the bottom of its search "
                f"range: lower search.{self.dimension}.min, a smaller size may be cheaper")


def range_edges(grid: Grid, design: Designs) -> list[Edge]:
    """Where a winner sits on the edge of a searched range (the classic HOMER mistake).

    The bottom of a range at 0 means "none of it" and is no edge."""
    edges = []
    for dim, values in grid.axes.items():
        if not grid.searched[dim] or len(values) < 2 or dim in CATEGORICAL:
            continue
        v = float(getattr(design, dim)[0])
        if np.isclose(v, values[-1]):
            edges.append(Edge(dim, v, "top"))
        elif np.isclose(v, values[0]) and values[0] > 0:
            edges.append(Edge(dim, v, "bottom"))
    return edges



def apply_design(site: Site, design: dict[str, float]) -> Site:
    """``site`` with the sizes of ``design``: the battery keeps its C-rates, the inverter its
    surge ratio; the generator units keep their ratio to the lead unit (generator 0 removes
    them; a new one takes the model's defaults); the single ``[[wind]]`` entry gets the
    ``turbines`` count (0 removes it); the ``[tank]`` gets ``tank_m3`` and the water pump
    the ``pump``-th of :func:`sizing.water.candidate_pumps` (-1 or absent: its own). A site
    without ``[battery]`` stays without one."""
    assert site.pv is not None and site.inverter is not None
    b, inv = site.battery, site.inverter
    kwh = design["kwh"]
    battery = None
    if b is not None:
        c_charge = b.max_charge_kw / b.kwh if b.kwh > 0 else DEFAULT_C_RATE
        c_discharge = b.max_discharge_kw / b.kwh if b.kwh > 0 else DEFAULT_C_RATE
        battery = b.model_copy(update={"kwh": kwh, "max_charge_kw": round(c_charge * kwh, 6),
                                       "max_discharge_kw": round(c_discharge * kwh, 6)})
    surge_ratio = inv.surge_kw / inv.kw if inv.kw > 0 else SURGE_RATIO
    gen_kw = design["generator_kw"]
    generators: list[Generator] = []
    if gen_kw > 0:
        ratings = simulate.units_kw(site, gen_kw)
        generators = ([g.model_copy(update={"kw": round(float(kw), 6)})
                       for g, kw in zip(site.generators, ratings, strict=True)]
                      if site.generators else [Generator.model_validate({"kw": gen_kw})])
    wind = site.wind
    if len(site.wind) == 1:
        count = round(design.get("turbines", site.wind[0].count))
        wind = [site.wind[0].model_copy(update={"count": count})] if count > 0 else []
    tank = site.tank
    if tank is not None and site.water_pumps and "tank_m3" in design:
        tank = tank.model_copy(update={"m3": design["tank_m3"]})
    loads = list(site.loads)
    load = water_pump(site)
    if load is not None and design.get("pump", -1.0) >= 0:
        model = candidate_pumps(site)[round(design["pump"])]
        loads[loads.index(load)] = load.model_copy(update={
            "pump": model, "drive": model.drive,
            "start_multiplier": PUMP_START_MULTIPLIER.get(model.drive, 1.0)})
    return site.model_copy(update={
        "pv": site.pv.model_copy(update={"kwp": design["kwp"]}),
        "battery": battery,
        "tank": tank,
        "loads": loads,
        "inverter": inv.model_copy(update={"kw": design["inverter_kw"],
                                           "surge_kw": round(surge_ratio * design["inverter_kw"],
                                                             6)}),
        "generators": generators,
        "wind": wind,
    })


def design_dict(d: Designs, i: int) -> dict[str, float]:
    """One design as a plain mapping of its sizes."""
    return {dim: float(getattr(d, dim)[i]) for dim in DIMENSIONS}


def explain(site: Site, designs: Designs, perf: Performance, *, npc: np.ndarray,
            ok: np.ndarray, best: int, n_rivals: int = 3) -> dict[str, Any]:
    """Why ``best`` won: its binding constraint, the next feasible designs, and the cheaper
    designs that fail (with the constraint each breaks)."""
    cons = constraint_values(site, perf)
    slack = {}
    for name, (values, limit) in cons.items():
        v = float(values[best])
        slack[name] = (1.0 - v / limit) if limit > 0 else (0.0 if v <= 0 else -1.0)
    binding = min(slack, key=lambda k: slack[k])
    order = np.argsort(npc, kind="stable")
    feasible_after = [int(i) for i in order if ok[i] and i != best and npc[i] >= npc[best]]
    cheaper = [int(i) for i in order[::-1] if not ok[i] and npc[i] < npc[best]]

    def rival(i: int) -> dict[str, Any]:
        broken = [name for name, (values, limit) in cons.items()
                  if values[i] > limit + 1e-12]
        return {"design": design_dict(designs, i), "npc_vnd": float(npc[i]),
                "npc_delta_vnd": float(npc[i] - npc[best]),
                "unmet_fraction": float(perf.unmet_fraction[i]),
                "critical_unmet_fraction": float(perf.critical_unmet_fraction[i]),
                "saidi_minutes": float(perf.saidi_minutes[i]),
                "saifi_count": float(perf.saifi_count[i]), "violates": broken}

    return {
        "binding_constraint": binding,
        "values": {name: float(values[best]) for name, (values, _) in cons.items()},
        "limits": {name: float(limit) for name, (_, limit) in cons.items()},
        "slack": slack,
        "next_feasible": [rival(i) for i in feasible_after[:n_rivals]],
        "cheaper_infeasible": [rival(i) for i in cheaper[:n_rivals]],
    }


# --------------------------------------------------------------------------- the search

Progress = Callable[[int, int], None]
YearInputs = tuple[DispatchInputs, DispatchConfig]
CHUNK = 2048  # designs per kernel call, so the progress bar moves
HOURS_PER_YEAR = 8760.0  # battery wear is reported per year of this length [h]


def run_designs(inp: DispatchInputs, cfg: DispatchConfig, d: Designs,
                units: np.ndarray | None = None) -> ManyResult:
    """The sizing engine's compiled kernel over the designs ``d``; ``units``: each unit's kW
    per kW of the lead unit ([G], :func:`sizing.simulate.units_kw`; default one unit)."""
    gen = d.generator_kw if units is None or units.size == 1 else np.multiply.outer(
        d.generator_kw, units)
    return dispatch_many(inp, cfg, d.kwp, d.kwh, inverter_kw=d.inverter_kw, generator_kw=gen,
                         turbines=d.turbines, tank_m3=d.tank_m3,
                         pump=np.rint(d.pump).astype(np.int64))


def at_level(values: np.ndarray, level: Level) -> np.ndarray:
    """[years, designs] → [designs]: the median year (``p50``) or the year not exceeded in 90 %
    of years (``p90``) of a figure where less is better."""
    return np.percentile(values, 50 if level == "p50" else 90, axis=0)


def evaluate(site: Site, years: list[YearInputs], designs: Designs, *,
             start_others_kw: Sequence[Mapping[str, float]],
             progress: Progress | None = None, level: Level | None = None) -> Performance:
    """Dispatch every design in every simulated year with the compiled kernel.

    ``start_others_kw``: the load running when each motor starts (:func:`start_others`).

    Reliability figures are taken at ``level`` (default the search's ``reliability_level``);
    energy, fuel and battery wear (the kernel's rainflow count, per year of 8760 h) are the
    mean year's.
    """
    level = level or (site.search.reliability_level if site.search else "p90")
    calendar_life = (site.battery.calendar_life_years if site.battery is not None
                     else float(CHEMISTRY_PRESETS["lfp"]["calendar_life_years"]))
    n, n_years = len(designs), len(years)
    keys = ("unmet_kwh", "load_kwh", "critical_unmet_kwh", "critical_load_kwh", "served_kwh",
            "generator_fuel_l", "generator_hours", "battery_cycle_damage", "wind_kwh",
            "wind_curtailed_kwh", "pv_kwh", "curtailed_kwh", *WATER_KEYS,
            *ACC_KEYS, *(f"forced_{k}" for k in ACC_KEYS))
    out = {k: np.zeros((n_years, n)) for k in keys}
    fractions = np.ones(n_years)
    units = simulate.units_kw(site, 1.0)
    done = 0
    for y, (inp, cfg) in enumerate(years):
        for start in range(0, n, CHUNK):
            part = slice(start, min(start + CHUNK, n))
            res = run_designs(inp, cfg, designs.take(np.arange(part.start, part.stop)), units)
            for k in keys:
                out[k][y, part] = res.column(k)
            done += part.stop - part.start
            if progress is not None:
                progress(done, n * n_years)
        fractions[y] = inp.pv_kw_per_kwp.size * cfg.dt_h / HOURS_PER_YEAR
        out["battery_cycle_damage"][y] /= fractions[y]
    with np.errstate(divide="ignore", invalid="ignore"):
        unmet = np.where(out["load_kwh"] > 0, out["unmet_kwh"] / out["load_kwh"], 0.0)
        crit = np.where(out["critical_load_kwh"] > 0,
                        out["critical_unmet_kwh"] / out["critical_load_kwh"], 0.0)
        water = np.where(out["water_demand_m3"] > 0,
                         out["water_unmet_m3"] / out["water_demand_m3"], 0.0)
    customers = site.customers_served
    per_year = fractions[:, None]  # each year's accumulators, brought to a year of 8760 h
    every = indices_from([out[k] / per_year for k in ACC_KEYS], customers)
    forced = indices_from([out["forced_" + k] / per_year for k in ACC_KEYS], customers)
    saidi = np.asarray(every.saidi_minutes) * np.ones((n_years, n))
    saifi = np.asarray(every.saifi_count) * np.ones((n_years, n))
    mean = {k: v.mean(axis=0) for k, v in out.items()}
    return Performance(
        level=level,
        unmet_fraction=at_level(unmet, level),
        critical_unmet_fraction=at_level(crit, level),
        saidi_minutes=at_level(saidi, level),
        saifi_count=at_level(saifi, level),
        saidi_forced_minutes=at_level(np.asarray(forced.saidi_minutes) * np.ones((n_years, n)),
                                      level),
        unmet_kwh=mean["unmet_kwh"],
        motor_start_ratio=motor_start_ratio(site, designs, start_others_kw),
        wind_kwh=mean["wind_kwh"],
        wind_curtailed_kwh=mean["wind_curtailed_kwh"],
        operation=Operation(
            served_kwh=mean["served_kwh"],
            fuel_l=mean["generator_fuel_l"],
            generator_hours=mean["generator_hours"],
            battery_life_years=np.where(
                designs.kwh > 0,
                battery_life_years(mean["battery_cycle_damage"], calendar_life),
                np.inf),
            pv_used_kwh=pv_used_kwh(mean["pv_kwh"], mean["curtailed_kwh"],
                                    mean["wind_curtailed_kwh"]),
        ),
        saidi_by_level={lv: at_level(saidi, lv) for lv in ("p50", "p90")},
        saifi_by_level={lv: at_level(saifi, lv) for lv in ("p50", "p90")},
        unmet_water_fraction=at_level(water, level),
        water={k: mean[k] for k in WATER_KEYS},
    )


def engine_site(site: Site) -> Site:
    """The site as the engine should see it during a search: a site without ``[generator]``
    gets the generator model's defaults (fuel curve, minimum load), so that generator
    candidates burn fuel."""
    if site.generators:
        return site
    return site.model_copy(update={"generators": [Generator.model_validate({"kw": 1.0})]})


def design_prices(site: Site, designs: Designs, plant: Plant, prices: PriceTable) -> Priced:
    """Each design's bill of materials by part (:func:`sizing.bom.priced`): the capital and
    the replacements the economics price, item by item as the dossier prints them."""
    sized = []
    for i in range(len(designs)):
        design = design_dict(designs, i)
        one = apply_design(site, design)
        sized.append((one, design, one.water_pumps[0].pump if one.water_pumps else None))
    return bom.priced(sized, prices, generator_units=plant.generator_units,
                      turbine_kw=plant.turbine_kw)


def site_plant(site: Site, profiles_kw: Mapping[str, np.ndarray]) -> Plant:
    """What the economics need beyond the designs' sizes: the generator units per kW of the
    lead unit, one turbine's rating, the demand's growth over the project (None when no
    load grows), the water-pump candidates and the PV's degradation."""
    growth = None
    if any(ld.load_growth_pct_per_year for ld in site.loads):
        growth = load_growth_factors(site, site.economics.lifetime_years, profiles_kw)
    pumps = candidate_pumps(site)
    return Plant(generator_units=simulate.generator_units(site),
                 turbine_kw=simulate.wind_rated_kw(site, 1.0) if site.wind else 0.0,
                 growth=growth,
                 pump_vnd=np.array([p.price_vnd for p in pumps]) if pumps else None,
                 pump_life_years=np.array([p.life_years for p in pumps]) if pumps else None,
                 pv_degradation_pct_per_year=pv_degradation_pct_per_year(site))


def year_inputs(site: Site, weather: list[pd.DataFrame],
                profiles_kw: Mapping[str, np.ndarray]) -> list[YearInputs]:
    """The dispatch kernel's inputs for each simulated year, built by the sizing engine (PV
    modelled once per distinct weather frame; each year has its own forced outages)."""
    engine = engine_site(site)
    loads = simulate.year_loads(engine, weather, profiles_kw)
    pv: dict[int, np.ndarray] = {}
    out = []
    for k, (w, year_loads) in enumerate(zip(weather, loads, strict=True)):
        if id(w) not in pv:
            pv[id(w)] = pv_kw_per_kwp(engine, w)
        out.append(simulate.dispatch_setup(engine, w, year_loads, k, pv[id(w)]))
    return out


@dataclass(frozen=True)
class Result:
    """The outcome of a search."""

    grid: Grid
    perf: Performance
    costs: Costs
    plant: Plant
    feasible: np.ndarray
    best: int | None
    pareto: np.ndarray
    explanation: dict[str, Any] | None
    warnings: list[str]
    edges: list[Edge]
    diesel: DieselOnly
    sensitivity: dict[str, Any]
    evaluated: int  # design-years simulated: the search, its sensitivity cases and the baseline
    elapsed_s: float  # [s] all of it, once the kernel's inputs are built and it is compiled
    inputs: SiteInputs  # the weather years and load profiles searched over
    priced: Priced  # each design's bill of materials by part (the costs' prices)
    site: Site | None = None  # the site searched (for its water figures)
    water_vnd_per_m3: np.ndarray | None = None  # each design's cost of water [VND/m³]


def _winner(npc: np.ndarray, ok: np.ndarray) -> int | None:
    """The feasible design of lowest NPC (the first on ties), or None (also when no feasible
    design has a price: its bill of materials could not be priced)."""
    ok = ok & np.isfinite(npc)
    if not ok.any():
        return None
    masked = np.where(ok, npc, np.inf)
    return int(np.argmin(masked))


def diesel_baseline(site: Site, years: list[YearInputs]) -> DieselOnly:
    """The diesel-only baseline, simulated by the same kernel with no PV and no battery."""
    peak = max(float(inp.load_kw.sum(axis=0).max() + inp.pump_kw.sum()) for inp, _ in years)
    kw = diesel_only_kw(peak)
    alone = Designs(np.zeros(1), np.zeros(1), np.zeros(1), np.full(1, kw))
    # One generator: the first unit's failure draws; the electric loads only (a water pump
    # runs on the renewables' surplus, which the baseline has none of).
    figures = [run_designs(inp._replace(gen_draw=np.atleast_2d(inp.gen_draw)[:1],
                                        water_demand_m3=np.zeros(0)), cfg, alone)
               for inp, cfg in years]
    mean = {k: float(np.mean([f.column(k)[0] for f in figures]))
            for k in ("generator_fuel_l", "generator_hours", "served_kwh")}
    return diesel_only(site.economics, site.generator, kw, fuel_l=mean["generator_fuel_l"],
                       generator_hours=mean["generator_hours"], served_kwh=mean["served_kwh"])


def _scaled_load(years: list[YearInputs], factor: float) -> list[YearInputs]:
    """The same years with every load's energy × ``factor`` (pumps capped by their window)."""
    out = []
    for inp, cfg in years:
        window_kwh = inp.pump_kw * inp.pump_steps_left.max(axis=1, initial=0) * cfg.dt_h
        out.append((inp._replace(load_kw=inp.load_kw * factor,
                                 pump_daily_kwh=np.minimum(inp.pump_daily_kwh * factor,
                                                           window_kwh),
                                 water_demand_m3=inp.water_demand_m3 * factor), cfg))
    return out


def _case(site: Site, designs: Designs, perf: Performance, c: Costs, *, best: int | None,
          winner: int | None) -> dict[str, Any]:
    """One sensitivity case: how the base winner fares, and the case's own winner."""
    ok = feasible_mask(site, perf)
    case: dict[str, Any] = {"feasible_designs": int(ok.sum())}
    if winner is not None:
        case["base_winner"] = {
            "feasible": bool(ok[winner]), "npc_vnd": float(c.npc_vnd[winner]),
            "unmet_fraction": float(perf.unmet_fraction[winner]),
            "critical_unmet_fraction": float(perf.critical_unmet_fraction[winner]),
            "saidi_minutes": float(perf.saidi_minutes[winner])}
    case["best"] = None if best is None else {
        "design": design_dict(designs, best), "npc_vnd": float(c.npc_vnd[best])}
    return case


def sensitivity(site: Site, grid: Grid, years: list[YearInputs], perf: Performance, *,
                start_others_kw: Sequence[Mapping[str, float]], npc: np.ndarray,
                winner: int | None, plant: Plant, priced: Priced,
                load_growth_pct: float = 20.0,
                rival_npc_factor: float = 1.2,
                progress: Progress | None = None) -> dict[str, Any]:
    """How the answer moves with the fuel price (±25 %) and the load (+``load_growth_pct``).

    With the grown load, only designs whose base NPC is within ``rival_npc_factor`` of the
    winner's are simulated again (the others cannot become the cheapest feasible design unless
    the answer moves that far, which the case then reports as no design found).
    """
    d = grid.designs
    out: dict[str, Any] = {"fuel_price": {}, "load_growth": {}, "design_years": 0}
    for factor in (0.75, 1.25):
        econ = site.economics.model_copy(
            update={"fuel_vnd_per_l": site.economics.fuel_vnd_per_l * factor})
        c = costs(econ, d, perf.operation, site.generator, plant=plant, priced=priced)
        best = _winner(c.npc_vnd, feasible_mask(site, perf))
        out["fuel_price"][f"{factor:.2f}"] = _case(site, d, perf, c, best=best, winner=winner)
    if winner is None:
        return out
    subset = np.nonzero(npc <= rival_npc_factor * npc[winner])[0]
    sub = d.take(subset)
    base = len(d) * len(years)  # the main search's design-years, for the progress bar
    more = None if progress is None else (
        lambda done, total: progress(base + done, base + total))
    grow = 1 + load_growth_pct / 100
    # the load running at each start grows with the rest (the water pump's too: an upper bound)
    grown_others = [{k: kw * grow for k, kw in o.items()} for o in start_others_kw]
    grown = evaluate(site, _scaled_load(years, grow), sub, start_others_kw=grown_others,
                     progress=more)
    c = costs(site.economics, sub, grown.operation, site.generator, plant=plant,
              priced=priced.take(subset))
    best = _winner(c.npc_vnd, feasible_mask(site, grown))
    case = _case(site, sub, grown, c, best=best, winner=int(np.searchsorted(subset, winner)))
    case["designs_simulated"] = len(sub)
    out["load_growth"][f"{load_growth_pct:g}"] = case
    out["design_years"] += len(sub) * len(years)
    return out


def why_infeasible(site: Site, perf: Performance) -> list[str]:
    """Why no design meets the constraints: for each constraint that some design breaks, how
    many meet it and the best value reached; for SAIDI, how much of it forced outages alone
    make (which no size can remove: only a shorter repair does)."""
    reasons = []
    level = perf.level.upper()
    for name, (values, limit) in constraint_values(site, perf).items():
        meet = int((values <= limit + 1e-12).sum())
        if meet == len(values):
            continue
        best = int(np.argmin(values))
        reason = (f"{name}: {meet:,} of {len(values):,} designs meet {limit:g} at {level}; "
                  f"the best reaches {values[best]:.4g}")
        if name == "max_saidi_minutes":
            reason += (f", of which {perf.saidi_forced_minutes[best]:.0f} min come from forced "
                       f"outages (repair in {site.reliability.repair_days:g} days): a spare "
                       f"inverter on site or a shorter repair time ([reliability] repair_days) "
                       f"lowers that part, a larger system does not")
        reasons.append(reason)
    return reasons


def target_check(perf: Performance, i: int) -> dict[str, Any]:
    """Design ``i`` against the programme's targets (:mod:`ieee1366`) at P50 and at P90."""
    out: dict[str, Any] = {}
    for name, by_level, target in (("saidi_minutes", perf.saidi_by_level, SAIDI_TARGET_MINUTES),
                                   ("saifi_count", perf.saifi_by_level, SAIFI_TARGET_COUNT)):
        row: dict[str, Any] = {"target": target}
        for lv in ("p50", "p90"):
            row[lv] = float(by_level[lv][i])
            row[f"meets_{lv}"] = bool(by_level[lv][i] <= target + 1e-9)
        out[name] = row
    return out


def target_warnings(check: dict[str, Any]) -> list[str]:
    """A plain sentence for each programme target the design misses at P50 or at P90."""
    words = {"saidi_minutes": ("SAIDI", "min/year"), "saifi_count": ("SAIFI", "per year")}
    out = []
    for name, row in check.items():
        missed = [lv for lv in ("p50", "p90") if not row[f"meets_{lv}"]]
        if missed:
            label, unit = words[name]
            at = ", ".join(f"{row[lv]:.4g} at {lv.upper()}" for lv in missed)
            out.append(f"the chosen design misses the programme's {label} target of "
                       f"{row['target']:g} {unit}: {at}")
    return out


def optimize(site: Site, inputs: SiteInputs, *, progress: Progress | None = None) -> Result:
    """Search the ``[search]`` grid of ``site`` over the simulated years of ``inputs`` (read at
    the edge: :func:`sizing.inputs.read_inputs`) and explain the winner, or why there is none.

    ``elapsed_s`` covers the search, its sensitivity cases and the baseline, once the kernel's
    inputs are built (PV and loads of every year, once each) and the kernel compiled.
    """
    grid = build_grid(site)
    years = year_inputs(site, inputs.weather, inputs.profiles_kw)
    # compile or load the kernel before timing
    run_designs(*years[0], grid.designs.take(0), simulate.units_kw(site, 1.0))
    start = time.perf_counter()
    others = start_others(site, inputs.weather, inputs.profiles_kw)
    perf = evaluate(site, years, grid.designs, start_others_kw=others, progress=progress)
    plant = site_plant(site, inputs.profiles_kw)
    bills = design_prices(site, grid.designs, plant, bom.site_prices(site))
    c = costs(site.economics, grid.designs, perf.operation, site.generator, plant=plant,
              priced=bills)
    water_cost = None
    if site.water_pumps:
        water_cost = water_vnd_per_m3(site.economics, grid.designs, perf.operation,
                                      site.generator, plant=plant, priced=bills,
                                      pump_kwh=perf.water["pump_kwh"],
                                      delivered_m3=perf.water["water_delivered_m3"])
    ok = feasible_mask(site, perf)
    best = _winner(c.npc_vnd, ok)
    front = pareto_front(c.npc_vnd, perf.unmet_fraction)
    warnings: list[str] = list(inputs.warnings) + bom.unused_price_warnings(site)
    unpriced = int(np.isinf(bills.capital_vnd).sum())
    if unpriced:
        warnings.append(f"{unpriced} designs of the search were left out: the price table has no "
                        "breaker or cable large enough for them")
    edges: list[Edge] = []
    explanation = None
    if best is None:
        warnings.append(f"no design in the search meets the constraints at "
                        f"{perf.level.upper()} over {len(years)} simulated years: "
                        + "; ".join(why_infeasible(site, perf)))
    else:
        edges = range_edges(grid, grid.designs.take(best))
        explanation = explain(site, grid.designs, perf, npc=c.npc_vnd, ok=ok, best=best)
        warnings.extend(target_warnings(target_check(perf, best)))
    sens = sensitivity(site, grid, years, perf, start_others_kw=others, npc=c.npc_vnd,
                       winner=best, plant=plant, priced=bills, progress=progress)
    diesel = diesel_baseline(site, years)
    elapsed = time.perf_counter() - start
    evaluated = len(grid.designs) * len(years) + sens.pop("design_years") + len(years)
    return Result(grid=grid, perf=perf, costs=c, plant=plant, feasible=ok, best=best, pareto=front,
                  explanation=explanation, warnings=warnings, edges=edges, diesel=diesel,
                  sensitivity=sens, evaluated=evaluated, elapsed_s=elapsed, inputs=inputs,
                  site=site, water_vnd_per_m3=water_cost, priced=bills)


def design_summary(result: Result, i: int) -> dict[str, Any]:
    """The figures of design ``i`` of a search, for JSON."""
    p, c = result.perf, result.costs
    design: dict[str, Any] = design_dict(result.grid.designs, i)
    water = None
    if result.site is not None and result.site.water_pumps:
        design["pump"] = result.grid.pump_ids[round(design["pump"])]
        cost = result.water_vnd_per_m3
        water = water_json(result.site, {k: float(v[i]) for k, v in p.water.items()},
                           tank_m3=design["tank_m3"], pump=design["pump"], monthly=None,
                           vnd_per_m3=None if cost is None else float(cost[i]))
        if water is not None:
            water["unmet_fraction_at_level"] = float(p.unmet_water_fraction[i])
    else:
        design["pump"] = None
    return {
        "design": design,
        "water": water,
        "feasible": bool(result.feasible[i]),
        "npc_vnd": float(c.npc_vnd[i]),
        "capital_vnd": float(c.capital_vnd[i]),
        "lcoe_vnd_per_kwh": float(c.lcoe_vnd_per_kwh[i]),
        "unmet_fraction": float(p.unmet_fraction[i]),
        "critical_unmet_fraction": float(p.critical_unmet_fraction[i]),
        "saidi_minutes": float(p.saidi_minutes[i]),
        "saifi_count": float(p.saifi_count[i]),
        "saidi_forced_minutes": float(p.saidi_forced_minutes[i]),
        "targets": target_check(p, i),
        "unmet_kwh": float(p.unmet_kwh[i]),
        "motor_start_ratio": float(p.motor_start_ratio[i]),
        "generator_fuel_l": float(p.operation.fuel_l[i]),
        "generator_hours": float(p.operation.generator_hours[i]),
        "battery_life_years": float(min(p.operation.battery_life_years[i], 1e6)),
        "wind_kwh": float(p.wind_kwh[i]),
        "wind_curtailed_kwh": float(p.wind_curtailed_kwh[i]),
        "wind_capacity_factor": capacity_factor(
            float(p.wind_kwh[i]),
            float(result.grid.designs.turbines[i]) * result.plant.turbine_kw, HOURS_PER_YEAR),
    }


def result_json(result: Result) -> dict[str, Any]:
    """The search as plain JSON-ready data. On a site with a water pump the diesel-only
    baseline serves the electric loads only, so the saving against it is null: the two do not
    supply the same things."""
    base = result.diesel
    best = None if result.best is None else design_summary(result, result.best)
    pumps_water = result.site is not None and bool(result.site.water_pumps)
    if best is not None:
        best["saving_vs_diesel_vnd"] = (None if pumps_water
                                        else float(base.costs.npc_vnd[0]) - best["npc_vnd"])
    return {
        "best": best,
        "why": result.explanation,
        "pareto": [design_summary(result, int(i)) for i in result.pareto],
        "diesel_only": {"generator_kw": base.generator_kw, "npc_vnd": float(base.costs.npc_vnd[0]),
                        "lcoe_vnd_per_kwh": float(base.costs.lcoe_vnd_per_kwh[0]),
                        "fuel_l": base.fuel_l, "generator_hours": base.generator_hours},
        "warnings": [e.message() for e in result.edges] + result.warnings,
        "sensitivity": result.sensitivity,
        "reliability_level": result.perf.level,
        "years": len(result.inputs.weather),
        "candidates": len(result.grid.designs),
        "feasible": int(result.feasible.sum()),
        "evaluated": result.evaluated,
        "elapsed_s": round(result.elapsed_s, 4),
    }
