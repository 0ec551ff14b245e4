"""Batches into PostgreSQL: one transaction for several batches, its new records written with
one binary ``COPY`` straight into ``records``; a record already stored is never written twice.

**Exactly once.** Each transaction first takes a per-site advisory lock (sites in sorted order,
so two workers never deadlock): while it holds them, no other transaction writes records of its
sites. Under the locks, one set-based query returns the keys ``(site, boot, seq)`` already
stored within each batch's ``seq`` range (a resend, or a coarse copy sent ahead of its full
batch); those records, and a key's later copies within the group, are dropped before the
``COPY``. The table's key (see :mod:`hub.schema`) still refuses a second copy as a last line: a
transaction that meets it fails whole and is acknowledged to no site.

**Clocks.** A record's time ``ts`` is its wall time when the site's clock was trusted. A boot's
clock offset (wall = offset + monotonic) is fixed, once, by the first trusted record of that
boot the hub sees (the lowest ``seq`` among the trusted records of that transaction). A record
taken before its site trusted its clock gets ``offset + mono_ms`` as soon as the offset is known
(``repaired``); until then it keeps the wall time the site read. Since ``ts`` is thus a function
of the record and a value that never changes once set, a copy sent again lands on the same
``(site, boot, seq, ts)``. The locks also keep two workers from fixing one boot's offset or
repairing its records at the same time.

**Channel sets.** A batch names its channel set by digest and carries the names only while its
site is not sure the hub knows the set (batch format 2). A set is resolved through the cache,
then the database; a batch whose set is neither known nor named is not stored
(:data:`NAMES_NEEDED`: the ingest answers ``BatchAck(names_needed=True)`` and the site sends it
again with its names).

**Speed** (``benchmarks/hub_ingest.py``). Without a staging table and an ``INSERT … ON
CONFLICT`` the database does about half the work per record; the records' times are computed
with numpy, and a batch without a gap is packed column-wise by numpy.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

from fleetwire.batch import Columns, channel_set_digest
from hub.schema import Conn

NAMES_NEEDED: Final = -1
"""What :func:`store_batches` returns for a batch it did not store because it came without its
channel names and the hub does not know its channel set (or the set has another width)."""
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MAX_MS: Final = int((datetime(9999, 1, 1, tzinfo=UTC) - EPOCH).total_seconds() * 1000)
PG_EPOCH_MS: Final = 946_684_800_000
"""PostgreSQL's binary timestamps count microseconds from 2000-01-01 UTC [ms after 1970]."""
FLOAT8_OID: Final = 701
COPY_HEADER: Final = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER: Final = struct.pack(">h", -1)
NULL: Final = struct.pack(">i", -1)
VALUE: Final = struct.Struct(">id")
NO_OFFSET: Final = np.iinfo(np.int64).min
COLUMNS: Final = ("site", "boot", "seq", "ts", "mono_ms", "wall_ms", "clock_trusted", "repaired",
                  "channel_set", "vals")
COPY_SQL: Final = f"COPY records ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
STORED_SQL: Final = """
SELECT r.site, r.boot, r.seq
FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) AS k(site, boot, lo, hi)
CROSS JOIN LATERAL (
    SELECT site, boot, seq FROM records
    WHERE site = k.site AND boot = k.boot AND seq BETWEEN k.lo AND k.hi
    OFFSET 0
) AS r
"""
"""The keys already stored within the ``seq`` ranges ``[lo, hi]`` of ``(site, boot)``s: one
range scan of the key's index per range and partition, whatever the table's size (``OFFSET 0``
keeps the planner from turning it into a join that reads the whole table)."""
LOCK_SQL: Final = """
SELECT count(pg_advisory_xact_lock(hashtext('offgrid.site'), hashtext(site)))
FROM (SELECT site FROM unnest(%s::text[]) AS site ORDER BY site) AS sorted_sites
"""
"""Lock each site of a transaction, in order (so that two workers never deadlock)."""
REPAIR_SQL: Final = """
UPDATE records AS r SET ts = %s + (f.offset_ms + r.mono_ms) * interval '1 millisecond',
                        repaired = true
FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS f(site, boot, offset_ms)
WHERE r.site = f.site AND r.boot = f.boot AND NOT r.clock_trusted AND NOT r.repaired
"""


