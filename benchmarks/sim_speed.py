"""Simulator benchmark: Modbus requests per second over TCP loopback, and one simulated day.

1. Requests/s: a pymodbus client reads a 125-register block of the simulated SunSpec inverter
   (plant values, fault checks, codec image) as fast as it can, against a baseline: the same
   client reading a plain pymodbus server with a static datastore, in the same run.
2. Wall time of one simulated day of ``examples/shrimp-bac-lieu.toml`` in steps of 1 s of
   simulated time (the largest step the simulator takes), with the farm's loads switched on:
   the fastest speed that keeps plant steps ≤ 1 s is 86 400 s / that wall time. Target ≤ 60 s.

Run: ``.venv/bin/python benchmarks/sim_speed.py``
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ModbusTcpServer

from hardware_sim.inputs import build_inputs
from hardware_sim.simulator import Simulator
from sitefile import load_site
from tests.support import free_port

SITE = Path(__file__).resolve().parent.parent / "examples" / "shrimp-bac-lieu.toml"
REQUESTS = 2000
START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # 07:00 in Bac Lieu


async def _rate(port: int, address: int) -> float:
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    await client.connect()
    for _ in range(50):  # warm up
        await client.read_holding_registers(address, count=125, device_id=1)
    t0 = time.perf_counter()
    for _ in range(REQUESTS):
        rr = await client.read_holding_registers(address, count=125, device_id=1)
        assert not rr.isError()
    elapsed = time.perf_counter() - t0
    client.close()
    return REQUESTS / elapsed


async def _requests_per_s() -> tuple[float, float]:
    site = load_site(SITE)
    port = free_port()
    site = site.model_copy(update={"devices": [d.model_copy(update={"port": port})
                                               for d in site.devices if d.transport == "tcp"]})
    sim = Simulator(site, START, speed=0, inputs=build_inputs(site), emit=lambda _: None)
    await sim.serve()
    clock = asyncio.create_task(_step_forever(sim))
    try:
        ours = await _rate(port, 40000)
    finally:
        clock.cancel()
        await sim.close()
    base_port = free_port()
    store = ModbusDeviceContext(hr=ModbusSequentialDataBlock(1, [7] * 60000))
    server = ModbusTcpServer(ModbusServerContext(devices={1: store}),
                             address=("127.0.0.1", base_port))
    await server.serve_forever(background=True)
    try:
        baseline = await _rate(base_port, 40000)
    finally:
        await server.shutdown()  # type: ignore[no-untyped-call]
    return ours, baseline


async def _step_forever(sim: Simulator) -> None:
    """The plant keeps stepping (1 s per 10 ms tick) while the client reads: no stale cache."""
    while True:
        sim.advance(1.0)
        await asyncio.sleep(0.01)


def _one_day() -> tuple[float, float]:
    site = load_site(SITE)
    inputs = build_inputs(site)
    sim = Simulator(site, START, speed=0, inputs=inputs, emit=lambda _: None)
    p = sim.plant
    for ch in (*range(6), 7):  # aerators and the farmhouse on, staggered like the controller
        p.set_relay("relays", ch, True)
        sim.advance(5)
    t0 = time.perf_counter()
    sim.advance(86_400)
    wall = time.perf_counter() - t0
    return wall, p.steps


def main() -> None:
    logging.getLogger("pymodbus").setLevel(logging.ERROR)  # deprecation notices of the baseline
    ours, baseline = asyncio.run(_requests_per_s())
    print(f"Modbus TCP loopback, FC03 × 125 registers, {REQUESTS} requests:")
    print(f"  simulated SunSpec inverter: {ours:8.0f} requests/s")
    print(f"  baseline (static pymodbus): {baseline:8.0f} requests/s")
    print(f"  ratio simulator/baseline:   {ours / baseline:8.2f}")
    wall, steps = _one_day()
    print(f"One simulated day of {SITE.name} in {steps} plant steps (≤ 1 s each):")
    print(f"  wall time:                  {wall:8.2f} s (target ≤ 60 s)")
    print(f"  fastest speed at ≤ 1 s/step: {86_400 / wall:7.0f}× real time")


if __name__ == "__main__":
    main()
