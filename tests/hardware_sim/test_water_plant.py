"""The simulated water plant: drive, pipe, tank and field draw, alone and inside the Plant."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from hardware_sim.errors import FaultError
from hardware_sim.inputs import Inputs, build_inputs
from hardware_sim.plant import InverterState, Plant
from hardware_sim.simulator import Simulator
from hardware_sim.water import (
    DRY_RUN_POWER_FRACTION,
    RAMP_HZ_S,
    RESTART_DELAY_S,
    WaterPlant,
    window_overlap_h,
)
from sitefile import Site, parse_site
from sitefile.model import Tank
from sizing.hydraulics import operating_point
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "irrigation-ninh-thuan.toml"
MARCH_DRAW_M3 = 56.0  # the example's flow_m3_per_day for March
MAY_DRAW_M3 = 25.0  # …and for May
WINDOW = (6.0, 10.0)  # the example's irrigation window [h]
# 1 March 2026, 00:00 and 22:00 in Phan Rang (UTC+7)
MIDNIGHT = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
PLENTY_KW = 50.0  # more than any pump of the catalogue draws [kW]
BIG_TANK = Tank(m3=200.0, height_m=2.5, initial_level_pct=30.0)  # a day's pumping fits [m³]


def example_data() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def make_site(data: dict[str, Any]) -> Site:
    return parse_site(data, EXAMPLE.parent, EXAMPLE)


def with_battery(data: dict[str, Any], **inverter: float) -> dict[str, Any]:
    data["battery"] = {"chemistry": "lfp", "kwh": 5.0, "min_soc_pct": 20.0,
                       "max_soc_pct": 100.0, "initial_soc_pct": 60.0, "max_charge_kw": 5.0,
                       "max_discharge_kw": 10.0}
    data["inverter"] = {**data["inverter"], **inverter}
    return data


@pytest.fixture(scope="module")
def site() -> Site:
    return make_site(example_data())


@pytest.fixture(scope="module")
def inputs(site: Site) -> Inputs:
    return build_inputs(site)


def water(site: Site, level_pct: float | None = None, drive: str | None = None,
          tank: Tank | None = None) -> WaterPlant:
    load = site.water_pumps[0]
    if drive is not None:
        load = load.model_copy(update={"pump": load.pump.model_copy(update={"drive": drive})})
    tank = tank or site.tank
    assert tank is not None
    w = WaterPlant(load, tank, month=3)
    if level_pct is not None:
        w.stored_m3 = tank.m3 * level_pct / 100
    return w


def full_kw(site: Site) -> float:
    """The site's pump at rated speed [kW]."""
    return float(water(site).table.electric_kw[-1])


def sunny_kw(hour: float, peak_kw: float) -> float:
    """A clear day's power on offer: a half sine from 06:00 to 18:00 [kW]."""
    return peak_kw * max(0.0, math.sin(math.pi * (hour - 6.0) / 12.0))


def op_flow(w: WaterPlant, hz: float) -> float:
    load = w.load
    op = operating_point(load.pump, load.head_m, load.pipe, hz / load.pump.rated_hz)
    assert op is not None
    return op.flow_m3_h


# --------------------------------------------------------------------------- pieces


def test_window_overlap_by_hand() -> None:
    assert window_overlap_h(6, 4, 5.5, 1.0) == pytest.approx(0.5)
    assert window_overlap_h(6, 4, 7.0, 0.25) == pytest.approx(0.25)
    assert window_overlap_h(6, 4, 9.75, 0.5) == pytest.approx(0.25)
    assert window_overlap_h(6, 4, 10.0, 1.0) == 0.0
    assert window_overlap_h(22, 4, 23.5, 1.0) == pytest.approx(1.0)  # wraps past midnight
    assert window_overlap_h(22, 4, 1.5, 1.0) == pytest.approx(0.5)
    assert window_overlap_h(0, 24, 13.0, 0.1) == pytest.approx(0.1)


def run_day(w: WaterPlant, peak_kw: float, month: int, draw_m3: float,
            dt_s: float = 10.0) -> dict[str, float]:
    """Step ``w`` through one day of ``month`` from 00:00, ``peak_kw`` at noon, the field
    drawing ``draw_m3`` in its window; what a hand sums."""
    pumped = drawn = 0.0
    top = 0.0
    n = round(86400 / dt_s)
    for i in range(n):
        hour = i * dt_s / 3600
        kw = w.drive(dt_s, sunny_kw(hour, peak_kw))
        assert kw <= sunny_kw(hour, peak_kw) + 1e-9
        pumped += w.flow_m3_h * dt_s / 3600
        start, length = WINDOW[0], WINDOW[1] - WINDOW[0]
        overlap = max(0.0, min(hour + dt_s / 3600, start + length) - max(hour, start))
        drawn += draw_m3 / length * overlap
        w.flow(dt_s, hour, month)
        assert 0.0 <= w.level_m <= w.tank.height_m + 1e-12
        top = max(top, w.level_pct)
    return {"pumped": pumped, "drawn": drawn, "top_pct": top}


