"""The drivers, keyed by the site file's ``driver`` names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from controller.devices import (
    deye_hybrid,
    do_sensor,
    eastron,
    epever_tracer,
    flow_meter,
    generator,
    growatt_spf,
    pump_drive,
    relay_board,
    srne_hybrid,
    sunspec,
    sunspec_wind,
    tank_level,
    victron_gx,
)
from controller.devices.codec import RegisterMap
from controller.devices.natures import (
    Battery,
    ChargeController,
    FlowMeter,
    Inverter,
    Meter,
    Nature,
    OxygenSensor,
    PumpDrive,
    RelayBank,
    TankLevel,
    WindTurbine,
)
from controller.devices.natures import Generator as GeneratorNature
from controller.devices.sunspec import ReadFn


@dataclass(frozen=True)
class Driver:
    """A device family: its natures, and how to get its register map.

    ``static_map`` is the fixed map of the family, or None when the map must be discovered
    (SunSpec). ``discover(read)`` works for every driver: it returns the static map without
    reading, or walks the device with ``read``.
    """

    name: str
    natures: tuple[type[Nature], ...]
    static_map: RegisterMap | None
    discover: Callable[[ReadFn], Awaitable[RegisterMap]]
    default_baudrate: int = 9600


def _static(rmap: RegisterMap) -> Callable[[ReadFn], Awaitable[RegisterMap]]:
    async def discover(read: ReadFn) -> RegisterMap:
        del read  # a fixed map needs no reads
        return rmap
    return discover


DRIVERS: dict[str, Driver] = {
    "epever_tracer": Driver("epever_tracer", (ChargeController, Battery), epever_tracer.MAP,
                            _static(epever_tracer.MAP), 115200),
    "sunspec": Driver("sunspec", (Inverter,), None, sunspec.discover),
    "relay_board": Driver("relay_board", (RelayBank,), relay_board.MAP,
                          _static(relay_board.MAP)),
    "do_sensor": Driver("do_sensor", (OxygenSensor,), do_sensor.MAP, _static(do_sensor.MAP),
                        4800),
    "generator": Driver("generator", (GeneratorNature,), generator.MAP, _static(generator.MAP)),
    "sdm120": Driver("sdm120", (Meter,), eastron.SDM120_MAP, _static(eastron.SDM120_MAP),
                     eastron.SDM120_BAUDRATE),
    "sdm630": Driver("sdm630", (Meter,), eastron.SDM630_MAP, _static(eastron.SDM630_MAP),
                     eastron.SDM630_BAUDRATE),
    # Hybrid inverters: AC output, their own MPPTs and the battery they see (issue 18).
    "deye_hybrid": Driver("deye_hybrid", (Inverter, Battery), deye_hybrid.MAP,
                          _static(deye_hybrid.MAP)),
    "growatt_spf": Driver("growatt_spf", (Inverter, Battery), growatt_spf.MAP,
                          _static(growatt_spf.MAP)),
    "srne_hybrid": Driver("srne_hybrid", (Inverter, Battery), srne_hybrid.MAP,
                          _static(srne_hybrid.MAP)),
    "victron_gx": Driver("victron_gx", (Inverter, Battery), victron_gx.MAP,
                         _static(victron_gx.MAP)),
    "victron_battery": Driver("victron_battery", (Battery,), victron_gx.BATTERY_MAP,
                              _static(victron_gx.BATTERY_MAP)),
    # A wind turbine's inverter over SunSpec (SMA Windy Boy; issue 15).
    "sunspec_wind": Driver("sunspec_wind", (WindTurbine,), None, sunspec_wind.discover),
    # Solar irrigation (issue 16): the tank's level, the pump's drive, the delivery flow.
    "tank_level": Driver("tank_level", (TankLevel,), tank_level.MAP, _static(tank_level.MAP)),
    "pump_drive": Driver("pump_drive", (PumpDrive,), pump_drive.MAP, _static(pump_drive.MAP),
                         19200),
    "flow_meter": Driver("flow_meter", (FlowMeter,), flow_meter.MAP, _static(flow_meter.MAP)),
}
