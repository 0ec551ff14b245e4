"""Every query the API and the CLI make: plain values in, plain data out.

Each reader takes a connection from :func:`connect` (or the API's from
:func:`store.commands.open_database`) and raises :class:`sqlite3.Error` or
:class:`store.errors.StoreError` when the database cannot be read.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from store.contract import PERIODS
from store.errors import StoreError
from store.schema import applied_migrations, connect, from_json

__all__ = [
    "applied_migrations",
    "connect",
    "point_exists",
    "read_active_alarms",
    "read_alarm",
    "read_alarms",
    "read_api_audit",
    "read_audit",
    "read_devices",
    "read_energy",
    "read_events",
    "read_history",
    "read_key",
    "read_keys",
    "read_last_sample_ts",
    "read_latest",
    "read_reliability",
    "read_rollups",
    "read_samples",
    "read_state",
]


def read_latest(conn: sqlite3.Connection, device: str | None = None) -> list[dict[str, Any]]:
    """Latest value of every point (of one device): dicts device, point, value, quality, ts."""
    sql = "SELECT device, point, value, quality, ts FROM latest"
    args: tuple[Any, ...] = ()
    if device is not None:
        sql += " WHERE device = ?"
        args = (device,)
    return [dict(r) for r in conn.execute(sql + " ORDER BY device, point", args)]


def read_last_sample_ts(conn: sqlite3.Connection) -> float | None:
    """The newest ``latest.ts`` of any point [UTC epoch s], or None for an empty store."""
    row = conn.execute("SELECT MAX(ts) FROM latest").fetchone()
    return None if row is None or row[0] is None else float(row[0])


def read_devices(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Each device's health as the controller last wrote it: device, online (bool),
    last_poll_ts, last_ok_ts, error, updated_ts."""
    rows = conn.execute("SELECT device, online, last_poll_ts, last_ok_ts, error, updated_ts"
                        " FROM devices ORDER BY device")
    return [{**dict(r), "online": bool(r["online"])} for r in rows]


def point_exists(conn: sqlite3.Connection, device: str, point: str) -> bool:
    """Whether the store has ever seen this point."""
    row = conn.execute("SELECT 1 FROM points WHERE device = ? AND point = ?",
                       (device, point)).fetchone()
    return row is not None


def read_samples(conn: sqlite3.Connection, device: str, point: str, since_ts: float, *,
                 until_ts: float | None = None, limit: int = 100_000) -> list[dict[str, Any]]:
    """Raw samples of one point in ``[since_ts, until_ts)``: dicts ts, value, quality."""
    until = float("inf") if until_ts is None else until_ts
    rows = conn.execute(
        "SELECT s.ts, s.value, s.quality FROM samples s JOIN points p ON p.id = s.point_id"
        " WHERE p.device = ? AND p.point = ? AND s.ts >= ? AND s.ts < ? ORDER BY s.ts LIMIT ?",
        (device, point, since_ts, until, limit))
    return [dict(r) for r in rows]


def read_history(conn: sqlite3.Connection, device: str, point: str, *, since_ts: float,
                 until_ts: float, bucket_s: float, offset_s: float = 0.0
                 ) -> list[dict[str, Any]]:
    """One point's samples in ``[since_ts, until_ts)`` in buckets of ``bucket_s`` seconds:
    dicts ``start_ts``, ``avg``, ``min``, ``max`` (values without one are left out).

    Bucket ``k`` starts at ``k·bucket_s − offset_s`` [epoch s]: ``offset_s`` is the time zone's
    UTC offset for local days.
    """
    rows = conn.execute(
        "SELECT CAST((s.ts + :off) / :size AS INTEGER) AS b, AVG(s.value), MIN(s.value),"
        " MAX(s.value) FROM samples s"
        " WHERE s.point_id = (SELECT id FROM points WHERE device = :dev AND point = :pt)"
        " AND s.ts >= :lo AND s.ts < :hi AND s.value IS NOT NULL GROUP BY b ORDER BY b",
        {"off": offset_s, "size": bucket_s, "dev": device, "pt": point, "lo": since_ts,
         "hi": until_ts})
    return [{"start_ts": r[0] * bucket_s - offset_s, "avg": r[1], "min": r[2], "max": r[3]}
            for r in rows]


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise StoreError(f"unknown rollup period {period!r}")


def read_rollups(conn: sqlite3.Connection, period: str, since_ts: float,
                 until_ts: float | None = None, source: str | None = None
                 ) -> list[dict[str, Any]]:
    """Rollup rows of ``period`` (``1m``, ``15m``, ``1d``) starting in ``[since, until)``
    (``energy_in_wh``/``energy_out_wh``: legacy, see :func:`read_energy`)."""
    _check_period(period)
    until = float("inf") if until_ts is None else until_ts
    sql = "SELECT * FROM rollups WHERE period = ? AND start_ts >= ? AND start_ts < ?"
    args: list[Any] = [period, since_ts, until]
    if source is not None:
        sql += " AND source = ?"
        args.append(source)
    return [dict(r) for r in conn.execute(sql + " ORDER BY start_ts, source", args)]


