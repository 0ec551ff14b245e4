"""Ageing in the economics: PV degradation as extra fuel (or unmet energy), battery fade to its
end-of-life capacity and replacement there, and the per-year ageing table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitefile import CHEMISTRY_PRESETS, PV, Battery, Economics, Generator, SiteFileError, parse_site
from sizing.economics import (
    Designs,
    Operation,
    Plant,
    ageing_energy,
    ageing_table,
    battery_capacity_pct_by_year,
    costs,
    discount_factors,
    pv_output_factors,
    pv_shortfall_kwh,
    pv_used_kwh,
    replacement_schedule,
)
from sizing.optimize import site_plant

SITE_INFO = {"name": "t", "latitude": 10.0, "longitude": 106.0}
GEN = Generator.model_validate({"kw": 5, "fuel_l_per_kwh": 0.25})


def one(kwp: float = 0, kwh: float = 0, inv: float = 0, gen: float = 0) -> Designs:
    return Designs(np.array([kwp], float), np.array([kwh], float), np.array([inv], float),
                   np.array([gen], float))


def op(served: float = 10_000, fuel: float = 0, hours: float = 0, batt_life: float = 10,
       pv_used: float = 0) -> Operation:
    return Operation(np.array([served]), np.array([fuel]), np.array([hours]),
                     np.array([batt_life]), np.array([pv_used]))


def site(**sections: Any) -> Any:
    base: dict[str, Any] = {
        "site": SITE_INFO, "pv": {"kwp": 10}, "battery": {"kwh": 20},
        "inverter": {"kw": 5}, "generator": {"kw": 5, "fuel_l_per_kwh": 0.25},
        "economics": {"lifetime_years": 20, "inverter_life_years": 10}}
    base.update(sections)
    return parse_site({k: v for k, v in base.items() if v is not None})


# --------------------------------------------------------------------------- site-file keys


def test_keys_default_to_half_a_percent_and_eighty_percent() -> None:
    assert PV(kwp=1).degradation_pct_per_year == 0.5  # Jordan & Kurtz 2013 median
    for chemistry in ("lfp", "lead_acid"):
        b = Battery.model_validate({"chemistry": chemistry, "kwh": 5})
        assert b.end_of_life_capacity_pct == CHEMISTRY_PRESETS[chemistry][
            "end_of_life_capacity_pct"] == 80.0
    assert Battery.model_validate({"kwh": 5, "end_of_life_capacity_pct": 70}
                                  ).end_of_life_capacity_pct == 70.0


@pytest.mark.parametrize("section", [{"pv": {"kwp": 1, "degradation_pct_per_year": -0.1}},
                                     {"pv": {"kwp": 1, "degradation_pct_per_year": 11}},
                                     {"battery": {"kwh": 1, "end_of_life_capacity_pct": 100}},
                                     {"battery": {"kwh": 1, "end_of_life_capacity_pct": 0}}])
def test_out_of_range_ageing_keys_are_refused(section: dict[str, Any]) -> None:
    with pytest.raises(SiteFileError):
        parse_site({"site": SITE_INFO, **section})


# --------------------------------------------------------------------------- PV degradation


def test_half_a_percent_a_year_leaves_90_9_percent_in_year_20() -> None:
    f = pv_output_factors(0.5, 20)
    # 0.995^19 = exp(19 × ln 0.995) = exp(19 × −0.00501254) = exp(−0.0952383)
    #          = 1 − 0.0952383 + 0.0045352 − 0.0001440 + 0.0000034 = 0.909156, i.e. 90.9 %
    assert f[20] == pytest.approx(0.909156, abs=1e-6)
    assert f[1] == 1.0 and f[2] == pytest.approx(0.995)


def test_pv_used_is_output_less_the_pv_share_of_curtailment() -> None:
    # 12,000 kWh of PV; 1,500 kWh curtailed of which 500 kWh was wind → 11,000 kWh used
    assert pv_used_kwh(np.array([12_000.0]), 1_500.0, 500.0)[0] == 11_000.0


def test_extra_fuel_by_hand() -> None:
    """10 %/yr (a round figure for the arithmetic) over 3 years, 10,000 kWh of PV used:
    output 1, 0.9, 0.81 → shortfall 0, 1,000, 1,900 kWh → at 0.25 L/kWh 0, 250, 475 L;
    fuel 1,000 L/yr at 20,000 VND/L, no escalation or discounting:
    (3 × 1,000 + 725) × 20,000 = 74.5 M VND."""
    econ = Economics(discount_rate_pct=0, lifetime_years=3, fuel_vnd_per_l=20_000,
                     fuel_escalation_pct=0, om_pct_per_year=0, generator_om_vnd_per_h=0,
                     salvage=False)
    plant = Plant(pv_degradation_pct_per_year=10.0)
    o = op(fuel=1000, pv_used=10_000)
    gen = GEN
    assert pv_shortfall_kwh(o, plant, 3)[0] == pytest.approx([0, 0, 1000, 1900])
    fuel, unmet = ageing_energy(one(kwp=5, gen=5), o, gen, plant, 3)
    assert fuel[0] == pytest.approx([0, 0, 250, 475]) and not unmet.any()
    c = costs(econ, one(kwp=5, gen=5), o, gen, plant=plant)
    assert c.fuel_npc_vnd[0] == pytest.approx(74.5e6)
    # without a generator the shortfall is unmet energy, not a cost
    fuel, unmet = ageing_energy(one(kwp=5), o, gen, plant, 3)
    assert not fuel.any() and unmet[0] == pytest.approx([0, 0, 1000, 1900])
    no_gen = costs(econ, one(kwp=5), o, gen, plant=plant)
    assert no_gen.npc_vnd[0] == costs(econ, one(kwp=5), o, gen).npc_vnd[0]


def test_escalation_applies_to_the_extra_fuel() -> None:
    """Year 3 of the example above at 10 % escalation: 475 L × 20,000 × 1.1² = 11.495 M VND
    more than without degradation."""
    econ = Economics(discount_rate_pct=0, lifetime_years=3, fuel_vnd_per_l=20_000,
                     fuel_escalation_pct=10, salvage=False)
    o, gen = op(fuel=1000, pv_used=10_000), GEN
    aged = costs(econ, one(kwp=5, gen=5), o, gen, plant=Plant(pv_degradation_pct_per_year=10))
    new = costs(econ, one(kwp=5, gen=5), o, gen)
    extra = aged.cash_flow_vnd[0] - new.cash_flow_vnd[0]
    assert extra == pytest.approx([0, 0, 250 * 20_000 * 1.1, 475 * 20_000 * 1.21])


designs_and_ops = st.tuples(
    st.floats(0, 100), st.floats(0, 500), st.floats(1, 50), st.sampled_from([0.0, 5.0, 20.0]),
    st.floats(0, 5e4), st.floats(0, 5e4), st.floats(0.5, 30))


@given(x=designs_and_ops, growth=st.booleans())
def test_no_degradation_reproduces_the_costs_without_ageing_exactly(
        x: tuple[float, ...], growth: bool) -> None:
    kwp, kwh, inv, gen, fuel, pv_used, life = x
    d = one(kwp, kwh, inv, gen)
    g = np.linspace(1.0, 1.5, 20) if growth else None
    aged = costs(Economics(), d, op(fuel=fuel, hours=fuel / 3, batt_life=life, pv_used=pv_used),
                 GEN, plant=Plant(growth=g, pv_degradation_pct_per_year=0.0))
    today = costs(Economics(), d, Operation(np.array([10_000.0]), np.array([fuel]),
                                            np.array([fuel / 3]), np.array([life])),
                  GEN, plant=Plant(growth=g))
    for key in vars(today):
        assert np.array_equal(getattr(aged, key), getattr(today, key)), key


@given(x=designs_and_ops, d1=st.floats(0, 10), d2=st.floats(0, 10))
def test_npc_does_not_fall_as_the_pv_degrades(x: tuple[float, ...], d1: float,
                                              d2: float) -> None:
    kwp, kwh, inv, gen, fuel, pv_used, life = x
    lo, hi = sorted((d1, d2))
    o = op(fuel=fuel, hours=fuel / 3, batt_life=life, pv_used=pv_used)
    design = one(kwp, kwh, inv, gen or 5.0)  # with a generator
    npc = [costs(Economics(), design, o, GEN,
                 plant=Plant(pv_degradation_pct_per_year=v)).npc_vnd[0] for v in (0, lo, hi)]
    assert npc[0] <= npc[1] * (1 + 1e-12) and npc[1] <= npc[2] * (1 + 1e-12)


# --------------------------------------------------------------------------- battery fade


def test_a_ten_year_battery_fades_to_80_percent_and_is_replaced_in_year_10() -> None:
    """100 − (100 − 80) × 5/10 = 90 % after 5 years; 80 % in year 10, where the schedule
    replaces it; 100 − 20 × 1/10 = 98 % at the end of year 11; at year 20 it is worn out
    again as the project ends (no replacement: nothing left to salvage)."""
    cap = battery_capacity_pct_by_year(np.array([10.0]), 80.0, 20)[0]
    assert cap[0] == 100.0 and cap[5] == pytest.approx(90.0) and cap[10] == 80.0
    assert cap[11] == pytest.approx(98.0) and cap[20] == 80.0
    counts, salvage = replacement_schedule(np.array([10.0]), 20)
    assert list(np.nonzero(counts[0])[0]) == [10] and salvage[0] == pytest.approx(0.0)


def test_a_battery_reaching_its_end_mid_year_shows_it_that_year() -> None:
    """Life 7.5 years: at the end of year 7, 100 − 20 × 7/7.5 = 81.33 %; it reaches 80 % at
    7.5 years and is replaced, paid in year 8; at the end of year 8 it is 100 − 20 × 0.5/7.5."""
    cap = battery_capacity_pct_by_year(np.array([7.5]), 80.0, 20)[0]
    assert cap[7] == pytest.approx(100 - 20 * 7 / 7.5) and cap[8] == 80.0
    assert cap[15] == 80.0 and cap[16] == pytest.approx(100 - 20 * 1 / 7.5)


def test_no_battery_never_fades() -> None:
    assert (battery_capacity_pct_by_year(np.array([np.inf]), 80.0, 5) == 100.0).all()


@given(life=st.floats(0.5, 60), years=st.integers(1, 50), eol=st.floats(50, 95))
def test_the_fade_reaches_its_end_exactly_when_the_schedule_replaces(
        life: float, years: int, eol: float) -> None:
    cap = battery_capacity_pct_by_year(np.array([life]), eol, years)[0]
    counts, _ = replacement_schedule(np.array([life]), years)
    assert ((cap >= eol - 1e-9) & (cap <= 100 + 1e-9)).all()
    worn = cap <= eol + 1e-12
    # in every year but the last, a replacement happens exactly when the capacity is worn out
    assert list(worn[1:-1]) == list(counts[0, 1:-1] > 0)
    assert not counts[0, -1] or worn[-1]


# --------------------------------------------------------------------------- the table


def test_ageing_table_by_hand_and_consistent_with_the_costs() -> None:
    s = site()
    econ = s.economics
    d = one(kwp=10, kwh=20, inv=5, gen=5)
    o = op(fuel=500, hours=1000, batt_life=10, pv_used=12_000)
    plant = Plant(pv_degradation_pct_per_year=0.5)
    rows = ageing_table(econ, s, d, o, plant=plant)
    assert [r["year"] for r in rows] == list(range(1, 21))
    assert rows[19]["pv_output_pct"] == pytest.approx(90.9156, abs=1e-4)
    assert rows[4]["battery_capacity_pct"] == pytest.approx(90.0)
    # year 10: battery (10 years) and inverter (inverter_life_years = 10) replaced, at
    # equipment × (1 + installation 8 %): 20 kWh × 8 M + 5 kW × 4 M = 180 M × 1.08
    assert rows[9]["replacements"] == {"battery": 1, "inverter": 1}
    assert rows[9]["replacement_vnd"] == pytest.approx(180e6 * 1.08)
    assert rows[19]["replacements"] == {}  # year 20 ends the project: nothing replaced
    # year 2: 12,000 × (1 − 0.995) = 60 kWh short → × 0.25 L/kWh = 15 L more
    assert rows[0]["pv_shortfall_kwh"] == 0.0
    assert rows[1]["pv_shortfall_kwh"] == pytest.approx(60.0)
    assert rows[1]["extra_fuel_l"] == pytest.approx(15.0) and rows[1]["unmet_kwh"] == 0.0
    # the table's replacements are the costs' (discounted, the same NPC)
    c = costs(econ, d, o, s.generator, plant=plant)
    df = discount_factors(econ)
    assert sum(r["replacement_vnd"] * df[r["year"]] for r in rows) == pytest.approx(
        c.replacement_npc_vnd[0])


def test_ageing_table_follows_the_site_file() -> None:
    """The site's 1 %/yr and 70 % end of life, whatever the plant passed says; no battery:
    no capacity; no generator: the shortfall is unmet energy."""
    s = site(pv={"kwp": 10, "degradation_pct_per_year": 1.0},
             battery={"kwh": 20, "end_of_life_capacity_pct": 70})
    rows = ageing_table(s.economics, s, one(kwp=10, kwh=20, inv=5), op(pv_used=1000))
    assert rows[2]["pv_output_pct"] == pytest.approx(100 * 0.99**2)
    assert rows[4]["battery_capacity_pct"] == pytest.approx(85.0)  # 100 − 30 × 5/10
    assert rows[2]["unmet_kwh"] == pytest.approx(1000 * (1 - 0.99**2))
    assert rows[2]["extra_fuel_l"] == 0.0
    none = ageing_table(s.economics, s, one(kwp=10, inv=5), op(batt_life=np.inf))
    assert all(r["battery_capacity_pct"] is None for r in none)
    assert all("battery" not in r["replacements"] for r in none)
    with pytest.raises(ValueError, match="one design"):
        ageing_table(s.economics, s, Designs(*(np.zeros(2),) * 4), op())


def test_the_search_plant_carries_the_site_degradation() -> None:
    s = site(pv={"kwp": 10, "degradation_pct_per_year": 0.7})
    assert site_plant(s, {}).pv_degradation_pct_per_year == 0.7


def test_operation_take() -> None:
    o = Operation(np.arange(3.0), np.arange(3.0) + 10, np.arange(3.0) + 20, np.full(3, 5.0),
                  np.arange(3.0) + 30)
    t = o.take(1)
    assert (t.served_kwh[0], t.fuel_l[0], t.generator_hours[0], t.battery_life_years[0],
            t.pv_used_kwh[0]) == (1.0, 11.0, 21.0, 5.0, 31.0)
