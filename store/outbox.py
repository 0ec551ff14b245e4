"""The uplink's outbox: what the site has for the hub and the hub has not yet acknowledged.

The outbox is the truth until the hub's acknowledgement (sent after its commit): a row is made
in the same transaction that advances the uplink's cursors (:func:`enqueue`), so a site killed
at any moment neither loses nor repeats a record, and it is deleted only when acknowledged
(:func:`delete`). Row ids are never reused (``AUTOINCREMENT``). When the outbox outgrows its
limit, the oldest batch rows go first, and an event says so (:func:`prune`); Events rows
(alarms, interruptions, command results) are never pruned.

Also here: the uplink's small state (``uplink_state``, JSON by key) and the hub's commands
received (``hub_commands``), each once. The tables come with migration ``m006``; times are
UTC epoch seconds as everywhere in the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from store.commands import validate_command
from store.errors import CommandError
from store.schema import from_json, to_json, transaction

__all__ = [
    "HubCommand",
    "OutboxRow",
    "OutboxStatus",
    "delete",
    "enqueue",
    "first_sample_ts",
    "hub_command",
    "last_id_before",
    "payload",
    "pending",
    "prune",
    "read_uplink_state",
    "receive_hub_command",
    "refuse_hub_command",
    "rows_after",
    "rows_closed",
    "sample_means",
    "set_uplink_state",
    "site_latest",
    "status",
    "unsent_hub_results",
]

OutboxKind = Literal["batch", "events"]
_SIZE = "length(payload) + coalesce(length(coarse), 0)"
"""A row's size [bytes]: its payload and its coarse copy."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A row of the outbox without its payload: id, kind, when it was made [UTC epoch s], its
    records (a batch's records; an Events row's items) and its payloads' size (with a batch's
    coarse copy) [bytes]."""

    id: int
    kind: OutboxKind
    created_ts: float
    records: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """How much the outbox holds: rows, the oldest row's time [UTC epoch s; None when empty]
    and the payloads' total size [bytes]."""

    rows: int
    oldest_ts: float | None
    size_bytes: int


@dataclass(frozen=True, slots=True)
class HubCommand:
    """A hub command as received: its hub id, the site command it became (None when refused
    on arrival), the status it got on arrival (``expired``/``rejected``; None when it became a
    site command), a detail, when it arrived [UTC epoch s] and whether its result has gone
    into the outbox."""

    hub_id: str
    command_id: int | None
    status: Literal["expired", "rejected"] | None
    detail: str
    received_ts: float
    result_sent: bool


def enqueue(conn: sqlite3.Connection, kind: OutboxKind, created_ts: float, *, records: int,
            make_payload: Callable[[int], bytes],
            make_coarse: Callable[[int], bytes] | None = None,
            state: Mapping[str, Any] | None = None,
            results_sent: Sequence[str] = ()) -> int:
    """Add a row, and in the same durable transaction set the uplink's ``state`` keys and mark
    the hub commands ``results_sent`` as sent; returns the row's id. ``make_payload(id)``
    makes the payload, which names its own row id; ``make_coarse(id)``, when given, a
    batch's coarse copy."""
    with transaction(conn, durable=True, what="add to the outbox") as c:
        cur = c.execute("INSERT INTO outbox (kind, created_ts, payload, records)"
                        " VALUES (?, ?, x'', ?)", (kind, created_ts, records))
        row = cur.lastrowid
        assert row is not None
        c.execute("UPDATE outbox SET payload = ?, coarse = ? WHERE id = ?",
                  (make_payload(row), None if make_coarse is None else make_coarse(row), row))
        _set_state(c, state or {})
        c.executemany("UPDATE hub_commands SET result_sent = 1 WHERE hub_id = ?",
                      [(h,) for h in results_sent])
    return row


def pending(conn: sqlite3.Connection) -> list[OutboxRow]:
    """Every row not yet acknowledged, oldest first (without payloads)."""
    return [OutboxRow(r["id"], r["kind"], r["created_ts"], r["records"], r["size"])
            for r in conn.execute(f"SELECT id, kind, created_ts, records, {_SIZE} AS size"
                                  " FROM outbox ORDER BY id")]


def payload(conn: sqlite3.Connection, row: int, *, coarse: bool = False) -> bytes | None:
    """The payload of ``row`` (its coarse copy when ``coarse``; the full payload when it has
    none), or None when it is gone (acknowledged or pruned)."""
    found = conn.execute("SELECT payload, coarse FROM outbox WHERE id = ?", (row,)).fetchone()
    if found is None:
        return None
    return bytes(found["coarse"] if coarse and found["coarse"] is not None
                 else found["payload"])


def delete(conn: sqlite3.Connection, row: int) -> bool:
    """Delete ``row`` (the hub has acknowledged it after its commit); False when it was
    already gone."""
    with transaction(conn, durable=True, what="delete from the outbox") as c:
        return c.execute("DELETE FROM outbox WHERE id = ?", (row,)).rowcount > 0


