"""The controller's handle on the database: the single writer of telemetry, alarms, events,
interruptions and curtailments, the controller's audit and state, and command
acknowledgements."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from store.commands import command_of
from store.contract import (
    ALARMS,
    EVENT_KINDS,
    PERIODS,
    Command,
    CommandStatus,
    DeviceHealth,
    RollupDelta,
    Sample,
)
from store.errors import StoreError
from store.readers import read_open_curtailments, read_open_interruptions, read_state
from store.schema import connect, from_json, migrate, to_json, transaction

__all__ = ["Store", "period_start"]


def period_start(ts: float, period: str, tz: ZoneInfo) -> float:
    """Start of the rollup period holding ``ts`` [epoch s]; ``1d`` is the local day."""
    if period == "1d":
        local = datetime.fromtimestamp(ts, tz)
        midnight = datetime(local.year, local.month, local.day, tzinfo=tz)
        return midnight.timestamp()
    size = PERIODS[period]
    return ts - ts % size


def _agg(fn: str, col: str) -> str:
    """An upsert's ``SET`` term: sum, MIN or MAX of the stored and the new value, NULL-aware."""
    if fn == "sum":
        return f"{col} = COALESCE({col} + excluded.{col}, {col}, excluded.{col})"
    return f"{col} = COALESCE({fn}({col}, excluded.{col}), {col}, excluded.{col})"


_ROLLUP_UPSERT = (
    "INSERT INTO rollups (period, start_ts, source, soc_min_pct, soc_max_pct, aerator_h,"
    " do_min_mg_l, seconds) VALUES (?,?,?,?,?,?,?,?)"
    " ON CONFLICT(period, start_ts, source) DO UPDATE SET "
    + ", ".join([_agg("MIN", "soc_min_pct"), _agg("MAX", "soc_max_pct"), _agg("sum", "aerator_h"),
                 _agg("MIN", "do_min_mg_l"), "seconds = seconds + excluded.seconds"]))
_ENERGY_UPSERT = (
    "INSERT INTO energy (period, start_ts, source, category, method, wh, seconds)"
    " VALUES (?,?,?,?,?,?,?) ON CONFLICT(period, start_ts, source, category, method)"
    " DO UPDATE SET wh = wh + excluded.wh, seconds = seconds + excluded.seconds")
_HEALTH_UPSERT = (
    "INSERT INTO devices (device, online, last_poll_ts, last_ok_ts, error, updated_ts)"
    " VALUES (?,?,?,?,?,?) ON CONFLICT(device) DO UPDATE SET online = excluded.online,"
    " last_poll_ts = excluded.last_poll_ts, last_ok_ts = excluded.last_ok_ts,"
    " error = excluded.error, updated_ts = excluded.updated_ts")


