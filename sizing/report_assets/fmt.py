"""What a reader sees, formatted once, per language (``"vi"`` or ``"en"``), with Babel (CLDR).

Locales: ``vi_VN`` for Vietnamese, ``en_GB`` for English. British English because the dashboard
already formats with ``en-GB`` (``api/static/i18n.js``), because its day-month order matches the
Vietnamese one (a reader who switches language sees the same date the same way round), and
because its medium date is "1 Dec 2026", not the American "Dec 1, 2026".

Rules (each function's docstring repeats its own):

- **Numbers**: grouped thousands, a fixed number of decimals, CLDR separators: ``1.234,5`` (vi),
  ``1,234.5`` (en). Rounding is half away from zero on the decimal value as written (2.675 →
  2.68, 0.5 → 1), the rule a reader checking by hand applies (Babel's default is half-even).
  No "-0": a value that rounds to zero prints without a sign. Not finite: "—" for NaN or None,
  "∞"/"-∞" for infinities.
  Print at most two decimals in running text: "14,029" is fourteen to a Vietnamese reader and
  fourteen thousand to an English one, so :func:`english_style_numbers` flags "d,ddd" in a
  Vietnamese text (and :func:`vietnamese_style_numbers` flags "d.ddd" in an English one).
- **Percentages** take a fraction (0–1, the engine's ``*_fraction``) and use CLDR's pattern:
  "12,5%" (vi), "12.5%" (en), no space before the sign in either language (CLDR's vi and en
  patterns are both ``#,##0%``). A template therefore never carries its own "%".
- **Money** is VND in, words out: below 1 million, whole đồng ("17.500 đồng", "17,500 VND");
  from 1 million, millions with one decimal ("3,5 triệu đồng", "3.5 million VND"); from 1,000
  million (decided on the value *after* rounding to one decimal of a million, so 999.96 M prints
  as "1,00 tỷ đồng", never "1.000,0 triệu đồng"), billions with two decimals ("3,09 tỷ đồng",
  "3.09 billion VND"). ``scale`` forces one of "unit", "million", "billion" (a table column
  keeps one scale); ``digits`` overrides the decimals. Prices per unit: :func:`money_per`
  ("2.204 đồng/kWh", "2,204 VND/kWh").
- **Dates**: vi "01/12/2026" (``dd/MM/yyyy``: CLDR's vi medium form "1 thg 12, 2026" reads
  oddly in a dossier, and its short form has a two-digit year); en "1 Dec 2026" (en_GB medium).
- **Units**: the table :data:`UNITS`, "1.234,5 phút" / "1,234.5 min", "giờ"/"h", "ngày"/"days",
  "năm"/"years", "lít"/"L", "m³", "kWh", "kWp", …, a no-break space between number and unit.
  English words take a singular at exactly 1 ("1 day"); symbols never do. CLDR's own unit names
  are not used: they give "tiếng" for hours in vi, "hrs"/"mins"/"l" in en, where the field and our
  dashboard write giờ, h, min and L.
- **Messages**: :func:`render` formats a catalogue template (``sizing.report_assets.i18n.TEXT``
  by default) with ``str.format`` after formatting every number, date and nested message in
  the language; see :class:`Text`.

The scanners (:func:`english_words`, :func:`english_style_numbers`, :func:`vietnamese_words`,
:func:`vietnamese_style_numbers`) let tests prove a text is written in one language only.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from babel import Locale
from babel.dates import format_date, get_month_names
from babel.numbers import format_decimal, format_percent

Lang = Literal["vi", "en"]
LOCALES: dict[str, str] = {"vi": "vi_VN", "en": "en_GB"}
NBSP = "\u00a0"  # between a number and its unit, so a line never breaks inside a quantity
DASH = "—"  # a figure with no value

# unit code → (Vietnamese, English singular, English plural). A symbol has the same three.
UNITS: dict[str, tuple[str, str, str]] = {
    "min": ("phút", "min", "min"),
    "h": ("giờ", "h", "h"),
    "day": ("ngày", "day", "days"),
    "month": ("tháng", "month", "months"),
    "year": ("năm", "year", "years"),
    "times": ("lần", "time", "times"),
    "times_per_year": ("lần/năm", "time a year", "times a year"),
    "min_per_year": ("phút/năm", "min/year", "min/year"),
    "h_per_year": ("giờ/năm", "h/year", "h/year"),
    "h_per_day": ("giờ/ngày", "h/day", "h/day"),
    "l": ("lít", "L", "L"),
    "l_per_h": ("lít/giờ", "L/h", "L/h"),
    "l_per_kwh": ("lít/kWh", "L/kWh", "L/kWh"),
    "l_per_year": ("lít/năm", "L/year", "L/year"),
    "m3": ("m³", "m³", "m³"),
    "m3_per_day": ("m³/ngày", "m³/day", "m³/day"),
    "m3_per_h": ("m³/giờ", "m³/h", "m³/h"),
    "kwh": ("kWh", "kWh", "kWh"),
    "kwh_per_day": ("kWh/ngày", "kWh/day", "kWh/day"),
    "kwh_per_year": ("kWh/năm", "kWh/year", "kWh/year"),
    "kwh_m2_day": ("kWh/m²/ngày", "kWh/m²/day", "kWh/m²/day"),
    "mwh": ("MWh", "MWh", "MWh"),
    "kwp": ("kWp", "kWp", "kWp"),
    "kw": ("kW", "kW", "kW"),
    "w": ("W", "W", "W"),
    "v": ("V", "V", "V"),
    "a": ("A", "A", "A"),
    "ah": ("Ah", "Ah", "Ah"),
    "m": ("m", "m", "m"),
    "km": ("km", "km", "km"),
    "mm2": ("mm²", "mm²", "mm²"),
    "degc": ("°C", "°C", "°C"),
    "kg": ("kg", "kg", "kg"),
    "t": ("tấn", "t", "t"),
    "t_co2": ("tấn CO₂", "t CO₂", "t CO₂"),
    "t_co2_per_year": ("tấn CO₂/năm", "t CO₂/year", "t CO₂/year"),
    "mg_l": ("mg/L", "mg/L", "mg/L"),
    "ha": ("ha", "ha", "ha"),
    "modules": ("tấm", "module", "modules"),
    "pcs": ("cái", "piece", "pieces"),
}

_MONEY = {  # scale → (divisor, default decimals, Vietnamese word, English word)
    "unit": (1.0, 0, "đồng", "VND"),
    "million": (1e6, 1, "triệu đồng", "million VND"),
    "billion": (1e9, 2, "tỷ đồng", "billion VND"),
}
MoneyScale = Literal["auto", "unit", "million", "billion"]


def locale(lang: Lang) -> str:
    """The Babel locale of ``lang``: ``vi_VN`` or ``en_GB``."""
    try:
        return LOCALES[lang]
    except KeyError as e:
        raise ValueError(f"unknown language {lang!r}: use 'vi' or 'en'") from e


def _pattern(digits: int, grouped: bool = True) -> str:
    if digits < 0:
        raise ValueError(f"digits must be ≥ 0, not {digits}")
    head = "#,##0" if grouped else "0"
    return head + ("." + "0" * digits if digits else "")


def _not_finite(value: float | Decimal | None) -> str | None:
    if value is None:
        return DASH
    if isinstance(value, Decimal):
        value = float(value)
    if math.isnan(value):
        return DASH
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return None


def _rounded(value: float | Decimal, digits: int) -> Decimal:
    """``value`` rounded half away from zero to ``digits`` decimals, without a negative zero."""
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return abs(q) if q == 0 else q


def number(value: float | Decimal | None, digits: int = 0, lang: Lang = "vi", *,
           grouped: bool = True) -> str:
    """``value`` with ``digits`` decimals and grouped thousands: "1.234,5" (vi), "1,234.5" (en).

    No "-0"; "—" for None or NaN, "∞"/"-∞" for infinities. ``grouped=False`` for a year or an
    identifier ("2026")."""
    bad = _not_finite(value)
    if bad is not None:
        return bad
    assert value is not None
    return format_decimal(_rounded(value, digits), format=_pattern(digits, grouped),
                          locale=locale(lang), decimal_quantization=True)


def short(value: float | Decimal | None, lang: Lang = "vi", max_digits: int = 2) -> str:
    """``value`` with as few decimals as it needs, at most ``max_digits``: "2,5", "48", "0,25".

    Replaces ``f"{value:g}"`` for inputs echoed back to the reader (a tilt, a voltage limit)."""
    bad = _not_finite(value)
    if bad is not None:
        return bad
    assert value is not None
    q = _rounded(value, max_digits).normalize()
    digits = max(0, -int(q.as_tuple().exponent))
    return number(q, digits, lang)


def percent(fraction: float | None, digits: int = 0, lang: Lang = "vi") -> str:
    """``fraction`` (0–1) as a percentage with ``digits`` decimals: "12,5%" (vi), "12.5%" (en)."""
    bad = _not_finite(fraction)
    if bad is not None:
        return bad
    assert fraction is not None
    pct = _rounded(Decimal(str(fraction)) * 100, digits)
    return format_percent(pct / 100, format=_pattern(digits) + "%", locale=locale(lang),
                          decimal_quantization=True)


def money_scale(vnd: float) -> Literal["unit", "million", "billion"]:
    """The scale :func:`money` picks for ``vnd`` [VND]: below 1 M in đồng, then millions until
    the value rounded to 0.1 M reaches 1,000 M, then billions."""
    if abs(round(vnd)) < 1e6:
        return "unit"
    return "million" if abs(round(vnd / 1e6, 1)) < 1000 else "billion"


def money(vnd: float | None, lang: Lang = "vi", *, scale: MoneyScale = "auto",
          digits: int | None = None) -> str:
    """An amount [VND] in words: "3.089,2 triệu đồng" / "3,089.2 million VND" (``scale=
    "million"``); "3,09 tỷ đồng" / "3.09 billion VND" (auto, from 1,000 M); "17.500 đồng" /
    "17,500 VND" (below 1 M). Decimals: 0 đồng, 1 for millions, 2 for billions."""
    bad = _not_finite(vnd)
    if bad is not None:
        return bad
    assert vnd is not None
    chosen = money_scale(vnd) if scale == "auto" else scale
    divisor, default_digits, vi_word, en_word = _MONEY[chosen]
    amount = number(vnd / divisor, default_digits if digits is None else digits, lang)
    return f"{amount}{NBSP}{vi_word if lang == 'vi' else en_word}"


def money_per(vnd: float | None, unit: str, lang: Lang = "vi", digits: int | None = 0, *,
              scale: MoneyScale = "unit") -> str:
    """A price per unit [VND per ``unit``], ``unit`` a key of :data:`UNITS` or a symbol:
    "2.204 đồng/kWh" / "2,204 VND/kWh"; with ``scale="million"`` and ``digits=None``,
    "8,0 triệu đồng/kWp" / "8.0 million VND/kWp"."""
    text = money(vnd, lang, scale=scale, digits=digits)
    if vnd is None or _not_finite(vnd) is not None:
        return text
    word = UNITS[unit][0 if lang == "vi" else 1] if unit in UNITS else unit
    return f"{text}/{word}"


def unit_word(unit: str, lang: Lang = "vi", value: float | Decimal | None = None) -> str:
    """The word or symbol of ``unit`` (a key of :data:`UNITS`) in ``lang``; English words are
    singular when ``value`` as shown is 1 (CLDR: "1 day", "1.0 days"; pass a Decimal with
    the decimals shown)."""
    vi, one, other = UNITS[unit]
    if lang == "vi":
        return vi
    if value is None:
        return other
    magnitude = value.copy_abs() if isinstance(value, Decimal) else abs(float(value))
    return one if Locale.parse(locale(lang)).plural_form(magnitude) == "one" else other


def quantity(value: float | None, unit: str, digits: int = 0, lang: Lang = "vi") -> str:
    """``value`` and its unit: "1.234,5 phút" / "1,234.5 min", "3 ngày" / "3 days",
    "1 day", "80 kWp". ``unit`` is a key of :data:`UNITS`."""
    text = number(value, digits, lang)
    shown = (None if _not_finite(value) is not None or value is None
             else _rounded(value, digits))  # a Decimal keeps its decimals: "1.0 days"
    return f"{text}{NBSP}{unit_word(unit, lang, shown)}"


def duration(value: float | None, unit: Literal["min", "h", "day", "year"], digits: int = 0,
             lang: Lang = "vi") -> str:
    """A duration in ``unit``: "45 phút" / "45 min", "2,5 giờ" / "2.5 h", "3 ngày" / "3 days"."""
    return quantity(value, unit, digits, lang)


def date(value: Date | datetime, lang: Lang = "vi") -> str:
    """A calendar date: "01/12/2026" (vi), "1 Dec 2026" (en)."""
    if lang == "vi":
        return format_date(value, "dd/MM/yyyy", locale=locale(lang))
    return format_date(value, "medium", locale=locale(lang))


def month_names(lang: Lang = "vi") -> list[str]:
    """The twelve abbreviated month names, January first: "thg 1" … (vi), "Jan" … (en, CLDR
    writes "Sept")."""
    names = get_month_names("abbreviated", locale=locale(lang))
    return [str(names[m]) for m in range(1, 13)]


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Num:
    """A number parameter with its decimals (and optionally its unit, a key of :data:`UNITS`)."""

    value: float | None
    digits: int = 0
    unit: str | None = None

    def text(self, lang: Lang) -> str:
        if self.unit is None:
            return number(self.value, self.digits, lang)
        return quantity(self.value, self.unit, self.digits, lang)


@dataclass(frozen=True)
class Pct:
    """A fraction (0–1) shown as a percentage."""

    fraction: float | None
    digits: int = 0

    def text(self, lang: Lang) -> str:
        return percent(self.fraction, self.digits, lang)


@dataclass(frozen=True)
class Money:
    """An amount [VND]; see :func:`money`."""

    vnd: float | None
    scale: MoneyScale = "auto"
    digits: int | None = None

    def text(self, lang: Lang) -> str:
        return money(self.vnd, lang, scale=self.scale, digits=self.digits)


@dataclass(frozen=True)
class Message:
    """A message code and its parameters: what the engine returns instead of an English
    sentence. A parameter may itself be a :class:`Message` (rendered in the same language)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


