"""The design dossier (issue #17) on the shrimp example: buildable (strings, controllers,
cables and breakers as the electrical design sizes them, one cable by hand), every word in the
report's language, the PDF's capital equal to the BOM total, no overflow at 390 px."""

from __future__ import annotations

import html
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from playwright.sync_api import sync_playwright

from sitefile import Economics, Site, load_site
from sizing.bom import unused_price_warnings
from sizing.electrical import ElectricalDesign, electrical_design
from sizing.inputs import read_inputs
from sizing.optimize import apply_design, design_dict, optimize, target_warnings
from sizing.pdf import html_to_pdf
from sizing.report import (
    LocaleTicks,
    ReportData,
    _svg,
    engine_warning,
    render_html,
    report_data,
    warning_text,
)
from sizing.report_assets import fmt
from sizing.report_assets.i18n import TEXT
from tests.sizing.test_report import CHROMIUM_ARGS
from tests.support import require_tool

SHRIMP = Path(__file__).parents[2] / "examples" / "shrimp-bac-lieu.toml"


@dataclass(frozen=True)
class Dossier:
    site: Site
    designed: Site
    data: ReportData
    ed: ElectricalDesign
    html: dict[str, str]


@pytest.fixture(scope="module")
def dossier() -> Dossier:
    """The shrimp example's dossier, optimised once, rendered in both languages."""
    site = load_site(SHRIMP)
    result = optimize(site, read_inputs(site))
    data = report_data(site, result)
    assert result.best is not None
    design = design_dict(result.grid.designs, result.best)
    designed = apply_design(site, design)
    ed = electrical_design(designed, design)
    return Dossier(site, designed, data, ed,
                   {lang: render_html(data, lang) for lang in ("vi", "en")})  # type: ignore[arg-type]


