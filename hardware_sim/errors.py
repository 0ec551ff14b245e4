"""The simulator's exception tree. ``offgrid/`` turns these into exit codes."""

from __future__ import annotations


class SimError(Exception):
    """Base of every error raised by :mod:`hardware_sim`."""


class SetupError(SimError):
    """The site cannot be simulated as given (missing section, port in use, no socat, …)."""


class FaultError(SimError):
    """A fault request that cannot be applied (unknown device, kind or parameter)."""
