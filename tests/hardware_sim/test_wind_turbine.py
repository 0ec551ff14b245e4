"""Wind turbines in the plant and their controller on Modbus: the plant's turbines give what
sizing gives at the same hour (interpolated as PV is), the energy balance closes with wind in
it, a full battery dumps the wind, and the SMA Windy Boy's SunSpec map round-trips: served by
the simulator, read by our driver and, independently, by pysunspec2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sunspec2.modbus.client as sunspec_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.devices import DRIVERS, Block, Table, WindTurbine, decode, plan_blocks
from controller.devices.values import Reading
from hardware_sim.inputs import Inputs, build_inputs, hour_of_year
from hardware_sim.plant import InverterState, Plant
from hardware_sim.simulator import Simulator
from sitefile import Site
from sizing.weather import load_weather
from sizing.wind import wind_kw_per_turbine
from tests.hardware_sim.wind_site import wind_site
from tests.support import require_tool

JAN = datetime(2026, 1, 10, 13, 0, tzinfo=UTC)  # 20:00 local, NE monsoon, no sun


@pytest.fixture(scope="module")
def windy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, Inputs]:
    site = wind_site(tmp_path_factory.mktemp("windy"))
    return site, build_inputs(site)


@pytest.fixture(scope="module")
def windy_dc(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, Inputs]:
    site = wind_site(tmp_path_factory.mktemp("windy-dc"), coupling="dc")
    return site, build_inputs(site)


def windy_hour(inputs: Inputs) -> int:
    """A January hour whose turbine output differs from the next hour's (a real slope)."""
    jan = inputs.wind_kw_per_turbine[0, :744]
    return int(np.argmax(np.abs(np.diff(jan)) * (jan[:-1] > 1.0)))


def balance_error(p: Plant, stored0: float) -> float:
    e = p.energy
    supplied = e.pv_kwh + e.wind_kwh + e.generator_kwh
    used = ((p.soc_kwh - stored0) + e.battery_loss_kwh + e.inverter_loss_kwh
            + e.charger_loss_kwh + e.served_kwh)
    return abs(supplied - used)


# --------------------------------------------------------------------------- inputs and plant


def test_turbine_output_is_sizings_at_the_same_hour(windy: tuple[Site, Inputs]) -> None:
    """Hand check: at an hour's centre the plant reads sizing's hourly value; on the hour,
    the mean of the two hours around it (linear between centres)."""
    site, inputs = windy
    weather = load_weather(site, years=1)[0].iloc[:8760]
    sizing_kw = wind_kw_per_turbine(site, weather)[0]  # computed again, independently
    h = windy_hour(inputs)
    a, b = float(sizing_kw[h]), float(sizing_kw[h + 1])
    assert abs(a - b) > 0.1 and a > 1.0
    start = datetime(2026, 1, 1, tzinfo=site.tz)
    centre = start + timedelta(hours=h, minutes=30)
    boundary = start + timedelta(hours=h + 1)
    quarter = start + timedelta(hours=h, minutes=45)
    assert hour_of_year(centre) == h + 0.5
    assert inputs.at(centre).wind_kw_per_turbine == pytest.approx((a,), abs=1e-12)
    assert inputs.at(boundary).wind_kw_per_turbine == pytest.approx(((a + b) / 2,), abs=1e-12)
    assert inputs.at(quarter).wind_kw_per_turbine == pytest.approx((0.75 * a + 0.25 * b,),
                                                                   abs=1e-12)
    # The plant's turbines: count × one turbine, before any curtailment.
    p = Plant(site, inputs, centre)
    p.step(1.0)
    assert p.wind_avail_w == pytest.approx(site.wind[0].count * a * 1000, rel=1e-9)


