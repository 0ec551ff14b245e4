"""The engineer's report: content, both languages, and a real render in headless Chromium."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import sync_playwright
from typer.testing import CliRunner

from offgrid.cli import app
from sizing.economics import Costs, DieselOnly
from sizing.report import payback_years
from sizing.report_assets.i18n import TEXT
from tests.sizing.test_optimize import home_with_search
from tests.support import require_tool

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
CHARTS = ("chart_monthly", "chart_soc", "chart_day", "chart_loads", "chart_pareto", "chart_cash")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("report")
    site = home_with_search(tmp)
    out = {}
    for lang in ("vi", "en"):
        path = tmp / f"report-{lang}.html"
        result = CliRunner().invoke(app, ["size", "report", str(site), "-o", str(path),
                                          "--lang", lang])
        assert result.exit_code == 0, result.output
        out[lang] = path
    return out


def test_report_is_self_contained(reports: dict[str, Path]) -> None:
    for path in reports.values():
        text = path.read_text(encoding="utf-8")
        # No external resource of any kind: no src/href to a URL, no @import, no url(http…).
        assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", text)
        assert "@import" not in text
        # The only URLs are XML namespace names (identifiers, never fetched).
        urls = set(re.findall(r"https?://[^\"'\s<>]+", text))
        assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
        assert text.count("<svg") >= len(CHARTS)
        for chart in CHARTS:
            assert f'id="{chart}"' in text


def test_report_languages(reports: dict[str, Path]) -> None:
    vi = reports["vi"].read_text(encoding="utf-8")
    en = reports["en"].read_text(encoding="utf-8")
    assert '<html lang="vi">' in vi and '<html lang="en">' in en
    for phrase in ("Tóm tắt", "Độ tin cậy", "Danh mục vật tư", "Cảnh báo",
                   "So sánh với chỉ dùng máy phát diesel", "Dòng tiền"):
        assert phrase in vi
    for phrase in ("Summary", "Reliability", "Bill of materials", "Warnings",
                   "Compared with diesel only", "Cash flow"):
        assert phrase in en
    assert "Tóm tắt" not in en
    # The summary carries the figures the farmer asks about.
    for key in ("SAIDI", "SAIFI", "kWp", "kWh", "VND/kWh"):
        assert key in en
    assert "đồng/kWh" in vi
    # PV string sizing against the charge controller (home: Voc 37.1 V, 100 V MPPT input).
    assert re.search(r"String Voc at 18 °C is \d+ V \(charge controller limit 100 V\)", en)
    assert "tấm nối tiếp" in vi


def test_payback() -> None:
    def c(cash: list[float]) -> Costs:
        a = np.array([cash])
        z = np.zeros(1)
        return Costs(z, z, z, a, z, z, z, z)

    ours = c([100, 10, 10, 10, 10])
    diesel = DieselOnly(1, 0, 0, 0, c([0, 40, 40, 40, 40]))
    assert payback_years(ours, diesel) == 4.0  # cumulative 140 ≤ 160 in year 4, 130 > 120 in 3
    never = DieselOnly(1, 0, 0, 0, c([0, 1, 1, 1, 1]))
    assert payback_years(ours, never) is None


@pytest.mark.slow
def test_report_renders_in_chromium_offline(reports: dict[str, Path], tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for lang, path in reports.items():
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                requests: list[str] = []
                problems: list[str] = []
                page.on("request", lambda r, requests=requests: requests.append(r.url))
                page.on("console", lambda m, problems=problems: problems.append(
                    f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e, problems=problems: problems.append(str(e)))
                page.goto(path.as_uri(), wait_until="load")
                assert requests == [path.as_uri()], requests  # the file itself, nothing else
                assert problems == []
                # Every chart is drawn with a real size.
                for chart in CHARTS:
                    box = page.locator(f"#{chart} svg").bounding_box()
                    assert box is not None and box["width"] > 200 and box["height"] > 100
                assert page.locator("#bom tbody tr").count() >= 4
                page.screenshot(path=str(tmp_path / f"report-{lang}.png"), full_page=True)
                page.close()
        finally:
            browser.close()


def test_both_languages_have_every_word() -> None:
    assert set(TEXT["vi"]) == set(TEXT["en"])
    assert all(TEXT["vi"][k] or not TEXT["en"][k] for k in TEXT["en"])


def test_report_command_writes_a_pdf(tmp_path: Path) -> None:
    """``-o x.pdf`` writes the PDF (the format from the suffix); ``--format pdf`` too."""
    pdftotext = require_tool("pdftotext")
    site = home_with_search(tmp_path)
    path = tmp_path / "dossier.pdf"
    result = CliRunner().invoke(app, ["size", "report", str(site), "-o", str(path),
                                      "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(b"%PDF-")
    text = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Bill of materials" in text and "Page 1 of" in text
    bad = CliRunner().invoke(app, ["size", "report", str(site), "-o", str(path),
                                   "--format", "docx"])
    assert bad.exit_code != 0
