"""DFRobot SEN0681 optical dissolved-oxygen probe, Renke-type map (driver ``do_sensor``).

Follows the DFRobot SEN0681 wiki (RS485 dissolved oxygen sensor, 2024): holding registers,
float32 big-endian (high word first): 0x0000 saturation [%], 0x0002 DO [mg/L], 0x0004 water
temperature [°C]; salinity compensation at 0x1020 [‰] (stored in EEPROM: set it once for a
brackish pond, or mg/L is biased). Defaults: RTU, 4800 8N1, address 1. NaN reads as None.
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap, Table

REGISTERS: tuple[Register, ...] = (
    Register("do_sat_pct", 0x0000, Table.HOLDING, Kind.F32, unit="%", doc="DO saturation"),
    Register("do_mg_l", 0x0002, Table.HOLDING, Kind.F32, unit="mg/L", doc="dissolved oxygen"),
    Register("water_temp_c", 0x0004, Table.HOLDING, Kind.F32, unit="°C",
             doc="water temperature"),
    Register("salinity_ppt", 0x1020, Table.HOLDING, Kind.F32, unit="‰", write_range=(0, 40),
             eeprom=True, doc="salinity used to compensate mg/L"),
)

MAP = RegisterMap("do_sensor", __doc__ or "", REGISTERS)
