"""The dashboard in headless Chromium (Playwright for Python on the chromium on PATH),
against the live simulated site: log in, watch values change, switch a load as an operator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from api import keys
from api.roles import Role
from store.writer import Store
from tests.conftest import SHRIMP
from tests.e2e.conftest import Live
from tests.support import free_port, wait_for

pytestmark = pytest.mark.slow





def log_in(browser: Browser, live: Live, role: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live.site.url)
    page.fill("#key", live.keys[role])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#dash")).to_be_visible()
    expect(page.locator("#live")).not_to_have_class("live off", timeout=30_000)
    assert not errors
    return page


def test_wrong_key_is_refused(browser: Browser, live: Live) -> None:
    page = browser.new_page()
    page.goto(live.site.url)
    page.fill("#key", "ogk_000000000000_" + "A" * 43)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).not_to_be_empty()
    expect(page.locator("#dash")).to_be_hidden()
    page.close()


def test_operator_watches_and_switches_a_load(browser: Browser, live: Live,
                                              tmp_path: Path) -> None:
    page = log_in(browser, live, "operator")
    pv = page.locator("[data-testid=flow-pv]")
    first = pv.text_content()
    # live values arrive over the event stream and the page redraws itself
    page.wait_for_function("(t) => document.querySelector('[data-testid=flow-pv]')"
                           ".textContent !== t", arg=first, timeout=60_000)
    expect(page.locator("[data-testid=aerator-unit]")).to_have_count(6)
    expect(page.locator("#energy tr")).not_to_have_count(0)
    # every simulated device shows as online (the list is refreshed every minute)
    n_devices = len(live.sim_state()["devices"])
    expect(page.locator("#devices li.dev")).to_have_count(n_devices)
    expect(page.locator("#devices li.dev.online")).to_have_count(n_devices, timeout=90_000)

    channel = 7  # the farmhouse
    now_on = live.sim_state()["relays"]["relays"][channel]
    button = page.locator(f"[data-testid=switch-farmhouse-{'off' if now_on else 'on'}]")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#cmd-msg")).to_have_class("cmd-msg good", timeout=30_000)
    wait_for("the simulator's relay", lambda: live.sim_state()["relays"]["relays"][channel]
             is (not now_on))
    expect(page.locator("[data-testid=load-state-farmhouse]")).to_contain_text(
        "Tắt" if now_on else "Bật", timeout=30_000)

    page.wait_for_timeout(500)  # let the flow animation settle for the picture
    shot = tmp_path / "dashboard-operator.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    keep = os.environ.get("OFFGRID_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)
    page.close()


def test_viewer_sees_no_controls_and_can_switch_language(browser: Browser, live: Live) -> None:
    page = log_in(browser, live, "viewer")
    expect(page.locator("[data-testid=switch-farmhouse-off]")).to_be_hidden()
    heading = page.locator(".flow-card h2")
    before = heading.text_content()
    page.click("#lang")
    expect(heading).not_to_have_text(before or "")
    assert {before, heading.text_content()} == {"Power flow", "Dòng năng lượng"}
    page.close()


def test_banner_says_the_controller_is_not_running(browser: Browser, tmp_path: Path) -> None:
    """`offgrid serve` on a database whose controller last beat an hour ago: the dashboard
    says so, in Vietnamese first and in English after switching."""
    db = tmp_path / "site.db"
    store = Store(db)
    store.set_state(time.time() - 3600, "heartbeat", {"ts": time.time() - 3600, "cycle_s": 5})
    store.close()
    conn = keys.connect(db)
    key = keys.create_key(conn, Role.viewer, "ops", by="test")[0]
    conn.close()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "offgrid", "serve", str(SHRIMP), "--db",
                             str(db), "--host", "127.0.0.1", "--port", str(port)])
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for("the API", lambda: _answers(url + "healthz"))
        page = browser.new_page()
        page.goto(url)
        page.fill("#key", key)
        page.click("#login-form button[type=submit]")
        banner = page.locator("[data-testid=controller-down]")
        expect(banner).to_be_visible(timeout=30_000)
        expect(banner).to_contain_text("Bộ điều khiển không chạy")
        page.click("#lang")
        expect(banner).to_contain_text("Controller not running")
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_reliability_panel_shows_the_figures_of_known_interruptions(browser: Browser,
                                                                    tmp_path: Path) -> None:
    """`offgrid serve` on a store holding known interruptions this year: the panel shows the
    year to date as worked out by hand, with each language's decimal separator.

    The shrimp site serves 2 customers (aerators and farmhouse; the pump is flexible):
    farmhouse 90 min unplanned + aerators 30 min planned = 120 customer-minutes → SAIDI 60.0
    (planned 15.0, unplanned 45.0); 2 customers interrupted → SAIFI 1.00 (0.50 + 0.50); a
    3-minute cut of the farmhouse → MAIFI 0.50; the pump held off 2 h → curtailment 2.0 h.
    """
    now = time.time()
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    year_start = datetime(datetime.fromtimestamp(now, tz).year, 1, 1, tzinfo=tz).timestamp()
    t0 = max(year_start + 60.0, now - 3 * 86400.0)
    db = tmp_path / "site.db"
    store = Store(db, "Asia/Ho_Chi_Minh")
    for load, customers, planned, start_min, minutes in [
            ("farmhouse", 1, False, 0, 90), ("aerators", 1, True, 100, 30),
            ("farmhouse", 1, False, 200, 3)]:
        store.start_interruption(t0 + start_min * 60, load, "load_shedding",
                                 customers=customers, planned=planned)
        store.end_interruption(t0 + (start_min + minutes) * 60, load)
    store.start_curtailment(t0 + 300 * 60, "exchange-pump", "load_shedding")
    store.end_curtailment(t0 + 420 * 60, "exchange-pump")
    store.set_state(now, "heartbeat", {"ts": now, "cycle_s": 5})
    store.close()
    conn = keys.connect(db)
    key = keys.create_key(conn, Role.viewer, "ops", by="test")[0]
    conn.close()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "offgrid", "serve", str(SHRIMP), "--db",
                             str(db), "--host", "127.0.0.1", "--port", str(port)])
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for("the API", lambda: _answers(url + "healthz"))
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        _check_reliability_panel(page, url, key)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _check_reliability_panel(page: Page, url: str, key: str) -> None:
    """The figures of the docstring above, in Vietnamese, then in English."""
    try:
        page.goto(url)
        page.evaluate("localStorage.setItem('offgrid.lang', 'vi')")
        page.reload()
        page.fill("#key", key)
        page.click("#login-form button[type=submit]")
        cell = page.locator("[data-testid=rel-ytd-saidi]")
        expect(cell).to_have_text("60,0", timeout=30_000)
        expect(page.locator("[data-testid=rel-ytd-saidi-planned]")).to_have_text(
            "có kế hoạch 15,0")
        expect(page.locator("[data-testid=rel-ytd-saidi-unplanned]")).to_have_text("sự cố 45,0")
        expect(page.locator("[data-testid=rel-ytd-saifi]")).to_have_text("1,00")
        expect(page.locator("[data-testid=rel-ytd-maifi]")).to_have_text("0,50")
        expect(page.locator("[data-testid=rel-ytd-curtail]")).to_have_text("2,0")
        expect(page.locator("#reliability-note")).to_contain_text("SAIDI ≤ 150 phút/năm")
        # SAIDI 60 of 150 for the year: within the target, the bar at 40 %
        expect(page.locator("[data-testid=reliability] tr.ytd td.rel.ok")).to_have_count(2)
        page.click("#lang")
        expect(cell).to_have_text("60.0")
        expect(page.locator("[data-testid=rel-ytd-saifi-planned]")).to_have_text("planned 0.50")
        expect(page.locator("#reliability-note")).to_contain_text("SAIDI ≤ 150 min/year")
    finally:
        page.close()


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.HTTPError:
        return True  # 503: up, and saying the controller is not running
    except OSError:
        return False
    return True
