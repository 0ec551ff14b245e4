"""The report's water section (a site with a water pump), in Vietnamese and English, from
hand-made figures: numbers in each language's convention, words in that language, monthly
totals that add up, the tank level chart, and the wording fixes of a pump site (no aerators,
no battery, a VFD pump with no start surge)."""

from __future__ import annotations

import dataclasses
import html
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from offgrid.cli import app
from offgrid.size_cmd import motor_start_line, water_tables
from sitefile import Economics
from sizing.economics import Costs, DieselOnly
from sizing.report import (
    ReportData,
    WaterData,
    daily_tank_pct,
    motor_start_text,
    render_html,
    water_section,
)
from sizing.report_assets.i18n import TEXT

DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
FLOW_M3_PER_DAY = [30, 32, 38, 40, 35, 20, 18, 18, 15, 15, 20, 28]
UNMET_M3 = [0, 0, 37, 112, 9, 0, 0, 0, 0, 0, 0, 0]  # whole m³: the table shows them exactly
TANK_M3 = 40.0
PUMP_NAME = "LORENTZ PS2-1800 C-SJ8-7"
PUMP_SOURCE = "lorentz.de PS2-1800 C-SJ8-7, 2023"
WATER_KEYS = [k for k in TEXT["en"] if k.startswith(("water", "w_", "pump", "tank", "s_tank",
                                                     "chart_tank", "drive_", "autonomy",
                                                     "wire_to", "m3", "h_year", "kwh_year",
                                                     "days", "vnd_m3"))]


def tank_series() -> pd.Series:
    """A year of hourly tank contents [m³]: a daily cycle (filled by day, drawn in the morning)
    on a slow seasonal swing, never below 0 or above the tank."""
    index = pd.date_range("2023-01-01", periods=8760, freq="h", tz="Asia/Ho_Chi_Minh")
    hour = np.arange(8760) % 24
    day = np.arange(8760) // 24
    level = 22 + 8 * np.sin(2 * np.pi * day / 365) + 6 * np.sin(2 * np.pi * (hour - 9) / 24)
    return pd.Series(level, index=index)


def water_figures() -> dict[str, Any]:
    demand = [f * d for f, d in zip(FLOW_M3_PER_DAY, DAYS, strict=True)]
    monthly = [{"month": m + 1, "demand_m3": float(demand[m]),
                "delivered_m3": float(demand[m] - UNMET_M3[m]), "unmet_m3": float(UNMET_M3[m])}
               for m in range(12)]
    total = float(sum(demand))
    unmet = float(sum(UNMET_M3))
    return {"demand_m3": total, "delivered_m3": total - unmet, "unmet_m3": unmet,
            "unmet_fraction": unmet / total, "pumped_m3": total - unmet + 3.0,
            "pump_kwh": 1234.4, "pump_hours": 1876.0, "hydraulic_kwh": 510.7,
            "wire_to_water_pct": 41.37, "autonomy_days": 2.46, "vnd_per_m3": 12345.6,
            "monthly": monthly, "tank_m3": TANK_M3, "pump": "lorentz-ps2-1800-c-sj8-7"}


def water_data(drive: str = "vfd") -> WaterData:
    return WaterData(figures=water_figures(), tank_m3=tank_series(), tank_capacity_m3=TANK_M3,
                     min_level_pct=30.0, max_level_pct=95.0, pump_name=PUMP_NAME,
                     pump_source=PUMP_SOURCE, pump_rated_kw=1.8, pump_drive=drive)


