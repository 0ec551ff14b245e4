"""`offgrid check`: valid examples pass; each broken variant exits 2 naming its key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offgrid.cli import app
from sitefile import load_site
from tests.conftest import HOME, SHRIMP

runner = CliRunner()
_shrimp_pv = load_site(SHRIMP).pv
assert _shrimp_pv is not None
SHRIMP_KWP = _shrimp_pv.kwp


def run_check(path: Path, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", str(path), *extra])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("example", [SHRIMP, HOME], ids=["shrimp", "home"])
def test_examples_are_valid(example: Path) -> None:
    code, out, _ = run_check(example)
    assert code == 0
    assert "total" in out
    assert "Loads" in out


def test_summary_shows_devices_by_bus_and_daily_energy() -> None:
    code, out, _ = run_check(SHRIMP)
    assert code == 0
    assert "rtu:///dev/ttyUSB0" in out and "tcp://127.0.0.1:5020" in out
    # six 1.5 kW aerators: half of them for 12 h of day, all for 12 h of night = 162 kWh
    assert "162.00" in out


def test_json_is_the_normalised_site() -> None:
    code, out, _ = run_check(SHRIMP, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["battery"]["charge_efficiency_pct"] == 97.0  # filled from the lfp preset
    assert data["loads"][0]["priority"] == 1  # critical aerators are shed last
    assert data["loads"][1]["priority"] > 1


def test_lead_acid_preset_fills_and_file_overrides(tmp_path: Path) -> None:
    text = HOME.read_text().replace('chemistry = "lfp"', 'chemistry = "lead_acid"').replace(
        "initial_soc_pct = 80", "initial_soc_pct = 80\ndischarge_efficiency_pct = 88"
    ).replace("shed_soc_pct = 25\nreconnect_soc_pct = 40",
              "shed_soc_pct = 55\nreconnect_soc_pct = 70")
    (tmp_path / "s.toml").write_text(text)
    code, out, _ = run_check(tmp_path / "s.toml", "--json")
    assert code == 0, out
    b = json.loads(out)["battery"]
    assert b["min_soc_pct"] == 50.0 and b["charge_efficiency_pct"] == 90.0
    assert b["discharge_efficiency_pct"] == 88.0
    assert b["cycle_life"] == 1200.0


def _mutate(src: Path, old: str, new: str) -> str:
    text = src.read_text()
    assert old in text, f"fixture text {old!r} not in {src.name}"
    return text.replace(old, new, 1)


# (id, source file, text to replace, replacement, key the message must name)
BROKEN = [
    ("wrong-type", SHRIMP, f"kwp = {SHRIMP_KWP:g}\n", 'kwp = "lots"\n', "pv.kwp"),
    ("unknown-key", SHRIMP, "tilt_deg = 12", "tilt_degs = 12", "pv.tilt_degs"),
    ("unknown-section", HOME, "[inverter]", "[inverterr]", "inverterr"),
    ("missing-weather-file", HOME, "monthly_ghi_kwh_m2_day = [5.0, 5.8, 6.3, 6.2, 5.3, 4.8, 4.7, "
     "4.6, 4.5, 4.4, 4.5, 4.6]\nmonthly_temp_c = [25.5, 26.0, 27.0, 28.5, 28.8, 28.3, 27.9, 27.9, "
     "27.5, 27.2, 26.8, 26.0]", 'file = "no-such.epw"', "weather.file"),
    ("missing-profile-file", HOME, 'name = "water-pump"\nkind = "pump"\nkw = 0.37\n'
     "daily_kwh = 0.18\n",
     'name = "water-pump"\nkind = "profile"\nprofile = "missing.csv"\n', "loads[1].profile"),
    ("min-soc-above-max", HOME, "initial_soc_pct = 80", "min_soc_pct = 90\nmax_soc_pct = 80",
     "battery.min_soc_pct"),
    ("bad-timezone", HOME, 'timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Saigon_City"',
     "site.timezone"),
    ("latitude-123", HOME, "latitude = 8.68", "latitude = 123", "site.latitude"),
    ("longitude-200", HOME, "longitude = 106.61", "longitude = 200", "site.longitude"),
    ("same-unit-id", SHRIMP, "unit_id = 2", "unit_id = 1", "devices[1].unit_id"),
    ("duplicate-device-name", SHRIMP, 'name = "mppt-2"', 'name = "mppt-1"', "devices[1].name"),
    ("bad-load-kind", HOME, 'kind = "pump"', 'kind = "heater"', "loads[1]"),
    ("negative-kwh", HOME, "kwh = 6.0", "kwh = -5.0", "battery.kwh"),
    ("reconnect-below-shed", HOME, "reconnect_soc_pct = 40", "reconnect_soc_pct = 20",
     "control.reconnect_soc_pct"),
    ("bad-chemistry", HOME, 'chemistry = "lfp"', 'chemistry = "nimh"', "battery.chemistry"),
    ("tcp-without-port", SHRIMP, "port = 5020\n", "", "devices[5]"),
    ("switch-unknown-device", SHRIMP, 'channels = [6] }', 'channels = [6] }\n'.replace(
        "}\n", "}"), "loads[2].switch.device"),
    ("aerator-channels-mismatch", SHRIMP, "channels = [0, 1, 2, 3, 4, 5]",
     "channels = [0, 1, 2, 3, 4]", "loads[0].switch.channels"),
    ("pump-energy-too-big", HOME, "daily_kwh = 0.18", "daily_kwh = 9", "loads[1]"),
    ("search-max-below-min", SHRIMP, "kwp = { min = 60, max = 200, step = 10 }",
     "kwp = { min = 200, max = 60, step = 10 }", "search.kwp"),
    ("bad-baudrate", HOME, "baudrate = 115200", "baudrate = 12345", "devices[0].baudrate"),
    ("weather-month-count", HOME, "monthly_ghi_kwh_m2_day = [5.0, 5.8,",
     "monthly_ghi_kwh_m2_day = [5.8,", "weather.monthly_ghi_kwh_m2_day"),
    ("missing-site-name", HOME, 'name = "Con Dao household"\n', "", "site.name"),
]
# The switch to an unknown device is made by renaming the relay board the pump points at.
BROKEN[16] = ("switch-unknown-device", SHRIMP, 'switch = { device = "relays", channels = [6] }',
              'switch = { device = "relayz", channels = [6] }', "loads[2].switch.device")


@pytest.mark.parametrize(("src", "old", "new", "key"), [b[1:] for b in BROKEN],
                         ids=[b[0] for b in BROKEN])
def test_broken_variant_exits_2_naming_key(tmp_path: Path, src: Path, old: str, new: str,
                                           key: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(_mutate(src, old, new))
    code, out, err = run_check(bad)
    assert code == 2, out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "no error printed"
    assert any(line.startswith(f"{bad}: {key}") for line in lines), err
    assert "Traceback" not in err + out


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    text = _mutate(HOME, "latitude = 8.68", "latitude = 123")
    text = text.replace("kwh = 6.0", 'kwh = "big"').replace("tilt_deg = 10", "tilt = 10")
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    code, _, err = run_check(bad)
    assert code == 2
    for key in ("site.latitude", "battery.kwh", "pv.tilt"):
        assert f"{bad}: {key}:" in err
    assert "(got 123)" in err


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(_mutate(HOME, "kwp = 2.4", "kwp = = 2.4"))
    code, _, err = run_check(bad)
    assert code == 2
    line_no = next(i for i, line in enumerate(bad.read_text().splitlines(), 1)
                   if "kwp = = 2.4" in line)
    assert f"line {line_no}, column" in err


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run_check(tmp_path / "nope.toml")
    assert code == 2
    assert "cannot read" in err


def test_real_process_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(_mutate(HOME, "latitude = 8.68", "latitude = 123"))
    proc = subprocess.run([sys.executable, "-m", "offgrid", "check", str(bad)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{bad}: site.latitude: " in proc.stderr and "(got 123)" in proc.stderr
