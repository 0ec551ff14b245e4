"""Connections, the schema and its migrations (sqlite-utils :class:`Migrations`).

The schema has versions: each migration is a function of this module, applied once and recorded
in ``_sqlite_migrations`` (set ``offgrid``). Migration 1 is the schema of the first release,
written with ``IF NOT EXISTS`` so that it adopts a database made before migrations existed
(which has the tables but no record of them). Later migrations only add; they never drop a
column that holds data.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from store.errors import StoreError

__all__ = [
    "MIGRATIONS",
    "applied_migrations",
    "connect",
    "connect_readonly",
    "from_json",
    "migrate",
    "to_json",
    "transaction",
]

MIGRATIONS = Migrations("offgrid")

SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS points (
    id INTEGER PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, UNIQUE(device, point));
CREATE TABLE IF NOT EXISTS samples (
    point_id INTEGER NOT NULL REFERENCES points(id), ts REAL NOT NULL, value REAL,
    quality TEXT NOT NULL, PRIMARY KEY (point_id, ts)) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS samples_named AS
    SELECT s.ts, p.device, p.point, s.value, s.quality FROM samples s JOIN points p
    ON p.id = s.point_id;
CREATE TABLE IF NOT EXISTS latest (
    device TEXT NOT NULL, point TEXT NOT NULL, value REAL, quality TEXT NOT NULL,
    ts REAL NOT NULL, PRIMARY KEY (device, point));
CREATE TABLE IF NOT EXISTS rollups (
    period TEXT NOT NULL, start_ts REAL NOT NULL, source TEXT NOT NULL,
    energy_in_wh REAL, energy_out_wh REAL, soc_min_pct REAL, soc_max_pct REAL,
    aerator_h REAL, do_min_mg_l REAL, seconds REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (period, start_ts, source));
CREATE TABLE IF NOT EXISTS alarms (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
    severity TEXT NOT NULL, message TEXT NOT NULL, raised_ts REAL NOT NULL, cleared_ts REAL,
    acked_ts REAL, acked_by TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS alarms_one_active ON alarms(key) WHERE cleared_ts IS NULL;
CREATE INDEX IF NOT EXISTS alarms_raised ON alarms(raised_ts);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
    message TEXT NOT NULL, data TEXT);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
CREATE TABLE IF NOT EXISTS interruptions (
    id INTEGER PRIMARY KEY, load TEXT NOT NULL, cause TEXT NOT NULL, start_ts REAL NOT NULL,
    end_ts REAL);
CREATE UNIQUE INDEX IF NOT EXISTS interruptions_one_open ON interruptions(load)
    WHERE end_ts IS NULL;
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY, created_ts REAL NOT NULL, kind TEXT NOT NULL, target TEXT,
    value TEXT NOT NULL, expires_ts REAL, requested_by TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'done', 'rejected', 'failed')),
    result TEXT, acked_ts REAL);
CREATE INDEX IF NOT EXISTS commands_pending ON commands(status, id);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    detail TEXT);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    hash TEXT NOT NULL,
    created_ts REAL NOT NULL,
    created_by TEXT NOT NULL,
    revoked_ts REAL,
    revoked_by TEXT,
    last_used_ts REAL
);
CREATE TABLE IF NOT EXISTS api_audit (
    command_id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    actor TEXT NOT NULL,
    before TEXT
);
"""
"""The first release's schema: the controller's tables, then the API's ``api_keys`` and
``api_audit`` (which the API created on its own until migrations existed)."""

_V2_CATEGORIES = "'pv', 'load', 'battery_charge', 'battery_discharge', 'generator'"
"""The energy categories of migration 2, as that release had them (frozen: a migration's
schema never changes after its release; later categories come with later migrations)."""
SCHEMA_V2 = f"""
CREATE TABLE devices (
    device TEXT PRIMARY KEY, online INTEGER NOT NULL CHECK (online IN (0, 1)),
    last_poll_ts REAL, last_ok_ts REAL, error TEXT, updated_ts REAL NOT NULL);
CREATE TABLE energy (
    period TEXT NOT NULL, start_ts REAL NOT NULL, source TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ({_V2_CATEGORIES})),
    method TEXT NOT NULL CHECK (method IN ('counter', 'integrated')),
    wh REAL NOT NULL, seconds REAL NOT NULL,
    PRIMARY KEY (period, start_ts, source, category, method)) WITHOUT ROWID;
"""
"""Device health, and energy rollups by category (``rollups.energy_in_wh``/``energy_out_wh``
stay, holding the data of older releases, and are no longer written)."""

