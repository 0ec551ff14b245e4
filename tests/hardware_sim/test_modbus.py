"""The simulator over real Modbus: TCP on loopback and RTU on a socat pty, with faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from controller.devices import DRIVERS, Block, RegisterMap, Table, decode, encode, plan_blocks
from controller.devices.sunspec import discover
from hardware_sim.errors import FaultError
from hardware_sim.inputs import Inputs
from hardware_sim.plant import InverterState
from hardware_sim.simulator import Simulator
from sitefile import Site
from tests.hardware_sim.conftest import NOON

Client = AsyncModbusTcpClient | AsyncModbusSerialClient
UNITS = {"mppt-1": 1, "mppt-2": 2, "relays": 3, "do-probe": 4, "genset": 5}


async def read_block(client: Client, block: Block, unit: int) -> list[int]:
    fn = {Table.COIL: client.read_coils, Table.DISCRETE: client.read_discrete_inputs,
          Table.INPUT: client.read_input_registers,
          Table.HOLDING: client.read_holding_registers}[block.table]
    rr = await fn(block.address, count=block.count, device_id=unit)
    if rr.isError():
        raise ModbusException(f"exception {rr.exception_code}")
    if block.table.is_bit:
        return [int(b) for b in rr.bits[: block.count]]
    return list(rr.registers)


async def read_points(client: Client, rmap: RegisterMap, unit: int) -> dict[str, Any]:
    data = {b: await read_block(client, b, unit) for b in plan_blocks(rmap)}
    return decode(rmap, data)


@pytest.fixture
async def sim(local_site: Site, shrimp_inputs: Inputs) -> AsyncIterator[Simulator]:
    lines: list[str] = []
    s = Simulator(local_site, NOON, speed=0, inputs=shrimp_inputs, emit=lines.append)
    await s.serve()
    yield s
    await s.close()


@pytest.fixture
async def tcp(sim: Simulator) -> AsyncIterator[AsyncModbusTcpClient]:
    dev = sim.site.device("inverter")
    client = AsyncModbusTcpClient("127.0.0.1", port=dev.port, timeout=0.5, retries=0)
    await client.connect()
    yield client
    client.close()


@pytest.fixture
async def rtu(sim: Simulator) -> AsyncIterator[AsyncModbusSerialClient]:
    port = sim.site.device("mppt-1").serial_port
    client = AsyncModbusSerialClient(port, baudrate=9600, timeout=0.5, retries=0)
    assert await client.connect()
    yield client
    client.close()


async def test_serving_lines_name_every_device(sim: Simulator) -> None:
    assert set(sim.endpoints) == {d.name for d in sim.site.devices}
    assert sim.endpoints["mppt-1"].endswith("ttyUSB0")


async def test_sunspec_over_tcp_matches_plant(sim: Simulator,
                                              tcp: AsyncModbusTcpClient) -> None:
    for ch in range(3):
        sim.plant.set_relay("relays", ch, True)
        sim.advance(5)

    async def read(address: int, count: int) -> list[int]:
        return await read_block(tcp, Block(Table.HOLDING, address, count), 1)

    rmap = await discover(read)
    values = await read_points(tcp, rmap, 1)
    assert values["manufacturer"] == "offgrid-sim"
    assert values["ac_w"] == pytest.approx(sim.plant.load_w, abs=1)
    assert values["ac_w"] > 4000
    assert values["soc_pct"] == pytest.approx(sim.plant.soc_pct, abs=0.1)
    assert values["inverter_fault"] is False


async def test_rtu_units_share_the_bus(sim: Simulator, rtu: AsyncModbusSerialClient) -> None:
    sim.advance(60)
    epever = DRIVERS["epever_tracer"].static_map
    assert epever is not None
    one = await read_points(rtu, epever, 1)
    two = await read_points(rtu, epever, 2)
    p = sim.plant
    assert one["pv_w"] == pytest.approx(p.pv_array_w / 2, abs=0.02)
    assert two["charge_w"] == pytest.approx(p.pv_w / 2, abs=0.02)
    assert one["battery_v"] == pytest.approx(p.battery_v, abs=0.01)
    assert one["soc_pct"] == round(p.soc_pct)
    assert one["charge_stage"] == int(p.stage)
    with pytest.raises(ModbusException):  # nobody answers unit 9
        await read_block(rtu, Block(Table.INPUT, 0x3100, 1), 9)


async def test_relay_writes_switch_the_loads(sim: Simulator, rtu: AsyncModbusSerialClient
                                             ) -> None:
    before = sim.plant.load_w
    rr = await rtu.write_coil(0, True, device_id=3)
    assert not rr.isError()
    sim.advance(5)
    assert sim.plant.relays["relays"][0] is True
    assert sim.plant.load_w == pytest.approx(before + 1500, abs=1)
    coils = await read_block(rtu, Block(Table.COIL, 0, 8), 3)
    assert coils == [1, 0, 0, 0, 0, 0, 0, 0]


async def test_writes_out_of_range_are_refused(sim: Simulator, rtu: AsyncModbusSerialClient
                                               ) -> None:
    rr = await rtu.write_registers(0x900D, [9000], device_id=1)  # 90 V disconnect
    assert rr.isError() and rr.exception_code == 3
    rr = await rtu.write_registers(0x900D, [5000], device_id=1)
    assert not rr.isError()
    assert sim.plant.controllers["mppt-1"].lvd_v == pytest.approx(50.0)
    assert sim.devices["mppt-1"].eeprom_writes == 1  # the refused write did not count
    rr = await rtu.write_register(0x0015, 50, device_id=5)  # fuel level is read-only
    assert rr.isError() and rr.exception_code == 2


async def test_generator_remote_start(sim: Simulator, rtu: AsyncModbusSerialClient) -> None:
    gen_map = DRIVERS["generator"].static_map
    assert gen_map is not None
    await rtu.write_coil(0, True, device_id=5)
    sim.advance(sim.site.generator.start_delay_s + 1)
    values = await read_points(rtu, gen_map, 5)
    assert values["generator_running"] is True
    assert values["fuel_pct"] == 100
    await rtu.write_coil(1, True, device_id=5)
    sim.advance(1)
    assert (await read_points(rtu, gen_map, 5))["generator_running"] is False


async def test_silent_device(sim: Simulator, rtu: AsyncModbusSerialClient) -> None:
    sim.add_fault("do-probe", "silent", duration_s=60)
    with pytest.raises(ModbusException):
        await read_block(rtu, Block(Table.HOLDING, 0, 6), 4)
    assert len(await read_block(rtu, Block(Table.INPUT, 0x3100, 4), 1)) == 4  # others answer
    sim.advance(61)
    assert len(await read_block(rtu, Block(Table.HOLDING, 0, 6), 4)) == 6


async def test_slow_replies_exceed_the_timeout(sim: Simulator,
                                               tcp: AsyncModbusTcpClient) -> None:
    sim.add_fault("inverter", "slow", params={"delay_s": 2.0})
    with pytest.raises(ModbusException):
        await read_block(tcp, Block(Table.HOLDING, 40000, 2), 1)


async def test_exception_codes(sim: Simulator, tcp: AsyncModbusTcpClient) -> None:
    sim.add_fault("inverter", "exception", params={"code": 6})
    rr = await tcp.read_holding_registers(40000, count=2, device_id=1)
    assert rr.isError() and rr.exception_code == 6
    rr = await tcp.read_holding_registers(30000, count=2, device_id=1)
    assert rr.exception_code == 6


async def test_exception_on_writes_only(sim: Simulator, tcp: AsyncModbusTcpClient) -> None:
    """A device that still answers its reads but refuses every write (coils that no longer
    switch): what the controller's ``write_failed`` alarm is for."""
    sim.add_fault("inverter", "exception", params={"on": "writes"})
    rr = await tcp.read_holding_registers(40000, count=2, device_id=1)
    assert not rr.isError()
    w = encode(sim.devices["inverter"].rmap, {"inverter_connect": 1})[0]
    rr = await tcp.write_registers(w.address, list(w.values), device_id=1)
    assert rr.isError() and rr.exception_code == 4
    with pytest.raises(FaultError):
        sim.add_fault("inverter", "exception", params={"on": "reads"})


