"""The control cycle: commands → read → snapshot → strategies → write → store.

:class:`Controller` owns the device links, the strategies' state and the store. One call of
:meth:`Controller.cycle` is one cycle; ``offgrid run`` schedules it with APScheduler (interval
``control.cycle_s``, ``max_instances=1``, ``coalesce=True``) and tests call it directly, with
injected clocks (``mono`` monotonic seconds drives every timer, ``wall`` UTC epoch seconds only
stamps data and tells the local time of day).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from controller.alarms import AlarmTracker
from controller.devices.codec import Block, encode
from controller.devices.errors import DeviceError
from controller.devices.values import Quality, Reading, Value
from controller.errors import CommandError, ControllerError, TransportError
from controller.forecast import clearsky_pv_w
from controller.model import Condition, Plan, Snapshot, State
from controller.store import (
    SAMPLE_DEADBAND,
    SAMPLE_HEARTBEAT_S,
    Command,
    CommandStatus,
    RollupDelta,
    Sample,
    Store,
)
from controller.strategies import decide_all, next_state
from controller.transport import Bus, DeviceLink
from sitefile import AeratorLoad, Control, PumpLoad, Site, SiteFileError, parse_site

SITE_SOURCE = "site"
STATE_SAVE_S = 60.0
PRUNE_EVERY_S = 3600.0
QUALITY_RANK = {Quality.GOOD: 0, Quality.STALE: 1, Quality.INVALID: 2, Quality.MISSING: 3}


@dataclass
class CycleReport:
    """What one cycle did (for logs, the watchdog and tests)."""

    healthy: bool
    polled: list[str] = field(default_factory=list)
    offline: list[str] = field(default_factory=list)
    writes: dict[str, dict[str, Value]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    raised: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    commands: dict[int, str] = field(default_factory=dict)
    plan: Plan | None = None
    snapshot: Snapshot | None = None
    elapsed_cpu_s: float = 0.0
    io_cpu_s: float = 0.0  # of which the Modbus requests of the read and write phases


def build_links(site: Site, serial_ports: dict[str, str] | None = None) -> list[DeviceLink]:
    """One :class:`DeviceLink` per device, sharing one :class:`Bus` per bus.

    ``serial_ports`` maps a site-file serial port to the one to open (a pty in tests).
    """
    ports = serial_ports or {}
    buses: dict[str, Bus] = {}
    links = []
    for dev in site.devices:
        bus = buses.get(dev.bus)
        if bus is None:
            bus = Bus.for_device(dev, ports.get(dev.serial_port or ""))
            buses[dev.bus] = bus
        links.append(DeviceLink(dev, bus, site.control.stale_after_s))
    return links


def _best(readings: Iterable[Reading], ts: datetime) -> Reading:
    """The first reading of the best quality (good before stale before invalid)."""
    best = min(readings, key=lambda r: QUALITY_RANK[r.quality], default=None)
    return best or Reading.missing(ts)


def _sum(readings: list[Reading], ts: datetime) -> Reading:
    """Sum of readings; quality of the worst; no value unless every reading has one."""
    if not readings:
        return Reading.missing(ts)
    worst = max(readings, key=lambda r: QUALITY_RANK[r.quality])
    if worst.value is None:
        return Reading(None, ts, worst.quality)
    total = sum(float(r.value) for r in readings if isinstance(r.value, int | float))
    return Reading(total, min(r.ts for r in readings), worst.quality)


class Controller:
    """The on-site controller of one site."""

    def __init__(self, site: Site, store: Store, links: list[DeviceLink], *,
                 mono: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.site = site
        self.store = store
        self.links = links
        self.mono = mono
        self.wall = wall
        self.alarms = AlarmTracker()
        self.state = State()
        self._prev_mono: float | None = None
        self._gen_cmd: bool | None = None
        self._interrupted: set[str] = set()
        self._forecast: tuple[date, tuple[float, ...]] | None = None
        self._saved_mono = -math.inf
        self._pruned_mono = -math.inf
        self._stored: dict[tuple[str, str], Sample] = {}
        self._latest: dict[tuple[str, str], tuple[float | None, str]] = {}
        self._restore()

    # ------------------------------------------------------------------ restart state

    def _restore(self) -> None:
        """Restore overrides, the generator's run timer, thresholds and alarm states."""
        now, wall = self.mono(), self.wall()
        for key in self.store.active_alarm_keys():
            kind, _, source = key.partition(":")
            self.alarms.active.add((kind, source))
        self._interrupted = self.store.open_interruptions()
        for key, value in (self.store.get_state("thresholds") or {}).items():
            try:
                self._set_threshold(key, value)
            except CommandError:
                continue  # a threshold no longer valid for this site file is dropped
        overrides = {load: (bool(o["on"]), now + o["expires_ts"] - wall)
                     for load, o in (self.store.get_state("overrides") or {}).items()
                     if o["expires_ts"] > wall}
        gen = self.store.get_state("generator") or {}
        memory: dict[str, Any] = {}
        if gen.get("on"):
            memory = {"gen.on": True, "gen.on_since": now - float(gen.get("run_s", 0.0))}
        self._gen_cmd = gen.get("cmd")
        self.state = self.state.evolve(overrides=overrides, memory=memory,
                                       gen_mode=gen.get("mode", "auto"))

    def _save_state(self, now: float, wall: float, force: bool) -> None:
        if not force and now - self._saved_mono < STATE_SAVE_S:
            return
        self._saved_mono = now
        since = self.state.get("gen.on_since")
        self.store.set_state(wall, "generator", {
            "mode": self.state.gen_mode, "on": bool(self.state.get("gen.on")),
            "run_s": 0.0 if since is None else now - since, "cmd": self._gen_cmd})
        self.store.set_state(wall, "overrides", {
            load: {"on": on, "expires_ts": wall + exp - now}
            for load, (on, exp) in self.state.overrides.items()})

    # ------------------------------------------------------------------ commands

    def _set_threshold(self, key: str, value: Any) -> None:
        """Set ``control.<key>`` after validating it against the whole site file."""
        if key not in Control.model_fields or key in ("quiet_hours", "night_start",
                                                       "night_end", "cycle_s"):
            raise CommandError(f"set_threshold: {key!r} is not a settable [control] key")
        data = self.site.model_dump()
        data["control"][key] = value
        try:
            checked = parse_site(data)
        except SiteFileError as e:
            raise CommandError(f"set_threshold: {e}") from e
        except ValidationError as e:
            raise CommandError(f"set_threshold: {e.errors()[0]['msg']}") from e
        setattr(self.site.control, key, getattr(checked.control, key))

    def _execute(self, cmd: Command, now: float, wall: float) -> dict[str, Any]:
        """Apply one command; raises CommandError when it is not allowed."""
        v = cmd.value
        if cmd.kind == "override_load":
            load = str(v["load"])
            if not any(ld.name == load and ld.switch for ld in self.site.loads):
                raise CommandError(f"override_load: no switchable load {load!r}")
            overrides = dict(self.state.overrides)
            overrides[load] = (bool(v["on"]), now + float(v["expires_s"]))
            self.state = self.state.evolve(overrides=overrides)
            return {"load": load, "on": bool(v["on"]),
                    "expires_ts": wall + float(v["expires_s"])}
        if cmd.kind == "set_threshold":
            self._set_threshold(str(v["key"]), v["value"])
            saved = dict(self.store.get_state("thresholds") or {})
            saved[str(v["key"])] = v["value"]
            self.store.set_state(wall, "thresholds", saved)
            return {"key": v["key"], "value": getattr(self.site.control, str(v["key"]))}
        if cmd.kind == "generator":
            if self.site.generator is None:
                raise CommandError("generator: this site has no generator")
            self.state = self.state.evolve(gen_mode=v["action"])
            return {"mode": v["action"]}
        if not self.store.ack_alarm(wall, int(v["alarm_id"]), cmd.requested_by):
            raise CommandError(f"ack_alarm: no alarm {v['alarm_id']}")
        return {"alarm_id": v["alarm_id"]}

    def _commands(self, now: float, wall: float, report: CycleReport) -> None:
        for cmd in self.store.pending_commands(wall):
            status: CommandStatus = "done"
            try:
                result = self._execute(cmd, now, wall)
            except CommandError as e:
                result, status = {"error": str(e)}, "rejected"
            self.store.ack_command(wall, cmd.id, status, result)
            report.commands[cmd.id] = status
        if report.commands:
            self._save_state(now, wall, force=True)

    # ------------------------------------------------------------------ read

    async def _read(self, now: float) -> list[tuple[DeviceLink, dict[Block, list[int]]]]:
        """Fetch every due device, the buses side by side; the raw data of those that answered."""
        by_bus: dict[str, list[DeviceLink]] = defaultdict(list)
        for link in self.links:
            if link.due(now):
                by_bus[link.bus.key].append(link)
        fetched: list[tuple[DeviceLink, dict[Block, list[int]]]] = []

        async def poll_bus(links: list[DeviceLink]) -> None:
            for link in links:
                if (data := await link.fetch(now)) is not None:
                    fetched.append((link, data))

        await asyncio.gather(*(poll_bus(ls) for ls in by_bus.values()))
        return fetched

    def snapshot(self, now: float, wall: float, per_dev: dict[str, dict[str, Reading]]
                 ) -> Snapshot:
        """The immutable snapshot of this cycle, from every link's aged readings ``per_dev``
        (device → point → reading)."""
        now_utc = datetime.fromtimestamp(wall, UTC)
        local = now_utc.astimezone(self.site.tz)

        def pick(point: str) -> Reading:
            return _best((r[point] for r in per_dev.values() if point in r), now_utc)

        pv = [r["pv_w"] for r in per_dev.values() if "pv_w" in r]
        load = [r["ac_w"] for r in per_dev.values() if "ac_w" in r]
        outputs: dict[str, tuple[bool | None, ...]] = {}
        for ld in self.site.loads:
            if ld.switch is None:
                continue
            relays = per_dev.get(ld.switch.device, {})
            outputs[ld.name] = tuple(
                bool(r.value) if (r := relays.get(f"relay_{ch}")) is not None and r.ok else None
                for ch in ld.switch.channels)
        if self._forecast is None or self._forecast[0] != local.date():
            self._forecast = (local.date(), clearsky_pv_w(self.site, local.date()))
        return Snapshot(
            mono_s=now, wall_ts=wall,
            local_h=local.hour + local.minute / 60 + local.second / 3600,
            local_day=local.date().isoformat(),
            soc_pct=pick("soc_pct"), battery_v=pick("battery_v"),
            battery_temp_c=pick("battery_temp_c"), pv_w=_sum(pv, now_utc),
            load_w=_sum(load, now_utc), do_mg_l=pick("do_mg_l"),
            inverter_fault=pick("inverter_fault"), generator_running=pick("generator_running"),
            outputs=outputs, clearsky_w=self._forecast[1])

    def _observed(self, snap: Snapshot) -> list[Condition]:
        """Alarm conditions seen in the data: offline devices, inverter trip, garbage values."""
        conds = []
        for link in self.links:
            conds.append(Condition("device_offline", link.name, link.silent(snap.mono_s),
                                   f"{link.name} not answering: {link.error}"))
            conds.append(Condition("invalid_value", link.name, bool(link.garbage),
                                   f"{link.name}: invalid values {', '.join(link.garbage)}"))
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
        if plan.generator is not None and plan.generator != self._gen_cmd:
            gen = next((lk for lk in self.links if lk.device.driver == "generator"), None)
            point = "start" if plan.generator else "stop"
            if await self._send(gen, {point: True}, now_utc, report):
                self._gen_cmd = plan.generator
        return Plan(units={**unchanged, **applied}, generator=plan.generator,
                    memory=plan.memory, by=plan.by)

    async def _send(self, link: DeviceLink | None, values: dict[str, Value], now_utc: datetime,
                    report: CycleReport) -> bool:
        if link is None or not link.online or link.rmap is None:
            return False
        try:
            await link.write(values, encode(link.rmap, values), now_utc)
        except (TransportError, DeviceError) as e:
            link.error = str(e)
            return False
        report.writes.setdefault(link.name, {}).update(values)
        return True

    # ------------------------------------------------------------------ store

    def _changed(self, s: Sample) -> tuple[bool, bool]:
        """(store as a sample, update ``latest``): a move beyond the deadband, a quality
        change or the heartbeat for samples; any change of value or quality for latest."""
        key = (s.device, s.point)
        last = self._stored.get(key)
        same = self._latest.get(key) == (s.value, s.quality)
        if same and (last is None or s.ts - last.ts < SAMPLE_HEARTBEAT_S):
            return False, False
        self._latest[key] = (s.value, s.quality)
        sample = (last is None or last.quality != s.quality or s.value is None
                  or last.value is None or s.ts - last.ts >= SAMPLE_HEARTBEAT_S
                  or abs(s.value - last.value) > SAMPLE_DEADBAND * max(abs(s.value),
                                                                       abs(last.value)))
        if sample:
            self._stored[key] = s
        return sample, True

    def _telemetry(self, snap: Snapshot, plan: Plan, per_dev: dict[str, dict[str, Reading]],
                   dt_s: float) -> tuple[list[Sample], list[Sample], dict[str, RollupDelta]]:
        samples: list[Sample] = []
        latest: list[Sample] = []
        rollup: dict[str, RollupDelta] = {}
        h = dt_s / 3600.0

        def record(s: Sample) -> None:
            sample, changed = self._changed(s)
            if sample:
                samples.append(s)
            elif changed:
                latest.append(s)

        for name, readings in per_dev.items():
            for p, r in readings.items():
                if not isinstance(r.value, str) and not p.startswith("_"):
                    v = float(r.value) if isinstance(r.value, int | float) else None
                    record(Sample(name, p, v, r.quality.value, r.ts.timestamp()))

            def good(p: str, rd: dict[str, Reading] = readings) -> float | None:
                r = rd.get(p)
                return float(r.value) if r is not None and r.ok and isinstance(
                    r.value, int | float) else None

            pv, out_w = good("pv_w"), good("ac_w")
            if out_w is None:
                out_w = good("load_w")
            bat = good("battery_w")
            e_in = (pv or 0.0) + (max(-bat, 0.0) if bat is not None else 0.0)
            e_out = (out_w or 0.0) + (max(bat, 0.0) if bat is not None else 0.0)
            measured = pv is not None or out_w is not None or bat is not None
            rollup[name] = RollupDelta(
                energy_in_wh=e_in * h if measured else None,
                energy_out_wh=e_out * h if measured else None, soc_pct=good("soc_pct"),
                do_mg_l=good("do_mg_l"))
        aer_on = sum(1 for (load, _), on in plan.units.items() if on and isinstance(
            self._load(load), AeratorLoad))
        rollup[SITE_SOURCE] = RollupDelta(soc_pct=snap.value("soc_pct"),
                                          do_mg_l=snap.value("do_mg_l"), aerator_h=aer_on * h)
        wall = snap.wall_ts
        for name in ("soc_pct", "battery_v", "pv_w", "load_w", "do_mg_l"):
            point: Reading = getattr(snap, name)
            v = float(point.value) if isinstance(point.value, int | float) else None
            record(Sample(SITE_SOURCE, name, v, point.quality.value, wall))
        record(Sample(SITE_SOURCE, "aerators_on", float(aer_on), "good", wall))
        if plan.generator is not None:
            record(Sample(SITE_SOURCE, "generator_cmd", float(plan.generator), "good", wall))
        return samples, latest, rollup

    def _load(self, name: str) -> Any:
        return next(ld for ld in self.site.loads if ld.name == name)

    def _interruptions(self, snap: Snapshot, plan: Plan, wall: float) -> None:
        """Open and close supply interruptions: a load off by protection or shedding, or
        every load while the inverter is tripped. Deferrable pumps are not customers."""
        tripped = snap.inverter_fault.ok and snap.inverter_fault.value is True
        now_cut: dict[str, str] = {}
        for (load, unit), on in plan.units.items():
            if isinstance(self._load(load), PumpLoad):
                continue
            by = plan.by.get((load, unit), "")
            if tripped:
                now_cut[load] = "inverter_trip"
            elif not on and by in ("battery_protection", "load_shedding"):
                now_cut.setdefault(load, by)
        for load, cause in now_cut.items():
            if load not in self._interrupted:
                self.store.start_interruption(wall, load, cause)
        for load in self._interrupted - set(now_cut):
            self.store.end_interruption(wall, load)
        self._interrupted = set(now_cut)

    # ------------------------------------------------------------------ the cycle

    async def cycle(self) -> CycleReport:
        """One complete cycle. Errors of one phase are recorded; the cycle is then unhealthy."""
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
            fetched = await self._read(now)
            report.io_cpu_s = time.process_time() - io0
            for link, data in fetched:
                link.accept(data, now_utc)
                report.polled.append(link.name)
            per_dev = {link.name: link.readings(now_utc) for link in self.links}
            snap = self.snapshot(now, wall, per_dev)
            plan, report.failed = decide_all(snap, self.state, self.site, now)
            io0 = time.process_time()
            applied = await self._write(plan, snap, now_utc, report)
            report.io_cpu_s += time.process_time() - io0
            self.state = next_state(self.state, applied, snap, self.site, now)
            conds = [*plan.conditions, *self._observed(snap),
                     *(Condition("strategy_failed", name, True, err)
                       for name, err in report.failed.items())]
            raised, cleared = self.alarms.update(conds, now)
            for c in raised:
                self.store.raise_alarm(wall, c.kind, c.source, c.message or c.kind,
                                       "critical" if c.kind in ("low_do", "inverter_trip")
                                       else "warning")
                report.raised.append(f"{c.kind}:{c.source}")
            for c in cleared:
                self.store.clear_alarm(wall, c.kind, c.source)
                report.cleared.append(f"{c.kind}:{c.source}")
            self._interruptions(snap, plan, wall)
            samples, latest, rollup = self._telemetry(snap, applied, per_dev, dt_s)
            self.store.write_cycle(wall, samples, rollup, dt_s, latest=latest)
            self._save_state(now, wall, force=False)
            if now - self._pruned_mono >= PRUNE_EVERY_S:
                self._pruned_mono = now
                self.store.prune(wall, self.site.control.retention_days)
            report.plan, report.snapshot = applied, snap
        except ControllerError as e:
            report.healthy = False
            report.failed["cycle"] = f"{type(e).__name__}: {e}"
        report.offline = [link.name for link in self.links if not link.online]
        report.elapsed_cpu_s = time.process_time() - cpu0
        return report

    def close(self) -> None:
        """Save state and close the buses and the store."""
        self._save_state(self.mono(), self.wall(), force=True)
        for bus in {id(link.bus): link.bus for link in self.links}.values():
            bus.close()
        self.store.close()
