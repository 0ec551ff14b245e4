"""The report as a PDF: A4, page numbers in the document's language, the Vietnamese text read back
exactly, charts as vectors, wide tables inside the page, and nothing fetched from outside."""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from importlib.resources import files
from pathlib import Path

import matplotlib as mpl
import pytest
from matplotlib.figure import Figure

from sizing.pdf import PdfError, document_lang, html_to_pdf, print_css
from tests.support import require_tool

TITLE = "Thiết kế hệ thống điện độc lập — Côn Đảo"
SENTENCE = "Cảnh báo: khởi động máy bơm cần 14.029,2 kW, vượt khả năng quá tải của biến tần."
A4_PT = (595.28, 841.89)


def _svg_chart() -> str:
    fig = Figure(figsize=(6, 2.5))
    ax = fig.subplots()
    ax.plot(range(12), [3, 4, 6, 7, 8, 7, 6, 6, 5, 4, 3, 3], color="#0f7b6c")
    ax.set_ylabel("kWh")
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def _html(lang: str, rows: int = 90, extra: str = "") -> str:
    body = "".join(f"<tr><td>Hạng mục số {i}</td><td class='n'>{i}.000</td></tr>"
                   for i in range(1, rows + 1))
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{TITLE}</title>
<style>body {{ font-family: sans-serif; }}</style></head>
<body><main>
<h1>{TITLE}</h1>
<p>{SENTENCE}</p>
<figure><figcaption>Năng lượng hằng tháng</figcaption>{_svg_chart()}</figure>
<h2>Bảng vật tư</h2>
<table><thead><tr><th>Hạng mục</th><th class="n">Số lượng</th></tr></thead>
<tbody>{body}</tbody></table>
{extra}
</main></body></html>"""


def _pdftotext(pdf: bytes, tmp_path: Path, *args: str) -> str:
    exe = require_tool("pdftotext")
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run([exe, *args, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def _page_sizes(pdf: bytes, tmp_path: Path) -> list[tuple[float, float]]:
    exe = require_tool("pdfinfo")
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([exe, "-f", "1", "-l", "999", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return [(float(w), float(h))
            for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out)]


@pytest.fixture(scope="module")
def vi_pdf() -> bytes:
    return html_to_pdf(_html("vi"), None)


def test_vietnamese_text_reads_back_exactly(vi_pdf: bytes, tmp_path: Path) -> None:
    assert vi_pdf.startswith(b"%PDF-")
    text = _pdftotext(vi_pdf, tmp_path)
    assert unicodedata.is_normalized("NFC", text)
    assert TITLE in text
    assert SENTENCE in text
    assert "Hạng mục số 90" in text


def test_page_numbers_in_the_documents_language(vi_pdf: bytes, tmp_path: Path) -> None:
    text = _pdftotext(vi_pdf, tmp_path)
    pages = len(_page_sizes(vi_pdf, tmp_path))
    assert pages >= 2  # 90 table rows do not fit one page
    for n in range(1, pages + 1):
        assert f"Trang {n}/{pages}" in text
    en = _pdftotext(html_to_pdf(_html("en"), None), tmp_path)
    assert f"Page 1 of {pages}" in en and "Trang" not in en
    # an explicit language wins over the document's
    assert "Page 1 of" in _pdftotext(html_to_pdf(_html("vi"), None, "en"), tmp_path)


def test_pages_are_a4(vi_pdf: bytes, tmp_path: Path) -> None:
    sizes = _page_sizes(vi_pdf, tmp_path)
    assert sizes
    for width, height in sizes:
        assert width == pytest.approx(A4_PT[0], abs=1)
        assert height == pytest.approx(A4_PT[1], abs=1)


def test_chart_stays_vector_and_rows_are_whole(vi_pdf: bytes, tmp_path: Path) -> None:
    assert b"/Subtype /Image" not in vi_pdf  # the SVG chart was drawn, not rasterised
    text = _pdftotext(vi_pdf, tmp_path, "-layout")
    for i in (1, 45, 90):  # each row's two cells on one line: a row never splits
        assert re.search(rf"Hạng mục số {i}\s+{i}\.000\n", text)
    # the header row repeats on the next page
    assert text.count("Số lượng") >= 2


def test_a_wide_table_fits_the_page(tmp_path: Path) -> None:
    cells = "".join("<td class='n'>1.234.567,8</td>" for _ in range(15))
    heads = "".join(f"<th class='n'>thg {i}</th>" for i in range(1, 16))
    wide = (f"<table><tr><th>Nguồn</th>{heads}</tr>"
            f"<tr><td>Điện mặt trời</td>{cells}</tr></table>")
    pdf = html_to_pdf(_html("vi", rows=2, extra=wide), None)
    boxes = _pdftotext(pdf, tmp_path, "-bbox")
    right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', boxes))
    assert right <= A4_PT[0] - 15 * 72 / 25.4 + 1  # inside the 15 mm right margin
    assert boxes.count(">1.234.567,8</word>") == 15  # every number whole, none broken


def test_no_external_fetches(tmp_path: Path) -> None:
    (tmp_path / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<rect width="10" height="10"/></svg>', encoding="utf-8")
    outside = tmp_path.parent / "outside.svg"
    outside.write_text((tmp_path / "logo.svg").read_text(encoding="utf-8"), encoding="utf-8")
    data = ("data:image/svg+xml,%3Csvg%20xmlns=%22http://www.w3.org/2000/svg%22"
            "%20width=%2210%22%20height=%2210%22/%3E")
    local = f'<img src="logo.svg" alt=""><img src="{data}" alt="">'
    assert html_to_pdf(_html("vi", rows=1, extra=local), str(tmp_path)).startswith(b"%PDF")
    for ref in ("https://example.com/logo.png", "../outside.svg", outside.as_uri()):
        html = _html("vi", rows=1, extra=f'<img src="{ref}" alt="">')
        with pytest.raises(PdfError, match="refused to fetch"):
            html_to_pdf(html, str(tmp_path))
        assert html_to_pdf(html, str(tmp_path), strict=False).startswith(b"%PDF")
    with pytest.raises(PdfError, match="local directory"):
        html_to_pdf(_html("vi", rows=1), "https://example.com/")


def test_language_is_required() -> None:
    assert document_lang('<html lang="vi">') == "vi"
    assert document_lang("<html>") is None
    with pytest.raises(PdfError, match="language"):
        html_to_pdf("<html><body>x</body></html>", None)
    assert '"Trang " counter(page) "/" counter(pages)' in print_css("vi")


def test_a_png_chart_keeps_its_pixels(tmp_path: Path) -> None:
    fig = Figure(figsize=(2, 1))
    fig.subplots().plot([1, 2])
    fig.savefig(tmp_path / "chart.png", dpi=150)  # 300 × 150 px
    html = '<html lang="en"><body><img src="chart.png" style="width: 50mm"></body></html>'
    path = tmp_path / "png.pdf"
    path.write_bytes(html_to_pdf(html, str(tmp_path)))
    out = subprocess.run([require_tool("pdfimages"), "-list", str(path)], check=True,
                         capture_output=True, text=True).stdout
    image = next(line.split() for line in out.splitlines() if " image " in line)
    assert (int(image[3]), int(image[4])) == (300, 150)  # not resampled
    assert int(image[12]) >= 150  # x-ppi at 50 mm wide


def test_a_wide_chart_moved_to_the_next_page_keeps_the_page_width(tmp_path: Path) -> None:
    """With the report's own style (a grid of charts on screen), a wide figure that no longer
    fits its page moves to the next one whole: caption on one line, chart across the page
    (WeasyPrint laid it out in a sliver while it kept the screen's grid-column)."""
    style = files("sizing.report_assets").joinpath("style.css").read_text(encoding="utf-8")
    fig = Figure(figsize=(12.8, 3.6))
    ax = fig.subplots()
    ax.plot(range(21), range(21))
    ax.set_xticks([0, 20], ["đầu", "cuối"])
    buf = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none"}):  # tick labels as text, for their positions
        fig.savefig(buf, format="svg")
    svg = buf.getvalue()[buf.getvalue().index("<svg"):]
    filler = "".join(f"<p>{SENTENCE} {i}</p>" for i in range(40))
    html = _html("vi", rows=2, extra=f"{filler}<div class='charts'><figure class='chart wide'>"
                                      f"<figcaption>Dòng tiền</figcaption>{svg}</figure></div>")
    html = html.replace("</style>", "</style><style>" + style + "</style>")
    boxes = _pdftotext(html_to_pdf(html, None), tmp_path, "-bbox")
    assert ">Dòng</word>" in boxes and ">tiền</word>" in boxes  # not one letter a line
    right = float(re.search(r'xMax="([\d.]+)"[^>]*>cuối</word>', boxes).group(1))
    assert right > 0.7 * A4_PT[0]  # the last tick label near the page's right margin
