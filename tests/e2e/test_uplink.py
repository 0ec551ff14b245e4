"""End to end through a real Mosquitto (TLS, ACL) and a real PostgreSQL: a site that holds 48 h
of 1-minute samples catches up with nothing lost and nothing twice, while its uplink, the hub
and the broker are each killed with SIGKILL in the middle; a command sent while the site was
away arrives after its expiry and comes back ``expired``, never executed."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hub.commands import command_status, issue_command
from hub.ingest import BrokerConfig, connect, mqtt_client
from store import outbox
from store.contract import Sample
from store.schema import connect as connect_site
from store.writer import Store
from tests.hub.conftest import hub_dsn, pg_cluster  # noqa: F401 (fixtures)
from tests.hub.servers import Broker, mosquitto, restart_broker
from tests.support import wait_for as poll

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MINUTES = 48 * 60
WAIT_S = 300.0
SITE = "site-a"

HUB_SCRIPT = """
import sys, threading
from pathlib import Path
from hub.ingest import BrokerConfig, IngestConfig, run
dsn, port, password, ca = sys.argv[1:5]
run(IngestConfig(dsn=dsn, workers=1, client_prefix="hub-e2e",
                 broker=BrokerConfig("127.0.0.1", int(port), "hub", password, Path(ca))),
    threading.Event())
"""
SITE_SCRIPT = """
import sys, threading, logging, tomllib
sys.modules["numpy"] = sys.modules["pandas"] = None  # as `offgrid run` does
from pathlib import Path
from sitefile import parse_site
from controller.uplink import Uplink
logging.basicConfig(level=logging.INFO)
folder = Path(sys.argv[1])
site = parse_site(tomllib.loads((folder / "site.toml").read_text()), base_dir=folder)
up = Uplink(site, folder / "site.db", poll_s=0.05)
up.start()
threading.Event().wait()
"""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker of this test's own (it is killed and restarted)."""
    with mosquitto(tmp_path / "broker", [SITE], ["hub"]) as b:
        yield b


def wait_for(what: str, ok: Callable[[], object], timeout_s: float = WAIT_S) -> None:
    """:func:`tests.support.wait_for`, with this module's longer default (a 48 h catch-up)."""
    poll(what, ok, timeout_s, step_s=0.1)


class Proc:
    """A Python process of the project, killed with SIGKILL."""

    def __init__(self, script: str, *args: str, log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.p = subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT,
                                      stdout=out, stderr=subprocess.STDOUT,
                                      env={**os.environ, "PYTHONPATH": str(ROOT)})

    def kill(self) -> None:
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()


def site_folder(tmp_path: Path, broker: Broker) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "password").write_text(broker.credentials[SITE].password)
    (folder / "site.toml").write_text(textwrap.dedent(f"""
        [site]
        name = "Hòn Thử"
        latitude = 10.0
        longitude = 104.0
        province = "Kiên Giang"

        [[loads]]
        name = "village"
        kind = "pump"
        kw = 1
        daily_kwh = 2
        customers = 40

        [uplink]
        enabled = true
        host = "127.0.0.1"
        port = {broker.port}
        site_id = "{SITE}"
        password_file = "password"
        ca_file = "{broker.ca_file}"
        max_in_flight = 2
        ack_timeout_s = 5
        reconnect_min_s = 0.2
        reconnect_max_s = 2
        groups = ["pilot"]
        """))
    return folder


def fill_48h(db: Path, end_ts: float) -> list[float]:
    """48 h of 1-minute samples (three channels) ending before ``end_ts``; their times."""
    store = Store(db)
    times = [end_ts - (MINUTES - i) * 60.0 for i in range(MINUTES)]
    for i, ts in enumerate(times):
        soc = 50 + 30 * math.sin(i / 300)
        store.write_cycle(ts, [Sample("site", "soc_pct", soc, "good", ts),
                               Sample("site", "pv_w", max(0.0, 900 * math.sin(i / 229)),
                                      "good", ts),
                               Sample("mppt", "battery_v", 52.0 + i % 7 / 10, "good", ts)],
                          {}, 0)
    store.close()
    return times


