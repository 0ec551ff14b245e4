"""Large loads done right (issue 18): a compressor's start is a motor start, and a duty cycle
is on/off cycling that keeps the peak. Expected values are hand calculations."""

from __future__ import annotations

import tomllib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitefile import ApplianceLoad, Site, load_site, parse_site
from sizing.inputs import read_inputs
from sizing.loads import (
    MINUTES_PER_YEAR,
    appliance_minutes_kw,
    appliance_start_others_kw,
    appliance_starts,
    cycle_period_min,
)
from sizing.optimize import motor_start_ratio, optimize, start_others
from sizing.reliability import motor_start_check
from sizing.simulate import simulate
from tests.conftest import HOME

SMART_HOME = HOME.parent / "smart-home-ben-tre.toml"


def house(*appliances: dict[str, Any], seed: int = 0) -> ApplianceLoad:
    return ApplianceLoad.model_validate({"name": "house", "kind": "appliance", "seed": seed,
                                         "appliances": list(appliances)})


AIRCON = {"name": "aircon", "power_w": 850, "minutes_per_day": 480, "duty_cycle": 0.7,
          "windows": [{"start_h": 12, "end_h": 20}], "variability_pct": 0,
          "start_multiplier": 5}
BASE = {"name": "base", "power_w": 400, "minutes_per_day": 1440, "variability_pct": 0}


# --------------------------------------------------------------------------- duty cycles


@settings(max_examples=12, deadline=None)
@given(power_w=st.floats(10, 3000), count=st.integers(1, 3),
       minutes=st.floats(60, 1440), duty=st.floats(0.05, 1.0), cycle=st.floats(10, 40),
       seed=st.integers(0, 1000))
def test_cycling_keeps_the_energy_and_the_peak(power_w: float, count: int, minutes: float,
                                               duty: float, cycle: float, seed: int) -> None:
    load = house({"name": "fridge", "power_w": power_w, "count": count,
                  "minutes_per_day": minutes, "duty_cycle": duty, "cycle_min": cycle,
                  "variability_pct": 0})
    kw = appliance_minutes_kw(load, np.random.default_rng(seed))
    # mean energy a day = power × minutes a day × duty (each unit) [kWh/day]
    per_day = kw.sum() / 60.0 / 365.0
    expected = power_w / 1000.0 * count * minutes / 60.0 * duty
    assert per_day == pytest.approx(expected, rel=0.02)
    assert per_day == pytest.approx(load.appliances[0].daily_kwh, rel=0.02)
    # each unit, when on, draws its full power: never more than all units at once
    assert kw.max() <= power_w / 1000.0 * count + 1e-9
    if count == 1:
        assert kw.max() == pytest.approx(power_w / 1000.0)
        # not a flat duty-scaled power: whole minutes at full power, floor(duty × P) of each
        # cycle of P minutes while in use (less one cycle a day at the block's edges)
        period = cycle_period_min(load.appliances[0])
        full = np.isclose(kw, power_w / 1000.0).sum()
        assert period >= max(round(cycle), 1 / duty - 1e-9)
        assert full >= 365 * (minutes / period - 2) * np.floor(duty * period + 1e-9)


def test_a_fridge_cycles_on_and_off_at_full_power() -> None:
    # 850 W, duty 0.7, 20 min cycles: on 14 min at 0.85 kW, off 6 min; never a flat 0.595 kW.
    load = house({**AIRCON, "minutes_per_day": 1440, "windows": []})
    app = load.appliances[0]
    assert cycle_period_min(app) == 20
    kw = appliance_minutes_kw(load, np.random.default_rng(0))
    assert kw.max() == pytest.approx(0.85)
    assert set(np.round(np.unique(kw), 6)) == {0.0, 0.85}
    assert (kw > 0).mean() == pytest.approx(0.7, abs=1e-3)
    assert kw.mean() == pytest.approx(0.595, rel=1e-3)
    day = kw[:1440] > 0
    runs = np.diff(np.flatnonzero(np.diff(day.astype(int)) == 1))
    assert set(runs.tolist()) == {20}  # one start every 20 min


