"""The controller in the loop with `hardware_sim` over real Modbus: TCP on loopback (the
SunSpec inverter) and RTU on a socat pty (MPPTs, relays, DO probe, generator). Virtual time:
each cycle steps the plant and the controller's monotonic clock; nothing sleeps."""

from __future__ import annotations

import itertools
import shutil
import socket
import tomllib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from controller import store
from controller.cycle import Controller, CycleReport, build_links
from controller.devices.codec import encode
from controller.store import Store
from hardware_sim.inputs import build_inputs
from hardware_sim.plant import GenState
from hardware_sim.simulator import Simulator
from sitefile import Site, parse_site
from tests.conftest import SHRIMP

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat not installed")

NIGHT = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)  # 20:00 in Bac Lieu
NOON = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # 12:00
LATE = datetime(2026, 3, 1, 19, 0, tzinfo=UTC)  # 02:00
AERATORS = [0, 1, 2, 3, 4, 5]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_site(tmp_path: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Site:
    """The shrimp site on a free port and a pty under tmp_path, with a 5 ms RS485 gap."""
    data = tomllib.loads(SHRIMP.read_text(encoding="utf-8"))
    for dev in data["devices"]:
        dev["timeout_s"] = 0.5
        if dev["transport"] == "tcp":
            dev["port"] = free_port()
        else:
            dev["serial_port"] = str(tmp_path / "ttyUSB0")
            dev["request_gap_s"] = 0.005
    if edit is not None:
        edit(data)
    return parse_site(data, SHRIMP.parent, SHRIMP)


@dataclass
class Rig:
    """The simulator and the controller, stepped together."""

    sim: Simulator
    ctrl: Controller
    db: Path
    mono: float = 1000.0
    offset_s: float = 0.0  # a wall-clock jump on the controller's box

    async def cycles(self, n: int, step_s: float | None = None) -> list[CycleReport]:
        step = step_s or self.ctrl.site.control.cycle_s
        out = []
        for _ in range(n):
            self.sim.advance(step)
            self.mono += step
            out.append(await self.ctrl.cycle())
        return out

    def relays(self) -> list[bool]:
        return list(self.sim.plant.relays["relays"])

    def set_soc(self, pct: float) -> None:
        assert self.sim.site.battery is not None
        self.sim.plant.soc_kwh = self.sim.site.battery.kwh * pct / 100


@pytest.fixture
async def rig_factory(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    made: list[Rig] = []

    async def make(start: datetime, edit: Callable[[dict[str, Any]], None] | None = None,
                   soc_pct: float | None = None) -> Rig:
        site = make_site(tmp_path, edit)
        sim = Simulator(site, start, speed=0, inputs=build_inputs(site), emit=lambda _: None)
        await sim.serve()
        db = tmp_path / f"rig{len(made)}.db"
        rig = Rig(sim, None, db)  # type: ignore[arg-type]
        if soc_pct is not None:
            rig.set_soc(soc_pct)
        rig.ctrl = Controller(site, Store(db, site.site.timezone), build_links(site),
                              mono=lambda: rig.mono,
                              wall=lambda: sim.plant.t.timestamp() + rig.offset_s)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        rig.ctrl.close()
        await rig.sim.close()


# --------------------------------------------------------------------------- aeration


async def test_night_with_do_falling_turns_aerators_on(rig_factory: Any) -> None:
    def half_at_night(d: dict[str, Any]) -> None:
        d["loads"][0]["night_fraction"] = 0.5

    rig = await rig_factory(NIGHT, half_at_night)
    await rig.cycles(6)
    on = rig.relays()
    assert sum(on[c] for c in AERATORS) == 3  # the night minimum; DO is above 6 mg/L
    rig.sim.add_fault("do-probe", "drift", params={"point": "do_mg_l", "rate_per_h": -300})
    reports = await rig.cycles(12)
    do = reports[-1].snapshot.do_mg_l
    assert do.ok and do.value < 4.0
    assert all(rig.relays()[c] for c in AERATORS)
    assert not rig.sim.plant.state()["inverter_tripped"]


async def test_four_aerators_staggered_do_not_trip_but_at_once_they_do(rig_factory: Any
                                                                       ) -> None:
    def four(d: dict[str, Any]) -> None:
        d["loads"][0]["units"] = 4
        d["loads"][0]["switch"]["channels"] = [0, 1, 2, 3]

    rig = await rig_factory(NIGHT, four)
    started = []
    for _ in range(6):
        await rig.cycles(1)
        started.append(sum(rig.relays()[:4]))
        assert not rig.sim.plant.state()["inverter_tripped"]
    assert started[:4] == [1, 2, 3, 4]
    # Switch them off, wait, then the same four at once, through the same transport.
    relays = next(lk for lk in rig.ctrl.links if lk.name == "relays")
    assert relays.rmap is not None
    off = {f"relay_{c}": False for c in range(4)}
    await relays.write(off, encode(relays.rmap, off), rig.sim.plant.t)
    rig.sim.advance(30)
    on = {f"relay_{c}": True for c in range(4)}
    await relays.write(on, encode(relays.rmap, on), rig.sim.plant.t)
    rig.sim.advance(2)
    assert rig.sim.plant.state()["inverter_tripped"]
    reports = await rig.cycles(1)
    assert "inverter_trip:inverter" in reports[0].raised
    # Recovery: motor relays opened, the inverter reset, then the staggered restart.
    assert not any(rig.relays()[:4])
    reports = await rig.cycles(10)
    resets = [i for i, r in enumerate(reports) if "inverter_connect" in r.writes.get(
        "inverter", {})]
    assert len(resets) == 1
    assert not rig.sim.plant.state()["inverter_tripped"]
    assert sum(rig.relays()[:4]) == 4
    assert "inverter_trip:inverter" in [k for r in reports for k in r.cleared]
    conn = store.connect(rig.db, readonly=True)
    cut = conn.execute("SELECT * FROM interruptions WHERE cause = 'inverter_trip'").fetchall()
    assert cut and all(row["end_ts"] is not None for row in cut)


# --------------------------------------------------------------------------- battery


async def test_low_battery_sheds_non_critical_first_and_aerators_last(rig_factory: Any
                                                                      ) -> None:
    rig = await rig_factory(NIGHT, soc_pct=60)
    await rig.cycles(8)
    assert all(rig.relays()[c] for c in AERATORS) and rig.relays()[7]  # farmhouse on
    seen = []
    for soc in (33, 28, 8, 4):
        rig.set_soc(soc)
        await rig.cycles(2)
        r = rig.relays()
        seen.append((soc, r[7], sum(r[c] for c in AERATORS)))
    # The pump (ch 6) is off at night anyway; farmhouse (ch 7) goes at 30 %; aerators run
    # below min SOC at night and stop only at the hard floor.
    assert seen == [(33, True, 6), (28, False, 6), (8, False, 6), (4, False, 0)]
    conn = store.connect(rig.db, readonly=True)
    causes = {r["load"]: r["cause"] for r in conn.execute("SELECT * FROM interruptions")}
    assert causes == {"farmhouse": "load_shedding", "aerators": "battery_protection"}
    assert all(r["end_ts"] is None for r in conn.execute("SELECT * FROM interruptions"))


async def test_generator_thresholds_and_minimum_run_time(rig_factory: Any) -> None:
    def short_run(d: dict[str, Any]) -> None:
        d["generator"]["min_run_min"] = 10
        d["control"]["cycle_s"] = 10

    rig = await rig_factory(NIGHT, short_run, soc_pct=24)
    runs = []
    for i in range(100):
        if i == 20:
            rig.set_soc(85)  # charged: stop after 300 s, but only once it ran 10 min
        await rig.cycles(1)
        runs.append(rig.sim.plant.gen is GenState.RUNNING)
    first = runs.index(True)
    assert 12 <= first <= 16  # 120 s start delay + 10 s cranking, in 10 s cycles
    last = max(i for i, r in enumerate(runs) if r)
    # Minimum run time 600 s from the start command: the engine runs that less its 10 s
    # start delay, observed at 10 s cycles.
    assert 570 <= (last - first + 1) * 10 <= 620
    assert runs[first:last + 1] == [True] * (last - first + 1)
    assert not runs[-1]


# --------------------------------------------------------------------------- faults


async def test_silent_device_alarm_stale_safe_state_and_recovery(rig_factory: Any) -> None:
    def thirty(d: dict[str, Any]) -> None:
        d["control"]["cycle_s"] = 30

    rig = await rig_factory(LATE, thirty)
    await rig.cycles(3)
    fault = rig.sim.add_fault("do-probe", "silent")
    reports = await rig.cycles(10)  # 5 minutes
    assert "device_offline:do-probe" in [k for r in reports for k in r.raised]
    do = reports[-1].snapshot.do_mg_l
    assert do.quality.value == "stale"  # not frozen as good
    assert all(rig.relays()[c] for c in AERATORS)  # fail safe at night
    conn = store.connect(rig.db, readonly=True)
    latest = {r["point"]: r for r in store.read_latest(conn, "do-probe")}
    assert latest["do_mg_l"]["quality"] == "stale"
    rig.sim.clear_fault(fault.id)
    back = await rig.cycles(2)
    assert back[-1].snapshot.do_mg_l.ok
    assert "device_offline:do-probe" in [k for r in back for k in r.cleared]


async def test_garbage_values_are_flagged_and_not_acted_on(rig_factory: Any) -> None:
    rig = await rig_factory(NIGHT, soc_pct=28)
    await rig.cycles(6)
    assert not rig.relays()[7]  # farmhouse shed at 28 %
    for dev in ("mppt-1", "mppt-2"):
        rig.sim.add_fault(dev, "garbage", params={"value": 0xFFFF})
    reports = await rig.cycles(4)
    raised = [k for r in reports for k in r.raised]
    assert {"invalid_value:mppt-1", "invalid_value:mppt-2"} <= set(raised)
    snap = reports[-1].snapshot
    assert snap.soc_pct.ok and snap.soc_pct.value == pytest.approx(28, abs=1)  # inverter
    conn = store.connect(rig.db, readonly=True)
    q = {r["point"]: r["quality"] for r in store.read_latest(conn, "mppt-1")}
    assert q["soc_pct"] == "invalid"
    # The inverter too: no SOC at all. 655 % from the MPPTs never reconnects the farmhouse.
    rig.sim.add_fault("inverter", "garbage", params={"value": 0xFFFF})
    reports = await rig.cycles(4)
    assert not reports[-1].snapshot.soc_pct.ok
    assert not rig.relays()[7]


async def test_wall_clock_jump_causes_no_action(rig_factory: Any) -> None:
    rig = await rig_factory(LATE, soc_pct=70)
    await rig.cycles(10)
    api = store.connect(rig.db)
    store.insert_command(api, "override_load", {"load": "farmhouse", "on": False,
                                                "expires_s": 7200}, requested_by="t",
                         now_ts=rig.sim.plant.t.timestamp())
    await rig.cycles(3)
    assert not rig.relays()[7]
    before = await rig.cycles(4)
    assert all(r.writes == {} for r in before)
    for jump in (3600, -3600, 0):
        rig.offset_s = jump
        after = await rig.cycles(6)
        assert all(r.writes == {} for r in after), (jump, [r.writes for r in after])
        assert not rig.relays()[7]  # the override has not expired early


async def test_commands_are_executed_and_acknowledged(rig_factory: Any) -> None:
    rig = await rig_factory(NOON, soc_pct=70)
    await rig.cycles(2)
    api = store.connect(rig.db)
    now = rig.sim.plant.t.timestamp()
    ok = store.insert_command(api, "set_threshold", {"key": "shed_soc_pct", "value": 40},
                              requested_by="ops", now_ts=now)
    bad = store.insert_command(api, "set_threshold", {"key": "shed_soc_pct", "value": 55},
                               requested_by="ops", now_ts=now)  # above reconnect 50
    gen = store.insert_command(api, "generator", {"action": "start"}, requested_by="ops",
                               now_ts=now)
    await rig.cycles(1)
    assert store.read_command(api, ok).status == "done"
    assert rig.ctrl.site.control.shed_soc_pct == 40
    rejected = store.read_command(api, bad)
    assert rejected.status == "rejected" and "reconnect_soc_pct" in rejected.result["error"]
    assert store.read_command(api, gen).status == "done"
    await rig.cycles(4)
    assert rig.sim.plant.gen is not GenState.STANDBY
    assert store.read_state(api, "thresholds") == {"shed_soc_pct": 40}


async def test_samples_on_change_with_heartbeat_and_rollups(rig_factory: Any) -> None:
    def sixty(d: dict[str, Any]) -> None:
        d["control"]["cycle_s"] = 60

    rig = await rig_factory(NOON, sixty)
    await rig.cycles(12)  # 12 minutes
    conn = store.connect(rig.db, readonly=True)
    t0 = NOON.timestamp()
    static = store.read_samples(conn, "mppt-1", "battery_ah", 0)
    assert 2 <= len(static) <= 4  # first value, then the 5-minute heartbeat only
    assert all(b["ts"] - a["ts"] >= 300 for a, b in itertools.pairwise(static))
    soc = store.read_samples(conn, "site", "soc_pct", 0)
    assert len(soc) >= 2
    minutes = store.read_rollups(conn, "1m", t0, source="site")
    assert len(minutes) >= 10
    assert all(m["aerator_h"] == pytest.approx(3 / 60) for m in minutes[2:])  # half of six
    day = store.read_rollups(conn, "1d", 0, source="inverter")
    assert day[0]["energy_out_wh"] > 0 and day[0]["soc_min_pct"] <= day[0]["soc_max_pct"]


async def test_eeprom_settings_written_only_on_change(rig_factory: Any) -> None:
    rig = await rig_factory(NOON)
    await rig.cycles(2)
    mppt = next(lk for lk in rig.ctrl.links if lk.name == "mppt-1")
    assert mppt.rmap is not None
    ah = mppt.last["battery_ah"].value

    def writes() -> int:
        return int(rig.sim.state()["devices"]["mppt-1"]["eeprom_writes"])

    same = {"battery_ah": ah}
    await mppt.write(same, encode(mppt.rmap, same), rig.sim.plant.t)
    assert writes() == 0
    new = {"battery_ah": ah + 100}
    await mppt.write(new, encode(mppt.rmap, new), rig.sim.plant.t)
    assert writes() == 1
    await rig.cycles(2)  # read back from the device
    assert mppt.last["battery_ah"].value == ah + 100
    await mppt.write(new, encode(mppt.rmap, new), rig.sim.plant.t)
    assert writes() == 1


async def test_state_survives_a_restart(rig_factory: Any) -> None:
    rig = await rig_factory(NIGHT, soc_pct=24)  # below the generator's start threshold
    api = store.connect(rig.db)
    now = rig.sim.plant.t.timestamp()
    store.insert_command(api, "override_load", {"load": "farmhouse", "on": False,
                                                "expires_s": 3600}, requested_by="t",
                         now_ts=now)
    await rig.cycles(40)  # 200 s: the generator started after its 120 s delay
    assert rig.sim.plant.gen is GenState.RUNNING
    rig.sim.add_fault("do-probe", "silent")
    await rig.cycles(14)  # device_offline raised after 60 s
    old = rig.ctrl
    run_s = old.mono() - old.state.get("gen.on_since")
    old.close()
    site = old.site
    rig.mono += 12_345.0  # a new process: another monotonic origin
    rig.ctrl = Controller(site, Store(rig.db, site.site.timezone), build_links(site),
                          mono=lambda: rig.mono,
                          wall=lambda: rig.sim.plant.t.timestamp())  # noqa: PLW0108 - t moves
    new = rig.ctrl
    assert new.state.get("gen.on") is True
    assert new.mono() - new.state.get("gen.on_since") == pytest.approx(run_s)
    load, (on, expires) = next(iter(new.state.overrides.items()))
    assert (load, on) == ("farmhouse", False)
    assert expires - new.mono() == pytest.approx(3600 - 53 * 5, abs=1)  # set at cycle 1
    assert ("device_offline", "do-probe") in new.alarms.active
    reports = await rig.cycles(3)
    assert all("device_offline:do-probe" not in r.raised for r in reports)  # not re-raised
    assert not rig.relays()[7]
