"""The simulated water plant: a pump on its drive, the pipe, the tank and the field's draw.

One water pump per site (``kind = "water_pump"``) lifts water from its source through its pipe
into the site's ``[tank]``; the field draws each day's water of its month evenly over the
load's irrigation window. The hydraulics come from :mod:`sizing.hydraulics`: at speed ``n``
the pump delivers the operating point where its affinity-scaled curve meets the system curve
(static head + Darcy–Weisbach friction), and draws that point's electric power.

The drive behaves like a solar pump inverter (INVT Goodrive100-PV):

- it runs while its run command is on, its output frequency ramping at ``RAMP_HZ_S`` toward
  the setpoint ``hz_set`` (clamped to its working minimum :attr:`WaterPlant.min_hz` – its
  ``rated_hz``); a start begins at the working minimum (the drive's lower limit, reached
  within its first second);
- its own power limit (the MPPT of a PV drive): at once, it lowers its frequency to the
  highest speed whose electric power fits ``available_kw``; when even the working minimum
  does not fit, it stops, and tries again ``RESTART_DELAY_S`` later while the run command
  stays on (GD100-PV's weak-light sleep and its wake-up delay, 0–3600 s: 60 s here);
- a fixed-speed pump (``drive = "fixed"``: a contactor or soft starter) runs at its rated
  point only when ``available_kw`` covers the rated electric power, else it stops the same
  way;
- a dry well (``dry``, the simulator's ``dry_run`` fault): the pump spins with no flow and
  draws ``DRY_RUN_POWER_FRACTION`` of its affinity power at that speed
  (:meth:`sitefile.model.PumpModel.affinity_kw`); the drive itself raises no fault (``fault``
  stays 0): detecting the dry run from flow and power is the controller's job.

The pump's speed ↔ flow ↔ power relation is the sizing's own table
(:func:`sizing.hydraulics.power_flow_table` with ``SPEED_POINTS`` speeds, each an operating
point), interpolated each step, so a step costs microseconds and the simulated pump runs where
the sizing's does. Its lowest speed is the drive's working minimum: ``min_frequency_hz``, or
higher where the pump would otherwise run below its operating range (too near shut-off: an
installer sets the drive's lower limit there, else every slow start would look like a dry run).
A pump that cannot lift at rated speed (an empty table) churns: no flow at any speed, power
``SHUTOFF_POWER_FRACTION`` × the affinity power.

Water balance of every step (all m³; checked in tests)::

    Δstored = pumped − delivered − overflow        delivered = min(draw, stored + pumped)

The level is ``stored / tank.m3 × tank.height_m``; it never goes below 0 nor above the top
(what a pump that keeps running past full adds leaves by the overflow and is counted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sitefile.model import Tank, WaterPumpLoad
from sizing.hydraulics import power_flow_table

RAMP_HZ_S = 5.0  # the drive's acceleration and deceleration [Hz/s]
RESTART_DELAY_S = 60.0  # "wake-up delay at weak light": after a stop for lack of power [s]
DRY_RUN_POWER_FRACTION = 0.30  # a pump spinning in a dry well: share of its affinity power
SHUTOFF_POWER_FRACTION = 0.5  # churning at shut-off (a pump that cannot lift at all)
SPEED_POINTS = 64  # speeds tabulated between the lowest and rated
MOTOR_LINE_V = 380.0  # the motor's rated line voltage (three-phase) at rated frequency [V]
MOTOR_POWER_FACTOR = 0.8
POWER_MARGIN_KW = 1e-6  # the drive keeps this far below its limit (rounding) [kW]


def window_overlap_h(start_h: float, length_h: float, h0: float, dt_h: float) -> float:
    """Hours of the step ``[h0, h0 + dt_h)`` that fall in the daily window starting at
    ``start_h`` and lasting ``length_h`` (which may wrap past midnight) [h].

    ``h0`` is the local hour of the step's start [h] (0–24); ``dt_h`` ≤ 24 [h].
    """
    if length_h >= 24.0:
        return dt_h
    total = 0.0
    for k in (-1, 0, 1):
        a = start_h + 24.0 * k
        total += max(0.0, min(h0 + dt_h, a + length_h) - max(h0, a))
    return total


@dataclass
class SpeedTable:
    """The pump on its pipe at a grid of speeds: speed [0–1, of rated], flow [m³/h] and
    electric power [kW] (non-decreasing in speed)."""

    speed: np.ndarray
    flow_m3_h: np.ndarray
    electric_kw: np.ndarray

    def max_speed(self, available_kw: float) -> float | None:
        """Highest tabulated-or-interpolated speed whose power fits ``available_kw`` [kW];
        None when even the lowest speed does not fit."""
        if available_kw < self.electric_kw[0]:
            return None
        if available_kw >= self.electric_kw[-1]:
            return float(self.speed[-1])
        return float(np.interp(available_kw, self.electric_kw, self.speed))

    def at(self, speed: float) -> tuple[float, float]:
        """Flow [m³/h] and electric power [kW] at ``speed``."""
        return (float(np.interp(speed, self.speed, self.flow_m3_h)),
                float(np.interp(speed, self.speed, self.electric_kw)))


def speed_table(load: WaterPumpLoad, points: int = SPEED_POINTS) -> SpeedTable:
    """The load's pump on its pipe against its static head: the rows of
    :func:`sizing.hydraulics.power_flow_table` (a fixed-speed pump: its rated point twice),
    or a churning pump's table when it cannot lift (see the module docstring)."""
    pump = load.pump
    t = power_flow_table(load, points=points)
    if t.electric_kw.size:
        return SpeedTable(np.asarray(t.speed, dtype=float), np.asarray(t.flow_m3_h, dtype=float),
                          np.asarray(t.electric_kw, dtype=float))
    lo = 1.0 if pump.drive == "fixed" else pump.min_frequency_hz / pump.rated_hz
    speeds = np.linspace(lo, 1.0, 2)
    return SpeedTable(speeds, np.zeros(2),
                      SHUTOFF_POWER_FRACTION * pump.rated_kw * speeds**3 + np.array([0, 1e-12]))


