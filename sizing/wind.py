"""Wind turbines: hub-height wind speed, air density and power output.

windpowerlib (oemof) does the physics, as its ``ModelChain`` does with its default models:

1. wind speed at hub height from the log-law profile
   (:func:`windpowerlib.wind_speed.logarithmic_profile`) with the site's roughness length
   (``[site] roughness_length_m``) from the weather's wind at ``[weather] wind_height_m``;
2. air temperature at hub height from the standard lapse rate
   (:func:`windpowerlib.temperature.linear_gradient`), the pressure at the site's altitude from
   the standard atmosphere (:func:`pvlib.atmosphere.alt2pres`), and the air density at hub
   height from the barometric height equation (:func:`windpowerlib.density.barometric`);
3. output from the power curve corrected for that density
   (:func:`windpowerlib.power_output.power_curve` with ``density_correction=True``: the
   curve's speeds scale with ``(1.225 / ρ)^p``, ``p`` from 1/3 to 2/3, Svenningsen 2010).

The power curve is a windpowerlib turbine library type (``[[wind]] turbine``) or the site
file's own (``[[wind]] power_curve``). Each entry's output is that of ONE turbine, times its
availability; the dispatch multiplies by the count.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pvlib
from numpy.typing import ArrayLike
from windpowerlib import WindTurbine
from windpowerlib.density import barometric
from windpowerlib.power_output import power_curve
from windpowerlib.temperature import linear_gradient
from windpowerlib.wind_speed import logarithmic_profile

from sitefile import Site, Wind

TEMPERATURE_HEIGHT_M = 2.0
"""[m] height of the weather's air temperature (EPW, TMY3, PVGIS and NASA POWER's T2M)."""
KELVIN = 273.15


def hub_wind_speed_m_s(speed_m_s: ArrayLike, measured_height_m: float, hub_height_m: float,
                       roughness_length_m: float) -> np.ndarray:
    """Wind speed at hub height [m s-1] from ``speed_m_s`` [m s-1] measured at
    ``measured_height_m`` [m], by the log law over roughness length ``roughness_length_m``
    [m]: ``v_hub = v · ln(h_hub / z0) / ln(h / z0)`` (windpowerlib)."""
    return np.asarray(logarithmic_profile(np.asarray(speed_m_s, dtype=float), measured_height_m,
                                          hub_height_m, roughness_length_m), dtype=float)


def air_density_kg_m3(temp_air_c: ArrayLike, altitude_m: float,
                      hub_height_m: float) -> np.ndarray:
    """Air density at hub height [kg m-3] from the air temperature [°C] at
    :data:`TEMPERATURE_HEIGHT_M` above ground at a site ``altitude_m`` [m] above sea level:
    the standard atmosphere's pressure at the altitude, the standard lapse rate and the
    barometric height equation up to ``hub_height_m`` [m] above ground (windpowerlib)."""
    temp_k = np.asarray(temp_air_c, dtype=float) + KELVIN
    temp_hub_k = linear_gradient(temp_k, TEMPERATURE_HEIGHT_M, hub_height_m)
    pressure_pa = float(pvlib.atmosphere.alt2pres(altitude_m))
    return np.asarray(barometric(pressure_pa, 0.0, hub_height_m, temp_hub_k), dtype=float)


@cache
def _library_curve(turbine_type: str) -> tuple[np.ndarray, np.ndarray]:
    """(speed [m s-1], power [kW]) of a windpowerlib library turbine, read-only arrays."""
    curve = WindTurbine(hub_height=100.0, turbine_type=turbine_type).power_curve
    speed = curve["wind_speed"].to_numpy(dtype=float)
    power_kw = curve["value"].to_numpy(dtype=float) / 1000.0  # the library gives W
    speed.setflags(write=False)
    power_kw.setflags(write=False)
    return speed, power_kw


def turbine_curve(wind: Wind) -> tuple[np.ndarray, np.ndarray]:
    """The power curve of ``wind``'s turbine: (speed [m s-1], power [kW]) at 1.225 kg m-3,
    from windpowerlib's library (``turbine``) or the site file (``power_curve``)."""
    if wind.power_curve is not None:
        return (np.asarray(wind.power_curve.speed_m_s, dtype=float),
                np.asarray(wind.power_curve.power_kw, dtype=float))
    assert wind.turbine is not None  # the site file has one or the other
    return _library_curve(wind.turbine)


def rated_kw(wind: Wind) -> float:
    """Rated power of one turbine [kW]: the largest power of its curve."""
    return float(np.max(turbine_curve(wind)[1]))


def turbine_power_kw(wind: Wind, speed_hub_m_s: ArrayLike,
                     density_kg_m3: ArrayLike) -> np.ndarray:
    """Output of ONE turbine of ``wind`` [kW] at hub-height wind speed [m s-1] and air
    density [kg m-3], from its density-corrected power curve (windpowerlib), times
    ``availability_pct`` / 100. Zero below the curve's first speed and above its last (the
    cut-out)."""
    speed_m_s, power_kw = turbine_curve(wind)
    speed = np.atleast_1d(np.asarray(speed_hub_m_s, dtype=float))
    density = np.broadcast_to(np.asarray(density_kg_m3, dtype=float), speed.shape)
    out = power_curve(speed, speed_m_s, power_kw, density=density, density_correction=True)
    return np.asarray(out, dtype=float) * wind.availability_pct / 100.0


def wind_kw_per_turbine(site: Site, weather: pd.DataFrame) -> np.ndarray:
    """Output of one turbine of each ``[[wind]]`` entry at each step of ``weather`` [kW],
    shape ``(len(site.wind), len(weather))``, from its ``wind_speed`` [m s-1] at
    ``[weather] wind_height_m`` and ``temp_air`` [°C] (see the module docstring)."""
    out = np.zeros((len(site.wind), len(weather)))
    if not site.wind:
        return out
    assert site.weather is not None  # the site file's checks refuse wind without weather
    speed = weather["wind_speed"].to_numpy(dtype=float)
    temp = weather["temp_air"].to_numpy(dtype=float)
    for i, wind in enumerate(site.wind):
        hub = hub_wind_speed_m_s(speed, site.weather.wind_height_m, wind.hub_height_m,
                                 site.site.roughness_length_m)
        density = air_density_kg_m3(temp, site.site.altitude_m, wind.hub_height_m)
        out[i] = turbine_power_kw(wind, hub, density)
    return out


def capacity_factor(energy_kwh: float, rated_kw: float, hours: float) -> float:
    """Capacity factor [0-1]: ``energy_kwh`` [kWh] over ``rated_kw`` [kW] × ``hours`` [h]
    (0 when there is no capacity or time)."""
    capacity_kwh = rated_kw * hours
    return energy_kwh / capacity_kwh if capacity_kwh > 0 else 0.0
