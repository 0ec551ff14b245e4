"""The customer page in headless Chromium on a phone-sized screen, against the live simulated
site (simulator, controller and API as real processes): a customer logs in with a key made by
``offgrid keys create --role customer --loads …``, sees its own appliance only, and switches
its flexible load; the command goes through the controller and the simulator's relay follows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Live
from tests.support import wait_for

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
LOAD, CHANNEL = "exchange-pump", 6  # the shrimp farm's flexible load and its relay




def customer_key(live: Live) -> str:
    """A customer key for the pump, made by the command line against the demo's site file."""
    out = subprocess.run([sys.executable, "-m", "offgrid", "keys", "create",
                          str(live.site.site_file), "--db", str(live.site.database), "--role",
                          "customer", "--loads", LOAD, "--name", "e2e-customer"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert "customer key" in out.stderr and f"for {LOAD}" in out.stderr
    return out.stdout.strip()


def test_the_demo_made_a_customer_key_for_its_flexible_load(live: Live) -> None:
    assert live.site.customer_load == LOAD and live.site.customer_key.startswith("ogk_")


def test_customer_switches_its_flexible_load_on_a_phone(browser: Browser, live: Live,
                                                        tmp_path: Path) -> None:
    key = customer_key(live)
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # through the dashboard's login: a customer key is sent on to its own page
    page.goto(live.site.url)
    page.evaluate("localStorage.setItem('offgrid.lang', 'vi')")
    page.reload()
    page.fill("#key", key)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/static/customer.html", timeout=30_000)
    expect(page.locator("[data-testid=customer]")).to_be_visible(timeout=30_000)

    card = page.locator(f"[data-testid=appl-{LOAD}]")
    expect(card).to_be_visible()
    expect(page.locator(".appl")).to_have_count(1)  # its own appliance only
    expect(page.locator("body")).not_to_contain_text("farmhouse")
    expect(page.locator("body")).not_to_contain_text("aerators")
    expect(card).to_contain_text("Số giờ bật")
    expect(page.locator(f"[data-testid=shed-{LOAD}]")).to_contain_text("thứ 1 trong 2")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # its style sheet applies (the API's CSP allows no inline style)
    assert page.evaluate(
        f"getComputedStyle(document.querySelector('[data-testid=appl-{LOAD}] .head')).display"
    ) == "flex"

    now_on = live.sim_state()["relays"]["relays"][CHANNEL]
    page.click(f"[data-testid=switch-{LOAD}-{'off' if now_on else 'on'}]")
    expect(page.locator("#cmd-msg")).to_have_class("cmd-msg good", timeout=60_000)
    wait_for("the simulator's relay", lambda: live.sim_state()["relays"]["relays"][CHANNEL]
             is (not now_on))
    state = page.locator(f"[data-testid=load-state-{LOAD}]")
    expect(state).to_have_text("Tắt" if now_on else "Bật", timeout=30_000)
    expect(card).to_contain_text("Bật/tắt bằng tay đến")

    page.click("#lang")
    expect(page.locator("h2.sub")).to_have_text("My appliances")
    expect(state).to_have_text("Off" if now_on else "On")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not errors

    shot = tmp_path / "customer-phone.png"
    page.screenshot(path=str(shot), full_page=True)
    keep = os.environ.get("OFFGRID_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)
    # put the pump back as it was (an override too, for the hour) for the tests after this
    page.click(f"[data-testid=switch-{LOAD}-{'on' if now_on else 'off'}]")
    wait_for("the relay back", lambda: live.sim_state()["relays"]["relays"][CHANNEL]
             is now_on)
    page.close()
