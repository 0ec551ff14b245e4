"""Presets and defaults are filled before validation: a validated site is fully resolved."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from sitefile import (
    CHEMISTRY_PRESETS,
    RURAL_HOME_PRESET,
    Battery,
    Device,
    Generator,
    Inverter,
    Section,
    Site,
    SiteFileError,
    parse_site,
)
from sitefile import model as site_model

SITE_INFO = {"name": "t", "latitude": 10.0, "longitude": 106.0}


def site_with(**sections: Any) -> Site:
    return parse_site({"site": SITE_INFO, **sections})


@pytest.mark.parametrize("chemistry", ["lfp", "lead_acid"])
def test_a_battery_without_keys_gets_its_chemistry_preset(chemistry: str) -> None:
    b = Battery.model_validate({"chemistry": chemistry, "kwh": 20})
    for key, value in CHEMISTRY_PRESETS[chemistry].items():
        assert getattr(b, key) == value, key
    assert b.initial_soc_pct == b.max_soc_pct == 100.0
    assert (b.max_charge_kw, b.max_discharge_kw) == (10.0, 10.0)  # 0.5 C of 20 kWh


def test_the_lfp_preset_is_the_default_and_its_nominal_voltage_is_51_2() -> None:
    b = Battery.model_validate({"kwh": 5})
    assert b.chemistry == "lfp" and b.nominal_v == 51.2  # 16 cells of 3.2 V, not 48


@pytest.mark.parametrize("key", [*CHEMISTRY_PRESETS["lead_acid"], "initial_soc_pct",
                                 "max_charge_kw", "max_discharge_kw"])
def test_a_value_the_file_gives_wins_over_the_preset(key: str) -> None:
    given = {"min_soc_pct": 40.0, "max_soc_pct": 90.0, "initial_soc_pct": 60.0,
             "max_charge_kw": 3.0, "max_discharge_kw": 4.0, "charge_efficiency_pct": 85.0,
             "discharge_efficiency_pct": 86.0, "cycle_life": 900.0, "cycle_life_dod_pct": 70.0,
             "cycle_life_exponent": 1.2, "nominal_v": 24.0, "calendar_life_years": 4.0,
             "max_temp_c": 40.0, "end_of_life_capacity_pct": 70.0}
    filled = Battery.model_validate({"chemistry": "lead_acid", "kwh": 20})
    b = Battery.model_validate({"chemistry": "lead_acid", "kwh": 20, key: given[key]})
    assert getattr(b, key) == given[key] != getattr(filled, key)


def test_initial_soc_follows_a_given_max_soc() -> None:
    assert Battery.model_validate({"kwh": 1, "max_soc_pct": 90}).initial_soc_pct == 90


def test_inverter_surge_and_generator_idle_fuel_follow_the_rating() -> None:
    assert Inverter.model_validate({"kw": 3}).surge_kw == 6.0
    assert Inverter.model_validate({"kw": 3, "surge_kw": 4}).surge_kw == 4.0
    assert Generator.model_validate({"kw": 10}).fuel_l_per_h_idle == pytest.approx(0.8)
    assert Generator.model_validate({"kw": 10, "fuel_l_per_h_idle": 1.5}).fuel_l_per_h_idle == 1.5


def test_request_gap_by_transport() -> None:
    rtu = {"name": "a", "driver": "relay_board", "transport": "rtu", "serial_port": "/dev/x"}
    tcp = {"name": "b", "driver": "sunspec", "transport": "tcp", "host": "h", "port": 502}
    assert Device.model_validate(rtu).request_gap_s == 0.05
    assert Device.model_validate(tcp).request_gap_s == 0.0
    assert Device.model_validate({**rtu, "request_gap_s": 0.02}).request_gap_s == 0.02


def test_priorities_critical_first_then_file_order() -> None:
    pump = {"kind": "pump", "kw": 1, "daily_kwh": 1}
    site = site_with(loads=[
        {"name": "p1", **pump},
        {"name": "aer", "kind": "aerator", "kw_per_unit": 1, "units": 1},  # critical by default
        {"name": "p2", **pump, "priority": 3},
        {"name": "p3", **pump},
        {"name": "p4", **pump, "critical": True},
    ])
    assert [ld.priority for ld in site.loads] == [10, 1, 3, 11, 1]


def test_a_load_on_its_own_gets_a_priority_too() -> None:
    aer = site_model.AeratorLoad.model_validate(
        {"name": "a", "kind": "aerator", "kw_per_unit": 1, "units": 1})
    pump = site_model.PumpLoad.model_validate(
        {"name": "p", "kind": "pump", "kw": 1, "daily_kwh": 1})
    assert (aer.priority, pump.priority) == (1, 10)


def test_appliance_preset_fills_and_given_appliances_win() -> None:
    base = {"name": "home", "kind": "appliance", "preset": "vn_rural_home"}
    preset = site_with(loads=[base]).loads[0]
    assert isinstance(preset, site_model.ApplianceLoad)
    assert [a.name for a in preset.appliances] == [a["name"] for a in RURAL_HOME_PRESET]
    own = site_with(loads=[{**base, "appliances": [
        {"name": "lamp", "power_w": 5, "minutes_per_day": 60}]}]).loads[0]
    assert isinstance(own, site_model.ApplianceLoad)
    assert [a.name for a in own.appliances] == ["lamp"]


@pytest.mark.parametrize(("battery", "key"), [
    ({"chemistry": "nimh", "kwh": 5}, "battery.chemistry"),
    ({"kwh": "big"}, "battery.kwh"),
])
def test_a_bad_input_is_the_only_problem_reported(battery: dict[str, Any], key: str) -> None:
    """Placeholders keep the preset fill from adding a cascade of missing keys."""
    with pytest.raises(SiteFileError) as e:
        site_with(battery=battery)
    assert [p.path for p in e.value.problems] == [key]


@pytest.mark.parametrize(("sections", "key"), [
    ({"inverter": {"kw": -1}}, "inverter.kw"),
    ({"generator": {"kw": "ten"}}, "generators[0].kw"),
    ({"battery": {"kwh": -5}}, "battery.kwh"),
    ({"battery": {"kwh": 5, "max_soc_pct": 150}}, "battery.max_soc_pct"),
])
def test_a_bad_rating_is_the_only_problem_reported(sections: dict[str, Any], key: str) -> None:
    with pytest.raises(SiteFileError) as e:
        site_with(**sections)
    assert [p.path for p in e.value.problems] == [key]


# The fields that may be None in a validated site, each because None means "not at this
# site" or "not used"; every other field is resolved.
TRULY_OPTIONAL = {
    "Weather": {"file", "monthly_ghi_kwh_m2_day", "monthly_temp_c", "monthly_wind_m_s"},
    "Wind": {"turbine", "power_curve"},
    "Generator": {"device"},
    "PV": {"cec_module"},
    "LoadBase": {"switch", "schedule"}, "ProfileLoad": {"switch", "schedule"},
    "ApplianceLoad": {"switch", "preset", "schedule"},
    "AeratorLoad": {"switch", "schedule"}, "PumpLoad": {"switch", "schedule"},
    "WaterPumpLoad": {"switch", "schedule"},
    "Device": {"host", "port", "serial_port", "measures"},  # measures: meters on a load
    "Control": {"low_battery_v", "reconnect_battery_v", "max_battery_temp_c",
                "gen_start_load_kw", "quiet_hours"},
    "Search": {"kwp", "kwh", "inverter_kw", "generator_kw", "turbines", "tank_m3", "pumps"},
    "SimFault": {"duration_s"},
    "Sim": {"start"},
    "Site": {"weather", "pv", "battery", "inverter", "tank", "search", "uplink"},
    "Uplink": {"ca_file"},
}


def _admits_none(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(
        annotation)


def _sections() -> list[type[BaseModel]]:
    return [obj for obj in vars(site_model).values()
            if isinstance(obj, type) and issubclass(obj, Section) and obj is not Section]


@pytest.mark.parametrize("section", _sections(), ids=lambda s: s.__name__)
def test_only_truly_optional_fields_admit_none(section: type[BaseModel]) -> None:
    optional = {name for name, field in section.model_fields.items()
                if _admits_none(field.annotation)}
    assert optional == TRULY_OPTIONAL.get(section.__name__, set())


def test_sections_are_frozen() -> None:
    site = site_with(battery={"kwh": 5})
    assert site.battery is not None
    with pytest.raises(ValueError, match="frozen"):
        site.battery.kwh = 6  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        site.control.shed_soc_pct = 50  # type: ignore[misc]
