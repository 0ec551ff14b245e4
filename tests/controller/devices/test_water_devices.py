"""The solar-irrigation maps (issue 16): tank level transmitter, INVT Goodrive100-PV pump drive,
electromagnetic flow meter. Decoded from register images made by hand (the words a device
sends, worked out from its manual), their 32-bit words checked with pymodbus' own converter,
encoded writes checked word by word, and the natures the controller reads from them."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from pymodbus.client import ModbusTcpClient

from controller.devices import (
    DRIVERS,
    FlowMeter,
    NotWritableError,
    PumpDrive,
    Reading,
    Table,
    TankLevel,
    Write,
    WriteRangeError,
    decode,
    encode,
    flow_meter,
    image,
    plan_blocks,
    pump_drive,
    tank_level,
)
from controller.devices.codec import RegisterMap
from controller.devices.values import Value

TS = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
H = Table.HOLDING


def _read(rmap: RegisterMap, words: dict[int, int]) -> dict[str, Value | None]:
    """Decode the map's block reads out of a holding-register image (unset words read 0)."""
    return decode(rmap, {b: [words.get(a, 0) for a in range(b.address, b.address + b.count)]
                         for b in plan_blocks(rmap)})


def _image_words(rmap: RegisterMap, values: Mapping[str, Value | None]) -> dict[int, int]:
    return image(rmap, values)[H]


def _f32_cdab(x: float) -> list[int]:
    """An IEEE-754 float32 as two words, low word first (the flow meter's "Float Inverse")."""
    hi, lo = struct.unpack(">HH", struct.pack(">f", x))
    return [lo, hi]


# ---------------------------------------------------------------------------------- registry


def test_the_three_drivers_are_registered_with_their_natures() -> None:
    assert DRIVERS["tank_level"].natures == (TankLevel,)
    assert DRIVERS["pump_drive"].natures == (PumpDrive,)
    assert DRIVERS["flow_meter"].natures == (FlowMeter,)
    assert DRIVERS["pump_drive"].default_baudrate == 19200  # INVT factory P14.01 = 4
    for name in ("tank_level", "pump_drive", "flow_meter"):
        rmap = DRIVERS[name].static_map
        assert rmap is not None and rmap.name == name
        assert all(b.table is H for b in plan_blocks(rmap))  # FC03 only
    # The Goodrive family answers at most 16 registers per read.
    assert all(b.count <= 16 for b in plan_blocks(pump_drive.MAP))


# ---------------------------------------------------------------------------------- tank level


@pytest.mark.parametrize(("unit", "decimals", "raw", "metres"), [
    (7, 3, 1234, 1.234),  # mH2O, 3 decimals
    (8, 0, 2500, 2.5),  # mmH2O
    (1, 1, 245, 24.5 / 9.80665),  # 24.5 kPa
    (3, 3, 196, 0.196 * 100 / 9.80665),  # 0.196 bar
    (5, 2, 25, 0.25 * 10.0),  # 0.25 kg/cm² = 2.5 m of water
    (6, 2, 355, 3.55 * 6.894757293168 / 9.80665),  # 3.55 psi
    (7, 3, 0xFFF6, -0.010),  # int16: a probe 1 cm above the water reads −10 mm
])
def test_tank_level_from_value_decimals_and_unit(unit: int, decimals: int, raw: int,
                                                 metres: float) -> None:
    v = _read(tank_level.MAP, {0x0002: unit, 0x0003: decimals, 0x0004: raw, 0x0006: 5000})
    assert v["tank_level_m"] == pytest.approx(metres, abs=1e-6)
    assert v["level_range_full"] == 5000


@pytest.mark.parametrize(("unit", "decimals"), [(9, 3), (42, 0), (7, 4)])
def test_tank_level_unknown_unit_or_decimals_is_invalid(unit: int, decimals: int) -> None:
    v = _read(tank_level.MAP, {0x0002: unit, 0x0003: decimals, 0x0004: 1000})
    assert v["tank_level_m"] is None


def test_tank_level_image_round_trip_and_nature() -> None:
    served = {"level_unit": 7, "level_decimals": 3, "level_value": 1875,
              "level_range_zero": 0, "level_range_full": 3000}
    words = _image_words(tank_level.MAP, served)
    assert words == {0x0002: 7, 0x0003: 3, 0x0004: 1875, 0x0005: 0, 0x0006: 3000}
    v = _read(tank_level.MAP, words)
    assert {k: v[k] for k in served} == served
    nature = TankLevel.from_points({p: Reading.of(x, TS) for p, x in v.items()}, TS)
    assert nature.tank_level_m.ok and nature.tank_level_m.value == pytest.approx(1.875)
    with pytest.raises(NotWritableError):
        encode(tank_level.MAP, {"level_value": 1})


