"""Fixtures: the shrimp site with free loopback ports, its hourly inputs, and plants."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hardware_sim.inputs import Inputs, build_inputs
from hardware_sim.plant import Plant
from sitefile import Site, load_site, parse_site
from tests.conftest import SHRIMP
from tests.support import free_port, require_tool

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