def timestamp(ms: int) -> datetime:
    """``ms`` since the Unix epoch [ms, UTC] as a datetime, clamped to years 1970–9998 (a
    site's clock that is far off still gives a storable time)."""
    return EPOCH + timedelta(milliseconds=min(max(ms, 0), MAX_MS))


def prepare(conn: Conn) -> None:
    """Set up a connection for :func:`store_batches` (once per connection: a pool's
    ``configure``): its commits wait for the WAL on disk (``synchronous_commit = on``, whatever
    the server's or the database's default), since a batch is acknowledged to its site, which
    then forgets it, as soon as its transaction has committed."""
    conn.execute("SET synchronous_commit = on")
    conn.commit()


@dataclass
class ChannelSets:
    """The ids of channel sets (``channel_sets``), cached by names and by digest: each site
    sends the same few."""

    ids: dict[tuple[str, ...], int]
    by_digest: dict[int, tuple[int, int]] = field(default_factory=dict)
    """A set's digest → its id and its number of channels."""

    def resolve(self, conn: Conn, wanted: set[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
        """The ids of ``wanted``, inserting the new ones inside the caller's transaction (cache
        them with :meth:`remember` only once it has committed)."""
        found = {names: self.ids[names] for names in wanted if names in self.ids}
        for names in sorted(wanted - found.keys()):
            digest = channel_set_digest(names)
            conn.execute("INSERT INTO channel_sets (names, digest) VALUES (%s, %s) "
                         "ON CONFLICT DO NOTHING", (list(names), digest))
            row = conn.execute("SELECT id FROM channel_sets WHERE digest = %s",
                               (digest,)).fetchone()
            assert row is not None
            found[names] = int(row[0])
        return found

    def lookup(self, conn: Conn, batches: Sequence[Columns]) -> dict[int, tuple[int, int]]:
        """The id and width of the channel set of each of ``batches`` that the hub knows or
        that the batch names (inserted inside the caller's transaction), by digest; a set
        neither known nor named is missing. Cache the answer with :meth:`remember_digests`
        once the transaction has committed."""
        named = self.resolve(conn, {b.channels for b in batches if b.named})
        found = {channel_set_digest(names): (i, len(names)) for names, i in named.items()}
        wanted = {b.channel_set for b in batches} - found.keys()
        found |= {d: self.by_digest[d] for d in wanted if d in self.by_digest}
        unknown = sorted(wanted - found.keys())
        if unknown:
            found |= {int(d): (int(i), int(k)) for d, i, k in conn.execute(
                "SELECT digest, id, cardinality(names) FROM channel_sets "
                "WHERE digest = ANY(%s::bigint[])", (unknown,)).fetchall()}
        return found

    def remember(self, ids: dict[tuple[str, ...], int]) -> None:
        """Cache ids that are now committed."""
        self.ids.update(ids)
        self.by_digest.update({channel_set_digest(n): (i, len(n)) for n, i in ids.items()})

    def remember_digests(self, found: dict[int, tuple[int, int]]) -> None:
        """Cache :meth:`lookup`'s answer, now committed."""
        self.by_digest.update(found)


def _offsets(conn: Conn, batches: Sequence[Columns], pairs: Sequence[tuple[str, int]]
             ) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """The known clock offsets of the boots ``pairs`` (``(site, boot)``, each once) of
    ``batches``, and the ones these batches fix."""
    rows = conn.execute(
        "SELECT b.site, b.boot, b.offset_ms FROM boots b "
        "JOIN unnest(%s::text[], %s::bigint[]) AS k(site, boot) USING (site, boot)",
        ([p[0] for p in pairs], [p[1] for p in pairs])).fetchall()
    known = {(str(s), int(bt)): int(o) for s, bt, o in rows}
    unknown = {site for site, boot in pairs if (site, boot) not in known}
    first: dict[tuple[str, int], tuple[int, int]] = {}
    for b in batches:
        if b.site not in unknown:
            continue
        for i in np.flatnonzero(b.clock_trusted).tolist():
            key, seq = (b.site, int(b.boot[i])), int(b.seq[i])
            if key not in known and (key not in first or seq < first[key][0]):
                first[key] = (seq, int(b.wall_ms[i] - b.mono_ms[i]))
    fixed = {key: offset for key, (_, offset) in first.items()}
    return known, fixed


def _array_field(values: npt.NDArray[np.float64]) -> bytes:
    """One ``float8[]`` in PostgreSQL's binary COPY format, its length first; NaN is NULL."""
    k = len(values)
    if k == 0:
        return struct.pack(">iiii", 12, 0, 0, FLOAT8_OID)
    nulls = np.isnan(values)
    body = b"".join(NULL if null else VALUE.pack(8, v)
                    for v, null in zip(values.tolist(), nulls.tolist(), strict=True))
    head = struct.pack(">iiiii", 1, int(nulls.any()), FLOAT8_OID, k, 1)
    return struct.pack(">i", len(head) + len(body)) + head + body


@cache
def _head_dtype(site_bytes: int) -> np.dtype[np.void]:
    """A row's fields before its array, in binary COPY layout (each field's length first)."""
    fields = [("nf", ">i2"), ("l_site", ">i4"), ("site", f"S{site_bytes}")]
    for column in ("boot", "seq", "ts", "mono_ms", "wall_ms"):
        fields += [(f"l_{column}", ">i4"), (column, ">i8")]
    fields += [("l_trusted", ">i4"), ("trusted", "u1"), ("l_repaired", ">i4"), ("repaired", "u1"),
               ("l_set", ">i4"), ("set", ">i4")]
    return np.dtype(fields)


@cache
def _array_dtype(k: int) -> np.dtype[np.void]:
    """A ``float8[]`` of ``k`` values without NULL, in binary COPY layout."""
    return np.dtype([("len", ">i4"), ("ndim", ">i4"), ("flags", ">i4"), ("oid", ">i4"),
                     ("dim", ">i4"), ("lb", ">i4"), ("vals", [("l", ">i4"), ("v", ">f8")], (k,))])


def _heads(batches: Sequence[Columns], set_ids: Sequence[int],
           ts_ms: Sequence[npt.NDArray[np.int64]],
           repaired: Sequence[npt.NDArray[np.bool_]], site_bytes: int) -> npt.NDArray[np.void]:
    """The fields before the array of every row of ``batches`` (sites of ``site_bytes``)."""
    counts = [len(b) for b in batches]
    head = np.zeros(sum(counts), dtype=_head_dtype(site_bytes))
    head["nf"], head["l_site"] = len(COLUMNS), site_bytes
    head["site"] = np.repeat(np.array([b.site.encode() for b in batches],
                                      dtype=f"S{site_bytes}"), counts)
    for column in ("boot", "seq", "ts", "mono_ms", "wall_ms"):
        head[f"l_{column}"] = 8
    head["l_trusted"] = head["l_repaired"] = 1
    head["l_set"], head["set"] = 4, np.repeat(np.array(set_ids, dtype=np.int32), counts)
    head["boot"] = np.concatenate([b.boot for b in batches])
    head["seq"] = np.concatenate([b.seq for b in batches])
    head["ts"] = (np.clip(np.concatenate(ts_ms), 0, MAX_MS) - PG_EPOCH_MS) * 1000
    head["mono_ms"] = np.concatenate([b.mono_ms for b in batches])
    head["wall_ms"] = np.concatenate([b.wall_ms for b in batches])
    head["trusted"] = np.concatenate([b.clock_trusted for b in batches])
    head["repaired"] = np.concatenate(repaired)
    return head


def copy_rows(batches: Sequence[Columns], set_ids: Sequence[int],
              ts_ms: Sequence[npt.NDArray[np.int64]],
              repaired: Sequence[npt.NDArray[np.bool_]]) -> bytes:
    """The rows of ``batches`` in PostgreSQL's binary COPY format (:data:`COLUMNS`, without
    the header and trailer), each batch with its channel set's id, its rows' times [ms, UTC]
    and repaired flags. Batches without a missing value are packed together, column-wise, by
    numpy; a batch with one is packed row by row (NULL elements make rows of varying length).
    """
    together: dict[tuple[int, int], list[int]] = {}
    alone: list[int] = []
    for i, b in enumerate(batches):
        k = b.values.shape[1]
        if k and not np.isnan(b.values.sum()):  # NaN: a missing value (values are finite)
            together.setdefault((len(b.site), k), []).append(i)
        else:
            alone.append(i)
    out = []
    for (site_bytes, k), idx in together.items():
        head = _heads([batches[i] for i in idx], [set_ids[i] for i in idx],
                      [ts_ms[i] for i in idx], [repaired[i] for i in idx], site_bytes)
        array = np.zeros(len(head), dtype=_array_dtype(k))
        array["len"], array["ndim"], array["oid"] = 20 + 12 * k, 1, FLOAT8_OID
        array["dim"], array["lb"] = k, 1
        array["vals"]["l"] = 8
        array["vals"]["v"] = np.concatenate([batches[i].values for i in idx])
        rows = np.empty((len(head), head.itemsize + array.itemsize), dtype=np.uint8)
        rows[:, :head.itemsize] = head.view(np.uint8).reshape(len(head), head.itemsize)
        rows[:, head.itemsize:] = array.view(np.uint8).reshape(len(head), array.itemsize)
        out.append(rows.tobytes())
    for i in alone:
        b = batches[i]
        head = _heads([b], [set_ids[i]], [ts_ms[i]], [repaired[i]], len(b.site))
        out += [head[r].tobytes() + _array_field(b.values[r]) for r in range(len(b))]
    return b"".join(out)


def _ranges(batches: Sequence[Columns], first: npt.NDArray[np.int64]
            ) -> tuple[list[str], list[int], list[int], list[int]]:
    """The ``(site, boot)`` segments of each batch (its first record at ``first`` in the
    group's records), with their lowest and highest ``seq``: ``(sites, boots, lowest,
    highest)``."""
    sites: list[str] = []
    boots: list[int] = []
    lows: list[int] = []
    highs: list[int] = []
    full = [i for i, b in enumerate(batches) if len(b)]
    if not full:
        return sites, boots, lows, highs
    at = first[full]
    boot = np.concatenate([batches[i].boot for i in full])
    seq = np.concatenate([batches[i].seq for i in full])
    at -= at[0]
    lo_boot, hi_boot = (np.minimum.reduceat(boot, at).tolist(),
                        np.maximum.reduceat(boot, at).tolist())
    lo_seq, hi_seq = np.minimum.reduceat(seq, at).tolist(), np.maximum.reduceat(seq, at).tolist()
    for j, i in enumerate(full):
        b = batches[i]
        if lo_boot[j] == hi_boot[j]:
            segments = [(lo_boot[j], lo_seq[j], hi_seq[j])]
        else:
            segments = [(k, int(b.seq[b.boot == k].min()), int(b.seq[b.boot == k].max()))
                        for k in np.unique(b.boot).tolist()]
        for k, lo, hi in segments:
            sites.append(b.site)
            boots.append(k)
            lows.append(lo)
            highs.append(hi)
    return sites, boots, lows, highs


def fresh_rows(batches: Sequence[Columns],
               stored: set[tuple[str, int, int]]) -> npt.NDArray[np.bool_]:
    """Which records of ``batches`` (all their records, in order) are new: not in ``stored``
    (keys ``(site, boot, seq)``), and not a second copy of a record earlier in ``batches`` (an
    earlier batch, or earlier in the same batch)."""
    counts = [len(b) for b in batches]
    code = {site: i for i, site in enumerate(sorted({b.site for b in batches}))}
    site = np.repeat(np.array([code[b.site] for b in batches], dtype=np.int64), counts)
    boot = np.concatenate([b.boot for b in batches]) if batches else site
    seq = np.concatenate([b.seq for b in batches]) if batches else site
    fresh = np.ones(len(seq), dtype=np.bool_)
    # sorted by key, equal keys in the order sent: each run's first is the one to keep
    order = np.lexsort((np.arange(len(seq)), seq, boot, site))
    s, bt, q = site[order], boot[order], seq[order]
    fresh[order[1:][(s[1:] == s[:-1]) & (bt[1:] == bt[:-1]) & (q[1:] == q[:-1])]] = False
    if stored:
        hit = {key[0] for key in stored}
        first = 0
        for b, n in zip(batches, counts, strict=True):
            if b.site in hit:
                fresh[first:first + n] &= np.array(
                    [(b.site, k, j) not in stored
                     for k, j in zip(b.boot.tolist(), b.seq.tolist(), strict=True)], dtype=np.bool_)
            first += n
    return fresh


def _take(b: Columns, rows: npt.NDArray[np.bool_]) -> Columns:
    """``b`` with only the records ``rows``."""
    return replace(b, boot=b.boot[rows], seq=b.seq[rows], mono_ms=b.mono_ms[rows],
                   wall_ms=b.wall_ms[rows], clock_trusted=b.clock_trusted[rows],
                   values=b.values[rows])


def _times(b: Columns, offsets: dict[tuple[str, int], int]) -> tuple[npt.NDArray[np.int64],
                                                                       npt.NDArray[np.bool_]]:
    """The time of each record of ``b``, some of whose clocks were not trusted [ms since the
    epoch, UTC], and whether it was repaired (untrusted, its boot's offset known)."""
    boot_ms = np.array([offsets.get((b.site, boot), NO_OFFSET) for boot in b.boot.tolist()],
                       dtype=np.int64)
    repaired = ~b.clock_trusted & (boot_ms != NO_OFFSET)
    return np.where(repaired, b.mono_ms + np.where(repaired, boot_ms, 0), b.wall_ms), repaired


def store_batches(conn: Conn, batches: Sequence[Columns], channel_sets: ChannelSets) -> list[int]:
    """Store ``batches`` in one transaction; returns, for each batch, how many of its records
    were new (a record also in an earlier batch of ``batches`` counts for the first), or
    :data:`NAMES_NEEDED` for a batch not stored: it came without its channel names and its set
    is unknown.

    Commits on success, rolls back and raises on any error: the caller acknowledges only after
    this returns.
    """
    with conn.transaction():
        sets = channel_sets.lookup(conn, batches)
        known = [i for i, b in enumerate(batches) if b.channel_set in sets
                 and sets[b.channel_set][1] == b.values.shape[1]]
        inserted = _store(conn, [batches[i] for i in known],
                          [sets[batches[i].channel_set][0] for i in known]) if known else []
    channel_sets.remember_digests(sets)
    channel_sets.remember({b.channels: sets[b.channel_set][0] for b in batches if b.named})
    out = [NAMES_NEEDED] * len(batches)
    for i, n in zip(known, inserted, strict=True):
        out[i] = n
    return out


def _store(conn: Conn, batches: Sequence[Columns], set_ids: Sequence[int]) -> list[int]:
    """:func:`store_batches`'s work inside its transaction, for batches of known sets (their
    ids ``set_ids``)."""
    sites = sorted({b.site for b in batches})
    counts = [len(b) for b in batches]
    owner = np.repeat(np.arange(len(batches)), counts)
    first = np.cumsum([0, *counts], dtype=np.int64)[:-1]  # each batch's first record
    untrusted = np.bincount(owner, ~np.concatenate([b.clock_trusted for b in batches]),
                            len(batches)).tolist()
    conn.execute(LOCK_SQL, (sites,))
    conn.execute("INSERT INTO sites (site) SELECT unnest(%s::text[]) "
                 "ON CONFLICT (site) DO UPDATE SET last_contact = now()", (sites,))
    ranges = _ranges(batches, first)
    known, fixed = _offsets(conn, batches, sorted(set(zip(ranges[0], ranges[1], strict=True))))
    if fixed:
        columns = ([s for s, _ in fixed], [bt for _, bt in fixed], list(fixed.values()))
        conn.execute("INSERT INTO boots (site, boot, offset_ms) "
                     "SELECT * FROM unnest(%s::text[], %s::bigint[], %s::bigint[])", columns)
        # repair what was stored before, as its copies below would be stamped
        conn.execute(REPAIR_SQL, (EPOCH, *columns))
    offsets = known | fixed
    stored = {(str(s), int(bt), int(q)) for s, bt, q in conn.execute(
        STORED_SQL, ranges).fetchall()} if ranges[0] else set()
    fresh = fresh_rows(batches, stored)
    inserted = np.bincount(owner, fresh, len(batches)).astype(np.int64).tolist()
    new, ids, times, repairs = [], [], [], []
    for whole, set_id, n, at, odd in zip(batches, set_ids, inserted, first.tolist(), untrusted,
                                         strict=True):
        if n:
            b = whole if n == len(whole) else _take(whole, fresh[at:at + len(whole)])
            t, r = _times(b, offsets) if odd else (b.wall_ms, np.zeros(n, dtype=np.bool_))
            new.append(b)
            ids.append(set_id)
            times.append(t)
            repairs.append(r)
    if new:
        rows = copy_rows(new, ids, times, repairs)
        with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
            copy.write(COPY_HEADER + rows + COPY_TRAILER)
    return [int(n) for n in inserted]