# ---------------------------------------------------------------------------------- pump drive

# A GD100-PV running forward at 42.50 Hz: P02.01 = 1.5 kW, bus 325.3 V, 323 V out, 2.7 A,
# output power 80.0 % of rated (= 1200 W), no fault.
DRIVE_RUNNING = {0x0201: 15, 0x2000: 0x0001, 0x2001: 4250, 0x2100: 0x0001, 0x2101: 0,
                 0x2102: 0, 0x3000: 4250, 0x3001: 4250, 0x3002: 3253, 0x3003: 323,
                 0x3004: 27, 0x3005: 1275, 0x3006: 800}


def test_pump_drive_decodes_a_running_drive() -> None:
    v = _read(pump_drive.MAP, DRIVE_RUNNING)
    assert v["pump_hz"] == pytest.approx(42.5)
    assert v["pump_hz_set"] == pytest.approx(42.5)
    assert v["pv_v"] == pytest.approx(325.3)
    assert v["pump_v"] == 323
    assert v["pump_a"] == pytest.approx(2.7)
    assert v["motor_rated_kw"] == pytest.approx(1.5)
    assert v["pump_w"] == pytest.approx(0.800 * 1500.0)
    assert v["pump_running"] is True
    assert v["pump_run"] is True
    assert v["pump_fault"] == 0


@pytest.mark.parametrize(("state", "command", "fault", "running", "run"), [
    (0x0003, 0x0005, 0, False, False),  # stopped by a stop command
    (0x0004, 0x0001, 17, False, True),  # tripped (fault 17) while commanded to run
    (0x0005, 0x0001, 0, False, True),  # POFF: commanded, but the PV is too weak
    (0x0002, 0x0006, 0, True, False),  # reverse running after a coast-to-stop command
])
def test_pump_drive_status_and_command_words(state: int, command: int, fault: int,
                                             running: bool, run: bool) -> None:
    v = _read(pump_drive.MAP, {**DRIVE_RUNNING, 0x2100: state, 0x2000: command,
                               0x2102: fault})
    assert v["pump_running"] is running
    assert v["pump_run"] is run
    assert v["pump_fault"] == fault


def test_pump_drive_negative_output_power_is_no_pump_power() -> None:
    v = _read(pump_drive.MAP, {**DRIVE_RUNNING, 0x3006: 0x10000 - 20})  # −2.0 %: regenerating
    assert v["pump_power_pct"] == pytest.approx(-2.0)
    assert v["pump_w"] == 0.0


def test_pump_drive_writes() -> None:
    assert encode(pump_drive.MAP, {"pump_hz_set": 42.5}) == [
        Write(H, 0x2001, (4250,), ("pump_hz_set",))]
    assert encode(pump_drive.MAP, {"pump_run": True}) == [Write(H, 0x2000, (1,), ("pump_run",))]
    both = encode(pump_drive.MAP, {"pump_hz_set": 30.0, "pump_run": True})
    assert both == [Write(H, 0x2000, (1, 3000), ("pump_run", "pump_hz_set"))]  # one FC16
    with pytest.raises(WriteRangeError):
        encode(pump_drive.MAP, {"pump_hz_set": 50.01})
    with pytest.raises(WriteRangeError):
        encode(pump_drive.MAP, {"pump_hz_set": -1.0})
    with pytest.raises(NotWritableError):
        encode(pump_drive.MAP, {"pump_hz": 40.0})


def test_pump_drive_stop_reads_back_as_stopped() -> None:
    """Whatever word the codec sends for False, the drive's map reads it back as False, and
    it is not the run code."""
    (stop,) = encode(pump_drive.MAP, {"pump_run": False})
    assert stop.address == 0x2000 and stop.values != (pump_drive.CMD_FORWARD,)
    assert _read(pump_drive.MAP, {**DRIVE_RUNNING, 0x2000: stop.values[0]})["pump_run"] is False


def test_pump_drive_stop_sends_the_manual_stop_code() -> None:
    assert encode(pump_drive.MAP, {"pump_run": False}) == [
        Write(H, 0x2000, (pump_drive.CMD_STOP,), ("pump_run",))]
    assert _read(pump_drive.MAP, {**DRIVE_RUNNING, 0x2000: 0x0006})["pump_run"] is False
    assert _read(pump_drive.MAP, {**DRIVE_RUNNING, 0x2000: 0x0000})["pump_run"] is None
    with pytest.raises(WriteRangeError):
        encode(pump_drive.MAP, {"pump_run": 0.5})


