"""Synthetic weather years vary like real years: monthly means drawn around the site file's,
unbiased, with the configured year-to-year spread of annual GHI, never above clear sky."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitefile import Site, SiteFileError, load_site, parse_site
from sizing.errors import WeatherError
from sizing.inputs import read_inputs
from sizing.pv import pv_power_kw
from sizing.simulate import simulate
from sizing.weather import (
    CLEAR_SKY_MARGIN_PCT,
    MIN_MONTHLY_GHI_KWH_M2_DAY,
    _site_geometry,
    check_monthly_ghi,
    clear_sky_monthly_kwh_m2_day,
    draw_monthly_ghi_kwh_m2_day,
    load_weather,
    month_weights,
    monthly_ghi_years_kwh_m2_day,
    synthetic_year,
    year_factor_cv,
    year_quantiles,
)
from tests.conftest import SHRIMP

# Southern Vietnam (Ca Mau peninsula): dry season January to April, monsoon May to November.
GHI_KWH_M2_DAY = [4.6, 5.4, 6.0, 6.0, 5.2, 4.6, 4.6, 4.5, 4.4, 4.4, 4.3, 4.2]
TEMP_C = [25.8, 26.5, 27.8, 28.9, 28.5, 27.9, 27.5, 27.5, 27.4, 27.2, 26.9, 26.0]
DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def vietnam_site(**weather: Any) -> Site:
    """A site at 9.3° N, 105.7° E with the monthly weather above and the given [weather] keys."""
    return parse_site({
        "site": {"name": "Ca Mau", "latitude": 9.3, "longitude": 105.7, "altitude_m": 2,
                 "timezone": "Asia/Ho_Chi_Minh"},
        "weather": {"monthly_ghi_kwh_m2_day": GHI_KWH_M2_DAY, "monthly_temp_c": TEMP_C,
                    **weather},
        "pv": {"kwp": 10, "tilt_deg": 12, "azimuth_deg": 180},
    })


@cache
def clear_sky() -> np.ndarray:
    """The site's monthly clear-sky GHI [kWh m-2 day-1]."""
    return clear_sky_monthly_kwh_m2_day(_site_geometry(vietnam_site()))


def monthly_kwh_m2_day(frame: pd.DataFrame) -> np.ndarray:
    monthly = frame["ghi"].groupby(frame.index.month).sum().to_numpy()
    return np.asarray(monthly / 1000 / DAYS, dtype=float)


def annual_kwh_m2(frames: list[pd.DataFrame]) -> np.ndarray:
    return np.array([frame["ghi"].sum() / 1000 for frame in frames])


# --------------------------------------------------------------------------- the draw, pure

monthly_means = st.lists(st.floats(0.0, 1.0), min_size=12, max_size=12).map(
    lambda f: np.array(f) * clear_sky())


@st.composite
def spreads_pct(draw: st.DrawFn, given_ghi: np.ndarray) -> tuple[float, float]:
    """(interannual, monthly) CV [%] that the site file accepts together."""
    annual = draw(st.floats(0.0, 20.0))
    most = annual / np.sqrt(np.sum(month_weights(given_ghi) ** 2))
    return annual, draw(st.floats(0.0, min(40.0, 0.999 * most)))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), given_ghi=monthly_means, seed=st.integers(0, 2**32))
def test_a_drawn_month_stays_positive_and_below_clear_sky(
        data: st.DataObject, given_ghi: np.ndarray, seed: int) -> None:
    annual, monthly = data.draw(spreads_pct(given_ghi))
    drawn = draw_monthly_ghi_kwh_m2_day(given_ghi, clear_sky(), annual, monthly,
                                        np.random.default_rng(seed))
    assert drawn.shape == (12,)
    assert np.all(drawn <= np.maximum(clear_sky() * (1 - CLEAR_SKY_MARGIN_PCT / 100), given_ghi))
    assert np.all(drawn <= clear_sky())  # physics: no month brighter than cloudless
    assert np.all(drawn >= np.minimum(given_ghi, MIN_MONTHLY_GHI_KWH_M2_DAY))
    assert np.all(drawn[given_ghi > 0] > 0)


