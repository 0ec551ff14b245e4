"""The simulator's tank level transmitter, pump drive and flow meter (issue 16), served over
real Modbus TCP from ``plant.water``: read at the vendors' addresses by an independent master
(mbpoll, whose default 32-bit word order is the flow meter's low word first), decoded by our
own maps (pymodbus + decode), and written through the driver's encode into the plant."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import tomlkit
from pymodbus.client import AsyncModbusTcpClient

from controller.devices import (
    DRIVERS,
    RegisterMap,
    Table,
    Value,
    decode,
    encode,
    flow_meter,
    plan_blocks,
    pump_drive,
    tank_level,
)
from hardware_sim.devices import DC_BUS_V, make_device
from hardware_sim.simulator import Simulator
from hardware_sim.water import DRY_RUN_POWER_FRACTION, MOTOR_LINE_V, WaterPlant
from sitefile import Site, parse_site
from tests.conftest import HOME
from tests.support import free_port, require_tool

NOON = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # noon on Con Dao (UTC+7)
UNITS = {"tank": ("tank_level", 1), "drive": ("pump_drive", 2), "meter": ("flow_meter", 3)}
TANK_M3, TANK_H_M = 20.0, 2.5


def _site(port: int, *, pump: bool = True) -> Site:
    """The Con Dao household with a borehole pump lifting into a 20 m³ tank, its three devices
    on one TCP port (a larger inverter, so that the pump and the house fit)."""
    data: dict[str, Any] = tomlkit.parse(HOME.read_text(encoding="utf-8")).unwrap()
    data["inverter"] = {"kw": 3.0, "surge_kw": 6.0}
    if pump:
        data["tank"] = {"m3": TANK_M3, "height_m": TANK_H_M, "initial_level_pct": 40.0}
        data["loads"].append({
            "name": "garden", "kind": "water_pump", "flow_m3_per_day": 6.0, "head_m": 18.0,
            "irrigation": {"start_h": 6.0, "end_h": 9.0},
            "pipe": {"length_m": 60.0, "diameter_mm": 40.0, "material": "pvc"},
            "pump": "lorentz-ps2-1800-c-sj8-7"})
    data["devices"] = [{"name": name, "driver": driver, "transport": "tcp",
                        "host": "127.0.0.1", "port": port, "unit_id": unit, "poll_s": 5}
                       for name, (driver, unit) in UNITS.items()
                       if pump or driver != "pump_drive"]  # a drive needs a pump to run
    return parse_site(data, HOME.parent, HOME)


@pytest.fixture
async def sim() -> AsyncIterator[tuple[Simulator, int]]:
    port = free_port()
    s = Simulator(_site(port), NOON, speed=0, emit=lambda line: None)
    await s.serve()
    try:
        yield s, port
    finally:
        await s.close()


async def _mbpoll(port: int, unit: int, table: str, address: int, count: int = 1,
                  *write: str) -> tuple[int, list[float]]:
    """mbpoll once (0-based addresses): a read of ``count`` values, or a write of ``write``;
    its exit code and the values it printed."""
    span = () if write else ("-c", str(count))  # mbpoll refuses -c when writing
    proc = await asyncio.create_subprocess_exec(
        "mbpoll", "-1", "-0", "-o", "2", "-m", "tcp", "-p", str(port), "-a", str(unit),
        "-t", table, "-r", str(address), *span, "127.0.0.1", *write,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    values = re.findall(r"^\[\d+\]:\s+(-?[\d.eE+-]+)", out.decode(), re.M)
    return proc.returncode or 0, [float(v) for v in values]


async def _decode(port: int, driver: str, unit: int) -> dict[str, Value | None]:
    """Our driver's reading: the map's block reads (FC03) and decode."""
    rmap = DRIVERS[driver].static_map
    assert rmap is not None
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5)
    await client.connect()
    try:
        data = {}
        for b in plan_blocks(rmap):
            resp = await client.read_holding_registers(b.address, count=b.count, device_id=unit)
            assert not resp.isError(), (driver, b)
            data[b] = list(resp.registers)
        return decode(rmap, data)
    finally:
        client.close()


async def _write(port: int, rmap: RegisterMap, unit: int, values: dict[str, Value]) -> None:
    """The controller's path: encode, then one FC16 per Write."""
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5)
    await client.connect()
    try:
        for w in encode(rmap, values):
            assert w.table is Table.HOLDING
            resp = await client.write_registers(w.address, list(w.values), device_id=unit)
            assert not resp.isError(), w
    finally:
        client.close()


