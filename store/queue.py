"""The controller's bounded write queue: control never waits for storage.

Everything the controller writes (telemetry, events, alarms, interruptions and curtailments,
state, command acknowledgements and its heartbeat) goes into :class:`WriteQueue` first, in
memory; the cycle calls :meth:`WriteQueue.flush` once, after its device writes, and the queue
drains into the :class:`~store.writer.Store` as far as the database lets it (one writer, in
order). While the database is full, read-only, locked or missing, records wait; a database
that could not be opened is opened again at each flush (the controller starts without one:
*degraded*).

Bounds: at most ``max_items`` records wait. Beyond that the oldest telemetry is dropped first,
then the oldest events; command acknowledgements, alarms, interruptions, curtailments and state
are never dropped (they are few, and a state row replaces its own older value in the queue).
What was dropped is counted (:attr:`QueueHealth.dropped`) and said in a ``records_dropped``
event as soon as the database takes writes again. A record SQLite refuses outright (not a full,
locked or read-only database, which pass) is dropped and counted as ``refused``.

Reads the controller needs (pending commands, saved state, active alarms) never take the write
lock; they go to the store's connection, or to a read-only one when the database cannot be
written, and see the queued state first. A command acknowledged in the queue is not handed out
again before its acknowledgement is written.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from store.commands import command_of
from store.contract import (
    ALARMS,
    EVENT_KINDS,
    Command,
    CommandStatus,
    DeviceHealth,
    RollupDelta,
    Sample,
)
from store.errors import StoreError
from store.readers import (
    read_alarm,
    read_open_curtailments,
    read_open_interruptions,
    read_state,
)
from store.schema import connect_readonly
from store.writer import Store

__all__ = ["QueueHealth", "WriteQueue"]

T = TypeVar("T")

Priority = Literal["telemetry", "event", "record"]
DROP_ORDER: tuple[Priority, ...] = ("telemetry", "event")
"""What overflow drops, first to last; ``record`` (acks, alarms, interruptions, curtailments,
state) never."""


@dataclass(frozen=True, slots=True)
class _Item:
    """One queued write: what it is, the store call that writes it, and the key under which a
    newer record replaces it (state rows)."""

    priority: Priority
    write: Callable[[Store], object]
    key: str | None = None
    command_id: int | None = None


@dataclass(frozen=True, slots=True)
class QueueHealth:
    """The store as the controller sees it after a flush."""

    queued: int  # records waiting in memory
    dropped: int  # records lost since start (overflow and refused)
    error: str | None  # the last storage error; None when the last flush wrote everything
    writable: bool  # a writable database is open


class WriteQueue:
    """The controller's handle on the database: writes are queued, reads never lock."""

    def __init__(self, path: Path | str, timezone: str = "UTC", *, store: Store | None = None,
                 max_items: int = 1000, flush_items: int = 500,
                 busy_timeout_s: float = 1.0) -> None:
        self.path = Path(path)
        self.timezone = timezone
        self.max_items = max_items
        self.flush_items = flush_items
        self.busy_timeout_s = busy_timeout_s
        self.error: str | None = None
        self.dropped: Counter[str] = Counter()
        self._said: Counter[str] = Counter()  # dropped counts already written as an event
        self._items: deque[_Item] = deque()
        self._state: dict[str, Any] = {}  # state values queued and not yet written
        self._acking: set[int] = set()  # commands whose acknowledgement is queued
        self._reader: sqlite3.Connection | None = None
        self._store = store if store is not None else self._open()

    # ------------------------------------------------------------------ opening

    def _open(self) -> Store | None:
        """The writable store, or None (the error kept) and a read-only connection if the
        file can be read at all."""
        try:
            store = Store(self.path, self.timezone, busy_timeout_s=self.busy_timeout_s)
        except StoreError as e:
            self.error = str(e)
            if self._reader is None:
                try:
                    self._reader = connect_readonly(self.path)
                except StoreError:
                    self._reader = None
            return None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        return store

    @property
    def writable(self) -> bool:
        """A writable database is open (not degraded)."""
        return self._store is not None

    def _conn(self) -> sqlite3.Connection | None:
        return self._store.conn if self._store is not None else self._reader

    # ------------------------------------------------------------------ queueing

    def _push(self, item: _Item) -> None:
        if item.key is not None:
            for old in [i for i in self._items if i.key == item.key]:
                self._items.remove(old)
        self._items.append(item)
        while len(self._items) > self.max_items and self._drop_one():
            pass

    def _drop_one(self) -> bool:
        """Drop the oldest record of the first droppable priority; False if none is."""
        for priority in DROP_ORDER:
            victim = next((i for i in self._items if i.priority == priority), None)
            if victim is not None:
                self._items.remove(victim)
                self.dropped[priority] += 1
                return True
        return False

    def write_cycle(self, now_ts: float, samples: Sequence[Sample],
                    rollup: Mapping[str, RollupDelta], dt_s: float, *,
                    latest: Sequence[Sample] = (),
                    health: Sequence[DeviceHealth] = ()) -> None:
        """Queue one cycle's telemetry (:meth:`Store.write_cycle`)."""
        self._push(_Item("telemetry", lambda s: s.write_cycle(
            now_ts, samples, rollup, dt_s, latest=latest, health=health)))

    def prune(self, now_ts: float, retention_days: int) -> None:
        """Queue pruning of old samples and rollups (:meth:`Store.prune`)."""
        self._push(_Item("telemetry", lambda s: s.prune(now_ts, retention_days)))

    def event(self, ts: float, kind: str, source: str, message: str,
              data: Mapping[str, Any] | None = None) -> None:
        """Queue an event; an unknown kind is a :class:`StoreError` now."""
        if kind not in EVENT_KINDS:
            raise StoreError(f"unknown event kind {kind!r} (one of {', '.join(EVENT_KINDS)})")
        self._push(_Item("event", lambda s: s.event(ts, kind, source, message, data)))

    def raise_alarm(self, ts: float, kind: str, source: str, message: str) -> None:
        """Queue raising an alarm; an unknown kind is a :class:`StoreError` now."""
        if kind not in ALARMS:
            raise StoreError(f"unknown alarm kind {kind!r} (one of {', '.join(ALARMS)})")
        self._push(_Item("record", lambda s: s.raise_alarm(ts, kind, source, message)))

    def clear_alarm(self, ts: float, kind: str, source: str) -> None:
        """Queue clearing an alarm."""
        self._push(_Item("record", lambda s: s.clear_alarm(ts, kind, source)))

    def ack_alarm(self, ts: float, alarm_id: int, by: str) -> bool:
        """Queue an operator's acknowledgement of an alarm; False if no such alarm can be
        read."""
        conn = self._conn()
        try:
            found = conn is not None and read_alarm(conn, alarm_id) is not None
        except sqlite3.Error:
            found = False
        if found:
            self._push(_Item("record", lambda s: s.ack_alarm(ts, alarm_id, by)))
        return found

    def alarm_key(self, alarm_id: int) -> str | None:
        """The key (``kind:source``) of alarm ``alarm_id``, read without a write lock; None
        when it cannot be read."""
        conn = self._conn()
        try:
            row = None if conn is None else read_alarm(conn, alarm_id)
        except sqlite3.Error:
            return None
        return None if row is None else str(row["key"])

    def start_interruption(self, ts: float, load: str, cause: str, *, customers: int,
                           planned: bool = False) -> None:
        """Queue opening an interruption of ``load``'s ``customers``
        (:meth:`Store.start_interruption`)."""
        self._push(_Item("record", lambda s: s.start_interruption(
            ts, load, cause, customers=customers, planned=planned)))

    def end_interruption(self, ts: float, load: str) -> None:
        """Queue closing the open interruption of ``load``."""
        self._push(_Item("record", lambda s: s.end_interruption(ts, load)))

    def start_curtailment(self, ts: float, load: str, cause: str) -> None:
        """Queue opening a curtailment of the flexible ``load``."""
        self._push(_Item("record", lambda s: s.start_curtailment(ts, load, cause)))

    def end_curtailment(self, ts: float, load: str) -> None:
        """Queue closing the open curtailment of ``load``."""
        self._push(_Item("record", lambda s: s.end_curtailment(ts, load)))

    def set_state(self, ts: float, key: str, value: Any, *, durable: bool = True) -> None:
        """Queue a state value; it replaces a queued older value of the same key."""
        self._state[key] = value
        self._push(_Item("record", lambda s: s.set_state(ts, key, value, durable=durable),
                         key=f"state:{key}"))

    def ack_command(self, ts: float, command_id: int, status: CommandStatus,
                    result: Mapping[str, Any]) -> None:
        """Queue a command's acknowledgement (kept until written, never dropped)."""
        self._acking.add(command_id)
        self._push(_Item("record", lambda s: s.ack_command(ts, command_id, status, result),
                         command_id=command_id))

    def ack_stored(self, command_id: int) -> bool:
        """No acknowledgement of ``command_id`` waits in the queue (it is written, or there
        never was one)."""
        return command_id not in self._acking

    # ------------------------------------------------------------------ reading

    def get_state(self, key: str) -> Any:
        """The newest value of ``key``: queued, else stored, else None (also when the
        database cannot be read)."""
        if key in self._state:
            return self._state[key]
        conn = self._conn()
        try:
            return None if conn is None else read_state(conn, key)
        except sqlite3.Error:
            return None

    def _read(self, read: Callable[[sqlite3.Connection], T], empty: T) -> T:
        """The result of a read, or ``empty`` when the database cannot be read (the error
        kept)."""
        conn = self._conn()
        if conn is None:
            return empty
        try:
            return read(conn)
        except sqlite3.Error as e:
            self.error = f"{self.path}: cannot read: {e}"
            return empty

    def _rows(self, sql: str) -> list[sqlite3.Row]:
        """Rows of a read (none when the database cannot be read; the error kept)."""
        return self._read(lambda conn: conn.execute(sql).fetchall(), [])

    def active_alarm_keys(self) -> set[str]:
        """Keys (``kind:source``) of the stored active alarms."""
        return {r["key"] for r in self._rows("SELECT key FROM alarms WHERE cleared_ts IS NULL")}

    def open_interruptions(self) -> dict[str, bool]:
        """Loads with a stored open interruption → whether it is planned."""
        return self._read(read_open_interruptions, {})

    def open_curtailments(self) -> set[str]:
        """Loads with a stored open curtailment."""
        return self._read(read_open_curtailments, set())

    def pending_commands(self, now_ts: float) -> list[Command]:
        """Pending commands not yet acknowledged in the queue, oldest first (a plain read,
        no write lock); expired ones are rejected through the queue."""
        out = []
        for cmd in map(command_of, self._rows(
                "SELECT * FROM commands WHERE status = 'pending' ORDER BY id")):
            if cmd.id in self._acking:
                continue
            if cmd.expires_ts is not None and cmd.expires_ts <= now_ts:
                self.ack_command(now_ts, cmd.id, "rejected", {"error": "expired"})
            else:
                out.append(cmd)
        return out

    # ------------------------------------------------------------------ draining

    def flush(self, now_ts: float) -> QueueHealth:
        """Write queued records in order, at most ``flush_items``, until one fails (it and the
        rest wait for the next flush); then say what was dropped (stamped ``now_ts``). Never
        raises."""
        if self._store is None:
            self._store = self._open()
        if self._store is not None:
            self.error = None
            for _ in range(min(self.flush_items, len(self._items))):
                if not self._write(self._store, self._items[0]):
                    break
            if self.error is None and not self._items:
                self._say_dropped(self._store, now_ts)
        return self.health()

    def _write(self, store: Store, item: _Item) -> bool:
        """Write the oldest record; False when storage failed (the record stays)."""
        try:
            item.write(store)
        except StoreError as e:
            self.error = str(e)
            if isinstance(e.__cause__, sqlite3.Error) and not isinstance(
                    e.__cause__, sqlite3.OperationalError):
                self._items.popleft()  # refused outright: it would block every later record
                self.dropped["refused"] += 1
                return True
            return False
        self._items.popleft()
        if item.command_id is not None:
            self._acking.discard(item.command_id)
        if item.key is not None and item.key.startswith("state:"):
            self._state.pop(item.key.removeprefix("state:"), None)
        return True

    def _say_dropped(self, store: Store, now_ts: float) -> None:
        """A ``records_dropped`` event for what was lost since the last one."""
        new = self.dropped - self._said
        if not new:
            return
        parts = ", ".join(f"{n} {kind}" for kind, n in sorted(new.items()))
        try:
            store.event(now_ts, "records_dropped", "store",
                        f"could not be stored: {parts}", dict(new))
        except StoreError as e:
            self.error = str(e)
            return
        self._said = Counter(self.dropped)

    def health(self) -> QueueHealth:
        """Queue size, records lost, the last error and whether the database is writable."""
        return QueueHealth(len(self._items), sum(self.dropped.values()), self.error,
                           self._store is not None)

    def close(self, now_ts: float) -> None:
        """Flush what can be flushed, then close the connections."""
        self.flush(now_ts)
        if self._store is not None:
            self._store.close()
        if self._reader is not None:
            self._reader.close()
