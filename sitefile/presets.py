"""Presets and defaults as data, and the pure functions that fill them into a raw section.

The sections of :mod:`sitefile.model` call the ``fill_*`` functions before validation
(DESIGN.md §3.13), so a validated :class:`~sitefile.model.Site` has every value resolved and
nobody downstream re-proves ``is not None`` or invents a fallback of their own.

A fill function takes the section's raw mapping as written in the file and returns a new
mapping with the missing keys added; it never removes or changes a key the file gives. When a
value it derives from is itself invalid (``kwh = "big"``), it fills a placeholder instead, so
that validation reports the one real problem rather than a cascade of missing keys; a site
with such a placeholder never validates.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from importlib.resources import files
from types import MappingProxyType
from typing import Any

__all__ = [
    "APPLIANCE_PRESETS",
    "CHEMISTRY_PRESETS",
    "COMPRESSOR_RESTART_DELAY_S",
    "CRITICAL_PRIORITY",
    "DEFAULT_CHEMISTRY",
    "DEFAULT_C_RATE",
    "FIRST_OTHER_PRIORITY",
    "IDLE_FUEL_L_PER_H_PER_KW",
    "PUMP_CATALOGUE",
    "PUMP_START_MULTIPLIER",
    "REQUEST_GAP_S",
    "RURAL_HOME_PRESET",
    "SURGE_RATIO",
    "fill_appliances",
    "fill_battery",
    "fill_device",
    "fill_generator",
    "fill_households",
    "fill_inverter",
    "fill_load_priority",
    "fill_restart_delay",
    "fill_site_priorities",
    "fill_water_pump",
]

# Chemistry presets: efficiencies, SOC limits, cycle life (cycles to 80 % capacity at a DoD),
# nominal voltage [V], the highest cell temperature to operate at [°C] and the end-of-life
# capacity [% of nameplate]: 80 % for both, the threshold their cycle-life figures are quoted
# to (LFP datasheets: cycles to 80 %) and the replacement point IEEE 450/1188 recommend for
# lead-acid banks.
CHEMISTRY_PRESETS: Mapping[str, Mapping[str, float]] = {
    "lfp": {
        "min_soc_pct": 10.0,
        "max_soc_pct": 100.0,
        "charge_efficiency_pct": 97.0,
        "discharge_efficiency_pct": 97.0,
        "cycle_life": 6000.0,
        "cycle_life_dod_pct": 80.0,
        "cycle_life_exponent": 1.3,
        "nominal_v": 51.2,
        "calendar_life_years": 15.0,
        "max_temp_c": 55.0,
        "end_of_life_capacity_pct": 80.0,
    },
    "lead_acid": {
        "min_soc_pct": 50.0,
        "max_soc_pct": 100.0,
        "charge_efficiency_pct": 90.0,
        "discharge_efficiency_pct": 92.0,
        "cycle_life": 1200.0,
        "cycle_life_dod_pct": 50.0,
        "cycle_life_exponent": 1.1,
        "nominal_v": 48.0,
        "calendar_life_years": 6.0,
        "max_temp_c": 45.0,
        "end_of_life_capacity_pct": 80.0,
    },
}
DEFAULT_CHEMISTRY = "lfp"

# Charge and discharge power limits when the file gives none [kW per kWh]: 0.5 C suits both
# chemistries.
DEFAULT_C_RATE = 0.5
# Inverter surge rating when the file gives none, as a multiple of its continuous rating.
SURGE_RATIO = 2.0
# A diesel generator's idle fuel use when the file gives none [L/h per kW of rating].
IDLE_FUEL_L_PER_H_PER_KW = 0.08
# The gap between two requests on one bus [s]: RS485 devices need 20–100 ms (DESIGN.md §4).
REQUEST_GAP_S: Mapping[str, float] = {"rtu": 0.05, "tcp": 0.0}
# A switched load with a compressor (an appliance with ``start_multiplier`` > 1) waits this long
# after it was switched off before it is switched on again [s]: the usual anti-short-cycle
# delay of air conditioners and refrigeration units (3 min), which lets the refrigerant
# pressures equalise so that the compressor does not stall against head pressure.
COMPRESSOR_RESTART_DELAY_S = 180.0
# Load priorities (1 = shed last): critical loads get 1, the others 10, 11, … in file order.
CRITICAL_PRIORITY = 1
FIRST_OTHER_PRIORITY = 10

# Preset appliances of a rural Vietnamese home (typical powers, counts and hours of use).
RURAL_HOME_PRESET: list[dict[str, Any]] = [
    {"name": "LED lights", "power_w": 9, "count": 5, "minutes_per_day": 300,
     "windows": [{"start_h": 17.5, "end_h": 23}, {"start_h": 4.5, "end_h": 6}]},
    {"name": "fans", "power_w": 45, "count": 2, "minutes_per_day": 480,
     "windows": [{"start_h": 11, "end_h": 15}, {"start_h": 20, "end_h": 5}]},
    {"name": "TV", "power_w": 70, "count": 1, "minutes_per_day": 240,
     "windows": [{"start_h": 18, "end_h": 23}]},
    {"name": "fridge", "power_w": 110, "count": 1, "minutes_per_day": 1440,
     "duty_cycle": 0.35, "variability_pct": 10},
    {"name": "rice cooker", "power_w": 600, "count": 1, "minutes_per_day": 40,
     "windows": [{"start_h": 5, "end_h": 6.5}, {"start_h": 16.5, "end_h": 18}]},
    {"name": "phones", "power_w": 10, "count": 3, "minutes_per_day": 150,
     "windows": [{"start_h": 19, "end_h": 24}]},
]
APPLIANCE_PRESETS: Mapping[str, list[dict[str, Any]]] = {"vn_rural_home": RURAL_HOME_PRESET}

# The pump catalogue (package data ``sitefile/data/pumps.toml``): common solar pumps by id,
# each with its curve at rated speed, efficiency, drive, price and source.
PUMP_CATALOGUE: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    tomllib.loads(files("sitefile").joinpath("data/pumps.toml").read_text(encoding="utf-8")))
# A pump's starting current as a multiple of its running current, by drive: a variable-speed
# drive ramps the motor up (no surge beyond its rating), a fixed-speed pump starts direct on
# line (6–8 × running current, DESIGN.md §4).
PUMP_START_MULTIPLIER: Mapping[str, float] = {"vfd": 1.0, "fixed": 6.0}


def _valid(value: Any, high: float = math.inf, placeholder: float = 0.0) -> float:
    """``value`` when it is a number in ``0..high``, else ``placeholder``: a value derived from
    an invalid one would only repeat the problem that validation reports for it."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= high:
        return float(value)
    return placeholder


