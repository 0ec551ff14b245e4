"""The dashboard names every alarm kind of the store's one table, in Vietnamese and English,
and every quality a value can have; both languages have the same words."""

from __future__ import annotations

import re
from pathlib import Path

import api
from store.contract import ALARMS, QUALITY_ORDER

I18N = Path(api.__file__).parent / "static" / "i18n.js"


def _keys(lang: str) -> set[str]:
    text = I18N.read_text(encoding="utf-8")
    block = re.search(rf"^  {lang}: {{\n(.*?)^  }},", text, re.M | re.S)
    assert block is not None, lang
    return set(re.findall(r"^    ([a-z_]+):", block.group(1), re.M))


def test_every_alarm_kind_and_quality_is_named_in_both_languages() -> None:
    for lang in ("vi", "en"):
        keys = _keys(lang)
        assert {f"alarm_{kind}" for kind in ALARMS} <= keys, lang
        assert set(QUALITY_ORDER) - {"good"} <= keys, lang


def test_both_languages_have_the_same_words() -> None:
    """Every word of the dashboard exists in Vietnamese (the default) and in English; the
    reliability panel's among them."""
    assert _keys("vi") == _keys("en")
    assert {"reliability", "saidi_head", "saifi_head", "maifi_head", "curtail_head", "planned",
            "unplanned", "rel_note", "cut_start", "cut_end", "cut_in_progress"} <= _keys("vi")
