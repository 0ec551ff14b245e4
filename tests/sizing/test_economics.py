"""Life-cycle costs: capital, replacements, salvage, fuel escalation, LCOE, diesel baseline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitefile import Economics, Generator
from sizing.economics import (
    Designs,
    Operation,
    capital_recovery_factor,
    costs,
    diesel_only,
    diesel_only_kw,
    replacement_schedule,
)


def one(kwp: float = 0, kwh: float = 0, inv: float = 0, gen: float = 0) -> Designs:
    return Designs(np.array([kwp], float), np.array([kwh], float), np.array([inv], float),
                   np.array([gen], float))


def op(served: float = 1000, fuel: float = 0, hours: float = 0, batt_life: float = 10) -> Operation:
    return Operation(np.array([served]), np.array([fuel]), np.array([hours]),
                     np.array([batt_life]))


def test_replacement_schedule() -> None:
    counts, salvage = replacement_schedule(np.array([10.0, 8.0, np.inf, 7.5]), 20)
    assert counts.shape == (4, 21)
    assert list(np.nonzero(counts[0])[0]) == [10]
    assert salvage[0] == pytest.approx(0.0)
    assert list(np.nonzero(counts[1])[0]) == [8, 16]
    assert salvage[1] == pytest.approx(0.5)  # installed at 16, 4 of 8 years left at 20
    assert counts[2].sum() == 0
    assert salvage[2] == pytest.approx(1.0)
    assert list(np.nonzero(counts[3])[0]) == [8, 15]  # at 7.5 → paid in year 8; at 15
    assert salvage[3] == pytest.approx(1 / 3)


def test_undiscounted_cash_flow_by_hand() -> None:
    econ = Economics(discount_rate_pct=0, lifetime_years=20, pv_vnd_per_kwp=8e6,
                     battery_vnd_per_kwh=7e6, inverter_vnd_per_kw=4e6, generator_vnd_per_kw=5e6,
                     bos_pct=10, installation_pct=10, om_pct_per_year=1, inverter_life_years=10,
                     fuel_vnd_per_l=20_000, fuel_escalation_pct=0, generator_om_vnd_per_h=10_000,
                     salvage=True)
    d = one(kwp=10, kwh=20, inv=5, gen=0)
    c = costs(econ, d, op(served=10_000, batt_life=8), None)
    capital = (80e6 + 140e6 + 20e6) * 1.2
    assert c.capital_vnd[0] == pytest.approx(capital)
    # battery at 8 and 16 years, inverter at 10; replacements cost equipment × 1.1
    replacements = 2 * 140e6 * 1.1 + 20e6 * 1.1
    # salvage: battery has 4 of 8 years left; PV (25 y life) has 5 of 25 left; inverter none
    salvage = 0.5 * 140e6 * 1.1 + 5 / 25 * 80e6 * 1.1
    om = 20 * 0.01 * capital
    assert c.npc_vnd[0] == pytest.approx(capital + replacements + om - salvage)
    assert c.cash_flow_vnd[0, 0] == pytest.approx(capital)
    assert c.lcoe_vnd_per_kwh[0] == pytest.approx(c.npc_vnd[0] / 20 / 10_000)


def test_fuel_escalates_and_is_discounted() -> None:
    econ = Economics(discount_rate_pct=10, lifetime_years=3, fuel_vnd_per_l=10_000,
                     fuel_escalation_pct=5, om_pct_per_year=0, generator_om_vnd_per_h=0,
                     generator_vnd_per_kw=0, salvage=False)
    c = costs(econ, one(gen=0), op(fuel=1000), None)
    expected = sum(1e7 * 1.05 ** (y - 1) / 1.1**y for y in (1, 2, 3))
    assert c.fuel_npc_vnd[0] == pytest.approx(expected)
    assert c.npc_vnd[0] == pytest.approx(expected)


def test_crf() -> None:
    econ = Economics(discount_rate_pct=12, lifetime_years=20)
    assert capital_recovery_factor(econ) == pytest.approx(0.13388, rel=1e-4)


@pytest.mark.parametrize("rate_pct", [0.0, 1e-300, 1e-12])
def test_crf_without_discounting_is_one_over_life(rate_pct: float) -> None:
    """A zero or vanishing rate gives 1/n (the limit), with no division by zero."""
    econ = Economics(discount_rate_pct=rate_pct, lifetime_years=20)
    assert capital_recovery_factor(econ) == pytest.approx(1 / 20, rel=1e-6)


def test_diesel_only() -> None:
    assert diesel_only_kw(4.0) == 5.0
    assert diesel_only_kw(4.1) == 6.0
    assert diesel_only_kw(0.0) == 1.0
    econ = Economics(discount_rate_pct=0, lifetime_years=10, generator_vnd_per_kw=5e6,
                     bos_pct=0, installation_pct=0, om_pct_per_year=0,
                     generator_om_vnd_per_h=1000, fuel_vnd_per_l=20_000, fuel_escalation_pct=0,
                     salvage=False)
    base = diesel_only(econ, Generator(kw=5, life_hours=20_000), 5.0, fuel_l=1000,
                       generator_hours=4000, served_kwh=10_000)
    # generator replaced every 5 years (20,000 h / 4,000 h) → once, at year 5
    expected = 25e6 + 25e6 + 10 * (1000 * 20_000 + 4000 * 1000)
    assert base.costs.npc_vnd[0] == pytest.approx(expected)
    assert base.costs.lcoe_vnd_per_kwh[0] == pytest.approx(expected / 10 / 10_000)


@given(price=st.floats(0, 50_000), extra=st.floats(1, 10_000))
def test_npc_rises_with_fuel_price(price: float, extra: float) -> None:
    d = one(kwp=5, kwh=10, inv=3, gen=5)
    o = op(fuel=2000, hours=500)
    low = costs(Economics(fuel_vnd_per_l=price), d, o, Generator(kw=5))
    high = costs(Economics(fuel_vnd_per_l=price + extra), d, o, Generator(kw=5))
    assert high.npc_vnd[0] > low.npc_vnd[0]


def test_vectorised_equals_one_by_one() -> None:
    rng = np.random.default_rng(0)
    n = 50
    d = Designs(rng.uniform(0, 50, n), rng.uniform(0, 200, n), rng.uniform(1, 20, n),
                rng.choice([0.0, 10.0], n))
    o = Operation(rng.uniform(1e3, 1e5, n), rng.uniform(0, 5e3, n), rng.uniform(0, 3e3, n),
                  rng.uniform(2, 20, n))
    econ = Economics()
    all_at_once = costs(econ, d, o, Generator(kw=10)).npc_vnd
    for i in range(n):
        single = costs(econ, d.take(i), Operation(o.served_kwh[[i]], o.fuel_l[[i]],
                                                  o.generator_hours[[i]],
                                                  o.battery_life_years[[i]]), Generator(kw=10))
        assert single.npc_vnd[0] == pytest.approx(all_at_once[i])


@given(life=st.floats(0.5, 60), years=st.integers(1, 50))
def test_replacements_and_salvage_account_for_every_year_of_life(life: float, years: int) -> None:
    counts, salvage = replacement_schedule(np.array([life]), years)
    installs = 1 + counts.sum()
    # The units bought cover the project exactly, with the salvaged fraction left over.
    assert installs * life == pytest.approx(years + salvage[0] * life, rel=1e-9, abs=1e-6)
    assert 0 <= salvage[0] <= 1 + 1e-12
    assert counts.min() >= 0


@given(kwp=st.floats(0, 100), kwh=st.floats(0, 500), fuel=st.floats(0, 1e5))
def test_salvage_lowers_npc(kwp: float, kwh: float, fuel: float) -> None:
    d = one(kwp=kwp, kwh=kwh, inv=5, gen=5)
    o = op(fuel=fuel, hours=fuel / 2, batt_life=7)
    with_salvage = costs(Economics(salvage=True), d, o, Generator(kw=5)).npc_vnd[0]
    without = costs(Economics(salvage=False), d, o, Generator(kw=5)).npc_vnd[0]
    assert with_salvage <= without + 1e-6
