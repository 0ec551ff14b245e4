"""A NASA POWER hourly CSV file for tests, in the exact layout the POWER Hourly API serves
(``format=CSV``): a ``-BEGIN HEADER-`` … ``-END HEADER-`` block, then ``YEAR,MO,DY,HR`` and
one column per parameter, values with two decimals, -999 where the source lacks data.

The values are realistic for Ly Son island (15.38° N, 109.12° E) without being real data:
GHI from pvlib's clear sky dimmed by a seeded daily cloudiness, air temperature with a daily
swing, and Weibull wind speeds at 10 m scaled to 50 m by the 1/7 power law. A year of real
data is 8,760 rows (8,784 in a leap year), too big to keep in the repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

LATITUDE, LONGITUDE = 15.38, 109.12
PARAMETERS = {
    "ALLSKY_SFC_SW_DWN": "CERES SYN1deg All Sky Surface Shortwave Downward Irradiance (Wh/m^2)",
    "T2M": "MERRA-2 Temperature at 2 Meters (C)",
    "WS10M": "MERRA-2 Wind Speed at 10 Meters (m/s)",
    "WS50M": "MERRA-2 Wind Speed at 50 Meters (m/s)",
}


def nasa_power_rows(year: int, time_standard: str = "LST", seed: int = 0) -> pd.DataFrame:
    """One calendar year of hourly rows: ``YEAR, MO, DY, HR`` in ``time_standard`` (``LST``:
    UTC+7 at this longitude, or ``UTC``) and the four parameters."""
    offset_h = round(LONGITUDE / 15.0) if time_standard == "LST" else 0
    stamps = pd.date_range(f"{year}-01-01", f"{year}-12-31 23:00", freq="h")
    utc = stamps.tz_localize(f"Etc/GMT{-offset_h:+d}" if offset_h else "UTC").tz_convert("UTC")
    rng = np.random.default_rng(seed)
    loc = pvlib.location.Location(LATITUDE, LONGITUDE, altitude=20)
    clear = loc.get_clearsky(utc + pd.Timedelta(minutes=30), model="ineichen")["ghi"]
    cloud = np.repeat(rng.uniform(0.35, 1.0, len(stamps) // 24), 24)
    hour = stamps.hour.to_numpy() + 0.5 + (7 - offset_h)  # local hour of the sun
    month = stamps.month.to_numpy()
    temp = 25.5 - 3.5 * np.cos(2 * np.pi * (month - 1) / 12) \
        + 3.0 * np.cos(2 * np.pi * (hour - 15) / 24)
    ws10 = rng.weibull(2.0, len(stamps)) * np.where((month >= 10) | (month <= 3), 7.5, 4.5)
    return pd.DataFrame({
        "YEAR": stamps.year, "MO": stamps.month, "DY": stamps.day, "HR": stamps.hour,
        "ALLSKY_SFC_SW_DWN": np.round(clear.to_numpy() * cloud, 2),
        "T2M": np.round(temp, 2), "WS10M": np.round(ws10, 2),
        "WS50M": np.round(ws10 * (50 / 10) ** (1 / 7), 2),
    })


def write_nasa_power_csv(path: Path, rows: pd.DataFrame, time_standard: str = "LST") -> Path:
    """Write ``rows`` (from :func:`nasa_power_rows`, possibly edited) under NASA POWER's
    header; the header names the parameters among the columns."""
    first, last = (rows[["YEAR", "MO", "DY"]].iloc[i].astype(int) for i in (0, -1))
    names = [c for c in rows.columns if c not in ("YEAR", "MO", "DY", "HR")]
    header = [
        "-BEGIN HEADER-",
        "NASA/POWER CERES/MERRA2 Native Resolution Hourly Data ",
        f"Dates (month/day/year): {first.MO:02d}/{first.DY:02d}/{first.YEAR} through "
        f"{last.MO:02d}/{last.DY:02d}/{last.YEAR} in {time_standard}",
        f"Location: Latitude  {LATITUDE:.4f}   Longitude {LONGITUDE:.4f} ",
        "Elevation from MERRA-2: Average for 0.5 x 0.625 degree lat/lon region = 7.32 meters",
        "The value for missing source data that cannot be computed or is outside of the "
        "sources availability range: -999 ",
        "Parameter(s): ",
        *[f"{name:<22}{PARAMETERS.get(name, name)} " for name in names],
        "-END HEADER-",
    ]
    path.write_text("\n".join(header) + "\n" + rows.to_csv(index=False, float_format="%.2f"))
    return path
