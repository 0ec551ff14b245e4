"""API keys: created once, stored hashed, revocable; three staff roles and the customer's.

Keys live in the site database's ``api_keys`` table (documented in :mod:`store`); this module
makes and checks them, and the store's :mod:`~store.commands` and :mod:`~store.readers` write
and read the rows.

A key reads ``ogk_<id>_<secret>`` (made, hashed and checked by :mod:`api.tokens`, which the
fleet hub shares). The key itself is returned once, by :func:`create_key`, and never stored.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import fastapi

from api.errors import BadInput, NotFound
from api.roles import Role
from api.tokens import KEY_ID_PATTERN, hash_key, key_id_of, make_key, matches
from store import commands, readers

LAST_USED_EVERY_S = 60.0


KeyId = Annotated[str, fastapi.Path(pattern=KEY_ID_PATTERN, description="a key's public id")]


class UnknownKey(NotFound):
    """No key with that id."""


class BadScope(BadInput):
    """A customer key without loads, a staff key with loads, or a load the site lacks."""


MAX_KEY_LOADS = 32
"""The most loads one customer key may hold."""


def scope_problem(role: Role, loads: Sequence[str], site_loads: Sequence[str]) -> str | None:
    """What is wrong with ``loads`` as the scope of a ``role`` key on a site whose loads are
    ``site_loads``, or None: a customer key names 1 to :data:`MAX_KEY_LOADS` of the site's
    loads, each once; a staff key names none (it sees the whole site)."""
    if role.staff:
        return None if not loads else f"a {role.value} key sees every load: give no loads"
    if not loads:
        return "a customer key needs its loads (--loads NAME,NAME)"
    if len(loads) > MAX_KEY_LOADS:
        return f"a customer key holds at most {MAX_KEY_LOADS} loads"
    if len(set(loads)) != len(loads):
        return "a load is named twice"
    unknown = [n for n in loads if n not in site_loads]
    if unknown:
        return (f"no load named {', '.join(map(repr, unknown))} on this site (its loads: "
                f"{', '.join(site_loads) or 'none'})")
    return None


@dataclass(frozen=True)
class KeyInfo:
    """A stored key, without its secret."""

    id: str
    name: str
    role: Role
    created_ts: float
    revoked_ts: float | None
    last_used_ts: float | None
    loads: tuple[str, ...] = ()
    """A customer key's scope: the loads it may see (and switch, when flexible); empty for
    a staff key."""

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_ts is None

    def sees(self, load: str) -> bool:
        """Whether this key may see the load called ``load`` (staff: every load)."""
        return self.role.staff or load in self.loads

    @classmethod
    def of(cls, row: dict[str, Any], loads: Sequence[str] | None = None) -> KeyInfo:
        """From an ``api_keys`` row (and a customer key's ``loads``)."""
        return cls(str(row["id"]), str(row["name"]), Role(row["role"]),
                   float(row["created_ts"]), row["revoked_ts"], row["last_used_ts"],
                   tuple(loads or ()))

    @classmethod
    def read(cls, conn: sqlite3.Connection, row: dict[str, Any]) -> KeyInfo:
        """From an ``api_keys`` row, with a customer key's loads read from ``conn``."""
        loads = None if row["role"] != Role.customer.value else commands.read_key_loads(
            conn, str(row["id"]))
        return cls.of(row, loads)


def requester(key: KeyInfo) -> str:
    """How a key appears in ``requested_by``, ``created_by`` and the audit log."""
    return f"{key.name}#{key.id} ({key.role.value})"


def connect(path: Path | str) -> sqlite3.Connection:
    """Open the site database for the API (created or migrated first)."""
    return commands.open_database(path)


def create_key(conn: sqlite3.Connection, role: Role, name: str, by: str,
               now_s: float | None = None, *, loads: Sequence[str] = ()
               ) -> tuple[str, KeyInfo]:
    """Create a key; returns ``(key, info)``. The key is shown once and only its hash is kept.

    A customer key needs its ``loads`` (check them against the site with
    :func:`scope_problem` first); a staff key takes none. Raises :class:`BadScope`.
    """
    problem = scope_problem(role, list(loads), list(loads))
    if problem is not None:
        raise BadScope(problem)
    key_id, key = make_key()
    ts = time.time() if now_s is None else now_s
    commands.create_key(conn, key_id, name, role.value, hash_key(key), by=by, now_ts=ts,
                        loads=None if role.staff else list(loads))
    return key, KeyInfo(key_id, name, role, ts, None, None, tuple(loads))


def list_keys(conn: sqlite3.Connection) -> list[KeyInfo]:
    """Every key, oldest first, revoked ones included."""
    return [KeyInfo.read(conn, r) for r in readers.read_keys(conn)]


def revoke_key(conn: sqlite3.Connection, key_id: str, by: str,
               now_s: float | None = None) -> KeyInfo:
    """Revoke a key by id (idempotent). Raises :class:`UnknownKey` for an unknown id."""
    ts = time.time() if now_s is None else now_s
    row = readers.read_key(conn, key_id) if commands.revoke_key(
        conn, key_id, by=by, now_ts=ts) else None
    if row is None:
        raise UnknownKey(f"no key with id {key_id!r}")
    return KeyInfo.read(conn, row)


class KeyVerifier:
    """Checks presented keys against the table (a read); remembers each key's last use in
    memory, and :meth:`write_last_used` writes them in one go, off the request path (a write
    lock held by another process must not hold up requests)."""

    def __init__(self, conn: sqlite3.Connection, path: Path | str | None = None) -> None:
        self._conn = conn
        self._path = path
        self._used: dict[str, float] = {}  # key id → last use not yet written [epoch s]

    def verify(self, key: str, now_s: float | None = None) -> KeyInfo | None:
        """The active key matching ``key``, or None."""
        key_id = key_id_of(key)
        if key_id is None:
            return None
        row = readers.read_key(self._conn, key_id)
        if row is None or not matches(key, row["hash"]) or row["revoked_ts"] is not None:
            return None
        self._used[str(row["id"])] = time.time() if now_s is None else now_s
        return KeyInfo.read(self._conn, row)

    def take_last_used(self) -> dict[str, float]:
        """The remembered last uses (key id → epoch s), forgotten here; call it on the event
        loop, write them with :meth:`write_last_used` in a worker thread."""
        used, self._used = self._used, {}
        return used

    def write_last_used(self, used: dict[str, float], timeout_s: float = 1.0
                        ) -> dict[str, float]:
        """Write ``used`` on a connection of its own (thread-safe: it touches nothing of
        ``self`` but the path); returns those a busy database refused (the time is advisory:
        give them back with :meth:`keep_last_used`)."""
        if self._path is None or not used:
            return {}
        conn = readers.connect(self._path, timeout_s=timeout_s)
        try:
            return {kid: ts for kid, ts in used.items() if not commands.touch_key(conn, kid, ts)}
        finally:
            conn.close()

    def keep_last_used(self, used: dict[str, float]) -> None:
        """Remember ``used`` again (unless a newer use came since)."""
        for kid, ts in used.items():
            self._used.setdefault(kid, ts)