SCHEMA_V3 = """
ALTER TABLE interruptions ADD COLUMN customers INTEGER NOT NULL DEFAULT 1
    CHECK (customers >= 0);
ALTER TABLE interruptions ADD COLUMN planned INTEGER NOT NULL DEFAULT 0
    CHECK (planned IN (0, 1));
CREATE INDEX interruptions_start ON interruptions(start_ts);
CREATE TABLE curtailments (
    id INTEGER PRIMARY KEY, load TEXT NOT NULL, cause TEXT NOT NULL, start_ts REAL NOT NULL,
    end_ts REAL);
CREATE UNIQUE INDEX curtailments_one_open ON curtailments(load) WHERE end_ts IS NULL;
CREATE INDEX curtailments_start ON curtailments(start_ts);
"""
"""Reliability as the programme counts it: each interruption carries the customers it cut and
whether it was planned (rows of older releases: one customer, unplanned, as they were counted);
flexible loads' curtailments are kept apart and never count in SAIDI/SAIFI."""


SCHEMA_V4 = """
CREATE TABLE api_keys_m004 (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin', 'customer')),
    hash TEXT NOT NULL,
    created_ts REAL NOT NULL,
    created_by TEXT NOT NULL,
    revoked_ts REAL,
    revoked_by TEXT,
    last_used_ts REAL,
    loads TEXT CHECK ((role = 'customer') = (loads IS NOT NULL))
);
INSERT INTO api_keys_m004 (id, name, role, hash, created_ts, created_by, revoked_ts,
    revoked_by, last_used_ts)
    SELECT id, name, role, hash, created_ts, created_by, revoked_ts, revoked_by, last_used_ts
    FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_m004 RENAME TO api_keys;
"""
"""Customer keys: the role ``customer`` and its scope, ``loads`` (a JSON list of load names;
set for a customer key and only for one). SQLite cannot change a CHECK constraint, so the
table is copied whole into its new shape (every row and column kept)."""


_V5_CATEGORIES = _V2_CATEGORIES + ", 'wind'"
"""The energy categories of migration 5 (frozen, as :data:`_V2_CATEGORIES`)."""
SCHEMA_V5 = f"""
CREATE TABLE energy_m005 (
    period TEXT NOT NULL, start_ts REAL NOT NULL, source TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ({_V5_CATEGORIES})),
    method TEXT NOT NULL CHECK (method IN ('counter', 'integrated')),
    wh REAL NOT NULL, seconds REAL NOT NULL,
    PRIMARY KEY (period, start_ts, source, category, method)) WITHOUT ROWID;
INSERT INTO energy_m005 (period, start_ts, source, category, method, wh, seconds)
    SELECT period, start_ts, source, category, method, wh, seconds FROM energy;
DROP TABLE energy;
ALTER TABLE energy_m005 RENAME TO energy;
"""
"""Wind energy (issue 15): the category ``wind`` (every one of
:data:`store.contract.ENERGY_CATEGORIES`) in ``energy``'s CHECK; SQLite cannot change a
CHECK constraint, so the table is copied whole into its new shape (every row kept)."""


SCHEMA_V6 = """
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('batch', 'events')),
    created_ts REAL NOT NULL, payload BLOB NOT NULL, coarse BLOB,
    records INTEGER NOT NULL CHECK (records >= 0));
CREATE TABLE uplink_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE hub_commands (
    hub_id TEXT PRIMARY KEY, command_id INTEGER REFERENCES commands(id),
    received_ts REAL NOT NULL, status TEXT CHECK (status IN ('expired', 'rejected')),
    detail TEXT NOT NULL DEFAULT '',
    result_sent INTEGER NOT NULL DEFAULT 0 CHECK (result_sent IN (0, 1)),
    CHECK ((command_id IS NULL) != (status IS NULL)));
"""
"""The site's uplink to the hub (issue 14): the ``outbox`` (what the hub has not yet
acknowledged; ids never reused, so an old acknowledgement never deletes a new row; a batch's
``coarse`` copy, a subset of its records sent first after an outage, beside it), the
uplink's own small state (``uplink_state``: JSON values by key) and the hub's commands received
(``hub_commands``: each hub command id once, with the site command it became, or the status it
got on arrival)."""


@MIGRATIONS(name="m001_initial")
def _m001_initial(db: sqlite_utils.Database) -> None:
    for statement in _statements(SCHEMA_V1):
        db.execute(statement)


@MIGRATIONS(name="m002_devices_energy")
def _m002_devices_energy(db: sqlite_utils.Database) -> None:
    for statement in _statements(SCHEMA_V2):
        db.execute(statement)


@MIGRATIONS(name="m003_reliability")
def _m003_reliability(db: sqlite_utils.Database) -> None:
    for statement in _statements(SCHEMA_V3):
        db.execute(statement)


@MIGRATIONS(name="m004_customer_keys")
def _m004_customer_keys(db: sqlite_utils.Database) -> None:
    for statement in _statements(SCHEMA_V4):
        db.execute(statement)


