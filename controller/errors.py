"""The controller's exception tree. ``offgrid/`` turns these into exit codes."""

from __future__ import annotations


class ControllerError(Exception):
    """Base of every error raised by ``controller``."""


class CommandError(ControllerError):
    """A command is not allowed for this site (unknown load, invalid threshold, …): the
    cycle acknowledges it ``rejected`` with the message."""


class TransportError(ControllerError):
    """A Modbus request failed (timeout, connection, exception response)."""