async def test_unmapped_address_is_an_exception(tcp: AsyncModbusTcpClient) -> None:
    rr = await tcp.read_holding_registers(30000, count=2, device_id=1)
    assert rr.isError() and rr.exception_code == 2


@pytest.mark.parametrize("value", [0xFFFF, 0x8000])
async def test_garbage_values_decode_as_invalid(sim: Simulator, rtu: AsyncModbusSerialClient,
                                                value: int) -> None:
    sim.add_fault("genset", "garbage", params={"value": value})
    words = await read_block(rtu, Block(Table.HOLDING, 0x0015, 1), 5)
    assert words == [value]
    do_map = DRIVERS["do_sensor"].static_map
    assert do_map is not None
    sim.add_fault("do-probe", "garbage", params={"value": value})
    values = await read_points(rtu, do_map, 4)
    if value == 0xFFFF:
        assert values["do_mg_l"] is None  # NaN
    else:
        assert values["do_mg_l"] == pytest.approx(-0.0)


async def test_frozen_values(sim: Simulator, rtu: AsyncModbusSerialClient) -> None:
    epever = DRIVERS["epever_tracer"].static_map
    assert epever is not None
    sim.add_fault("mppt-1", "frozen", duration_s=7200)
    before = await read_points(rtu, epever, 1)
    sim.advance(3600)
    assert await read_points(rtu, epever, 1) == before
    assert (await read_points(rtu, epever, 2))["pv_kwh_total"] > before["pv_kwh_total"]
    sim.advance(3601)
    assert (await read_points(rtu, epever, 1))["pv_kwh_total"] > before["pv_kwh_total"]


