"""Electromagnetic flow meter converter, the common Chinese RS485 map (driver ``flow_meter``).

Follows the Modbus RTU table of the widespread electromagnetic flowmeter converters, as in
the Microsensor MFE600H manual (section 9, "Modbus RTU register address definition of
electromagnetic flowmeter"), which many OEM converters share: holding registers (FC03),
0x1010 instantaneous flow (float32), 0x1012 flow velocity [m/s] (float32), 0x1018 integer
part of the forward total (u32), 0x101A its decimal part (float32), 0x101E flow unit code
(0 L/s, 1 L/min, 2 L/h, 3 m³/s, 4 m³/min, 5 m³/h), 0x1021 total unit code (0 L, 1 m³),
0x1024 empty-pipe alarm (1 = alarm), 0x1025 system alarm (1 = alarm). Defaults: RTU,
9600 8N1, address 1.

The manual calls the 32-bit types "Float Inverse" and "Long Inverse": IEEE-754 and unsigned
integers sent low word first (word-swapped, CDAB), as these converters do. The derived
points ``flow_m3_h`` and ``flow_total_m3`` convert the units; other total units (gallons,
mass) are not mapped and make the total None. An empty pipe (the pump runs dry, or the pipe
has drained) makes the converter read 0 and raise 0x1024.
"""

from __future__ import annotations

import math

from controller.devices.codec import Kind, Register, RegisterMap
from controller.devices.values import Value

FLOW_UNIT_M3_H: dict[int, float] = {0: 3.6, 1: 0.06, 2: 0.001, 3: 3600.0, 4: 60.0, 5: 1.0}
"""[m³/h] per displayed flow unit, by the converter's flow unit code (0x101E)."""
TOTAL_UNIT_M3: dict[int, float] = {0: 0.001, 1: 1.0}
"""[m³] per displayed total unit, by the converter's total unit code (0x1021)."""
FLOW_M3_H, TOTAL_M3 = 5, 1

REGISTERS: tuple[Register, ...] = (
    Register("flow_rate", 0x1010, kind=Kind.F32, low_word_first=True,
             doc="instantaneous flow, in the unit of flow_unit"),
    Register("flow_velocity_m_s", 0x1012, kind=Kind.F32, unit="m/s", low_word_first=True,
             doc="flow velocity in the pipe"),
    Register("total_int", 0x1018, kind=Kind.U32, low_word_first=True,
             doc="forward total, integer part, in the unit of total_unit"),
    Register("total_frac", 0x101A, kind=Kind.F32, low_word_first=True,
             doc="forward total, decimal part"),
    Register("flow_unit", 0x101E, doc="flow unit code, see FLOW_UNIT_M3_H (5 = m³/h)"),
    Register("total_unit", 0x1021, doc="total unit code, see TOTAL_UNIT_M3 (1 = m³)"),
    Register("empty_pipe_alarm", 0x1024, doc="1 = empty pipe"),
    Register("system_alarm", 0x1025, doc="1 = alarm"),
)


def _number(x: Value | None) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(float(x)) else None


def _derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """flow_m3_h and flow_total_m3 from the values and their unit codes."""
    out: dict[str, Value | None] = {}
    if "flow_rate" in v:
        flow, unit = _number(v.get("flow_rate")), _number(v.get("flow_unit"))
        factor = None if unit is None else FLOW_UNIT_M3_H.get(int(unit))
        out["flow_m3_h"] = None if flow is None or factor is None else round(flow * factor, 6)
    if "total_int" in v:
        whole, frac = _number(v.get("total_int")), _number(v.get("total_frac"))
        unit = _number(v.get("total_unit"))
        factor = None if unit is None else TOTAL_UNIT_M3.get(int(unit))
        out["flow_total_m3"] = (None if whole is None or frac is None or factor is None
                                else round((whole + frac) * factor, 6))
    return out


MAP = RegisterMap("flow_meter", __doc__ or "", REGISTERS, max_gap=4, derive=_derive)
