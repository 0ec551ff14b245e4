"""Reads for the routes, shaped for their responses: pure functions over the store's readers.

Everything here takes a connection and plain values and returns plain data; errors from the
store become :class:`api.errors.StoreUnavailable` through :func:`guarded`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool

from api.errors import StoreUnavailable
from store import readers
from store.contract import ENERGY_CATEGORIES, PERIODS, SITE_SOURCE
from store.errors import StoreError

Resolution = Literal["raw", "1m", "15m", "1d"]
# The longest span each resolution may ask for [s]: about 2,900 rows at most.
MAX_SPAN_S: dict[str, float] = {"raw": 2 * 86400.0, "1m": 2 * 86400.0,
                                "15m": 31 * 86400.0, "1d": 3 * 366 * 86400.0}
MAX_RAW_ROWS = 20_000

T = TypeVar("T")


def guarded(fn: Callable[[], T]) -> T:
    """Run a read; a locked, missing or corrupt database becomes a 503 problem."""
    try:
        return fn()
    except (sqlite3.Error, StoreError) as e:
        raise StoreUnavailable(f"cannot read the controller's database: {e}") from e


async def written(database: Path, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run a write ``fn`` on a connection of its own, in a worker thread: a write lock held by
    another process (the busy timeout) holds up this request only, never the event loop and
    the other requests. Store errors become a 503 problem as in :func:`guarded`."""

    def run() -> T:
        conn = guarded(lambda: readers.connect(database))
        try:
            return guarded(lambda: fn(conn))
        finally:
            conn.close()

    return await run_in_threadpool(run)


def history(conn: sqlite3.Connection, device: str, point: str, *, from_ts: float, to_ts: float,
            resolution: Resolution, tz: ZoneInfo) -> dict[str, Any]:
    """One point's values in ``[from_ts, to_ts)``: raw samples, or avg/min/max per bucket.

    Buckets of ``1d`` are local days in ``tz`` (its offset at ``from_ts``).
    """
    if resolution == "raw":
        rows = readers.read_samples(conn, device, point, from_ts, until_ts=to_ts,
                                    limit=MAX_RAW_ROWS + 1)
        truncated = len(rows) > MAX_RAW_ROWS
        rows = rows[:MAX_RAW_ROWS]
        vals = [r["value"] for r in rows]
        return {"t": [r["ts"] for r in rows], "avg": vals, "min": vals, "max": vals,
                "truncated": truncated}
    offset = 0.0
    if resolution == "1d":
        utcoff = datetime.fromtimestamp(from_ts, tz).utcoffset()
        offset = utcoff.total_seconds() if utcoff else 0.0
    agg = readers.read_history(conn, device, point, since_ts=from_ts, until_ts=to_ts,
                               bucket_s=PERIODS[resolution], offset_s=offset)
    return {"t": [r["start_ts"] for r in agg], "avg": [r["avg"] for r in agg],
            "min": [r["min"] for r in agg], "max": [r["max"] for r in agg], "truncated": False}


def local_date(ts: float, tz: ZoneInfo) -> str:
    """The local calendar day of ``ts``, ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(ts, tz).date().isoformat()


def daily_energy(conn: sqlite3.Connection, from_ts: float, to_ts: float,
                 tz: ZoneInfo) -> list[dict[str, Any]]:
    """One row per local day [kWh, %, h, mg/L]: the site's energy by category (as the
    controller computed it, with the methods it used), the site's SOC, aerator-hours and DO,
    and each device's energy by category as detail."""
    energy = readers.read_energy(conn, "1d", from_ts, to_ts)
    rollups = readers.read_rollups(conn, "1d", from_ts, to_ts, source=SITE_SOURCE)
    days: dict[float, dict[str, Any]] = {}

    def day(start_ts: float) -> dict[str, Any]:
        return days.setdefault(start_ts, {
            "date": local_date(start_ts + 3600.0, tz), "start_ts": start_ts,
            **{f"{c}_kwh": None for c in ENERGY_CATEGORIES}, "methods": {},
            "soc_min_pct": None, "soc_max_pct": None, "aerator_h": None, "do_min_mg_l": None,
            "hours": 0.0, "sources": {}})

    for e in energy:
        d = day(e["start_ts"])
        kwh = e["wh"] / 1000.0
        if e["source"] == SITE_SOURCE:
            key = f"{e['category']}_kwh"
            d[key] = (d[key] or 0.0) + kwh
            d["methods"].setdefault(e["category"], []).append(e["method"])
            d["hours"] = max(d["hours"], e["seconds"] / 3600.0)
        else:
            detail = d["sources"].setdefault(e["source"], {})
            detail[e["category"]] = detail.get(e["category"], 0.0) + kwh
    for r in rollups:
        d = day(r["start_ts"])
        d.update(soc_min_pct=r["soc_min_pct"], soc_max_pct=r["soc_max_pct"],
                 aerator_h=r["aerator_h"], do_min_mg_l=r["do_min_mg_l"],
                 hours=max(d["hours"], r["seconds"] / 3600.0))
    return [days[k] for k in sorted(days)]


def daily_load_energy(conn: sqlite3.Connection, meters: dict[str, str], from_ts: float,
                      to_ts: float, tz: ZoneInfo) -> list[dict[str, Any]]:
    """One row per local day: each metered load's energy [kWh] and how it was measured.
    ``meters`` maps a meter device to the load it measures."""
    days: dict[float, dict[str, Any]] = {}
    for e in readers.read_load_energy(conn, meters, "1d", from_ts, to_ts):
        d = days.setdefault(e["start_ts"], {"date": local_date(e["start_ts"] + 3600.0, tz),
                                            "start_ts": e["start_ts"], "loads": {},
                                            "methods": {}})
        d["loads"][e["load"]] = d["loads"].get(e["load"], 0.0) + e["wh"] / 1000.0
        methods = d["methods"].setdefault(e["load"], [])
        if e["method"] not in methods:
            methods.append(e["method"])
    return [days[k] for k in sorted(days)]
