"""API key roles (no heavy imports: the command line loads this at start)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a key may do; each role includes the ones before it."""

    viewer = "viewer"
    operator = "operator"
    admin = "admin"

    @property
    def rank(self) -> int:
        """0 viewer, 1 operator, 2 admin."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        return self.rank >= needed.rank
