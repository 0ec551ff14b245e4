"""Battery wear from rainflow cycles, and P50/P90 over weather years."""

from __future__ import annotations

import numpy as np
import pytest
import rainflow
from hypothesis import given
from hypothesis import strategies as st

from sizing.reliability import battery_life_years, cycle_damage, p50_p90, turning_points


@given(st.lists(st.integers(0, 10), max_size=60))
def test_turning_points_count_like_the_whole_series(values: list[int]) -> None:
    x = np.array(values, dtype=float) / 10
    assert sorted(rainflow.count_cycles(turning_points(x))) == sorted(rainflow.count_cycles(x))


def test_one_deep_cycle_a_day_matches_the_cycle_life_curve() -> None:
    day = np.concatenate((np.linspace(1.0, 0.2, 13), np.linspace(0.2, 1.0, 13)[1:-1]))
    year = np.tile(day, 365)
    damage = cycle_damage(year, cycle_life=6000, cycle_life_dod_frac=0.8, exponent=1.3)
    assert damage == pytest.approx(365 / 6000, rel=0.01)
    shallow = cycle_damage(0.6 + (year - 0.6) / 4, 6000, 0.8, 1.3)  # 20 % DoD
    assert shallow == pytest.approx(365 / (6000 * 4**1.3), rel=0.01)
    assert battery_life_years(damage, 20) == pytest.approx(6000 / 365, rel=0.01)
    assert battery_life_years(shallow, 15) == 15  # calendar life comes first


def test_p90_is_the_worse_tail() -> None:
    years = [{"unmet_kwh": float(v), "renewable_fraction": v / 100} for v in range(1, 11)]
    p50, p90 = p50_p90(years)
    assert p50["unmet_kwh"] == 5.5
    assert p90["unmet_kwh"] == pytest.approx(9.1)
    assert p90["renewable_fraction"] == pytest.approx(0.019)