_SPEC = re.compile(r"^,?(?:\.(?P<digits>\d+))?(?P<kind>[fg%])?$")


class _Formatter(string.Formatter):
    def __init__(self, text: Text, lang: Lang) -> None:
        self._text, self._lang = text, lang

    def format_field(self, value: Any, format_spec: str) -> str:
        lang = self._lang
        if isinstance(value, Message):
            return self._text.render(value.code, value.params, lang)
        if isinstance(value, Num | Pct | Money):
            return value.text(lang)
        if isinstance(value, datetime | Date):
            return date(value, lang)
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            m = _SPEC.match(format_spec)
            if m is None:
                raise ValueError(f"format spec {format_spec!r} is not one of "
                                 "'', '.Nf', ',.Nf', '.N%', 'g' for a number")
            digits = None if m["digits"] is None else int(m["digits"])
            if m["kind"] == "%":
                return percent(float(value), digits or 0, lang)
            if digits is None or m["kind"] == "g":
                return (number(value, 0, lang) if isinstance(value, int)
                        else short(value, lang, 2 if digits is None else digits))
            return number(value, digits, lang)
        return super().format_field(value, format_spec)


class Text:
    """Renders message codes from a catalogue ``{lang: {code: template}}``.

    Parameters are formatted in the language before ``str.format`` places them: an ``int`` with
    grouped thousands; a ``float`` with as few decimals as it needs, at most two (or ``{x:.1f}``
    for exactly one, ``{x:.0%}`` for a fraction as a percentage); :class:`Num`, :class:`Pct`,
    :class:`Money` as they say; a date as :func:`date`; a :class:`Message` rendered in the same
    language; anything else with ``str``. Strings are placed as given: pass a code's words as
    ``Message(code)`` so that they too follow the language."""

    def __init__(self, catalogue: Mapping[str, Mapping[str, str]] | None = None) -> None:
        if catalogue is None:
            from sizing.report_assets.i18n import TEXT  # noqa: PLC0415 (the default, lazily)

            catalogue = TEXT
        self.catalogue = catalogue

    def template(self, code: str, lang: Lang) -> str:
        try:
            return self.catalogue[lang][code]
        except KeyError as e:
            raise KeyError(f"no message {code!r} in language {lang!r}") from e

    def render(self, code: str, params: Mapping[str, Any] | None = None,
               lang: Lang = "vi") -> str:
        return _Formatter(self, lang).vformat(self.template(code, lang), (), dict(params or {}))

    def message(self, message: Message, lang: Lang = "vi") -> str:
        return self.render(message.code, message.params, lang)


