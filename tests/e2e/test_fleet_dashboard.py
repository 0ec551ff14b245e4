"""The fleet dashboard in headless Chromium, served by ``offgrid hub serve`` on the real
PostgreSQL and broker: every seeded site, the silent one marked NO DATA, each province's monthly
SAIDI/SAIFI as worked out by hand, no horizontal overflow on a desktop or a 390 px phone, and
an operator's command to a site that answers through the running ingest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from fleetwire.messages import CommandResult, Events, decode_command
from hub.schema import Conn
from tests.hub import conftest as hub_fixtures
from tests.hub.conftest import HUB_USER, RunningHub, TestSite
from tests.hub.servers import Broker
from tests.hub.test_api import (
    AN_GIANG,
    CA_MAU,
    EXPECTED,
    SEED,
    SILENT,
    Seeded,
    make_keys,
    seed,
)
from tests.support import free_port, wait_for

pytestmark = pytest.mark.slow

# the hub's PostgreSQL, broker and ingest (tests/hub/conftest.py), for this module too
pg_cluster = hub_fixtures.pg_cluster
hub_dsn = hub_fixtures.hub_dsn
hub_db = hub_fixtures.hub_db
broker = hub_fixtures.broker
running_hub = hub_fixtures.running_hub


@dataclass(frozen=True)
class Fleet:
    """The running fleet API: its address, a key per role (and scope), the seed's month."""

    url: str
    keys: dict[str, str]
    seeded: Seeded


@pytest.fixture
def fleet(hub_db: Conn, hub_dsn: str, broker: Broker, running_hub: RunningHub,
          tmp_path: Path) -> Iterator[Fleet]:
    """``offgrid hub serve`` on a seeded hub database, sending through the test broker."""
    seeded = seed(hub_db)
    keys = make_keys(hub_db)
    password = tmp_path / "hub.pw"
    password.write_text(broker.credentials[HUB_USER].password)
    port = free_port()
    proc = subprocess.Popen([
        sys.executable, "-m", "offgrid", "hub", "serve", "--dsn", hub_dsn,
        "--bind", f"127.0.0.1:{port}", "--broker", f"127.0.0.1:{broker.port}",
        "--user", HUB_USER, "--password-file", str(password), "--ca", str(broker.ca_file),
        "--client-id", f"hub-api-{port}", "--silent-after-s", "1800"])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("the fleet API", lambda: _answers(url + "/healthz"))
        yield Fleet(url, keys, seeded)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def log_in(browser: Browser, fleet: Fleet, role: str, width: int, sites: int = len(SEED)
           ) -> tuple[Page, list[str]]:
    """A page logged in with ``fleet.keys[role]`` (Vietnamese), showing ``sites`` sites; the
    list collects the page's script errors."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(fleet.url)
    page.evaluate("localStorage.setItem('offgrid.lang', 'vi')")
    page.reload()
    page.fill("#key", fleet.keys[role])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#fleet")).to_be_visible()
    if fleet.seeded.year != datetime.now(UTC).year:  # the first hours of a year: last December
        page.select_option("#year", str(fleet.seeded.year))
    expect(page.locator("[data-testid=sites] tbody tr")).to_have_count(sites)
    return page, errors


def no_overflow(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, "
                           "document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"horizontal overflow: {widths}"


def keep(page: Page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    folder = os.environ.get("OFFGRID_SCREENSHOT_DIR")
    if folder:
        shutil.copy(shot, Path(folder) / name)


def check_fleet_page(page: Page, fleet: Fleet) -> None:
    """Every site, the silent one marked, the provinces' figures of the seed month."""
    for s in SEED:
        row = page.locator(f"[data-testid=site-row-{s.site}]")
        expect(row).to_contain_text(s.name)
        expect(row).to_contain_text(s.province)
    expect(page.locator(".nodata")).to_have_count(1)
    expect(page.locator(f"[data-testid=no-data-{SILENT}]")).to_have_text("MẤT DỮ LIỆU")
    expect(page.locator(f"[data-testid=site-row-{SILENT}]")).to_contain_text("3 giờ trước")
    m = fleet.seeded.month
    for province, (saidi, saifi) in EXPECTED.items():
        cell = page.locator(f'[data-testid="rel-{province}-{m}"]')
        expect(cell.locator(f'[data-testid="rel-{province}-{m}-saidi"]')).to_have_text(
            f"{saidi:.1f}".replace(".", ","))
        expect(cell.locator(f'[data-testid="rel-{province}-{m}-saifi"]')).to_have_text(
            f"{saifi:.2f}".replace(".", ","))
        expect(cell).to_have_class("over")  # over a month's share of the targets: red


