"""The water pump strategy, cycle by cycle on a virtual clock (nothing sleeps).

The test pump is given inline so that its numbers are the test's: 1.5 kW at 50 Hz, shut-off
head 50 m, best efficiency (60 %) at 6 m³/h, lowest drive frequency 30 Hz, lifting 18 m of
static head. Hand figures used below:
- the speed that lifts 18 m: n = √(18/50) = 0.6 → 30 Hz; ×1.05 → 31.5 Hz, above the drive's
  30 Hz: the lowest speed is 31.5 Hz;
- its affinity power there: 1.5 kW × 0.63³ = 375.07 W (the start threshold, above 200 W);
- the rated-point flow 6 m³/h: a dry run is below 10 % of it, 0.6 m³/h.
"""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from controller import pumping as P
from controller import strategies as S
from controller.cycle import Controller, CycleReport, build_links
from controller.devices.values import Quality, Reading
from controller.model import (
    Condition,
    PumpingMemory,
    PumpReadings,
    RunPump,
    Snapshot,
    State,
)
from controller.snapshot import device_view, site_figures
from hardware_sim.inputs import build_inputs
from hardware_sim.simulator import Simulator
from sitefile import Site, load_site, parse_site
from store import commands, readers
from store.writer import Store
from tests.conftest import EXAMPLES, SHRIMP
from tests.support import on_local_ports, require_tool

TS = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
PUMP = {"name": "test pump", "rated_kw": 1.5, "rated_hz": 50.0,
        "flow_m3_h": [0.0, 2.0, 4.0, 6.0, 8.0], "head_m": [50.0, 48.0, 44.0, 38.0, 30.0],
        "efficiency_pct": [0.0, 40.0, 55.0, 60.0, 50.0], "min_frequency_hz": 30.0,
        "drive": "vfd"}
LO_HZ = 31.5
LO_W = 1500.0 * (LO_HZ / 50) ** 3


def with_pump(edit: Callable[[dict[str, Any]], Any] | None = None) -> Site:
    """The shrimp site (250 kWh battery, reconnect 50 %, shed 35 %, night at 18:00) with a
    40 m³ tank (min 30 %, max 95 %) and the test pump lifting 18 m."""
    base = load_site(SHRIMP)
    data = base.model_dump()
    data["tank"] = {"m3": 40.0, "height_m": 2.5, "min_level_pct": 30.0, "max_level_pct": 95.0}
    data["loads"].append({"name": "field", "kind": "water_pump", "flow_m3_per_day": 30.0,
                          "head_m": 18.0, "pipe": {"length_m": 100.0, "diameter_mm": 50.0},
                          "pump": dict(PUMP), "priority": 20})
    if edit is not None:
        edit(data)
    return parse_site(data, file=base.source)


SITE = with_pump()
CFG = P.config(SITE)


def r(value: Any, quality: Quality = Quality.GOOD) -> Reading:
    return Reading(value if quality is not Quality.MISSING else None, TS, quality)


MISSING = r(None, Quality.MISSING)


def snap(*, now: float = 0.0, h: float = 12.0, level: float | None = 50.0,
         level_q: Quality = Quality.GOOD, soc: float | None = 80.0, pv_w: float | None = 3000.0,
         load_w: float | None = 1000.0, battery_w: float | None = 0.0,
         pump_w: float | None = None, pump_hz: float | None = None,
         flow: float | None = None, day: str = "2026-03-01",
         total: float | None = None) -> Snapshot:
    """A snapshot at local hour ``h``; ``load_w`` includes the pump's ``pump_w``."""
    def opt(v: Any) -> Reading:
        return MISSING if v is None else r(v)

    return Snapshot(
        mono_s=now, wall_ts=TS.timestamp() + now, local_h=h, local_day=day,
        soc_pct=opt(soc), battery_v=r(52.0), battery_w=opt(battery_w), battery_temp_c=r(30.0),
        pv_w=opt(pv_w), wind_w=MISSING, load_w=opt(load_w), do_mg_l=r(6.0),
        water_temp_c=MISSING, inverter_fault=r(False), generator_running=r(False),
        fuel_pct=MISSING, tank_level_pct=MISSING if level is None else r(level, level_q),
        pump_w=opt(pump_w), water_m3_h=opt(flow),
        pump=PumpReadings(hz=opt(pump_hz), running=opt(pump_hz is not None and pump_hz > 0),
                          flow_total_m3=opt(total)))


