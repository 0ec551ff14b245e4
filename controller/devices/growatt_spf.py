"""Growatt SPF 3000–6000 TL (HVM/ES) off-grid inverter-charger (driver ``growatt_spf``).

Follows "Growatt OffGrid SPF5000 Modbus RS485 RTU Protocol" V0.11 (Growatt, 2017-08-09):
RS485 9600 8N1, address 1, FC04 input registers for readings, at most 45 registers a read and
about 1 s between requests. The PDF could not be opened here; the addresses were checked
against open transcriptions of it (an "SPF Series — Complete Modbus Register Map" after V0.11,
tombbl/Growatt_ESPHome, nygma2004/growatt2mqtt). 32-bit values are HIGH word first.

- 0 system status: 0 standby, 2 discharge, 3 fault, 5 PV charge, 6 AC charge, 7 combined
  charge, 11 bypass, 12 PV charge and discharge;
- 1, 2 PV1, PV2 voltage [V ×0.1]; 3–4, 5–6 PV1, PV2 power [W ×0.1, u32];
- 9–10 output active power [W ×0.1, u32];
- 17 battery voltage [V ×0.01]; 18 battery SOC [%];
- 22 output voltage [V ×0.1]; 23 output frequency [Hz ×0.01]; 25 inverter temperature
  [°C ×0.1];
- 50–51, 54–55 PV1, PV2 energy total [kWh ×0.1, u32];
- 77–78 battery power [W ×0.1, s32]: POSITIVE = DISCHARGING (the vendor's sign); the derived
  ``battery_w`` follows ours (+ = charging), and ``battery_a`` is ``battery_w / battery_v``.

The map's gaps (``max_gap`` 8) keep every block read within the 45-register limit.
Natures: :class:`Inverter` and :class:`Battery`.
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap, Table
from controller.devices.values import Value

FAULT_STATUS = 3
MAX_READ_WORDS = 45
STATUS: dict[int, str] = {0: "standby", 2: "discharge", 3: "fault", 5: "PV charge",
                          6: "AC charge", 7: "combined charge", 11: "bypass",
                          12: "PV charge and discharge"}

_IN = Table.INPUT

REGISTERS: tuple[Register, ...] = (
    Register("system_status", 0, _IN, doc="operating status, see STATUS"),
    Register("pv1_v", 1, _IN, scale=0.1, unit="V", doc="PV1 voltage"),
    Register("pv2_v", 2, _IN, scale=0.1, unit="V", doc="PV2 voltage"),
    Register("pv1_w", 3, _IN, Kind.U32, 0.1, "W", doc="PV1 power"),
    Register("pv2_w", 5, _IN, Kind.U32, 0.1, "W", doc="PV2 power"),
    Register("ac_w", 9, _IN, Kind.U32, 0.1, "W", doc="output active power"),
    Register("battery_v", 17, _IN, scale=0.01, unit="V", doc="battery voltage"),
    Register("soc_pct", 18, _IN, unit="%", doc="battery SOC"),
    Register("ac_v", 22, _IN, scale=0.1, unit="V", doc="output voltage"),
    Register("ac_hz", 23, _IN, scale=0.01, unit="Hz", doc="output frequency"),
    Register("inverter_temp_c", 25, _IN, Kind.S16, 0.1, "°C", doc="inverter temperature"),
    Register("pv1_kwh_total", 50, _IN, Kind.U32, 0.1, "kWh", doc="PV1 energy total"),
    Register("pv2_kwh_total", 54, _IN, Kind.U32, 0.1, "kWh", doc="PV2 energy total"),
    Register("battery_discharge_w", 77, _IN, Kind.S32, 0.1, "W",
             doc="battery power, positive = discharging (vendor sign)"),
)


def _sum(a: Value | None, b: Value | None) -> Value | None:
    return None if a is None or b is None else round(float(a) + float(b), 6)


def _derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """Our battery signs, PV as the sum of both trackers, the fault flag from the status."""
    out: dict[str, Value | None] = {}
    if "battery_discharge_w" in v:
        w = v["battery_discharge_w"]
        out["battery_w"] = None if w is None else -float(w)
        volts = v.get("battery_v")
        out["battery_a"] = (None if w is None or not volts
                            else round(-float(w) / float(volts), 3))
    if "pv1_w" in v and "pv2_w" in v:
        out["pv_w"] = _sum(v["pv1_w"], v["pv2_w"])
    if "pv1_kwh_total" in v and "pv2_kwh_total" in v:
        out["pv_kwh_total"] = _sum(v["pv1_kwh_total"], v["pv2_kwh_total"])
    if "system_status" in v:
        st = v["system_status"]
        out["inverter_fault"] = None if st is None else st == FAULT_STATUS
    return out


MAP = RegisterMap("growatt_spf", __doc__ or "", REGISTERS, max_gap=8, derive=_derive)