def status(conn: sqlite3.Connection) -> OutboxStatus:
    """The outbox's rows, oldest time and size."""
    r = conn.execute("SELECT count(*) AS n, min(created_ts) AS oldest,"
                     f" coalesce(sum({_SIZE}), 0) AS size FROM outbox").fetchone()
    return OutboxStatus(r["n"], r["oldest"], r["size"])


def prune(conn: sqlite3.Connection, max_bytes: int, now_ts: float) -> OutboxStatus | None:
    """Delete the oldest batch rows until the outbox holds at most ``max_bytes`` [bytes],
    logging an event ``records_dropped`` (source ``uplink``; ``data``: rows, records, bytes,
    and the oldest and newest time dropped) in the same transaction. Returns what was dropped,
    or None when nothing had to be. Events rows are never dropped."""
    with transaction(conn, durable=True, what="prune the outbox") as c:
        total = c.execute(f"SELECT coalesce(sum({_SIZE}), 0) FROM outbox").fetchone()[0]
        if total <= max_bytes:
            return None
        over = total - max_bytes
        ids: list[int] = []
        records = dropped = 0
        first = last = None
        for r in c.execute(f"SELECT id, created_ts, records, {_SIZE} AS size FROM outbox"
                           " WHERE kind = 'batch' ORDER BY id"):
            if dropped >= over:
                break
            ids.append(r["id"])
            records += r["records"]
            dropped += r["size"]
            first = r["created_ts"] if first is None else first
            last = r["created_ts"]
        if not ids:
            return None
        c.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
        data = {"outbox_rows": len(ids), "records": records, "bytes": dropped,
                "oldest_ts": first, "newest_ts": last, "max_bytes": max_bytes}
        c.execute("INSERT INTO events (ts, kind, source, message, data) VALUES (?,?,?,?,?)",
                  (now_ts, "records_dropped", "uplink",
                   f"outbox over {max_bytes} bytes: dropped the {len(ids)} oldest batches "
                   f"({records} records) the hub never acknowledged", to_json(data)))
    return OutboxStatus(len(ids), first, dropped)


# --------------------------------------------------------------------------- uplink state


def _set_state(c: sqlite3.Connection, state: Mapping[str, Any]) -> None:
    c.executemany("INSERT INTO uplink_state (key, value) VALUES (?, ?) ON CONFLICT(key)"
                  " DO UPDATE SET value = excluded.value",
                  [(k, to_json(v)) for k, v in state.items()])


def read_uplink_state(conn: sqlite3.Connection) -> dict[str, Any]:
    """The uplink's state: every key and its value."""
    return {r["key"]: from_json(r["value"])
            for r in conn.execute("SELECT key, value FROM uplink_state")}


def set_uplink_state(conn: sqlite3.Connection, state: Mapping[str, Any]) -> None:
    """Set the uplink's ``state`` keys (one durable transaction)."""
    with transaction(conn, durable=True, what="save the uplink's state") as c:
        _set_state(c, state)


# --------------------------------------------------------------------------- hub commands


def _hub_command(r: sqlite3.Row) -> HubCommand:
    return HubCommand(r["hub_id"], r["command_id"], r["status"], r["detail"],
                      r["received_ts"], bool(r["result_sent"]))


def hub_command(conn: sqlite3.Connection, hub_id: str) -> HubCommand | None:
    """The hub command ``hub_id`` as received, or None when it never was."""
    r = conn.execute("SELECT * FROM hub_commands WHERE hub_id = ?", (hub_id,)).fetchone()
    return None if r is None else _hub_command(r)


def _receive(conn: sqlite3.Connection, hub_id: str, now_ts: float, *,
             command: tuple[str, Mapping[str, Any], float, str] | None,
             status: Literal["expired", "rejected"] | None, detail: str) -> HubCommand:
    with transaction(conn, durable=True, what=f"receive hub command {hub_id}") as c:
        known = c.execute("SELECT * FROM hub_commands WHERE hub_id = ?", (hub_id,)).fetchone()
        if known is not None:
            return _hub_command(known)
        command_id = None
        if command is not None:
            kind, value, expires_ts, by = command
            target = str(value["load"]) if kind == "override_load" else None
            cur = c.execute("INSERT INTO commands (created_ts, kind, target, value, expires_ts,"
                            " requested_by) VALUES (?, ?, ?, ?, ?, ?)",
                            (now_ts, kind, target, to_json(dict(value)), expires_ts, by))
            command_id = cur.lastrowid
        c.execute("INSERT INTO hub_commands (hub_id, command_id, received_ts, status, detail)"
                  " VALUES (?, ?, ?, ?, ?)", (hub_id, command_id, now_ts, status, detail))
    return HubCommand(hub_id, command_id, status, detail, now_ts, False)


def receive_hub_command(conn: sqlite3.Connection, hub_id: str, now_ts: float, *, kind: str,
                        value: Mapping[str, Any], expires_ts: float,
                        requested_by: str) -> HubCommand:
    """Receive the hub command ``hub_id`` once: a valid one becomes a pending site command
    (:func:`store.commands.validate_command`) with its expiry [UTC epoch s], an invalid one is
    recorded ``rejected`` with the reason. A command id already received is left as it was
    (a broker may deliver a command twice; it is never executed twice). Returns the row."""
    try:
        validate_command(kind, None, value)
    except CommandError as e:
        return _receive(conn, hub_id, now_ts, command=None, status="rejected", detail=str(e))
    return _receive(conn, hub_id, now_ts, command=(kind, value, expires_ts, requested_by),
                    status=None, detail="")