def test_monsoon_wind_is_stronger_than_summer_wind(windy: tuple[Site, Inputs]) -> None:
    """The NE monsoon (Nov–Jan) against the summer lull (Apr–Jun) of the site's monthly means."""
    _, inputs = windy
    per_turbine = inputs.wind_kw_per_turbine[0]
    monsoon = np.r_[per_turbine[:744], per_turbine[-1464:]].mean()
    summer = per_turbine[2160:4344].mean()
    assert monsoon > 2 * summer


def test_ac_wind_serves_the_load_and_charges_the_battery(windy: tuple[Site, Inputs]) -> None:
    site, inputs = windy
    p = Plant(site, inputs, JAN)
    assert site.battery is not None
    p.soc_kwh = site.battery.kwh * 0.5
    p.load_bank_kw = 1.0
    stored0 = p.soc_kwh
    p.advance(3600, 5)
    e = p.energy
    assert e.wind_kwh > 1.0 and e.pv_kwh == 0.0 and e.generator_kwh == 0.0
    assert e.served_kwh == pytest.approx(1.0, rel=1e-6)
    assert e.inverter_ac_kwh < e.served_kwh  # the turbines carried part of the load directly
    assert e.wind_curtailed_kwh == pytest.approx(0.0, abs=1e-9)
    assert p.soc_kwh > stored0
    assert balance_error(p, stored0) < 1e-6


def test_full_battery_dumps_the_wind(windy: tuple[Site, Inputs]) -> None:
    site, inputs = windy
    assert site.battery is not None
    p = Plant(site, inputs, JAN)
    p.soc_kwh = site.battery.kwh * site.battery.max_soc_pct / 100
    p.load_bank_kw = 0.5
    stored0 = p.soc_kwh
    p.advance(3600, 5)
    e = p.energy
    assert e.wind_curtailed_kwh > 1.0
    assert e.wind_kwh == pytest.approx(0.5, rel=0.05)  # the loads (and a trickle of charge)
    assert balance_error(p, stored0) < 1e-6


def test_ac_turbines_stop_with_the_ac_bus_dc_turbines_do_not(
        windy: tuple[Site, Inputs], windy_dc: tuple[Site, Inputs]) -> None:
    for (site, inputs), produces in ((windy, False), (windy_dc, True)):
        p = Plant(site, inputs, JAN)
        assert site.battery is not None
        p.soc_kwh = site.battery.kwh * 0.5
        p.connect_inverter(False)
        p.advance(600, 5)
        assert (p.energy.wind_kwh > 0.1) is produces
        assert p.inverter is InverterState.STANDBY


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(coupling=st.sampled_from(["ac", "dc"]), start_h=st.integers(0, 23),
       soc=st.floats(5, 100),
       actions=st.lists(st.tuples(st.integers(0, 5), st.floats(0.5, 900)), max_size=10))
