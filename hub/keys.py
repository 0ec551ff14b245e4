"""The fleet API's keys: made once, stored hashed in PostgreSQL (``hub_keys``), revocable.

A key has a staff role of the site API (:class:`api.roles.Role`: viewer reads, operator also
sends commands, admin also manages keys) and a scope: every site, the sites of some provinces,
or the sites of some groups (a site's ``[uplink] groups``). A key reads ``ogk_<id>_<secret>``,
made and checked by :mod:`api.tokens` exactly as the site API's keys are; only its hash is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from api.roles import Role
from api.tokens import hash_key, key_id_of, make_key, matches
from hub.errors import HubError
from hub.schema import Conn

ScopeKind = Literal["all", "province", "group"]
LAST_USED_EVERY: Final = timedelta(seconds=60)
"""A key's ``last_used`` is written at most this often (a read per request, a write per
minute)."""
MAX_SCOPE_NAMES: Final = 64
"""The most provinces or groups one key's scope names."""
MAX_NAME_CHARS: Final = 100
"""The longest key name, province or group name [characters]."""

_COLUMNS: Final = "id, name, role, scope_kind, scope_names, created, revoked, last_used"


class KeyProblem(HubError):
    """A key that cannot be made as asked (a customer role, a scope naming both provinces and
    groups, an empty name)."""


class UnknownKey(HubError):
    """No key with that id."""


@dataclass(frozen=True, slots=True)
class KeyScope:
    """What a key sees: ``all`` sites, or those of the ``province`` or ``group`` ``names``."""

    kind: ScopeKind = "all"
    names: tuple[str, ...] = ()

    def describe(self) -> str:
        """``all sites``, ``province An Giang, Cà Mau`` …"""
        return "all sites" if self.kind == "all" else f"{self.kind} {', '.join(self.names)}"


def scope_of(provinces: Sequence[str] = (), groups: Sequence[str] = ()) -> KeyScope:
    """The scope of a key given ``provinces`` or ``groups`` (neither: every site). Raises
    :class:`KeyProblem` when both are given, a name is empty or too long, or too many."""
    if provinces and groups:
        raise KeyProblem("a key's scope is provinces or groups, not both")
    kind: ScopeKind = "province" if provinces else "group" if groups else "all"
    names = tuple(dict.fromkeys(n.strip() for n in (*provinces, *groups)))
    if any(not n or len(n) > MAX_NAME_CHARS for n in names):
        raise KeyProblem(f"a province or group name has 1 to {MAX_NAME_CHARS} characters")
    if len(names) > MAX_SCOPE_NAMES:
        raise KeyProblem(f"a key's scope names at most {MAX_SCOPE_NAMES} provinces or groups")
    return KeyScope(kind, names)


@dataclass(frozen=True, slots=True)
class HubKey:
    """A stored key, without its secret."""

    id: str
    name: str
    role: Role
    scope: KeyScope
    created: datetime
    revoked: datetime | None = None
    last_used: datetime | None = None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked is None

    @classmethod
    def of(cls, row: Sequence[Any]) -> HubKey:
        """From a ``hub_keys`` row in the order of ``_COLUMNS``."""
        kid, name, role, kind, names, created, revoked, last_used = row
        return cls(str(kid), str(name), Role(role), KeyScope(kind, tuple(names)), created,
                   revoked, last_used)

    def as_dict(self) -> dict[str, Any]:
        """The key for JSON (times as ISO 8601, UTC)."""
        def iso(t: datetime | None) -> str | None:
            return None if t is None else t.astimezone(UTC).isoformat()
        return {"id": self.id, "name": self.name, "role": self.role.value,
                "scope": {"kind": self.scope.kind, "names": list(self.scope.names)},
                "created": iso(self.created), "revoked": iso(self.revoked),
                "last_used": iso(self.last_used)}


def requester(key: HubKey) -> str:
    """How a key appears as a command's ``by``."""
    return f"{key.name}#{key.id} ({key.role.value})"


def create_key(conn: Conn, role: Role, name: str, scope: KeyScope = KeyScope(),
               now: datetime | None = None) -> tuple[str, HubKey]:
    """Create a key; returns ``(key, info)``: show the key once, only its hash is kept.
    Raises :class:`KeyProblem` for a customer role or a bad name."""
    if not role.staff:
        raise KeyProblem("a fleet key has a staff role: viewer, operator or admin")
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise KeyProblem(f"a key's name has 1 to {MAX_NAME_CHARS} characters")
    created = datetime.now(UTC) if now is None else now
    key_id, key = make_key()
    with conn.transaction():
        conn.execute(
            "INSERT INTO hub_keys (id, name, role, scope_kind, scope_names, hash, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (key_id, name, role.value, scope.kind, list(scope.names), hash_key(key), created))
    return key, HubKey(key_id, name, role, scope, created)


def list_keys(conn: Conn) -> list[HubKey]:
    """Every key, oldest first, revoked ones included."""
    with conn.transaction():
        rows = conn.execute(f"SELECT {_COLUMNS} FROM hub_keys ORDER BY created, id").fetchall()
    return [HubKey.of(r) for r in rows]


def revoke_key(conn: Conn, key_id: str, now: datetime | None = None) -> HubKey:
    """Revoke a key by id (idempotent: a revoked key keeps its first revocation time).
    Raises :class:`UnknownKey`."""
    at = datetime.now(UTC) if now is None else now
    with conn.transaction():
        row = conn.execute(
            f"UPDATE hub_keys SET revoked = coalesce(revoked, %s) WHERE id = %s "
            f"RETURNING {_COLUMNS}", (at, key_id)).fetchone()
    if row is None:
        raise UnknownKey(f"no key with id {key_id!r}")
    return HubKey.of(row)


def verify(conn: Conn, key: str, now: datetime | None = None) -> HubKey | None:
    """The active key matching ``key``, or None; notes its use (at most once a
    :data:`LAST_USED_EVERY`)."""
    key_id = key_id_of(key)
    if key_id is None:
        return None
    at = datetime.now(UTC) if now is None else now
    with conn.transaction():
        row = conn.execute(f"SELECT {_COLUMNS}, hash FROM hub_keys WHERE id = %s",
                           (key_id,)).fetchone()
        if row is None or row[6] is not None or not matches(key, str(row[-1])):
            return None
        conn.execute("UPDATE hub_keys SET last_used = %s WHERE id = %s AND "
                     "(last_used IS NULL OR last_used < %s)",
                     (at, key_id, at - LAST_USED_EVERY))
    return HubKey.of(row[:-1])