def test_two_fridges_peak_together_at_twice_the_power() -> None:
    load = house({"name": "fridge", "power_w": 100, "count": 2, "minutes_per_day": 1440,
                  "duty_cycle": 0.5, "variability_pct": 0})
    kw = appliance_minutes_kw(load, np.random.default_rng(4))
    assert kw.max() == pytest.approx(0.2) or kw.max() == pytest.approx(0.1)
    assert kw.mean() == pytest.approx(0.1, rel=1e-3)


# --------------------------------------------------------------------------- the start check


def test_appliance_starts_are_motors() -> None:
    load = house(AIRCON, BASE, {"name": "tv", "power_w": 70, "minutes_per_day": 60})
    assert appliance_starts(load) == [("house/aircon", 0.85, 5.0)]
    # while the aircon runs (12–20 h) the base load runs too (0.4 kW), and on some days the
    # TV (70 W, an hour at a random time of day): 0.47 kW, + 0.3 kW given
    assert appliance_start_others_kw(load, 0.3) == {"house/aircon": pytest.approx(0.77)}
    load = house(AIRCON, BASE)
    minute = np.zeros(MINUTES_PER_YEAR)
    minute[13 * 60] = 2.0  # something else at 13:00 on 1 January, while the aircon is in use
    assert appliance_start_others_kw(load, minute)["house/aircon"] == pytest.approx(2.4)
    minute[:] = 0.0
    minute[3 * 60] = 2.0  # at 03:00 the aircon is off: it cannot start with it
    assert appliance_start_others_kw(load, minute)["house/aircon"] == pytest.approx(0.4)


def test_no_surge_no_start() -> None:
    load = house(BASE, {**AIRCON, "start_multiplier": 1})
    assert appliance_starts(load) == []
    assert appliance_start_others_kw(load) == {}


def home_site(inverter: dict[str, float], search: dict[str, Any] | None = None) -> Site:
    """The Con Dao home with a house of a 400 W base load and an 850 W aircon (× 5 start),
    and no pump."""
    data = tomllib.loads(HOME.read_text(encoding="utf-8"))
    data["loads"] = [{"name": "house", "kind": "appliance", "critical": True, "seed": 1,
                      "appliances": [BASE, AIRCON]}]
    data["inverter"] = inverter
    data["pv"]["kwp"] = 6.0
    data["battery"]["kwh"] = 20.0
    if search is not None:
        data["search"] = search
    else:
        data.pop("search", None)
    return parse_site(data, HOME.parent, HOME)


def test_the_motor_start_check_sees_the_compressor() -> None:
    site = home_site({"kw": 2.0, "surge_kw": 4.4})
    check = motor_start_check(site, {"house/aircon": 0.4})
    assert check is not None
    # hand calculation: 0.85 kW × 5 = 4.25 kW start on top of 0.4 kW = 4.65 kW > 4.4 kW surge
    assert check.motor == "house/aircon"
    assert check.start_kw == pytest.approx(4.25)
    assert check.running_kw == pytest.approx(0.4)
    assert not check.ok
    assert "4.6 kW surge" in check.advice or "≥ 4.7 kW surge" in check.advice


def test_the_simulation_warns_of_the_compressor_start() -> None:
    site = home_site({"kw": 2.0, "surge_kw": 4.4})
    sim = simulate(site, read_inputs(site, 1))
    assert sim.motor_start is not None
    assert sim.motor_start["motor"] == "house/aircon"
    assert sim.motor_start["start_kw"] == pytest.approx(4.25)
    assert sim.motor_start["running_kw"] == pytest.approx(0.4)  # the base load, minute exact
    assert any(w.startswith("motor start: starting house/aircon") for w in sim.warnings)
    ok = home_site({"kw": 3.0, "surge_kw": 6.6})
    assert simulate(ok, read_inputs(ok, 1)).motor_start["ok"] is True  # type: ignore[index]