def step(s: Snapshot, mem: PumpingMemory, now: float, site: Site = SITE
         ) -> tuple[RunPump, PumpingMemory, list[Condition]]:
    cfg = P.config(site)
    assert cfg is not None
    return P.decide(replace(s, mono_s=now), mem, cfg, now)


def cond(conds: list[Condition], kind: str) -> Condition:
    return next(c for c in conds if c.kind == kind)


def running(hz: float, *, since: float = -1000.0) -> PumpingMemory:
    return PumpingMemory(run=True, hz=hz, changed_mono=since, mode="surplus")


# --------------------------------------------------------------------------- configuration


def test_config_lowest_speed_and_rated_flow_by_hand() -> None:
    assert CFG is not None
    assert CFG.lo_hz == LO_HZ  # 50 Hz × √(18/50) × 1.05
    assert CFG.hi_hz == 50.0
    assert CFG.rated_flow_m3_h == 6.0
    assert CFG.pump_w(LO_HZ) == pytest.approx(375.07, abs=0.001)
    assert CFG.hz_for(1500.0) == pytest.approx(50.0)
    assert CFG.hz_for(1500.0 / 8) == pytest.approx(25.0)  # half speed, an eighth of the power
    assert P.config(load_site(SHRIMP)) is None  # no water pump: the strategy says nothing
    assert P.pumping(snap(), State(), load_site(SHRIMP), 0.0) == []


def test_a_pump_whose_drive_floor_lifts_keeps_the_drive_floor() -> None:
    def low_head(d: dict[str, Any]) -> None:
        d["loads"][-1]["head_m"] = 8.0  # lifts from 50·√(8/50) = 20 Hz: 30 Hz rules

    cfg = P.config(with_pump(low_head))
    assert cfg is not None and cfg.lo_hz == 30.0


# --------------------------------------------------------------------------- surplus


def test_starts_on_surplus_at_the_frequency_of_its_power() -> None:
    # PV 1800 W, other loads 1000 W, SOC 80 % ≥ reconnect 50 %: 800 W for the pump.
    cmd, mem, _ = step(snap(pv_w=1800.0, load_w=1000.0), PumpingMemory(), 0.0)
    assert cmd.run and mem.mode == "surplus"
    assert cmd.hz == pytest.approx(50 * (800 / 1500) ** (1 / 3), abs=0.05)  # 40.5 Hz
    # 300 W of surplus does not cover the lowest speed (375 W): it stays off.
    cmd, mem, _ = step(snap(pv_w=1300.0, load_w=1000.0), PumpingMemory(), 0.0)
    assert not cmd.run and mem.mode == "off"


def test_below_reconnect_the_battery_is_served_first() -> None:
    # SOC 40 % < reconnect 50 %: the battery takes up to its 60 kW first.
    cmd, _, _ = step(snap(soc=40.0, pv_w=20_000.0, load_w=1000.0, battery_w=19_000.0),
                     PumpingMemory(), 0.0)
    assert not cmd.run
    cmd, _, _ = step(snap(soc=40.0, pv_w=62_000.0, load_w=1000.0, battery_w=60_000.0),
                     PumpingMemory(), 0.0)
    assert cmd.run and cmd.hz == pytest.approx(50 * (1000 / 1500) ** (1 / 3), abs=0.05)


