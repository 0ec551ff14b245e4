"""Life-cycle economics in VND, vectorised over designs.

Every function is pure and takes arrays of designs (shape ``(n,)``). Costs follow HOMER's
conventions: nominal cash flows per year (year 0 holds the capital cost, costs fall at the end of
each year), discounted at ``discount_rate_pct``; components are replaced at the end of their life
and the remaining life at the end of the project is credited as salvage (linear depreciation).

- Capital cost = equipment × (1 + balance of system + installation).
- O&M per year = ``om_pct_per_year`` of the capital cost of all but the turbines
  + ``wind_om_pct_per_year`` of the turbines' + generator hours × ``generator_om_vnd_per_h``.
- Fuel escalates by ``fuel_escalation_pct`` a year from the first year's price.
- Replacements (battery, inverter, generator, PV modules, turbines) cost equipment ×
  (1 + installation). Several generator units wear out together: their life is the rated hours
  over each unit's mean yearly hours (the set's hours over the units).
- Load growth (:func:`sizing.loads.load_growth_factors`): the energy served, the fuel and the
  generator hours of project year ``y`` are the simulated year's × ``growth[y - 1]`` (fuel in
  proportion to demand: an approximation, low when the growth falls mostly on the generator;
  the optimiser's last-year check simulates the last year itself).
- LCOE = NPC / the discounted energy served over the project [VND/kWh] (with no growth: NPC ×
  capital recovery factor / energy served per year).
- A water pump and its tank: the tank costs ``tank_vnd_per_m3`` per m³ and lasts
  ``tank_life_years``; the pump costs its model's ``price_vnd`` and lasts its ``life_years``
  (:class:`Plant`); both are equipment like the rest (balance of system, installation, O&M).
  The cost of water (:func:`water_vnd_per_m3`) = (the annualised cost of all but the pump
  and tank / energy served × the pump's energy + the annualised cost of the pump and tank) /
  the water delivered [VND/m³].

Ageing, in the lifetime view of HOMER and SAM without simulating every project year again:

- PV degradation (``[pv] degradation_pct_per_year`` = d, :attr:`Plant.pv_degradation_pct_per_year`;
  0.5 %/year by default, the median of field data for crystalline silicon in NREL's review,
  Jordan & Kurtz 2013): the array delivers (1 − d)^(y−1) of year 1's energy in project year
  y (:func:`pv_output_factors`). The served energy stays as simulated (the loads' demand); the
  PV energy year 1 used (:attr:`Operation.pv_used_kwh`: its output less what was curtailed)
  falls short by ``pv_used × (1 − (1 − d)^(y−1))`` [kWh] (:func:`pv_shortfall_kwh`), and
  a design with a generator burns ``shortfall × fuel_l_per_kwh`` more litres that year
  (:func:`ageing_energy`; escalated like the rest of the fuel, not grown with the load).
  Approximations: the whole loss of used PV energy falls on the generator at its marginal
  fuel rate (no idle fuel, no extra hours, O&M or generator wear), which over-states it a
  little (in hours with a surplus the loss first eats the curtailment); without a generator
  the shortfall is unmet energy, reported as a figure (:func:`ageing_table`), not priced, and
  the LCOE keeps the simulated served energy. With d = 0 the costs are exactly those
  without ageing.
- Battery fade (``[battery] end_of_life_capacity_pct``, 80 % by default): the battery's life
  is ``Operation.battery_life_years`` (:func:`sizing.reliability.battery_life_years`: its
  rainflow cycle damage or its calendar life, whichever ends first). Its capacity falls
  linearly from 100 % to the end-of-life capacity over that life, and it is replaced when it
  gets there: that is the replacement schedule of :func:`replacement_schedule`
  (:func:`battery_capacity_pct_by_year`). The dispatch simulates the nameplate capacity; the
  fade is shown, and its cost is the replacements.
- :func:`ageing_table`: per project year, the PV output and battery capacity, the
  replacements and their cost, the extra fuel and the unmet energy of the PV shortfall.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sitefile import CHEMISTRY_PRESETS, PV, Economics, Generator, Site
from sitefile.presets import DEFAULT_CHEMISTRY

# A generator that rarely runs still ages: its life is capped at this many calendar years.
GENERATOR_CALENDAR_LIFE_YEARS = 20.0
# Shortest component life considered [years]: keeps the replacement schedule finite.
MIN_LIFE_YEARS = 0.5
# The diesel-only baseline's generator is sized to the peak load with this margin.
DIESEL_ONLY_MARGIN = 1.25


@dataclass(frozen=True)
class Designs:
    """Candidate designs as parallel arrays [kWp, kWh, kW, kW, -, m³, -]; ``generator_kw``: the
    lead generator unit's rating (0 = none; the others keep their ratio to it,
    :class:`Plant`), ``turbines``: the count of the wind turbines (default none),
    ``tank_m3``: the water tank's volume (default none), ``pump``: the water pump's index
    in :attr:`Plant.pump_vnd` (default 0)."""

    kwp: np.ndarray
    kwh: np.ndarray
    inverter_kw: np.ndarray
    generator_kw: np.ndarray
    turbines: np.ndarray = None  # type: ignore[assignment]  # filled with zeros when absent
    tank_m3: np.ndarray = None  # type: ignore[assignment]  # filled with zeros when absent
    pump: np.ndarray = None  # type: ignore[assignment]  # filled with zeros when absent

    def __post_init__(self) -> None:
        for name in ("turbines", "tank_m3", "pump"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(len(self.kwp)))

    def __len__(self) -> int:
        return len(self.kwp)

    def take(self, index: np.ndarray | list[int] | int) -> Designs:
        """The designs at ``index`` (always arrays)."""
        idx = np.atleast_1d(np.asarray(index))
        return Designs(self.kwp[idx], self.kwh[idx], self.inverter_kw[idx],
                       self.generator_kw[idx], self.turbines[idx], self.tank_m3[idx],
                       self.pump[idx])


@dataclass(frozen=True)
class Plant:
    """What a design's sizes leave to the site: how many lead-unit ratings of generators it
    installs, one turbine's rating, and the demand's growth."""

    generator_units: float = 1.0
    """Installed generator kW per kW of the lead unit (the number of units when they are
    identical) [-]."""
    turbine_kw: float = 0.0
    """Rated power of one turbine [kW]."""
    growth: np.ndarray | None = None
    """[lifetime_years] demand of each project year relative to year 1 (None: no growth)."""
    pump_vnd: np.ndarray | None = None
    """[M] each water-pump candidate's price [VND] (None: no water pump)."""
    pump_life_years: np.ndarray | None = None
    """[M] each candidate's life [years]."""
    pv_degradation_pct_per_year: float = 0.0
    """The PV output lost each year [%/year] (``[pv] degradation_pct_per_year``,
    :func:`pv_degradation_pct_per_year`; 0: no ageing of the PV)."""

    def pump_of(self, d: Designs) -> tuple[np.ndarray, np.ndarray]:
        """Each design's water-pump price [VND] and life [years] (0 and inf: none)."""
        if self.pump_vnd is None or self.pump_vnd.size == 0:
            return np.zeros(len(d)), np.full(len(d), np.inf)
        k = np.asarray(d.pump).astype(int)
        lives = (self.pump_life_years if self.pump_life_years is not None
                 else np.full(self.pump_vnd.size, np.inf))
        return self.pump_vnd[k], lives[k]


