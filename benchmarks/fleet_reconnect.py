"""Fleet reconnection after an outage: N light sites, each holding a 48 h backlog (1-minute
records in 15-minute batches, and the events of those hours), all come back at once; how long
until every site's current state is in PostgreSQL (target: 2 min for 10,000 sites) and until
the whole backlog is committed (target: 15 min), then a check that every record is stored
exactly once.

Real servers: Mosquitto (TLS, each site its own broker user and ACL), PostgreSQL (default
durability: fsync on), and the hub's ingest as its own process (``offgrid hub run``, so that it
does not share this process's interpreter lock with the sites). The sites run in this process,
all in one selector loop (:mod:`fleetsim.fleet`), each driving the uplink's protocol
(:mod:`fleetwire.session`): State first, then Events, then the backlog coarse (one record per
15 minutes), then in full, at most ``--max-in-flight`` unacknowledged. They come back after the
session's first random back-off (1–2 s).

The backlog is made before the clock starts (the sites made it during the outage). Figures for
N sites are also scaled to 10,000 sites (linearly: the state by the connection rate, the
backlog by the records' rate), as an estimate, not a measurement.

Run: ``.venv/bin/python benchmarks/fleet_reconnect.py [--sites 250] [--backlog-hours 48]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from fleetsim.fleet import Fleet, FleetConfig
from fleetsim.model import fleet_specs
from hub.broker import enroll
from offgrid.localservers import HUB_USER, broker_with_sites, new_database, postgres

TARGET_SITES = 10_000
TARGET_STATE_S = 120.0
TARGET_BACKLOG_S = 900.0
HOUR_MS = 3_600_000


@dataclass
class Watch:
    """When (seconds after the sites came back) PostgreSQL first held every site's state and
    every record; polled by a thread."""

    dsn: str
    sites: int
    records: int
    start: float = 0.0
    state_s: float | None = None
    records_s: float | None = None
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.wait(0.25):
                states = _count(conn, "SELECT count(*) FROM site_state")
                records = _count(conn, "SELECT count(*) FROM records")
                t = time.monotonic() - self.start
                self.samples.append((t, states, records))
                if self.state_s is None and states >= self.sites:
                    self.state_s = t
                if self.records_s is None and records >= self.records:
                    self.records_s = t
                if self.state_s is not None and self.records_s is not None:
                    return


def _count(conn: psycopg.Connection[tuple[object, ...]], query: str) -> int:
    try:
        row = conn.execute(query).fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row is not None and isinstance(row[0], int) else 0


def enroll_cost_s(n: int = 30) -> float:
    """Seconds :func:`hub.broker.enroll` takes for one site, over ``n`` sites."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for i in range(n):
            enroll(Path(tmp) / "passwd", Path(tmp) / "acl", f"e-{i:05d}")
        return (time.perf_counter() - start) / n


