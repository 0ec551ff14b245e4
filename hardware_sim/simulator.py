"""The simulator: the plant, its devices, the faults, the Modbus buses and the control port.

:class:`Simulator` can be driven directly (tests: :meth:`Simulator.advance` steps virtual time,
no sleeping) or run in real or accelerated time by :meth:`Simulator.run_clock`.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from hardware_sim.bus import Noise, PtyPair, start_rtu, start_tcp
from hardware_sim.devices import SimDevice, make_device
from hardware_sim.errors import FaultError, SetupError
from hardware_sim.faults import Fault, Param, dry_run_active, make_fault
from hardware_sim.inputs import Inputs, build_inputs
from hardware_sim.plant import Plant
from sitefile import Device, Site

MAX_STEP_S = 1.0  # plant steps never exceed 1 s of simulated time
TICK_S = 0.05  # wall-clock period of the real-time loop
MAX_LAG_TICKS = 4


def default_pty_dir() -> Path:
    """Where RTU buses go when no pty directory is given: ``<tmp>/offgrid-pty``."""
    return Path(tempfile.gettempdir()) / "offgrid-pty"


def controller_path(dev: Device, pty_dir: Path | None) -> Path:
    """Where the controller finds an RTU device's serial port.

    ``DIR/<basename of serial_port>`` with a pty directory. Without one, the site file's path
    itself when it is not under /dev, else :func:`default_pty_dir` (a real port is never faked).
    """
    assert dev.serial_port is not None
    path = Path(dev.serial_port)
    if pty_dir is None and path.is_relative_to("/dev"):
        pty_dir = default_pty_dir()
    return path if pty_dir is None else pty_dir / path.name


@dataclass
class Simulator:
    """Everything the ``offgrid sim`` process runs."""

    site: Site
    start: datetime
    speed: float = 1.0
    seed: int = 0
    pty_dir: Path | None = None
    inputs: Inputs | None = None
    emit: Callable[[str], None] = print
    plant: Plant = field(init=False)
    devices: dict[str, SimDevice] = field(init=False)
    faults: list[Fault] = field(default_factory=list)
    fault_log: list[dict[str, object]] = field(default_factory=list)
    _active: set[int] = field(default_factory=set)
    _servers: list[ModbusTcpServer | ModbusSerialServer] = field(default_factory=list)
    _ptys: list[PtyPair] = field(default_factory=list)
    noise: list[Noise] = field(default_factory=list)
    endpoints: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.site.inverter is None:
            raise SetupError("the simulator needs an [inverter] section")
        if self.inputs is None:
            self.inputs = build_inputs(self.site)
        self.plant = Plant(self.site, self.inputs, self.start, seed=self.seed)
        self.devices = {d.name: make_device(d, self.plant) for d in self.site.devices}
        for sf in self.site.sim.faults:
            self.add_fault(sf.device, sf.kind, at=self.start + timedelta(seconds=sf.at_s),
                           duration_s=sf.duration_s, params=dict(sf.params))

    # ------------------------------------------------------------------ time

    def advance(self, seconds: float) -> None:
        """Step the plant through ``seconds`` of simulated time (≤ 1 s per step)."""
        remaining = seconds
        while remaining > 1e-9:
            dt = min(MAX_STEP_S, remaining)
            self.plant.step(dt)
            remaining -= dt
            self._update_faults()

    async def run_clock(self) -> None:
        """Advance the plant with the wall clock × ``speed`` until cancelled.

        When the machine cannot keep up, simulated time runs slower than asked rather than
        stalling the Modbus servers: each tick advances at most ``MAX_LAG_TICKS`` ticks' worth.
        """
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            if self.speed > 0:
                self.advance(min(now - last, MAX_LAG_TICKS * TICK_S) * self.speed)
            last = now

    # ------------------------------------------------------------------ faults

    def add_fault(self, device: str, kind: str, *, at: datetime | None = None,
                  duration_s: float | None = None,
                  params: dict[str, Param] | None = None) -> Fault:
        """Schedule a fault (now, by default). Raises :class:`FaultError`."""
        dev = self.devices.get(device)
        if dev is None:
            raise FaultError(f"no device {device!r} (one of {', '.join(self.devices)})")
        fault = make_fault(len(self.faults) + 1, device, kind, at or self.plant.t,
                           duration_s=duration_s, params=params)
        self._check_fault(dev, fault)
        self.faults.append(fault)
        self._update_faults()
        return fault

    def _check_fault(self, dev: SimDevice, f: Fault) -> None:
        if f.kind == "noise" and dev.dev.transport != "rtu":
            raise FaultError(f"{dev.name}: serial noise needs an RTU device")
        if f.kind == "relay_stuck" and (dev.dev.driver != "relay_board"
                                        or not 0 <= int(f.param("channel")) <= 7):
            raise FaultError(f"{dev.name}: relay_stuck needs a relay_board and channel 0..7")
        if f.kind == "dry_run" and (self.plant.water is None
                                    or dev.dev.driver != "pump_drive"):
            raise FaultError(f"{dev.name}: dry_run needs a pump_drive on a site with a water "
                             "pump")
        if f.kind == "drift" and str(f.param("point")) not in dev.rmap.points:
            raise FaultError(f"{dev.name} has no point {f.param('point')!r} to drift")

    def clear_fault(self, fault_id: int) -> Fault:
        """End a fault now. Raises :class:`FaultError` for an unknown id."""
        for f in self.faults:
            if f.id == fault_id:
                if f.cleared is None:
                    f.cleared = max(self.plant.t, f.start)
                self._update_faults()
                return f
        raise FaultError(f"no fault {fault_id}")

    def _update_faults(self) -> None:
        t = self.plant.t
        for f in self.faults:
            active = f.active(t)
            if active and f.id not in self._active:
                self._active.add(f.id)
                self.devices[f.device].fault_started(f)
                self._log(f, "started")
            elif not active and f.id in self._active:
                self._active.discard(f.id)
                self.devices[f.device].fault_ended(f)
                self._log(f, "ended")
        if self.plant.water is not None and any(f.kind == "dry_run" for f in self.faults):
            self.plant.water.dry = dry_run_active(self.faults, t)

    def _log(self, f: Fault, what: str) -> None:
        entry = {"t": self.plant.t.isoformat(), "event": what, **f.as_dict()}
        self.fault_log.append(entry)
        self.emit(f"Fault {f.id} {f.kind} on {f.device} {what} at {self.plant.t.isoformat()}")

    # ------------------------------------------------------------------ buses

    async def serve(self) -> None:
        """Start every bus of the site; print ``Serving <device> on <bus>`` lines."""
        tcp: dict[tuple[str, int], dict[int, SimDevice]] = defaultdict(dict)
        rtu: dict[str, dict[int, SimDevice]] = defaultdict(dict)
        for d in self.site.devices:
            if d.transport == "tcp":
                assert d.host is not None and d.port is not None
                tcp[d.host, d.port][d.unit_id] = self.devices[d.name]
            else:
                assert d.serial_port is not None
                rtu[d.serial_port][d.unit_id] = self.devices[d.name]
        links = {serial: controller_path(next(iter(units.values())).dev, self.pty_dir)
                 for serial, units in rtu.items()}  # refuse real ports before serving anything
        try:
            for (host, port), units in tcp.items():
                self._servers.append(await start_tcp(host, port, units))
                for dev in units.values():
                    self._announce(dev, f"tcp://{host}:{port}")
            for k, (serial, units) in enumerate(rtu.items()):
                first = next(iter(units.values())).dev
                pty = PtyPair(links[serial])
                await pty.open()
                self._ptys.append(pty)
                server, noise = await start_rtu(pty, units, first, self.seed + k)
                self._servers.append(server)
                self.noise.append(noise)
                for dev in units.values():
                    self._announce(dev, f"rtu://{serial} -> {pty.client_end}")
        except SetupError:
            await self.close()
            raise

    def _announce(self, dev: SimDevice, where: str) -> None:
        self.endpoints[dev.name] = where
        self.emit(f"Serving {dev.name} ({dev.dev.driver}, unit {dev.dev.unit_id}) on {where}")

    async def close(self) -> None:
        """Stop the servers and socat."""
        for server in self._servers:
            await server.shutdown()  # type: ignore[no-untyped-call]
        self._servers.clear()
        for pty in self._ptys:
            await pty.close()
        self._ptys.clear()

    # ------------------------------------------------------------------ reporting

    def state(self) -> dict[str, object]:
        """Plant state, devices and faults as JSON-ready data."""
        return {
            **self.plant.state(),
            "speed": self.speed,
            "pid": os.getpid(),
            "devices": {name: {"driver": d.dev.driver, "unit_id": d.dev.unit_id,
                               "endpoint": self.endpoints.get(name), "requests": d.requests,
                               "eeprom_writes": d.eeprom_writes,
                               "faults": [f.id for f in d.faults]}
                        for name, d in self.devices.items()},
            "faults": [f.as_dict() for f in self.faults if f.id in self._active],
            "crc_errors_sent": sum(n.corrupted for n in self.noise),
            "events": [{"t": t.isoformat(), "event": e} for t, e in self.plant.events[-50:]],
        }

