"""SmartGen HGM4010/HGM4020 generator auto-start controller (driver ``generator``).

Follows "HGM4000 series genset controller — communication protocol" (SmartGen, Modbus RTU):
readings in holding registers (FC03): fuel level [%] 0x0015, starter battery [V ×0.1] 0x0018,
engine state 0x0022 (9 = running normally), accumulated run time 0x002A–0x002B hours (u32, high
word first), 0x002C minutes, 0x002D seconds; 32767 means no data. Remote control coils (FC05):
0x0000 start, 0x0001 stop, 0x0003 auto mode. Defaults: RTU, 9600 8N1, address 1.

Power and energy (models with the current-transformer inputs): total active power [kW ×0.1] at
0x0030 and accumulated energy [kWh ×0.1, u32 high word first] at 0x0032. These two addresses
were not checked against a device: confirm them in the protocol document of the model in use.
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap, Table
from controller.devices.values import Value

NO_DATA = 32767
RUNNING_STATE = 9
STATES: dict[int, str] = {0: "standby", 1: "preheat", 2: "cranking", 3: "crank rest",
                          4: "safety delay", 5: "start idle", 6: "warming up",
                          7: "waiting for load", 9: "running", 10: "cooling",
                          11: "stop idle", 12: "ETS", 13: "wait for stop", 14: "failed to stop"}

REGISTERS: tuple[Register, ...] = (
    Register("fuel_pct", 0x0015, unit="%", invalid=(NO_DATA,), doc="fuel level"),
    Register("starter_battery_v", 0x0018, scale=0.1, unit="V", invalid=(NO_DATA,),
             doc="starter battery voltage"),
    Register("generator_state", 0x0022, invalid=(NO_DATA,), doc="engine state, see STATES"),
    Register("run_hours", 0x002A, kind=Kind.U32, unit="h", doc="accumulated run hours"),
    Register("run_minutes", 0x002C, unit="min", invalid=(NO_DATA,), doc="run time minutes"),
    Register("run_seconds", 0x002D, unit="s", invalid=(NO_DATA,), doc="run time seconds"),
    Register("generator_w", 0x0030, scale=100.0, unit="W", invalid=(NO_DATA,),
             doc="total active power [kW ×0.1]"),
    Register("generator_kwh_total", 0x0032, kind=Kind.U32, scale=0.1, unit="kWh",
             doc="accumulated energy [kWh ×0.1]"),
    Register("start", 0x0000, Table.COIL, Kind.BIT, write_range=(1, 1),
             doc="remote start (write 1)"),
    Register("stop", 0x0001, Table.COIL, Kind.BIT, write_range=(1, 1),
             doc="remote stop (write 1)"),
    Register("auto_mode", 0x0003, Table.COIL, Kind.BIT, write_range=(1, 1),
             doc="select auto mode (write 1)"),
)


def _derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """generator_running from the engine state; generator_run_h from hours, minutes, seconds."""
    out: dict[str, Value | None] = {}
    if "generator_state" in v:
        state = v["generator_state"]
        out["generator_running"] = None if state is None else state == RUNNING_STATE
    if "run_hours" in v:
        h, m, s = v.get("run_hours"), v.get("run_minutes"), v.get("run_seconds")
        out["generator_run_h"] = (None if h is None or m is None or s is None
                                  else round(float(h) + float(m) / 60 + float(s) / 3600, 4))
    return out


MAP = RegisterMap("generator", __doc__ or "", REGISTERS, max_gap=12, derive=_derive)