def test_frequency_follows_the_surplus_step_by_step() -> None:
    mem = running(36.0)
    pump_w = 1500.0 * (36 / 50) ** 3  # 559.9 W
    # The sun comes out: the target is 50 Hz; the setpoint climbs 2 Hz a cycle.
    hz = []
    for k in range(8):
        now = 5.0 * k
        s = snap(pv_w=3000.0, load_w=1000.0 + pump_w, pump_w=pump_w, battery_w=500.0)
        cmd, mem, _ = step(s, mem, now)
        hz.append(cmd.hz)
        pump_w = 1500.0 * (cmd.hz / 50) ** 3
    assert hz == [38.0, 40.0, 42.0, 44.0, 46.0, 48.0, 50.0, 50.0]
    # A cloud: the battery discharges; the setpoint steps down 2 Hz a cycle.
    s = snap(pv_w=1200.0, load_w=1000.0 + pump_w, pump_w=pump_w, battery_w=-1300.0)
    cmd, mem, _ = step(s, mem, 40.0)
    assert cmd.run and cmd.hz == 48.0
    cmd, mem, _ = step(s, mem, 45.0)
    assert cmd.hz == 46.0
    # A steady part cloud: 900 W for the pump, no discharge: it settles at 42.2 Hz.
    for k in range(5):
        pump_w = 1500.0 * (mem.hz / 50) ** 3
        cmd, mem, _ = step(snap(pv_w=1900.0, load_w=1000.0 + pump_w, pump_w=pump_w,
                                battery_w=0.0), mem, 50.0 + 5 * k)
    assert cmd.hz == pytest.approx(50 * (900 / 1500) ** (1 / 3), abs=0.05)


def test_short_of_the_lowest_speed_it_stops_after_a_minute_then_waits_to_restart() -> None:
    mem = running(LO_HZ)
    s = snap(pv_w=1100.0, load_w=1000.0 + LO_W, pump_w=LO_W, battery_w=-(LO_W - 100))
    cmd, mem, _ = step(s, mem, 0.0)
    assert cmd.run and cmd.hz == LO_HZ and mem.short_since_mono == 0.0
    cmd, mem, _ = step(s, mem, 55.0)
    assert cmd.run
    cmd, mem, _ = step(s, mem, 60.0)
    assert not cmd.run and mem.mode == "no_surplus" and mem.changed_mono == 60.0
    # The sun is back at once: it waits RESTART_S (120 s) after the stop.
    sunny = snap(pv_w=3000.0, load_w=1000.0)
    cmd, mem, _ = step(sunny, mem, 100.0)
    assert not cmd.run and mem.mode == "stopped"
    cmd, mem, _ = step(sunny, mem, 180.0)
    assert cmd.run


def test_a_full_battery_may_hold_pv_back_so_the_pump_tries() -> None:
    # Battery full (SOC 99 % ≥ 100 − 2): the charge controllers curtail; PV reads as the load.
    cmd, mem, _ = step(snap(soc=99.0, pv_w=1000.0, load_w=1000.0, battery_w=0.0),
                       PumpingMemory(), 0.0)
    assert cmd.run and cmd.hz == LO_HZ
    cmd, mem, _ = step(snap(soc=99.0, pv_w=1000.0 + LO_W, load_w=1000.0 + LO_W, pump_w=LO_W,
                            battery_w=0.0), mem, 5.0)
    assert cmd.hz == LO_HZ + 2.0  # no discharge: one more step


def test_unknown_power_stops_it() -> None:
    cmd, mem, _ = step(snap(pv_w=None), running(40.0), 0.0)
    assert not cmd.run and mem.mode == "power_unknown"
    cmd, mem, _ = step(snap(soc=None), running(40.0), 0.0)
    assert not cmd.run


# --------------------------------------------------------------------------- the tank