def render(code: str, params: Mapping[str, Any] | None = None, lang: Lang = "vi",
           catalogue: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """``code``'s template in ``lang`` with ``params`` formatted by this module (see
    :class:`Text`); the report's catalogue unless ``catalogue`` is given."""
    return Text(catalogue).render(code, params, lang)


# --------------------------------------------------------------------------- scanners

# Words a text in either language may contain: units, standards, acronyms of the trade, brand
# and model names. Matched case-sensitively, as written here.
ALLOWED_WORDS: frozenset[str] = frozenset({
    # units and symbols
    "kWh", "MWh", "kWp", "kW", "W", "Wh", "V", "A", "Ah", "L", "m", "km", "mm", "kg", "t", "ha",
    "mg", "h", "C", "°C", "CO", "VND", "NOCT", "STC", "Voc", "Vmp", "Isc", "Imp",
    # the trade's acronyms
    "PV", "MPPT", "SOC", "DoD", "DO", "AC", "DC", "LFP", "BESS", "SAIDI", "SAIFI", "MAIFI",
    "IEEE", "EVN", "IEC", "TCVN", "NPC", "LCOE", "O", "M", "TMY", "EPW", "PVGIS", "NASA",
    "POWER", "MCB", "MCCB", "SPD", "RCD", "VSD", "HTML", "PDF", "CSV", "TOML", "CI", "P50",
    "P90", "Modbus", "RTU", "TCP", "RS485", "SunSpec", "Pareto", "IEEE1366",
    # brands and products named in the site files and the price table
    "EPEver", "Tracer", "Victron", "SmartGen", "HGM4010", "HGM4020", "DSE", "Waveshare",
    "DFRobot", "SEN0681", "Supmea", "Renke", "LCTech", "Eletechsup", "INVT", "GD100", "Growatt",
    "Deye", "Pylontech", "Huawei", "SMA", "Schneider", "Cadivi", "LS", "Jinko", "LONGi",
    "Trina", "JA", "Raspberry", "Pi", "offgrid",
    # Vietnamese usage: loanwords, CB (a breaker, "aptomat"), months ("Th12", CLDR's "thg 12"),
    # Ho Chi Minh City
    "diesel", "CB", "Th", "thg", "TP", "HCM",
})

# English words that a Vietnamese syllable could spell (the generic check below only catches
# words no Vietnamese syllable spells). Left out: words that are everyday Vietnamese without a
# diacritic ("do", "so", "to", "in", "an", "no", "my", "con", "tin", "pin", "hay", "than").
_EN_ON_VI = frozenset({
    "the", "min", "max", "not", "but", "can", "on", "at", "it", "by", "up", "day", "go",
    "he", "me", "you", "pay", "oil", "top", "tip", "map", "kit", "net", "gap", "hot",
    "cut", "out", "off",
})

# A Vietnamese syllable written without diacritics: initial, vowel nucleus, final.
_VI_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdghklmnprstvx])?[aeiouy]{1,3}"
    r"(?:ch|ng|nh|[cmnpt])?$", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:[._][^\W_]+)*")  # letters, or a dotted/underscored identifier
