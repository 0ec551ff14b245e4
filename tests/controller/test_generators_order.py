"""Several generators, cycle by cycle in virtual time (DESIGN.md style 8): unit 1 starts on the
set's rules, unit 2 when the load stays above 85 % of unit 1's rating, unit 2 stops first when
unit 1 alone would run below 60 % (after its minimum run), a unit that does not start raises
its own alarm and the next takes its place. Then the same through the cycle's writes, against
the simulator over real Modbus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from controller import strategies as S
from controller.cycle import Controller, build_links
from controller.devices.values import Quality, Reading
from controller.model import Condition, RunGenerator, Snapshot, State
from hardware_sim.inputs import build_inputs
from hardware_sim.plant import GenState
from hardware_sim.simulator import Simulator
from sitefile import Site
from store import readers
from store.writer import Store
from tests.hardware_sim.wind_site import GEN_KW, wind_site
from tests.support import require_tool

TS = datetime(2026, 1, 10, 13, 0, tzinfo=UTC)  # 20:00 in Bac Lieu: no PV
CYCLE_S = 5.0


def r(v: Any) -> Reading:
    return Reading(v, TS) if v is not None else Reading(None, TS, Quality.MISSING)


def snap(now: float, *, soc: float, load_kw: float,
         running: dict[str, bool | None]) -> Snapshot:
    return Snapshot(
        mono_s=now, wall_ts=TS.timestamp() + now, local_h=20.0, local_day="2026-01-10",
        soc_pct=r(soc), battery_v=r(52.0), battery_w=r(None), battery_temp_c=r(30.0),
        pv_w=r(0.0), wind_w=r(0.0), load_w=r(load_kw * 1000), do_mg_l=r(6.0),
        water_temp_c=r(None), inverter_fault=r(False),
        generator_running=r(any(v for v in running.values())), fuel_pct=r(80.0),
        gen_running=running)


@dataclass
class Units:
    """Decide cycle by cycle; the simulated controllers follow the commands after ``lag_s``
    (a unit in ``dead`` never starts)."""

    site: Site
    dead: frozenset[str] = frozenset()
    lag_s: float = 10.0
    now: float = 0.0
    state: State = field(default_factory=State)
    started: dict[str, float | None] | None = None
    order: list[tuple[str, bool, float]] | None = None
    alarms: set[str] | None = None

    def running(self) -> dict[str, bool | None]:
        assert self.started is not None
        return {name: since is not None and self.now - since >= self.lag_s
                and name not in self.dead for name, since in self.started.items()}

    def run(self, seconds: float, *, soc: float, load_kw: float) -> None:
        if self.started is None:
            self.started = {g.name: None for g in self.site.generators}
            self.order, self.alarms = [], set()
        assert self.order is not None and self.alarms is not None
        end = self.now + seconds
        while self.now < end:
            self.now += CYCLE_S
            acts = S.generator(snap(self.now, soc=soc, load_kw=load_kw,
                                    running=self.running()), self.state, self.site, self.now)
            self.state = self.state.remember(a.memory for a in acts if isinstance(a, S.Remember))
            for a in acts:
                if isinstance(a, RunGenerator) and a.unit:
                    was = self.started[a.unit] is not None
                    if a.run != was:
                        self.order.append((a.unit, a.run, self.now))
                        self.started[a.unit] = self.now if a.run else None
                if isinstance(a, Condition) and a.kind == "generator_failed_to_start":
                    (self.alarms.add if a.active else self.alarms.discard)(a.source)

    def on(self) -> set[str]:
        assert self.started is not None
        return {n for n, since in self.started.items() if since is not None}


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return wind_site(tmp_path)


def test_load_step_starts_unit_2_after_unit_1_and_unit_2_stops_first(site: Site) -> None:
    c = site.control
    u = Units(site)
    u.run(60, soc=80, load_kw=6)
    assert u.on() == set()
    u.run(c.gen_start_delay_s + 10, soc=25, load_kw=6)  # SOC below 30 %: the set starts
    assert u.on() == {"gen-1"}
    # The evening peak: 9 kW > 85 % of 10 kW, held for the start delay.
    u.run(c.gen_start_delay_s - 2 * CYCLE_S, soc=25, load_kw=0.9 * GEN_KW)
    assert u.on() == {"gen-1"}
    u.run(4 * CYCLE_S, soc=25, load_kw=0.9 * GEN_KW)
    assert u.on() == {"gen-1", "gen-2"}
    # A peak that fades before the delay does not start anything more, and unit 2 runs on:
    # 8 kW is not below 60 % of unit 1's 10 kW.
    u.run(3600, soc=25, load_kw=0.8 * GEN_KW)
    assert u.on() == {"gen-1", "gen-2"}
    # The load falls to 5 kW < 6 kW: after the stop delay unit 2 (the last started) stops.
    u.run(c.gen_stop_delay_s + 2 * CYCLE_S, soc=25, load_kw=0.5 * GEN_KW)
    assert u.on() == {"gen-1"}
    assert u.order is not None
    assert [(n, run) for n, run, _ in u.order] == [("gen-1", True), ("gen-2", True),
                                                  ("gen-2", False)]
    # Then the SOC recovers: the set stops after its own delay and minimum run.
    u.run(c.gen_stop_delay_s + 2 * CYCLE_S, soc=90, load_kw=0.5 * GEN_KW)
    assert u.on() == set()
    assert u.alarms == set()


def test_unit_2_keeps_its_minimum_run(site: Site) -> None:
    u = Units(site)
    u.run(site.control.gen_start_delay_s + 10, soc=25, load_kw=9.5)
    u.run(site.control.gen_start_delay_s + 10, soc=25, load_kw=9.5)
    assert u.on() == {"gen-1", "gen-2"}
    assert u.order is not None
    started_2 = next(t for n, run, t in u.order if n == "gen-2" and run)
    u.run(site.control.gen_stop_delay_s + 60, soc=25, load_kw=2)
    assert u.on() == {"gen-1", "gen-2"}  # 30 min minimum run not over
    u.run(site.generators[1].min_run_min * 60, soc=25, load_kw=2)
    stopped_2 = next(t for n, run, t in u.order if n == "gen-2" and not run)
    assert stopped_2 - started_2 >= site.generators[1].min_run_min * 60
    assert u.on() == {"gen-1"}


def test_failed_start_of_unit_1_alarms_and_starts_unit_2(site: Site) -> None:
    c = site.control
    u = Units(site, dead=frozenset({"gen-1"}))
    u.run(c.gen_start_delay_s + 10, soc=25, load_kw=5)
    assert u.on() == {"gen-1"} and u.alarms == set()
    u.run(c.gen_start_timeout_s, soc=25, load_kw=5)
    assert u.alarms == {"gen-1"}
    assert u.on() == {"gen-2"}
    assert u.running() == {"gen-1": False, "gen-2": False}  # gen-2 is still cranking
    u.run(30, soc=25, load_kw=5)
    assert u.running()["gen-2"] is True and u.alarms == {"gen-1"}
    # The set stops: each unit will be tried again at the next start (the alarm clears).
    u.run(c.gen_stop_delay_s + site.generators[0].min_run_min * 60, soc=95, load_kw=5)
    assert u.on() == set() and u.alarms == set()


def test_unknown_load_holds_the_running_units(site: Site) -> None:
    u = Units(site)
    u.run(site.control.gen_start_delay_s + 10, soc=25, load_kw=9.5)
    u.run(site.control.gen_start_delay_s + 10, soc=25, load_kw=9.5)
    state, now = u.state, u.now + CYCLE_S
    s = snap(now, soc=25, load_kw=0, running={"gen-1": True, "gen-2": True})
    s = Snapshot(**{**s.__dict__, "load_w": r(None)})
    acts = S.generator(s, state, site, now + 3600)
    assert {a.unit: a.run for a in acts if isinstance(a, RunGenerator) and a.unit} == {
        "gen-1": True, "gen-2": True}


def test_one_generator_decides_as_before(tmp_path: Path) -> None:
    """A single ``[generator]``: no unit commands, the set's own alarm source."""
    from tests.controller.test_cycle_sim import make_site  # noqa: PLC0415

    single = make_site(tmp_path)
    acts = S.generator(snap(10.0, soc=10, load_kw=3, running={"generator": False}), State(),
                       single, 10.0)
    assert not any(isinstance(a, RunGenerator) and a.unit for a in acts)
    assert {a.source for a in acts if isinstance(a, Condition)
            and a.kind == "generator_failed_to_start"} == {"generator"}


