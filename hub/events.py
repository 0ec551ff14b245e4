"""Sites' events and states into PostgreSQL: alarms, interruptions and command results from
:class:`fleetwire.messages.Events`, each site's current state and meta from
:class:`fleetwire.messages.State`; one transaction for a group of messages, set-based.

- **Alarms** are inserted once: their key is ``(site, boot, seq)`` and their time ``ts`` the
  site's wall time (an alarm's ``boot`` is the site database's epoch, not a boot counter, so no
  clock offset of :mod:`hub.writer` applies to it); a copy sent again meets the key.
- **Interruptions** are upserted on ``(site, boot, seq, start_ts)``: the copy sent when one ends
  sets the ``end_ts`` of the row stored when it started; a copy without an end never erases one.
  ``customers_served`` is the site's customers served when the hub first stores the row.
- **Command results** update the command's row while it is still ``sent``: the first answer
  wins, a copy sent again changes nothing.
- **States** upsert the site's meta (name, province, groups, customers served) and its
  ``site_state`` row (the latest State of the group wins; a State older than the stored one of
  the same boot never replaces it).

Every message of a site moves its ``last_contact``. Sites are locked in sorted order with the
same advisory locks as :mod:`hub.writer`, so a worker storing events and one storing batches of
the same sites never deadlock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from fleetwire.messages import Alarm, CommandResult, Events, Interruption, State
from hub.schema import Conn
from hub.writer import LOCK_SQL, timestamp

ALARMS_SQL = """
INSERT INTO alarms (site, boot, seq, ts, mono_ms, wall_ms, clock_trusted, repaired, kind, active,
                    severity, detail)
SELECT site, boot, seq, ts, mono_ms, wall_ms, clock_trusted, false, kind, active, severity, detail
FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::timestamptz[], %s::bigint[],
            %s::bigint[], %s::boolean[], %s::text[], %s::boolean[], %s::text[], %s::text[])
     AS a(site, boot, seq, ts, mono_ms, wall_ms, clock_trusted, kind, active, severity, detail)
ON CONFLICT DO NOTHING
RETURNING site, boot, seq
"""
INTERRUPTIONS_SQL = """
INSERT INTO interruptions AS i (site, boot, seq, start_ts, end_ts, customers_interrupted,
                                customers_served, planned, cause, load)
SELECT u.site, u.boot, u.seq, u.start_ts, u.end_ts, u.customers, s.customers, u.planned,
       u.cause, u.load
FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[],
            %s::integer[], %s::boolean[], %s::text[], %s::text[])
     AS u(site, boot, seq, start_ts, end_ts, customers, planned, cause, load)
JOIN sites s ON s.site = u.site
ON CONFLICT (site, boot, seq, start_ts) DO UPDATE
    SET end_ts = EXCLUDED.end_ts, received = now()
    WHERE i.end_ts IS NULL AND EXCLUDED.end_ts IS NOT NULL
RETURNING i.site, i.boot, i.seq
"""
"""Insert new interruptions; end an open one (only the end changes, once)."""
RESULTS_SQL = """
UPDATE commands AS c SET status = r.status, detail = r.detail, result_at = r.at
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[])
     AS r(id, site, status, detail, at)
WHERE c.id = r.id AND c.site = r.site AND c.status = 'sent'
RETURNING c.id
"""
GROUPS_SQL = """
INSERT INTO groups (kind, name) SELECT * FROM unnest(%s::text[], %s::text[])
ON CONFLICT (kind, name) DO NOTHING
"""
SITES_SQL = """
INSERT INTO sites AS s (site, name, province_id, customers)
SELECT u.site, u.name, g.id, u.customers
FROM unnest(%s::text[], %s::text[], %s::text[], %s::integer[]) AS u(site, name, province,
                                                                     customers)
