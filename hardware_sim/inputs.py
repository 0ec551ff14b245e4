"""The plant's hourly inputs, taken from :mod:`sizing` (the thin seam between the two).

PV power comes from :func:`sizing.pv.pv_power_kw` and each turbine's output from
:func:`sizing.wind.wind_kw_per_turbine` over the first weather year of
:func:`sizing.weather.load_weather`; load profiles from :mod:`sizing.loads` (RAMP-style
appliances per minute, profiles, aerators without relays). Values are looked
up by the site-local calendar hour (the weather year repeats every year; 29 February reads
28 February) and interpolated linearly between hour centres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from sitefile import AeratorLoad, ApplianceLoad, Load, ProfileLoad, PumpLoad, Site, WaterPumpLoad
from sitefile.model import Schedule
from sizing.loads import aerator_kw, appliance_minutes_kw, profile_load_kw, schedule_mask
from sizing.pv import pv_power_kw
from sizing.weather import load_weather
from sizing.wind import wind_kw_per_turbine

HOURS = 8760
_MONTH_START_DAY = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])


@dataclass(frozen=True)
class Hour:
    """Inputs at one instant: PV onto the DC bus and from the array [kW], GHI [W m-2], air
    [°C], and the output of one turbine of each ``[[wind]]`` entry [kW]."""

    pv_bus_kw: float
    pv_array_kw: float
    ghi_w_m2: float
    temp_air_c: float
    wind_kw_per_turbine: tuple[float, ...] = ()


def hour_of_year(local: datetime) -> float:
    """Fractional hours since 1 January 00:00 local time of a 365-day year [h]."""
    day = int(_MONTH_START_DAY[local.month - 1]) + min(local.day, 28 if local.month == 2 else 31)
    return (day - 1) * 24 + local.hour + local.minute / 60 + (
        local.second + local.microsecond / 1e6) / 3600


@dataclass(frozen=True)
class Inputs:
    """Hourly arrays of one year (8760 values each), and ``loads_kw``: per minute (525,600
    values), the power of each load that is not a motor on a relay, by name;
    ``wind_kw_per_turbine``: one turbine of each ``[[wind]]`` entry, shape (entries, 8760)."""

    pv_bus_kw: np.ndarray
    pv_array_kw: np.ndarray
    ghi_w_m2: np.ndarray
    temp_air_c: np.ndarray
    loads_kw: dict[str, np.ndarray]
    wind_kw_per_turbine: np.ndarray = field(default_factory=lambda: np.zeros((0, HOURS)))
    schedules: dict[str, Schedule] = field(default_factory=dict)
    """Each scheduled load's schedule, applied by the simulated calendar's date when the load
    is looked up (:func:`sizing.loads.schedule_mask`)."""
    _open: dict[tuple[str, date], bool] = field(default_factory=dict, repr=False)

    def _interp(self, series: np.ndarray, h: float) -> float:
        x = h - 0.5  # values are hourly means, centred on the half hour
        i = int(np.floor(x))
        f = x - i
        return float(series[i % HOURS] * (1 - f) + series[(i + 1) % HOURS] * f)

    def at(self, local: datetime) -> Hour:
        """The inputs at site-local time ``local``."""
        h = hour_of_year(local)
        return Hour(self._interp(self.pv_bus_kw, h), self._interp(self.pv_array_kw, h),
                    self._interp(self.ghi_w_m2, h), self._interp(self.temp_air_c, h),
                    tuple(self._interp(w, h) for w in self.wind_kw_per_turbine))

    def load_kw(self, name: str, local: datetime) -> float:
        """Power of load ``name`` when energised [kW], at minute resolution; 0 on the days its
        schedule closes."""
        schedule = self.schedules.get(name)
        if schedule is not None:
            key = (name, local.date())
            if key not in self._open:
                self._open[key] = bool(schedule_mask(schedule, pd.DatetimeIndex([local]))[0])
            if not self._open[key]:
                return 0.0
        return float(self.loads_kw[name][int(hour_of_year(local) * 60) % (HOURS * 60)])


def pump_minutes_kw(load: PumpLoad) -> np.ndarray:
    """An unswitched pump's year per minute [kW]: it runs from the start of its window until
    its daily energy is delivered (a pump on a relay is run by the controller instead)."""
    day = np.zeros(1440)
    start = round(load.window.start_h * 60)
    run = round(load.daily_kwh / load.kw * 60)
    day[(start + np.arange(run)) % 1440] = load.kw
    return np.tile(day, 365)


def minutes_kw(site: Site, load: Load, index: pd.DatetimeIndex) -> np.ndarray:
    """A year of a load's power when energised, per minute [kW], from :mod:`sizing.loads`."""
    if isinstance(load, ApplianceLoad):
        return appliance_minutes_kw(load, np.random.default_rng(load.seed))
    if isinstance(load, PumpLoad):
        return pump_minutes_kw(load)
    if isinstance(load, ProfileLoad):
        hourly = profile_load_kw(load, index)
    elif isinstance(load, AeratorLoad):
        hourly = aerator_kw(load, index, site.control.night_start, site.control.night_end)
    else:
        raise TypeError(f"load {load.name!r}: the water plant runs a water pump")
    return np.repeat(np.asarray(hourly, dtype=float)[:HOURS], 60)


def build_inputs(site: Site) -> Inputs:
    """Weather, PV, wind (:func:`sizing.wind.wind_kw_per_turbine`) and load profiles of the
    site's first weather year, from :mod:`sizing`."""
    weather = load_weather(site, years=1)[0].iloc[:HOURS]
    pv = pv_power_kw(site, weather)
    loads: dict[str, np.ndarray] = {}
    for load in site.loads:
        if load.switch is not None and isinstance(load, AeratorLoad | PumpLoad):
            continue  # motors on relays: the relays decide
        if isinstance(load, WaterPumpLoad):
            continue  # the water plant runs it (hardware_sim.water)
        loads[load.name] = minutes_kw(site, load, weather.index)
    return Inputs(pv["ac_kw"].to_numpy(float), pv["dc_kw"].to_numpy(float),
                  weather["ghi"].to_numpy(float), weather["temp_air"].to_numpy(float), loads,
                  wind_kw_per_turbine(site, weather),
                  {ld.name: ld.schedule for ld in site.loads
                   if ld.schedule is not None and ld.name in loads})
