"""The cross-checks: rules that span keys or sections, one small function per rule.

Each check takes a site whose sections have validated and returns the problems it finds, each
reported at the key it concerns, with the offending value and the reason. :func:`run_checks`
runs them all; :func:`sitefile.parse_site` refuses a site with any problem.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sitefile.errors import Problem
from sitefile.presets import PUMP_CATALOGUE

if TYPE_CHECKING:
    from sitefile.model import Site

__all__ = [
    "CHECKS",
    "METER_DRIVERS",
    "aerator_channel_count",
    "battery_initial_soc_within_limits",
    "battery_soc_limits_ordered",
    "control_bands_ordered",
    "device_names_unique",
    "generator_not_zero",
    "hard_floor_not_above_min_soc",
    "load_names_unique",
    "meter_measures_a_load",
    "night_window_not_empty",
    "pump_drive_has_a_level",
    "quiet_hours_band_ordered",
    "rtu_bus_one_baudrate",
    "run_checks",
    "schedule_has_open_days",
    "search_grid_within_max_candidates",
    "search_pumps_in_catalogue",
    "shed_not_below_min_soc",
    "switch_channels_free",
    "switch_on_relay_board",
    "unit_ids_unique_per_bus",
    "uplink_intervals_ordered",
    "water_pump_has_a_tank",
    "wind_has_a_wind_source",
    "wind_heights_above_roughness",
]

Check = Callable[["Site"], list[Problem]]

RELAY_CHANNELS = range(8)  # relay boards have channels 0..7 (the Waveshare family)


def battery_soc_limits_ordered(site: Site) -> list[Problem]:
    """``battery.min_soc_pct`` < ``battery.max_soc_pct``."""
    b = site.battery
    if b is None or b.min_soc_pct < b.max_soc_pct:
        return []
    return [Problem("battery.min_soc_pct",
                    f"must be below battery.max_soc_pct ({b.max_soc_pct:g})", b.min_soc_pct)]


def battery_initial_soc_within_limits(site: Site) -> list[Problem]:
    """``min_soc_pct`` ≤ ``initial_soc_pct`` ≤ ``max_soc_pct``."""
    b = site.battery
    if b is None or b.min_soc_pct <= b.initial_soc_pct <= b.max_soc_pct:
        return []
    return [Problem("battery.initial_soc_pct",
                    f"must lie between min_soc_pct ({b.min_soc_pct:g}) and max_soc_pct "
                    f"({b.max_soc_pct:g})", b.initial_soc_pct)]


def hard_floor_not_above_min_soc(site: Site) -> list[Problem]:
    """The controller's hard floor is not above the battery's ``min_soc_pct``."""
    b, c = site.battery, site.control
    if b is None or c.hard_floor_soc_pct <= b.min_soc_pct:
        return []
    return [Problem("control.hard_floor_soc_pct",
                    f"must not be above battery.min_soc_pct ({b.min_soc_pct:g})",
                    c.hard_floor_soc_pct)]


def shed_not_below_min_soc(site: Site) -> list[Problem]:
    """Loads are shed before the battery reaches its ``min_soc_pct``."""
    b, c = site.battery, site.control
    if b is None or c.shed_soc_pct >= b.min_soc_pct:
        return []
    return [Problem("control.shed_soc_pct",
                    f"must not be below battery.min_soc_pct ({b.min_soc_pct:g})",
                    c.shed_soc_pct)]


_BANDS = (
    ("shed_soc_pct", "reconnect_soc_pct", "hysteresis"),
    ("gen_start_soc_pct", "gen_stop_soc_pct", "hysteresis"),
    ("do_on_mg_l", "do_off_mg_l", "the DO band"),
    ("low_battery_v", "reconnect_battery_v", "hysteresis"),
)


def control_bands_ordered(site: Site) -> list[Problem]:
    """Each ``[control]`` band's upper threshold is above its lower one (when both are set)."""
    c = site.control
    problems = []
    for low, high, why in _BANDS:
        lo, hi = getattr(c, low), getattr(c, high)
        if lo is not None and hi is not None and hi <= lo:
            problems.append(Problem(f"control.{high}",
                                    f"must be above control.{low} ({lo:g}) for {why}", hi))
    return problems


def quiet_hours_band_ordered(site: Site) -> list[Problem]:
    """During quiet hours, the generator's stop SOC is above its start SOC."""
    q = site.control.quiet_hours
    if q is None or q.gen_stop_soc_pct > q.gen_start_soc_pct:
        return []
    return [Problem("control.quiet_hours.gen_stop_soc_pct",
                    f"must be above quiet_hours.gen_start_soc_pct ({q.gen_start_soc_pct:g})",
                    q.gen_stop_soc_pct)]


