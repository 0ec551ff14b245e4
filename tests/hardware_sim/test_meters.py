"""Eastron meters in the simulator: each meters the load its device ``measures`` (the plant's
served power, integrated into the import counter), read in process with the driver's map and
by an independent master (mbpoll) at Eastron's addresses, over TCP and RTU."""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from pymodbus.client import AsyncModbusTcpClient

from controller.devices import DRIVERS, decode, plan_blocks
from hardware_sim.inputs import Inputs
from hardware_sim.plant import Plant
from hardware_sim.simulator import Simulator
from sitefile import Site, SiteFileError
from tests.conftest import SHRIMP
from tests.hardware_sim.conftest import NOON, SimProcess, running_sim, shrimp_data, site_with
from tests.support import free_port, require_tool

PUMP_KW = 3.0  # examples/shrimp-bac-lieu.toml: exchange-pump kw = 3.0 on relay channel 6
PUMP_CH, FARM_CH = 6, 7
METERS: list[dict[str, Any]] = [
    {"name": "farm-meter", "driver": "sdm120", "transport": "rtu",
     "serial_port": "/dev/ttyUSB0", "baudrate": 9600, "unit_id": 6, "measures": "farmhouse"},
    {"name": "pump-meter", "driver": "sdm630", "transport": "tcp", "host": "127.0.0.1",
     "port": 5020, "unit_id": 2, "measures": "exchange-pump"},
]


def metered_data() -> dict[str, Any]:
    data = shrimp_data()
    data["devices"] += [dict(m) for m in METERS]
    return data


@pytest.fixture
def metered(shrimp_inputs: Inputs) -> Callable[[], Plant]:
    site = site_with(metered_data())
    return lambda: Plant(site, shrimp_inputs, NOON, seed=0)


def test_a_meter_must_measure_a_known_load() -> None:
    data = metered_data()
    data["devices"][-1]["measures"] = "shrimp"
    with pytest.raises(SiteFileError, match="no load of that name"):
        site_with(data)


def test_plant_meters_each_load_and_integrates_it(metered: Callable[[], Plant]) -> None:
    plant = metered()
    plant.set_relay("relays", PUMP_CH, True)
    plant.advance(600)  # 10 min with the pump running, the farmhouse off
    # ∫P dt by hand: 3 kW × 600 s = 0.5 kWh, whatever the step size.
    assert plant.load_kwh_by_name["exchange-pump"] == pytest.approx(PUMP_KW * 600 / 3600)
    assert plant.load_w_by_name["exchange-pump"] == pytest.approx(PUMP_KW * 1000)
    assert plant.load_w_by_name["farmhouse"] == 0.0
    assert plant.load_kwh_by_name["farmhouse"] == 0.0
    # The loads' shares add up to what the inverter served.
    assert sum(plant.load_w_by_name.values()) == pytest.approx(plant.load_w)
    plant.set_relay("relays", PUMP_CH, False)
    plant.advance(300)
    assert plant.load_w_by_name["exchange-pump"] == 0.0
    assert plant.load_kwh_by_name["exchange-pump"] == pytest.approx(0.5)


def test_a_dead_bus_meters_nothing(metered: Callable[[], Plant]) -> None:
    plant = metered()
    plant.set_relay("relays", PUMP_CH, True)
    plant.advance(60)
    plant.connect_inverter(False)
    plant.advance(120)
    assert plant.load_w_by_name["exchange-pump"] == 0.0
    assert plant.load_kwh_by_name["exchange-pump"] == pytest.approx(PUMP_KW * 60 / 3600)


# ---------------------------------------------------------------------- in process


@pytest.fixture
async def sim(tmp_path: Path, shrimp_inputs: Inputs) -> AsyncIterator[Simulator]:
    require_tool("socat")
    data = metered_data()
    port = free_port()
    for dev in data["devices"]:
        if dev["transport"] == "tcp":
            dev["port"] = port
        else:
            dev["serial_port"] = str(tmp_path / "ttyUSB0")
    s = Simulator(site_with(data), NOON, speed=0, inputs=shrimp_inputs, emit=lambda _: None)
    await s.serve()
    yield s
    await s.close()