@dataclass(frozen=True)
class Operation:
    """What one year of operation of each design does, as arrays over designs."""

    served_kwh: np.ndarray  # [kWh/year] load energy served
    fuel_l: np.ndarray  # [L/year]
    generator_hours: np.ndarray  # [h/year]
    battery_life_years: np.ndarray  # [years] (sizing.reliability.battery_life_years)
    pv_used_kwh: np.ndarray = None  # type: ignore[assignment]  # filled with zeros when absent
    """[kWh/year] the PV energy the system used in year 1: the PV output less what was
    curtailed (default none: the PV's ageing costs nothing)."""

    def __post_init__(self) -> None:
        if self.pv_used_kwh is None:
            object.__setattr__(self, "pv_used_kwh", np.zeros(np.shape(self.served_kwh)))

    def take(self, index: np.ndarray | list[int] | int) -> Operation:
        """The operation of the designs at ``index`` (always arrays)."""
        idx = np.atleast_1d(np.asarray(index))
        return Operation(*(np.broadcast_to(np.asarray(v, dtype=float),
                                           np.shape(self.served_kwh))[idx]
                           for v in (self.served_kwh, self.fuel_l, self.generator_hours,
                                     self.battery_life_years, self.pv_used_kwh)))


@dataclass(frozen=True)
class Costs:
    """Costs of each design [VND] (arrays over designs)."""

    capital_vnd: np.ndarray
    npc_vnd: np.ndarray
    lcoe_vnd_per_kwh: np.ndarray
    cash_flow_vnd: np.ndarray  # (n, lifetime_years + 1) nominal; year 0 is the capital cost
    fuel_npc_vnd: np.ndarray
    replacement_npc_vnd: np.ndarray
    om_npc_vnd: np.ndarray
    salvage_npc_vnd: np.ndarray

    def take(self, index: int) -> Costs:
        """The costs of one design (arrays of length 1)."""
        return Costs(**{k: np.asarray(v)[[index]] for k, v in vars(self).items()})


