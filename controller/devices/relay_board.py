"""Waveshare "Modbus RTU Relay" 8-channel RS485 board (driver ``relay_board``).

Follows the Waveshare wiki "Modbus RTU Relay" (2022): relays are coils 0–7, read with FC01 and
written with FC05 (0xFF00 on, 0x0000 off); coil 0x00FF switches all relays and holding register
0x4000 holds the device address. Defaults: RTU, 9600 8N1, address 1. The LCTech/Eletechsup
boards differ (coils from 1, on = 0x0100) and are not covered by this map.
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap, Table
from controller.devices.natures import RELAY_CHANNELS

REGISTERS: tuple[Register, ...] = tuple(
    Register(f"relay_{n}", n, Table.COIL, Kind.BIT, write_range=(0, 1),
             doc=f"relay channel {n}: 1 closed")
    for n in range(RELAY_CHANNELS)
)

MAP = RegisterMap("relay_board", __doc__ or "", REGISTERS)
