"""NASA POWER hourly CSV files (https://power.larc.nasa.gov, the Hourly API's CSV format).

The layout NASA POWER serves::

    -BEGIN HEADER-
    NASA/POWER CERES/MERRA2 Native Resolution Hourly Data
    Dates (month/day/year): 01/01/2023 through 12/31/2023 in LST
    Location: Latitude  15.38   Longitude 109.12
    Elevation from MERRA-2: Average for 0.5 x 0.625 degree lat/lon region = 7.3 meters
    The value for missing source data that cannot be computed or is outside of … range: -999
    Parameter(s):
    ALLSKY_SFC_SW_DWN     CERES SYN1deg All Sky Surface Shortwave Downward Irradiance (Wh/m^2)
    T2M                   MERRA-2 Temperature at 2 Meters (C)
    WS10M                 MERRA-2 Wind Speed at 10 Meters (m/s)
    WS50M                 MERRA-2 Wind Speed at 50 Meters (m/s)
    -END HEADER-
    YEAR,MO,DY,HR,ALLSKY_SFC_SW_DWN,T2M,WS10M,WS50M
    2023,1,1,0,0.0,22.1,6.83,8.95

Each row is the mean of the hour that starts at ``HR`` (the hourly irradiance in Wh/m² is the
hour's mean in W/m²), in Local Solar Time (the API's default: UTC plus the longitude's
15-degree band, ``round(longitude / 15)`` hours) or UTC, as the ``Dates`` line says. -999 marks
a value the source lacks. Without ``ALLSKY_SFC_SW_DNI`` and ``ALLSKY_SFC_SW_DIFF``, GHI is split
into DNI and DHI with the Erbs model (pvlib) at the mid-hour sun of the file's location.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from sizing.errors import WeatherError

FILL_VALUE = -999.0
"""NASA POWER's value for data the source lacks."""
# NASA POWER parameter → our column (DESIGN.md: each source's names mapped in one place).
COLUMN_MAP = {
    "ALLSKY_SFC_SW_DWN": "ghi", "ALLSKY_SFC_SW_DNI": "dni", "ALLSKY_SFC_SW_DIFF": "dhi",
    "T2M": "temp_air", "WS10M": "wind_speed", "WS50M": "wind_speed_50m",
}
REQUIRED = ("ALLSKY_SFC_SW_DWN", "T2M", "WS10M")
TIME_COLUMNS = ("YEAR", "MO", "DY", "HR")
_LOCATION = re.compile(r"latitude\s+(-?[\d.]+)\s+longitude\s+(-?[\d.]+)", re.IGNORECASE)


def is_nasa_power(first_line: str) -> bool:
    """Whether a file starting with ``first_line`` is a NASA POWER CSV."""
    return first_line.strip().upper().startswith("-BEGIN HEADER-")


def _header(lines: list[str], path: Path) -> tuple[int, str, float, float]:
    """(index of the ``-END HEADER-`` line, time standard ``LST``/``UTC``, latitude and
    longitude [deg]) from the header lines."""
    end = next((i for i, line in enumerate(lines) if line.strip().upper() == "-END HEADER-"),
               None)
    if end is None:
        raise WeatherError("NASA POWER file without its -END HEADER- line", file=path)
    head = lines[:end]
    standard = "UTC" if any("dates" in h.lower() and h.rstrip().upper().endswith(" UTC")
                            for h in head) else "LST"
    found = next((m for h in head if (m := _LOCATION.search(h))), None)
    if found is None:
        raise WeatherError("NASA POWER header without its 'Location: Latitude … Longitude …' "
                           "line", file=path, line=end + 1)
    return end, standard, float(found.group(1)), float(found.group(2))