PLANT = Plant()
"""One generator unit, no wind, no growth."""


@dataclass(frozen=True)
class Priced:
    """Each design's capital by part [VND], from its bill of materials
    (:func:`sizing.bom.priced`): the :data:`PARTS`, each with its share of labour, transport
    and design (the price of a replacement), and ``balance``, bought once (controllers,
    cables, breakers, the site's devices). The parts add up to the bill's total."""

    parts: dict[str, np.ndarray]

    @property
    def capital_vnd(self) -> np.ndarray:
        """The bill of materials' total of each design [VND]."""
        return np.asarray(sum(self.parts.values()), dtype=float)

    def take(self, index: np.ndarray | list[int] | int) -> Priced:
        """The designs at ``index`` (always arrays)."""
        idx = np.atleast_1d(np.asarray(index))
        return Priced({k: v[idx] for k, v in self.parts.items()})

    def without(self, parts: Iterable[str]) -> Priced:
        """The same bills with ``parts`` left out (priced at 0)."""
        drop = set(parts)
        return Priced({k: np.zeros_like(v) if k in drop else v for k, v in self.parts.items()})


def equipment_vnd(econ: Economics, d: Designs, plant: Plant = PLANT) -> dict[str, np.ndarray]:
    """Equipment price of each component [VND], before balance of system and installation."""
    return {
        "pv": d.kwp * econ.pv_vnd_per_kwp,
        "battery": d.kwh * econ.battery_vnd_per_kwh,
        "inverter": d.inverter_kw * econ.inverter_vnd_per_kw,
        "generator": d.generator_kw * plant.generator_units * econ.generator_vnd_per_kw,
        "wind": d.turbines * plant.turbine_kw * econ.wind_vnd_per_kw,
        "tank": d.tank_m3 * econ.tank_vnd_per_m3,
        "pump": plant.pump_of(d)[0],
    }


def capital_vnd(econ: Economics, d: Designs, plant: Plant = PLANT) -> np.ndarray:
    """Initial capital cost [VND]: equipment × (1 + BOS + installation)."""
    total = sum(equipment_vnd(econ, d, plant).values())
    return np.asarray(total, dtype=float) * (1 + (econ.bos_pct + econ.installation_pct) / 100)


def discount_factors(econ: Economics) -> np.ndarray:
    """Present-worth factor of each year 0..N [-]."""
    years = np.arange(econ.lifetime_years + 1)
    return (1 + econ.discount_rate_pct / 100) ** -years.astype(float)


def capital_recovery_factor(econ: Economics) -> float:
    """Annuity per unit of present value over the project life [1/year]."""
    r, n = econ.discount_rate_pct / 100, econ.lifetime_years
    if r == 0:
        return 1 / n
    # (1 + r)^n - 1 through expm1/log1p: exact for tiny rates, where the plain form cancels.
    growth_minus_1 = math.expm1(n * math.log1p(r))
    return r * (1 + growth_minus_1) / growth_minus_1


