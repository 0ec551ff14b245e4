"""Simulated devices: each serves its family's register map (the same one the driver reads)
with values taken from the plant, applies writes to the plant, and misbehaves on demand.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pymodbus.constants import ExcCodes

from controller.devices import (
    DRIVERS,
    Block,
    RegisterMap,
    Table,
    Value,
    decode,
    flow_meter,
    plan_blocks,
    pump_drive,
    sunspec,
    sunspec_wind,
    tank_level,
)
from controller.devices import image as make_image
from controller.devices.generator import RUNNING_STATE
from hardware_sim.faults import Fault
from hardware_sim.plant import (
    AC_HZ,
    AC_V,
    GenState,
    InverterState,
    Plant,
    Stage,
    do_saturation_mg_l,
)
from hardware_sim.water import MOTOR_LINE_V
from sitefile import Device

FC_TABLE: dict[int, Table] = {1: Table.COIL, 5: Table.COIL, 15: Table.COIL,
                              2: Table.DISCRETE, 4: Table.INPUT,
                              3: Table.HOLDING, 6: Table.HOLDING, 16: Table.HOLDING,
                              23: Table.HOLDING}
SUNSPEC_BASE = 40000
SUNSPEC_SF: dict[str, int] = {"_a_sf": -1, "_v_sf": -1, "_w_sf": 0, "_hz_sf": -2, "_wh_sf": 0,
                              "_dcv_sf": -1, "_dcw_sf": 0, "_tmp_sf": -1, "_wchamax_sf": 0,
                              "_chastate_sf": -1, "_inbatv_sf": -2, "_m160_dca_sf": -2,
                              "_m160_dcv_sf": -1, "_m160_dcw_sf": 0, "_m160_dcwh_sf": 0}
SUNSPEC_SERVE_GAP = 64  # the simulator answers every address of the model chain
CELL_SETTINGS_V = {  # per cell: high disconnect, charge limit, boost, float, boost reconnect
    "lfp": (3.65, 3.60, 3.55, 3.40, 3.30),
    "lead_acid": (2.50, 2.45, 2.40, 2.25, 2.20),
}
STARTER_V = {True: 13.8, False: 12.7}


class Silent(Exception):
    """The device does not answer this request."""


Values = dict[str, Value | None]


@dataclass
class SimDevice:
    """One simulated device on a bus."""

    dev: Device
    rmap: RegisterMap
    plant: Plant
    values_fn: Callable[[SimDevice], Values]
    write_fn: Callable[[SimDevice, str, Value], None]
    sf: dict[str, int] = field(default_factory=dict)
    counters: tuple[str, ...] = ()
    serve_gap: int | None = None
    settings: dict[str, Value] = field(default_factory=dict)
    offsets: dict[str, float] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: int = 0
    eeprom_writes: int = 0  # EEPROM-backed registers written (they wear out: write on change)
    _ranges: list[Block] = field(init=False)
    _cache: tuple[int, dict[Table, dict[int, int]]] | None = field(init=False, default=None)
    _frozen: dict[Table, dict[int, int]] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        rmap = self.rmap if self.serve_gap is None else replace(self.rmap,
                                                                 max_gap=self.serve_gap)
        self._ranges = plan_blocks(rmap, max_words=1 << 16)

    @property
    def name(self) -> str:
        """The device's name in the site file."""
        return self.dev.name

    # ------------------------------------------------------------------ values

    def values(self) -> Values:
        """The points as the device reports them now (counters, drift applied)."""
        v = self.values_fn(self)
        for point, off in self.offsets.items():
            x = v.get(point)
            if isinstance(x, int | float):
                v[point] = max(0.0, float(x) - off)
        for f in self.faults:
            if f.kind == "drift":
                point = str(f.param("point"))
                x = v.get(point)
                if isinstance(x, int | float):
                    hours = (self.plant.t - f.start).total_seconds() / 3600
                    v[point] = float(x) + float(f.param("rate_per_h")) * hours
        return v

    def image(self) -> dict[Table, dict[int, int]]:
        """The register image now (cached per plant step)."""
        if self._frozen is not None:
            return self._frozen
        if self._cache is None or self._cache[0] != self.plant.steps:
            self._cache = (self.plant.steps, make_image(self.rmap, self.values(), self.sf))
        return self._cache[1]

    # ------------------------------------------------------------------ faults

    def fault_started(self, f: Fault) -> None:
        """Apply a fault that has just become active."""
        self.faults.append(f)
        self._cache = None
        if f.kind == "frozen":
            self._frozen = self.image()
        elif f.kind == "reboot":
            current = self.values_fn(self)
            for point in self.counters:
                x = current.get(point)
                if isinstance(x, int | float):
                    self.offsets[point] = float(x)
        elif f.kind == "relay_stuck":
            self.plant.stuck[self.name, int(f.param("channel"))] = f.param("state") == "closed"

    def fault_ended(self, f: Fault) -> None:
        """Undo a fault that has ended."""
        self.faults = [g for g in self.faults if g.id != f.id]
        self._cache = None
        if f.kind == "frozen" and not self._has("frozen"):
            self._frozen = None
        elif f.kind == "relay_stuck":
            self.plant.stuck.pop((self.name, int(f.param("channel"))), None)

    def _has(self, kind: str) -> Fault | None:
        return next((f for f in self.faults if f.kind == kind), None)

    def noise_probability(self) -> float:
        """Probability that a reply of this device is corrupted (serial noise)."""
        f = self._has("noise")
        return float(f.param("probability")) if f else 0.0

    async def _misbehave(self, writing: bool) -> ExcCodes | None:
        if self._has("silent") or self._has("reboot"):
            raise Silent
        slow = self._has("slow")
        if slow is not None:
            await asyncio.sleep(float(slow.param("delay_s")))
        exc = self._has("exception")
        if exc is None or not (writing or exc.param("on") == "all"):
            return None
        return ExcCodes(int(exc.param("code")))

    # ------------------------------------------------------------------ Modbus

    def _covered(self, table: Table, address: int, count: int) -> bool:
        return any(b.table is table and b.address <= address
                   and address + count <= b.address + b.count for b in self._ranges)

    async def read(self, fc: int, address: int, count: int) -> list[int] | list[bool] | ExcCodes:
        """Answer a read (or the read-back of a write)."""
        self.requests += 1
        code = await self._misbehave(writing=False)
        if code is not None:
            return code
        table = FC_TABLE.get(fc)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        if not self._covered(table, address, count):
            return ExcCodes.ILLEGAL_ADDRESS
        garbage = self._has("garbage")
        img = self.image()[table]
        words = [img.get(a, 0) for a in range(address, address + count)]
        if garbage is not None:
            words = [int(garbage.param("value")) & 0xFFFF] * count
        if table.is_bit:
            return [bool(w) for w in words]
        return words

    async def write(self, fc: int, address: int, values: list[int] | list[bool]) -> ExcCodes | None:
        """Apply a write: decode the points written, check them, hand them to the plant."""
        self.requests += 1
        code = await self._misbehave(writing=True)
        if code is not None:
            return code
        table = FC_TABLE.get(fc)
        if table is None or table in (Table.INPUT, Table.DISCRETE):
            return ExcCodes.ILLEGAL_FUNCTION
        words = [int(v) for v in values]
        if table is Table.COIL:
            words = [1 if v else 0 for v in words]
        span = range(address, address + len(words))
        regs = [r for r in self.rmap.registers
                if r.table is table and r.address < span.stop and span.start < r.address + r.words]
        covered = {a for r in regs for a in range(r.address, r.address + r.words)}
        if not regs or not set(span) <= covered or any(not r.writable for r in regs) or any(
                r.address < span.start or r.address + r.words > span.stop for r in regs):
            return ExcCodes.ILLEGAL_ADDRESS
        points = decode(replace(self.rmap, derive=None),
                        {Block(table, address, len(words)): words})
        for r in regs:
            value = points.get(r.point)
            assert r.write_range is not None
            lo, hi = r.write_range
            if not isinstance(value, int | float) or not lo <= float(value) <= hi:
                return ExcCodes.ILLEGAL_VALUE
        for r in regs:
            value = points[r.point]
            assert value is not None
            if not table.is_bit:
                self.settings[r.point] = value
            self.eeprom_writes += r.eeprom
            self.write_fn(self, r.point, value)
        self._cache = None
        return None