def _water(s: Simulator) -> WaterPlant:
    w = s.plant.water
    assert w is not None
    return w


def _running(s: Simulator, hz: float) -> WaterPlant:
    w = _water(s)
    w.command(run=True, hz=hz)
    s.advance(20.0)
    assert w.running and w.flow_m3_h > 0, "noon, battery full enough: the pump must run"
    return w


async def test_mbpoll_reads_the_vendor_addresses(sim: tuple[Simulator, int]) -> None:
    require_tool("mbpoll")
    s, port = sim
    w = _running(s, 45.0)
    rated_kw = round(w.load.pump.rated_kw, 1)  # P02.01 holds 0.1 kW steps: 1.14 kW → 1.1

    # Tank transmitter (unit 1): unit 7 = mH2O, 3 decimals, level in mm, range 0–3 m.
    rc, words = await _mbpoll(port, 1, "4", 0x0002, 5)
    assert rc == 0
    assert words == [7, 3, round(w.level_m * 1000), 0, 3000]
    assert w.level_m == pytest.approx(TANK_H_M * w.stored_m3 / TANK_M3)

    # Drive (unit 2): 2000H run command 0001H, 2001H setpoint 0.01 Hz, 2100H forward running,
    # 2102H no fault; 3000H running frequency 0.01 Hz, 3002H bus 0.1 V, 3003H output V,
    # 3004H 0.1 A,
    # 3006H output power 0.1 % of P02.01.
    assert (await _mbpoll(port, 2, "4", 0x2000, 2))[1] == [1, 4500]
    assert (await _mbpoll(port, 2, "4", 0x2100, 3))[1] == [1, 0, 0]
    assert (await _mbpoll(port, 2, "4", 0x0201))[1] == [round(rated_kw * 10)]
    _, run = await _mbpoll(port, 2, "4", 0x3000, 7)
    assert run[0] == round(w.pump_hz * 100)
    assert run[2] == round(DC_BUS_V * 10)
    assert run[3] == round(MOTOR_LINE_V * w.pump_hz / w.load.pump.rated_hz)  # V/f
    assert run[4] == round(w.pump_a * 10)
    assert run[6] == round(w.pump_w / (rated_kw * 1000) * 1000)
    assert 0 < w.pump_w <= w.load.pump.rated_kw * 1000 * 1.01  # at most its rated power

    # Flow meter (unit 3): float32 and u32 low word first (mbpoll's default word order).
    _, (flow,) = await _mbpoll(port, 3, "4:float", 0x1010)
    assert flow == pytest.approx(w.flow_m3_h, rel=1e-5)
    _, (velocity,) = await _mbpoll(port, 3, "4:float", 0x1012)
    assert velocity == pytest.approx(w.flow_m3_h / 3600 / (math.pi / 4 * 0.040**2), rel=1e-5)
    _, (whole,) = await _mbpoll(port, 3, "4:int", 0x1018)
    _, (frac,) = await _mbpoll(port, 3, "4:float", 0x101A)
    assert whole + frac == pytest.approx(w.total_m3, abs=1e-6)
    assert whole == math.floor(w.total_m3) and w.total_m3 > 0  # 20 s at a few m³/h
    assert (await _mbpoll(port, 3, "4", 0x101E))[1] == [5]  # m³/h
    assert (await _mbpoll(port, 3, "4", 0x1021))[1] == [1]  # m³


async def test_our_maps_decode_the_plant(sim: tuple[Simulator, int]) -> None:
    s, port = sim
    w = _running(s, 40.0)
    rated_kw = round(w.load.pump.rated_kw, 1)
    tank = await _decode(port, "tank_level", 1)
    assert tank["tank_level_m"] == pytest.approx(w.level_m, abs=0.0005)  # mm resolution
    drive = await _decode(port, "pump_drive", 2)
    assert drive["pump_hz"] == pytest.approx(w.pump_hz, abs=0.005)
    assert drive["pump_hz_set"] == pytest.approx(40.0)
    # output power in 0.1 % steps of the rated power: ±half a step
    assert drive["pump_w"] == pytest.approx(w.pump_w, abs=rated_kw * 1000 * 0.0005 + 1e-6)
    assert drive["pump_a"] == pytest.approx(w.pump_a, abs=0.05)
    assert drive["pv_v"] == pytest.approx(DC_BUS_V, abs=0.05)
    assert drive["pump_running"] is True and drive["pump_run"] is True
    assert drive["pump_fault"] == 0
    meter = await _decode(port, "flow_meter", 3)
    assert meter["flow_m3_h"] == pytest.approx(w.flow_m3_h, rel=1e-6)
    assert meter["flow_total_m3"] == pytest.approx(w.total_m3, abs=1e-6)
    assert meter["empty_pipe_alarm"] == 0