def test_stops_at_the_high_level_and_restarts_below_the_band() -> None:
    mem = running(45.0)
    sunny: dict[str, Any] = {"pv_w": 3000.0, "load_w": 1000.0}
    cmd, mem, _ = step(snap(level=94.9, **sunny), mem, 0.0)
    assert cmd.run
    cmd, mem, _ = step(snap(level=95.0, **sunny), mem, 5.0)
    assert not cmd.run and mem.full and mem.mode == "full"
    for k, level in enumerate([93.0, 91.0, 90.0]):  # not below 95 − 5
        cmd, mem, _ = step(snap(level=level, **sunny), mem, 200.0 + 100 * k)
        assert not cmd.run, level
    cmd, mem, _ = step(snap(level=89.9, **sunny), mem, 600.0)
    assert cmd.run and not mem.full


@pytest.mark.parametrize("quality", [Quality.STALE, Quality.FROZEN, Quality.INVALID,
                                     Quality.MISSING])
def test_a_level_not_known_good_stops_the_pump(quality: Quality) -> None:
    level = None if quality is Quality.MISSING else 50.0
    cmd, mem, conds = step(snap(level=level, level_q=quality), running(45.0), 0.0)
    assert not cmd.run and mem.mode == "level_unknown"
    assert not any(c.kind == "tank_low" for c in conds)  # unknown is not low


def test_tank_low_condition_below_the_reserve() -> None:
    _, _, conds = step(snap(level=29.0), PumpingMemory(), 0.0)
    assert cond(conds, "tank_low").active
    _, _, conds = step(snap(level=30.0), PumpingMemory(), 0.0)
    assert not cond(conds, "tank_low").active


def test_evening_fill_from_the_battery_to_the_reserve() -> None:
    dark: dict[str, Any] = {"pv_w": 0.0, "load_w": 1000.0, "battery_w": -1000.0, "soc": 60.0}
    filling: dict[str, Any] = {**dark, "load_w": 2500.0, "pump_w": 1500.0, "battery_w": -2500.0}
    # 14:00: before the 3 h window (15:00–18:00): no surplus, no fill.
    cmd, mem, _ = step(snap(h=14.0, level=25.0, **dark), PumpingMemory(), 0.0)
    assert not cmd.run
    # 15:30, tank 25 % < 30 %: filled at the rated frequency from the battery.
    cmd, mem, _ = step(snap(h=15.5, level=25.0, **dark), mem, 200.0)
    assert cmd.run and cmd.hz == 50.0 and mem.fill and mem.mode == "fill"
    cmd, mem, _ = step(snap(h=16.0, level=30.5, **filling), mem, 300.0)
    assert cmd.run  # to 30 + 1 %
    cmd, mem, _ = step(snap(h=16.1, level=31.0, **filling), mem, 400.0)
    assert not cmd.run and not mem.fill and mem.mode == "off"  # at once, no surplus
    # Not from a battery at or below the shed threshold (35 %).
    cmd, _, _ = step(snap(h=16.0, level=25.0, **{**dark, "soc": 35.0}), PumpingMemory(), 0.0)
    assert not cmd.run
    # Night (18:00): the window is over.
    cmd, _, _ = step(snap(h=18.0, level=25.0, **dark), PumpingMemory(), 0.0)
    assert not cmd.run


# --------------------------------------------------------------------------- dry run


def test_dry_run_stops_latches_and_alarms_until_acknowledged() -> None:
    mem = running(45.0)
    pump_w = 1500.0 * (45 / 50) ** 3
    dry: dict[str, Any] = {"pv_w": 3000.0, "load_w": 1000.0 + pump_w, "pump_w": pump_w,
                           "pump_hz": 45.0, "flow": 0.5}  # 0.5 < 0.6 m³/h
    for now in (0.0, 10.0, 25.0):
        cmd, mem, conds = step(snap(**dry), mem, now)
        assert cmd.run and not cond(conds, "pump_dry_run").active
    assert mem.dry_since_mono == 0.0
    cmd, mem, conds = step(snap(**dry), mem, 30.0)
    assert not cmd.run and mem.dry and mem.mode == "dry_run"
    c = cond(conds, "pump_dry_run")
    assert c.active and c.source == "field" and "0.50 m³/h" in c.message
    # Stopped, the drive at 0 Hz, everything fine: still latched, still alarming.
    ok = snap(pv_w=3000.0, load_w=1000.0, pump_hz=0.0, flow=0.0)
    cmd, mem, conds = step(ok, mem, 3600.0)
    assert not cmd.run and cond(conds, "pump_dry_run").active
    # The operator acknowledges: the latch is released and the pump starts again.
    state = P.acknowledged(State(pumping=mem), "pump_dry_run:field")
    assert P.acknowledged(State(pumping=mem), "low_soc:battery").pumping.dry
    cmd, mem, conds = step(ok, state.pumping, 3605.0)
    assert cmd.run and not cond(conds, "pump_dry_run").active


