"""Victron GX device (Cerbo GX, Venus GX, CCGX) over Modbus TCP (drivers ``victron_gx`` and
``victron_battery``).

Follows Victron Energy's "CCGX-Modbus-TCP-register-list" (the xlsx published with the GX
firmware; rev 3.60 checked): Modbus TCP, port 502, holding registers (FC03; the GX answers
FC04 the same), big-endian. The xlsx could not be opened here; every address, type and scale
was checked against open transcriptions of that list (a generated ``RegisterDef`` table "from
CCGX-Modbus-TCP-register-list-3.60.xlsx", and a markdown extract of the battery service).
Values are raw / scale, as the list gives them. A block read spans only unused addresses that the
list itself defines (a GX may refuse a read over an address it does not define).

``victron_gx``: com.victronenergy.system, unit id 100 (fixed by the GX):

- 808–810 PV AC-coupled on output L1–L3 [W, u16];
- 817–819 AC consumption L1–L3 [W, u16] ("power supplied by system to loads");
- 840 battery voltage [V, u16 /10]; 841 battery current [A, s16 /10]; 842 battery power [W,
  s16]; 843 SOC [%, u16]; 844 battery state (0 idle, 1 charging, 2 discharging). Positive
  current and power mean the battery is being CHARGED, as ours;
- 850 PV DC-coupled power [W, u16] (the sum of the solar chargers).

Natures: :class:`Inverter` (``ac_w`` = the sum of AC consumption, ``pv_w`` = DC-coupled PV plus
AC-coupled PV on the output, SOC, battery voltage) and :class:`Battery` (the system's battery
figures). The system service has no inverter fault: ``inverter_fault`` is MISSING (the VE.Bus
service, on its own unit id, carries it).

``victron_battery``: com.victronenergy.battery (a BMV/SmartShunt or a CAN-bus BMS), on the unit
id the GX lists for that device (Settings → Services → Modbus TCP → Available services):

- 259 battery voltage [V, u16 /100]; 261 current [A, s16 /10, + = charging];
- 262 battery temperature [°C, s16 /10]; 266 SOC [%, u16 /10].

Natures: :class:`Battery` (``battery_w`` = voltage × current). A site lists EITHER the GX's
system service OR its battery service as the battery's device, not both: each Battery nature
counts in the site's battery power.
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap
from controller.devices.values import Value

SYSTEM_UNIT_ID = 100

SYSTEM_REGISTERS: tuple[Register, ...] = (
    *(Register(f"pv_on_output_l{n}_w", 807 + n, unit="W",
               doc=f"PV AC-coupled on output L{n}") for n in (1, 2, 3)),
    *(Register(f"ac_consumption_l{n}_w", 816 + n, unit="W",
               doc=f"AC consumption L{n}") for n in (1, 2, 3)),
    Register("battery_v", 840, scale=0.1, unit="V", doc="battery voltage"),
    Register("battery_a", 841, kind=Kind.S16, scale=0.1, unit="A",
             doc="battery current, + = charging"),
    Register("battery_w", 842, kind=Kind.S16, unit="W",
             doc="battery power, + = charging"),
    Register("soc_pct", 843, unit="%", doc="battery SOC"),
    Register("battery_state", 844,
             doc="0 idle, 1 charging, 2 discharging"),
    Register("pv_dc_w", 850, unit="W", doc="PV DC-coupled power"),
)

BATTERY_REGISTERS: tuple[Register, ...] = (
    Register("battery_v", 259, scale=0.01, unit="V", doc="battery voltage"),
    Register("battery_a", 261, kind=Kind.S16, scale=0.1, unit="A",
             doc="battery current, + = charging"),
    Register("battery_temp_c", 262, kind=Kind.S16, scale=0.1, unit="°C",
             doc="battery temperature"),
    Register("soc_pct", 266, scale=0.1, unit="%", doc="state of charge"),
)


def _total(v: dict[str, Value | None], names: list[str]) -> Value | None:
    terms = [v.get(n) for n in names]
    if any(t is None for t in terms):
        return None
    return round(sum(float(t) for t in terms if t is not None), 6)


def _system_derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """ac_w: the AC consumption of the three phases; pv_w: DC- plus AC-coupled PV."""
    out: dict[str, Value | None] = {}
    consumption = [f"ac_consumption_l{n}_w" for n in (1, 2, 3)]
    if all(n in v for n in consumption):
        out["ac_w"] = _total(v, consumption)
    pv = ["pv_dc_w", *(f"pv_on_output_l{n}_w" for n in (1, 2, 3))]
    if all(n in v for n in pv):
        out["pv_w"] = _total(v, pv)
    return out


def _battery_derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """battery_w = voltage × current (+ = charging)."""
    if "battery_a" not in v:
        return {}
    volts, amps = v.get("battery_v"), v["battery_a"]
    return {"battery_w": None if volts is None or amps is None
            else round(float(volts) * float(amps), 2)}


MAP = RegisterMap("victron_gx", __doc__ or "", SYSTEM_REGISTERS, max_gap=4,
                  derive=_system_derive)
BATTERY_MAP = RegisterMap("victron_battery", __doc__ or "", BATTERY_REGISTERS, max_gap=2,
                          derive=_battery_derive)