def test_the_peak_load_is_the_compressor_at_full_power_not_its_hourly_mean() -> None:
    # 400 W base + the 850 W compressor cycling at duty 0.7: hourly mean at most
    # 0.4 + 0.595 = 0.995 kW, minute peak 0.4 + 0.85 = 1.25 kW. A 1.1 kW inverter carries the
    # mean but not the peak, and the simulation must say so.
    site = home_site({"kw": 1.1, "surge_kw": 8.0})
    sim = simulate(site, read_inputs(site, 1))
    assert any(w.startswith("peak load 1.2 kW exceeds the inverter's 1.1 kW") for w in sim.warnings)
    roomy = home_site({"kw": 1.3, "surge_kw": 8.0})
    roomy_warnings = simulate(roomy, read_inputs(roomy, 1)).warnings
    assert not any(w.startswith("peak load") for w in roomy_warnings)


SEARCH = {"kwp": {"min": 6, "max": 10, "step": 2}, "kwh": {"min": 20, "max": 40, "step": 10},
          "inverter_kw": {"min": 1, "max": 6, "step": 1},
          "max_unmet_fraction": 0.5, "max_critical_unmet_fraction": 0.5,
          "max_saidi_minutes": 500000, "max_saifi_count": 100000}


def test_the_optimiser_sizes_the_inverter_for_the_compressor_start() -> None:
    # Surge ratio 2.2 (the site's 2 kW / 4.4 kW, kept for every candidate). Hand calculation:
    # the start needs 0.85 × 5 = 4.25 kW on top of the 0.4 kW base load = 4.65 kW of surge;
    # 2 kW surges 4.4 kW (enough for the start alone, not with the base load), 3 kW 6.6 kW.
    site = home_site({"kw": 2.0, "surge_kw": 4.4}, SEARCH)
    inputs = read_inputs(site, 1)
    result = optimize(site, inputs)
    d = result.grid.designs
    ratio = motor_start_ratio(site, d, start_others(site, inputs.weather, inputs.profiles_kw))
    assert np.allclose(ratio, 4.65 / (2.2 * d.inverter_kw))
    assert not result.feasible[d.inverter_kw <= 2].any()
    assert result.best is not None
    chosen = d.inverter_kw[result.best]
    assert chosen == 3
    assert 2.2 * chosen >= 4.65


def test_the_smart_home_example_gets_an_inverter_for_its_air_conditioners_start() -> None:
    # The 1 HP split unit: 0.85 kW × 5 = 4.25 kW at each start, on top of the house. The
    # example's inverters surge 2 × their rating, so 1 and 2 kW (2 and 4 kW surge) cannot start
    # it; 3 kW (6 kW surge) can, with the house's running load beside it.
    site = load_site(SMART_HOME)
    result = optimize(site, read_inputs(site, 2))
    d, ratio = result.grid.designs, result.perf.motor_start_ratio
    assert result.best is not None
    small = d.inverter_kw <= 2
    assert (ratio[small] > 1).all() and not result.feasible[small].any()
    assert d.inverter_kw[result.best] >= 3
    # at 3 kW: (4.25 kW start + the house running beside it) / 6 kW surge, the house a few
    # hundred watts (a rural home: lights, fans, TV, fridge)
    running_kw = ratio[d.inverter_kw == 3] * 6.0 - 0.85 * 5
    assert ((running_kw > 0.0) & (running_kw < 1.5)).all()


def test_a_start_larger_than_the_surge_rating_alone_asks_for_a_soft_start() -> None:
    # hand calculation: 0.85 kW × 5 = 4.25 kW start > 4.0 kW surge even with nothing running
    site = home_site({"kw": 2.0, "surge_kw": 4.0})
    check = motor_start_check(site, {"house/aircon": 0.4})
    assert check is not None and not check.ok
    assert "alone exceeds the 4 kW surge rating" in check.advice
    assert "below" not in check.advice  # no "start it when the load is below -0.3 kW"
