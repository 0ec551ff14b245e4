"""What the API writes, each in one durable transaction: commands for the controller (validated,
with the API's audit of the state before), and API keys.

The API opens its database with :func:`open_database` (created or migrated first).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from store.contract import COMMAND_KINDS, Command
from store.errors import CommandError, StoreError
from store.schema import connect, from_json, migrate, to_json, transaction

__all__ = [
    "MAX_OVERRIDE_S",
    "MAX_REASON_CHARS",
    "create_key",
    "insert_command",
    "open_database",
    "read_command",
    "read_commands",
    "read_key_loads",
    "revoke_key",
    "touch_key",
    "validate_command",
]

MAX_OVERRIDE_S = 7 * 86400.0
MAX_REASON_CHARS = 200
"""The longest ``reason`` of a ``planned_cut`` command [characters]."""


def open_database(path: Path | str) -> sqlite3.Connection:
    """A read-write connection to the site database, created or migrated first."""
    migrate(path)
    return connect(path)


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
    elif kind == "planned_cut":
        allowed = {"action", "reason"}
        action = need("action", (str,))
        if action not in ("start", "end"):
            raise CommandError("planned_cut: value.action must be start or end")
        if (action == "start" or "reason" in v) and not need("reason", (str,)).strip():
            raise CommandError("planned_cut: value.reason must say why the supply is cut")
        if len(v.get("reason", "")) > MAX_REASON_CHARS:
            raise CommandError(f"planned_cut: value.reason is longer than {MAX_REASON_CHARS}")
    else:
        allowed = {"alarm_id"}
        need("alarm_id", (int,))
    extra = set(v) - allowed
    if extra:
        raise CommandError(f"{kind}: unknown value keys {sorted(extra)}")


def insert_command(conn: sqlite3.Connection, kind: str, value: Mapping[str, Any], *,
                   requested_by: str, target: str | None = None,
                   expires_ts: float | None = None, now_ts: float | None = None,
                   before: Mapping[str, Any] | None = None) -> int:
    """Insert a pending command (validated; committed with synchronous=FULL); returns its id.

    ``before``, when given, is what the requester saw before asking: it goes into
    ``api_audit`` in the same transaction.
    """
    validate_command(kind, target, value)
    if kind == "override_load" and target is None:
        target = str(value["load"])
    ts = time.time() if now_ts is None else now_ts
    try:
        with transaction(conn, durable=True) as c:
            cur = c.execute(
                "INSERT INTO commands (created_ts, kind, target, value, expires_ts,"
                " requested_by) VALUES (?, ?, ?, ?, ?, ?)",
                (ts, kind, target, to_json(dict(value)), expires_ts, requested_by))
            cid = cur.lastrowid
            assert cid is not None
            if before is not None:
                c.execute("INSERT INTO api_audit (command_id, ts, actor, before)"
                          " VALUES (?, ?, ?, ?)", (cid, ts, requested_by, to_json(dict(before))))
    except sqlite3.Error as e:
        raise StoreError(f"cannot insert a command: {e}") from e
    return cid


def command_of(row: sqlite3.Row) -> Command:
    """A ``commands`` row as a :class:`Command`."""
    return Command(id=row["id"], created_ts=row["created_ts"], kind=row["kind"],
                   target=row["target"], value=from_json(row["value"]),
                   expires_ts=row["expires_ts"], requested_by=row["requested_by"],
                   status=row["status"], result=from_json(row["result"]),
                   acked_ts=row["acked_ts"])


def read_command(conn: sqlite3.Connection, command_id: int) -> Command | None:
    """One command by id, or None."""
    row = conn.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
    return None if row is None else command_of(row)


def read_commands(conn: sqlite3.Connection, *, status: str | None = None,
                  limit: int = 100) -> list[Command]:
    """Newest commands first, optionally of one status."""
    if status is None:
        rows = conn.execute("SELECT * FROM commands ORDER BY id DESC LIMIT ?", (limit,))
    else:
        rows = conn.execute("SELECT * FROM commands WHERE status = ? ORDER BY id DESC LIMIT ?",
                            (status, limit))
    return [command_of(r) for r in rows]


# --------------------------------------------------------------------------- API keys


def create_key(conn: sqlite3.Connection, key_id: str, name: str, role: str, key_hash: str, *,
               by: str, now_ts: float, loads: Sequence[str] | None = None) -> None:
    """Store a new API key's row (its hash only; the key itself is never stored).

    ``loads`` is a customer key's scope (the names of its loads), given for a customer key
    and only for one (the table's CHECK refuses anything else).
    """
    scope = None if loads is None else to_json(list(loads))
    try:
        with transaction(conn, durable=True) as c:
            c.execute("INSERT INTO api_keys (id, name, role, hash, created_ts, created_by,"
                      " loads) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (key_id, name, role, key_hash, now_ts, by, scope))
    except sqlite3.Error as e:
        raise StoreError(f"cannot store the key {key_id}: {e}") from e


def read_key_loads(conn: sqlite3.Connection, key_id: str) -> list[str] | None:
    """A customer key's scope: the names of its loads (None for a staff key or an unknown
    id). Belongs beside :func:`store.readers.read_key`, whose columns do not include it."""
    row = conn.execute("SELECT loads FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    loads = None if row is None else from_json(row["loads"])
    return [str(x) for x in loads] if isinstance(loads, list) else None


def revoke_key(conn: sqlite3.Connection, key_id: str, *, by: str, now_ts: float) -> bool:
    """Revoke a key (idempotent: an already revoked key keeps its first revocation); False if
    there is no key ``key_id``."""
    try:
        with transaction(conn, durable=True) as c:
            c.execute("UPDATE api_keys SET revoked_ts = ?, revoked_by = ?"
                      " WHERE id = ? AND revoked_ts IS NULL", (now_ts, by, key_id))
            found = c.execute("SELECT 1 FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    except sqlite3.Error as e:
        raise StoreError(f"cannot revoke the key {key_id}: {e}") from e
    return found is not None


def touch_key(conn: sqlite3.Connection, key_id: str, now_ts: float) -> bool:
    """Record a key's last use; False when the database is busy (the time is advisory, and a
    busy database must not fail a read)."""
    try:
        conn.execute("UPDATE api_keys SET last_used_ts = ? WHERE id = ?", (now_ts, key_id))
    except sqlite3.OperationalError:
        return False
    return True
