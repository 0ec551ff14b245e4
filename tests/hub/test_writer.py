"""Batches into the real PostgreSQL: stored once (a record already stored, or twice in one
group, is written once, also with two workers at once), clocks repaired, partitions that take
over rows of the default partition, and batches without their channel names stored only when
the hub knows their set."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from fleetwire.batch import (
    Batch,
    Columns,
    Record,
    channel_set_digest,
    decode_columns,
    encode_batch,
)
from hub.schema import Conn, ensure_partitions, partition_name
from hub.writer import (
    NAMES_NEEDED,
    STORED_SQL,
    ChannelSets,
    fresh_rows,
    prepare,
    store_batches,
    timestamp,
)

T0_MS = int(datetime(2026, 12, 1, 6, tzinfo=UTC).timestamp() * 1000)


def records(boot: int, seqs: range, trusted: bool = True, offset_ms: int = T0_MS,
            wall_ms: int | None = None) -> tuple[Record, ...]:
    """Records one minute apart; their wall time is ``offset_ms + mono_ms`` when trusted, else
    ``wall_ms`` (a clock that has not been set)."""
    out = []
    for s in seqs:
        mono = 60_000 * s + 5_000
        wall = offset_ms + mono if trusted else (wall_ms if wall_ms is not None else mono)
        out.append(Record(boot, s, mono, wall, trusted, {"soc_pct": 50 + s / 10, "pv_w": None}))
    return tuple(out)


def wire(*batches: Batch, names: bool = True) -> list[Columns]:
    """``batches`` as the hub gets them: encoded by the site (with or without their channel
    names), decoded by the hub."""
    return [decode_columns(encode_batch(b, names=names)) for b in batches]


def count(conn: Conn, where: str = "true") -> int:
    row = conn.execute(f"SELECT count(*) FROM records WHERE {where}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def db(hub_db: Conn) -> Conn:
    prepare(hub_db)
    return hub_db


def test_a_batch_is_stored_once_and_a_second_copy_adds_nothing(db: Conn) -> None:
    sets = ChannelSets({})
    batch = Batch("site-a", 1, records(3, range(15)))
    assert store_batches(db, wire(batch), sets) == [15]
    assert store_batches(db, wire(batch), sets) == [0]
    # the same records in one group, and overlapping batches: each counted for the first
    overlap = Batch("site-a", 2, records(3, range(10, 20)))
    assert store_batches(db, wire(overlap, overlap), sets) == [5, 0]
    assert count(db) == 20
    row = db.execute("SELECT s.names, r.vals, r.ts FROM records r JOIN channel_sets s "
                     "ON s.id = r.channel_set WHERE seq = 7").fetchone()
    assert row is not None
    assert row[0] == ["pv_w", "soc_pct"] and row[1] == [None, 50.7]
    assert row[2] == datetime(2026, 12, 1, 6, 7, 5, tzinfo=UTC)
    contact = db.execute("SELECT count(*) FROM sites WHERE site = 'site-a'").fetchone()
    assert contact == (1,)


def test_records_before_the_clock_was_set_are_repaired_by_a_later_trusted_one(db: Conn) -> None:
    sets = ChannelSets({})
    early = Batch("site-b", 1, records(0, range(5), trusted=False, wall_ms=0))
    assert store_batches(db, wire(early), sets) == [5]
    assert count(db, "NOT repaired AND ts = 'epoch'") == 5
    # the site's clock is set (NTP) at seq 5; it sends the early batch again too
    later = Batch("site-b", 2, records(0, range(5, 10), trusted=True))
    assert store_batches(db, wire(later, early), sets) == [5, 0]
    got = db.execute("SELECT seq, ts, repaired FROM records ORDER BY seq").fetchall()
    expected = [(s, datetime(2026, 12, 1, 6, s, 5, tzinfo=UTC), s < 5) for s in range(10)]
    assert got == expected
    # sent once more after the repair: the key still refuses it
    assert store_batches(db, wire(early), sets) == [0]
    assert count(db) == 10
    # a new boot has its own offset; its untrusted records are repaired at once
    reboot = Batch("site-b", 3, records(1, range(3), trusted=True, offset_ms=T0_MS + 3_600_000)
                   + records(1, range(3, 4), trusted=False, wall_ms=1))
    assert store_batches(db, wire(reboot), sets) == [4]
    row = db.execute("SELECT ts, repaired FROM records WHERE boot = 1 AND seq = 3").fetchone()
    assert row == (datetime(2026, 12, 1, 7, 3, 5, tzinfo=UTC), True)
    offsets = db.execute("SELECT boot, offset_ms FROM boots ORDER BY boot").fetchall()
    assert offsets == [(0, T0_MS), (1, T0_MS + 3_600_000)]


def test_a_failed_transaction_stores_nothing_and_forgets_its_channel_sets(db: Conn) -> None:
    sets = ChannelSets({})
    bad = Batch("site-c", 1, (Record(0, 0, 0, T0_MS, True, {"x_w": 1.0}),
                              Record(0, 1, 2**62 - 1, T0_MS, True, {"x_w": 1.0})))
    # bigint holds it, but the staging copy is fine: make the insert fail instead
    db.execute("ALTER TABLE records ADD CONSTRAINT small_mono CHECK (mono_ms < 2^40)")
    db.commit()
    with pytest.raises(psycopg.errors.CheckViolation, match="small_mono"):
        store_batches(db, wire(bad), sets)
    assert sets.ids == {}
    assert count(db) == 0
    assert db.execute("SELECT count(*) FROM sites").fetchone() == (0,)


def test_a_partition_made_later_takes_its_rows_from_the_default_partition(db: Conn) -> None:
    far = datetime(2031, 5, 17, tzinfo=UTC)
    ms = int(far.timestamp() * 1000)
    store_batches(db, wire(Batch("site-d", 1, records(0, range(3), offset_ms=ms))), ChannelSets({}))
    assert db.execute("SELECT count(*) FROM records_default").fetchone() == (3,)
    made = ensure_partitions(db, far, months_behind=0, months_ahead=0)
    assert made == [partition_name(t, far.date().replace(day=1))
                    for t in ("records", "alarms", "interruptions")]
    assert db.execute("SELECT count(*) FROM records_default").fetchone() == (0,)
    assert db.execute(f"SELECT count(*) FROM {made[0]}").fetchone() == (3,)
    assert ensure_partitions(db, far, months_behind=0, months_ahead=0) == []


def test_partitions_cover_the_months_around_now(db: Conn) -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    ensure_partitions(db, now, months_behind=1, months_ahead=2)
    for month in ("y2026m11", "y2026m12", "y2027m01", "y2027m02"):
        row = db.execute("SELECT to_regclass(%s)", (f"records_{month}",)).fetchone()
        assert row is not None and row[0] is not None, month


def test_timestamps_are_clamped_to_what_postgresql_stores() -> None:
    assert timestamp(-5) == datetime(1970, 1, 1, tzinfo=UTC)
    assert timestamp(1500) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=1.5)
    assert timestamp(2**62) == datetime(9999, 1, 1, tzinfo=UTC)


def test_rows_with_and_without_missing_values_are_copied_alike(db: Conn) -> None:
    """The binary COPY packs full rows with numpy and rows with a gap one by one; both must
    read back as sent (NULL where missing), and so must a record with no channel at all."""
    full = Batch("site-a", 1, tuple(Record(0, s, s, T0_MS + s, True, {"a_w": 1.5 * s,
                                                                      "b_v": -2.25})
                                    for s in range(3)))
    gappy = Batch("site-a", 2, (Record(0, 3, 3, T0_MS + 3, True, {"a_w": None, "b_v": 7.0}),
                                Record(0, 4, 4, T0_MS + 4, True, {"a_w": 6.0, "b_v": -0.5})))
    empty = Batch("site-b", 3, (Record(2, 9, 9, T0_MS + 9, False, {}),))
    other = Batch("site-cc", 4, (Record(1, 5, 5, T0_MS + 5, True, {"a_w": 2.0, "b_v": 1.0}),))
    same_width = Batch("site-d", 5, (Record(1, 6, 6, T0_MS + 6, True, {"a_w": 4.0, "b_v": 3.0}),))
    assert store_batches(db, wire(full, gappy, other, empty, same_width),
                         ChannelSets({})) == [3, 2, 1, 1, 1]
    got = db.execute("SELECT site, boot, seq, ts, mono_ms, wall_ms, clock_trusted, repaired, "
                     "vals FROM records ORDER BY site, seq").fetchall()
    ts = [datetime(2026, 12, 1, 6, tzinfo=UTC) + timedelta(milliseconds=s) for s in range(10)]
    assert got == [
        ("site-a", 0, 0, ts[0], 0, T0_MS, True, False, [0.0, -2.25]),
        ("site-a", 0, 1, ts[1], 1, T0_MS + 1, True, False, [1.5, -2.25]),
        ("site-a", 0, 2, ts[2], 2, T0_MS + 2, True, False, [3.0, -2.25]),
        ("site-a", 0, 3, ts[3], 3, T0_MS + 3, True, False, [None, 7.0]),
        ("site-a", 0, 4, ts[4], 4, T0_MS + 4, True, False, [6.0, -0.5]),
        ("site-b", 2, 9, ts[9], 9, T0_MS + 9, False, False, []),
        ("site-cc", 1, 5, ts[5], 5, T0_MS + 5, True, False, [2.0, 1.0]),
        ("site-d", 1, 6, ts[6], 6, T0_MS + 6, True, False, [4.0, 3.0]),
    ]


def test_only_the_records_not_yet_stored_are_written(db: Conn) -> None:
    """A coarse copy (some of a batch's records, sent ahead after an outage) and then the full
    batch: the full one adds only the rest; sent again, nothing; each key stored once."""
    sets = ChannelSets({})
    full = Batch("site-a", 7, records(2, range(30, 45)))
    coarse = Batch("site-a", -7, tuple(r for r in full.records if r.seq % 5 == 0))
    assert store_batches(db, wire(coarse), sets) == [3]
    assert store_batches(db, wire(full), sets) == [12]
    assert store_batches(db, wire(coarse, full), sets) == [0, 0]
    keys = db.execute("SELECT seq FROM records ORDER BY seq").fetchall()
    assert keys == [(s,) for s in range(30, 45)]
    # a batch of two boots, one of them already stored
    both = Batch("site-a", 8, records(2, range(44, 46)) + records(3, range(2)))
    assert store_batches(db, wire(both), sets) == [3]
    # nothing at all, and an empty batch beside a full one
    assert store_batches(db, [], sets) == []
    more = Batch("site-a", 9, records(3, range(2, 4)))
    assert store_batches(db, wire(Batch("site-a", 10, ()), more), sets) == [0, 2]
    assert count(db) == 20


def test_a_key_twice_in_one_group_is_written_once_with_its_first_values(db: Conn) -> None:
    sets = ChannelSets({})
    first = Batch("site-a", 1, (Record(0, 1, 10, T0_MS, True, {"x_w": 1.0}),
                                Record(0, 1, 10, T0_MS, True, {"x_w": 2.0}),
                                Record(0, 2, 20, T0_MS + 10, True, {"x_w": 3.0})))
    second = Batch("site-a", 2, (Record(0, 2, 20, T0_MS + 10, True, {"x_w": 4.0}),
                                 Record(0, 3, 30, T0_MS + 20, True, {"x_w": 5.0})))
    other_site = Batch("site-b", 3, (Record(0, 1, 10, T0_MS, True, {"x_w": 6.0}),))
    assert store_batches(db, wire(first, second, other_site), sets) == [2, 1, 1]
    got = db.execute("SELECT site, seq, vals FROM records ORDER BY site, seq").fetchall()
    assert got == [("site-a", 1, [1.0]), ("site-a", 2, [3.0]), ("site-a", 3, [5.0]),
                   ("site-b", 1, [6.0])]


def test_two_workers_storing_the_same_batches_at_once_write_each_record_once(
        db: Conn, hub_dsn: str) -> None:
    """The per-site locks make the check and the ``COPY`` of one transaction atomic against
    another's: whichever commits first writes the records, the other finds them stored."""
    rounds = [wire(*(Batch(f"site-{i % 3}", i, records(r, range(15 * i, 15 * i + 15)))
                     for i in range(12))) for r in range(10)]
    start = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def worker(conn: Conn) -> None:
        try:
            for batches in rounds:
                start.wait()  # both at once, on the same new records
                results.append(store_batches(conn, batches, ChannelSets({})))
        except BaseException as e:  # noqa: BLE001 - reported below
            start.abort()
            errors.append(e)

    with psycopg.connect(hub_dsn) as other:
        prepare(other)
        threads = [threading.Thread(target=worker, args=(c,)) for c in (db, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert sum(map(sum, results)) == 10 * 12 * 15
    assert count(db) == 10 * 12 * 15
    distinct = db.execute("SELECT count(DISTINCT (site, boot, seq)) FROM records").fetchone()
    assert distinct == (10 * 12 * 15,)


def test_fresh_rows_drops_stored_keys_and_later_copies() -> None:
    a = wire(Batch("site-a", 1, records(0, range(4))))[0]
    b = wire(Batch("site-a", 2, records(0, range(2, 6))))[0]
    c = wire(Batch("site-c", 3, records(0, range(3))))[0]
    got = fresh_rows([a, b, c], {("site-a", 0, 0), ("site-c", 0, 2), ("site-a", 1, 1)})
    assert got.tolist() == [False, True, True, True,  # a: seq 0 stored
                            False, False, True, True,  # b: seq 2 and 3 are a's
                            True, True, False]  # c: seq 2 stored
    assert fresh_rows([], set()).tolist() == []


def test_prepare_keeps_commits_durable_whatever_the_databases_default(db: Conn,
                                                                       hub_dsn: str) -> None:
    name = hub_dsn.rsplit("dbname=", 1)[1]
    db.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
    db.commit()
    with psycopg.connect(hub_dsn) as conn:
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("off",)
        prepare(conn)
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)


def test_the_stored_keys_are_looked_up_range_by_range_however_big_the_table(db: Conn) -> None:
    """The check before the ``COPY`` must stay a range scan of the key's index for each range:
    as a join, the planner reads the whole table once it has grown (seen: a hash join over
    300,000 records, 30 times slower). Even with nested loops discouraged, it stays one."""
    with db.transaction():
        db.execute("SET LOCAL enable_nestloop = off")
        row = db.execute("EXPLAIN (FORMAT JSON) " + STORED_SQL,
                         (["site-a", "site-b"], [0, 1], [0, 15], [14, 29])).fetchone()
    assert row is not None
    plan = row[0][0]["Plan"]
    assert plan["Node Type"] == "Nested Loop"
    assert plan["Plans"][0]["Node Type"] == "Function Scan"


def test_a_batch_without_names_is_stored_only_when_the_hub_knows_its_set(db: Conn) -> None:
    sets = ChannelSets({})
    first, second = (Batch("site-a", i, records(1, range(15 * i, 15 * i + 15))) for i in (1, 2))
    # the set is unknown: nothing stored, not even the site's contact
    assert store_batches(db, wire(first, names=False), sets) == [NAMES_NEEDED]
    assert count(db) == 0 and sets.by_digest == {}
    assert db.execute("SELECT count(*) FROM sites").fetchone() == (0,)
    # sent again with names: stored, and the set with its digest; then a batch without names
    assert store_batches(db, wire(first), sets) == [15]
    digest = channel_set_digest(["pv_w", "soc_pct"])
    assert db.execute("SELECT names, digest FROM channel_sets").fetchall() == [
        (["pv_w", "soc_pct"], digest)]
    assert store_batches(db, wire(second, names=False), sets) == [15]
    # a hub restarted (an empty cache) finds the set in the database; a batch of the set with
    # another width is not stored (answered as unknown: the site sends its names)
    fresh = ChannelSets({})
    bare = wire(second, names=False)[0]
    narrow = dataclasses.replace(bare, id=3, values=bare.values[:, :1])
    assert store_batches(db, [*wire(second, names=False), narrow], fresh) == [0, NAMES_NEEDED]
    assert fresh.by_digest == {digest: (fresh.by_digest[digest][0], 2)}
    rows = db.execute("SELECT count(*), count(DISTINCT seq), min(s.names::text) FROM records r "
                      "JOIN channel_sets s ON s.id = r.channel_set").fetchone()
    assert rows == (30, 30, "{pv_w,soc_pct}")