# --------------------------------------------------------------------------- with the simulator


@dataclass
class Rig:
    """The simulator and the controller, stepped together in virtual time."""

    sim: Simulator
    db: Path
    mono: float = 1000.0
    ctrl: Controller | None = None

    async def cycles(self, seconds: float) -> None:
        assert self.ctrl is not None
        for _ in range(round(seconds / CYCLE_S)):
            self.sim.advance(CYCLE_S)
            self.mono += CYCLE_S
            await self.ctrl.cycle()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    require_tool("socat")
    site = wind_site(tmp_path)
    start = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)  # 19:00 local
    sim = Simulator(site, start, speed=0, inputs=build_inputs(site), emit=lambda _: None)
    await sim.serve()
    rig = Rig(sim, tmp_path / "site.db")
    rig.ctrl = Controller(site, Store(rig.db, site.site.timezone), build_links(site),
                          mono=lambda: rig.mono,
                          wall=lambda: sim.plant.t.timestamp())  # noqa: PLW0108 (t moves on)
    yield rig
    rig.ctrl.close()
    await sim.close()


async def test_cycle_starts_each_unit_on_its_own_controller(rig: Rig) -> None:
    sim, site = rig.sim, rig.sim.site
    assert sim.site.battery is not None
    sim.plant.soc_kwh = sim.site.battery.kwh * 0.2  # below gen_start_soc_pct
    units = {u.spec.name: u for u in sim.plant.gens}

    await rig.cycles(site.control.gen_start_delay_s + 30)
    assert units["gen-1"].state is GenState.RUNNING
    assert units["gen-2"].state is GenState.STANDBY
    sim.plant.load_bank_kw = 9.5  # a load step above 85 % of gen-1's 10 kW
    await rig.cycles(site.control.gen_start_delay_s + 30)
    assert units["gen-2"].state is GenState.RUNNING
    # Paralleled, they share the load by rating, and the controller sees both.
    assert units["gen-1"].w == pytest.approx(units["gen-2"].w, rel=1e-6)
    conn = readers.connect(rig.db, readonly=True)
    starts = [(e["source"], e["data"]["unit"]) for e in reversed(readers.read_events(conn))
              if e["kind"] == "generator_start"]
    conn.close()
    assert starts == [("genset-1", "gen-1"), ("genset-2", "gen-2")]
