"""The hybrid-inverter maps (issue 18): the vendors' addresses, their signs turned into ours, the
block reads each device accepts, and the natures the controller reads from them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from controller.devices import (
    DRIVERS,
    Battery,
    Block,
    Inverter,
    Reading,
    Table,
    decode,
    deye_hybrid,
    growatt_spf,
    image,
    plan_blocks,
    srne_hybrid,
    victron_gx,
)
from controller.devices.codec import RegisterMap

TS = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
HYBRIDS = ("deye_hybrid", "growatt_spf", "srne_hybrid", "victron_gx", "victron_battery")


def _read(rmap: RegisterMap, words: dict[Table, dict[int, int]]) -> dict[str, object]:
    blocks = plan_blocks(rmap)
    return dict(decode(rmap, {b: [words[b.table].get(a, 0)
                                  for a in range(b.address, b.address + b.count)]
                              for b in blocks}))


@pytest.mark.parametrize(("rmap", "address", "table", "point"), [
    (deye_hybrid.MAP, 184, Table.HOLDING, "soc_pct"),
    (deye_hybrid.MAP, 183, Table.HOLDING, "battery_v"),
    (deye_hybrid.MAP, 190, Table.HOLDING, "battery_discharge_w"),
    (deye_hybrid.MAP, 178, Table.HOLDING, "ac_w"),
    (deye_hybrid.MAP, 186, Table.HOLDING, "pv1_w"),
    (growatt_spf.MAP, 18, Table.INPUT, "soc_pct"),
    (growatt_spf.MAP, 17, Table.INPUT, "battery_v"),
    (growatt_spf.MAP, 9, Table.INPUT, "ac_w"),
    (growatt_spf.MAP, 77, Table.INPUT, "battery_discharge_w"),
    (srne_hybrid.MAP, 0x0100, Table.HOLDING, "soc_pct"),
    (srne_hybrid.MAP, 0x0102, Table.HOLDING, "battery_discharge_a"),
    (srne_hybrid.MAP, 0x021B, Table.HOLDING, "ac_w"),
    (victron_gx.MAP, 843, Table.HOLDING, "soc_pct"),
    (victron_gx.MAP, 842, Table.HOLDING, "battery_w"),
    (victron_gx.MAP, 850, Table.HOLDING, "pv_dc_w"),
    (victron_gx.MAP, 817, Table.HOLDING, "ac_consumption_l1_w"),
    (victron_gx.BATTERY_MAP, 266, Table.HOLDING, "soc_pct"),
    (victron_gx.BATTERY_MAP, 259, Table.HOLDING, "battery_v"),
])
def test_documented_addresses(rmap: RegisterMap, address: int, table: Table,
                              point: str) -> None:
    reg = rmap.register(point)
    assert (reg.address, reg.table) == (address, table)


def test_deye_raw_words_decode_in_our_signs() -> None:
    # 52.40 V, 67 %, 1,200 W discharging (vendor +), 22.90 A, 25.0 °C (raw 1250), PV 800+150 W.
    words = {Table.HOLDING: {183: 5240, 184: 67, 190: 1200, 191: 2290, 182: 1250,
                             186: 800, 187: 150, 178: 1100, 59: 2, 96: 0x86A0, 97: 0x0001}}
    v = _read(deye_hybrid.MAP, {**{t: {} for t in Table}, **words})
    assert v["battery_v"] == pytest.approx(52.4)
    assert v["battery_w"] == -1200 and v["battery_a"] == pytest.approx(-22.9)
    assert v["battery_temp_c"] == pytest.approx(25.0)
    assert v["pv_w"] == 950 and v["ac_w"] == 1100 and v["inverter_fault"] is False
    assert v["pv_kwh_total"] == pytest.approx(10000.0)  # 0x186A0 × 0.1, low word first


def test_growatt_s32_battery_power_and_block_limit() -> None:
    charge = (-2500) & 0xFFFFFFFF  # 250.0 W charging, vendor sign: negative
    words: dict[Table, dict[int, int]] = {t: {} for t in Table}
    words[Table.INPUT] = {17: 5320, 18: 95, 77: charge >> 16, 78: charge & 0xFFFF, 0: 3,
                          3: 0, 4: 4500, 9: 0, 10: 930}
    v = _read(growatt_spf.MAP, words)
    assert v["battery_w"] == pytest.approx(250.0)
    assert v["battery_a"] == pytest.approx(250.0 / 53.2, abs=1e-3)
    assert v["pv_w"] == pytest.approx(450.0) and v["ac_w"] == pytest.approx(93.0)
    assert v["inverter_fault"] is True
    assert all(b.count <= growatt_spf.MAX_READ_WORDS for b in plan_blocks(growatt_spf.MAP))


def test_srne_current_sign_and_victron_system() -> None:
    words: dict[Table, dict[int, int]] = {t: {} for t in Table}
    words[Table.HOLDING] = {0x0100: 80, 0x0101: 512, 0x0102: (-150) & 0xFFFF, 0x0210: 5}
    v = _read(srne_hybrid.MAP, words)
    assert v["battery_a"] == pytest.approx(15.0)  # vendor −15.0 A = charging
    assert v["battery_w"] == pytest.approx(15.0 * 51.2)
    words[Table.HOLDING] = {840: 523, 841: (-84) & 0xFFFF, 842: (-440) & 0xFFFF, 843: 55,
                            817: 300, 818: 20, 819: 0, 850: 1200, 808: 100}
    v = _read(victron_gx.MAP, words)
    assert v["battery_w"] == -440 and v["battery_a"] == pytest.approx(-8.4)
    assert v["ac_w"] == pytest.approx(320.0) and v["pv_w"] == pytest.approx(1300.0)


@pytest.mark.parametrize("name", HYBRIDS)
def test_image_round_trip_feeds_the_natures(name: str) -> None:
    """What the simulator serves (image) decodes to natures with good, signed values."""
    driver = DRIVERS[name]
    rmap = driver.static_map
    assert rmap is not None
    values: dict[str, float] = {r.point: 0.0 for r in rmap.registers}
    sample = {"soc_pct": 64, "battery_v": 51.2, "battery_temp_raw_c": 127.5,
              "battery_temp_c": 27.5, "battery_discharge_w": -512.0,
              "battery_discharge_a": -10.0, "battery_a": 10.0, "battery_w": 512.0,
              "ac_w": 900.0, "ac_consumption_l1_w": 900.0}
    values.update({k: v for k, v in sample.items() if k in values})
    decoded = _read(rmap, image(rmap, values))
    readings = {k: Reading.of(v, TS) for k, v in decoded.items()}  # type: ignore[arg-type]
    battery = Battery.from_points(readings, TS)
    assert battery.soc_pct.value == pytest.approx(64)
    assert battery.battery_w.ok and float(battery.battery_w.value or 0) == pytest.approx(
        512.0, rel=0.01)
    if Inverter in driver.natures:
        inv = Inverter.from_points(readings, TS)
        assert inv.ac_w.value == pytest.approx(900.0)
        assert inv.soc_pct.value == pytest.approx(64)
        assert inv.pv_w.ok


def test_blocks_stay_in_the_documented_ranges() -> None:
    """The block reads the drivers make (the GX may refuse spans over undefined addresses)."""
    deye = {b.address: b.count for b in plan_blocks(deye_hybrid.MAP)}
    assert deye == {59: 1, 85: 28, 154: 1, 178: 15}
    assert plan_blocks(victron_gx.BATTERY_MAP) == [Block(Table.HOLDING, 259, 4),
                                                    Block(Table.HOLDING, 266, 1)]
