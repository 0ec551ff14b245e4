"""The hybrid inverters of issue 18 served by ``offgrid sim`` and read back at their vendors'
addresses by an independent master (mbpoll), then by our own maps (pymodbus + decode): the
values must be those of the plant, in the vendors' signs on the wire and in ours once decoded."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from pymodbus.client import ModbusTcpClient

from controller.devices import DRIVERS, Table, decode, plan_blocks
from tests.conftest import HOME
from tests.hardware_sim.conftest import OFFGRID, SimProcess, running_sim
from tests.hardware_sim.test_sim_cmd import mbpoll
from tests.support import free_port, require_tool

pytestmark = pytest.mark.slow
START = "2026-03-01T05:00:00Z"  # noon in Vietnam: the PV produces
UNITS = {"deye": ("deye_hybrid", 1), "growatt": ("growatt_spf", 2), "srne": ("srne_hybrid", 3),
         "gx": ("victron_gx", 100), "shunt": ("victron_battery", 225)}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The Con Dao household with its MPPT replaced by the five hybrid devices, on one TCP
    port (the PV is then reported by the hybrids, as on a site without separate MPPTs)."""
    doc = tomlkit.parse(HOME.read_text(encoding="utf-8"))
    port = free_port()
    devices = tomlkit.aot()
    for name, (driver, unit) in UNITS.items():
        dev = tomlkit.table()
        dev.update({"name": name, "driver": driver, "transport": "tcp", "host": "127.0.0.1",
                    "port": port, "unit_id": unit, "poll_s": 5})
        devices.append(dev)
    doc["devices"] = devices
    path = tmp_path_factory.mktemp("hybrid") / "site.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path, port


@pytest.fixture(scope="module")
def sim(site: tuple[Path, int]) -> Iterator[SimProcess]:
    path, _ = site
    with running_sim(path, "--start", START) as sim:
        yield sim


def _state(sim: SimProcess) -> dict[str, Any]:
    sim.call("POST", "/step", {"seconds": 60})
    state: dict[str, Any] = sim.call("GET", "/state")
    assert state["pv_kw"] > 0.1, "noon: the PV must produce"
    assert 0 < state["soc_pct"] < 100
    return state


def test_mbpoll_reads_the_vendor_addresses(sim: SimProcess, site: tuple[Path, int]) -> None:
    require_tool("mbpoll")
    _, port = site
    s = _state(sim)
    soc, volts = round(s["soc_pct"]), s["battery_v"]
    pv_w, load_w, batt_w = s["pv_kw"] * 1000, s["load_kw"] * 1000, s["battery_w"]
    tcp = ["-m", "tcp", "-p", str(port)]

    def read(unit: int, table: str, address: int, count: int = 1, *extra: str) -> list[int]:
        """16-bit registers as signed (mbpoll prints them as read), 32-bit as it decodes."""
        words = mbpoll(*tcp, "-a", str(unit), "-t", table, "-r", str(address), "-c",
                       str(count), *extra, "127.0.0.1")
        if ":" in table:
            return words
        return [w - 0x10000 if w >= 0x8000 else w for w in words]

    # Deye (unit 1), holding: 183 V ×100, 184 SOC, 186 PV1 W, 178 load W, 190 battery W with
    # the vendor's sign (+ = discharging).
    assert read(1, "4", 183, 2) == [round(volts * 100), soc]
    assert read(1, "4", 186)[0] == pytest.approx(pv_w, abs=1)
    assert read(1, "4", 178)[0] == pytest.approx(load_w, abs=1)
    assert read(1, "4", 190)[0] == pytest.approx(-batt_w, abs=1)

    # Growatt SPF (unit 2), input: 17 V ×100, 18 SOC, 3–4 PV1 W ×10 and 77–78 battery W ×10
    # (32-bit, high word first, + = discharging), 9–10 output W ×10.
    assert read(2, "3", 17, 2) == [round(volts * 100), soc]
    assert read(2, "3:int", 3, 1, "-B")[0] / 10 == pytest.approx(pv_w, abs=0.2)
    assert read(2, "3:int", 9, 1, "-B")[0] / 10 == pytest.approx(load_w, abs=0.2)
    assert read(2, "3:int", 77, 1, "-B")[0] / 10 == pytest.approx(-batt_w, abs=0.2)

    # SRNE (unit 3), holding: 0x0100 SOC, 0x0101 V ×10, 0x0102 A ×10 (+ = discharging),
    # 0x010A PV W, 0x021B load W.
    assert read(3, "4", 0x0100, 2) == [soc, round(volts * 10)]
    assert read(3, "4", 0x0102)[0] / 10 == pytest.approx(-batt_w / volts, abs=0.1)
    assert read(3, "4", 0x010A)[0] == pytest.approx(pv_w, abs=1)
    assert read(3, "4", 0x021B)[0] == pytest.approx(load_w, abs=1)

    # Victron GX system (unit 100): 840 V ×10, 842 W (+ = charging), 843 SOC, 850 PV DC W,
    # 817 AC consumption L1.
    assert read(100, "4", 840)[0] / 10 == pytest.approx(volts, abs=0.06)
    assert read(100, "4", 842)[0] == pytest.approx(batt_w, abs=1)
    assert read(100, "4", 843) == [soc]
    assert read(100, "4", 850)[0] == pytest.approx(pv_w, abs=1)
    assert read(100, "4", 817)[0] == pytest.approx(load_w, abs=1)
    # Victron battery service (unit 225): 259 V ×100, 266 SOC ×10.
    assert read(225, "4", 259)[0] / 100 == pytest.approx(volts, abs=0.006)
    assert read(225, "4", 266)[0] / 10 == pytest.approx(s["soc_pct"], abs=0.06)

    # Physically plausible: an LFP pack of the site's voltage, PV by day, a load being served.
    assert 10.0 < volts < 60.0 and pv_w > 0 and load_w >= 0