def report(water: WaterData, *, motor_soft: bool = True) -> ReportData:
    """A no-battery, no-aerator irrigation site's report data, every figure made by hand."""
    tank = tank_series()
    hour = np.asarray(tank.index.hour)
    pv = np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None) * 3.0
    zero = np.zeros(len(tank))
    hourly = pd.DataFrame({"pv_kw": pv, "wind_kw": zero, "wind_curtailed_kw": zero,
                           "load_kw": np.where((hour >= 8) & (hour < 16), 1.8, 0.0),
                           "unmet_kw": zero, "critical_unmet_kw": zero, "generator_kw": zero,
                           "battery_kw": zero, "soc_pct": zero, "curtailed_kw": pv * 0.1},
                          index=tank.index)
    econ = Economics()
    years = econ.lifetime_years + 1

    def costs(capital: float, yearly: float) -> Costs:
        one = np.array([1.0])
        cash = np.array([[capital] + [yearly] * (years - 1)])
        return Costs(one * capital, one * (capital + 5 * yearly), one * 4000.0, cash,
                     one * 0.0, one * 0.0, one * 0.0, one * 0.0)

    design = {"kwp": 3.0, "kwh": 0.0, "inverter_kw": 3.0, "generator_kw": 0.0, "turbines": 0.0,
              "tank_m3": TANK_M3, "pump": 0.0}
    rng = np.random.default_rng(1)
    figures = {k: 0.0 for k in (
        "saidi_minutes", "saifi_count", "saidi_p90_minutes", "saifi_p90_count",
        "saidi_forced_minutes", "load_curtailed_hours", "unmet_fraction",
        "critical_unmet_fraction", "aerator_hours_at_risk", "generator_fuel_l",
        "battery_life_years", "wind_kwh", "wind_curtailed_kwh", "wind_capacity_factor")}
    figures.update(pv_kwh=4800.0, renewable_fraction=1.0)
    motor: dict[str, Any] = {
             "motor": "vineyard", "start_kw": 10.8, "running_kw": 0.0, "surge_kw": 6.0,
             "ok": False, "max_simultaneous_starts": 0,
             "advice": "starting vineyard (1.8 kW × 6 = 10.8 kW) on top of 0.0 kW running "
                       "exceeds the 6 kW surge rating: start it only when the running load is "
                       "below 0.0 kW (switch other loads off first)"}
    return ReportData(
        site_name="Vườn nho Ninh Thuận", design=design, hourly=hourly, dt_h=1.0,
        load_kwh={"vineyard": 1500.0}, figures=figures, econ=econ,
        costs=costs(90e6, 1e6), diesel=DieselOnly(3.0, 900.0, 700.0, 1500.0, costs(20e6, 20e6)),
        search_npc_vnd=rng.uniform(80e6, 200e6, 30), search_unmet_fraction=rng.uniform(0, .1, 30),
        search_feasible=np.arange(30) % 2 == 0, pareto=np.array([0, 2, 4]), winner=0,
        explanation={"binding_constraint": "max_critical_unmet_fraction",
                     "values": {"max_critical_unmet_fraction": 0.0},
                     "limits": {"max_critical_unmet_fraction": 0.001},
                     "cheaper_infeasible": [], "next_feasible": []},
        strings=None, pv=None, bom=[], warnings=["motor start: " + motor["advice"]], edges=[],
        sensitivity={}, generator_units=[], turbine_kw=0.0, has_aerators=False,
        has_critical=False, motor_start=motor,
        motor_start_soft=frozenset({"vineyard"}) if motor_soft else frozenset(), water=water)


def _section(page: str, ident: str) -> str:
    start = page.index(f'<section id="{ident}">')
    return page[start:page.index("</section>", start)]


def _text(fragment: str) -> str:
    """The visible words of an HTML fragment (charts removed: their text is drawn as paths)."""
    fragment = re.sub(r"<svg.*?</svg>", " ", fragment, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def _cells(table: str, part: str) -> list[list[str]]:
    body = re.search(rf"<{part}>(.*?)</{part}>", table, flags=re.S)
    assert body is not None
    return [re.findall(r"<td[^>]*>(.*?)</td>", row)
            for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), flags=re.S)]


def _parse(text: str, lang: str) -> float:
    """A number as the report writes it in ``lang`` (vi: '.' groups thousands, ',' decimals)."""
    if lang == "vi":
        return float(text.replace(".", "").replace(",", "."))
    return float(text.replace(",", ""))


