"""The cross-checks: rules that span keys or sections, one small function per rule.

Each check takes a site whose sections have validated and returns the problems it finds, each
reported at the key it concerns, with the offending value and the reason. :func:`run_checks`
runs them all; :func:`sitefile.parse_site` refuses a site with any problem.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from sitefile.errors import Problem

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
    "quiet_hours_band_ordered",
    "rtu_bus_one_baudrate",
    "run_checks",
    "search_grid_within_max_candidates",
    "shed_not_below_min_soc",
    "switch_channels_free",
    "switch_on_relay_board",
    "unit_ids_unique_per_bus",
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
    ranges = {f"search.{dim}": r.count for dim in ("kwp", "kwh", "inverter_kw", "generator_kw")
              if (r := getattr(s, dim)) is not None}
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
)


def run_checks(site: Site) -> list[Problem]:
    """Every problem the cross-checks find, in the order of :data:`CHECKS`."""
    return [problem for check in CHECKS for problem in check(site)]
