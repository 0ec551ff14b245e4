"""The fleet end to end, with light sites (:mod:`fleetsim`): fifty sites report through a real
Mosquitto (TLS, each site its own user and ACL) to the hub's ingest and PostgreSQL; one is cut
off for 48 simulated hours and catches up with nothing missing and nothing twice; a command the
hub sent while it was away arrives after its expiry and is reported ``expired``.

The issue's acceptance test also wants two real sites (``offgrid sim`` + ``offgrid run`` with
``[uplink]``) in the same fleet: a real site's 48 h catch-up, restarts and expired command are
tested on their own in :mod:`tests.e2e.test_uplink`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from fleetsim.fleet import Fleet, FleetConfig
from fleetsim.model import fleet_specs
from hub.commands import command_status, issue_command
from hub.ingest import BrokerConfig, connect, mqtt_client
from tests.fleetsim.stack import HUB_USER, broker_with_sites, hub_ingest
from tests.hub.conftest import hub_dsn, pg_cluster  # noqa: F401 (fixtures)
from tests.hub.servers import Broker

pytestmark = pytest.mark.slow
SITES = 50
WAIT_S = 300.0
HOUR_MS = 3_600_000


@pytest.fixture
def fleet_broker(tmp_path: Path) -> Iterator[tuple[Broker, dict[str, str]]]:
    specs = fleet_specs(SITES, seed=14, prefix="e2e")
    with broker_with_sites(tmp_path / "broker", [s.site for s in specs], quiet=True) as found:
        yield found


def test_fifty_sites_report_and_one_cut_off_for_48_hours_catches_up_and_answers_expired(
        fleet_broker: tuple[Broker, dict[str, str]], hub_dsn: str,  # noqa: F811
        ) -> None:
    broker, passwords = fleet_broker
    specs = fleet_specs(SITES, seed=14, prefix="e2e")
    away = specs[7].site
    now = int(time.time() * 1000)
    now -= now % 900_000
    start = now - 49 * HOUR_MS
    config = FleetConfig("127.0.0.1", broker.port, broker.ca_file)
    with hub_ingest(broker, hub_dsn), Fleet(config, specs, passwords, start) as fleet:
        fleet.advance(60)
        fleet.restore()
        assert fleet.run_until(lambda: fleet.outbox_rows() == 0, WAIT_S)
        fleet.cut([away])
        assert fleet.run_until(lambda: not fleet.sites[away].session.connected, WAIT_S)
        # while it is away, the hub sends it a command valid for 2 s (the broker keeps the
        # message for an hour: the site itself must refuse it)
        hub_broker = BrokerConfig("127.0.0.1", broker.port, HUB_USER,
                                  broker.credentials[HUB_USER].password, broker.ca_file)
        client = mqtt_client(hub_broker, f"hub-cmd-{uuid.uuid4().hex[:6]}", clean_start=True)
        connect(client, hub_broker, clean_start=True)
        client.loop_start()
        try:
            deadline = time.monotonic() + 60
            while not client.is_connected():
                assert time.monotonic() < deadline
                time.sleep(0.05)
            with psycopg.connect(hub_dsn, autocommit=True) as conn:
                row = issue_command(conn, client, away, "generator", {"action": "start"},
                                    by="op", now=datetime.now(UTC) - timedelta(seconds=3598),
                                    ttl_s=3600)
        finally:
            client.disconnect()
            client.loop_stop()
        for _ in range(48):  # 48 simulated hours; the others deliver as they go
            fleet.advance(60)
            assert fleet.run_until(lambda: sum(
                len(s.outbox) for n, s in fleet.sites.items() if n != away) == 0, WAIT_S)
        site = fleet.sites[away]
        assert len(site.outbox) >= 48 * 4 and not site.stats.commands
        while datetime.now(UTC) <= row.expires:
            time.sleep(0.1)
        expires_ms = int(row.expires.timestamp() * 1000)
        while site.model.wall_ms <= expires_ms:  # its clock past the expiry too
            fleet.advance(15)
        fleet.restore([away])
        assert fleet.run_until(lambda: fleet.outbox_rows() == 0 and bool(
            site.stats.commands), WAIT_S)
        assert fleet.run_until(lambda: fleet.outbox_rows() == 0, WAIT_S)
        made = {name: (s.stats.records, s.model.boot) for name, s in fleet.sites.items()}
    assert site.stats.commands == {row.id: "expired"}
    with psycopg.connect(hub_dsn) as conn:
        status = command_status(conn, row.id)
        found = {str(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in conn.execute(
            "SELECT site, count(*), count(DISTINCT (boot, seq)), min(seq), max(seq) "
            "FROM records GROUP BY site").fetchall()}
        states = conn.execute("SELECT count(*) FROM site_state").fetchone()
    assert status is not None and status.status == "expired"
    assert set(found) == set(made)
    for name, (n, _) in made.items():
        assert n >= 49 * 60
        assert found[name] == (n, n, 0, n - 1), name
    assert states == (SITES,)
