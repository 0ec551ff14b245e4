"""The controller's clear-sky forecast agrees with pvlib's Haurwitz clear sky."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pvlib
import pytest

from controller.forecast import STEPS_PER_DAY, clearsky_pv_w
from sitefile import Site, load_site
from tests.conftest import SHRIMP


def _pvlib_pv_w(site: Site, day: date) -> list[float]:
    assert site.pv is not None
    loc = pvlib.location.Location(site.site.latitude, site.site.longitude, site.site.timezone,
                                  site.site.altitude_m)
    times = pd.date_range(pd.Timestamp(day, tz=site.site.timezone), periods=STEPS_PER_DAY,
                          freq="15min") + pd.Timedelta(minutes=7.5)
    ghi = loc.get_clearsky(times, model="haurwitz")["ghi"].to_numpy()
    return [float(g) * site.pv.kwp * (1 - site.pv.losses_pct / 100) for g in ghi]


@pytest.mark.parametrize("day", [date(2026, 1, 15), date(2026, 6, 21), date(2026, 9, 30)])
@pytest.mark.parametrize("latitude", [9.29, 21.0, -33.9])
def test_forecast_matches_pvlib_within_half_a_percent_of_peak(day: date, latitude: float) -> None:
    site = load_site(SHRIMP)
    site = site.model_copy(update={"site": site.site.model_copy(update={"latitude": latitude})})
    ours = clearsky_pv_w(site, day)
    ref = _pvlib_pv_w(site, day)
    assert len(ours) == STEPS_PER_DAY
    assert max(abs(a - b) for a, b in zip(ours, ref, strict=True)) <= 0.005 * max(ref)
    assert sum(ours) == pytest.approx(sum(ref), rel=1e-3)
    assert ours[0] == 0.0 and ours[-1] == 0.0 and max(ours) > 0.0  # night at local midnight


def test_no_pv_forecasts_nothing() -> None:
    site = load_site(SHRIMP)
    assert site.pv is not None
    site = site.model_copy(update={"pv": site.pv.model_copy(update={"kwp": 0.0})})
    assert clearsky_pv_w(site, date(2026, 6, 21)) == (0.0,) * STEPS_PER_DAY
