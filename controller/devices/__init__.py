"""The device layer: declarative register maps, the codec, and typed device natures.

For the controller engineer, the whole API in one place:

- ``values``: :class:`Quality` (good, stale, frozen, invalid, missing) and the frozen
  :class:`Reading` ``(value, ts, quality)`` with a UTC ``ts``, used wherever a value travels.
- ``DRIVERS[site_device.driver]`` is a :class:`Driver`: ``await driver.discover(read)`` gives the
  device's :class:`RegisterMap`, where ``read(address, count) -> list[int]`` is an async FC03
  read on that device's unit (only SunSpec actually reads; fixed maps return at once).
- ``plan_blocks(rmap)`` lists the :class:`Block` reads to make each poll (table, address,
  count ≤ 125). Read each with FC01/02/03/04 per ``block.table``; on failure leave it out.
- ``decode(rmap, {block: words})`` gives ``{point: value | None}``: None means the device sent an
  invalid sentinel (wrap it with ``Reading.of(value, ts)`` → INVALID); points of blocks you
  did not read are absent (→ MISSING). Derived points (``battery_w``, ``generator_running``,
  ``inverter_fault``, …) are included.
- ``Battery.from_points(readings, ts)`` and the other natures (``ChargeController``,
  ``Inverter``, ``RelayBank``, ``OxygenSensor``, ``Generator``, ``Meter``) give typed views;
  ``driver.natures`` says which natures a driver provides.
- ``encode(rmap, {point: value})`` gives :class:`Write` requests (coil → FC05, registers →
  FC16, contiguous registers merged). It raises :class:`WriteRangeError` (a
  :class:`DeviceError`) outside the allowed range, :class:`NotWritableError` for read-only
  points. ``Write.eeprom`` is True for EEPROM-backed registers: write those only when the
  value differs from the last one read.

Energy meters (``sdm120``, ``sdm630``, :mod:`controller.devices.eastron`) are read-only input
registers (FC04 float32) and provide the ``Meter`` nature; a site file ties each to the load it
measures (``[[devices]] measures = "<load name>"``).

Writable points: ``relay_<n>`` (relay_board), ``load_on`` and the battery settings
(epever_tracer), ``start``/``stop``/``auto_mode`` coils (generator, write 1), ``salinity_ppt``
(do_sensor), ``inverter_connect`` (sunspec model 123: 0 disconnects, 1 connects and resets a
tripped inverter).

A wind turbine's inverter (``sunspec_wind``, :mod:`controller.devices.sunspec_wind`: SMA
Windy Boy over SunSpec) provides ``WindTurbine``: ``wind_w``, ``wind_kwh_total``, its state.

Solar irrigation: ``tank_level`` (a generic RS485 hydrostatic level transmitter) provides
``TankLevel`` (``tank_level_m``); ``pump_drive`` (INVT Goodrive100-PV solar pump inverter)
provides ``PumpDrive``, whose ``pump_run`` (True runs, False stops) and ``pump_hz_set`` [Hz]
are writable; ``flow_meter`` (an electromagnetic flow meter) provides ``FlowMeter``
(``flow_m3_h``, ``flow_total_m3``).

Hybrid inverters (read-only maps): ``deye_hybrid``, ``growatt_spf``, ``srne_hybrid`` and
``victron_gx`` (GX system service, unit 100) provide ``Inverter`` and ``Battery``;
``victron_battery`` (GX battery service) provides ``Battery``. Their vendors count battery
power as + discharging (Deye, Growatt, SRNE): the maps keep the vendor's value under its own
name (``battery_discharge_w``/``_a``) and derive ``battery_w``/``battery_a`` in our sign.
"""

from controller.devices.codec import (
    Block,
    Kind,
    Register,
    RegisterMap,
    Table,
    Write,
    decode,
    encode,
    image,
    plan_blocks,
)
from controller.devices.errors import (
    DeviceError,
    DiscoveryError,
    NotWritableError,
    UnknownPointError,
    WriteRangeError,
)
from controller.devices.natures import (
    Battery,
    ChargeController,
    FlowMeter,
    Generator,
    Inverter,
    Meter,
    Nature,
    OxygenSensor,
    PumpDrive,
    RelayBank,
    TankLevel,
    WindTurbine,
)
from controller.devices.registry import DRIVERS, Driver
from controller.devices.sunspec import ReadFn
from controller.devices.values import Quality, Reading, Value

__all__ = [
    "DRIVERS", "Battery", "Block", "ChargeController", "DeviceError", "DiscoveryError", "Driver",
    "FlowMeter", "Generator", "Inverter", "Kind", "Meter", "Nature", "NotWritableError",
    "OxygenSensor", "PumpDrive", "Quality", "ReadFn", "Reading", "Register", "RegisterMap",
    "RelayBank", "Table", "TankLevel", "UnknownPointError", "Value", "WindTurbine", "Write",
    "WriteRangeError", "decode", "encode", "image", "plan_blocks",
]