def read_energy(conn: sqlite3.Connection, period: str, since_ts: float,
                until_ts: float | None = None, source: str | None = None
                ) -> list[dict[str, Any]]:
    """Energy rows of ``period`` starting in ``[since, until)``: dicts start_ts, source,
    category, method, wh, seconds; ordered by start, source, category, method."""
    _check_period(period)
    until = float("inf") if until_ts is None else until_ts
    sql = ("SELECT start_ts, source, category, method, wh, seconds FROM energy"
           " WHERE period = ? AND start_ts >= ? AND start_ts < ?")
    args: list[Any] = [period, since_ts, until]
    if source is not None:
        sql += " AND source = ?"
        args.append(source)
    rows = conn.execute(sql + " ORDER BY start_ts, source, category, method", args)
    return [dict(r) for r in rows]


def read_alarms(conn: sqlite3.Connection, *, since_ts: float = 0.0, limit: int = 500,
                active: bool | None = None) -> list[dict[str, Any]]:
    """Alarms raised since ``since_ts``, newest first, with ``active`` (bool: not cleared);
    ``active`` True or False keeps only active or only cleared ones."""
    where = {None: "", True: " AND cleared_ts IS NULL", False: " AND cleared_ts IS NOT NULL"}
    rows = conn.execute("SELECT *, cleared_ts IS NULL AS active FROM alarms"
                        f" WHERE raised_ts >= ?{where[active]} ORDER BY id DESC LIMIT ?",
                        (since_ts, limit))
    return [{**dict(r), "active": bool(r["active"])} for r in rows]


def read_active_alarms(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Alarms not yet cleared, oldest first."""
    rows = conn.execute("SELECT * FROM alarms WHERE cleared_ts IS NULL ORDER BY id")
    return [dict(r) for r in rows]


def read_alarm(conn: sqlite3.Connection, alarm_id: int) -> dict[str, Any] | None:
    """One alarm by id (with ``active``), or None."""
    row = conn.execute("SELECT *, cleared_ts IS NULL AS active FROM alarms WHERE id = ?",
                       (alarm_id,)).fetchone()
    return None if row is None else {**dict(row), "active": bool(row["active"])}


def read_events(conn: sqlite3.Connection, *, since_ts: float = 0.0, limit: int = 500
                ) -> list[dict[str, Any]]:
    """Events since ``since_ts``, newest first; ``data`` decoded."""
    rows = conn.execute("SELECT * FROM events WHERE ts >= ? ORDER BY id DESC LIMIT ?",
                        (since_ts, limit))
    return [{**dict(r), "data": from_json(r["data"])} for r in rows]


def read_audit(conn: sqlite3.Connection, *, since_ts: float = 0.0, limit: int = 500
               ) -> list[dict[str, Any]]:
    """The controller's audit rows since ``since_ts``, newest first; ``detail`` decoded."""
    rows = conn.execute("SELECT * FROM audit WHERE ts >= ? ORDER BY id DESC LIMIT ?",
                        (since_ts, limit))
    return [{**dict(r), "detail": from_json(r["detail"])} for r in rows]


def read_api_audit(conn: sqlite3.Connection, limit: int) -> list[dict[str, Any]]:
    """The API's audit joined with its commands, newest first: command_id, ts, actor, before,
    kind, target, after (the request), status, result, acked_ts."""
    rows = conn.execute(
        "SELECT a.command_id, a.ts, a.actor, a.before, c.kind, c.target, c.value, c.status,"
        " c.result, c.acked_ts FROM api_audit a JOIN commands c ON c.id = a.command_id"
        " ORDER BY a.command_id DESC LIMIT ?", (limit,))
    return [{"command_id": r[0], "ts": r[1], "actor": r[2], "before": from_json(r[3] or None),
             "kind": r[4], "target": r[5], "after": from_json(r[6]), "status": r[7],
             "result": from_json(r[8] or None), "acked_ts": r[9]} for r in rows]


_KEY_COLS = "id, name, role, hash, created_ts, created_by, revoked_ts, revoked_by, last_used_ts"


def read_keys(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every API key row (hash included), oldest first, revoked ones included."""
    rows = conn.execute(f"SELECT {_KEY_COLS} FROM api_keys ORDER BY created_ts, id")
    return [dict(r) for r in rows]


def read_key(conn: sqlite3.Connection, key_id: str) -> dict[str, Any] | None:
    """One API key row by id (hash included), or None."""
    row = conn.execute(f"SELECT {_KEY_COLS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    return None if row is None else dict(row)


def read_state(conn: sqlite3.Connection, key: str) -> Any:
    """The JSON value stored under ``key`` in ``state``, or None."""
    row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return None if row is None else from_json(row["value"])


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
