"""Fixtures: the shrimp site with free loopback ports, its hourly inputs, and plants."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hardware_sim.inputs import Inputs, build_inputs
from hardware_sim.plant import Plant
from sitefile import Site, load_site, parse_site
from tests.conftest import SHRIMP
from tests.support import free_port, require_tool

OFFGRID = [sys.executable, "-m", "offgrid"]


class SimProcess:
    """A running ``offgrid sim``: its process, its start-up lines and its control API."""

    def __init__(self, proc: subprocess.Popen[str], lines: list[str]) -> None:
        self.proc = proc
        self.lines = lines
        match = next(m for line in lines if (m := re.search(r"Control: (http://\S+)", line)))
        self.control = match.group(1).rstrip("/")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.control + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())


@contextmanager
def running_sim(site_file: Path, *args: str) -> Iterator[SimProcess]:
    """``offgrid sim SITE_FILE`` paused (``--speed 0``), seeded, with a control port and
    ``args``, once it says Ready; stopped with Ctrl-C afterwards (if still running)."""
    proc = subprocess.Popen(
        [*OFFGRID, "sim", str(site_file), "--speed", "0", "--control-port", "0", "--seed", "1",
         *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith("Ready"):
            break
    else:
        err = proc.stderr.read() if proc.stderr else ""
        pytest.fail(f"offgrid sim did not start: {lines} {err}")
    try:
        yield SimProcess(proc, lines)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=20)


# 1 March, 18:00 and 12:00 in Bac Lieu (UTC+7).
DUSK = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
NOON = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def shrimp_data() -> dict[str, Any]:
    return tomllib.loads(SHRIMP.read_text(encoding="utf-8"))


def site_with(data: dict[str, Any]) -> Site:
    return parse_site(data, SHRIMP.parent, SHRIMP)


@pytest.fixture(scope="session")
def shrimp() -> Site:
    return load_site(SHRIMP)


@pytest.fixture(scope="session")
def shrimp_inputs(shrimp: Site) -> Inputs:
    return build_inputs(shrimp)


@pytest.fixture
def make_plant(shrimp: Site, shrimp_inputs: Inputs) -> Callable[..., Plant]:
    def make(start: datetime = DUSK, site: Site | None = None, seed: int = 0) -> Plant:
        return Plant(site or shrimp, shrimp_inputs, start, seed=seed)
    return make


@pytest.fixture
def local_site(tmp_path: Path) -> Site:
    """The shrimp site with a free TCP port and its RTU bus at a path under tmp_path (the
    simulator makes the pty with socat)."""
    require_tool("socat")
    data = shrimp_data()
    for dev in data["devices"]:
        if dev["transport"] == "tcp":
            dev["port"] = free_port()
        else:
            dev["serial_port"] = str(tmp_path / "ttyUSB0")
    return site_with(data)
