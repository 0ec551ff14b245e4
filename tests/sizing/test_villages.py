"""Villages: households of one appliance load, their diversity, and load growth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sitefile import ApplianceLoad, parse_site
from sizing.loads import (
    after_diversity_peak_kw,
    appliance_minutes_kw,
    diversity_factor,
    growth_factor,
    household_minutes_kw,
    household_step_kw,
    load_growth_factors,
    nominal_daily_kwh,
    scaled_for_year,
)

TZ = "Asia/Ho_Chi_Minh"
HOURLY = pd.date_range("2025-01-01", periods=8760, freq="h", tz=TZ)


def homes(count: int, seed: int = 11) -> ApplianceLoad:
    return ApplianceLoad.model_validate({"name": "homes", "kind": "appliance",
                                         "preset": "vn_rural_home", "count": count,
                                         "seed": seed})


@pytest.fixture(scope="module")
def village() -> np.ndarray:
    """The 20 households' minute years of the island's village, one row each [kW]."""
    return np.array(list(household_minutes_kw(homes(20), np.random.default_rng(11))))


def test_village_energy_is_twenty_homes(village: np.ndarray) -> None:
    one = appliance_minutes_kw(homes(1), np.random.default_rng(11))
    total = appliance_minutes_kw(homes(20), np.random.default_rng(11))
    # the village is the sum of its households, the first of them the home of the same seed
    assert np.allclose(total, village.sum(axis=0), atol=1e-9)
    assert np.array_equal(village[0], one)
    # 20 homes' energy is 20 × one home's mean (each its own draw), and the nominal energy
    assert total.sum() / 60 / 365 == pytest.approx(20 * village.sum(axis=1).mean() / 60 / 365,
                                                   rel=1e-9)
    assert total.sum() / 60 / 365 == pytest.approx(nominal_daily_kwh(homes(20), 12.0),
                                                   rel=0.03)
    assert nominal_daily_kwh(homes(20), 12.0) == pytest.approx(
        20 * nominal_daily_kwh(homes(1), 12.0))


def test_households_differ_and_diversity_is_above_one(village: np.ndarray) -> None:
    # no two households draw the same year
    assert all(not np.array_equal(village[a], village[b])
               for a in range(20) for b in range(a + 1, 20))
    hourly = village.reshape(20, 8760, 60).mean(axis=2)
    single_peak = hourly.max(axis=1)
    peak = after_diversity_peak_kw(hourly)
    assert peak == pytest.approx(hourly.sum(axis=0).max())
    assert peak < single_peak.sum()
    assert peak < 20 * single_peak.max()
    assert diversity_factor(hourly) == pytest.approx(single_peak.sum() / peak)
    assert diversity_factor(hourly) > 1.2


def test_diversity_by_hand() -> None:
    # two homes peaking at different hours: Σ peaks 3 + 2 = 5, peak of the sum 3 + 1 = 4
    kw = np.array([[3.0, 0.0, 1.0], [1.0, 2.0, 0.0]])
    assert after_diversity_peak_kw(kw) == 4.0
    assert diversity_factor(kw) == pytest.approx(5 / 4)
    # peaking together: no diversity
    assert diversity_factor(np.array([[1.0, 2.0], [2.0, 4.0]])) == 1.0


def test_village_is_reproducible_and_seeded() -> None:
    a = appliance_minutes_kw(homes(5), np.random.default_rng(11))
    b = appliance_minutes_kw(homes(5), np.random.default_rng(11))
    c = appliance_minutes_kw(homes(5, seed=12), np.random.default_rng(12))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_household_steps_are_the_village_on_the_step() -> None:
    kw = household_step_kw(homes(3), HOURLY)
    assert kw.shape == (3, 8760)
    total = appliance_minutes_kw(homes(3), np.random.default_rng(11))
    assert np.allclose(kw.sum(axis=0), total.reshape(8760, 60).mean(axis=1))


def test_customers_default_to_households() -> None:
    assert homes(20).customers == 20
    given = ApplianceLoad.model_validate({"name": "h", "kind": "appliance",
                                          "preset": "vn_rural_home", "count": 20,
                                          "customers": 18})
    assert given.customers == 18


# --------------------------------------------------------------------------- load growth


def _site(loads: list[dict[str, object]]) -> object:
    return parse_site({"site": {"name": "s", "latitude": 15, "longitude": 109},
                       "loads": loads})


def test_growth_factors_by_hand() -> None:
    # a pump of 10 kWh/day growing 10 %/year and one of 30 kWh/day shrinking 5 %/year
    site = _site([
        {"name": "a", "kind": "pump", "kw": 5, "daily_kwh": 10, "load_growth_pct_per_year": 10},
        {"name": "b", "kind": "pump", "kw": 5, "daily_kwh": 30, "load_growth_pct_per_year": -5},
    ])
    factors = load_growth_factors(site, 3)  # type: ignore[arg-type]
    expected = [1.0, (10 * 1.1 + 30 * 0.95) / 40, (10 * 1.21 + 30 * 0.9025) / 40]
    assert factors == pytest.approx(expected, rel=1e-12)
    assert factors[1] == pytest.approx(0.9875)


def test_growth_weights_a_schedule_by_its_open_days() -> None:
    # b draws on Sundays only (1/7 of days): weights 10 and 30/7
    site = _site([
        {"name": "a", "kind": "pump", "kw": 5, "daily_kwh": 10},
        {"name": "b", "kind": "pump", "kw": 5, "daily_kwh": 30, "load_growth_pct_per_year": 20,
         "schedule": {"weekdays": ["sun"]}},
    ])
    factors = load_growth_factors(site, 2)  # type: ignore[arg-type]
    assert factors[1] == pytest.approx((10 + 30 / 7 * 1.2) / (10 + 30 / 7), rel=1e-3)


def test_no_growth_is_flat_and_scaling_compounds() -> None:
    site = _site([{"name": "a", "kind": "pump", "kw": 5, "daily_kwh": 10}])
    assert np.array_equal(load_growth_factors(site, 20), np.ones(20))  # type: ignore[arg-type]
    load = homes(20).model_copy(update={"load_growth_pct_per_year": 3.0})
    assert growth_factor(load, 1) == 1.0
    assert growth_factor(load, 20) == pytest.approx(1.03 ** 19)
    kw = np.array([1.0, 2.0])
    assert scaled_for_year(kw, load, 20) == pytest.approx(kw * 1.03 ** 19)