def replacement_schedule(life_years: np.ndarray, n_years: int) -> tuple[np.ndarray, np.ndarray]:
    """Replacements of a component falling in each year, and its salvage fraction.

    A component of life L [years] installed at year 0 is replaced at L, 2L, … strictly before the
    project ends at ``n_years``; the replacement at time t is paid in year ceil(t). Returns
    ``counts`` of shape (n, n_years + 1) (column 0 is always 0) and the fraction (0–1] of the
    last unit's life left at the end of the project.
    """
    life = np.maximum(np.asarray(life_years, dtype=float), MIN_LIFE_YEARS)[:, None]
    years = np.arange(n_years + 1, dtype=float)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        cum = np.floor(years / life + 1e-9)
        installs_before_end = np.maximum(np.ceil(n_years / life - 1e-9) - 1, 0)  # at kL < N
    cum[:, -1:] = installs_before_end
    cum[:, 0] = 0
    counts = np.diff(cum, axis=1, prepend=0.0)
    salvage = installs_before_end[:, 0] + 1 - n_years / life[:, 0]
    return counts, salvage


def generator_life_years(generator: Generator | None, hours_per_year: np.ndarray) -> np.ndarray:
    """Generator life [years]: its rated hours over its yearly hours, capped by calendar age."""
    life_hours = (generator.life_hours if generator is not None
                  else float(Generator.model_fields["life_hours"].default))
    hours = np.asarray(hours_per_year, dtype=float)
    with np.errstate(divide="ignore"):
        by_hours = np.where(hours > 0, life_hours / np.maximum(hours, 1e-12), np.inf)
    return np.minimum(by_hours, GENERATOR_CALENDAR_LIFE_YEARS)


PARTS = ("pv", "battery", "inverter", "generator", "wind", "tank", "pump")
"""The components of a design, as :func:`equipment_vnd` names them."""


def component_lives(econ: Economics, d: Designs, op: Operation, generator: Generator | None,
                    plant: Plant = PLANT) -> dict[str, np.ndarray]:
    """Each component's life [years] (arrays over designs; inf: never worn out)."""
    n = len(d)
    return {
        "pv": np.full(n, econ.pv_life_years),
        "battery": np.broadcast_to(op.battery_life_years, (n,)),
        "inverter": np.full(n, econ.inverter_life_years),
        "generator": generator_life_years(
            generator, op.generator_hours / max(plant.generator_units, 1.0)),
        "wind": np.full(n, econ.wind_life_years),
        "tank": np.full(n, econ.tank_life_years),
        "pump": plant.pump_of(d)[1],
    }


@dataclass(frozen=True)
class Replacement:
    """One component's replacements over the project (arrays over designs)."""

    counts: np.ndarray
    """(n, lifetime_years + 1) replacements paid in each year [-] (:func:`replacement_schedule`)."""
    salvage_fraction: np.ndarray
    """(n,) the fraction of the last unit's life left at the end of the project [0–1]."""
    price_vnd: np.ndarray
    """(n,) the price of one replacement: equipment × (1 + installation) [VND]."""


def replacements(econ: Economics, d: Designs, op: Operation, generator: Generator | None,
                 plant: Plant = PLANT, *, priced: Priced | None = None
                 ) -> dict[str, Replacement]:
    """Each component's replacement schedule and price, by :data:`PARTS` (the battery's
    schedule is its fade to end of life, :func:`battery_capacity_pct_by_year`): the part's
    amount in ``priced`` (its bill of materials), else its ``[economics]`` price per kW ×
    (1 + installation)."""
    if priced is not None:
        price = priced.parts
    else:
        install = 1 + econ.installation_pct / 100
        price = {k: v * install for k, v in equipment_vnd(econ, d, plant).items()}
    out = {}
    for part, life in component_lives(econ, d, op, generator, plant).items():
        counts, left = replacement_schedule(life, econ.lifetime_years)
        out[part] = Replacement(counts, left, price[part])
    return out


# --------------------------------------------------------------------------- ageing


def pv_degradation_pct_per_year(site: Site) -> float:
    """The site's PV degradation [%/year] (the key's default without ``[pv]``)."""
    if site.pv is not None:
        return site.pv.degradation_pct_per_year
    return float(PV.model_fields["degradation_pct_per_year"].default)


def battery_end_of_life_pct(site: Site) -> float:
    """The site's battery end-of-life capacity [% of nameplate] (the chemistry preset's)."""
    if site.battery is not None:
        return site.battery.end_of_life_capacity_pct
    return float(CHEMISTRY_PRESETS[DEFAULT_CHEMISTRY]["end_of_life_capacity_pct"])


