"""Schedules (the mask by date) and 24-hour profiles with HOMER-style variability."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware_sim.inputs import Inputs
from sitefile import ApplianceLoad, ProfileLoad, PumpLoad
from sitefile.model import Schedule
from sizing.errors import LoadProfileError
from sizing.loads import (
    load_step_kw,
    open_day_fraction,
    parse_profile_kw,
    profile_year_kw,
    pump_steps_left,
    schedule_mask,
    varied_profile_kw,
)

TZ = "Asia/Ho_Chi_Minh"
HOURLY = pd.date_range("2025-01-01", periods=8760, freq="h", tz=TZ)
NIGHT = (datetime(2025, 1, 1, 18).time(), datetime(2025, 1, 1, 6).time())
SCHOOL = Schedule.model_validate({"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat"],
                                  "closed": [{"from": "06-01", "to": "08-31"}]})


def test_mask_on_known_dates() -> None:
    days = pd.DatetimeIndex([pd.Timestamp(d, tz=TZ) for d in (
        "2025-01-05 10:00",  # a Sunday
        "2025-01-06 10:00",  # a Monday
        "2025-05-31 23:00",  # Saturday, the last day before the holiday
        "2025-06-01 00:00",  # Sunday and the holiday's first day
        "2025-06-02 10:00",  # Monday in the holiday
        "2025-08-31 10:00",  # the holiday's last day
        "2025-09-01 00:00",  # Monday, school again
    )])
    assert schedule_mask(SCHOOL, days).tolist() == [False, True, True, False, False, False, True]
    assert schedule_mask(None, days).all()


def test_mask_wraps_over_the_new_year_and_keeps_months() -> None:
    sched = Schedule.model_validate({"closed": [{"from": "12-20", "to": "01-05"}],
                                     "months": [1, 2, 12]})
    days = pd.DatetimeIndex([pd.Timestamp(d, tz=TZ) for d in (
        "2025-12-19", "2025-12-20", "2025-12-31", "2026-01-05", "2026-01-06", "2026-03-01")])
    assert schedule_mask(sched, days).tolist() == [True, False, False, False, True, False]


def test_mask_uses_the_local_date() -> None:
    # 2025-01-05 17:30 UTC is 00:30 on Monday 6 January in Ho Chi Minh City
    utc = pd.DatetimeIndex([pd.Timestamp("2025-01-05 17:30", tz="UTC")])
    assert not schedule_mask(SCHOOL, utc)[0]
    assert schedule_mask(SCHOOL, utc.tz_convert(TZ))[0]


def test_school_draws_nothing_on_sundays_and_in_the_holiday() -> None:
    base = {"name": "school", "kind": "appliance", "seed": 12, "appliances": [
        {"name": "fans", "power_w": 60, "count": 8, "minutes_per_day": 360,
         "windows": [{"start_h": 7, "end_h": 17}]}]}
    free = ApplianceLoad.model_validate(base)
    school = ApplianceLoad.model_validate({**base, "schedule": SCHOOL.model_dump()})
    always = load_step_kw(free, HOURLY, {}, *NIGHT)
    kw = load_step_kw(school, HOURLY, {}, *NIGHT)
    sunday = HOURLY.day_of_week == 6
    holiday = (HOURLY.month >= 6) & (HOURLY.month <= 8)
    closed = sunday | holiday
    assert kw[closed].max() == 0.0
    assert always[closed].max() > 0.0
    assert np.array_equal(kw[~closed], always[~closed])  # other days unchanged
    # 2025 has 52 Sundays; the 92-day holiday starts and ends on a Sunday, so holds 14 of them
    open_days = 365 - 52 - (92 - 14)
    assert (kw.reshape(365, 24).sum(axis=1) > 0).sum() == open_days


def test_pump_does_not_run_on_closed_days() -> None:
    pump = PumpLoad.model_validate({"name": "p", "kind": "pump", "kw": 2, "daily_kwh": 6,
                                    "schedule": {"weekdays": ["mon"]}})
    left = pump_steps_left(pump, HOURLY).reshape(365, 24)
    mondays = pd.date_range("2025-01-01", periods=365, freq="D").day_of_week == 0
    assert left[~mondays].max() == 0
    assert left[mondays].max() == 9  # the default 08–17 window


def test_open_day_fraction() -> None:
    assert open_day_fraction(None) == 1.0
    weekdays = Schedule.model_validate({"weekdays": ["mon", "tue", "wed", "thu", "fri"]})
    assert open_day_fraction(weekdays) == pytest.approx(5 / 7)


def test_simulator_applies_the_schedule_by_date() -> None:
    inputs = Inputs(np.zeros(8760), np.zeros(8760), np.zeros(8760), np.zeros(8760),
                    {"school": np.ones(525_600)}, schedules={"school": SCHOOL})
    tz = ZoneInfo(TZ)
    assert inputs.load_kw("school", datetime(2026, 1, 4, 10, tzinfo=tz)) == 0.0  # Sunday
    assert inputs.load_kw("school", datetime(2026, 1, 5, 10, tzinfo=tz)) == 1.0  # Monday
    assert inputs.load_kw("school", datetime(2026, 7, 7, 10, tzinfo=tz)) == 0.0  # holiday


# --------------------------------------------------------------------------- 24-hour profiles

ICE = np.array([5.0] * 4 + [2.0] * 14 + [5.0] * 6)


def _day_file(tmp_path: Path, values: np.ndarray) -> Path:
    path = tmp_path / "day.csv"
    path.write_text("kw\n" + "\n".join(f"{v:g}" for v in values) + "\n")
    return path


def test_typical_day_repeats_without_variability(tmp_path: Path) -> None:
    load = ProfileLoad.model_validate({"name": "ice", "kind": "profile",
                                       "profile": _day_file(tmp_path, ICE)})
    year = profile_year_kw(load)
    assert year.shape == (8760,)
    assert np.array_equal(year, np.tile(ICE, 365))
    kw = load_step_kw(load, HOURLY, {"ice": year}, *NIGHT)
    assert np.allclose(kw.reshape(365, 24), ICE)


def test_typical_day_varies_by_day_and_step(tmp_path: Path) -> None:
    load = ProfileLoad.model_validate({"name": "ice", "kind": "profile", "seed": 3,
                                       "profile": _day_file(tmp_path, ICE),
                                       "day_to_day_pct": 10, "timestep_pct": 5})
    year = profile_year_kw(load)
    assert np.array_equal(year, profile_year_kw(load))  # seeded
    assert year.mean() == pytest.approx(ICE.mean(), rel=1e-12)  # energy kept
    ratio = year.reshape(365, 24) / ICE
    day_factor = ratio.mean(axis=1)
    # one factor per day of σ 10 %, and within a day one per step of σ 5 %
    assert day_factor.std() == pytest.approx(0.10, abs=0.015)
    within = (ratio / day_factor[:, None]).std(axis=1).mean()
    assert within == pytest.approx(0.05, abs=0.008)
    other = profile_year_kw(load.model_copy(update={"seed": 4}))
    assert not np.array_equal(year, other)


@settings(max_examples=40, deadline=None)
@given(day=st.lists(st.floats(0, 50), min_size=24, max_size=24),
       d2d=st.floats(0, 50), step=st.floats(0, 50), seed=st.integers(0, 2**32 - 1))
def test_variability_is_never_negative_and_keeps_energy(day: list[float], d2d: float,
                                                        step: float, seed: int) -> None:
    base = np.array(day)
    year = varied_profile_kw(base, d2d, step, seed)
    assert year.shape == (8760,)
    assert year.min() >= 0.0
    assert year.sum() == pytest.approx(base.sum() * 365, rel=1e-9, abs=1e-9)


def test_a_year_file_varies_too_and_keeps_its_length() -> None:
    year = np.linspace(1.0, 2.0, 8784)  # a leap year
    varied = varied_profile_kw(year, 10, 0, 1)
    assert varied.shape == (8784,)
    # one factor per day of 24 rows
    assert np.allclose(np.diff((varied / year).reshape(366, 24), axis=1), 0.0)


@pytest.mark.parametrize("rows", [23, 25, 48, 8000])
def test_other_lengths_name_the_file_count_and_accepted(tmp_path: Path, rows: int) -> None:
    path = _day_file(tmp_path, np.ones(rows))
    with pytest.raises(LoadProfileError) as err:
        parse_profile_kw(path.read_text(), path)
    text = str(err.value)
    assert str(path) in text and f"{rows} rows" in text
    assert "24 (one typical day" in text and "8760" in text and "35040" in text
