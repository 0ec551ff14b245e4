"""Plausibility ranges derived from the site file (pure functions).

A value a device reports outside the range its site allows is INVALID, like the device's own
"no data" sentinels: a 48 V bank cannot read 327 V, and an 80 kWp array cannot make 7 GW. The
ranges come from the site file, never from a fixed list:

- battery voltages (``battery_v``, ``dc_v``, the MPPTs' load output): ``BATTERY_V_SPAN`` × the
  bank's ``nominal_v``;
- PV power: 0 … ``PV_MARGIN`` × ``kwp``; PV input voltage: 0 … ``PV_MARGIN`` × the MPPT's
  ``mppt_max_input_v``; PV current: PV power / ``mppt_min_v``;
- battery power: ± ``POWER_MARGIN`` × the larger of ``max_charge_kw`` and
  ``max_discharge_kw``; battery current: that power / the lowest plausible voltage;
- AC power: ``POWER_MARGIN`` × (inverter ``surge_kw`` + every generator's ``kw``, which the
  inverter passes through); AC current: that power / ``AC_V_MIN``;
- generator power: ``POWER_MARGIN`` × the largest unit's ``kw``;
- energy counters: 0 … ``COUNTER_YEARS`` years of full power (PV: of
  ``PV_KWH_PER_KWP_YEAR``);
- percentages 0–100, dissolved oxygen 0–``DO_MAX_MG_L``, temperatures in the range of their
  place (battery, water, cabinet).

Points without a meaningful range (flags, states, text, settings) have none (None). Energy
*steps* between two counter reads are bounded separately (:mod:`controller.energy`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from sitefile import Site

Limits = tuple[float, float]
"""A closed range ``(lo, hi)`` in the point's unit."""

BATTERY_V_SPAN = (0.7, 1.3)
"""A battery voltage lies within 0.7–1.3 × the bank's nominal voltage."""
PV_MARGIN = 1.3
"""PV power can exceed the array's rating under cold, bright skies (cloud-edge effect)."""
POWER_MARGIN = 1.5
"""Headroom over a rating for battery, AC and generator power (short overloads, surges)."""
AC_V_MAX = 300.0
"""[V] highest plausible AC output voltage (a 230 V system +30 %)."""
AC_V_MIN = 100.0
"""[V] lowest AC voltage at which a current is computed from a power."""
AC_HZ_MAX = 70.0
"""[Hz] highest plausible AC frequency (0 while the inverter is off)."""
COUNTER_YEARS = 30.0
"""A lifetime energy counter holds at most this many years of full-power energy."""
DO_MAX_MG_L = 30.0
"""[mg/L] dissolved oxygen: supersaturated ponds reach about 20 mg/L, never 30."""
TEMPS_C: Mapping[str, Limits] = MappingProxyType({
    "battery_temp_c": (-40.0, 100.0), "device_temp_c": (-40.0, 125.0),
    "cabinet_temp_c": (-40.0, 125.0), "water_temp_c": (-5.0, 50.0)})
HOURS_PER_YEAR = 8760.0
PV_KWH_PER_KWP_YEAR = 2500.0
"""A PV array yields at most this in a year (the sunniest deserts; Vietnam: 1,100–1,700)."""

_MPPT_MODULE = re.compile(r"^mppt\d+_(pv_a|pv_v|pv_w|pv_wh)$")


