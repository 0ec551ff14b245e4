"""The water pump and its tank as the sizing kernel sees them (issue 16).

A site's one ``water_pump`` load lifts water into its ``[tank]``; the field draws its day's
water from the tank evenly over the ``irrigation`` window. This module turns the site into
the kernel's water inputs (:class:`sizing.dispatch.DispatchInputs`): the field's draw per
step (:func:`water_demand_m3`), the steps that fill the tank's reserve before night
(:func:`fill_steps`), and each pump candidate's electric power → flow table
(:func:`pump_tables`, from :func:`sizing.hydraulics.power_flow_table`). It also turns the
kernel's figures into the result's ``water`` object (:func:`water_json`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sitefile import PUMP_CATALOGUE, PumpModel, Site, WaterPumpLoad
from sizing.errors import SizingError
from sizing.hydraulics import PowerFlowTable, power_flow_table
from sizing.loads import in_window, local_hour_mid

MONTHS = 12


def water_pump(site: Site) -> WaterPumpLoad | None:
    """The site's water pump (at most one: the site file refuses two), or None."""
    pumps = site.water_pumps
    return pumps[0] if pumps else None


def water_demand_m3(load: WaterPumpLoad, index: pd.DatetimeIndex) -> np.ndarray:
    """The field's draw from the tank in each step of ``index`` (local time) [m³]: each day's
    ``flow_m3_per_day`` of its month (the month of the window's first step), spread evenly
    over the steps of that day's irrigation window (the steps whose middle falls in it)."""
    n = len(index)
    if n == 0:
        return np.zeros(0)
    inside = in_window(local_hour_mid(index), load.irrigation.start_h, load.irrigation.hours)
    phase = (local_hour_mid(index) - load.irrigation.start_h) % 24.0
    # a window starts where a step is inside and the previous one is not (or is a later
    # phase of the day before: back-to-back windows of a 24 h irrigation)
    starts = inside & np.concatenate(([True], ~inside[:-1] | (np.diff(phase) < 0)))
    run = np.cumsum(starts) - 1  # each inside step's window number
    first = np.flatnonzero(starts)
    steps_in = np.bincount(run[inside], minlength=len(first))
    daily = np.asarray(load.flow_m3_per_day, dtype=float)
    month = index.month.to_numpy()
    out = np.zeros(n)
    per_window = daily[month[first] - 1] / np.maximum(steps_in, 1)
    out[inside] = per_window[run[inside]]
    return out


def fill_steps(site: Site, index: pd.DatetimeIndex) -> np.ndarray:
    """The steps (local time) in the ``control.tank_fill_before_night_h`` hours before
    ``control.night_start``: a tank below its reserve is then filled from any source [bool]."""
    c = site.control
    hours = c.tank_fill_before_night_h
    if hours <= 0:
        return np.zeros(len(index), dtype=bool)
    night_h = c.night_start.hour + c.night_start.minute / 60.0
    return in_window(local_hour_mid(index), (night_h - hours) % 24.0, hours)


def catalogue_pump(pump_id: str) -> PumpModel:
    """The catalogue's pump ``pump_id`` (its own drive). Raises :class:`SizingError` for an id
    the catalogue does not hold."""
    if pump_id not in PUMP_CATALOGUE:
        raise SizingError(f"search.pumps: {pump_id!r} is not in the pump catalogue "
                          f"({', '.join(PUMP_CATALOGUE)})")
    return PumpModel.model_validate({"id": pump_id, **PUMP_CATALOGUE[pump_id]})


def candidate_pumps(site: Site) -> list[PumpModel]:
    """The pumps the optimiser tries for the site's water pump: ``[search] pumps`` (catalogue
    models, with the catalogue's drive), else the site's own pump; empty without a water
    pump."""
    load = water_pump(site)
    if load is None:
        return []
    ids = site.search.pumps if site.search is not None else None
    if not ids:
        return [load.pump]
    return [load.pump if pid == load.pump.id else catalogue_pump(pid) for pid in ids]


def pump_id(pump: PumpModel) -> str:
    """The name a result gives a pump: its catalogue id, or ``custom``."""
    return pump.id


@dataclass(frozen=True)
class PumpTables:
    """The pump candidates' tables as the kernel reads them: [M, K] each, rows padded with
    their last point (a pump that cannot lift: a row of zeros, it never pumps)."""

    electric_kw: np.ndarray
    flow_m3_h: np.ndarray
    hydraulic_kw: np.ndarray
    tables: tuple[PowerFlowTable, ...]
    """Each candidate's own table (:func:`sizing.hydraulics.power_flow_table`)."""


def pump_tables(load: WaterPumpLoad, pumps: Sequence[PumpModel], points: int = 24
                ) -> PumpTables:
    """The kernel's tables of ``pumps`` lifting ``load``'s head through its pipe."""
    tables = tuple(power_flow_table(load, p, points) for p in pumps)
    k = max((t.electric_kw.size for t in tables), default=0)
    k = max(k, 1)
    rows = []
    for t in tables:
        cols = []
        for a in (t.electric_kw, t.flow_m3_h, t.hydraulic_kw):
            v = np.asarray(a, dtype=float)
            cols.append(np.pad(v, (0, k - v.size), mode="edge") if v.size else np.zeros(k))
        rows.append(cols)
    e, q, h = (np.ascontiguousarray(np.array([r[i] for r in rows]).reshape(len(tables), k))
               for i in range(3))
    return PumpTables(e, q, h, tables)