def records(dsn: str) -> tuple[int, int, set[int]]:
    """The hub's records of the site: rows, distinct keys, and their times [ms]."""
    with psycopg.connect(dsn) as conn:
        n, keys = conn.execute("SELECT count(*), count(DISTINCT (boot, seq)) FROM records"
                               " WHERE site = %s", (SITE,)).fetchone() or (0, 0)
        times = {round(r[0].timestamp() * 1000) for r in conn.execute(
            "SELECT ts FROM records WHERE site = %s", (SITE,))}
    return n, keys, times


def count(dsn: str, sql: str, *args: Any) -> int:
    try:
        with psycopg.connect(dsn) as conn:
            row = conn.execute(sql, args).fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row else 0


def outbox_rows(db: Path) -> int:
    conn = connect_site(db)
    try:
        return outbox.status(conn).rows
    finally:
        conn.close()


def test_48_hours_offline_catch_up_exactly_once_through_kills(
        tmp_path: Path, broker: Broker, hub_dsn: str) -> None:  # noqa: F811
    folder = site_folder(tmp_path, broker)
    db = folder / "site.db"
    end = math.floor(time.time() / 60) * 60.0
    times = fill_48h(db, end)
    hub_args = (hub_dsn, str(broker.port), broker.credentials["hub"].password,
                str(broker.ca_file))
    hub = Proc(HUB_SCRIPT, *hub_args, log=tmp_path / "hub.log")
    site = Proc(SITE_SCRIPT, str(folder), log=tmp_path / "site.log")
    # the site says who it is (State) and starts sending; kill it mid-send
    wait_for("the hub to know the site",
             lambda: count(hub_dsn, "SELECT count(*) FROM sites WHERE site = %s", SITE) == 1)
    wait_for("some records at the hub", lambda: records(hub_dsn)[0] > 0)
    site.kill()
    left = outbox_rows(db)
    assert left > 0, "the uplink finished before it could be killed mid-send"
    hub.kill()
    # while the site is away, the hub sends a command that expires in 2 s (the broker keeps
    # it for an hour: the site itself must refuse it)
    config = BrokerConfig("127.0.0.1", broker.port, "hub", broker.credentials["hub"].password,
                          broker.ca_file)
    client = mqtt_client(config, f"hub-pub-{uuid.uuid4().hex[:6]}", clean_start=True)
    connect(client, config, clean_start=True)
    client.loop_start()
    wait_for("the hub's publisher", client.is_connected, 60)
    with psycopg.connect(hub_dsn, autocommit=True) as conn:
        row = issue_command(conn, client, SITE, "generator", {"action": "start"}, by="op",
                            now=datetime.now(UTC) - timedelta(seconds=3598), ttl_s=3600)
    client.disconnect()
    client.loop_stop()
    wait_for("the command's expiry", lambda: datetime.now(UTC) > row.expires, 60)
    # back: the site, then the hub; then the hub and the broker die once more mid-catch-up
    site = Proc(SITE_SCRIPT, str(folder), log=tmp_path / "site.log")
    hub = Proc(HUB_SCRIPT, *hub_args, log=tmp_path / "hub.log")
    before = records(hub_dsn)[0]
    wait_for("more records", lambda: records(hub_dsn)[0] > before)
    hub.kill()
    hub = Proc(HUB_SCRIPT, *hub_args, log=tmp_path / "hub.log")
    before = records(hub_dsn)[0]
    wait_for("more records after the hub's restart", lambda: records(hub_dsn)[0] > before)
    restart_broker(broker)
    try:
        wait_for("the outbox to empty",
                 lambda: outbox_rows(db) == 0 and records(hub_dsn)[0] >= MINUTES)
        n, keys, stamps = records(hub_dsn)
        assert (n, keys) == (MINUTES, MINUTES)
        assert stamps == {round(t * 1000) for t in times}
        # the stale command: answered expired by the site, never made a site command
        site_db = connect_site(db)
        got = outbox.hub_command(site_db, row.id)
        site_db.close()
        assert got is not None and (got.status, got.command_id, got.result_sent) == (
            "expired", None, True)
        with psycopg.connect(hub_dsn) as hconn:
            status = command_status(hconn, row.id)
        assert status is not None and status.status == "expired"
    finally:
        site.kill()
        hub.kill()
