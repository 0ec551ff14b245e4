"""Reads for the routes: the store's ``read_*`` helpers, plus bucketed history in SQL.

Everything here takes a connection and plain values and returns plain data; errors from the
store become :class:`api.errors.StoreUnavailable`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from api.errors import StoreUnavailable
from controller import store

Resolution = Literal["raw", "1m", "15m", "1d"]
BUCKET_S: dict[str, float] = {"1m": 60.0, "15m": 900.0, "1d": 86400.0}
# The longest span each resolution may ask for [s]: about 2,900 rows at most.
MAX_SPAN_S: dict[str, float] = {"raw": 2 * 86400.0, "1m": 2 * 86400.0,
                                "15m": 31 * 86400.0, "1d": 3 * 366 * 86400.0}
MAX_RAW_ROWS = 20_000

T = TypeVar("T")


def guarded(fn: Callable[[], T]) -> T:
    """Run a read; a locked, missing or corrupt database becomes a 503 problem."""
    try:
        return fn()
    except (sqlite3.Error, store.StoreError) as e:
        raise StoreUnavailable(f"cannot read the controller's database: {e}") from e


def history(conn: sqlite3.Connection, device: str, point: str, *, from_ts: float, to_ts: float,
            resolution: Resolution, tz: ZoneInfo) -> dict[str, Any]:
    """One point's values in ``[from_ts, to_ts)``: raw samples, or avg/min/max per bucket.

    Buckets of ``1d`` are local days in ``tz`` (its offset at ``from_ts``).
    """
    if resolution == "raw":
        rows = store.read_samples(conn, device, point, from_ts, until_ts=to_ts,
                                  limit=MAX_RAW_ROWS + 1)
        truncated = len(rows) > MAX_RAW_ROWS
        rows = rows[:MAX_RAW_ROWS]
        vals = [r["value"] for r in rows]
        return {"t": [r["ts"] for r in rows], "avg": vals, "min": vals, "max": vals,
                "truncated": truncated}
    size = BUCKET_S[resolution]
    offset = 0.0
    if resolution == "1d":
        utcoff = datetime.fromtimestamp(from_ts, tz).utcoffset()
        offset = utcoff.total_seconds() if utcoff else 0.0
    agg = conn.execute(
        "SELECT CAST((s.ts + :off) / :size AS INTEGER) AS b, AVG(s.value), MIN(s.value),"
        " MAX(s.value) FROM samples s"
        " WHERE s.point_id = (SELECT id FROM points WHERE device = :dev AND point = :pt)"
        " AND s.ts >= :lo AND s.ts < :hi AND s.value IS NOT NULL GROUP BY b ORDER BY b",
        {"off": offset, "size": size, "dev": device, "pt": point, "lo": from_ts, "hi": to_ts},
    ).fetchall()
    return {"t": [r[0] * size - offset for r in agg], "avg": [r[1] for r in agg],
            "min": [r[2] for r in agg], "max": [r[3] for r in agg], "truncated": False}


def point_exists(conn: sqlite3.Connection, device: str, point: str) -> bool:
    """Whether the store has ever seen this point."""
    row = conn.execute("SELECT 1 FROM points WHERE device = ? AND point = ?",
                       (device, point)).fetchone()
    return row is not None


def local_date(ts: float, tz: ZoneInfo) -> str:
    """The local calendar day of ``ts``, ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(ts, tz).date().isoformat()


def daily_energy(conn: sqlite3.Connection, from_ts: float, to_ts: float,
                 drivers: Mapping[str, str], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Daily rollups pivoted into one row per local day [kWh, %, h, mg/L].

    ``drivers`` maps device names to drivers: energy in through a charge controller is PV,
    through a generator is generator energy, energy out through an inverter is load; the
    ``battery`` source's energy in is discharge and out is charge.
    """
    rows = store.read_rollups(conn, "1d", from_ts, to_ts)
    days: dict[float, dict[str, Any]] = {}
    for r in rows:
        day = days.setdefault(r["start_ts"], {
            "date": local_date(r["start_ts"] + 3600.0, tz), "start_ts": r["start_ts"],
            "pv_kwh": None, "load_kwh": None, "battery_charge_kwh": None,
            "battery_discharge_kwh": None, "generator_kwh": None, "soc_min_pct": None,
            "soc_max_pct": None, "aerator_h": None, "do_min_mg_l": None, "hours": 0.0,
            "sources": {}})
        e_in = None if r["energy_in_wh"] is None else r["energy_in_wh"] / 1000.0
        e_out = None if r["energy_out_wh"] is None else r["energy_out_wh"] / 1000.0
        day["sources"][r["source"]] = {"in_kwh": e_in, "out_kwh": e_out}
        driver = drivers.get(r["source"], r["source"])
        for key, value in ((_IN_AS.get(driver), e_in), (_OUT_AS.get(driver), e_out)):
            if key is not None and value is not None:
                day[key] = (day[key] or 0.0) + value
        day["soc_min_pct"] = _pick(min, day["soc_min_pct"], r["soc_min_pct"])
        day["soc_max_pct"] = _pick(max, day["soc_max_pct"], r["soc_max_pct"])
        day["do_min_mg_l"] = _pick(min, day["do_min_mg_l"], r["do_min_mg_l"])
        if r["aerator_h"] is not None:
            day["aerator_h"] = (day["aerator_h"] or 0.0) + r["aerator_h"]
        day["hours"] = max(day["hours"], (r["seconds"] or 0.0) / 3600.0)
    return [days[k] for k in sorted(days)]


_IN_AS = {"epever_tracer": "pv_kwh", "generator": "generator_kwh",
          "battery": "battery_discharge_kwh"}
_OUT_AS = {"sunspec": "load_kwh", "battery": "battery_charge_kwh"}


def _pick(fn: Callable[[float, float], float], a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else fn(a, b)


def alarm(conn: sqlite3.Connection, alarm_id: int) -> dict[str, Any] | None:
    """One alarm by id, or None."""
    row = conn.execute("SELECT * FROM alarms WHERE id = ?", (alarm_id,)).fetchone()
    return None if row is None else dict(row)


def past_alarms(conn: sqlite3.Connection, since_ts: float, limit: int) -> list[dict[str, Any]]:
    """Cleared alarms raised since ``since_ts``, newest first."""
    rows = conn.execute("SELECT *, 0 AS active FROM alarms WHERE cleared_ts IS NOT NULL"
                        " AND raised_ts >= ? ORDER BY id DESC LIMIT ?", (since_ts, limit))
    return [dict(r) for r in rows]
