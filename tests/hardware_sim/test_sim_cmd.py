"""``offgrid sim`` as a process, checked with independent Modbus masters: mbpoll (TCP and RTU
on the pty) and pysunspec2."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sunspec2.modbus.client as sunspec_client
import tomlkit

from tests.conftest import HOME, SHRIMP
from tests.hardware_sim.conftest import OFFGRID, SimProcess, running_sim
from tests.support import free_port, require_tool

pytestmark = pytest.mark.slow
START = "2026-03-01T05:00:00Z"  # noon in Bac Lieu


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sim")


@pytest.fixture(scope="module")
def site_file(workdir: Path) -> tuple[Path, int]:
    doc = tomlkit.parse(SHRIMP.read_text(encoding="utf-8"))
    port = free_port()
    for dev in doc["devices"]:
        if dev["transport"] == "tcp":
            dev["port"] = port
    path = workdir / "site.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path, port


@pytest.fixture(scope="module")
def sim(site_file: tuple[Path, int], workdir: Path) -> Iterator[SimProcess]:
    """One simulator process for the module; the last test stops it with Ctrl-C."""
    require_tool("socat")  # the simulator's RTU pty
    path, _ = site_file
    with running_sim(path, "--pty-dir", str(workdir / "pty"), "--start", START) as sim:
        yield sim


def mbpoll(*args: str) -> list[int]:
    """Run mbpoll once; the values it printed (``[ref]: value`` lines)."""
    out = subprocess.run(["mbpoll", "-1", "-0", "-o", "2", *args], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return [int(float(v)) for v in re.findall(r"^\[\d+\]:\s+(-?[\d.]+)", out, re.M)]


def mbpoll_float(*args: str) -> float:
    out = subprocess.run(["mbpoll", "-1", "-0", "-o", "2", *args], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return float(re.findall(r"^\[\d+\]:\s+(-?[\d.eE+-]+)", out, re.M)[0])


def test_mbpoll_reads_vendor_addresses_over_tcp_and_rtu(sim: SimProcess, workdir: Path,
                                                        site_file: tuple[Path, int]) -> None:
    require_tool("mbpoll")
    _, port = site_file
    tty = str(workdir / "pty" / "ttyUSB0")
    assert any(f"-> {tty}" in line for line in sim.lines)
    rtu = ["-m", "rtu", "-b", "9600", "-P", "none", "-d", "8", "-s", "1"]
    tcp = ["-m", "tcp", "-p", str(port)]
    sim.call("POST", "/step", {"seconds": 60})
    # Relay board (unit 3): switch aerator 0 on with FC05, read the coils back with FC01.
    subprocess.run(["mbpoll", "-0", "-o", "2", *rtu, "-a", "3", "-t", "0", "-r", "0", tty, "1"],
                   capture_output=True, timeout=30, check=True)
    sim.call("POST", "/step", {"seconds": 10})
    state = sim.call("GET", "/state")
    assert mbpoll(*rtu, "-a", "3", "-t", "0", "-r", "0", "-c", "8", tty) == [1, 0, 0, 0, 0, 0,
                                                                             0, 0]
    # SunSpec over TCP: marker at 40000, model 103 W at 40070 + 14.
    assert mbpoll(*tcp, "-a", "1", "-r", "40000", "-c", "2", "127.0.0.1") == [0x5375, 0x6E53]
    assert mbpoll(*tcp, "-a", "1", "-r", "40084", "127.0.0.1") == [round(state["load_kw"] * 1000)]
    assert state["load_kw"] == pytest.approx(1.5)
    # EPEver (unit 1) over RTU: 0x3104 battery V ×100, 0x311A SOC, 0x3102 PV W (u32, low first).
    volts, = mbpoll(*rtu, "-a", "1", "-t", "3", "-r", str(0x3104), tty)
    assert volts / 100 == pytest.approx(state["battery_v"], abs=0.011)
    soc, = mbpoll(*rtu, "-a", "1", "-t", "3", "-r", str(0x311A), tty)
    assert soc == round(state["soc_pct"])
    pv_w, = mbpoll(*rtu, "-a", "1", "-t", "3:int", "-r", str(0x3102), tty)
    assert pv_w / 100 > 1000
    # DO probe (unit 4): float32 big-endian mg/L at 0x0002.
    do = mbpoll_float(*rtu, "-a", "4", "-t", "4:float", "-B", "-r", "2", tty)
    assert do == pytest.approx(state["do_mg_l"], abs=0.01)
    # Generator (unit 5): fuel % at 0x0015.
    assert mbpoll(*rtu, "-a", "5", "-r", str(0x0015), tty) == [100]


def test_pysunspec2_scans_the_inverter(sim: SimProcess, site_file: tuple[Path, int]) -> None:
    _, port = site_file
    sim.call("POST", "/step", {"seconds": 30})
    state = sim.call("GET", "/state")
    dev = sunspec_client.SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1",
                                                      ipport=port, timeout=5)
    try:
        dev.scan()
        assert {1, 103, 123, 160, 124} <= {k for k in dev.models if isinstance(k, int)}
        common = dev.models[1][0]
        assert common.Mn.cvalue == "offgrid-sim"
        inv = dev.models[103][0]
        assert inv.St.cvalue == 4  # MPPT / on
        assert inv.Hz.cvalue == pytest.approx(50.0)
        storage = dev.models[124][0]
        assert storage.ChaState.cvalue == pytest.approx(state["soc_pct"], abs=0.1)
        assert storage.InBatV.cvalue == pytest.approx(state["battery_v"], abs=0.01)
    finally:
        dev.close()


def test_speed_runs_the_clock(sim: SimProcess) -> None:
    t0 = sim.call("GET", "/state")["t"]
    assert sim.call("POST", "/speed", {"speed": 600}) == {"speed": 600}
    seen = t0
    for _ in range(10_000):  # wait for the clock to tick (no sleeping, no timing asserted)
        seen = sim.call("GET", "/state")["t"]
        if seen > t0:
            break
    sim.call("POST", "/speed", {"speed": 0})
    assert seen > t0


def test_ctrl_c_stops_cleanly(sim: SimProcess, workdir: Path) -> None:
    tty = workdir / "pty" / "ttyUSB0"
    assert tty.is_symlink()
    sim.proc.send_signal(signal.SIGINT)
    out, err = sim.proc.communicate(timeout=20)
    assert sim.proc.returncode == 0, err
    assert "Stopped" in out
    assert "Traceback" not in err
    assert not tty.exists() and not tty.is_symlink()


def test_bad_input_exits_2(tmp_path: Path) -> None:
    r = subprocess.run([*OFFGRID, "sim", str(tmp_path / "missing.toml")], check=False,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = subprocess.run([*OFFGRID, "sim", str(SHRIMP), "--speed", "-1"],
                       check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    home = tmp_path / "no-devices.toml"
    home.write_text(HOME.read_text(encoding="utf-8").split("[[devices]]")[0]
                    + "[control]\nshed_soc_pct = 25\nreconnect_soc_pct = 40\n",
                    encoding="utf-8")
    r = subprocess.run([*OFFGRID, "sim", str(home)], check=False, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "no [[devices]]" in r.stderr


def test_example_runs_with_the_default_pty_dir(site_file: tuple[Path, int],
                                               tmp_path: Path) -> None:
    """The example's /dev/ttyUSB0 is served at <tmp>/offgrid-pty/ttyUSB0, never faked."""
    require_tool("socat")
    path, _ = site_file
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([*OFFGRID, "sim", str(path), "--speed", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Ready"):
            break
    tty = tmp_path / "offgrid-pty" / "ttyUSB0"
    assert any(f"rtu:///dev/ttyUSB0 -> {tty}" in line for line in lines), lines
    assert tty.is_symlink()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Stopped" in out, err
    assert not tty.is_symlink()
