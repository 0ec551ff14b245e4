"""Wind in the dispatch kernel: hand-calculated steps and physical invariants (hypothesis)."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitefile import Site, parse_site
from sizing import simulate
from sizing.bom import site_prices
from sizing.dispatch import DispatchInputs, dispatch
from sizing.inputs import read_inputs
from sizing.optimize import design_dict, optimize, result_json
from sizing.report import monthly_sources_kwh, monthly_table
from sizing.report_assets.i18n import TEXT
from sizing.simulate import Design, simulate_year, year_loads
from tests.sizing.test_dispatch import SETTINGS, _config, _flat, cases


def _windy(case: tuple, seed: int, dc: bool) -> tuple:
    """A random case with a gusty wind series (per turbine, kW) and its coupling."""
    inp, cfg, kwp, kwh, inv, gen = case
    rng = np.random.default_rng(seed)
    steps = inp.pv_kw_per_kwp.size
    wind = np.clip(rng.weibull(2.0, steps) * rng.uniform(0.0, 3.0), 0.0, 4.0)
    return inp._replace(wind_kw_per_turbine=wind), cfg._replace(wind_dc_coupled=dc), kwp, \
        kwh, inv, gen


def _balance_error(run_series: dict[str, np.ndarray], kwh: float, soc0_frac: float,
                   dt: float) -> float:
    """max |supply − use| over the steps [kWh]: pv + wind + gen + discharge + unmet +
    load_curtailed = load + charge + curtailed + losses."""
    s = run_series
    soc = np.concatenate(([kwh * soc0_frac], s["soc_kwh"]))
    d_soc = np.diff(soc)
    short = s["unmet_kw"] + s["load_curtailed_kw"]
    supply = (s["pv_kw"] + s["wind_kw"] + s["generator_kw"] + short) * dt + np.maximum(-d_soc, 0)
    use = (s["load_kw"] + s["curtailed_kw"] + s["losses_kw"]) * dt + np.maximum(d_soc, 0)
    return float(np.max(np.abs(supply - use)))


@SETTINGS
@given(cases(), st.integers(0, 2**32 - 1), st.booleans(), st.floats(0.0, 5.0))
def test_energy_balance_closes_every_step_with_wind(case: tuple, seed: int, dc: bool,
                                                    turbines: float) -> None:
    inp, cfg, kwp, kwh, inv, gen = _windy(case, seed, dc)
    run = dispatch(inp, cfg, kwp, kwh, inverter_kw=inv, generator_kw=gen, turbines=turbines)
    s = run.series
    assert _balance_error(s, kwh, cfg.initial_soc_frac, cfg.dt_h) < 1e-6
    assert np.allclose(s["served_kw"] + s["unmet_kw"] + s["load_curtailed_kw"], s["load_kw"],
                       atol=1e-6)
    # the wind's share of the curtailment is part of it and of the wind
    assert np.all(s["wind_curtailed_kw"] >= -1e-9)
    assert np.all(s["wind_curtailed_kw"] <= s["curtailed_kw"] + 1e-9)
    assert np.all(s["wind_curtailed_kw"] <= s["wind_kw"] + 1e-9)
    assert run.summary["wind_kwh"] == pytest.approx(s["wind_kw"].sum() * cfg.dt_h)


@SETTINGS
@given(cases(shedding=False, generator=False, outages=False), st.integers(0, 2**32 - 1),
       st.booleans(), st.floats(0.0, 5.0), st.floats(0.0, 5.0))
def test_more_turbines_never_increase_unmet(case: tuple, seed: int, dc: bool,
                                           turbines: float, more: float) -> None:
    """The property that holds, as for more PV (test_dispatch): without load shedding,
    generators or forced outages. With a generator it does not hold: more wind can keep the
    battery above the generator's start SOC, so a peak above the inverter's rating finds the
    generator off (:func:`test_more_wind_can_leave_a_peak_to_the_inverter_alone`)."""
    inp, cfg, kwp, kwh, inv, _ = _windy(case, seed, dc)
    base = dispatch(inp, cfg, kwp, kwh, inverter_kw=inv, turbines=turbines)
    windier = dispatch(inp, cfg, kwp, kwh, inverter_kw=inv, turbines=turbines + more)
    assert windier.summary["unmet_kwh"] <= base.summary["unmet_kwh"] + 1e-6


def test_more_wind_can_leave_a_peak_to_the_inverter_alone() -> None:
    # A lossless 10 kWh battery at 50 %, the generator (5 kW) starts at 45 %, a 2 kW
    # inverter; 1 kW of load, then a 4 kW peak. Without wind the first hour drains the
    # battery to 40 %: the generator starts and carries the peak. With 1 kW of wind in the
    # first hour the battery stays at 50 %, the generator stays off and the inverter's 2 kW
    # leave 2 kWh unmet.
    inp = _flat(np.array([[1.0, 4.0]]), [True], steps=2)
    cfg = _config(initial_soc_frac=0.5, gen_start_soc_frac=0.45)
    calm = dispatch(inp, cfg, 0.0, 10.0, inverter_kw=2.0, generator_kw=5.0)
    windy = dispatch(inp._replace(wind_kw_per_turbine=np.array([1.0, 0.0])), cfg, 0.0, 10.0,
                     inverter_kw=2.0, generator_kw=5.0, turbines=1.0)
    assert calm.summary["unmet_kwh"] == pytest.approx(0.0)
    assert calm.series["generator_on"].tolist() == [0.0, 1.0]
    assert windy.summary["unmet_kwh"] == pytest.approx(2.0)
    assert windy.series["generator_on"].tolist() == [0.0, 0.0]


def _wind_only(wind_kw: float, load_kw: float, steps: int = 4) -> DispatchInputs:
    inp = _flat(np.full((1, steps), load_kw), [True], steps=steps)
    return inp._replace(wind_kw_per_turbine=np.full(steps, wind_kw))


def test_ac_wind_by_hand() -> None:
    # 1 turbine at a constant 3 kW on the AC bus, a constant 2 kW load, no PV; a lossless
    # 10 kWh battery at 50 %, an inverter/charger of 90 %. Each hour: 2 kWh straight to the
    # load, the 1 kWh surplus through the charger: 0.9 kWh into the battery, 0.1 kWh lost.
    cfg = _config(inverter_eff=0.9, initial_soc_frac=0.5)
    run = dispatch(_wind_only(3.0, 2.0), cfg, 0.0, 10.0, inverter_kw=5.0, turbines=1.0)
    s = run.summary
    assert s["wind_kwh"] == pytest.approx(12.0)
    assert s["served_kwh"] == pytest.approx(8.0)
    assert s["battery_charge_kwh"] == pytest.approx(3.6)
    assert s["losses_kwh"] == pytest.approx(0.4)
    assert s["curtailed_kwh"] == pytest.approx(0.0)
    assert run.series["soc_kwh"] == pytest.approx([5.9, 6.8, 7.7, 8.6])


def test_dc_wind_by_hand() -> None:
    # The same wind on the battery bus: the load takes 2 / 0.9 = 2.222 kW of it through the
    # inverter, the 0.778 kW left charges the battery directly.
    cfg = _config(inverter_eff=0.9, initial_soc_frac=0.5, wind_dc_coupled=True)
    run = dispatch(_wind_only(3.0, 2.0), cfg, 0.0, 10.0, inverter_kw=5.0, turbines=1.0)
    s = run.summary
    to_load_dc = 2.0 / 0.9
    assert s["served_kwh"] == pytest.approx(8.0)
    assert s["battery_charge_kwh"] == pytest.approx(4 * (3.0 - to_load_dc))
    assert s["losses_kwh"] == pytest.approx(4 * (to_load_dc - 2.0))


def test_wind_surplus_is_curtailed_when_the_battery_is_full() -> None:
    # Two turbines at 1.5 kW each, a 2 kW load, the battery full: 1 kW is dumped every hour,
    # all of it wind.
    cfg = _config(inverter_eff=0.9, initial_soc_frac=1.0)
    run = dispatch(_wind_only(1.5, 2.0), cfg, 0.0, 10.0, inverter_kw=5.0, turbines=2.0)
    s = run.summary
    assert s["served_kwh"] == pytest.approx(8.0)
    assert s["curtailed_kwh"] == pytest.approx(4.0)
    assert s["wind_curtailed_kwh"] == pytest.approx(4.0)
    assert s["battery_charge_kwh"] == pytest.approx(0.0)


def test_wind_curtailment_is_shared_pro_rata_with_pv_on_one_bus() -> None:
    # PV (1 kWp at 1 kW/kWp) and 1 kW of wind, both on the battery bus, a 0.9 kW load through
    # a lossless inverter, the battery full: 1.1 kW is left, half of it wind.
    cfg = _config(initial_soc_frac=1.0, wind_dc_coupled=True)
    inp = _wind_only(1.0, 0.9)._replace(pv_kw_per_kwp=np.ones(4))
    run = dispatch(inp, cfg, 1.0, 10.0, inverter_kw=5.0, turbines=1.0)
    assert run.summary["curtailed_kwh"] == pytest.approx(4 * 1.1)
    assert run.summary["wind_curtailed_kwh"] == pytest.approx(4 * 0.55)


def test_ac_wind_stops_with_the_inverter_but_dc_wind_charges_on() -> None:
    # AC-coupled turbine inverters follow the grid the battery inverter forms: without it
    # they stop; a DC-coupled turbine still charges the battery.
    out = np.ones(4, dtype=bool)
    out[1:3] = False
    cfg = _config(initial_soc_frac=0.5)
    for dc, wind_kwh in ((False, 2.0), (True, 4.0)):
        inp = _wind_only(1.0, 0.5)._replace(inverter_ok=out)
        run = dispatch(inp, cfg._replace(wind_dc_coupled=dc), 0.0, 10.0, inverter_kw=5.0,
                       turbines=1.0)
        assert run.summary["wind_kwh"] == pytest.approx(wind_kwh)


# --------------------------------------------------------------------------- the optimiser

# The island example (the draft until the lead puts it into examples/).
ISLAND = next((p for p in (Path(__file__).parents[2] / "examples" / "island-ly-son.toml",
                           Path("/tmp/island/island-ly-son.toml")) if p.exists()),
              Path("examples/island-ly-son.toml"))


@pytest.fixture(scope="module")
def island(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The draft island example (PV, two turbines, two generators), turbines searched."""
    if not ISLAND.exists():
        pytest.skip("the island example is not at hand")
    folder = tmp_path_factory.mktemp("island")
    for f in ISLAND.parent.glob("island-ly-son*"):
        shutil.copy(f, folder / f.name)
    data = tomllib.loads((folder / ISLAND.name).read_text(encoding="utf-8"))
    data["weather"]["years"] = 1
    data["search"] = {"turbines": {"min": 0, "max": 2, "step": 1},
                      "kwh": {"min": 100, "max": 150, "step": 50}}
    return parse_site(data, folder, folder / ISLAND.name)