def pv_used_kwh(pv_kwh: np.ndarray | float, curtailed_kwh: np.ndarray | float,
                wind_curtailed_kwh: np.ndarray | float) -> np.ndarray:
    """The PV energy the system used [kWh]: the PV output less the PV's share of the
    curtailment (``curtailed_kwh`` holds the wind's too, :data:`sizing.dispatch.SUMMARY_KEYS`),
    at least 0."""
    pv_curtailed = np.asarray(curtailed_kwh, dtype=float) - np.asarray(wind_curtailed_kwh,
                                                                      dtype=float)
    return np.maximum(np.asarray(pv_kwh, dtype=float) - pv_curtailed, 0.0)


def pv_output_factors(degradation_pct_per_year: float, n_years: int) -> np.ndarray:
    """[n_years + 1] the PV energy of each project year 0..N relative to year 1 [-]:
    (1 − d)^(y − 1) for year y ≥ 1 (and 1 in column 0, where nothing runs)."""
    years = np.arange(n_years + 1, dtype=float)
    return (1 - degradation_pct_per_year / 100) ** np.maximum(years - 1, 0)


def pv_shortfall_kwh(op: Operation, plant: Plant, n_years: int) -> np.ndarray:
    """(n, n_years + 1) the PV energy used in year 1 that the aged array no longer gives in
    each project year [kWh]: ``pv_used × (1 − (1 − d)^(y−1))`` (0 in years 0 and 1)."""
    lost = 1 - pv_output_factors(plant.pv_degradation_pct_per_year, n_years)
    lost[0] = 0.0
    return np.asarray(op.pv_used_kwh, dtype=float)[:, None] * lost[None, :]