def test_daily_tank_levels_are_each_days_lowest_and_highest() -> None:
    tank = tank_series()
    daily = daily_tank_pct(tank, TANK_M3)
    by_day = 100 * tank.to_numpy().reshape(365, 24) / TANK_M3  # independent of pandas' groupby
    assert len(daily) == 365
    np.testing.assert_allclose(daily["min"].to_numpy(), by_day.min(axis=1))
    np.testing.assert_allclose(daily["max"].to_numpy(), by_day.max(axis=1))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_monthly_water_table_totals_are_the_sums_of_the_months(lang: str) -> None:
    page = water_section(water_data(), TEXT[lang], lang)  # type: ignore[arg-type]
    table = page[page.index("<table id='water_monthly'>"):page.index("</table>") + 8]
    rows = _cells(table, "tbody")
    assert [r[0] for r in rows] == TEXT[lang]["months"].split(",")
    values = np.array([[_parse(c, lang) for c in r[1:]] for r in rows])
    demand = [f * d for f, d in zip(FLOW_M3_PER_DAY, DAYS, strict=True)]
    np.testing.assert_array_equal(values[:, 0], demand)
    np.testing.assert_array_equal(values[:, 2], UNMET_M3)
    np.testing.assert_array_equal(values[:, 1], values[:, 0] - values[:, 2])
    (footer,) = _cells(table, "tfoot")
    assert footer[0] == TEXT[lang]["w_year"]
    np.testing.assert_array_equal([_parse(c, lang) for c in footer[1:]], values.sum(axis=0))
    assert _parse(footer[1], lang) == 9388  # 30·31 + 32·28 + … + 28·31, by hand
    assert _parse(footer[3], lang) == 158  # 37 + 112 + 9


@pytest.mark.parametrize(("lang", "words"), [
    ("vi", ("Nước: trung vị của 10 năm mô phỏng", "trung vị của 10 năm mô phỏng theo từng tháng")),
    ("en", ("Water: median of 10 simulated years", "the median of 10 simulated years month by "
                                                   "month (the year row adds the months)"))])
def test_the_statistic_of_each_table_is_labelled(lang: str, words: tuple[str, str]) -> None:
    one = _text(water_section(water_data(), TEXT[lang], lang))  # type: ignore[arg-type]
    assert TEXT[lang]["water_card"] in one and TEXT[lang]["water_table"] in one
    ten = dataclasses.replace(water_data(), years=10)
    text = re.sub(r"\s+", " ", _text(water_section(ten, TEXT[lang], lang)))  # type: ignore[arg-type]
    assert all(w in text for w in words), text[:400]


def test_table_total_of_fractional_months_is_their_rounded_sum() -> None:
    w = water_data()
    monthly = [dict(r, demand_m3=r["demand_m3"] + 0.4) for r in w.figures["monthly"]]
    w = dataclasses.replace(w, figures={**w.figures, "monthly": monthly})
    page = water_section(w, TEXT["en"], "en")
    (footer,) = _cells(page[page.index("<table id='water_monthly'>"):], "tfoot")
    assert footer[1] == f"{round(math.fsum(r['demand_m3'] for r in monthly)):,}" == "9,393"


def test_numbers_follow_each_languages_convention() -> None:
    vi = _text(water_section(water_data(), TEXT["vi"], "vi"))
    en = _text(water_section(water_data(), TEXT["en"], "en"))
    # 12,345.6 VND/m³; 41.37 %; 2.46 days; 1,234.4 kWh; 9,230 m³ delivered, 25.3 m³/day.
    assert "12.346 đồng/m³" in vi and "12,346 VND/m³" in en
    # Percentages follow CLDR's pattern in both languages (#,##0%: no space before the sign,
    # sizing.report_assets.fmt.percent), no longer a hand-made "41,4 %".
    assert "41,4%" in vi and "41.4%" in en
    assert "2,5 ngày" in vi and "2.5 days" in en
    assert "1.234 kWh/năm" in vi and "1,234 kWh/year" in en
    assert "9.230 m³/năm (25,3 m³/ngày)" in vi and "9,230 m³/year (25.3 m³/day)" in en
    assert "9.388 m³/năm" in vi and "9,388 m³/year" in en
    assert "158 m³/năm (1,7%)" in vi and "158 m³/year (1.7%)" in en  # 158 / 9388, CLDR
    assert "1.876 giờ/năm" in vi and "1,876 h/year" in en
    assert "1,80 kW" in vi and "1.80 kW" in en
    one_line = re.sub(r"\s+", " ", vi), re.sub(r"\s+", " ", en)
    assert f"Mẫu máy bơm: {PUMP_NAME}. Nguồn số liệu máy bơm: {PUMP_SOURCE}" in one_line[0]
    assert f"Pump model: {PUMP_NAME}. Pump data source: {PUMP_SOURCE}" in one_line[1]
    assert "40,0 m³" in vi and "40.0 m³" in en