def test_flow_that_recovers_resets_the_dry_run_timer() -> None:
    mem = running(45.0)
    base: dict[str, Any] = {"pv_w": 3000.0, "load_w": 1000.0, "pump_hz": 45.0}
    _, mem, _ = step(snap(flow=0.1, **base), mem, 0.0)
    _, mem, _ = step(snap(flow=3.0, **base), mem, 20.0)
    assert mem.dry_since_mono is None
    cmd, mem, _ = step(snap(flow=0.1, **base), mem, 40.0)
    cmd, mem, _ = step(snap(flow=0.1, **base), mem, 65.0)
    assert cmd.run  # 25 s of no flow since 40 s
    # Below the lowest speed (the pump cannot lift there) no flow is not a dry run.
    _, mem2, _ = step(snap(flow=0.0, pump_hz=LO_HZ - 1.0, pv_w=3000.0, load_w=1000.0),
                      running(LO_HZ), 0.0)
    assert mem2.dry_since_mono is None


def test_dry_run_without_a_flow_meter_from_the_drive_power() -> None:
    # 45 Hz: affinity power 1500 × 0.9³ = 1093.5 W; a dry pump draws ~30 % = 328 W < 546.75 W.
    mem = running(45.0)
    dry: dict[str, Any] = {"pv_w": 3000.0, "load_w": 1328.0, "pump_w": 328.0, "pump_hz": 45.0}
    _, mem, _ = step(snap(**dry), mem, 0.0)
    cmd, mem, conds = step(snap(**dry), mem, 30.0)
    assert not cmd.run and cond(conds, "pump_dry_run").active
    wet: dict[str, Any] = {**dry, "pump_w": 560.0, "load_w": 1560.0}  # above half: pumping
    _, mem, _ = step(snap(**wet), running(45.0), 0.0)
    cmd, mem, _ = step(snap(**wet), mem, 30.0)
    assert cmd.run and mem.dry_since_mono is None


def test_a_dry_run_alarm_still_active_at_start_keeps_the_latch() -> None:
    assert P.restored(State(), {"pump_dry_run:field"}).pumping.dry
    assert not P.restored(State(), {"low_soc:battery"}).pumping.dry


# --------------------------------------------------------------------------- no battery


def test_without_a_battery_it_runs_whenever_pv_is_up_and_the_drive_follows() -> None:
    site = load_site(EXAMPLES / "irrigation-ninh-thuan.toml")
    assert site.battery is None
    cmd, mem, _ = step(snap(soc=None, battery_w=None, pv_w=1500.0, load_w=None), PumpingMemory(),
                       0.0, site)
    assert cmd.run and cmd.hz == 50.0 and mem.mode == "follow_pv"
    cmd, mem, _ = step(snap(soc=None, battery_w=None, pv_w=50.0, load_w=None), mem, 5.0, site)
    assert not cmd.run
    # The drive has no PV reading of its own here: unknown PV, let the drive decide.
    cmd, _, _ = step(snap(soc=None, battery_w=None, pv_w=None, load_w=None), PumpingMemory(),
                     0.0, site)
    assert cmd.run


# --------------------------------------------------------------------------- merge