@MIGRATIONS(name="m005_wind_energy")
def _m005_wind_energy(db: sqlite_utils.Database) -> None:
    for statement in _statements(SCHEMA_V5):
        db.execute(statement)


@MIGRATIONS(name="m006_uplink_outbox")
def _m006_uplink_outbox(db: sqlite_utils.Database) -> None:
    for statement in _statements(SCHEMA_V6):
        db.execute(statement)


def _statements(script: str) -> Iterator[str]:
    """The statements of ``script`` one by one (``executescript`` would commit the migration's
    transaction half-way); a trigger's body keeps its inner ``;``."""
    buf = ""
    for line in script.strip().splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            yield buf.strip()
            buf = ""
    if buf.strip():
        raise StoreError(f"incomplete SQL statement in the schema: {buf.strip()[:60]!r}")


def connect(path: Path | str, *, readonly: bool = False, timeout_s: float = 5.0
            ) -> sqlite3.Connection:
    """Open the database (autocommit; rows as ``sqlite3.Row``); ``readonly`` sets query_only.

    A read-write connection uses ``synchronous=FULL``, right for inserting commands. This does
    not create or migrate anything: :func:`migrate` does.
    """
    try:
        conn = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if readonly:
            conn.execute("PRAGMA query_only = ON")
        else:
            conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.Error as e:
        raise StoreError(f"{path}: cannot open database: {e}") from e
    return conn


def migrate(path: Path | str, *, timeout_s: float = 5.0) -> list[str]:
    """Create the database, or bring it to the newest schema, in WAL mode; returns the names
    of the migrations applied now (empty when it was up to date).

    An up-to-date database in WAL mode is only read (a write lock held by another process
    does not hold up a start). Otherwise the whole run holds the write lock (``BEGIN
    IMMEDIATE``), so a controller and an API starting together migrate once.
    """
    conn = connect(path, timeout_s=timeout_s)
    try:
        db = sqlite_utils.Database(conn)
        if db.journal_mode == "wal" and not MIGRATIONS.pending(db):
            return []
        db.enable_wal()
        conn.execute("BEGIN IMMEDIATE")
        try:
            pending = [m.name for m in MIGRATIONS.pending(db)]
            MIGRATIONS.apply(db)
        except BaseException:
            _rollback(conn)
            raise
        conn.execute("COMMIT")
    except (sqlite3.Error, ValueError) as e:
        raise StoreError(f"{path}: cannot create or migrate the schema: {e}") from e
    finally:
        conn.close()
    return pending


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations recorded in the database, in the order they were applied."""
    try:
        return [m.name for m in MIGRATIONS.applied(sqlite_utils.Database(conn))]
    except sqlite3.Error as e:
        raise StoreError(f"cannot read the schema version: {e}") from e


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already done so (it does on a full
    disk or an I/O error; a second ROLLBACK would then hide the real error)."""
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


@contextmanager
def transaction(conn: sqlite3.Connection, *, durable: bool, what: str = "write"
                ) -> Iterator[sqlite3.Connection]:
    """One IMMEDIATE transaction; ``durable`` commits with synchronous=FULL, else NORMAL.

    A SQLite error inside or at commit is rolled back and raised as :class:`StoreError`
    (``cannot <what>: …``) with SQLite's own words (``database or disk is full``, ``attempt
    to write a readonly database``); the :class:`sqlite3.Error` is its ``__cause__``.
    """
    try:
        conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as e:
        raise StoreError(f"cannot start a transaction: {e}") from e
    try:
        yield conn
    except sqlite3.Error as e:
        _rollback(conn)
        raise StoreError(f"cannot {what}: {e}") from e
    except BaseException:
        _rollback(conn)
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        _rollback(conn)
        raise StoreError(f"cannot commit: {e}") from e


def connect_readonly(path: Path | str) -> sqlite3.Connection:
    """A read-only connection that also works on read-only media: ``mode=ro`` first, then
    ``immutable=1`` (a WAL database on a read-only filesystem cannot make its ``-shm`` file;
    nobody can be writing it there either). Raises :class:`StoreError`."""
    errors = []
    for flag in ("mode=ro", "immutable=1"):
        try:
            conn = sqlite3.connect(f"file:{Path(path).absolute()}?{flag}", uri=True,
                                   isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as e:
            errors.append(f"{flag}: {e}")
            continue
        return conn
    raise StoreError(f"{path}: cannot open database to read: {'; '.join(errors)}")


def to_json(value: Any) -> str:
    """A JSON column's text (compact, keys sorted)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def from_json(text: str | None) -> Any:
    """A JSON column's value (None stays None)."""
    return None if text is None else json.loads(text)
