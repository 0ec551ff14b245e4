"""A meter's energy from its import counter: deltas, a reset, a discontinuity, integration
without a counter, and never part of the site's energy (hand-checked numbers)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from controller.devices.values import Reading
from controller.energy import EnergyState, energy, meter_energy, site_energy
from controller.snapshot import device_view

TS = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
RATING: dict[Any, float] = {"pv": 10.0, "load": 10.0, "generator": 10.0,
                            "battery_charge": math.inf, "battery_discharge": math.inf}


def good(**points: float) -> dict[str, Reading]:
    return {p: Reading(v, TS) for p, v in points.items()}


def run(reads: list[tuple[float, float, dict[str, float]]]) -> dict[str, float]:
    """Wh per (device, method) over reads of (monotonic s, dt_s, meter points)."""
    state = EnergyState()
    out: dict[str, float] = {}
    for mono, dt_s, points in reads:
        views = [device_view("pump-meter", "sdm630", good(**points), TS)]
        per_dev, state = meter_energy(views, state, dt_s, mono, RATING)
        for dev, steps in per_dev.items():
            for s in steps:
                assert s.category == "load" and s.wh >= 0
                out[f"{dev}/{s.method}"] = out.get(f"{dev}/{s.method}", 0.0) + s.wh
    return out


def test_counter_deltas() -> None:
    # 1234.50 → 1234.75 → 1235.00 kWh: 500 Wh, whatever the power said.
    reads = [(0.0, 0.0, {"import_kwh": 1234.5, "power_w": 9000.0}),
             (5.0, 5.0, {"import_kwh": 1234.75, "power_w": 9000.0}),
             (10.0, 5.0, {"import_kwh": 1235.0, "power_w": 9000.0})]
    assert run(reads) == {"pump-meter/counter": pytest.approx(500.0)}


def test_a_reset_counts_from_zero_and_a_jump_is_not_energy() -> None:
    reads = [(0.0, 0.0, {"import_kwh": 50.0}),
             (5.0, 5.0, {"import_kwh": 50.01}),  # +10 Wh
             (10.0, 5.0, {"import_kwh": 0.02}),  # the meter was reset: 20 Wh since
             (15.0, 5.0, {"import_kwh": 9000.0}),  # garbage: 9 MWh in 5 s of a 10 kW site
             (20.0, 5.0, {"import_kwh": 0.05})]  # back on course: +30 Wh from 0.02
    assert run(reads) == {"pump-meter/counter": pytest.approx(60.0)}


def test_without_a_counter_power_is_integrated() -> None:
    reads = [(0.0, 0.0, {"power_w": 3000.0}), (5.0, 5.0, {"power_w": 3000.0}),
             (10.0, 5.0, {"power_w": 3000.0})]
    # 3 kW × 10 s = 8.33 Wh
    assert run(reads) == {"pump-meter/integrated": pytest.approx(3000 * 10 / 3600)}


def test_a_meter_is_not_in_the_sites_energy() -> None:
    views = [device_view("pump-meter", "sdm120", good(import_kwh=1.0, power_w=3000.0), TS),
             device_view("inverter", "sunspec", good(ac_kwh_total=10.0, ac_w=3000.0), TS)]
    state = EnergyState()
    per_dev, state = energy(views, state, 0.0, 0.0, RATING)
    metered, state = meter_energy(views, state, 0.0, 0.0, RATING)
    assert "pump-meter" not in per_dev and set(metered) == {"pump-meter"}
    views = [device_view("pump-meter", "sdm120", good(import_kwh=1.25, power_w=3000.0), TS),
             device_view("inverter", "sunspec", good(ac_kwh_total=10.5, ac_w=3000.0), TS)]
    per_dev, state = energy(views, state, 5.0, 5.0, RATING)
    metered, state = meter_energy(views, state, 5.0, 5.0, RATING)
    site = {s.category: s.wh for s in site_energy(per_dev.values())}
    assert site["load"] == pytest.approx(500.0)  # the inverter's counter only
    assert sum(s.wh for s in metered["pump-meter"]) == pytest.approx(250.0)
