"""The village keys of ``[[loads]]``: ``count`` (households), ``schedule``,
``load_growth_pct_per_year`` and the 24-hour profile's variability; a bad value names its key."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from offgrid.cli import app
from sitefile import SiteFileError, load_site, parse_site

ISLAND = Path(__file__).parents[2] / "examples" / "island-ly-son.toml"
runner = CliRunner()


def site(*loads: dict[str, Any], base_dir: Path | None = None) -> Any:
    return parse_site({"site": {"name": "v", "latitude": 15.4, "longitude": 109.1},
                       "loads": list(loads)}, base_dir)


HOMES = {"name": "homes", "kind": "appliance", "preset": "vn_rural_home"}


def problems(*loads: dict[str, Any]) -> str:
    with pytest.raises(SiteFileError) as err:
        site(*loads)
    return str(err.value)


def test_households_and_their_customers() -> None:
    s = site({**HOMES, "count": 20, "load_growth_pct_per_year": 3})
    assert s.loads[0].count == 20
    assert s.loads[0].customers == 20
    assert s.customers_served == 20
    assert s.loads[0].load_growth_pct_per_year == 3
    assert site({**HOMES, "count": 20, "customers": 0}).customers_served == 0
    assert site(HOMES).loads[0].customers == 1


@pytest.mark.parametrize(("key", "value"), [("count", 0), ("count", 501), ("count", 2.5),
                                            ("load_growth_pct_per_year", 25),
                                            ("load_growth_pct_per_year", -11)])
def test_bad_village_values_name_the_key(key: str, value: object) -> None:
    text = problems({**HOMES, key: value})
    assert f"loads[0].{key}" in text and str(value) in text


def test_bad_weekday_names_the_key() -> None:
    text = problems({**HOMES, "schedule": {"weekdays": ["mon", "sunday"]}})
    assert "loads[0].schedule.weekdays[1]" in text
    assert "sunday" in text and "'sun'" in text


@pytest.mark.parametrize(("period", "key", "reason"), [
    ({"from": "06-31", "to": "08-31"}, "from", "no day 31"),
    ({"from": "13-01", "to": "08-31"}, "from", "month 13"),
    ({"from": "06-01", "to": "8-31"}, "to", "pattern"),
])
def test_bad_closed_period_names_the_key(period: dict[str, str], key: str,
                                         reason: str) -> None:
    text = problems({**HOMES, "schedule": {"closed": [period]}})
    assert f"loads[0].schedule.closed[0].{key}" in text and reason in text


def test_bad_month_and_unknown_schedule_key() -> None:
    assert "loads[0].schedule.months[0]" in problems({**HOMES, "schedule": {"months": [0]}})
    assert "loads[0].schedule.days" in problems({**HOMES, "schedule": {"days": ["mon"]}})


def test_schedule_with_no_open_day_is_refused() -> None:
    text = problems({**HOMES, "schedule": {"months": [7], "closed": [
        {"from": "06-15", "to": "08-15"}]}})
    assert "loads[0].schedule" in text and "no day open" in text


def test_schedule_survives_a_round_trip() -> None:
    sched = {"weekdays": ["mon"], "closed": [{"from": "12-20", "to": "01-05"}]}
    s = site({**HOMES, "schedule": sched})
    again = s.with_control(shed_soc_pct=35)  # dumps and validates the whole site again
    assert again.loads[0].schedule == s.loads[0].schedule
    assert s.model_dump(mode="json")["loads"][0]["schedule"]["closed"] == sched["closed"]


def test_profile_variability_keys(tmp_path: Path) -> None:
    (tmp_path / "day.csv").write_text("\n".join(["1"] * 24))
    s = site({"name": "ice", "kind": "profile", "profile": "day.csv", "day_to_day_pct": 10,
              "timestep_pct": 5, "seed": 3}, base_dir=tmp_path)
    assert (s.loads[0].day_to_day_pct, s.loads[0].timestep_pct, s.loads[0].seed) == (10, 5, 3)
    with pytest.raises(SiteFileError, match=r"loads\[0\]\.timestep_pct"):
        site({"name": "ice", "kind": "profile", "profile": "day.csv", "timestep_pct": -1},
             base_dir=tmp_path)


def _island(tmp_path: Path) -> Path:
    """The draft island site without its generator controllers (no devices in the draft)."""
    text = "\n".join(line for line in ISLAND.read_text().splitlines()
                     if not line.startswith("device = "))
    path = tmp_path / "island.toml"
    path.write_text(text)
    shutil.copy(ISLAND.with_name("island-ly-son-ice-maker.csv"), tmp_path)
    return path


def test_island_village_loads(tmp_path: Path) -> None:
    s = load_site(_island(tmp_path))
    homes, school, ice = s.loads
    assert (homes.count, homes.customers, homes.load_growth_pct_per_year) == (20, 20, 3)
    assert school.schedule is not None and "sun" not in school.schedule.weekdays
    assert ice.day_to_day_pct == 10


def test_check_refuses_a_profile_of_other_length(tmp_path: Path) -> None:
    path = _island(tmp_path)
    (tmp_path / "island-ly-son-ice-maker.csv").write_text("kw\n" + "5\n" * 25)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    err = result.stderr
    assert "loads[2].profile" in err and "island-ly-son-ice-maker.csv" in err
    assert "25 rows" in err and "24 (one typical day" in err and "8760" in err
    assert "Traceback" not in err + result.stdout


def test_check_shows_the_village_diversity(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(_island(tmp_path))], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "20 households" in out and "after-diversity peak" in out
    assert "closed 06-01–08-31" in out and "+3 %/year" in out
