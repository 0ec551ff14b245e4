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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from sitefile import Economics, Generator

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


def costs(econ: Economics, d: Designs, op: Operation, generator: Generator | None, *,
          plant: Plant = PLANT) -> Costs:
    """Net present cost, LCOE and the yearly cash flow of each design [VND]."""
    n_years = econ.lifetime_years
    install = 1 + econ.installation_pct / 100
    capital = capital_vnd(econ, d, plant)
    equipment = equipment_vnd(econ, d, plant)
    n = len(d)
    lives = {
        "pv": np.full(n, econ.pv_life_years),
        "battery": np.broadcast_to(op.battery_life_years, (n,)),
        "inverter": np.full(n, econ.inverter_life_years),
        "generator": generator_life_years(
            generator, op.generator_hours / max(plant.generator_units, 1.0)),
        "wind": np.full(n, econ.wind_life_years),
        "tank": np.full(n, econ.tank_life_years),
        "pump": plant.pump_of(d)[1],
    }
    replacement = np.zeros((n, n_years + 1))
    salvage_end = np.zeros(n)
    for part, life in lives.items():
        counts, left = replacement_schedule(life, n_years)
        price = equipment[part] * install
        replacement += counts * price[:, None]
        if econ.salvage:
            salvage_end += left * price

    years = np.arange(n_years + 1, dtype=float)
    grows = np.ones(n_years + 1)
    if plant.growth is not None:
        grows[1:] = plant.growth[:n_years]
    running = ((years >= 1) * grows)[None, :]
    escalation = (1 + econ.fuel_escalation_pct / 100) ** np.maximum(years - 1, 0)
    fuel = (op.fuel_l * econ.fuel_vnd_per_l)[:, None] * escalation[None, :] * running
    wind_capital = equipment["wind"] * (1 + (econ.bos_pct + econ.installation_pct) / 100)
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
                     *, plant: Plant = PLANT, pump_kwh: np.ndarray,
                     delivered_m3: np.ndarray) -> np.ndarray:
    """The cost of water of each design [VND/m³]: the annualised cost (NPC × capital recovery
    factor) of all but the pump and tank, per kWh served, × the pump's energy ``pump_kwh``
    [kWh/year], plus the annualised cost of the pump and tank, over the water delivered
    ``delivered_m3`` [m³/year] (inf when none is delivered). For a site that only pumps water
    this is the whole annualised cost per m³."""
    whole = costs(econ, d, op, generator, plant=plant).npc_vnd
    dry = Designs(d.kwp, d.kwh, d.inverter_kw, d.generator_kw, d.turbines,
                  np.zeros(len(d)), d.pump)
    rest = costs(econ, dry, op, generator, plant=replace(plant, pump_vnd=None)).npc_vnd
    crf = capital_recovery_factor(econ)
    served = np.asarray(op.served_kwh, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        energy = np.where(served > 0, rest * crf / np.maximum(served, 1e-12), 0.0)
        per_year = energy * np.asarray(pump_kwh, dtype=float) + (whole - rest) * crf
        return np.where(np.asarray(delivered_m3) > 0,
                        per_year / np.maximum(np.asarray(delivered_m3, dtype=float), 1e-12),
                        np.inf)
