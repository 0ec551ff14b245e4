"""PV output with pvlib's ModelChain: PVWatts by default, a CEC module optionally.

Perez transposition, the physical IAM model, SAPM cell temperature from ambient temperature and
wind, PVWatts system losses. Weather rows are labelled at the start of their interval; the sun
is placed at the interval's midpoint.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pvlib
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import PVSystem

from sitefile import PV, Site
from sizing.errors import SizingError

PV_INVERTER_EFFICIENCY = 0.96  # nominal efficiency of the PV inverter when AC-coupled
ALBEDO = 0.2  # ground reflectance (PVWatts' default)
_TEMP_PARAMS = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]


@lru_cache(maxsize=8)
def _solar_position(lat: float, lon: float, alt_m: float, start: pd.Timestamp, *,
                    periods: int, step: pd.Timedelta) -> pd.DataFrame:
    """Solar position over a regular index (refraction at standard temperature and pressure).

    Cached: synthetic weather years share one calendar, so their geometry is computed once.
    """
    times = pd.date_range(start, periods=periods, freq=step)
    return pvlib.solarposition.get_solarposition(times, lat, lon, alt_m)


class _Location(pvlib.location.Location):  # type: ignore[misc]
    """A Location whose solar position over regular indexes comes from the cache above."""

    def get_solarposition(self, times: pd.DatetimeIndex, pressure: Any = None,
                          temperature: Any = 12, **kwargs: Any) -> pd.DataFrame:
        steps = np.diff(pd.DatetimeIndex(times).asi8)
        if len(times) < 3 or np.any(steps != steps[0]):
            return super().get_solarposition(times, pressure, temperature, **kwargs)
        return _solar_position(self.latitude, self.longitude, self.altitude, times[0],
                               periods=len(times), step=times[1] - times[0])


def _cec_module(name: str) -> pd.Series:
    modules = pvlib.pvsystem.retrieve_sam("CECMod")
    if name not in modules.columns:
        raise SizingError(f"pv.cec_module: {name!r} is not in the CEC module database")
    return modules[name]


def _pvwatts_losses(losses_pct: float) -> dict[str, float]:
    """All system losses in one PVWatts term (the others zero)."""
    keys = ("shading", "snow", "mismatch", "wiring", "connections", "lid",
            "nameplate_rating", "age", "availability")
    return {"soiling": losses_pct, **dict.fromkeys(keys, 0.0)}


def model_chain(site: Site, pv: PV) -> ModelChain:
    """The ModelChain of the site's array (1 kWp when ``pv.kwp`` is 0, scaled later)."""
    s = site.site
    loc = _Location(s.latitude, s.longitude, s.timezone, s.altitude_m)
    pdc0_w = max(pv.kwp, 1.0) * 1000.0
    if pv.cec_module:
        module = _cec_module(pv.cec_module)
        per_string = 1
        n_modules = max(1, round(pdc0_w / float(module["STC"])))
        system = PVSystem(surface_tilt=pv.tilt_deg, surface_azimuth=pv.azimuth_deg, albedo=ALBEDO,
                          module_parameters=module, temperature_model_parameters=_TEMP_PARAMS,
                          modules_per_string=per_string, strings_per_inverter=n_modules,
                          inverter_parameters={"pdc0": pdc0_w,
                                               "eta_inv_nom": PV_INVERTER_EFFICIENCY},
                          losses_parameters=_pvwatts_losses(pv.losses_pct))
        return ModelChain(system, loc, dc_model="cec", ac_model="pvwatts", aoi_model="physical",
                          spectral_model="no_loss", transposition_model="perez",
                          losses_model="pvwatts")
    system = PVSystem(surface_tilt=pv.tilt_deg, surface_azimuth=pv.azimuth_deg, albedo=ALBEDO,
                      module_parameters={"pdc0": pdc0_w, "gamma_pdc": pv.gamma_pdc_pct_per_c / 100},
                      inverter_parameters={"pdc0": pdc0_w, "eta_inv_nom": PV_INVERTER_EFFICIENCY},
                      temperature_model_parameters=_TEMP_PARAMS,
                      losses_parameters=_pvwatts_losses(pv.losses_pct))
    return ModelChain(system, loc, dc_model="pvwatts", ac_model="pvwatts", aoi_model="physical",
                      spectral_model="no_loss", transposition_model="perez",
                      losses_model="pvwatts")


def _power_w(result: pd.Series | pd.DataFrame) -> np.ndarray:
    """ModelChain power [W] as a clean array (the CEC model gives a frame with ``p_mp``)."""
    values = result["p_mp"] if isinstance(result, pd.DataFrame) else result
    return np.clip(np.nan_to_num(np.asarray(values, dtype=float)), 0.0, None)


def _modelled_kwp(mc: ModelChain) -> float:
    """The DC rating of the modelled array [kWp]."""
    array = mc.system.arrays[0]
    module = array.module_parameters
    if "pdc0" in module:
        return float(module["pdc0"]) / 1000.0
    n = array.modules_per_string * array.strings
    return float(module["STC"]) * n / 1000.0


def pv_power_kw(site: Site, weather: pd.DataFrame) -> pd.DataFrame:
    """PV power over ``weather`` (from :func:`sizing.weather.load_weather`).

    Columns: ``dc_kw`` — array DC output after system losses [kW]; ``ac_kw`` — the power the
    array delivers onto the system's bus [kW]: after the MPPT charge controller onto the DC
    battery bus when ``coupling = "dc"``, after the PV inverter when ``coupling = "ac"``.
    Same index as ``weather``.
    """
    pv = site.pv
    if pv is None:
        raise SizingError("the site has no [pv] section")
    if len(weather) == 0:
        return pd.DataFrame({"dc_kw": [], "ac_kw": []}, index=weather.index)
    step = weather.index[1] - weather.index[0] if len(weather) > 1 else pd.Timedelta(hours=1)
    shifted = weather.copy()
    shifted.index = weather.index + step / 2
    mc = model_chain(site, pv)
    mc.run_model(shifted)
    scale = pv.kwp / _modelled_kwp(mc)
    dc_kw = _power_w(mc.results.dc) * scale / 1000.0
    if pv.coupling == "dc":
        ac_kw = dc_kw * pv.mppt_efficiency_pct / 100.0
    else:
        ac_kw = _power_w(mc.results.ac) * scale / 1000.0
    return pd.DataFrame({"dc_kw": dc_kw, "ac_kw": ac_kw}, index=weather.index)


def pv_kw_per_kwp(site: Site, weather: pd.DataFrame) -> np.ndarray:
    """PV power onto the system bus per kWp of array over ``weather`` [kW/kWp]."""
    if site.pv is None:
        raise SizingError("the site has no [pv] section")
    one = site.model_copy(update={"pv": site.pv.model_copy(update={"kwp": 1.0})})
    return pv_power_kw(one, weather)["ac_kw"].to_numpy()
