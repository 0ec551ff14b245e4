"""The report as a PDF: the same HTML, laid out on A4 by WeasyPrint, with nothing fetched from
the network.

``html_to_pdf(html, base_url, lang)`` adds ``report_assets/print.css`` after the document's own
styles (:func:`with_print_css`), and a footer with the page number in the document's language
("Trang 3/12", "Page 3 of 12") through CSS ``@page`` counters. Inline SVG charts stay vector
graphics in the PDF; raster images are embedded at their own resolution (WeasyPrint does not
resample unless asked, so a PNG made at 150 dpi or more stays sharp).

Resources: ``data:`` URIs, and files under ``base_url`` (a directory, a file in it, or a
``file://`` URL). Anything else (http, https, files elsewhere) is refused before any I/O; with
``strict`` (the default) a refused resource is an error, otherwise it is left out.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from sizing.errors import SizingError

Lang = Literal["vi", "en"]

PAGE_NUMBER: dict[str, str] = {  # the footer's CSS content, per language
    "vi": '"Trang " counter(page) "/" counter(pages)',
    "en": '"Page " counter(page) " of " counter(pages)',
}
_HTML_LANG = re.compile(r"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2})", re.IGNORECASE)


class PdfError(SizingError):
    """The PDF could not be made (a refused resource in strict mode, an unknown language)."""


def print_css(lang: Lang) -> str:
    """The print stylesheet (``report_assets/print.css``) with the page-number footer in
    ``lang``."""
    if lang not in PAGE_NUMBER:
        raise PdfError(f"unknown language {lang!r}: use 'vi' or 'en'")
    base = files("sizing.report_assets").joinpath("print.css").read_text(encoding="utf-8")
    return base + f"\n@page {{ @bottom-right {{ content: {PAGE_NUMBER[lang]}; }} }}\n"


def _base_dir(base_url: str | None) -> tuple[Path | None, str | None]:
    """The directory resources may come from, and the base URL WeasyPrint resolves against."""
    if base_url is None:
        return None, None
    parsed = urlparse(base_url)
    if parsed.scheme == "file":
        path = Path(url2pathname(unquote(parsed.path)))
    elif parsed.scheme and len(parsed.scheme) > 1:  # not a Windows drive letter
        raise PdfError(f"base_url must be a local directory or file, not {base_url!r}")
    else:
        path = Path(base_url)
    path = path.resolve()
    directory = path if path.is_dir() else path.parent
    return directory, directory.as_uri() + "/"


class _Fetcher:
    """WeasyPrint's URL fetcher, restricted to ``data:`` URIs and files under one directory."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.refused: list[str] = []

    def __call__(self, url: str, timeout: float = 10, ssl_context: Any = None,
                 http_headers: Any = None) -> dict[str, Any]:
        from weasyprint import default_url_fetcher  # noqa: PLC0415 (a heavy import, on use)

        if url.startswith("data:"):
            return default_url_fetcher(url)
        parsed = urlparse(url)
        if parsed.scheme == "file" and self.directory is not None:
            path = Path(url2pathname(unquote(parsed.path))).resolve()
            if path.is_relative_to(self.directory) and path.is_file():
                return {"string": path.read_bytes(), "redirected_url": path.as_uri(),
                        "path": str(path)}
        self.refused.append(url)
        raise PdfError(f"refused to fetch {url!r}: only data: URIs and files under the "
                       "base directory")


_SHRINK_PASSES = 4
_SHRUNK = re.compile(r"; font-size: [0-9.]+px /\*fit\*/")
_MIN_FONT_PX = 4.5 * 96 / 72  # 4.5 pt: below it a table is left as it is


def _shrink_wide_tables(document: Any) -> bool:
    """Give each table wider than its page's content box a smaller font size (an inline style on
    its element, in proportion to the overflow); True if any was changed."""
    from weasyprint.formatting_structure.boxes import TableBox  # noqa: PLC0415

    changed = False
    for page in document.pages:
        root = page._page_box  # WeasyPrint keeps the layout here
        limit = root.width + 0.5
        for box in root.descendants():
            if not isinstance(box, TableBox) or box.element is None:
                continue
            width = box.margin_width()
            size = float(box.style["font_size"])
            if width <= limit or size <= _MIN_FONT_PX + 0.01:
                continue
            new = max(_MIN_FONT_PX, size * root.width / width * 0.97)
            style = _SHRUNK.sub("", box.element.get("style") or "")
            box.element.set("style", f"{style}; font-size: {new:.2f}px /*fit*/")
            changed = True
    return changed


def document_lang(html: str) -> Lang | None:
    """The language the ``<html lang=…>`` attribute names, if it is "vi" or "en"."""
    m = _HTML_LANG.search(html)
    code = m.group(1).lower() if m else None
    return "vi" if code == "vi" else "en" if code == "en" else None


_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)


def with_print_css(html: str, lang: Lang) -> str:
    """``html`` with :func:`print_css` as its last style sheet: an author style sheet after the
    document's own, so that its rules win (WeasyPrint's ``stylesheets=`` are user style sheets,
    which every rule of the document's overrides: the screen's chart grid stayed on paper)."""
    style = f"<style>{print_css(lang)}</style>"
    m = _HEAD_END.search(html)
    return html[:m.start()] + style + html[m.start():] if m else style + html


def html_to_pdf(html: str, base_url: str | None = None, lang: Lang | None = None, *,
                strict: bool = True) -> bytes:
    """``html`` as PDF bytes: A4, page numbers in ``lang`` (by default the document's
    ``<html lang>``), charts as drawn, no network.

    ``base_url`` is where relative references point (a directory, or the HTML file's path);
    only files under it are read. With ``strict``, a resource outside it (or any http URL)
    raises :class:`PdfError`; without, it is left out of the PDF."""
    from weasyprint import HTML  # noqa: PLC0415 (a heavy import, on use)
    from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415

    chosen = lang or document_lang(html)
    if chosen is None:
        raise PdfError("the document does not say its language (<html lang>): pass lang")
    directory, base = _base_dir(base_url)
    fetcher = _Fetcher(directory)
    fonts = FontConfiguration()
    source = HTML(string=with_print_css(html, chosen), base_url=base, url_fetcher=fetcher)
    document = source.render(font_config=fonts)
    for _ in range(_SHRINK_PASSES):  # a table wider than the page: smaller type, laid out again
        if not _shrink_wide_tables(document):
            break
        document = source.render(font_config=fonts)
    if strict and fetcher.refused:
        raise PdfError("refused to fetch: " + ", ".join(fetcher.refused))
    pdf = document.write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
