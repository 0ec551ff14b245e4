"""The dashboard's tank view: the water figures as the controller published them, and the
tank's size and levels for the gauge; its words in both languages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import httpx
import pytest

import api
from api.summary import tank_info
from sitefile import Site, load_site
from store.contract import SITE_FIGURES, Sample
from store.writer import Store
from tests.api.conftest import T0, Keys
from tests.conftest import EXAMPLES

WATER = ("tank_level_pct", "pump_w", "water_m3_h", "water_today_m3")
STATIC = Path(api.__file__).parent / "static"


def test_the_water_figures_are_site_figures() -> None:
    assert set(WATER) <= set(SITE_FIGURES)


def test_tank_info_for_the_gauge() -> None:
    site = load_site(EXAMPLES / "irrigation-ninh-thuan.toml")
    tank = tomllib.loads((EXAMPLES / "irrigation-ninh-thuan.toml").read_text())["tank"]
    assert tank_info(site) == {"m3": tank["m3"], "height_m": tank["height_m"],
                               "min_level_pct": tank["min_level_pct"],
                               "max_level_pct": tank["max_level_pct"]}


def test_a_site_without_a_tank_has_none(site: Site) -> None:
    assert tank_info(site) is None


async def test_status_shows_the_published_water_figures(db: Path, site: Site,
                                                        client: httpx.AsyncClient,
                                                        api_keys: Keys) -> None:
    store = Store(db, site.site.timezone)
    ts = T0 + 40 * 3600
    store.write_cycle(ts, [Sample("site", "tank_level_pct", 62.5, "good", ts),
                           Sample("site", "water_today_m3", 18.25, "good", ts),
                           Sample("site", "water_m3_h", None, "stale", ts)], {}, 0.0)
    store.close()
    body = (await client.get("/api/v1/status", headers=api_keys.headers("viewer"))).json()
    figs = body["figures"]
    assert figs["tank_level_pct"]["value"] == 62.5
    assert figs["water_today_m3"]["value"] == 18.25
    assert figs["water_m3_h"]["quality"] == "stale"


@pytest.mark.parametrize("key", ["tank", "tank_m3", "tank_reserve", "water_today", "pump_now",
                                 "alarm_pump_dry_run", "alarm_tank_low"])
def test_the_tank_words_exist_in_both_languages(key: str) -> None:
    text = (STATIC / "i18n.js").read_text(encoding="utf-8")
    for lang in ("vi", "en"):
        block = re.search(rf"^  {lang}: {{\n(.*?)^  }},", text, re.M | re.S)
        assert block is not None and re.search(rf"^    {key}:", block.group(1), re.M), lang
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    assert 'data-testid="tank-gauge"' in page and 'data-testid="water-today"' in page