LEFT JOIN groups g ON g.kind = 'province' AND g.name = u.province
ON CONFLICT (site) DO UPDATE SET name = EXCLUDED.name, province_id = EXCLUDED.province_id,
                                 customers = EXCLUDED.customers, last_contact = now()
"""
SITE_GROUPS_SQL = """
INSERT INTO site_groups (site, group_id)
SELECT u.site, g.id FROM unnest(%s::text[], %s::text[]) AS u(site, name)
JOIN groups g ON g.kind = 'group' AND g.name = u.name
ON CONFLICT DO NOTHING
"""
SITE_STATE_SQL = """
INSERT INTO site_state (site, boot, measured, clock_trusted, vals, outbox_rows, outbox_oldest,
                        free_disk_bytes)
SELECT * FROM unnest(%s::text[], %s::bigint[], %s::timestamptz[], %s::boolean[], %s::jsonb[],
                     %s::integer[], %s::timestamptz[], %s::bigint[])
ON CONFLICT (site) DO UPDATE SET
    boot = EXCLUDED.boot, measured = EXCLUDED.measured, clock_trusted = EXCLUDED.clock_trusted,
    vals = EXCLUDED.vals, outbox_rows = EXCLUDED.outbox_rows,
    outbox_oldest = EXCLUDED.outbox_oldest, free_disk_bytes = EXCLUDED.free_disk_bytes,
    received = now()
WHERE NOT (site_state.boot = EXCLUDED.boot AND EXCLUDED.measured < site_state.measured)
"""
"""A site's latest State, unless it is older than the stored one of the same boot (two workers
may commit a site's States out of order)."""


@dataclass(frozen=True, slots=True)
class Stored:
    """What one :class:`Events` changed: new alarms, interruptions started or ended, command
    results applied (each counted for the first message of the group that carried it)."""

    items: int
    changed: int


def _alarm_key(a: Alarm) -> tuple[str, int, int]:
    return a.site, a.boot, a.seq


def _interruption_key(site: str, i: Interruption) -> tuple[str, int, int]:
    return site, i.boot, i.seq


def _merged(events: Sequence[Events]) -> tuple[dict[tuple[str, int, int], Alarm],
                                                dict[tuple[str, int, int], Interruption],
                                                dict[str, CommandResult]]:
    """The distinct alarms, interruptions (an ended copy over an open one) and results (the
    first answer) of ``events``."""
    alarms: dict[tuple[str, int, int], Alarm] = {}
    interruptions: dict[tuple[str, int, int], Interruption] = {}
    results: dict[str, CommandResult] = {}
    for e in events:
        for a in e.alarms:
            alarms.setdefault(_alarm_key(a), a)
        for i in e.interruptions:
            key = _interruption_key(e.site, i)
            if key not in interruptions or interruptions[key].end_ms is None:
                interruptions[key] = i
        for r in e.results:
            results.setdefault(r.id, r)
    return alarms, interruptions, results


def _store_alarms(conn: Conn, alarms: dict[tuple[str, int, int], Alarm]) -> set[tuple[str, int,
                                                                                      int]]:
    rows = list(alarms.values())
    if not rows:
        return set()
    new = conn.execute(ALARMS_SQL, (
        [a.site for a in rows], [a.boot for a in rows], [a.seq for a in rows],
        [timestamp(a.wall_ms) for a in rows], [a.mono_ms for a in rows],
        [a.wall_ms for a in rows], [a.clock_trusted for a in rows], [a.kind for a in rows],
        [a.active for a in rows], [a.severity for a in rows], [a.detail for a in rows],
    )).fetchall()
    return {(str(s), int(b), int(q)) for s, b, q in new}


def _store_interruptions(conn: Conn, rows: dict[tuple[str, int, int], Interruption]
                         ) -> set[tuple[str, int, int]]:
    if not rows:
        return set()
    keys, items = list(rows), list(rows.values())
    changed = conn.execute(INTERRUPTIONS_SQL, (
        [k[0] for k in keys], [i.boot for i in items], [i.seq for i in items],
        [timestamp(i.start_ms) for i in items],
        [None if i.end_ms is None else timestamp(i.end_ms) for i in items],
        [i.customers for i in items], [i.planned for i in items], [i.cause for i in items],
        [i.load for i in items],
    )).fetchall()
    return {(str(s), int(b), int(q)) for s, b, q in changed}


