"""Energy from counters and site figures from natures: pure functions, hand-checked numbers."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from controller.devices.values import Quality, Reading
from controller.energy import EnergyState, counter_step_kwh, energy, site_energy
from controller.snapshot import device_view, site_figures, total
from store.contract import SITE_FIGURES, EnergyStep

TS = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
RATING: dict[Any, float] = {"pv": 10.0, "load": 10.0, "generator": 10.0,
                            "battery_charge": math.inf, "battery_discharge": math.inf}


def good(**points: float | bool) -> dict[str, Reading]:
    return {p: Reading(v, TS) for p, v in points.items()}


@pytest.mark.parametrize(("prev", "now", "limit", "step"), [
    (100.0, 100.25, 5.0, 0.25),  # an ordinary step
    (100.0, 100.0, 5.0, 0.0),
    (100.0, 0.5, 5.0, 0.5),  # the device rebooted: its counter restarted at 0
    (100.0, 0.0, 5.0, 0.0),
    (100.0, 180.0, 5.0, None),  # 80 kWh in one read of a 10 kW site: a discontinuity
    (100.0, 42.0, 5.0, None),  # down, but more than the rating allows since: not a restart
])
def test_counter_step_is_never_negative_nor_huge(prev: float, now: float, limit: float,
                                                 step: float | None) -> None:
    assert counter_step_kwh(prev, now, limit) == pytest.approx(step)


def test_a_discontinuity_does_not_move_the_counters_mark() -> None:
    """Garbage that passed the ranges (a huge counter), then the counter back on its course:
    the energy of the gap once, never the garbage, never the whole counter as a "restart"."""
    state = EnergyState()
    total = 0.0
    for mono, kwh in ((0.0, 500.0), (5.0, 500.01), (10.0, 90_000.0), (15.0, 500.03)):
        views = [device_view("mppt-1", "epever_tracer", good(
            pv_kwh_total=kwh, load_kwh_total=0.0, pv_w=7000.0, battery_w=0.0), TS)]
        per_dev, state = energy(views, state, 5.0, mono, RATING)
        total += sum(s.wh for s in per_dev["mppt-1"] if s.category == "pv")
    assert total == pytest.approx(30.0)  # 500.00 → 500.03 kWh


def test_counters_give_energy_whatever_the_poll_interval() -> None:
    """Two MPPTs, read at 5 s and then after 40 s of silence: the counters' differences,
    not power × controller time."""
    state = EnergyState()
    steps_total: dict[str, float] = {}
    reads = [(0.0, 0.0, 12.00, 3.00), (5.0, 5.0, 12.01, 3.02), (45.0, 5.0, 12.31, 3.30)]
    for mono, dt_s, kwh1, kwh2 in reads:
        views = [device_view("mppt-1", "epever_tracer", good(
            pv_kwh_total=kwh1, load_kwh_total=0.0, pv_w=9000.0, battery_w=-300.0), TS),
            device_view("mppt-2", "epever_tracer", good(
                pv_kwh_total=kwh2, load_kwh_total=0.0, pv_w=9000.0, battery_w=-300.0), TS)]
        per_dev, state = energy(views, state, dt_s, mono, RATING)
        for s in site_energy(per_dev.values()):
            steps_total[f"{s.category}/{s.method}"] = steps_total.get(
                f"{s.category}/{s.method}", 0.0) + s.wh
    # PV: (12.31 − 12.00) + (3.30 − 3.00) kWh = 610 Wh, from the counters.
    assert steps_total["pv/counter"] == pytest.approx(610.0)
    assert steps_total["load/counter"] == pytest.approx(0.0)
    # No battery counter: 2 × 300 W × dt_s, integrated (the first cycle has dt_s = 0).
    assert steps_total["battery_discharge/integrated"] == pytest.approx(2 * 2 * 300 * 5 / 3600)
    assert "battery_charge/integrated" not in steps_total  # no energy moved
    assert "pv/integrated" not in steps_total


def test_a_counter_that_went_invalid_is_not_replaced_by_integration() -> None:
    state = EnergyState()
    view = device_view("genset", "generator", good(generator_kwh_total=50.0,
                                                   generator_w=8000.0), TS)
    _, state = energy([view], state, 5.0, 0.0, RATING)
    blind = device_view("genset", "generator", {
        "generator_kwh_total": Reading(None, TS, Quality.INVALID),
        "generator_w": Reading(8000.0, TS)}, TS)
    per_dev, state = energy([blind], state, 5.0, 5.0, RATING)
    assert per_dev == {}
    back = device_view("genset", "generator", good(generator_kwh_total=50.1,
                                                   generator_w=8000.0), TS)
    per_dev, _ = energy([back], state, 5.0, 10.0, RATING)
    assert per_dev["genset"] == (EnergyStep("generator", pytest.approx(100.0), "counter"),)


def test_a_device_without_counter_integrates_its_power() -> None:
    """A SunSpec inverter whose WH accumulators are not implemented (acc32 0 → invalid)."""
    view = device_view("inverter", "sunspec", {
        "ac_w": Reading(1200.0, TS), "ac_kwh_total": Reading(None, TS, Quality.INVALID),
        "pv_w": Reading(0.0, TS), "pv_kwh_total": Reading(None, TS, Quality.INVALID)}, TS)
    per_dev, _ = energy([view], EnergyState(), 60.0, 0.0, RATING)
    assert per_dev["inverter"] == (EnergyStep("load", pytest.approx(20.0), "integrated"),
                                   EnergyStep("pv", 0.0, "integrated"))
    assert site_energy(per_dev.values()) == (EnergyStep("load", pytest.approx(20.0),
                                                        "integrated"),)


def test_site_figures_come_from_natures_with_the_battery_sign() -> None:
    """Night: both MPPTs see the bank discharge (negative net current); PV is zero."""
    views = [
        device_view("mppt-1", "epever_tracer", good(
            pv_w=0.0, battery_w=-1250.0, soc_pct=61, battery_v=51.2, load_w=0.0), TS),
        device_view("mppt-2", "epever_tracer", good(
            pv_w=0.0, battery_w=-1250.0, soc_pct=61, battery_v=51.2, load_w=0.0), TS),
        device_view("inverter", "sunspec", good(ac_w=2400.0, pv_w=0.0, soc_pct=61.3), TS),
        device_view("do-a", "do_sensor", good(do_mg_l=5.5, water_temp_c=28.0), TS),
        device_view("do-b", "do_sensor", good(do_mg_l=4.25, water_temp_c=28.5), TS),
        device_view("genset", "generator", good(generator_running=False, fuel_pct=80), TS),
    ]
    f = site_figures(views, TS)
    assert set(SITE_FIGURES) <= set(f)
    assert f["battery_w"].value == pytest.approx(-2500.0)
    assert f["pv_w"].value == 0.0
    assert f["load_w"].value == pytest.approx(2400.0)  # AC out + the MPPTs' DC load outputs
    assert f["do_mg_l"].value == 4.25  # the pond that needs air first
    assert f["soc_pct"].value == 61.3  # the inverter's battery monitor first, all agree
    assert f["generator_running"].value is False and f["fuel_pct"].value == 80


def test_a_sum_is_as_good_as_its_worst_term() -> None:
    stale = Reading(100.0, TS, Quality.STALE)
    assert total([Reading(1.0, TS), stale], TS) == Reading(101.0, TS, Quality.STALE)
    missing = Reading.missing(TS)
    assert total([Reading(1.0, TS), missing], TS).quality is Quality.MISSING
    assert total([Reading(1.0, TS), missing], TS).value is None
    assert total([], TS).quality is Quality.MISSING
