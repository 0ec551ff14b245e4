"""The loopback HTTP control port, and faults scheduled in the site file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from hardware_sim.control import ControlServer
from hardware_sim.inputs import Inputs
from hardware_sim.simulator import Simulator
from sitefile import Site
from tests.hardware_sim.conftest import DUSK, shrimp_data, site_with


@pytest.fixture
async def http(shrimp: Site, shrimp_inputs: Inputs) -> AsyncIterator[httpx.AsyncClient]:
    sim = Simulator(shrimp, DUSK, speed=0, inputs=shrimp_inputs, emit=lambda _: None)
    control = ControlServer(sim)
    port = await control.start(0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        yield client
    await control.close()


async def test_state_reports_the_plant(http: httpx.AsyncClient) -> None:
    r = await http.get("/state")
    assert r.status_code == 200
    state = r.json()
    for key in ("soc_pct", "pv_kw", "load_kw", "relays", "do_mg_l", "inverter_tripped",
                "generator", "energy_kwh", "devices", "faults"):
        assert key in state
    assert state["t"] == DUSK.isoformat()
    assert set(state["devices"]) == {"mppt-1", "mppt-2", "relays", "do-probe", "genset",
                                     "inverter"}


async def test_step_advances_virtual_time(http: httpx.AsyncClient) -> None:
    r = await http.post("/step", json={"seconds": 3600})
    assert r.status_code == 200
    assert r.json()["t"] == (DUSK + timedelta(hours=1)).isoformat()
    assert (await http.post("/step", json={"seconds": -1})).status_code == 422
    assert (await http.post("/step", json={"seconds": "x"})).status_code == 422


async def test_inject_and_clear_faults(http: httpx.AsyncClient) -> None:
    r = await http.post("/faults", json={"device": "do-probe", "kind": "silent",
                                         "duration_s": 600})
    assert r.status_code == 201
    fault = r.json()
    assert fault["start"] == DUSK.isoformat() and fault["duration_s"] == 600
    state = (await http.get("/state")).json()
    assert [f["id"] for f in state["faults"]] == [fault["id"]]
    r = await http.delete(f"/faults/{fault['id']}")
    assert r.status_code == 200
    assert (await http.get("/state")).json()["faults"] == []
    log = (await http.get("/faults")).json()
    assert [e["event"] for e in log] == ["started", "ended"]
    assert (await http.delete("/faults/99")).status_code == 404


@pytest.mark.parametrize("body", [
    {"device": "nope", "kind": "silent"},
    {"device": "relays", "kind": "melt"},
    {"device": "relays", "kind": "relay_stuck", "params": {"channel": 9}},
    {"device": "relays", "kind": "silent", "params": {"bogus": 1}},
    {"kind": "silent"},
])
async def test_bad_fault_requests(http: httpx.AsyncClient, body: dict[str, object]) -> None:
    r = await http.post("/faults", json=body)
    assert r.status_code == 422
    assert "error" in r.json()


async def test_reset_and_routing(http: httpx.AsyncClient) -> None:
    r = await http.post("/reset", json={"what": "inverter"})
    assert r.json() == {"inverter": "on"}
    assert (await http.post("/reset", json={"what": "cat"})).status_code == 422
    assert (await http.get("/nope")).status_code == 404
    assert (await http.put("/state")).status_code == 405
    assert (await http.post("/step", content=b"{not json")).status_code == 400
    assert (await http.post("/speed", json={"speed": 60})).json() == {"speed": 60}


def test_scheduled_faults_from_the_site_file(shrimp_inputs: Inputs) -> None:
    data = shrimp_data()
    data["sim"] = {"faults": [
        {"device": "relays", "kind": "relay_stuck", "at_s": 60, "duration_s": 120,
         "params": {"channel": 2, "state": "closed"}},
    ]}
    sim = Simulator(site_with(data), DUSK, speed=0, inputs=shrimp_inputs, emit=lambda _: None)
    sim.advance(59)
    assert sim.plant.contacts["relays"][2] is False
    sim.advance(2)
    assert sim.plant.contacts["relays"][2] is True
    assert sim.plant.aerator_kw == pytest.approx(1.5)
    sim.advance(120)
    assert sim.plant.contacts["relays"][2] is False
    assert [e["event"] for e in sim.fault_log] == ["started", "ended"]