def test_every_site_and_the_provinces_figures_on_a_desktop_and_a_phone(
        browser: Browser, fleet: Fleet, tmp_path: Path) -> None:
    page, errors = log_in(browser, fleet, "viewer", 1200)
    check_fleet_page(page, fleet)
    no_overflow(page)
    keep(page, tmp_path, "fleet-1200.png")
    expect(page.locator("[data-testid=alarms]")).to_contain_text("Ôxy hòa tan thấp")
    page.click("#lang")
    expect(page.locator(f"[data-testid=no-data-{SILENT}]")).to_have_text("NO DATA")
    expect(page.locator("[data-testid=alarms]")).to_contain_text("Đất Mũi · Dissolved oxygen low")
    m = fleet.seeded.month
    expect(page.locator(f'[data-testid="rel-{AN_GIANG}-{m}-saidi"]')).to_have_text("54.0")
    expect(page.locator(f"[data-testid=site-row-{SILENT}]")).to_contain_text("3 hours ago")
    assert not errors
    page.close()

    phone, phone_errors = log_in(browser, fleet, "viewer", 390)
    check_fleet_page(phone, fleet)
    no_overflow(phone)
    keep(phone, tmp_path, "fleet-390.png")
    phone.click("[data-testid=site-row-site-c]")
    expect(phone.locator("#site-title")).to_contain_text("Đất Mũi")
    expect(phone.locator("[data-testid=site-figures]")).to_contain_text("4,1 mg/L")
    expect(phone.locator("#chart-soc path[d^='M']")).not_to_have_count(0)  # a drawn line
    expect(phone.locator(f'[data-testid="rel-site-c-{m}-saidi"]')).to_have_text("20,0")
    no_overflow(phone)
    keep(phone, tmp_path, "fleet-site-390.png")
    assert not phone_errors
    phone.close()


def test_a_province_operator_sends_a_command_and_sees_the_sites_answer(
        browser: Browser, fleet: Fleet, broker: Broker, tmp_path: Path) -> None:
    page, errors = log_in(browser, fleet, "an_giang", 1200, sites=2)  # its province only
    expect(page.locator("#rel-provinces")).not_to_contain_text(CA_MAU)
    with TestSite(broker, "site-a") as site:
        page.goto(fleet.url + "/#/site/site-a")
        expect(page.locator("#site-title")).to_contain_text("Ấp Phú Hữu")
        page.select_option("#cmd-name", "generator")
        page.fill("#cmd-args", '{"action": "start"}')
        page.select_option("#cmd-expiry", "3600")
        page.click("#cmd-form button[type=submit]")
        expect(page.locator("[data-testid=cmd-msg]")).to_have_class("cmd-msg good")
        command = decode_command(site.next("cmd").payload)
        assert (command.name, dict(command.args)) == ("generator", {"action": "start"})
        assert command.expires_ms - command.issued_ms == 3_600_000
        item = page.locator(f"[data-testid=cmd-{command.id}]")
        expect(item).to_have_attribute("data-outcome", "sent")
        done_ms = int(time.time() * 1000)
        site.acked(Events("site-a", 11, results=(
            CommandResult(command.id, "site-a", "done", done_ms, "generator started"),)))
        expect(item).to_have_attribute("data-outcome", "done")
        expect(item).to_contain_text("đã thực hiện lúc")
        keep(page, tmp_path, "fleet-command.png")
        page.set_viewport_size({"width": 390, "height": 900})
        expect(page.locator("#cmd-form")).to_be_visible()
        no_overflow(page)
    assert not errors
    page.close()
