"""The Phan Rang vineyard end to end (issue 16): ``offgrid sim`` plays the borehole pump on
its solar pump inverter (INVT GD100-PV map), the tank's level transmitter and the flow meter;
``offgrid run`` runs the pump on the sun. On a sunny late morning the tank fills, the pump
stops at the high level (and the level never passes it by more than a controller's reaction),
and when the well runs dry (the simulator's ``dry_run`` fault) the controller stops the pump,
keeps it stopped and raises a critical ``pump_dry_run`` alarm in the store.

Two runs of a copy of the example made fast to watch (a 20 m³ tank, the field drawing half the
pump's full-speed flow all day, one-second polls and cycles, a 5 s dry-run delay): one with
the tank nearly full, to see it fill and stop; one with the example's ``[sim]`` dry-run fault
moved to the first simulated minutes. Two runs rather than one, because the controller waits
two wall minutes (``controller.pumping.RESTART_S``) before it starts a stopped pump again."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomlkit

from offgrid.demo_cmd import DemoSite
from sitefile import Site, load_site
from store import readers
from tests.support import wait_for

pytestmark = pytest.mark.slow

IRRIGATION = Path(__file__).resolve().parents[2] / "examples" / "irrigation-ninh-thuan.toml"
SPEED = 60.0
"""Simulated seconds per wall second: one wall second of controller reaction is one
simulated minute of pumping."""
TANK_M3 = 20.0
INITIAL_LEVEL_PCT = 86.0
MARGIN_PCT = 2.5
"""[% of the tank's height] how far the level may pass max_level_pct: a poll, a cycle and the
drive's stop at ``SPEED`` (about 3 simulated minutes) at the net filling rate of the copy
(half the pump's flow: under 0.4 % of 20 m³ a minute with the example's pump)."""
DRAW_SHARE = 0.5
"""The field's draw in the copy as a share of the pump's full-speed flow."""
IRRIGATION_H = (6.0, 18.0)
DRY_AT_WALL_S = 15.0
"""The dry-run fault strikes this many wall seconds after the simulator starts (the pump is
running on the sun by then)."""
TIMEOUT_S = 60.0
PUMP = "pump-drive"
LEVEL = "tank-level"


def _sunny_day(site: Site) -> datetime:
    """10:00 local on the dry-season day (February–April) of the simulator's weather year with
    the most PV between 10:00 and 15:00."""
    from hardware_sim.inputs import build_inputs  # noqa: PLC0415 (heavy: this test only)

    pv = build_inputs(site).pv_array_kw.reshape(365, 24)
    first, last = 31, 31 + 28 + 31 + 30  # 1 February .. 30 April (day of year from 0)
    day = first + int(np.argmax(pv[first:last, 10:15].sum(axis=1)))
    year = datetime.now().year
    return datetime(year, 1, 1, 10, 0, tzinfo=site.tz) + timedelta(days=day)


def _full_speed_flow_m3_h(site: Site) -> float:
    """The example's pump on its pipe at full speed [m³/h] (:mod:`sizing.hydraulics`)."""
    from sizing.hydraulics import operating_point  # noqa: PLC0415

    load = site.water_pumps[0]
    op = operating_point(load.pump, load.head_m, load.pipe, 1.0)
    assert op is not None, "the example's pump cannot lift its head"
    return float(op.flow_m3_h)


@contextlib.contextmanager
def _vineyard(workdir: Path, *, initial_level_pct: float, dry_at_wall_s: float | None
              ) -> Iterator[DemoSite]:
    """The example's simulator, controller and API on a sunny late morning; the example's
    dry-run fault strikes ``dry_at_wall_s`` wall seconds after the start (None: never)."""
    site = DemoSite(workdir, speed=SPEED, api_port=0, example=IRRIGATION)
    doc = tomlkit.parse(site.site_file.read_text(encoding="utf-8"))
    doc["sim"]["start"] = _sunny_day(site.site)
    fault = doc["sim"]["faults"][0]
    assert fault["device"] == PUMP and fault["kind"] == "dry_run"
    if dry_at_wall_s is None:
        doc["sim"]["faults"] = []
    else:
        fault["at_s"] = dry_at_wall_s * SPEED
    doc["tank"].update({"m3": TANK_M3, "initial_level_pct": initial_level_pct})
    draw_m3_h = DRAW_SHARE * _full_speed_flow_m3_h(site.site)
    load = doc["loads"][0]
    load["flow_m3_per_day"] = round(draw_m3_h * (IRRIGATION_H[1] - IRRIGATION_H[0]), 2)
    load["irrigation"] = {"start_h": IRRIGATION_H[0], "end_h": IRRIGATION_H[1]}
    doc["control"].update({"cycle_s": 1.0, "dry_run_s": 5.0})
    for dev in doc["devices"]:
        dev["poll_s"] = 1.0
    site.site_file.write_text(tomlkit.dumps(doc), encoding="utf-8")
    site.site = load_site(site.site_file)
    try:
        site.start()
        yield site
    finally:
        site.stop()


def _samples(site: DemoSite, device: str, point: str, since_ts: float = 0.0
             ) -> list[tuple[float, float]]:
    """(ts, value) of the good samples of one point [UTC epoch s, the point's unit]."""
    with contextlib.closing(readers.connect(site.database, readonly=True)) as conn:
        rows = readers.read_samples(conn, device, point, since_ts)
    return [(r["ts"], float(r["value"])) for r in rows
            if r["quality"] == "good" and r["value"] is not None]


def _level_pct(site: DemoSite, since_ts: float = 0.0) -> list[tuple[float, float]]:
    """The tank's level as a share of its height [%], from the transmitter's metres."""
    assert site.site.tank is not None
    h = site.site.tank.height_m
    return [(ts, 100.0 * v / h) for ts, v in _samples(site, LEVEL, "tank_level_m", since_ts)]


def _running(site: DemoSite, since_ts: float = 0.0) -> list[tuple[float, float]]:
    return _samples(site, PUMP, "pump_running", since_ts)


def _dry_run_alarms(site: DemoSite, since_ts: float) -> list[dict[str, Any]]:
    with contextlib.closing(readers.connect(site.database, readonly=True)) as conn:
        return [a for a in readers.read_alarms(conn, since_ts=since_ts)
                if a["kind"] == "pump_dry_run"]



def test_tank_fills_on_sun_and_the_pump_stops_at_the_high_level(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    with _vineyard(tmp_path_factory.mktemp("irrigation-fill"),
                   initial_level_pct=INITIAL_LEVEL_PCT, dry_at_wall_s=None) as vineyard:
        tank = vineyard.site.tank
        assert tank is not None
        max_pct = tank.max_level_pct

        # The sun runs the pump and the tank fills.
        wait_for("the pump running on the sun",
                 lambda: any(v == 1 for _, v in _running(vineyard)), TIMEOUT_S)
        first = _level_pct(vineyard)[0][1]
        wait_for("the tank level rising", lambda: max(v for _, v in _level_pct(vineyard))
                 >= first + 2.0, TIMEOUT_S)

        # The high-level stop: the pump's running flag falls with the tank at its high level
        # (the store keeps a sample when a value moves, so the last level before the stop is
        # within the 1 % deadband of the level at the stop).
        def stopped_high() -> float | None:
            runs = _running(vineyard)
            if len(runs) < 2 or runs[-1][1] != 0 or runs[-2][1] != 1:
                return None
            before = [v for ts, v in _level_pct(vineyard) if ts <= runs[-1][0] + 2.0]
            return runs[-1][0] if before and before[-1] >= max_pct - MARGIN_PCT else None

        stop_ts = wait_for("the pump stopped at the high level", stopped_high, TIMEOUT_S)
        # The field draws the tank down again: the level has passed its peak.
        wait_for("the level falling after the stop", lambda: _level_pct(vineyard, stop_ts)
                 and _level_pct(vineyard)[-1][1] < max_pct - MARGIN_PCT, TIMEOUT_S)
        peak = max(v for _, v in _level_pct(vineyard))
        assert max_pct - MARGIN_PCT <= peak <= max_pct + MARGIN_PCT, (
            f"the tank reached {peak:.1f} % against a high-level stop at {max_pct:g} %")
        assert _dry_run_alarms(vineyard, 0.0) == []


def test_dry_run_stops_the_pump_and_raises_an_alarm(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    with _vineyard(tmp_path_factory.mktemp("irrigation-dry"), initial_level_pct=50.0,
                   dry_at_wall_s=DRY_AT_WALL_S) as vineyard:
        wait_for("the pump running on the sun",
                 lambda: any(v == 1 for _, v in _running(vineyard)), TIMEOUT_S)
        alarms = wait_for("a pump_dry_run alarm", lambda: _dry_run_alarms(vineyard, 0.0),
                          TIMEOUT_S)
        alarm = alarms[-1]
        assert alarm["severity"] == "critical" and alarm["active"]
        raised = float(alarm["raised_ts"])
        # The well was dry before the alarm: the flow meter read no flow while the drive ran.
        flows = _samples(vineyard, "flow-meter", "flow_m3_h", raised - 30.0)
        assert flows and min(v for ts, v in flows if ts <= raised) == 0.0
        # The controller stops the pump; the alarm stays active (latched until an operator
        # acknowledges it) though the sun still shines.
        stop = wait_for("the pump stopped on the dry run", lambda: next(
            (ts for ts, v in _running(vineyard, raised - 2.0) if v == 0), None), TIMEOUT_S)
        assert stop >= raised - 2.0
        assert all(v == 0 for _, v in _running(vineyard, stop))
        with contextlib.closing(readers.connect(vineyard.database, readonly=True)) as conn:
            active = readers.read_active_alarms(conn)
        assert any(a["kind"] == "pump_dry_run" for a in active)