async def test_relay_stuck_open(sim: Simulator, rtu: AsyncModbusSerialClient,
                                tcp: AsyncModbusTcpClient) -> None:
    sim.add_fault("relays", "relay_stuck", params={"channel": 0, "state": "open"})
    base = (await read_block(tcp, Block(Table.HOLDING, 40002 + 68 + 14, 1), 1))[0]
    await rtu.write_coil(0, True, device_id=3)
    await rtu.write_coil(1, True, device_id=3)
    sim.advance(10)
    assert (await read_block(rtu, Block(Table.COIL, 0, 2), 3)) == [1, 1]  # reads the command
    ac_w = (await read_block(tcp, Block(Table.HOLDING, 40002 + 68 + 14, 1), 1))[0]
    assert ac_w - base == pytest.approx(1500, abs=2)  # only channel 1's aerator runs
    assert sim.plant.aerator_kw == pytest.approx(1.5)


async def test_reboot_resets_counters(sim: Simulator, rtu: AsyncModbusSerialClient) -> None:
    epever = DRIVERS["epever_tracer"].static_map
    assert epever is not None
    sim.advance(1800)
    before = await read_points(rtu, epever, 1)
    assert before["pv_kwh_total"] > 1
    sim.add_fault("mppt-1", "reboot", duration_s=5)
    with pytest.raises(ModbusException):
        await read_block(rtu, Block(Table.INPUT, 0x3100, 1), 1)
    sim.advance(6)
    after = await read_points(rtu, epever, 1)
    assert after["pv_kwh_total"] < 0.1
    assert after["battery_v"] == pytest.approx(before["battery_v"], abs=1)


async def test_sensor_drift(sim: Simulator, rtu: AsyncModbusSerialClient) -> None:
    do_map = DRIVERS["do_sensor"].static_map
    assert do_map is not None
    sim.add_fault("do-probe", "drift", params={"point": "do_mg_l", "rate_per_h": -0.5})
    sim.advance(4 * 3600)
    values = await read_points(rtu, do_map, 4)
    assert values["do_mg_l"] == pytest.approx(sim.plant.do_mg_l - 2.0, abs=0.01)