def test_battery_protection_and_load_shedding_win() -> None:
    sunny = snap(pv_w=3000.0, load_w=1000.0, soc=9.0)  # below min SOC 10 %
    plan, failed = S.decide_all(sunny, State(), SITE, 0.0)
    assert not failed
    assert plan.pump is not None and not plan.pump.run
    assert plan.pump_by == "battery_protection"
    mem = next(m for m in plan.memory if isinstance(m, PumpingMemory))
    assert not mem.run  # the strategy knows the pump is stopped
    # Shedding: the pump (priority 20) is shed first, at 35 %, until 50 %; the pumping
    # strategy alone would run it on this surplus.
    plan, _ = S.decide_all(replace(sunny, soc_pct=r(34.0)), State(), SITE, 0.0)
    assert plan.pump_by == "load_shedding" and plan.pump is not None and not plan.pump.run
    plan, _ = S.decide_all(replace(sunny, soc_pct=r(60.0)), State(), SITE, 0.0)
    assert plan.pump_by == "pumping" and plan.pump is not None and plan.pump.run
    # Critical pump: a low voltage does not stop it, the SOC floor does.
    site = with_pump(lambda d: d["loads"][-1].update(critical=True))
    plan, _ = S.decide_all(replace(sunny, soc_pct=r(9.0)), State(), site, 0.0)
    assert plan.pump_by == "battery_protection"


def test_the_decision_and_its_memory_through_decide_all() -> None:
    plan, _ = S.decide_all(snap(pv_w=1800.0, load_w=1000.0), State(), SITE, 0.0)
    assert plan.pump == RunPump(True, 40.5, plan.pump.reason if plan.pump else "")
    state = State().remember(plan.memory)
    assert state.pumping.run and state.pumping.hz == 40.5


# --------------------------------------------------------------------------- figures


def test_water_today_from_the_totaliser_and_a_meter_reset() -> None:
    day, rd = P.water_today(None, snap(total=1000.0), 0.0, 25.0)
    assert rd.ok and rd.value == 0.0 and day.total_m3 == 1000.0
    day, rd = P.water_today(day, snap(total=1002.5), 5.0, 25.0)
    assert rd.value == pytest.approx(2.5)
    day, rd = P.water_today(day, snap(total=3.0), 10.0, 25.0)  # the meter was reset
    assert rd.value == pytest.approx(2.5)
    day, rd = P.water_today(day, snap(total=4.0), 15.0, 25.0)
    assert rd.value == pytest.approx(3.5)
    day, rd = P.water_today(day, snap(total=None), 20.0, 25.0)  # meter offline
    assert rd.quality is Quality.STALE and rd.value == pytest.approx(3.5)
    # A new local day starts at 0, and counts what the meter shows since it was last seen.
    day, rd = P.water_today(day, snap(total=10.0, day="2026-03-02"), 25.0, 25.0)
    assert rd.value == pytest.approx(6.0)
    day, rd = P.water_today(day, snap(total=12.0, day="2026-03-02"), 30.0, 25.0)
    assert rd.value == pytest.approx(8.0)
    assert P.from_saved(P.saved(day), 99.0) == replace(day, t_mono=99.0)
    assert P.from_saved({"day": 1}, 0.0) is None


def test_water_today_integrates_the_flow_without_a_totaliser() -> None:
    day, rd = P.water_today(None, snap(flow=6.0), 0.0, 25.0)
    assert rd.value == 0.0
    for k in range(1, 13):  # 6 m³/h for 12 × 5 s = 1 min: 0.1 m³
        day, rd = P.water_today(day, snap(flow=6.0), 5.0 * k, 25.0)
    assert rd.ok and rd.value == pytest.approx(0.1)
    day, rd = P.water_today(day, snap(flow=6.0), 60.0 + 3600.0, 25.0)  # a gap: at most 25 s
    assert rd.value == pytest.approx(0.1 + 6.0 * 25 / 3600)