def night_window_not_empty(site: Site) -> list[Problem]:
    """``control.night_start`` ≠ ``control.night_end``: an empty night would turn every night
    rule off (aerators at night, "DO unknown → all aerators on at night")."""
    c = site.control
    if c.night_start != c.night_end:
        return []
    return [Problem("control.night_end",
                    f"must differ from control.night_start ({c.night_start:%H:%M}): the night "
                    "window would be empty", c.night_end.isoformat("minutes"))]


def search_grid_within_max_candidates(site: Site) -> list[Problem]:
    """The ``[search]`` ranges hold at most ``search.max_candidates`` designs, counted before
    the optimiser allocates anything."""
    s = site.search
    if s is None:
        return []
    ranges = {f"search.{dim}": r.count
              for dim in ("kwp", "kwh", "inverter_kw", "generator_kw", "turbines", "tank_m3")
              if (r := getattr(s, dim)) is not None}
    if s.pumps:
        ranges["search.pumps"] = len(s.pumps)
    total = math.prod(ranges.values())
    if total <= s.max_candidates:
        return []
    detail = " × ".join(f"{n:,} {key}" for key, n in ranges.items())
    return [Problem("search", f"the ranges hold {total:,} candidates ({detail}), more than "
                    f"search.max_candidates = {s.max_candidates:,}; use larger steps or "
                    "narrower ranges", total)]


def load_names_unique(site: Site) -> list[Problem]:
    """No two loads share a name."""
    names = Counter(load.name for load in site.loads)
    return [Problem(f"loads[{i}].name", "load names must be unique", load.name)
            for i, load in enumerate(site.loads) if names[load.name] > 1]


def device_names_unique(site: Site) -> list[Problem]:
    """No two devices share a name."""
    names = Counter(dev.name for dev in site.devices)
    return [Problem(f"devices[{i}].name", "device names must be unique", dev.name)
            for i, dev in enumerate(site.devices) if names[dev.name] > 1]


def unit_ids_unique_per_bus(site: Site) -> list[Problem]:
    """No two devices on one bus share a unit id."""
    problems = []
    seen: dict[tuple[str, int], str] = {}
    for i, dev in enumerate(site.devices):
        first = seen.setdefault((dev.bus, dev.unit_id), dev.name)
        if first != dev.name:
            problems.append(Problem(f"devices[{i}].unit_id",
                                    f"unit id already used by device '{first}' on bus {dev.bus}",
                                    dev.unit_id))
    return problems


def rtu_bus_one_baudrate(site: Site) -> list[Problem]:
    """The devices on one serial bus share one baudrate."""
    problems = []
    baud: dict[str, int] = {}
    for i, dev in enumerate(site.devices):
        if dev.transport != "rtu":
            continue
        first = baud.setdefault(dev.bus, dev.baudrate)
        if first != dev.baudrate:
            problems.append(Problem(f"devices[{i}].baudrate",
                                    f"devices on {dev.bus} must share one baudrate ({first})",
                                    dev.baudrate))
    return problems


def switch_on_relay_board(site: Site) -> list[Problem]:
    """A load's ``switch.device`` names a device of the site, and that device is a relay board."""
    drivers = {dev.name: dev.driver for dev in site.devices}
    problems = []
    for i, load in enumerate(site.loads):
        sw = load.switch
        if sw is None:
            continue
        driver = drivers.get(sw.device)
        if driver is None:
            problems.append(Problem(f"loads[{i}].switch.device", "no device of that name",
                                    sw.device))
        elif driver != "relay_board":
            problems.append(Problem(f"loads[{i}].switch.device",
                                    f"device '{sw.device}' is a {driver}, not a relay_board",
                                    sw.device))
    return problems


METER_DRIVERS = ("sdm120", "sdm630")
"""The drivers of energy meters: the devices that may say which load they ``measures``."""


def meter_measures_a_load(site: Site) -> list[Problem]:
    """A device's ``measures`` names a load of the site, only meters measure, and no load is
    measured by two meters (its metered energy would count twice)."""
    loads = {load.name for load in site.loads}
    problems = []
    seen: dict[str, str] = {}
    for i, dev in enumerate(site.devices):
        if dev.measures is None:
            continue
        if dev.driver not in METER_DRIVERS:
            problems.append(Problem(f"devices[{i}].measures",
                                    f"only an energy meter ({', '.join(METER_DRIVERS)}) "
                                    "measures a load", dev.measures))
        elif dev.measures not in loads:
            problems.append(Problem(f"devices[{i}].measures",
                                    "no load of that name; known loads: "
                                    + (", ".join(sorted(loads)) or "none"), dev.measures))
        elif (first := seen.setdefault(dev.measures, dev.name)) != dev.name:
            problems.append(Problem(f"devices[{i}].measures",
                                    f"load already measured by device '{first}'", dev.measures))
    return problems


