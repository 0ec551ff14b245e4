"""The controller's SQLite store: the contract between the controller and the API.

One database file per site (``[api].database``), in WAL mode. The controller is the only writer
of telemetry; the API reads it and inserts rows into ``commands``. The API may import only this
module: :func:`connect`, :func:`ensure_schema`, the ``read_*`` helpers, :func:`insert_command`
and :func:`validate_command`.

Conventions
-----------
* Every timestamp (``*_ts``) is **UTC epoch seconds** as a REAL (``time.time()``).
* ``quality`` is one of ``good``, ``stale``, ``invalid``, ``missing``.
* JSON columns hold UTF-8 JSON text.
* Samples, latest values and rollups are committed with ``synchronous=NORMAL``; commands, audit,
  alarms and state with ``synchronous=FULL`` (an acknowledged command survives a power cut).

Schema
------
``points(id INTEGER PK, device TEXT, point TEXT)``
    One row per (device, point) ever seen; ``UNIQUE(device, point)``.
``samples(point_id INTEGER → points.id, ts REAL, value REAL NULL, quality TEXT)``
    Raw values as polled, inserted in batches: a row when a value moves by more than
    ``SAMPLE_DEADBAND`` (1 %) of itself or its quality changes, and at least every
    ``SAMPLE_HEARTBEAT_S`` (5 min). Primary key (point_id, ts), WITHOUT ROWID. Pruned after
    ``control.retention_days``. The view ``samples_named`` adds ``device`` and ``point``.
``latest(device TEXT, point TEXT, value REAL NULL, quality TEXT, ts REAL)``
    The last value of each point; primary key (device, point). ``ts`` is the time of the last
    good read (a stale value keeps its old ``ts``).
``rollups(period TEXT, start_ts REAL, source TEXT, energy_in_wh, energy_out_wh, soc_min_pct,
    soc_max_pct, aerator_h, do_min_mg_l, seconds)``
    ``period`` is ``1m``, ``15m`` or ``1d`` (the day in the site's time zone); ``source`` is a
    device name, or ``site`` for site-wide figures (aerator-hours). ``energy_in_wh`` is energy
    into the site through that device (PV, generator, battery discharge), ``energy_out_wh``
    energy out of it (loads, battery charge); ``seconds`` is the time covered. NULL means not
    measured. Primary key (period, start_ts, source).
``alarms(id INTEGER PK, key TEXT, kind TEXT, source TEXT, severity TEXT, message TEXT,
    raised_ts REAL, cleared_ts REAL NULL, acked_ts REAL NULL, acked_by TEXT NULL)``
    ``kind`` is one of :data:`ALARM_KINDS`. An alarm is active while ``cleared_ts`` is NULL; at
    most one active alarm per ``key`` (e.g. ``device_offline:mppt-1``).
``events(id INTEGER PK, ts REAL, kind TEXT, source TEXT, message TEXT, data TEXT JSON)``
    A log: alarm raised/cleared/acknowledged, generator start/stop, load switched, strategy
    failed, controller start/stop.
``interruptions(id INTEGER PK, load TEXT, cause TEXT, start_ts REAL, end_ts REAL NULL)``
    A supply interruption of one load (shed, inverter trip, operator off is *not* one).
    SAIDI/SAIFI (:func:`read_reliability`) count each load as one customer.
``commands(id INTEGER PK, created_ts REAL, kind TEXT, target TEXT NULL, value TEXT JSON,
    expires_ts REAL NULL, requested_by TEXT, status TEXT, result TEXT JSON NULL,
    acked_ts REAL NULL)``
    Inserted by the API with ``status='pending'``; the controller executes pending rows at its
    next cycle and sets ``status`` to ``done``, ``rejected`` or ``failed``, with ``result`` and
    ``acked_ts``. A row past ``expires_ts`` is rejected with ``{"error": "expired"}``.
``audit(id INTEGER PK, ts REAL, actor TEXT, action TEXT, detail TEXT JSON)``
    Append-only (triggers refuse UPDATE and DELETE).
``state(key TEXT PK, value TEXT JSON, updated_ts REAL)``
    What must survive a restart: ``overrides``, ``generator``, ``thresholds``.

Command kinds (``kind``: ``value``; ``target`` is the load name for ``override_load``)
    * ``override_load``: ``{"load": str, "on": bool, "expires_s": float}``
    * ``set_threshold``: ``{"key": str, "value": number}``, a ``[control]`` key, validated
    * ``generator``: ``{"action": "start" | "stop" | "auto"}``
    * ``ack_alarm``: ``{"alarm_id": int}``
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlite_utils

from controller.errors import CommandError, StoreError

__all__ = [
    "ALARM_KINDS",
    "COMMAND_KINDS",
    "PERIODS",
    "Command",
    "CommandError",
    "RollupDelta",
    "Sample",
    "Store",
    "StoreError",
    "connect",
    "ensure_schema",
    "insert_command",
    "read_active_alarms",
    "read_alarms",
    "read_audit",
    "read_command",
    "read_commands",
    "read_events",
    "read_latest",
    "read_reliability",
    "read_rollups",
    "read_samples",
    "read_state",
    "validate_command",
]

Quality = Literal["good", "stale", "invalid", "missing"]
CommandStatus = Literal["pending", "done", "rejected", "failed"]

ALARM_KINDS = (
    "device_offline",
    "low_soc",
    "low_do",
    "inverter_trip",
    "generator_failed_to_start",
    "strategy_failed",
    "invalid_value",
)
COMMAND_KINDS = ("override_load", "set_threshold", "generator", "ack_alarm")
PERIODS: dict[str, float] = {"1m": 60.0, "15m": 900.0, "1d": 86400.0}
SAMPLE_DEADBAND = 0.01
SAMPLE_HEARTBEAT_S = 300.0
MAX_OVERRIDE_S = 7 * 86400.0

SCHEMA = """
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
"""


@dataclass(frozen=True, slots=True)
class Sample:
    """One point value: ``value`` is None unless quality is good or stale."""

    device: str
    point: str
    value: float | None
    quality: Quality
    ts: float


@dataclass(frozen=True, slots=True)
class RollupDelta:
    """What one cycle adds to a source's rollups over ``dt_s`` seconds (None: not measured)."""

    energy_in_wh: float | None = None
    energy_out_wh: float | None = None
    soc_pct: float | None = None
    aerator_h: float | None = None
    do_mg_l: float | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """A row of ``commands``."""

    id: int
    created_ts: float
    kind: str
    target: str | None
    value: dict[str, Any]
    expires_ts: float | None
    requested_by: str
    status: CommandStatus
    result: dict[str, Any] | None
    acked_ts: float | None