async def read_meter(sim: Simulator, name: str) -> dict[str, Any]:
    dev = sim.site.device(name)
    rmap = DRIVERS[dev.driver].static_map
    assert rmap is not None and dev.port is not None
    client = AsyncModbusTcpClient("127.0.0.1", port=dev.port, timeout=1, retries=0)
    await client.connect()
    try:
        data = {}
        for b in plan_blocks(rmap):
            rr = await client.read_input_registers(b.address, count=b.count,
                                                   device_id=dev.unit_id)
            assert not rr.isError()
            data[b] = list(rr.registers)
        return decode(rmap, data)
    finally:
        client.close()


async def test_the_driver_reads_the_three_phase_meter(sim: Simulator) -> None:
    plant = sim.plant
    plant.set_relay("relays", PUMP_CH, True)
    plant.advance(60)
    before = await read_meter(sim, "pump-meter")
    plant.advance(720)
    after = await read_meter(sim, "pump-meter")
    assert 200 <= after["voltage_v"] <= 250 and after["frequency_hz"] == pytest.approx(50.0)
    assert after["power_w"] == pytest.approx(PUMP_KW * 1000, rel=1e-6)
    assert sum(after[f"power_l{n}_w"] for n in (1, 2, 3)) == pytest.approx(after["power_w"])
    # P = V × ΣI × PF on a balanced load (average V, sum of line currents).
    assert after["voltage_v"] * after["current_a"] * after["power_factor"] == pytest.approx(
        after["power_w"], rel=1e-3)
    assert 0.7 <= after["power_factor"] <= 1.0
    # 12 min at 3 kW = 0.6 kWh between the reads.
    assert after["import_kwh"] - before["import_kwh"] == pytest.approx(0.6, abs=1e-4)
    assert after["export_kwh"] == 0.0
    assert after["total_kwh"] == pytest.approx(after["import_kwh"] + after["export_kwh"])


# ---------------------------------------------------------------------- mbpoll


@pytest.fixture(scope="module")
def sim_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimProcess, int, str]]:
    require_tool("socat")
    require_tool("mbpoll")
    workdir = tmp_path_factory.mktemp("meters")
    doc = tomlkit.parse(SHRIMP.read_text(encoding="utf-8"))
    port = free_port()
    for m in METERS:
        doc["devices"].append(m)
    for dev in doc["devices"]:
        if dev["transport"] == "tcp":
            dev["port"] = port
    path = workdir / "site.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    with running_sim(path, "--pty-dir", str(workdir / "pty"), "--start",
                     "2026-03-01T05:00:00Z") as sim:
        yield sim, port, str(workdir / "pty" / "ttyUSB0")