# ---------------------------------------------------------------------- per driver


def _epever_values(d: SimDevice) -> Values:
    p = d.plant
    controllers = list(p.controllers)
    share = 1.0 / len(controllers)
    cc = p.controllers[d.name]
    v = p.battery_v
    pv_site = p.site.pv
    n_series = max(1, int(pv_site.mppt_max_input_v // (pv_site.module_voc_v * 1.15))) \
        if pv_site else 1
    pv_v = (pv_site.module_vmp_v * n_series if pv_site else 0.0) if p.pv_avail_w > 0 else 0.0
    pv_w = p.pv_array_w * share
    charge_w = p.pv_w * share
    return {
        **d.settings,
        "pv_v": pv_v, "pv_a": pv_w / pv_v if pv_v else 0.0, "pv_w": pv_w,
        "battery_v": v, "charge_a": charge_w / v, "charge_w": charge_w,
        "load_v": v if cc.load_output_on else 0.0, "load_a": 0.0, "load_w": 0.0,
        "battery_temp_c": p.battery_temp_c, "device_temp_c": p.battery_temp_c + 4.0,
        "soc_pct": round(p.soc_pct),
        "battery_state": 3 if cc.lvd else 0,
        "charging_running": int(p.stage is not Stage.OFF),
        "charge_stage": int(p.stage),
        "load_running": int(cc.load_output_on),
        "load_kwh_total": 0.0,
        "pv_kwh_today": (p.energy.pv_kwh - p.pv_kwh_at_midnight) * share,
        "pv_kwh_total": p.energy.pv_kwh * share,
        # The net battery current (charge minus discharge): negative while the battery
        # discharges, e.g. at night; each controller reports its share of the bank's.
        "battery_v_net": v, "battery_a": p.battery_w * share / v,
        "lvd_v": cc.lvd_v, "lvr_v": cc.lvr_v, "load_on": cc.load_on_cmd,
    }


def _epever_write(d: SimDevice, point: str, value: Value) -> None:
    cc = d.plant.controllers[d.name]
    if point == "load_on":
        cc.load_on_cmd = bool(value)
    elif point == "lvd_v":
        cc.lvd_v = float(value)
    elif point == "lvr_v":
        cc.lvr_v = float(value)


def _relay_values(d: SimDevice) -> Values:
    return {f"relay_{n}": on for n, on in enumerate(d.plant.relays[d.name])}


def _relay_write(d: SimDevice, point: str, value: Value) -> None:
    d.plant.set_relay(d.name, int(point.removeprefix("relay_")), bool(value))


def _do_values(d: SimDevice) -> Values:
    p = d.plant
    sat_pct = p.do_sat_pct
    probe_salinity = float(d.settings.get("salinity_ppt", p.pond.salinity_ppt))
    # The probe measures saturation and converts it with its own salinity setting.
    return {"do_sat_pct": sat_pct, "water_temp_c": p.water_temp_c,
            "do_mg_l": sat_pct / 100 * do_saturation_mg_l(p.water_temp_c, probe_salinity),
            "salinity_ppt": probe_salinity}


def _do_write(d: SimDevice, point: str, value: Value) -> None:
    del d, point, value  # salinity is kept in the device's settings and used by _do_values


def _gen_values(d: SimDevice) -> Values:
    """The generator unit this controller starts and stops (``[[generators]] device``); a
    controller with no unit behind it reports an engine at rest with no fuel data."""
    unit = d.plant.unit_of(d.name)
    state = unit.state if unit is not None else GenState.STANDBY
    s = int(unit.run_s) if unit is not None else 0
    return {
        "fuel_pct": round(100 * unit.fuel_l / unit.spec.tank_l) if unit else None,
        "starter_battery_v": STARTER_V[state is GenState.RUNNING],
        "generator_state": RUNNING_STATE if state is GenState.RUNNING else int(state),
        "run_hours": s // 3600, "run_minutes": s % 3600 // 60, "run_seconds": s % 60,
        "generator_w": unit.w if unit else 0.0,
        "generator_kwh_total": unit.kwh if unit else 0.0,
        "start": False, "stop": False, "auto_mode": bool(d.settings.get("auto_mode", False)),
    }


def _gen_write(d: SimDevice, point: str, value: Value) -> None:
    if point == "auto_mode":
        d.settings["auto_mode"] = bool(value)
    elif value and (unit := d.plant.unit_of(d.name)) is not None:
        d.plant.generator_command(point == "start", unit)


SUNSPEC_MODELS: dict[int, int] = {1: sunspec.MODEL_LENGTHS[1], 103: sunspec.MODEL_LENGTHS[103],
                                  123: sunspec.MODEL_LENGTHS[123],
                                  160: 8 + sunspec.MPPT_MODULE_LEN,
                                  124: sunspec.MODEL_LENGTHS[124]}
SUNSPEC_CHAIN = sunspec.layout(SUNSPEC_BASE, SUNSPEC_MODELS)


def _sunspec_values(d: SimDevice) -> Values:
    p = d.plant
    inv = p.inverter
    ac_w = p.load_w if (inv is InverterState.ON or p.gen is GenState.RUNNING) else 0.0
    pv_here = 0.0 if p.controllers else p.pv_w  # PV is reported by the MPPTs when they exist
    b = p.site.battery
    assert b is not None
    charging = p.battery_w > 1
    storage_state = 5 if p.stage is Stage.FLOAT else 4 if charging else 3 if p.battery_w < -1 else 6
    v: Values = {
        "_marker": "SunS", "_end_id": sunspec.END_ID, "_end_l": 0,
        "manufacturer": "offgrid-sim", "model": "inverter-charger", "version": "1.0",
        "serial": d.name,
        "ac_a": ac_w / AC_V, "ac_v": AC_V if ac_w or inv is InverterState.ON else 0.0,
        "ac_w": ac_w, "ac_hz": AC_HZ,
        "ac_wh_total": p.energy.served_kwh * 1000, "dc_v": p.battery_v,  # AC out, bypass too
        "dc_w": p.inverter_dc_w, "cabinet_temp_c": p.battery_temp_c + 5,
        "inverter_state": int(inv),
        "inverter_connect": int(inv is not InverterState.STANDBY),
        "max_charge_w": b.max_charge_kw * 1000, "soc_pct": p.soc_pct,
        "battery_v": p.battery_v, "storage_state": storage_state,
        "mppt_count": 1, "mppt1_pv_a": pv_here / max(p.battery_v, 1.0),
        "mppt1_pv_v": p.battery_v if pv_here else 0.0, "mppt1_pv_w": pv_here,
        "mppt1_pv_wh": 0 if p.controllers else p.energy.pv_kwh * 1000,
    }
    for m in SUNSPEC_CHAIN:
        v[f"_m{m.model_id}_id"] = m.model_id
        v[f"_m{m.model_id}_l"] = m.length
    return v


def _sunspec_write(d: SimDevice, point: str, value: Value) -> None:
    if point == "inverter_connect":
        d.plant.connect_inverter(bool(value))


WIND_SF: dict[str, int] = {"_a_sf": -2, "_v_sf": -1, "_w_sf": 0, "_hz_sf": -2, "_wh_sf": 0,
                           "_dcv_sf": -1, "_dcw_sf": 0, "_tmp_sf": -1}
"""The scale factors a Windy Boy's data module serves (W and Wh unscaled, as SMA does)."""
WIND_STATE = {True: 4, False: 2}  # SunSpec St: 4 MPPT (producing), 2 sleeping (no wind)
WIND_DC_V = 300.0  # [V] the rectified turbine voltage at the Windy Boy's input, when producing
WIND_INVERTER_EFF = 0.96  # the Windy Boy's conversion efficiency (DC input → AC output)


def _wind_values(d: SimDevice) -> Values:
    """The turbines of one ``[[wind]]`` entry as their inverter reports them (SunSpec): the
    n-th ``sunspec_wind`` device serves the n-th entry, all of its turbines."""
    p = d.plant
    k = [x.name for x in p.site.devices if x.driver == "sunspec_wind"].index(d.name)
    watts, kwh = ((p.wind_w_by_entry[k], p.wind_kwh_by_entry[k]) if k < len(p.site.wind)
                  else (0.0, 0.0))
    producing = watts > 0
    v: Values = {
        "_marker": "SunS", "_end_id": sunspec.END_ID, "_end_l": 0,
        "manufacturer": "SMA", "model": "Windy Boy (offgrid-sim)", "version": "1.0",
        "serial": d.name,
        "wind_a": watts / AC_V, "wind_v": AC_V if producing else 0.0, "wind_w": watts,
        "wind_hz": AC_HZ if producing else 0.0, "wind_wh_total": kwh * 1000.0,
        "wind_dc_v": WIND_DC_V if producing else 0.0,
        "wind_dc_w": watts / WIND_INVERTER_EFF,
        "wind_cabinet_temp_c": p.inputs.at(p.local).temp_air_c + 5.0,
        "wind_state": WIND_STATE[producing],
    }
    for m in WIND_CHAIN:
        v[f"_m{m.model_id}_id"] = m.model_id
        v[f"_m{m.model_id}_l"] = m.length
    return v


def _wind_write(d: SimDevice, point: str, value: Value) -> None:
    del d, point, value  # the turbine's map is read-only here


WIND_CHAIN = sunspec.layout(SUNSPEC_BASE, sunspec_wind.CHAIN)


METER_PF = {"aerator": 0.82, "pump": 0.85}
"""Power factor of a motor load kind behind a meter; other loads: ``METER_PF_OTHER``."""
METER_PF_OTHER = 0.95
METER_V_SAG = 3.0
"""[V] the AC voltage falls by this much at the inverter's full rated load."""
METER_PHASE_V = (0.4, -0.3, 0.0)
"""[V] small offsets of the three phases' line-to-neutral voltages (SDM630)."""


def _meter_values(d: SimDevice) -> Values:
    """An Eastron meter on the circuit of the load its device ``measures`` (the whole AC
    output when it measures none): the load's served power, its integrated energy as the
    import counter, AC voltage sagging with the inverter's load, and the load kind's PF."""
    p = d.plant
    load_name = d.dev.measures
    if load_name is None:
        watts, kwh, kind = p.load_w, p.energy.served_kwh, ""
    else:
        watts, kwh = p.load_w_by_name[load_name], p.load_kwh_by_name[load_name]
        kind = next(load.kind for load in p.site.loads if load.name == load_name)
    powered = p.inverter is InverterState.ON or p.gen is GenState.RUNNING
    inv = p.site.inverter
    rated_w = inv.kw * 1000.0 if inv is not None else 1.0
    volts = AC_V + 1.0 - METER_V_SAG * min(p.load_w / rated_w, 1.5) if powered else 0.0
    pf = METER_PF.get(kind, METER_PF_OTHER) if watts > 0 else 1.0
    phi = math.acos(pf)
    three = d.dev.driver == "sdm630"
    phase_v = [volts + off if powered else 0.0 for off in METER_PHASE_V] if three else [volts]
    phase_w = [watts / len(phase_v)] * len(phase_v)
    phase_a = [w / (v * pf) if v > 0 else 0.0 for w, v in zip(phase_w, phase_v, strict=True)]
    amps = sum(phase_a)
    v_avg = sum(phase_v) / len(phase_v)
    out: Values = {
        "voltage_v": v_avg, "current_a": amps, "power_w": watts, "power_factor": pf,
        "frequency_hz": AC_HZ if powered else 0.0,
        "import_kwh": kwh, "export_kwh": 0.0, "total_kwh": kwh,
    }
    if three:
        for n in range(3):
            out[f"voltage_l{n + 1}_v"] = phase_v[n]
            out[f"current_l{n + 1}_a"] = phase_a[n]
            out[f"power_l{n + 1}_w"] = phase_w[n]
            out[f"power_factor_l{n + 1}"] = pf
    else:
        out.update(apparent_va=v_avg * amps, reactive_var=watts * math.tan(phi),
                   phase_angle_deg=math.degrees(phi), import_kvarh=kwh * math.tan(phi),
                   export_kvarh=0.0, total_kvarh=kwh * math.tan(phi))
    return out


def _meter_write(d: SimDevice, point: str, value: Value) -> None:
    del d, point, value  # a meter's measurements are read-only


# Hybrid inverters (issue 18): one device gives the AC output, its own MPPTs and the battery it
# sees, all from the same plant values, each in its vendor's sign and units (the map's derived
# points turn them back into ours).

HYBRIDS = ("deye_hybrid", "growatt_spf", "srne_hybrid", "victron_gx", "victron_battery")


@dataclass(frozen=True)
class _Hybrid:
    """The plant as a hybrid inverter sees it: W, V, A, % (battery W + = charging)."""

    ac_w: float
    ac_v: float
    ac_hz: float
    pv_w: float
    pv_v: float
    pv_kwh: float
    battery_v: float
    battery_w: float
    soc_pct: float
    fault: bool
    on: bool


def _hybrid(p: Plant) -> _Hybrid:
    inv_on = p.inverter is InverterState.ON
    ac_w = p.load_w if (inv_on or p.gen is GenState.RUNNING) else 0.0
    pv_w = 0.0 if p.controllers else p.pv_w  # the MPPTs report PV when the site has them
    pv_site = p.site.pv
    n_series = max(1, int(pv_site.mppt_max_input_v // (pv_site.module_voc_v * 1.15))) \
        if pv_site else 1
    pv_v = pv_site.module_vmp_v * n_series if pv_site and pv_w > 0 else 0.0
    ac_v = AC_V if ac_w or inv_on else 0.0
    return _Hybrid(ac_w=ac_w, ac_v=ac_v, ac_hz=AC_HZ if ac_v else 0.0, pv_w=pv_w, pv_v=pv_v,
                   pv_kwh=0.0 if p.controllers else p.energy.pv_kwh, battery_v=p.battery_v,
                   battery_w=p.battery_w, soc_pct=p.soc_pct,
                   fault=p.inverter is InverterState.FAULT, on=inv_on)


def _hybrid_values(d: SimDevice) -> Values:
    p = d.plant
    h = _hybrid(p)
    pv_a = h.pv_w / h.pv_v if h.pv_v else 0.0
    discharge_w = -h.battery_w  # Deye, Growatt and SRNE count discharging as positive
    driver = d.dev.driver
    if driver == "deye_hybrid":
        return {"running_state": 4 if h.fault else 2 if h.on else 0,
                "load_kwh_total": p.energy.served_kwh, "pv_kwh_total": h.pv_kwh,
                "pv1_v": h.pv_v, "pv1_a": pv_a, "pv2_v": 0.0, "pv2_a": 0.0,
                "ac_v": h.ac_v, "ac_w": h.ac_w, "ac_hz": h.ac_hz,
                "battery_temp_raw_c": p.battery_temp_c + 100.0, "battery_v": h.battery_v,
                "soc_pct": round(h.soc_pct), "pv1_w": h.pv_w, "pv2_w": 0.0,
                "battery_discharge_w": discharge_w,
                "battery_discharge_a": discharge_w / h.battery_v}
    if driver == "growatt_spf":
        status = (3 if h.fault else (5 if h.battery_w > 0 else 12) if h.pv_w > 0
                  else 2 if h.on else 0)
        return {"system_status": status, "pv1_v": h.pv_v, "pv2_v": 0.0, "pv1_w": h.pv_w,
                "pv2_w": 0.0, "ac_w": h.ac_w, "battery_v": h.battery_v,
                "soc_pct": round(h.soc_pct), "ac_v": h.ac_v, "ac_hz": h.ac_hz,
                "inverter_temp_c": p.battery_temp_c + 5.0, "pv1_kwh_total": h.pv_kwh,
                "pv2_kwh_total": 0.0, "battery_discharge_w": discharge_w}
    if driver == "srne_hybrid":
        state = (10 if h.fault else 5 if h.on else 4 if p.gen is GenState.RUNNING else 1)
        return {"soc_pct": round(h.soc_pct), "battery_v": h.battery_v,
                "battery_discharge_a": discharge_w / h.battery_v, "pv1_v": h.pv_v,
                "pv1_a": pv_a, "pv1_w": h.pv_w, "pv_w": h.pv_w, "machine_state": state,
                "ac_v": h.ac_v, "ac_hz": h.ac_hz, "ac_w": h.ac_w}
    amps = h.battery_w / h.battery_v
    if driver == "victron_battery":
        return {"battery_v": h.battery_v, "battery_a": amps,
                "battery_temp_c": p.battery_temp_c, "soc_pct": h.soc_pct}
    return {"pv_on_output_l1_w": 0.0, "pv_on_output_l2_w": 0.0, "pv_on_output_l3_w": 0.0,
            "ac_consumption_l1_w": h.ac_w, "ac_consumption_l2_w": 0.0,
            "ac_consumption_l3_w": 0.0, "battery_v": h.battery_v, "battery_a": amps,
            "battery_w": h.battery_w, "soc_pct": round(h.soc_pct),
            "battery_state": 1 if h.battery_w > 1 else 2 if h.battery_w < -1 else 0,
            "pv_dc_w": h.pv_w}


def _hybrid_write(d: SimDevice, point: str, value: Value) -> None:
    del d, point, value  # the hybrid maps are read-only


# Solar irrigation (issue 16): the tank's level transmitter, the pump's drive and the flow meter
# on its delivery pipe, all read from the plant's water (``plant.water``: None on a site
# without a water pump, where they report an empty tank, a stopped drive and no flow).

LEVEL_DECIMALS = 3  # the transmitter is set to mH2O with 3 decimals (mm)
S16_MAX = 0x7FFF


def _level_values(d: SimDevice) -> Values:
    """A hydrostatic transmitter on the tank floor, set to mH₂O with 3 decimals; its range
    is the tank's height rounded up to the metre (a 0–3 m transmitter in a 2.5 m tank)."""
    w = d.plant.water
    level = w.level_m if w is not None else 0.0
    tank = d.plant.site.tank
    full_m = math.ceil(tank.height_m) if tank is not None else 5
    scale = 10**LEVEL_DECIMALS
    return {"level_unit": tank_level.UNIT_MH2O, "level_decimals": LEVEL_DECIMALS,
            "level_value": min(round(level * scale), S16_MAX), "level_range_zero": 0,
            "level_range_full": min(full_m * scale, S16_MAX)}


def _level_write(d: SimDevice, point: str, value: Value) -> None:
    del d, point, value  # the level map is read-only


DC_BUS_V = MOTOR_LINE_V * math.sqrt(2.0)
"""[V] the drive's DC bus while it has power: the peak of its motor's rated line voltage (a
380 V-class GD100-PV keeps about 537 V, from its PV input or its boost), 0 without power."""


def _drive_values(d: SimDevice) -> Values:
    """The GD100-PV's view of ``plant.water``: status word from running/fault/command
    (POFF while commanded but stopped for lack of power), output power as % of the motor's
    rated power (P02.01, 0.1 kW steps as the keypad takes it), V/f output voltage, and the DC
    bus (:data:`DC_BUS_V` while the AC bus that feeds the pump is up)."""
    p = d.plant
    w = p.water
    assert w is not None  # a pump drive needs a water pump (sitefile.checks)
    pump = w.load.pump
    rated_kw = max(round(pump.rated_kw, 1), 0.1)
    state = (pump_drive.SW_FAULT if w.fault else pump_drive.SW_FORWARD if w.running
             else pump_drive.SW_POFF if w.run_cmd else pump_drive.SW_STOPPED)
    powered = p.inverter is InverterState.ON or p.gen is GenState.RUNNING
    return {
        "motor_rated_kw": rated_kw,
        "pump_run": w.run_cmd,
        "pump_hz_set": w.hz_set, "drive_state": state, "pump_fault": w.fault,
        "pump_hz": w.pump_hz, "pump_hz_ref": w.hz_set,
        "pv_v": DC_BUS_V if powered else 0.0,
        "pump_v": MOTOR_LINE_V * w.pump_hz / pump.rated_hz if w.running else 0.0,
        "pump_a": w.pump_a, "pump_power_pct": 100.0 * w.pump_w / (rated_kw * 1000.0),
    }


def _drive_write(d: SimDevice, point: str, value: Value) -> None:
    """2000H: 0001H (True) runs forward, any other accepted value stops; 2001H: the
    setpoint [Hz]."""
    w = d.plant.water
    assert w is not None  # a pump drive needs a water pump (sitefile.checks)
    if point == "pump_run":
        w.command(run=int(value) == pump_drive.CMD_FORWARD)
    elif point == "pump_hz_set":
        w.command(hz=float(value))


def _flow_values(d: SimDevice) -> Values:
    """An electromagnetic flow meter on the delivery pipe, in m³/h and m³: the pump's flow,
    the velocity in the pipe's bore, the totaliser split into integer and decimal parts, and
    the empty-pipe alarm while the pump runs in a dry well."""
    w = d.plant.water
    flow = w.flow_m3_h if w is not None else 0.0
    total = w.total_m3 if w is not None else 0.0
    bore_m2 = (math.pi / 4 * (w.load.pipe.diameter_mm / 1000.0) ** 2) if w is not None else 0.0
    whole = math.floor(total)
    return {"flow_rate": flow, "flow_unit": flow_meter.FLOW_M3_H,
            "flow_velocity_m_s": flow / 3600.0 / bore_m2 if bore_m2 else 0.0,
            "total_int": whole, "total_frac": total - whole, "total_unit": flow_meter.TOTAL_M3,
            "empty_pipe_alarm": int(w is not None and w.dry and w.running), "system_alarm": 0}


def _flow_write(d: SimDevice, point: str, value: Value) -> None:
    del d, point, value  # the flow meter's map is read-only


def make_device(dev: Device, plant: Plant) -> SimDevice:
    """The simulated device for a site ``[[devices]]`` entry."""
    driver = DRIVERS[dev.driver]
    if dev.driver == "sunspec":
        return SimDevice(dev, sunspec.build_map(SUNSPEC_BASE, SUNSPEC_CHAIN), plant,
                         _sunspec_values, _sunspec_write,
                         sf=dict(SUNSPEC_SF), counters=("ac_wh_total", "mppt1_pv_wh"),
                         serve_gap=SUNSPEC_SERVE_GAP)
    if dev.driver == "sunspec_wind":
        return SimDevice(dev, sunspec_wind.build_map(SUNSPEC_BASE), plant, _wind_values,
                         _wind_write, sf=dict(WIND_SF), counters=("wind_wh_total",),
                         serve_gap=SUNSPEC_SERVE_GAP)
    assert driver.static_map is not None
    rmap = driver.static_map
    if dev.driver == "epever_tracer":
        b = plant.site.battery
        assert b is not None
        cells = round(b.nominal_v / (3.2 if b.chemistry == "lfp" else 2.0))
        hi, limit, boost, flt, boost_rc = (cells * x for x in CELL_SETTINGS_V[b.chemistry])
        settings: dict[str, Value] = {
            "battery_type": 0, "battery_ah": round(b.kwh * 1000 / b.nominal_v),
            "high_disconnect_v": hi, "charge_limit_v": limit, "boost_v": boost,
            "float_v": flt, "boost_reconnect_v": boost_rc}
        return SimDevice(dev, rmap, plant, _epever_values, _epever_write, settings=settings,
                         counters=("pv_kwh_today", "pv_kwh_total", "load_kwh_total"))
    if dev.driver == "relay_board":
        return SimDevice(dev, rmap, plant, _relay_values, _relay_write)
    if dev.driver == "do_sensor":
        return SimDevice(dev, rmap, plant, _do_values, _do_write)
    if dev.driver in HYBRIDS:
        return SimDevice(dev, rmap, plant, _hybrid_values, _hybrid_write,
                         counters=("load_kwh_total", "pv_kwh_total", "pv1_kwh_total"))
    if dev.driver == "tank_level":
        return SimDevice(dev, rmap, plant, _level_values, _level_write)
    if dev.driver == "pump_drive":
        return SimDevice(dev, rmap, plant, _drive_values, _drive_write)
    if dev.driver == "flow_meter":
        return SimDevice(dev, rmap, plant, _flow_values, _flow_write)
    if dev.driver in ("sdm120", "sdm630"):
        return SimDevice(dev, rmap, plant, _meter_values, _meter_write,
                         counters=("import_kwh", "total_kwh", "import_kvarh", "total_kvarh"))
    return SimDevice(dev, rmap, plant, _gen_values, _gen_write,
                     counters=("generator_kwh_total",))
