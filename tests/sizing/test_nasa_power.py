"""NASA POWER hourly CSV files: values land in the right columns and hours (LST and UTC, leap
years), GHI is split into DNI and DHI consistently, and a bad file is refused with an error
that says where and why; a file that no reader understands names the formats that work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from sitefile import parse_site
from sizing.errors import WeatherError
from sizing.inputs import input_errors
from sizing.weather import COLUMNS, load_weather, read_weather_file
from tests.data.nasa_power import LATITUDE, LONGITUDE, nasa_power_rows, write_nasa_power_csv

TZ = "Asia/Ho_Chi_Minh"


def _row(rows: pd.DataFrame, month: int, day: int, hour: int) -> pd.Series:
    return rows.set_index(["MO", "DY", "HR"]).loc[(month, day, hour)]


def test_lst_file_values_land_in_their_columns_and_hours(tmp_path: Path) -> None:
    rows = nasa_power_rows(2023)
    frame = read_weather_file(write_nasa_power_csv(tmp_path / "power.csv", rows), "auto", TZ)
    assert list(frame.columns) == [*COLUMNS, "wind_speed_50m"] and len(frame) == 8760
    assert str(frame.index.tz) == TZ
    # LST at 109.12° E is UTC+7, the site's own clock: 5 March, 12 h is 5 March, 12 h
    at = frame.loc[pd.Timestamp("2025-03-05 12:00", tz=TZ)]
    src = _row(rows, 3, 5, 12)
    assert at["ghi"] == pytest.approx(src.ALLSKY_SFC_SW_DWN)
    assert at["temp_air"] == pytest.approx(src.T2M)
    assert at["wind_speed"] == pytest.approx(src.WS10M)
    assert at["wind_speed_50m"] == pytest.approx(src.WS50M)
    assert frame["wind_speed"].mean() == pytest.approx(rows.WS10M.mean())


def test_utc_file_is_moved_to_site_time(tmp_path: Path) -> None:
    rows = nasa_power_rows(2023, "UTC")
    path = write_nasa_power_csv(tmp_path / "power.csv", rows, "UTC")
    frame = read_weather_file(path, "nasa_power", TZ)
    at = frame.loc[pd.Timestamp("2025-03-05 12:00", tz=TZ)]
    src = _row(rows, 3, 5, 5)  # 05 UTC is 12 h in Viet Nam
    assert at["ghi"] == pytest.approx(src.ALLSKY_SFC_SW_DWN)
    assert at["wind_speed"] == pytest.approx(src.WS10M)
    noon = frame.index.hour == 12
    assert frame.loc[noon, "ghi"].mean() > 400  # the sun at noon, not at 19 h


def test_leap_year_drops_29_february(tmp_path: Path) -> None:
    rows = nasa_power_rows(2024)
    assert len(rows) == 8784
    frame = read_weather_file(write_nasa_power_csv(tmp_path / "power.csv", rows), "auto", TZ)
    assert len(frame) == 8760
    at = frame.loc[pd.Timestamp("2025-03-01 09:00", tz=TZ)]
    assert at["wind_speed"] == pytest.approx(_row(rows, 3, 1, 9).WS10M)


def test_ghi_is_split_into_dni_and_dhi_that_add_back_up(tmp_path: Path) -> None:
    """Closure of the Erbs split: GHI = DHI + DNI · cos(zenith) at the mid-hour sun."""
    frame = read_weather_file(write_nasa_power_csv(tmp_path / "p.csv", nasa_power_rows(2023)),
                              "auto", TZ)
    mid = frame.index + pd.Timedelta(minutes=30)
    zenith = pvlib.solarposition.get_solarposition(mid, LATITUDE, LONGITUDE)["zenith"]
    day = (zenith < 80).to_numpy()
    back = frame["dhi"] + frame["dni"] * np.cos(np.radians(zenith.to_numpy()))
    assert np.allclose(back[day], frame["ghi"][day], rtol=0.01, atol=1.0)
    assert (frame["dhi"][day] > 0).all() and (frame["dhi"] <= frame["ghi"] + 1e-9).all()


def test_fill_value_names_line_column_and_why(tmp_path: Path) -> None:
    rows = nasa_power_rows(2023)
    k = int(np.flatnonzero((rows.MO == 2) & (rows.DY == 10) & (rows.HR == 7))[0])
    rows.loc[k, "WS10M"] = -999.0
    path = write_nasa_power_csv(tmp_path / "gaps.csv", rows)
    with pytest.raises(WeatherError) as e:
        read_weather_file(path, "auto", TZ)
    header_lines = 13  # -BEGIN … 4 parameters … -END HEADER-, then the column names
    assert e.value.line == header_lines + 1 + k
    assert e.value.column == 7  # YEAR,MO,DY,HR,ALLSKY_SFC_SW_DWN,T2M,WS10M
    assert "WS10M is -999" in str(e.value) and "lacks" in str(e.value)
    assert path.read_text().splitlines()[e.value.line - 1].split(",")[6] == "-999.00"


def test_a_daily_file_asks_for_hourly_data(tmp_path: Path) -> None:
    rows = nasa_power_rows(2023).drop(columns="HR").iloc[:365]
    with pytest.raises(WeatherError, match="download hourly data"):
        read_weather_file(write_nasa_power_csv(tmp_path / "daily.csv", rows), "auto", TZ)


def test_a_file_without_wind_names_what_to_download(tmp_path: Path) -> None:
    rows = nasa_power_rows(2023).drop(columns=["WS10M", "WS50M"])
    with pytest.raises(WeatherError, match="without WS10M"):
        read_weather_file(write_nasa_power_csv(tmp_path / "p.csv", rows), "auto", TZ)


def test_two_years_are_refused(tmp_path: Path) -> None:
    rows = pd.concat([nasa_power_rows(2022), nasa_power_rows(2023)], ignore_index=True)
    with pytest.raises(WeatherError, match="one calendar year"):
        read_weather_file(write_nasa_power_csv(tmp_path / "p.csv", rows), "auto", TZ)


def _site(weather_file: Path) -> dict[str, object]:
    return {"site": {"name": "Ly Son", "latitude": LATITUDE, "longitude": LONGITUDE,
                     "altitude_m": 20, "timezone": TZ},
            "weather": {"file": str(weather_file)},
            "pv": {"kwp": 5}, "inverter": {"kw": 5}}


def test_site_with_a_nasa_power_file_loads_and_checks(tmp_path: Path) -> None:
    path = write_nasa_power_csv(tmp_path / "power.csv", nasa_power_rows(2023))
    site = parse_site(_site(path))
    assert input_errors(site) == []
    frame = load_weather(site)[0]
    assert len(frame) == 8760 and frame["ghi"].sum() > 0


FORMATS = ["EPW", "TMY3", "PVGIS TMY", "NASA POWER hourly CSV"]


@pytest.mark.parametrize(("content", "said"), [
    ("a;b;c\n1;2\nxx\n", FORMATS),
    ("YEAR,MO,DY,HR\n2023,1,1,0\n", FORMATS),
    ("-BEGIN HEADER-\nnot really\n", ["NASA POWER file without its -END HEADER- line"]),
], ids=["garbage", "no-header", "cut-header"])
def test_an_unreadable_file_says_why_and_names_the_formats_that_work(
        tmp_path: Path, content: str, said: list[str]) -> None:
    path = tmp_path / "weather.csv"
    path.write_text(content)
    errors = input_errors(parse_site(_site(path)))  # what `offgrid check` runs
    assert len(errors) == 1 and errors[0].key == "weather.file"
    for words in said:
        assert words in str(errors[0])
