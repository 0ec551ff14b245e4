"""Deye SUN-(3.6–8)K-SG03LP1 / SG04LP1 single-phase low-voltage hybrid inverter (driver
``deye_hybrid``); the same firmware is sold as Sunsynk 3.6/5/8 kW.

Follows Deye's "MODBUS RTU protocol — single-phase energy storage (hybrid) inverter" register
table (Ningbo Deye Inverter Technology; the copy Sunsynk distributes as its "Modbus register
manual", 0x03 read / 0x10 write, RS485 9600 8N1, address 1). The PDF itself could not be opened
here: every address below was checked against two open projects that transcribe it,
kellerza/sunsynk ``definitions/single_phase.py`` and StephanJoubert/home_assistant_solarman
``deye_hybrid.yaml``. All registers are holding registers (FC03):

- 59 running state: 0 standby, 1 self-check, 2 normal, 3 alarm, 4 fault;
- 85–86 total load energy, 96–97 total PV energy [kWh ×0.1, u32, LOW word first];
- 109/110, 111/112 PV1, PV2 voltage [V ×0.1] and current [A ×0.1];
- 154 inverter output voltage [V ×0.1], 192 load frequency [Hz ×0.01];
- 178 load power [W, s16];
- 182 battery temperature [°C ×0.1, offset by 100 °C: raw 1000 = 0 °C];
- 183 battery voltage [V ×0.01], 184 battery SOC [%];
- 186, 187 PV1, PV2 power [W];
- 190 battery power [W, s16] and 191 battery current [A ×0.01, s16]: POSITIVE = DISCHARGING
  (the vendor's sign); the derived ``battery_w``/``battery_a`` follow ours (+ = charging).

Natures: :class:`Inverter` (AC output, PV of its own MPPTs, SOC, fault) and :class:`Battery`.
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap
from controller.devices.values import Value

TEMP_OFFSET_C = 100.0
FAULT_STATE = 4
STATES: dict[int, str] = {0: "standby", 1: "self-check", 2: "normal", 3: "alarm", 4: "fault"}

REGISTERS: tuple[Register, ...] = (
    Register("running_state", 59, doc="0 standby, 1 self-check, 2 normal, 3 alarm, 4 fault"),
    Register("load_kwh_total", 85, kind=Kind.U32, scale=0.1, unit="kWh", low_word_first=True,
             doc="total load energy"),
    Register("pv_kwh_total", 96, kind=Kind.U32, scale=0.1, unit="kWh", low_word_first=True,
             doc="total PV energy"),
    Register("pv1_v", 109, scale=0.1, unit="V", doc="PV1 voltage"),
    Register("pv1_a", 110, scale=0.1, unit="A", doc="PV1 current"),
    Register("pv2_v", 111, scale=0.1, unit="V", doc="PV2 voltage"),
    Register("pv2_a", 112, scale=0.1, unit="A", doc="PV2 current"),
    Register("ac_v", 154, scale=0.1, unit="V", doc="inverter output voltage"),
    Register("ac_w", 178, kind=Kind.S16, unit="W", doc="load power"),
    Register("battery_temp_raw_c", 182, scale=0.1, unit="°C",
             doc="battery temperature + 100 °C (the vendor's offset)"),
    Register("battery_v", 183, scale=0.01, unit="V", doc="battery voltage"),
    Register("soc_pct", 184, unit="%", doc="battery SOC"),
    Register("pv1_w", 186, unit="W", doc="PV1 power"),
    Register("pv2_w", 187, unit="W", doc="PV2 power"),
    Register("battery_discharge_w", 190, kind=Kind.S16, unit="W",
             doc="battery power, positive = discharging (vendor sign)"),
    Register("battery_discharge_a", 191, kind=Kind.S16, scale=0.01, unit="A",
             doc="battery current, positive = discharging (vendor sign)"),
    Register("ac_hz", 192, scale=0.01, unit="Hz", doc="load frequency"),
)


def _neg(x: Value | None) -> Value | None:
    return None if x is None else -float(x)


def _derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """Our signs (battery + charging), the temperature without its offset, PV as the sum of
    the strings, and the fault flag from the running state."""
    out: dict[str, Value | None] = {}
    if "battery_discharge_w" in v:
        out["battery_w"] = _neg(v["battery_discharge_w"])
    if "battery_discharge_a" in v:
        out["battery_a"] = _neg(v["battery_discharge_a"])
    if "battery_temp_raw_c" in v:
        raw = v["battery_temp_raw_c"]
        out["battery_temp_c"] = None if raw is None else round(float(raw) - TEMP_OFFSET_C, 2)
    if "pv1_w" in v and "pv2_w" in v:
        p1, p2 = v["pv1_w"], v["pv2_w"]
        out["pv_w"] = None if p1 is None or p2 is None else float(p1) + float(p2)
    if "running_state" in v:
        st = v["running_state"]
        out["inverter_fault"] = None if st is None else st == FAULT_STATE
    return out


MAP = RegisterMap("deye_hybrid", __doc__ or "", REGISTERS, max_gap=12, derive=_derive)
