"""EPEver Tracer AN/BN MPPT charge controller (driver ``epever_tracer``).

Follows "Tracer A/B series MPPT solar controller — Modbus protocol V2.5" (EPEver, 2016): input
registers (FC04) at 0x3100…, status at 0x3200…, statistics at 0x3300…, battery settings in
holding registers 0x9000… (EEPROM: write as one block, only on change), and the manual load
switch in coil 0x0002. Defaults: RTU, 115200 8N1, unit 1. u32 values are low word first.
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap, Table
from controller.devices.values import Value

_IN, _HOLD, _COIL = Table.INPUT, Table.HOLDING, Table.COIL
_C = 0.01  # most values are sent ×100

# Battery settings (V ×100): the range is the span a 12/24/48 V Tracer accepts.
_SETTING_V = (9.0, 68.0)

REGISTERS: tuple[Register, ...] = (
    Register("pv_v", 0x3100, _IN, scale=_C, unit="V", doc="PV array voltage"),
    Register("pv_a", 0x3101, _IN, scale=_C, unit="A", doc="PV array current"),
    Register("pv_w", 0x3102, _IN, Kind.U32, _C, "W", low_word_first=True, doc="PV power"),
    Register("battery_v", 0x3104, _IN, scale=_C, unit="V", doc="battery voltage"),
    Register("charge_a", 0x3105, _IN, scale=_C, unit="A", doc="battery charging current"),
    Register("charge_w", 0x3106, _IN, Kind.U32, _C, "W", low_word_first=True,
             doc="battery charging power"),
    Register("load_v", 0x310C, _IN, scale=_C, unit="V", doc="load output voltage"),
    Register("load_a", 0x310D, _IN, scale=_C, unit="A", doc="load output current"),
    Register("load_w", 0x310E, _IN, Kind.U32, _C, "W", low_word_first=True,
             doc="load output power"),
    Register("battery_temp_c", 0x3110, _IN, Kind.S16, _C, "°C", doc="battery temperature"),
    Register("device_temp_c", 0x3111, _IN, Kind.S16, _C, "°C", doc="heat sink temperature"),
    Register("soc_pct", 0x311A, _IN, unit="%", doc="battery state of charge"),
    Register("battery_state", 0x3200, _IN, bits=(0, 4),
             doc="D3-0: 0 normal, 1 over voltage, 2 under voltage, 3 low-voltage disconnect, "
                 "4 fault"),
    Register("charging_running", 0x3201, _IN, bits=(0, 1), doc="D0: 1 running"),
    Register("charge_stage", 0x3201, _IN, bits=(2, 2),
             doc="D3-2: 0 not charging, 1 float, 2 boost, 3 equalize; the simulator "
                 "reports bulk as 2 and absorption as 3"),
    Register("load_running", 0x3202, _IN, bits=(0, 1), doc="discharging equipment D0: running"),
    Register("load_kwh_total", 0x330A, _IN, Kind.U32, _C, "kWh", low_word_first=True,
             doc="total consumed energy"),
    Register("pv_kwh_today", 0x330C, _IN, Kind.U32, _C, "kWh", low_word_first=True,
             doc="generated energy today"),
    Register("pv_kwh_total", 0x3312, _IN, Kind.U32, _C, "kWh", low_word_first=True,
             doc="total generated energy"),
    Register("battery_v_net", 0x331A, _IN, scale=_C, unit="V", doc="battery voltage"),
    Register("battery_a", 0x331B, _IN, Kind.S32, _C, "A", low_word_first=True,
             doc="battery net current, positive = charging"),
    Register("battery_type", 0x9000, _HOLD, write_range=(0, 3), eeprom=True,
             doc="0 user, 1 sealed, 2 gel, 3 flooded"),
    Register("battery_ah", 0x9001, _HOLD, unit="Ah", write_range=(1, 9999), eeprom=True,
             doc="battery capacity"),
    Register("high_disconnect_v", 0x9003, _HOLD, scale=_C, unit="V", write_range=_SETTING_V,
             eeprom=True, doc="high voltage disconnect"),
    Register("charge_limit_v", 0x9004, _HOLD, scale=_C, unit="V", write_range=_SETTING_V,
             eeprom=True, doc="charging limit voltage"),
    Register("boost_v", 0x9007, _HOLD, scale=_C, unit="V", write_range=_SETTING_V,
             eeprom=True, doc="boost (absorption) voltage"),
    Register("float_v", 0x9008, _HOLD, scale=_C, unit="V", write_range=_SETTING_V,
             eeprom=True, doc="float voltage"),
    Register("boost_reconnect_v", 0x9009, _HOLD, scale=_C, unit="V", write_range=_SETTING_V,
             eeprom=True, doc="boost reconnect voltage"),
    Register("lvr_v", 0x900A, _HOLD, scale=_C, unit="V", write_range=_SETTING_V, eeprom=True,
             doc="low voltage reconnect"),
    Register("lvd_v", 0x900D, _HOLD, scale=_C, unit="V", write_range=_SETTING_V, eeprom=True,
             doc="low voltage disconnect"),
    Register("load_on", 0x0002, _COIL, Kind.BIT, write_range=(0, 1),
             doc="manual control of the load output: 1 on"),
)

LVD_STATE = 3


def _derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """battery_w from net voltage × current; load_lvd from the battery status."""
    volts, amps, state = v.get("battery_v_net"), v.get("battery_a"), v.get("battery_state")
    out: dict[str, Value | None] = {}
    if "battery_a" in v:
        out["battery_w"] = (None if volts is None or amps is None
                            else round(float(volts) * float(amps), 2))
    if "battery_state" in v:
        out["load_lvd"] = None if state is None else state == LVD_STATE
    return out


MAP = RegisterMap("epever_tracer", __doc__ or "", REGISTERS, max_gap=8, derive=_derive)
