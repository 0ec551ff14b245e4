"""Device natures: what the controller depends on, whatever the vendor (DESIGN.md §3 point 5).

Each nature is a frozen dataclass of :class:`Reading` built from a device's points with
``from_points(points, ts)``; a point the device did not deliver is a MISSING reading at ``ts``.
Field names are the point names of DESIGN.md §2 and carry their unit. Signs: battery power and
current are positive when charging, negative when discharging.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import ClassVar, Self

from controller.devices.values import Reading

RELAY_CHANNELS = 8


@dataclass(frozen=True)
class Nature:
    """Base of the natures: builds itself from ``{point: Reading}``."""

    @classmethod
    def from_points(cls, points: Mapping[str, Reading], ts: datetime) -> Self:
        """The nature's fields from ``points``; absent points become MISSING at ``ts``."""
        return cls(**{f.name: points.get(f.name) or Reading.missing(ts) for f in fields(cls)})


@dataclass(frozen=True)
class Battery(Nature):
    """The battery bank as one device sees it."""

    battery_v: Reading  # [V] terminal voltage
    battery_a: Reading  # [A] positive = charging
    battery_w: Reading  # [W] positive = charging
    soc_pct: Reading  # [%] state of charge
    battery_temp_c: Reading  # [°C]


@dataclass(frozen=True)
class ChargeController(Nature):
    """An MPPT charge controller with a switched DC load output."""

    STAGES: ClassVar[dict[int, str]] = {0: "off", 1: "float", 2: "bulk", 3: "absorption"}

    pv_v: Reading  # [V] array voltage
    pv_a: Reading  # [A] array current
    pv_w: Reading  # [W] array power (≥ 0)
    charge_w: Reading  # [W] power delivered into the battery (≥ 0)
    charge_stage: Reading  # int: 0 off, 1 float, 2 bulk, 3 absorption (see STAGES)
    load_w: Reading  # [W] DC load output power (≥ 0)
    load_on: Reading  # bool: the load output is switched on (writable)
    load_lvd: Reading  # bool: the load output is off by low-voltage disconnect
    pv_kwh_total: Reading  # [kWh] energy generated since the counter was reset
    load_kwh_total: Reading  # [kWh] energy of the DC load output since the counter was reset


@dataclass(frozen=True)
class Inverter(Nature):
    """A battery inverter (or inverter/charger) supplying the AC loads."""

    ac_w: Reading  # [W] AC output power (≥ 0 when supplying loads)
    ac_v: Reading  # [V] AC output voltage
    ac_hz: Reading  # [Hz]
    dc_w: Reading  # [W] DC power drawn from the battery bus (positive = discharging it)
    ac_kwh_total: Reading  # [kWh] energy delivered since the counter was reset
    pv_w: Reading  # [W] power of its own MPPT trackers (SunSpec model 160), ≥ 0
    pv_kwh_total: Reading  # [kWh] energy of its own MPPT trackers since the counter was reset
    inverter_fault: Reading  # bool: tripped (overload/surge) and needs a reset
    inverter_connect: Reading  # int: 1 connected, 0 disconnected (writable; 1 resets a trip)
    soc_pct: Reading  # [%] state of charge reported by the inverter's battery monitor
    battery_v: Reading  # [V]


@dataclass(frozen=True)
class RelayBank(Nature):
    """An 8-channel relay board: ``relay_<n>`` True = contact closed (load on), n = 0..7."""

    relay_0: Reading
    relay_1: Reading
    relay_2: Reading
    relay_3: Reading
    relay_4: Reading
    relay_5: Reading
    relay_6: Reading
    relay_7: Reading

    def channel(self, n: int) -> Reading:
        """The reading of channel ``n``."""
        if not 0 <= n < RELAY_CHANNELS:
            raise IndexError(f"relay channel {n} is not in 0..{RELAY_CHANNELS - 1}")
        reading: Reading = getattr(self, f"relay_{n}")
        return reading


@dataclass(frozen=True)
class OxygenSensor(Nature):
    """A dissolved-oxygen probe in the pond."""

    do_mg_l: Reading  # [mg/L] dissolved oxygen
    do_sat_pct: Reading  # [%] saturation
    water_temp_c: Reading  # [°C]


@dataclass(frozen=True)
class Generator(Nature):
    """A diesel generator behind an auto-start controller."""

    generator_running: Reading  # bool: running and supplying power
    generator_state: Reading  # int: the controller's engine state code
    generator_run_h: Reading  # [h] engine run hours
    generator_w: Reading  # [W] electrical output power (≥ 0)
    generator_kwh_total: Reading  # [kWh] energy generated since the counter was reset
    fuel_pct: Reading  # [%] fuel level
    starter_battery_v: Reading  # [V]


@dataclass(frozen=True)
class WindTurbine(Nature):
    """A wind turbine behind its own inverter (AC coupled) or charge controller (DC coupled)."""

    wind_w: Reading  # [W] electrical output power (≥ 0)
    wind_kwh_total: Reading  # [kWh] energy generated since the counter was reset
    wind_state: Reading  # int: the inverter's operating state (SunSpec model 103 St)
    wind_fault: Reading  # bool: the turbine's inverter reports a fault


@dataclass(frozen=True)
class Meter(Nature):
    """An AC energy meter on one load's circuit (single or three phase).

    Signs: power and current flow into the load are positive (import); a load that feeds
    back shows as negative power and counts as export. On a three-phase meter ``voltage_v`` is
    the average line-to-neutral voltage and ``current_a`` the sum of the line currents.
    """

    voltage_v: Reading  # [V] line-to-neutral voltage
    current_a: Reading  # [A] line current (≥ 0)
    power_w: Reading  # [W] active power, positive = import (into the load)
    power_factor: Reading  # [-] −1…1, sign = direction of the current (+ import)
    frequency_hz: Reading  # [Hz]
    import_kwh: Reading  # [kWh] active energy imported since the counter was reset
    export_kwh: Reading  # [kWh] active energy exported since the counter was reset


@dataclass(frozen=True)
class TankLevel(Nature):
    """A level transmitter in the water tank (hydrostatic: the water column above the probe)."""

    tank_level_m: Reading  # [m] water above the sensor


@dataclass(frozen=True)
class PumpDrive(Nature):
    """A variable-frequency drive (solar pump inverter) running the water pump.

    ``pump_run`` and ``pump_hz_set`` are writable: True runs (forward), False stops; the
    setpoint is the frequency the drive ramps to [Hz]. ``pump_running`` is what the drive
    reports it is doing, which may differ from the command (fault, no power, ramping).
    """

    pump_hz: Reading  # [Hz] output frequency
    pump_w: Reading  # [W] output power (≥ 0)
    pump_a: Reading  # [A] output current
    pump_running: Reading  # bool: the drive reports running
    pump_fault: Reading  # int: the drive's fault code, 0 = none
    pump_run: Reading  # bool: the run command (writable: True = run, False = stop)
    pump_hz_set: Reading  # [Hz] frequency setpoint (writable)
    pv_v: Reading  # [V] DC bus voltage (the PV input on a PV-fed drive)


@dataclass(frozen=True)
class FlowMeter(Nature):
    """A flow meter on the pump's delivery pipe."""

    flow_m3_h: Reading  # [m³/h] instantaneous flow (≥ 0 forward)
    flow_total_m3: Reading  # [m³] forward total since the totaliser was reset
