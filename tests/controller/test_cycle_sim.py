"""The controller in the loop with `hardware_sim` over real Modbus: TCP on loopback (the
SunSpec inverter) and RTU on a socat pty (MPPTs, relays, DO probe, generator). Virtual time:
each cycle steps the plant and the controller's monotonic clock; nothing sleeps."""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from controller.cycle import Controller, CycleReport, build_links
from controller.devices.codec import encode
from hardware_sim.inputs import build_inputs
from hardware_sim.plant import GenState
from hardware_sim.simulator import Simulator
from sitefile import Site, parse_site
from store import commands, readers
from store.schema import connect
from store.writer import Store
from tests.conftest import SHRIMP
from tests.support import on_local_ports, require_tool

NIGHT = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)  # 20:00 in Bac Lieu
NOON = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # 12:00
LATE = datetime(2026, 3, 1, 19, 0, tzinfo=UTC)  # 02:00
AERATORS = [0, 1, 2, 3, 4, 5]


def make_site(tmp_path: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Site:
    """The shrimp site on a free port and a pty under tmp_path, with a 5 ms RS485 gap (the
    simulator makes the pty with socat)."""
    require_tool("socat")
    data = tomllib.loads(SHRIMP.read_text(encoding="utf-8"))
    on_local_ports(data, tmp_path)
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
    conn = connect(rig.db, readonly=True)
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
    conn = connect(rig.db, readonly=True)
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
    conn = connect(rig.db, readonly=True)
    latest = {r["point"]: r for r in readers.read_latest(conn, "do-probe")}
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
    conn = connect(rig.db, readonly=True)
    q = {r["point"]: r["quality"] for r in readers.read_latest(conn, "mppt-1")}
    assert q["soc_pct"] == "invalid"
    # The inverter too: no SOC at all. 655 % from the MPPTs never reconnects the farmhouse.
    rig.sim.add_fault("inverter", "garbage", params={"value": 0xFFFF})
    reports = await rig.cycles(4)
    assert not reports[-1].snapshot.soc_pct.ok
    assert not rig.relays()[7]


async def test_wall_clock_jump_causes_no_action(rig_factory: Any) -> None:
    rig = await rig_factory(LATE, soc_pct=70)
    await rig.cycles(10)
    api = commands.open_database(rig.db)
    commands.insert_command(api, "override_load", {"load": "farmhouse", "on": False,
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
    api = commands.open_database(rig.db)
    now = rig.sim.plant.t.timestamp()
    ok = commands.insert_command(api, "set_threshold", {"key": "shed_soc_pct", "value": 40},
                              requested_by="ops", now_ts=now)
    bad = commands.insert_command(api, "set_threshold", {"key": "shed_soc_pct", "value": 55},
                               requested_by="ops", now_ts=now)  # above reconnect 50
    gen = commands.insert_command(api, "generator", {"action": "start"}, requested_by="ops",
                               now_ts=now)
    await rig.cycles(1)
    assert commands.read_command(api, ok).status == "done"
    assert rig.ctrl.site.control.shed_soc_pct == 40
    rejected = commands.read_command(api, bad)
    assert rejected.status == "rejected" and "reconnect_soc_pct" in rejected.result["error"]
    assert commands.read_command(api, gen).status == "done"
    await rig.cycles(4)
    assert rig.sim.plant.gen is not GenState.STANDBY
    assert readers.read_state(api, "thresholds") == {"shed_soc_pct": 40}


async def test_samples_on_change_with_heartbeat_and_rollups(rig_factory: Any) -> None:
    def sixty(d: dict[str, Any]) -> None:
        d["control"]["cycle_s"] = 60

    rig = await rig_factory(NOON, sixty)
    await rig.cycles(12)  # 12 minutes
    conn = connect(rig.db, readonly=True)
    t0 = NOON.timestamp()
    static = readers.read_samples(conn, "mppt-1", "battery_ah", 0)
    assert 2 <= len(static) <= 4  # first value, then the 5-minute heartbeat only
    assert all(b["ts"] - a["ts"] >= 300 for a, b in itertools.pairwise(static))
    soc = readers.read_samples(conn, "site", "soc_pct", 0)
    assert len(soc) >= 2
    minutes = readers.read_rollups(conn, "1m", t0, source="site")
    assert len(minutes) >= 10
    assert all(m["aerator_h"] == pytest.approx(3 / 60) for m in minutes[2:])  # half of six
    day = readers.read_rollups(conn, "1d", 0, source="site")
    assert day[0]["soc_min_pct"] <= day[0]["soc_max_pct"]
    load = [e for e in readers.read_energy(conn, "1d", 0, source="inverter")
            if e["category"] == "load"]
    assert load and load[0]["method"] == "counter" and load[0]["wh"] > 0


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
    api = commands.open_database(rig.db)
    now = rig.sim.plant.t.timestamp()
    commands.insert_command(api, "override_load", {"load": "farmhouse", "on": False,
                                                "expires_s": 3600}, requested_by="t",
                         now_ts=now)
    await rig.cycles(40)  # 200 s: the generator started after its 120 s delay
    assert rig.sim.plant.gen is GenState.RUNNING
    rig.sim.add_fault("do-probe", "silent")
    await rig.cycles(14)  # device_offline raised after 60 s
    old = rig.ctrl
    run_s = old.mono() - old.state.generator.on_since_mono
    old.close()
    site = old.site
    rig.mono += 12_345.0  # a new process: another monotonic origin
    rig.ctrl = Controller(site, Store(rig.db, site.site.timezone), build_links(site),
                          mono=lambda: rig.mono,
                          wall=lambda: rig.sim.plant.t.timestamp())  # noqa: PLW0108 - t moves
    new = rig.ctrl
    assert new.state.generator.on is True
    assert new.mono() - new.state.generator.on_since_mono == pytest.approx(run_s)
    load, (on, expires) = next(iter(new.state.overrides.items()))
    assert (load, on) == ("farmhouse", False)
    assert expires - new.mono() == pytest.approx(3600 - 53 * 5, abs=1)  # set at cycle 1
    assert ("device_offline", "do-probe") in new.alarms.active
    reports = await rig.cycles(3)
    assert all("device_offline:do-probe" not in r.raised for r in reports)  # not re-raised
    assert not rig.relays()[7]


# --------------------------------------------------------------------------- energy and health


def _site_energy_kwh(db: Path) -> dict[str, float]:
    """The site's energy per category over the whole run [kWh], methods summed."""
    conn = connect(db, readonly=True)
    out: dict[str, float] = {}
    for e in readers.read_energy(conn, "1m", 0, source="site"):
        assert e["wh"] >= 0, e  # no negative step, ever
        out[e["category"]] = out.get(e["category"], 0.0) + e["wh"] / 1000
    return out


async def test_night_discharge_is_battery_discharge_not_pv(rig_factory: Any) -> None:
    """The MPPTs report a negative net battery current at night: the site books it as
    battery discharge, with the plant's energy, and no PV."""
    rig = await rig_factory(NIGHT, soc_pct=80)
    await rig.cycles(1)
    e0 = dict(rig.sim.plant.energy.__dict__)
    reports = await rig.cycles(60)  # 5 minutes of 5 s cycles, the controller in real time
    mppt = next(lk for lk in rig.ctrl.links if lk.name == "mppt-1")
    assert mppt.last["battery_a"].value < 0
    assert reports[-1].snapshot.battery_w.value < -500
    latest = {r["point"]: r for r in readers.read_latest(connect(rig.db, readonly=True), "site")}
    assert latest["battery_w"]["value"] < -500 and latest["pv_w"]["value"] == 0
    kwh = _site_energy_kwh(rig.db)
    assert kwh["pv"] == 0
    discharged = rig.sim.plant.energy.battery_discharge_kwh - e0["battery_discharge_kwh"]
    assert kwh["battery_discharge"] == pytest.approx(discharged, rel=0.03)
    assert kwh.get("battery_charge", 0.0) == 0


async def test_energy_from_counters_does_not_depend_on_the_simulator_speed(rig_factory: Any
                                                                           ) -> None:
    """The plant runs 60 × faster than the controller's clock (``offgrid sim --speed 60``):
    PV, load and generator energy still match the plant's own, because they come from the
    devices' counters. An operator starts the generator."""
    rig = await rig_factory(NOON, soc_pct=30)
    step = rig.ctrl.site.control.cycle_s
    commands.insert_command(commands.open_database(rig.db), "generator", {"action": "start"},
                            requested_by="ops", now_ts=rig.sim.plant.t.timestamp())

    async def fast(n: int) -> None:
        for _ in range(n):
            rig.sim.advance(60 * step)
            rig.mono += step
            await rig.ctrl.cycle()

    await fast(1)
    e0 = dict(rig.sim.plant.energy.__dict__)
    await fast(40)  # 200 s of the controller, 200 minutes of the plant
    e1 = rig.sim.plant.energy.__dict__
    assert rig.sim.plant.gen is GenState.RUNNING
    kwh = _site_energy_kwh(rig.db)
    for category, plant in (("pv", "pv_kwh"), ("load", "served_kwh"),
                            ("generator", "generator_kwh")):
        # resolution of the counters: 0.01 kWh per MPPT, 1 Wh, 0.1 kWh for the generator
        assert kwh[category] == pytest.approx(e1[plant] - e0[plant], rel=0.01, abs=0.1), category
    assert kwh["generator"] > 5
    conn = connect(rig.db, readonly=True)
    methods = {(e["category"], e["method"]) for e in readers.read_energy(conn, "1d", 0,
                                                                           source="site")}
    assert {("pv", "counter"), ("load", "counter"), ("generator", "counter")} <= methods
    events = [e["kind"] for e in readers.read_events(conn)]
    assert "generator_start" in events and "controller_start" in events


async def test_counter_reset_by_a_reboot_is_neither_negative_nor_huge(rig_factory: Any
                                                                      ) -> None:
    rig = await rig_factory(NOON)
    await rig.cycles(1, step_s=30)
    e0 = rig.sim.plant.energy.pv_kwh
    await rig.cycles(10, step_s=30)
    mppt = next(lk for lk in rig.ctrl.links if lk.name == "mppt-1")
    before = mppt.last["pv_kwh_total"].value
    rig.sim.add_fault("mppt-1", "reboot", duration_s=1)
    await rig.cycles(4, step_s=30)
    assert mppt.last["pv_kwh_total"].value < before  # the counter restarted at 0
    await rig.cycles(16, step_s=30)
    pv = _site_energy_kwh(rig.db)["pv"]
    # What is lost is mppt-1's energy between its last read and the reboot (≤ 30 s of half
    # the PV), no more, and nothing is counted twice.
    plant = rig.sim.plant.energy.pv_kwh - e0
    assert plant * 0.97 <= pv <= plant * 1.001


async def test_devices_answering_are_online_whether_or_not_values_change(rig_factory: Any
                                                                         ) -> None:
    def thirty(d: dict[str, Any]) -> None:
        d["control"]["cycle_s"] = 30

    rig = await rig_factory(LATE, thirty)
    await rig.cycles(4)
    conn = connect(rig.db, readonly=True)
    health = {d["device"]: d for d in readers.read_devices(conn)}
    assert set(health) == {d.name for d in rig.ctrl.site.devices}
    assert all(d["online"] for d in health.values()), health  # relays and genset included
    assert health["relays"]["last_ok_ts"] == pytest.approx(rig.sim.plant.t.timestamp())
    rig.sim.add_fault("do-probe", "silent")
    await rig.cycles(1)
    probe = {d["device"]: d for d in readers.read_devices(conn)}["do-probe"]
    assert not probe["online"] and probe["error"]
    assert probe["last_ok_ts"] < probe["last_poll_ts"]


async def test_failed_relay_write_raises_write_failed_and_is_not_healthy(rig_factory: Any
                                                                         ) -> None:
    rig = await rig_factory(NIGHT, soc_pct=70)
    await rig.cycles(6)
    assert rig.relays()[7]  # the farmhouse is on
    fault = rig.sim.add_fault("relays", "exception", params={"on": "writes"})
    api = commands.open_database(rig.db)
    commands.insert_command(api, "override_load", {"load": "farmhouse", "on": False,
                                                   "expires_s": 3600}, requested_by="t",
                            now_ts=rig.sim.plant.t.timestamp())
    reports = await rig.cycles(2)
    assert all(not r.healthy and "relays" in r.write_failed for r in reports)
    assert "write_failed:relays" in reports[0].raised
    assert rig.relays()[7]
    rig.sim.clear_fault(fault.id)
    back = await rig.cycles(1)
    assert back[0].healthy and "write_failed:relays" in back[0].cleared
    assert not rig.relays()[7]
    switched = [e for e in readers.read_events(api) if e["kind"] == "load_switched"]
    assert switched[0]["source"] == "farmhouse" and switched[0]["data"]["by"] == ["overrides"]


async def test_thresholds_settable_only_by_the_list_and_dropped_loudly(rig_factory: Any
                                                                       ) -> None:
    rig = await rig_factory(NOON, soc_pct=70)
    await rig.cycles(1)
    api = commands.open_database(rig.db)
    now = rig.sim.plant.t.timestamp()
    stale = commands.insert_command(api, "set_threshold", {"key": "stale_after_s", "value": 5},
                                    requested_by="ops", now_ts=now)
    await rig.cycles(1)
    refused = commands.read_command(api, stale)
    assert refused is not None and refused.status == "rejected"
    assert "not a settable threshold" in refused.result["error"]
    assert rig.ctrl.site.control.stale_after_s == 60
    # A threshold saved by an older site file that the current one refuses: dropped, loudly.
    rig.ctrl.store.set_state(now, "thresholds", {"shed_soc_pct": 55, "do_on_mg_l": 3.5})
    old = rig.ctrl
    old.close()
    rig.ctrl = Controller(old.site, Store(rig.db, old.site.site.timezone), build_links(old.site),
                          mono=lambda: rig.mono,
                          wall=lambda: rig.sim.plant.t.timestamp())  # noqa: PLW0108 - t moves
    assert rig.ctrl.site.control.do_on_mg_l == 3.5
    assert rig.ctrl.site.control.shed_soc_pct == 35
    dropped = [e for e in readers.read_events(api) if e["kind"] == "threshold_dropped"]
    assert len(dropped) == 1 and dropped[0]["data"]["key"] == "shed_soc_pct"
    assert readers.read_state(api, "thresholds") == {"do_on_mg_l": 3.5}
    assert "controller_stop" in [e["kind"] for e in readers.read_events(api)]


# --------------------------------------------------------------------------- reliability


def _rows(db: Path, table: str) -> list[dict[str, Any]]:
    conn = connect(db, readonly=True)
    return [dict(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY id")]


async def test_a_flexible_pump_shed_on_low_soc_is_curtailed_not_interrupted(rig_factory: Any
                                                                            ) -> None:
    """At noon, SOC 33 %: the pump (flexible, shed first at 35 %) goes, the farmhouse (at
    30 %) stays. No customer is interrupted: SAIDI 0, and one curtailment."""
    rig = await rig_factory(NOON, soc_pct=33)
    await rig.cycles(4)
    assert not rig.relays()[6] and rig.relays()[7]  # pump off, farmhouse on
    assert _rows(rig.db, "interruptions") == []
    cut = _rows(rig.db, "curtailments")
    assert [(c["load"], c["cause"], c["end_ts"]) for c in cut] == [
        ("exchange-pump", "load_shedding", None)]
    rig.set_soc(60)  # above the pump's reconnection at 35 + 15 %
    await rig.cycles(2)
    cut = _rows(rig.db, "curtailments")
    assert len(cut) == 1 and cut[0]["end_ts"] is not None
    conn = connect(rig.db, readonly=True)
    rel = readers.read_reliability(conn, customers_served=rig.ctrl.site.customers_served,
                                   timezone="Asia/Ho_Chi_Minh",
                                   now_ts=rig.sim.plant.t.timestamp())
    ytd = rel["year_to_date"]
    assert (ytd["saidi_minutes"], ytd["saifi_count"], ytd["curtailments"]) == (0.0, 0.0, 1)
    assert ytd["curtailment_hours"] == pytest.approx(
        (cut[0]["end_ts"] - cut[0]["start_ts"]) / 3600) and ytd["curtailment_hours"] > 0


async def test_a_planned_cut_opens_and_closes_planned_interruptions(rig_factory: Any) -> None:
    """Start: a planned interruption for each load that is not flexible (not the pump); a
    restart keeps the cut; end: closed. A cut nobody ends ends itself after 72 h."""
    rig = await rig_factory(NOON, soc_pct=70)
    await rig.cycles(1)
    api = commands.open_database(rig.db)
    start = commands.insert_command(api, "planned_cut", {"action": "start", "reason": "inverter"},
                                    requested_by="ops", now_ts=rig.sim.plant.t.timestamp())
    await rig.cycles(1)
    started = commands.read_command(api, start)
    assert started is not None and started.status == "done"
    t_start = started.result["start_ts"]
    assert started.result["ends_by_ts"] == t_start + 72 * 3600
    rows = _rows(rig.db, "interruptions")
    assert {(r["load"], r["cause"], r["planned"], r["customers"], r["start_ts"]) for r in rows
            } == {("aerators", "planned", 1, 1, t_start), ("farmhouse", "planned", 1, 1, t_start)}
    again = commands.insert_command(api, "planned_cut", {"action": "start", "reason": "x"},
                                    requested_by="ops", now_ts=rig.sim.plant.t.timestamp())
    # a restart: the cut and its open interruptions are the store's
    old = rig.ctrl
    old.close()
    rig.ctrl = Controller(old.site, Store(rig.db, old.site.site.timezone), build_links(old.site),
                          mono=lambda: rig.mono,
                          wall=lambda: rig.sim.plant.t.timestamp() + rig.offset_s)
    await rig.cycles(12)  # 60 s
    refused = commands.read_command(api, again)
    assert refused is not None and refused.status == "rejected"
    assert "in progress" in refused.result["error"]
    assert len(_rows(rig.db, "interruptions")) == 2  # the same two, still open
    end = commands.insert_command(api, "planned_cut", {"action": "end"}, requested_by="ops",
                                  now_ts=rig.sim.plant.t.timestamp())
    await rig.cycles(1)
    ended = commands.read_command(api, end)
    assert ended is not None and ended.status == "done"
    rows = _rows(rig.db, "interruptions")
    assert len(rows) == 2 and all(r["end_ts"] == ended.result["end_ts"] for r in rows)
    assert readers.read_state(api, "planned_cut") is None
    minutes = ended.result["minutes"]
    assert minutes == pytest.approx(13 * 5 / 60)  # 13 cycles of 5 s
    rel = readers.read_reliability(api, customers_served=2, timezone="Asia/Ho_Chi_Minh",
                                   now_ts=rig.sim.plant.t.timestamp())["year_to_date"]
    # 65 s < 5 min: two customers momentarily interrupted, planned; no SAIDI
    assert (rel["saidi_minutes"], rel["maifi_count"]) == (0.0, pytest.approx(2 / 2))

    # A cut nobody ends: the controller ends it at start + 72 h, even if it notices later.
    commands.insert_command(api, "planned_cut", {"action": "start", "reason": "forgotten"},
                            requested_by="ops", now_ts=rig.sim.plant.t.timestamp())
    await rig.cycles(1)
    t2 = readers.read_state(api, "planned_cut")["start_ts"]
    rig.offset_s = 73 * 3600.0
    await rig.cycles(1)
    assert readers.read_state(api, "planned_cut") is None
    last = _rows(rig.db, "interruptions")[-2:]
    assert all(r["planned"] == 1 and r["end_ts"] == t2 + 72 * 3600 for r in last)
    rel = readers.read_reliability(api, customers_served=2, timezone="Asia/Ho_Chi_Minh",
                                   now_ts=rig.sim.plant.t.timestamp() + rig.offset_s)
    assert rel["year_to_date"]["saidi_planned_minutes"] == pytest.approx(72 * 60 * 2 / 2)
    kinds = [(e["kind"], e["data"].get("why")) for e in readers.read_events(api)
             if e["kind"].startswith("planned_cut")]
    assert kinds == [("planned_cut_ended", "ended after the longest planned cut"),
                     ("planned_cut_started", None), ("planned_cut_ended", "ended by ops"),
                     ("planned_cut_started", None)]