def test_pump_drive_nature() -> None:
    v = _read(pump_drive.MAP, DRIVE_RUNNING)
    drive = PumpDrive.from_points({p: Reading.of(x, TS) for p, x in v.items()}, TS)
    assert drive.pump_hz.value == pytest.approx(42.5)
    assert drive.pump_w.value == pytest.approx(1200.0)
    assert drive.pump_running.value is True and drive.pump_run.value is True
    assert drive.pump_hz_set.value == pytest.approx(42.5)
    assert drive.pv_v.value == pytest.approx(325.3)
    assert all(getattr(drive, f).ok for f in ("pump_a", "pump_fault"))


# ---------------------------------------------------------------------------------- flow meter


def _meter_words(flow: float, flow_unit: int, whole: int, frac: float,
                 total_unit: int, velocity: float = 0.0) -> dict[int, int]:
    words = dict(zip(range(0x1010, 0x1014), _f32_cdab(flow) + _f32_cdab(velocity),
                     strict=True))
    words.update({0x1018: whole & 0xFFFF, 0x1019: whole >> 16})  # u32, low word first
    words.update(zip((0x101A, 0x101B), _f32_cdab(frac), strict=True))
    words.update({0x101E: flow_unit, 0x1021: total_unit})
    return words


def test_flow_meter_words_are_low_word_first() -> None:
    """The hand-made words agree with pymodbus' own converter (word_order little)."""
    words = _meter_words(12.5, 5, 70000, 0.25, 1)
    conv = ModbusTcpClient.convert_from_registers
    dt = ModbusTcpClient.DATATYPE
    assert conv([words[0x1010], words[0x1011]], dt.FLOAT32, word_order="little") == 12.5
    assert conv([words[0x1018], words[0x1019]], dt.UINT32, word_order="little") == 70000


@pytest.mark.parametrize(("flow", "flow_unit", "m3_h"), [
    (12.5, 5, 12.5),  # m³/h
    (2.0, 0, 7.2),  # L/s
    (150.0, 1, 9.0),  # L/min
    (0.002, 3, 7.2),  # m³/s
    (0.1, 4, 6.0),  # m³/min
    (3000.0, 2, 3.0),  # L/h
])
def test_flow_meter_flow_in_m3_h(flow: float, flow_unit: int, m3_h: float) -> None:
    v = _read(flow_meter.MAP, _meter_words(flow, flow_unit, 0, 0.0, 1))
    assert v["flow_m3_h"] == pytest.approx(m3_h, rel=1e-6)


def test_flow_meter_totaliser_integer_and_decimal_parts() -> None:
    v = _read(flow_meter.MAP, _meter_words(0.0, 5, 70000, 0.25, 1))
    assert v["flow_total_m3"] == pytest.approx(70000.25)
    litres = _read(flow_meter.MAP, _meter_words(0.0, 5, 1500, 0.5, 0))
    assert litres["flow_total_m3"] == pytest.approx(1.5005)
    gallons = _read(flow_meter.MAP, _meter_words(0.0, 5, 1500, 0.5, 2))
    assert gallons["flow_total_m3"] is None  # not mapped: no guessing which gallon


def test_flow_meter_nan_and_unknown_unit_are_invalid() -> None:
    words = _meter_words(0.0, 5, 1, 0.0, 1)
    words[0x1010], words[0x1011] = 0x0000, 0x7FC0  # quiet NaN, low word first
    assert _read(flow_meter.MAP, words)["flow_m3_h"] is None
    assert _read(flow_meter.MAP, _meter_words(1.0, 9, 1, 0.0, 1))["flow_m3_h"] is None


def test_flow_meter_image_round_trip_and_nature() -> None:
    served: dict[str, Value | None] = {
        "flow_rate": 9.75, "flow_velocity_m_s": 1.25, "total_int": 123456, "total_frac": 0.5,
        "flow_unit": 5, "total_unit": 1, "empty_pipe_alarm": 1, "system_alarm": 0}
    words = _image_words(flow_meter.MAP, served)
    assert words == {**_meter_words(9.75, 5, 123456, 0.5, 1, 1.25),
                     0x1024: 1, 0x1025: 0}
    v = _read(flow_meter.MAP, words)
    assert {k: v[k] for k in served} == served
    meter = FlowMeter.from_points({p: Reading.of(x, TS) for p, x in v.items()}, TS)
    assert meter.flow_m3_h.value == pytest.approx(9.75)
    assert meter.flow_total_m3.value == pytest.approx(123456.5)
    assert math.isclose(float(v["flow_velocity_m_s"] or 0), 1.25)