def test_our_maps_decode_the_plant_in_our_signs(sim: SimProcess,
                                                site: tuple[Path, int]) -> None:
    _, port = site
    s = _state(sim)
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=5)
    assert client.connect()  # type: ignore[no-untyped-call]
    try:
        for name, (driver, unit) in UNITS.items():
            rmap = DRIVERS[driver].static_map
            assert rmap is not None
            data = {}
            for b in plan_blocks(rmap):
                read = (client.read_input_registers if b.table is Table.INPUT
                        else client.read_holding_registers)
                resp = read(b.address, count=b.count, device_id=unit)
                assert not resp.isError(), (name, b)
                data[b] = list(resp.registers)
            v = decode(rmap, data)
            assert v["soc_pct"] == pytest.approx(s["soc_pct"], abs=0.6), name
            assert v["battery_v"] == pytest.approx(s["battery_v"], abs=0.06), name
            bw = v["battery_w"]
            assert isinstance(bw, float | int)
            tol = max(2.0, 0.01 * abs(s["battery_w"]))
            assert bw == pytest.approx(s["battery_w"], abs=tol), name
            if driver != "victron_battery":
                assert v["ac_w"] == pytest.approx(s["load_kw"] * 1000, abs=1), name
                assert v["pv_w"] == pytest.approx(s["pv_kw"] * 1000, abs=1), name
                assert v.get("inverter_fault") in (False, None), name
    finally:
        client.close()  # type: ignore[no-untyped-call]


def test_the_hybrids_are_announced(sim: SimProcess) -> None:
    for name, (driver, unit) in UNITS.items():
        assert any(re.search(rf"Serving {name} \({driver}, unit {unit}\)", line)
                   for line in sim.lines), sim.lines


@pytest.mark.parametrize("unit_name", ["deye", "growatt", "srne", "gx"])
def test_the_controller_runs_on_one_hybrid(sim: SimProcess, site: tuple[Path, int],
                                           tmp_path: Path, unit_name: str) -> None:
    """``offgrid run`` with a single hybrid as the site's only device: the site figures come
    from its natures, with no change to the controller (battery W + charging)."""
    path, _ = site
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    devices = doc["devices"]
    assert isinstance(devices, list)
    only = tomlkit.aot()
    only.append(next(d for d in devices if d["name"] == unit_name))
    doc["devices"] = only
    one = tmp_path / "one.toml"
    one.write_text(tomlkit.dumps(doc), encoding="utf-8")
    s = _state(sim)
    db = tmp_path / "run.db"
    done = subprocess.run([*OFFGRID, "run", str(one), "--cycles", "2", "--db", str(db)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(db) as con:
        latest = {p: (v, q) for p, v, q in con.execute(
            "SELECT point, value, quality FROM latest WHERE device = 'site'")}
    assert latest["soc_pct"][1] == "good"
    assert latest["soc_pct"][0] == pytest.approx(s["soc_pct"], abs=0.6)
    assert latest["battery_w"][0] == pytest.approx(s["battery_w"], rel=0.01, abs=2)
    assert latest["pv_w"][0] == pytest.approx(s["pv_kw"] * 1000, abs=1)
    assert latest["load_w"][0] == pytest.approx(s["load_kw"] * 1000, abs=1)
