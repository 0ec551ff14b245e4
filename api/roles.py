"""API key roles (no heavy imports: the command line loads this at start)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a key may do.

    The staff roles are ordered, each including the ones before it: ``viewer`` (read
    everything), ``operator`` (also send commands), ``admin`` (also thresholds and keys).
    ``customer`` stands apart, outside that order: it is *not* a viewer (it may not see the
    site), and no staff role is a customer. A customer key is scoped to named loads: it sees
    only those loads (and the meters that measure them) and switches only the flexible ones;
    each route that admits a customer applies that scope itself.
    """

    viewer = "viewer"
    operator = "operator"
    admin = "admin"
    customer = "customer"

    @property
    def staff(self) -> bool:
        """A role of the site's staff (viewer, operator, admin), not a customer."""
        return self is not Role.customer

    @property
    def rank(self) -> int:
        """0 viewer, 1 operator, 2 admin; -1 for a customer (below every staff role)."""
        return STAFF.index(self) if self.staff else -1

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may: a staff role of at least
        ``needed``'s rank, or a customer for a customer's route (and nothing else)."""
        if not self.staff or not needed.staff:
            return self is needed
        return self.rank >= needed.rank


STAFF: tuple[Role, ...] = (Role.viewer, Role.operator, Role.admin)
"""The staff roles, lowest first."""