def _text(page: str) -> str:
    """The words a reader sees: no style, no chart paths, no tags."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page)).replace(fmt.NBSP, " ")


def _section(page: str, ident: str) -> str:
    start = page.index(f'<section id="{ident}">')
    return page[start:page.index("</section>", start)]


def _rows(page: str, table_id: str, part: str = "tbody") -> list[list[str]]:
    table = page[page.index(f"<table id='{table_id}'>"):]
    table = table[:table.index("</table>")]
    body = re.search(rf"<{part}>(.*?)</{part}>", table, flags=re.S)
    assert body is not None
    return [[_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), flags=re.S)]


def _en(number: str) -> float:
    return float(number.replace(",", ""))


def test_sections_in_the_dossiers_order(dossier: Dossier) -> None:
    page = dossier.html["en"]
    order = ["summary", "inputs", "design", "electrical", "charts", "reliability",
             "economics", "bom", "warnings"]
    at = [page.index(f'<section id="{name}">') for name in order]
    assert at == sorted(at)
    assert 'id="sld"' in _section(page, "design") and "<svg" in _section(page, "design")
    assert 'id="chart_losses"' in _section(page, "charts")
    econ = _text(_section(page, "economics"))
    for label in ("evn_tariff", "gap_kwh", "gap_year", "breakeven", "co2"):
        assert TEXT["en"][label] in econ
    inputs = _section(page, "inputs")
    assert len(_rows(inputs, "irradiation")) == 12
    assert {r[0] for r in _rows(inputs, "loads")} == {ld.name for ld in dossier.site.loads}
    assert "2025" in _text(inputs)  # the prices' dates


def test_the_design_is_built_as_the_electrical_design_sizes_it(dossier: Dossier) -> None:
    ed, page = dossier.ed, dossier.html["en"]
    s, plan = ed.strings, ed.controllers
    assert s is not None and plan is not None
    assert s.series >= 3  # 250 V MPPT, 49.5 V Voc modules: long strings, not 2 × 73
    text = _text(_section(page, "electrical"))
    assert f"{s.series} modules in series × {s.strings} strings" in text
    assert f"{plan.count} × {plan.model.name}" in text
    # The BOM holds the plan's controllers, every cable and every breaker of the design.
    bom = _rows(_section(page, "bom"), "bom_table")
    controllers = [r for r in bom if r[0] == TEXT["en"]["bom_controllers"]]
    assert len(controllers) == 1 and controllers[0][2].startswith(f"{plan.count} piece")
    cables = [r for r in bom if r[0] == TEXT["en"]["bom_cable"]]
    breakers = [r for r in bom if r[0] == TEXT["en"]["bom_breaker"]]
    assert len(cables) == len(breakers) == len(ed.cables) >= 3
    table = _rows(_section(page, "electrical"), "cables")
    assert len(table) == len(ed.cables)
    for row, cable in zip(table, ed.cables, strict=True):
        assert _en(row[2]) == pytest.approx(cable.current_a, abs=0.05)
        assert row[4] == f"{cable.parallel} × {cable.section_mm2:.0f}"
        assert _en(row[7]) == cable.breaker_a
        assert cable.breaker_a in [float(x) for x in re.findall(r"(\d+) A", " ".join(
            b[1] for b in breakers))]


def test_one_cable_by_hand(dossier: Dossier) -> None:
    """Battery to inverter: Ib = P / (η × V); In = the next standard rating ≥ 1.25 × Ib;
    drop = 2 × L × Ib × ρ / (A × parallel) as a share of V."""
    d, ed = dossier.designed, dossier.ed
    assert d.inverter is not None and d.battery is not None
    cable = ed.cable("battery_to_inverter")
    assert cable is not None
    kw, eta, volts = ed.inverter_kw, d.inverter.efficiency_pct / 100, d.battery.nominal_v
    ib = kw * 1000 / (eta * volts)
    # e.g. 15 kW, 95 %, 51.2 V: 15,000 / (0.95 × 51.2) = 15,000 / 48.64 = 308.4 A
    assert cable.current_a == pytest.approx(ib, rel=1e-9)
    ratings = [6, 10, 13, 16, 20, 25, 32, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400,
               500, 630, 800, 1000, 1250, 1600]  # IEC 60898-1, then the R10 series
    assert cable.breaker_a == min(r for r in ratings if r >= 1.25 * ib)
    assert cable.ampacity_a >= cable.breaker_a  # Ib ≤ In ≤ Iz
    area = cable.section_mm2 * cable.parallel
    drop_v = 2 * cable.length_m * ib * 0.0225 / area
    assert cable.drop_v == pytest.approx(drop_v, rel=1e-6)
    assert cable.drop_pct == pytest.approx(100 * drop_v / volts, rel=1e-6)
    # The report prints the same: Ib with one decimal, In in whole amperes.
    row = next(r for r in _rows(_section(dossier.html["en"], "electrical"), "cables")
               if r[0] == TEXT["en"]["run_battery_to_inverter"])
    assert row[2] == fmt.number(ib, 1, "en") and _en(row[7]) == cable.breaker_a


def _allowed(dossier: Dossier) -> list[str]:
    """Names the site file and the catalogues give: they are written as they are."""
    site = dossier.site
    names = [site.site.name, *(dv.name for dv in site.devices), *(ld.name for ld in site.loads),
             site.site.timezone, str(site.weather.file) if site.weather and site.weather.file
             else ""]
    if dossier.ed.controllers is not None:
        names.append(dossier.ed.controllers.model.name)
    return [n for n in names if n] + TERMS


TERMS = [
    "Wp", "kV",  # units: watt-peak (as kWp), kilovolt (the 22 kV line)
    "Ib", "Iz",  # IEC 60364 symbols: design current, cable ampacity
    "PVC", "ATS", "RS",  # PVC insulation, automatic transfer switch, RS485 ("RS" before digits)
    "gPV",  # the fuse class of IEC 60269-6
    "BCT",  # in "1279/QĐ-BCT": the decision's number as the ministry writes it
    "Lithium",  # the SLD's "Lithium sắt phốt phát (LFP)": the element, as Vietnamese writes it
    "model", "coupling",  # electrical.MESSAGES["vi"] (sizing/electrical.py, not the report's):
    #                       "model EPEver Tracer", "(AC-coupling)": the trade's loanwords
]
"""Words of the trade that a Vietnamese dossier writes as they are, each with its reason."""


def test_vietnamese_dossier_is_vietnamese(dossier: Dossier) -> None:
    text = _text(dossier.html["vi"])
    allow = _allowed(dossier)
    assert fmt.english_words(text, allow) == []
    assert fmt.english_style_numbers(text) == []
    assert "tỷ đồng" in text or "triệu đồng" in text


def test_english_dossier_is_english(dossier: Dossier) -> None:
    text = _text(dossier.html["en"])
    assert fmt.vietnamese_words(text, _allowed(dossier)) == []
    assert fmt.vietnamese_style_numbers(text) == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_capital_is_the_bom_total(dossier: Dossier, lang: str) -> None:
    page = dossier.html[lang]
    total = sum(line.total_vnd for line in dossier.data.bom)
    assert float(dossier.data.costs.capital_vnd[0]) == total
    shown = fmt.money(total, lang, scale="unit")  # type: ignore[arg-type]
    assert shown in html.unescape(_section(page, "summary"))
    (foot,) = _rows(_section(page, "bom"), "bom_table", "tfoot")
    assert foot[-1] == shown.replace(fmt.NBSP, " ")
    # and the lines add up to it as printed
    amounts = [r[-1] for r in _rows(_section(page, "bom"), "bom_table")]
    sep = "." if lang == "vi" else ","
    assert sum(int(a.replace(sep, "")) for a in amounts) == round(total)


@pytest.fixture(scope="module")
def pdf_text(dossier: Dossier, tmp_path_factory: pytest.TempPathFactory) -> str:
    tool = require_tool("pdftotext")
    tmp = tmp_path_factory.mktemp("dossier")
    path = tmp / "dossier.pdf"
    path.write_bytes(html_to_pdf(dossier.html["vi"], str(tmp), "vi"))
    out = subprocess.run([tool, str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    return re.sub(r"\s+", " ", out.replace(fmt.NBSP, " "))


def test_pdf_holds_the_site_and_the_capital(dossier: Dossier, pdf_text: str) -> None:
    assert dossier.site.site.name in pdf_text
    total = sum(line.total_vnd for line in dossier.data.bom)
    shown = fmt.money(total, "vi", scale="unit").replace(fmt.NBSP, " ")
    # the summary's capital and the BOM's total row: the same words, twice at least
    assert pdf_text.count(shown) >= 2, shown
    # the BOM's total row: its label, then the amount (the label may wrap in its cell)
    at = pdf_text.index(TEXT["vi"]["bom_total"].split(" (")[0], pdf_text.index(
        TEXT["vi"]["bom"], pdf_text.index(TEXT["vi"]["economics"])))
    assert shown in pdf_text[at:at + 300]
    assert "Trang" in pdf_text  # page numbers


@pytest.mark.slow
def test_no_horizontal_overflow(dossier: Dossier, tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for lang, page_html in dossier.html.items():
                path = tmp_path / f"dossier-{lang}.html"
                path.write_text(page_html, encoding="utf-8")
                for width in (1200, 390):
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    page.goto(path.as_uri(), wait_until="load")
                    scroll, inner = page.evaluate(
                        "[document.documentElement.scrollWidth, window.innerWidth]")
                    assert scroll <= inner, (lang, width, scroll, inner)
                    box = page.locator("#sld svg").bounding_box()
                    assert box is not None and box["width"] <= width
                    page.screenshot(path=str(tmp_path / f"dossier-{lang}-{width}.png"),
                                    full_page=True)
                    page.close()
        finally:
            browser.close()


def test_breakeven_is_positive_and_finite(dossier: Dossier) -> None:
    text = _text(_section(dossier.html["en"], "economics"))
    m = re.search(re.escape(TEXT["en"]["breakeven"]) + r"\s+([\d,.]+) km", text)
    assert m is not None and math.isfinite(_en(m.group(1)))


def test_engine_warnings_become_codes_in_both_languages() -> None:
    """Each sentence the engine writes (sizing.simulate, sizing.optimize, sizing.inputs) maps to
    a code; the Vietnamese text has no English word and no English-style number."""
    check = {"saidi_minutes": {"target": 120.0, "p50": 100.0, "p90": 150.5,
                               "meets_p50": True, "meets_p90": False}}
    sentences = [
        "peak load 17.3 kW exceeds the inverter's 15 kW",
        "conversion losses 9.5 % of the energy delivered exceed the 6 % target",
        "in project year 20, with the loads grown, 1.5 % of the demand is unmet (limit 1 %): "
        "plan to extend the system",
        "in project year 20, with the loads grown, SAIDI reaches 1234 min/year (limit 150)",
        *target_warnings(check),
        "a weather file holds one year: its weather is the same in all 5 simulated years "
        "(only the outages differ); give monthly means for year-to-year weather",
        "3 designs of the search were left out: the price table has no breaker or cable large "
        "enough for them",
        *unused_price_warnings(load_site(SHRIMP).model_copy(update={"economics": Economics(
            bos_pct=10)})),
    ]
    assert sentences[-1].startswith("economics.bos_pct is not used")
    for sentence in sentences:
        message = engine_warning(sentence)
        assert message.code != "warn_other", sentence
        vi, en = warning_text(message, "vi"), warning_text(message, "en")
        assert fmt.english_words(vi, ["SAIDI", "SAIFI", "economics.bos_pct"]) == [], vi
        assert fmt.english_style_numbers(vi) == [], vi
        assert fmt.vietnamese_words(en) == [] and fmt.vietnamese_style_numbers(en) == [], en
    assert warning_text(engine_warning(sentences[0]), "vi") == (
        "Phụ tải đỉnh 17,3 kW vượt công suất biến tần 15 kW.")
    assert "150,5 ở mức P90" in warning_text(engine_warning(sentences[4]), "vi")
    assert "1.234 phút" in warning_text(engine_warning(sentences[3]), "vi")
    assert engine_warning("something new").code == "warn_other"
    unused = warning_text(engine_warning(sentences[-1]), "vi")
    assert "economics.bos_pct trong tệp cấu hình" in unused


def test_chart_ticks_speak_the_report_language() -> None:
    """Numeric axes read "5.000" and "0,5" in Vietnamese, "5,000" and "0.5" in English; the
    month names of a bar chart's axis are left as they are."""
    assert LocaleTicks("vi").format_ticks([0.0, 5000.0, 10000.0]) == ["0", "5.000", "10.000"]
    assert LocaleTicks("en").format_ticks([0.0, 5000.0, 10000.0]) == ["0", "5,000", "10,000"]
    assert LocaleTicks("vi").format_ticks([0.0, 0.5, 1.0]) == ["0,0", "0,5", "1,0"]
    assert LocaleTicks("en").format_ticks([-0.25, 0.0, 0.25]) == ["-0.25", "0.00", "0.25"]
    for lang, want in (("vi", "12.000"), ("en", "12,000")):
        fig = Figure()
        ax = fig.add_subplot()
        ax.bar([0, 1], [9000.0, 12500.0])
        ax.set_xticks([0, 1], ["Th1", "Th2"])
        _svg(fig, lang)
        assert want in [t.get_text() for t in ax.get_yticklabels()]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["Th1", "Th2"]