def test_site_figures_of_the_tank_drive_and_meter() -> None:
    views = [
        device_view("level", "tank_level", {"tank_level_m": r(1.25)}, TS),
        device_view("drive", "pump_drive", {"pump_w": r(820.0), "pump_hz": r(44.0)}, TS),
        device_view("meter", "flow_meter", {"flow_m3_h": r(5.5), "flow_total_m3": r(10.0)}, TS),
        device_view("level-2", "tank_level", {"tank_level_m": r(2.0)}, TS),  # not the first
    ]
    f = site_figures(views, TS, 2.5)
    assert f["tank_level_pct"].value == pytest.approx(50.0)
    assert f["pump_w"].value == 820.0 and f["water_m3_h"].value == 5.5
    assert f["water_today_m3"].quality is Quality.MISSING  # the cycle's account fills it
    assert site_figures(views, TS)["tank_level_pct"].quality is Quality.MISSING  # no tank
    stale = device_view("level", "tank_level",
                        {"tank_level_m": Reading(1.0, TS - timedelta(minutes=5),
                                                 Quality.STALE)}, TS)
    assert site_figures([stale], TS, 2.5)["tank_level_pct"].quality is Quality.STALE


# --------------------------------------------------------------------------- the real cycle


@pytest.fixture
async def irrigation_rig(tmp_path: Path) -> AsyncIterator[Any]:
    """The irrigation example's controller against ``hardware_sim`` over Modbus TCP on
    loopback, from local noon on 1 March (dry season), stepped together on virtual time."""
    data = tomllib.loads((EXAMPLES / "irrigation-ninh-thuan.toml").read_text(encoding="utf-8"))
    data.pop("sim", None)  # the scheduled dry run: the test adds its own
    on_local_ports(data, tmp_path)
    site = parse_site(data, EXAMPLES, EXAMPLES / "irrigation-ninh-thuan.toml")
    start = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # 12:00 in Phan Rang
    sim = Simulator(site, start, speed=0, inputs=build_inputs(site), emit=lambda _: None)
    await sim.serve()
    mono = [1000.0]
    db = tmp_path / "site.db"
    ctrl = Controller(site, Store(db, site.site.timezone), build_links(site),
                      mono=lambda: mono[0],
                      wall=lambda: sim.plant.t.timestamp())  # noqa: PLW0108 - t moves

    async def cycles(n: int) -> list[CycleReport]:
        out = []
        for _ in range(n):
            sim.advance(site.control.cycle_s)
            mono[0] += site.control.cycle_s
            out.append(await ctrl.cycle())
        return out

    yield SimpleNamespace(sim=sim, ctrl=ctrl, db=db, cycles=cycles)
    ctrl.close()
    await sim.close()


async def test_the_cycle_pumps_at_noon_stops_dry_and_waits_for_the_ack(irrigation_rig: Any
                                                                       ) -> None:
    rig = irrigation_rig
    reports = await rig.cycles(24)  # 2 minutes
    last = reports[-1]
    assert all(rp.healthy for rp in reports), [rp.failed for rp in reports]
    snap = last.snapshot
    water = rig.sim.plant.water
    assert snap.tank_level_pct.ok
    assert snap.tank_level_pct.value == pytest.approx(water.level_pct, abs=0.5)
    assert last.plan.pump is not None and last.plan.pump.run and last.plan.pump_by == "pumping"
    assert water.running and water.flow_m3_h > 0
    assert snap.water_m3_h.value == pytest.approx(water.flow_m3_h, rel=0.05, abs=0.05)
    assert snap.pump_w.value == pytest.approx(water.pump_w, rel=0.05, abs=20)
    api = commands.open_database(rig.db)
    latest = {(r["device"], r["point"]): r for r in readers.read_latest(api)}
    today = latest["site", "water_today_m3"]
    assert today["quality"] == "good" and today["value"] > 0
    assert today["value"] == pytest.approx(water.total_m3, rel=0.1, abs=0.02)
    assert any(e["kind"] == "pump_start" for e in readers.read_events(api))
    # The well runs dry: within dry_run_s (30 s) and a few cycles the pump stops and alarms.
    rig.sim.add_fault("pump-drive", "dry_run")
    reports = await rig.cycles(10)
    assert not reports[-1].plan.pump.run
    assert "pump_dry_run:vineyard" in [k for rp in reports for k in rp.raised]
    assert not rig.sim.plant.water.run_cmd
    # Water again, but latched until an operator acknowledges.
    rig.sim.faults.clear()
    await rig.cycles(30)
    assert not rig.sim.plant.water.run_cmd
    alarm = next(a for a in readers.read_active_alarms(api) if a["kind"] == "pump_dry_run")
    now = rig.sim.plant.t.timestamp()
    commands.insert_command(api, "ack_alarm", {"alarm_id": alarm["id"]}, requested_by="ops",
                            now_ts=now)
    reports = await rig.cycles(6)
    assert "pump_dry_run:vineyard" in [k for rp in reports for k in rp.cleared]
    assert reports[-1].plan.pump.run and rig.sim.plant.water.run_cmd