@settings(max_examples=100, deadline=None)
@given(given_ghi=monthly_means, seed=st.integers(0, 2**32))
def test_without_spread_the_draw_is_the_given_means(given_ghi: np.ndarray, seed: int) -> None:
    drawn = draw_monthly_ghi_kwh_m2_day(given_ghi, clear_sky(), 0.0, 0.0,
                                        np.random.default_rng(seed))
    np.testing.assert_array_equal(drawn, given_ghi)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), given_ghi=monthly_means)
def test_year_factor_gives_the_annual_cv(data: st.DataObject, given_ghi: np.ndarray) -> None:
    # A = Y · Σ w_m M_m with independent mean-1 factors: 1 + CV_A² = (1 + CV_Y²)(1 + CV_M² Σ w²)
    annual, monthly = data.draw(spreads_pct(given_ghi))
    w = month_weights(given_ghi)
    assert w.sum() == pytest.approx(1.0)
    cv_y = year_factor_cv(annual / 100, monthly / 100, w)
    assert 0.0 <= cv_y <= annual / 100 + 1e-12  # the months take their share of the spread
    # (1 + a)(1 + b) − 1 written as a + b + ab: no cancellation for a spread of 1e-7 %
    a, b = cv_y**2, (monthly / 100) ** 2 * np.sum(w**2)
    got = a + b + a * b
    assert np.sqrt(got) == pytest.approx(annual / 100, abs=1e-9)


def test_month_spread_beyond_the_annual_spread_is_refused() -> None:
    with pytest.raises(ValueError, match="monthly_ghi_cv_pct 30 alone spreads"):
        year_factor_cv(0.02, 0.30, month_weights(np.array(GHI_KWH_M2_DAY)))
    site = vietnam_site(interannual_ghi_cv_pct=2, monthly_ghi_cv_pct=30)
    with pytest.raises(WeatherError, match="more than interannual_ghi_cv_pct 2") as e:
        check_monthly_ghi(site)
    assert e.value.key == "weather.monthly_ghi_cv_pct"
    with pytest.raises(WeatherError):
        load_weather(site, 1)


def test_spread_keys_default_from_the_literature_and_are_bounded() -> None:
    w = vietnam_site().weather
    assert w is not None
    assert (w.interannual_ghi_cv_pct, w.monthly_ghi_cv_pct) == (4.0, 8.0)
    for bad in ({"interannual_ghi_cv_pct": -1}, {"monthly_ghi_cv_pct": 50}):
        with pytest.raises(SiteFileError):
            vietnam_site(**bad)


# --------------------------------------------------------------------------- many years


@pytest.mark.parametrize(("annual", "monthly"), [(4.0, 8.0), (6.0, 5.0), (3.0, 0.0)])
def test_over_many_years_months_are_unbiased_and_annual_cv_is_the_configured(
        annual: float, monthly: float) -> None:
    site = vietnam_site(interannual_ghi_cv_pct=annual, monthly_ghi_cv_pct=monthly)
    drawn = monthly_ghi_years_kwh_m2_day(site, 4000, seed=7)
    # mean of each month: 4000 years leave a sampling error of about 0.15 %; the clear-sky cap
    # trims the brightest draws of the dry season by about 0.3 %
    np.testing.assert_allclose(drawn.mean(axis=0), GHI_KWH_M2_DAY, rtol=0.01)
    annual_kwh = drawn @ DAYS
    assert annual_kwh.mean() == pytest.approx(np.dot(GHI_KWH_M2_DAY, DAYS), rel=0.005)
    cv_pct = 100 * annual_kwh.std(ddof=1) / annual_kwh.mean()
    assert cv_pct == pytest.approx(annual, rel=0.06)


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    site = vietnam_site(seed=3)
    a = monthly_ghi_years_kwh_m2_day(site, 5, 3)
    np.testing.assert_array_equal(a, monthly_ghi_years_kwh_m2_day(site, 5, 3))
    assert not np.allclose(a, monthly_ghi_years_kwh_m2_day(site, 5, 4))
    assert not np.allclose(a[0], a[1])