def test_vietnamese_water_section_has_no_english_words() -> None:
    vi = _text(water_section(water_data(), TEXT["vi"], "vi"))
    vi = vi.replace(PUMP_NAME, " ").replace(PUMP_SOURCE, " ")  # the catalogue's data
    english = {w.lower() for k in WATER_KEYS for w in re.findall(r"[A-Za-z]{3,}", TEXT["en"][k])}
    english -= {w.lower() for k in WATER_KEYS for w in re.findall(r"[A-Za-z]{3,}", TEXT["vi"][k])}
    assert {"water", "tank", "pump", "delivered", "year"} <= english
    words = {w.lower() for w in re.findall(r"\w+", vi)}
    assert not words & english, words & english
    for word in ("Nước tưới", "Bể chứa", "Máy bơm", "giờ/năm", "ngày", "đồng/m³", "Cả năm"):
        assert word in vi
    en = _text(water_section(water_data(), TEXT["en"], "en"))
    assert not re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]",
                         en.replace(PUMP_SOURCE, ""))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_tank_chart_draws_the_year(lang: str) -> None:
    page = water_section(water_data(), TEXT[lang], lang)  # type: ignore[arg-type]
    figure = page[page.index('id="chart_tank"'):]
    svg = figure[figure.index("<svg"):figure.index("</svg>")]
    assert TEXT[lang]["chart_tank"] in html.unescape(figure[:figure.index("<svg")])
    # The min/max band and the two step lines have a vertex for every day of the year.
    vertices = max(len(re.findall(r"[ML] ?-?\d", d)) for d in re.findall(r' d="([^"]+)"', svg))
    assert vertices >= 365


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_pump_site_report_says_water_not_aerators_or_battery(lang: str) -> None:
    t = TEXT[lang]
    page = render_html(report(water_data()), lang)  # type: ignore[arg-type]
    text = _text(page)
    # The headline speaks m³/day and the cost of a m³.
    headline = _text(page[page.index('id="water_headline"'):page.index("</p>",
                                                                         page.index("water_h"))])
    assert "m³" in headline and ("đồng/m³" if lang == "vi" else "VND/m³") in headline
    assert ("25,3 m³/ngày" if lang == "vi" else "25.3 m³/day") in headline  # 9230 m³ / 365
    # Peak month: April, 40 m³/day demand, 112 m³ short over 30 days: 36.3 m³/day delivered.
    assert ("36,3 m³/ngày vào tháng 4" if lang == "vi" else "36.3 m³/day in April") in headline
    assert page.index('id="water_headline"') < page.index('<section id="water">') < page.index(
        '<section id="charts">')
    # No aerators: no "aerator" wording anywhere; no critical loads: no critical-hours row.
    assert "aerator" not in text.lower() and "sục khí" not in text
    assert t["aerator_hours"] not in text and t["critical_hours"] not in text
    assert t["constraint_max_critical_unmet_fraction_generic"] in text
    # No battery: no SOC heat map, a note instead.
    assert 'id="chart_soc"' not in page and 'id="no_battery"' in page
    assert t["no_battery_tank"] in text
    # The VFD pump has no start surge: no motor-start advice, and never "below 0.0 kW".
    assert "0.0 kW" not in text and "0,0 kW" not in text
    assert "motor start" not in text.lower()
    # The design card names the tank and the pump.
    summary = _text(_section(page, "summary"))
    assert ("40,0 m³" if lang == "vi" else "40.0 m³") in summary
    assert ("1,80 kW, biến tần điều khiển tốc độ" if lang == "vi"
            else "1.80 kW, variable-speed drive") in summary
    assert PUMP_NAME in _text(_section(page, "water"))


