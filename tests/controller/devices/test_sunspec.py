"""SunSpec discovery and the model offsets, checked against pysunspec2's model definitions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sunspec2

from controller.devices import DiscoveryError, decode, image, plan_blocks
from controller.devices.codec import Table, block_words
from controller.devices.sunspec import MODEL_FIELDS, MODEL_LENGTHS, build_map, discover, layout
from controller.errors import TransportError

MODELS = {1: 66, 103: 50, 123: 24, 160: 8 + 2 * 20, 124: 24}


def _device(base: int = 40000) -> dict[int, int]:
    rmap = build_map(base, layout(base, MODELS))
    values = {"_marker": "SunS", "_end_id": 0xFFFF, "_end_l": 0, "manufacturer": "offgrid",
              "ac_w": 5200, "soc_pct": 64, "inverter_state": 4, "mppt_count": 2,
              "mppt1_pv_w": 1000, "mppt2_pv_w": 2500, "ac_hz": None}
    for m in layout(base, MODELS):
        values[f"_m{m.model_id}_id"] = m.model_id
        values[f"_m{m.model_id}_l"] = m.length
    return image(rmap, values)[Table.HOLDING]


def _reader(regs: dict[int, int]):
    async def read(address: int, count: int) -> list[int]:
        if address not in regs:
            raise TransportError("exception code 2: illegal data address")
        return [regs.get(a, 0) for a in range(address, address + count)]
    return read


@pytest.mark.parametrize("base", [40000, 0, 50000])
async def test_discover_and_decode(base: int) -> None:
    regs = _device(base)
    rmap = await discover(_reader(regs))
    out = decode(rmap, block_words(plan_blocks(rmap), {Table.HOLDING: regs}))
    assert out["manufacturer"] == "offgrid"
    assert out["ac_w"] == 5200 and out["soc_pct"] == 64
    assert out["inverter_fault"] is False
    assert out["pv_w"] == 3500
    assert out["ac_hz"] is None  # 0xFFFF: not implemented

async def test_no_marker() -> None:
    with pytest.raises(DiscoveryError):
        await discover(_reader({5: 1}))


def test_offsets_match_pysunspec2_models() -> None:
    root = Path(sunspec2.__file__).parent / "models" / "json"
    for model_id, fields in MODEL_FIELDS.items():
        group = json.loads((root / f"model_{model_id}.json").read_text())["group"]
        offsets, access, off = {}, {}, 0
        for p in group["points"]:
            offsets[p["name"]] = (off, p["type"], p.get("sf"))
            access[off] = p.get("access", "R")
            off += p.get("size", 1)
        by_offset = {o: (name, typ, sf) for name, (o, typ, sf) in offsets.items()}
        for f in fields:
            name, typ, sf = by_offset[f.offset]
            if f.write_range is not None:
                assert access[f.offset] == "RW", name
            if f.point.startswith("_"):
                assert typ == "sunssf", (model_id, f.point, name)
            elif f.sf is not None:
                assert by_offset[next(g.offset for g in fields if g.point == f.sf)][0] == sf
        if model_id in MODEL_LENGTHS:
            assert off - 2 == MODEL_LENGTHS[model_id]
