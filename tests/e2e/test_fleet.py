"""The issue's acceptance test, end to end: two real sites (``offgrid sim`` + ``offgrid run`` of
the bundled example with an ``[uplink]``, each with its own broker user, province and ports) and
fifty light sites (:mod:`fleetsim`) report through a real Mosquitto (TLS from its own CA, a user
and ACL per site) to ``offgrid hub run`` and PostgreSQL, while ``offgrid hub serve`` shows them.

- A light site cut off for 48 simulated hours catches up with nothing missing and nothing
  twice; a command the hub sent while it was away arrives after its expiry and is reported
  ``expired``.
- A real site's link (a TCP relay the test cuts) is down for a while: it catches up exactly once
  (the hub's rows of the site against the site's own outbox keys and samples), and a command
  sent meanwhile comes back ``expired`` and never reaches its commands table.
- The fleet dashboard (headless Chromium) shows all 52 sites, marks the silent one NO DATA, and
  shows a province's SAIDI/SAIFI of this month equal to the figure worked out here by hand from
  its sites' interruptions in PostgreSQL (IEEE 1366: Σ customer-minutes and Σ customers
  interrupted over Σ customers served; interruptions under 5 minutes are momentary, left out).
"""

from __future__ import annotations

import contextlib
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import tomlkit
from playwright.sync_api import Browser, expect

from fleetsim.fleet import Fleet, FleetConfig
from fleetsim.model import PROVINCES, fleet_specs
from hub.commands import command_status, issue_command
from hub.ingest import BrokerConfig, connect, mqtt_client
from offgrid.demo_cmd import DemoSite
from offgrid.fleetsim_cmd import offgrid_child
from store import outbox
from tests.fleetsim.stack import HUB_USER, broker_with_sites
from tests.hub.conftest import hub_dsn, pg_cluster  # noqa: F401 (fixtures)
from tests.hub.servers import Broker
from tests.support import free_port, require_tool, wait_for

pytestmark = pytest.mark.slow
LIGHT = 50
REAL = ("real-1", "real-2")
REAL_PROVINCES = (PROVINCES[0], PROVINCES[1])
WAIT_S = 300.0
HOUR_MS = 3_600_000
SILENT_AFTER_S = 60
"""The dashboard's no-data threshold (the least ``offgrid hub serve`` takes) [s]."""
RESOLUTION_S = 10
"""The real sites' record step and batch interval [s]."""
CUT_S = 3 * RESOLUTION_S
"""How long a real site's link is down, at least [s]."""
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MOMENTARY_MIN = 5.0


class Link:
    """A TCP relay from a real site to the broker: the site's cellular link, which the test
    cuts (every connection closed, new ones dropped at once) and restores."""

    def __init__(self, broker_port: int) -> None:
        self.broker_port = broker_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.up = threading.Event()
        self.up.set()
        self.lock = threading.Lock()
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.up.is_set():
                near.close()
                continue
            try:
                far = socket.create_connection(("127.0.0.1", self.broker_port))
            except OSError:
                near.close()
                continue
            with self.lock:
                self.open += [near, far]
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up.clear()
        with self.lock:
            conns, self.open = self.open, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


@dataclass
class RealSite:
    """A real site (DemoSite: simulator, controller with its uplink, API) behind its link."""

    name: str
    demo: DemoSite
    link: Link

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{self.demo.database}?mode=ro", uri=True, timeout=10)
        conn.row_factory = sqlite3.Row
        return conn