def cannot_lift(site: Site, pumps: Sequence[PumpModel], tables: PumpTables) -> list[str]:
    """A warning for each candidate pump that cannot lift the site's head through its pipe."""
    load = water_pump(site)
    if load is None:
        return []
    return [f"pump {p.id} ({p.name}) cannot lift {load.head_m:g} m through the "
            f"{load.pipe.length_m:g} m pipe at rated speed: it delivers no water"
            for p, t in zip(pumps, tables.tables, strict=True) if t.electric_kw.size == 0]


@dataclass(frozen=True)
class WaterSetup:
    """The site's water as the kernel's inputs and scalars take it."""

    demand_m3: np.ndarray
    """[T] the field's draw per step [m³]."""
    fill: np.ndarray
    """[T] bool: the steps that fill the reserve before night."""
    tables: PumpTables
    pumps: list[PumpModel]
    """The candidates, in the tables' row order."""


def water_setup(site: Site, index: pd.DatetimeIndex,
                pumps: Sequence[PumpModel] | None = None) -> WaterSetup | None:
    """The water inputs over ``index`` for ``pumps`` (default :func:`candidate_pumps`), or
    None without a water pump. Raises :class:`SizingError` when the site has a water pump but
    no ``[tank]``."""
    load = water_pump(site)
    if load is None:
        return None
    if site.tank is None:
        raise SizingError("a water_pump load needs a [tank]")
    chosen = list(pumps) if pumps is not None else candidate_pumps(site)
    return WaterSetup(water_demand_m3(load, index), fill_steps(site, index),
                      pump_tables(load, chosen), chosen)


def config_fields(site: Site, dt_h: float) -> dict[str, Any]:
    """The water pump's fields of :class:`sizing.dispatch.DispatchConfig` (tank levels as
    fractions, the start surplus, its load's customers); empty without a water pump."""
    load = water_pump(site)
    tank = site.tank
    if load is None or tank is None:
        return {}
    del dt_h  # the thresholds are per step already
    return {
        "tank_min_frac": tank.min_level_pct / 100.0,
        "tank_max_frac": tank.max_level_pct / 100.0,
        "tank_initial_frac": min(tank.initial_level_pct, tank.max_level_pct) / 100.0,
        "pump_start_kw": site.control.pump_start_surplus_w / 1000.0,
        "water_customers": float(load.customers),
        "water_flexible": bool(load.flexible),
    }


def autonomy_days(site: Site, tank_m3: float) -> float:
    """Days a full tank (to its high level) serves the peak month's daily demand [d] (inf when
    the field needs no water)."""
    load = water_pump(site)
    tank = site.tank
    if load is None or tank is None:
        return 0.0
    peak = max(load.flow_m3_per_day)
    return tank_m3 * tank.max_level_pct / 100.0 / peak if peak > 0 else float("inf")


def monthly_m3(index: pd.DatetimeIndex, demand_m3_h: np.ndarray, delivered_m3_h: np.ndarray,
               dt_h: float) -> list[dict[str, float]]:
    """Per calendar month (local): the field's demand, the water delivered and unmet [m³],
    from a run's step series [m³/h]."""
    month = index.month.to_numpy()
    demand = np.bincount(month, weights=np.asarray(demand_m3_h) * dt_h, minlength=13)[1:]
    got = np.bincount(month, weights=np.asarray(delivered_m3_h) * dt_h, minlength=13)[1:]
    return [{"month": m + 1, "demand_m3": float(demand[m]), "delivered_m3": float(got[m]),
             "unmet_m3": float(max(demand[m] - got[m], 0.0))} for m in range(MONTHS)]


def water_json(site: Site, figures: Mapping[str, float], *, tank_m3: float, pump: str,
               monthly: list[dict[str, float]] | None, vnd_per_m3: float | None
               ) -> dict[str, Any] | None:
    """The result's ``water`` object (COMMON.md §3) from a design's figures (the
    :data:`sizing.dispatch.SUMMARY_KEYS` water keys, a year's or their P50); None without a
    water pump."""
    if water_pump(site) is None:
        return None
    demand = figures["water_demand_m3"]
    pump_kwh = figures["pump_kwh"]
    return {
        "demand_m3": demand,
        "delivered_m3": figures["water_delivered_m3"],
        "unmet_m3": figures["water_unmet_m3"],
        "unmet_fraction": figures["water_unmet_m3"] / demand if demand > 0 else 0.0,
        "pumped_m3": figures["water_pumped_m3"],
        "pump_kwh": pump_kwh,
        "pump_hours": figures["pump_hours"],
        "hydraulic_kwh": figures["hydraulic_kwh"],
        "wire_to_water_pct": 100.0 * figures["hydraulic_kwh"] / pump_kwh if pump_kwh > 0
        else 0.0,
        "tank_min_m3": figures["tank_min_m3"],
        "autonomy_days": autonomy_days(site, tank_m3),
        "vnd_per_m3": vnd_per_m3,
        "monthly": monthly,
        "tank_m3": tank_m3,
        "pump": pump,
    }


WATER_FIGURES = ("water_demand_m3", "water_delivered_m3", "water_unmet_m3", "water_pumped_m3",
                 "pump_kwh", "pump_hours", "hydraulic_kwh", "tank_min_m3")
"""The kernel's water figures (:data:`sizing.dispatch.SUMMARY_KEYS`), as a year's figures
carry them."""
