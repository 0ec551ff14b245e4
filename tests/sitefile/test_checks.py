"""The cross-checks: each rule passes on a good site and names key, value and reason on a bad
one; ``parse_site`` refuses a site that breaks any of them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from sitefile import CHECKS, Site, SiteFileError, parse_site, run_checks
from sitefile import checks as C

RTU = {"driver": "epever_tracer", "transport": "rtu", "serial_port": "/dev/ttyUSB0",
       "baudrate": 9600}


def good() -> dict[str, Any]:
    """A site that passes every check."""
    return {
        "site": {"name": "t", "latitude": 10.0, "longitude": 106.0},
        "battery": {"kwh": 10, "min_soc_pct": 20, "max_soc_pct": 95, "initial_soc_pct": 50},
        "generator": {"kw": 5},
        "control": {"hard_floor_soc_pct": 10, "shed_soc_pct": 30, "reconnect_soc_pct": 45,
                    "low_battery_v": 46, "reconnect_battery_v": 50,
                    "quiet_hours": {"window": {"start_h": 22, "end_h": 6},
                                    "gen_start_soc_pct": 20, "gen_stop_soc_pct": 50}},
        "loads": [
            {"name": "aer", "kind": "aerator", "kw_per_unit": 1, "units": 2,
             "switch": {"device": "relays", "channels": [0, 1]}},
            {"name": "pump", "kind": "pump", "kw": 1, "daily_kwh": 2,
             "switch": {"device": "relays", "channels": [2]}},
        ],
        "devices": [
            {"name": "mppt", "unit_id": 1, **RTU},
            {"name": "relays", "unit_id": 2, **RTU, "driver": "relay_board"},
            {"name": "inverter", "driver": "sunspec", "transport": "tcp", "host": "127.0.0.1",
             "port": 5020, "unit_id": 1},
        ],
    }


def sections_only(data: dict[str, Any]) -> Site:
    """The site validated section by section, without the cross-checks."""
    return Site.model_validate(data)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.replace("[", ".").replace("]", "").split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return change


WIND = {"name": "t1", "power_curve": {"speed_m_s": [2, 8, 20], "power_kw": [0, 3.6, 12.6]},
        "hub_height_m": 24}


WATER = {"name": "field", "kind": "water_pump", "flow_m3_per_day": 20, "head_m": 15,
         "pipe": {"length_m": 100, "diameter_mm": 50}, "pump": "lorentz-ps2-1800-c-sj8-7"}

UPLINK = {"enabled": True, "host": "hub.example", "site_id": "site-1",
          "password_file": "secret"}

# (check, change to the good site, key named, value named, words of the reason)
BAD: list[tuple[C.Check, Callable[[dict[str, Any]], None], str, Any, str]] = [
    (C.battery_soc_limits_ordered, _set("battery.min_soc_pct", 95), "battery.min_soc_pct", 95,
     "must be below battery.max_soc_pct (95)"),
    (C.battery_initial_soc_within_limits, _set("battery.initial_soc_pct", 15),
     "battery.initial_soc_pct", 15, "must lie between min_soc_pct (20) and max_soc_pct (95)"),
    (C.hard_floor_not_above_min_soc, _set("control.hard_floor_soc_pct", 25),
     "control.hard_floor_soc_pct", 25, "must not be above battery.min_soc_pct (20)"),
    (C.shed_not_below_min_soc, _set("control.shed_soc_pct", 15), "control.shed_soc_pct", 15,
     "must not be below battery.min_soc_pct (20)"),
    (C.control_bands_ordered, _set("control.reconnect_soc_pct", 30),
     "control.reconnect_soc_pct", 30, "must be above control.shed_soc_pct (30) for hysteresis"),
    (C.control_bands_ordered, _set("control.do_off_mg_l", 3.5), "control.do_off_mg_l", 3.5,
     "must be above control.do_on_mg_l (4) for the DO band"),
    (C.control_bands_ordered, _set("control.reconnect_battery_v", 45),
     "control.reconnect_battery_v", 45, "above control.low_battery_v (46)"),
    (C.control_bands_ordered, _set("control.gen_stop_soc_pct", 25), "control.gen_stop_soc_pct",
     25, "above control.gen_start_soc_pct (30)"),
    (C.quiet_hours_band_ordered, _set("control.quiet_hours.gen_stop_soc_pct", 20),
     "control.quiet_hours.gen_stop_soc_pct", 20,
     "must be above quiet_hours.gen_start_soc_pct (20)"),
    (C.load_names_unique, _set("loads[1].name", "aer"), "loads[1].name", "aer",
     "load names must be unique"),
    (C.device_names_unique, _set("devices[1].name", "mppt"), "devices[1].name", "mppt",
     "device names must be unique"),
    (C.unit_ids_unique_per_bus, _set("devices[1].unit_id", 1), "devices[1].unit_id", 1,
     "unit id already used by device 'mppt' on bus rtu:///dev/ttyUSB0"),
    (C.rtu_bus_one_baudrate, _set("devices[1].baudrate", 19200), "devices[1].baudrate", 19200,
     "devices on rtu:///dev/ttyUSB0 must share one baudrate (9600)"),
    (C.switch_on_relay_board, _set("loads[1].switch.device", "relayz"),
     "loads[1].switch.device", "relayz", "no device of that name"),
    (C.switch_on_relay_board, _set("loads[1].switch.device", "mppt"), "loads[1].switch.device",
     "mppt", "device 'mppt' is a epever_tracer, not a relay_board"),
    (C.meter_measures_a_load, _set("devices[1].measures", "pump"), "devices[1].measures",
     "pump", "only an energy meter (sdm120, sdm630) measures a load"),
    (C.meter_measures_a_load, lambda d: d["devices"].append(
        {"name": "meter", "driver": "sdm120", "transport": "tcp", "host": "127.0.0.1",
         "port": 5020, "unit_id": 2, "measures": "pumpp"}), "devices[3].measures", "pumpp",
     "no load of that name; known loads: aer, pump"),
    (C.meter_measures_a_load, lambda d: d["devices"].extend(
        {"name": f"meter{n}", "driver": "sdm630", "transport": "tcp", "host": "127.0.0.1",
         "port": 5020, "unit_id": 2 + n, "measures": "aer"} for n in (0, 1)),
     "devices[4].measures", "aer", "load already measured by device 'meter0'"),
    (C.switch_channels_free, _set("loads[1].switch.channels", [1]), "loads[1].switch.channels",
     1, "channel already switches load 'aer'"),
    (C.switch_channels_free, _set("loads[1].switch.channels", [8]), "loads[1].switch.channels",
     8, "relay channels are 0..7"),
    (C.aerator_channel_count, _set("loads[0].switch.channels", [0]),
     "loads[0].switch.channels", [0], "an aerator load of 2 units needs 2 channels"),
    (C.generator_not_zero, _set("generator.kw", 0), "generator.kw", 0,
     "omit [generator] for a site without one"),
    (C.night_window_not_empty, _set("control.night_end", "18:00"), "control.night_end",
     "18:00", "must differ from control.night_start (18:00): the night window would be empty"),
    (C.search_grid_within_max_candidates,
     _set("search", {"kwp": {"min": 0, "max": 100, "step": 1},
                     "kwh": {"min": 0, "max": 100, "step": 1}, "max_candidates": 10_000}),
     "search", 10_201, "the ranges hold 10,201 candidates (101 search.kwp × 101 search.kwh), "
     "more than search.max_candidates = 10,000"),
    (C.wind_has_a_wind_source, _set("wind", [WIND]), "wind[0]", "t1",
     "a turbine needs [weather] with wind"),
    (C.wind_heights_above_roughness, _set("wind", [{**WIND, "hub_height_m": 0.05}]),
     "wind[0].hub_height_m", 0.05, "must be above site.roughness_length_m (0.1 m)"),
    (C.search_turbines_of_one_wind_entry,
     _set("search", {"turbines": {"min": 0, "max": 2, "step": 0.5}}), "search.turbines",
     {"min": 0.0, "max": 2.0, "step": 0.5},
     "varies the count of the single [[wind]] entry, but the site has 0"),
    (C.generator_devices_exist, _set("generator.device", "relays"), "generators[0].device",
     "relays", "no [[devices]] entry with driver 'generator' has this name"),
    (C.schedule_has_open_days,
     _set("loads[1].schedule", {"months": [7], "closed": [{"from": "07-01", "to": "07-31"}]}),
     "loads[1].schedule",
     {"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
      "closed": [{"from": "07-01", "to": "07-31"}], "months": [7]}, "leave no day open"),
    (C.uplink_intervals_ordered, _set("uplink", {**UPLINK, "reconnect_min_s": 600}),
     "uplink.reconnect_min_s", 600, "must not be above uplink.reconnect_max_s (300)"),
    (C.uplink_intervals_ordered, _set("uplink", {**UPLINK, "resolution_s": 1200}),
     "uplink.resolution_s", 1200, "must not be above uplink.batch_interval_s (900)"),
    (C.uplink_intervals_ordered, _set("uplink", {**UPLINK, "coarse_step_s": 30}),
     "uplink.coarse_step_s", 30, "must not be below uplink.resolution_s (60)"),
    (C.water_pump_has_a_tank, lambda d: d["loads"].append(WATER), "loads[2]", "field",
     "add [tank]"),
    (C.water_pump_has_a_tank, _set("tank", {"m3": 30}), "tank.m3", 30,
     "needs a load of kind 'water_pump'"),
    (C.water_pump_has_a_tank, lambda d: d["loads"].extend([WATER, {**WATER, "name": "f2"}]),
     "loads[3].kind", "water_pump", "at most one water_pump"),
    (C.pump_drive_has_a_level, lambda d: d["devices"].append(
        {"name": "vfd", "driver": "pump_drive", "transport": "tcp", "host": "127.0.0.1",
         "port": 5030}), "devices[3].driver", "pump_drive", "needs a load of kind 'water_pump'"),
    (C.pump_drive_has_a_level, lambda d: (d["loads"].append(WATER), d.update(tank={"m3": 9}),
                                          d["devices"].append(
        {"name": "vfd", "driver": "pump_drive", "transport": "tcp", "host": "127.0.0.1",
         "port": 5030})), "devices[3].driver", "pump_drive", "driver 'tank_level'"),
    (C.search_pumps_in_catalogue, _set("search", {"pumps": ["no-such-pump"]}),
     "search.pumps[0]", "no-such-pump", "not in the pump catalogue"),
]


def test_the_good_site_passes_every_check() -> None:
    site = sections_only(good())
    assert {check.__name__: check(site) for check in CHECKS} == {
        check.__name__: [] for check in CHECKS}
    assert parse_site(good()).battery is not None


def test_every_check_has_a_failing_case() -> None:
    assert {case[0] for case in BAD} == set(CHECKS)


@pytest.mark.parametrize(("check", "change", "key", "value", "reason"), BAD,
                         ids=[f"{b[0].__name__}:{b[2]}" for b in BAD])
def test_a_broken_rule_names_key_value_and_reason(
        check: C.Check, change: Callable[[dict[str, Any]], None], key: str, value: Any,
        reason: str) -> None:
    data = copy.deepcopy(good())
    change(data)
    found = {p.path: p for p in check(sections_only(data))}
    assert key in found
    assert found[key].value == value and reason in found[key].message
    with pytest.raises(SiteFileError) as e:
        parse_site(data, file="bad.toml")
    assert found[key].render("bad.toml") in str(e.value).splitlines()


def test_run_checks_reports_every_problem_at_once() -> None:
    data = good()
    _set("battery.initial_soc_pct", 99)(data)
    _set("devices[1].baudrate", 19200)(data)
    _set("generator.kw", 0)(data)
    assert [p.path for p in run_checks(sections_only(data))] == [
        "battery.initial_soc_pct", "devices[1].baudrate", "generator.kw"]


def test_checks_without_a_battery_pass() -> None:
    data = good()
    del data["battery"]
    assert run_checks(sections_only(data)) == []
