"""The store's exception tree: one root, :class:`StoreError`. ``api/`` turns these into HTTP
problems and ``offgrid/`` into exit codes."""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be opened, migrated, read or written; root of the store's errors."""


class CommandError(StoreError):
    """A command row is malformed or not allowed (kind, target or value)."""
