"""Frozen values and redundant sources: pure functions, stepped on a virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from controller.devices.values import Quality, Reading
from controller.snapshot import device_view, site_figures
from controller.trust import (
    BATTERY_STILL_S,
    DO_STILL_S,
    PV_STILL_S,
    FreezeState,
    mark_frozen,
    trusted,
    watch,
)

TS = datetime(2026, 3, 1, 13, tzinfo=UTC)


def good(**points: float) -> dict[str, Reading]:
    return {p: Reading(v, TS) for p, v in points.items()}


@pytest.mark.parametrize(("points", "still_s"), [
    ({"do_mg_l": 5.123}, DO_STILL_S),
    ({"pv_w": 8123.4}, PV_STILL_S),
    ({"battery_v": 51.37, "battery_a": -80.5}, BATTERY_STILL_S),
    ({"battery_v": 51.37, "dc_w": 9000.0}, BATTERY_STILL_S),
])
def test_a_value_that_cannot_stay_still_is_frozen_after_its_time(
        points: dict[str, float], still_s: float) -> None:
    state = FreezeState()
    t = 0.0
    while t < still_s:
        state, frozen = watch(state, {"dev": good(**points)}, t)
        assert frozen == {}, t
        t += 30.0
    state, frozen = watch(state, {"dev": good(**points)}, t)
    assert list(frozen) == ["dev"]
    # It moves again: trusted at once.
    moved = {k: v + 0.01 for k, v in points.items()}
    _, frozen = watch(state, {"dev": good(**moved)}, t + 30.0)
    assert frozen == {}


@pytest.mark.parametrize("points", [
    {"pv_w": 0.0},  # night: no PV to move
    {"battery_v": 53.6, "battery_a": 0.0},  # resting bank
    {"battery_v": 55.2, "battery_a": 40.0},  # charging at constant voltage (absorption)
    {"charge_stage": 2.0},  # not a watched point
])
def test_values_allowed_to_stay_still_are_never_frozen(points: dict[str, float]) -> None:
    state = FreezeState()
    for k in range(200):  # 100 min
        state, frozen = watch(state, {"dev": good(**points)}, 30.0 * k)
        assert frozen == {}


def test_a_frozen_device_keeps_its_values_but_is_not_good() -> None:
    marked = mark_frozen({"soc_pct": Reading(78, TS),
                          "pv_w": Reading(None, TS, Quality.INVALID)})
    assert marked["soc_pct"] == Reading(78, TS, Quality.FROZEN)
    assert not marked["soc_pct"].ok
    assert marked["pv_w"].quality is Quality.INVALID


def test_the_soc_follows_the_agreeing_sources_first_in_priority() -> None:
    def src(**socs: float) -> list[tuple[str, Reading]]:
        return [(name, Reading(v, TS)) for name, v in socs.items()]

    # A hung charge controller at 78 % against the inverter and the other controller.
    assert trusted(src(inverter=99.8, mppt_1=78, mppt_2=100), 10) == ("inverter", ["mppt_1"])
    # The inverter alone against two agreeing controllers: the majority wins.
    assert trusted(src(inverter=40, mppt_1=78, mppt_2=77), 10) == ("mppt_1", ["inverter"])
    # Two sources apart: priority decides, and the disagreement is said.
    assert trusted(src(inverter=40, mppt_1=78), 10) == ("inverter", ["mppt_1"])
    assert trusted(src(inverter=61.3, mppt_1=61), 10) == ("inverter", [])
    assert trusted([("inverter", Reading(None, TS, Quality.INVALID))], 10) == (None, [])


def test_site_soc_is_the_trusted_one_not_the_first_good() -> None:
    views = [device_view("mppt-1", "epever_tracer", good(soc_pct=78), TS),
             device_view("mppt-2", "epever_tracer", good(soc_pct=100), TS),
             device_view("inverter", "sunspec", good(soc_pct=99.8), TS)]
    assert site_figures(views, TS)["soc_pct"].value == 99.8
    views[2] = device_view("inverter", "sunspec", {
        "soc_pct": Reading(99.8, TS, Quality.FROZEN)}, TS)
    views[1] = device_view("mppt-2", "epever_tracer", good(soc_pct=99), TS)
    assert site_figures(views, TS)["soc_pct"].value == 78  # the first in priority among equals


def test_a_regulated_voltage_is_not_a_frozen_device() -> None:
    """Float charge: the charger holds 54.40 V while the bank gives a little to the loads;
    the currents and PV move, so the device is alive."""
    state = FreezeState()
    for k in range(200):  # 100 min
        points = good(battery_v=54.40, battery_a=-1.0 - 0.01 * (k % 7), pv_w=3000.0 + k)
        state, frozen = watch(state, {"mppt": points}, 30.0 * k)
        assert frozen == {}
