"""API keys: created once, stored hashed, revocable; three roles.

Keys live in the controller's SQLite database, in the API's own ``api_keys`` table::

    api_keys(id TEXT PRIMARY KEY,      -- 12 hex digits, public (shown by ``offgrid keys list``)
             name TEXT, role TEXT,     -- viewer | operator | admin
             hash TEXT,                -- SHA-256 of the whole key (hex)
             created_ts REAL, created_by TEXT,  -- UTC epoch [s]; who: ``cli`` or a key
             revoked_ts REAL, revoked_by TEXT, last_used_ts REAL)

A key reads ``ogk_<id>_<secret>`` with 32 random bytes of secret, so a plain SHA-256 is enough
(the secret cannot be guessed, so a slow hash would add nothing but latency). The key itself is
returned once, by :func:`create_key`, and never stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import fastapi

from api import audit
from api.errors import NotFound
from api.roles import Role
from controller import store

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    hash TEXT NOT NULL,
    created_ts REAL NOT NULL,
    created_by TEXT NOT NULL,
    revoked_ts REAL,
    revoked_by TEXT,
    last_used_ts REAL
)
"""

_KEY_RE = re.compile(r"^ogk_([0-9a-f]{12})_[A-Za-z0-9_\-]{43}$")
LAST_USED_EVERY_S = 60.0


KeyId = Annotated[str, fastapi.Path(pattern=r"^[0-9a-f]{12}$", description="a key's public id")]


class UnknownKey(NotFound):
    """No key with that id."""


@dataclass(frozen=True)
class KeyInfo:
    """A stored key, without its secret."""

    id: str
    name: str
    role: Role
    created_ts: float
    revoked_ts: float | None
    last_used_ts: float | None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_ts is None


def requester(key: KeyInfo) -> str:
    """How a key appears in ``requested_by``, ``created_by`` and the audit log."""
    return f"{key.name}#{key.id} ({key.role.value})"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def connect(path: Path | str) -> sqlite3.Connection:
    """Open the site database (creating the store's tables, ``api_keys`` and ``api_audit``
    if missing)."""
    store.ensure_schema(path)
    conn = store.connect(path)
    ensure_schema(conn)
    audit.ensure_schema(conn)
    return conn


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the ``api_keys`` table if it does not exist."""
    conn.execute(SCHEMA)


def _row(r: Sequence[Any]) -> KeyInfo:
    return KeyInfo(str(r[0]), str(r[1]), Role(r[2]), float(r[3]), r[4], r[5])


_COLS = "id, name, role, created_ts, revoked_ts, last_used_ts"


def create_key(conn: sqlite3.Connection, role: Role, name: str, by: str,
               now_s: float | None = None) -> tuple[str, KeyInfo]:
    """Create a key; returns ``(key, info)``. The key is shown once and only its hash is kept."""
    key_id = secrets.token_hex(6)
    key = f"ogk_{key_id}_{secrets.token_urlsafe(32)}"
    ts = time.time() if now_s is None else now_s
    conn.execute("INSERT INTO api_keys (id, name, role, hash, created_ts, created_by)"
                 " VALUES (?, ?, ?, ?, ?, ?)", (key_id, name, role.value, _hash(key), ts, by))
    return key, KeyInfo(key_id, name, role, ts, None, None)


def list_keys(conn: sqlite3.Connection) -> list[KeyInfo]:
    """Every key, oldest first, revoked ones included."""
    rows = conn.execute(f"SELECT {_COLS} FROM api_keys ORDER BY created_ts, id").fetchall()
    return [_row(r) for r in rows]


def revoke_key(conn: sqlite3.Connection, key_id: str, by: str,
               now_s: float | None = None) -> KeyInfo:
    """Revoke a key by id (idempotent). Raises :class:`UnknownKey` for an unknown id."""
    ts = time.time() if now_s is None else now_s
    conn.execute("UPDATE api_keys SET revoked_ts = ?, revoked_by = ?"
                 " WHERE id = ? AND revoked_ts IS NULL", (ts, by, key_id))
    row = conn.execute(f"SELECT {_COLS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    if row is None:
        raise UnknownKey(f"no key with id {key_id!r}")
    return _row(row)


class KeyVerifier:
    """Checks presented keys against the table; records last use at most once a minute."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._last_written: dict[str, float] = {}

    def verify(self, key: str, now_s: float | None = None) -> KeyInfo | None:
        """The active key matching ``key``, or None."""
        m = _KEY_RE.match(key)
        if m is None:
            return None
        row = self._conn.execute(
            f"SELECT {_COLS}, hash FROM api_keys WHERE id = ?", (m.group(1),)).fetchone()
        if row is None or not hmac.compare_digest(row[6], _hash(key)) or row[4] is not None:
            return None
        info = _row(tuple(row))
        ts = time.time() if now_s is None else now_s
        if ts - self._last_written.get(info.id, -1e18) >= LAST_USED_EVERY_S:
            self._last_written[info.id] = ts
            # A busy database must not fail a read: the time of last use is advisory.
            with contextlib.suppress(sqlite3.OperationalError):
                self._conn.execute("UPDATE api_keys SET last_used_ts = ? WHERE id = ?",
                                   (ts, info.id))
        return info