def real_site(folder: Path, name: str, province: str, broker: Broker, password: str
              ) -> RealSite:
    """The bundled example as site ``name`` in ``province``, with an ``[uplink]`` to
    ``broker`` through a :class:`Link` of its own (its Modbus and API ports free ones)."""
    link = Link(broker.port)
    folder.mkdir()
    demo = DemoSite(folder, speed=60.0, api_port=0)
    (folder / "broker.password").write_text(password)
    doc = tomlkit.parse(demo.site_file.read_text(encoding="utf-8"))
    doc["site"]["province"] = province
    uplink = tomlkit.table()
    uplink.update({"enabled": True, "host": "127.0.0.1", "port": link.port, "site_id": name,
                   "password_file": "broker.password", "ca_file": str(broker.ca_file),
                   "batch_interval_s": RESOLUTION_S, "resolution_s": RESOLUTION_S,
                   "ack_timeout_s": 5, "reconnect_min_s": 0.2, "reconnect_max_s": 2,
                   "groups": ["pilot"]})
    doc["uplink"] = uplink
    demo.site_file.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return RealSite(name, demo, link)


def until(what: str, ok: Callable[[], object], fleet: Fleet | None = None,
          timeout_s: float = WAIT_S) -> None:
    """:func:`tests.support.wait_for` ``ok()``, pumping the light sites' ``fleet`` meanwhile."""
    wait_for(what, ok, timeout_s, step_s=0.1,
             between=None if fleet is None else lambda: fleet.step(0.05))


def scalar(dsn: str, sql: str, *args: object) -> int:
    try:
        with psycopg.connect(dsn) as conn:
            row = conn.execute(sql, args).fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row and row[0] is not None else 0


def expired_command(dsn: str, broker: Broker, site: str) -> str:
    """Send ``site`` a command (the hub's publisher) that expires 2 s from now while the broker
    keeps the message an hour: the site itself must refuse it. Returns its id."""
    config = BrokerConfig("127.0.0.1", broker.port, HUB_USER,
                          broker.credentials[HUB_USER].password, broker.ca_file)
    client = mqtt_client(config, f"hub-cmd-{uuid.uuid4().hex[:6]}", clean_start=True)
    connect(client, config, clean_start=True)
    client.loop_start()
    try:
        until("the hub's publisher", client.is_connected, timeout_s=60)
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = issue_command(conn, client, site, "generator", {"action": "start"}, by="op",
                                now=datetime.now(UTC) - timedelta(seconds=3598), ttl_s=3600)
    finally:
        client.disconnect()
        client.loop_stop()
    until("the command's expiry", lambda: datetime.now(UTC) > row.expires, timeout_s=60)
    return row.id


def answered(dsn: str, command: str) -> bool:
    """Whether the hub holds ``command``'s result ``expired``."""
    with psycopg.connect(dsn) as conn:
        status = command_status(conn, command)
    return status is not None and status.status == "expired"


def month_start(now: datetime, back: int = 0) -> datetime:
    """The start of the local month of ``now``, or of the ``back``-th month before it."""
    first = now.astimezone(TZ).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def province_figures(dsn: str, now: datetime, start: datetime
                     ) -> dict[str, tuple[float, float, int]]:
    """By hand, each province's SAIDI [min] and SAIFI of the local month that begins at
    ``start``, as of ``now``, and its sustained interruptions [count]: Σ customers interrupted
    × minutes and Σ customers interrupted, over the sustained interruptions (5 minutes or more;
    one still open lasts until ``now``) that began in that month, each divided by Σ customers
    served."""
    end = month_start(start + timedelta(days=32))
    with psycopg.connect(dsn) as conn:
        served: dict[str, int] = dict(conn.execute(
            "SELECT g.name, sum(s.customers) FROM sites s JOIN groups g ON g.id = s.province_id"
            " GROUP BY g.name").fetchall())
        cuts = conn.execute(
            "SELECT g.name, i.start_ts, coalesce(i.end_ts, %s), i.customers_interrupted"
            " FROM interruptions i JOIN sites s ON s.site = i.site"
            " JOIN groups g ON g.id = s.province_id WHERE i.start_ts >= %s AND i.start_ts < %s"
            " AND i.start_ts < %s", (now, start, end, now)).fetchall()
    minutes: dict[str, float] = dict.fromkeys(served, 0.0)
    customers_cut: dict[str, float] = dict.fromkeys(served, 0.0)
    sustained: dict[str, int] = dict.fromkeys(served, 0)
    for province, began, ended, customers in cuts:
        duration_min = (ended - began).total_seconds() / 60
        if duration_min >= MOMENTARY_MIN:
            minutes[province] += customers * duration_min
            customers_cut[province] += customers
            sustained[province] += 1
    return {p: (minutes[p] / served[p], customers_cut[p] / served[p], sustained[p])
            for p in served if served[p]}


