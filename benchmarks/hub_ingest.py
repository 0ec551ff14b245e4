"""Hub ingest speed, in records per second, on a fresh PostgreSQL (fsync on, every commit waits
for its WAL on disk) and a fresh Mosquitto (TLS, passwords, ACL), against baselines measured in
the same run. The issue's target: at least 50,000 records per second on this 2-core machine.

A record is one site's values at one instant: here 40 channels, in batches of 15 records (one
15-minute batch at 1-minute samples), up to 200 batches per transaction as the ingest workers
group them.

1. **End to end** (the target's figure): the sites' batches wait in the broker for the hub's
   persistent sessions (a hub coming back after an outage finds its backlog there); then the hub
   (:class:`hub.ingest.Worker`, in one or more processes) takes them from the broker, decodes
   them, commits them to PostgreSQL, publishes each batch's acknowledgement to its site and
   acknowledges the message to the broker. Timed from the workers' start to the last batch
   acknowledged. The sites' publishing is timed apart (the load generator, not the hub). The
   baseline: the same run with the writer this one replaced (``COPY`` into a staging table,
   then ``INSERT … ON CONFLICT DO NOTHING``). Last, the same records in batches of 60 records:
   the hub's cost per message (MQTT, decoding, acknowledgement) outweighs its cost per record.
2. **The writer alone** (:func:`hub.writer.store_batches`, decoded batches into PostgreSQL):
   all new, then all of them again (every record a duplicate: the resend after an outage),
   against the staging writer and against an ``executemany`` of per-row INSERTs.

CPU per record [µs] is given for each of the hub, PostgreSQL and the broker (from
``/proc/<pid>/stat``): figures that depend far less than the rates on other programs running on
the machine, and from them an estimate of the rate on an idle machine (each hub process within
one core, all of them within all cores).

The PostgreSQL settings used are the hub's recommended ones (:data:`PG_SETTINGS`).

Run: ``.venv/bin/python benchmarks/hub_ingest.py [--batches N] [--sites N] [--per-batch N]
[--big-batch N]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path

import numpy as np
import psycopg

import hub.ingest
from fleetwire import topics
from fleetwire.batch import Batch, Columns, Record, decode_batch, decode_columns, encode_batch
from hub.ingest import (
    SUBSCRIBED,
    BrokerConfig,
    Counters,
    IngestConfig,
    Worker,
    connect,
    mqtt_client,
    open_pool,
)
from hub.schema import Conn, create_schema, ensure_partitions
from hub.writer import (
    COLUMNS,
    COPY_HEADER,
    COPY_TRAILER,
    LOCK_SQL,
    ChannelSets,
    copy_rows,
    prepare,
    store_batches,
    timestamp,
)
from offgrid.localservers import Broker, mosquitto, postgres

PER_BATCH, CHANNELS, GROUP = 15, 40, 200
T0_MS = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp() * 1000)
TARGET_RPS = 50_000
PG_SETTINGS = {"max_wal_size": "8GB", "checkpoint_timeout": "15min"}
"""The hub's recommended PostgreSQL settings beyond the defaults (``postgresql.conf``): at
50,000 records/s the WAL grows by about 36 MB/s (about 730 bytes a record), so the default
``max_wal_size`` (1 GB) would checkpoint every half minute, and after each checkpoint a page's
first change writes the whole page to the WAL again (measured: +6 % WAL, +10 % PostgreSQL CPU
with checkpoints every 30 s). Durability is the default's: ``fsync`` and ``synchronous_commit``
stay on. Measured and left out: ``wal_compression`` (nothing to compress: new pages are not
written whole; it only cost CPU), ``wal_buffers`` and ``shared_buffers`` (no effect)."""

Store = Callable[[Conn, Sequence[Columns], ChannelSets], list[int]]


def payloads(n: int, sites: int = 500, per_batch: int = PER_BATCH) -> list[bytes]:
    """``n`` encoded batches of ``per_batch`` records, spread over ``sites`` sites (boot 0,
    consecutive seqs)."""
    out = []
    for i in range(n):
        site, k = f"site-{i % sites}", i // sites
        rs = tuple(Record(0, s, 60_000 * s, T0_MS + 60_000 * s, True,
                          {f"ch{c:02d}_w": 10.0 * c + (s * 7 + c) % 13 for c in range(CHANNELS)})
                   for s in range(k * per_batch, (k + 1) * per_batch))
        out.append(encode_batch(Batch(site, k, rs), {}))
    return out


def fresh_db(dsn: str) -> str:
    """A new database with the hub's schema and partitions around the records' month."""
    name = f"b_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    db_dsn = dsn.replace("dbname=postgres", f"dbname={name}")
    with psycopg.connect(db_dsn) as conn:
        create_schema(conn)
        ensure_partitions(conn, datetime.fromtimestamp(T0_MS / 1000, UTC))
        # channel set 1 exists: the executemany baseline refers to it
        conn.execute("INSERT INTO channel_sets (names) VALUES (ARRAY['x'])")
    return db_dsn


def count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM records").fetchone()
    assert row is not None
    return int(row[0])


STAGING = """
CREATE TEMP TABLE IF NOT EXISTS staging_records (
    site text COLLATE "C", boot bigint, seq bigint, ts timestamptz, mono_ms bigint, wall_ms bigint,
    clock_trusted boolean, repaired boolean, channel_set integer, vals double precision[]
) ON COMMIT DELETE ROWS
"""


def staged_store(conn: Conn, batches: Sequence[Columns], channel_sets: ChannelSets) -> list[int]:
    """The writer that :func:`hub.writer.store_batches` replaced, as a baseline: the batches'
    rows ``COPY``-ed into a temporary staging table, then one ``INSERT … SELECT … ON CONFLICT
    DO NOTHING RETURNING`` the new keys (no clock repair: less work than ours)."""
    sites = sorted({b.site for b in batches})
    with conn.transaction():
        conn.execute(STAGING)
        conn.execute(LOCK_SQL, (sites,))
        conn.execute("INSERT INTO sites (site) SELECT unnest(%s::text[]) "
                     "ON CONFLICT (site) DO UPDATE SET last_contact = now()", (sites,))
        set_ids = channel_sets.resolve(conn, {b.channels for b in batches})
        rows = copy_rows(batches, [set_ids[b.channels] for b in batches],
                         [b.wall_ms for b in batches],
                         [np.zeros(len(b), dtype=np.bool_) for b in batches])
        with conn.cursor() as cur, cur.copy(
                f"COPY staging_records ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)") as cp:
            cp.write(COPY_HEADER + rows + COPY_TRAILER)
        new = {(str(s), int(bt), int(q)) for s, bt, q in conn.execute(
            f"INSERT INTO records ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} "
            "FROM staging_records ON CONFLICT DO NOTHING RETURNING site, boot, seq").fetchall()}
    channel_sets.remember(set_ids)
    inserted = []
    for b in batches:
        keys = {(b.site, bt, q) for bt, q in zip(b.boot.tolist(), b.seq.tolist(), strict=True)}
        inserted.append(len(keys & new))
        new -= keys
    return inserted


STORES: dict[str, Store] = {"ours": store_batches, "staged": staged_store}


# --- 1. end to end -----------------------------------------------------------------------------

def cpu_s(pids: Sequence[int]) -> dict[int, float]:
    """CPU time used so far by each of the processes ``pids`` still running, all their
    threads [s]."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # ended
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU time used between two :func:`cpu_s` [s], by the processes in both (one that ended
    between them, e.g. an autovacuum worker, is left out)."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


