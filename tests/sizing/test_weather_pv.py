"""Weather: synthetic years match their monthly means, are reproducible, and stay physical;
files read through pvlib. PV and battery dispatch against NREL SAM (PVWatts v8, Battery)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from sitefile import load_site
from sizing.errors import WeatherError
from sizing.pv import pv_power_kw
from sizing.weather import COLUMNS, load_weather, monthly_ghi_years_kwh_m2_day
from tests.conftest import HOME, SHRIMP
from tests.sizing.sam_reference import (
    TMY3,
    household_load_kw,
    our_unmet,
    sam_outage_unmet,
    sam_pvwatts_ac_kw,
    tmy3_site,
)


def monthly_kwh_m2_day(frame: pd.DataFrame) -> np.ndarray:
    per_month = frame["ghi"].groupby(frame.index.month)
    return (per_month.sum() / 1000 / (per_month.count() / 24)).to_numpy()


@pytest.mark.parametrize("example", [SHRIMP, HOME], ids=["shrimp", "home"])
def test_synthetic_years_match_monthly_means_within_2_pct(example: Path) -> None:
    site = load_site(example)
    assert site.weather is not None
    # each year matches its own monthly means, drawn around the site file's (test_weather_years)
    drawn = monthly_ghi_years_kwh_m2_day(site, 4, site.weather.seed)
    temps = np.array(site.weather.monthly_temp_c)
    years = load_weather(site, 4)
    assert len(years) == 4
    for frame, target in zip(years, drawn, strict=True):
        assert list(frame.columns) == COLUMNS
        assert len(frame) == 8760
        assert str(frame.index.tz) == site.site.timezone
        assert np.all(np.abs(monthly_kwh_m2_day(frame) / target - 1) < 0.02)
        t = frame["temp_air"].groupby(frame.index.month).mean().to_numpy()
        assert np.all(np.abs(t - temps) < 0.1)
        # physical: no irradiance at night, closure of GHI = DHI + DNI·cos(zenith) roughly
        assert frame["ghi"].min() >= 0
        night = frame.index.hour.isin([0, 1, 2, 3, 22, 23])
        assert frame.loc[night, "ghi"].max() == 0


def test_same_seed_same_years_other_seed_other_years() -> None:
    site = load_site(SHRIMP)
    a = load_weather(site, 2)
    b = load_weather(site, 2)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y)
    assert not np.allclose(a[0]["ghi"], a[1]["ghi"])  # years differ from each other
    assert site.weather is not None
    other = site.model_copy(update={"weather": site.weather.model_copy(
        update={"seed": site.weather.seed + 1})})
    c = load_weather(other, 1)
    assert not np.allclose(a[0]["ghi"], c[0]["ghi"])


def test_days_vary_like_weather() -> None:
    frame = load_weather(load_site(SHRIMP), 1)[0]
    daily = frame["ghi"].resample("D").sum() / 1000
    assert daily.std() > 0.5  # cloudy and clear days, not a smooth climatology
    assert daily.min() < 0.5 * daily.mean()


def test_monthly_ghi_above_clear_sky_names_the_month() -> None:
    site = load_site(HOME)
    assert site.weather is not None
    ghi = list(site.weather.monthly_ghi_kwh_m2_day or [])
    ghi[2] = 9.5
    site = site.model_copy(update={"weather": site.weather.model_copy(
        update={"monthly_ghi_kwh_m2_day": ghi})})
    with pytest.raises(WeatherError, match=r"March 9\.5 kWh/m²/day is above"):
        load_weather(site)


def test_tmy3_file_is_read_in_the_site_time_zone() -> None:
    frame = load_weather(tmy3_site())[0]
    assert len(frame) == 8760
    assert list(frame.columns) == COLUMNS
    assert str(frame.index.tz) == "Etc/GMT+5"
    assert frame.index[0] == pd.Timestamp("2025-01-01 00:00", tz="Etc/GMT+5")
    # hour-ending 12:00 in the file is the 11:00–12:00 hour here
    raw, _ = pvlib.iotools.read_tmy3(TMY3, coerce_year=2025, map_variables=True)
    assert frame["ghi"].iloc[11] == raw["ghi"].iloc[11]


@pytest.mark.parametrize(("tilt", "azimuth"), [(30, 180), (10, 180), (20, 135), (45, 225)])
def test_annual_pv_within_3_pct_of_sam_pvwatts_v8(tilt: float, azimuth: float) -> None:
    sam = sam_pvwatts_ac_kw(4.0, tilt, azimuth, 14.0)
    site = tmy3_site(tilt_deg=tilt, azimuth_deg=azimuth)
    ours = pv_power_kw(site, load_weather(site)[0])["ac_kw"].sum()
    assert ours == pytest.approx(sam.sum(), rel=0.03)


def test_dc_coupling_delivers_dc_through_the_mppt() -> None:
    site = tmy3_site(coupling="dc", mppt_efficiency_pct=98)
    out = pv_power_kw(site, load_weather(site)[0])
    assert np.allclose(out["ac_kw"], out["dc_kw"] * 0.98)
    assert out["dc_kw"].max() < 4.0


def test_cec_module_option_runs() -> None:
    site = tmy3_site(cec_module="Canadian_Solar_Inc__CS6K_275M")
    out = pv_power_kw(site, load_weather(site)[0])
    pvwatts = pv_power_kw(tmy3_site(), load_weather(tmy3_site())[0])
    assert out["ac_kw"].sum() == pytest.approx(pvwatts["ac_kw"].sum(), rel=0.1)


@pytest.mark.parametrize(("kwp", "kwh"), [(2, 5), (3, 5), (4, 10), (6, 10), (4, 20)])
def test_unmet_fraction_close_to_sam_battery_in_outage_mode(kwp: float, kwh: float) -> None:
    pv = sam_pvwatts_ac_kw(kwp, 30, 180, 14)
    load = household_load_kw()
    sam_unmet, bank_kwh, discharge_kw = sam_outage_unmet(pv, load, kwh)
    ours = our_unmet(pv, load, bank_kwh, discharge_kw)
    assert abs(ours - sam_unmet) < 0.015  # within 1.5 points of unmet-load fraction
    assert ours == pytest.approx(sam_unmet, rel=0.15)


def _tmy3_frame() -> pd.DataFrame:
    raw, _ = pvlib.iotools.read_tmy3(TMY3, coerce_year=2025, map_variables=True)
    return raw


def test_epw_file_is_read(tmp_path: Path) -> None:
    raw = _tmy3_frame()
    header = ["LOCATION,Greensboro,NC,USA,TMY3,723170,36.10,-79.95,-5.0,273.0"]
    header += ["DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
               "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,test", "COMMENTS 2,test",
               "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31"]
    rows = []
    for k in range(8760):
        t = raw.index[k]
        month, day, hour = t.month, t.day, t.hour or 24
        if t.hour == 0:
            prev = t - pd.Timedelta(hours=1)
            month, day = prev.month, prev.day
        fields = [2025, month, day, hour, 0, "?", raw["temp_air"].iloc[k], 10, 50, 101325,
                  0, 0, 300, raw["ghi"].iloc[k], raw["dni"].iloc[k], raw["dhi"].iloc[k],
                  0, 0, 0, 0, 180, raw["wind_speed"].iloc[k], 5, 5, 9999, 99999, 9, 999999999,
                  10, 0.1, 0, 88, 0.2, 0, 0]
        rows.append(",".join(str(f) for f in fields))
    path = tmp_path / "greensboro.epw"
    path.write_text("\n".join(header + rows) + "\n")
    site = tmy3_site()
    assert site.weather is not None
    site = site.model_copy(update={"weather": site.weather.model_copy(update={"file": path})})
    frame = load_weather(site)[0]
    assert list(frame.columns) == COLUMNS and len(frame) == 8760
    assert frame["ghi"].sum() == pytest.approx(raw["ghi"].sum())
    assert frame["ghi"].iloc[11] == raw["ghi"].iloc[11]  # hour-ending labels shifted back


def test_pvgis_tmy_json_is_read_in_site_time(tmp_path: Path) -> None:
    raw = _tmy3_frame()
    utc = raw.index.tz_convert("UTC") - pd.Timedelta(hours=1)  # PVGIS labels hour start, UTC
    hourly = [
        {"time(UTC)": t.replace(year=2010 + t.month % 5).strftime("%Y%m%d:%H%M"),
         "T2m": float(raw["temp_air"].iloc[k]), "RH": 50.0, "G(h)": float(raw["ghi"].iloc[k]),
         "Gb(n)": float(raw["dni"].iloc[k]), "Gd(h)": float(raw["dhi"].iloc[k]), "IR(h)": 300.0,
         "WS10m": float(raw["wind_speed"].iloc[k]), "WD10m": 180.0, "SP": 101325.0}
        for k, t in enumerate(utc)
    ]
    src = {"inputs": {"location": {"latitude": 36.1, "longitude": -79.95, "elevation": 273}},
           "outputs": {"months_selected": [], "tmy_hourly": hourly},
           "meta": {"inputs": {}}}
    path = tmp_path / "pvgis.json"
    path.write_text(json.dumps(src))
    site = tmy3_site()
    assert site.weather is not None
    site = site.model_copy(update={"weather": site.weather.model_copy(update={"file": path})})
    frame = load_weather(site)[0]
    assert list(frame.columns) == COLUMNS and len(frame) == 8760
    assert str(frame.index.tz) == "Etc/GMT+5"
    assert frame["ghi"].sum() == pytest.approx(raw["ghi"].sum())
    noon = frame.index.hour == 12
    assert frame.loc[noon, "ghi"].mean() > 300  # times in site time: noon is bright