_VI_LETTERS = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ]")


def _words(text: str) -> Iterable[str]:
    for m in _WORD.finditer(unicodedata.normalize("NFC", text)):
        word = m.group()
        if "." in word or "_" in word:
            continue  # a configuration key or a file name (search.kwp.max): code, not prose
        yield word


def _is_vietnamese_word(word: str) -> bool:
    """A word with a Vietnamese letter or tone mark."""
    if _VI_LETTERS.search(word):
        return True
    decomposed = unicodedata.normalize("NFD", word)
    return any(unicodedata.category(c) == "Mn" for c in decomposed)


def english_words(text: str, allow: Iterable[str] = ()) -> list[str]:
    """The English words of a Vietnamese ``text``, in order (repeats kept).

    A word is flagged when it is plain ASCII and either no Vietnamese syllable spells it
    ("Warnings", "cost", "per") or it is in a short list of English words that one could
    ("the", "min", "day", "not"). Single letters, :data:`ALLOWED_WORDS`, ``allow`` (the site's
    and its devices' names) and dotted or underscored identifiers ("search.kwp.max") pass."""
    allowed = ALLOWED_WORDS | set(allow)
    allowed_parts = {w for a in allow for w in _WORD.findall(a)}
    found = []
    for word in _words(text):
        if len(word) < 2 or word in allowed or word in allowed_parts:
            continue
        if _is_vietnamese_word(word) or not word.isascii():
            continue
        low = word.lower()
        if low in _EN_ON_VI or not _VI_SYLLABLE.match(low):
            found.append(word)
    return found


