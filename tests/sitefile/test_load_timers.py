"""Compressor starts and switching timers in the site file: defaults and limits."""

from __future__ import annotations

from typing import Any

import pytest

from sitefile import ApplianceLoad, SiteFileError, load_site, parse_site
from sitefile.presets import COMPRESSOR_RESTART_DELAY_S
from tests.conftest import HOME

AIRCON = {"name": "aircon", "power_w": 850, "minutes_per_day": 300, "duty_cycle": 0.7}


def load(**extra: Any) -> ApplianceLoad:
    return ApplianceLoad.model_validate({"name": "house", "kind": "appliance", **extra})


def test_no_surge_and_no_timers_by_default() -> None:
    ld = load(appliances=[AIRCON])
    app = ld.appliances[0]
    assert app.start_multiplier == 1.0 and app.cycle_min == 20.0
    assert (ld.min_on_s, ld.min_off_s, ld.restart_delay_s) == (0.0, 0.0, 0.0)


def test_a_compressor_gets_the_anti_short_cycle_delay() -> None:
    ld = load(appliances=[{**AIRCON, "start_multiplier": 5}])
    assert COMPRESSOR_RESTART_DELAY_S == 180.0
    assert ld.restart_delay_s == 180.0
    assert load(appliances=[{**AIRCON, "start_multiplier": 5}],
                restart_delay_s=60).restart_delay_s == 60.0
    # a dump and a reload keep it
    again = ApplianceLoad.model_validate(ld.model_dump())
    assert again.restart_delay_s == 180.0


@pytest.mark.parametrize("bad", [{"start_multiplier": 0.5}, {"start_multiplier": 11},
                                 {"cycle_min": 1}, {"duty_cycle": 0}])
def test_out_of_range_appliance_keys_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        load(appliances=[{**AIRCON, **bad}])


@pytest.mark.parametrize("key", ["min_on_s", "min_off_s", "restart_delay_s"])
def test_negative_timers_are_refused(key: str) -> None:
    site = load_site(HOME)
    data = site.model_dump()
    data["loads"][0][key] = -1
    with pytest.raises(SiteFileError, match=key):
        parse_site(data)