def server_pids(dsn: str) -> list[int]:
    """The PostgreSQL server's processes: the postmaster and its children."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        postmaster = _parent(str(row[0]))
    children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                and _parent(p.name) == postmaster]
    return [postmaster, *children]


def _parent(pid: str) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return -1


def hub_process(config: IngestConfig, indexes: list[int], store: str, ready: MpEvent,
                go: MpEvent, stop: MpEvent, done: Synchronized[int]) -> None:
    """One hub process: the workers ``indexes`` on one pool, storing with ``store``; sets
    ``ready`` once connected to the database, starts the workers on ``go``, keeps ``done`` (the
    batches it has acknowledged) up to date until ``stop``."""
    hub.ingest.store_batches = STORES[store]  # type: ignore[attr-defined,assignment]
    counters = Counters()
    pool = open_pool(config.dsn, len(indexes))
    workers = [Worker(config, i, pool, counters) for i in indexes]
    ready.set()
    go.wait()
    for w in workers:
        w.start()
    while not stop.wait(0.005):
        done.value = counters.batches + counters.rejected
    for w in workers:
        w.stop()
    pool.close()


@dataclass
class EndToEnd:
    """One end-to-end run: records per second, and CPU per record [µs]."""

    rps: float
    hub_us: float
    pg_us: float
    broker_us: float
    publish_rps: float
    processes: int

    def idle_rps(self) -> float:
        """The rate the machine's cores would allow if nothing else ran on them (an estimate
        from the CPU per record: each hub process within one core, all within all cores)."""
        cores = os.cpu_count() or 1
        return 1e6 * min(cores / (self.hub_us + self.pg_us + self.broker_us),
                         min(self.processes, cores) / self.hub_us)


def end_to_end(pg_dsn: str, broker: Broker, data: list[bytes], n: int, sites: int, store: str,
               processes: int, workers: int) -> EndToEnd:
    """Queue ``data`` (``n`` records) in the broker for the hub's sessions, then time
    ``processes`` hub processes of ``workers`` workers each, storing with ``store``, draining
    it."""
    dsn = fresh_db(pg_dsn)
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    config = IngestConfig(dsn, BrokerConfig("127.0.0.1", broker.port, "hub",
                                            broker.credentials["hub"].password, broker.ca_file),
                          workers=workers, max_group=GROUP, client_prefix=prefix)
    # the hub's persistent sessions in the shared group, then offline: the backlog waits there
    for i in range(processes * workers):
        subscribed = threading.Event()
        c = mqtt_client(config.broker, f"{prefix}-{i}", clean_start=False, manual_ack=True)
        c.on_connect = lambda cl, *_: cl.subscribe([(topics.shared(k), 1) for k in SUBSCRIBED])
        c.on_subscribe = lambda *_, e=subscribed: e.set()
        connect(c, config.broker, clean_start=False)
        c.loop_start()
        assert subscribed.wait(30)
        c.disconnect()
        c.loop_stop()
    publish_s = publish(broker, data, sites)
    ctx = mp.get_context("spawn")
    go, stop = ctx.Event(), ctx.Event()
    shares = [list(range(p * workers, (p + 1) * workers)) for p in range(processes)]
    dones = [ctx.Value("q", 0) for _ in shares]
    readies = [ctx.Event() for _ in shares]
    procs = [ctx.Process(target=hub_process, args=(config, share, store, r, go, stop, d))
             for share, r, d in zip(shares, readies, dones, strict=True)]
    for p in procs:
        p.start()
    for r in readies:
        assert r.wait(60)
    pg, hubs = server_pids(dsn), [p.pid for p in procs if p.pid is not None]
    before = cpu_s(hubs), cpu_s(pg), cpu_s([broker.process.pid])
    start = time.perf_counter()
    go.set()
    while sum(d.value for d in dones) < len(data):
        assert all(p.is_alive() for p in procs), "a hub process died"
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    after = cpu_s(hubs), cpu_s(pg), cpu_s([broker.process.pid])
    stop.set()
    for p in procs:
        p.join(60)
    stored = count(dsn)
    assert stored == n, (stored, n)
    us = [cpu_between(a, b) / n * 1e6 for a, b in zip(before, after, strict=True)]
    return EndToEnd(n / seconds, us[0], us[1], us[2], n / publish_s, processes)


def publish(broker: Broker, data: list[bytes], sites: int) -> float:
    """Publish ``data`` (QoS 1), each batch from its site's own client; seconds until the
    broker has acknowledged them all."""
    names = [f"site-{i}" for i in range(sites)]
    clients = []
    for name in names:
        config = BrokerConfig("127.0.0.1", broker.port, name, broker.credentials[name].password,
                              broker.ca_file)
        c = mqtt_client(config, f"{name}-{uuid.uuid4().hex[:6]}", clean_start=True)
        c.max_inflight_messages_set(1000)
        connected = threading.Event()
        c.on_connect = lambda *_, e=connected: e.set()
        connect(c, config, clean_start=True)
        c.loop_start()
        assert connected.wait(30)
        clients.append(c)
    start = time.perf_counter()
    infos = [clients[i % sites].publish(topics.topic(names[i % sites], "batch"), p, qos=1)
             for i, p in enumerate(data)]
    for info in infos:
        info.wait_for_publish(60)
    seconds = time.perf_counter() - start
    for c in clients:
        c.disconnect()
        c.loop_stop()
    return seconds


# --- 2. the writer alone -----------------------------------------------------------------------

@dataclass
class Alone:
    """One run of a writer alone: seconds, and CPU [s] of this process and of PostgreSQL."""

    seconds: float
    python_s: float
    pg_s: float


def writer(dsn: str, data: list[bytes], store: Store) -> Alone:
    """Decode and store ``data`` in groups of :data:`GROUP` batches."""
    sets = ChannelSets({})
    with psycopg.connect(dsn) as conn:
        prepare(conn)
        pg = server_pids(dsn)
        before = time.process_time(), cpu_s(pg)
        start = time.perf_counter()
        for i in range(0, len(data), GROUP):
            store(conn, [decode_columns(p) for p in data[i:i + GROUP]], sets)
        seconds = time.perf_counter() - start
        return Alone(seconds, time.process_time() - before[0], cpu_between(before[1], cpu_s(pg)))


def executemany(dsn: str, data: list[bytes]) -> float:
    """Seconds to decode and store ``data`` with ``executemany`` of a per-row INSERT … ON
    CONFLICT DO NOTHING, one transaction per group (no clock repair: less work than ours)."""
    sql = (f"INSERT INTO records ({', '.join(COLUMNS)}) VALUES "
           f"({', '.join(['%s'] * len(COLUMNS))}) ON CONFLICT DO NOTHING")
    with psycopg.connect(dsn) as conn:
        start = time.perf_counter()
        for i in range(0, len(data), GROUP):
            rows = []
            for p in data[i:i + GROUP]:
                b = decode_batch(p)
                names = sorted(b.records[0].values)
                rows += [(b.site, r.boot, r.seq, timestamp(r.wall_ms), r.mono_ms, r.wall_ms,
                          r.clock_trusted, False, 1, [r.values[n] for n in names])
                         for r in b.records]
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(sql, rows)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=12000, help="batches for each run")
    parser.add_argument("--sites", type=int, default=100, help="sites sending them")
    parser.add_argument("--per-batch", type=int, default=PER_BATCH, help="records per batch")
    parser.add_argument("--big-batch", type=int, default=60,
                        help="records per batch of the last end-to-end run (a backlog sent in "
                             "bigger messages)")
    args = parser.parse_args()
    data = payloads(args.batches, args.sites, args.per_batch)
    n = args.batches * args.per_batch
    big = payloads(n // args.big_batch, args.sites, args.big_batch)
    start = time.perf_counter()
    for p in data:
        decode_columns(p)
    decode_rps = n / (time.perf_counter() - start)
    runs: dict[str, EndToEnd] = {}
    with postgres(PG_SETTINGS) as pg, tempfile.TemporaryDirectory() as folder, \
            mosquitto(Path(folder), [f"site-{i}" for i in range(args.sites)], ["hub"]) as broker:
        for name, store, processes, workers in (("staged", "staged", 1, 2),
                                                ("ours, 1 process x 2 workers", "ours", 1, 2),
                                                ("ours, 2 processes x 1 worker", "ours", 2, 1)):
            runs[name] = end_to_end(pg, broker, data, n, args.sites, store, processes, workers)
        runs[f"ours, 2 x 1, {args.big_batch} records a batch"] = end_to_end(
            pg, broker, big, len(big) * args.big_batch, args.sites, "ours", 2, 1)
        dsn = fresh_db(pg)
        ours = writer(dsn, data, store_batches)
        again = writer(dsn, data, store_batches)
        assert count(dsn) == n
        staged = writer(fresh_db(pg), data, staged_store)
        few = data[: max(GROUP, args.batches // 10)]
        many_s = executemany(fresh_db(pg), few)
    base = runs["staged"]
    best = max(r.rps for r in list(runs.values())[1:3])  # ours, 15 records a batch
    print(f"records: {n:,} ({args.batches:,} batches of {args.per_batch} x {CHANNELS} channels "
          f"from {args.sites} sites), up to {GROUP} batches per transaction")
    print(f"the sites' publishing (the load generator, apart): {base.publish_rps:,.0f} records/s")
    print("1. end to end: broker -> hub -> PostgreSQL committed -> acknowledged")
    print(f"   {'':42}{'records/s':>10}{'ratio':>7}   CPU [us/record]: hub   PG  broker"
          f"   idle machine [records/s]")
    for name, r in runs.items():
        label = "baseline: staging writer, 1 x 2 workers" if name == "staged" else name
        print(f"   {label:42}{r.rps:10,.0f}{r.rps / base.rps:6.2f}x {r.hub_us:22.1f}"
              f"{r.pg_us:5.1f}{r.broker_us:8.1f}{r.idle_rps():16,.0f} (estimate)")
    print("2. the writer alone: decoded batches into PostgreSQL, one connection")
    print(f"   {'':42}{'records/s':>10}{'ratio':>7}   CPU [us/record]: Python (decoding "
          "included)   PG")
    print(f"   decode only                               {decode_rps:10,.0f}")
    for label, a in (("ours: checked COPY into records", ours),
                     ("ours, every record a duplicate", again),
                     ("baseline: staging + INSERT ... ON CONFLICT", staged)):
        print(f"   {label:42}{n / a.seconds:10,.0f}{staged.seconds / a.seconds:6.2f}x "
              f"{a.python_s / n * 1e6:38.1f}{a.pg_s / n * 1e6:5.1f}")
    few_rps = len(few) * args.per_batch / many_s
    print(f"   baseline: executemany INSERT               {few_rps:10,.0f}"
          f"{few_rps / (n / staged.seconds):6.2f}x ({len(few) * args.per_batch:,} records)")
    print(f"target >= {TARGET_RPS:,} records/s end to end: {best:,.0f}, {best / TARGET_RPS:.2f} of "
          f"it: {'met' if best >= TARGET_RPS else 'NOT met'} (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores after the run; the figure "
          f"with {args.per_batch} records a batch)")

if __name__ == "__main__":
    main()