class Store:
    """The controller's handle on the database (created or migrated on opening)."""

    def __init__(self, path: Path | str, timezone: str = "UTC", *,
                 busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.tz = ZoneInfo(timezone)
        migrate(self.path, timeout_s=busy_timeout_s)
        self.conn = connect(self.path, timeout_s=busy_timeout_s)
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
                    latest: Sequence[Sample] = (),
                    health: Sequence[DeviceHealth] = ()) -> None:
        """One cycle's telemetry in one transaction: raw ``samples`` (which also update
        ``latest``), ``latest``-only updates, rollups and energy over ``dt_s`` seconds (skipped
        when ``dt_s`` ≤ 0; a source with only energy gets no ``rollups`` row), and each
        device's ``health``."""
        try:
            with transaction(self.conn, durable=False,
                             what=f"write telemetry to {self.path}") as c:
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
                c.executemany(_HEALTH_UPSERT, [
                    (h.device, int(h.online), h.last_poll_ts, h.last_ok_ts, h.error, now_ts)
                    for h in health])
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot write telemetry: {e}") from e

    def _add_rollups(self, c: sqlite3.Connection, now_ts: float,
                     rollup: Mapping[str, RollupDelta], dt_s: float) -> None:
        rows = []
        energy = []
        for period in PERIODS:
            start = period_start(now_ts, period, self.tz)
            for source, d in rollup.items():
                if (d.soc_pct, d.aerator_h, d.do_mg_l) != (None, None, None):
                    rows.append((period, start, source, d.soc_pct, d.soc_pct, d.aerator_h,
                                 d.do_mg_l, dt_s))
                energy += [(period, start, source, e.category, e.method, e.wh, dt_s)
                           for e in d.energy]
        c.executemany(_ROLLUP_UPSERT, rows)
        c.executemany(_ENERGY_UPSERT, energy)

    def prune(self, now_ts: float, retention_days: int) -> int:
        """Delete raw samples older than ``retention_days`` and 1-minute rollups and energy
        older than 4 × that; returns the number of samples deleted."""
        cut = now_ts - retention_days * 86400.0
        cut_1m = now_ts - 4 * retention_days * 86400.0
        try:
            with transaction(self.conn, durable=False, what=f"prune {self.path}") as c:
                n = sum(c.execute("DELETE FROM samples WHERE point_id = ? AND ts < ?",
                                  (pid, cut)).rowcount for pid in self._point_ids.values())
                c.execute("DELETE FROM rollups WHERE period = '1m' AND start_ts < ?", (cut_1m,))
                c.execute("DELETE FROM energy WHERE period = '1m' AND start_ts < ?", (cut_1m,))
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot prune: {e}") from e
        return n

    # events, alarms, interruptions, state (synchronous=FULL) -----------------------------

    def event(self, ts: float, kind: str, source: str, message: str,
              data: Mapping[str, Any] | None = None) -> None:
        """Append an event of one of :data:`~store.contract.EVENT_KINDS` (another kind is a
        :class:`StoreError`)."""
        if kind not in EVENT_KINDS:
            raise StoreError(f"unknown event kind {kind!r} (one of {', '.join(EVENT_KINDS)})")
        with transaction(self.conn, durable=True) as c:
            c.execute("INSERT INTO events (ts, kind, source, message, data) VALUES (?,?,?,?,?)",
                      (ts, kind, source, message, None if data is None else to_json(data)))

    def raise_alarm(self, ts: float, kind: str, source: str, message: str) -> int:
        """Raise the alarm ``kind:source`` with the severity of ``ALARMS[kind]`` (no-op if
        already active); returns its id. An unknown kind is a :class:`StoreError`."""
        spec = ALARMS.get(kind)
        if spec is None:
            raise StoreError(f"unknown alarm kind {kind!r} (one of {', '.join(ALARMS)})")
        key = f"{kind}:{source}"
        with transaction(self.conn, durable=True) as c:
            row = c.execute("SELECT id FROM alarms WHERE key = ? AND cleared_ts IS NULL",
                            (key,)).fetchone()
            if row is not None:
                return int(row["id"])
            cur = c.execute(
                "INSERT INTO alarms (key, kind, source, severity, message, raised_ts)"
                " VALUES (?,?,?,?,?,?)", (key, kind, source, spec.severity, message, ts))
            c.execute("INSERT INTO events (ts, kind, source, message, data) VALUES (?,?,?,?,?)",
                      (ts, "alarm_raised", source, message, to_json({"alarm": kind})))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def clear_alarm(self, ts: float, kind: str, source: str) -> bool:
        """Clear the active alarm ``kind:source``; False if none was active."""
        key = f"{kind}:{source}"
        with transaction(self.conn, durable=True) as c:
            n = c.execute("UPDATE alarms SET cleared_ts = ? WHERE key = ? AND cleared_ts IS NULL",
                          (ts, key)).rowcount
            if n:
                c.execute("INSERT INTO events (ts, kind, source, message, data)"
                          " VALUES (?,?,?,?,?)",
                          (ts, "alarm_cleared", source, f"{kind} cleared",
                           to_json({"alarm": kind})))
        return bool(n)

    def ack_alarm(self, ts: float, alarm_id: int, by: str) -> bool:
        """Acknowledge an alarm; False if no such alarm."""
        with transaction(self.conn, durable=True) as c:
            n = c.execute("UPDATE alarms SET acked_ts = ?, acked_by = ? WHERE id = ?",
                          (ts, by, alarm_id)).rowcount
        return bool(n)

    def active_alarm_keys(self) -> set[str]:
        """Keys (``kind:source``) of active alarms: restored at start."""
        return {r["key"] for r in self.conn.execute(
            "SELECT key FROM alarms WHERE cleared_ts IS NULL")}

    def start_interruption(self, ts: float, load: str, cause: str, *, customers: int,
                           planned: bool = False) -> None:
        """Open an interruption of ``load``'s ``customers`` (no-op if one is open); the
        customers are kept with the row, so that history does not move when the site file
        changes. Negative ``customers`` are refused (a CHECK constraint)."""
        with transaction(self.conn, durable=True, what=f"open an interruption of {load}") as c:
            c.execute("INSERT INTO interruptions (load, cause, start_ts, customers, planned)"
                      " VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                      (load, cause, ts, customers, int(planned)))

    def end_interruption(self, ts: float, load: str) -> None:
        """Close the open interruption of ``load``, if any."""
        self._close("interruptions", ts, load)

    def open_interruptions(self) -> dict[str, bool]:
        """Loads with an open interruption → whether it is planned."""
        return read_open_interruptions(self.conn)

    def start_curtailment(self, ts: float, load: str, cause: str) -> None:
        """Open a curtailment of the flexible ``load`` (no-op if one is open)."""
        with transaction(self.conn, durable=True) as c:
            c.execute("INSERT OR IGNORE INTO curtailments (load, cause, start_ts)"
                      " VALUES (?,?,?)", (load, cause, ts))

    def end_curtailment(self, ts: float, load: str) -> None:
        """Close the open curtailment of ``load``, if any."""
        self._close("curtailments", ts, load)

    def open_curtailments(self) -> set[str]:
        """Loads with an open curtailment."""
        return read_open_curtailments(self.conn)

    def _close(self, table: Literal["interruptions", "curtailments"], ts: float,
               load: str) -> None:
        """Close the open row of ``load`` in ``table``, if any."""
        with transaction(self.conn, durable=True) as c:
            c.execute(f"UPDATE {table} SET end_ts = ? WHERE load = ? AND end_ts IS NULL",
                      (ts, load))

    def set_state(self, ts: float, key: str, value: Any, *, durable: bool = True) -> None:
        """Store ``value`` (JSON) under ``key`` (``durable``: synchronous=FULL; the heartbeat,
        rewritten every cycle, need not be)."""
        with transaction(self.conn, durable=durable) as c:
            c.execute("INSERT INTO state (key, value, updated_ts) VALUES (?,?,?)"
                      " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                      " updated_ts = excluded.updated_ts", (key, to_json(value), ts))

    def get_state(self, key: str) -> Any:
        """The value stored under ``key``, or None."""
        return read_state(self.conn, key)

    # commands --------------------------------------------------------------------------

    def pending_commands(self, now_ts: float) -> list[Command]:
        """Pending commands, oldest first; expired ones are rejected on the way."""
        rows = self.conn.execute("SELECT * FROM commands WHERE status = 'pending' ORDER BY id")
        out = []
        for cmd in map(command_of, rows.fetchall()):
            if cmd.expires_ts is not None and cmd.expires_ts <= now_ts:
                self.ack_command(now_ts, cmd.id, "rejected", {"error": "expired"})
            else:
                out.append(cmd)
        return out

    def ack_command(self, ts: float, command_id: int, status: CommandStatus,
                    result: Mapping[str, Any]) -> None:
        """Acknowledge a command with its status and result, and audit it (one FULL commit)."""
        with transaction(self.conn, durable=True) as c:
            row = c.execute("SELECT kind, target, value, requested_by FROM commands"
                            " WHERE id = ? AND status = 'pending'", (command_id,)).fetchone()
            if row is None:
                return
            c.execute("UPDATE commands SET status = ?, result = ?, acked_ts = ? WHERE id = ?",
                      (status, to_json(dict(result)), ts, command_id))
            c.execute("INSERT INTO audit (ts, actor, action, detail) VALUES (?,?,?,?)",
                      (ts, row["requested_by"], f"command.{row['kind']}",
                       to_json({"id": command_id, "target": row["target"],
                                "value": from_json(row["value"]), "status": status,
                                "result": dict(result)})))
