"""A whole simulated site for end-to-end tests: ``offgrid sim``, ``offgrid run`` and
``offgrid serve`` as real processes on loopback (the same launcher as ``offgrid demo``)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from offgrid.demo_cmd import DemoSite
from tests.support import require_tool

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
"""Headless Chromium, offline: the pages are self-contained."""
SPEED = 60.0
POLL_TIMEOUT_S = 60.0
LAST = "test_acceptance.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The acceptance test drives the plant (pauses it, runs the generator, charges the
    battery): it runs after the other tests of the live site, which watch the demo as a user
    would."""
    items.sort(key=lambda item: item.path.name == LAST)


@dataclass
class Live:
    site: DemoSite
    keys: dict[str, str]
    started_mono: float  # when the three processes were ready [s, monotonic]

    @property
    def base(self) -> str:
        return self.site.url.rstrip("/")

    def sim_state(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.site.control_url.rstrip("/") + "/state",
                                    timeout=5) as r:
            state: dict[str, Any] = json.load(r)
        return state

    def sim_speed(self, speed: float) -> None:
        """Set the simulator's speed through its control port (0 pauses the plant)."""
        req = urllib.request.Request(self.site.control_url.rstrip("/") + "/speed",
                                     data=json.dumps({"speed": speed}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).close()


def cli_key(site: DemoSite, role: str) -> str:
    """A key made by ``offgrid keys create`` (the key is the only line on stdout)."""
    out = subprocess.run([sys.executable, "-m", "offgrid", "keys", "create", "--db",
                          str(site.database), "--role", role, "--name", f"e2e-{role}"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert "shown only once" in out.stderr
    return out.stdout.strip()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (playwright) for the page tests of a module."""
    chromium = require_tool("chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The demo's site as real processes, its plant starting at 07:00 today (local)."""
    require_tool("socat")  # the simulator's RTU pty
    site = DemoSite(tmp_path_factory.mktemp("demo"), speed=SPEED, api_port=0)
    # Start the simulated day in the morning, whatever the wall clock says, so that PV and the
    # state of charge are moving while the tests watch (a full battery in the afternoon is not).
    morning = datetime.now(site.site.tz).replace(hour=7, minute=0, second=0, microsecond=0)
    with site.site_file.open("a", encoding="utf-8") as f:
        f.write(f"\n[sim]\nstart = {morning.isoformat()}\n")
    try:
        site.start()
        started = time.monotonic()
        keys = {"admin": site.key, "viewer": cli_key(site, "viewer"),
                "operator": cli_key(site, "operator"), "customer": site.customer_key}
        yield Live(site, keys, started)
    finally:
        site.stop()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_site(tmp_path_factory) as site:
        yield site
