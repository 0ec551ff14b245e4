"""Generic RS485 hydrostatic level transmitter (driver ``tank_level``).

The map most Chinese submersible level and pressure transmitters share (sold as PCM260,
MIK-P260, Holykell HPT604 and many OEM names), as documented for such a transmitter in
Lobaro's "RS485 pressure/level sensor" Modbus table (doc.lobaro.com): holding registers (FC03),
0x0000 slave address, 0x0001 baud rate code, 0x0002 pressure unit code (0 MPa, 1 kPa, 2 Pa,
3 bar, 4 mbar, 5 kg/cm², 6 psi, 7 mH₂O, 8 mmH₂O), 0x0003 decimal places (0–3), 0x0004 the
measured value (int16, value × 10^-decimals in that unit), 0x0005/0x0006 the range's zero
and full points (same unit and decimals). Defaults: RTU, 9600 8N1, address 1.

The level comes from the value, its decimals and its unit (derived point ``tank_level_m``):
pressure units are turned into metres of water with the conventional metre of water column,
1 mH₂O = 9.80665 kPa (ρ = 1000 kg/m³, g = 9.80665 m/s², as the transmitters themselves use).
An unknown unit code or decimal count makes the level None (invalid). Order the transmitter
set to mH₂O with 3 decimals (mm resolution up to 32.767 m), as the simulator serves it.
Variants of this map move the value to 0x0016 (float32 on newer firmware): check the
transmitter's sheet before use.
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap
from controller.devices.values import Value

KPA_PER_M_WATER = 9.80665
"""[kPa] the pressure of 1 m of water column (conventional metre of water, ρ = 1000 kg/m³)."""

UNIT_M: dict[int, float] = {
    0: 1000.0 / KPA_PER_M_WATER,  # MPa
    1: 1.0 / KPA_PER_M_WATER,  # kPa
    2: 0.001 / KPA_PER_M_WATER,  # Pa
    3: 100.0 / KPA_PER_M_WATER,  # bar
    4: 0.1 / KPA_PER_M_WATER,  # mbar
    5: 98.0665 / KPA_PER_M_WATER,  # kg/cm² (technical atmosphere: 10 m of water)
    6: 6.894757293168 / KPA_PER_M_WATER,  # psi
    7: 1.0,  # mH₂O
    8: 0.001,  # mmH₂O
}
"""[m of water] per displayed unit, by the transmitter's unit code (register 0x0002)."""

UNIT_MH2O = 7
MAX_DECIMALS = 3

REGISTERS: tuple[Register, ...] = (
    Register("level_unit", 0x0002, doc="unit code, see UNIT_M (7 = mH2O)"),
    Register("level_decimals", 0x0003, doc="decimal places of the value (0-3)"),
    Register("level_value", 0x0004, kind=Kind.S16,
             doc="measured value × 10^decimals, in the unit of level_unit"),
    Register("level_range_zero", 0x0005, kind=Kind.S16, doc="range zero point (same scaling)"),
    Register("level_range_full", 0x0006, kind=Kind.S16, doc="range full point (same scaling)"),
)


def level_m(raw: float | int, decimals: int, unit: int) -> float | None:
    """[m] of water from a raw value, its decimal places and its unit code; None if unknown."""
    factor = UNIT_M.get(unit)
    if factor is None or not 0 <= decimals <= MAX_DECIMALS:
        return None
    return round(float(raw) * 10.0 ** -decimals * factor, 6)


def _derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """tank_level_m from the value, its decimals and its unit."""
    if "level_value" not in v:
        return {}
    raw, dec, unit = v.get("level_value"), v.get("level_decimals"), v.get("level_unit")
    if not isinstance(raw, int | float) or not isinstance(dec, int | float) or not isinstance(
            unit, int | float):
        return {"tank_level_m": None}
    return {"tank_level_m": level_m(raw, int(dec), int(unit))}


MAP = RegisterMap("tank_level", __doc__ or "", REGISTERS, derive=_derive)
