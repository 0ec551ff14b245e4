"""Loads: nominal daily energy per load, and reading kW profiles from CSV files."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import numpy as np
import pandas as pd

from sizing.errors import LoadProfileError
from sizing.site import AeratorLoad, ApplianceLoad, Load, ProfileLoad, PumpLoad


def night_hours(night_start: time, night_end: time) -> float:
    """Length of the night window [h], wrapping past midnight."""
    start = night_start.hour + night_start.minute / 60
    end = night_end.hour + night_end.minute / 60
    return (end - start) % 24


def read_profile_kw(path: Path) -> pd.Series:
    """Read a load profile CSV: one column of kW, hourly (8760) or 15-minute (35040) rows.

    A header line is allowed; with several columns the last numeric one is used.
    """
    try:
        frame = pd.read_csv(path, header=None, comment="#")
    except (OSError, ValueError) as e:
        raise LoadProfileError(f"{path}: cannot read profile: {e}") from e
    values = pd.to_numeric(frame.iloc[:, -1], errors="coerce")
    if len(values) and np.isnan(values.iloc[0]):
        values = values.iloc[1:]  # header row
    if values.isna().any():
        row = int(values.index[values.isna()][0]) + 1
        raise LoadProfileError(f"{path}: row {row} is not a number")
    if (values < 0).any():
        raise LoadProfileError(f"{path}: load power must not be negative")
    if len(values) not in (8760, 8784, 35040, 35136):
        raise LoadProfileError(
            f"{path}: expected 8760 hourly or 35040 15-minute rows, got {len(values)}"
        )
    return values.reset_index(drop=True).astype(float)


def nominal_daily_kwh(load: Load, night_h: float, profile_kw: pd.Series | None = None) -> float:
    """Mean daily energy of a load [kWh/day]; a profile load needs its ``profile_kw``."""
    if isinstance(load, ProfileLoad):
        if profile_kw is None:
            profile_kw = read_profile_kw(load.profile)
        return float(profile_kw.mean() * 24 * load.scale)
    if isinstance(load, ApplianceLoad):
        return sum(a.daily_kwh for a in load.appliances)
    if isinstance(load, AeratorLoad):
        hours_on = load.day_fraction * (24 - night_h) + load.night_fraction * night_h
        return load.kw_per_unit * load.units * hours_on
    if isinstance(load, PumpLoad):
        return load.daily_kwh
    raise TypeError(f"unknown load kind {type(load).__name__}")
