"""The control cycle: commands → read → snapshot → strategies → write → store.

:class:`Controller` is orchestration only: it owns the device links, the state and the store,
and calls the pure parts: :mod:`controller.commands` (what a command does),
:mod:`controller.snapshot` (natures and site figures), :mod:`controller.strategies` (decide),
:mod:`controller.energy` (energy per category) and :mod:`controller.telemetry` (what to
store). One call of :meth:`Controller.cycle` is one cycle; ``offgrid run`` schedules it
(:mod:`controller.service`) and tests call it directly, with injected clocks (``mono``
monotonic seconds drives every timer, ``wall`` UTC epoch seconds only stamps data and tells
the local time of day).
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from controller import energy, pumping, switching, telemetry, trust
from controller.alarms import AlarmTracker
from controller.commands import PlannedCut, apply_command, planned_cut, set_threshold
from controller.devices.codec import Block, encode
from controller.devices.errors import DeviceError
from controller.devices.natures import PumpDrive
from controller.devices.registry import DRIVERS
from controller.devices.values import Reading, Value
from controller.errors import CommandError, ControllerError, TransportError
from controller.forecast import clearsky_pv_w
from controller.model import (
    Condition,
    GeneratorMemory,
    GeneratorSetMemory,
    Plan,
    RunPump,
    Snapshot,
    State,
    UnitMemory,
    WaterDay,
)
from controller.plausibility import site_limits
from controller.snapshot import DeviceView, build_snapshot, device_view, soc_sources
from controller.strategies import decide_all, next_state
from controller.transport import Bus, DeviceLink
from sitefile import Site
from store.contract import ALARMS, PLANNED_CUT_STATE, CommandStatus, DeviceHealth
from store.errors import StoreError
from store.queue import QueueHealth, WriteQueue
from store.writer import Store

STATE_SAVE_S = 60.0
PRUNE_EVERY_S = 3600.0
SHED_BY = ("battery_protection", "load_shedding")
"""The strategies whose holding a load off is a supply cut (an operator's off is not one)."""


@dataclass
class CycleReport:
    """What one cycle did (for logs, the watchdog and tests)."""

    healthy: bool
    polled: list[str] = field(default_factory=list)
    offline: list[str] = field(default_factory=list)
    writes: dict[str, dict[str, Value]] = field(default_factory=dict)
    write_failed: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    raised: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    commands: dict[int, str] = field(default_factory=dict)
    unstored: list[int] = field(default_factory=list)  # commands whose ack waits in memory
    storage: QueueHealth | None = None  # the write queue after this cycle's flush
    plan: Plan | None = None
    snapshot: Snapshot | None = None
    elapsed_cpu_s: float = 0.0
    io_cpu_s: float = 0.0  # of which the Modbus requests of the read and write phases


@dataclass(frozen=True, slots=True)
class SupplyCut:
    """Why one load is not supplied now: ``cause`` is ``planned``, ``inverter_trip`` or the
    strategy that holds it off (:data:`SHED_BY`)."""

    cause: str
    customers: int
    planned: bool = False
    curtailment: bool = False  # a flexible load: curtailed, not interrupted


def supply_cuts(site: Site, plan: Plan, *, tripped: bool, planned: bool
                ) -> dict[str, SupplyCut]:
    """The loads whose supply is cut now, and why (pure).

    During a planned cut every load that is not flexible is cut, planned; while the inverter
    is tripped every load; otherwise a load with a unit held off by battery protection or load
    shedding. A flexible load's cut is a curtailment (a planned cut does not curtail it). A
    load with ``customers = 0`` is cut like the others: its row keeps the record, and weighs
    nothing in SAIDI/SAIFI.
    """
    held_off: dict[str, str] = {}
    for (load, unit), on in plan.units.items():
        by = plan.by.get((load, unit), "")
        if not on and by in SHED_BY:
            held_off.setdefault(load, by)
    cuts = {}
    for ld in site.loads:
        cause = ("planned" if planned and not ld.flexible else
                 "inverter_trip" if tripped else held_off.get(ld.name))
        if cause is not None:
            cuts[ld.name] = SupplyCut(cause, ld.customers, planned=cause == "planned",
                                      curtailment=ld.flexible)
    return cuts


def build_links(site: Site, serial_ports: dict[str, str] | None = None) -> list[DeviceLink]:
    """One :class:`DeviceLink` per device, sharing one :class:`Bus` per bus.

    ``serial_ports`` maps a site-file serial port to the one to open (a pty in tests).
    """
    ports = serial_ports or {}
    limits = site_limits(site)
    buses: dict[str, Bus] = {}
    links = []
    for dev in site.devices:
        bus = buses.get(dev.bus)
        if bus is None:
            bus = Bus.for_device(dev, ports.get(dev.serial_port or ""))
            buses[dev.bus] = bus
        links.append(DeviceLink(dev, bus, site.control.stale_after_s, limits))
    return links


class Controller:
    """The on-site controller of one site."""

    def __init__(self, site: Site, store: WriteQueue | Store, links: list[DeviceLink], *,
                 mono: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.site = site
        self.store = store if isinstance(store, WriteQueue) else WriteQueue(
            store.path, store.tz.key, store=store)
        self.links = links
        self.mono = mono
        self.wall = wall
        self.alarms = AlarmTracker()
        self.state = State()
        self.deadband = telemetry.Deadband()
        self.energy = energy.EnergyState()
        self.freeze = trust.FreezeState()
        self._frozen: dict[str, str] = {}  # frozen device → the point that gave it away
        self._prev_mono: float | None = None
        self._gen_cmd: bool | None = None
        self._unit_cmds: dict[str, bool] = {}  # several generators: the last command of each
        self._interrupted: dict[str, bool] = {}  # load → its open interruption is planned
        self._curtailed: set[str] = set()  # flexible loads with an open curtailment
        self._planned_cut: PlannedCut | None = None
        self._failing: set[str] = set()  # strategies that failed in the last cycle
        self._write_failed: dict[str, str] = {}  # device → error of its last failed write
        self._forecast: tuple[date, tuple[float, ...]] | None = None
        self._water: WaterDay | None = None  # the water pumped today (water_today_m3)
        self._pump_cmd: tuple[bool, float] | None = None  # the last (run, Hz) written
        self._pump_written_ts = -math.inf  # UTC [s] of that write
        self._saved_mono = -math.inf
        self._pruned_mono = -math.inf
        self._restore()
        self.store.event(self.wall(), "controller_start", "controller",
                         f"controller started: {len(links)} devices, "
                         f"cycle {site.control.cycle_s:g} s")
        self.storage = self.store.flush(self.wall())

    # ------------------------------------------------------------------ restart state

    def _restore(self) -> None:
        """Restore overrides, the generator's run timer, thresholds, alarm states, open
        interruptions and curtailments, the planned cut in progress, the pump's dry-run latch
        (its alarm still active) and the water pumped today. A saved threshold that no longer
        validates is dropped with a ``threshold_dropped`` event."""
        now, wall = self.mono(), self.wall()
        for key in self.store.active_alarm_keys():
            kind, _, source = key.partition(":")
            self.alarms.active.add((kind, source))
        self._interrupted = self.store.open_interruptions()
        self._curtailed = self.store.open_curtailments()
        self._planned_cut = PlannedCut.restored(self.store.get_state(PLANNED_CUT_STATE))
        saved = dict(self.store.get_state("thresholds") or {})
        kept = {}
        for key, value in saved.items():
            try:
                self.site = set_threshold(self.site, key, value)
                kept[key] = value
            except CommandError as e:
                self.store.event(wall, "threshold_dropped", "controller",
                                 f"saved threshold {key} = {value} dropped: {e}",
                                 {"key": key, "value": value, "error": str(e)})
        if kept != saved:
            self.store.set_state(wall, "thresholds", kept)
        overrides = {load: (bool(o["on"]), now + o["expires_ts"] - wall)
                     for load, o in (self.store.get_state("overrides") or {}).items()
                     if o["expires_ts"] > wall}
        gen = self.store.get_state("generator") or {}
        running = GeneratorMemory(True, now - float(gen.get("run_s", 0.0))) if gen.get(
            "on") else GeneratorMemory()
        self._gen_cmd = gen.get("cmd")
        units = gen.get("units") or {}
        self._unit_cmds = {name: bool(u["cmd"]) for name, u in units.items()
                           if u.get("cmd") is not None}
        unit_memory = GeneratorSetMemory({
            name: UnitMemory(bool(u.get("on")), now - float(u.get("run_s", 0.0)) if u.get("on")
                             else None, bool(u.get("failed"))) for name, u in units.items()})
        self.state = self.state.evolve(overrides=overrides, generator=running,
                                       generator_set=unit_memory,
                                       gen_mode=gen.get("mode", "auto"))
        self.state = pumping.restored(self.state, self.store.active_alarm_keys())
        self._water = pumping.from_saved(self.store.get_state("water"), now)

    def _save_state(self, now: float, wall: float, force: bool) -> None:
        if not force and now - self._saved_mono < STATE_SAVE_S:
            return
        self._saved_mono = now
        since = self.state.generator.on_since_mono
        units = {name: {"on": u.on, "failed": u.failed, "cmd": self._unit_cmds.get(name),
                        "run_s": 0.0 if u.on_since_mono is None else now - u.on_since_mono}
                 for name, u in self.state.generator_set.units.items()}
        self.store.set_state(wall, "generator", {
            "mode": self.state.gen_mode, "on": self.state.generator.on,
            "run_s": 0.0 if since is None else now - since, "cmd": self._gen_cmd,
            "units": units})
        self.store.set_state(wall, "overrides", {
            load: {"on": on, "expires_ts": wall + exp - now}
            for load, (on, exp) in self.state.overrides.items()})
        if self._water is not None:
            self.store.set_state(wall, "water", pumping.saved(self._water))

    # ------------------------------------------------------------------ commands

    def _commands(self, now: float, wall: float, report: CycleReport) -> None:
        for cmd in self.store.pending_commands(wall):
            status: CommandStatus = "done"
            try:
                if cmd.kind == "ack_alarm":
                    alarm_id = int(cmd.value["alarm_id"])
                    if not self.store.ack_alarm(wall, alarm_id, cmd.requested_by):
                        raise CommandError(f"ack_alarm: no alarm {alarm_id}")
                    key = self.store.alarm_key(alarm_id)
                    if key is not None:
                        self.state = switching.acknowledged(self.state, key)
                        self.state = pumping.acknowledged(self.state, key)
                    result: dict[str, Any] = {"alarm_id": alarm_id}
                elif cmd.kind == "planned_cut":
                    cut, result = planned_cut(cmd, self._planned_cut, wall)
                    self._set_planned_cut(cut, wall, f"ended by {cmd.requested_by}")
                else:
                    applied = apply_command(cmd, self.site, self.state, now, wall)
                    self.site, self.state, result = applied.site, applied.state, applied.result
                    if applied.threshold is not None:
                        saved = dict(self.store.get_state("thresholds") or {})
                        saved[applied.threshold[0]] = applied.threshold[1]
                        self.store.set_state(wall, "thresholds", saved)
            except CommandError as e:
                result, status = {"error": str(e)}, "rejected"
            self.store.ack_command(wall, cmd.id, status, result)
            report.commands[cmd.id] = status
        if report.commands:
            self._save_state(now, wall, force=True)

    # ------------------------------------------------------------------ read

    async def _read(self, now: float, wall: float
                    ) -> list[tuple[DeviceLink, dict[Block, list[int]]]]:
        """Fetch every due device, the buses side by side; the raw data of those that answered.
        Stamps each link's ``last_poll_ts`` and, when it answered, ``last_ok_ts``."""
        by_bus: dict[str, list[DeviceLink]] = defaultdict(list)
        for link in self.links:
            if link.due(now):
                by_bus[link.bus.key].append(link)
        fetched: list[tuple[DeviceLink, dict[Block, list[int]]]] = []

        async def poll_bus(links: list[DeviceLink]) -> None:
            for link in links:
                link.last_poll_ts = wall
                if (data := await link.fetch(now)) is not None:
                    link.last_ok_ts = wall
                    fetched.append((link, data))

        await asyncio.gather(*(poll_bus(ls) for ls in by_bus.values()))
        return fetched

    def _views(self, per_dev: dict[str, dict[str, Reading]], now_utc: datetime
               ) -> dict[str, DeviceView]:
        return {link.name: device_view(link.name, link.device.driver, per_dev[link.name],
                                       now_utc) for link in self.links}

    def snapshot(self, now: float, wall: float, views: dict[str, DeviceView]) -> Snapshot:
        """The immutable snapshot of this cycle from the devices' natures ``views``; with a
        water pump, the water pumped today from the day's account
        (:func:`controller.pumping.water_today`)."""
        local = datetime.fromtimestamp(wall, self.site.tz).date()
        if self._forecast is None or self._forecast[0] != local:
            self._forecast = (local, clearsky_pv_w(self.site, local))
        snap = build_snapshot(self.site, views, now, wall, self._forecast[1])
        if not self.site.water_pumps:
            return snap
        self._water, today = pumping.water_today(self._water, snap, now,
                                                 5 * self.site.control.cycle_s)
        return replace(snap, water_today_m3=today)

    def _trusted_readings(self, now: float, now_utc: datetime
                          ) -> dict[str, dict[str, Reading]]:
        """Every device's readings as seen now, a frozen device's marked FROZEN
        (:mod:`controller.trust`)."""
        per_dev = {link.name: link.readings(now_utc) for link in self.links}
        self.freeze, self._frozen = trust.watch(self.freeze, per_dev, now)
        return {name: trust.mark_frozen(points) if name in self._frozen else points
                for name, points in per_dev.items()}

    def _observed(self, snap: Snapshot, views: dict[str, DeviceView]) -> list[Condition]:
        """Alarm conditions seen in the data and the writes: offline devices, garbage and
        frozen values, disagreeing SOC sources, failed writes, inverter trip."""
        trusted_soc, apart = trust.trusted(soc_sources(views.values()), trust.SOC_AGREE_PCT)
        conds = [Condition("sources_disagree", "soc_pct", bool(apart),
                           f"SOC of {', '.join(apart)} disagrees with {trusted_soc} by more "
                           f"than {trust.SOC_AGREE_PCT:g} %; {trusted_soc} is used")]
        for link in self.links:
            point = self._frozen.get(link.name)
            conds.append(Condition("frozen_value", link.name, point is not None,
                                   f"{link.name}: {point} has not changed for too long"))
            conds.append(Condition("device_offline", link.name, link.silent(snap.mono_s),
                                   f"{link.name} not answering: {link.error}"))
            conds.append(Condition("invalid_value", link.name, bool(link.garbage),
                                   f"{link.name}: invalid values {', '.join(link.garbage)}"))
            error = self._write_failed.get(link.name)
            conds.append(Condition("write_failed", link.name, error is not None,
                                   f"{link.name}: write failed: {error}"))
        fault = snap.inverter_fault
        conds.append(Condition("inverter_trip", "inverter", fault.ok and fault.value is True,
                               "inverter tripped"))
        return conds

    # ------------------------------------------------------------------ write

    async def _write(self, plan: Plan, snap: Snapshot, now_utc: datetime,
                     report: CycleReport) -> Plan:
        """Write the changed relays and the generator command; the plan of what was applied."""
        links = {link.name: link for link in self.links}
        wanted: dict[str, dict[str, Value]] = defaultdict(dict)
        keys: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for ld in self.site.loads:
            if ld.switch is None:
                continue
            for u, ch in enumerate(ld.switch.channels):
                key = (ld.name, u)
                on = plan.units.get(key)
                if on is None or snap.outputs[ld.name][u] is on:
                    continue
                wanted[ld.switch.device][f"relay_{ch}"] = on
                keys[ld.switch.device].append(key)
        applied: dict[tuple[str, int], bool] = {}
        for dev, values in wanted.items():
            if await self._send(links.get(dev), values, now_utc, report):
                applied.update({k: plan.units[k] for k in keys[dev]})
        unchanged = {k: on for k, on in plan.units.items()
                     if k not in applied and snap.outputs[k[0]][k[1]] is on}
        if plan.reset_inverter:
            for link in self.links:
                if link.rmap is not None and "inverter_connect" in link.rmap.points:
                    await self._send(link, {"inverter_connect": 1}, now_utc, report)
        if plan.pump is not None:
            await self._write_pump(plan.pump, snap, now_utc, report)
        if plan.generators:
            await self._write_units(plan, links, now_utc, report)
        elif plan.generator is not None and plan.generator != self._gen_cmd:
            gen = next((lk for lk in self.links if lk.device.driver == "generator"), None)
            point = "start" if plan.generator else "stop"
            if gen is not None and await self._send(gen, {point: True}, now_utc, report):
                self._gen_cmd = plan.generator
                self.store.event(now_utc.timestamp(), f"generator_{point}", gen.name,
                                 plan.generator_reason or point,
                                 {"reason": plan.generator_reason})
        self._switched_events(applied, plan, now_utc.timestamp())
        return Plan(units={**unchanged, **applied}, generator=plan.generator,
                    memory=plan.memory, by=plan.by, pump=plan.pump, pump_by=plan.pump_by)

    async def _write_pump(self, cmd: RunPump, snap: Snapshot, now_utc: datetime,
                          report: CycleReport) -> None:
        """Write the water pump's run command and frequency setpoint to the pump drive (the
        first device whose driver has the :class:`PumpDrive` nature) when they differ from
        the drive's read-back (read after the last write) or else from the last command
        written; a ``pump_start``/``pump_stop`` event when the run command changes."""
        link = next((lk for lk in self.links
                     if PumpDrive in DRIVERS[lk.device.driver].natures), None)
        if link is None:
            return
        last = self._pump_cmd

        def now_value(r: Reading, i: int) -> Value | None:
            if r.ok and r.ts.timestamp() > self._pump_written_ts:
                return r.value
            return None if last is None else last[i]

        run_now, hz_now = now_value(snap.pump.run_cmd, 0), now_value(snap.pump.hz_set, 1)
        values: dict[str, Value] = {}
        if cmd.run and cmd.hz > 0 and not (isinstance(hz_now, int | float)
                                           and abs(float(hz_now) - cmd.hz) < 0.05):
            values["pump_hz_set"] = cmd.hz
        if run_now is None or bool(run_now) != cmd.run:
            values["pump_run"] = cmd.run
        if not values or not await self._send(link, values, now_utc, report):
            return
        self._pump_written_ts = now_utc.timestamp()
        hz = cmd.hz if "pump_hz_set" in values else (last[1] if last is not None else 0.0)
        self._pump_cmd = (cmd.run, hz)
        if "pump_run" in values and bool(run_now) != cmd.run:  # unknown before: stopped
            point = "pump_start" if cmd.run else "pump_stop"
            self.store.event(now_utc.timestamp(), point, link.name,
                             cmd.reason or point, {"reason": cmd.reason, "hz": cmd.hz})

    async def _write_units(self, plan: Plan, links: dict[str, DeviceLink], now_utc: datetime,
                           report: CycleReport) -> None:
        """Several generators: start or stop each unit whose command changed, on its own
        controller (``[[generators]] device``), with a ``generator_start``/``_stop`` event."""
        for unit in self.site.generators:
            want = plan.generators.get(unit.name)
            if want is None or want[0] == self._unit_cmds.get(unit.name):
                continue
            run, reason = want
            link = links.get(unit.device) if unit.device is not None else None
            point = "start" if run else "stop"
            if link is not None and await self._send(link, {point: True}, now_utc, report):
                self._unit_cmds[unit.name] = run
                self.store.event(now_utc.timestamp(), f"generator_{point}", link.name,
                                 f"{unit.name}: {reason or point}",
                                 {"unit": unit.name, "reason": reason})

    def _switched_events(self, applied: dict[tuple[str, int], bool], plan: Plan,
                         wall: float) -> None:
        """One ``load_switched`` event per load whose relays were switched this cycle."""
        by_load: dict[str, dict[int, bool]] = defaultdict(dict)
        for (load, unit), on in applied.items():
            by_load[load][unit] = on
        for load, units in by_load.items():
            by = sorted({plan.by.get((load, u), "") for u in units})
            n_on = sum(units.values())
            self.store.event(wall, "load_switched", load,
                             f"{load}: {n_on} unit(s) on, {len(units) - n_on} off ("
                             f"{', '.join(by)})", {"units": units, "by": by})

    async def _send(self, link: DeviceLink | None, values: dict[str, Value], now_utc: datetime,
                    report: CycleReport) -> bool:
        """Write ``values`` to ``link``; a failure is reported (``write_failed``) and False."""
        if link is None or not link.online or link.rmap is None:
            return False
        try:
            await link.write(values, encode(link.rmap, values), now_utc)
        except (TransportError, DeviceError) as e:
            link.error = str(e)
            report.write_failed[link.name] = self._write_failed[link.name] = str(e)
            return False
        self._write_failed.pop(link.name, None)
        report.writes.setdefault(link.name, {}).update(values)
        return True

    # ------------------------------------------------------------------ store

    def _interruptions(self, snap: Snapshot, plan: Plan, wall: float) -> None:
        """Open and close interruptions and curtailments as :func:`supply_cuts` says; end a
        planned cut nobody ended at :data:`~store.contract.PLANNED_CUT_MAX_S` (its
        interruptions close then, even when the controller notices later). An interruption
        that changes between planned and unplanned is closed and another opened."""
        cut = self._planned_cut
        if cut is not None and wall >= cut.ends_by_ts:
            self._set_planned_cut(None, cut.ends_by_ts, "ended after the longest planned cut")
        tripped = snap.inverter_fault.ok and snap.inverter_fault.value is True
        cuts = supply_cuts(self.site, plan, tripped=tripped,
                           planned=self._planned_cut is not None)
        for load, planned in list(self._interrupted.items()):
            now = cuts.get(load)
            if now is None or now.curtailment or now.planned != planned:
                self.store.end_interruption(wall, load)
                del self._interrupted[load]
        curtailing = {load for load, c in cuts.items() if c.curtailment}
        for load in self._curtailed - curtailing:
            self.store.end_curtailment(wall, load)
        for load in curtailing - self._curtailed:
            self.store.start_curtailment(wall, load, cuts[load].cause)
        self._curtailed = curtailing
        for load, c in cuts.items():
            if not c.curtailment and load not in self._interrupted:
                self.store.start_interruption(wall, load, c.cause, customers=c.customers,
                                              planned=c.planned)
                self._interrupted[load] = c.planned

    def _set_planned_cut(self, cut: PlannedCut | None, ts: float, why: str) -> None:
        """Make ``cut`` the planned cut in progress, or end the one in progress at ``ts``
        (None; ``why`` says how), closing its interruptions; saved, and said in an event."""
        old, self._planned_cut = self._planned_cut, cut
        self.store.set_state(ts, PLANNED_CUT_STATE, None if cut is None else cut.saved())
        if cut is not None:
            self.store.event(ts, "planned_cut_started", "controller",
                             f"planned cut by {cut.by}: {cut.reason}", cut.saved())
            return
        for load in [load for load, planned in self._interrupted.items() if planned]:
            self.store.end_interruption(ts, load)
            del self._interrupted[load]
        if old is not None:
            self.store.event(ts, "planned_cut_ended", "controller",
                             f"planned cut {why}: {old.reason}",
                             {**old.saved(), "end_ts": ts, "why": why})

    def _alarms(self, conds: list[Condition], now: float, wall: float,
                report: CycleReport) -> None:
        raised, cleared = self.alarms.update(conds, now)
        for c in raised:
            self.store.raise_alarm(wall, c.kind, c.source, c.message or ALARMS[c.kind].text)
            report.raised.append(f"{c.kind}:{c.source}")
        for c in cleared:
            self.store.clear_alarm(wall, c.kind, c.source)
            report.cleared.append(f"{c.kind}:{c.source}")

    def _storage_condition(self) -> Condition:
        """``storage_failed`` while the last flush could not write (or no writable database is
        open), with the error and what waits and was lost."""
        h = self.storage
        return Condition("storage_failed", "store", h.error is not None or not h.writable,
                         f"database: {h.error or 'not writable'}; {h.queued} records waiting"
                         f" in memory, {h.dropped} dropped")

    def _strategy_events(self, failed: dict[str, str], wall: float) -> None:
        """A ``strategy_failed`` event when a strategy starts failing (not every cycle)."""
        for name in sorted(set(failed) - self._failing):
            self.store.event(wall, "strategy_failed", name, f"{name} failed: {failed[name]}",
                             {"error": failed[name]})
        self._failing = set(failed)

    def _telemetry(self, snap: Snapshot, plan: Plan, per_dev: dict[str, dict[str, Reading]],
                   views: dict[str, DeviceView], *, now: float, dt_s: float) -> None:
        rating = energy.rated_kw(self.site)
        per_device, self.energy = energy.energy(views.values(), self.energy, dt_s, now, rating)
        # Meters are detail (each load's energy under its meter's name), never the site's.
        metered, self.energy = energy.meter_energy(views.values(), self.energy, dt_s, now, rating)
        aer_on = telemetry.aerators_running(self.site, plan, snap, self.state.failed_units)
        rollup = telemetry.rollups(snap, {**per_device, **metered},
                                   energy.site_energy(per_device.values()),
                                   None if aer_on is None else aer_on * dt_s / 3600.0)
        samples, latest = self.deadband.split([
            *telemetry.device_samples(per_dev),
            *telemetry.site_samples(snap, {"aerators_on": aer_on,  # unknown: missing, not 0
                                           "store_queue": float(self.storage.queued),
                                           "store_dropped": float(self.storage.dropped)})])
        health = [DeviceHealth(link.name, link.online, link.last_poll_ts, link.last_ok_ts,
                               link.error or None) for link in self.links]
        self.store.write_cycle(snap.wall_ts, samples, rollup, dt_s, latest=latest,
                               health=health)

    # ------------------------------------------------------------------ the cycle

    async def cycle(self) -> CycleReport:
        """One complete cycle. Errors of one phase are recorded; the cycle is then unhealthy,
        and so is a cycle in which a relay, inverter or generator write failed."""
        cpu0 = time.process_time()
        now, wall = self.mono(), self.wall()
        now_utc = datetime.fromtimestamp(wall, UTC)
        report = CycleReport(healthy=True)
        dt_s = 0.0 if self._prev_mono is None else min(max(now - self._prev_mono, 0.0),
                                                       5 * self.site.control.cycle_s)
        self._prev_mono = now
        try:
            self._commands(now, wall, report)
            io0 = time.process_time()
            fetched = await self._read(now, wall)
            report.io_cpu_s = time.process_time() - io0
            for link, data in fetched:
                link.accept(data, now_utc)
                report.polled.append(link.name)
            per_dev = self._trusted_readings(now, now_utc)
            views = self._views(per_dev, now_utc)
            snap = self.snapshot(now, wall, views)
            self.state, switch_conds = switching.check(self.state, snap, self.site, now)
            plan, report.failed = decide_all(snap, self.state, self.site, now)
            io0 = time.process_time()
            applied = await self._write(plan, snap, now_utc, report)
            report.io_cpu_s += time.process_time() - io0
            self.state = switching.switched(
                next_state(self.state, applied, snap, self.site, now), applied, snap,
                self.site, now)
            self._strategy_events(report.failed, wall)
            self._alarms([*plan.conditions, *self._observed(snap, views), *switch_conds,
                          self._storage_condition(),
                          *(Condition("strategy_failed", name, True, err)
                            for name, err in report.failed.items())], now, wall, report)
            self._interruptions(snap, plan, wall)
            self._telemetry(snap, applied, per_dev, views, now=now, dt_s=dt_s)
            self._save_state(now, wall, force=False)
            if now - self._pruned_mono >= PRUNE_EVERY_S:
                self._pruned_mono = now
                self.store.prune(wall, self.site.control.retention_days)
            self.store.set_state(wall, "heartbeat", {
                "ts": wall, "cycle_s": self.site.control.cycle_s, "pid": os.getpid()},
                durable=False)
            report.plan, report.snapshot = applied, snap
        except (ControllerError, StoreError) as e:
            report.healthy = False
            report.failed["cycle"] = f"{type(e).__name__}: {e}"
        # Storage last, after the device writes; it never raises, and its trouble is an alarm
        # (storage_failed), not an unhealthy cycle: the watchdog follows control only.
        report.storage = self.storage = self.store.flush(wall)
        report.unstored = [cid for cid in report.commands if not self.store.ack_stored(cid)]
        if report.write_failed:
            report.healthy = False
        report.offline = [link.name for link in self.links if not link.online]
        report.elapsed_cpu_s = time.process_time() - cpu0
        return report

    def close(self) -> None:
        """Save state, log ``controller_stop``, close the buses, and flush and close the
        store (what cannot be written now is lost, and logged by the service)."""
        wall = self.wall()
        self._save_state(self.mono(), wall, force=True)
        self.store.event(wall, "controller_stop", "controller", "controller stopped")
        for bus in {id(link.bus): link.bus for link in self.links}.values():
            bus.close()
        self.store.close(wall)
