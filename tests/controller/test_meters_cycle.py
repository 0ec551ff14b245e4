"""The controller reads Eastron meters from the simulator, stores their points as telemetry,
and books each metered load's energy from the meter's import counter (never into the site's
energy, which the inverter already counts); the API serves it per load and local day."""

from __future__ import annotations

from typing import Any

import pytest

from store import commands, readers
from store.schema import connect
from tests.controller.test_cycle_sim import NOON, _site_energy_kwh, rig_factory

__all__ = ["rig_factory"]  # the fixture, imported for this module

PUMP_KW = 3.0  # examples/shrimp-bac-lieu.toml: exchange-pump


def with_meters(data: dict[str, Any]) -> None:
    rtu = next(d for d in data["devices"] if d["transport"] == "rtu")
    tcp = next(d for d in data["devices"] if d["transport"] == "tcp")
    data["devices"] += [
        {"name": "farm-meter", "driver": "sdm120", "transport": "rtu", "unit_id": 6,
         "serial_port": rtu["serial_port"], "baudrate": rtu["baudrate"], "timeout_s": 0.5,
         "request_gap_s": 0.005, "measures": "farmhouse"},
        {"name": "pump-meter", "driver": "sdm630", "transport": "tcp", "unit_id": 2,
         "host": tcp["host"], "port": tcp["port"], "timeout_s": 0.5,
         "measures": "exchange-pump"},
    ]


def _load_wh(db: Any, device: str, period: str = "1m") -> list[dict[str, Any]]:
    conn = connect(db, readonly=True)
    return [e for e in readers.read_energy(conn, period, 0, source=device)]


async def test_metered_energy_is_the_meters_counter_delta(rig_factory: Any) -> None:
    rig = await rig_factory(NOON, with_meters, soc_pct=80)
    api = commands.open_database(rig.db)
    commands.insert_command(api, "override_load", {"load": "exchange-pump", "on": True,
                                                   "expires_s": 3600},
                            requested_by="ops", now_ts=rig.sim.plant.t.timestamp())
    await rig.cycles(1)
    pump = next(lk for lk in rig.ctrl.links if lk.name == "pump-meter")
    farm = next(lk for lk in rig.ctrl.links if lk.name == "farm-meter")
    first = pump.last["import_kwh"].value  # the first read: the counter's mark, no energy
    for _ in range(10):  # motor starts are staggered: the pump's turn comes
        await rig.cycles(1)
        if rig.sim.plant.relays["relays"][6]:
            break
    assert rig.sim.plant.relays["relays"][6]  # the pump runs
    await rig.cycles(1)
    site_before = _site_energy_kwh(rig.db).get("load", 0.0)
    pump0, farm0 = pump.last["import_kwh"].value, farm.last["import_kwh"].value
    plant0 = dict(rig.sim.plant.load_kwh_by_name)
    served0 = rig.sim.plant.energy.served_kwh
    await rig.cycles(36)  # 3 minutes of 5 s cycles
    pump1, farm1 = pump.last["import_kwh"].value, farm.last["import_kwh"].value
    # The counters rose by ∫P dt: 3 kW × 180 s = 0.15 kWh for the pump.
    assert pump1 - pump0 == pytest.approx(PUMP_KW * 180 / 3600, abs=1e-4)
    plant = rig.sim.plant.load_kwh_by_name
    assert farm1 - farm0 == pytest.approx(plant["farmhouse"] - plant0["farmhouse"], abs=1e-4)
    # What was booked is the sum of the counter's deltas since its first read.
    rows = _load_wh(rig.db, "pump-meter")
    assert {(e["category"], e["method"]) for e in rows} == {("load", "counter")}
    assert sum(e["wh"] for e in rows) / 1000 == pytest.approx(pump1 - first, abs=1e-4)
    # The points are telemetry of the meter device.
    latest = {r["point"]: r for r in readers.read_latest(connect(rig.db, readonly=True),
                                                         "pump-meter")}
    assert latest["power_w"]["value"] == pytest.approx(PUMP_KW * 1000, rel=1e-3)
    assert 200 <= latest["voltage_v"]["value"] <= 250
    # The site's load energy is the inverter's, not inverter + meters.
    site_load = _site_energy_kwh(rig.db)["load"] - site_before
    assert site_load == pytest.approx(rig.sim.plant.energy.served_kwh - served0, rel=0.02,
                                      abs=0.01)
    # Per load and local day, through the reader.
    meters = {"pump-meter": "exchange-pump", "farm-meter": "farmhouse"}
    day = readers.read_load_energy(connect(rig.db, readonly=True), meters, "1d", 0)
    by_load = {r["load"]: r["wh"] / 1000 for r in day}
    assert by_load["exchange-pump"] == pytest.approx(pump1 - first, abs=1e-4)
    assert set(by_load) == {"exchange-pump", "farmhouse"}
