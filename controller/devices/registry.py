"""The drivers, keyed by the site file's ``driver`` names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from controller.devices import do_sensor, epever_tracer, generator, relay_board, sunspec
from controller.devices.codec import RegisterMap
from controller.devices.natures import (
    Battery,
    ChargeController,
    Inverter,
    Nature,
    OxygenSensor,
    RelayBank,
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
}