def from_vi(text: str) -> float:
    """A number as the Vietnamese page writes it (``1.234,5``)."""
    return float(text.replace(".", "").replace(",", "."))


def outbox_state(site: RealSite) -> tuple[int, int, int, float, float]:
    """The real site's outbox rows, its boot, next record key, first and current cursors [s],
    read at one instant."""
    conn = site.db()
    try:
        conn.execute("BEGIN")
        rows = outbox.status(conn).rows
        state = outbox.read_uplink_state(conn)
        first = conn.execute("SELECT min(ts) FROM samples").fetchone()[0]
        conn.execute("COMMIT")
    finally:
        conn.close()
    return (rows, int(state["boot"]), int(state["seq"]),
            float(first) // RESOLUTION_S * RESOLUTION_S, float(state["cursor_ts"]))


def sample_slots(site: RealSite, start_ts: float, end_ts: float) -> int:
    """The ``RESOLUTION_S`` intervals in [start, end) that hold samples: one record each."""
    conn = site.db()
    try:
        row = conn.execute("SELECT count(DISTINCT CAST((ts - ?) / ? AS INTEGER)) FROM samples"
                           " WHERE ts >= ? AND ts < ?",
                           (start_ts, RESOLUTION_S, start_ts, end_ts)).fetchone()
    finally:
        conn.close()
    return int(row[0])


def exactly_once(site: RealSite, dsn: str, fleet: Fleet) -> None:
    """Wait until ``site``'s outbox is empty, then check that the hub holds each record key the
    site made in this boot once (0 … next-1), one per ``RESOLUTION_S`` interval that holds
    samples in the site's database, and no key twice."""
    until(f"{site.name}'s outbox empty", lambda: outbox_state(site)[0] == 0, fleet)
    rows, boot, next_seq, first_ts, cursor_ts = outbox_state(site)
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT count(*), count(DISTINCT (boot, seq)), min(seq), max(seq) FROM records"
            " WHERE site = %s AND boot = %s AND seq < %s", (site.name, boot, next_seq)
        ).fetchone()
        twice = conn.execute("SELECT count(*) - count(DISTINCT (boot, seq)) FROM records"
                             " WHERE site = %s", (site.name,)).fetchone()
    assert rows == 0 and boot == 1
    assert next_seq > 0 and found == (next_seq, next_seq, 0, next_seq - 1), site.name
    assert twice == (0,), site.name
    assert next_seq == sample_slots(site, first_ts, cursor_ts), site.name


@pytest.fixture
def fleet_broker(tmp_path: Path) -> Iterator[tuple[Broker, dict[str, str]]]:
    specs = fleet_specs(LIGHT, seed=14, prefix="e2e")
    with broker_with_sites(tmp_path / "broker", [*REAL, *(s.site for s in specs)],
                           quiet=True) as found:
        yield found