def test_fixed_speed_pump_start_gives_the_real_figures() -> None:
    en = _text(render_html(report(water_data("fixed"), motor_soft=False), "en"))
    assert "0.0 kW" not in en
    # 10.8 kW start alone exceeds a 6 kW surge: no "start when the load is below" advice.
    assert ("Starting vineyard draws 10.8 kW, more than the inverter's 6.0 kW surge rating even "
            "with nothing else running") in en
    assert "at least 10.8 kW surge" in en
    vi = _text(render_html(report(water_data("fixed"), motor_soft=False), "vi"))
    assert "Khởi động vineyard cần 10,8 kW" in vi and "tốc độ cố định" in vi


def test_motor_start_advice_when_the_running_load_is_the_problem() -> None:
    motor = {"motor": "aerators", "start_kw": 4.2, "running_kw": 3.5, "surge_kw": 6.0,
             "ok": False}
    text = motor_start_text(motor, frozenset(), TEXT["en"], "en")
    assert text is not None
    assert "running load is below 1.8 kW" in text  # 6.0 − 4.2, by hand
    assert "at least 7.7 kW surge" in text  # 3.5 + 4.2
    assert motor_start_text({**motor, "ok": True}, frozenset(), TEXT["en"], "en") is None
    assert motor_start_text(motor, frozenset({"aerators"}), TEXT["en"], "en") is None


# --------------------------------------------------------------------------- command line


def test_simulate_water_tables_show_the_year_and_its_months() -> None:
    console = Console(record=True, width=120)
    for table in water_tables(water_figures()):
        console.print(table)
    text = console.export_text().replace("│", " ")
    assert re.search(r"delivered \[m³/year\]\s+9,230", text)
    assert re.search(r"mean \[m³/day\]\s+25\.3", text)  # 9230 / 365
    assert re.search(r"not delivered \[m³/year\]\s+158\.0 \(1\.68%\)", text)  # 158 / 9388
    assert re.search(r"wire-to-water efficiency \[%\]\s+41\.4", text)
    assert re.search(r"cost of water \[VND/m³\]\s+12,346", text)
    assert re.search(r"tank \[m³\]\s+40\b", text)
    assert re.search(r"Apr\s+1,200\s+1,088\s+112\.0", text)
    assert re.search(r"year\s+9,388\s+9,230\s+158\.0", text)  # the sums of the months


def test_motor_start_line_never_advises_a_negative_room() -> None:
    alone = {"motor": "vineyard", "start_kw": 13.1, "running_kw": 0.2, "surge_kw": 8.0,
             "ok": False, "advice": "… below 0.0 kW …"}
    line = motor_start_line(alone)
    assert line is not None and "0.0 kW" not in line
    assert "more than the 8 kW surge rating even with nothing else running" in line
    assert "≥ 13.3 kW surge" in line  # 0.2 + 13.1
    assert motor_start_line(alone, frozenset({"vineyard"})) is None  # VFD: no start surge
    over = {**alone, "start_kw": 5.0, "running_kw": 4.0}
    assert "running load is below 3.0 kW" in str(motor_start_line(over))  # 8 − 5
    fits = {**alone, "ok": True, "advice": "fits: 1.0 kW running + 2.0 kW start ≤ 8 kW surge"}
    assert motor_start_line(fits) == fits["advice"]


SITE_WITH_PUMP = """
[site]
name = "pump test"
latitude = 11.56
longitude = 108.99
timezone = "Asia/Ho_Chi_Minh"

[weather]
monthly_ghi_kwh_m2_day = [5.0, 5.8, 6.4, 6.5, 5.8, 5.4, 5.3, 5.3, 4.9, 4.5, 4.2, 4.4]
monthly_temp_c = [25.0, 25.6, 26.9, 28.3, 29.0, 29.0, 28.7, 28.7, 27.9, 27.0, 26.4, 25.4]

[pv]
kwp = 3.0

[inverter]
kw = 3.0

[tank]
m3 = 40.0
height_m = 2.5

[[loads]]
name = "field"
kind = "water_pump"
flow_m3_per_day = [30, 32, 38, 40, 35, 20, 18, 18, 15, 15, 20, 28]
head_m = 18.0
pipe = { length_m = 150.0, diameter_mm = 50.0, material = "pvc" }

[loads.pump]
name = "Test pump 1.5 kW"
rated_kw = 1.5
flow_m3_h = [0, 4, 8, 12]
head_m = [40, 36, 28, 14]
efficiency_pct = [0, 50, 60, 45]
motor_efficiency_pct = 85
source = "hand-made for this test"
"""


