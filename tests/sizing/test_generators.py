"""Several generator units in the dispatch kernel (hand-checked) and in the site file."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitefile import Economics, Generator, SiteFileError, parse_site
from sizing.dispatch import dispatch
from sizing.economics import Designs, Operation, Plant, costs
from tests.sizing.test_dispatch import SETTINGS, _config, _flat, cases
from tests.sizing.test_wind_dispatch import _balance_error

# 1 h steps; the set's fuel curve: 0.25 L/kWh, 0.08 L/h idle per kW, 30 % minimum load; a
# further unit runs at least 2 steps once started.
CFG = _config(gen_min_run_steps=2, gen_min_load_frac=0.3, fuel_idle_l_per_h_per_kw=0.08)


def _step_load(kw: list[float]) -> Any:
    return _flat(np.array([kw]), [True], steps=len(kw))


def test_two_units_start_in_order_under_a_load_step() -> None:
    # No battery, no PV: the lead unit runs whenever there is load; the second starts when
    # the 8 kW step exceeds the lead's 5 kW and stops when the load falls back to 3 kW.
    load = [3.0] * 4 + [8.0] * 4 + [3.0] * 4
    inp = _step_load(load)._replace(gen_draw=np.ones((2, 12)))
    run = dispatch(inp, CFG, 0.0, 0.0, inverter_kw=5.0, generator_kw=np.array([5.0, 5.0]))
    on = run.series["generator_on"]
    assert on.tolist() == [1.0] * 4 + [2.0] * 4 + [1.0] * 4
    assert run.summary["unmet_kwh"] == 0.0
    assert run.series["generator_kw"].tolist() == pytest.approx(load)
    hours, kwh, fuel, starts = run.generator_units.T
    assert hours.tolist() == [12.0, 4.0]
    assert starts.tolist() == [1.0, 1.0]
    assert run.summary["generator_hours"] == 16.0
    assert run.summary["generator_starts"] == 2.0
    # one unit at 3 kW: 5 × 0.08 + 0.25 × 3 = 1.15 L/h; both at 8 kW: 10 × 0.08 + 0.25 × 8
    # = 2.8 L/h, shared half and half
    assert run.summary["generator_fuel_l"] == pytest.approx(8 * 1.15 + 4 * 2.8)
    assert fuel.tolist() == pytest.approx([8 * 1.15 + 4 * 1.4, 4 * 1.4])
    assert kwh.tolist() == pytest.approx([24.0 + 16.0, 16.0])


def test_a_further_unit_runs_its_minimum_time() -> None:
    load = [3.0] * 4 + [8.0] + [3.0] * 4
    inp = _step_load(load)._replace(gen_draw=np.ones((2, 9)))
    run = dispatch(inp, CFG, 0.0, 0.0, inverter_kw=5.0, generator_kw=np.array([5.0, 5.0]))
    assert run.series["generator_on"].tolist() == [1.0] * 4 + [2.0, 2.0] + [1.0] * 3


def test_the_spare_unit_takes_over_when_the_lead_fails_to_start() -> None:
    # N+1: the first unit fails its start (draw 0 < 50 %) and stays out for 100 steps; the
    # second, seeing the set carry nothing, starts in the same step. Alone, the first unit's
    # failure leaves the load unmet for the whole 12 steps.
    cfg = CFG._replace(gen_start_fail_prob=0.5, repair_steps=100)
    draw = np.ones((2, 12))
    draw[0, 0] = 0.0
    inp = _step_load([3.0] * 12)._replace(gen_draw=draw)
    pair = dispatch(inp, cfg, 0.0, 0.0, inverter_kw=5.0, generator_kw=np.array([5.0, 5.0]))
    assert pair.summary["unmet_kwh"] == 0.0
    assert pair.summary["generator_failures"] == 1.0
    assert pair.generator_units[:, 0].tolist() == [0.0, 12.0]
    alone = dispatch(inp._replace(gen_draw=draw[:1]), cfg, 0.0, 0.0, inverter_kw=5.0,
                     generator_kw=5.0)
    assert alone.summary["unmet_kwh"] == pytest.approx(36.0)


def test_one_unit_as_an_array_is_the_single_generator() -> None:
    inp = _step_load([3.0] * 4 + [8.0] * 4)
    one = dispatch(inp, CFG, 0.0, 10.0, inverter_kw=5.0, generator_kw=6.0)
    arr = dispatch(inp, CFG, 0.0, 10.0, inverter_kw=5.0, generator_kw=np.array([6.0]))
    assert one.summary == arr.summary


def test_draws_must_come_one_row_per_unit() -> None:
    inp = _step_load([3.0] * 4)
    with pytest.raises(ValueError, match="one row of draws per unit"):
        dispatch(inp, CFG, 0.0, 0.0, inverter_kw=5.0, generator_kw=np.array([5.0, 5.0]))


@SETTINGS
@given(cases(), st.lists(st.floats(1.0, 6.0), min_size=2, max_size=3),
       st.integers(0, 2**32 - 1))
def test_energy_balance_closes_every_step_with_several_units(
        case: tuple, units: list[float], seed: int) -> None:
    inp, cfg, kwp, kwh, inv, _ = case
    steps = inp.pv_kw_per_kwp.size
    draw = np.random.default_rng(seed).random((len(units), steps))
    run = dispatch(inp._replace(gen_draw=draw), cfg, kwp, kwh, inverter_kw=inv,
                   generator_kw=np.array(units))
    assert _balance_error(run.series, kwh, cfg.initial_soc_frac, cfg.dt_h) < 1e-6
    hours, kwh_units, fuel, starts = run.generator_units.T
    assert hours.sum() == pytest.approx(run.summary["generator_hours"])
    assert kwh_units.sum() == pytest.approx(run.summary["generator_kwh"])
    assert fuel.sum() == pytest.approx(run.summary["generator_fuel_l"])
    assert starts.sum() == run.summary["generator_starts"]
    assert np.all(run.series["generator_kw"] <= sum(units) + 1e-9)


# --------------------------------------------------------------------------- the site file

BASE: dict[str, Any] = {"site": {"name": "t", "latitude": 10.0, "longitude": 106.0}}


def test_a_single_generator_table_becomes_the_first_unit() -> None:
    site = parse_site({**BASE, "generator": {"kw": 5}})
    assert [g.name for g in site.generators] == ["generator"]
    assert site.generator is site.generators[0]


def test_units_get_names_and_their_controllers_in_order() -> None:
    devices = [{"name": f"g{i}", "driver": "generator", "transport": "tcp",
                "host": "127.0.0.1", "port": 502 + i} for i in (1, 2)]
    site = parse_site({**BASE, "devices": devices,
                       "generators": [{"kw": 5}, {"kw": 5, "name": "spare"}]})
    assert [(g.name, g.device) for g in site.generators] == [("generator", "g1"),
                                                            ("spare", "g2")]


@pytest.mark.parametrize(("data", "reason"), [
    ({"generator": {"kw": 5}, "generators": [{"kw": 5}]}, "not both"),
    ({"generators": [{"kw": 5, "name": "a"}, {"kw": 5, "name": "a"}]}, "more than once"),
])
def test_bad_generator_units_are_refused(data: dict[str, Any], reason: str) -> None:
    with pytest.raises(SiteFileError, match=reason):
        parse_site({**BASE, **data})


# --------------------------------------------------------------------------- economics


def test_units_turbines_and_growth_in_the_costs() -> None:
    """Two identical 5 kW units cost twice one; each shares the set's hours (life = rated
    hours over hours per unit); a turbine costs its rating and its own O&M share; with demand
    growing 10 % a year, year y's fuel is year 1's × 1.1^(y-1)."""
    econ = Economics(discount_rate_pct=0.0, lifetime_years=3, fuel_escalation_pct=0.0,
                     bos_pct=0.0, installation_pct=0.0, om_pct_per_year=0.0,
                     wind_om_pct_per_year=10.0, generator_om_vnd_per_h=0.0, salvage=False)
    d = Designs(np.zeros(1), np.zeros(1), np.zeros(1), np.full(1, 5.0), np.full(1, 2.0))
    op = Operation(np.full(1, 1000.0), np.full(1, 100.0), np.full(1, 4000.0), np.full(1, np.inf))
    gen = Generator(kw=5, life_hours=6000)
    growth = np.array([1.0, 1.1, 1.21])
    c = costs(econ, d, op, gen, plant=Plant(generator_units=2.0, turbine_kw=10.0,
                                            growth=growth))
    wind_capex = 2 * 10.0 * econ.wind_vnd_per_kw
    gen_capex = 2 * 5.0 * econ.generator_vnd_per_kw
    assert c.capital_vnd[0] == pytest.approx(wind_capex + gen_capex)
    fuel = 100.0 * econ.fuel_vnd_per_l * growth
    assert c.cash_flow_vnd[0, 1:] - fuel - 0.1 * wind_capex == pytest.approx(
        [0.0, 0.0, 0.0], abs=1e-3)  # 2000 h per unit a year: no replacement within 3 years
    assert c.fuel_npc_vnd[0] == pytest.approx(fuel.sum())
    # LCOE: NPC over the energy served in all years (grown)
    assert c.lcoe_vnd_per_kwh[0] == pytest.approx(c.npc_vnd[0] / (1000.0 * growth.sum()))
    # one unit alone (1 unit's rating, all 4000 h on it: replaced at 1.5 years)
    single = costs(econ, d, op, gen, plant=Plant(generator_units=1.0, turbine_kw=10.0))
    assert single.replacement_npc_vnd[0] == pytest.approx(5.0 * econ.generator_vnd_per_kw)