def test_the_optimiser_searches_turbines_as_the_engine_simulates_them(island: Site) -> None:
    inputs = read_inputs(island, 1)
    result = optimize(island, inputs)
    d = result.grid.designs
    assert sorted(set(d.turbines)) == [0.0, 1.0, 2.0]
    loads = year_loads(island, inputs.weather, inputs.profiles_kw)[0]
    rated = simulate.wind_rated_kw(island, 1.0)
    assert result.plant.turbine_kw == pytest.approx(rated)
    assert rated == pytest.approx(12.6)  # the Bergey curve's largest power
    per_turbine = None
    for i in range(len(d)):
        x = design_dict(d, i)
        f = simulate_year(island, inputs.weather[0], loads, 0, Design(**x)).figures
        assert f["unmet_load_fraction"] == pytest.approx(result.perf.unmet_fraction[i],
                                                         abs=1e-12)
        assert f["wind_kwh"] == pytest.approx(result.perf.wind_kwh[i], rel=1e-12)
        assert f["wind_curtailed_kwh"] == pytest.approx(result.perf.wind_curtailed_kwh[i],
                                                        rel=1e-12, abs=1e-9)
        if x["turbines"] == 1:
            per_turbine = f["wind_kwh"]
    # the turbines' output scales with their count (curtailment aside)
    assert per_turbine is not None and per_turbine > 0
    np.testing.assert_allclose(result.perf.wind_kwh, d.turbines * per_turbine, rtol=1e-9)
    # each turbine costs its rating at wind_vnd_per_kw, plus the bill of materials' labour,
    # transport and design (percentages of the equipment in the price table)
    econ = island.economics
    one = np.nonzero((d.turbines == 1) & (d.kwh == 100))[0][0]
    none = np.nonzero((d.turbines == 0) & (d.kwh == 100))[0][0]
    pct = sum(site_prices(island).price(k) for k in ("labour", "transport", "design_and_permits"))
    extra = rated * econ.wind_vnd_per_kw * (1 + pct / 100)
    assert result.costs.capital_vnd[one] - result.costs.capital_vnd[none] == pytest.approx(extra)
    for row in result_json(result)["pareto"]:
        assert row["wind_kwh"] == pytest.approx(row["design"]["turbines"] * per_turbine)
        cf = row["wind_capacity_factor"]
        assert (0 < cf < 1) if row["design"]["turbines"] > 0 else cf == 0


# --------------------------------------------------------------------------- the report


def test_the_report_shows_wind_by_month() -> None:
    # Two months of hourly steps: January windy, July sunny; a third of each curtailed.
    index = pd.date_range("2025-01-01", periods=24 * 59, freq="h", tz="Asia/Ho_Chi_Minh")
    jan = index.month == 1
    hourly = pd.DataFrame({
        "pv_kw": np.where(jan, 0.5, 2.0), "wind_kw": np.where(jan, 3.0, 0.3),
        "wind_curtailed_kw": np.where(jan, 1.0, 0.0), "curtailed_kw": np.where(jan, 1.0, 0.5),
        "generator_kw": 0.0, "unmet_kw": 0.0, "load_kw": 2.0}, index=index)
    e = monthly_sources_kwh(hourly, 1.0)
    assert e.loc[1, "wind"] == pytest.approx(31 * 24 * 2.0)
    assert e.loc[1, "pv"] == pytest.approx(31 * 24 * 0.5)
    assert e.loc[2, "pv"] == pytest.approx(28 * 24 * 1.5)
    table = monthly_table(hourly, 1.0, 2, TEXT["vi"])
    assert "Điện gió" in table and "Th2 ◀" in table
