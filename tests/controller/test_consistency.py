"""One simulated day of the shrimp site with the controller in the loop (over Modbus, against
`hardware_sim`) agrees with the sizing model's same day within 5 % on PV, load and battery
energy: the controller's strategies and the sizing dispatch share the `[control]` rules."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from controller.cycle import Controller, build_links
from hardware_sim.inputs import build_inputs
from hardware_sim.simulator import Simulator
from sizing.inputs import read_inputs
from sizing.simulate import build_loads, simulate_year
from store.writer import Store
from tests.controller.test_cycle_sim import Rig, make_site

DAY = "03-01"  # 1 March, dry season


def coarse_cycle(d: dict[str, Any]) -> None:
    d["control"]["cycle_s"] = 300  # a day in 288 cycles


@pytest.mark.slow
async def test_controller_day_agrees_with_sizing_day(tmp_path: Path) -> None:
    site = make_site(tmp_path, coarse_cycle)
    inputs = read_inputs(site, 1)
    weather = inputs.weather[0]
    year = simulate_year(site, weather, build_loads(site, weather.index, inputs.profiles_kw))
    series = year.run.series
    local = year.index.strftime("%m-%d")
    day = np.asarray(local == DAY)
    first = int(np.argmax(day))
    dt_h = 1.0  # hourly weather
    battery_kw = series["battery_kw"][day]
    ref = {
        "pv_kwh": float(series["pv_kw"][day].sum() * dt_h),
        "load_kwh": float(series["served_kw"][day].sum() * dt_h),
        "charge_kwh": float(np.clip(battery_kw, 0, None).sum() * dt_h),
        "discharge_kwh": float(np.clip(-battery_kw, 0, None).sum() * dt_h),
    }
    start_soc_kwh = float(series["soc_kwh"][first - 1])  # at the end of the day before

    start = datetime(2026, 3, 1, tzinfo=site.tz)
    sim = Simulator(site, start, speed=0, inputs=build_inputs(site), emit=lambda _: None)
    await sim.serve()
    try:
        sim.plant.soc_kwh = start_soc_kwh
        rig = Rig(sim, None, tmp_path / "day.db")  # type: ignore[arg-type]
        rig.ctrl = Controller(site, Store(rig.db, site.site.timezone), build_links(site),
                              mono=lambda: rig.mono,
                              wall=lambda: sim.plant.t.timestamp())  # noqa: PLW0108 - t moves
        before = dict(vars(sim.plant.energy))
        reports = await rig.cycles(288)
        rig.ctrl.close()
    finally:
        await sim.close()
    e = {k: v - before[k] for k, v in vars(sim.plant.energy).items()}
    got = {
        "pv_kwh": e["pv_kwh"] + e["curtailed_kwh"],  # available PV, as sizing's pv_kw
        "load_kwh": e["served_kwh"],
        "charge_kwh": e["battery_charge_kwh"],
        "discharge_kwh": e["battery_discharge_kwh"],
    }
    assert all(r.healthy for r in reports)
    for key, want in ref.items():
        assert got[key] == pytest.approx(want, rel=0.05), (key, got, ref)