def test_a_sunny_day_fills_the_tank_by_the_hand_sum(site: Site) -> None:
    w = water(site, tank=BIG_TANK)
    w.command(run=True)
    stored0 = w.stored_m3
    s = run_day(w, peak_kw=full_kw(site), month=5, draw_m3=MAY_DRAW_M3)
    assert s["drawn"] == pytest.approx(MAY_DRAW_M3)
    assert w.delivered_m3 == pytest.approx(MAY_DRAW_M3)
    assert w.overflow_m3 == 0.0 and w.unmet_m3 == 0.0
    assert w.stored_m3 - stored0 == pytest.approx(s["pumped"] - s["drawn"], abs=1e-9)
    assert w.stored_m3 > stored0  # filled: more pumped than the field drew
    assert w.total_m3 == pytest.approx(s["pumped"])
    assert w.level_m == pytest.approx(w.stored_m3 / 200.0 * 2.5)
    assert not w.running and w.flow_m3_h == 0.0  # night: the drive sleeps


def test_a_tank_left_running_overflows_and_counts_it(site: Site) -> None:
    w = water(site, level_pct=99.0, tank=BIG_TANK)
    w.command(run=True)
    stored0 = w.stored_m3
    s = run_day(w, peak_kw=2 * full_kw(site), month=5, draw_m3=MAY_DRAW_M3)
    assert s["top_pct"] == pytest.approx(100.0)  # never above the top
    assert w.overflow_m3 > 1.0
    assert w.stored_m3 - stored0 == pytest.approx(s["pumped"] - s["drawn"] - w.overflow_m3,
                                                  abs=1e-9)


def test_the_pump_keeps_running_on_a_full_tank(site: Site) -> None:
    w = water(site, level_pct=100.0)
    w.command(run=True)
    for _ in range(60):
        w.step(1.0, 2.0, 12.0, 3)
    assert w.running and w.flow_m3_h > 0  # only the controller stops it at the high level
    assert w.level_pct == pytest.approx(100.0)
    assert w.overflow_m3 == pytest.approx(w.total_m3)  # all it pumped spilt


def test_weak_power_slows_a_vfd_pump_and_stops_a_fixed_one(site: Site) -> None:
    vfd = water(site)
    vfd.command(run=True)
    for _ in range(30):
        vfd.step(1.0, PLENTY_KW, 12.0, 3)
    full_flow, rated_hz = vfd.flow_m3_h, vfd.load.pump.rated_hz
    assert vfd.pump_hz == pytest.approx(rated_hz)
    assert full_flow == pytest.approx(op_flow(vfd, rated_hz), rel=1e-3)
    full_kw = vfd.pump_w / 1000
    weak_kw = 0.5 * full_kw
    for _ in range(30):
        kw = vfd.step(1.0, weak_kw, 12.0, 3)
    assert vfd.running
    assert vfd.min_hz < vfd.pump_hz < rated_hz
    assert kw <= weak_kw
    assert kw == pytest.approx(weak_kw, rel=0.01)  # it takes what it is offered
    n = vfd.pump_hz / rated_hz
    assert vfd.flow_m3_h == pytest.approx(op_flow(vfd, vfd.pump_hz), rel=0.01)
    # Q ∝ n would give n × full flow; against a static head the flow falls faster
    assert 0 < vfd.flow_m3_h < n * full_flow
    # roughly the affinity law P ∝ n³ (the system curve bends it)
    assert n == pytest.approx((weak_kw / full_kw) ** (1 / 3), abs=0.15)

    fixed = water(site, drive="fixed")
    fixed.command(run=True, hz=30.0)  # a fixed-speed pump ignores the setpoint
    assert fixed.step(1.0, weak_kw, 12.0, 3) == 0.0
    assert not fixed.running and fixed.flow_m3_h == 0.0
    fixed = water(site, drive="fixed")
    fixed.command(run=True)
    assert fixed.step(1.0, PLENTY_KW, 12.0, 3) == pytest.approx(full_kw, rel=1e-6)
    assert fixed.running and fixed.started and fixed.pump_hz == rated_hz
    assert fixed.flow_m3_h == pytest.approx(full_flow, rel=1e-6)


