"""The turbine's SunSpec driver (``sunspec_wind``): a single-phase inverter model (101, as the
Windy Boy serves) is discovered and read with the turbine's point names; a chain with a second
inverter model reads the first one only."""

from __future__ import annotations

from datetime import UTC, datetime

from controller.devices import DRIVERS, WindTurbine, decode, image, plan_blocks
from controller.devices.codec import Table, block_words
from controller.devices.sunspec import END_ID, build_map, layout
from controller.devices.values import Reading
from controller.errors import TransportError

BASE = 40000
CHAIN = {1: 66, 101: 50}
W_OFFSET = 14  # model 101/103 ``W``


def _turbine(second_inverter_w: int | None = None) -> dict[int, int]:
    models = layout(BASE, CHAIN)
    values = {"_marker": "SunS", "_end_id": END_ID, "_end_l": 0, "manufacturer": "SMA",
              "ac_w": 4321, "ac_wh_total": 1_234_000, "inverter_state": 4, "ac_hz": 50.0}
    for m in models:
        values[f"_m{m.model_id}_id"] = m.model_id
        values[f"_m{m.model_id}_l"] = m.length
    regs = image(build_map(BASE, models), values, {"_hz_sf": -2})[Table.HOLDING]
    if second_inverter_w is not None:  # a model 103 after the 101, then the end
        end = models[-1].address + 2 + models[-1].length
        regs.update({end: 103, end + 1: 50, **{end + 2 + k: 0 for k in range(50)}})
        regs[end + W_OFFSET] = second_inverter_w
        regs.update({end + 52: END_ID, end + 53: 0})
    return regs


def _reader(regs: dict[int, int]):
    async def read(address: int, count: int) -> list[int]:
        if address not in regs:
            raise TransportError("exception code 2: illegal data address")
        return [regs.get(a, 0) for a in range(address, address + count)]
    return read


async def test_windy_boy_reads_as_a_turbine() -> None:
    regs = _turbine()
    rmap = await DRIVERS["sunspec_wind"].discover(_reader(regs))
    out = decode(rmap, block_words(plan_blocks(rmap), {Table.HOLDING: regs}))
    assert out["wind_w"] == 4321 and out["wind_kwh_total"] == 1234.0
    assert out["wind_hz"] == 50.0 and out["wind_state"] == 4 and out["wind_fault"] is False
    assert not {"ac_w", "ac_kwh_total", "inverter_fault"} & set(out)
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    nature = WindTurbine.from_points({k: Reading(v, ts) for k, v in out.items()}, ts)
    assert nature.wind_kwh_total.value == 1234.0


async def test_a_second_inverter_model_is_not_read() -> None:
    regs = _turbine(second_inverter_w=9999)
    rmap = await DRIVERS["sunspec_wind"].discover(_reader(regs))
    assert {r.point for r in rmap.registers if r.point.endswith("_id")} == {
        "_m1_id", "_m101_id", "_end_id"}
    assert rmap.register("_end_id").address == BASE + 2 + 68 + 52  # after the 101, as read
    out = decode(rmap, block_words(plan_blocks(rmap), {Table.HOLDING: regs}))
    assert out["wind_w"] == 4321
