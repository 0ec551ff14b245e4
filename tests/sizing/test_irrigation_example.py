"""The Phan Rang vineyard example (issue 16): ``offgrid size optimize`` works without a
battery, chooses a tank, prefers the tank to a battery where water stores the sun's energy
more cheaply, and the report speaks in m³ and VND/m³.

Independent figures: water's density at 25 °C (IAPWS-95: 997.05 kg/m³) and standard gravity
(``scipy.constants.g``); the field's yearly need is the example's monthly m³/day times the
days of each month; the energy a cubic metre stores is what lifting it costs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from scipy.constants import g as G_M_S2
from typer.testing import CliRunner

from offgrid.cli import app
from sitefile import Site, load_site
from sitefile.presets import CHEMISTRY_PRESETS, PUMP_CATALOGUE

IRRIGATION = Path(__file__).resolve().parents[2] / "examples" / "irrigation-ninh-thuan.toml"
RHO_WATER_KG_M3 = 997.05
"""IAPWS-95 density of liquid water at 25 °C and 1 atm [kg m-3]."""
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

runner = CliRunner()


def _optimize(site_file: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["size", "optimize", str(site_file), "--json"])
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _lift_kwh_per_m3(head_m: float) -> float:
    """Hydraulic energy of lifting 1 m³ by ``head_m`` [kWh]: ρ·g·H / 3.6e6."""
    return float(RHO_WATER_KG_M3 * G_M_S2 * head_m / 3.6e6)


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(IRRIGATION)


@pytest.fixture(scope="module")
def optimized() -> dict[str, Any]:
    return _optimize(IRRIGATION)


@pytest.fixture(scope="module")
def simulated() -> dict[str, Any]:
    """``size simulate --json`` of the example's own design (the monthly table is the
    one-design run's: the optimiser's search keeps no series)."""
    result = runner.invoke(app, ["size", "simulate", str(IRRIGATION), "--json"])
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_optimize_without_a_battery_chooses_a_tank(site: Site, optimized: dict[str, Any]
                                                   ) -> None:
    assert site.battery is None
    best = optimized["best"]
    assert best is not None, optimized["warnings"]
    design = best["design"]
    assert design["kwh"] == 0
    assert design["tank_m3"] > 0
    assert site.search is not None and site.search.pumps is not None
    assert design["pump"] in site.search.pumps
    water = best["water"]
    assert water["tank_m3"] == design["tank_m3"] and water["pump"] == design["pump"]
    assert water["unmet_fraction"] <= site.search.max_unmet_water_fraction + 1e-9


def test_the_example_holds_the_winner(site: Site, optimized: dict[str, Any]) -> None:
    """The example's PV, tank and pump are the optimiser's choice on it, as its header says."""
    design = optimized["best"]["design"]
    assert site.pv is not None and site.tank is not None
    assert (site.pv.kwp, site.tank.m3, site.water_pumps[0].pump.id) == (
        design["kwp"], design["tank_m3"], design["pump"])


@pytest.mark.parametrize("run", ["optimized", "simulated"])
def test_water_figures_follow_the_site_and_physics(site: Site, run: str,
                                                   request: pytest.FixtureRequest) -> None:
    load = site.water_pumps[0]
    data = request.getfixturevalue(run)
    water = data["best"]["water"] if run == "optimized" else data["water"]
    demand_m3 = sum(q * d for q, d in zip(load.flow_m3_per_day, DAYS_IN_MONTH, strict=True))
    assert water["demand_m3"] == pytest.approx(demand_m3, rel=0.01)
    assert water["delivered_m3"] + water["unmet_m3"] == pytest.approx(water["demand_m3"],
                                                                      rel=1e-6)
    assert water["unmet_fraction"] == pytest.approx(water["unmet_m3"] / water["demand_m3"],
                                                    abs=1e-9)
    monthly = water["monthly"]
    if run == "simulated":
        assert [m["month"] for m in monthly] == list(range(1, 13))
        for m, q, d in zip(monthly, load.flow_m3_per_day, DAYS_IN_MONTH, strict=True):
            assert m["demand_m3"] == pytest.approx(q * d, rel=0.01)
            assert m["delivered_m3"] + m["unmet_m3"] == pytest.approx(m["demand_m3"],
                                                                      rel=1e-6)
    # The water balance over the year: what was pumped went to the field or is still in the
    # tank (never more than the tank holds).
    tank_m3 = water["tank_m3"]
    assert abs(water["pumped_m3"] - water["delivered_m3"]) <= tank_m3 + 1e-6
    # Lifting: at least ρ·g·H per m³ (the static head; friction adds to it), and the
    # wire-to-water efficiency is at most the best point of the pump times its motor.
    assert water["hydraulic_kwh"] >= water["pumped_m3"] * _lift_kwh_per_m3(load.head_m) - 1e-6
    assert water["pump_kwh"] > water["hydraulic_kwh"]
    pump = PUMP_CATALOGUE[water["pump"]]
    best_pct = max(pump["efficiency_pct"]) * pump["motor_efficiency_pct"] / 100
    assert 0 < water["wire_to_water_pct"] <= best_pct + 1e-6
    assert water["wire_to_water_pct"] == pytest.approx(
        100 * water["hydraulic_kwh"] / water["pump_kwh"], rel=0.01)
    # Autonomy: the full tank over the peak month's daily need.
    assert site.tank is not None
    assert water["autonomy_days"] == pytest.approx(
        tank_m3 * site.tank.max_level_pct / 100 / max(load.flow_m3_per_day), rel=0.01)
    assert water["vnd_per_m3"] > 0
    assert water["pump_hours"] > 0


def _with_battery_option(site: Site, tmp_path: Path) -> Path:
    """The example with an LFP ``[battery]`` of 0 kWh and a search range for its size, so
    that the optimiser can put the energy for the morning in a battery instead of the tank."""
    doc = tomlkit.parse(IRRIGATION.read_text(encoding="utf-8"))
    battery = tomlkit.table()
    battery.update({"chemistry": "lfp", "kwh": 0.0})
    doc["battery"] = battery
    doc["search"]["kwh"] = {"min": 0.0, "max": 20.0, "step": 2.5}
    doc["search"]["tank_m3"] = {"min": 5.0, "max": 120.0, "step": 5.0}
    out = tmp_path / "with-battery.toml"
    out.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return out


def test_prefers_a_tank_where_water_stores_energy_more_cheaply(
        site: Site, optimized: dict[str, Any], tmp_path: Path) -> None:
    econ, tank = site.economics, site.tank
    assert tank is not None
    water = optimized["best"]["water"]
    # The electricity that one stored cubic metre stands for [kWh/m³]: ρ·g·H / 3.6e6 / η with
    # the chosen design's wire-to-water η (measured the other way round: the pump's kWh per m³
    # pumped; both must agree).
    eta = water["wire_to_water_pct"] / 100
    kwh_per_m3 = water["pump_kwh"] / water["pumped_m3"]
    assert kwh_per_m3 >= _lift_kwh_per_m3(site.water_pumps[0].head_m) / eta - 1e-9
    # Capital per usable kWh: the tank delivers from its high level down to empty; the
    # battery between its SOC limits (its life is also shorter and it loses ~10 % a cycle,
    # which only widen the gap in the tank's favour).
    lfp = CHEMISTRY_PRESETS["lfp"]
    battery_usable = (lfp["max_soc_pct"] - lfp["min_soc_pct"]) / 100
    battery_vnd_per_kwh = econ.battery_vnd_per_kwh / battery_usable
    tank_vnd_per_kwh = econ.tank_vnd_per_m3 / (tank.max_level_pct / 100) / kwh_per_m3
    assert battery_vnd_per_kwh > tank_vnd_per_kwh, (
        f"the example's prices no longer make water the cheaper store: battery "
        f"{battery_vnd_per_kwh:,.0f} VND/kWh, tank {tank_vnd_per_kwh:,.0f} VND/kWh-equivalent")
    assert econ.tank_life_years >= lfp["calendar_life_years"]
    data = _optimize(_with_battery_option(site, tmp_path))
    best = data["best"]
    assert best is not None, data["warnings"]
    assert best["design"]["kwh"] == 0
    assert best["design"]["tank_m3"] > 0
    assert not math.isnan(best["water"]["vnd_per_m3"])


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ("m³", "VND/m³", "m³/day")),
    ("vi", ("m³", "đồng/m³", "m³/ngày")),
])
def test_report_speaks_in_cubic_metres_and_their_cost(lang: str, words: tuple[str, ...],
                                                      tmp_path: Path) -> None:
    out = tmp_path / f"report-{lang}.html"
    result = runner.invoke(app, ["size", "report", str(IRRIGATION), "-o", str(out),
                                 "--lang", lang])
    assert result.exit_code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    for word in words:
        assert word in html, f"{word!r} missing from the {lang} report"
    # A solar pump on a variable-speed drive is no aerator, and has no direct-on-line surge.
    assert "below 0.0 kW" not in html and "dưới 0,0 kW" not in html
    assert ("aerator" not in html.lower()) if lang == "en" else ("sục khí" not in html.lower())