# --------------------------------------------------------------------------- connections


def connect(path: Path | str, *, readonly: bool = False, timeout_s: float = 5.0
            ) -> sqlite3.Connection:
    """Open the database (autocommit; rows as ``sqlite3.Row``); ``readonly`` sets query_only.

    A read-write connection uses ``synchronous=FULL``, right for inserting commands.
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


def ensure_schema(path: Path | str) -> None:
    """Create the database and its tables if missing (idempotent), in WAL mode."""
    conn = connect(path)
    try:
        db = sqlite_utils.Database(conn)
        db.enable_wal()
        conn.executescript(SCHEMA)
    except sqlite3.Error as e:
        raise StoreError(f"{path}: cannot create schema: {e}") from e
    finally:
        conn.close()


@contextmanager
def _tx(conn: sqlite3.Connection, *, durable: bool) -> Iterator[sqlite3.Connection]:
    """One IMMEDIATE transaction; ``durable`` commits with synchronous=FULL, else NORMAL."""
    try:
        conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as e:
        raise StoreError(f"cannot start a transaction: {e}") from e
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        conn.execute("ROLLBACK")
        raise StoreError(f"cannot commit: {e}") from e


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


# --------------------------------------------------------------------------- commands


def validate_command(kind: str, target: str | None, value: Mapping[str, Any]) -> None:
    """Check a command's shape (not its meaning for a site). Raises :class:`CommandError`."""
    if kind not in COMMAND_KINDS:
        raise CommandError(f"unknown command kind {kind!r} (one of {', '.join(COMMAND_KINDS)})")
    v = dict(value)

    def need(key: str, types: tuple[type, ...]) -> Any:
        bad_bool = isinstance(v.get(key), bool) and bool not in types
        if key not in v or not isinstance(v[key], types) or bad_bool:
            names = "/".join(t.__name__ for t in types)
            raise CommandError(f"{kind}: value.{key} must be {names}")
        return v[key]

    allowed: set[str]
    if kind == "override_load":
        allowed = {"load", "on", "expires_s"}
        load = need("load", (str,))
        need("on", (bool,))
        expires = need("expires_s", (int, float))
        if not 0 < expires <= MAX_OVERRIDE_S:
            raise CommandError(f"override_load: expires_s must be in (0, {MAX_OVERRIDE_S:g}]")
        if target is not None and target != load:
            raise CommandError("override_load: target must equal value.load")
    elif kind == "set_threshold":
        allowed = {"key", "value"}
        need("key", (str,))
        need("value", (int, float))
    elif kind == "generator":
        allowed = {"action"}
        if need("action", (str,)) not in ("start", "stop", "auto"):
            raise CommandError("generator: value.action must be start, stop or auto")
    else:
        allowed = {"alarm_id"}
        need("alarm_id", (int,))
    extra = set(v) - allowed
    if extra:
        raise CommandError(f"{kind}: unknown value keys {sorted(extra)}")


