"""SRNE HF / HES / HESP single-phase hybrid (off-grid) inverter (driver ``srne_hybrid``).

Follows SRNE's "MODBUS Protocol for Energy Storage Inverter — register address table
(external version)" V2.04 (Shenzhen SRNE Solar, the file 英-硕日储能逆变器MODBUS监控协议寄存器地址表
(外发版本)-V2.04): RS485 9600 8N1, address 1, FC03 holding registers. The PDF could not be
opened here; the addresses were checked against the register table transcribed, row by row, in
phinix-org/SRNE-inverters-by-modbus-rs485 (``P01-DC-Data`` and ``P02-InverterData``).

- 0x0100 battery SOC [%]; 0x0101 battery voltage [V ×0.1];
- 0x0102 battery current [A ×0.1, s16]: POSITIVE = DISCHARGING (the vendor's sign; negative
  charging); the derived ``battery_a``/``battery_w`` follow ours (+ = charging);
- 0x0107 PV1 voltage [V ×0.1], 0x0108 PV1 current [A ×0.1], 0x0109 PV1 power [W];
- 0x010A total PV power [W];
- 0x0210 machine state: 0 power-on delay, 1 standby, 2 initialisation, 3 soft start, 4 AC
  power operation, 5 inverter operation, 6 inverter to AC, 7 AC to inverter, 8 battery
  activation, 9 manual shutdown, 10 fault;
- 0x0216 inverter output voltage [V ×0.1]; 0x0218 inverter frequency [Hz ×0.01];
- 0x021B load active power (phase A) [W].

Natures: :class:`Inverter` and :class:`Battery` (no battery temperature: the document packs
two temperatures into 0x0103 differently by model, so it is not read).
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap
from controller.devices.values import Value

FAULT_STATE = 10

REGISTERS: tuple[Register, ...] = (
    Register("soc_pct", 0x0100, unit="%", doc="battery SOC"),
    Register("battery_v", 0x0101, scale=0.1, unit="V", doc="battery voltage"),
    Register("battery_discharge_a", 0x0102, kind=Kind.S16, scale=0.1, unit="A",
             doc="battery current, positive = discharging (vendor sign)"),
    Register("pv1_v", 0x0107, scale=0.1, unit="V", doc="PV1 voltage"),
    Register("pv1_a", 0x0108, scale=0.1, unit="A", doc="PV1 current"),
    Register("pv1_w", 0x0109, unit="W", doc="PV1 power"),
    Register("pv_w", 0x010A, unit="W", doc="total PV power"),
    Register("machine_state", 0x0210, doc="0..10, 10 = fault"),
    Register("ac_v", 0x0216, scale=0.1, unit="V", doc="inverter output voltage"),
    Register("ac_hz", 0x0218, scale=0.01, unit="Hz", doc="inverter output frequency"),
    Register("ac_w", 0x021B, unit="W", doc="load active power, phase A"),
)


def _derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """battery_a and battery_w in our sign (+ charging); the fault flag."""
    out: dict[str, Value | None] = {}
    if "battery_discharge_a" in v:
        amps, volts = v["battery_discharge_a"], v.get("battery_v")
        out["battery_a"] = None if amps is None else -float(amps)
        out["battery_w"] = (None if amps is None or volts is None
                            else round(-float(amps) * float(volts), 2))
    if "machine_state" in v:
        st = v["machine_state"]
        out["inverter_fault"] = None if st is None else st == FAULT_STATE
    return out


MAP = RegisterMap("srne_hybrid", __doc__ or "", REGISTERS, max_gap=8, derive=_derive)
