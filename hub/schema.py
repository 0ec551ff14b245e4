"""The hub's PostgreSQL schema: sites and their groups, and the time series, partitioned by time.

Versions: :data:`DDL` is version 1 as first released, frozen; each later version is a step of
:data:`UPGRADES`, run in order by :func:`create_schema` on a new database and on an older one
alike (so a new database and an upgraded one are the same, by construction). Version 2 adds each
site's customers served, its latest :class:`fleetwire.messages.State` (``site_state``), the
operators' ``commands``, an interruption's ``load``, and an index for the latest alarm of a kind.
Version 3 gives each channel set its digest (``channel_sets.digest``, unique: batch format 2
names a set by it, :func:`fleetwire.batch.channel_set_digest`), computed for the sets already
stored.

An interruption's ``customers_served`` is the site's customers served (its latest State's
``customers``) when the hub first stored the interruption; a month's SAIDI and SAIFI divide by the
site's customers served as its latest State says (``sites.customers``, see :mod:`hub.fleet`).

The time-series tables (``records``, ``alarms``, ``interruptions``) are declared
``PARTITION BY RANGE`` on their time, one partition a month, created ahead by the hub
(:func:`ensure_partitions`), plus a default partition that takes a time outside them (a site
whose clock is far off). A partition created later for a month that already has rows in the
default partition takes those rows over.

A record's key is ``(site, boot, seq)``. PostgreSQL's unique index on a partitioned table must
contain the partition key, so the index is ``(site, boot, seq, ts)``; it still refuses a second
copy because a record's ``ts`` is a pure function of the record and its boot's clock offset,
which is fixed the first time the hub sees it (see :mod:`hub.writer`). Site ids are plain
ASCII (:data:`fleetwire.topics.SITE_ID`), so their columns use the "C" collation: byte order,
the fastest comparison for the keys' indexes whatever the cluster's locale.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Final

import psycopg
from psycopg import sql

from fleetwire.batch import channel_set_digest
from hub.errors import HubError

Conn = psycopg.Connection[tuple[Any, ...]]
"""A PostgreSQL connection whose rows are tuples."""

VERSION: Final = 3
SERIES: Final[dict[str, str]] = {"records": "ts", "alarms": "ts", "interruptions": "start_ts"}
"""Each time-series table and the column its partitions are cut on."""

_STAMPED: Final = """site text COLLATE "C" NOT NULL,
    boot bigint NOT NULL,
    seq bigint NOT NULL,
    ts timestamptz NOT NULL,
    mono_ms bigint NOT NULL,
    wall_ms bigint NOT NULL,
    clock_trusted boolean NOT NULL,
    repaired boolean NOT NULL,"""
"""The columns of a record or an alarm as a site stamped it: its key ``(site, boot, seq)``, its
time ``ts`` (repaired from the monotonic clock when the wall clock was not trusted), both
clocks, and whether ``ts`` was repaired."""

DDL: Final = f"""
CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
    id serial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('province', 'group')),
    name text NOT NULL,
    UNIQUE (kind, name)
);
CREATE TABLE IF NOT EXISTS sites (
    site text COLLATE "C" PRIMARY KEY,
    name text,
    province_id integer REFERENCES groups (id),
    first_contact timestamptz NOT NULL DEFAULT now(),
    last_contact timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS site_groups (
    site text COLLATE "C" NOT NULL REFERENCES sites (site) ON DELETE CASCADE,
    group_id integer NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (site, group_id)
);
-- A boot's clock offset: wall time = offset_ms + mono_ms, from its first trusted record.
CREATE TABLE IF NOT EXISTS boots (
    site text COLLATE "C" NOT NULL REFERENCES sites (site) ON DELETE CASCADE,
    boot bigint NOT NULL,
    offset_ms bigint NOT NULL,
    PRIMARY KEY (site, boot)
);
CREATE TABLE IF NOT EXISTS channel_sets (
    id serial PRIMARY KEY,
    names text[] NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS records (
    {_STAMPED}
    channel_set integer NOT NULL,
    vals double precision[] NOT NULL,
    received timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, boot, seq, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS alarms (
    {_STAMPED}
    kind text NOT NULL,
    active boolean NOT NULL,
    severity text NOT NULL,
    detail text NOT NULL,
    received timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, boot, seq, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS interruptions (
    site text COLLATE "C" NOT NULL,
    boot bigint NOT NULL,
    seq bigint NOT NULL,
    start_ts timestamptz NOT NULL,
    end_ts timestamptz,
    customers_interrupted integer NOT NULL,
    customers_served integer NOT NULL,
    planned boolean NOT NULL,
    cause text NOT NULL,
    received timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, boot, seq, start_ts)
) PARTITION BY RANGE (start_ts);
-- the few records still waiting for their boot's clock offset (see hub.writer)
CREATE INDEX IF NOT EXISTS records_unrepaired ON records (site, boot)
    WHERE NOT clock_trusted AND NOT repaired;
CREATE TABLE IF NOT EXISTS records_default PARTITION OF records DEFAULT;
CREATE TABLE IF NOT EXISTS alarms_default PARTITION OF alarms DEFAULT;
CREATE TABLE IF NOT EXISTS interruptions_default PARTITION OF interruptions DEFAULT;
"""


UPGRADE_2: Final = """
ALTER TABLE sites ADD COLUMN customers integer NOT NULL DEFAULT 0;
ALTER TABLE interruptions ADD COLUMN load text NOT NULL DEFAULT '';
-- a site's latest State: current values, not history (the records are the history)
CREATE TABLE site_state (
    site text COLLATE "C" PRIMARY KEY REFERENCES sites (site) ON DELETE CASCADE,
    boot bigint NOT NULL,
    measured timestamptz NOT NULL,
    clock_trusted boolean NOT NULL,
    vals jsonb NOT NULL,
    outbox_rows integer NOT NULL,
    outbox_oldest timestamptz,
    free_disk_bytes bigint NOT NULL,
    received timestamptz NOT NULL DEFAULT now()
);
-- an operator's command, from its issue to the site's answer
CREATE TABLE commands (
    id text PRIMARY KEY,
    site text COLLATE "C" NOT NULL REFERENCES sites (site) ON DELETE CASCADE,
    name text NOT NULL,
    args jsonb NOT NULL,
    issued timestamptz NOT NULL,
    expires timestamptz NOT NULL,
    issued_by text NOT NULL,
    status text NOT NULL DEFAULT 'sent'
        CHECK (status IN ('sent', 'done', 'failed', 'expired', 'rejected')),
    detail text NOT NULL DEFAULT '',
    result_at timestamptz
);
CREATE INDEX commands_of_site ON commands (site, issued DESC);
CREATE INDEX alarms_latest ON alarms (site, kind, ts DESC);
-- the fleet API's keys (hub.keys): a staff role, a scope, the key's SHA-256; never the key
CREATE TABLE hub_keys (
    id text PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    scope_kind text NOT NULL CHECK (scope_kind IN ('all', 'province', 'group')),
    scope_names text[] NOT NULL,
    hash text NOT NULL,
    created timestamptz NOT NULL,
    revoked timestamptz,
    last_used timestamptz
);
"""



def upgrade_3(conn: Conn) -> None:
    """Version 3: each channel set's digest, computed here for the sets already stored (the
    database has no BLAKE2b), then required and unique."""
    conn.execute("ALTER TABLE channel_sets ADD COLUMN digest bigint")
    rows = conn.execute("SELECT id, names FROM channel_sets").fetchall()
    if rows:
        conn.execute("UPDATE channel_sets c SET digest = d.digest FROM unnest(%s::integer[], "
                     "%s::bigint[]) AS d(id, digest) WHERE c.id = d.id",
                     ([int(r[0]) for r in rows], [channel_set_digest(r[1]) for r in rows]))
    conn.execute("ALTER TABLE channel_sets ALTER COLUMN digest SET NOT NULL, "
                 "ADD CONSTRAINT channel_sets_digest_key UNIQUE (digest)")


UPGRADES: Final[tuple[str | Callable[[Conn], None], ...]] = (UPGRADE_2, upgrade_3)
"""The step from version ``i + 1`` to ``i + 2`` at index ``i``: SQL, or a function when the
step needs Python."""


def schema_version(conn: Conn) -> int:
    """The version of the schema in the database (0: none)."""
    exists = conn.execute("SELECT to_regclass('schema_version')").fetchone()
    if exists is None or exists[0] is None:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def create_schema(conn: Conn) -> None:
    """Create the hub's tables where they are missing, or bring an older schema up to
    :data:`VERSION`, and record the version. Raises :class:`HubError` on a database of a newer
    hub."""
    with conn.transaction():
        # one hub process at a time upgrades; the others wait and find it done
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('offgrid.schema'))")
        version = schema_version(conn)
        if version > VERSION:
            raise HubError(f"the hub database has schema version {version}; this hub knows "
                           f"versions up to {VERSION}: upgrade the hub")
        if version == 0:
            conn.execute(DDL)
            conn.execute("INSERT INTO schema_version VALUES (1)")
            version = 1
        for step in range(version, VERSION):
            upgrade = UPGRADES[step - 1]
            if isinstance(upgrade, str):
                conn.execute(upgrade)
            else:
                upgrade(conn)
        if version < VERSION:
            conn.execute("UPDATE schema_version SET version = %s", (VERSION,))


def _month(d: date, ahead: int) -> date:
    months = d.year * 12 + d.month - 1 + ahead
    return date(months // 12, months % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    """``records`` and 2026-12 → ``records_y2026m12``."""
    return f"{table}_y{month.year:04d}m{month.month:02d}"


def ensure_partitions(conn: Conn, now: datetime,
                      months_behind: int = 1, months_ahead: int = 2) -> list[str]:
    """Create each time-series table's monthly partitions from ``months_behind`` before the
    month of ``now`` to ``months_ahead`` after it, where missing; rows of those months that sat
    in the default partition move into the new one. Returns the partitions created."""
    made = []
    first = now.astimezone(UTC).date().replace(day=1)
    for table, column in SERIES.items():
        for k in range(-months_behind, months_ahead + 1):
            lo, hi = _month(first, k), _month(first, k + 1)
            name = partition_name(table, lo)
            with conn.transaction():
                exists = conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()
                if exists is not None and exists[0] is not None:
                    continue
                bounds = (datetime(lo.year, lo.month, 1, tzinfo=UTC),
                          datetime(hi.year, hi.month, 1, tzinfo=UTC))
                default = sql.Identifier(f"{table}_default")
                conn.execute(sql.SQL(
                    "CREATE TEMP TABLE moving (LIKE {default})").format(
                        default=default))
                conn.execute(sql.SQL(
                    "WITH gone AS (DELETE FROM {default} WHERE {col} >= %s AND {col} < %s "
                    "RETURNING *) INSERT INTO moving SELECT * FROM gone").format(
                        default=default, col=sql.Identifier(column)), bounds)
                conn.execute(sql.SQL(
                    "CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({lo}) TO ({hi})"
                ).format(name=sql.Identifier(name), table=sql.Identifier(table),
                         lo=sql.Literal(bounds[0]), hi=sql.Literal(bounds[1])))
                conn.execute(sql.SQL("INSERT INTO {table} SELECT * FROM moving").format(
                    table=sql.Identifier(table)))
                conn.execute("DROP TABLE moving")
                made.append(name)
    return made