def insert_command(conn: sqlite3.Connection, kind: str, value: Mapping[str, Any], *,
                   requested_by: str, target: str | None = None,
                   expires_ts: float | None = None, now_ts: float | None = None) -> int:
    """Insert a pending command (validated; committed with synchronous=FULL); returns its id."""
    validate_command(kind, target, value)
    if kind == "override_load" and target is None:
        target = str(value["load"])
    with _tx(conn, durable=True):
        cur = conn.execute(
            "INSERT INTO commands (created_ts, kind, target, value, expires_ts, requested_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (time.time() if now_ts is None else now_ts, kind, target, _dumps(dict(value)),
             expires_ts, requested_by),
        )
    assert cur.lastrowid is not None
    return cur.lastrowid


def _command(row: sqlite3.Row) -> Command:
    return Command(id=row["id"], created_ts=row["created_ts"], kind=row["kind"],
                   target=row["target"], value=_loads(row["value"]),
                   expires_ts=row["expires_ts"], requested_by=row["requested_by"],
                   status=row["status"], result=_loads(row["result"]), acked_ts=row["acked_ts"])


def read_command(conn: sqlite3.Connection, command_id: int) -> Command | None:
    """One command by id, or None."""
    row = conn.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
    return None if row is None else _command(row)


def read_commands(conn: sqlite3.Connection, *, status: str | None = None,
                  limit: int = 100) -> list[Command]:
    """Newest commands first, optionally of one status."""
    if status is None:
        rows = conn.execute("SELECT * FROM commands ORDER BY id DESC LIMIT ?", (limit,))
    else:
        rows = conn.execute("SELECT * FROM commands WHERE status = ? ORDER BY id DESC LIMIT ?",
                            (status, limit))
    return [_command(r) for r in rows]


# --------------------------------------------------------------------------- read helpers


def read_latest(conn: sqlite3.Connection, device: str | None = None) -> list[dict[str, Any]]:
    """Latest value of every point (of one device): dicts device, point, value, quality, ts."""
    sql = "SELECT device, point, value, quality, ts FROM latest"
    args: tuple[Any, ...] = ()
    if device is not None:
        sql += " WHERE device = ?"
        args = (device,)
    return [dict(r) for r in conn.execute(sql + " ORDER BY device, point", args)]


