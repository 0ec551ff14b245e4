"""The orchestrator on the examples: plausible figures, P50/P90, motor starts."""

from __future__ import annotations

import numpy as np
import pytest

from sitefile import AeratorLoad, Battery, Inverter, Site, load_site
from sizing.inputs import read_inputs
from sizing.simulate import JSON_KEYS, YearResult, build_loads, simulate, simulate_year
from tests.conftest import HOME, SHRIMP
from tests.sizing.sam_reference import tmy3_site


def first_year(site: Site) -> YearResult:
    """The site's design over its first weather year."""
    inputs = read_inputs(site, 1)
    weather = inputs.weather[0]
    return simulate_year(site, weather, build_loads(site, weather.index, inputs.profiles_kw))


DESIGN_KEYS = ("pv_ac_kwh", "load_kwh", "served_kwh", "unmet_kwh", "unmet_load_fraction",
               "critical_unmet_fraction", "loss_of_load_hours", "curtailed_kwh",
               "battery_throughput_kwh", "battery_equivalent_cycles", "generator_hours",
               "generator_fuel_l", "renewable_fraction", "saidi_minutes", "saifi_count")


def test_shrimp_without_generator_and_small_battery_misses_aerators_at_night_in_rainy_season(
) -> None:
    site = load_site(SHRIMP)
    assert site.battery is not None
    site = site.model_copy(update={"generators": [],
                                   "battery": site.battery.model_copy(update={"kwh": 160.0})})
    year = first_year(site)
    crit = year.run.series["critical_unmet_kw"]
    idx = year.index
    night = (idx.hour >= 18) | (idx.hour < 6)
    rainy = idx.month.isin([5, 6, 7, 8, 9, 10])
    dry = idx.month.isin([1, 2, 3])
    assert crit[night & rainy].sum() > 3 * crit[night & dry].sum()
    assert crit[night].sum() > 2 * crit[~night].sum()
    assert year.unmet_by_load_kwh["aerators"] > 1000.0
    assert year.figures["critical_unmet_fraction"] > 0.02


def test_shrimp_with_generator_keeps_aerators_running() -> None:
    site = load_site(SHRIMP)
    assert site.pv is not None and site.search is not None
    result = simulate(site, read_inputs(site))
    data = result.to_json()
    assert data["critical_unmet_fraction"] < 0.001
    assert site.search.max_saidi_minutes is not None
    assert data["saidi_minutes"] <= site.search.max_saidi_minutes  # the example's own target
    assert data["generator_hours"] > 0 and data["generator_fuel_l"] > 0
    assert 0.0 < data["renewable_fraction"] < 1.0
    assert data["pv_ac_kwh"] == pytest.approx(site.pv.kwp * 1380, rel=0.1)
    assert data["load_kwh"] == pytest.approx(365 * (162 + 2.62 + 9), rel=0.02)


def test_json_has_the_design_keys_and_p90_for_several_years() -> None:
    result = simulate(load_site(HOME), read_inputs(load_site(HOME), 5))
    data = result.to_json()
    for key in DESIGN_KEYS:
        assert isinstance(data[key], float)
        assert isinstance(data["p90"][key], float)
    assert set(JSON_KEYS) <= set(data["p90"])
    assert data["years"] == 5 and len(data["per_year"]) == 5
    per_year = [y["unmet_kwh"] for y in data["per_year"]]
    assert data["unmet_kwh"] == pytest.approx(float(np.median(per_year)))
    assert data["p90"]["unmet_kwh"] == pytest.approx(float(np.percentile(per_year, 90)))
    assert data["p90"]["unmet_kwh"] >= data["unmet_kwh"]
    assert set(data["unmet_by_load_kwh"]) == {"house", "water-pump"}
    assert data["losses_target_pct"] == 6.0
    assert 0 < data["battery_life_years"] <= 15


def test_saidi_and_saifi_follow_interruptions() -> None:
    site = load_site(HOME)
    assert site.pv is not None
    site = site.model_copy(update={"pv": site.pv.model_copy(update={"kwp": 0.5})})
    year = first_year(site)
    flags = year.run.series["interrupted"]
    runs = int(np.sum(np.diff(np.concatenate(([0.0], flags))) > 0))
    assert year.figures["saifi_count"] == runs > 0
    assert year.figures["saidi_minutes"] == pytest.approx(flags.sum() * 60)


def test_motor_start_beyond_surge_warns_and_says_how_to_stagger() -> None:
    site = load_site(SHRIMP)
    assert site.inverter is not None
    site = site.model_copy(update={"inverter": site.inverter.model_copy(update={"surge_kw": 18.0})})
    result = simulate(site, read_inputs(site))
    motor = result.motor_start
    assert motor is not None and not motor["ok"]
    assert any("motor start" in w for w in result.warnings)
    assert "soft starter" in motor["advice"]


def test_aerators_switching_on_together_are_staggered() -> None:
    site = load_site(SHRIMP)
    assert site.inverter is not None
    site = site.model_copy(update={
        "loads": [load for load in site.loads if load.kind == "aerator"],
        "inverter": site.inverter.model_copy(update={"surge_kw": 30.0})})
    motor = simulate(site, read_inputs(site)).motor_start
    assert motor is not None and motor["ok"]
    # 7.5 kW of other units running + 10.5 kW per start: two starts at a time within 30 kW
    assert motor["max_simultaneous_starts"] == 2
    assert "at most 2 at a time" in motor["advice"]


def test_quarter_hour_steps_agree_with_hourly_steps() -> None:
    site = load_site(HOME)
    hourly = simulate(site, read_inputs(site)).to_json()
    assert site.weather is not None
    site = site.model_copy(update={"weather": site.weather.model_copy(update={"step_min": 15})})
    result = simulate(site, read_inputs(site))
    assert len(result.years[0].index) == 4 * 8760
    quarter = result.to_json()
    assert quarter["load_kwh"] == pytest.approx(hourly["load_kwh"], rel=1e-6)
    assert quarter["pv_ac_kwh"] == pytest.approx(hourly["pv_ac_kwh"], rel=0.01)
    assert quarter["unmet_kwh"] == pytest.approx(hourly["unmet_kwh"], rel=0.3, abs=1.0)


def test_weather_file_gives_one_year_and_says_so() -> None:
    site = tmy3_site().model_copy(update={
        "inverter": Inverter(kw=3.0), "battery": Battery(kwh=10.0),
        "loads": [AeratorLoad(name="aerator", kind="aerator", kw_per_unit=0.5, units=2)]})
    inputs = read_inputs(site, 3)
    # the file's one year, simulated three times, each with its own outages
    assert len(inputs.weather) == 3 and all(w is inputs.weather[0] for w in inputs.weather)
    result = simulate(site, inputs)
    assert len(result.years) == 3
    assert any("one year" in w for w in result.warnings)
    assert result.to_json()["critical_unmet_fraction"] > 0
