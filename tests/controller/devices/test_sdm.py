"""The Eastron SDM120/SDM630 maps: addresses from Eastron's protocol tables, FC04 float32
big-endian words, block reads within the meters' 30-parameter limit, and the Meter nature."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from controller.devices import (
    DRIVERS,
    Block,
    Kind,
    Meter,
    Reading,
    RegisterMap,
    Table,
    decode,
    image,
    plan_blocks,
)
from controller.devices.eastron import MAX_REQUEST_WORDS, SDM120_MAP, SDM630_MAP

# Eastron's tables give 3xxxx register numbers; the protocol address is number − 30001.
SDM120_DOC = {"voltage_v": 30001, "current_a": 30007, "power_w": 30013, "apparent_va": 30019,
              "reactive_var": 30025, "power_factor": 30031, "phase_angle_deg": 30037,
              "frequency_hz": 30071, "import_kwh": 30073, "export_kwh": 30075,
              "import_kvarh": 30077, "export_kvarh": 30079, "total_kwh": 30343,
              "total_kvarh": 30345}
SDM630_DOC = {"voltage_l1_v": 30001, "voltage_l2_v": 30003, "voltage_l3_v": 30005,
              "current_l1_a": 30007, "current_l2_a": 30009, "current_l3_a": 30011,
              "power_l1_w": 30013, "power_l2_w": 30015, "power_l3_w": 30017,
              "power_factor_l1": 30031, "power_factor_l2": 30033, "power_factor_l3": 30035,
              "voltage_v": 30043, "current_a": 30049, "power_w": 30053, "power_factor": 30063,
              "frequency_hz": 30071, "import_kwh": 30073, "export_kwh": 30075,
              "total_kwh": 30343}


@pytest.mark.parametrize(("rmap", "doc"), [(SDM120_MAP, SDM120_DOC), (SDM630_MAP, SDM630_DOC)],
                         ids=["sdm120", "sdm630"])
def test_addresses_follow_eastrons_table(rmap: RegisterMap, doc: dict[str, int]) -> None:
    assert {r.point: r.address for r in rmap.registers} == {p: n - 30001 for p, n in doc.items()}
    assert all(r.table is Table.INPUT and r.kind is Kind.F32 and not r.low_word_first
               and not r.writable for r in rmap.registers)
    blocks = plan_blocks(rmap)
    assert all(b.table is Table.INPUT and b.count <= MAX_REQUEST_WORDS for b in blocks)
    assert len(blocks) == 3  # three requests per poll, not one per value
    assert all(any(b.covers(r) for b in blocks) for r in rmap.registers)


def test_the_brief_addresses() -> None:
    """The addresses the issue quotes, in hex, checked one by one."""
    r = SDM120_MAP.register
    assert (r("voltage_v").address, r("current_a").address, r("power_w").address,
            r("power_factor").address, r("frequency_hz").address, r("import_kwh").address,
            r("export_kwh").address, r("total_kwh").address) == (
        0x0000, 0x0006, 0x000C, 0x001E, 0x0046, 0x0048, 0x004A, 0x0156)
    r = SDM630_MAP.register
    assert (r("power_w").address, r("frequency_hz").address, r("import_kwh").address,
            r("export_kwh").address) == (0x0034, 0x0046, 0x0048, 0x004A)


def test_float_words_are_big_endian_high_word_first() -> None:
    # 230.0 V is 0x43660000 in IEEE-754: high word 0x4366 at 0x0000, low word 0x0000 at 0x0001.
    img = image(SDM120_MAP, {"voltage_v": 230.0, "import_kwh": 1234.5})
    assert img[Table.INPUT][0x0000] == 0x4366 and img[Table.INPUT][0x0001] == 0x0000
    hi, lo = struct.unpack(">HH", struct.pack(">f", 1234.5))
    assert (img[Table.INPUT][0x0048], img[Table.INPUT][0x0049]) == (hi, lo)
    words = [0] * 10
    words[2:4] = [hi, lo]  # import kWh inside the block read from 0x0046
    out = decode(SDM120_MAP, {Block(Table.INPUT, 0x0046, 10): words})
    assert out["import_kwh"] == pytest.approx(1234.5)
    assert out["frequency_hz"] == 0.0


def test_nan_is_invalid() -> None:
    nan_hi, nan_lo = struct.unpack(">HH", struct.pack(">f", float("nan")))
    out = decode(SDM120_MAP, {Block(Table.INPUT, 0x0000, 2): [nan_hi, nan_lo]})
    assert out == {"voltage_v": None}


@pytest.mark.parametrize("driver", ["sdm120", "sdm630"])
def test_drivers_provide_the_meter_nature(driver: str) -> None:
    d = DRIVERS[driver]
    assert d.natures == (Meter,)
    assert d.default_baudrate == {"sdm120": 2400, "sdm630": 9600}[driver]
    assert d.static_map is not None
    fields = set(Meter.__dataclass_fields__)
    assert fields <= set(d.static_map.points)  # every field of the nature is a point
    ts = datetime(2026, 3, 1, tzinfo=UTC)
    meter = Meter.from_points({"power_w": Reading.of(1500.0, ts)}, ts)
    assert meter.power_w.value == 1500.0 and not meter.import_kwh.ok
