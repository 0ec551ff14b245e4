"""`offgrid run`: bad input exits 2; as a process it notifies systemd, stops on SIGTERM and
leaves the numeric stack unloaded."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.service import pty_map
from offgrid.cli import app
from store import readers
from store.schema import connect
from tests.controller.test_durability import quiet_site
from tests.support import require_tool

runner = CliRunner()


@pytest.mark.parametrize(("text", "names"), [
    ("[site]\nname = 'x'\nlatitude = 123\nlongitude = 0\n", "site.latitude"),  # bad value
    ("[site]\nname = 'x'\nlatitude = 10\nlongitude = 100\n", "[[devices]]"),  # no devices
])
def test_bad_site_file_exits_2(tmp_path: Path, text: str, names: str) -> None:
    site = tmp_path / "s.toml"
    site.write_text(text)
    result = runner.invoke(app, ["run", str(site)])
    assert result.exit_code == 2
    assert names in result.stderr


def test_missing_database_runs_degraded(tmp_path: Path) -> None:
    """A database that cannot be created does not stop control: the controller says so and
    runs its cycles (the devices here are silent; a live site is in test_storage.py)."""
    site = quiet_site(tmp_path)
    result = runner.invoke(app, ["run", str(site), "--db", str(tmp_path / "no" / "x.db"),
                                 "--pty-dir", str(tmp_path), "--cycles", "2"])
    assert result.exit_code == 0, result.stderr
    assert "DEGRADED" in result.stderr and "cannot open database" in result.stderr


def test_pty_map() -> None:
    assert pty_map(["/dev/ttyUSB0"], Path("/tmp/p")) == {"/dev/ttyUSB0": "/tmp/p/ttyUSB0"}
    assert pty_map(["/dev/ttyUSB0"], None) == {}


@pytest.mark.slow
def test_run_notifies_systemd_and_stops_on_sigterm(tmp_path: Path) -> None:
    site = quiet_site(tmp_path, cycle_s=0.5)
    db = tmp_path / "run.db"
    sock_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        sock.settimeout(120)  # a bound on a hang, not a timing assertion
        proc = subprocess.Popen(
            [sys.executable, "-m", "offgrid", "run", str(site), "--db", str(db), "--pty-dir",
             str(tmp_path)], env={**__import__("os").environ, "NOTIFY_SOCKET": str(sock_path)},
            stderr=subprocess.PIPE, text=True)
        messages = [sock.recv(256).decode() for _ in range(3)]
        mapped = Path(f"/proc/{proc.pid}/maps").read_text(encoding="ascii")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0
    assert messages[0] == "READY=1"
    # Devices all silent: cycles are still healthy (the store works), so the watchdog is fed.
    assert messages[1:] == ["WATCHDOG=1", "WATCHDOG=1"]
    # The numeric stack (~110 MB) stays out of the controller process: its 150 MB budget.
    assert not [lib for lib in ("/numpy/", "/pandas/", "/scipy/", "/numba/") if lib in mapped]
    conn = connect(db, readonly=True)
    points = {(r["device"], r["point"]) for r in readers.read_latest(conn)}
    assert ("site", "aerators_on") in points


@pytest.mark.slow
def test_run_against_sim_process_over_tcp_and_pty(tmp_path: Path) -> None:
    """`offgrid sim --pty-dir D` and `offgrid run --pty-dir D` meet on the same ptys."""
    require_tool("socat")
    site = quiet_site(tmp_path, cycle_s=1.0)  # a free TCP port; RTU stays /dev/ttyUSB0
    pty_dir = tmp_path / "pty"
    pty_dir.mkdir()
    sim = subprocess.Popen([sys.executable, "-m", "offgrid", "sim", str(site), "--speed", "10",
                            "--pty-dir", str(pty_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert sim.stdout is not None
        for line in sim.stdout:
            if line.startswith("Ready"):
                break
        db = tmp_path / "e2e.db"
        run = subprocess.run([sys.executable, "-m", "offgrid", "run", str(site), "--db", str(db),
                              "--pty-dir", str(pty_dir), "--cycles", "6"],
                             check=False, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
    finally:
        sim.send_signal(signal.SIGINT)
        sim.wait(timeout=60)
    conn = connect(db, readonly=True)
    quality = {(r["device"], r["point"]): r["quality"] for r in readers.read_latest(conn)}
    for key in [("mppt-1", "soc_pct"), ("relays", "relay_0"), ("do-probe", "do_mg_l"),
                ("genset", "generator_running"), ("inverter", "ac_w")]:
        assert quality[key] == "good", key
    assert readers.read_active_alarms(conn) == []