async def test_run_stop_and_setpoint_through_the_driver_reach_the_plant(
        sim: tuple[Simulator, int]) -> None:
    s, port = sim
    w = _water(s)
    assert not w.run_cmd and not w.running
    await _write(port, pump_drive.MAP, 2, {"pump_run": True, "pump_hz_set": 35.5})
    assert w.run_cmd is True and w.hz_set == pytest.approx(35.5)
    s.advance(30.0)  # the drive ramps (5 Hz/s) to the setpoint
    assert w.running and w.pump_hz == pytest.approx(35.5)
    drive = await _decode(port, "pump_drive", 2)
    assert drive["pump_run"] is True and drive["pump_running"] is True
    assert drive["pump_hz"] == pytest.approx(35.5) and drive["pump_hz_set"] == 35.5

    await _write(port, pump_drive.MAP, 2, {"pump_hz_set": 48.0})
    assert w.hz_set == pytest.approx(48.0) and w.run_cmd

    await _write(port, pump_drive.MAP, 2, {"pump_run": False})
    assert w.run_cmd is False
    s.advance(1.0)
    assert not w.running and w.flow_m3_h == 0.0
    drive = await _decode(port, "pump_drive", 2)
    assert drive["pump_run"] is False and drive["pump_running"] is False
    assert drive["drive_state"] == pump_drive.SW_STOPPED and drive["pump_w"] == 0.0
    assert (await _decode(port, "flow_meter", 3))["flow_m3_h"] == 0.0


async def test_an_independent_master_writes_the_setpoint(sim: tuple[Simulator, int]) -> None:
    """mbpoll writes 2001H (FC06/16); a value above 50 Hz is refused (exception 03) and
    changes nothing; read-only registers are refused too."""
    require_tool("mbpoll")
    s, port = sim
    w = _water(s)
    rc, _ = await _mbpoll(port, 2, "4", 0x2001, 1, "4200")
    assert rc == 0 and w.hz_set == pytest.approx(42.0)
    rc, _ = await _mbpoll(port, 2, "4", 0x2001, 1, "6000")  # 60.00 Hz
    assert rc != 0 and w.hz_set == pytest.approx(42.0)
    rc, _ = await _mbpoll(port, 2, "4", 0x3000, 1, "1000")  # running frequency: read-only
    assert rc != 0
    rc, _ = await _mbpoll(port, 1, "4", 0x0004, 1, "1000")  # the level: read-only
    assert rc != 0


async def test_a_dry_well_reads_no_flow_and_an_empty_pipe(sim: tuple[Simulator, int]) -> None:
    s, port = sim
    w = _running(s, 50.0)
    s.add_fault("drive", "dry_run")  # the simulator's own fault: the well runs dry
    s.advance(2.0)
    assert w.dry and w.running and w.flow_m3_h == 0.0
    drive = await _decode(port, "pump_drive", 2)
    expected_w = DRY_RUN_POWER_FRACTION * w.load.pump.affinity_kw(w.pump_hz) * 1000
    assert drive["pump_w"] == pytest.approx(expected_w, abs=1.0)
    meter = await _decode(port, "flow_meter", 3)
    assert meter["flow_m3_h"] == 0.0 and meter["empty_pipe_alarm"] == 1


async def test_no_water_pump_reports_empty_stopped_and_ignores_writes() -> None:
    """A site with a level transmitter and a flow meter but no water pump nor tank
    (``plant.water`` is None; a drive needs a pump, ``sitefile.checks``): an empty tank, no
    flow."""
    port = free_port()
    s = Simulator(_site(port, pump=False), NOON, speed=0, emit=lambda line: None)
    assert s.plant.water is None
    devices = {d.name: make_device(d, s.plant) for d in s.site.devices}
    tank = devices["tank"]
    assert await tank.read(3, 0x0002, 3) == [7, 3, 0]
    meter = devices["meter"]
    assert await meter.read(3, 0x1010, 2) == [0, 0]
    assert {tank.rmap.name, meter.rmap.name} == {tank_level.MAP.name, flow_meter.MAP.name}