def ageing_energy(d: Designs, op: Operation, generator: Generator | None, plant: Plant,
                  n_years: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the PV shortfall (:func:`pv_shortfall_kwh`) goes, per design and project year:
    the generator's extra fuel [L] (shortfall × ``fuel_l_per_kwh``, for designs with a
    generator) and the unmet energy [kWh] (the shortfall, for designs without one); each
    (n, n_years + 1)."""
    short = pv_shortfall_kwh(op, plant, n_years)
    rate = (generator.fuel_l_per_kwh if generator is not None
            else float(Generator.model_fields["fuel_l_per_kwh"].default))
    has_generator = (np.asarray(d.generator_kw, dtype=float) > 0)[:, None]
    return np.where(has_generator, short * rate, 0.0), np.where(has_generator, 0.0, short)


def battery_capacity_pct_by_year(life_years: np.ndarray, end_of_life_capacity_pct: float,
                                 n_years: int) -> np.ndarray:
    """(n, n_years + 1) the battery's lowest capacity in each project year [% of nameplate].

    The capacity falls linearly from 100 % to ``end_of_life_capacity_pct`` over the life
    ``life_years`` [years] and the battery is replaced when it gets there, at L, 2L, … (the
    schedule of :func:`replacement_schedule`, same shortest life): in a year when it reaches
    its end of life the value is the end-of-life capacity (replaced in that year unless the
    project ends with it), otherwise the capacity at the end of the year, 100 − (100 − EOL) ×
    (t/L − ⌊t/L⌋). Column 0 (commissioning) is 100; an infinite life (no battery) stays 100.
    """
    life = np.maximum(np.asarray(life_years, dtype=float), MIN_LIFE_YEARS)[:, None]
    years = np.arange(n_years + 1, dtype=float)[None, :]
    fade = 100.0 - end_of_life_capacity_pct
    with np.errstate(divide="ignore", invalid="ignore"):
        worn = years / life
        installs = np.floor(worn + 1e-9)
        before = np.floor(np.maximum(years - 1, 0) / life + 1e-9)
        reached = (installs > before) & (years >= 1)
        pct = np.where(reached, end_of_life_capacity_pct,
                       100.0 - fade * np.clip(worn - installs, 0.0, 1.0))
    pct = np.where(np.isfinite(life), pct, 100.0)
    pct[:, 0] = 100.0
    return pct


def ageing_table(econ: Economics, site: Site, design: Designs, op: Operation, *,
                 plant: Plant = PLANT, priced: Priced | None = None) -> list[dict[str, Any]]:
    """The ageing of one design (``design`` and ``op`` of length 1, e.g. a search result's
    ``grid.designs.take(i)`` and ``perf.operation.take(i)`` with its ``plant``), one row per
    project year 1..N:

    - ``year``; ``pv_output_pct``: the PV energy relative to year 1 [%];
    - ``battery_capacity_pct``: the battery's lowest capacity that year [% of nameplate]
      (:func:`battery_capacity_pct_by_year`; None without a battery);
    - ``replacements``: the components replaced that year, part → count (:data:`PARTS`
      order; parts of zero price left out); ``replacement_vnd``: their nominal cost [VND];
    - ``pv_shortfall_kwh``, ``extra_fuel_l`` and ``unmet_kwh``: the PV energy lost to
      degradation [kWh] and where it goes (:func:`ageing_energy`).

    The PV degradation and the end-of-life capacity are the site's
    (:func:`pv_degradation_pct_per_year`, :func:`battery_end_of_life_pct`), so that the
    table follows the site file whatever ``plant`` says; the rest of ``plant``, and ``priced``
    (the design's bill by part), price the replacements as :func:`costs` does.
    """
    if len(design) != 1:
        raise ValueError(f"ageing_table takes one design, not {len(design)}")
    n_years = econ.lifetime_years
    plant = replace(plant, pv_degradation_pct_per_year=pv_degradation_pct_per_year(site))
    generator = site.generator
    parts = replacements(econ, design, op, generator, plant, priced=priced)
    pv = 100 * pv_output_factors(plant.pv_degradation_pct_per_year, n_years)
    has_battery = float(design.kwh[0]) > 0
    capacity = battery_capacity_pct_by_year(np.asarray(op.battery_life_years, dtype=float)[:1],
                                            battery_end_of_life_pct(site), n_years)[0]
    short = pv_shortfall_kwh(op, plant, n_years)[0]
    fuel, unmet = (a[0] for a in ageing_energy(design, op, generator, plant, n_years))
    rows = []
    for y in range(1, n_years + 1):
        replaced = {part: round(float(r.counts[0, y])) for part, r in parts.items()
                    if r.counts[0, y] > 0 and r.price_vnd[0] > 0}
        rows.append({
            "year": y,
            "pv_output_pct": float(pv[y]),
            "battery_capacity_pct": float(capacity[y]) if has_battery else None,
            "replacements": replaced,
            "replacement_vnd": float(sum(r.counts[0, y] * r.price_vnd[0]
                                         for r in parts.values())),
            "pv_shortfall_kwh": float(short[y]),
            "extra_fuel_l": float(fuel[y]),
            "unmet_kwh": float(unmet[y]),
        })
    return rows


# --------------------------------------------------------------------------- costs


def costs(econ: Economics, d: Designs, op: Operation, generator: Generator | None, *,
          plant: Plant = PLANT, priced: Priced | None = None) -> Costs:
    """Net present cost, LCOE and the yearly cash flow of each design [VND], with the PV's
    degradation as extra fuel (:func:`ageing_energy`) and the battery replaced at the end of
    its fade (:func:`replacements`).

    ``priced``: each design's bill of materials by part (the capital and the replacements
    priced item by item, as the dossier prints them); None prices the designs per kW and per
    kWh from ``[economics]`` (:func:`capital_vnd`)."""
    n_years = econ.lifetime_years
    if priced is not None:
        capital = priced.capital_vnd
        wind_capital = priced.parts["wind"]
    else:
        capital = capital_vnd(econ, d, plant)
        wind_capital = equipment_vnd(econ, d, plant)["wind"] * (
            1 + (econ.bos_pct + econ.installation_pct) / 100)
    n = len(d)
    replacement = np.zeros((n, n_years + 1))
    salvage_end = np.zeros(n)
    for r in replacements(econ, d, op, generator, plant, priced=priced).values():
        replacement += r.counts * r.price_vnd[:, None]
        if econ.salvage:
            salvage_end += r.salvage_fraction * r.price_vnd

    years = np.arange(n_years + 1, dtype=float)
    grows = np.ones(n_years + 1)
    if plant.growth is not None:
        grows[1:] = plant.growth[:n_years]
    running = ((years >= 1) * grows)[None, :]
    escalation = (1 + econ.fuel_escalation_pct / 100) ** np.maximum(years - 1, 0)
    fuel = (op.fuel_l * econ.fuel_vnd_per_l)[:, None] * escalation[None, :] * running
    if plant.pv_degradation_pct_per_year > 0:  # none: exactly the costs without ageing
        extra_l = ageing_energy(d, op, generator, plant, n_years)[0]
        fuel = fuel + extra_l * econ.fuel_vnd_per_l * escalation[None, :]
    om = ((capital - wind_capital) * econ.om_pct_per_year / 100
          + wind_capital * econ.wind_om_pct_per_year / 100)[:, None] * (years >= 1)[None, :] \
        + (op.generator_hours * econ.generator_om_vnd_per_h)[:, None] * running
    salvage = np.zeros((n, n_years + 1))
    salvage[:, -1] = -salvage_end

    cash = replacement + fuel + om + salvage
    cash[:, 0] += capital
    df = discount_factors(econ)
    npc = cash @ df
    if plant.growth is None:
        served_years = 1.0 / capital_recovery_factor(econ)  # Σ df over years 1..N
    else:
        served_years = float(grows[1:] @ df[1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        lcoe = np.where(op.served_kwh > 0,
                        npc / (np.maximum(op.served_kwh, 1e-12) * served_years), np.inf)
    return Costs(
        capital_vnd=capital,
        npc_vnd=npc,
        lcoe_vnd_per_kwh=lcoe,
        cash_flow_vnd=cash,
        fuel_npc_vnd=fuel @ df,
        replacement_npc_vnd=replacement @ df,
        om_npc_vnd=om @ df,
        salvage_npc_vnd=salvage @ df,
    )


@dataclass(frozen=True)
class DieselOnly:
    """The baseline: the same loads served by a diesel generator alone."""

    generator_kw: float
    fuel_l: float  # [L/year]
    generator_hours: float  # [h/year]
    served_kwh: float  # [kWh/year]
    costs: Costs


def diesel_only_kw(peak_load_kw: float) -> float:
    """Size of the baseline's generator: the peak load × 1.25, in whole kW (at least 1) [kW]."""
    return float(max(1.0, math.ceil(peak_load_kw * DIESEL_ONLY_MARGIN - 1e-9)))