def start_hub(dsn: str, port: int, ca: Path, password: str, folder: Path,
              workers: int) -> subprocess.Popen[str]:
    """``offgrid hub run`` as a child process; returns once its workers have subscribed."""
    secret = folder / "hub.password"
    secret.write_text(password)
    hub = subprocess.Popen(
        [sys.executable, "-m", "offgrid", "hub", "run", "--dsn", dsn, "--broker",
         f"127.0.0.1:{port}", "--ca", str(ca), "--user", HUB_USER, "--password-file",
         str(secret), "--workers", str(workers), "--client-id", "bench-hub"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert hub.stderr is not None
    subscribed = 0
    for line in hub.stderr:
        subscribed += "subscribed to" in line
        if subscribed >= workers:
            break
    else:
        raise RuntimeError(f"the hub stopped: exit {hub.wait()}")
    threading.Thread(target=lambda: [None for _ in hub.stderr or ()], daemon=True).start()
    return hub


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=250, help="light sites (up to 10,000)")
    parser.add_argument("--backlog-hours", type=float, default=48.0,
                        help="hours each site held while cut off (scale it down for many sites)")
    parser.add_argument("--workers", type=int, default=2, help="the hub's ingest workers")
    parser.add_argument("--max-in-flight", type=int, default=4,
                        help="unacknowledged messages per site")
    args = parser.parse_args()
    specs = fleet_specs(args.sites, seed=42, prefix="r")
    per_site_enroll_s = enroll_cost_s()
    now = int(time.time() * 1000)
    now -= now % 900_000
    start_ms = now - int(args.backlog_hours * HOUR_MS)
    with tempfile.TemporaryDirectory() as tmp, postgres({"max_wal_size": "2GB"}) as cluster:
        folder = Path(tmp)
        t = time.perf_counter()
        with broker_with_sites(folder / "broker", [s.site for s in specs],
                               quiet=True) as (broker, passwords):
            enroll_s = time.perf_counter() - t
            dsn = new_database(cluster)
            hub = start_hub(dsn, broker.port, broker.ca_file,
                            broker.credentials[HUB_USER].password, folder, args.workers)
            try:
                config = FleetConfig("127.0.0.1", broker.port, broker.ca_file,
                                     max_in_flight=args.max_in_flight, ack_timeout_s=120.0,
                                     connects_per_step=50)
                with Fleet(config, specs, passwords, start_ms) as fleet:
                    t = time.perf_counter()
                    fleet.advance_to(now)
                    prepare_s = time.perf_counter() - t
                    records = sum(s.stats.records for s in fleet.sites.values())
                    rows = fleet.outbox_rows()
                    watch = Watch(dsn, len(specs), records)
                    poller = threading.Thread(target=watch.run, daemon=True)
                    start = watch.start = time.monotonic()
                    cpu = time.process_time()
                    poller.start()
                    fleet.restore()
                    marks: dict[str, float] = {}

                    def note() -> None:
                        t = time.monotonic() - start
                        if "connected" not in marks and fleet.connected() == len(specs):
                            marks["connected"] = t
                        if "coarse" not in marks and "connected" in marks and all(
                                not s.session.coarse_backlog for s in fleet.sites.values()):
                            marks["coarse"] = t

                    done = fleet.run_until(lambda: fleet.outbox_rows() == 0, 3600.0, note)
                    acked_s = time.monotonic() - start
                    cpu = time.process_time() - cpu
                    poller.join(120)
                    watch.stop.set()
                    published = sum(s.stats.published for s in fleet.sites.values())
                    connections = sum(s.stats.connections for s in fleet.sites.values())
            finally:
                hub.terminate()
                hub.wait(60)
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT (site, boot, seq)), "
                               "count(DISTINCT site) FROM records").fetchone()
            gaps = conn.execute(
                "SELECT count(*) FROM (SELECT site FROM records GROUP BY site, boot "
                "HAVING max(seq) - min(seq) + 1 <> count(*)) AS g").fetchone()
            states = conn.execute("SELECT count(*) FROM site_state").fetchone()
    assert row is not None and gaps is not None and states is not None
    n = len(specs)
    scale = TARGET_SITES / n
    print(f"sites: {n}, backlog {args.backlog_hours:g} h each: {records:,} records in "
          f"{rows:,} outbox rows; hub: {args.workers} workers as `offgrid hub run`; "
          f"{os.cpu_count()} cores")
    print(f"enrolment in bulk (one mosquitto_passwd -U, ACL appended): {enroll_s:.1f} s; "
          f"hub.broker.enroll one by one: {per_site_enroll_s * 1000:.0f} ms a site, so "
          f">= {per_site_enroll_s * TARGET_SITES / 60:.0f} min for {TARGET_SITES:,}")
    print(f"backlog made (before the clock starts): {prepare_s:.1f} s")
    print(f"all sites connected:          {marks.get('connected', float('nan')):7.1f} s")
    state_s = watch.state_s
    if state_s is None:
        print("every site's State in PostgreSQL: NOT reached")
    else:
        print(f"every site's State in PostgreSQL: {state_s:7.1f} s  -> for {TARGET_SITES:,} "
              f"sites ~{state_s * scale:.0f} s, target {TARGET_STATE_S:.0f} s "
              f"(ratio {state_s * scale / TARGET_STATE_S:.2f})")
    print(f"all coarse backlog acknowledged: {marks.get('coarse', float('nan')):7.1f} s")
    if not done or watch.records_s is None:
        print(f"whole backlog committed: NOT reached in the hour ({fleet.outbox_rows()} rows "
              "left)")
    else:
        rate = records / watch.records_s
        print(f"whole backlog committed:      {watch.records_s:7.1f} s ({rate:,.0f} records/s "
              "over the whole run, connections included; "
              f"all acknowledged at {acked_s:.1f} s; {published:,} messages, "
              f"{connections} connections; the sites' process used {cpu:.1f} s of CPU)")
        full = TARGET_SITES * 48 * 60
        print(f"  -> 10,000 sites x 48 h = {full:,} records at this rate: ~{full / rate:.0f} s, "
              f"target {TARGET_BACKLOG_S:.0f} s (ratio {full / rate / TARGET_BACKLOG_S:.2f})")
    exact = row[0] == row[1] == records and row[2] == n and gaps[0] == 0
    print(f"exactly once: {row[0]:,} rows, {row[1]:,} distinct keys, {records:,} made, "
          f"{row[2]} sites, {gaps[0]} sites with a gap, {states[0]} states: "
          f"{'OK' if exact else 'FAILED'}")
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
