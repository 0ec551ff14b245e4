"""The smart-home example end to end (issue 18): the simulator serves a Deye hybrid inverter,
an Eastron SDM120 on the air conditioner and a relay board on one RS485 line; the controller
reads them; a customer logs in on a phone with the demo's customer key and switches the air
conditioner off; the simulator's relay follows and the meter's power, as the controller reads
it over Modbus, drops to zero."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from offgrid.demo_cmd import DemoSite
from tests.support import require_tool, wait_for

pytestmark = pytest.mark.slow

SMART_HOME = Path(__file__).resolve().parents[2] / "examples" / "smart-home-ben-tre.toml"
PHONE = {"width": 390, "height": 844}
LOAD, CHANNEL, METER = "aircon", 0, "aircon-meter"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    require_tool("socat")
    site = DemoSite(tmp_path_factory.mktemp("smart-home"), speed=30.0, api_port=0,
                    example=SMART_HOME)
    # early afternoon: the air conditioner's window, the battery well charged
    afternoon = datetime.now(site.site.tz).replace(hour=13, minute=0, second=0, microsecond=0)
    with site.site_file.open("a", encoding="utf-8") as f:
        f.write(f"\n[sim]\nstart = {afternoon.isoformat()}\n")
    try:
        site.start()
        yield site
    finally:
        site.stop()




def _get(home: DemoSite, path: str) -> Any:
    req = urllib.request.Request(home.url.rstrip("/") + path,
                                 headers={"Authorization": f"Bearer {home.key}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def meter_w(home: DemoSite) -> float | None:
    """The meter's power as the controller last read it over Modbus [W]."""
    for p in _get(home, "/api/v1/points"):
        if p["device"] == METER and p["point"] == "power_w" and p["quality"] == "good":
            return float(p["value"])
    return None


def relay_on(home: DemoSite) -> bool:
    with urllib.request.urlopen(home.control_url.rstrip("/") + "/state", timeout=5) as r:
        return bool(json.load(r)["relays"]["relays"][CHANNEL])


def test_the_customer_switches_the_air_conditioner_off_and_the_meter_drops(
        home: DemoSite, browser: Browser) -> None:
    assert home.customer_load == LOAD and home.customer_key
    # the controller reads the hybrid inverter and the meter; the compressor runs (it cycles
    # on and off at full power, so wait for an "on" minute)
    wait_for("the air conditioner's compressor on the meter",
             lambda: relay_on(home) and (meter_w(home) or 0.0) > 500.0, timeout_s=120.0)
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(home.url)
    page.fill("#key", home.customer_key)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/static/customer.html", timeout=30_000)
    expect(page.locator(f"[data-testid=appl-{LOAD}]")).to_be_visible(timeout=30_000)
    expect(page.locator("body")).not_to_contain_text("house")  # only its own appliance
    page.click(f"[data-testid=switch-{LOAD}-off]")
    expect(page.locator("#cmd-msg")).to_have_class("cmd-msg good", timeout=60_000)
    wait_for("the simulator's relay off", lambda: not relay_on(home))
    wait_for("the meter at zero", lambda: meter_w(home) == 0.0)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.close()
