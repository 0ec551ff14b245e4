"""The controller's exception tree. ``offgrid/`` turns these into exit codes."""

from __future__ import annotations


class ControllerError(Exception):
    """Base of every error raised by ``controller``."""


class StoreError(ControllerError):
    """The SQLite store cannot be opened or written."""


class CommandError(ControllerError):
    """A command row is malformed or not allowed (kind, target or value)."""


class TransportError(ControllerError):
    """A Modbus request failed (timeout, connection, exception response)."""
