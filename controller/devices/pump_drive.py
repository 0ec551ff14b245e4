"""INVT Goodrive100-PV solar pump inverter (driver ``pump_drive``).

Follows "Goodrive100-PV series solar pumping inverter — operation manual" (INVT, V1.8),
chapter "Communication protocol", whose Modbus addresses are those of the whole Goodrive
family (GD20, GD200A: the same table): the hex address of the table is the frame address,
and parameter Pxx.yy is register xxyyH. Holding registers (FC03 read, FC06/FC16 write):

- 2000H communication control command (W/R): 0001H forward running, 0002H reverse running,
  0003H/0004H forward/reverse jogging, 0005H stop, 0006H coast to stop, 0007H fault reset,
  0008H jogging stop. Needs P00.01 = 2 (run commands from communication).
- 2001H communication frequency setting, 0–Fmax in 0.01 Hz (P00.03, factory 50.00 Hz).
  Needs P00.06 = 8 (frequency from Modbus).
- 2100H status word 1 (R): 0001H forward running, 0002H reverse running, 0003H stopped,
  0004H fault, 0005H POFF (under-voltage: not enough PV); 2101H status word 2; 2102H fault
  code (0 = none, see the manual's fault table).
- 3000H running frequency (0.01 Hz), 3001H set frequency (0.01 Hz), 3002H DC bus voltage
  (0.1 V; on a PV-fed drive this is the array's voltage), 3003H output voltage (1 V),
  3004H output current (0.1 A), 3005H motor speed (rpm), 3006H output power (0.1 % of the
  motor's rated power, signed).
- P02.01 (0201H): motor 1 rated power (0.1 kW). ``pump_w`` is derived from it and 3006H.

Defaults: RTU, 19200 8E1 (P14.01 = 4, P14.02 = 1), address 1; at most 16 registers per read.
P02.01 and the 3006H scaling were taken from the Goodrive20/200A tables of the same family and
were not checked against a GD100-PV: confirm them on the drive's keypad (P17 group) first.

The run command (``pump_run``, 2000H) is a code table (:data:`RUN_CODES`): True writes and
reads 0001H (forward running), False writes 0005H (stop) and reads 0005H or 0006H (coast to
stop); other words read as None (jogging, reverse, fault reset: not ours).
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap
from controller.devices.values import Value

CMD_FORWARD = 0x0001
CMD_STOP = 0x0005
CMD_COAST = 0x0006
RUN_CODES: tuple[tuple[int, Value], ...] = ((CMD_FORWARD, True), (CMD_STOP, False),
                                            (CMD_COAST, False))
"""The control word's codes for the ``pump_run`` values (raw, value; False writes 0005H)."""

SW_FORWARD, SW_REVERSE, SW_STOPPED, SW_FAULT, SW_POFF = 1, 2, 3, 4, 5
STATES: dict[int, str] = {SW_FORWARD: "forward running", SW_REVERSE: "reverse running",
                          SW_STOPPED: "stopped", SW_FAULT: "fault",
                          SW_POFF: "POFF (under-voltage)"}
MAX_HZ = 50.0
"""[Hz] the highest setpoint the map lets the controller write (P00.03 factory value)."""

_HZ = 0.01

REGISTERS: tuple[Register, ...] = (
    Register("motor_rated_kw", 0x0201, scale=0.1, unit="kW", doc="P02.01 motor rated power"),
    Register("pump_run", 0x2000, write_range=(0, 1), codes=RUN_CODES,
             doc="control command: 1 forward run, 5 stop (see RUN_CODES)"),
    Register("pump_hz_set", 0x2001, scale=_HZ, unit="Hz", write_range=(0.0, MAX_HZ),
             doc="communication frequency setting"),
    Register("drive_state", 0x2100, doc="status word 1, see STATES"),
    Register("pump_fault", 0x2102, doc="fault code, 0 = none"),
    Register("pump_hz", 0x3000, scale=_HZ, unit="Hz", doc="running frequency"),
    Register("pump_hz_ref", 0x3001, scale=_HZ, unit="Hz", doc="set frequency in use"),
    Register("pv_v", 0x3002, scale=0.1, unit="V", doc="DC bus voltage (PV input)"),
    Register("pump_v", 0x3003, unit="V", doc="output voltage"),
    Register("pump_a", 0x3004, scale=0.1, unit="A", doc="output current"),
    Register("pump_power_pct", 0x3006, kind=Kind.S16, scale=0.1, unit="%",
             doc="output power, % of the motor's rated power"),
)


def _derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """pump_running from the status word and pump_w [W] from the output power's % of the
    motor's rated power."""
    out: dict[str, Value | None] = {}
    if "drive_state" in v:
        state = v["drive_state"]
        out["pump_running"] = None if state is None else state in (SW_FORWARD, SW_REVERSE)
    if "pump_power_pct" in v:
        pct, kw = v.get("pump_power_pct"), v.get("motor_rated_kw")
        out["pump_w"] = (None if not isinstance(pct, int | float)
                         or not isinstance(kw, int | float)
                         else round(max(0.0, float(pct)) / 100.0 * float(kw) * 1000.0, 3))
    return out


MAP = RegisterMap("pump_drive", __doc__ or "", REGISTERS, max_gap=1, derive=_derive)
