"""Load models: profile CSVs (hourly and 15-minute), RAMP-style appliances, aerators, pumps."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sitefile import AeratorLoad, ApplianceLoad, ProfileLoad, PumpLoad, TimeWindow
from sizing.loads import (
    aerator_kw,
    appliance_minutes_kw,
    nominal_daily_kwh,
    profile_load_kw,
    pump_steps_left,
    step_mean,
)

TZ = "Asia/Ho_Chi_Minh"
HOURLY = pd.date_range("2025-01-01", periods=8760, freq="h", tz=TZ)
QUARTER = pd.date_range("2025-01-01", periods=8760 * 4, freq="15min", tz=TZ)


def write_profile(path: Path, values: np.ndarray, header: bool = True) -> Path:
    text = ("kw\n" if header else "") + "\n".join(f"{v:.6f}" for v in values)
    path.write_text(text)
    return path


def test_hourly_profile_on_hourly_and_quarter_hour_steps(tmp_path: Path) -> None:
    values = 1.0 + np.sin(np.arange(8760) / 24 * 2 * np.pi) ** 2
    load = ProfileLoad.model_validate(
        {"name": "p", "kind": "profile", "profile": write_profile(tmp_path / "p.csv", values),
         "scale": 2.0})
    hourly = profile_load_kw(load, HOURLY)
    assert np.allclose(hourly, 2 * values, atol=1e-6)
    quarter = profile_load_kw(load, QUARTER)
    assert np.allclose(quarter.reshape(-1, 4).mean(axis=1), 2 * values, atol=1e-6)


def test_quarter_hour_profile_is_averaged_to_hours(tmp_path: Path) -> None:
    values = np.tile([0.0, 1.0, 2.0, 3.0], 8760)
    load = ProfileLoad.model_validate(
        {"name": "p", "kind": "profile",
         "profile": write_profile(tmp_path / "q.csv", values, header=False)})
    assert np.allclose(profile_load_kw(load, HOURLY), 1.5)


def test_appliance_load_keeps_its_daily_energy_and_windows() -> None:
    load = ApplianceLoad.model_validate({
        "name": "home", "kind": "appliance", "appliances": [
            {"name": "lights", "power_w": 100, "count": 2, "minutes_per_day": 240,
             "windows": [{"start_h": 18, "end_h": 23}], "variability_pct": 10},
            {"name": "fan", "power_w": 50, "minutes_per_day": 300,
             "windows": [{"start_h": 21, "end_h": 3}]},
        ]})
    minutes = appliance_minutes_kw(load, np.random.default_rng(1))
    daily = minutes.sum() / 60 / 365
    assert daily == pytest.approx(nominal_daily_kwh(load, 12.0), rel=0.03)
    hourly = step_mean(minutes, HOURLY, 60).reshape(365, 24).mean(axis=0)
    assert hourly[8:17].max() == 0.0  # nothing runs by day
    assert hourly[18:23].min() > 0.0 and hourly[0:2].min() > 0.0  # evening and the fan window
    again = appliance_minutes_kw(load, np.random.default_rng(1))
    assert np.array_equal(minutes, again)


def test_rural_home_preset_is_about_2_6_kwh_a_day() -> None:
    load = ApplianceLoad.model_validate({"name": "h", "kind": "appliance",
                                         "preset": "vn_rural_home"})
    minutes = appliance_minutes_kw(load, np.random.default_rng(0))
    assert minutes.sum() / 60 / 365 == pytest.approx(2.62, rel=0.05)


def test_aerators_run_day_and_night_fractions() -> None:
    load = AeratorLoad.model_validate({"name": "a", "kind": "aerator", "kw_per_unit": 1.5,
                                       "units": 6, "day_fraction": 0.5, "night_fraction": 1.0})
    kw = aerator_kw(load, HOURLY, time(18), time(6))
    assert kw[:6].tolist() == [9.0] * 6
    assert kw[6:18].tolist() == [4.5] * 12
    assert kw[18:24].tolist() == [9.0] * 6
    assert kw.sum() / 365 == pytest.approx(nominal_daily_kwh(load, 12.0))


def test_pump_window_counts_down_and_wraps_midnight() -> None:
    load = PumpLoad.model_validate({"name": "p", "kind": "pump", "kw": 1, "daily_kwh": 2,
                                    "window": TimeWindow(start_h=22, end_h=2)})
    left = pump_steps_left(load, HOURLY)
    assert left[:3].tolist() == [2, 1, 0]  # the year starts inside a window
    assert left[22:27].tolist() == [4, 3, 2, 1, 0]