def test_the_ageing_table_is_printed(dossier: Dossier) -> None:
    """The economics page shows the design's ageing: PV output falling by the site's
    degradation each year (hand calculation), the battery replaced at its end of life."""
    site = dossier.designed
    assert site.pv is not None
    d = site.pv.degradation_pct_per_year
    for lang in ("vi", "en"):
        rows = _rows(_section(dossier.html[lang], "economics"), "ageing")
        years = [int(r[0]) for r in rows]
        assert years[0] == 1 and years[-1] == site.economics.lifetime_years
        assert 5 in years and 10 in years
        ten = rows[years.index(10)]
        want = 100 * (1 - d / 100) ** 9
        assert ten[1] == fmt.number(want, 1, lang)  # type: ignore[arg-type]
        assert site.battery is not None
        capacity = [int(r[2]) for r in rows]  # the year's lowest [% of nameplate]
        assert site.battery.end_of_life_capacity_pct < capacity[0] <= 100
        replaced = [i for i, r in enumerate(rows) if TEXT[lang]["part_battery"] in r[3]]
        assert replaced, "an LFP battery does not last the whole project"
        for i in replaced:  # priced, and the capacity falls to the threshold before it
            assert rows[i][4] != "—"
            assert capacity[i - 1] <= capacity[0]
        assert min(capacity) >= site.battery.end_of_life_capacity_pct - 1
