"""The API's side of the audit: for every command, who sent it and what the state was before.

The controller audits what it did (``audit``: actor, command, result). What the operator saw
before asking is only known here, so the API keeps it in its own table, next to ``api_keys``::

    api_audit(command_id INTEGER PRIMARY KEY → commands.id, ts REAL, actor TEXT,
              before TEXT JSON)

:func:`read_audit` joins it with ``commands``: who, what, the value before and after, and the
controller's result.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_audit (
    command_id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    actor TEXT NOT NULL,
    before TEXT
)
"""


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the ``api_audit`` table if it does not exist."""
    conn.execute(SCHEMA)


def record(conn: sqlite3.Connection, command_id: int, ts: float, actor: str,
           before: dict[str, Any]) -> None:
    """Remember the state before command ``command_id`` (committed at once)."""
    conn.execute("INSERT INTO api_audit (command_id, ts, actor, before) VALUES (?, ?, ?, ?)",
                 (command_id, ts, actor, json.dumps(before, default=str)))


def read_audit(conn: sqlite3.Connection, limit: int) -> list[dict[str, Any]]:
    """Newest first: ts, actor, kind, target, before, after (the request), status, result."""
    rows = conn.execute(
        "SELECT a.command_id, a.ts, a.actor, a.before, c.kind, c.target, c.value, c.status,"
        " c.result, c.acked_ts FROM api_audit a JOIN commands c ON c.id = a.command_id"
        " ORDER BY a.command_id DESC LIMIT ?", (limit,)).fetchall()
    return [{"command_id": r[0], "ts": r[1], "actor": r[2],
             "before": json.loads(r[3]) if r[3] else None, "kind": r[4], "target": r[5],
             "after": json.loads(r[6]), "status": r[7],
             "result": json.loads(r[8]) if r[8] else None, "acked_ts": r[9]} for r in rows]