def read_samples(conn: sqlite3.Connection, device: str, point: str, since_ts: float, *,
                 until_ts: float | None = None, limit: int = 100_000) -> list[dict[str, Any]]:
    """Raw samples of one point in ``[since_ts, until_ts)``: dicts ts, value, quality."""
    until = float("inf") if until_ts is None else until_ts
    rows = conn.execute(
        "SELECT s.ts, s.value, s.quality FROM samples s JOIN points p ON p.id = s.point_id"
        " WHERE p.device = ? AND p.point = ? AND s.ts >= ? AND s.ts < ? ORDER BY s.ts LIMIT ?",
        (device, point, since_ts, until, limit))
    return [dict(r) for r in rows]


def read_rollups(conn: sqlite3.Connection, period: str, since_ts: float,
                 until_ts: float | None = None, source: str | None = None
                 ) -> list[dict[str, Any]]:
    """Rollup rows of ``period`` (``1m``, ``15m``, ``1d``) starting in ``[since, until)``."""
    if period not in PERIODS:
        raise StoreError(f"unknown rollup period {period!r}")
    until = float("inf") if until_ts is None else until_ts
    sql = "SELECT * FROM rollups WHERE period = ? AND start_ts >= ? AND start_ts < ?"
    args: list[Any] = [period, since_ts, until]
    if source is not None:
        sql += " AND source = ?"
        args.append(source)
    return [dict(r) for r in conn.execute(sql + " ORDER BY start_ts, source", args)]


def read_alarms(conn: sqlite3.Connection, *, since_ts: float = 0.0, limit: int = 500
                ) -> list[dict[str, Any]]:
    """Alarms raised since ``since_ts``, newest first (``active`` = not cleared)."""
    rows = conn.execute("SELECT *, cleared_ts IS NULL AS active FROM alarms"
                        " WHERE raised_ts >= ? ORDER BY id DESC LIMIT ?", (since_ts, limit))
    return [dict(r) for r in rows]