def mbpoll_floats(*args: str, count: int = 1) -> list[float]:
    """Input registers (FC04) as big-endian float32 at 0-based addresses, read by mbpoll."""
    out = subprocess.run(["mbpoll", "-1", "-0", "-o", "2", "-t", "3:float", "-B",
                          "-c", str(count), *args],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return [float(v) for v in re.findall(r"^\[\d+\]:\s+(-?[\d.eE+-]+|nan)", out, re.M)]


@pytest.mark.slow
def test_mbpoll_reads_the_meters_at_eastrons_addresses(
        sim_process: tuple[SimProcess, int, str]) -> None:
    sim, port, tty = sim_process
    tcp = ["-m", "tcp", "-p", str(port), "-a", "2"]
    rtu = ["-m", "rtu", "-b", "9600", "-P", "none", "-d", "8", "-s", "1", "-a", "6"]
    # Close the pump's and the farmhouse's relays (unit 3, FC05), as any master would.
    for ch in (PUMP_CH, FARM_CH):
        subprocess.run(["mbpoll", "-0", "-o", "2", "-m", "rtu", "-b", "9600", "-P", "none",
                        "-a", "3", "-t", "0", "-r", str(ch), tty, "1"],
                       capture_output=True, timeout=30, check=True)
    sim.call("POST", "/step", {"seconds": 60})
    # SDM630 on the pump (TCP, unit 2): total power 0x0034, frequency 0x0046, kWh 0x0048.
    volts = mbpoll_floats(*tcp, "-r", "0", "127.0.0.1", count=3)  # phases 1–3, 0x0000–0x0005
    assert len(volts) == 3 and all(200 <= v <= 250 for v in volts)
    phase_w = mbpoll_floats(*tcp, "-r", str(0x000C), "127.0.0.1", count=3)
    total_w, = mbpoll_floats(*tcp, "-r", str(0x0034), "127.0.0.1")
    assert total_w == pytest.approx(PUMP_KW * 1000, rel=1e-5)
    assert sum(phase_w) == pytest.approx(total_w, rel=1e-5)
    hz, kwh0, export0 = mbpoll_floats(*tcp, "-r", str(0x0046), "127.0.0.1", count=3)
    assert hz == pytest.approx(50.0) and export0 == 0.0
    sim.call("POST", "/step", {"seconds": 360})
    kwh1, = mbpoll_floats(*tcp, "-r", str(0x0048), "127.0.0.1")
    assert kwh1 - kwh0 == pytest.approx(PUMP_KW * 360 / 3600, abs=1e-4)  # 0.3 kWh
    # SDM120 on the farmhouse (RTU, unit 6).
    state = sim.call("GET", "/state")
    farm_w = state["loads_kw"]["farmhouse"] * 1000
    assert farm_w > 0
    v, = mbpoll_floats(*rtu, "-r", str(0x0000), tty)
    a, = mbpoll_floats(*rtu, "-r", str(0x0006), tty)
    w, = mbpoll_floats(*rtu, "-r", str(0x000C), tty)
    pf, = mbpoll_floats(*rtu, "-r", str(0x001E), tty)
    hz, imp, exp = mbpoll_floats(*rtu, "-r", str(0x0046), tty, count=3)
    total, = mbpoll_floats(*rtu, "-r", str(0x0156), tty)
    assert 200 <= v <= 250 and hz == pytest.approx(50.0)
    assert w == pytest.approx(farm_w, abs=0.1)  # /state rounds to 0.1 W
    assert 0.7 <= pf <= 1.0 and v * a * pf == pytest.approx(w, rel=1e-4)
    assert imp == pytest.approx(state["loads_kwh"]["farmhouse"], abs=1e-5) and imp > 0
    assert exp == 0.0 and total == pytest.approx(imp + exp)
    assert not math.isnan(total)


@pytest.mark.slow
def test_the_meters_follow_the_plant_state(sim_process: tuple[SimProcess, int, str]) -> None:
    """Opening the pump's relay zeroes its power; its counter keeps its value."""
    sim, port, tty = sim_process
    tcp = ["-m", "tcp", "-p", str(port), "-a", "2"]
    subprocess.run(["mbpoll", "-0", "-o", "2", "-m", "rtu", "-b", "9600", "-P", "none",
                    "-a", "3", "-t", "0", "-r", str(PUMP_CH), tty, "0"],
                   capture_output=True, timeout=30, check=True)
    sim.call("POST", "/step", {"seconds": 10})
    kwh0, = mbpoll_floats(*tcp, "-r", str(0x0048), "127.0.0.1")
    sim.call("POST", "/step", {"seconds": 600})
    w, = mbpoll_floats(*tcp, "-r", str(0x0034), "127.0.0.1")
    kwh1, = mbpoll_floats(*tcp, "-r", str(0x0048), "127.0.0.1")
    assert w == 0.0 and kwh1 == kwh0 > 0


def test_site_fixture_is_valid() -> None:
    site: Site = site_with(metered_data())
    assert {d.name: d.measures for d in site.devices if d.measures} == {
        "farm-meter": "farmhouse", "pump-meter": "exchange-pump"}