def switch_channels_free(site: Site) -> list[Problem]:
    """Relay channels are 0..7, and each switches one load only."""
    problems = []
    used: dict[tuple[str, int], str] = {}
    for i, load in enumerate(site.loads):
        if load.switch is None:
            continue
        for ch in load.switch.channels:
            first = used.setdefault((load.switch.device, ch), load.name)
            if ch not in RELAY_CHANNELS:
                problems.append(Problem(f"loads[{i}].switch.channels",
                                        "relay channels are 0..7", ch))
            elif first != load.name:
                problems.append(Problem(f"loads[{i}].switch.channels",
                                        f"channel already switches load '{first}'", ch))
    return problems


def aerator_channel_count(site: Site) -> list[Problem]:
    """A switched aerator load has one relay channel per unit."""
    return [Problem(f"loads[{i}].switch.channels",
                    f"an aerator load of {load.units} units needs {load.units} channels",
                    load.switch.channels)
            for i, load in enumerate(site.loads)
            if load.kind == "aerator" and load.switch is not None
            and len(load.switch.channels) != load.units]


def generator_not_zero(site: Site) -> list[Problem]:
    """A site without a generator omits ``[generator]`` rather than giving ``kw = 0``."""
    if site.generator is None or site.generator.kw != 0:
        return []
    return [Problem("generator.kw", "omit [generator] for a site without one", 0)]


def wind_has_a_wind_source(site: Site) -> list[Problem]:
    """A ``[[wind]]`` entry needs weather with wind: a weather file (its wind speed column)
    or ``weather.monthly_wind_m_s``; the constant breeze of synthetic years without it only
    cools PV cells and would say nothing about a turbine."""
    if not site.wind:
        return []
    w = site.weather
    if w is None:
        why = "a turbine needs [weather] with wind: a weather file or monthly_wind_m_s"
    elif w.file is None and w.monthly_wind_m_s is None:
        why = ("a turbine needs wind: give weather.monthly_wind_m_s (12 monthly means at "
               "weather.wind_height_m) or a weather file with wind speed")
    else:
        return []
    return [Problem(f"wind[{i}]", why, wind.name) for i, wind in enumerate(site.wind)]


def wind_heights_above_roughness(site: Site) -> list[Problem]:
    """Hub and anemometer heights lie above ``site.roughness_length_m``, where the log-law
    wind profile is defined."""
    z0 = site.site.roughness_length_m
    problems = [Problem(f"wind[{i}].hub_height_m",
                        f"must be above site.roughness_length_m ({z0:g} m) for the log-law "
                        "wind profile", wind.hub_height_m)
                for i, wind in enumerate(site.wind) if wind.hub_height_m <= z0]
    if site.wind and site.weather is not None and site.weather.wind_height_m <= z0:
        problems.append(Problem("weather.wind_height_m",
                                f"must be above site.roughness_length_m ({z0:g} m) for the "
                                "log-law wind profile", site.weather.wind_height_m))
    return problems


def search_turbines_of_one_wind_entry(site: Site) -> list[Problem]:
    """``search.turbines`` counts the turbines of the site's single ``[[wind]]`` entry: whole
    numbers, and exactly one entry to vary."""
    r = site.search.turbines if site.search else None
    if r is None:
        return []
    if len(site.wind) != 1:
        return [Problem("search.turbines", f"varies the count of the single [[wind]] entry, "
                        f"but the site has {len(site.wind)}; keep one entry or drop the range",
                        r.model_dump())]
    if any(v != int(v) for v in (r.min, r.max, r.step)):
        return [Problem("search.turbines", "min, max and step must be whole turbines",
                        r.model_dump())]
    return []


def generator_devices_exist(site: Site) -> list[Problem]:
    """A generator unit's ``device`` names a ``[[devices]]`` entry with driver ``generator``
    (when the file lists devices: a file for sizing alone may name them before they exist)."""
    if not site.devices:
        return []
    drivers = {dev.name: dev.driver for dev in site.devices}
    return [Problem(f"generators[{i}].device", "no [[devices]] entry with driver 'generator' "
                    "has this name", g.device)
            for i, g in enumerate(site.generators)
            if g.device is not None and drivers.get(g.device) != "generator"]


def water_pump_has_a_tank(site: Site) -> list[Problem]:
    """A site lifts water into one ``[tank]`` with at most one ``water_pump`` load, and a
    ``[tank]`` (or ``search.tank_m3``, ``search.pumps``) needs that pump."""
    pumps = [i for i, ld in enumerate(site.loads) if ld.kind == "water_pump"]
    problems = [Problem(f"loads[{i}].kind", "a site has at most one water_pump (one pump "
                        "fills the one [tank])", "water_pump") for i in pumps[1:]]
    if pumps and site.tank is None:
        problems.append(Problem(f"loads[{pumps[0]}]", "a water_pump fills the site's [tank]: "
                                "add [tank] with m3 = …", site.loads[pumps[0]].name))
    if not pumps:
        search = site.search
        given: dict[str, Any] = {
            "tank.m3": site.tank.m3 if site.tank else None,
            "search.tank_m3": search.tank_m3.model_dump() if search and search.tank_m3 else None,
            "search.pumps": search.pumps if search else None}
        problems += [Problem(key, "needs a load of kind 'water_pump' to fill the tank", value)
                     for key, value in given.items() if value]
    return problems