def test_check_summarises_the_tank_and_the_pump(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE_WITH_PUMP, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(site)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"Tank\s+│\s+40 m³\s+│ height 2\.5 m, reserve 30 %, pump stop 95 %", out)
    assert re.search(r"Pump field\s+│\s+1\.5 kW\s+│ Test pump 1\.5 kW \(custom\), submersible, "
                     r"variable-speed drive; head 18 m, 15–40 m³/day", out)
    row = re.search(r"field\s+│ water_pump\s+│ no\s+│ \d+\s+│\s+([\d.]+) │ 15–40 m³/day", out)
    assert row is not None
    # Lifting the mean day's 25.75 m³ 18 m costs at least ρ g H V / (ηpump,max ηmotor) and,
    # with a 150 m pipe's friction, less than twice that.
    mean_m3 = sum([30, 32, 38, 40, 35, 20, 18, 18, 15, 15, 20, 28]) / 12
    floor_kwh = 997 * 9.80665 * 18.0 * mean_m3 / 3.6e6 / (0.60 * 0.85)
    assert floor_kwh < float(row.group(1)) < 2 * floor_kwh


# --------------------------------------------------------------------------- the real engine

SEARCH = """
[search]
kwp = { min = 2.0, max = 6.0, step = 1.0 }
tank_m3 = { min = 20, max = 60, step = 20 }
"""


@pytest.fixture(scope="module")
def pump_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("pump") / "site.toml"
    site.write_text(SITE_WITH_PUMP + SEARCH, encoding="utf-8")
    return site


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_report_of_a_pump_site_from_the_engine(pump_site: Path, lang: str) -> None:
    t = TEXT[lang]
    out = pump_site.parent / f"report-{lang}.html"
    result = CliRunner().invoke(app, ["size", "report", str(pump_site), "-o", str(out),
                                      "--lang", lang])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    text = _text(page)
    water = _section(page, "water")
    assert 'id="water_headline"' in page and 'id="chart_tank"' in water
    assert ("m³/ngày" if lang == "vi" else "m³/day") in text
    assert ("đồng/m³" if lang == "vi" else "VND/m³") in text
    rows = _cells(water[water.index("<table id='water_monthly'>"):], "tbody")
    (footer,) = _cells(water[water.index("<table id='water_monthly'>"):], "tfoot")
    # The months' demand: 25.75 m³/day on average, 9,388 m³ in a common year.
    demand = sum(_parse(r[1], lang) for r in rows)
    assert abs(demand - 9388) <= 12 and abs(_parse(footer[1], lang) - demand) <= 12
    assert "Test pump 1.5 kW" in water and "hand-made for this test" in water
    bom = _text(_section(page, "bom"))
    assert t["tank_bom"] in bom and t["pump_bom"] in bom
    assert "aerator" not in text.lower() and "sục khí" not in text
    assert 'id="chart_soc"' not in page and 'id="no_battery"' in page
    assert "0.0 kW" not in text and "0,0 kW" not in text


def test_simulate_and_optimize_speak_water(pump_site: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["size", "simulate", str(pump_site), "--json"])
    assert result.exit_code == 0, result.output
    water = json.loads(result.stdout)["water"]
    assert water["tank_m3"] == TANK_M3 and water["pump"] == "custom"
    assert water["delivered_m3"] + water["unmet_m3"] == pytest.approx(water["demand_m3"])
    result = runner.invoke(app, ["size", "simulate", str(pump_site)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "Water" in result.stdout and "cost of water [VND/m³]" in result.stdout
    assert "tank 40 m³" in result.stdout
    result = runner.invoke(app, ["size", "optimize", str(pump_site)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert re.search(r"tank\s+│\s+(20|40|60) m³", result.stdout)
    assert re.search(r"pump\s+│\s+custom \(Test pump 1\.5 kW\)", result.stdout)
    assert "VND/m³" in result.stdout