def test_two_real_and_fifty_light_sites_report_catch_up_answer_expired_and_show_on_the_page(
        fleet_broker: tuple[Broker, dict[str, str]], hub_dsn: str,  # noqa: F811
        browser: Browser, tmp_path: Path) -> None:
    require_tool("socat")  # the real sites' simulated RTU pty
    broker, passwords = fleet_broker
    specs = fleet_specs(LIGHT, seed=14, prefix="e2e")
    away, silent = specs[7].site, specs[-1].site
    hub_password = tmp_path / "hub.password"
    hub_password.write_text(broker.credentials[HUB_USER].password)
    link = ["--broker", f"127.0.0.1:{broker.port}", "--ca", str(broker.ca_file),
            "--password-file", str(hub_password)]
    port = free_port()
    key = subprocess.run([sys.executable, "-m", "offgrid", "hub", "keys", "create", "--dsn",
                          hub_dsn, "--role", "viewer", "--name", "e2e"], capture_output=True,
                         text=True, check=True, timeout=60).stdout.strip().splitlines()[0]
    reals = [real_site(tmp_path / name, name, province, broker, passwords[name])
             for name, province in zip(REAL, REAL_PROVINCES, strict=True)]
    hub_log = tmp_path / "hub.log"
    now = int(time.time() * 1000)
    now -= now % 900_000
    config = FleetConfig("127.0.0.1", broker.port, broker.ca_file)
    with contextlib.ExitStack() as stack:
        stack.enter_context(offgrid_child(["hub", "run", "--dsn", hub_dsn, *link,
                                           "--client-id", "e2e-hub"], hub_log))
        until("the hub's two ingest workers subscribed",
              lambda: hub_log.read_text(errors="replace").count("subscribed to") >= 2)
        stack.enter_context(offgrid_child(["hub", "serve", "--dsn", hub_dsn, "--bind",
                                           f"127.0.0.1:{port}", *link, "--client-id", "e2e-api",
                                           "--silent-after-s", str(SILENT_AFTER_S)],
                                          tmp_path / "api.log"))
        for r in reals:
            stack.callback(r.link.close)
            stack.callback(r.demo.stop)
            r.demo.start()
        fleet = stack.enter_context(Fleet(config, specs, passwords, now - 49 * HOUR_MS))
        fleet.advance(60)
        fleet.restore()
        until("every light site's first hour at the hub", lambda: fleet.outbox_rows() == 0,
              fleet)
        until("the real sites' records at the hub", lambda: all(scalar(
            hub_dsn, "SELECT count(*) FROM records WHERE site = %s", r.name) > 0
            for r in reals), fleet)
        # one light site goes silent for good; another is away for 48 simulated hours, and
        # the first real site's link is down, each sent a command meanwhile
        fleet.cut([silent, away])
        real = reals[0]
        real.link.cut()
        cut_at = time.monotonic()
        until("the two light sites gone", lambda: not any(
            fleet.sites[s].session.connected for s in (silent, away)), fleet)
        silent_since = time.monotonic()  # its last message reached the hub before
        light_cmd = expired_command(hub_dsn, broker, away)
        real_cmd = expired_command(hub_dsn, broker, real.name)
        others = [s for n, s in fleet.sites.items() if n not in (silent, away)]
        for _ in range(48):  # 48 simulated hours; the others deliver as they go
            fleet.advance(60)
            until("the light sites' hour", lambda: sum(len(s.outbox) for s in others) == 0,
                  fleet)
        until("the real site's link down long enough",
              lambda: time.monotonic() - cut_at > CUT_S, fleet)
        assert outbox_state(real)[0] > 0, "the real site kept nothing while cut off"
        site = fleet.sites[away]
        assert len(site.outbox) >= 48 * 4 and not site.stats.commands
        expires_ms = int(time.time() * 1000)
        while site.model.wall_ms <= expires_ms:  # its clock past the expiry too
            fleet.advance(15)
        fleet.restore([away])
        real.link.restore()
        until("the away site's catch-up and answer", lambda: not site.outbox and bool(
            site.stats.commands), fleet)
        for r in reals:  # each record of both real sites at the hub, once
            exactly_once(r, hub_dsn, fleet)
        conn_site = real.db()
        try:
            got = outbox.hub_command(conn_site, real_cmd)
            from_hub = conn_site.execute("SELECT count(*) FROM commands WHERE requested_by"
                                         " LIKE 'hub:%'").fetchone()[0]
        finally:
            conn_site.close()
        assert got is not None and (got.status, got.command_id) == ("expired", None)
        assert from_hub == 0
        until("the real site's answer at the hub", lambda: answered(hub_dsn, real_cmd), fleet)

        # -- the fleet page: 52 sites, the silent one marked, a province's month by hand
        until("the silent site's silence past the threshold",
              lambda: time.monotonic() - silent_since > SILENT_AFTER_S + 1, fleet)
        fleet.advance(15)  # every light site but the silent one speaks within the threshold
        until("the light sites' last quarter hour",
              lambda: fleet.outbox_rows() == len(fleet.sites[silent].outbox), fleet)
        # the page's figures are the hub's at the moment it asked, between these two; an
        # interruption still open grows with the clock
        before = datetime.now(UTC)
        # this month, or in its first hours (the light sites began 49 h ago) the one before
        month = month_start(before)
        figures = province_figures(hub_dsn, before, month)
        if not any(f[2] for f in figures.values()) and month.month > 1:
            month = month_start(before, back=1)  # the page shows this year's months
            figures = province_figures(hub_dsn, before, month)
        province = max(figures, key=lambda p: figures[p][2])
        assert figures[province][2] > 0, f"no sustained interruption this month: {figures}"
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"http://127.0.0.1:{port}/")
        page.evaluate("localStorage.setItem('offgrid.lang', 'vi')")
        page.reload()
        page.fill("#key", key)
        page.click("#login-form button[type=submit]")
        expect(page.locator("[data-testid=sites] tbody tr")).to_have_count(LIGHT + len(REAL))
        for name in [*REAL, *(s.site for s in specs)]:
            expect(page.locator(f"[data-testid=site-row-{name}]")).to_be_visible()
        expect(page.locator(f"[data-testid=site-row-{REAL[0]}]")).to_contain_text(
            REAL_PROVINCES[0])
        expect(page.locator(".nodata")).to_have_count(1)
        expect(page.locator(f"[data-testid=no-data-{silent}]")).to_have_text("MẤT DỮ LIỆU")
        cell = f'[data-testid="rel-{province}-{month.month}'
        for figure in ("saidi", "saifi"):
            expect(page.locator(f'{cell}-{figure}"]')).to_have_text(re.compile(r"^[\d.]+,\d+$"))
        shown = (from_vi(page.locator(cell + '-saidi"]').inner_text()),
                 from_vi(page.locator(cell + '-saifi"]').inner_text()))
        low = figures[province]
        high = province_figures(hub_dsn, datetime.now(UTC), month)[province]
        for i, half_place in ((0, 0.05), (1, 0.005)):  # shown to 1 and 2 decimal places
            assert low[i] - half_place <= shown[i] <= high[i] + half_place, (
                province, low, shown, high)
        page.click("#lang")
        expect(page.locator(f"[data-testid=no-data-{silent}]")).to_have_text("NO DATA")
        assert not errors
        page.close()
        made = {name: s.stats.records for name, s in fleet.sites.items()}
        waiting = sum(len(r.records) for r in fleet.sites[silent].outbox.values())

    # -- the light sites: the away one caught up, each record once; its command expired
    assert site.stats.commands == {light_cmd: "expired"}
    with psycopg.connect(hub_dsn) as conn:
        status = command_status(conn, light_cmd)
        light = {str(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in conn.execute(
            "SELECT site, count(*), count(DISTINCT (boot, seq)), min(seq), max(seq) "
            "FROM records WHERE site LIKE 'e2e-%' GROUP BY site").fetchall()}
        states = conn.execute("SELECT count(*) FROM site_state").fetchone()
    assert status is not None and status.status == "expired"
    assert set(light) == set(made)
    for name, made_n in made.items():
        # the silent one: what it made before it fell silent
        n = made_n - waiting if name == silent else made_n
        assert n >= (60 if name == silent else 49 * 60)
        assert light[name] == (n, n, 0, n - 1), name
    assert states == (LIGHT + len(REAL),)
