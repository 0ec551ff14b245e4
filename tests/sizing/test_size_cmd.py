"""`offgrid size simulate`: table, pure JSON, several years, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offgrid.cli import app
from tests.conftest import HOME, SHRIMP

runner = CliRunner()


@pytest.mark.parametrize("example", [SHRIMP, HOME], ids=["shrimp", "home"])
def test_json_is_pure_and_complete(example: Path) -> None:
    result = runner.invoke(app, ["size", "simulate", str(example), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("pv_ac_kwh", "load_kwh", "served_kwh", "unmet_kwh", "unmet_load_fraction",
                "critical_unmet_fraction", "loss_of_load_hours", "curtailed_kwh",
                "battery_throughput_kwh", "battery_equivalent_cycles", "generator_hours",
                "generator_fuel_l", "renewable_fraction", "saidi_minutes", "saifi_count",
                "p90", "unmet_by_load_kwh", "losses_pct", "battery_life_years", "maifi_count",
                "saidi_planned_minutes", "load_curtailed_kwh", "customers_served"):
        assert key in data
    assert 0.0 <= data["unmet_load_fraction"] <= 1.0


def test_table_with_several_years_shows_p50_and_p90() -> None:
    result = runner.invoke(app, ["size", "simulate", str(HOME), "--years", "3"])
    assert result.exit_code == 0, result.stderr
    assert "P50" in result.stdout and "P90" in result.stdout
    assert "SAIDI" in result.stdout and "house" in result.stdout


def test_years_in_json() -> None:
    result = runner.invoke(app, ["size", "simulate", str(HOME), "--years", "2", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["years"] == 2


def test_bad_site_file_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(HOME.read_text().replace("kwp = 2.4", "kwp = -1"))
    result = runner.invoke(app, ["size", "simulate", str(bad)])
    assert result.exit_code == 2
    assert "pv.kwp" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_section_exits_2(tmp_path: Path) -> None:
    text = HOME.read_text()
    start = text.index("[inverter]")
    end = text.index("[[loads]]")
    (tmp_path / "noinv.toml").write_text(text[:start] + text[end:])
    result = runner.invoke(app, ["size", "simulate", str(tmp_path / "noinv.toml")])
    assert result.exit_code == 2
    assert "[inverter]" in result.stderr


def test_monthly_ghi_above_clear_sky_exits_2(tmp_path: Path) -> None:
    text = HOME.read_text().replace("[5.0, 5.8, 6.3", "[5.0, 5.8, 9.9")
    (tmp_path / "sunny.toml").write_text(text)
    result = runner.invoke(app, ["size", "simulate", str(tmp_path / "sunny.toml")])
    assert result.exit_code == 2
    assert "March" in result.stderr
