"""Battery life from its cycle damage, and P50/P90 over weather years."""

from __future__ import annotations

import numpy as np
import pytest

from sizing.reliability import battery_life_years, p50_p90


def test_battery_life_is_cycling_or_calendar_whichever_first() -> None:
    # One 80 % cycle a day on a battery of 6000 cycles at 80 % DoD: 365/6000 of its life a year.
    daily = 365 / 6000
    assert battery_life_years(daily, 20.0) == pytest.approx(6000 / 365)  # 16.4 years
    # 20 % cycles on a curve of exponent 1.3 wear 4^1.3 times less: the calendar comes first
    life = battery_life_years(np.array([daily / 4**1.3, 0.0]), 15.0)
    assert list(life) == [15.0, 15.0]


def test_p90_is_the_worse_tail() -> None:
    years = [{"unmet_kwh": float(v), "renewable_fraction": v / 100} for v in range(1, 11)]
    p50, p90 = p50_p90(years)
    assert p50["unmet_kwh"] == 5.5
    assert p90["unmet_kwh"] == pytest.approx(9.1)
    assert p90["renewable_fraction"] == pytest.approx(0.019)