def _store_results(conn: Conn, results: dict[str, CommandResult]) -> set[str]:
    if not results:
        return set()
    rows = list(results.values())
    done = conn.execute(RESULTS_SQL, (
        [r.id for r in rows], [r.site for r in rows], [r.status for r in rows],
        [r.detail for r in rows], [timestamp(r.at_ms) for r in rows],
    )).fetchall()
    return {str(i) for (i,) in done}


def _store_states(conn: Conn, states: Sequence[State]) -> None:
    """Upsert the meta and the state of each site of ``states`` (its last State wins)."""
    latest = list({s.site: s for s in states}.values())
    if not latest:
        return
    kinds = ["province"] * len(latest) + ["group"] * sum(len(s.groups) for s in latest)
    names = [s.province for s in latest] + [g for s in latest for g in s.groups]
    wanted = sorted({(k, n) for k, n in zip(kinds, names, strict=True) if n})
    conn.execute(GROUPS_SQL, ([k for k, _ in wanted], [n for _, n in wanted]))
    sites = [s.site for s in latest]
    conn.execute(SITES_SQL, (sites, [s.name for s in latest], [s.province for s in latest],
                             [s.customers for s in latest]))
    conn.execute("DELETE FROM site_groups WHERE site = ANY(%s::text[])", (sites,))
    pairs = sorted({(s.site, g) for s in latest for g in s.groups})
    conn.execute(SITE_GROUPS_SQL, ([p[0] for p in pairs], [p[1] for p in pairs]))
    conn.execute(SITE_STATE_SQL, (
        sites, [s.boot for s in latest], [timestamp(s.wall_ms) for s in latest],
        [s.clock_trusted for s in latest],
        [json.dumps(dict(s.values)) for s in latest], [s.outbox_rows for s in latest],
        [None if s.outbox_oldest_ms is None else timestamp(s.outbox_oldest_ms)
         for s in latest],
        [s.free_disk_bytes for s in latest]))


def store_events(conn: Conn, events: Sequence[Events], states: Sequence[State]
                 ) -> list[Stored]:
    """Store ``events`` and ``states`` in one transaction; returns, for each of ``events``,
    how many items it carried and how many of them changed the database (an item also in an
    earlier message of ``events`` counts for the first; an interruption's end for the message
    that carried the end).

    Commits on success, rolls back and raises on any error: the caller acknowledges only after
    this returns.
    """
    sites = sorted({e.site for e in events} | {s.site for s in states})
    alarms, interruptions, results = _merged(events)
    with conn.transaction():
        conn.execute(LOCK_SQL, (sites,))
        conn.execute("INSERT INTO sites (site) SELECT unnest(%s::text[]) "
                     "ON CONFLICT (site) DO UPDATE SET last_contact = now()", (sites,))
        _store_states(conn, states)  # first: interruptions take the customers served
        new_alarms = _store_alarms(conn, alarms)
        new_interruptions = _store_interruptions(conn, interruptions)
        applied = _store_results(conn, results)
    out = []
    for e in events:
        changed = 0
        for a in e.alarms:
            if _alarm_key(a) in new_alarms:
                new_alarms.discard(_alarm_key(a))
                changed += 1
        for i in e.interruptions:
            key = _interruption_key(e.site, i)
            if key in new_interruptions and i == interruptions[key]:  # the copy stored
                new_interruptions.discard(key)
                changed += 1
        for r in e.results:
            if r.id in applied:
                applied.discard(r.id)
                changed += 1
        out.append(Stored(len(e.alarms) + len(e.interruptions) + len(e.results), changed))
    return out
