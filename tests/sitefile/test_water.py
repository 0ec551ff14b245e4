"""The water keys of the site file: a water_pump load, its pump (catalogue or inline), the
tank, and the errors that name key, value and reason."""

from __future__ import annotations

from typing import Any

import pytest

from sitefile import PUMP_CATALOGUE, SiteFileError, WaterPumpLoad, parse_site

PUMP_ID = next(iter(PUMP_CATALOGUE))


def site(pump: Any = PUMP_ID, **load: Any) -> dict[str, Any]:
    """A small irrigation site with one water pump and a tank."""
    return {
        "site": {"name": "farm", "latitude": 11.56, "longitude": 108.99},
        "tank": {"m3": 40, "height_m": 2.5},
        "loads": [{"name": "vines", "kind": "water_pump", "flow_m3_per_day": 30, "head_m": 18,
                   "pipe": {"length_m": 150, "diameter_mm": 50}, "pump": pump, **load}],
    }


def the_pump(data: dict[str, Any]) -> WaterPumpLoad:
    return parse_site(data).water_pumps[0]


def test_a_catalogue_id_resolves_to_the_whole_model() -> None:
    load = the_pump(site())
    entry = PUMP_CATALOGUE[PUMP_ID]
    assert load.pump.id == PUMP_ID
    assert load.pump.flow_m3_h == [float(v) for v in entry["flow_m3_h"]]
    assert load.pump.rated_kw == entry["rated_kw"]
    assert load.flow_m3_per_day == [30.0] * 12


def test_the_drive_sets_the_start_surge_and_overrides_the_catalogue() -> None:
    assert the_pump(site()).start_multiplier == 1.0 if PUMP_CATALOGUE[PUMP_ID].get(
        "drive", "vfd") == "vfd" else 6.0
    fixed = the_pump(site(drive="fixed"))
    assert (fixed.drive, fixed.pump.drive, fixed.start_multiplier) == ("fixed", "fixed", 6.0)


def test_an_inline_pump_is_a_custom_model() -> None:
    inline = {"name": "my pump", "rated_kw": 1.1, "flow_m3_h": [0, 3, 6],
              "head_m": [30, 24, 12], "efficiency_pct": [0, 50, 40]}
    load = the_pump(site(inline))
    assert load.pump.id == "custom" and load.pump.affinity_kw(25.0) == pytest.approx(1.1 / 8)


@pytest.mark.parametrize(("change", "key", "words"), [
    ({"pump": "no-such-pump"}, "loads[0].pump", "not in the pump catalogue"),
    ({"flow_m3_per_day": [1, 2, 3]}, "loads[0].flow_m3_per_day", "at least 12"),
    ({"pump": {"name": "p", "rated_kw": 1, "flow_m3_h": [0, 3, 2], "head_m": [30, 24, 12],
               "efficiency_pct": [0, 50, 40]}}, "loads[0].pump", "flow_m3_h must increase"),
    ({"pump": {"name": "p", "rated_kw": 1, "flow_m3_h": [0, 3, 6, 8], "head_m": [30, 24, 9],
               "efficiency_pct": [0, 50, 40, 30]}}, "loads[0].pump", "the same number of points"),
])
def test_a_bad_water_pump_names_key_and_reason(change: dict[str, Any], key: str,
                                               words: str) -> None:
    data = site()
    data["loads"][0].update(change)
    with pytest.raises(SiteFileError) as e:
        parse_site(data, file="farm.toml")
    assert any(p.path.startswith(key) and words in p.message for p in e.value.problems), \
        str(e.value)


def test_tank_levels_must_be_ordered() -> None:
    data = site()
    data["tank"] = {"m3": 40, "min_level_pct": 90, "max_level_pct": 80}
    with pytest.raises(SiteFileError) as e:
        parse_site(data, file="farm.toml")
    assert "min_level_pct 90 must be below max_level_pct 80" in str(e.value)