def site_limits(site: Site) -> dict[str, Limits]:
    """The plausible range of every point name the drivers report that has one, for ``site``.

    Components the site file does not describe leave their points unchecked (absent).
    """
    out: dict[str, Limits] = {"soc_pct": (0.0, 100.0), "fuel_pct": (0.0, 100.0),
                              "do_sat_pct": (0.0, 400.0)}
    out["do_mg_l"] = (0.0, DO_MAX_MG_L)
    out["salinity_ppt"] = (0.0, 60.0)
    out.update(TEMPS_C)
    out["ac_v"] = out["voltage_v"] = (0.0, AC_V_MAX)  # voltage_v: energy meters
    out["ac_hz"] = out["frequency_hz"] = (0.0, AC_HZ_MAX)
    out["power_factor"] = (-1.0, 1.0)
    out["starter_battery_v"] = (0.0, 36.0)
    out["run_minutes"] = out["run_seconds"] = (0.0, 59.0)
    out["generator_run_h"] = out["run_hours"] = (0.0, COUNTER_YEARS * HOURS_PER_YEAR)
    b = site.battery
    if b is not None:
        lo_v, hi_v = (k * b.nominal_v for k in BATTERY_V_SPAN)
        for name in ("battery_v", "battery_v_net", "dc_v"):
            out[name] = (lo_v, hi_v)
        out["load_v"] = (0.0, hi_v)  # 0 while the load output is off
        batt_w = POWER_MARGIN * max(b.max_charge_kw, b.max_discharge_kw) * 1000.0
        out["battery_w"] = out["dc_w"] = (-batt_w, batt_w)
        out["battery_a"] = (-batt_w / lo_v, batt_w / lo_v)
        out["charge_a"] = out["load_a"] = (0.0, batt_w / lo_v)
        out["load_w"] = (0.0, batt_w)
        out["load_kwh_total"] = (0.0, b.max_discharge_kw * COUNTER_YEARS * HOURS_PER_YEAR)
    if site.pv is not None:
        pv_w = PV_MARGIN * site.pv.kwp * 1000.0
        out["pv_w"] = out["charge_w"] = (0.0, pv_w)
        out["pv_v"] = (0.0, PV_MARGIN * site.pv.mppt_max_input_v)
        out["pv_a"] = (0.0, pv_w / site.pv.mppt_min_v)
        pv_kwh = site.pv.kwp * PV_KWH_PER_KWP_YEAR * COUNTER_YEARS
        out["pv_kwh_total"] = (0.0, pv_kwh)
        out["pv_wh_total"] = (0.0, pv_kwh * 1000.0)
        out["pv_kwh_today"] = (0.0, site.pv.kwp * PV_MARGIN * 24.0)
    gen_kw = sum(g.kw for g in site.generators)  # every unit in parallel on the AC bus
    if site.generators:
        unit_kw = max(g.kw for g in site.generators)  # one controller reports one unit
        out["generator_w"] = (0.0, POWER_MARGIN * unit_kw * 1000.0)
        out["generator_kwh_total"] = (0.0, unit_kw * COUNTER_YEARS * HOURS_PER_YEAR)
    if site.inverter is not None:
        ac_kw = POWER_MARGIN * (site.inverter.surge_kw + gen_kw)
        out["ac_w"] = (-ac_kw * 1000.0, ac_kw * 1000.0)
        out["ac_a"] = (0.0, ac_kw * 1000.0 / AC_V_MIN)
        ac_kwh = (site.inverter.kw + gen_kw) * COUNTER_YEARS * HOURS_PER_YEAR
        out["ac_kwh_total"] = (0.0, ac_kwh)
        # An energy meter sits on one load's circuit (or the whole AC output) behind the
        # inverter: its power, current and counters share the AC output's ranges.
        out["power_w"] = out["ac_w"]
        out["current_a"] = (0.0, 3 * ac_kw * 1000.0 / AC_V_MIN)  # sum of three phases
        for name in ("import_kwh", "export_kwh", "total_kwh"):
            out[name] = (0.0, ac_kwh)
        out["ac_wh_total"] = (0.0, ac_kwh * 1000.0)
    return out


def plausible_range_of(point: str, limits: Mapping[str, Limits]) -> Limits | None:
    """The range of ``point`` in a table built once by :func:`site_limits` (None: unchecked).
    The MPPT modules of SunSpec model 160 (``mppt<k>_pv_w``, …) share the PV's ranges."""
    found = limits.get(point)
    if found is not None or not point.startswith("mppt"):
        return found
    module = _MPPT_MODULE.match(point)
    if module is not None:
        name = module.group(1)
        return limits.get("pv_wh_total" if name == "pv_wh" else name)
    return None


def plausible_range(site: Site, point: str) -> Limits | None:
    """The plausible range of ``point`` at ``site`` (None: not checked). Point names mean the
    same on every driver (DESIGN.md §2), so the range does not depend on the device."""
    return plausible_range_of(point, site_limits(site))


def within(limits: Limits | None, value: float) -> bool:
    """True when ``value`` lies in ``limits`` (always, without limits)."""
    return limits is None or limits[0] <= value <= limits[1]