def pump_drive_has_a_level(site: Site) -> list[Problem]:
    """A ``pump_drive`` device runs the site's water pump, and needs a ``tank_level``
    transmitter: without the level the controller keeps the pump stopped (no overflow)."""
    drivers = [dev.driver for dev in site.devices]
    problems = []
    for i, dev in enumerate(site.devices):
        if dev.driver != "pump_drive":
            continue
        if not site.water_pumps:
            problems.append(Problem(f"devices[{i}].driver", "a pump drive needs a load of kind "
                                    "'water_pump' to run", dev.driver))
        elif "tank_level" not in drivers:
            problems.append(Problem(f"devices[{i}].driver", "a pump drive needs a device with "
                                    "driver 'tank_level': without the tank's level the "
                                    "controller keeps the pump stopped", dev.driver))
    return problems


def search_pumps_in_catalogue(site: Site) -> list[Problem]:
    """``search.pumps`` names models of the pump catalogue."""
    pumps = site.search.pumps if site.search else None
    return [Problem(f"search.pumps[{i}]", "not in the pump catalogue (ids: "
                    + ", ".join(PUMP_CATALOGUE) + ")", p)
            for i, p in enumerate(pumps or []) if p not in PUMP_CATALOGUE]


_LEAP_YEAR_DAYS = tuple(
    (month, day) for month, days in enumerate((31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), 1)
    for day in range(1, days + 1))


def schedule_has_open_days(site: Site) -> list[Problem]:
    """A load's ``schedule`` opens on some day of the year: its months and closed periods leave
    a date open (its weekdays, at least one, fall on every date over the years)."""
    from sitefile.model import WEEKDAYS  # noqa: PLC0415 (the model imports this module)

    problems = []
    for i, load in enumerate(site.loads):
        sched = load.schedule
        if sched is None:
            continue
        weekday = WEEKDAYS.index(sched.weekdays[0])
        if not any(sched.is_open(m, d, weekday) for m, d in _LEAP_YEAR_DAYS):
            problems.append(Problem(f"loads[{i}].schedule",
                                    "its months and closed periods leave no day open: the "
                                    "load would never draw (remove the load instead)",
                                    sched.model_dump(mode="json")))
    return problems


def uplink_intervals_ordered(site: Site) -> list[Problem]:
    """``uplink.reconnect_min_s`` ≤ ``reconnect_max_s``; ``resolution_s`` ≤
    ``coarse_step_s`` and ≤ ``batch_interval_s``."""
    u = site.uplink
    if u is None:
        return []
    out = []
    if u.reconnect_min_s > u.reconnect_max_s:
        out.append(Problem("uplink.reconnect_min_s", "must not be above "
                           f"uplink.reconnect_max_s ({u.reconnect_max_s:g})", u.reconnect_min_s))
    if u.resolution_s > u.batch_interval_s:
        out.append(Problem("uplink.resolution_s", "must not be above "
                           f"uplink.batch_interval_s ({u.batch_interval_s})", u.resolution_s))
    if u.resolution_s > u.coarse_step_s:
        out.append(Problem("uplink.coarse_step_s", "must not be below "
                           f"uplink.resolution_s ({u.resolution_s})", u.coarse_step_s))
    return out


CHECKS: tuple[Check, ...] = (
    battery_soc_limits_ordered,
    battery_initial_soc_within_limits,
    hard_floor_not_above_min_soc,
    shed_not_below_min_soc,
    control_bands_ordered,
    quiet_hours_band_ordered,
    night_window_not_empty,
    search_grid_within_max_candidates,
    load_names_unique,
    device_names_unique,
    unit_ids_unique_per_bus,
    rtu_bus_one_baudrate,
    switch_on_relay_board,
    meter_measures_a_load,
    switch_channels_free,
    aerator_channel_count,
    generator_not_zero,
    wind_has_a_wind_source,
    wind_heights_above_roughness,
    search_turbines_of_one_wind_entry,
    generator_devices_exist,
    schedule_has_open_days,
    uplink_intervals_ordered,
    water_pump_has_a_tank,
    pump_drive_has_a_level,
    search_pumps_in_catalogue,
)


def run_checks(site: Site) -> list[Problem]:
    """Every problem the cross-checks find, in the order of :data:`CHECKS`."""
    return [problem for check in CHECKS for problem in check(site)]
