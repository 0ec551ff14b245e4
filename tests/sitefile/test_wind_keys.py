"""The wind keys of the site file: ``[[wind]]`` with a library turbine or its own power curve,
``[site] roughness_length_m``, ``[weather]`` wind keys and the wind costs; each bad value
refused with its key, its value and the reason."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from sitefile import Economics, Site, SiteFileError, parse_site, run_checks, turbine_types

ISLAND = Path(__file__).parents[2] / "examples" / "island-ly-son.toml"
CURVE = {"speed_m_s": [2, 3, 4, 8, 12, 20], "power_kw": [0, 0.1, 0.4, 3.6, 8.9, 12.6]}
GHI = [3.4, 4.3, 5.3, 6.0, 6.0, 5.8, 5.8, 5.5, 4.8, 3.9, 3.2, 2.8]
TEMP = [21.5, 22.5, 24.5, 27.0, 28.5, 29.0, 29.0, 28.8, 27.5, 26.0, 24.5, 22.0]
WIND = [7.0, 6.0, 5.0, 4.0, 3.6, 4.0, 4.2, 4.0, 3.8, 5.5, 7.2, 7.6]


def good() -> dict[str, Any]:
    return {"site": {"name": "Ly Son", "latitude": 15.38, "longitude": 109.12,
                     "roughness_length_m": 0.03},
            "weather": {"monthly_ghi_kwh_m2_day": GHI, "monthly_temp_c": TEMP,
                        "monthly_wind_m_s": WIND},
            "wind": [{"name": "turbines", "power_curve": CURVE, "count": 2,
                      "hub_height_m": 24}]}


def refused(data: dict[str, Any]) -> list[str]:
    """The lines of the error that refuses ``data``."""
    with pytest.raises(SiteFileError) as e:
        parse_site(data, file="island.toml")
    return str(e.value).splitlines()


def test_a_good_wind_site_and_its_defaults() -> None:
    site = parse_site(good())
    wind = site.wind[0]
    assert (wind.count, wind.coupling, wind.availability_pct) == (2, "ac", 97)
    assert site.weather is not None
    assert (site.weather.wind_height_m, site.weather.wind_weibull_k) == (10, 2.0)
    assert site.site.roughness_length_m == 0.03
    assert list(Site.model_fields).index("wind") == list(Site.model_fields).index("pv") + 1


def test_roughness_default_and_bounds() -> None:
    data = good()
    del data["site"]["roughness_length_m"]
    assert parse_site(data).site.roughness_length_m == 0.1
    for bad in (0, 2.5):
        data["site"]["roughness_length_m"] = bad
        assert any(line.startswith("island.toml: site.roughness_length_m:")
                   for line in refused(data))


def test_wind_costs_have_defaults() -> None:
    e = Economics()
    assert (e.wind_vnd_per_kw, e.wind_life_years, e.wind_om_pct_per_year) == (
        60_000_000, 20, 2.0)


def test_wind_without_a_wind_source_is_refused_at_its_key() -> None:
    data = good()
    del data["weather"]["monthly_wind_m_s"]
    assert refused(data) == [
        "island.toml: wind[0]: a turbine needs wind: give weather.monthly_wind_m_s (12 monthly "
        "means at weather.wind_height_m) or a weather file with wind speed (got 'turbines')"]


def test_wind_without_weather_is_refused() -> None:
    data = good()
    del data["weather"]
    assert refused(data) == ["island.toml: wind[0]: a turbine needs [weather] with wind: a "
                             "weather file or monthly_wind_m_s (got 'turbines')"]


def test_a_weather_file_is_a_wind_source(tmp_path: Path) -> None:
    data = good()
    path = tmp_path / "tmy.epw"
    path.write_text("LOCATION\n")
    data["weather"] = {"file": str(path)}
    assert run_checks(parse_site(data)) == []


def test_monthly_wind_goes_with_monthly_weather_only(tmp_path: Path) -> None:
    data = good()
    path = tmp_path / "tmy.epw"
    path.write_text("LOCATION\n")
    data["weather"] = {"file": str(path), "monthly_wind_m_s": WIND}
    assert any("monthly_wind_m_s goes with monthly_ghi_kwh_m2_day" in line
               for line in refused(data))


@pytest.mark.parametrize(("key", "value", "words"), [
    ("monthly_wind_m_s", WIND[:11], "at least 12"),
    ("monthly_wind_m_s", [*WIND[:11], 31], "less than or equal to 30"),
    ("wind_weibull_k", 0.5, "greater than or equal to 1"),
    ("wind_height_m", 0, "greater than 0"),
    ("format", "merra", "'nasa_power'"),
])
def test_bad_weather_wind_keys(key: str, value: Any, words: str) -> None:
    data = good()
    data["weather"][key] = value
    lines = refused(data)
    assert any(line.startswith(f"island.toml: weather.{key}") and words in line
               for line in lines), lines


def test_unknown_turbine_lists_close_names() -> None:
    data = good()
    data["wind"][0] = {"name": "t", "turbine": "E53/800", "hub_height_m": 73}
    (line,) = refused(data)
    assert line.startswith("island.toml: wind[0].turbine: not in windpowerlib's turbine library")
    assert "E-53/800" in line and line.endswith("(got 'E53/800')")


def test_library_turbines_have_power_curves() -> None:
    names = turbine_types()
    assert "E-53/800" in names and len(names) > 50
    data = good()
    data["wind"][0] = {"name": "t", "turbine": "E-53/800", "hub_height_m": 73}
    assert parse_site(data).wind[0].turbine == "E-53/800"


@pytest.mark.parametrize(("wind", "path", "words"), [
    ({"turbine": "E-53/800", "power_curve": CURVE}, "wind[0]", "not both"),
    ({}, "wind[0]", "give turbine (a windpowerlib library type) or power_curve"),
    ({"power_curve": {"speed_m_s": [1, 2, 3, 4], "power_kw": [0, 1, 2]}}, "wind[0].power_curve",
     "speed_m_s has 4 values and power_kw 3"),
    ({"power_curve": {"speed_m_s": [1, 3, 3], "power_kw": [0, 1, 2]}}, "wind[0].power_curve",
     "strictly increasing"),
    ({"power_curve": {"speed_m_s": [1, 2, 3], "power_kw": [0, 0, 0]}}, "wind[0].power_curve",
     "0 at every speed"),
    ({"power_curve": {"speed_m_s": [1, 2], "power_kw": [0, 1]}}, "wind[0].power_curve.speed_m_s",
     "at least 3"),
    ({"power_curve": {"speed_m_s": [1, 2, 3], "power_kw": [0, -1, 2]}},
     "wind[0].power_curve.power_kw[1]", "greater than or equal to 0"),
    ({"power_curve": CURVE, "count": 201}, "wind[0].count", "less than or equal to 200"),
    ({"power_curve": CURVE, "hub_height_m": 250}, "wind[0].hub_height_m",
     "less than or equal to 200"),
    ({"power_curve": CURVE, "coupling": "three-phase"}, "wind[0].coupling", "'ac' or 'dc'"),
    ({"power_curve": CURVE, "availability_pct": 101}, "wind[0].availability_pct",
     "less than or equal to 100"),
    ({"power_curve": CURVE, "rotor_m": 7}, "wind[0].rotor_m", "unknown key"),
])
def test_bad_wind_entries_name_key_and_reason(wind: dict[str, Any], path: str,
                                              words: str) -> None:
    data = good()
    data["wind"][0] = {"name": "t", "hub_height_m": 24, **wind}
    lines = refused(data)
    assert any(line.startswith(f"island.toml: {path}:") and words in line
               for line in lines), lines


def test_hub_below_the_roughness_length_is_refused() -> None:
    data = good()
    data["site"]["roughness_length_m"] = 1.5
    data["wind"][0]["hub_height_m"] = 1.2
    assert refused(data) == [
        "island.toml: wind[0].hub_height_m: must be above site.roughness_length_m (1.5 m) for "
        "the log-law wind profile (got 1.2)"]


def test_the_island_examples_wind_sections_parse() -> None:
    raw = tomllib.loads(ISLAND.read_text())
    data = {key: copy.deepcopy(raw[key]) for key in ("site", "weather", "wind")}
    site = parse_site(data)
    assert [w.name for w in site.wind] == ["turbines"] and site.wind[0].count == 1
    assert site.weather is not None and site.weather.monthly_wind_m_s is not None