@given(years=st.integers(1, 200), seed=st.integers(0, 2**32 - 1))
def test_year_factors_take_one_stratum_each(years: int, seed: int) -> None:
    # Latin hypercube: N years hold exactly one quantile in each of the N equal strata
    q = year_quantiles(years, seed)
    assert np.all((q >= 0) & (q < 1))
    assert sorted(np.floor(q * years).astype(int).tolist()) == list(range(years))
    np.testing.assert_array_equal(q, year_quantiles(years, seed))


def test_the_shrimp_pond_p50_to_p90_pv_gap_is_the_literatures() -> None:
    """20 simulated years of the Mekong Delta example: annual PV energy varies with a CV of a
    few per cent and its one-year P90 lies about 1.28 × CV below P50, within the 3–9 % the
    interannual GHI variability over Vietnam gives (see the README, Weather years)."""
    site = load_site(SHRIMP)
    result = simulate(site, read_inputs(site, 20))
    pv = np.array([y.figures["pv_ac_kwh"] for y in result.years])
    assert 0.025 <= pv.std() / pv.mean() <= 0.06
    gap = 1 - result.p90["pv_ac_kwh"] / result.p50["pv_ac_kwh"]
    assert 0.03 <= gap <= 0.09


# --------------------------------------------------------------------------- full years


def test_without_spread_the_years_are_the_previous_ones() -> None:
    site = vietnam_site(interannual_ghi_cv_pct=0, monthly_ghi_cv_pct=0, seed=5)
    geometry = _site_geometry(site)
    years = load_weather(site, 3)
    for k, frame in enumerate(years):
        before = synthetic_year(geometry, np.array(GHI_KWH_M2_DAY), np.array(TEMP_C),
                                8.0, np.random.default_rng([5, k]))
        pd.testing.assert_frame_equal(frame, before)
        np.testing.assert_allclose(monthly_kwh_m2_day(frame), GHI_KWH_M2_DAY, rtol=0.002)
    annual = annual_kwh_m2(years)
    assert np.ptp(annual) / annual.mean() < 0.002  # the old, too-even years


def test_same_seed_same_years_other_seed_other_years() -> None:
    a = load_weather(vietnam_site(seed=2), 2)
    b = load_weather(vietnam_site(seed=2), 2)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y)
    c = load_weather(vietnam_site(seed=9), 2)
    assert not np.allclose(monthly_kwh_m2_day(a[0]), monthly_kwh_m2_day(c[0]), rtol=0.01)


def test_each_year_reproduces_its_drawn_means_and_pv_follows_ghi() -> None:
    site = vietnam_site()
    years = load_weather(site, 20)
    drawn = monthly_ghi_years_kwh_m2_day(site, 20, 0)
    for frame, target in zip(years, drawn, strict=True):
        np.testing.assert_allclose(monthly_kwh_m2_day(frame), target, rtol=0.002)
    ghi = annual_kwh_m2(years)
    pv = np.array([pv_power_kw(site, frame)["ac_kw"].sum() for frame in years])
    assert np.corrcoef(ghi, pv)[0, 1] > 0.95
    cv_ghi, cv_pv = ghi.std() / ghi.mean(), pv.std() / pv.mean()
    assert cv_pv == pytest.approx(cv_ghi, rel=0.25)


def test_p90_of_20_years_lies_where_the_literature_puts_it() -> None:
    # Interannual CV of annual GHI of about 3–6 % (Solargis / ESMAP for Vietnam; Gueymard &
    # Wilcox 2011 for the US) puts a one-year P90 about 1.28 × CV, i.e. 3–9 %, below P50.
    site = vietnam_site()
    assert site.weather is not None and site.weather.seed == 0  # the site file's default
    annual = annual_kwh_m2(load_weather(site, 20))
    p50 = float(np.median(annual))
    p90 = float(np.percentile(annual, 10))  # exceeded in 9 years out of 10
    assert 0.03 <= (p50 - p90) / p50 <= 0.09
