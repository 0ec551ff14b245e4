"""Eastron SDM120 (single phase) and SDM630 (three phase) energy meters (drivers ``sdm120``
and ``sdm630``).

Follows Eastron's Modbus protocol tables of the SDM family, "Modbus Protocol Input Registers"
(function code 04): for the SDM120, Eastron's "SDM120-Modbus protocol" (the single-phase table
Eastron also publishes, address for address, as the "SDM230 Modbus Protocol" V1.0, 06-2018,
which is the copy checked here); for the SDM630, the "SDM630-Modbus MID V2" user manual (Eastron
/ B+G e-tech), part 1.2 "Modbus Protocol Input Registers". Every measurement is an input
register pair: an IEEE-754 float32, big-endian, high word first. Addresses below are the
protocol start addresses (the manuals' "Hi Byte / Lo Byte" column, = the 3xxxx register
number − 30001). Open readers of these meters (Oppleo's SDM120 map, Tasmota's xnrg_08_sdm120,
a Home Assistant SDM120 register inventory) agree; they were compared with, not copied.

SDM120 (all single-phase values):

=======  ========  =====================  =====
address  register  parameter              unit
=======  ========  =====================  =====
0x0000   30001     line to neutral volts  V
0x0006   30007     current                A
0x000C   30013     active power           W
0x0012   30019     apparent power         VA
0x0018   30025     reactive power         VAr
0x001E   30031     power factor (1)       –
0x0024   30037     phase angle            °
0x0046   30071     frequency              Hz
0x0048   30073     import active energy   kWh
0x004A   30075     export active energy   kWh
0x004C   30077     import reactive energy kVArh
0x004E   30079     export reactive energy kVArh
0x0156   30343     total active energy    kWh
0x0158   30345     total reactive energy  kVArh
=======  ========  =====================  =====

SDM630: phase 1/2/3 line-to-neutral volts 0x0000/0x0002/0x0004, currents 0x0006/0x0008/
0x000A, active powers 0x000C/0x000E/0x0010, power factors (1) 0x001E/0x0020/0x0022; average
line-to-neutral volts 0x002A (30043), sum of line currents 0x0030 (30049), total system
power 0x0034 (30053), total system power factor (1) 0x003E (30063), frequency 0x0046
(30071), total import kWh 0x0048 (30073), total export kWh 0x004A (30075), total kWh 0x0156
(30343).

(1) The sign of the power factor gives the direction of the current: positive forward
(import), negative reverse (export).

The :class:`~controller.devices.natures.Meter` nature reads ``voltage_v``, ``current_a``,
``power_w``, ``power_factor``, ``frequency_hz``, ``import_kwh`` and ``export_kwh``; on the SDM630
``voltage_v`` is the average line-to-neutral voltage and ``current_a`` the sum of the line
currents, so ``power_w ≈ voltage_v × current_a × power_factor`` holds on both.

The protocol limits a request to 30 parameters (60 registers): :data:`MAX_GAP` keeps the block
reads planned from these maps below that (3 reads per poll on either meter). Factory settings:
Modbus address 1, 8 data bits, no parity, 1 stop bit; 2400 baud on the SDM120 (:data:
`SDM120_BAUDRATE`), 9600 baud on the SDM630 (:data:`SDM630_BAUDRATE`).
"""

from __future__ import annotations

from controller.devices.codec import Kind, Register, RegisterMap, Table

MAX_REQUEST_WORDS = 60
"""Eastron: "each request for data must be restricted to 30 parameters or less"."""
MAX_GAP = 8
"""Unused registers a block read may span (the meters answer them with 0)."""
SDM120_BAUDRATE = 2400
SDM630_BAUDRATE = 9600


def _f(point: str, address: int, unit: str, doc: str) -> Register:
    return Register(point, address, Table.INPUT, Kind.F32, unit=unit, doc=doc)


SDM120_REGISTERS: tuple[Register, ...] = (
    _f("voltage_v", 0x0000, "V", "line to neutral volts"),
    _f("current_a", 0x0006, "A", "current"),
    _f("power_w", 0x000C, "W", "active power, + import"),
    _f("apparent_va", 0x0012, "VA", "apparent power"),
    _f("reactive_var", 0x0018, "VAr", "reactive power"),
    _f("power_factor", 0x001E, "", "power factor, sign = direction of the current"),
    _f("phase_angle_deg", 0x0024, "°", "phase angle"),
    _f("frequency_hz", 0x0046, "Hz", "frequency"),
    _f("import_kwh", 0x0048, "kWh", "import active energy"),
    _f("export_kwh", 0x004A, "kWh", "export active energy"),
    _f("import_kvarh", 0x004C, "kVArh", "import reactive energy"),
    _f("export_kvarh", 0x004E, "kVArh", "export reactive energy"),
    _f("total_kwh", 0x0156, "kWh", "total active energy (import + export)"),
    _f("total_kvarh", 0x0158, "kVArh", "total reactive energy"),
)

SDM630_REGISTERS: tuple[Register, ...] = (
    *(_f(f"voltage_l{n}_v", 0x0000 + 2 * (n - 1), "V", f"phase {n} line to neutral volts")
      for n in (1, 2, 3)),
    *(_f(f"current_l{n}_a", 0x0006 + 2 * (n - 1), "A", f"phase {n} current")
      for n in (1, 2, 3)),
    *(_f(f"power_l{n}_w", 0x000C + 2 * (n - 1), "W", f"phase {n} active power")
      for n in (1, 2, 3)),
    *(_f(f"power_factor_l{n}", 0x001E + 2 * (n - 1), "", f"phase {n} power factor")
      for n in (1, 2, 3)),
    _f("voltage_v", 0x002A, "V", "average line to neutral volts"),
    _f("current_a", 0x0030, "A", "sum of line currents"),
    _f("power_w", 0x0034, "W", "total system power, + import"),
    _f("power_factor", 0x003E, "", "total system power factor"),
    _f("frequency_hz", 0x0046, "Hz", "frequency of supply voltages"),
    _f("import_kwh", 0x0048, "kWh", "total import kWh"),
    _f("export_kwh", 0x004A, "kWh", "total export kWh"),
    _f("total_kwh", 0x0156, "kWh", "total kWh (import + export)"),
)

SDM120_MAP = RegisterMap("sdm120", __doc__ or "", SDM120_REGISTERS, max_gap=MAX_GAP)
SDM630_MAP = RegisterMap("sdm630", __doc__ or "", SDM630_REGISTERS, max_gap=MAX_GAP)
