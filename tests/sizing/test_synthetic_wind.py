"""Synthetic wind from 12 monthly means: each month's mean matched, seeded, persistent from hour
to hour like measured wind, Weibull-distributed with the given shape, strongest in the
afternoon; the sunshine of a synthetic year does not change when wind is added."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import weibull_min

from sitefile import parse_site
from sizing.weather import (
    WIND_SPEED_M_S,
    load_weather,
    synthetic_wind_m_s,
)

TZ = "Asia/Ho_Chi_Minh"
INDEX = pd.date_range("2025-01-01", periods=8760, freq="h", tz=TZ)
LY_SON_M_S = np.array([7.0, 6.0, 5.0, 4.0, 3.6, 4.0, 4.2, 4.0, 3.8, 5.5, 7.2, 7.6])


def _monthly_means(speed: np.ndarray, index: pd.DatetimeIndex = INDEX) -> np.ndarray:
    return pd.Series(speed, index=index).groupby(index.month).mean().to_numpy()


def _wind(seed: int = 7, k: float = 2.0, monthly: np.ndarray = LY_SON_M_S) -> np.ndarray:
    return synthetic_wind_m_s(INDEX, monthly, k, np.random.default_rng([seed, 0, 2]))


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_each_month_mean_within_2_pct(seed: int) -> None:
    assert _monthly_means(_wind(seed)) == pytest.approx(LY_SON_M_S, rel=0.02)


def test_a_calm_month_stays_calm() -> None:
    monthly = LY_SON_M_S.copy()
    monthly[5] = 0.0
    speed = _wind(monthly=monthly)
    assert (speed[INDEX.month == 6] == 0).all() and (speed >= 0).all()


def test_same_seed_same_wind_other_seed_other_wind() -> None:
    assert np.array_equal(_wind(7), _wind(7))
    assert not np.allclose(_wind(7), _wind(8))


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_hour_to_hour_persistence_like_measured_wind(seed: int) -> None:
    speed = _wind(seed)
    lag1 = float(np.corrcoef(speed[:-1], speed[1:])[0, 1])
    assert 0.8 <= lag1 <= 0.97


@pytest.mark.parametrize("k", [1.6, 2.0, 3.0])
def test_weibull_shape_of_the_months_near_k(k: float) -> None:
    """Each month's speeds over its own mean, ten years pooled (a single month holds only
    some 40 independent values at this persistence), fitted by maximum likelihood: the shape
    is k within 10 % (the diurnal cycle widens the spread a little)."""
    years = [_wind(seed, k) for seed in range(10)]
    pooled = np.concatenate([y / LY_SON_M_S[INDEX.month.to_numpy() - 1] for y in years])
    shape, _, _ = weibull_min.fit(pooled, floc=0)
    assert shape == pytest.approx(k, rel=0.10)


def test_afternoon_wind_is_stronger_than_night_wind() -> None:
    speed = pd.Series(np.concatenate([_wind(seed) for seed in range(5)]),
                      index=np.tile(INDEX.hour.to_numpy(), 5))
    by_hour = speed.groupby(level=0).mean()
    assert by_hour.idxmax() in range(13, 18)
    assert by_hour[13:18].mean() > 1.15 * by_hour[0:6].mean()


def _site(**weather: Any) -> Any:
    return parse_site({
        "site": {"name": "Ly Son", "latitude": 15.38, "longitude": 109.12, "timezone": TZ},
        "weather": {"monthly_ghi_kwh_m2_day": [3.4, 4.3, 5.3, 6.0, 6.0, 5.8, 5.8, 5.5, 4.8,
                                               3.9, 3.2, 2.8],
                    "monthly_temp_c": [21.5, 22.5, 24.5, 27.0, 28.5, 29.0, 29.0, 28.8, 27.5,
                                       26.0, 24.5, 22.0],
                    "seed": 7, **weather}})


def test_synthetic_years_carry_the_monthly_wind_and_keep_their_sunshine() -> None:
    calm = load_weather(_site(), years=2)
    windy = load_weather(_site(monthly_wind_m_s=LY_SON_M_S.tolist(), wind_weibull_k=2.5),
                         years=2)
    for before, after in zip(calm, windy, strict=True):
        assert (before["wind_speed"] == WIND_SPEED_M_S).all()
        index = pd.DatetimeIndex(after.index)
        assert _monthly_means(after["wind_speed"].to_numpy(), index) == pytest.approx(
            LY_SON_M_S, rel=0.02)
        pd.testing.assert_frame_equal(before.drop(columns="wind_speed"),
                                      after.drop(columns="wind_speed"))
    assert not np.allclose(windy[0]["wind_speed"], windy[1]["wind_speed"])


def test_quarter_hour_steps_keep_the_hourly_wind() -> None:
    hourly = load_weather(_site(monthly_wind_m_s=LY_SON_M_S.tolist()))[0]
    quarter = load_weather(_site(monthly_wind_m_s=LY_SON_M_S.tolist(), step_min=15))[0]
    assert np.array_equal(quarter["wind_speed"].to_numpy()[::4], hourly["wind_speed"].to_numpy())