async def test_the_cycle_on_a_battery_site_pumps_on_surplus_and_stops_full(tmp_path: Path
                                                                          ) -> None:
    """The shrimp site with a tank and the test pump, at noon with the battery at 80 %: the
    pump runs on the surplus without drawing the battery down, and stops at the high level."""
    require_tool("socat")
    data = tomllib.loads(SHRIMP.read_text(encoding="utf-8"))
    data["tank"] = {"m3": 10.0, "height_m": 2.0, "min_level_pct": 30.0, "max_level_pct": 95.0,
                    "initial_level_pct": 80.0}
    data["loads"].append({"name": "field", "kind": "water_pump", "flow_m3_per_day": 0.0,
                          "head_m": 18.0, "pipe": {"length_m": 100.0, "diameter_mm": 50.0},
                          "pump": dict(PUMP), "priority": 20})
    for name, driver in (("pump-drive", "pump_drive"), ("tank-level", "tank_level"),
                         ("flow-meter", "flow_meter")):
        data["devices"].append({"name": name, "driver": driver, "transport": "tcp",
                                "host": "127.0.0.1", "port": 5020, "unit_id": 1, "poll_s": 2})
    on_local_ports(data, tmp_path)
    site = parse_site(data, SHRIMP.parent, SHRIMP)
    sim = Simulator(site, datetime(2026, 3, 1, 5, 0, tzinfo=UTC), speed=0,
                    inputs=build_inputs(site), emit=lambda _: None)
    await sim.serve()
    assert site.battery is not None
    sim.plant.soc_kwh = site.battery.kwh * 0.8
    mono = [1000.0]
    ctrl = Controller(site, Store(tmp_path / "site.db", site.site.timezone), build_links(site),
                      mono=lambda: mono[0],
                      wall=lambda: sim.plant.t.timestamp())  # noqa: PLW0108 - t moves
    try:
        reports = []
        for _ in range(40):
            sim.advance(site.control.cycle_s)
            mono[0] += site.control.cycle_s
            reports.append(await ctrl.cycle())
        water = sim.plant.water
        assert water is not None and water.running and water.flow_m3_h > 0
        last = reports[-1]
        assert last.plan is not None and last.plan.pump is not None
        assert last.plan.pump.run and last.plan.pump_by == "pumping"
        assert last.snapshot is not None
        pv, load = last.snapshot.value("pv_w"), last.snapshot.value("load_w")
        assert pv is not None and load is not None and pv > load  # on surplus
        # Fill to the high level: it stops there.
        water.stored_m3 = 9.45  # 94.5 %
        for _ in range(30):
            sim.advance(site.control.cycle_s)
            mono[0] += site.control.cycle_s
            reports.append(await ctrl.cycle())
        assert not water.run_cmd and not water.running
        assert ctrl.state.pumping.full and ctrl.state.pumping.mode == "full"
        assert water.level_pct >= 95.0
    finally:
        ctrl.close()
        await sim.close()
