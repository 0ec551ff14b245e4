"""An ingest worker against the real PostgreSQL (its MQTT client is made but never connected):
a batch the database refuses is set apart, and the rest of its group is still stored."""

from __future__ import annotations

import psycopg

from fleetwire.batch import Batch, Columns, Record, decode_columns, encode_batch
from hub.ingest import BrokerConfig, Counters, IngestConfig, Worker, open_pool
from hub.schema import Conn

T0_MS = 1_796_000_000_000


def columns(site: str, mono_ms: int) -> list[Columns]:
    return [decode_columns(encode_batch(Batch(site, 1, tuple(
        Record(0, s, mono_ms + s, T0_MS + s, True, {"x_w": float(s)}) for s in range(3)))))]


def test_a_refused_batch_is_set_apart_and_the_rest_stored(hub_db: Conn, hub_dsn: str) -> None:
    hub_db.execute("ALTER TABLE records ADD CONSTRAINT small_mono CHECK (mono_ms < 2^40)")
    hub_db.commit()
    config = IngestConfig(dsn=hub_dsn, broker=BrokerConfig("127.0.0.1", 1, "hub", "x"))
    pool = open_pool(hub_dsn, 1)
    try:
        worker = Worker(config, 0, pool, Counters())
        group = columns("site-a", 0) + columns("site-b", 2**41) + columns("site-c", 0)
        assert worker._store(group) == [3, None, 3]
    finally:
        pool.close()
    with psycopg.connect(hub_dsn) as conn:
        rows = conn.execute("SELECT site, count(*) FROM records GROUP BY site ORDER BY site")
        assert rows.fetchall() == [("site-a", 3), ("site-c", 3)]
