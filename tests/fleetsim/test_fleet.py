"""Light sites through the real broker (TLS, each site its own user) into the real PostgreSQL,
with the hub's ingest in a thread: a site cut off for 48 simulated hours catches up with nothing
missing and nothing twice; two hundred clients in one loop all connect and deliver; a command
that arrives after its expiry is answered ``expired``."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fleetsim.fleet import Fleet, FleetConfig
from fleetsim.model import SiteSpec
from fleetwire.messages import Command
from hub.ingest import Counters
from tests.fleetsim.stack import hub_ingest, new_database
from tests.hub.servers import Broker
from tests.support import wait_for

pytestmark = pytest.mark.slow
WAIT_S = 240.0
HOUR_MS = 3_600_000


def now_quarter_ms() -> int:
    now = int(time.time() * 1000)
    return now - now % 900_000


@pytest.fixture
def hub(fleet_cluster: str, fleet_broker: tuple[Broker, dict[str, str]],
        ) -> Iterator[tuple[str, Counters]]:
    """A fresh hub database and the ingest on it."""
    dsn = new_database(fleet_cluster)
    with hub_ingest(fleet_broker[0], dsn) as counters:
        yield dsn, counters


def config(broker: Broker, **kw: object) -> FleetConfig:
    return FleetConfig("127.0.0.1", broker.port, broker.ca_file, **kw)  # type: ignore[arg-type]


def stored(dsn: str) -> dict[str, tuple[int, int, int, int]]:
    """Each site's (rows, distinct keys, lowest seq, highest seq) in ``records``."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT site, count(*), count(DISTINCT (boot, seq)), min(seq), "
                            "max(seq) FROM records GROUP BY site").fetchall()
    return {str(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}


def test_a_site_cut_off_for_48_hours_catches_up_with_nothing_missing_or_twice(
        fleet_broker: tuple[Broker, dict[str, str]], specs: list[SiteSpec],
        hub: tuple[str, Counters]) -> None:
    broker, passwords = fleet_broker
    dsn, counters = hub
    three = specs[:3]
    start = now_quarter_ms() - 50 * HOUR_MS
    with Fleet(config(broker), three, passwords, start) as fleet:
        fleet.advance(120)
        fleet.restore()
        assert fleet.run_until(lambda: fleet.outbox_rows() == 0, WAIT_S)
        cut = three[0].site
        fleet.cut([cut])
        assert fleet.run_until(lambda: not fleet.sites[cut].session.connected, WAIT_S)
        for _ in range(48):  # 48 simulated hours, the others delivering as they go
            fleet.advance(60)
            assert fleet.run_until(lambda: sum(
                len(s.outbox) for n, s in fleet.sites.items() if n != cut) == 0, WAIT_S)
        site = fleet.sites[cut]
        assert not site.session.connected and site.client.socket() is None
        assert len(site.outbox) >= 48 * 4  # its 15-minute batches, and its events
        fleet.restore([cut])
        assert fleet.run_until(lambda: fleet.outbox_rows() == 0, WAIT_S)
        made = {name: s.stats.records for name, s in fleet.sites.items()}
        boots = {name: s.model.boot for name, s in fleet.sites.items()}
        assert fleet.sites[cut].stats.connections == 2
        # one channel set each, named until the hub acknowledged it, then by digest only
        # (also the backlog's coarse copies after the outage): never a batch it lacked
        assert all(len(s.session.known_sets) == 1 for s in fleet.sites.values())
        assert counters.names_needed == 0
    found = stored(dsn)
    assert set(found) == set(made)
    for name, n in made.items():
        assert n == (120 + 48 * 60)
        assert found[name] == (n, n, 0, n - 1), name  # every seq once, none missing
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(DISTINCT boot) FROM records WHERE site = %s",
                            (cut,)).fetchone() == (1,)
        assert conn.execute("SELECT site FROM records WHERE boot <> %s AND site = %s",
                            (boots[cut], cut)).fetchall() == []


def test_two_hundred_sites_in_one_loop_connect_and_deliver(
        fleet_broker: tuple[Broker, dict[str, str]], specs: list[SiteSpec],
        hub: tuple[str, Counters]) -> None:
    broker, passwords = fleet_broker
    dsn, _ = hub
    with Fleet(config(broker), specs, passwords, now_quarter_ms() - HOUR_MS) as fleet:
        fleet.advance(60)
        fleet.restore()
        assert fleet.run_until(lambda: fleet.outbox_rows() == 0, WAIT_S)
        assert fleet.connected() == len(specs)
        assert fleet.refused == 0
    found = stored(dsn)
    assert len(found) == len(specs)
    assert all(v == (60, 60, 0, 59) for v in found.values())
    with psycopg.connect(dsn) as conn:
        states = conn.execute("SELECT count(*) FROM site_state").fetchone()
        provinces = conn.execute("SELECT count(DISTINCT province_id) FROM sites").fetchone()
    assert states == (len(specs),)
    assert provinces == (5,)


def test_a_command_after_its_expiry_is_answered_expired_and_one_in_time_done(
        fleet_broker: tuple[Broker, dict[str, str]], specs: list[SiteSpec]) -> None:
    broker, passwords = fleet_broker
    spec = specs[5]
    start = now_quarter_ms()
    with Fleet(config(broker), [spec], passwords, start) as fleet:
        fleet.advance(15)
        issued = start - HOUR_MS
        late = Command(uuid.uuid4().hex, spec.site, "set_threshold", issued, start, "op", {})
        fresh = Command(uuid.uuid4().hex, spec.site, "set_threshold", issued, start + HOUR_MS,
                        "op", {})
        for c in (late, fresh, late):
            fleet.command(spec.site, c)
        site = fleet.sites[spec.site]
        assert site.stats.commands == {late.id: "expired", fresh.id: "done"}
        assert sorted(r.pending.kind for r in site.outbox.values()).count("events") == 2


def test_offgrid_fleetsim_runs_light_sites_until_ctrl_c(
        fleet_broker: tuple[Broker, dict[str, str]], specs: list[SiteSpec],
        hub: tuple[str, Counters], tmp_path: Path) -> None:
    broker, passwords = fleet_broker
    dsn, _ = hub
    three = [s.site for s in specs[:3]]  # fleet_specs(3, 11, "t") are the fixture's first 3
    for site in three:
        (tmp_path / site).write_text(passwords[site] + "\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "offgrid", "fleetsim", "--password-dir", str(tmp_path),
         "--broker", f"127.0.0.1:{broker.port}", "--ca", str(broker.ca_file), "--sites", "3",
         "--prefix", "t", "--seed", "11", "--history-h", "2"],
        stderr=subprocess.PIPE, text=True)
    try:
        def delivered() -> bool:  # 2 h, sealed each quarter
            assert process.poll() is None, "offgrid fleetsim stopped"
            found = stored(dsn)
            return set(found) == set(three) and all(v[0] >= 100 for v in found.values())

        wait_for("the three sites' two hours at the hub", delivered, WAIT_S)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "3 light sites" in err and "trạm" in err
    found = stored(dsn)
    assert all(v[0] == v[1] for v in found.values())