def test_the_drive_ramps_sleeps_and_wakes(site: Site) -> None:
    w = water(site)
    w.command(run=True, hz=50.0)
    w.step(1.0, PLENTY_KW, 12.0, 3)
    assert w.pump_hz == pytest.approx(w.min_hz)  # a start begins at the lower limit
    w.step(1.0, PLENTY_KW, 12.0, 3)
    assert w.pump_hz == pytest.approx(w.min_hz + RAMP_HZ_S)
    for _ in range(10):
        w.step(1.0, PLENTY_KW, 12.0, 3)
    w.command(hz=40.0)
    w.step(1.0, PLENTY_KW, 12.0, 3)
    assert w.pump_hz == pytest.approx(50.0 - RAMP_HZ_S)
    w.command(hz=10.0)  # below the lower limit: runs at the lower limit
    for _ in range(10):
        w.step(1.0, PLENTY_KW, 12.0, 3)
    assert w.pump_hz == pytest.approx(w.min_hz)
    w.step(1.0, 0.01, 12.0, 3)  # too little power even for the lower limit
    assert not w.running and w.pump_w == 0.0
    for _ in range(round(RESTART_DELAY_S) - 1):
        w.step(1.0, PLENTY_KW, 12.0, 3)
        assert not w.running  # the wake-up delay
    w.step(1.0, PLENTY_KW, 12.0, 3)
    w.step(1.0, PLENTY_KW, 12.0, 3)
    assert w.running
    w.command(run=False)
    w.step(1.0, PLENTY_KW, 12.0, 3)
    assert not w.running and w.flow_m3_h == 0.0 and w.pump_a == 0.0


def test_dry_run_no_flow_level_steady_thirty_percent_power(site: Site) -> None:
    w = water(site, level_pct=50.0)
    w.command(run=True)
    w.dry = True
    stored0, total0 = w.stored_m3, w.total_m3
    for _ in range(60):  # at noon: the field does not draw
        w.step(1.0, PLENTY_KW, 12.0, 3)
    assert w.running and w.pump_hz == pytest.approx(50.0)
    assert w.flow_m3_h == 0.0 and w.total_m3 == total0
    assert w.stored_m3 == stored0
    assert w.pump_w / 1000 == pytest.approx(DRY_RUN_POWER_FRACTION * w.load.pump.rated_kw)
    # on weak power it spins as fast as 30 % of the affinity power allows
    weak_kw = DRY_RUN_POWER_FRACTION * w.load.pump.rated_kw * 0.9**3
    for _ in range(10):
        w.step(1.0, weak_kw, 12.0, 3)
    assert w.pump_hz == pytest.approx(45.0, rel=1e-4)
    assert w.pump_w / 1000 == pytest.approx(
        DRY_RUN_POWER_FRACTION * w.load.pump.affinity_kw(w.pump_hz))
    w.step(3600.0, PLENTY_KW, 7.0, 3)  # in the window the field still draws its share
    assert w.stored_m3 == pytest.approx(stored0 - MARCH_DRAW_M3 / 4)
    w.dry = False
    w.step(1.0, PLENTY_KW, 12.0, 3)
    assert w.flow_m3_h > 0


def test_mass_balance_closes_every_step(site: Site) -> None:
    rng = np.random.default_rng(16)
    w = water(site, level_pct=5.0)
    hour = 5.0
    for _ in range(3000):
        if rng.random() < 0.05:
            w.command(run=bool(rng.random() < 0.8), hz=float(rng.uniform(0, 60)))
        if rng.random() < 0.02:
            w.dry = not w.dry
        dt_s = float(rng.choice([0.5, 1.0, 30.0, 600.0]))
        before = (w.stored_m3, w.total_m3, w.delivered_m3, w.overflow_m3, w.demand_m3,
                  w.unmet_m3)
        kw = w.step(dt_s, float(rng.uniform(0, 2.5)), hour, int(rng.integers(1, 13)))
        d = [a - b for a, b in zip((w.stored_m3, w.total_m3, w.delivered_m3, w.overflow_m3,
                                    w.demand_m3, w.unmet_m3), before, strict=True)]
        d_store, pumped, delivered, overflow, demand, unmet = d
        assert d_store == pytest.approx(pumped - delivered - overflow, abs=1e-9)
        assert pumped == pytest.approx(w.flow_m3_h * dt_s / 3600)
        assert delivered + unmet == pytest.approx(demand)
        assert min(pumped, delivered, overflow, unmet) >= 0.0
        assert 0.0 <= w.stored_m3 <= w.tank.m3 + 1e-12
        assert kw == pytest.approx(w.pump_w / 1000)
        hour = (hour + dt_s / 3600) % 24


# --------------------------------------------------------------------------- in the plant


def balance_error(p: Plant, stored0: float) -> float:
    e = p.energy
    used = ((p.soc_kwh - stored0) + e.battery_loss_kwh + e.inverter_loss_kwh
            + e.charger_loss_kwh + e.served_kwh)
    return abs(e.pv_kwh + e.generator_kwh - used)