def vietnamese_words(text: str, allow: Iterable[str] = ()) -> list[str]:
    """The Vietnamese words of an English ``text``: any word with a Vietnamese letter (ă â đ ê ô
    ơ ư) or a tone mark. ``allow`` passes proper names written the Vietnamese way ("Côn Đảo")."""
    allowed = ALLOWED_WORDS | set(allow) | {w for a in allow for w in _WORD.findall(a)}
    return [w for w in _words(text) if w not in allowed and _is_vietnamese_word(w)]


# a number as written: digits with "." or "," between them (a sentence's final "." is not part)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")
_EN_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")  # 14,029  3,089.2
_EN_DECIMAL = re.compile(r"^\d+\.\d+$")  # 2.5  0.25
_VI_GROUPED = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d+)?$")  # 14.029  3.089,2
_VI_DECIMAL = re.compile(r"^\d+,\d+$")  # 2,5


def english_style_numbers(text: str) -> list[str]:
    """Numbers written the English way in a Vietnamese ``text``: a comma between thousands
    ("14,029", "3,089.2") or a decimal point ("2.5"; "14.029" is Vietnamese grouping and
    passes). A version ("0.1.0") and a date ("01/12/2026") are not numbers here."""
    found = []
    for m in _NUMBER.finditer(text):
        s = m.group()
        if _EN_GROUPED.match(s) or (_EN_DECIMAL.match(s) and not _VI_GROUPED.match(s)):
            found.append(s)
    return found


def vietnamese_style_numbers(text: str) -> list[str]:
    """Numbers written the Vietnamese way in an English ``text``: a point between thousands
    ("14.029", "3.089,2") or a decimal comma ("2,5"; "14,029" is English grouping and
    passes)."""
    found = []
    for m in _NUMBER.finditer(text):
        s = m.group()
        if _VI_GROUPED.match(s) or (_VI_DECIMAL.match(s) and not _EN_GROUPED.match(s)):
            found.append(s)
    return found
