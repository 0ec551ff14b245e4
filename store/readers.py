"""Every query the API and the CLI make: plain values in, plain data out.

Each reader takes a connection from :func:`connect` (or the API's from
:func:`store.commands.open_database`) and raises :class:`sqlite3.Error` or
:class:`store.errors.StoreError` when the database cannot be read.
"""

from __future__ import annotations

import sqlite3
import time
from bisect import bisect_right
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ieee1366 import (
    MOMENTARY_MINUTES,
    SAIDI_TARGET_MINUTES,
    SAIFI_TARGET_COUNT,
    Interval,
    interruption_indices,
)
from store.contract import PERIODS, PLANNED_CUT_MAX_S, PLANNED_CUT_STATE
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
    "read_load_energy",
    "read_open_curtailments",
    "read_open_interruptions",
    "read_planned_cut",
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


def read_load_energy(conn: sqlite3.Connection, meters: Mapping[str, str], period: str,
                     since_ts: float, until_ts: float | None = None) -> list[dict[str, Any]]:
    """The metered energy of each load, from the ``load`` energy its meter booked: dicts
    start_ts, load, device, method, wh, seconds, ordered by start and load. ``meters`` maps a
    meter device to the load it measures (the site file's ``measures``)."""
    _check_period(period)
    if not meters:
        return []
    until = float("inf") if until_ts is None else until_ts
    marks = ", ".join("?" * len(meters))
    rows = conn.execute(
        "SELECT start_ts, source, method, wh, seconds FROM energy WHERE period = ?"
        f" AND start_ts >= ? AND start_ts < ? AND category = 'load' AND source IN ({marks})"
        " ORDER BY start_ts, source, method", [period, since_ts, until, *meters])
    out = [{"start_ts": r["start_ts"], "load": meters[r["source"]], "device": r["source"],
            "method": r["method"], "wh": r["wh"], "seconds": r["seconds"]} for r in rows]
    return sorted(out, key=lambda r: (r["start_ts"], r["load"]))


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


def read_open_interruptions(conn: sqlite3.Connection) -> dict[str, bool]:
    """Loads with an open interruption → whether it is planned."""
    rows = conn.execute("SELECT load, planned FROM interruptions WHERE end_ts IS NULL")
    return {r["load"]: bool(r["planned"]) for r in rows}


def read_open_curtailments(conn: sqlite3.Connection) -> set[str]:
    """Loads with an open curtailment."""
    return {r["load"] for r in conn.execute("SELECT load FROM curtailments WHERE end_ts IS NULL")}


def read_planned_cut(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The planned cut in progress (``start_ts``, ``reason``, ``by``, and ``ends_by_ts``, when
    the controller ends it if nobody does), or None."""
    cut = read_state(conn, PLANNED_CUT_STATE)
    return None if cut is None else {**cut, "ends_by_ts": cut["start_ts"] + PLANNED_CUT_MAX_S}


def _month_starts(year: int, months: int, tz: ZoneInfo) -> list[float]:
    """Starts of the first ``months`` local months of ``year``, and the end of the last
    [UTC epoch s]."""
    return [datetime(year + m // 12, m % 12 + 1, 1, tzinfo=tz).timestamp()
            for m in range(months + 1)]


def _period(label: str, from_ts: float, to_ts: float, intervals: list[Interval],
            curtailed_s: list[float], *, customers_served: int) -> dict[str, Any]:
    """One period's figures (:func:`ieee1366.interruption_indices` over its intervals) and
    its curtailment."""
    figures = interruption_indices(intervals, customers_served).as_dict()
    return {"period": label, "from_ts": from_ts, "to_ts": to_ts, **figures,
            "interruptions": round(figures["interruptions"]),
            "momentary_interruptions": round(figures["momentary_interruptions"]),
            "curtailment_hours": sum(curtailed_s) / 3600.0, "curtailments": len(curtailed_s)}


def read_reliability(conn: sqlite3.Connection, *, customers_served: int, timezone: str = "UTC",
                     year: int | None = None, now_ts: float | None = None) -> dict[str, Any]:
    """SAIDI [min], SAIFI and MAIFI [count] of one local year (default: the year of
    ``now_ts``), per local month and year to date, planned and unplanned apart, with the
    curtailment of flexible loads beside them [h, count] and the programme's targets.

    Every figure is :func:`ieee1366.interruption_indices` over the period's interruptions,
    each weighted by the customers stored with it, over ``customers_served`` (the caller's:
    the site's customers now). The figures are those of the period (not per year): the year
    to date is compared with the yearly targets as it stands.

    * **Month boundaries** (IEEE 1366): an interruption, and a curtailment, belongs whole to the
      local month it **starts** in; it is never split. So an event counts once in SAIFI, an
      interruption is momentary or sustained by its whole duration, and the months add up to
      the year to date exactly. An interruption that started in December counts in December.
    * An open interruption or curtailment counts up to ``now_ts``.
    * Months: January to the month of ``now_ts`` for the current year; all twelve for a past
      year; none for a future one.
    """
    tz = ZoneInfo(timezone)
    now = time.time() if now_ts is None else now_ts
    local_now = datetime.fromtimestamp(now, tz)
    the_year = local_now.year if year is None else year
    n_months = (12 if the_year < local_now.year else
                local_now.month if the_year == local_now.year else 0)
    bounds = _month_starts(the_year, n_months, tz)
    span = (bounds[0], bounds[-1])
    intervals: list[list[Interval]] = [[] for _ in range(n_months)]
    curtailed: list[list[float]] = [[] for _ in range(n_months)]
    for r in conn.execute("SELECT start_ts, end_ts, customers, planned FROM interruptions"
                          " WHERE start_ts >= ? AND start_ts < ?", span):
        end = now if r["end_ts"] is None else r["end_ts"]
        intervals[bisect_right(bounds, r["start_ts"]) - 1].append(
            Interval(r["start_ts"], end, r["customers"], bool(r["planned"])))
    for r in conn.execute("SELECT start_ts, end_ts FROM curtailments"
                          " WHERE start_ts >= ? AND start_ts < ?", span):
        end = now if r["end_ts"] is None else r["end_ts"]
        curtailed[bisect_right(bounds, r["start_ts"]) - 1].append(max(end - r["start_ts"], 0.0))
    months = [_period(f"{the_year:04d}-{m + 1:02d}", bounds[m], min(bounds[m + 1], now),
                      intervals[m], curtailed[m], customers_served=customers_served)
              for m in range(n_months)]
    year_to_date = _period(f"{the_year:04d}", bounds[0], min(bounds[-1], now),
                           [iv for ivs in intervals for iv in ivs],
                           [s for ss in curtailed for s in ss],
                           customers_served=customers_served)
    return {"year": the_year, "timezone": timezone, "customers_served": customers_served,
            "saidi_target_minutes": SAIDI_TARGET_MINUTES,
            "saifi_target_count": SAIFI_TARGET_COUNT, "momentary_minutes": MOMENTARY_MINUTES,
            "months": months, "year_to_date": year_to_date}