def test_a_pv_direct_pump_runs_on_the_sun(site: Site, inputs: Inputs) -> None:
    p = Plant(site, inputs, MIDNIGHT, seed=1)
    w = p.water
    assert w is not None and p.site.battery is None
    w.command(run=True)
    eff = site.inverter.efficiency_pct / 100 if site.inverter else 1.0
    stored0 = w.stored_m3
    ran_at_night = False
    for _ in range(24 * 60):
        p.advance(60.0)
        assert w.pump_w <= p.pv_avail_w * eff + 1e-6
        assert p.inverter is InverterState.ON
        ran_at_night |= w.running and p.pv_avail_w == 0
    assert not ran_at_night
    assert w.total_m3 > 10.0 and w.run_s > 3600
    assert balance_error(p, 0.0) < 1e-6
    assert p.energy.served_kwh == pytest.approx(w.pump_kwh)
    assert p.load_kwh_by_name["vineyard"] == pytest.approx(w.pump_kwh)
    assert w.stored_m3 - stored0 == pytest.approx(
        w.total_m3 - w.delivered_m3 - w.overflow_m3, abs=1e-9)
    state = p.state()["water"]
    assert isinstance(state, dict)
    assert {"level_pct", "flow_m3_h", "pump_w", "running", "overflow_m3"} <= set(state)
    assert any("vineyard started" in e for _, e in p.events)


def test_a_battery_site_pumps_at_night_until_the_battery_floor(
        site: Site) -> None:
    s = make_site(with_battery(example_data(), kw=2 * full_kw(site) + 1))
    p = Plant(s, build_inputs(s), MIDNIGHT - timedelta(hours=2))  # 22:00
    w = p.water
    assert w is not None and s.battery is not None
    w.command(run=True)
    stored0 = p.soc_kwh
    p.advance(120.0)
    assert w.running and w.pump_hz == pytest.approx(50.0)
    assert p.battery_w < 0  # the battery carries the pump through the inverter
    while w.running:
        p.advance(600.0)
        assert p.inverter is InverterState.ON  # the drive never asks more than it can get
        assert balance_error(p, stored0) < 1e-6
    assert p.soc_pct == pytest.approx(s.battery.min_soc_pct, abs=0.5)
    # no sun: everything the battery gave above its floor went through the inverter into the
    # pump (4 kWh × 60–20 % … at the terminals, then the inverter's efficiency)
    assert s.inverter is not None
    given_kwh = ((stored0 - p.soc_kwh) * s.battery.discharge_efficiency_pct / 100
                 * s.inverter.efficiency_pct / 100)
    assert w.pump_kwh == pytest.approx(given_kwh, rel=1e-6)


def test_a_direct_on_line_start_can_trip_the_inverter(site: Site) -> None:
    kw = full_kw(site)
    s = make_site(with_battery(example_data(), kw=2 * kw, surge_kw=3 * kw))
    fixed = s.water_pumps[0].model_copy(update={
        "pump": s.water_pumps[0].pump.model_copy(update={"drive": "fixed"}),
        "start_multiplier": 6.0})
    s = s.model_copy(update={"loads": [fixed]})
    p = Plant(s, build_inputs(s), MIDNIGHT - timedelta(hours=2))
    w = p.water
    assert w is not None
    w.command(run=True)
    p.step(1.0)
    assert p.inverter is InverterState.FAULT  # 6 × the pump's kW > 3 × its kW
    assert not w.running and w.total_m3 == 0.0  # cut: no water without power
    assert p.load_kwh_by_name["vineyard"] == 0.0


def test_sites_without_a_pump_have_no_water(make_plant: Callable[..., Plant]) -> None:
    p = make_plant()
    assert p.water is None and p.state()["water"] is None


def test_the_dry_run_fault_dries_the_well(site: Site, inputs: Inputs) -> None:
    sim = Simulator(site, MIDNIGHT + timedelta(hours=11), speed=0, inputs=inputs,
                    emit=lambda _: None)
    w = sim.plant.water
    assert w is not None
    w.command(run=True)
    with pytest.raises(FaultError, match="pump_drive"):
        sim.add_fault("tank-level", "dry_run")
    sim.advance(600)
    assert w.flow_m3_h > 0
    sim.add_fault("pump-drive", "dry_run", duration_s=300)
    sim.advance(60)
    assert w.dry and w.running and w.flow_m3_h == 0.0
    assert w.pump_w / 1000 == pytest.approx(
        DRY_RUN_POWER_FRACTION * w.load.pump.affinity_kw(w.pump_hz))
    sim.advance(300)
    assert not w.dry and w.flow_m3_h > 0
