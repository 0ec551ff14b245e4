"""The codec: block planning, decode/image round trips, sentinels, write encoding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.devices import (
    DRIVERS,
    Battery,
    Block,
    Kind,
    NotWritableError,
    Quality,
    Reading,
    Register,
    RegisterMap,
    Table,
    UnknownPointError,
    Write,
    WriteRangeError,
    decode,
    do_sensor,
    encode,
    epever_tracer,
    generator,
    image,
    plan_blocks,
    relay_board,
)
from controller.devices.codec import MAX_BLOCK_WORDS, block_words
from sitefile import Driver

STATIC_MAPS = [epever_tracer.MAP, relay_board.MAP, do_sensor.MAP, generator.MAP]


def _read_back(rmap: RegisterMap, values: dict, sf: dict | None = None) -> dict:
    return decode(rmap, block_words(plan_blocks(rmap), image(rmap, values, sf)))


@pytest.mark.parametrize("rmap", STATIC_MAPS, ids=lambda m: m.name)
def test_blocks_cover_every_register_within_limit(rmap: RegisterMap) -> None:
    blocks = plan_blocks(rmap)
    for b in blocks:
        assert 1 <= b.count <= MAX_BLOCK_WORDS
    for reg in rmap.registers:
        assert sum(b.covers(reg) for b in blocks) == 1, reg.point


def test_blocks_split_long_runs_at_125() -> None:
    regs = tuple(Register(f"p{i}", 100 + i) for i in range(300))
    blocks = plan_blocks(RegisterMap("long", "", regs))
    assert [b.count for b in blocks] == [125, 125, 50]
    assert [b.address for b in blocks] == [100, 225, 350]


def test_gap_larger_than_max_gap_starts_new_block() -> None:
    regs = (Register("a", 0), Register("b", 5), Register("c", 20))
    blocks = plan_blocks(RegisterMap("gaps", "", regs, max_gap=4))
    assert [(b.address, b.count) for b in blocks] == [(0, 6), (20, 1)]


def test_epever_vendor_addresses_and_word_order() -> None:
    img = image(epever_tracer.MAP, {"pv_w": 1234.56, "battery_a": -12.5, "battery_v_net": 52.0,
                                    "battery_temp_c": -3.2})
    inp = img[Table.INPUT]
    raw = 123456
    assert (inp[0x3102], inp[0x3103]) == (raw & 0xFFFF, raw >> 16)  # low word first
    assert inp[0x3110] == (-320) & 0xFFFF
    out = _read_back(epever_tracer.MAP, {"pv_w": 1234.56, "battery_a": -12.5,
                                         "battery_v_net": 52.0})
    assert out["pv_w"] == pytest.approx(1234.56)
    assert out["battery_a"] == pytest.approx(-12.5)
    assert out["battery_w"] == pytest.approx(-650.0)


def test_status_bits_share_one_word() -> None:
    img = image(epever_tracer.MAP, {"charging_running": 1, "charge_stage": 2})
    assert img[Table.INPUT][0x3201] == 0b1001
    out = _read_back(epever_tracer.MAP, {"charging_running": 1, "charge_stage": 2,
                                         "battery_state": 3})
    assert (out["charging_running"], out["charge_stage"], out["load_lvd"]) == (1, 2, True)


def test_sentinels_decode_to_none() -> None:
    out = _read_back(generator.MAP, {"fuel_pct": None, "generator_state": 9, "run_hours": 3,
                                     "run_minutes": 30, "run_seconds": 0})
    assert out["fuel_pct"] is None
    assert out["generator_running"] is True
    assert out["generator_run_h"] == pytest.approx(3.5)


def test_float_nan_is_none() -> None:
    rmap = do_sensor.MAP
    words = {b: [0xFFFF] * b.count for b in plan_blocks(rmap)}
    out = decode(rmap, words)
    assert out["do_mg_l"] is None and out["water_temp_c"] is None


def test_absent_blocks_give_absent_points() -> None:
    pv_v = epever_tracer.MAP.register("pv_v")
    first = next(b for b in plan_blocks(epever_tracer.MAP) if b.covers(pv_v))
    out = decode(epever_tracer.MAP, {first: [0] * first.count})
    assert "pv_v" in out and "load_on" not in out


@given(st.floats(-327.68, 327.67, allow_nan=False))
def test_s16_round_trip_within_half_a_step(x: float) -> None:
    rmap = RegisterMap("t", "", (Register("x", 0, kind=Kind.S16, scale=0.01),))
    assert _read_back(rmap, {"x": x})["x"] == pytest.approx(x, abs=0.005 + 1e-9)


@given(st.integers(0, 2**32 - 1), st.booleans())
def test_u32_round_trip_both_word_orders(x: int, low_first: bool) -> None:
    rmap = RegisterMap("t", "", (Register("x", 7, kind=Kind.U32, low_word_first=low_first),))
    assert _read_back(rmap, {"x": x})["x"] == x


@given(st.floats(-1e6, 1e6, allow_nan=False, width=32))
def test_f32_round_trip(x: float) -> None:
    assert _read_back(do_sensor.MAP, {"do_mg_l": x})["do_mg_l"] == x


@given(st.integers(-(2**31), 2**31 - 1))
def test_s32_round_trip(x: int) -> None:
    rmap = RegisterMap("t", "", (Register("x", 0, kind=Kind.S32),))
    assert _read_back(rmap, {"x": x})["x"] == x


def test_encode_range_and_eeprom() -> None:
    writes = encode(epever_tracer.MAP, {"boost_v": 57.6, "float_v": 54.0})
    assert len(writes) == 1  # 0x9007 and 0x9008 are contiguous: one FC16
    w = writes[0]
    assert (w.table, w.address, w.values, w.eeprom) == (Table.HOLDING, 0x9007, (5760, 5400), True)
    with pytest.raises(WriteRangeError):
        encode(epever_tracer.MAP, {"lvd_v": 80.0})
    with pytest.raises(NotWritableError):
        encode(epever_tracer.MAP, {"pv_w": 1.0})
    with pytest.raises(UnknownPointError):
        encode(epever_tracer.MAP, {"nope": 1})


def test_coil_writes_are_single() -> None:
    writes = encode(relay_board.MAP, {"relay_0": True, "relay_1": False})
    assert [(w.address, w.values, w.eeprom) for w in writes] == [(0, (1,), False), (1, (0,), False)]


def test_nature_from_points_marks_missing() -> None:
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    bat = Battery.from_points({"soc_pct": Reading.of(55, ts), "battery_v": Reading.of(None, ts)},
                              ts)
    assert bat.soc_pct.ok and bat.soc_pct.value == 55
    assert bat.battery_v.quality is Quality.INVALID
    assert bat.battery_w.quality is Quality.MISSING


def test_reading_requires_utc_and_ages() -> None:
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        Reading(1.0, datetime(2026, 1, 1))
    later = datetime(2026, 1, 1, 0, 2, tzinfo=UTC)
    assert Reading(1.0, ts).aged(later, 60).quality is Quality.STALE
    assert Reading(1.0, ts).aged(later, 600).quality is Quality.GOOD


def test_registry_names_match_site_drivers() -> None:
    assert set(DRIVERS) == set(get_args(Driver))


def test_code_tables_decode_and_encode_listed_values_only() -> None:
    """A command word: raw codes, not a scaled number (INVT 2000H: 1 runs, 5 stops)."""
    reg = Register("run", 0x10, write_range=(0, 1), codes=((1, True), (5, False), (6, False)))
    rmap = RegisterMap("t", "", (reg,))
    block = Block(Table.HOLDING, 0x10, 1)
    assert [decode(rmap, {block: [w]})["run"] for w in (1, 5, 6, 0, 2)] == [
        True, False, False, None, None]
    assert encode(rmap, {"run": False}) == [Write(Table.HOLDING, 0x10, (5,), ("run",))]
    assert encode(rmap, {"run": True}) == [Write(Table.HOLDING, 0x10, (1,), ("run",))]
    assert image(rmap, {"run": False})[Table.HOLDING] == {0x10: 5}
    with pytest.raises(WriteRangeError):
        encode(rmap, {"run": 0.5})