def diesel_only(econ: Economics, generator: Generator | None, generator_kw: float, *,
                fuel_l: float, generator_hours: float, served_kwh: float) -> DieselOnly:
    """Costs of the diesel-only baseline, from one year of its operation (simulated by the
    dispatch with no PV and no battery) [kW, L/year, h/year, kWh/year]."""
    d = Designs(np.zeros(1), np.zeros(1), np.zeros(1), np.full(1, generator_kw))
    op = Operation(np.full(1, served_kwh), np.full(1, fuel_l), np.full(1, generator_hours),
                   np.full(1, np.inf))
    return DieselOnly(generator_kw, fuel_l, generator_hours, served_kwh,
                      costs(econ, d, op, generator))


WATER_PARTS = ("tank", "pump")
"""The equipment of the water pump (:func:`equipment_vnd`)."""


def water_vnd_per_m3(econ: Economics, d: Designs, op: Operation, generator: Generator | None,
                     *, plant: Plant = PLANT, priced: Priced | None = None,
                     pump_kwh: np.ndarray, delivered_m3: np.ndarray) -> np.ndarray:
    """The cost of water of each design [VND/m³]: the annualised cost (NPC × capital recovery
    factor) of all but the pump and tank, per kWh served, × the pump's energy ``pump_kwh``
    [kWh/year], plus the annualised cost of the pump and tank, over the water delivered
    ``delivered_m3`` [m³/year] (inf when none is delivered). For a site that only pumps water
    this is the whole annualised cost per m³."""
    whole = costs(econ, d, op, generator, plant=plant, priced=priced).npc_vnd
    dry = Designs(d.kwp, d.kwh, d.inverter_kw, d.generator_kw, d.turbines,
                  np.zeros(len(d)), d.pump)
    rest = costs(econ, dry, op, generator, plant=replace(plant, pump_vnd=None),
                 priced=None if priced is None else priced.without(WATER_PARTS)).npc_vnd
    crf = capital_recovery_factor(econ)
    served = np.asarray(op.served_kwh, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        energy = np.where(served > 0, rest * crf / np.maximum(served, 1e-12), 0.0)
        per_year = energy * np.asarray(pump_kwh, dtype=float) + (whole - rest) * crf
        return np.where(np.asarray(delivered_m3) > 0,
                        per_year / np.maximum(np.asarray(delivered_m3, dtype=float), 1e-12),
                        np.inf)