def read_active_alarms(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Alarms not yet cleared, oldest first."""
    rows = conn.execute("SELECT * FROM alarms WHERE cleared_ts IS NULL ORDER BY id")
    return [dict(r) for r in rows]


def read_events(conn: sqlite3.Connection, *, since_ts: float = 0.0, limit: int = 500
                ) -> list[dict[str, Any]]:
    """Events since ``since_ts``, newest first; ``data`` decoded."""
    rows = conn.execute("SELECT * FROM events WHERE ts >= ? ORDER BY id DESC LIMIT ?",
                        (since_ts, limit))
    return [{**dict(r), "data": _loads(r["data"])} for r in rows]


def read_audit(conn: sqlite3.Connection, *, since_ts: float = 0.0, limit: int = 500
               ) -> list[dict[str, Any]]:
    """Audit rows since ``since_ts``, newest first; ``detail`` decoded."""
    rows = conn.execute("SELECT * FROM audit WHERE ts >= ? ORDER BY id DESC LIMIT ?",
                        (since_ts, limit))
    return [{**dict(r), "detail": _loads(r["detail"])} for r in rows]


def read_state(conn: sqlite3.Connection, key: str) -> Any:
    """The JSON value stored under ``key`` in ``state``, or None."""
    row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return None if row is None else _loads(row["value"])


def _period_key(ts: float, tz: ZoneInfo, by: Literal["month", "year"]) -> str:
    local = datetime.fromtimestamp(ts, tz)
    return f"{local.year:04d}-{local.month:02d}" if by == "month" else f"{local.year:04d}"


def read_reliability(conn: sqlite3.Connection, *, by: Literal["month", "year"] = "month",
                     timezone: str = "UTC", customers: int | None = None,
                     now_ts: float | None = None) -> list[dict[str, Any]]:
    """SAIDI [min] and SAIFI [count] per local month or year, each load one customer.

    An open interruption counts up to ``now_ts``. ``customers`` defaults to the number of loads
    that appear in ``interruptions``. Interruptions are attributed to the period they start in.
    """
    tz = ZoneInfo(timezone)
    now = time.time() if now_ts is None else now_ts
    rows = conn.execute("SELECT load, start_ts, end_ts FROM interruptions ORDER BY start_ts")
    data = [(r["load"], r["start_ts"], now if r["end_ts"] is None else r["end_ts"])
            for r in rows]
    n = customers or len({load for load, _, _ in data}) or 1
    out: dict[str, dict[str, Any]] = {}
    for _, start, end in data:
        key = _period_key(start, tz, by)
        agg = out.setdefault(key, {"period": key, "saidi_minutes": 0.0, "saifi_count": 0.0,
                                   "interruptions": 0})
        agg["saidi_minutes"] += (end - start) / 60.0 / n
        agg["saifi_count"] += 1.0 / n
        agg["interruptions"] += 1
    return [out[k] for k in sorted(out)]


# --------------------------------------------------------------------------- the writer


def period_start(ts: float, period: str, tz: ZoneInfo) -> float:
    """Start of the rollup period holding ``ts`` [epoch s]; ``1d`` is the local day."""
    if period == "1d":
        local = datetime.fromtimestamp(ts, tz)
        midnight = datetime(local.year, local.month, local.day, tzinfo=tz)
        return midnight.timestamp()
    size = PERIODS[period]
    return ts - ts % size


class Store:
    """The controller's handle on the database (the single writer of telemetry)."""

    def __init__(self, path: Path | str, timezone: str = "UTC") -> None:
        self.path = Path(path)
        self.tz = ZoneInfo(timezone)
        ensure_schema(self.path)
        self.conn = connect(self.path)
        self._point_ids: dict[tuple[str, str], int] = {
            (r["device"], r["point"]): r["id"]
            for r in self.conn.execute("SELECT id, device, point FROM points")
        }

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def _point_id(self, device: str, point: str) -> int:
        key = (device, point)
        pid = self._point_ids.get(key)
        if pid is None:
            self.conn.execute("INSERT OR IGNORE INTO points (device, point) VALUES (?, ?)", key)
            pid = int(self.conn.execute("SELECT id FROM points WHERE device = ? AND point = ?",
                                        key).fetchone()[0])
            self._point_ids[key] = pid
        return pid

    # telemetry (synchronous=NORMAL) -------------------------------------------------------

    def write_cycle(self, now_ts: float, samples: Sequence[Sample],
                    rollup: Mapping[str, RollupDelta], dt_s: float, *,
                    latest: Sequence[Sample] = ()) -> None:
        """One cycle's telemetry in one transaction: raw ``samples`` (which also update
        ``latest``), ``latest``-only updates, and rollups over ``dt_s`` seconds."""
        try:
            with _tx(self.conn, durable=False) as c:
                rows = [(s.ts, self._point_id(s.device, s.point), s.value, s.quality)
                        for s in samples]
                c.executemany("INSERT OR REPLACE INTO samples (ts, point_id, value, quality)"
                              " VALUES (?, ?, ?, ?)", rows)
                c.executemany(
                    "INSERT INTO latest (device, point, value, quality, ts) VALUES (?,?,?,?,?)"
                    " ON CONFLICT(device, point) DO UPDATE SET value = excluded.value,"
                    " quality = excluded.quality, ts = excluded.ts",
                    [(s.device, s.point, s.value, s.quality, s.ts)
                     for s in (*samples, *latest)])
                if dt_s > 0:
                    self._add_rollups(c, now_ts, rollup, dt_s)
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot write telemetry: {e}") from e

    def _add_rollups(self, c: sqlite3.Connection, now_ts: float,
                     rollup: Mapping[str, RollupDelta], dt_s: float) -> None:
        rows = []
        for period in PERIODS:
            start = period_start(now_ts, period, self.tz)
            for source, d in rollup.items():
                rows.append((period, start, source, d.energy_in_wh, d.energy_out_wh,
                             d.soc_pct, d.soc_pct, d.aerator_h, d.do_mg_l, dt_s))
        def agg(fn: str, col: str) -> str:
            if fn == "sum":
                return f"{col} = COALESCE({col} + excluded.{col}, {col}, excluded.{col})"
            return f"{col} = COALESCE({fn}({col}, excluded.{col}), {col}, excluded.{col})"

        sets = ", ".join([agg("sum", "energy_in_wh"), agg("sum", "energy_out_wh"),
                          agg("MIN", "soc_min_pct"), agg("MAX", "soc_max_pct"),
                          agg("sum", "aerator_h"), agg("MIN", "do_min_mg_l"),
                          "seconds = seconds + excluded.seconds"])
        c.executemany(
            "INSERT INTO rollups (period, start_ts, source, energy_in_wh, energy_out_wh,"
            " soc_min_pct, soc_max_pct, aerator_h, do_min_mg_l, seconds)"
            " VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(period, start_ts, source) DO UPDATE SET "
            + sets, rows)

    def prune(self, now_ts: float, retention_days: int) -> int:
        """Delete raw samples older than ``retention_days`` and 1-minute rollups older than
        4 × that; returns the number of samples deleted."""
        cut = now_ts - retention_days * 86400.0
        try:
            with _tx(self.conn, durable=False) as c:
                n = sum(c.execute("DELETE FROM samples WHERE point_id = ? AND ts < ?",
                                  (pid, cut)).rowcount for pid in self._point_ids.values())
                c.execute("DELETE FROM rollups WHERE period = '1m' AND start_ts < ?",
                          (now_ts - 4 * retention_days * 86400.0,))
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot prune: {e}") from e
        return n

    # events, alarms, interruptions, audit, state (synchronous=FULL) -----------------------

    def event(self, ts: float, kind: str, source: str, message: str,
              data: Mapping[str, Any] | None = None) -> None:
        """Append an event."""
        with _tx(self.conn, durable=True) as c:
            c.execute("INSERT INTO events (ts, kind, source, message, data) VALUES (?,?,?,?,?)",
                      (ts, kind, source, message, None if data is None else _dumps(data)))

    def raise_alarm(self, ts: float, kind: str, source: str, message: str,
                    severity: str = "warning") -> int:
        """Raise the alarm ``kind:source`` (no-op if already active); returns its id."""
        key = f"{kind}:{source}"
        with _tx(self.conn, durable=True) as c:
            row = c.execute("SELECT id FROM alarms WHERE key = ? AND cleared_ts IS NULL",
                            (key,)).fetchone()
            if row is not None:
                return int(row["id"])
            cur = c.execute(
                "INSERT INTO alarms (key, kind, source, severity, message, raised_ts)"
                " VALUES (?,?,?,?,?,?)", (key, kind, source, severity, message, ts))
            c.execute("INSERT INTO events (ts, kind, source, message, data) VALUES (?,?,?,?,?)",
                      (ts, "alarm_raised", source, message, _dumps({"alarm": kind})))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def clear_alarm(self, ts: float, kind: str, source: str) -> bool:
        """Clear the active alarm ``kind:source``; False if none was active."""
        key = f"{kind}:{source}"
        with _tx(self.conn, durable=True) as c:
            n = c.execute("UPDATE alarms SET cleared_ts = ? WHERE key = ? AND cleared_ts IS NULL",
                          (ts, key)).rowcount
            if n:
                c.execute("INSERT INTO events (ts, kind, source, message, data)"
                          " VALUES (?,?,?,?,?)",
                          (ts, "alarm_cleared", source, f"{kind} cleared",
                           _dumps({"alarm": kind})))
        return bool(n)

    def ack_alarm(self, ts: float, alarm_id: int, by: str) -> bool:
        """Acknowledge an alarm; False if no such alarm."""
        with _tx(self.conn, durable=True) as c:
            n = c.execute("UPDATE alarms SET acked_ts = ?, acked_by = ? WHERE id = ?",
                          (ts, by, alarm_id)).rowcount
        return bool(n)

    def active_alarm_keys(self) -> set[str]:
        """Keys (``kind:source``) of active alarms: restored at start."""
        return {r["key"] for r in self.conn.execute(
            "SELECT key FROM alarms WHERE cleared_ts IS NULL")}

    def start_interruption(self, ts: float, load: str, cause: str) -> None:
        """Open an interruption of ``load`` (no-op if one is open)."""
        with _tx(self.conn, durable=True) as c:
            c.execute("INSERT OR IGNORE INTO interruptions (load, cause, start_ts)"
                      " VALUES (?,?,?)", (load, cause, ts))

    def end_interruption(self, ts: float, load: str) -> None:
        """Close the open interruption of ``load``, if any."""
        with _tx(self.conn, durable=True) as c:
            c.execute("UPDATE interruptions SET end_ts = ? WHERE load = ? AND end_ts IS NULL",
                      (ts, load))

    def open_interruptions(self) -> set[str]:
        """Loads with an open interruption."""
        return {r["load"] for r in self.conn.execute(
            "SELECT load FROM interruptions WHERE end_ts IS NULL")}

    def audit(self, ts: float, actor: str, action: str,
              detail: Mapping[str, Any] | None = None) -> None:
        """Append to the audit log."""
        with _tx(self.conn, durable=True) as c:
            c.execute("INSERT INTO audit (ts, actor, action, detail) VALUES (?,?,?,?)",
                      (ts, actor, action, None if detail is None else _dumps(detail)))

    def set_state(self, ts: float, key: str, value: Any) -> None:
        """Store ``value`` (JSON) under ``key``."""
        with _tx(self.conn, durable=True) as c:
            c.execute("INSERT INTO state (key, value, updated_ts) VALUES (?,?,?)"
                      " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                      " updated_ts = excluded.updated_ts", (key, _dumps(value), ts))

    def get_state(self, key: str) -> Any:
        """The value stored under ``key``, or None."""
        return read_state(self.conn, key)

    # commands --------------------------------------------------------------------------

    def pending_commands(self, now_ts: float) -> list[Command]:
        """Pending commands, oldest first; expired ones are rejected on the way."""
        rows = self.conn.execute("SELECT * FROM commands WHERE status = 'pending' ORDER BY id")
        out = []
        for cmd in map(_command, rows.fetchall()):
            if cmd.expires_ts is not None and cmd.expires_ts <= now_ts:
                self.ack_command(now_ts, cmd.id, "rejected", {"error": "expired"})
            else:
                out.append(cmd)
        return out

    def ack_command(self, ts: float, command_id: int, status: CommandStatus,
                    result: Mapping[str, Any]) -> None:
        """Acknowledge a command with its status and result, and audit it (one FULL commit)."""
        with _tx(self.conn, durable=True) as c:
            row = c.execute("SELECT kind, target, value, requested_by FROM commands"
                            " WHERE id = ? AND status = 'pending'", (command_id,)).fetchone()
            if row is None:
                return
            c.execute("UPDATE commands SET status = ?, result = ?, acked_ts = ? WHERE id = ?",
                      (status, _dumps(dict(result)), ts, command_id))
            c.execute("INSERT INTO audit (ts, actor, action, detail) VALUES (?,?,?,?)",
                      (ts, row["requested_by"], f"command.{row['kind']}",
                       _dumps({"id": command_id, "target": row["target"],
                               "value": _loads(row["value"]), "status": status,
                               "result": dict(result)})))