def test_energy_balance_closes_with_wind(windy: tuple[Site, Inputs],
                                         windy_dc: tuple[Site, Inputs], coupling: str,
                                         start_h: int, soc: float,
                                         actions: list[tuple[int, float]]) -> None:
    site, inputs = windy if coupling == "ac" else windy_dc
    assert site.battery is not None
    p = Plant(site, inputs, JAN + timedelta(hours=start_h))
    p.soc_kwh = site.battery.kwh * soc / 100
    stored0 = p.soc_kwh
    for what, seconds in actions:
        if what < 4:  # start or stop one of the two units
            p.generator_command(what % 2 == 0, p.gens[what // 2])
        else:
            p.load_bank_kw = 0.0 if what == 4 else 12.0
        p.advance(seconds, 5)
        assert balance_error(p, stored0) < 1e-6
        assert p.energy.wind_curtailed_kwh >= -1e-9


# --------------------------------------------------------------------------- over Modbus


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulator]:
    require_tool("socat")
    site = wind_site(tmp_path)
    s = Simulator(site, JAN, speed=0, inputs=build_inputs(site), emit=lambda _: None)
    await s.serve()
    yield s
    await s.close()


async def _driver_points(sim: Simulator) -> dict[str, Any]:
    """The turbine read as the controller reads it: discovery, block reads, decode."""
    from pymodbus.client import AsyncModbusTcpClient  # noqa: PLC0415

    dev = sim.site.device("turbine")
    client = AsyncModbusTcpClient("127.0.0.1", port=dev.port, timeout=2, retries=0)
    await client.connect()
    try:
        async def read(address: int, count: int) -> list[int]:
            rr = await client.read_holding_registers(address, count=count,
                                                     device_id=dev.unit_id)
            assert not rr.isError()
            return list(rr.registers)

        rmap = await DRIVERS["sunspec_wind"].discover(read)
        data = {b: await read(b.address, b.count) for b in plan_blocks(rmap)}
        assert all(b.table is Table.HOLDING for b in data)
        return decode(rmap, data)
    finally:
        client.close()


async def test_driver_reads_the_turbine_scaled_right(sim: Simulator) -> None:
    assert sim.site.battery is not None
    sim.plant.soc_kwh = sim.site.battery.kwh * 0.5
    sim.advance(1800)
    points = await _driver_points(sim)
    watts = sim.plant.wind_w_by_entry[0]
    assert watts > 1000
    assert points["wind_w"] == pytest.approx(watts, abs=0.5)  # W, SF 0
    assert points["wind_kwh_total"] == pytest.approx(sim.plant.wind_kwh_by_entry[0], abs=1e-3)
    assert points["wind_hz"] == pytest.approx(50.0)  # SF −2
    assert points["wind_a"] == pytest.approx(watts / 230, abs=0.01)  # SF −2
    assert points["wind_state"] == 4 and points["wind_fault"] is False
    assert points["manufacturer"] == "SMA"
    assert not {"ac_w", "inverter_fault", "inverter_connect"} & set(points)  # never an inverter
    ts = sim.plant.t
    nature = WindTurbine.from_points({k: Reading(v, ts) for k, v in points.items()}, ts)
    assert nature.wind_w.value == points["wind_w"]


async def test_pysunspec2_reads_the_same_turbine(sim: Simulator) -> None:
    """pysunspec2, the independent checker: its scan finds models 1 and 101 and reads the
    same power and energy through its own model definitions."""
    assert sim.site.battery is not None
    sim.plant.soc_kwh = sim.site.battery.kwh * 0.5
    sim.advance(1800)
    dev_cfg = sim.site.device("turbine")

    def scan() -> tuple[set[int], str, float, float, int, float]:
        dev = sunspec_client.SunSpecModbusClientDeviceTCP(
            slave_id=dev_cfg.unit_id, ipaddr="127.0.0.1", ipport=dev_cfg.port, timeout=5)
        try:
            dev.scan()
            inv = dev.models[101][0]  # the single-phase Windy Boy
            return ({k for k in dev.models if isinstance(k, int)}, dev.models[1][0].Mn.cvalue,
                    inv.W.cvalue, inv.WH.cvalue, inv.St.cvalue, inv.Hz.cvalue)
        finally:
            dev.close()

    models, maker, watts, wh, state, hz = await asyncio.to_thread(scan)
    assert models == {1, 101}
    assert maker == "SMA"
    assert watts == pytest.approx(sim.plant.wind_w_by_entry[0], abs=0.5)
    assert wh == pytest.approx(sim.plant.wind_kwh_by_entry[0] * 1000, abs=1)
    assert state == 4 and hz == pytest.approx(50.0)


async def test_blocks_of_the_turbine_map_cover_the_chain() -> None:
    """The served chain (models 1 and 101 after SunS at 40000) read in ≤ 125-register blocks."""
    from controller.devices import sunspec_wind  # noqa: PLC0415

    rmap = sunspec_wind.build_map(40000)
    blocks = plan_blocks(rmap)
    assert all(b.count <= 125 for b in blocks)
    assert rmap.register("wind_w").address == 40000 + 2 + 2 + 66 + 14
    assert Block(Table.HOLDING, 40000, 2) in {Block(b.table, b.address, 2) for b in blocks}
