"""A compressor's start counts in the controller's start budget (issue 18): an appliance load
switched on starts its largest compressor."""

from __future__ import annotations

import tomllib

from controller.model import motor_surge_kw
from sitefile import parse_site
from tests.conftest import HOME


def test_an_appliance_loads_surge_is_its_largest_compressor_start() -> None:
    data = tomllib.loads(HOME.read_text(encoding="utf-8"))
    data["loads"].append({"name": "aircon", "kind": "appliance", "flexible": True,
                          "appliances": [
                              {"name": "split", "power_w": 850, "minutes_per_day": 300,
                               "start_multiplier": 5},
                              {"name": "fan", "power_w": 60, "minutes_per_day": 300},
                              {"name": "fridge", "power_w": 120, "minutes_per_day": 1440,
                               "start_multiplier": 6}]})
    site = parse_site(data, HOME.parent, HOME)
    assert motor_surge_kw(site, "aircon") == 0.85 * 5  # 4.25 kW > the fridge's 0.72 kW
    # the preset house has no compressor start given: no surge
    assert motor_surge_kw(site, "house") == 0.0
