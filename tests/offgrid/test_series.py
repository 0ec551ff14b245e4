"""``offgrid size simulate --series``: the step series the figures come from (issue 13).

SAIDI and SAIFI recomputed by hand from the CSV (demand above served, or a planned cut,
weighted by each load's ``customers``, flexible loads left out) equal the JSON figures, year by
year.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from offgrid.cli import app
from sitefile import load_site
from tests.conftest import HOME

runner = CliRunner()


def site_with_customers(tmp_path: Path) -> Path:
    """The household example with a second, three-household load and a flexible air
    conditioner, a planned cut and a small battery, so that every kind of shortfall occurs."""
    text = HOME.read_text(encoding="utf-8")
    text = text.replace("kwh = 6.0", "kwh = 3.0", 1)
    extra = '''
[[loads]]
name = "neighbours"
kind = "appliance"
preset = "vn_rural_home"
customers = 3
seed = 7

[[loads]]
name = "aircon"
kind = "appliance"
flexible = true

[[loads.appliances]]
name = "ac"
power_w = 700
minutes_per_day = 240
windows = [{ start_h = 12, end_h = 18 }]

[[maintenance]]
name = "inverter service"
month = 3
day = 10
start_h = 9
hours = 3

[reliability]
years = 3
inverter_failures_per_year = 1.0
'''
    start = text.index("[search]")
    path = tmp_path / "home.toml"
    path.write_text(text[:start] + extra + "\n" + text[start:], encoding="utf-8")
    return path


def hand_indices(frame: pd.DataFrame, customers: dict[str, int], dt_h: float
                 ) -> tuple[float, float, float]:
    """SAIDI [min], SAIFI and planned SAIDI [min] of one year's series, counted by hand (an
    interruption is planned when it begins in a planned cut)."""
    total = sum(customers.values())
    minutes = count = planned = 0.0
    cut = frame["planned_cut"] == 1
    for name, n in customers.items():
        short = ((frame[f"{name}_demand_kw"] - frame[f"{name}_served_kw"]) * dt_h > 1e-9) | (
            frame["planned_cut"] == 1)
        runs = (short != short.shift(fill_value=False)).cumsum()[short]
        for _, run in runs.groupby(runs):
            minutes += n * len(run) * dt_h * 60
            count += n
            if cut[run.index[0]]:
                planned += n * len(run) * dt_h * 60
    return minutes / total, count / total, planned / total


def test_saidi_saifi_by_hand_from_the_series_equal_the_json(tmp_path: Path) -> None:
    site_file = site_with_customers(tmp_path)
    out = tmp_path / "series.csv"
    res = runner.invoke(app, ["size", "simulate", str(site_file), "--json", "--series", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    site = load_site(site_file)
    customers = {ld.name: ld.customers for ld in site.loads if not ld.flexible}
    assert data["customers_served"] == sum(customers.values()) == 4
    series = pd.read_csv(out)
    assert list(series.columns[:8]) == ["year", "time", "pv_kw", "wind_kw", "generator_kw",
                                        "battery_kw", "soc_pct", "planned_cut"]
    assert series["planned_cut"].sum() == 3 * 3  # 3 hours a year
    assert sorted(series["year"].unique()) == [1, 2, 3]
    for k, year in enumerate(data["per_year"]):
        frame = series[series["year"] == k + 1]
        saidi, saifi, planned = hand_indices(frame, customers, 1.0)
        assert year["saidi_minutes"] == pytest.approx(saidi, rel=1e-9, abs=1e-6)
        assert year["saifi_count"] == pytest.approx(saifi, rel=1e-9, abs=1e-9)
        assert year["saidi_planned_minutes"] == pytest.approx(planned, rel=1e-9, abs=1e-6)
        # the 3-hour cut interrupts at least the loads not already out when it began
        assert 0 < year["saidi_planned_minutes"] <= 180.0 + 1e-9
    # the shortfalls do occur (the test means something), and the air conditioner's
    # shortfall is curtailment, not an interruption
    assert max(y["saidi_minutes"] for y in data["per_year"]) > 180.0
    assert sum(y["load_curtailed_hours"] for y in data["per_year"]) > 0


def test_series_to_an_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "series.csv"
    res = runner.invoke(app, ["size", "simulate", str(HOME), "--years", "1",
                              "--series", str(target)])
    assert res.exit_code == 2
    assert "--series" in res.stderr and "Traceback" not in res.output


def test_site_file_parses_after_the_edit(tmp_path: Path) -> None:
    data = tomllib.loads(site_with_customers(tmp_path).read_text(encoding="utf-8"))
    assert data["reliability"]["years"] == 3