def fill_battery(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A ``[battery]`` table with the chemistry preset, the initial SOC (= ``max_soc_pct``)
    and the power limits (``DEFAULT_C_RATE`` × ``kwh``) filled where the file gives none.

    An unknown chemistry is filled from the default chemistry's preset; validation still
    reports the chemistry.
    """
    out = dict(raw)
    chemistry = out.get("chemistry", DEFAULT_CHEMISTRY)
    preset = CHEMISTRY_PRESETS.get(chemistry, CHEMISTRY_PRESETS[DEFAULT_CHEMISTRY])
    for key, value in preset.items():
        out.setdefault(key, value)
    out.setdefault("initial_soc_pct", _valid(out["max_soc_pct"], 100.0, preset["max_soc_pct"]))
    kwh = _valid(out.get("kwh"))
    out.setdefault("max_charge_kw", DEFAULT_C_RATE * kwh)
    out.setdefault("max_discharge_kw", DEFAULT_C_RATE * kwh)
    return out


def fill_inverter(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An ``[inverter]`` table with ``surge_kw`` (``SURGE_RATIO`` × ``kw``) filled."""
    out = dict(raw)
    out.setdefault("surge_kw", SURGE_RATIO * _valid(out.get("kw")))
    return out


def fill_generator(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A ``[generator]`` table with ``fuel_l_per_h_idle`` (per kW of rating) filled."""
    out = dict(raw)
    out.setdefault("fuel_l_per_h_idle", IDLE_FUEL_L_PER_H_PER_KW * _valid(out.get("kw")))
    return out


def fill_device(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A ``[[devices]]`` entry with ``request_gap_s`` filled for its transport."""
    out = dict(raw)
    out.setdefault("request_gap_s", REQUEST_GAP_S.get(out.get("transport", ""), 0.0))
    return out


def fill_appliances(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An appliance load with the appliances of its ``preset`` filled when it lists none."""
    out = dict(raw)
    preset = APPLIANCE_PRESETS.get(out.get("preset") or "")
    if preset is not None and not out.get("appliances"):
        out["appliances"] = [dict(a) for a in preset]
    return out


def fill_households(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An appliance load with ``customers`` filled: its ``count`` of households (1 when the
    file gives none), each a customer for SAIDI/SAIFI. An invalid ``count`` fills 1; validation
    reports the count."""
    out = dict(raw)
    count = out.get("count", 1)
    valid = isinstance(count, int) and not isinstance(count, bool) and count >= 1
    out.setdefault("customers", count if valid else 1)
    return out


def fill_restart_delay(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An appliance load with ``restart_delay_s`` filled: ``COMPRESSOR_RESTART_DELAY_S`` when
    one of its appliances has a compressor start (``start_multiplier`` > 1), else 0."""
    out = dict(raw)
    apps = out.get("appliances")
    compressor = False
    if isinstance(apps, list):
        for a in apps:
            mult = a.get("start_multiplier", 1.0) if isinstance(a, Mapping) else getattr(
                a, "start_multiplier", 1.0)
            compressor = compressor or (isinstance(mult, int | float) and mult > 1)
    out.setdefault("restart_delay_s", COMPRESSOR_RESTART_DELAY_S if compressor else 0.0)
    return out


def fill_load_priority(raw: Mapping[str, Any], critical_default: bool) -> dict[str, Any]:
    """A load on its own: priority ``CRITICAL_PRIORITY`` when critical, else
    ``FIRST_OTHER_PRIORITY``. ``critical_default`` is the load kind's default for ``critical``."""
    out = dict(raw)
    critical = out.get("critical", critical_default)
    out.setdefault("priority", CRITICAL_PRIORITY if critical is True else FIRST_OTHER_PRIORITY)
    return out


def fill_site_priorities(loads: list[Any],
                         critical_default: Mapping[str, bool]) -> list[Any]:
    """A site's ``[[loads]]`` with priorities filled: critical loads ``CRITICAL_PRIORITY``, the
    others ``FIRST_OTHER_PRIORITY``, +1, … in file order. ``critical_default`` maps each load
    kind to its default for ``critical``; entries that are not mappings pass unchanged."""
    out: list[Any] = []
    nxt = FIRST_OTHER_PRIORITY
    for load in loads:
        if not isinstance(load, Mapping) or "priority" in load:
            out.append(load)
            continue
        critical = load.get("critical", critical_default.get(load.get("kind", ""), False))
        if critical is True:
            out.append({**load, "priority": CRITICAL_PRIORITY})
        else:
            out.append({**load, "priority": nxt})
            nxt += 1
    return out


def fill_water_pump(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A ``water_pump`` load with its ``pump`` resolved: a catalogue id becomes the model's
    table (with ``id``); the load's ``drive`` overrides the model's; ``start_multiplier``
    follows the drive (:data:`PUMP_START_MULTIPLIER`), and the load's ``drive`` is the
    pump's. An unknown id is left as it is, and
    validation reports it with the ids the catalogue holds."""
    out = dict(raw)
    pump = out.get("pump")
    if isinstance(pump, str) and pump in PUMP_CATALOGUE:
        pump = {"id": pump, **PUMP_CATALOGUE[pump]}
    drive = out.get("drive")
    if isinstance(pump, Mapping):
        pump = dict(pump)
        pump.setdefault("id", "custom")
        if drive is not None:
            pump["drive"] = drive
        out["pump"] = pump
        drive = pump.get("drive")
        if drive is not None:
            out["drive"] = drive
    out.setdefault("start_multiplier", PUMP_START_MULTIPLIER.get(str(drive), 1.0))
    return out
