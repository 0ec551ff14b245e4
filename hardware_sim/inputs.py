"""The plant's hourly inputs, taken from :mod:`sizing` (the thin seam between the two).

PV power comes from :func:`sizing.pv.pv_power_kw` over the first weather year of
:func:`sizing.weather.load_weather`; load profiles from :mod:`sizing.loads`. Values are looked
up by the site-local calendar hour (the weather year repeats every year; 29 February reads
28 February) and interpolated linearly between hour centres.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from sizing.loads import read_profile_kw
from sizing.pv import pv_power_kw
from sizing.site import AeratorLoad, ApplianceLoad, Load, ProfileLoad, PumpLoad, Site, TimeWindow
from sizing.weather import load_weather

HOURS = 8760
_MONTH_START_DAY = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])


@dataclass(frozen=True)
class Hour:
    """Inputs at one instant: PV onto the DC bus and from the array [kW], GHI [W m-2], air [°C]."""

    pv_bus_kw: float
    pv_array_kw: float
    ghi_w_m2: float
    temp_air_c: float


def hour_of_year(local: datetime) -> float:
    """Fractional hours since 1 January 00:00 local time of a 365-day year [h]."""
    day = int(_MONTH_START_DAY[local.month - 1]) + min(local.day, 28 if local.month == 2 else 31)
    return (day - 1) * 24 + local.hour + local.minute / 60 + (
        local.second + local.microsecond / 1e6) / 3600


@dataclass(frozen=True)
class Inputs:
    """Hourly arrays of one year (8760 values each); ``loads_kw`` holds unswitched-motor-free
    loads by name (profiles, appliances) and the schedule of loads without relays."""

    pv_bus_kw: np.ndarray
    pv_array_kw: np.ndarray
    ghi_w_m2: np.ndarray
    temp_air_c: np.ndarray
    loads_kw: dict[str, np.ndarray]

    def _interp(self, series: np.ndarray, h: float) -> float:
        x = h - 0.5  # values are hourly means, centred on the half hour
        i = int(np.floor(x))
        f = x - i
        return float(series[i % HOURS] * (1 - f) + series[(i + 1) % HOURS] * f)

    def at(self, local: datetime) -> Hour:
        """The inputs at site-local time ``local``."""
        h = hour_of_year(local)
        return Hour(self._interp(self.pv_bus_kw, h), self._interp(self.pv_array_kw, h),
                    self._interp(self.ghi_w_m2, h), self._interp(self.temp_air_c, h))

    def load_kw(self, name: str, local: datetime) -> float:
        """Power of load ``name`` when energised [kW]: its hourly value (no interpolation)."""
        return float(self.loads_kw[name][int(hour_of_year(local)) % HOURS])


def _window_mask(w: TimeWindow) -> np.ndarray:
    """24 fractions: how much of each local hour lies inside the window (which may wrap)."""
    s, span = w.start_h % 24, w.hours
    parts = [(s, s + span)] if s + span <= 24 else [(s, 24.0), (0.0, s + span - 24)]
    return np.array([sum(max(0.0, min(h + 1.0, b) - max(float(h), a)) for a, b in parts)
                     for h in range(24)])


def mean_day_kw(site: Site, load: Load) -> np.ndarray:
    """The expected power of a load at each local hour of a day [kW] (24 values).

    Appliances spread their daily energy evenly over their windows (the whole day without
    windows); unswitched aerators follow the day and night fractions; unswitched pumps run from
    the start of their window until their daily energy is delivered.
    """
    c = site.control
    night = np.array([(h >= c.night_start.hour) or (h < c.night_end.hour) for h in range(24)]
                     if c.night_start.hour > c.night_end.hour else
                     [c.night_start.hour <= h < c.night_end.hour for h in range(24)])
    if isinstance(load, ApplianceLoad):
        day = np.zeros(24)
        for a in load.appliances:
            mask = sum((_window_mask(w) for w in a.windows), np.zeros(24)) if a.windows \
                else np.ones(24)
            day += a.daily_kwh * mask / max(float(mask.sum()), 1e-9)
        return day
    if isinstance(load, AeratorLoad):
        frac = np.where(night, load.night_fraction, load.day_fraction)
        return np.asarray(load.kw_per_unit * load.units * frac, dtype=float)
    if isinstance(load, PumpLoad):
        run = TimeWindow(start_h=load.window.start_h,
                         end_h=(load.window.start_h + load.daily_kwh / load.kw) % 24)
        return load.kw * _window_mask(run) if load.daily_kwh > 0 else np.zeros(24)
    raise TypeError(f"no daily shape for {type(load).__name__}")


def profile_kw(site: Site, load: Load) -> np.ndarray:
    """A year (8760 h) of a load's power when energised [kW]."""
    if isinstance(load, ProfileLoad):
        kw: np.ndarray = read_profile_kw(load.profile).to_numpy(float) * load.scale
        per_hour = len(kw) // 8760 if len(kw) >= 35040 else 1
        hourly: np.ndarray = kw[: HOURS * per_hour].reshape(HOURS, per_hour).mean(axis=1)
        return hourly
    return np.tile(mean_day_kw(site, load), 365)


def build_inputs(site: Site) -> Inputs:
    """Weather, PV and load profiles of the site's first weather year, from :mod:`sizing`."""
    weather = load_weather(site, years=1)[0].iloc[:HOURS]
    pv = pv_power_kw(site, weather)
    loads: dict[str, np.ndarray] = {}
    for load in site.loads:
        if load.switch is not None and isinstance(load, AeratorLoad | PumpLoad):
            continue  # motors on relays: the relays decide
        loads[load.name] = profile_kw(site, load)
    return Inputs(pv["ac_kw"].to_numpy(float), pv["dc_kw"].to_numpy(float),
                  weather["ghi"].to_numpy(float), weather["temp_air"].to_numpy(float), loads)