def _index(data: pd.DataFrame, year: int, utc_offset_h: int, path: Path,
           first_line: int) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """The rows of one calendar year, 29 February dropped, and their hour-start times in
    ``year`` at the file's UTC offset [h]."""
    times = pd.to_datetime(pd.DataFrame({"year": data["YEAR"], "month": data["MO"],
                                         "day": data["DY"], "hour": data["HR"]}),
                           errors="coerce")
    if times.isna().any():
        row = int(np.argmax(times.isna().to_numpy()))
        raise WeatherError("not a date and hour (YEAR, MO, DY, HR)", file=path,
                           line=first_line + row)
    steps = times.diff().iloc[1:]
    if (steps != pd.Timedelta(hours=1)).any():
        row = int(np.argmax((steps != pd.Timedelta(hours=1)).to_numpy())) + 1
        raise WeatherError("rows must follow hour by hour (download hourly data)", file=path,
                           line=first_line + row)
    years = sorted(set(times.dt.year))
    if len(years) > 1:
        raise WeatherError(f"holds the years {years[0]}–{years[-1]}: offgrid reads one calendar "
                           "year (download 1 January to 31 December of one year)", file=path)
    keep = ~((times.dt.month == 2) & (times.dt.day == 29)).to_numpy()
    local = pd.DatetimeIndex([t.replace(year=year) for t in times[keep]])
    return data[keep], local.tz_localize(timezone(timedelta(hours=utc_offset_h)))


def parse_nasa_power(path: Path, year: int) -> tuple[pd.DataFrame, int | None]:
    """Read a NASA POWER hourly CSV file into ``ghi, dni, dhi, temp_air, wind_speed`` and,
    when the file has WS50M, ``wind_speed_50m`` (hour-start labels, tz-aware, moved into
    ``year``, 29 February dropped), with the file's time columns kept so that the columns'
    positions are the file's; and the line of the first data row (None for a leap year,
    whose rows after 28 February no longer sit at that line plus their row).

    Raises :class:`WeatherError` naming the line and column of a -999 fill value, a missing
    parameter or a row out of order; the caller checks the values' ranges and the row count.
    """
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    end, standard, latitude, longitude = _header(lines, path)
    first_line = end + 3  # 1-based: -END HEADER-, then the column names, then the rows
    data = pd.read_csv(path, skiprows=end + 1, skipinitialspace=True)
    data.columns = [str(c).strip().upper() for c in data.columns]
    if "HR" not in data.columns:
        raise WeatherError("a NASA POWER file of daily or monthly data: download hourly data",
                           file=path, line=end + 2)
    missing = [c for c in (*TIME_COLUMNS, *REQUIRED) if c not in data.columns]
    if missing:
        raise WeatherError(f"NASA POWER file without {', '.join(missing)}: download "
                           f"{', '.join(REQUIRED)} (WS50M optional)", file=path, line=end + 2)
    used = [c for c in COLUMN_MAP if c in data.columns]
    values = data[used].apply(pd.to_numeric, errors="coerce")
    fill = np.isclose(values.to_numpy(dtype=float), FILL_VALUE)
    if fill.any():
        row, col = np.argwhere(fill)[0]
        raise WeatherError(f"{used[col]} is -999, NASA POWER's mark for data the source lacks: "
                           "download another year or period, or fill the gap",
                           file=path, line=first_line + int(row),
                           column=int(data.columns.get_loc(used[col])) + 1)
    offset_h = round(longitude / 15.0) if standard == "LST" else 0
    rows = len(data)
    data, index = _index(data, year, offset_h, path, first_line)
    frame = data.rename(columns=COLUMN_MAP)
    frame.index = index
    if "dni" not in frame.columns or "dhi" not in frame.columns:
        ghi = pd.to_numeric(frame["ghi"], errors="coerce").clip(lower=0.0)
        mid = index + pd.Timedelta(minutes=30)
        zenith = pvlib.solarposition.get_solarposition(mid, latitude, longitude)["zenith"]
        split = pvlib.irradiance.erbs(ghi.to_numpy(), zenith.to_numpy(), mid)
        frame["dni"] = np.nan_to_num(np.asarray(split["dni"], dtype=float))
        frame["dhi"] = np.nan_to_num(np.asarray(split["dhi"], dtype=float))
    return frame, first_line if len(frame) == rows else None