@dataclass
class WaterPlant:
    """The pump's drive, its flow into the tank and the field's draw out of it."""

    load: WaterPumpLoad
    tank: Tank
    stored_m3: float = 0.0
    flow_m3_h: float = 0.0
    pump_hz: float = 0.0
    pump_w: float = 0.0
    pump_a: float = 0.0
    running: bool = False
    run_cmd: bool = False
    hz_set: float = 0.0
    fault: int = 0
    dry: bool = False
    month: int = 1
    started: bool = False  # the drive started in the last step (a fixed pump's DOL surge)
    draw_m3_h: float = 0.0  # the field's draw in the last step [m³/h]
    # counters since start [m³] / [kWh] / [s]
    total_m3: float = 0.0  # pumped (the flow meter's totaliser)
    demand_m3: float = 0.0  # the field asked for
    delivered_m3: float = 0.0  # the tank gave the field
    unmet_m3: float = 0.0  # the field did not get (the tank was empty)
    overflow_m3: float = 0.0  # spilt over the top
    pump_kwh: float = 0.0
    run_s: float = 0.0
    table: SpeedTable = field(init=False, repr=False)
    _wait_s: float = field(init=False, default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.table = speed_table(self.load)
        self.stored_m3 = self.tank.m3 * self.tank.initial_level_pct / 100.0
        if self.hz_set <= 0.0:
            self.hz_set = self.load.pump.rated_hz

    # ------------------------------------------------------------------ readings

    @property
    def level_m(self) -> float:
        """Water above the tank floor [m]."""
        return self.stored_m3 / self.tank.m3 * self.tank.height_m

    @level_m.setter
    def level_m(self, value: float) -> None:
        self.stored_m3 = min(max(value, 0.0), self.tank.height_m) / self.tank.height_m \
            * self.tank.m3

    @property
    def level_pct(self) -> float:
        """Water level, 0 (empty) to 100 (full) [%]."""
        return 100.0 * self.stored_m3 / self.tank.m3

    @property
    def min_hz(self) -> float:
        """The drive's working lowest frequency [Hz] (the table's lowest speed)."""
        return float(self.table.speed[0]) * self.load.pump.rated_hz

    @property
    def fixed(self) -> bool:
        """True for a fixed-speed pump (no frequency control)."""
        return self.load.pump.drive == "fixed"

    # ------------------------------------------------------------------ commands

    def command(self, run: bool | None = None, hz: float | None = None) -> None:
        """The drive's run command (True run, False stop) and frequency setpoint [Hz]
        (clamped to 0–rated; the drive runs no slower than :attr:`min_hz`)."""
        if run is not None:
            self.run_cmd = bool(run)
            if not run:
                self._wait_s = 0.0
        if hz is not None:
            self.hz_set = min(max(float(hz), 0.0), self.load.pump.rated_hz)

    # ------------------------------------------------------------------ stepping

    def step(self, dt_s: float, available_kw: float, local_hour: float,
             month: int | None = None) -> float:
        """Advance ``dt_s`` seconds with ``available_kw`` [kW] on offer at site-local hour
        ``local_hour`` [h] (``month`` 1–12, default: the last one given); the kW drawn."""
        kw = self.drive(dt_s, available_kw)
        self.flow(dt_s, local_hour, month)
        return kw

    def drive(self, dt_s: float, available_kw: float) -> float:
        """The drive's decision for the next ``dt_s`` seconds: frequency, running, power;
        returns the electric power it draws [kW] (the tank moves in :meth:`flow`)."""
        was = self.running
        self.started = False
        if not self.run_cmd:
            self._stop()
            return 0.0
        if not was and self._wait_s > 0.0:
            self._wait_s = max(0.0, self._wait_s - dt_s)
            return 0.0
        pump = self.load.pump
        n_max = self._max_speed(available_kw - POWER_MARGIN_KW)
        if n_max is None:
            self._stop()
            self._wait_s = RESTART_DELAY_S
            return 0.0
        if self.fixed:
            hz = pump.rated_hz
        else:
            lo_hz = self.min_hz
            target = min(max(self.hz_set, lo_hz), pump.rated_hz)
            if not was:
                hz = lo_hz
            elif self.pump_hz < target:
                hz = min(target, self.pump_hz + RAMP_HZ_S * dt_s)
            else:
                hz = max(target, self.pump_hz - RAMP_HZ_S * dt_s)
            hz = max(lo_hz, min(hz, n_max * pump.rated_hz))
        speed = hz / pump.rated_hz
        if self.dry:
            flow, kw = 0.0, DRY_RUN_POWER_FRACTION * pump.affinity_kw(hz)
        else:
            flow, kw = self.table.at(speed)
        self.running, self.started = True, not was
        self.pump_hz, self.flow_m3_h, self.pump_w = hz, flow, kw * 1000.0
        v = max(MOTOR_LINE_V * speed, 0.1 * MOTOR_LINE_V)  # V/f control
        self.pump_a = self.pump_w / (math.sqrt(3.0) * v * MOTOR_POWER_FACTOR)
        return kw

    def cut(self) -> None:
        """The supply failed during the step just decided (an inverter trip or low-battery
        shutdown): the drive stops without pumping and retries later."""
        if self.running:
            self._stop()
            self._wait_s = RESTART_DELAY_S

    def flow(self, dt_s: float, local_hour: float, month: int | None = None) -> None:
        """Move ``dt_s`` seconds of water: the pump's flow in, the field's draw out."""
        if month is not None:
            self.month = month
        dt_h = dt_s / 3600.0
        pumped = self.flow_m3_h * dt_h
        w = self.load.irrigation
        want = (self.load.flow_m3_per_day[self.month - 1] / w.hours
                * window_overlap_h(w.start_h, w.hours, local_hour % 24.0, dt_h))
        have = self.stored_m3 + pumped
        out = min(want, have)
        stored = have - out
        spill = max(0.0, stored - self.tank.m3)
        self.stored_m3 = stored - spill
        self.draw_m3_h = want / dt_h if dt_h > 0 else 0.0
        self.total_m3 += pumped
        self.demand_m3 += want
        self.delivered_m3 += out
        self.unmet_m3 += want - out
        self.overflow_m3 += spill
        self.pump_kwh += self.pump_w / 1000.0 * dt_h
        if self.running:
            self.run_s += dt_s

    def _max_speed(self, available_kw: float) -> float | None:
        pump = self.load.pump
        if not self.dry:
            return self.table.max_speed(available_kw)
        lo = float(self.table.speed[0])
        full_kw = DRY_RUN_POWER_FRACTION * pump.rated_kw
        n = 1.0 if available_kw >= full_kw else (max(available_kw, 0.0) / full_kw) ** (1 / 3)
        return n if n >= lo else None

    def _stop(self) -> None:
        self.running = False
        self.pump_hz = self.flow_m3_h = self.pump_w = self.pump_a = 0.0

    # ------------------------------------------------------------------ reporting

    def state(self) -> dict[str, object]:
        """The water figures as JSON-ready values (units in the names)."""
        return {
            "level_m": round(self.level_m, 5),
            "level_pct": round(self.level_pct, 4),
            "stored_m3": round(self.stored_m3, 6),
            "flow_m3_h": round(self.flow_m3_h, 5),
            "draw_m3_h": round(self.draw_m3_h, 5),
            "pump_hz": round(self.pump_hz, 3),
            "pump_w": round(self.pump_w, 2),
            "pump_a": round(self.pump_a, 3),
            "running": self.running,
            "run_cmd": self.run_cmd,
            "hz_set": round(self.hz_set, 3),
            "dry": self.dry,
            "fault": self.fault,
            "total_m3": round(self.total_m3, 6),
            "demand_m3": round(self.demand_m3, 6),
            "delivered_m3": round(self.delivered_m3, 6),
            "unmet_m3": round(self.unmet_m3, 6),
            "overflow_m3": round(self.overflow_m3, 6),
            "pump_kwh": round(self.pump_kwh, 6),
            "run_h": round(self.run_s / 3600.0, 6),
        }
