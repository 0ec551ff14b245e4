"""A small wind turbine's grid-tie inverter read over SunSpec (driver ``sunspec_wind``).

The family: SMA's Windy Boy (WB 3600TL/5000TL, the Sunny Boy TL platform with a turbine's
power curve instead of an MPP tracker) behind an SMA Speedwire/Webconnect data module, which
speaks SunSpec over Modbus TCP, port 502, unit ID 126. The register layout follows SMA's
Technical Information "SunSpec Modbus Interface for SUNNY BOY / SUNNY TRIPOWER"
(SunSpec_Modbus-TI-en-15, version 1.5): the ``SunS`` marker at 40000, Table C 001 (common
model 1) and Tables I 101/102/103 (the inverter integer map), and the model definitions of
github.com/sunspec/models (model_1.json, model_101.json). That document names the Sunny Boy
and Sunny Tripower; the Windy Boy's data module serves the same profile, and the driver does
not depend on it: the chain is discovered (:func:`controller.devices.sunspec.discover`).

Registers read (offsets from the inverter model's ID register: 101 for the single-phase
Windy Boy, and the same offsets in 102/103; values raw × 10^SF, not-implemented
sentinels as in :mod:`controller.devices.sunspec`): ``A`` 2 / ``A_SF`` 6, ``PhVphA`` 10 /
``V_SF`` 13, ``W`` 14 (int16) / ``W_SF`` 15, ``Hz`` 16 / ``Hz_SF`` 17, ``WH`` 24–25 (acc32) /
``WH_SF`` 26, ``DCV`` 29 / ``DCV_SF`` 30, ``DCW`` 31 / ``DCW_SF`` 32, ``TmpCab`` 33 /
``Tmp_SF`` 37, ``St`` 38 (7 = fault). Model 1 gives manufacturer, model, version, serial.

The codec is SunSpec's own; this module only gives the turbine's points their own names (the
:class:`~controller.devices.natures.WindTurbine` nature), so that a turbine is never taken
for the site's battery inverter: ``W`` is ``wind_w``, ``WH`` ``wind_wh_total`` (and
``wind_kwh_total`` derived), ``St`` ``wind_state`` (``wind_fault`` derived), and a model 123
``Conn`` would be ``wind_connect`` (an inverter reset never writes to a turbine). The
Windy Boy reports no wind speed in these models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from controller.devices import sunspec
from controller.devices.codec import RegisterMap
from controller.devices.sunspec import ReadFn
from controller.devices.values import Value

SMA_UNIT_ID = 126
"""The SunSpec unit ID of an SMA device's data module (SunSpec_Modbus-TI-en-15)."""

WIND_POINTS: Mapping[str, str] = MappingProxyType({
    "ac_a": "wind_a", "ac_v": "wind_v", "ac_w": "wind_w", "ac_hz": "wind_hz",
    "ac_wh_total": "wind_wh_total", "ac_kwh_total": "wind_kwh_total",
    "dc_v": "wind_dc_v", "dc_w": "wind_dc_w", "cabinet_temp_c": "wind_cabinet_temp_c",
    "inverter_state": "wind_state", "inverter_fault": "wind_fault",
    "inverter_connect": "wind_connect",
})
"""SunSpec inverter point → the turbine's point (decoded and derived points alike)."""

CHAIN: Mapping[int, int] = MappingProxyType({1: sunspec.MODEL_LENGTHS[1],
                                             101: sunspec.MODEL_LENGTHS[101]})
"""The models a Windy Boy's data module serves (common, single-phase integer inverter)."""


def wind_map(rmap: RegisterMap) -> RegisterMap:
    """The SunSpec map ``rmap`` with the turbine's point names (:data:`WIND_POINTS`)."""
    back = {new: old for old, new in WIND_POINTS.items()}
    inner = rmap.derive

    def derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
        if inner is None:
            return {}
        out = inner({back.get(k, k): x for k, x in v.items()})
        return {WIND_POINTS.get(k, k): x for k, x in out.items()}

    regs = tuple(replace(r, point=WIND_POINTS.get(r.point, r.point)) for r in rmap.registers)
    return RegisterMap("sunspec_wind", __doc__ or "", regs, max_gap=rmap.max_gap, derive=derive)


def build_map(base: int, models: Mapping[int, int] = CHAIN) -> RegisterMap:
    """The turbine's map for the chain ``models`` ({model id: L}) after the marker at ``base``."""
    return wind_map(sunspec.build_map(base, sunspec.layout(base, models)))


async def discover(read: ReadFn) -> RegisterMap:
    """Walk the device's SunSpec chain (:func:`controller.devices.sunspec.discover`) and name
    its points as a turbine's. Raises :class:`~controller.devices.errors.DiscoveryError`."""
    return wind_map(await sunspec.discover(read))