async def test_serial_noise_breaks_the_crc(sim: Simulator, rtu: AsyncModbusSerialClient
                                           ) -> None:
    sim.add_fault("relays", "noise")
    with pytest.raises(ModbusException):
        await read_block(rtu, Block(Table.COIL, 0, 8), 3)
    assert sim.noise[0].corrupted >= 1
    assert len(await read_block(rtu, Block(Table.INPUT, 0x3100, 2), 1)) == 2


async def test_faults_are_logged_with_their_time(sim: Simulator) -> None:
    f = sim.add_fault("genset", "silent", duration_s=30)
    sim.advance(40)
    events = [(e["event"], e["t"]) for e in sim.fault_log if e["id"] == f.id]
    assert events == [("started", NOON.isoformat()),
                      ("ended", (NOON + timedelta(seconds=30)).isoformat())]
    with pytest.raises(FaultError):
        sim.add_fault("inverter", "noise")  # no CRC on TCP
    with pytest.raises(FaultError):
        sim.add_fault("nope", "silent")
    with pytest.raises(FaultError):
        sim.add_fault("genset", "melt")


async def test_inverter_trip_seen_over_modbus(sim: Simulator, tcp: AsyncModbusTcpClient,
                                              rtu: AsyncModbusSerialClient) -> None:
    await rtu.write_coils(0, [True, True, True], device_id=3)
    sim.advance(2)
    assert sim.plant.inverter is InverterState.FAULT
    st = (await read_block(tcp, Block(Table.HOLDING, 40002 + 68 + 38, 1), 1))[0]
    assert st == 7


async def test_sunspec_connect_resets_a_trip(sim: Simulator, tcp: AsyncModbusTcpClient,
                                             rtu: AsyncModbusSerialClient) -> None:
    async def read(address: int, count: int) -> list[int]:
        return await read_block(tcp, Block(Table.HOLDING, address, count), 1)

    rmap = await discover(read)
    await rtu.write_coils(0, [True, True, True], device_id=3)
    sim.advance(2)
    assert (await read_points(tcp, rmap, 1))["inverter_fault"] is True
    await rtu.write_coils(0, [False, False, False], device_id=3)
    (write,) = encode(rmap, {"inverter_connect": 1})
    rr = await tcp.write_registers(write.address, list(write.values), device_id=1)
    assert not rr.isError()
    sim.advance(1)
    values = await read_points(tcp, rmap, 1)
    assert values["inverter_fault"] is False and values["inverter_connect"] == 1
    (off,) = encode(rmap, {"inverter_connect": 0})
    await tcp.write_registers(off.address, list(off.values), device_id=1)
    sim.advance(1)
    assert sim.plant.inverter is InverterState.STANDBY
    assert (await read_points(tcp, rmap, 1))["inverter_connect"] == 0


async def test_probe_salinity_and_load_switch(sim: Simulator, rtu: AsyncModbusSerialClient
                                              ) -> None:
    do_map, epever = DRIVERS["do_sensor"].static_map, DRIVERS["epever_tracer"].static_map
    assert do_map is not None and epever is not None
    right = (await read_points(rtu, do_map, 4))["do_mg_l"]
    assert right == pytest.approx(sim.plant.do_mg_l, abs=1e-3)
    (w,) = encode(do_map, {"salinity_ppt": 0.0})  # fresh-water setting in a brackish pond
    await rtu.write_registers(w.address, list(w.values), device_id=4)
    assert (await read_points(rtu, do_map, 4))["do_mg_l"] > right * 1.05  # biased high
    assert (await read_points(rtu, epever, 1))["load_running"] == 1
    await rtu.write_coil(0x0002, False, device_id=1)
    sim.advance(1)
    values = await read_points(rtu, epever, 1)
    assert values["load_on"] is False and values["load_running"] == 0