def refuse_hub_command(conn: sqlite3.Connection, hub_id: str, now_ts: float,
                       status: Literal["expired", "rejected"], detail: str) -> HubCommand:
    """Record the hub command ``hub_id`` as refused on arrival (``expired``: it arrived at or
    after its expiry and is never executed; ``rejected``: it cannot be read), once."""
    return _receive(conn, hub_id, now_ts, command=None, status=status, detail=detail)


def unsent_hub_results(conn: sqlite3.Connection
                       ) -> list[tuple[HubCommand, dict[str, Any] | None]]:
    """Hub commands whose result is known and not yet in the outbox, oldest first, each with
    its site command's row (``c_status``, ``c_result``, ``c_acked_ts``; None for one refused on
    arrival): refused on arrival, or executed (status no longer ``pending``)."""
    out: list[tuple[HubCommand, dict[str, Any] | None]] = []
    for r in conn.execute(
            "SELECT h.*, c.id AS c_id, c.status AS c_status, c.result AS c_result,"
            " c.acked_ts AS c_acked_ts FROM hub_commands h LEFT JOIN commands c"
            " ON c.id = h.command_id WHERE h.result_sent = 0"
            " AND (h.status IS NOT NULL OR c.status != 'pending') ORDER BY h.received_ts"):
        out.append((_hub_command(r), dict(r) if r["c_id"] is not None else None))
    return out


# --------------------------------------------------------------------------- what the uplink reads


def sample_means(conn: sqlite3.Connection, start_ts: float, end_ts: float,
                 resolution_s: float) -> dict[int, dict[str, float | None]]:
    """The samples in [``start_ts``, ``end_ts``) [UTC epoch s] by interval of
    ``resolution_s`` [s] from ``start_ts``: interval index → channel (``device/point``) → the
    mean of its good samples there (None when it had samples but none good). Intervals and
    channels without samples are absent."""
    out: dict[int, dict[str, float | None]] = {}
    for r in conn.execute(
            "SELECT p.device || '/' || p.point AS ch,"
            " CAST((s.ts - :start) / :res AS INTEGER) AS slot,"
            " avg(CASE WHEN s.quality = 'good' THEN s.value END) AS mean"
            " FROM samples s JOIN points p ON p.id = s.point_id"
            " WHERE s.point_id IN (SELECT id FROM points) AND s.ts >= :start AND s.ts < :end"
            " GROUP BY s.point_id, slot",
            {"start": start_ts, "end": end_ts, "res": resolution_s}):
        out.setdefault(r["slot"], {})[r["ch"]] = r["mean"]
    return out


def first_sample_ts(conn: sqlite3.Connection) -> float | None:
    """The time of the oldest sample [UTC epoch s], or None when there is none."""
    found = conn.execute("SELECT min(ts) FROM samples").fetchone()[0]
    return None if found is None else float(found)


def rows_after(conn: sqlite3.Connection, table: Literal["alarms", "interruptions"],
               after_id: int, limit: int) -> list[dict[str, Any]]:
    """The rows of ``table`` with an id above ``after_id``, oldest first, at most ``limit``."""
    return list(map(dict, conn.execute(f"SELECT * FROM {table} WHERE id > ? ORDER BY id LIMIT ?",
                             (after_id, limit))))


def rows_closed(conn: sqlite3.Connection, table: Literal["alarms", "interruptions"],
                ids: Sequence[int]) -> list[dict[str, Any]]:
    """The rows of ``table`` among ``ids`` that have ended (cleared alarms, interruptions with
    an end), oldest first."""
    end = "cleared_ts" if table == "alarms" else "end_ts"
    found: list[dict[str, Any]] = []
    for i in range(0, len(ids), 500):
        chunk = list(ids[i:i + 500])
        marks = ",".join("?" * len(chunk))
        found += map(dict, conn.execute(f"SELECT * FROM {table} WHERE id IN ({marks})"
                              f" AND {end} IS NOT NULL ORDER BY id", chunk))
    return found


def last_id_before(conn: sqlite3.Connection, table: Literal["alarms", "interruptions"],
                   ts: float) -> int:
    """The largest id of ``table`` whose row started before ``ts`` [UTC epoch s] (0: none):
    where an uplink enabled for the first time starts reporting."""
    start = "raised_ts" if table == "alarms" else "start_ts"
    return int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}"
                            f" WHERE {start} < ?", (ts,)).fetchone()[0])


def site_latest(conn: sqlite3.Connection, device: str) -> dict[str, float | None]:
    """The latest values of ``device``'s points (None unless their quality is good)."""
    return {r["point"]: (r["value"] if r["quality"] == "good" else None)
            for r in conn.execute("SELECT point, value, quality FROM latest WHERE device = ?",
                                  (device,))}
